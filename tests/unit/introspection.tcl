# introspection.tcl -- CLIENT (ID, SETNAME, GETNAME, LIST, INFO, KILL,
# REPLY, NO-EVICT, SETINFO, NO-TOUCH, HELP) and COMMAND (COUNT, INFO, DOCS,
# LIST): what tools like redis-cli and client libraries ask a server about
# itself and its connections.
#
# Replies were read from redis-server 7.0 first. CLIENT LIST lines are
# checked by field names and order: Redis 7.0's fields in order for every
# server, exactly Redis 7.2's plus 7.4's watch= for ours (tagged redis72).

start_server {tags {introspection}} {

    # The CLIENT LIST / CLIENT INFO fields of Redis 7.0, in order.
    set ::client_list_fields [list {*}{
        id addr laddr fd name age idle flags db sub psub ssub multi qbuf
        qbuf-free argv-mem multi-mem rbs rbp obl oll omem tot-mem events cmd
        user redir resp
    }]

    # One CLIENT LIST line as a dict (field order is kept).
    proc client_fields {line} {
        set d [dict create]
        foreach kv [split [string trim $line] " "] {
            set i [string first = $kv]
            if {$i < 0} {fail "field without '=' in [show $line]"}
            dict set d [string range $kv 0 [expr {$i - 1}]] [string range $kv [expr {$i + 1}] end]
        }
        return $d
    }

    # The CLIENT LIST entry of the client with this id, as a dict, or "".
    proc client_entry {id} {
        foreach line [split [r client list] "\n"] {
            if {[string match "id=$id *" $line]} {return [client_fields $line]}
        }
        return ""
    }

    # The ids in a CLIENT LIST reply.
    proc client_ids {text} {
        set ids {}
        foreach line [split [string trim $text] "\n"] {
            if {[regexp {^id=([0-9]+) } $line -> id]} {lappend ids $id}
        }
        return [lsort -integer $ids]
    }

    # The ids in a CLIENT LIST reply, in the reply's order.
    proc client_ids_in_order {text} {
        set ids {}
        foreach line [split [string trim $text] "\n"] {
            if {[regexp {^id=([0-9]+) } $line -> id]} {lappend ids $id}
        }
        return $ids
    }

    # The id of a deferring client (before it subscribes).
    proc deferred_id {c} {
        $c client id
        return [$c read]
    }

    # One CRLF-terminated line from a raw socket.
    proc raw_line {fd} {
        set data ""
        while {![string match "*\r\n" $data]} {
            append data [raw_read $fd 1]
        }
        return $data
    }

    proc client_gone {id} {
        return [expr {[r client list id $id] eq ""}]
    }

    # Waits until only the default client is connected.
    proc wait_alone {} {
        wait_for_condition 100 20 {
            [connected_clients] == 1
        } else {
            fail "other clients still connected: [r client list]"
        }
    }

    # -----------------------------------------------------------------
    # CLIENT ID, SETNAME, GETNAME
    # -----------------------------------------------------------------

    test "CLIENT ID is a positive integer, distinct and increasing" {
        set a [r client id]
        assert_equal : [[srv client] last_type]
        assert_morethan $a 0
        assert_equal $a [r client id]
        set c1 [redis_client]
        set c2 [redis_client]
        set id1 [$c1 client id]
        set id2 [$c2 client id]
        assert_morethan $id1 $a
        assert_morethan $id2 $id1
    }

    test "CLIENT GETNAME is null until a name is set" {
        set fd [raw_connect]
        raw_send $fd "CLIENT GETNAME\r\n"
        raw_expect $fd "\$-1\r\n"
    }

    test "CLIENT SETNAME and GETNAME" {
        set c [redis_client]
        assert_equal OK [$c client setname i1.name]
        assert_equal i1.name [$c client getname]
        assert_equal i1.name [dict get [client_entry [$c client id]] name]
        assert_equal OK [$c client setname i1.other]
        assert_equal i1.other [$c client getname]
    }

    test "CLIENT SETNAME with an empty name removes the name" {
        set fd [raw_connect]
        raw_send $fd "CLIENT SETNAME i2\r\nCLIENT SETNAME \"\"\r\nCLIENT GETNAME\r\n"
        raw_expect $fd "+OK\r\n+OK\r\n\$-1\r\n"
    }

    test "CLIENT SETNAME refuses spaces, newlines and special characters" {
        set c [redis_client]
        $c client setname i3.good
        foreach bad [list "a b" "a\nb" "a\rb" "\x01" "\x7f" "caf\xe9"] {
            assert_error "ERR Client names cannot contain spaces, newlines or special characters." {
                $c client setname $bad
            } [escape_bytes $bad]
        }
        assert_equal i3.good [$c client getname]
        assert_error "ERR wrong number of arguments for 'client|setname' command" {
            $c client setname x y
        }
    }

    # -----------------------------------------------------------------
    # CLIENT LIST and CLIENT INFO
    # -----------------------------------------------------------------

    # Is WANT a subsequence (same relative order) of HAVE?
    proc in_order {want have} {
        set i 0
        foreach h $have {
            if {$i < [llength $want] && $h eq [lindex $want $i]} {incr i}
        }
        return [expr {$i == [llength $want]}]
    }

    test "CLIENT LIST fields are Redis's, in Redis's order" {
        set line [lindex [split [string trim [r client list]] "\n"] 0]
        set keys [dict keys [client_fields $line]]
        assert [in_order $::client_list_fields $keys] "fields: $keys"
    }

    # 7.0 lacks lib-name and lib-ver (7.2) and watch (7.4, which clients
    # that parse CLIENT LIST now expect).
    test "CLIENT LIST fields are exactly Redis 7.2's, with 7.4's watch= after multi=" {
        set want [list {*}{
            id addr laddr fd name age idle flags db sub psub ssub multi watch qbuf
            qbuf-free argv-mem multi-mem rbs rbp obl oll omem tot-mem events cmd
            user redir resp lib-name lib-ver
        }]
        foreach line [split [string trim [r client list]] "\n"] {
            assert_equal $want [dict keys [client_fields $line]]
        }
        set e [client_fields [r client info]]
        assert_equal $want [dict keys $e]
        assert_equal 0 [dict get $e watch]
        set c [redis_client]
        $c multi
        $c ping
        set e [client_fields [r client list id [r client id]]]
        assert_equal $want [dict keys $e]
        $c discard
    } {redis72}

    test "CLIENT LIST runs from the oldest connection to the newest" {
        wait_alone
        set c1 [redis_client]
        set id1 [$c1 client id]
        set c2 [redis_client]
        set id2 [$c2 client id]
        set c3 [redis_client]
        set id3 [$c3 client id]
        set ids {}
        foreach line [split [string trim [r client list]] "\n"] {
            regexp {^id=([0-9]+) } $line -> id
            lappend ids $id
        }
        assert_equal [list [r client id] $id1 $id2 $id3] $ids
        # An older client leaving keeps the others in order.
        $c2 close
        wait_for_condition 100 20 {[client_gone $id2]} else {fail "client $id2 still listed"}
        set c4 [redis_client]
        set id4 [$c4 client id]
        assert_equal [list [r client id] $id1 $id3 $id4] [client_ids_in_order [r client list]]
        # With ID, in the order given, repeats included.
        assert_equal [list $id4 $id1 $id4] [client_ids_in_order [r client list id $id4 $id1 99999 $id4]]
    }

    test "CLIENT LIST: one line per client, each ending with a newline" {
        wait_alone
        set c1 [redis_client]
        set c2 [redis_client]
        # A command on each makes sure the server has accepted both.
        set id1 [$c1 client id]
        set id2 [$c2 client id]
        set text [r client list]
        assert_equal "\n" [string index $text end]
        assert_equal 3 [llength [split [string trimright $text "\n"] "\n"]]
        set want [lsort -integer [list [r client id] $id1 $id2]]
        assert_equal $want [client_ids $text]
    }

    test "CLIENT LIST describes a normal client" {
        set c [redis_client]
        $c client setname i4.normal
        $c select 3
        set id [$c client id]
        set fd [$c channel]
        set local [fconfigure $fd -sockname]
        set e [client_entry $id]
        assert_equal $id [dict get $e id]
        assert_equal "[lindex $local 0]:[lindex $local 2]" [dict get $e addr]
        assert_equal "127.0.0.1:[srv port]" [dict get $e laddr]
        assert [string is integer -strict [dict get $e fd]]
        assert_equal i4.normal [dict get $e name]
        assert [string is integer -strict [dict get $e age]]
        assert [string is integer -strict [dict get $e idle]]
        assert_equal N [dict get $e flags]
        assert_equal 3 [dict get $e db]
        assert_equal 0 [dict get $e sub]
        assert_equal 0 [dict get $e psub]
        assert_equal 0 [dict get $e ssub]
        assert_equal -1 [dict get $e multi]
        assert_equal client|id [dict get $e cmd]
        assert_equal default [dict get $e user]
        assert_equal -1 [dict get $e redir]
        assert_equal 2 [dict get $e resp]
        foreach f {qbuf qbuf-free argv-mem multi-mem rbs rbp obl oll omem tot-mem} {
            assert [string is wide -strict [dict get $e $f]] "$f=[dict get $e $f]"
        }
    }

    test "CLIENT LIST shows the caller running client|list" {
        set e [client_entry [r client id]]
        assert_equal client|list [dict get $e cmd]
        assert_equal r [dict get $e events]
    }

    test "CLIENT LIST: flags P and sub/psub/ssub counts of a subscriber" {
        set c [pubsub_client]
        set id [deferred_id $c]
        subscribe $c {i5.a i5.b}
        psubscribe $c {i5.*}
        ssubscribe $c {i5.s}
        set e [client_entry $id]
        assert_equal P [dict get $e flags]
        assert_equal 2 [dict get $e sub]
        assert_equal 1 [dict get $e psub]
        assert_equal 1 [dict get $e ssub]
        assert_equal ssubscribe [dict get $e cmd]
        unsubscribe $c {i5.a}
        set e [client_entry $id]
        assert_equal 1 [dict get $e sub]
        assert_equal unsubscribe [dict get $e cmd]
    }

    test "CLIENT LIST: a RESP3 subscriber shows resp=3 and flags P" {
        set c [pubsub_client 3]
        set id [deferred_id $c]
        subscribe $c {i6.a}
        set e [client_entry $id]
        assert_equal P [dict get $e flags]
        assert_equal 3 [dict get $e resp]
        assert_equal 1 [dict get $e sub]
    }

    test "CLIENT LIST: a client in MULTI shows flags x and the queued count" {
        set c [redis_client]
        set id [$c client id]
        $c multi
        $c ping
        $c echo x
        set e [client_entry $id]
        assert_equal x [dict get $e flags]
        assert_equal 2 [dict get $e multi]
        assert_equal {PONG x} [$c exec]
        assert_equal -1 [dict get [client_entry $id] multi]
    }

    test "CLIENT LIST TYPE pubsub and TYPE normal" {
        set sub [pubsub_client]
        set sid [deferred_id $sub]
        subscribe $sub {i7.chan}
        set psub [pubsub_client]
        set pid [deferred_id $psub]
        psubscribe $psub {i7.*}
        set normal [redis_client]
        set nid [$normal client id]
        set pubsub_ids [client_ids [r client list type pubsub]]
        assert_equal [lsort -integer [list $sid $pid]] $pubsub_ids
        set normal_ids [client_ids [r client list type normal]]
        assert {$nid in $normal_ids}
        assert {[r client id] in $normal_ids}
        assert {$sid ni $normal_ids && $pid ni $normal_ids}
        assert_equal "" [r client list type master]
        assert_equal "" [r client list type replica]
        assert_equal "" [r client list TYPE Slave]
    }

    test "CLIENT LIST TYPE errors" {
        assert_error "ERR Unknown client type 'foo'" {r client list type foo}
        assert_error "ERR syntax error" {r client list type}
        assert_error "ERR syntax error" {r client list foo}
    }

    test "CLIENT LIST ID filters by id" {
        set c1 [redis_client]
        set c2 [redis_client]
        set id1 [$c1 client id]
        set id2 [$c2 client id]
        assert_equal [list $id1] [client_ids [r client list id $id1]]
        assert_equal [lsort -integer [list $id1 $id2]] [client_ids [r client list id $id2 $id1]]
        assert_equal [list $id1] [client_ids [r client list id $id1 999999999]]
        assert_equal "" [r client list id 999999999]
        assert_error "ERR Invalid client ID" {r client list id $id1 abc}
        assert_error "ERR syntax error" {r client list id}
    }

    test "CLIENT INFO is the caller's CLIENT LIST line" {
        set c [redis_client]
        $c client setname i8.me
        set id [$c client id]
        set info [$c client info]
        assert_equal "\n" [string index $info end]
        assert_equal 1 [llength [split [string trimright $info "\n"] "\n"]]
        set e [client_fields $info]
        assert [in_order $::client_list_fields [dict keys $e]] "fields: [dict keys $e]"
        assert_equal $id [dict get $e id]
        assert_equal i8.me [dict get $e name]
        assert_equal client|info [dict get $e cmd]
        assert_equal N [dict get $e flags]
    }

    test "A RESP2 subscriber cannot run CLIENT INFO; the error names the subcommand" {
        set c [pubsub_client]
        subscribe $c {i9.chan}
        $c client info
        assert_error "ERR Can't execute 'client|info': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context" {
            $c read
        }
    }

    # -----------------------------------------------------------------
    # CLIENT KILL
    # -----------------------------------------------------------------

    test "CLIENT KILL addr (old form) replies OK and closes the client" {
        set fd [raw_connect]
        raw_send $fd "PING\r\n"
        raw_expect $fd "+PONG\r\n"
        set local [fconfigure $fd -sockname]
        set addr "[lindex $local 0]:[lindex $local 2]"
        assert_equal OK [r client kill $addr]
        assert_equal "" [raw_read_eof $fd]
    }

    test "CLIENT KILL of an unknown address (old form)" {
        assert_error "ERR No such client" {r client kill 1.2.3.4:5}
        assert_error "ERR No such client" {r client kill nonsense}
    }

    test "CLIENT KILL ID returns the number of clients killed" {
        set c [redis_client]
        set id [$c client id]
        assert_equal 1 [r client kill id $id]
        assert_equal : [[srv client] last_type]
        assert_error "*" {$c ping}
        assert_equal 0 [r client kill id $id]
        assert_equal 0 [r client kill id 999999999]
    }

    test "CLIENT KILL ADDR and LADDR (new form)" {
        wait_alone
        set fd [raw_connect]
        raw_send $fd "PING\r\n"
        raw_expect $fd "+PONG\r\n"
        set local [fconfigure $fd -sockname]
        assert_equal 1 [r client kill addr "[lindex $local 0]:[lindex $local 2]"]
        assert_equal "" [raw_read_eof $fd]
        assert_equal 0 [r client kill addr 1.2.3.4:5]
        # LADDR: every client connected to this listening address but us.
        set c1 [redis_client]
        set c2 [redis_client]
        $c1 ping
        $c2 ping
        assert_equal 2 [r client kill laddr "127.0.0.1:[srv port]"]
        assert_equal 0 [r client kill laddr 1.1.1.1:1]
        assert_equal PONG [r ping]
    }

    test "CLIENT KILL USER default kills every client but the caller" {
        wait_alone
        set c1 [redis_client]
        assert_equal PONG [$c1 ping]
        set c2 [pubsub_client]
        subscribe $c2 {i10.chan}
        assert_equal 2 [r client kill user default]
        assert_equal PONG [r ping]
        assert_error "ERR No such user 'nobody'" {r client kill user nobody}
    }

    test "CLIENT KILL TYPE pubsub kills subscribers only, and drops their subscriptions" {
        set s1 [pubsub_client]
        subscribe $s1 {i11.a i11.b}
        set s2 [pubsub_client 3]
        psubscribe $s2 {i11.*}
        set normal [redis_client]
        set nid [$normal client id]
        assert_equal {i11.a 1 i11.b 1} [r pubsub numsub i11.a i11.b]
        assert_equal 2 [r client kill type pubsub]
        wait_for_condition 100 20 {
            [r pubsub numsub i11.a i11.b] eq {i11.a 0 i11.b 0} && [r pubsub numpat] == 0
        } else {
            fail "killed subscribers still subscribed"
        }
        assert_equal 0 [r publish i11.a x]
        assert_equal PONG [$normal ping]
        assert_equal 0 [r client kill type pubsub]
        assert_equal 0 [r client kill type master]
        assert_equal 0 [r client kill type replica]
        assert_error "ERR Unknown client type 'foo'" {r client kill type foo}
    }

    test "CLIENT KILL TYPE normal spares the caller unless SKIPME no" {
        wait_alone
        set c [redis_client]
        assert_equal PONG [$c ping]
        set sub [pubsub_client]
        subscribe $sub {i12.chan}
        assert_equal 1 [r client kill type normal]
        assert_equal PONG [r ping]
        assert_equal {i12.chan 1} [r pubsub numsub i12.chan]
        assert_equal 0 [r client kill type normal skipme yes]
    }

    test "CLIENT KILL ID of the caller: SKIPME yes spares it, SKIPME no closes it" {
        set fd [raw_connect]
        raw_send $fd "CLIENT ID\r\n"
        regexp {^:([0-9]+)\r\n$} [raw_line $fd] -> id
        raw_send $fd "CLIENT KILL ID $id\r\n"
        raw_expect $fd ":0\r\n"
        raw_send $fd "CLIENT KILL ID $id SKIPME yes\r\n"
        raw_expect $fd ":0\r\n"
        raw_send $fd "CLIENT KILL ID $id SKIPME no\r\n"
        assert_equal ":1\r\n" [raw_read_eof $fd]
    }

    test "CLIENT KILL filters combine with AND" {
        set c [redis_client]
        set id [$c client id]
        assert_equal 0 [r client kill id $id type pubsub]
        assert_equal 1 [r client kill type normal id $id]
    }

    test "CLIENT KILL argument errors" {
        assert_error "ERR wrong number of arguments for 'client|kill' command" {r client kill}
        assert_error "ERR client-id should be greater than 0" {r client kill id abc}
        assert_error "ERR client-id should be greater than 0" {r client kill id 0}
        assert_error "ERR client-id should be greater than 0" {r client kill id -5}
        assert_error "ERR syntax error" {r client kill foo bar}
        assert_error "ERR syntax error" {r client kill skipme maybe}
        assert_error "ERR syntax error" {r client kill id 1 type}
        # MAXAGE is Redis 7.4's: 7.0 and 7.2 know no such filter.
        assert_error "ERR syntax error" {r client kill maxage abc}
        assert_error "ERR syntax error" {r client kill maxage 99999}
        assert_error "ERR Unknown client type 'foo'" {r client kill type foo}
        assert_error "ERR No such user 'i.nosuch'" {r client kill user i.nosuch}
        assert_error "ERR No such client" {r client kill 203.0.113.1:1}
        assert_error "ERR syntax error" {r client kill id 1 skipme no extra}
    }

    test "A subscriber killed while messages are queued for it is cleaned up" {
        set c [pubsub_client]
        set id [deferred_id $c]
        subscribe $c {i13.chan}
        for {set i 0} {$i < 100} {incr i} {
            r publish i13.chan [string repeat x 1000]
        }
        assert_equal 1 [r client kill id $id]
        wait_for_condition 100 20 {
            [client_gone $id] && [r pubsub numsub i13.chan] eq {i13.chan 0}
        } else {
            fail "killed subscriber still present"
        }
    }

    # -----------------------------------------------------------------
    # CLIENT REPLY, NO-EVICT, SETINFO, NO-TOUCH, HELP
    # -----------------------------------------------------------------

    test "CLIENT REPLY OFF silences replies until CLIENT REPLY ON" {
        set fd [raw_connect]
        raw_send $fd "CLIENT REPLY OFF\r\nPING\r\nECHO hidden\r\nPUBLISH i14 x\r\nCLIENT REPLY ON\r\nPING\r\n"
        raw_expect $fd "+OK\r\n+PONG\r\n"
        assert_equal "" [raw_read_available $fd 50]
    }

    test "CLIENT REPLY OFF still runs the commands" {
        set c [pubsub_client]
        subscribe $c {i15.chan}
        set fd [raw_connect]
        raw_send $fd "CLIENT REPLY OFF\r\nPUBLISH i15.chan silent\r\n"
        assert_equal {message i15.chan silent} [$c read]
        assert_equal "" [raw_read_available $fd 50]
    }

    test "CLIENT REPLY SKIP drops only the next reply" {
        set fd [raw_connect]
        raw_send $fd "CLIENT REPLY SKIP\r\nECHO a\r\nECHO b\r\nECHO c\r\n"
        raw_expect $fd "\$1\r\nb\r\n\$1\r\nc\r\n"
        # SKIP twice in a row, then ON: ON replies, SKIP is forgotten.
        raw_send $fd "CLIENT REPLY SKIP\r\nCLIENT REPLY ON\r\nPING\r\n"
        raw_expect $fd "+OK\r\n+PONG\r\n"
        assert_equal "" [raw_read_available $fd 50]
    }

    test "CLIENT REPLY errors" {
        assert_error "ERR syntax error" {r client reply foo}
        assert_error "ERR wrong number of arguments for 'client|reply' command" {r client reply}
        assert_equal OK [r client reply on]
    }

    # Redis 7.0 keeps NO-EVICT across RESET; 7.2 clears it (and NO-TOUCH).
    test "RESET clears NO-EVICT and NO-TOUCH" {
        set c [redis_client]
        assert_equal OK [$c client no-evict on]
        assert_equal OK [$c client no-touch on]
        assert_match "*flags=eT *" [$c client info]
        assert_equal RESET [$c reset]
        assert_match "*flags=N *" [$c client info]
    } {redis72}

    test "CLIENT NO-EVICT on and off" {
        set c [redis_client]
        assert_equal OK [$c client no-evict on]
        assert_match "*flags=e *" [$c client info]
        assert_equal OK [$c client no-evict OFF]
        assert_match "*flags=N *" [$c client info]
        assert_error "ERR syntax error" {$c client no-evict foo}
        assert_error "ERR wrong number of arguments for 'client|no-evict' command" {$c client no-evict}
    }

    test "CLIENT SETINFO lib-name and lib-ver show in CLIENT INFO" {
        set c [redis_client]
        assert_equal OK [$c client setinfo lib-name i16-lib]
        assert_equal OK [$c client setinfo LIB-VER 1.2.3]
        set e [client_fields [$c client info]]
        assert_equal i16-lib [dict get $e lib-name]
        assert_equal 1.2.3 [dict get $e lib-ver]
        assert_equal {resp lib-name lib-ver} [lrange [dict keys $e] end-2 end]
        assert_error "ERR *" {$c client setinfo lib-name "a b"}
        assert_error "ERR *" {$c client setinfo nosuch x}
    } {ours}

    test "CLIENT NO-TOUCH on and off" {
        assert_equal OK [r client no-touch on]
        assert_equal OK [r client no-touch off]
        assert_error "ERR *" {r client no-touch foo}
    } {ours}

    test "CLIENT HELP is an array of status lines" {
        set help [r client help]
        assert_equal * [[srv client] last_type]
        assert_equal "CLIENT <subcommand> \[<arg> \[value\] \[opt\] ...\]. Subcommands are:" [lindex $help 0]
        assert_equal "HELP" [lindex $help end-1]
        assert_equal "    Prints this help." [lindex $help end]
        foreach sub {ID GETNAME INFO "SETNAME <name>" "REPLY (ON|OFF|SKIP)" "NO-EVICT (ON|OFF)"} {
            assert {$sub in $help} "CLIENT HELP lists $sub"
        }
        set fd [raw_connect]
        raw_send $fd "CLIENT HELP\r\n"
        raw_expect $fd "*[llength $help]\r\n+CLIENT <subcommand>"
    }

    test "PUBSUB, CONFIG and COMMAND HELP end with the same HELP entry" {
        foreach cmd {pubsub config command} {
            set help [r $cmd help]
            assert_equal "[string toupper $cmd] <subcommand> \[<arg> \[value\] \[opt\] ...\]. Subcommands are:" [lindex $help 0]
            assert_equal {HELP {    Prints this help.}} [lrange $help end-1 end]
        }
    }

    # -----------------------------------------------------------------
    # COMMAND
    # -----------------------------------------------------------------

    test "COMMAND COUNT is a positive integer" {
        set n [r command count]
        assert_equal : [[srv client] last_type]
        assert_morethan $n 10
    }

    test "COMMAND INFO publish and subscribe" {
        lassign [r command info publish] info
        assert_equal 10 [llength $info]
        lassign $info name arity flags first last step cats
        assert_equal publish $name
        assert_equal 3 $arity
        assert {"pubsub" in $flags} "flags $flags"
        assert {"fast" in $flags} "flags $flags"
        assert_equal {0 0 0} [list $first $last $step]
        assert {"@pubsub" in $cats} "categories $cats"
        lassign [r command info subscribe] info
        lassign $info name arity flags
        assert_equal subscribe $name
        assert_equal -2 $arity
        assert {"pubsub" in $flags} "flags $flags"
        assert {"noscript" in $flags} "flags $flags"
    }

    test "COMMAND INFO of more commands: arities" {
        foreach {cmd arity} {
            psubscribe -2 unsubscribe -1 punsubscribe -1 ssubscribe -2
            sunsubscribe -1 spublish 3 pubsub -2 ping -1 echo 2 hello -1
            auth -2 quit -1 reset 1 client -2 info -1 config -2 command -1
        } {
            lassign [r command info $cmd] info
            assert_equal [list $cmd $arity] [lrange $info 0 1] $cmd
        }
    }

    test "COMMAND INFO of an unknown command is a null entry" {
        set reply [r command info nosuchcmd]
        assert_equal 1 [llength $reply]
        assert_equal "" [lindex $reply 0]
        set reply [r command info publish nosuchcmd subscribe]
        assert_equal 3 [llength $reply]
        assert_equal publish [lindex $reply 0 0]
        assert_equal "" [lindex $reply 1]
        assert_equal subscribe [lindex $reply 2 0]
        set fd [raw_connect]
        raw_send $fd "COMMAND INFO nosuchcmd\r\n"
        raw_expect $fd "*1\r\n\$-1\r\n"
    }

    test "COMMAND INFO is case-insensitive" {
        assert_equal publish [lindex [r command info PUBLISH] 0 0]
    }

    test "COMMAND DOCS publish" {
        set docs [r command docs publish]
        assert_equal {publish} [dict keys $docs]
        set d [dict get $docs publish]
        # The summary text changed between Redis versions ("Post a message
        # to a channel" in 7.0, "Posts a message to a channel." in 7.2).
        assert_match "Post* a message to a channel*" [dict get $d summary]
        assert_equal 2.0.0 [dict get $d since]
        assert_equal pubsub [dict get $d group]
        assert [dict exists $d complexity]
        set names {}
        foreach arg [dict get $d arguments] {
            lappend names [dict get $arg name]
            assert_equal string [dict get $arg type]
        }
        assert_equal {channel message} $names
    }

    test "COMMAND DOCS in RESP3 is a map" {
        set c [redis_client]
        $c hello 3
        set docs [$c command docs subscribe]
        assert_equal % [$c last_type]
        assert_equal pubsub [dict get [dict get $docs subscribe] group]
    }

    test "COMMAND LIST contains the pub/sub commands and subcommands" {
        set all [r command list]
        foreach cmd {publish subscribe psubscribe unsubscribe punsubscribe
                     ssubscribe sunsubscribe spublish pubsub pubsub|channels
                     pubsub|numsub pubsub|numpat pubsub|shardchannels
                     pubsub|shardnumsub ping hello client|list config|get} {
            assert {$cmd in $all} "COMMAND LIST has $cmd"
        }
    }

    test "COMMAND LIST FILTERBY PATTERN" {
        assert_equal [lsort {pubsub pubsub|numsub pubsub|channels pubsub|numpat
                             pubsub|help pubsub|shardnumsub pubsub|shardchannels publish}] \
            [lsort [r command list filterby pattern pub*]]
        assert_equal {pubsub|numpat pubsub|numsub} \
            [lsort [r command list filterby pattern pubsub|n*]]
        assert_equal {} [r command list filterby pattern nosuch*]
        assert_error "ERR syntax error" {r command list filterby foo bar}
    }

    test "Keyspace commands are unknown commands" {
        assert_error "ERR unknown command 'get', with args beginning with: 'k' " {r get k}
        assert_error "ERR unknown command 'set', with args beginning with: 'k' 'v' " {r set k v}
        assert_error "ERR unknown command 'keys', with args beginning with: '*' " {r keys *}
        assert_equal PONG [r ping]
    } {ours}

    test "The server is back to a clean state" {
        assert_server_clean
    }
}

# DEBUG can stop the whole server (DEBUG SLEEP): Redis 7 refuses it unless
# enable-debug-command allows it, before authentication is even checked.
set ::debug_refused {ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.}

start_server {tags {introspection external:skip} overrides {requirepass foobar}} {
    test "DEBUG is refused by default, with Redis's error, before NOAUTH" {
        set c [redis_client]
        assert_error $::debug_refused {$c debug sleep 0}
        assert_error {ERR wrong number of arguments for 'debug' command} {$c debug}
        $c auth foobar
        assert_error $::debug_refused {$c debug log hello}
        assert_equal {enable-debug-command no} [$c config get enable-debug-command]
        assert_error {*can't set immutable config*} {$c config set enable-debug-command yes}
        $c close
    }

    test "DEBUG inside MULTI makes EXEC abort" {
        set c [redis_client]
        $c auth foobar
        $c multi
        assert_error $::debug_refused {$c debug sleep 0}
        assert_error {EXECABORT*} {$c exec}
        $c close
    }
}

start_server {tags {introspection external:skip} overrides {enable-debug-command local}} {
    test "enable-debug-command local: DEBUG runs from a loopback connection" {
        assert_equal OK [r debug sleep 0]
        assert_equal OK [r debug log "from the tests"]
    }
}

start_server {tags {introspection external:skip} overrides {enable-debug-command yes}} {
    test "enable-debug-command yes: DEBUG runs" {
        assert_equal OK [r debug sleep 0]
    }
}
