# multi.tcl -- Transactions as Redis runs them: every check Redis makes when
# a command is queued (unknown command, arity, NOAUTH, ACL, the RESP2
# subscribed context) is made then, and a refused command makes EXEC answer
# EXECABORT; EXEC itself refused ends the transaction with EXECABORT ...
# because of: <the error>. EXEC runs the queued commands without those
# checks but the ACL one, with the client still flagged in MULTI (CLIENT
# INFO flags=x), and a SSUBSCRIBE there is refused as from a DENY BLOCKING
# client. Exact bytes, first read from redis-server 7.0.15; the tests of
# what Redis 7.2 changed are tagged redis72 and say why.

start_server {tags {multi}} {

    proc tx_send {fd args} {
        set out ""
        foreach cmd $args {append out [::redis::encode $cmd]}
        raw_send $fd $out
    }

    set ctx_err "only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    set abort_prev "-EXECABORT Transaction discarded because of previous errors.\r\n"

    # -----------------------------------------------------------------
    # Checks at queueing time
    # -----------------------------------------------------------------

    test "Unknown command and arity errors while queuing abort EXEC" {
        set fd [raw_connect]
        tx_send $fd MULTI {foo bar} {PING} EXEC
        raw_expect $fd "+OK\r\n-ERR unknown command 'foo', with args beginning with: 'bar' \r\n+QUEUED\r\n$abort_prev"
        tx_send $fd MULTI {PUBLISH onlyone} {PING} EXEC
        raw_expect $fd "+OK\r\n-ERR wrong number of arguments for 'publish' command\r\n+QUEUED\r\n$abort_prev"
        tx_send $fd MULTI {CLIENT nosuch} EXEC PING
        raw_expect $fd "+OK\r\n-ERR unknown subcommand 'nosuch'. Try CLIENT HELP.\r\n$abort_prev+PONG\r\n"
    }

    test "A command failing when EXEC runs it does not stop the others" {
        set fd [raw_connect]
        tx_send $fd MULTI {PING a b c} {ECHO x} EXEC
        raw_expect $fd "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n-ERR wrong number of arguments for 'ping' command\r\n\$1\r\nx\r\n"
    }

    test "EXEC's own arity error is an EXECABORT that ends the transaction" {
        set fd [raw_connect]
        tx_send $fd {EXEC x}
        raw_expect $fd "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n"
        tx_send $fd MULTI {PING} {EXEC x} {PING} EXEC
        raw_expect $fd "+OK\r\n+QUEUED\r\n-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n+PONG\r\n-ERR EXEC without MULTI\r\n"
    }

    test "MULTI, DISCARD and EXEC errors: nested MULTI, arguments, no MULTI" {
        set fd [raw_connect]
        tx_send $fd EXEC DISCARD MULTI MULTI {ECHO kept} EXEC
        raw_expect $fd "-ERR EXEC without MULTI\r\n-ERR DISCARD without MULTI\r\n+OK\r\n-ERR MULTI calls can not be nested\r\n+QUEUED\r\n*1\r\n\$4\r\nkept\r\n"
        tx_send $fd MULTI {MULTI x} EXEC
        raw_expect $fd "+OK\r\n-ERR wrong number of arguments for 'multi' command\r\n$abort_prev"
        tx_send $fd MULTI {PING} {DISCARD x} DISCARD EXEC
        raw_expect $fd "+OK\r\n+QUEUED\r\n-ERR wrong number of arguments for 'discard' command\r\n+OK\r\n-ERR EXEC without MULTI\r\n"
    }

    test "QUIT and RESET run at once inside MULTI" {
        set fd [raw_connect]
        tx_send $fd MULTI RESET {PING} EXEC
        raw_expect $fd "+OK\r\n+RESET\r\n+PONG\r\n-ERR EXEC without MULTI\r\n"
        tx_send $fd MULTI {PING} QUIT {PING}
        assert_equal "+OK\r\n+QUEUED\r\n+OK\r\n" [raw_read_eof $fd]
    }

    test "RESP2 subscribed: MULTI is refused, and EXEC is an EXECABORT" {
        set fd [raw_connect]
        tx_send $fd {SUBSCRIBE t1.ch} MULTI {PUBLISH t1.ch x} EXEC
        raw_expect $fd "[confirm_bytes 2 subscribe t1.ch 1]-ERR Can't execute 'multi': $ctx_err\r\n-ERR Can't execute 'publish': $ctx_err\r\n-EXECABORT Transaction discarded because of: Can't execute 'exec': $ctx_err\r\n"
    }

    test "NOPERM while queuing aborts EXEC; the ACL LOG says multi" {
        r acl log reset
        r acl setuser t.m1 on >pw +@all -publish resetchannels &t2.*
        set fd [raw_connect]
        tx_send $fd {AUTH t.m1 pw} MULTI {PUBLISH t2.a x} {SPUBLISH other x} {PING} EXEC
        raw_expect $fd "+OK\r\n+OK\r\n-NOPERM this user has no permissions to run the 'publish' command\r\n-NOPERM this user has no permissions to access one of the channels used as arguments\r\n+QUEUED\r\n$abort_prev"
        lassign [r acl log] ch cmd
        assert_equal {1 channel multi other t.m1} [dict values [dict remove $ch age-seconds client-info]]
        assert_equal {1 command multi publish t.m1} [dict values [dict remove $cmd age-seconds client-info]]
        assert_match "* flags=x *" [dict get $cmd client-info]
        r acl deluser t.m1
    }

    test "EXEC refused by the ACL is an EXECABORT that ends the transaction" {
        r acl setuser t.m2 on >pw +@all -exec
        set fd [raw_connect]
        tx_send $fd {AUTH t.m2 pw} MULTI {PING} EXEC {PING}
        raw_expect $fd "+OK\r\n+OK\r\n+QUEUED\r\n-EXECABORT Transaction discarded because of: NOPERM this user has no permissions to run the 'exec' command\r\n+PONG\r\n"
        r acl deluser t.m2
    }

    test "Rights changed between queuing and EXEC: EXEC checks each command again" {
        r acl setuser t.m3 on >pw +@all &*
        set fd [raw_connect]
        tx_send $fd {AUTH t.m3 pw} MULTI {PUBLISH t3.ch x} {SPUBLISH t3.ch y} {PING}
        raw_expect $fd "+OK\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n"
        r acl setuser t.m3 -publish resetchannels &t3.other
        tx_send $fd EXEC
        set pre "-NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason:"
        raw_expect $fd "*3\r\n$pre no permission to execute the command or subcommand\r\n$pre no permission to access one of the channels used as arguments\r\n+PONG\r\n"
        r acl deluser t.m3
    }

    start_server {tags {external:skip} overrides {requirepass foobar}} {
        test "Before AUTH, MULTI is NOAUTH and EXEC an EXECABORT" {
            set fd [raw_connect]
            tx_send $fd MULTI {PING} EXEC
            raw_expect $fd "-NOAUTH Authentication required.\r\n-NOAUTH Authentication required.\r\n-EXECABORT Transaction discarded because of: NOAUTH Authentication required.\r\n"
        }

        test "AUTH queued in MULTI runs in EXEC; a failed one is logged in context multi" {
            r auth foobar
            r acl log reset
            set fd [raw_connect]
            tx_send $fd {AUTH foobar} MULTI {AUTH nobody wrong} {PING} EXEC
            raw_expect $fd "+OK\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n-WRONGPASS invalid username-password pair or user is disabled.\r\n+PONG\r\n"
            set e [lindex [r acl log] 0]
            assert_equal {1 auth multi AUTH nobody} [dict values [dict remove $e age-seconds client-info]]
            assert_match "* flags=x * multi=2 *" [dict get $e client-info]
            assert_match "* cmd=exec *" [dict get $e client-info]
        }
    }

    # -----------------------------------------------------------------
    # EXEC runs what was queued
    # -----------------------------------------------------------------

    test "CLIENT INFO inside EXEC shows flags=x, the queued count and cmd=exec" {
        assert_match "* flags=N * multi=-1 *" [r client info]
        assert_equal OK [r multi]
        assert_equal QUEUED [r client info]
        assert_equal QUEUED [r ping]
        lassign [r exec] info pong
        assert_equal PONG $pong
        assert_match "* flags=x *" $info
        assert_match "* multi=2 *" $info
        assert_match "* cmd=exec *" $info
        assert_match "* flags=N * multi=-1 *" [r client info]
    }

    test "RESP2: a SUBSCRIBE queued in MULTI does not refuse the commands queued after it" {
        set o [pubsub_client]
        subscribe $o {t4.other}
        set fd [raw_connect]
        tx_send $fd MULTI {SUBSCRIBE t4.ch} {PUBLISH t4.other in-tx} {PING} EXEC
        raw_expect $fd "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n[confirm_bytes 2 subscribe t4.ch 1]:1\r\n*2\r\n\$4\r\npong\r\n\$0\r\n\r\n"
        assert_equal {message t4.other in-tx} [$o read]
        # Now subscribed, the context applies again.
        tx_send $fd {PUBLISH t4.other after}
        raw_expect $fd "-ERR Can't execute 'publish': $ctx_err\r\n"
    }

    test "SSUBSCRIBE inside MULTI is refused as from a DENY BLOCKING client; PSUBSCRIBE is not" {
        set fd [raw_connect]
        tx_send $fd MULTI {SSUBSCRIBE t5.sh} {PSUBSCRIBE t5.*} {PING} EXEC
        raw_expect $fd "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n-ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n[confirm_bytes 2 psubscribe t5.* 1]*2\r\n\$4\r\npong\r\n\$0\r\n\r\n"
        assert_equal {t5.sh 0} [r pubsub shardnumsub t5.sh]
        assert_equal 1 [r pubsub numpat]
        # Outside MULTI it works.
        tx_send $fd {SSUBSCRIBE t5.sh}
        raw_expect $fd [confirm_bytes 2 ssubscribe t5.sh 1]
    }

    test "RESP3: SUBSCRIBE inside MULTI has its confirmation as its reply in EXEC's array" {
        set c [pubsub_client 3]
        set fd [$c channel]
        tx_send $fd MULTI {SUBSCRIBE t6.ch} {SSUBSCRIBE t6.sh} {PING} EXEC
        raw_expect $fd "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n[confirm_bytes 3 subscribe t6.ch 1]-ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n+PONG\r\n"
    }

    # Redis 7.0 writes a message the transaction publishes to its own
    # client inside EXEC's array, which a RESP2 client then misreads as one
    # of the replies; 7.2 (redis#12326) sends every such push after it.
    tags {redis72} {
        test "RESP2: MULTI; SUBSCRIBE ch; PUBLISH ch; EXEC runs the PUBLISH, the message follows EXEC" {
            set fd [raw_connect]
            tx_send $fd MULTI {SUBSCRIBE t7.ch} {PUBLISH t7.ch in-tx} {PING} EXEC
            raw_expect $fd "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n[confirm_bytes 2 subscribe t7.ch 1]:1\r\n*2\r\n\$4\r\npong\r\n\$0\r\n\r\n[message_bytes 2 t7.ch in-tx]"
        }

        test "RESP3: MULTI; SUBSCRIBE ch; PUBLISH ch; EXEC: the message follows EXEC's array" {
            set c [pubsub_client 3]
            set fd [$c channel]
            tx_send $fd MULTI {SUBSCRIBE t8.ch} {PSUBSCRIBE t8.*} {PUBLISH t8.ch in-tx} EXEC {PING}
            raw_expect $fd "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n[confirm_bytes 3 subscribe t8.ch 1][confirm_bytes 3 psubscribe t8.* 2]:2\r\n[message_bytes 3 t8.ch in-tx][pmessage_bytes 3 t8.* t8.ch in-tx]+PONG\r\n"
        }
    }

    # -----------------------------------------------------------------
    # WATCH
    # -----------------------------------------------------------------

    # Redis answers WATCH with +OK (and "-ERR WATCH inside MULTI is not
    # allowed" in a transaction): WATCH is a keyspace command, and like
    # every keyspace command this server has none: the unknown-command
    # error, which inside MULTI aborts the transaction.
    test "WATCH and UNWATCH are unknown commands, as every keyspace command" {
        set fd [raw_connect]
        tx_send $fd {WATCH k} UNWATCH MULTI {WATCH k} {PING} EXEC
        raw_expect $fd "-ERR unknown command 'WATCH', with args beginning with: 'k' \r\n-ERR unknown command 'UNWATCH', with args beginning with: \r\n+OK\r\n-ERR unknown command 'WATCH', with args beginning with: 'k' \r\n+QUEUED\r\n$abort_prev"
    } ours

    test "The server is back to a clean state" {
        assert_server_clean
    }
}
