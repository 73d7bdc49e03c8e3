# auth.tcl -- requirepass, AUTH and HELLO AUTH: what an unauthenticated
# client may do (AUTH, HELLO with AUTH, QUIT, RESET) and may not (everything
# else, SUBSCRIBE included), the exact NOAUTH / WRONGPASS texts, RESET
# de-authenticating, and AUTH on a server without a password.
#
# Replies were read from redis-server 7.0 first. The protocol limits that
# apply before AUTH (10 arguments, 16 KiB bulks) are in protocol.tcl.

set ::noauth "NOAUTH Authentication required."
set ::wrongpass "WRONGPASS invalid username-password pair or user is disabled."

start_server {tags {auth}} {

    test "AUTH <password> without a configured password is an error" {
        assert_error "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?" {
            r auth foo
        }
        assert_equal PONG [r ping]
    }

    test "AUTH default <anything> succeeds when the default user has no password" {
        assert_equal OK [r auth default anything]
        set c [redis_client]
        set reply [$c hello 3 auth default whatever]
        assert_equal 3 [dict get $reply proto]
    }

    test "AUTH of an unknown user and AUTH syntax errors" {
        assert_error $::wrongpass {r auth nosuchuser pass}
        assert_error "ERR syntax error" {r auth a b c}
        assert_error "ERR wrong number of arguments for 'auth' command" {r auth}
        assert_equal PONG [r ping]
    }

    test "CONFIG SET requirepass: new connections need AUTH, existing ones keep going" {
        set old [lindex [r config get requirepass] 1]
        set before [redis_client]
        assert_equal PONG [$before ping]
        assert_equal OK [r config set requirepass runtime-secret]
        try {
            set fresh [redis_client]
            assert_error $::noauth {$fresh ping}
            assert_error $::wrongpass {$fresh auth nope}
            assert_equal OK [$fresh auth runtime-secret]
            assert_equal PONG [$fresh ping]
            assert_equal PONG [$before ping]
        } finally {
            r config set requirepass $old
        }
        set after [redis_client]
        assert_equal PONG [$after ping]
    } {external:skip}

    test "The server without a password is clean" {
        assert_server_clean
    }
}

start_server {tags {auth external:skip} overrides {requirepass foobar}} {

    test "Commands before AUTH get NOAUTH" {
        set c [redis_client]
        foreach cmd {
            {ping} {echo x} {publish a.ch x} {pubsub channels} {pubsub numsub a.ch}
            {client id} {client setname n} {client list} {info} {config get port}
            {command count} {select 1} {multi} {time} {dbsize}
        } {
            assert_error $::noauth {$c {*}$cmd} $cmd
        }
    }

    test "Before AUTH, unknown commands and arity errors come first" {
        # The command lookup and the arity check run before the
        # authentication check.
        set c [redis_client]
        assert_error "ERR unknown command 'nosuchcmd', with args beginning with: " {$c nosuchcmd}
        assert_error "ERR wrong number of arguments for 'publish' command" {$c publish a}
        assert_error "ERR unknown subcommand 'foo'. Try PUBSUB HELP." {$c pubsub foo}
        assert_error $::noauth {$c ping}
    }

    test "NOAUTH on the wire, and the connection stays open" {
        set fd [raw_connect]
        raw_send $fd "PING\r\nPUBLISH a.ch x\r\n"
        raw_expect $fd "-$::noauth\r\n-$::noauth\r\n"
        raw_send $fd "AUTH foobar\r\nPING\r\n"
        raw_expect $fd "+OK\r\n+PONG\r\n"
    }

    # Redis 7.2 says "HELLO <proto> AUTH" where 7.0 says "HELLO AUTH".
    test "HELLO without AUTH before authenticating is refused (Redis 7.2's text)" {
        set c [redis_client]
        set text "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
        assert_error $text {$c hello}
        assert_error $text {$c hello 3}
        assert_error $text {$c hello 2 setname x}
        assert_error $::noauth {$c ping}
    } {redis72}

    test "HELLO options act in order: AUTH before a bad option still authenticates" {
        set c [redis_client]
        assert_error "ERR Syntax error in HELLO option 'foo'" {$c hello 3 auth default foobar foo}
        assert_equal PONG [$c ping]
        # The protocol did not change: the command failed.
        assert_match "*resp=2*" [$c client info]
        set c2 [redis_client]
        assert_error "WRONGPASS*" {$c2 hello 3 auth default wrong setname}
        assert_error "ERR Syntax error in HELLO option 'foo'" {$c2 hello 3 foo auth default foobar}
        assert_error $::noauth {$c2 ping}
        assert_error "ERR Syntax error in HELLO option 'foo'" {$c2 hello 3 auth default foobar setname n1 foo}
        assert_equal n1 [$c2 client getname]
    }

    test "AUTH with a wrong password: WRONGPASS, the connection stays open" {
        set fd [raw_connect]
        raw_send $fd "AUTH wrong\r\nAUTH default wrong\r\nAUTH nosuchuser foobar\r\nAUTH default\r\n"
        raw_expect $fd [string repeat "-$::wrongpass\r\n" 4]
        raw_send $fd "PING\r\n"
        raw_expect $fd "-$::noauth\r\n"
    }

    test "AUTH with the right password, one or two arguments" {
        set c1 [redis_client]
        assert_equal OK [$c1 auth foobar]
        assert_equal PONG [$c1 ping]
        set c2 [redis_client]
        assert_equal OK [$c2 auth default foobar]
        assert_equal PONG [$c2 ping]
        assert_error "ERR syntax error" {$c2 auth a b c}
    }

    test "A failed AUTH after a good one leaves the client authenticated" {
        set c [redis_client]
        assert_equal OK [$c auth foobar]
        assert_error $::wrongpass {$c auth wrong}
        assert_equal PONG [$c ping]
    }

    test "HELLO 3 AUTH default foobar authenticates and switches protocol" {
        set c [redis_client]
        set reply [$c hello 3 auth default foobar]
        assert_equal % [$c last_type]
        assert_equal 3 [dict get $reply proto]
        assert_equal [$c client id] [dict get $reply id]
        $c config get port
        assert_equal % [$c last_type]
    }

    test "HELLO AUTH with SETNAME sets the name" {
        set c [redis_client]
        $c hello 2 auth default foobar setname a.named
        assert_equal a.named [$c client getname]
    }

    test "HELLO AUTH with a wrong password: WRONGPASS, protocol unchanged" {
        set fd [raw_connect]
        raw_send $fd "HELLO 3 AUTH default wrong\r\n"
        raw_expect $fd "-$::wrongpass\r\n"
        raw_send $fd "HELLO 3 AUTH nosuchuser foobar\r\n"
        raw_expect $fd "-$::wrongpass\r\n"
        raw_send $fd "PING\r\nAUTH foobar\r\nCLIENT GETNAME\r\n"
        # Still unauthenticated, and still RESP2 ($-1 rather than _).
        raw_expect $fd "-$::noauth\r\n+OK\r\n\$-1\r\n"
    }

    test "SUBSCRIBE before AUTH is refused and nothing is delivered" {
        set fd [raw_connect]
        raw_send $fd "SUBSCRIBE a.secret\r\nPSUBSCRIBE a.*\r\nSSUBSCRIBE a.shard\r\n"
        raw_expect $fd [string repeat "-$::noauth\r\n" 3]
        r auth foobar
        assert_equal {a.secret 0} [r pubsub numsub a.secret]
        assert_equal 0 [r pubsub numpat]
        assert_equal 0 [r publish a.secret leaked]
        assert_equal 0 [r spublish a.shard leaked]
        raw_send $fd "PING\r\n"
        raw_expect $fd "-$::noauth\r\n"
    }

    test "After AUTH a subscriber receives messages" {
        set c [pubsub_client]
        $c auth foobar
        assert_equal OK [$c read]
        subscribe $c {a.open}
        r auth foobar
        assert_equal 1 [r publish a.open hello]
        assert_equal {message a.open hello} [$c read]
    }

    test "QUIT and RESET are allowed before AUTH" {
        set fd [raw_connect]
        raw_send $fd "RESET\r\n"
        raw_expect $fd "+RESET\r\n"
        raw_send $fd "QUIT\r\n"
        assert_equal "+OK\r\n" [raw_read_eof $fd]
    }

    test "RESET de-authenticates when a password is set" {
        set fd [raw_connect]
        raw_send $fd "AUTH foobar\r\nPING\r\nRESET\r\nPING\r\n"
        raw_expect $fd "+OK\r\n+PONG\r\n+RESET\r\n-$::noauth\r\n"
        raw_send $fd "AUTH foobar\r\nPING\r\n"
        raw_expect $fd "+OK\r\n+PONG\r\n"
    }

    test "RESET of an authenticated subscriber drops its subscriptions and its auth" {
        set c [pubsub_client]
        $c auth foobar
        assert_equal OK [$c read]
        subscribe $c {a.reset}
        r auth foobar
        assert_equal {a.reset 1} [r pubsub numsub a.reset]
        $c reset
        assert_equal RESET [$c read]
        wait_for_condition 100 20 {
            [r pubsub numsub a.reset] eq {a.reset 0}
        } else {
            fail "subscription survived RESET"
        }
        $c ping
        assert_error $::noauth {$c read}
    }

    test "AUTH inside MULTI is queued and runs in EXEC" {
        set c [redis_client]
        assert_equal OK [$c auth foobar]
        assert_equal OK [$c multi]
        assert_equal QUEUED [$c auth foobar]
        assert_equal {OK} [$c exec]
    }

    test "The password-protected server is clean" {
        r auth foobar
        assert_server_clean
    }
}
