# glob.tcl -- Glob matching as PSUBSCRIBE and PUBSUB CHANNELS see it.
#
# The cases live in tests/assets/glob-cases.txt (shared with the C unit
# tests); every expected value there comes from redis-server 7.0. Each case
# is checked twice: PSUBSCRIBE pattern + PUBLISH channel (1 or 0 receivers,
# and the pmessage), and PUBSUB CHANNELS pattern with the channel subscribed.
# A failure lists every failing case by its line number in the file.

# Returns a list of {line pattern channel expected}.
proc load_glob_cases {path} {
    set fd [open $path r]
    fconfigure $fd -translation binary
    set data [read $fd]
    close $fd
    set cases {}
    set lineno 0
    foreach line [split $data "\n"] {
        incr lineno
        if {$line eq "" || [string index $line 0] eq "#"} continue
        set fields [split $line "\t"]
        if {[llength $fields] != 3 || [lindex $fields 2] ni {0 1}} {
            error "glob-cases.txt:$lineno: expected PATTERN<TAB>CHANNEL<TAB>0|1"
        }
        lassign $fields pattern channel expected
        lappend cases [list $lineno [decode_escapes $pattern] [decode_escapes $channel] $expected]
    }
    return $cases
}

proc describe_case {lineno pattern channel} {
    return "line $lineno: pattern [show $pattern] channel [show $channel]"
}

set ::glob_cases [load_glob_cases [file join $::root tests assets glob-cases.txt]]

start_server {tags {glob pubsub}} {

    test "The glob table has at least 80 cases, matching and not" {
        assert_morethan_equal [llength $::glob_cases] 80
        set ones 0
        foreach c $::glob_cases {incr ones [lindex $c 3]}
        assert_morethan $ones 20
        assert_lessthan $ones [expr {[llength $::glob_cases] - 20}]
    }

    test "Glob table: PSUBSCRIBE pattern + PUBLISH channel" {
        set c [pubsub_client]
        set errors {}
        foreach case $::glob_cases {
            lassign $case lineno pattern channel expected
            psubscribe $c [list $pattern]
            set got [r publish $channel payload]
            if {$got != $expected} {
                lappend errors "[describe_case $lineno $pattern $channel]: PUBLISH returned $got, expected $expected"
            }
            if {$got == 1} {
                set frame [$c read]
                if {$frame ne [list pmessage $pattern $channel payload]} {
                    lappend errors "[describe_case $lineno $pattern $channel]: got frame [show $frame]"
                }
            }
            assert_equal {0} [punsubscribe $c [list $pattern]]
        }
        if {[llength $errors]} {
            fail "[llength $errors] case(s) differ:\n    [join $errors "\n    "]"
        }
    }

    test "Glob table: PUBSUB CHANNELS pattern with the channel subscribed" {
        set c [pubsub_client]
        set errors {}
        foreach case $::glob_cases {
            lassign $case lineno pattern channel expected
            subscribe $c [list $channel]
            set got [r pubsub channels $pattern]
            set want [expr {$expected ? [list $channel] : {}}]
            if {$got ne $want} {
                lappend errors "[describe_case $lineno $pattern $channel]: PUBSUB CHANNELS gave [show $got], expected [show $want]"
            }
            assert_equal {0} [unsubscribe $c [list $channel]]
        }
        if {[llength $errors]} {
            fail "[llength $errors] case(s) differ:\n    [join $errors "\n    "]"
        }
    }

    test "Glob table: all patterns subscribed at once, one PUBLISH per channel" {
        # The same cases with every pattern held at the same time, so a
        # server that indexes its patterns must still find exactly the
        # matching ones.
        set c [pubsub_client]
        set patterns {}
        foreach case $::glob_cases {
            set p [lindex $case 1]
            if {$p ni $patterns} {lappend patterns $p}
        }
        psubscribe $c $patterns
        assert_equal [llength $patterns] [r pubsub numpat]
        set channels {}
        foreach case $::glob_cases {
            set ch [lindex $case 2]
            if {$ch ni $channels} {lappend channels $ch}
        }
        set errors {}
        foreach ch $channels {
            # Expected: the patterns the table says match this channel, when
            # the table has the pair; pairs it lacks are not judged here.
            set want {}
            set known {}
            foreach case $::glob_cases {
                lassign $case lineno pattern channel expected
                if {$channel ne $ch} continue
                lappend known $pattern
                if {$expected} {lappend want $pattern}
            }
            set n [r publish $ch payload]
            set got {}
            for {set i 0} {$i < $n} {incr i} {
                set frame [$c read]
                lappend got [lindex $frame 1]
            }
            set got_known {}
            foreach p $got {
                if {$p in $known} {lappend got_known $p}
            }
            if {[lsort $got_known] ne [lsort $want]} {
                lappend errors "channel [show $ch]: matching patterns [show [lsort $got_known]], expected [show [lsort $want]]"
            }
        }
        if {[llength $errors]} {
            fail "[llength $errors] channel(s) differ:\n    [join $errors "\n    "]"
        }
    }

    test "Many patterns: PUBLISH counts exactly the matching ones" {
        set c [pubsub_client]
        set patterns {}
        for {set i 0} {$i < 300} {incr i} {lappend patterns "g.p$i*"}
        lappend patterns "g.*" "*" "g.p1?x" "g.\[p\]12x" "h.*"
        psubscribe $c $patterns
        # g.p12x matches g.p1* g.p12* g.* * g.p1?x g.[p]12x.
        assert_equal 6 [r publish g.p12x hello]
        set got {}
        for {set i 0} {$i < 6} {incr i} {lappend got [lindex [$c read] 1]}
        assert_equal [lsort {g.p1* g.p12* g.* * g.p1?x g.[p]12x}] [lsort $got]
        assert_equal 2 [r publish g.q hello]
        set got [list [lindex [$c read] 1] [lindex [$c read] 1]]
        assert_equal {* g.*} [lsort $got]
        assert_no_pending $c
    }

    test "Pathological pattern against a 10 kB channel returns promptly" {
        set pattern [string repeat "a*" 16]b
        set channel [string repeat a 10240]
        set c [pubsub_client]
        psubscribe $c [list $pattern]
        set start [clock milliseconds]
        assert_equal 0 [r publish $channel x]
        set elapsed [expr {[clock milliseconds] - $start}]
        assert_lessthan $elapsed 1000 "PUBLISH took $elapsed ms"
        # The same pattern in PUBSUB CHANNELS, with the long channel held.
        set s [pubsub_client]
        subscribe $s [list $channel]
        set start [clock milliseconds]
        assert_equal {} [r pubsub channels $pattern]
        set elapsed [expr {[clock milliseconds] - $start}]
        assert_lessthan $elapsed 1000 "PUBSUB CHANNELS took $elapsed ms"
        # And it still matches when the string allows it.
        assert_equal 1 [r publish "[string repeat a 1000]b" x]
        assert_equal [list pmessage $pattern "[string repeat a 1000]b" x] [$c read]
    }

    test "Pathological patterns with ? and sets return promptly" {
        set c [pubsub_client]
        set patterns [list \
            [string repeat "*?" 16]b \
            [string repeat "\[a\]*" 16]b \
            [string repeat "*a" 30]]
        psubscribe $c $patterns
        set channel [string repeat a 10240]
        set start [clock milliseconds]
        # Only the last pattern matches a string of a's.
        assert_equal 1 [r publish $channel x]
        set elapsed [expr {[clock milliseconds] - $start}]
        assert_lessthan $elapsed 1000 "PUBLISH took $elapsed ms"
        assert_equal [list pmessage [lindex $patterns 2] $channel x] [$c read]
    }

    test "The server is back to a clean state" {
        assert_server_clean
    }
}
