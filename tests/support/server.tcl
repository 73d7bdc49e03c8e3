# server.tcl -- Starting, reaching and stopping the server under test.
#
#   start_server {?tags {..}? ?overrides {key value ..}? ?config file?} BODY
#   srv ?LEVEL? PROPERTY      host port pid stdout stderr dir config external
#   r ?LEVEL? CMD ARGS..      the default client of the server at LEVEL
#
# LEVEL is 0 for the innermost start_server, -1 for the one around it, etc.
#
# Spawn mode: the config is tests/assets/<config> (default.conf) minus any
# directive named in overrides, plus the overrides, plus `port N` and
# `dir <tmpdir>`. The binary gets the config path as its only argument. It is
# run under a small `sh` wrapper that records the server's pid and, after it
# exits, its exit status, so a crash or a non-zero exit on SIGTERM is seen.
# Readiness: "Ready to accept connections" in the stdout log, or the port
# accepting connections. On exit from the block the server gets SIGTERM; it
# must exit (status 0) within 10 s, else SIGKILL and a failure. Its logs are
# then scanned for sanitizer reports.
#
# External mode (--host/--port): nothing is spawned, overrides are ignored,
# and a block tagged external:skip is skipped whole.

set ::servers {}            ;# stack of dicts, innermost last
set ::server_seq 0
set ::port_cursor 0

proc srv {args} {
    if {[llength $args] == 1} {
        set level 0
        set property [lindex $args 0]
    } elseif {[llength $args] == 2} {
        lassign $args level property
    } else {
        error "usage: srv ?level? property"
    }
    if {$level > 0} {error "srv: level must be 0 or negative"}
    set server [lindex $::servers [expr {[llength $::servers] - 1 + $level}]]
    if {$server eq ""} {error "srv: no server at level $level"}
    if {![dict exists $server $property]} {
        error "srv: server has no property '$property'"
    }
    return [dict get $server $property]
}

# r ?level? command args...
proc r {args} {
    set level 0
    if {[string is integer -strict [lindex $args 0]]} {
        set level [lindex $args 0]
        set args [lrange $args 1 end]
    }
    set client [srv $level client]
    return [$client {*}$args]
}

# ---------------------------------------------------------------------------
# Ports and files
# ---------------------------------------------------------------------------

proc port_is_free {port} {
    if {[catch {socket -server port_probe_never_called -myaddr 127.0.0.1 $port} fd]} {
        return 0
    }
    close $fd
    return 1
}

# The first free port from a cursor that starts at a pid-dependent offset, so
# concurrent runs (or parallel workers) rarely race for the same port.
proc find_available_port {} {
    set low 21111
    set high 32000
    if {$::port_cursor == 0} {
        set ::port_cursor [expr {$low + ([pid] % 541) * 16}]
    }
    for {set i 0} {$i < 1000} {incr i} {
        set port $::port_cursor
        incr ::port_cursor
        if {$::port_cursor >= $high} {set ::port_cursor $low}
        if {[port_is_free $port]} {return $port}
    }
    error "no free TCP port found"
}

proc read_file_bytes {path} {
    if {![file exists $path]} {return ""}
    set fd [open $path r]
    fconfigure $fd -translation binary
    set data [read $fd]
    close $fd
    return $data
}

proc write_file_bytes {path data} {
    set fd [open $path w]
    fconfigure $fd -translation binary
    puts -nonewline $fd $data
    close $fd
}

# Config text: the base file without directives we override, then ours.
proc build_config {base overrides port dir} {
    set replaced [list port dir]
    foreach {k v} $overrides {lappend replaced [string tolower $k]}
    set out ""
    foreach line [split [read_file_bytes $base] "\n"] {
        set word [string tolower [lindex [regexp -inline {^\s*(\S+)} $line] 1]]
        if {$word ne "" && ![string match "#*" $word] && $word in $replaced} {
            continue
        }
        append out $line "\n"
    }
    append out "\n# Added by the test harness.\n"
    foreach {k v} $overrides {
        append out "$k $v\n"
    }
    append out "port $port\n"
    append out "dir $dir\n"
    return $out
}

proc process_alive {pid} {
    if {[file exists /proc/$pid/stat]} {
        if {[catch {read_file_bytes /proc/$pid/stat} stat]} {return 0}
        # Field 3 is the state; Z (zombie) and X (dead) mean it has exited.
        set state [lindex [regexp -inline {\) (\S)} $stat] 1]
        return [expr {$state ni {Z X}}]
    }
    return [expr {![catch {exec kill -0 $pid}]}]
}

proc log_tail {path {lines 40}} {
    set all [split [string trimright [read_file_bytes $path] "\n"] "\n"]
    return [join [lrange $all end-[expr {$lines - 1}] end] "\n"]
}

proc server_logs_text {server} {
    set out ""
    foreach what {stdout stderr} {
        if {[dict exists $server $what]} {
            append out "---- [dict get $server $what] ----\n"
            append out [log_tail [dict get $server $what] 200] "\n"
        }
    }
    return $out
}

# Called by `test` after a failure: mention dead servers, dump logs if asked.
proc server_after_failure {} {
    foreach server $::servers {
        if {[dict get $server external]} continue
        if {![process_alive [dict get $server pid]]} {
            report "    (server on port [dict get $server port] is not running any more)"
        }
        if {$::opt(dump_logs)} {
            report [server_logs_text $server]
        }
    }
}

# ---------------------------------------------------------------------------
# Spawning and stopping
# ---------------------------------------------------------------------------

# Starts one server process; returns its dict or raises an error with the log.
proc spawn_server {overrides config} {
    set seq [incr ::server_seq]
    set dir [file join $::tmp_root "server.[pid].$seq"]
    file delete -force $dir
    file mkdir $dir
    set port [find_available_port]
    set conf [file join $dir server.conf]
    set stdout [file join $dir stdout]
    set stderr [file join $dir stderr]
    set pidfile [file join $dir server.pid]
    set statusfile [file join $dir exit.status]
    write_file_bytes $conf [build_config [file join $::root tests assets $config] $overrides $port $dir]

    set wrapper {"$1" "$2" >"$3" 2>"$4" </dev/null & echo $! >"$5"; wait $!; echo $? >"$6"}
    exec sh -c $wrapper sh $::opt(server_bin) $conf $stdout $stderr $pidfile $statusfile \
        >& [file join $dir wrapper.log] &

    set server [dict create host 127.0.0.1 port $port dir $dir config $conf \
        stdout $stdout stderr $stderr statusfile $statusfile external 0 pid 0]
    set deadline [expr {[clock milliseconds] + 10000}]
    set pid ""
    while {![string is integer -strict $pid] || $pid == 0} {
        if {[clock milliseconds] > $deadline} {
            error "server wrapper never wrote its pid file ($pidfile)"
        }
        tsleep 5
        set pid [string trim [read_file_bytes $pidfile]]
    }
    dict set server pid $pid
    report "\[server-pid\]: $pid"
    verbose_report "\[server\]: started $::opt(server_bin) pid $pid port $port dir $dir"

    set last_probe 0
    while 1 {
        if {[string first "Ready to accept connections" [read_file_bytes $stdout]] >= 0} break
        if {[file exists $statusfile]} {
            error "server exited during startup (status [string trim [read_file_bytes $statusfile]])\n[server_logs_text $server]"
        }
        set now [clock milliseconds]
        if {$now - $last_probe >= 250} {
            set last_probe $now
            if {![catch {socket 127.0.0.1 $port} fd]} {
                close $fd
                break
            }
        }
        if {$now > $deadline} {
            kill_server $pid
            error "server did not become ready within 10 s\n[server_logs_text $server]"
        }
        tsleep 10
    }
    return $server
}

proc kill_server {pid} {
    catch {exec kill -KILL $pid}
}

# Stops a spawned server; returns a list of problems (empty when clean).
proc stop_server {server} {
    set problems {}
    set pid [dict get $server pid]
    set statusfile [dict get $server statusfile]
    if {[file exists $statusfile]} {
        lappend problems "server pid $pid died before the end of its block (exit status [string trim [read_file_bytes $statusfile]])\n[server_logs_text $server]"
    } else {
        catch {exec kill -TERM $pid}
        set deadline [expr {[clock milliseconds] + 10000}]
        while {![file exists $statusfile] && [clock milliseconds] < $deadline} {
            tsleep 10
        }
        if {![file exists $statusfile]} {
            kill_server $pid
            lappend problems "server pid $pid did not exit within 10 s of SIGTERM (killed)"
        } else {
            # The wrapper writes the file when `wait` returns; let it finish.
            set status ""
            while {![string is integer -strict $status] && [clock milliseconds] < $deadline + 1000} {
                set status [string trim [read_file_bytes $statusfile]]
                if {![string is integer -strict $status]} {tsleep 5}
            }
            if {$status ne "0"} {
                lappend problems "server pid $pid exited with status $status after SIGTERM\n[server_logs_text $server]"
            }
        }
    }
    report "\[server-gone\]: $pid"
    set report [sanitizer_report $server]
    if {$report ne ""} {
        lappend problems "sanitizer report in the logs of server pid $pid:\n$report"
    }
    return $problems
}

# Returns the sanitizer report lines found in the server logs, or "".
proc sanitizer_report {server} {
    set markers {
        "ERROR: AddressSanitizer" "ERROR: LeakSanitizer"
        "runtime error:" "SUMMARY: UndefinedBehaviorSanitizer"
        "WARNING: ThreadSanitizer" "ERROR: MemorySanitizer"
    }
    set out ""
    foreach what {stderr stdout} {
        set lines [split [read_file_bytes [dict get $server $what]] "\n"]
        set n [llength $lines]
        for {set i 0} {$i < $n} {incr i} {
            set line [lindex $lines $i]
            foreach m $markers {
                if {[string first $m $line] >= 0} {
                    append out [join [lrange $lines $i [expr {$i + 60}]] "\n"] "\n"
                    return $out
                }
            }
        }
    }
    return ""
}

# Asks INFO server whether the server is ours (has redis_pubsub_version).
# Returns 1, 0, or "" when INFO could not tell.
proc probe_server_is_ours {host port} {
    if {[catch {
        set c [redis_client $host $port]
        $c timeout 3000
        set info [$c info server]
        $c close
    } err]} {
        return ""
    }
    if {[string first "redis_pubsub_version:" $info] >= 0} {return 1}
    if {[string first "redis_version:" $info] >= 0} {return 0}
    return ""
}

# ---------------------------------------------------------------------------
# start_server
# ---------------------------------------------------------------------------

proc start_server {options body} {
    set tags {}
    set overrides {}
    set config default.conf
    foreach {k v} $options {
        switch -exact -- $k {
            tags {set tags $v}
            overrides {set overrides $v}
            config {set config $v}
            default {error "start_server: unknown option '$k'"}
        }
    }
    set why [skip_reason "" [concat $::tags $tags]]
    if {$why ne ""} {
        incr ::stats(skipped)
        report "\[skip\]: start_server block with tags {$tags} ($why)"
        return
    }

    if {$::opt(external)} {
        set server [dict create host $::opt(host) port $::opt(port) external 1]
    } else {
        set server ""
        for {set attempt 1} {$server eq ""} {incr attempt} {
            if {[catch {spawn_server $overrides $config} server]} {
                # Someone may have taken the probed port in between: retry.
                if {$attempt < 3 && [string match -nocase "*address already in use*" $server]} {
                    set server ""
                    continue
                }
                error "failed to start the server: $server"
            }
        }
        if {$::server_is_ours eq "maybe"} {
            set ours [probe_server_is_ours 127.0.0.1 [dict get $server port]]
            set ::server_is_ours [expr {$ours eq "" ? 1 : $ours}]
        }
    }

    set saved_tags $::tags
    lappend ::tags {*}$tags
    set failed_before $::stats(failed)
    set code [catch {
        dict set server client [redis_client [dict get $server host] [dict get $server port]]
        lappend ::servers $server
        uplevel 1 $body
    } result options]
    set ::tags $saved_tags
    if {[llength $::servers] && [lindex $::servers end] eq $server} {
        set ::servers [lrange $::servers 0 end-1]
    }
    if {[dict exists $server client]} {
        catch {[dict get $server client] close}
    }

    if {![dict get $server external]} {
        set problems [stop_server $server]
        foreach p $problems {
            incr ::stats(failed)
            report "\[err\]: server shutdown ([file tail $::current_file], port [dict get $server port]) -- $p"
        }
        if {$code == 1 && $::opt(dump_logs)} {
            report [server_logs_text $server]
        }
        if {![llength $problems] && $code != 1 && $::stats(failed) == $failed_before} {
            file delete -force [dict get $server dir]
        } else {
            report "    (server files kept in [dict get $server dir])"
        }
    }
    return -options $options $result
}

# ---------------------------------------------------------------------------
# Servers a test starts itself (start-up errors, command-line forms, port 0)
# ---------------------------------------------------------------------------
#
# Under a small sh wrapper that records the pid and the exit status, so
# nothing waits on a process without a deadline. Only processes started
# here are signalled, by pid.
#   proc_start ARGV ?DIR?   -> dict: pid dir stdout stderr status
#   proc_wait_exit P ?MS?   -> exit status, or "" while it runs
#   proc_wait_ready P PORT  proc_cleanup P  proc_output P  proc_dir
#   proc_config DIR PORT ?EXTRA?  -> a minimal config file for both servers

set ::proc_seq 0

# Starts the server binary with ARGS (a list) in a fresh directory, stdout
# and stderr to files there. Returns a dict: pid dir stdout stderr status.
proc proc_start {argv {dir ""}} {
    if {$dir eq ""} {set dir [proc_dir]}
    set out [file join $dir out.log]
    set err [file join $dir err.log]
    set pidfile [file join $dir wrapper.pid]
    set status [file join $dir exit.status]
    # A restart in the same directory: the previous run's pid and status
    # would otherwise be read as this one's.
    file delete $pidfile $status
    set wrapper {bin=$1; out=$2; err=$3; pf=$4; st=$5; shift 5; "$bin" "$@" >"$out" 2>"$err" </dev/null & echo $! >"$pf"; wait $!; echo $? >"$st"}
    exec sh -c $wrapper sh $::opt(server_bin) $out $err $pidfile $status {*}$argv &
    set pid ""
    wait_for_condition 500 10 {
        [string is integer -strict [set pid [string trim [read_file_bytes $pidfile]]]] && $pid > 0
    } else {
        fail "the wrapper did not record a pid"
    }
    report "\[server-pid\]: $pid"
    return [dict create pid $pid dir $dir stdout $out stderr $err status $status]
}

# A new empty directory under tests/tmp.
proc proc_dir {} {
    set dir [file join $::tmp_root "process.[pid].[incr ::proc_seq]"]
    file delete -force $dir
    file mkdir $dir
    return $dir
}

# The exit status of a process started by proc_start, waiting up to MS
# milliseconds; "" if it is still running.
proc proc_wait_exit {p {ms 10000}} {
    set deadline [expr {[clock milliseconds] + $ms}]
    while {[clock milliseconds] < $deadline} {
        set s [string trim [read_file_bytes [dict get $p status]]]
        if {[string is integer -strict $s]} {
            report "\[server-gone\]: [dict get $p pid]"
            return $s
        }
        tsleep 10
    }
    return ""
}

# Kills a process started by proc_start if it still runs, and removes its
# directory (test cleanup).
proc proc_cleanup {p} {
    if {[proc_wait_exit $p 0] eq ""} {
        catch {exec kill -KILL [dict get $p pid]}
        proc_wait_exit $p 2000
    }
    file delete -force [dict get $p dir]
}

# Waits until the server has logged that it is ready and accepts
# connections on PORT.
proc proc_wait_ready {p port} {
    wait_for_condition 500 20 {
        ([string first "Ready to accept connections" [read_file_bytes [dict get $p stdout]]] >= 0 &&
         [proc_port_open $port]) || [proc_wait_exit $p 0] ne ""
    } else {
        fail "server on port $port not ready: [read_file_bytes [dict get $p stdout]][read_file_bytes [dict get $p stderr]]"
    }
    if {[proc_wait_exit $p 0] ne ""} {
        fail "server exited at start-up: [read_file_bytes [dict get $p stdout]][read_file_bytes [dict get $p stderr]]"
    }
}

proc proc_port_open {port} {
    if {[catch {socket 127.0.0.1 $port} fd]} {return 0}
    close $fd
    return 1
}

# A minimal config file valid for both servers; returns its path.
proc proc_config {dir port {extra ""}} {
    set conf [file join $dir server.conf]
    write_file_bytes $conf "bind 127.0.0.1\nport $port\ndaemonize no\nlogfile \"\"\nsave \"\"\nappendonly no\ndir $dir\n$extra"
    return $conf
}

proc proc_output {p} {
    return "[read_file_bytes [dict get $p stdout]][read_file_bytes [dict get $p stderr]]"
}
