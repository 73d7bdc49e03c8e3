# history.tcl -- Channel history read through the Streams commands (issue 11,
# memory-only part). Everything here needs PUBLISH to append to a stream,
# which Redis cannot do, so the blocks are tagged `ours`. Reply formats are
# not pinned by hand: the comparison test XADDs the very ids our server
# generated on a redis-server it starts (/usr/bin/redis-server) and compares
# the replies byte for byte, RESP2 and RESP3, errors included.

proc hist_resp {args} {
    set out "*[llength $args]\r\n"
    foreach a $args {append out "\$[string length $a]\r\n$a\r\n"}
    return $out
}

proc hist_connect {port {proto 2}} {
    set fd [socket 127.0.0.1 $port]
    fconfigure $fd -translation binary -blocking 1
    if {$proto == 3} {hist_cmd $fd HELLO 3}
    return $fd
}

# One whole reply, as bytes.
proc hist_reply {fd} {
    set line "[gets $fd]\n"
    set t [string index $line 0]
    set n [string range $line 1 end-2]
    switch -- $t {
        "\$" {
            if {$n < 0} {return $line}
            return "$line[read $fd [expr {$n + 2}]]"
        }
        "*" - "%" - "~" - ">" {
            if {$n < 0} {return $line}
            set m [expr {$t eq "%" ? 2 * $n : $n}]
            set out $line
            for {set i 0} {$i < $m} {incr i} {append out [hist_reply $fd]}
            return $out
        }
        default {return $line}
    }
}

proc hist_cmd {fd args} {
    puts -nonewline $fd [hist_resp {*}$args]
    flush $fd
    return [hist_reply $fd]
}

start_server {tags {history ours} overrides {
    channel-history {"h.*" 5}
    channel-history {"age.*" 100 1}
    channel-history {"m.*" 1000}
}} {
    test {PUBLISH to a channel with history appends entries with increasing ids} {
        set ids {}
        for {set i 0} {$i < 5} {incr i} {r publish h.inc "m$i"}
        set range [r xrange h.inc - +]
        assert_equal 5 [llength $range]
        set prev {0 0}
        foreach e $range {
            lassign [split [lindex $e 0] -] ms seq
            lassign $prev pms pseq
            assert {$ms > $pms || ($ms == $pms && $seq > $pseq)}
            set prev [list $ms $seq]
            assert_equal message [lindex $e 1 0]
        }
        assert_equal {m0 m1 m2 m3 m4} [lmap e $range {lindex $e 1 1}]
    }

    test {A channel without history answers as a missing key} {
        r publish nohist x
        assert_equal {} [r xrange nohist - +]
        assert_equal 0 [r xlen nohist]
        assert_error {ERR no such key} {r xinfo stream nohist}
        set fd [hist_connect [srv port]]
        assert_equal "*-1\r\n" [hist_cmd $fd XREAD STREAMS nohist 0]
        assert_equal "*-1\r\n" [hist_cmd $fd XREAD BLOCK 10 STREAMS nohist 0]
        close $fd
        assert_error {ERR XADD needs a channel with history*} {r xadd nohist * message x}
    }

    test {XADD <channel> * message <payload> publishes and answers the id} {
        set sub [hist_connect [srv port]]
        puts -nonewline $sub [hist_resp SUBSCRIBE h.xadd]
        flush $sub
        hist_reply $sub
        set id [r xadd h.xadd * message hello]
        assert_match {*-*} $id
        assert_equal "*3\r\n\$7\r\nmessage\r\n\$6\r\nh.xadd\r\n\$5\r\nhello\r\n" [hist_reply $sub]
        assert_equal [list [list $id {message hello}]] [r xrange h.xadd - +]
        assert_error {ERR only XADD <channel> * message <payload>*} {r xadd h.xadd 1-1 message x}
        assert_error {ERR only XADD*} {r xadd h.xadd * other x}
        assert_error {ERR only XADD*} {r xadd h.xadd * message x extra y}
        close $sub
    }

    test {Trimming by count keeps the last max-messages entries} {
        for {set i 0} {$i < 8} {incr i} {r publish h.count "c$i"}
        assert_equal 5 [r xlen h.count]
        assert_equal {c3 c4 c5 c6 c7} [lmap e [r xrange h.count - +] {lindex $e 1 1}]
        set info [r xinfo stream h.count]
        assert_equal 8 [dict get $info entries-added]
    }

    test {Trimming by age drops entries older than max-seconds} {
        r publish age.x old
        assert_equal 1 [r xlen age.x]
        wait_for_condition 100 50 {[r xlen age.x] == 0} else {fail "entry never aged out"}
        # The stream stays (as Redis keeps an emptied stream), ids keep growing.
        set info [r xinfo stream age.x]
        assert_equal 0 [dict get $info length]
        assert_equal 1 [dict get $info entries-added]
    }

    test {channel-history-max-memory evicts the oldest entries across histories} {
        for {set i 0} {$i < 50} {incr i} {r publish m.a [string repeat a 100]; r publish m.b [string repeat b 100]}
        set before [info_field [r info history] history_evictions]
        r config set channel-history-max-memory 4000
        set after [info_field [r info history] history_evictions]
        assert {$after > $before}
        assert {[info_field [r info history] history_bytes] <= 4000}
        # Oldest first: both channels lost their old entries, the newest stay.
        assert {[r xlen m.a] < 50 && [r xlen m.b] > 0}
        r config set channel-history-max-memory 0
    }

    test {Subscribers and XREAD readers see the same messages in the same order} {
        set sub [hist_connect [srv port]]
        puts -nonewline $sub [hist_resp SUBSCRIBE m.order]
        flush $sub
        hist_reply $sub
        set rd [hist_connect [srv port]]
        puts -nonewline $rd [hist_resp XREAD BLOCK 0 STREAMS m.order \$]
        flush $rd
        wait_for_condition 100 10 {[info_field [r info clients] blocked_clients] == 1} else {fail "not blocked"}
        foreach m {one two three} {r publish m.order $m}
        set got {}
        foreach m {one two three} {lappend got [lindex [split [hist_reply $sub] "\n"] end-1]}
        set rep [hist_reply $rd]
        assert_match "*\$3\r\none\r\n" $rep
        set all [lmap e [r xrange m.order - +] {lindex $e 1 1}]
        assert_equal {one two three} $all
        assert_equal [list "one\r" "two\r" "three\r"] $got
        close $sub
        close $rd
    }

    foreach proto {2 3} {
        test "XREAD BLOCK times out with the null reply (RESP$proto)" {
            set fd [hist_connect [srv port] $proto]
            set t0 [clock milliseconds]
            set rep [hist_cmd $fd XREAD BLOCK 100 STREAMS h.none \$]
            assert {[clock milliseconds] - $t0 >= 90}
            assert_equal [expr {$proto == 3 ? "_\r\n" : "*-1\r\n"}] $rep
            close $fd
        }
    }

    test {Many blocked readers on several channels all get the next message} {
        set fds {}
        for {set i 0} {$i < 30} {incr i} {
            set fd [hist_connect [srv port] [expr {$i % 2 ? 3 : 2}]]
            puts -nonewline $fd [hist_resp XREAD COUNT 5 BLOCK 0 STREAMS h.many[expr {$i % 3}] h.other \$ \$]
            flush $fd
            lappend fds $fd
        }
        wait_for_condition 100 10 {[info_field [r info history] history_blocked_readers] == 30} else {
            fail "readers not blocked"
        }
        foreach ch {h.many0 h.many1 h.many2} {r publish $ch "to-$ch"}
        set i 0
        foreach fd $fds {
            set rep [hist_reply $fd]
            assert_match "*h.many[expr {$i % 3}]*to-h.many[expr {$i % 3}]\r\n" $rep
            assert_match [expr {$i % 2 ? "%1\r\n*" : "\*1\r\n\*2\r\n*"}] $rep
            # The connection goes on with its next command.
            assert_equal "+PONG\r\n" [hist_cmd $fd PING]
            close $fd
            incr i
        }
        assert_equal 0 [info_field [r info clients] blocked_clients]
    }

    test {A reader that disconnects while blocked is forgotten} {
        set fd [hist_connect [srv port]]
        puts -nonewline $fd [hist_resp XREAD BLOCK 0 STREAMS h.gone \$]
        flush $fd
        wait_for_condition 100 10 {[info_field [r info clients] blocked_clients] == 1} else {fail "not blocked"}
        close $fd
        wait_for_condition 100 10 {[info_field [r info clients] blocked_clients] == 0} else {fail "still blocked"}
        assert_equal 0 [r publish h.gone x]
        assert_equal 1 [r xlen h.gone]
    }

    test {CLIENT UNBLOCK ends a blocked XREAD with TIMEOUT or ERROR} {
        foreach {how expect} [list timeout "*-1\r\n" error "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"] {
            set fd [hist_connect [srv port]]
            set id [string range [hist_cmd $fd CLIENT ID] 1 end-2]
            puts -nonewline $fd [hist_resp XREAD BLOCK 0 STREAMS h.unblock \$]
            flush $fd
            wait_for_condition 100 10 {[info_field [r info clients] blocked_clients] == 1} else {fail "not blocked"}
            assert_equal 1 [r client unblock $id $how]
            assert_equal $expect [hist_reply $fd]
            assert_equal 0 [r client unblock $id]
            close $fd
        }
        assert_equal 0 [r client unblock 999999]
    }

    test {XREAD BLOCK inside MULTI does not block} {
        set fd [hist_connect [srv port]]
        hist_cmd $fd MULTI
        hist_cmd $fd XREAD BLOCK 0 STREAMS h.multi \$
        assert_equal "*1\r\n*-1\r\n" [hist_cmd $fd EXEC]
        close $fd
    }

    test {CONFIG GET / SET channel-history} {
        assert_equal {channel-history {h.* 5 0 age.* 100 1 m.* 1000 0}} [r config get channel-history]
        r config set channel-history "h.* 5 0 age.* 100 1 m.* 1000 0 extra.* 2"
        r publish extra.x a
        assert_equal 1 [r xlen extra.x]
        r config set channel-history "h.* 5 0 age.* 100 1 m.* 1000 0"
        assert_equal 0 [r xlen extra.x]
        assert_error {*max-messages*} {r config set channel-history "x.* 0"}
        assert_match "*# History*history_rules:3*" [r info]
    }

    test {Rules starting with a literal byte, a wildcard, a set or an escape all match} {
        # The publish path skips channels whose first byte no rule can
        # start with: each kind of glob start must still be honoured.
        set keep [lindex [r config get channel-history] 1]
        foreach {rules hit miss} {
            {lit.* 10}      lit.x   Lit.x
            {?wild 10}      zwild   zwil
            {[pq]set 10}    qset    rset
            {\*esc 10}      *esc    xesc
            {* 10}          any     {}
        } {
            r config set channel-history $rules
            r publish $hit m
            assert_equal 1 [r xlen $hit] "$rules: $hit"
            if {$miss ne ""} {
                r publish $miss m
                assert_equal 0 [r xlen $miss] "$rules: $miss"
            }
            r config set channel-history "none.* 1"
        }
        r config set channel-history $keep
        assert_equal 0 [r xlen lit.x]
    }

    test {Stream commands need key permissions, XADD the channel too} {
        r acl setuser hu on nopass +@all resetkeys {%R~h.*} {~w.*} resetchannels {&h.*}
        set fd [hist_connect [srv port]]
        hist_cmd $fd AUTH hu x
        assert_equal "*" [string index [hist_cmd $fd XRANGE h.count - +] 0]
        assert_equal "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n" \
            [hist_cmd $fd XRANGE other - +]
        assert_equal "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n" \
            [hist_cmd $fd XTRIM h.count MAXLEN 0]
        assert_equal "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n" \
            [hist_cmd $fd XREAD STREAMS h.count other 0 0]
        assert_equal "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n" \
            [hist_cmd $fd XADD h.count * message x]
        close $fd
        r acl deluser hu
    }
}

# Byte-for-byte comparison with redis-server for the same entries.
set ::hist_oracle /usr/bin/redis-server
start_server {tags {history ours} overrides {channel-history {"c.*" 100}}} {
    if {![file executable $::hist_oracle]} {
        report "\[skip\]: no $::hist_oracle to compare with"
    } else {
        set oport [find_available_port]
        set odir [proc_dir]
        set opid [exec $::hist_oracle --port $oport --bind 127.0.0.1 --save "" --appendonly no --dir $odir \
                      > [file join $odir out.log] 2>@1 &]
        wait_for_condition 200 20 {[proc_port_open $oport]} else {fail "redis-server did not start"}

        test {Replies match redis-server byte for byte (RESP2 and RESP3)} {
            foreach proto {2 3} {
            foreach m {alpha beta gamma delta} {r publish c.p$proto $m}
            set ids [lmap e [r xrange c.p$proto - +] {lindex $e 0}]
            set o [hist_connect $oport]
            foreach id $ids m {alpha beta gamma delta} {hist_cmd $o XADD c.p$proto $id message $m}
            close $o
            lassign $ids i1 i2 i3 i4
            set ms2 [lindex [split $i2 -] 0]
            set cmds [list \
                {XRANGE c.cmp - +} {XREVRANGE c.cmp + -} [list XRANGE c.cmp ($i1 +] [list XRANGE c.cmp - ($i4] \
                {XRANGE c.cmp - + COUNT 2} {XREVRANGE c.cmp + - COUNT 1} {XRANGE c.cmp - + COUNT 0} \
                {XRANGE c.cmp - + COUNT -3} [list XRANGE c.cmp $ms2 $ms2] [list XRANGE c.cmp $i3 $i2] \
                {XRANGE c.cmp ( +} {XRANGE c.cmp abc +} {XRANGE c.cmp - + COUNT} {XRANGE c.cmp - + COUNT x} \
                {XRANGE c.cmp - (0-0} {XRANGE c.cmp (18446744073709551615-18446744073709551615 +} \
                {XRANGE missing - +} {XLEN c.cmp} {XLEN missing} \
                {XREAD STREAMS c.cmp 0} [list XREAD COUNT 1 STREAMS c.cmp missing $i1 0] \
                {XREAD STREAMS missing 0} {XREAD STREAMS c.cmp $} {XREAD STREAMS c.cmp c.cmp 0} \
                {XREAD STREAMS c.cmp >} {XREAD COUNT x STREAMS c.cmp 0} {XREAD BLOCK -1 STREAMS c.cmp 0} \
                {XREAD BLOCK x STREAMS c.cmp 0} {XREAD FOO STREAMS c.cmp 0} {XREAD STREAMS c.cmp bad} \
                {XINFO STREAM c.cmp} {XINFO STREAM c.cmp FULL} {XINFO STREAM c.cmp FULL COUNT 2} \
                {XINFO STREAM c.cmp FOO} {XINFO STREAM missing} {XINFO GROUPS c.cmp} {XINFO GROUPS missing} \
                {XINFO CONSUMERS c.cmp g} {XINFO HELP} {XINFO FOO c.cmp} \
                {XTRIM c.cmp MAXLEN x} {XTRIM c.cmp MAXLEN -1} {XTRIM c.cmp MAXLEN 1 LIMIT 5} \
                {XTRIM c.cmp MAXLEN ~ 1 LIMIT -1} {XTRIM c.cmp MINID abc} {XTRIM c.cmp FOO 1} \
                {XTRIM c.cmp MAXLEN 1 MINID 1} {XTRIM missing MAXLEN 0} {XTRIM c.cmp MAXLEN ~ 1} \
                {XDEL c.cmp abc} {XDEL missing 1-1} [list XDEL c.cmp $i2 9-9] {XINFO STREAM c.cmp} \
                [list XTRIM c.cmp MINID $i4] {XINFO STREAM c.cmp} {XTRIM c.cmp MAXLEN 0} {XINFO STREAM c.cmp} \
                {XRANGE c.cmp - +} {XREAD STREAMS c.cmp 0} \
            ]
                set us [hist_connect [srv port] $proto]
                set them [hist_connect $oport $proto]
                foreach c $cmds {
                    set c [string map [list c.cmp c.p$proto] $c]
                    set a [hist_cmd $us {*}$c]
                    set b [hist_cmd $them {*}$c]
                    if {$a ne $b} {
                        fail "RESP$proto $c:\n ours  [escape_bytes $a]\n redis [escape_bytes $b]"
                    }
                }
                close $us
                close $them
            }
        }

        catch {exec kill $opid}
        file delete -force $odir
    }
}
