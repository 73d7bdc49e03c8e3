# client.tcl -- A small RESP2/RESP3 client for the test suite.
#
# A client is a command: `set r [redis_client]` then `$r ping`. Every method
# that is not one of the local ones below is sent as a multibulk command and,
# unless the client is deferring, one reply is read back and returned.
#
# Reply mapping (the parser always understands every RESP3 type, so HELLO 3
# needs no special handling beyond remembering the protocol number):
#   +status  -> the text                 -error   -> Tcl error, message = text
#   :int     -> the number               $bulk    -> the bytes ($-1 -> "")
#   *array   -> Tcl list (*-1 -> "")     >push    -> Tcl list
#   %map     -> flat key value list      ~set     -> Tcl list
#   _null    -> ""                       ,double  -> the text (inf, nan ...)
#   #bool    -> 1 or 0                   =verbatim-> the text without "txt:"
#   (bignum  -> the digits               !blob error -> Tcl error
#   |attribute map -> read and dropped; the reply that follows is returned.
# An error nested inside an aggregate (e.g. in an EXEC reply) is returned as
# its text instead of raising, so the rest of the aggregate stays readable.
#
# Local methods:
#   $r read            read one reply (deferring clients, or after write)
#   $r read_with_type  read one reply, return {TYPEBYTE VALUE}
#   $r write BYTES     queue raw bytes;  $r flush  sends them
#   $r readraw 0|1     raw mode: `read` returns one protocol line at a time
#   $r last_type       type byte of the last top-level reply read (* > % ...)
#   $r timeout ?ms?    get/set the read timeout (default 10000 ms)
#   $r deferred ?0|1?  get/set deferring mode
#   $r resp            protocol in use (2 or 3, tracked from HELLO replies)
#   $r channel         the underlying Tcl socket
#   $r close           close the connection and delete the command
#
# Clients are registered in ::redis::open_handles until closed (see test.tcl).
# Every read waits in the event loop with a timeout, so a missing reply fails
# the test with "I/O timeout" instead of hanging the run. Sockets are binary
# and non-blocking; Tcl flushes queued output in the background while we wait.

namespace eval ::redis {
    variable next_id 0
    variable state      ;# array: $id,key -> value
    variable wake       ;# array: $id -> what woke a wait (readable / timeout)
    array set state {}
    array set wake {}
    variable default_timeout_ms 10000
    variable open_handles {}  ;# clients and raw sockets, oldest first
}

# Handles opened so far and not closed. `test` closes those a test opened, so
# a failing test does not leave subscribers behind for the next one.
proc ::redis::open_handles {} {
    variable open_handles
    return $open_handles
}

proc ::redis::forget_handle {h} {
    variable open_handles
    set i [lsearch -exact $open_handles $h]
    if {$i >= 0} {set open_handles [lreplace $open_handles $i $i]}
}

proc ::redis::close_handle {h} {
    if {[string match ::redis::client* $h]} {
        catch {$h close}
    } else {
        raw_close $h
    }
}

# redis_client ?host port? | ?level?  -> a new blocking client command.
# With no argument it connects to the innermost running server (srv 0).
proc redis_client {args} {
    lassign [::redis::resolve_addr $args] host port
    return [::redis::connect $host $port 0]
}

# redis_deferring_client ?host port? | ?level?  -> commands only send; use
# `$r read` for each reply.
proc redis_deferring_client {args} {
    lassign [::redis::resolve_addr $args] host port
    return [::redis::connect $host $port 1]
}

proc ::redis::resolve_addr {argv} {
    switch [llength $argv] {
        0 { return [list [srv 0 host] [srv 0 port]] }
        1 { set level [lindex $argv 0]
            return [list [srv $level host] [srv $level port]] }
        2 { return $argv }
        default { error "usage: redis_client ?host port? | ?level?" }
    }
}

proc ::redis::connect {host port deferred} {
    variable next_id
    variable state
    variable default_timeout_ms
    set fd [::redis::open_socket $host $port $default_timeout_ms]
    set id [incr next_id]
    set state($id,fd) $fd
    set state($id,deferred) $deferred
    set state($id,readraw) 0
    set state($id,resp) 2
    set state($id,last_type) ""
    set state($id,timeout) $default_timeout_ms
    set name ::redis::client$id
    proc $name {args} "::redis::dispatch $id {*}\$args"
    lappend ::redis::open_handles $name
    return $name
}

# Opens a binary, non-blocking TCP connection, failing after timeout_ms.
proc ::redis::open_socket {host port timeout_ms} {
    variable wake
    set fd [socket -async $host $port]
    fconfigure $fd -translation binary -blocking 0 -buffering full -buffersize 1000000
    set key connect$fd
    set wake($key) ""
    fileevent $fd writable [list set ::redis::wake($key) writable]
    set timer [after $timeout_ms [list set ::redis::wake($key) timeout]]
    vwait ::redis::wake($key)
    after cancel $timer
    fileevent $fd writable {}
    set outcome $wake($key)
    unset wake($key)
    set err [fconfigure $fd -error]
    if {$outcome eq "timeout" || $err ne ""} {
        catch {close $fd}
        if {$err eq ""} {set err "timeout after $timeout_ms ms"}
        error "connect to $host:$port failed: $err"
    }
    return $fd
}

proc ::redis::dispatch {id method args} {
    variable state
    set fd $state($id,fd)
    switch -exact -- $method {
        read {
            return [::redis::read_top $id]
        }
        read_with_type {
            set value [::redis::read_top $id]
            return [list $state($id,last_type) $value]
        }
        write {
            puts -nonewline $fd [lindex $args 0]
            return
        }
        flush {
            flush $fd
            return
        }
        readraw {
            set state($id,readraw) [lindex $args 0]
            return
        }
        last_type { return $state($id,last_type) }
        timeout {
            if {[llength $args]} {set state($id,timeout) [lindex $args 0]}
            return $state($id,timeout)
        }
        deferred {
            if {[llength $args]} {set state($id,deferred) [lindex $args 0]}
            return $state($id,deferred)
        }
        resp { return $state($id,resp) }
        channel { return $fd }
        close {
            catch {close $fd}
            array unset state $id,*
            rename ::redis::client$id {}
            ::redis::forget_handle ::redis::client$id
            return
        }
    }
    # Anything else is a server command.
    puts -nonewline $fd [::redis::encode [linsert $args 0 $method]]
    flush $fd
    if {$state($id,deferred)} return
    set reply [::redis::read_top $id]
    if {[string equal -nocase $method hello] && [llength $args]} {
        # HELLO succeeded (errors raised above): remember the protocol.
        set state($id,resp) [lindex $args 0]
    }
    return $reply
}

# Encodes a command as a RESP multibulk. The socket is in binary translation,
# so each character U+0000..U+00FF goes out as one byte; a reply read back
# maps bytes to the same characters, so values round-trip unchanged.
proc ::redis::encode {argv} {
    set out "*[llength $argv]\r\n"
    foreach a $argv {
        append out "\$[string length $a]\r\n$a\r\n"
    }
    return $out
}

# Blocks (in the event loop) until fd is readable or the timeout passes.
proc ::redis::wait_readable {id} {
    variable state
    variable wake
    set fd $state($id,fd)
    set wake($id) ""
    fileevent $fd readable [list set ::redis::wake($id) readable]
    set timer [after $state($id,timeout) [list set ::redis::wake($id) timeout]]
    vwait ::redis::wake($id)
    after cancel $timer
    fileevent $fd readable {}
    if {$wake($id) eq "timeout"} {
        error "I/O timeout reading from server (client $id, $state($id,timeout) ms)"
    }
}

# One CRLF-terminated line, without the CRLF.
proc ::redis::read_line {id} {
    variable state
    set fd $state($id,fd)
    while 1 {
        if {[gets $fd line] >= 0} {
            return [string range $line 0 end-1]
        }
        if {[eof $fd]} {error "I/O error reading reply: connection closed by server"}
        ::redis::wait_readable $id
    }
}

# Exactly n bytes.
proc ::redis::read_bytes {id n} {
    variable state
    set fd $state($id,fd)
    set data ""
    while {[string length $data] < $n} {
        append data [read $fd [expr {$n - [string length $data]}]]
        if {[string length $data] == $n} break
        if {[eof $fd]} {error "I/O error reading reply: connection closed by server"}
        ::redis::wait_readable $id
    }
    return $data
}

proc ::redis::read_top {id} {
    variable state
    if {$state($id,readraw)} {
        set line [::redis::read_line $id]
        set state($id,last_type) [string index $line 0]
        return $line
    }
    return [::redis::read_reply $id 1]
}

# Reads one reply. `top` is 1 for the outermost reply: its type is recorded
# and an error there raises a Tcl error.
proc ::redis::read_reply {id top} {
    variable state
    set line [::redis::read_line $id]
    set type [string index $line 0]
    set rest [string range $line 1 end]
    if {$top} {set state($id,last_type) $type}
    switch -exact -- $type {
        + - ( { return $rest }
        , { return $rest }
        : { return $rest }
        # { return [expr {$rest eq "t"}] }
        _ { return "" }
        - {
            if {$top} {return -code error $rest}
            return $rest
        }
        $ - = - ! {
            if {$rest < 0} {return ""}
            set data [::redis::read_bytes $id [expr {$rest + 2}]]
            set data [string range $data 0 end-2]
            if {$type eq "="} {set data [string range $data 4 end]}
            if {$type eq "!" && $top} {return -code error $data}
            return $data
        }
        * - > - ~ {
            if {$rest < 0} {return ""}
            set l {}
            for {set i 0} {$i < $rest} {incr i} {
                lappend l [::redis::read_reply $id 0]
            }
            return $l
        }
        % {
            set l {}
            for {set i 0} {$i < 2 * $rest} {incr i} {
                lappend l [::redis::read_reply $id 0]
            }
            return $l
        }
        | {
            for {set i 0} {$i < 2 * $rest} {incr i} {
                ::redis::read_reply $id 0
            }
            # The attribute annotates the reply that follows it.
            return [::redis::read_reply $id $top]
        }
        default {
            error "protocol error: unexpected reply type byte '$type' in line: $line"
        }
    }
}

# ---------------------------------------------------------------------------
# Raw sockets, for protocol tests that must see exact bytes.
#
#   set fd [raw_connect ?host port?]
#   raw_send $fd $bytes
#   raw_read $fd $n ?timeout_ms?        exactly n bytes (fails on EOF/timeout)
#   raw_expect $fd $bytes ?timeout_ms?  reads len(bytes) and asserts equality
#   raw_read_available $fd ?quiet_ms?   whatever arrives until quiet_ms of silence
#   raw_read_eof $fd ?timeout_ms?       everything up to EOF (fails on timeout)
#   raw_close $fd
# ---------------------------------------------------------------------------

proc raw_connect {args} {
    lassign [::redis::resolve_addr $args] host port
    set fd [::redis::open_socket $host $port $::redis::default_timeout_ms]
    lappend ::redis::open_handles $fd
    return $fd
}

proc raw_send {fd bytes} {
    puts -nonewline $fd $bytes
    flush $fd
}

proc raw_close {fd} {
    catch {close $fd}
    ::redis::forget_handle $fd
}

# Waits up to timeout_ms for fd to become readable; returns 0 on timeout.
proc ::redis::raw_wait {fd timeout_ms} {
    variable wake
    set key raw$fd
    set wake($key) ""
    fileevent $fd readable [list set ::redis::wake($key) readable]
    set timer [after $timeout_ms [list set ::redis::wake($key) timeout]]
    vwait ::redis::wake($key)
    after cancel $timer
    fileevent $fd readable {}
    set ok [expr {$wake($key) eq "readable"}]
    unset wake($key)
    return $ok
}

proc raw_read {fd n {timeout_ms 10000}} {
    set data ""
    set deadline [expr {[clock milliseconds] + $timeout_ms}]
    while {[string length $data] < $n} {
        append data [read $fd [expr {$n - [string length $data]}]]
        if {[string length $data] == $n} break
        if {[eof $fd]} {
            error "raw_read: connection closed after [string length $data] of $n bytes: [escape_bytes $data]"
        }
        set left [expr {$deadline - [clock milliseconds]}]
        if {$left <= 0 || ![::redis::raw_wait $fd $left]} {
            error "raw_read: timeout after [string length $data] of $n bytes: [escape_bytes $data]"
        }
    }
    return $data
}

proc raw_expect {fd expected {timeout_ms 10000}} {
    set got [raw_read $fd [string length $expected] $timeout_ms]
    if {$got ne $expected} {
        error "assertion:raw bytes differ\n  expected: [escape_bytes $expected]\n  got:      [escape_bytes $got]"
    }
    return $got
}

proc raw_read_available {fd {quiet_ms 100}} {
    set data ""
    while 1 {
        append data [read $fd]
        if {[eof $fd]} break
        if {![::redis::raw_wait $fd $quiet_ms]} break
    }
    return $data
}

proc raw_read_eof {fd {timeout_ms 10000}} {
    set data ""
    set deadline [expr {[clock milliseconds] + $timeout_ms}]
    while 1 {
        append data [read $fd]
        if {[eof $fd]} {return $data}
        set left [expr {$deadline - [clock milliseconds]}]
        if {$left <= 0 || ![::redis::raw_wait $fd $left]} {
            error "raw_read_eof: no EOF within $timeout_ms ms, got: [escape_bytes $data]"
        }
    }
}

# Printable form of a byte string: \r \n \t and \xHH for the rest.
proc escape_bytes {s} {
    set out ""
    foreach ch [split $s ""] {
        scan $ch %c c
        if {$ch eq "\r"} {append out {\r}
        } elseif {$ch eq "\n"} {append out {\n}
        } elseif {$ch eq "\t"} {append out {\t}
        } elseif {$ch eq "\\"} {append out {\\}
        } elseif {$c < 32 || $c > 126} {append out [format {\x%02x} $c]
        } else {append out $ch}
    }
    return $out
}
