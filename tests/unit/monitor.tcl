# monitor.tcl -- MONITOR: which commands are fed to monitors, when, and in
# which bytes; what a monitor may still do; how it ends; its output limit.
#
# Everything here was read from redis-server 7.0 first and passes against
# it. Monitors are raw sockets, so each line is checked as bytes. A command
# of `r` is fed before `r` gets its reply, so once `r` has its reply the
# line is on its way: no waiting beyond reading it.

start_server {tags {monitor}} {

    proc resp_cmd {args} {
        set out "*[llength $args]\r\n"
        foreach a $args {append out "\$[string length $a]\r\n$a\r\n"}
        return $out
    }

    proc read_crlf_line {fd} {
        set data ""
        while {![string match "*\r\n" $data]} {append data [raw_read $fd 1]}
        return $data
    }

    # A raw socket that is a monitor (after an optional HELLO 3).
    proc monitor_client {{resp 2}} {
        set fd [raw_connect]
        if {$resp == 3} {
            raw_send $fd [resp_cmd HELLO 3]
            # Read the HELLO map: its reply ends with the empty modules array.
            set data ""
            while {![string match "*modules\r\n\*0\r\n" $data]} {append data [raw_read $fd 1]}
        }
        raw_send $fd [resp_cmd MONITOR]
        raw_expect $fd "+OK\r\n"
        return $fd
    }

    # The next line of a monitor, split as {seconds usec db addr args}.
    proc monitor_next {fd} {
        set line [read_crlf_line $fd]
        if {![regexp {^\+([0-9]+)\.([0-9]{6}) \[([0-9]+) ([^]]+)\] (.*)\r\n$} $line -> sec usec db addr rest]} {
            fail "not a monitor line: [escape_bytes $line]"
        }
        return [list $sec $usec $db $addr $rest]
    }

    # Only the arguments part of the next line.
    proc monitor_args {fd} {
        return [lindex [monitor_next $fd] 4]
    }

    proc my_addr {} {
        regexp {addr=([^ ]+)} [r client info] -> addr
        return $addr
    }

    test "MONITOR replies +OK, then one line per command in Redis's format" {
        set m [monitor_client]
        set before [clock seconds]
        r ping
        r publish mon.ch hello
        lassign [monitor_next $m] sec usec db addr rest
        assert_range $sec [expr {$before - 1}] [expr {[clock seconds] + 1}]
        assert_equal 0 $db
        assert_equal [my_addr] $addr
        assert_equal {"ping"} $rest
        # The name as the client spelled it, each argument quoted.
        assert_equal {"publish" "mon.ch" "hello"} [monitor_args $m]
        raw_close $m
    }

    test "MONITOR escapes arguments as Redis's sdscatrepr does" {
        set m [monitor_client]
        set arg "a\"b\\c\nd\r\x01\x7f\xff \t\x07\x08 é~"
        r echo [encoding convertto utf-8 $arg]
        r echo ""
        assert_equal {"echo" "a\"b\\c\nd\r\x01\x7f\xc3\xbf \t\a\b \xc3\xa9~"} [monitor_args $m]
        assert_equal {"echo" ""} [monitor_args $m]
        raw_close $m
    }

    test "MONITOR shows the db a command left the client in" {
        set m [monitor_client]
        r select 3
        r ping
        r select 0
        lassign [monitor_next $m] - - db - rest
        assert_equal {3 {"select" "3"}} [list $db $rest]
        lassign [monitor_next $m] - - db - rest
        assert_equal {3 {"ping"}} [list $db $rest]
        lassign [monitor_next $m] - - db - rest
        assert_equal {0 {"select" "0"}} [list $db $rest]
        raw_close $m
    }

    test "MONITOR redacts AUTH and HELLO AUTH credentials where Redis does" {
        set m [monitor_client]
        set c [raw_connect]
        foreach {cmd} {
            {AUTH secret}
            {AUTH someone secret}
            {AUTH a b c}
            {HELLO 2 AUTH default secret}
            {HELLO 2 SETNAME n AUTH default secret SETNAME x}
            {HELLO 4 AUTH default secret}
            {HELLO x AUTH default secret}
            {HELLO 2 FOO AUTH default secret}
            {HELLO 2 AUTH default}
            {HELLO 2 SETNAME {bad name} AUTH default secret}
        } {
            raw_send $c [resp_cmd {*}$cmd]
        }
        raw_send $c [resp_cmd PING done]
        set got {}
        while 1 {
            set rest [monitor_args $m]
            if {$rest eq {"PING" "done"}} break
            lappend got $rest
        }
        assert_equal [list \
            {"AUTH" "(redacted)"} \
            {"AUTH" "(redacted)" "(redacted)"} \
            {"AUTH" "a" "b" "c"} \
            {"HELLO" "2" "AUTH" "(redacted)" "(redacted)"} \
            {"HELLO" "2" "SETNAME" "n" "AUTH" "(redacted)" "(redacted)" "SETNAME" "x"} \
            {"HELLO" "4" "AUTH" "default" "secret"} \
            {"HELLO" "x" "AUTH" "default" "secret"} \
            {"HELLO" "2" "FOO" "AUTH" "default" "secret"} \
            {"HELLO" "2" "AUTH" "default"} \
            {"HELLO" "2" "SETNAME" "bad name" "AUTH" "default" "secret"} \
        ] $got
        raw_close $c
        raw_close $m
    }

    test "MONITOR does not feed admin commands, refused commands or queued ones" {
        set m [monitor_client]
        r config get port
        r client list
        r acl setuser mon.user on >pw +@all
        r acl deluser mon.user
        assert_error "*unknown command*" {r nosuchcommand x}
        assert_error "*wrong number of arguments*" {r publish onlyone}
        # A handler that replies an error still ran: it is fed.
        assert_error "*wrong number of arguments*" {r ping a b}
        r ping marker1
        assert_equal {"ping" "a" "b"} [monitor_args $m]
        assert_equal {"ping" "marker1"} [monitor_args $m]
        raw_close $m
    }

    test "MONITOR does not feed commands refused in the subscribed context" {
        set m [monitor_client]
        set s [raw_connect]
        raw_send $s [resp_cmd SUBSCRIBE mon.sub]
        raw_send $s [resp_cmd PUBLISH mon.sub x]
        raw_send $s [resp_cmd PING]
        assert_equal {"SUBSCRIBE" "mon.sub"} [monitor_args $m]
        assert_equal {"PING"} [monitor_args $m]
        raw_close $s
        raw_close $m
    }

    test "MONITOR feeds a transaction's commands when EXEC runs them, then EXEC" {
        set m [monitor_client]
        r multi
        r publish mon.tx one
        r ping
        r exec
        assert_equal {"multi"} [monitor_args $m]
        assert_equal {"publish" "mon.tx" "one"} [monitor_args $m]
        assert_equal {"ping"} [monitor_args $m]
        assert_equal {"exec"} [monitor_args $m]
        # An aborted transaction: its EXEC ran (and failed), nothing queued did.
        r multi
        assert_error "*unknown command*" {r nosuchcommand}
        r ping
        assert_error "EXECABORT*" {r exec}
        assert_equal {"multi"} [monitor_args $m]
        assert_equal {"exec"} [monitor_args $m]
        raw_close $m
    }

    test "MONITOR inside MULTI is refused when EXEC runs it" {
        r multi
        r monitor
        set res [r exec]
        assert_match "*MONITOR isn't allowed for DENY BLOCKING client*" $res
        assert_equal PONG [r ping]
    }

    test "A monitor may run commands: the reply, then its own line" {
        set m [monitor_client]
        set m2 [monitor_client]
        raw_send $m [resp_cmd PING]
        raw_expect $m "+PONG\r\n"
        assert_equal {"PING"} [monitor_args $m]
        assert_equal {"PING"} [monitor_args $m2]
        # A second MONITOR says nothing and is not fed (admin).
        raw_send $m [resp_cmd MONITOR]
        raw_send $m [resp_cmd PING again]
        raw_expect $m "\$5\r\nagain\r\n"
        assert_equal {"PING" "again"} [monitor_args $m]
        assert_equal {"PING" "again"} [monitor_args $m2]
        raw_close $m
        raw_close $m2
    }

    test "CLIENT LIST shows a monitor with flags=O and cmd=monitor" {
        set m [monitor_client]
        set found 0
        foreach line [split [r client list] "\n"] {
            if {[string match "*cmd=monitor *" $line]} {
                assert_match "* flags=O *" $line
                set found 1
            }
        }
        assert_equal 1 $found
        raw_close $m
    }

    foreach resp {2 3} {
        test "A RESP$resp monitor gets simple-string lines, the same bytes" {
            set m [monitor_client $resp]
            r echo resp$resp
            set line [read_crlf_line $m]
            assert_match "+*\] \"echo\" \"resp$resp\"\r\n" $line
            raw_close $m
        }
    }

    test "RESET ends monitoring; QUIT closes the monitor" {
        set m [monitor_client]
        set m2 [monitor_client]
        raw_send $m [resp_cmd RESET]
        raw_expect $m "+RESET\r\n"
        assert_equal {"RESET"} [monitor_args $m2]
        raw_send $m [resp_cmd PING after-reset]
        raw_expect $m "\$11\r\nafter-reset\r\n"
        # m2 sees it; m, no longer a monitor, got nothing more with it.
        assert_equal {"PING" "after-reset"} [monitor_args $m2]
        assert_equal "" [read $m]
        raw_send $m2 [resp_cmd QUIT]
        assert_equal "+OK\r\n" [raw_read_eof $m2]
        raw_close $m
        raw_close $m2
    }

    test "MONITOR is refused with NOPERM for a user without it" {
        r acl setuser mon.nomon on >pw +@all -monitor allchannels
        set c [raw_connect]
        raw_send $c [resp_cmd AUTH mon.nomon pw]
        raw_expect $c "+OK\r\n"
        raw_send $c [resp_cmd MONITOR]
        set line [read_crlf_line $c]
        assert_match "-NOPERM *has no permissions to run the 'monitor' command\r\n" $line
        raw_close $c
        r acl deluser mon.nomon
    }

    test "A monitor that cannot keep up is closed at the normal class's output limit" {
        r config set client-output-buffer-limit "normal 1000000 0 0"
        set m [monitor_client]
        regexp {id=([0-9]+) } [lsearch -inline [split [r client list] "\n"] "*cmd=monitor*"] -> mid
        set big [string repeat x 100000]
        # The monitor never reads: what the kernel does not take stays here.
        for {set i 0} {$i < 300 && [r client list id $mid] ne ""} {incr i} {r echo $big}
        wait_for_condition 100 20 {
            [r client list id $mid] eq ""
        } else {
            fail "monitor still connected: [r client list id $mid]"
        }
        r config set client-output-buffer-limit "normal 0 0 0"
        raw_close $m
    }

    test "Server is clean after the monitor tests" {
        assert_server_clean
    }
}
