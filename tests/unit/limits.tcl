# limits.tcl -- The limits that protect the server from slow or greedy
# clients: client-output-buffer-limit for the pubsub class (hard and soft)
# and the normal class, client-query-buffer-limit, maxclients from the
# config file, and many clients at once.
#
# A slow client here is a deferring client that never reads: what the
# kernel socket buffers cannot take piles up in the server until the limit
# closes the connection. Loops are bounded, and every wait is a
# wait_for_condition. Limits changed with CONFIG SET are put back.

# The CLIENT LIST entry of a client id as a dict ("" when gone).
proc limit_client_entry {id} {
    set line [string trim [r client list id $id]]
    if {$line eq ""} {return ""}
    set d [dict create]
    foreach kv [split $line " "] {
        set i [string first = $kv]
        dict set d [string range $kv 0 [expr {$i - 1}]] [string range $kv [expr {$i + 1}] end]
    }
    return $d
}

proc limit_client_gone {id} {
    return [expr {[r client list id $id] eq ""}]
}

# The id of a raw connection, asked over it.
proc limit_raw_id {fd} {
    raw_send $fd "CLIENT ID\r\n"
    set line ""
    while {![string match "*\r\n" $line]} {append line [raw_read $fd 1]}
    if {![regexp {^:([0-9]+)\r\n$} $line -> id]} {fail "bad CLIENT ID reply [show $line]"}
    return $id
}

# A client whose large commands leave in one write: Tcl's default 4 KiB
# channel buffer splits them, and the last small piece then waits for the
# server's delayed ACK (Nagle), about 40 ms per command.
proc fast_client {} {
    set c [redis_client]
    fconfigure [$c channel] -buffersize 1000000
    return $c
}

proc limit_deferred_id {c} {
    $c client id
    return [$c read]
}

start_server {tags {limits}} {

    test "A subscriber that does not read is closed at the pubsub hard limit" {
        set old [lindex [r config get client-output-buffer-limit] 1]
        assert_equal OK [r config set client-output-buffer-limit "pubsub 1mb 0 0"]
        try {
            set slow [pubsub_client]
            set slow_id [limit_deferred_id $slow]
            subscribe $slow {l1.chan}
            set good [pubsub_client]
            subscribe $good {l1.chan}
            set pub [fast_client]
            set payload [string repeat p 102400]
            set sent 0
            # Kernel buffers first absorb a few MiB; then the server holds
            # the rest and must give up on the slow client at 1 MiB.
            for {set i 0} {$i < 500} {incr i} {
                set n [$pub publish l1.chan $payload]
                incr sent
                assert_equal [list message l1.chan $payload] [$good read] "message $i"
                if {$n == 1} break
            }
            wait_for_condition 100 20 {
                [limit_client_gone $slow_id] && [r pubsub numsub l1.chan] eq {l1.chan 1}
            } else {
                fail "slow subscriber still connected after $sent messages of 100 KiB"
            }
            # The subscriber that reads is unaffected.
            assert_equal 1 [r publish l1.chan final]
            assert_equal {message l1.chan final} [$good read]
            assert_no_pending $good
        } finally {
            r config set client-output-buffer-limit $old
        }
    }

    test "A slow RESP3 subscriber and a pattern subscriber are closed too" {
        set old [lindex [r config get client-output-buffer-limit] 1]
        assert_equal OK [r config set client-output-buffer-limit "pubsub 1mb 0 0"]
        try {
            set s3 [pubsub_client 3]
            set id3 [limit_deferred_id $s3]
            subscribe $s3 {l2.chan}
            set sp [pubsub_client]
            set idp [limit_deferred_id $sp]
            psubscribe $sp {l2.*}
            set pub [fast_client]
            set payload [string repeat q 102400]
            for {set i 0} {$i < 500} {incr i} {
                if {[$pub publish l2.chan $payload] == 0} break
            }
            wait_for_condition 100 20 {
                [limit_client_gone $id3] && [limit_client_gone $idp] &&
                [r pubsub numsub l2.chan] eq {l2.chan 0} && [r pubsub numpat] == 0
            } else {
                fail "slow subscribers still connected"
            }
        } finally {
            r config set client-output-buffer-limit $old
        }
    }

    test "A client that pipelines and never reads is closed at the normal limit" {
        set old [lindex [r config get client-output-buffer-limit] 1]
        assert_equal OK [r config set client-output-buffer-limit "normal 1mb 0 0"]
        try {
            set fd [raw_connect]
            set id [limit_raw_id $fd]
            set cmd [::redis::encode [list ECHO [string repeat e 65536]]]
            # 400 x 64 KiB of replies: far more than socket buffers hold.
            # Tcl writes the queued bytes in the background while we wait;
            # the write fails if the server has already closed.
            catch {raw_send $fd [string repeat $cmd 400]}
            wait_for_condition 200 50 {
                [limit_client_gone $id]
            } else {
                fail "greedy client still connected: [r client list id $id]"
            }
            assert_equal PONG [r ping]
        } finally {
            r config set client-output-buffer-limit $old
        }
    }

    test "A normal client that reads its replies is not closed by the normal limit" {
        set old [lindex [r config get client-output-buffer-limit] 1]
        assert_equal OK [r config set client-output-buffer-limit "normal 1mb 0 0"]
        try {
            set c [fast_client]
            set arg [string repeat f 65536]
            for {set i 0} {$i < 100} {incr i} {
                assert_equal $arg [$c echo $arg]
            }
            assert_equal PONG [$c ping]
        } finally {
            r config set client-output-buffer-limit $old
        }
    }

    test "A large bulk arriving in pieces is kept until complete" {
        set fd [raw_connect]
        set id [limit_raw_id $fd]
        set arg [string repeat k 3000000]
        raw_send $fd "*2\r\n\$4\r\nECHO\r\n\$3000000\r\n[string range $arg 0 1999999]"
        # The first 2 MB wait in the server, the client stays connected.
        assert_equal PONG [r ping]
        assert_equal $id [dict get [limit_client_entry $id] id]
        raw_send $fd "[string range $arg 2000000 end]\r\n"
        raw_expect $fd [bulk_bytes $arg]
    }

    test "A huge incomplete bulk is closed at client-query-buffer-limit" {
        set old [lindex [r config get client-query-buffer-limit] 1]
        assert_equal OK [r config set client-query-buffer-limit 1mb]
        try {
            set fd [raw_connect]
            set id [limit_raw_id $fd]
            # The write fails if the server has already closed.
            catch {raw_send $fd "*2\r\n\$4\r\nECHO\r\n\$10000000\r\n[string repeat h 2000000]"}
            wait_for_condition 100 50 {
                [limit_client_gone $id]
            } else {
                fail "client over the query buffer limit still connected"
            }
            # Under the limit, a large argument is fine.
            set c [fast_client]
            set arg [string repeat i 500000]
            assert_equal $arg [$c echo $arg]
        } finally {
            r config set client-query-buffer-limit $old
        }
    }

    test "A command with 10,000 arguments is parsed, then refused for its arity" {
        # 10,000 arguments of 100 bytes (1 MB) in one command: an arity
        # error, not a limit.
        set c [fast_client]
        set args [lrepeat 10000 [string repeat j 100]]
        assert_error "ERR wrong number of arguments for 'echo' command" {$c echo {*}$args}
        assert_equal PONG [$c ping]
    }

    test "300 RESP3 clients subscribe and publish to each other" {
        wait_for_condition 100 20 {
            [connected_clients] == 1
        } else {
            fail "clients of earlier tests still connected"
        }
        set n 300
        set clients {}
        for {set i 0} {$i < $n} {incr i} {
            lappend clients [pubsub_client 3]
        }
        set i 0
        foreach c $clients {
            $c subscribe l3.all l3.one.$i
            incr i
        }
        foreach c $clients {
            assert_equal {1 2} [read_confirms $c subscribe 2]
        }
        assert_equal [expr {$n + 1}] [connected_clients]
        assert_equal [list l3.all $n] [r pubsub numsub l3.all]
        assert_equal [expr {$n + 1}] [info_field [r info stats] pubsub_channels]
        # Each client publishes to its neighbour's own channel.
        set i 0
        foreach c $clients {
            $c publish l3.one.[expr {($i + 1) % $n}] from-$i
            incr i
        }
        set i 0
        foreach c $clients {
            set got {}
            for {set k 0} {$k < 2} {incr k} {
                set frame [$c read]
                if {[$c last_type] eq ">"} {
                    lappend got push $frame
                } else {
                    lappend got reply $frame
                }
            }
            set from [expr {($i + $n - 1) % $n}]
            assert_equal 1 [dict get $got reply] "client $i publish reply"
            assert_equal [list message l3.one.$i from-$from] [dict get $got push] "client $i"
            incr i
        }
        # One message to all of them.
        assert_equal $n [r publish l3.all everyone]
        foreach c $clients {
            assert_equal {message l3.all everyone} [$c read]
        }
        foreach c $clients {$c close}
        wait_for_condition 100 50 {
            [connected_clients] == 1 && [r pubsub numsub l3.all] eq {l3.all 0}
        } else {
            fail "[connected_clients] clients still connected"
        }
    }

    test "The server is back to a clean state" {
        assert_server_clean
    }
}

start_server {tags {limits external:skip} overrides {
    maxclients 4
    client-output-buffer-limit {pubsub 1mb 256kb 1}
}} {

    test "Limits from the config file are in effect" {
        assert_equal {maxclients 4} [r config get maxclients]
        assert_equal "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 262144 1" \
            [lindex [r config get client-output-buffer-limit] 1]
    }

    test "maxclients from the config file: the next connection is refused" {
        set c1 [redis_client]
        set c2 [redis_client]
        set c3 [redis_client]
        foreach c [list $c1 $c2 $c3] {assert_equal PONG [$c ping]}
        set fd [raw_connect]
        assert_equal "-ERR max number of clients reached\r\n" [raw_read_eof $fd]
        # The refused connection did not disturb the others.
        assert_equal PONG [$c3 ping]
        $c3 close
        wait_for_condition 100 20 {
            [connected_clients] == 3
        } else {
            fail "closed client still counted"
        }
        set c4 [redis_client]
        assert_equal PONG [$c4 ping]
    }

    test "A subscriber over the pubsub soft limit for longer than 1 s is closed" {
        wait_for_condition 100 20 {
            [connected_clients] == 1
        } else {
            fail "clients of earlier tests still connected"
        }
        set slow [pubsub_client]
        set id [limit_deferred_id $slow]
        subscribe $slow {l4.chan}
        set pub [fast_client]
        set payload [string repeat s 65536]
        # Fill the socket buffers, then go just over the soft limit
        # (256 KiB) and stay under the hard one (1 MiB).
        set over 0
        for {set i 0} {$i < 500} {incr i} {
            $pub publish l4.chan $payload
            set e [limit_client_entry $id]
            if {$e eq ""} {fail "closed before the soft limit was tested (message $i)"}
            if {[dict get $e omem] > 300000} {set over 1; break}
        }
        assert $over "output buffer never went over the soft limit"
        set start [clock milliseconds]
        # Small messages keep the buffer over the soft limit; the client
        # must be closed once it has been over it for more than 1 s.
        wait_for_condition 100 50 {
            [r publish l4.chan tick] >= 0 && [limit_client_gone $id]
        } else {
            fail "subscriber over the soft limit still connected: [r client list id $id]"
        }
        assert_morethan_equal [expr {[clock milliseconds] - $start}] 900
        assert_equal {l4.chan 0} [r pubsub numsub l4.chan]
    }

    test "The server with small limits is clean" {
        assert_server_clean
    }
}
