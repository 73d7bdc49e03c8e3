# pubsub.tcl -- SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH and
# PUBSUB, checked against the replies Redis 7.0 gives, in RESP2 and RESP3.
#
# Subscribers are deferring clients (pubsub_client); the default client `r`
# publishes and inspects. Each test uses its own channel names, so a client
# closed at the end of one test (asynchronously, on the server side) cannot
# disturb the next.

start_server {tags {pubsub}} {

    # The frame type byte of pub/sub messages for a protocol version.
    proc push_type {resp} {
        return [expr {$resp == 3 ? ">" : "*"}]
    }

    test "PUBLISH to a channel without subscribers returns 0" {
        assert_equal 0 [r publish nobody.listens hello]
    }

    foreach resp {2 3} {

        test "SUBSCRIBE confirms each channel with a running count (RESP$resp)" {
            set c [pubsub_client $resp]
            $c subscribe s1.a s1.b s1.c
            assert_equal {subscribe s1.a 1} [$c read]
            assert_equal [push_type $resp] [$c last_type]
            assert_equal {subscribe s1.b 2} [$c read]
            assert_equal {subscribe s1.c 3} [$c read]
            assert_equal {s1.a 1 s1.b 1 s1.c 1} [r pubsub numsub s1.a s1.b s1.c]
        }

        test "SUBSCRIBE confirmation and message frames are exact bytes (RESP$resp)" {
            set c [pubsub_client $resp]
            set fd [$c channel]
            $c subscribe s2.chan
            raw_expect $fd [confirm_bytes $resp subscribe s2.chan 1]
            assert_equal 1 [r publish s2.chan payload]
            raw_expect $fd [message_bytes $resp s2.chan payload]
            $c psubscribe s2.*
            raw_expect $fd [confirm_bytes $resp psubscribe s2.* 2]
            assert_equal 2 [r publish s2.chan again]
            raw_expect $fd [message_bytes $resp s2.chan again]
            raw_expect $fd [pmessage_bytes $resp s2.* s2.chan again]
            $c unsubscribe s2.chan
            raw_expect $fd [confirm_bytes $resp unsubscribe s2.chan 1]
            $c punsubscribe s2.*
            raw_expect $fd [confirm_bytes $resp punsubscribe s2.* 0]
        }

        test "PUBLISH delivers a message to every subscriber and returns the count (RESP$resp)" {
            set c1 [pubsub_client $resp]
            set c2 [pubsub_client $resp]
            assert_equal {1 2} [subscribe $c1 {s3.news s3.sport}]
            assert_equal {1} [subscribe $c2 {s3.news}]
            assert_equal 2 [r publish s3.news hello]
            assert_equal 1 [r publish s3.sport goal]
            assert_equal {message s3.news hello} [$c1 read]
            assert_equal [push_type $resp] [$c1 last_type]
            assert_equal {message s3.sport goal} [$c1 read]
            assert_equal {message s3.news hello} [$c2 read]
            assert_equal 0 [r publish s3.weather rain]
        }

        test "UNSUBSCRIBE from some channels counts down (RESP$resp)" {
            set c [pubsub_client $resp]
            assert_equal {1 2 3} [subscribe $c {s4.a s4.b s4.c}]
            assert_equal {2 1} [unsubscribe $c {s4.a s4.b}]
            assert_equal 0 [r publish s4.a x]
            assert_equal 1 [r publish s4.c x]
            assert_equal {message s4.c x} [$c read]
        }

        test "UNSUBSCRIBE without arguments leaves every channel (RESP$resp)" {
            set c [pubsub_client $resp]
            subscribe $c {s5.a s5.b s5.c}
            $c unsubscribe
            set names {}
            set counts {}
            for {set i 0} {$i < 3} {incr i} {
                lassign [$c read] kind name count
                assert_equal unsubscribe $kind
                lappend names $name
                lappend counts $count
            }
            # Redis walks its own hash table: the order of names is not fixed.
            assert_equal {s5.a s5.b s5.c} [lsort $names]
            assert_equal {2 1 0} $counts
            assert_equal 0 [r publish s5.a x]
            assert_equal {s5.a 0 s5.b 0 s5.c 0} [r pubsub numsub s5.a s5.b s5.c]
        }

        test "UNSUBSCRIBE and PUNSUBSCRIBE with nothing subscribed reply a null name and 0 (RESP$resp)" {
            set c [pubsub_client $resp]
            set fd [$c channel]
            $c unsubscribe
            raw_expect $fd [confirm_bytes $resp unsubscribe "" 0 1]
            $c punsubscribe
            raw_expect $fd [confirm_bytes $resp punsubscribe "" 0 1]
            # Not in subscribed mode: PING gets the ordinary reply.
            $c ping
            raw_expect $fd "+PONG\r\n"
        }

        test "UNSUBSCRIBE of a channel not subscribed echoes it with the current count (RESP$resp)" {
            set c [pubsub_client $resp]
            assert_equal {1} [subscribe $c {s6.real}]
            assert_equal {1} [unsubscribe $c {s6.never}]
            assert_equal {1} [punsubscribe $c {s6.nope*}]
            assert_equal 1 [r publish s6.real still-here]
            assert_equal {message s6.real still-here} [$c read]
        }

        test "PSUBSCRIBE confirms each pattern and PUBLISH sends pmessage frames (RESP$resp)" {
            set c [pubsub_client $resp]
            assert_equal {1 2} [psubscribe $c {s7.news.* s7.sport.?}]
            assert_equal 1 [r publish s7.news.uk hi]
            assert_equal {pmessage s7.news.* s7.news.uk hi} [$c read]
            assert_equal [push_type $resp] [$c last_type]
            assert_equal 1 [r publish s7.sport.x go]
            assert_equal {pmessage s7.sport.? s7.sport.x go} [$c read]
            assert_equal 0 [r publish s7.sport.xy no]
            assert_equal 0 [r publish s7.news no]
        }

        test "PUNSUBSCRIBE without arguments leaves every pattern (RESP$resp)" {
            set c [pubsub_client $resp]
            psubscribe $c {s8.a* s8.b* s8.c*}
            assert_equal 3 [r pubsub numpat]
            $c punsubscribe
            set names {}
            set counts {}
            for {set i 0} {$i < 3} {incr i} {
                lassign [$c read] kind name count
                assert_equal punsubscribe $kind
                lappend names $name
                lappend counts $count
            }
            assert_equal {s8.a* s8.b* s8.c*} [lsort $names]
            assert_equal {2 1 0} $counts
            assert_equal 0 [r pubsub numpat]
            assert_equal 0 [r publish s8.abc x]
        }

        test "A client matching by channel and by pattern gets both frames, counted twice (RESP$resp)" {
            set c [pubsub_client $resp]
            subscribe $c {s9.foo}
            psubscribe $c {s9.f*}
            assert_equal 2 [r publish s9.foo bar]
            # Channel subscribers are served before pattern subscribers.
            assert_equal {message s9.foo bar} [$c read]
            assert_equal {pmessage s9.f* s9.foo bar} [$c read]
            assert_equal 1 [r publish s9.fun x]
            assert_equal {pmessage s9.f* s9.fun x} [$c read]
        }

        test "RESET leaves subscribed mode and drops all subscriptions (RESP$resp)" {
            set c [pubsub_client $resp]
            subscribe $c {s10.chan}
            psubscribe $c {s10.*}
            $c reset
            assert_equal RESET [$c read]
            assert_equal {s10.chan 0} [r pubsub numsub s10.chan]
            assert_equal 0 [r publish s10.chan x]
            # RESET also returns the connection to RESP2.
            set fd [$c channel]
            $c unsubscribe
            raw_expect $fd [confirm_bytes 2 unsubscribe "" 0 1]
            $c ping
            raw_expect $fd "+PONG\r\n"
        }

        test "QUIT in subscribed mode replies +OK and closes the connection (RESP$resp)" {
            set c [pubsub_client $resp]
            subscribe $c {s11.chan}
            $c quit
            assert_equal "+OK\r\n" [raw_read_eof [$c channel]]
            wait_for_condition 100 20 {[lindex [r pubsub numsub s11.chan] 1] == 0} else {
                fail "the subscription of a client that sent QUIT is still there"
            }
        }
    }

    test "Several matching patterns send one pmessage each" {
        set c [pubsub_client]
        psubscribe $c {s12.* *.ab s12.ab s12.??}
        assert_equal 4 [r publish s12.ab msg]
        set frames {}
        for {set i 0} {$i < 4} {incr i} {lappend frames [$c read]}
        assert_equal [lsort {
            {pmessage s12.* s12.ab msg} {pmessage *.ab s12.ab msg}
            {pmessage s12.ab s12.ab msg} {pmessage s12.?? s12.ab msg}
        }] [lsort $frames]
        assert_no_pending $c
    }

    test "Subscription counts add channels and patterns together" {
        set c [pubsub_client]
        assert_equal {1} [subscribe $c {s13.a}]
        assert_equal {2} [psubscribe $c {s13.p*}]
        assert_equal {3} [subscribe $c {s13.b}]
        assert_equal {2} [unsubscribe $c {s13.a}]
        assert_equal {1} [punsubscribe $c {s13.p*}]
        assert_equal {0} [unsubscribe $c {s13.b}]
    }

    test "UNSUBSCRIBE without arguments keeps the pattern subscriptions" {
        set c [pubsub_client]
        set fd [$c channel]
        psubscribe $c {s14.p*}
        subscribe $c {s14.a}
        $c unsubscribe
        raw_expect $fd [confirm_bytes 2 unsubscribe s14.a 1]
        # Nothing left to leave: a null name, and the count still has the pattern.
        $c unsubscribe
        raw_expect $fd [confirm_bytes 2 unsubscribe "" 1 1]
        assert_equal 1 [r publish s14.pa x]
        raw_expect $fd [pmessage_bytes 2 s14.p* s14.pa x]
        $c punsubscribe
        raw_expect $fd [confirm_bytes 2 punsubscribe s14.p* 0]
    }

    test "SUBSCRIBE to the same channel twice counts it once" {
        set c [pubsub_client]
        assert_equal {1 1} [subscribe $c {s15.dup s15.dup}]
        assert_equal {1} [subscribe $c {s15.dup}]
        assert_equal {s15.dup 1} [r pubsub numsub s15.dup]
        assert_equal 1 [r publish s15.dup once]
        assert_equal {message s15.dup once} [$c read]
        assert_no_pending $c
        assert_equal {0} [unsubscribe $c {s15.dup}]
    }

    test "PSUBSCRIBE to the same pattern twice counts it once" {
        set c [pubsub_client]
        assert_equal {1 1} [psubscribe $c {s16.* s16.*}]
        assert_equal 1 [r pubsub numpat]
        assert_equal 1 [r publish s16.x once]
        assert_equal {pmessage s16.* s16.x once} [$c read]
        assert_no_pending $c
    }

    test "Messages arrive in publish order (1000 messages)" {
        set c [pubsub_client]
        subscribe $c {s17.seq}
        psubscribe $c {s17.s*}
        for {set i 0} {$i < 1000} {incr i} {
            assert_equal 2 [r publish s17.seq $i]
        }
        for {set i 0} {$i < 1000} {incr i} {
            assert_equal [list message s17.seq $i] [$c read]
            assert_equal [list pmessage s17.s* s17.seq $i] [$c read]
        }
        assert_no_pending $c
    }

    test "Messages from pipelined PUBLISH commands arrive in order" {
        set c [pubsub_client]
        subscribe $c {s18.pipe}
        set p [redis_deferring_client]
        for {set i 0} {$i < 500} {incr i} {
            $p write [::redis::encode [list publish s18.pipe msg-$i]]
        }
        $p flush
        for {set i 0} {$i < 500} {incr i} {
            assert_equal 1 [$p read]
        }
        for {set i 0} {$i < 500} {incr i} {
            assert_equal [list message s18.pipe msg-$i] [$c read]
        }
    }

    test "Channel names and payloads are binary safe (all 256 byte values)" {
        set bytes [all_bytes]
        set channel "s19\x00\r\n$bytes"
        set payload "[string reverse $bytes]\r\n\x00end"
        set c [pubsub_client]
        assert_equal {1} [subscribe $c [list $channel]]
        psubscribe $c [list "s19\x00\r\n*"]
        assert_equal 2 [r publish $channel $payload]
        assert_equal [list message $channel $payload] [$c read]
        assert_equal [list pmessage "s19\x00\r\n*" $channel $payload] [$c read]
        assert_equal [list $channel 1] [r pubsub numsub $channel]
        assert_equal [list $channel] [r pubsub channels "s19\x00*"]
    }

    test "Binary-safe frames are exact bytes" {
        set c [pubsub_client]
        set fd [$c channel]
        set channel "s20\xff\x00\r\n"
        $c subscribe $channel
        raw_expect $fd [confirm_bytes 2 subscribe $channel 1]
        assert_equal 1 [r publish $channel "\r\n\x00\xff"]
        raw_expect $fd [message_bytes 2 $channel "\r\n\x00\xff"]
    }

    test "Empty channel name and empty payload" {
        set c [pubsub_client]
        set fd [$c channel]
        $c subscribe ""
        raw_expect $fd [confirm_bytes 2 subscribe "" 1]
        assert_equal 1 [r publish "" ""]
        raw_expect $fd "*3\r\n\$7\r\nmessage\r\n\$0\r\n\r\n\$0\r\n\r\n"
        assert_equal {{} 1} [r pubsub numsub ""]
        assert_equal 1 [llength [r pubsub channels]]
        $c unsubscribe ""
        raw_expect $fd [confirm_bytes 2 unsubscribe "" 0]
    }

    test "An empty pattern matches only the empty channel" {
        set c [pubsub_client]
        assert_equal {1} [psubscribe $c [list ""]]
        assert_equal 0 [r publish x payload]
        assert_equal 1 [r publish "" payload]
        assert_equal {pmessage {} {} payload} [$c read]
    }

    test "A 1 MiB payload is delivered intact" {
        set block [random_bytes 1024]
        set payload [string repeat $block 1024]
        assert_equal 1048576 [string length $payload]
        set c [pubsub_client]
        subscribe $c {s21.big}
        assert_equal 1 [r publish s21.big $payload]
        set frame [$c read]
        assert_equal {message s21.big} [lrange $frame 0 1]
        assert_equal 1048576 [string length [lindex $frame 2]]
        assert {[lindex $frame 2] eq $payload} "payload differs"
        assert_no_pending $c
    }

    test "A message reaches 50 subscribers" {
        set clients {}
        for {set i 0} {$i < 50} {incr i} {
            set c [pubsub_client]
            subscribe $c {s22.fan}
            lappend clients $c
        }
        assert_equal {s22.fan 50} [r pubsub numsub s22.fan]
        assert_equal 50 [r publish s22.fan hello]
        foreach c $clients {
            assert_equal {message s22.fan hello} [$c read]
        }
    }

    test "SUBSCRIBE to 1000 channels in one command" {
        set c [pubsub_client]
        set channels {}
        for {set i 0} {$i < 1000} {incr i} {lappend channels s23.ch:$i}
        set expected {}
        for {set i 1} {$i <= 1000} {incr i} {lappend expected $i}
        assert_equal $expected [subscribe $c $channels]
        assert_equal 1000 [llength [r pubsub channels s23.ch:*]]
        assert_equal {s23.ch:0 1 s23.ch:999 1 s23.ch:1000 0} \
            [r pubsub numsub s23.ch:0 s23.ch:999 s23.ch:1000]
        assert_equal 1 [r publish s23.ch:500 x]
        assert_equal {message s23.ch:500 x} [$c read]
        $c unsubscribe
        set counts {}
        for {set i 0} {$i < 1000} {incr i} {lappend counts [lindex [$c read] 2]}
        assert_equal [lreverse [lrange [linsert $expected 0 0] 0 end-1]] $counts
        assert_equal {} [r pubsub channels s23.ch:*]
    }

    test "PUBSUB CHANNELS lists channels with subscribers, filtered by a pattern" {
        set c1 [pubsub_client]
        set c2 [pubsub_client]
        subscribe $c1 {s24.a s24.b}
        subscribe $c2 {s24.b s24.other}
        # Patterns are not channels.
        psubscribe $c2 {s24.*}
        assert_equal {s24.a s24.b s24.other} [lsort [r pubsub channels s24.*]]
        assert_equal {s24.a s24.b} [lsort [r pubsub channels s24.?]]
        assert_equal {s24.other} [r pubsub channels *other]
        assert_equal {} [r pubsub channels nomatch*]
        assert_equal {s24.a s24.b s24.other} [lsort [lsearch -all -inline [r pubsub channels] s24.*]]
        unsubscribe $c1 {s24.a}
        assert_equal {s24.b s24.other} [lsort [r pubsub channels s24.*]]
        unsubscribe $c1 {s24.b}
        assert_equal {s24.b s24.other} [lsort [r pubsub channels s24.*]]
    }

    test "PUBSUB NUMSUB counts channel subscribers only" {
        set c1 [pubsub_client]
        set c2 [pubsub_client]
        set c3 [pubsub_client]
        subscribe $c1 {s25.a}
        subscribe $c2 {s25.a s25.b}
        psubscribe $c3 {s25.*}
        assert_equal {s25.a 2 s25.b 1 s25.zzz 0} [r pubsub numsub s25.a s25.b s25.zzz]
        assert_equal {s25.a 2 s25.a 2} [r pubsub numsub s25.a s25.a]
        assert_equal {} [r pubsub numsub]
        assert_equal 3 [r publish s25.a x]
    }

    foreach resp {2 3} {
        test "PUBSUB NUMSUB replies a flat array, also in RESP3 (RESP$resp)" {
            set c [pubsub_client $resp]
            set fd [$c channel]
            $c pubsub numsub s26.a s26.b
            raw_expect $fd "*4\r\n[bulk_bytes s26.a]:0\r\n[bulk_bytes s26.b]:0\r\n"
            $c pubsub numsub
            raw_expect $fd "*0\r\n"
            $c pubsub numpat
            raw_expect $fd ":0\r\n"
            $c pubsub channels s26.*
            raw_expect $fd "*0\r\n"
        }
    }

    test "PUBSUB NUMPAT counts distinct patterns" {
        set c1 [pubsub_client]
        set c2 [pubsub_client]
        psubscribe $c1 {s27.a* s27.b*}
        psubscribe $c2 {s27.a*}
        assert_equal 2 [r pubsub numpat]
        assert_equal 2 [r publish s27.axe x]
        assert_equal {pmessage s27.a* s27.axe x} [$c1 read]
        assert_equal {pmessage s27.a* s27.axe x} [$c2 read]
        punsubscribe $c1 {s27.a*}
        assert_equal 2 [r pubsub numpat]
        punsubscribe $c2 {s27.a*}
        assert_equal 1 [r pubsub numpat]
    }

    test "PUBSUB HELP replies status lines describing the subcommands" {
        set help [r pubsub help]
        assert_equal "PUBSUB <subcommand> \[<arg> \[value\] \[opt\] ...\]. Subcommands are:" [lindex $help 0]
        foreach sub {CHANNELS NUMPAT NUMSUB SHARDCHANNELS SHARDNUMSUB HELP} {
            assert {[lsearch -glob $help "$sub*"] > 0} "no line for $sub"
        }
        assert_match "*Prints this help*" [lindex $help end]
        # Every line is a status reply.
        set fd [raw_connect]
        raw_send $fd "PUBSUB HELP\r\n"
        set header [raw_read $fd [string length "*[llength $help]\r\n"]]
        assert_equal "*[llength $help]\r\n" $header
        foreach line $help {
            raw_expect $fd "+$line\r\n"
        }
    }

    test "PUBSUB errors: arity and unknown subcommands" {
        assert_error "ERR wrong number of arguments for 'pubsub' command" {r pubsub}
        assert_error "ERR unknown subcommand 'foo'. Try PUBSUB HELP." {r pubsub foo}
        assert_error "ERR unknown subcommand 'FOO'. Try PUBSUB HELP." {r pubsub FOO}
        assert_error "ERR unknown subcommand or wrong number of arguments for 'channels'. Try PUBSUB HELP." \
            {r pubsub channels a b}
        assert_error "ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP." \
            {r pubsub CHANNELS a b}
        assert_error "ERR wrong number of arguments for 'pubsub|numpat' command" {r pubsub numpat x}
        assert_error "ERR wrong number of arguments for 'pubsub|help' command" {r pubsub help x}
        assert_equal PONG [r ping]
    }

    test "PUBLISH, SUBSCRIBE and PSUBSCRIBE arity errors" {
        assert_error "ERR wrong number of arguments for 'publish' command" {r publish}
        assert_error "ERR wrong number of arguments for 'publish' command" {r publish onlychannel}
        assert_error "ERR wrong number of arguments for 'publish' command" {r publish a b c}
        assert_error "ERR wrong number of arguments for 'publish' command" {r PUBLISH a}
        assert_error "ERR wrong number of arguments for 'subscribe' command" {r subscribe}
        assert_error "ERR wrong number of arguments for 'psubscribe' command" {r psubscribe}
        assert_equal PONG [r ping]
    }

    test "RESP2 subscribed mode refuses other commands with Redis's exact error" {
        set c [pubsub_client]
        subscribe $c {s28.chan}
        foreach {cmd name} {
            {publish s28.chan x} publish
            {PUBLISH s28.chan x} publish
            {echo hello} echo
            {select 1} select
            {pubsub channels} pubsub|channels
            {PUBSUB NUMSUB s28.chan} pubsub|numsub
            {hello 3} hello
        } {
            $c {*}$cmd
            assert_error "ERR Can't execute '$name': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context" {
                $c read
            } $cmd
        }
        # Still subscribed, still in RESP2.
        assert_equal 1 [r publish s28.chan after]
        assert_equal {message s28.chan after} [$c read]
        assert_equal * [$c last_type]
    }

    test "RESP2 subscribed mode with only patterns refuses other commands too" {
        set c [pubsub_client]
        psubscribe $c {s29.*}
        $c echo hello
        assert_error "ERR Can't execute 'echo': *" {$c read}
        punsubscribe $c {s29.*}
        # Back out of subscribed mode once nothing is left.
        $c echo hello
        assert_equal hello [$c read]
    }

    test "RESP2 subscribed mode: unknown commands still get the unknown command error" {
        set c [pubsub_client]
        subscribe $c {s30.chan}
        $c nosuchcommand arg1 arg2
        assert_error "ERR unknown command 'nosuchcommand', with args beginning with: 'arg1' 'arg2' " {$c read}
        $c ping a b
        assert_error "ERR wrong number of arguments for 'ping' command" {$c read}
    }

    test "RESP2 subscribed mode: PING replies pong and the argument or an empty string" {
        set c [pubsub_client]
        set fd [$c channel]
        subscribe $c {s31.chan}
        $c ping
        raw_expect $fd "*2\r\n\$4\r\npong\r\n\$0\r\n\r\n"
        $c ping hello
        raw_expect $fd "*2\r\n\$4\r\npong\r\n\$5\r\nhello\r\n"
        $c PING "\x00\r\n"
        raw_expect $fd "*2\r\n\$4\r\npong\r\n\$3\r\n\x00\r\n\r\n"
    }

    test "RESP3: confirmations and messages are push frames, PING replies PONG" {
        set c [pubsub_client 3]
        set fd [$c channel]
        subscribe $c {s32.chan}
        $c ping
        raw_expect $fd "+PONG\r\n"
        $c ping hello
        raw_expect $fd "\$5\r\nhello\r\n"
        assert_equal 1 [r publish s32.chan m]
        raw_expect $fd ">3\r\n\$7\r\nmessage\r\n\$8\r\ns32.chan\r\n\$1\r\nm\r\n"
    }

    test "RESP3: any command works while subscribed" {
        set c [pubsub_client 3]
        subscribe $c {s33.chan}
        $c echo hello
        assert_equal hello [$c read]
        $c pubsub numsub s33.chan
        assert_equal {s33.chan 1} [$c read]
        $c select 1
        assert_equal OK [$c read]
        $c publish s33.other x
        assert_equal 0 [$c read]
        assert_equal : [$c last_type]
    }

    # Redis 7.0 queues the push before the reply; 7.2 (redis#12326) sends
    # the reply first, then the push.
    test "RESP3: publishing to a channel we are subscribed to replies first, then pushes" {
        set c [pubsub_client 3]
        set fd [$c channel]
        subscribe $c {s34.self}
        $c publish s34.self me
        raw_expect $fd ":1\r\n>3\r\n\$7\r\nmessage\r\n\$8\r\ns34.self\r\n\$2\r\nme\r\n"
    } redis72

    test "RESP2 and RESP3 subscribers of one channel each get their own framing" {
        set c2 [pubsub_client 2]
        set c3 [pubsub_client 3]
        subscribe $c2 {s35.mixed}
        subscribe $c3 {s35.mixed}
        psubscribe $c3 {s35.*}
        assert_equal 3 [r publish s35.mixed both]
        raw_expect [$c2 channel] [message_bytes 2 s35.mixed both]
        raw_expect [$c3 channel] [message_bytes 3 s35.mixed both]
        raw_expect [$c3 channel] [pmessage_bytes 3 s35.* s35.mixed both]
    }

    test "Inline commands subscribe and ping too" {
        set fd [raw_connect]
        raw_send $fd "SUBSCRIBE s36.inline\r\nPING\r\n"
        raw_expect $fd [confirm_bytes 2 subscribe s36.inline 1]
        raw_expect $fd "*2\r\n\$4\r\npong\r\n\$0\r\n\r\n"
        assert_equal 1 [r publish s36.inline "hi there"]
        raw_expect $fd [message_bytes 2 s36.inline "hi there"]
    }

    test "Pipelined SUBSCRIBE, PSUBSCRIBE and UNSUBSCRIBE in one write" {
        set fd [raw_connect]
        raw_send $fd [join [list \
            [::redis::encode {subscribe s37.a s37.b}] \
            [::redis::encode {psubscribe s37.*}] \
            [::redis::encode {unsubscribe s37.a}] \
            [::redis::encode {ping}]] ""]
        raw_expect $fd [confirm_bytes 2 subscribe s37.a 1][confirm_bytes 2 subscribe s37.b 2]
        raw_expect $fd [confirm_bytes 2 psubscribe s37.* 3][confirm_bytes 2 unsubscribe s37.a 2]
        raw_expect $fd "*2\r\n\$4\r\npong\r\n\$0\r\n\r\n"
    }

    test "A client that disconnects loses its subscriptions" {
        set c [pubsub_client]
        subscribe $c {s38.a s38.b}
        psubscribe $c {s38.p*}
        assert_equal {s38.a 1 s38.b 1} [r pubsub numsub s38.a s38.b]
        set before [r pubsub numpat]
        $c close
        wait_for_condition 100 20 {
            [r pubsub numsub s38.a s38.b] eq {s38.a 0 s38.b 0} &&
            [r pubsub numpat] == $before - 1
        } else {
            fail "subscriptions of a closed client are still there: [r pubsub numsub s38.a s38.b]"
        }
        assert_equal 0 [r publish s38.a x]
        assert_equal 0 [r publish s38.px x]
    }

    test "MULTI/EXEC with PUBLISH inside" {
        set c [pubsub_client]
        subscribe $c {s39.tx}
        assert_equal OK [r multi]
        assert_equal QUEUED [r publish s39.tx one]
        assert_equal QUEUED [r publish s39.tx two]
        assert_equal QUEUED [r publish s39.nobody three]
        assert_equal {1 1 0} [r exec]
        assert_equal {message s39.tx one} [$c read]
        assert_equal {message s39.tx two} [$c read]
    } {multi}

    test "SELECT does not scope pub/sub: subscribe in db 1, publish from db 0" {
        set c [pubsub_client]
        $c select 1
        assert_equal OK [$c read]
        subscribe $c {s40.chan}
        assert_equal 1 [r publish s40.chan from-db0]
        assert_equal {message s40.chan from-db0} [$c read]
        assert_equal OK [r select 9]
        assert_equal 1 [r publish s40.chan from-db9]
        assert_equal OK [r select 0]
        assert_equal {message s40.chan from-db9} [$c read]
    }

    # -----------------------------------------------------------------
    # Publishing to ourselves: the reply, then the pushes (Redis 7.2)
    # -----------------------------------------------------------------

    # Redis 7.0 writes the pushes a command makes for its own client
    # before that command's reply (inside EXEC's array, too); 7.2
    # (redis#12326) holds them until the reply, or all of EXEC's, is out.
    tags {redis72} {
        test "RESP3: a subscriber by channel and pattern gets both pushes after the reply" {
            set c [pubsub_client 3]
            set fd [$c channel]
            subscribe $c {s42.both}
            psubscribe $c {s42.*}
            $c publish s42.both twice
            raw_expect $fd ":2\r\n[message_bytes 3 s42.both twice][pmessage_bytes 3 s42.* s42.both twice]"
            $c publish s42.other once
            raw_expect $fd ":1\r\n[pmessage_bytes 3 s42.* s42.other once]"
        }

        test "RESP3: pipelined PUBLISH to self, each reply before its own pushes" {
            set c [pubsub_client 3]
            set fd [$c channel]
            subscribe $c {s43.pipe}
            psubscribe $c {s43.p*}
            raw_send $fd [::redis::encode {PUBLISH s43.pipe 1}][::redis::encode {PUBLISH s43.pipe 2}][::redis::encode {SPUBLISH s43.pipe 3}][::redis::encode {PING}]
            set want ":2\r\n[message_bytes 3 s43.pipe 1][pmessage_bytes 3 s43.p* s43.pipe 1]"
            append want ":2\r\n[message_bytes 3 s43.pipe 2][pmessage_bytes 3 s43.p* s43.pipe 2]"
            append want ":0\r\n+PONG\r\n"
            raw_expect $fd $want
        }

        test "RESP3: inside MULTI, EXEC's array holds the replies and the pushes follow it" {
            # The exact bytes Redis 7.2.6 sends (shared/redis-7.2-replies).
            set c [pubsub_client 3]
            set fd [$c channel]
            subscribe $c {ch}
            raw_send $fd "MULTI\r\nPUBLISH ch x1\r\nPING\r\nEXEC\r\n"
            raw_expect $fd "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:1\r\n+PONG\r\n>3\r\n\$7\r\nmessage\r\n\$2\r\nch\r\n\$2\r\nx1\r\n"
        }

        test "RESP3: every push of a transaction follows EXEC, in publish order" {
            set c [pubsub_client 3]
            set fd [$c channel]
            subscribe $c {s44.a s44.b}
            psubscribe $c {s44.*}
            ssubscribe $c {s44.a}
            raw_send $fd "MULTI\r\nPUBLISH s44.a 1\r\nSPUBLISH s44.a 2\r\nPUBLISH s44.b 3\r\nPUBLISH s44.none 4\r\nEXEC\r\nPING\r\n"
            set want "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*4\r\n:2\r\n:1\r\n:2\r\n:1\r\n"
            append want [message_bytes 3 s44.a 1][pmessage_bytes 3 s44.* s44.a 1]
            append want [smessage_bytes 3 s44.a 2]
            append want [message_bytes 3 s44.b 3][pmessage_bytes 3 s44.* s44.b 3]
            append want [pmessage_bytes 3 s44.* s44.none 4]
            append want "+PONG\r\n"
            raw_expect $fd $want
        }

        # Frames above 512 bytes are queued by reference, smaller ones are
        # copied after the reply: sizes on both sides of that, of the 16 KiB
        # read/reply block and of 64 KiB, and 1 MiB. Each size is published
        # by a client subscribed by channel and pattern, alone, pipelined
        # and inside MULTI, while a RESP2 and a RESP3 subscriber listen.
        proc self_payload_len {kind target} {
            # The payload length n that makes the frame exactly target bytes.
            set n [expr {$target - [string length [$kind ""]] - 7}]
            if {$n < 1} {set n 1}
            while {[string length [$kind [string repeat x $n]]] < $target} {incr n}
            return $n
        }
        proc s45_message {payload} {return [message_bytes 3 s45.size $payload]}
        proc s45_pmessage {payload} {return [pmessage_bytes 3 s45.* s45.size $payload]}

        test "RESP3: publish to self at every size, never torn, reply first" {
            set sizes {1 100 1048576}
            foreach target {511 512 513 16383 16384 16385 65535 65536 65537} {
                lappend sizes [self_payload_len s45_message $target] [self_payload_len s45_pmessage $target]
            }
            set c [pubsub_client 3]
            set fd [$c channel]
            subscribe $c {s45.size}
            psubscribe $c {s45.*}
            set o2 [pubsub_client 2]
            subscribe $o2 {s45.size}
            set o3 [pubsub_client 3]
            subscribe $o3 {s45.size}
            foreach n [lsort -integer -unique $sizes] {
                set p [string range [string repeat [random_bytes 997 $n] [expr {$n / 997 + 1}]] 0 [expr {$n - 1}]]
                set pushes [s45_message $p][s45_pmessage $p]
                raw_send $fd [::redis::encode [list PUBLISH s45.size $p]]
                raw_expect $fd ":4\r\n$pushes" 20000
                raw_send $fd "[::redis::encode [list PUBLISH s45.size $p]][::redis::encode {PING}][::redis::encode [list PUBLISH s45.size $p]]"
                raw_expect $fd ":4\r\n$pushes+PONG\r\n:4\r\n$pushes" 20000
                raw_send $fd "MULTI\r\n[::redis::encode [list PUBLISH s45.size $p]]PING\r\n[::redis::encode [list PUBLISH s45.size $p]]EXEC\r\n"
                raw_expect $fd "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n:4\r\n+PONG\r\n:4\r\n$pushes$pushes" 20000
                # Five publishes: the others got every one, whole.
                for {set i 0} {$i < 5} {incr i} {
                    raw_expect [$o2 channel] [message_bytes 2 s45.size $p] 20000
                    raw_expect [$o3 channel] [message_bytes 3 s45.size $p] 20000
                }
            }
        }
    }

    test "RESP3: a client subscribed by pattern only gets its pmessage after the reply" {
        set c [pubsub_client 3]
        set fd [$c channel]
        psubscribe $c {s46.*}
        psubscribe $c {s46.x*}
        $c publish s46.xy both
        raw_expect $fd ":2\r\n[pmessage_bytes 3 s46.* s46.xy both][pmessage_bytes 3 s46.x* s46.xy both]"
    } redis72

    # -----------------------------------------------------------------
    # CLIENT REPLY OFF / SKIP silence replies, never pushes (7.0 and 7.2)
    # -----------------------------------------------------------------

    foreach resp {2 3} {
        test "CLIENT REPLY OFF: confirmations and messages still arrive (RESP$resp)" {
            set c [pubsub_client $resp]
            set fd [$c channel]
            $c client reply off
            $c subscribe s47.a s47.b
            raw_expect $fd "[confirm_bytes $resp subscribe s47.a 1][confirm_bytes $resp subscribe s47.b 2]"
            $c psubscribe s47.p*
            raw_expect $fd [confirm_bytes $resp psubscribe s47.p* 3]
            $c ssubscribe s47.sh
            raw_expect $fd [confirm_bytes $resp ssubscribe s47.sh 1]
            # A reply (PING's) is silenced: the message comes next.
            $c ping
            assert_equal 1 [r publish s47.a m1]
            raw_expect $fd [message_bytes $resp s47.a m1]
            assert_equal 1 [r publish s47.px m2]
            raw_expect $fd [pmessage_bytes $resp s47.p* s47.px m2]
            assert_equal 1 [r spublish s47.sh m3]
            raw_expect $fd [smessage_bytes $resp s47.sh m3]
            $c unsubscribe s47.a s47.b
            raw_expect $fd "[confirm_bytes $resp unsubscribe s47.a 2][confirm_bytes $resp unsubscribe s47.b 1]"
            $c punsubscribe
            raw_expect $fd [confirm_bytes $resp punsubscribe s47.p* 0]
            $c sunsubscribe
            raw_expect $fd [confirm_bytes $resp sunsubscribe s47.sh 0]
            $c client reply on
            raw_expect $fd "+OK\r\n"
            $c ping
            raw_expect $fd "+PONG\r\n"
        }

        test "CLIENT REPLY SKIP: the next reply is skipped, pushes are not (RESP$resp)" {
            set c [pubsub_client $resp]
            set fd [$c channel]
            $c client reply skip
            $c subscribe s48.a
            raw_expect $fd [confirm_bytes $resp subscribe s48.a 1]
            assert_equal 1 [r publish s48.a m1]
            raw_expect $fd [message_bytes $resp s48.a m1]
            $c unsubscribe s48.a
            raw_expect $fd [confirm_bytes $resp unsubscribe s48.a 0]
            $c client reply skip
            $c ping skipped
            $c ping kept
            raw_expect $fd [expr {$resp == 3 ? "\$4\r\nkept\r\n" : "\$4\r\nkept\r\n"}]
        }
    }

    test "RESP3: CLIENT REPLY OFF and SKIP silence PUBLISH's reply, not the push to self" {
        set c [pubsub_client 3]
        set fd [$c channel]
        subscribe $c {s49.self}
        $c client reply skip
        $c publish s49.self skipped-reply
        raw_expect $fd [message_bytes 3 s49.self skipped-reply]
        $c client reply off
        $c publish s49.self no-reply
        raw_expect $fd [message_bytes 3 s49.self no-reply]
        $c client reply on
        raw_expect $fd "+OK\r\n"
        $c publish s49.self back
        # The order of reply and push is 7.2's business: only check both came.
        set got [raw_read $fd [string length ":1\r\n[message_bytes 3 s49.self back]"]]
        assert_match "*:1\r\n*" $got
        assert_match "*[message_bytes 3 s49.self back]*" $got
    }

    test "INFO server reports redis_pubsub_version" {
        assert_match "*redis_pubsub_version:*" [r info server]
    } {ours}

    test "The server log announces readiness" {
        assert_match "*Ready to accept connections*" [read_file_bytes [srv 0 stdout]]
    } {external:skip}

    start_server {tags {external:skip}} {
        test "Two servers keep separate registries" {
            set c [pubsub_client]
            subscribe $c {s41.chan}
            assert_equal 0 [r -1 publish s41.chan x]
            assert_equal {s41.chan 0} [r -1 pubsub numsub s41.chan]
            assert_equal 1 [r publish s41.chan y]
            assert_equal {message s41.chan y} [$c read]
        }

        test "The inner server is clean" {
            assert_server_clean
        }
    }

    test "The server is back to a clean state" {
        assert_server_clean
    }
}
