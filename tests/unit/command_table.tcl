# command_table.tcl -- COMMAND, COMMAND INFO and COMMAND DOCS against Redis
# 7.2.6's own replies (tests/assets/redis72/): for every command in the
# captures, in RESP2 and RESP3, our reply must be the same bytes, except
# that subcommands (Redis sends them in its dict's order, which changes from
# one start to the next) are compared as a set. Also COMMAND COUNT, LIST and
# the full COMMAND reply agree with each other, and COMMAND GETKEYS.
#
# Tagged redis72: Debian's redis-server 7.0 answers these with 7.0's data
# (no display_text in DOCS, other summaries, flags and tips), so the tests
# are skipped against it.

set ::redis72_assets [file join $::root tests assets redis72]

# ---- A RESP3/RESP2 reader over a byte string ----
# A value is {TYPE VALUE}: TYPE is the RESP type byte; VALUE is the text of
# a scalar, or the list of elements of an aggregate (a map's keys and values
# alternate). Returns {value next_index}; errors with "incomplete" when the
# bytes end inside the value.
proc resp_read_value {data i} {
    set eol [string first "\r\n" $data $i]
    if {$eol < 0} {error incomplete}
    set type [string index $data $i]
    set line [string range $data [expr {$i + 1}] [expr {$eol - 1}]]
    set i [expr {$eol + 2}]
    switch -exact -- $type {
        + - - - : - _ - # - , {return [list [list $type $line] $i]}
        $ - = {
            if {$line < 0} {return [list [list $type ""] $i]}
            set end [expr {$i + $line}]
            if {$end + 2 > [string length $data]} {error incomplete}
            return [list [list $type [string range $data $i [expr {$end - 1}]]] [expr {$end + 2}]]
        }
        * - ~ - % - > {
            if {$line < 0} {return [list [list $type ""] $i]}
            set n [expr {$type eq "%" ? 2 * $line : $line}]
            set elems {}
            for {set k 0} {$k < $n} {incr k} {
                lassign [resp_read_value $data $i] v i
                lappend elems $v
            }
            return [list [list $type $elems] $i]
        }
        default {error "bad RESP type '$type' at byte $i"}
    }
}

# The entries of a capture file: a list of {header reply}.
proc redis72_entries {file} {
    set data [read_file_bytes [file join $::redis72_assets $file]]
    set out {}
    set i 0
    while {$i < [string length $data]} {
        set nl [string first "\n" $data $i]
        set header [string range $data $i [expr {$nl - 1}]]
        lassign [resp_read_value $data [expr {$nl + 1}]] reply i
        incr i    ;# the newline after each reply
        lappend out $header $reply
    }
    return $out
}

# Sends cmd on the raw connection fd and returns the parsed reply.
proc raw_call {fd cmd} {
    raw_send $fd "$cmd\r\n"
    set data ""
    set deadline [expr {[clock milliseconds] + 10000}]
    while 1 {
        append data [read $fd]
        if {![catch {resp_read_value $data 0} res]} {
            lassign $res value end
            if {$end != [string length $data]} {error "trailing bytes after the reply to $cmd"}
            return $value
        }
        if {$res ne "incomplete"} {error $res}
        if {[eof $fd]} {error "connection closed during the reply to $cmd"}
        set left [expr {$deadline - [clock milliseconds]}]
        if {$left <= 0 || ![::redis::raw_wait $fd $left]} {error "no complete reply to $cmd"}
    }
}

# Canonical forms: subcommands sorted, everything else as received.
proc canon_info_entry {entry} {
    lassign $entry type fields
    lassign [lindex $fields 9] stype subs
    set sorted {}
    foreach s $subs {lappend sorted [canon_info_entry $s]}
    lset fields 9 [list $stype [lsort $sorted]]
    return [list $type $fields]
}

proc canon_info_reply {reply} {
    lassign $reply type entries
    set out {}
    foreach e $entries {
        lappend out [expr {[lindex $e 0] eq "*" ? [canon_info_entry $e] : $e}]
    }
    return [list $type $out]
}

# A DOCS reply or a "subcommands" value: name/doc pairs, sorted when asked.
proc canon_docs_map {map sort} {
    lassign $map type elems
    set pairs {}
    foreach {name doc} $elems {
        lassign $doc dtype fields
        set out {}
        foreach {k v} $fields {
            if {[lindex $k 1] eq "subcommands"} {set v [canon_docs_map $v 1]}
            lappend out $k $v
        }
        lappend pairs [list $name [list $dtype $out]]
    }
    if {$sort} {set pairs [lsort $pairs]}
    return [list $type [concat {*}$pairs]]
}

start_server {tags {introspection redis72}} {
    foreach proto {2 3} {
        test "COMMAND INFO of every command is Redis 7.2.6's (RESP$proto)" {
            set fd [raw_connect]
            raw_call $fd "HELLO $proto"
            set n 0
            foreach {header want} [redis72_entries command-info.resp$proto] {
                set name [lindex $header end]
                set got [raw_call $fd "COMMAND INFO $name"]
                assert_equal [canon_info_reply $want] [canon_info_reply $got] "COMMAND INFO $name"
                incr n
            }
            assert_morethan $n 30
        }

        test "COMMAND DOCS of every command is Redis 7.2.6's (RESP$proto)" {
            set fd [raw_connect]
            raw_call $fd "HELLO $proto"
            set n 0
            foreach {header want} [redis72_entries command-docs.resp$proto] {
                set name [lindex $header end]
                set got [raw_call $fd "COMMAND DOCS $name"]
                assert_equal [canon_docs_map $want 0] [canon_docs_map $got 0] "COMMAND DOCS $name"
                incr n
            }
            assert_morethan $n 30
        }

        test "COMMAND INFO of a subcommand by its full name is its entry (RESP$proto)" {
            set fd [raw_connect]
            raw_call $fd "HELLO $proto"
            foreach {header want} [redis72_entries command-info.resp$proto] {
                lassign [lindex $want 1 0] _ fields
                foreach sub [lindex $fields 9 1] {
                    set name [lindex $sub 1 0 1]
                    set got [raw_call $fd "COMMAND INFO $name"]
                    assert_equal [list * [list [canon_info_entry $sub]]] [canon_info_reply $got] $name
                }
            }
        }
    }

    test "COMMAND, COMMAND INFO and COMMAND DOCS without names cover the same commands" {
        set fd [raw_connect]
        raw_call $fd "HELLO 3"
        set all [canon_info_reply [raw_call $fd "COMMAND"]]
        assert_equal $all [canon_info_reply [raw_call $fd "COMMAND INFO"]]
        set names {}
        foreach e [lindex $all 1] {lappend names [lindex $e 1 0 1]}
        set docs [raw_call $fd "COMMAND DOCS"]
        set doc_names {}
        foreach {k v} [lindex $docs 1] {lappend doc_names [lindex $k 1]}
        assert_equal [lsort $names] [lsort $doc_names]
        # Each entry of the full reply is the one COMMAND INFO name gives.
        foreach e [lindex $all 1] {
            set name [lindex $e 1 0 1]
            assert_equal [list * [list $e]] [canon_info_reply [raw_call $fd "COMMAND INFO $name"]] $name
        }
    }

    test "COMMAND COUNT and COMMAND LIST agree with COMMAND" {
        set all [r command]
        assert_equal [llength $all] [r command count]
        set names {}
        foreach e $all {
            lappend names [lindex $e 0]
            foreach s [lindex $e 9] {lappend names [lindex $s 0]}
        }
        assert_equal [lsort $names] [lsort [r command list]]
        # Every command of the captures is served, and nothing else.
        set captured {}
        foreach {header want} [redis72_entries command-info.resp2] {lappend captured [lindex $header end]}
        # MONITOR is served too; the 7.2 captures lack it, so its data is
        # 7.0.15's (utils/command-meta-extra.resp3); so are the stream
        # commands that read channel histories.
        lappend captured monitor xadd xdel xinfo xlen xrange xread xrevrange xtrim
        set top {}
        foreach e $all {lappend top [lindex $e 0]}
        assert_equal [lsort $captured] [lsort $top]
    } {ours}

    test "COMMAND LIST FILTERBY ACLCAT lists commands and subcommands of the category" {
        set got [lsort [r command list filterby aclcat pubsub]]
        assert {"publish" in $got && "pubsub|numsub" in $got} $got
        assert {"ping" ni $got && "pubsub" ni $got} $got
    }

    test "COMMAND GETKEYS: the shard channels are not keys; unknown commands" {
        # SPUBLISH's key spec is flagged not_key, which GETKEYS leaves out.
        assert_error "ERR The command has no key arguments" {r command getkeys spublish ch msg}
        assert_error "ERR The command has no key arguments" {r command getkeys ssubscribe a b}
        assert_error "ERR The command has no key arguments" {r command getkeysandflags spublish ch msg}
        assert_error "ERR Invalid command specified" {r command getkeys nosuchcmd x}
        # 7.2 lowered GETKEYS' arity to -3 (7.0: -4).
        assert_error "ERR The command has no key arguments" {r command getkeys ping}
        assert_error "ERR wrong number of arguments for 'command|getkeys' command" {r command getkeys}
    }

    test "LATENCY GRAPH: no event has samples" {
        assert_error "ERR No samples available for event 'command'" {r latency graph command}
    }
}
