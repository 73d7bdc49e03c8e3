# lifecycle.tcl -- How clients and the server go away. A subscriber with a
# huge registry leaves without stalling the others (ours releases it in
# slices; Redis stalls for tens of ms, so that test is ours alone), and the
# systemd notify protocol at start and stop.

# Reads from a raw socket until the data ends with tail; returns the data.
proc lifecycle_read_until {fd tail {timeout_ms 20000}} {
    set data ""
    set deadline [expr {[clock milliseconds] + $timeout_ms}]
    set n [string length $tail]
    while {[string range $data end-[expr {$n - 1}] end] ne $tail} {
        if {[clock milliseconds] > $deadline} {fail "timed out waiting for [escape_bytes $tail]"}
        if {![::redis::raw_wait $fd 1000]} continue
        append data [read $fd]
        if {[eof $fd]} {fail "connection closed while waiting for [escape_bytes $tail]"}
    }
    return $data
}

start_server {tags {lifecycle}} {

    # One subscriber with n channels leaves; returns the worst PING round
    # trip (us) seen while its registry was released, and the PING count.
    proc lifecycle_release_worst {n} {
        set fd [raw_connect]
        fconfigure $fd -buffersize 4000000
        set cmd "*[expr {$n + 1}]\r\n\$9\r\nSUBSCRIBE\r\n"
        for {set i 0} {$i < $n} {incr i} {
            set ch "big:$i"
            append cmd "\$[string length $ch]\r\n$ch\r\n"
        }
        raw_send $fd $cmd
        lifecycle_read_until $fd ":$n\r\n"
        assert_equal [list big:0 1 big:99999 1] [r pubsub numsub big:0 big:99999]
        raw_close $fd
        # Round trips while the registry is being released: none may wait
        # for the whole release (tens of ms) at once.
        set worst 0
        set pings 0
        set deadline [expr {[clock milliseconds] + 500}]
        while {[clock milliseconds] < $deadline} {
            set t0 [clock microseconds]
            assert_equal PONG [r ping]
            set dt [expr {[clock microseconds] - $t0}]
            if {$dt > $worst} {set worst $dt}
            incr pings
        }
        wait_for_condition 200 20 {
            [r pubsub numsub big:0 big:99999] eq [list big:0 0 big:99999 0] &&
            [llength [r pubsub channels big:*]] == 0
        } else {
            fail "the big subscriber's channels were not all released"
        }
        return [list $worst $pings]
    }

    test "A subscriber holding 100k channels leaves without stalling other clients" {
        # The issue's bound is 25 ms (Redis stalls 50-140 ms here); a
        # sanitizer build runs everything several times slower.
        set bound [expr {[string match */address/* $::opt(server_bin)] ? 60000 : 25000}]
        # A release done in one pass stalls every attempt by its whole
        # length; a busy machine can stall one round trip now and then,
        # but not three attempts in a row.
        set worsts {}
        for {set attempt 0} {$attempt < 3} {incr attempt} {
            lassign [lifecycle_release_worst 100000] worst pings
            lappend worsts $worst
            verbose_report "    worst round trip $worst us over $pings pings"
            assert_morethan $pings 10
            if {$worst < $bound} break
        }
        assert_lessthan [lindex $worsts end] $bound "worst round trips (us) of each attempt: $worsts"
    } {ours}

    test "Under systemd supervision: READY=1 when serving, STOPPING=1 on SIGTERM, exit 0" {
        set dir [file join $::tmp_root "lifecycle.[pid]"]
        file delete -force $dir
        file mkdir $dir
        set port [find_available_port]
        set out [exec /usr/bin/python3 [file join $::root tests helpers systemd_notify.py] \
                     $::opt(server_bin) $port $dir]
        assert_equal "ready\nstopping\nexit 0" $out
        file delete -force $dir
    } {ours external:skip}

    test "The server is back to a clean state" {
        assert_server_clean
    }
}
