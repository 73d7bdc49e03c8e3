# faults.tcl -- Limits and faults (issue 5): clients that vanish with a TCP
# reset at any byte of a frame or while being written to, a publisher that
# dies mid-pipeline, a client that never reads, 5000 connections in rounds,
# a subscriber process stopped with SIGSTOP, pathological patterns on 1 MiB
# channel names, running out of file descriptors, and SIGTERM under load.
#
# Tcl cannot reset a connection (SO_LINGER 0) or hold thousands of sockets,
# so tests/helpers/faults.py plays those clients; its modes are described
# there. The output-buffer limits and the 100k-subscription client leaving
# are in limits.tcl and lifecycle.tcl. Leaks on these paths are caught by
# the ASan run of this file (tests/run-all.sh) and by tests/valgrind.sh.
#
# Tests tagged `ours` are where redis-server 7.0 behaves differently; each
# says how. Processes are started here and signalled only by pid.

set ::faults_helper [file join $::root tests helpers faults.py]
set ::faults_seq 0

# Runs a helper mode to its end; returns its last line, which must be "ok".
proc faults_run {args} {
    if {[catch {exec /usr/bin/python3 $::faults_helper {*}$args 2>@1} out]} {
        fail "faults.py [lrange $args 0 1]: $out"
    }
    set last [lindex [split [string trim $out] "\n"] end]
    assert_match "ok*" $last "faults.py [lindex $args 0]"
    return $last
}

# Starts a helper mode in the background; returns its pipe (read its lines
# with faults_line, write lines with faults_say).
proc faults_open {args} {
    set ch [open |[list /usr/bin/python3 $::faults_helper {*}$args 2>@1] r+]
    fconfigure $ch -blocking 0 -buffering line
    return $ch
}

proc faults_line {ch {timeout_ms 20000}} {
    set deadline [expr {[clock milliseconds] + $timeout_ms}]
    while {[gets $ch line] < 0} {
        if {[eof $ch]} {fail "faults.py ended without a line"}
        set left [expr {$deadline - [clock milliseconds]}]
        if {$left <= 0 || ![::redis::raw_wait $ch $left]} {
            fail "no line from faults.py within $timeout_ms ms"
        }
    }
    if {[string match "error:*" $line]} {fail "faults.py: $line"}
    return $line
}

# One reply line (up to CRLF) from a raw socket.
proc faults_raw_line {fd} {
    set line ""
    while {[string range $line end-1 end] ne "\r\n"} {append line [raw_read $fd 1]}
    return $line
}

proc faults_say {ch line} {
    puts $ch $line
    flush $ch
}

# Ends a background helper: continues it if stopped, kills it by pid.
proc faults_close {ch} {
    foreach p [pid $ch] {
        catch {exec kill -CONT $p}
        catch {exec kill -KILL $p}
    }
    catch {close $ch}
}

# CPU time (user + system) a process has used, in clock ticks.
proc faults_cpu_ticks {pid} {
    set fields [split [string trim [lindex [split [read_file_bytes /proc/$pid/stat] ")"] end]]]
    return [expr {[lindex $fields 11] + [lindex $fields 12]}]
}

proc faults_rss_kb {pid} {
    regexp {VmRSS:\s+([0-9]+)} [read_file_bytes /proc/$pid/status] -> kb
    return $kb
}

# The percentage of one CPU a process uses over about a second.
proc faults_cpu_percent {pid} {
    set hz [exec getconf CLK_TCK]
    set t0 [clock milliseconds]
    set c0 [faults_cpu_ticks $pid]
    tsleep 1000
    set c1 [faults_cpu_ticks $pid]
    set ms [expr {[clock milliseconds] - $t0}]
    return [expr {100.0 * ($c1 - $c0) / $hz * 1000 / $ms}]
}

# Waits until every client but the default one has gone.
proc faults_wait_baseline {{n 1}} {
    wait_for_condition 200 25 {
        [connected_clients] == $n
    } else {
        fail "[connected_clients] clients connected, expected $n"
    }
}

# ---------------------------------------------------------------------------
# Servers started here: under a lowered ulimit, or to be signalled
# ---------------------------------------------------------------------------

# Starts the binary under test on PORT in a fresh directory, its shell
# wrapper recording the pid and, at exit, the status. ULIMIT, if given, is
# applied with `ulimit -n` before the server starts. Returns a dict with
# pid port dir stdout stderr status; waits until it serves.
proc faults_spawn {port {extra ""} {ulimit ""}} {
    set dir [file join $::tmp_root "faults.[pid].[incr ::faults_seq]"]
    file delete -force $dir
    file mkdir $dir
    set conf [file join $dir server.conf]
    write_file_bytes $conf "bind 127.0.0.1\nport $port\ndaemonize no\nlogfile \"\"\nsave \"\"\nappendonly no\ndir $dir\n$extra"
    set p [dict create port $port dir $dir stdout $dir/stdout stderr $dir/stderr status $dir/status]
    set limit [expr {$ulimit eq "" ? "" : "ulimit -n $ulimit || exit 1;"}]
    exec sh -c "$limit \"\$1\" \"\$2\" >\"\$3/stdout\" 2>\"\$3/stderr\" </dev/null & echo \$! >\"\$3/pid\"; wait \$!; echo \$? >\"\$3/status\"" \
        sh $::opt(server_bin) $conf $dir &
    wait_for_condition 500 10 {
        [string is integer -strict [set pid [string trim [read_file_bytes $dir/pid]]]] && $pid > 0
    } else {
        fail "the wrapper did not record a pid"
    }
    dict set p pid $pid
    report "\[server-pid\]: $pid"
    wait_for_condition 500 10 {
        [file exists $dir/status] ||
        ([string first "Ready to accept connections" [read_file_bytes $dir/stdout]] >= 0 &&
         ![catch {close [socket 127.0.0.1 $port]}])
    } else {
        fail "server on port $port not ready: [read_file_bytes $dir/stdout]"
    }
    if {[file exists $dir/status]} {
        fail "server exited at start-up: [read_file_bytes $dir/stdout][read_file_bytes $dir/stderr]"
    }
    return $p
}

# The exit status of a spawned server within MS milliseconds, "" if none.
proc faults_exit_status {p {ms 0}} {
    set deadline [expr {[clock milliseconds] + $ms}]
    while 1 {
        set s [string trim [read_file_bytes [dict get $p status]]]
        if {[string is integer -strict $s]} {return $s}
        if {[clock milliseconds] >= $deadline} {return ""}
        tsleep 5
    }
}

# Stops a spawned server (SIGTERM, then SIGKILL after 10 s), fails on a
# non-zero exit or a sanitizer report, and removes its directory.
proc faults_stop {p} {
    if {[faults_exit_status $p] eq ""} {
        catch {exec kill -TERM [dict get $p pid]}
    }
    set status [faults_exit_status $p 10000]
    if {$status eq ""} {
        catch {exec kill -KILL [dict get $p pid]}
        faults_exit_status $p 2000
    }
    report "\[server-gone\]: [dict get $p pid]"
    set san [sanitizer_report $p]
    if {$san ne ""} {fail "sanitizer report from pid [dict get $p pid]:\n$san"}
    assert_equal 0 $status "exit status of pid [dict get $p pid]"
    file delete -force [dict get $p dir]
}

# ---------------------------------------------------------------------------
# Resets, a dying publisher, a client that never reads, many connections,
# a stopped subscriber
# ---------------------------------------------------------------------------

start_server {tags {faults}} {

    test "A reset at every byte of a (P/S)SUBSCRIBE frame leaves no client and no subscription" {
        set frames [list \
            [::redis::encode {SUBSCRIBE f1.a f1.b}] \
            "SUBSCRIBE f1.c\r\n" \
            [::redis::encode {PSUBSCRIBE f1.*}] \
            [::redis::encode {SSUBSCRIBE f1.s}] \
            [::redis::encode {HELLO 3}][::redis::encode {SUBSCRIBE f1.d}]]
        foreach frame $frames {
            binary scan $frame H* hex
            faults_run rst-frame [srv port] $hex
            faults_run rst-frame [srv port] $hex sync
        }
        faults_wait_baseline
        assert_server_clean
        assert_equal PONG [r ping]
    }

    # A reset makes Linux drop bytes the server has not read yet (both
    # servers lose the whole frame now and then), so without the sync
    # barrier the whole frame arrives at most once; with it, exactly once.
    test "A reset at every byte of a PUBLISH frame: only the whole frame is delivered" {
        set sub [pubsub_client]
        subscribe $sub {f2.chan}
        set psub [pubsub_client 3]
        psubscribe $psub {f2.*}
        binary scan [::redis::encode {PUBLISH f2.chan sync-payload}] H* hex
        faults_run rst-frame [srv port] $hex sync
        assert_equal {message f2.chan sync-payload} [$sub read]
        assert_equal {pmessage f2.* f2.chan sync-payload} [$psub read]
        binary scan [::redis::encode {PUBLISH f2.chan immediate-payload}] H* hex
        faults_run rst-frame [srv port] $hex
        # Every reset connection is gone, so nothing else can arrive.
        faults_wait_baseline 3
        $sub ping
        set frame [$sub read]
        if {$frame ne {pong {}}} {
            assert_equal {message f2.chan immediate-payload} $frame
            assert_equal {pmessage f2.* f2.chan immediate-payload} [$psub read]
            assert_equal {pong {}} [$sub read]
        }
        $psub ping
        assert_equal PONG [$psub read]
    }

    test "A publisher reset mid-pipeline: subscribers get exactly the whole PUBLISHes" {
        set sub [pubsub_client]
        subscribe $sub {f3.chan}
        set sub3 [pubsub_client 3]
        subscribe $sub3 {f3.chan}
        set n 2000
        # The reset comes once the server has run the N whole commands; the
        # half command after them must never be delivered.
        set ch [faults_open rst-pipeline [srv port] f3.chan $n wait]
        try {
            assert_equal sent [faults_line $ch]
            for {set i 0} {$i < $n} {incr i} {
                assert_equal [list message f3.chan m$i] [$sub read] "RESP2 message $i"
                assert_equal [list message f3.chan m$i] [$sub3 read] "RESP3 message $i"
            }
            faults_say $ch reset
            assert_equal "ok $n" [faults_line $ch]
        } finally {
            faults_close $ch
        }
        faults_wait_baseline 3
        assert_no_pending $sub
        $sub3 ping
        assert_equal PONG [$sub3 read]
        # Reset at once: what arrives is a prefix of the N, in order.
        faults_run rst-pipeline [srv port] f3.chan $n
        faults_wait_baseline 3
        $sub ping
        set i 0
        while {[set frame [$sub read]] ne {pong {}}} {
            assert_equal [list message f3.chan m$i] $frame "message $i after an immediate reset"
            incr i
        }
        verbose_report "    immediate reset: $i of $n whole PUBLISHes delivered"
        assert_equal {f3.chan 2} [r pubsub numsub f3.chan]
    }

    test "A subscriber reset while the server writes it a backlog: the others get every byte" {
        # Offsets: before the first byte, inside the first frame's header,
        # at a frame boundary region, and deep into the backlog.
        faults_run rst-backlog [srv port] f4.chan 0 1 7 65536 65600 1000000 2000000
        faults_wait_baseline
        assert_equal {f4.chan 0} [r pubsub numsub f4.chan]
        assert_equal PONG [r ping]
    }

    # Redis 7.0 has no normal output-buffer limit by default and keeps
    # reading: the same client grows redis-server by about 290 MB (measured).
    test "A client pipelining 400 MB of PUBLISH and PING without reading does not grow the server" {
        set pid [srv pid]
        set before [faults_rss_kb $pid]
        set ch [faults_open flood [srv port] 400]
        try {
            set sent [faults_line $ch 60000]
            set grown [expr {[faults_rss_kb $pid] - $before}]
            verbose_report "    $sent; RSS grew by $grown KiB"
            assert_match "sent *" $sent
            # The server stopped taking input long before 400 MB.
            assert_lessthan [lindex $sent 1] [expr {100 << 20}]
            assert_lessthan $grown [expr {100 * 1024}] "RSS growth in KiB"
            assert_equal PONG [r ping]
            # When it reads at last, every reply is there, in order.
            faults_say $ch read
            assert_match "ok replies *" [faults_line $ch 60000]
        } finally {
            faults_close $ch
        }
        faults_wait_baseline
    } {ours external:skip}

    # limits.tcl covers the pubsub class (hard and soft) and the normal
    # class's hard limit; this is the normal class's soft limit.
    test "A client over the normal soft limit for longer than 1 s is closed" {
        set old [lindex [r config get client-output-buffer-limit] 1]
        assert_equal OK [r config set client-output-buffer-limit "normal 0 256kb 1"]
        try {
            set fd [raw_connect]
            raw_send $fd "CLIENT ID\r\n"
            set line [faults_raw_line $fd]
            if {![regexp {^:([0-9]+)\r\n$} $line -> id]} {fail "CLIENT ID replied [show $line]"}
            set echo [::redis::encode [list ECHO [string repeat n 65536]]]
            # Until the server holds more than the soft limit for it (the
            # kernel's socket buffers take the first few MB).
            set over 0
            for {set i 0} {$i < 400 && !$over} {incr i} {
                catch {raw_send $fd $echo}
                set line [r client list id $id]
                if {$line eq ""} {fail "closed before going over the soft limit"}
                # Output sits in obl (the reply buffer) and omem (the list);
                # ours lets the buffer grow past Redis's 16 KiB.
                regexp {obl=([0-9]+)} $line -> obl
                regexp {omem=([0-9]+)} $line -> omem
                set over [expr {$obl + $omem > 300000}]
            }
            assert $over "output never went over the soft limit"
            set start [clock milliseconds]
            # Small commands keep it over the limit; it goes once it has been
            # over for more than a second.
            wait_for_condition 100 50 {
                [catch {raw_send $fd "PING\r\n"}] >= 0 && [r client list id $id] eq ""
            } else {
                fail "client over the normal soft limit still connected: [r client list id $id]"
            }
            assert_morethan_equal [expr {[clock milliseconds] - $start}] 900
            assert_equal PONG [r ping]
        } finally {
            r config set client-output-buffer-limit $old
        }
        faults_wait_baseline
    }

    test "5000 connections opened and closed in 3 rounds; a subscriber keeps receiving" {
        set sub [pubsub_client]
        subscribe $sub {f5.chan}
        set n 5000
        set ch [faults_open conns [srv port] $n 3]
        try {
            for {set round 0} {$round < 3} {incr round} {
                assert_equal "open $round" [faults_line $ch 60000]
                assert_equal [expr {$n + 2}] [connected_clients]
                assert_equal 1 [r publish f5.chan during-$round]
                assert_equal [list message f5.chan during-$round] [$sub read]
                faults_say $ch close
                assert_equal "closed $round" [faults_line $ch 60000]
                wait_for_condition 400 25 {
                    [connected_clients] == 2
                } else {
                    fail "round $round: [connected_clients] clients still connected"
                }
                assert_equal 1 [r publish f5.chan after-$round]
                assert_equal [list message f5.chan after-$round] [$sub read]
                faults_say $ch next
            }
            assert_equal "ok 3" [faults_line $ch]
        } finally {
            faults_close $ch
        }
    }

    test "A subscriber process stopped with SIGSTOP gets all 20,000 messages in order after SIGCONT" {
        set n 20000
        set ch [faults_open sub [srv port] f6.chan $n]
        try {
            assert_equal ready [faults_line $ch]
            set helper_pid [lindex [pid $ch] 0]
            exec kill -STOP $helper_pid
            # 20,000 messages of 100 bytes: about 2.6 MB on the wire, under
            # the default pubsub limits (32mb hard, 8mb for 60 s soft).
            set pub [raw_connect]
            set cmds ""
            for {set i 0} {$i < $n} {incr i} {
                append cmds [::redis::encode [list PUBLISH f6.chan [format %-100s $i:]]]
            }
            set cmds [string map {" " p} $cmds]
            raw_send $pub $cmds
            raw_expect $pub [string repeat ":1\r\n" $n] 30000
            raw_close $pub
            exec kill -CONT $helper_pid
            assert_equal "ok $n" [faults_line $ch 30000]
        } finally {
            faults_close $ch
        }
        faults_wait_baseline
    }

    test "The server is back to a clean state" {
        assert_server_clean
    }
}

# ---------------------------------------------------------------------------
# Pathological patterns with 1 MiB channel names
# ---------------------------------------------------------------------------

# Publishes to CHANNEL from a raw connection and, until the reply is in
# (and for a few more round trips), measures PING round trips on a client
# that waits as long as it takes. Returns {reply worst_us pings}.
proc faults_publish_stall {channel} {
    set pinger [redis_client]
    $pinger timeout 120000
    set pub [raw_connect]
    # Written out before the first PING, so Tcl's own background writing
    # is not counted as a stall.
    fconfigure $pub -blocking 1
    raw_send $pub [::redis::encode [list PUBLISH $channel x]]
    fconfigure $pub -blocking 0
    set reply ""
    set worst 0
    set pings 0
    set after_reply 0
    set deadline [expr {[clock milliseconds] + 120000}]
    while {$after_reply < 5} {
        if {[clock milliseconds] > $deadline} {fail "no PUBLISH reply within 120 s"}
        set t0 [clock microseconds]
        assert_equal PONG [$pinger ping]
        set dt [expr {[clock microseconds] - $t0}]
        if {$dt > $worst} {set worst $dt}
        incr pings
        append reply [read $pub]
        if {[string match "*\r\n" $reply]} {incr after_reply}
    }
    raw_close $pub
    $pinger close
    return [list $reply $worst $pings]
}

# faults_publish_stall up to three times, until the worst round trip is
# under the bound: a PUBLISH that stalls the loop does so every time, a
# busy machine holds up one round trip now and then. Each run's reply is
# checked, and with a pattern the pmessage sub gets for it. Returns
# {worst_us_of_each_run pings_of_the_last}.
proc faults_publish_stall_tries {channel pattern sub id} {
    set worsts {}
    for {set run 0} {$run < 3} {incr run} {
        lassign [faults_publish_stall $channel] reply worst pings
        assert_equal [expr {$pattern eq "" ? ":0\r\n" : ":1\r\n"}] $reply $id
        if {$pattern ne ""} {
            assert_equal [list pmessage $pattern $channel x] [$sub read] $id
        }
        lappend worsts $worst
        if {$worst < $::faults_stall_bound_us} break
    }
    return [list $worsts $pings]
}

# Subscribes a deferring client to PATTERNS (one command).
proc faults_psubscribe_all {patterns} {
    set c [pubsub_client]
    $c psubscribe {*}$patterns
    read_confirms $c psubscribe [llength $patterns]
    return $c
}

# A PING may wait for one PUBLISH of a 1 MiB channel; 50 ms leaves room
# for this shared 2-core machine and the ASan build.
set ::faults_stall_bound_us 50000

# Redis 7.0 runs its matcher over every pattern: each PUBLISH below takes
# about 4 s there (measured), so these bounds are ours alone.
start_server {tags {faults glob}} {

    test "1000 patterns like *a*a*a*a*a*a*b and 1 MiB channels: PING stalls stay under 50 ms" {
        set patterns {*a*a*a*a*a*a*b}
        for {set i 1} {$i < 1000} {incr i} {
            lappend patterns "*a*a*a*a*a*a*b$i"
        }
        set sub [faults_psubscribe_all $patterns]
        set a [string repeat a [expr {1 << 20}]]
        set report {}
        foreach {id channel matches} [list \
                all-a $a 0 \
                a-then-c "${a}c" 0 \
                a-then-b "${a}b" 1 \
                ab-repeated [string repeat ab [expr {1 << 19}]] 1] {
            set pattern [expr {$matches ? {*a*a*a*a*a*a*b} : ""}]
            lassign [faults_publish_stall_tries $channel $pattern $sub $id] worsts pings
            lappend report "$id ${worsts}us/$pings"
            assert_lessthan [lindex $worsts end] $::faults_stall_bound_us "$id: worst PING round trip in us, each run: $worsts"
        }
        verbose_report "    worst PING round trips: [join $report {, }]"
        assert_no_pending $sub
    } {ours}

    # Patterns the prefix/suffix index lets through, each with a literal
    # tail the channel does not end with: the server checks the tail before
    # running the matcher over the channel (one PUBLISH took 3.5 s before).
    foreach {id patfmt size} {
            prefix-a-star-digits {a*a*a*a*a*a*%d*b} 1048576
            question-marks {*?a*?a*?a*?a*?a*?b%d} 1048576} {
        set channel [string repeat a $size]
        test "1000 patterns of shape $id on a [expr {$size >> 10}] KiB channel: PING stalls stay under 50 ms" {
            set patterns {}
            for {set i 0} {$i < 1000} {incr i} {lappend patterns [format $patfmt $i]}
            set sub [faults_psubscribe_all $patterns]
            lassign [faults_publish_stall_tries $channel "" $sub $id] worsts pings
            verbose_report "    $id: worst PING round trip ${worsts}us over $pings pings"
            assert_lessthan [lindex $worsts end] $::faults_stall_bound_us "$id: worst PING round trip in us, each run: $worsts"
            $sub punsubscribe
            read_confirms $sub punsubscribe 1000
        } {ours}
    }

    test "The server is back to a clean state" {
        assert_server_clean
    }
}

# ---------------------------------------------------------------------------
# File descriptors and signals: servers started here
# ---------------------------------------------------------------------------

tags {faults external:skip} {

    test "Under ulimit -n 100: maxclients drops to 68, extras are refused, the rest keep working" {
        set port [find_available_port]
        set p [faults_spawn $port "maxclients 1000\n" 100]
        try {
            set c0 [redis_client 127.0.0.1 $port]
            # Redis 7 keeps 32 descriptors for itself: 100 - 32.
            assert_equal {maxclients 68} [$c0 config get maxclients]
            set sub [redis_deferring_client 127.0.0.1 $port]
            subscribe $sub {f7.chan}
            set clients {}
            for {set i 2} {$i < 68} {incr i} {
                set c [redis_client 127.0.0.1 $port]
                assert_equal PONG [$c ping] "client $i"
                lappend clients $c
            }
            assert_equal 68 [info_field [$c0 info clients] connected_clients]
            # Extra connections are refused with the error, or just closed.
            set extras {}
            for {set i 0} {$i < 20} {incr i} {
                set fd [raw_connect 127.0.0.1 $port]
                catch {raw_send $fd "PING\r\n"}
                lappend extras $fd
            }
            foreach fd $extras {
                set got [raw_read_eof $fd 5000]
                if {$got ni [list "-ERR max number of clients reached\r\n" ""]} {
                    fail "refused connection got [show $got]"
                }
                raw_close $fd
            }
            set cpu [faults_cpu_percent [dict get $p pid]]
            verbose_report "    CPU at the client limit: $cpu%"
            assert_lessthan $cpu 30 "CPU % while at the limit"
            # Those connected are served as before.
            assert_equal 1 [$c0 publish f7.chan still]
            assert_equal {message f7.chan still} [$sub read]
            foreach c $clients {assert_equal PONG [$c ping]}
            # Once some leave, new connections are accepted again.
            foreach c [lrange $clients 0 4] {$c close}
            wait_for_condition 200 20 {
                [info_field [$c0 info clients] connected_clients] == 63
            } else {
                fail "closed clients still counted"
            }
            for {set i 0} {$i < 5} {incr i} {
                set c [redis_client 127.0.0.1 $port]
                assert_equal PONG [$c ping] "new client $i"
            }
            set fd [raw_connect 127.0.0.1 $port]
            assert_equal "-ERR max number of clients reached\r\n" [raw_read_eof $fd]
        } finally {
            faults_stop $p
        }
    }

    test "Under ulimit -n 100: CONFIG SET maxclients above the limit is refused, as Redis does" {
        set port [find_available_port]
        set p [faults_spawn $port "maxclients 1000\n" 100]
        try {
            set c [redis_client 127.0.0.1 $port]
            assert_error "*not able to handle the specified number of clients, try with 68*" {
                $c config set maxclients 500
            }
            assert_equal {maxclients 68} [$c config get maxclients]
            assert_equal OK [$c config set maxclients 50]
            assert_equal {maxclients 50} [$c config get maxclients]
        } finally {
            faults_stop $p
        }
    }

    # Redis 7.0 does not handle EMFILE either: it retries accept() at 100%
    # CPU and leaves the connection waiting (measured), so this is ours.
    test "Out of descriptors (EMFILE) below maxclients: no busy loop, refused cleanly, accepts again" {
        set port [find_available_port]
        set p [faults_spawn $port]
        set pid [dict get $p pid]
        try {
            set c0 [redis_client 127.0.0.1 $port]
            set sub [redis_deferring_client 127.0.0.1 $port]
            subscribe $sub {f8.chan}
            # Room for four more descriptors, far below maxclients 10000,
            # counted once the start-up probe connection is gone.
            wait_for_condition 200 10 {
                [info_field [$c0 info clients] connected_clients] == 2
            } else {
                fail "start-up probe connection still counted"
            }
            # The limit is on descriptor numbers, and inherited ones may
            # leave holes: stop just above the fourth free number.
            set used [lmap f [glob -nocomplain -directory /proc/$pid/fd *] {file tail $f}]
            set free 0
            for {set fdno 0} {$free < 4} {incr fdno} {
                if {$fdno ni $used} {incr free}
            }
            faults_run setfd $pid $fdno
            set clients {}
            for {set i 0} {$i < 4} {incr i} {
                set c [redis_client 127.0.0.1 $port]
                assert_equal PONG [$c ping]
                lappend clients $c
            }
            set extras {}
            for {set i 0} {$i < 3} {incr i} {
                set fd [raw_connect 127.0.0.1 $port]
                catch {raw_send $fd "PING\r\n"}
                lappend extras $fd
            }
            set problems {}
            set cpu [faults_cpu_percent $pid]
            verbose_report "    CPU out of descriptors: $cpu%"
            if {$cpu >= 30} {lappend problems "the server used $cpu% CPU while out of descriptors"}
            foreach fd $extras {
                if {[catch {raw_read_eof $fd 2000} got]} {
                    lappend problems "a connection over the limit was left waiting: $got"
                    break
                }
                if {$got ni [list "-ERR max number of clients reached\r\n" ""]} {
                    lappend problems "a connection over the limit got [show $got]"
                }
            }
            foreach fd $extras {raw_close $fd}
            if {[catch {$c0 publish f8.chan still} n] || $n != 1} {
                lappend problems "PUBLISH while out of descriptors: $n"
            }
            # Free two descriptors: the next connection is served.
            foreach c [lrange $clients 0 1] {$c close}
            wait_for_condition 200 20 {
                [info_field [$c0 info clients] connected_clients] <= 4
            } else {
                lappend problems "closed clients still counted"
            }
            if {[catch {
                set c [redis_client 127.0.0.1 $port]
                $c timeout 2000
                $c ping
            } got] || $got ne "PONG"} {
                lappend problems "no PONG from a new connection once descriptors were free: $got"
            }
            if {[llength $problems]} {fail [join $problems "; "]}
        } finally {
            catch {faults_run setfd $pid 1024}
            faults_stop $p
        }
    } {ours}

    test "SIGTERM with 50 clients publishing and subscribed: exit 0 within 2 s, the port is free at once" {
        set port [find_available_port]
        set p [faults_spawn $port]
        set ch [faults_open load $port 50 f9.chan]
        try {
            assert_equal running [faults_line $ch]
            set t0 [clock milliseconds]
            exec kill -TERM [dict get $p pid]
            set status [faults_exit_status $p 2000]
            set took [expr {[clock milliseconds] - $t0}]
            verbose_report "    exit status '$status' after $took ms"
            assert_equal 0 $status "exit status within 2 s of SIGTERM"
            assert_equal "ok closed" [faults_line $ch]
            # A second server binds the same port straight away.
            set p2 [faults_spawn $port]
            set c [redis_client 127.0.0.1 $port]
            assert_equal PONG [$c ping]
            $c close
            faults_stop $p2
        } finally {
            faults_close $ch
            faults_stop $p
        }
    }
}
