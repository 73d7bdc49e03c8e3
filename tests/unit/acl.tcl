# acl.tcl -- ACL users with channel permissions: ACL SETUSER rules and how
# they read back (ACL LIST, GETUSER), the exact error texts, AUTH and HELLO
# AUTH with users, NOPERM for commands and channels (a SUBSCRIBE is refused
# as a whole), the ACL LOG, MULTI/EXEC, subscribers disconnected when their
# user loses a channel they hold or is deleted, DRYRUN, GENPASS, CAT,
# requirepass as the default user's password, the aclfile (LOAD, SAVE) and
# `user` lines in the config file, and start-up errors.
#
# Replies were read from redis-server 7.0.15 first. Where Redis lists single
# commands in hash-table order (ACL LIST after several +cmd rules), the
# tests compare sorted words. Two behaviours are ours alone (tag `ours`):
# Redis 7.0.15 crashes when the client running ACL SETUSER is a RESP3
# subscriber that loses its channel, and it keeps default-user subscribers
# whose channels ACL LOAD revokes; we close them.

set ::noperm_channels "NOPERM this user has no permissions to access one of the channels used as arguments"
set ::wrongpass "WRONGPASS invalid username-password pair or user is disabled."
set ::no_aclfile "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."

# sha256 hex of the passwords used below.
set ::hash(pw) 30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4
set ::hash(p1) f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a
set ::hash(p2) 3946ca64ff78d93ca61090a437cbb6b3d2ca0d488f5f9ccf3059608368b27693
set ::hash(foo) 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae

proc noperm_cmd {name} {
    return "NOPERM this user has no permissions to run the '$name' command"
}

# The ACL LIST line of a user, or "".
proc acl_line {name {level 0}} {
    foreach line [r $level acl list] {
        if {[string match "user $name *" $line]} {return $line}
    }
    return ""
}

# The rules of a fresh user t.rules given these rules, as ACL LIST shows
# them after "user t.rules ".
proc rules_read_back {rules} {
    r acl deluser t.rules
    assert_equal OK [r acl setuser t.rules {*}$rules]
    set line [acl_line t.rules]
    r acl deluser t.rules
    return [string range $line [string length "user t.rules "] end]
}

# A client authenticated as user (password pw); deferring with -deferring.
proc user_client {user {deferring 0}} {
    if {$deferring} {
        set c [redis_deferring_client]
        $c auth $user pw
        assert_equal OK [$c read]
    } else {
        set c [redis_client]
        assert_equal OK [$c auth $user pw]
    }
    return $c
}

# The connection of c (blocking or deferring) has been closed by the server.
proc assert_closed {c {deferring 0}} {
    set failed [catch {
        $c ping
        if {$deferring} {$c read}
    } err]
    assert $failed "the connection is still open (reply [show $err])"
    assert_match "*I/O error*" $err
}

# A deferring RESP2 subscriber c still answers.
proc assert_subscriber_alive {c} {
    $c ping
    assert_equal {pong {}} [$c read]
}

start_server {tags {acl}} {

    test "The default user: ACL LIST, USERS, WHOAMI, GETUSER" {
        assert_equal {{user default on nopass ~* &* +@all}} [r acl list]
        assert_equal {default} [r acl users]
        assert_equal default [r acl whoami]
        set u [r acl getuser default]
        assert_equal {flags passwords commands keys channels selectors} [dict keys $u]
        assert_equal {on nopass} [dict get $u flags]
        assert_equal {} [dict get $u passwords]
        assert_equal +@all [dict get $u commands]
        assert_equal ~* [dict get $u keys]
        assert_equal &* [dict get $u channels]
        assert_equal {} [dict get $u selectors]
    }

    test "ACL GETUSER of an unknown user is a null; RESP3 gives a map" {
        assert_equal {} [r acl getuser t.nosuch]
        set c [redis_client]
        $c hello 3
        $c acl getuser default
        assert_equal % [$c last_type]
        assert_equal {} [$c acl getuser t.nosuch]
        assert_equal _ [$c last_type]
    }

    test "A new user is off, with no password, channel or command" {
        assert_equal OK [r acl setuser t.new]
        assert_equal "user t.new off resetchannels -@all" [acl_line t.new]
        set u [r acl getuser t.new]
        assert_equal {off} [dict get $u flags]
        assert_equal -@all [dict get $u commands]
        assert_equal {} [dict get $u keys]
        assert_equal {} [dict get $u channels]
        assert_equal {default t.new} [r acl users]
        assert_equal 1 [r acl deluser t.new]
    }

    test "ACL SETUSER rules read back as Redis shows them" {
        foreach {rules want} [list \
            {on nopass ~* &* +@all} {on nopass ~* &* +@all} \
            {reset} {off sanitize-payload resetchannels -@all} \
            {on >p1 >p2 >p1} "on #$::hash(p1) #$::hash(p2) resetchannels -@all" \
            "#$::hash(p1) nopass" {off nopass resetchannels -@all} \
            {>x resetpass} {off resetchannels -@all} \
            {>p1 >p2 <p1} "off #$::hash(p2) resetchannels -@all" \
            "nopass >foo" "off #$::hash(foo) resetchannels -@all" \
            {~k* %R~r* %W~w* %RW~rw* %W~x %R~x} {off ~k* %R~r* %W~w* ~rw* ~x resetchannels -@all} \
            {%R} {off %R~ resetchannels -@all} \
            {~* resetkeys ~x} {off ~x resetchannels -@all} \
            {&a &a &b &news.*} {off resetchannels &a &b &news.* -@all} \
            {& &X} {off resetchannels & &X -@all} \
            {&* resetchannels &y} {off resetchannels &y -@all} \
            {allkeys allchannels allcommands skip-sanitize-payload on} {on skip-sanitize-payload ~* &* +@all} \
            {ON NOPASS +PUBLISH &X} {on nopass resetchannels &X -@all +publish} \
            {+@pubsub} {off resetchannels -@all +@pubsub} \
            {+@pubsub -publish} {off resetchannels -@all +@pubsub -publish} \
            {+@all -@pubsub} {off resetchannels +@all -@pubsub} \
            {+@all -publish +publish} {off resetchannels +@all} \
            {+@all -client +client|id} {off resetchannels +@all -client +client|id} \
            {+@all -client|kill} {off resetchannels +@all -client|kill} \
            {-@all +client -client|kill} {off resetchannels -@all +client -client|kill} \
            {+@all -@all +ping} {off resetchannels -@all +ping} \
            {nocommands +ping allcommands} {off resetchannels +@all} \
            {+select|0} {off resetchannels -@all +select|0} \
            {+select|0 +select} {off resetchannels -@all +select} \
            {-@all +config|get} {off resetchannels -@all +config|get} \
            {+@all -@dangerous} {off resetchannels +@all -@dangerous} \
            {-@all +@read} {off resetchannels -@all +@read} \
            {+@all -@write +set} {off resetchannels +@all -@write +set} \
            {+cluster|info} {off resetchannels -@all +cluster|info} \
            {(~x +@all) (&y)} {off resetchannels -@all (~x resetchannels +@all) (resetchannels &y -@all)} \
            {(~x +@all) clearselectors (~z)} {off resetchannels -@all (~z resetchannels -@all)} \
            {( ~x )} {off resetchannels -@all (~x resetchannels -@all)} \
            {{}} {off resetchannels -@all} \
        ] {
            assert_equal $want [rules_read_back $rules] "rules {$rules}"
        }
    }

    test "ACL SETUSER: single commands read back in any order, the same set" {
        foreach {rules want} {
            {-@all +get +set +subscribe} {+get +set +subscribe -@all off resetchannels}
            {-@all +@pubsub -pubsub}
            {+@pubsub -@all -pubsub|channels -pubsub|numpat -pubsub|numsub -pubsub|shardchannels -pubsub|shardnumsub off resetchannels}
            {-@all +select|0 +debug|sleep -@all +client|id +select|1} {+client|id +select|1 -@all off resetchannels}
        } {
            assert_equal $want [lsort [split [rules_read_back $rules] " "]] "rules {$rules}"
        }
    }

    test "ACL SETUSER errors" {
        set pre "ERR Error in ACL SETUSER modifier"
        foreach {rules err} [list \
            {+nosuch} "$pre '+nosuch': Unknown command or category name in ACL" \
            {+@nosuch} "$pre '+@nosuch': Unknown command or category name in ACL" \
            {foo} "$pre 'foo': Syntax error" \
            {#abc} "$pre '#abc': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters" \
            {<nopw} "$pre '<nopw': The password you are trying to remove from the user does not exist" \
            {~* ~x} "$pre '~x': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns" \
            {&* &x} "$pre '&x': Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels" \
            {+config|get|x} "$pre '+config|get|x': Allowing first-arg of a subcommand is not supported" \
            {+client|} "$pre '+client|': Syntax error" \
            {+client|nosuch} "$pre '+client|nosuch': Unknown command or category name in ACL" \
            {-select|0} "$pre '-select|0': Unknown command or category name in ACL" \
            {%Z~x} "$pre '%Z~x': Syntax error" \
            {{&a b}} "$pre '&a b': Syntax error" \
            {(on)} "$pre '(on)': Syntax error" \
            {(~a b)} "$pre '(~a b)': Syntax error" \
            {on (+@all ~x} "ERR Unmatched parenthesis in acl selector starting at '(+@all'." \
        ] {
            assert_error $err {r acl setuser t.err {*}$rules} "rules {$rules}"
            assert_equal {} [r acl getuser t.err] "rules {$rules}"
        }
        assert_error "ERR Usernames can't contain spaces or null characters" {r acl setuser "t a" on}
    }

    test "ACL SETUSER is all or nothing" {
        r acl setuser t.atomic on &a
        assert_error "*Unknown command*" {r acl setuser t.atomic resetchannels &b +nosuch}
        assert_equal "user t.atomic on resetchannels &a -@all" [acl_line t.atomic]
        r acl deluser t.atomic
    }

    test "AUTH and HELLO AUTH with ACL users" {
        r acl setuser t.alice on >pw >p2 &alice.* +@all
        set c [redis_client]
        assert_equal OK [$c auth t.alice pw]
        assert_equal t.alice [$c acl whoami]
        assert_equal OK [$c auth t.alice p2]
        set fd [raw_connect]
        raw_send $fd "AUTH t.alice wrong\r\nAUTH T.ALICE pw\r\nAUTH t.nosuch pw\r\nAUTH pw\r\n"
        raw_expect $fd [string repeat "-$::wrongpass\r\n" 3]
        raw_expect $fd "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"
        set h [redis_client]
        set reply [$h hello 3 auth t.alice pw setname t.named]
        assert_equal 3 [dict get $reply proto]
        assert_equal t.alice [$h acl whoami]
        assert_error $::wrongpass {$h hello 3 auth t.alice wrong}
        assert_equal t.alice [$h acl whoami]
        # Turning a user off stops new logins, not the open connections.
        r acl setuser t.alice off
        assert_error $::wrongpass {[redis_client] auth t.alice pw}
        assert_equal PONG [$c ping]
        r acl setuser t.alice on nopass
        assert_equal OK [[redis_client] auth t.alice anything]
        r acl deluser t.alice
    }

    test "CLIENT LIST shows the user; CLIENT KILL USER; RESET goes back to default" {
        r acl setuser t.kill on >pw +@all
        set c [user_client t.kill]
        assert_match "* user=t.kill *" [$c client info]
        set d [user_client t.kill]
        assert_equal RESET [$d reset]
        assert_equal default [$d acl whoami]
        assert_error "ERR No such user 't.nosuch'" {r client kill user t.nosuch}
        assert_equal 1 [r client kill user t.kill]
        assert_closed $c
        assert_equal 0 [r client kill user t.kill]
        r acl deluser t.kill
    }

    test "NOPERM for a command names it, subcommands included; the connection stays" {
        r acl setuser t.np on >pw &* +@pubsub
        set c [user_client t.np]
        assert_error [noperm_cmd ping] {$c ping}
        assert_error [noperm_cmd client|id] {$c client id}
        assert_error [noperm_cmd acl|whoami] {$c acl whoami}
        assert_equal 0 [$c publish t.any x]
        assert_equal OK [$c auth t.np pw]
        r acl deluser t.np
    }

    test "NOPERM for channels: a SUBSCRIBE with one refused channel subscribes nothing" {
        r acl setuser t.ch on >pw resetchannels &news.* &lit +@all
        set c [user_client t.ch]
        assert_error $::noperm_channels {$c subscribe news.1 other}
        assert_error $::noperm_channels {$c psubscribe news.a*}
        assert_error $::noperm_channels {$c psubscribe news.1}
        assert_error $::noperm_channels {$c ssubscribe other}
        assert_error $::noperm_channels {$c publish other x}
        assert_error $::noperm_channels {$c spublish other x}
        assert_equal {news.1 0} [r pubsub numsub news.1]
        assert_equal 0 [r pubsub numpat]
        assert_equal 0 [$c publish news.x m]
        # The same patterns, literally, are allowed: they deliver.
        set s [user_client t.ch 1]
        assert_equal {1} [psubscribe $s {news.*}]
        assert_equal {2 3} [subscribe $s {lit news.1}]
        assert_equal 2 [$c publish news.1 hi]
        assert_equal {message news.1 hi} [$s read]
        assert_equal {pmessage news.* news.1 hi} [$s read]
        assert_equal 1 [$c publish lit ok]
        assert_equal {message lit ok} [$s read]
        r acl deluser t.ch
    }

    test "ACL LOG: denied commands and channels, failed AUTH, folding, count, RESET" {
        r acl log reset
        r acl setuser t.log on >pw &ok +publish +auth
        set c [user_client t.log]
        assert_error [noperm_cmd ping] {$c ping}
        assert_error $::noperm_channels {$c publish t.other x}
        assert_error $::noperm_channels {$c publish t.other y}
        assert_error $::wrongpass {$c AUTH t.nosuch pw}
        set log [r acl log]
        assert_equal 3 [llength $log]
        foreach e $log {
            assert_equal {count reason context object username age-seconds client-info} [dict keys $e]
            assert_range [dict get $e age-seconds] 0 60
        }
        lassign $log auth channel command
        assert_equal {1 auth toplevel AUTH t.nosuch} [dict values [dict remove $auth age-seconds client-info]]
        assert_match "id=* cmd=auth user=t.log *" [dict get $auth client-info]
        assert_equal {2 channel toplevel t.other t.log} [dict values [dict remove $channel age-seconds client-info]]
        assert_match "* cmd=publish user=t.log *" [dict get $channel client-info]
        assert_equal {1 command toplevel ping t.log} [dict values [dict remove $command age-seconds client-info]]
        assert_equal 1 [llength [r acl log 1]]
        assert_equal {} [r acl log 0]
        assert_equal {} [r acl log -1]
        assert_equal 3 [llength [r acl log 100]]
        assert_error "ERR value is not an integer or out of range" {r acl log x}
        assert_error "ERR unknown subcommand or wrong number of arguments for 'log'. Try ACL HELP." {r acl log reset x}
        assert_equal OK [r acl log RESET]
        assert_equal {} [r acl log]
        r acl deluser t.log
    }

    test "NOPERM inside MULTI aborts the transaction; the log says multi" {
        r acl log reset
        r acl setuser t.tx on >pw &ok +multi +exec +publish +ping +discard
        set c [user_client t.tx]
        assert_equal OK [$c multi]
        assert_error $::noperm_channels {$c publish t.no x}
        assert_error [noperm_cmd client|id] {$c client id}
        assert_equal QUEUED [$c publish ok x]
        assert_error "EXECABORT Transaction discarded because of previous errors." {$c exec}
        set e [lindex [r acl log] 0]
        assert_equal {1 command multi client|id t.tx} [dict values [dict remove $e age-seconds client-info]]
        r acl deluser t.tx
    }

    test "Rights revoked between MULTI and EXEC: EXEC refuses those commands" {
        r acl log reset
        r acl setuser t.tx2 on >pw &ok +multi +exec +publish +ping
        set c [user_client t.tx2]
        assert_equal OK [$c multi]
        assert_equal QUEUED [$c publish ok x]
        assert_equal QUEUED [$c ping]
        r acl setuser t.tx2 resetchannels -ping
        set pre "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason:"
        assert_equal [list "$pre no permission to access one of the channels used as arguments" \
                           "$pre no permission to execute the command or subcommand"] [$c exec]
        lassign [r acl log] cmd ch
        assert_equal {1 command multi ping t.tx2} [dict values [dict remove $cmd age-seconds client-info]]
        assert_equal {1 channel multi ok t.tx2} [dict values [dict remove $ch age-seconds client-info]]
        assert_match "* cmd=exec user=t.tx2 *" [dict get $ch client-info]
        r acl deluser t.tx2
    }

    test "A subscriber that loses a channel it holds is disconnected, others stay" {
        r acl setuser t.sub on >pw &a* &b +@all
        set s1 [user_client t.sub 1]
        assert_equal {1 2} [subscribe $s1 {b a1}]
        set s2 [user_client t.sub 1]
        assert_equal {1} [psubscribe $s2 {a*}]
        set plain [user_client t.sub]
        # More channels, or turning the user off: nobody is disconnected.
        r acl setuser t.sub &c
        r acl setuser t.sub off
        assert_subscriber_alive $s1
        assert_subscriber_alive $s2
        # "b" goes: its subscriber goes with it.
        r acl setuser t.sub on resetchannels &a* &c
        assert_closed $s1 1
        assert_subscriber_alive $s2
        # A pattern subscription needs the pattern itself: "a*" is not "a1".
        r acl setuser t.sub resetchannels &a1
        assert_closed $s2 1
        assert_equal PONG [$plain ping]
        r acl deluser t.sub
        assert_closed $plain
    }

    test "From allchannels to a list, and shard channels, are checked too" {
        r acl setuser t.all on >pw allchannels +@all
        set s1 [user_client t.all 1]
        assert_equal {1} [subscribe $s1 {t.foo}]
        set s2 [user_client t.all 1]
        assert_equal {1} [ssubscribe $s2 {t.shard}]
        r acl setuser t.all resetchannels &t.foo
        assert_subscriber_alive $s1
        assert_closed $s2 1
        r acl setuser t.all resetchannels &t.bar
        assert_closed $s1 1
        r acl deluser t.all
    }

    test "The default user's subscribers are checked when its channels shrink" {
        set s [pubsub_client]
        assert_equal {1} [subscribe $s {t.dflt}]
        r acl setuser default resetchannels &t.dflt &other
        assert_subscriber_alive $s
        r acl setuser default resetchannels &other
        assert_closed $s 1
        assert_equal PONG [r ping]
        r acl setuser default allchannels
        assert_equal {{user default on nopass ~* &* +@all}} [r acl list]
    } {external:skip}

    test "ACL DELUSER closes the user's connections; the default user stays" {
        r acl setuser t.del1 on >pw +@all
        r acl setuser t.del2 on >pw &* +@all
        set c [user_client t.del1]
        set s [user_client t.del2 1]
        assert_equal {1} [subscribe $s {t.del}]
        assert_error "ERR The 'default' user cannot be removed" {r acl deluser t.del1 default}
        assert_equal PONG [$c ping]
        assert_equal 2 [r acl deluser t.del1 t.nosuch t.del2 t.del1]
        assert_closed $c
        assert_closed $s 1
        assert_equal {default} [r acl users]
    }

    test "ACL DRYRUN" {
        r acl setuser t.dry on nopass &news.* +@pubsub
        assert_error "ERR User 't.nosuch' not found" {r acl dryrun t.nosuch ping}
        assert_error "ERR Command 'nosuchcmd' not found" {r acl dryrun t.dry nosuchcmd}
        assert_error "ERR Command 'client' not found" {r acl dryrun t.dry client nosuch}
        assert_error "ERR wrong number of arguments for 'publish' command" {r acl dryrun t.dry publish x}
        assert_error "ERR wrong number of arguments for 'acl|dryrun' command" {r acl dryrun t.dry}
        assert_equal "This user has no permissions to run the 'ping' command" [r acl dryrun t.dry ping]
        assert_equal "This user has no permissions to run the 'client|id' command" [r acl dryrun t.dry client id]
        assert_equal "This user has no permissions to access the 'zz' channel" [r acl dryrun t.dry publish zz m]
        assert_equal "This user has no permissions to access the 'zz' channel" [r acl dryrun t.dry subscribe news.x zz]
        assert_equal OK [r acl dryrun t.dry publish news.x m]
        assert_equal OK [r acl dryrun t.dry psubscribe news.*]
        assert_equal OK [r acl dryrun t.dry auth a]
        assert_equal OK [r acl dryrun default client id]
        r acl deluser t.dry
    }

    test "ACL GENPASS" {
        assert {[regexp {^[0-9a-f]{64}$} [r acl genpass]]}
        assert_equal 2 [string length [r acl genpass 5]]
        assert_equal 1 [string length [r acl genpass 1]]
        assert_equal 1024 [string length [r acl genpass 4096]]
        assert_not_equal [r acl genpass] [r acl genpass]
        set range "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"
        assert_error $range {r acl genpass 0}
        assert_error $range {r acl genpass 4097}
        assert_error "ERR value is not an integer or out of range" {r acl genpass x}
        assert_error "ERR unknown subcommand or wrong number of arguments for 'genpass'. Try ACL HELP." {r acl genpass 1 2}
    }

    test "ACL CAT" {
        assert_equal {keyspace read write set sortedset list hash string bitmap hyperloglog geo stream pubsub admin fast slow blocking dangerous connection transaction scripting} [r acl cat]
        assert_equal [lsort {subscribe unsubscribe psubscribe publish punsubscribe ssubscribe pubsub|shardnumsub pubsub|numsub pubsub|shardchannels pubsub|channels pubsub|numpat spublish sunsubscribe}] [lsort [r acl cat PubSub]]
        assert_error "ERR Unknown category 'nosuch'" {r acl cat nosuch}
        assert_error "ERR unknown subcommand or wrong number of arguments for 'cat'. Try ACL HELP." {r acl cat a b}
    }

    test "ACL LOAD and SAVE without an aclfile" {
        assert_error $::no_aclfile {r acl load}
        assert_error $::no_aclfile {r acl save}
    }

    test "ACL subcommand errors and HELP" {
        assert_error "ERR unknown subcommand 'nosub'. Try ACL HELP." {r acl nosub}
        assert_error "ERR wrong number of arguments for 'acl' command" {r acl}
        foreach {args name} {
            {whoami x} acl|whoami {users x} acl|users {list x} acl|list {getuser} acl|getuser
            {deluser} acl|deluser {setuser} acl|setuser {load x} acl|load {save x} acl|save {help x} acl|help
        } {
            assert_error "ERR wrong number of arguments for '$name' command" {r acl {*}$args}
        }
        set help [r acl help]
        assert_equal "ACL <subcommand> \[<arg> \[value\] \[opt\] ...\]. Subcommands are:" [lindex $help 0]
        assert_equal "    Prints this help." [lindex $help end]
        foreach sub {CAT DELUSER DRYRUN GETUSER GENPASS LIST LOAD LOG SAVE SETUSER USERS WHOAMI} {
            assert {[lsearch -glob $help "$sub*"] >= 0} "$sub in ACL HELP"
        }
    }

    test "Selectors: GETUSER shows them, and any selector may grant" {
        r acl setuser t.sel on >pw (&x +publish) (+subscribe &y)
        set sels [dict get [r acl getuser t.sel] selectors]
        assert_equal {{commands {-@all +publish} keys {} channels &x} {commands {-@all +subscribe} keys {} channels &y}} $sels
        set c [user_client t.sel]
        assert_equal 0 [$c publish x m]
        assert_error $::noperm_channels {$c publish y m}
        assert_error [noperm_cmd ping] {$c ping}
        set s [user_client t.sel 1]
        assert_equal {1} [subscribe $s {y}]
        r acl setuser t.sel clearselectors
        assert_equal "user t.sel on #$::hash(pw) resetchannels -@all" [acl_line t.sel]
        assert_closed $s 1
        r acl deluser t.sel
    }

    test "A subscriber that removes its own channel is closed after the reply" {
        r acl setuser t.self on >pw &t.self +@all
        set s [user_client t.self 1]
        $s hello 3
        $s read
        assert_equal {1} [subscribe $s {t.self}]
        $s acl setuser t.self resetchannels
        assert_equal OK [$s read]
        assert_closed $s 1
        r acl deluser t.self
    } {ours}

    test "requirepass is the default user's password" {
        r config set requirepass foo
        assert_equal "user default on #$::hash(foo) ~* &* +@all" [acl_line default]
        set c [redis_client]
        assert_error "NOAUTH Authentication required." {$c ping}
        assert_equal OK [$c auth foo]
        # ACL rules win over requirepass until it is set again.
        r acl setuser default resetpass >pw
        assert_equal {requirepass foo} [r config get requirepass]
        assert_error $::wrongpass {[redis_client] auth foo}
        assert_equal OK [[redis_client] auth pw]
        r config set requirepass ""
        assert_equal {{user default on nopass ~* &* +@all}} [r acl list]
        assert_equal PONG [[redis_client] ping]
    } {external:skip}

    test "A password on the default user: new connections need AUTH, open ones go on" {
        set old [redis_client]
        r acl setuser default >pw
        set new [redis_client]
        assert_error "NOAUTH Authentication required." {$new ping}
        assert_error "NOAUTH Authentication required." {$new subscribe t.secret}
        assert_equal 0 [r publish t.secret leaked]
        assert_equal PONG [$old ping]
        assert_equal OK [$new auth pw]
        # Once the default user is nopass again, a client that never
        # authenticated may run commands, but HELLO still wants AUTH.
        set never [redis_client]
        r acl setuser default nopass
        assert_equal PONG [$never ping]
        assert_error "NOAUTH HELLO must be called*" {$never hello 3}
        assert_equal PONG [[redis_client] ping]
    } {external:skip}

    test "The default user off: no AUTH as default, HELLO refused" {
        r acl setuser default off
        set c [redis_client]
        assert_error "NOAUTH Authentication required." {$c ping}
        assert_error $::wrongpass {$c auth default x}
        assert_error "NOAUTH HELLO must be called*" {$c hello 3}
        r acl setuser t.on on >pw +@all
        assert_equal OK [$c auth t.on pw]
        assert_equal PONG [$c ping]
        r acl setuser default on
        r acl deluser t.on
        assert_equal PONG [[redis_client] ping]
    } {external:skip}

    test "The server with ACL users is clean" {
        foreach u [r acl users] {
            if {$u ne "default"} {r acl deluser $u}
        }
        assert_equal {{user default on nopass ~* &* +@all}} [r acl list]
        assert_server_clean
    }
}

# ---------------------------------------------------------------------------
# The aclfile
# ---------------------------------------------------------------------------

set ::aclfile [file normalize [file join $::tmp_root "acl.[pid].acl"]]
write_file_bytes $::aclfile "user default on nopass ~* &* +@all\nuser t.alice on >pw &a* +@all\n"

start_server [list tags {acl external:skip} overrides [list aclfile $::aclfile]] {

    test "Users come from the aclfile at start-up" {
        assert_equal [list "user default on nopass ~* &* +@all" "user t.alice on #$::hash(pw) resetchannels &a* +@all"] [r acl list]
    }

    test "ACL SAVE writes the ACL LIST lines" {
        r acl setuser t.bob on >p1 &b +publish
        assert_equal OK [r acl save]
        assert_equal "[join [r acl list] "\n"]\n" [read_file_bytes $::aclfile]
    }

    test "ACL LOAD replaces the users and closes their clients; default clients stay" {
        set a_sub [user_client t.alice 1]
        assert_equal {1} [subscribe $a_sub {a1}]
        set a_plain [user_client t.alice]
        set d_sub [pubsub_client]
        assert_equal {1} [subscribe $d_sub {zz}]
        set d_plain [redis_client]
        write_file_bytes $::aclfile "user default on nopass resetchannels &zz &q +@all\r\nuser t.alice on >pw &a* +@all\n\n"
        assert_equal OK [r acl load]
        assert_closed $a_sub 1
        assert_closed $a_plain
        assert_subscriber_alive $d_sub
        assert_equal PONG [$d_plain ping]
        assert_equal [list "user default on nopass resetchannels &zz &q +@all" "user t.alice on #$::hash(pw) resetchannels &a* +@all"] [r acl list]
        # Without a default line, the default user is the stock one.
        write_file_bytes $::aclfile "user t.alice on >pw &a* +@all\n"
        assert_equal OK [r acl load]
        assert_equal "user default on nopass ~* &* +@all" [acl_line default]
    }

    test "ACL LOAD closes default-user subscribers that lose their channel" {
        set d_sub [pubsub_client]
        assert_equal {1} [subscribe $d_sub {t.gone}]
        write_file_bytes $::aclfile "user default on nopass resetchannels &q +@all\n"
        assert_equal OK [r acl load]
        assert_closed $d_sub 1
        write_file_bytes $::aclfile "user default on nopass ~* &* +@all\n"
        assert_equal OK [r acl load]
    } {ours}

    test "ACL LOAD with errors changes nothing and reports every line" {
        set before [r acl list]
        write_file_bytes $::aclfile "# comment\nuser x on foo bar\nuser x on\nfoo bar\nuser\nuser y +nosuch baz +n2\n\n  user z on  \nuser w \"a b\"\nuser a\"b on\n"
        set f $::aclfile
        assert_error "ERR $f:1 should start with user keyword followed by the username. $f:2: Syntax error. WARNING: Duplicate user 'x' found on line 3. $f:4 should start with user keyword followed by the username. $f:5 should start with user keyword followed by the username. $f:6: Error in applying operation '+nosuch': Unknown command or category name in ACL. $f:6: Syntax error. $f:6: Error in applying operation '+n2': Unknown command or category name in ACL. $f:9: Syntax error. WARNING: ACL errors detected, no change to the previously active ACL rules was performed" {r acl load}
        assert_equal $before [r acl list]
        file delete $::aclfile
        assert_error "ERR Error loading ACLs, opening file '$f': No such file or directory" {r acl load}
        assert_equal $before [r acl list]
    }

    test "The server with an aclfile is clean" {
        assert_server_clean
    }
}
file delete $::aclfile

# ---------------------------------------------------------------------------
# `user` lines in the config file
# ---------------------------------------------------------------------------

start_server {tags {acl external:skip} overrides {
    requirepass ignored
    user {t.cfg on >pw &c.* +@all}
    user {default on >p1 ~* &* +@all}
}} {

    test "Users from config lines; a default line replaces requirepass" {
        assert_error "NOAUTH Authentication required." {r ping}
        assert_error $::wrongpass {r auth ignored}
        assert_equal OK [r auth p1]
        assert_equal [list "user default on sanitize-payload #$::hash(p1) ~* &* +@all" "user t.cfg on #$::hash(pw) resetchannels &c.* +@all"] [r acl list]
        set c [user_client t.cfg]
        assert_equal 0 [$c publish c.x m]
        assert_error $::noperm_channels {$c publish d.x m}
    }

    test "The server with config users is clean" {
        assert_server_clean
    }
}

# ---------------------------------------------------------------------------
# Start-up errors
# ---------------------------------------------------------------------------

# Runs the server on a config made of lines (plus port, dir, logging);
# returns {exit-status output}. A server that does not exit is killed after
# 10 s by timeout(1), which fails the test.
proc acl_startup {lines} {
    set dir [file join $::tmp_root "acl-start.[pid].[incr ::acl_start_seq]"]
    file mkdir $dir
    set conf [file join $dir server.conf]
    write_file_bytes $conf "port [find_available_port]\nbind 127.0.0.1\nsave \"\"\nappendonly no\nlogfile \"\"\ndir $dir\n[join $lines "\n"]\n"
    set status 0
    if {[catch {exec timeout 10 $::opt(server_bin) $conf 2>@1} out opts]} {
        set code [dict get $opts -errorcode]
        if {[lindex $code 0] eq "CHILDSTATUS"} {set status [lindex $code 2]} else {set status -1}
    }
    file delete -force $dir
    return [list $status $out]
}

tags {acl external:skip} {
    test "A bad rule in a config user line stops start-up" {
        lassign [acl_startup {"user t.bad on >pw +nosuch"}] status out
        assert_equal 1 $status
        assert_match "*Error loading ACL rule '+nosuch' for the user named 't.bad': Unknown command or category name in ACL*" $out
        lassign [acl_startup {"user t.bad on >pw foo"}] status out
        assert_equal 1 $status
    }

    test "Config user lines and an aclfile together stop start-up" {
        set f [file normalize [file join $::tmp_root "acl.[pid].both.acl"]]
        write_file_bytes $f "user default on nopass ~* &* +@all\n"
        lassign [acl_startup [list "user t.x on" "aclfile $f"]] status out
        file delete $f
        assert_equal 1 $status
        assert_match "*Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid.*" $out
    }

    test "A missing or broken aclfile stops start-up" {
        set f [file normalize [file join $::tmp_root "acl.[pid].missing.acl"]]
        lassign [acl_startup [list "aclfile $f"]] status out
        assert_equal 1 $status
        assert_match "*Aborting Redis startup because of ACL errors: Error loading ACLs, opening file '$f': No such file or directory*" $out
        write_file_bytes $f "user t.x on +nosuch\n"
        lassign [acl_startup [list "aclfile $f"]] status out
        file delete $f
        assert_equal 1 $status
        assert_match "*Aborting Redis startup because of ACL errors: $f:1: Error in applying operation '+nosuch'*" $out
    }
}
