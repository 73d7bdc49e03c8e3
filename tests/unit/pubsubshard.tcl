# pubsubshard.tcl -- SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH and PUBSUB
# SHARDCHANNELS / SHARDNUMSUB, with the semantics of a standalone Redis 7.0:
# shard channels are a namespace of their own, patterns never see them, and
# the running count in their confirmations counts shard channels only.

start_server {tags {pubsubshard}} {

    proc push_type {resp} {
        return [expr {$resp == 3 ? ">" : "*"}]
    }

    test "SPUBLISH to a shard channel without subscribers returns 0" {
        assert_equal 0 [r spublish h0.nobody hello]
    }

    foreach resp {2 3} {

        test "SSUBSCRIBE confirms each shard channel with a running count (RESP$resp)" {
            set c [pubsub_client $resp]
            $c ssubscribe h1.a h1.b
            assert_equal {ssubscribe h1.a 1} [$c read]
            assert_equal [push_type $resp] [$c last_type]
            assert_equal {ssubscribe h1.b 2} [$c read]
            assert_equal {h1.a 1 h1.b 1} [r pubsub shardnumsub h1.a h1.b]
        }

        test "SPUBLISH sends smessage frames and returns the receiver count (RESP$resp)" {
            set c1 [pubsub_client $resp]
            set c2 [pubsub_client $resp]
            ssubscribe $c1 {h2.chan}
            ssubscribe $c2 {h2.chan h2.other}
            assert_equal 2 [r spublish h2.chan hello]
            assert_equal {smessage h2.chan hello} [$c1 read]
            assert_equal [push_type $resp] [$c1 last_type]
            assert_equal {smessage h2.chan hello} [$c2 read]
            assert_equal 1 [r spublish h2.other bye]
            assert_equal {smessage h2.other bye} [$c2 read]
        }

        test "SSUBSCRIBE, smessage and SUNSUBSCRIBE frames are exact bytes (RESP$resp)" {
            set c [pubsub_client $resp]
            set fd [$c channel]
            $c ssubscribe h3.chan
            raw_expect $fd [confirm_bytes $resp ssubscribe h3.chan 1]
            assert_equal 1 [r spublish h3.chan "pay\r\nload"]
            raw_expect $fd [smessage_bytes $resp h3.chan "pay\r\nload"]
            $c sunsubscribe h3.chan
            raw_expect $fd [confirm_bytes $resp sunsubscribe h3.chan 0]
        }

        test "SUNSUBSCRIBE without arguments leaves every shard channel (RESP$resp)" {
            set c [pubsub_client $resp]
            ssubscribe $c {h4.a h4.b h4.c}
            $c sunsubscribe
            set names {}
            set counts {}
            for {set i 0} {$i < 3} {incr i} {
                lassign [$c read] kind name count
                assert_equal sunsubscribe $kind
                lappend names $name
                lappend counts $count
            }
            assert_equal {h4.a h4.b h4.c} [lsort $names]
            assert_equal {2 1 0} $counts
            assert_equal {h4.a 0 h4.b 0 h4.c 0} [r pubsub shardnumsub h4.a h4.b h4.c]
            assert_equal 0 [r spublish h4.a x]
        }

        test "SUNSUBSCRIBE with nothing subscribed replies a null name and 0 (RESP$resp)" {
            set c [pubsub_client $resp]
            set fd [$c channel]
            $c sunsubscribe
            raw_expect $fd [confirm_bytes $resp sunsubscribe "" 0 1]
            $c ping
            raw_expect $fd "+PONG\r\n"
        }

        test "SUNSUBSCRIBE of a shard channel not subscribed echoes it with the current count (RESP$resp)" {
            set c [pubsub_client $resp]
            set fd [$c channel]
            $c sunsubscribe h5.never
            raw_expect $fd [confirm_bytes $resp sunsubscribe h5.never 0]
            assert_equal {1} [ssubscribe $c {h5.real}]
            assert_equal {1} [sunsubscribe $c {h5.never}]
            assert_equal 1 [r spublish h5.real x]
            assert_equal {smessage h5.real x} [$c read]
        }

        test "RESET drops shard subscriptions (RESP$resp)" {
            set c [pubsub_client $resp]
            ssubscribe $c {h6.chan}
            $c reset
            assert_equal RESET [$c read]
            assert_equal {h6.chan 0} [r pubsub shardnumsub h6.chan]
            assert_equal 0 [r spublish h6.chan x]
        }
    }

    test "SSUBSCRIBE to the same shard channel twice counts it once" {
        set c [pubsub_client]
        assert_equal {1 1} [ssubscribe $c {h7.dup h7.dup}]
        assert_equal {h7.dup 1} [r pubsub shardnumsub h7.dup]
        assert_equal 1 [r spublish h7.dup once]
        assert_equal {smessage h7.dup once} [$c read]
        assert_no_pending $c
    }

    test "SSUBSCRIBE accepts channels of any hash slot in standalone mode" {
        set c [pubsub_client]
        # {a} and {b} hash to different cluster slots.
        assert_equal {1 2 3} [ssubscribe $c {h8.{a} h8.{b} h8.other}]
        assert_equal 1 [r spublish h8.{b} x]
        assert_equal {smessage h8.{b} x} [$c read]
    }

    test "Shard channels and ordinary channels are separate namespaces" {
        set c1 [pubsub_client]
        set c2 [pubsub_client]
        ssubscribe $c1 {h9.chan}
        subscribe $c2 {h9.chan}
        assert_equal 1 [r spublish h9.chan to-shard]
        assert_equal 1 [r publish h9.chan to-plain]
        assert_equal {smessage h9.chan to-shard} [$c1 read]
        assert_equal {message h9.chan to-plain} [$c2 read]
        assert_no_pending $c1
        assert_no_pending $c2
        assert_equal {h9.chan 1} [r pubsub numsub h9.chan]
        assert_equal {h9.chan 1} [r pubsub shardnumsub h9.chan]
        assert_equal {h9.chan} [r pubsub channels h9.*]
        assert_equal {h9.chan} [r pubsub shardchannels h9.*]
        sunsubscribe $c1 {h9.chan}
        assert_equal {} [r pubsub shardchannels h9.*]
        assert_equal {h9.chan} [r pubsub channels h9.*]
    }

    test "Patterns never match shard channels" {
        set c [pubsub_client]
        psubscribe $c {*}
        psubscribe $c {h10.*}
        assert_equal 0 [r spublish h10.chan x]
        assert_equal 2 [r publish h10.chan y]
        set frames [lsort [list [$c read] [$c read]]]
        assert_equal {{pmessage * h10.chan y} {pmessage h10.* h10.chan y}} $frames
        assert_no_pending $c
    }

    test "One client subscribed both ways gets smessage and message separately" {
        set c [pubsub_client]
        set fd [$c channel]
        $c ssubscribe h11.chan
        raw_expect $fd [confirm_bytes 2 ssubscribe h11.chan 1]
        # The count in SUBSCRIBE confirmations covers channels and patterns,
        # the count in SSUBSCRIBE confirmations covers shard channels only.
        $c subscribe h11.chan
        raw_expect $fd [confirm_bytes 2 subscribe h11.chan 1]
        $c psubscribe h11.*
        raw_expect $fd [confirm_bytes 2 psubscribe h11.* 2]
        $c ssubscribe h11.two
        raw_expect $fd [confirm_bytes 2 ssubscribe h11.two 2]
        assert_equal 1 [r spublish h11.chan s]
        raw_expect $fd [smessage_bytes 2 h11.chan s]
        assert_equal 2 [r publish h11.chan p]
        raw_expect $fd [message_bytes 2 h11.chan p]
        raw_expect $fd [pmessage_bytes 2 h11.* h11.chan p]
        $c sunsubscribe h11.chan
        raw_expect $fd [confirm_bytes 2 sunsubscribe h11.chan 1]
        $c unsubscribe h11.chan
        raw_expect $fd [confirm_bytes 2 unsubscribe h11.chan 1]
        $c punsubscribe
        raw_expect $fd [confirm_bytes 2 punsubscribe h11.* 0]
        $c sunsubscribe
        raw_expect $fd [confirm_bytes 2 sunsubscribe h11.two 0]
        $c ping
        raw_expect $fd "+PONG\r\n"
    }

    test "Shard subscriptions alone keep a RESP2 client in subscribed mode" {
        set c [pubsub_client]
        set fd [$c channel]
        ssubscribe $c {h12.chan}
        $c spublish h12.chan x
        assert_error "ERR Can't execute 'spublish': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context" {$c read}
        $c echo hi
        assert_error "ERR Can't execute 'echo': *" {$c read}
        # UNSUBSCRIBE and PUNSUBSCRIBE with nothing to leave report 0 (they
        # do not count shard channels) and the client stays subscribed.
        $c unsubscribe
        raw_expect $fd [confirm_bytes 2 unsubscribe "" 0 1]
        $c punsubscribe
        raw_expect $fd [confirm_bytes 2 punsubscribe "" 0 1]
        $c ping
        raw_expect $fd "*2\r\n\$4\r\npong\r\n\$0\r\n\r\n"
        # Leaving the last shard channel leaves subscribed mode.
        sunsubscribe $c {h12.chan}
        $c echo hi
        assert_equal hi [$c read]
    }

    test "A client keeps subscribed mode while it holds channels, after SUNSUBSCRIBE" {
        set c [pubsub_client]
        ssubscribe $c {h13.shard}
        subscribe $c {h13.plain}
        assert_equal {0} [sunsubscribe $c {h13.shard}]
        $c echo hi
        assert_error "ERR Can't execute 'echo': *" {$c read}
        assert_equal {0} [unsubscribe $c {h13.plain}]
        $c echo hi
        assert_equal hi [$c read]
    }

    test "RESP3: shard confirmations and messages are push frames, commands allowed" {
        set c [pubsub_client 3]
        set fd [$c channel]
        $c ssubscribe h14.chan
        raw_expect $fd ">3\r\n\$10\r\nssubscribe\r\n\$8\r\nh14.chan\r\n:1\r\n"
        $c ping
        raw_expect $fd "+PONG\r\n"
        $c pubsub shardnumsub h14.chan
        raw_expect $fd "*2\r\n\$8\r\nh14.chan\r\n:1\r\n"
    }

    # Redis 7.0 sends the smessage before SPUBLISH's reply; 7.2
    # (redis#12326) the reply first.
    test "RESP3: SPUBLISH to a shard channel we hold replies first, then pushes" {
        set c [pubsub_client 3]
        set fd [$c channel]
        $c ssubscribe h14.self
        raw_expect $fd ">3\r\n\$10\r\nssubscribe\r\n\$8\r\nh14.self\r\n:1\r\n"
        $c spublish h14.self self
        raw_expect $fd ":1\r\n>3\r\n\$8\r\nsmessage\r\n\$8\r\nh14.self\r\n\$4\r\nself\r\n"
        $c ping
        raw_expect $fd "+PONG\r\n"
    } redis72

    test "PUBSUB SHARDCHANNELS lists shard channels, filtered by a pattern" {
        set c1 [pubsub_client]
        set c2 [pubsub_client]
        ssubscribe $c1 {h15.a h15.b}
        ssubscribe $c2 {h15.b h15.other}
        subscribe $c2 {h15.plain}
        assert_equal {h15.a h15.b h15.other} [lsort [r pubsub shardchannels h15.*]]
        assert_equal {h15.a h15.b} [lsort [r pubsub shardchannels h15.?]]
        assert_equal {} [r pubsub shardchannels nomatch*]
        assert_equal {h15.a h15.b h15.other} \
            [lsort [lsearch -all -inline [r pubsub shardchannels] h15.*]]
        sunsubscribe $c1 {h15.a h15.b}
        assert_equal {h15.b h15.other} [lsort [r pubsub shardchannels h15.*]]
    }

    test "PUBSUB SHARDNUMSUB with several channels, missing ones and none" {
        set c1 [pubsub_client]
        set c2 [pubsub_client]
        ssubscribe $c1 {h16.a}
        ssubscribe $c2 {h16.a h16.b}
        subscribe $c2 {h16.c}
        assert_equal {h16.a 2 h16.b 1 h16.c 0 h16.zzz 0} \
            [r pubsub shardnumsub h16.a h16.b h16.c h16.zzz]
        assert_equal {} [r pubsub shardnumsub]
    }

    test "Binary-safe shard channel names and payloads" {
        set bytes [all_bytes]
        set channel "h17\x00\r\n$bytes"
        set payload "[string reverse $bytes]\x00"
        set c [pubsub_client]
        ssubscribe $c [list $channel]
        assert_equal 1 [r spublish $channel $payload]
        assert_equal [list smessage $channel $payload] [$c read]
        assert_equal [list $channel 1] [r pubsub shardnumsub $channel]
        assert_equal [list $channel] [r pubsub shardchannels "h17\x00*"]
    }

    test "Shard messages arrive in publish order (500 messages)" {
        set c [pubsub_client]
        ssubscribe $c {h18.seq}
        for {set i 0} {$i < 500} {incr i} {
            assert_equal 1 [r spublish h18.seq $i]
        }
        for {set i 0} {$i < 500} {incr i} {
            assert_equal [list smessage h18.seq $i] [$c read]
        }
    }

    test "A client that disconnects loses its shard subscriptions" {
        set c [pubsub_client]
        ssubscribe $c {h19.a h19.b}
        $c close
        wait_for_condition 100 20 {
            [r pubsub shardnumsub h19.a h19.b] eq {h19.a 0 h19.b 0}
        } else {
            fail "shard subscriptions of a closed client are still there"
        }
        assert_equal 0 [r spublish h19.a x]
    }

    test "SPUBLISH, SSUBSCRIBE and PUBSUB SHARD* errors" {
        assert_error "ERR wrong number of arguments for 'spublish' command" {r spublish}
        assert_error "ERR wrong number of arguments for 'spublish' command" {r spublish onlychannel}
        assert_error "ERR wrong number of arguments for 'spublish' command" {r spublish a b c}
        assert_error "ERR wrong number of arguments for 'ssubscribe' command" {r ssubscribe}
        assert_error "ERR unknown subcommand or wrong number of arguments for 'shardchannels'. Try PUBSUB HELP." \
            {r pubsub shardchannels a b}
        assert_equal PONG [r ping]
    }

    test "The server is back to a clean state" {
        assert_server_clean
    }
}
