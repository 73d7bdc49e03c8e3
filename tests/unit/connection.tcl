# connection.tcl -- Connection commands: PING, ECHO, SELECT, QUIT, RESET,
# HELLO (RESP2 and RESP3), MULTI/EXEC/DISCARD around PUBLISH, the RESP3 reply
# types of a few commands, and the small server commands clients send on
# connect or for health checks (TIME, DBSIZE, FLUSHALL, FLUSHDB, LASTSAVE).
#
# Replies were read from redis-server 7.0 first. HELLO's version value is
# the server's own: only its presence and type are checked.

start_server {tags {connection}} {

    # Reads from a raw socket until the bytes read match REGEXP (anchored
    # by the caller as needed); fails after 5 s. Returns the bytes.
    proc raw_read_until {fd regexp} {
        set data ""
        set deadline [expr {[clock milliseconds] + 5000}]
        while {![regexp $regexp $data]} {
            if {[clock milliseconds] > $deadline} {
                fail "no reply matching [show $regexp], got [show $data]"
            }
            append data [raw_read_available $fd 20]
        }
        return $data
    }

    # The fields of a CLIENT INFO line as a dict.
    proc client_fields {line} {
        set d [dict create]
        foreach kv [split [string trim $line] " "] {
            set i [string first = $kv]
            dict set d [string range $kv 0 [expr {$i - 1}]] [string range $kv [expr {$i + 1}] end]
        }
        return $d
    }

    # The HELLO reply, checked by shape: field names in Redis's order, the
    # types of their values, and every value but the version.
    proc hello_regexp {proto id} {
        set agg [expr {$proto == 3 ? "%7" : "\\*14"}]
        return "^$agg\r\n\\\$6\r\nserver\r\n\\\$5\r\nredis\r\n\\\$7\r\nversion\r\n\\\$\[0-9\]+\r\n\[0-9.\]+\r\n\\\$5\r\nproto\r\n:$proto\r\n\\\$2\r\nid\r\n:$id\r\n\\\$4\r\nmode\r\n\\\$10\r\nstandalone\r\n\\\$4\r\nrole\r\n\\\$6\r\nmaster\r\n\\\$7\r\nmodules\r\n\\*0\r\n\$"
    }

    # -----------------------------------------------------------------
    # PING, ECHO, SELECT
    # -----------------------------------------------------------------

    test "PING without an argument replies +PONG" {
        assert_equal PONG [r ping]
        assert_equal + [[srv client] last_type]
    }

    test "PING with an argument replies that argument as a bulk" {
        assert_equal "hello there" [r ping "hello there"]
        assert_equal \$ [[srv client] last_type]
        set fd [raw_connect]
        raw_send $fd "PING x\r\nPING\r\n"
        raw_expect $fd "\$1\r\nx\r\n+PONG\r\n"
    }

    test "PING with two arguments is an arity error" {
        assert_error "ERR wrong number of arguments for 'ping' command" {r ping a b}
    }

    test "ECHO returns its argument, binary safe" {
        assert_equal "a\r\nb\x00c" [r echo "a\r\nb\x00c"]
        assert_equal "" [r echo ""]
        assert_error "ERR wrong number of arguments for 'echo' command" {r echo}
    }

    test "SELECT accepts databases 0 to 15" {
        set c [redis_client]
        for {set db 0} {$db < 16} {incr db} {
            assert_equal OK [$c select $db]
        }
        assert_equal 15 [dict get [client_fields [$c client info]] db]
        assert_equal OK [$c select 0]
    }

    test "SELECT out of range or not an integer is refused" {
        assert_error "ERR DB index is out of range" {r select 16}
        assert_error "ERR DB index is out of range" {r select -1}
        assert_error "ERR DB index is out of range" {r select 1000000}
        assert_error "ERR value is not an integer or out of range" {r select abc}
        assert_error "ERR value is not an integer or out of range" {r select 1.5}
        assert_error "ERR wrong number of arguments for 'select' command" {r select}
        assert_equal 0 [dict get [client_fields [r client info]] db]
    }

    # -----------------------------------------------------------------
    # QUIT and RESET
    # -----------------------------------------------------------------

    test "QUIT replies +OK and closes the connection" {
        set fd [raw_connect]
        raw_send $fd "*1\r\n\$4\r\nQUIT\r\n"
        assert_equal "+OK\r\n" [raw_read_eof $fd]
    }

    test "Commands pipelined after QUIT are not run" {
        set fd [raw_connect]
        raw_send $fd "PING\r\nQUIT\r\nPUBLISH c1.quit x\r\nPING\r\n"
        assert_equal "+PONG\r\n+OK\r\n" [raw_read_eof $fd]
        assert_equal 0 [r publish c1.quit y]
    }

    test "QUIT from a subscriber closes it and drops its subscriptions" {
        set c [pubsub_client]
        subscribe $c {c2.chan}
        $c quit
        assert_equal OK [$c read]
        wait_for_condition 100 20 {
            [r pubsub numsub c2.chan] eq {c2.chan 0}
        } else {
            fail "subscription survived QUIT: [r pubsub numsub c2.chan]"
        }
    }

    test "RESET replies +RESET and clears the client name" {
        set c [redis_client]
        assert_equal OK [$c client setname c3name]
        assert_equal c3name [$c client getname]
        assert_equal RESET [$c reset]
        assert_equal + [$c last_type]
        assert_equal "" [$c client getname]
    }

    test "RESET returns to RESP2" {
        set fd [raw_connect]
        raw_send $fd "HELLO 3\r\n"
        raw_read_until $fd {modules\r\n\*0\r\n$}
        raw_send $fd "PUBSUB NUMSUB\r\nCONFIG GET timeout\r\n"
        # Maps are % in RESP3 ...
        raw_expect $fd "*0\r\n%1\r\n\$7\r\ntimeout\r\n"
        raw_read_until $fd {^\$[0-9]+\r\n[0-9]+\r\n$}
        raw_send $fd "RESET\r\nCLIENT GETNAME\r\n"
        # ... and a null is $-1 again after RESET.
        raw_expect $fd "+RESET\r\n\$-1\r\n"
    }

    test "RESET leaves every subscription and allows normal commands" {
        set c [pubsub_client]
        subscribe $c {c4.a c4.b}
        psubscribe $c {c4.*}
        ssubscribe $c {c4.s}
        $c reset
        assert_equal RESET [$c read]
        wait_for_condition 100 20 {
            [r pubsub numsub c4.a c4.b] eq {c4.a 0 c4.b 0} &&
            [r pubsub numpat] == 0 &&
            [r pubsub shardnumsub c4.s] eq {c4.s 0}
        } else {
            fail "subscriptions survived RESET"
        }
        $c echo after-reset
        assert_equal after-reset [$c read]
        assert_equal 0 [r publish c4.a x]
    }

    test "RESET of a RESP3 subscriber answers +RESET, then RESP2 replies" {
        set c [pubsub_client 3]
        subscribe $c {c5.chan}
        $c reset
        assert_equal RESET [$c read]
        assert_equal + [$c last_type]
        $c client getname
        assert_equal "" [$c read]
        assert_equal \$ [$c last_type]
    }

    test "RESET discards a MULTI in progress" {
        set c [redis_client]
        assert_equal OK [$c multi]
        assert_equal QUEUED [$c publish c6.chan queued]
        assert_equal RESET [$c reset]
        assert_error "ERR EXEC without MULTI" {$c exec}
        assert_equal 0 [r publish c6.chan x]
    }

    test "RESET goes back to database 0 and turns replies back on" {
        set fd [raw_connect]
        raw_send $fd "SELECT 7\r\nCLIENT REPLY OFF\r\nPING\r\nRESET\r\nPING\r\n"
        raw_expect $fd "+OK\r\n+RESET\r\n+PONG\r\n"
        raw_send $fd "CLIENT INFO\r\n"
        set info [raw_read_until $fd {\n\r\n$}]
        assert_match "* db=0 *" $info
    }

    test "RESET takes no arguments" {
        assert_error "ERR wrong number of arguments for 'reset' command" {r reset x}
    }

    # -----------------------------------------------------------------
    # HELLO
    # -----------------------------------------------------------------

    test "HELLO without arguments replies in RESP2 with the server fields" {
        set c [redis_client]
        set id [$c client id]
        set reply [$c hello]
        assert_equal * [$c last_type]
        assert_equal {server version proto id mode role modules} \
            [dict keys $reply]
        assert_equal redis [dict get $reply server]
        assert_match {[0-9]*.[0-9]*.[0-9]*} [dict get $reply version]
        assert_equal 2 [dict get $reply proto]
        assert_equal $id [dict get $reply id]
        assert_equal standalone [dict get $reply mode]
        assert_equal master [dict get $reply role]
        assert_equal {} [dict get $reply modules]
    }

    test "HELLO reply types are exact (RESP2 and RESP3)" {
        set fd [raw_connect]
        raw_send $fd "CLIENT ID\r\n"
        set id [string range [raw_read_until $fd {^:[0-9]+\r\n$}] 1 end-2]
        raw_send $fd "HELLO 2\r\n"
        assert_match "*" [raw_read_until $fd [hello_regexp 2 $id]]
        raw_send $fd "HELLO 3\r\n"
        assert_match "*" [raw_read_until $fd [hello_regexp 3 $id]]
        raw_send $fd "HELLO\r\n"
        assert_match "*" [raw_read_until $fd [hello_regexp 3 $id]]
    }

    test "HELLO 3 switches to RESP3: the reply is a map" {
        set c [redis_client]
        set reply [$c hello 3]
        assert_equal % [$c last_type]
        assert_equal 3 [dict get $reply proto]
        assert_equal [$c client id] [dict get $reply id]
        # A map reply proves the switch.
        $c config get timeout
        assert_equal % [$c last_type]
        set reply [$c hello 2]
        assert_equal * [$c last_type]
        assert_equal 2 [dict get $reply proto]
    }

    test "HELLO with an unsupported protocol version" {
        assert_error "NOPROTO unsupported protocol version" {r hello 4}
        assert_error "NOPROTO unsupported protocol version" {r hello 1}
        assert_error "NOPROTO unsupported protocol version" {r hello 0}
        assert_error "ERR Protocol version is not an integer or out of range" {r hello abc}
        set fd [raw_connect]
        raw_send $fd "HELLO 4\r\n"
        raw_expect $fd "-NOPROTO unsupported protocol version\r\n"
        # The failed HELLO left the protocol alone.
        raw_send $fd "CLIENT GETNAME\r\n"
        raw_expect $fd "\$-1\r\n"
    }

    test "HELLO 3 SETNAME sets the client name" {
        set c [redis_client]
        $c hello 3 setname c7name
        assert_equal c7name [$c client getname]
        $c hello 2 setname c7second setname c7third
        assert_equal c7third [$c client getname]
    }

    test "HELLO option errors" {
        assert_error "ERR Syntax error in HELLO option 'foo'" {r hello 3 foo}
        assert_error "ERR Syntax error in HELLO option 'auth'" {r hello 3 auth default}
        assert_error "ERR Syntax error in HELLO option 'setname'" {r hello 3 setname}
        assert_error "ERR Client names cannot contain spaces, newlines or special characters." {
            r hello 3 setname "a b"
        }
        # None of them changed the protocol of the default client.
        r client getname
        assert_equal \$ [[srv client] last_type]
    }

    test "HELLO 3 then SUBSCRIBE: confirmations are pushes" {
        set c [pubsub_client 3]
        $c subscribe c8.chan
        assert_equal {subscribe c8.chan 1} [$c read]
        assert_equal > [$c last_type]
        # In RESP3 a subscriber may run any command; PING is +PONG.
        $c ping
        assert_equal PONG [$c read]
        assert_equal + [$c last_type]
    }

    # -----------------------------------------------------------------
    # MULTI / EXEC / DISCARD
    # -----------------------------------------------------------------

    tags {multi} {
        test "MULTI/EXEC with PUBLISH returns the array of receiver counts" {
            set c [pubsub_client]
            subscribe $c {c9.chan}
            assert_equal OK [r multi]
            assert_equal QUEUED [r publish c9.chan one]
            assert_equal QUEUED [r publish c9.other two]
            assert_equal QUEUED [r publish c9.chan three]
            assert_equal QUEUED [r ping]
            # Nothing was delivered while queued.
            assert_no_pending $c "while queued"
            assert_equal {1 0 1 PONG} [r exec]
            assert_equal {message c9.chan one} [$c read]
            assert_equal {message c9.chan three} [$c read]
        }

        test "MULTI/EXEC raw reply bytes" {
            set fd [raw_connect]
            raw_send $fd "MULTI\r\nPUBLISH c10.none x\r\nECHO y\r\nEXEC\r\n"
            raw_expect $fd "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:0\r\n\$1\r\ny\r\n"
        }

        test "Nested MULTI is an error that keeps the transaction" {
            assert_equal OK [r multi]
            assert_error "ERR MULTI calls can not be nested" {r multi}
            assert_equal QUEUED [r echo still]
            assert_equal {still} [r exec]
        }

        test "EXEC and DISCARD without MULTI are errors" {
            assert_error "ERR EXEC without MULTI" {r exec}
            assert_error "ERR DISCARD without MULTI" {r discard}
        }

        test "DISCARD drops the queued commands" {
            set c [pubsub_client]
            subscribe $c {c11.chan}
            assert_equal OK [r multi]
            assert_equal QUEUED [r publish c11.chan dropped]
            assert_equal OK [r discard]
            assert_error "ERR EXEC without MULTI" {r exec}
            assert_equal 1 [r publish c11.chan kept]
            assert_equal {message c11.chan kept} [$c read]
        }

        test "An unknown command inside MULTI makes EXEC fail with EXECABORT" {
            set c [pubsub_client]
            subscribe $c {c12.chan}
            assert_equal OK [r multi]
            assert_equal QUEUED [r publish c12.chan lost]
            assert_error "ERR unknown command 'nosuch', with args beginning with: " {r nosuch}
            assert_equal QUEUED [r publish c12.chan lost2]
            assert_error "EXECABORT Transaction discarded because of previous errors." {r exec}
            assert_equal 1 [r publish c12.chan after]
            assert_equal {message c12.chan after} [$c read]
        }

        test "An arity error inside MULTI makes EXEC fail with EXECABORT" {
            assert_equal OK [r multi]
            assert_error "ERR wrong number of arguments for 'publish' command" {r publish c13}
            assert_error "EXECABORT Transaction discarded because of previous errors." {r exec}
            assert_error "ERR EXEC without MULTI" {r exec}
        }

        test "MULTI takes no arguments" {
            assert_error "ERR wrong number of arguments for 'multi' command" {r multi x}
            assert_error "ERR EXEC without MULTI" {r exec}
        }
    }

    # -----------------------------------------------------------------
    # RESP3 reply types
    # -----------------------------------------------------------------

    test "RESP3 reply types: CONFIG GET map, PUBSUB arrays, null, verbatim" {
        set c [redis_client]
        $c hello 3
        assert_equal {port} [dict keys [$c config get port]]
        assert_equal % [$c last_type]
        assert_equal {c14.a 0} [$c pubsub numsub c14.a]
        assert_equal * [$c last_type]
        assert_equal {} [$c pubsub channels c14.*]
        assert_equal * [$c last_type]
        assert_equal 0 [$c pubsub numpat]
        assert_equal : [$c last_type]
        assert_equal "" [$c client getname]
        assert_equal _ [$c last_type]
        assert_match "id=*" [$c client info]
        assert_equal = [$c last_type]
        assert_match "*# Server*" [$c info server]
        assert_equal = [$c last_type]
    }

    test "RESP3 null and verbatim reply bytes" {
        set fd [raw_connect]
        raw_send $fd "HELLO 3\r\n"
        raw_read_until $fd {modules\r\n\*0\r\n$}
        raw_send $fd "CLIENT GETNAME\r\nCLIENT INFO\r\n"
        set got [raw_read_until $fd {\n\r\n$}]
        assert_match "_\r\n=*\r\ntxt:id=*\n\r\n" $got
        # The verbatim length covers "txt:" and the line.
        regexp {^_\r\n=([0-9]+)\r\n(.*)\r\n$} $got -> len body
        assert_equal $len [string length $body]
    }

    # -----------------------------------------------------------------
    # TIME, DBSIZE, FLUSHALL, FLUSHDB, LASTSAVE
    # -----------------------------------------------------------------

    test "TIME returns seconds and microseconds as two bulk strings" {
        set before [clock seconds]
        lassign [r time] sec usec
        assert_equal 2 [llength [r time]]
        assert_range $sec [expr {$before - 2}] [expr {[clock seconds] + 2}]
        assert_range $usec 0 999999
        assert [string is digit -strict $usec]
        set fd [raw_connect]
        raw_send $fd "TIME\r\n"
        raw_read_until $fd {^\*2\r\n\$[0-9]+\r\n[0-9]+\r\n\$[0-9]+\r\n[0-9]+\r\n$}
        assert_error "ERR wrong number of arguments for 'time' command" {r time x}
    }

    proc time_us {} {
        lassign [r time] sec usec
        return [expr {wide($sec) * 1000000 + $usec}]
    }

    test "TIME moves forward" {
        set t1 [time_us]
        wait_for_condition 100 5 {
            [time_us] > $t1
        } else {
            fail "TIME did not move"
        }
    }

    test "DBSIZE is 0" {
        assert_equal 0 [r dbsize]
        assert_equal : [[srv client] last_type]
        assert_error "ERR wrong number of arguments for 'dbsize' command" {r dbsize x}
    }

    test "FLUSHALL and FLUSHDB reply OK, with ASYNC or SYNC" {
        foreach cmd {flushall flushdb} {
            assert_equal OK [r $cmd]
            assert_equal OK [r $cmd async]
            assert_equal OK [r $cmd sync]
            assert_equal OK [r $cmd ASYNC]
            assert_error "ERR syntax error" {r $cmd foo}
            assert_error "ERR syntax error" {r $cmd sync x}
        }
        assert_equal 0 [r dbsize]
    }

    test "FLUSHALL does not touch subscriptions" {
        set c [pubsub_client]
        subscribe $c {c15.chan}
        assert_equal OK [r flushall]
        assert_equal 1 [r publish c15.chan still]
        assert_equal {message c15.chan still} [$c read]
    }

    test "LASTSAVE is an integer" {
        set t [r lastsave]
        assert_equal : [[srv client] last_type]
        assert [string is wide -strict $t]
        assert_range $t 0 [expr {[clock seconds] + 5}]
        assert_error "ERR wrong number of arguments for 'lastsave' command" {r lastsave x}
    }

    test "The server is back to a clean state" {
        assert_server_clean
    }
}
