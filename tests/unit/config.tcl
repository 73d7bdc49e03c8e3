# config.tcl -- CONFIG GET, SET and REWRITE: values and formats of the
# directives we share with Redis, glob patterns, Redis's exact error texts,
# atomic multi-parameter SET, and the runtime effect of timeout and
# maxclients.
#
# Defaults checked in spawn mode are those of redis-server 7.0 started on
# tests/assets/default.conf (no save, no appendonly, bind 127.0.0.1).
# Every test that changes a value puts it back.

start_server {tags {config}} {

    proc cfg {name} {
        set reply [r config get $name]
        if {[llength $reply] != 2} {fail "CONFIG GET $name: [show $reply]"}
        return [lindex $reply 1]
    }

    set ::setfail "ERR CONFIG SET failed (possibly related to argument"

    # -----------------------------------------------------------------
    # CONFIG GET
    # -----------------------------------------------------------------

    test "CONFIG GET port is the listening port" {
        assert_equal [list port [srv port]] [r config get port]
    }

    test "CONFIG GET of the defaults we share with Redis" {
        foreach {name value} {
            timeout                      0
            maxclients                   10000
            tcp-keepalive                300
            proto-max-bulk-len           536870912
            client-query-buffer-limit    1073741824
            requirepass                  ""
            databases                    16
            daemonize                    no
            unixsocket                   ""
        } {
            assert_equal [list $name $value] [r config get $name] $name
        }
    } {external:skip}

    test "CONFIG GET bind is the address we listen on" {
        assert_equal {bind 127.0.0.1} [r config get bind]
    } {external:skip}

    test "CONFIG GET client-output-buffer-limit uses Redis's format" {
        assert_equal "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60" \
            [cfg client-output-buffer-limit]
    } {external:skip}

    test "CONFIG GET of Redis directives that mean nothing here answers like Redis" {
        assert_equal {save {}} [r config get save]
        assert_equal {appendonly no} [r config get appendonly]
        assert_equal {maxmemory 0} [r config get maxmemory]
        assert_equal {maxmemory-policy noeviction} [r config get maxmemory-policy]
    } {external:skip}

    test "CONFIG GET with a glob pattern returns every match as name/value pairs" {
        set reply [r config get *max*]
        assert_equal 0 [expr {[llength $reply] % 2}]
        foreach {name value} $reply {
            assert_match *max* $name
        }
        assert [dict exists $reply maxclients]
        assert [dict exists $reply proto-max-bulk-len]
        assert_equal [cfg maxclients] [dict get $reply maxclients]
        assert_equal {} [r config get *no-such-thing*]
    }

    test "CONFIG GET with several names and patterns" {
        set reply [r config get port timeout]
        assert_equal 4 [llength $reply]
        assert_equal [srv port] [dict get $reply port]
        assert_equal [cfg timeout] [dict get $reply timeout]
        # A parameter matched twice is returned once.
        assert_equal [list port [srv port]] [r config get port port]
        assert_equal [list port [srv port]] [r config get port p?rt]
    }

    test "CONFIG GET of an unknown parameter is an empty array" {
        assert_equal {} [r config get nosuchparameter]
        assert_equal * [[srv client] last_type]
        set fd [raw_connect]
        raw_send $fd "CONFIG GET nosuchparameter\r\n"
        raw_expect $fd "*0\r\n"
    }

    test "CONFIG GET: an exact name is matched without case, and echoed as given" {
        assert_equal [list PORT [srv port]] [r config get PORT]
        assert_equal [list TimeOut [cfg timeout]] [r config get TimeOut]
    }

    test "CONFIG GET argument errors" {
        assert_error "ERR wrong number of arguments for 'config|get' command" {r config get}
        assert_error "ERR wrong number of arguments for 'config' command" {r config}
        assert_error "ERR unknown subcommand 'nosuch'. Try CONFIG HELP." {r config nosuch}
    }

    # -----------------------------------------------------------------
    # CONFIG SET
    # -----------------------------------------------------------------

    test "CONFIG SET one parameter" {
        assert_equal OK [r config set timeout 100]
        assert_equal 100 [cfg timeout]
        assert_equal OK [r config set TIMEOUT 0]
        assert_equal 0 [cfg timeout]
    }

    test "CONFIG SET several parameters at once" {
        set old_max [cfg maxclients]
        assert_equal OK [r config set timeout 55 maxclients 500 tcp-keepalive 120]
        assert_equal 55 [cfg timeout]
        assert_equal 500 [cfg maxclients]
        assert_equal 120 [cfg tcp-keepalive]
        assert_equal OK [r config set timeout 0 maxclients $old_max tcp-keepalive 300]
        assert_equal 0 [cfg timeout]
        assert_equal $old_max [cfg maxclients]
    }

    test "CONFIG SET is atomic: one bad value and nothing is applied" {
        set old_timeout [cfg timeout]
        set old_max [cfg maxclients]
        assert_error "$::setfail 'maxclients') - argument couldn't be parsed into an integer" {
            r config set timeout 77 maxclients abc
        }
        assert_equal $old_timeout [cfg timeout]
        assert_error "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'" {
            r config set timeout 78 nosuch 1
        }
        assert_equal $old_timeout [cfg timeout]
        assert_error "$::setfail 'maxclients') - argument must be between 1 and 4294967295 inclusive" {
            r config set maxclients 0 timeout 79
        }
        assert_equal $old_timeout [cfg timeout]
        assert_equal $old_max [cfg maxclients]
    }

    test "CONFIG SET error texts" {
        assert_error "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'" {
            r config set nosuch 1
        }
        assert_error "$::setfail 'timeout') - argument couldn't be parsed into an integer" {
            r config set timeout abc
        }
        assert_error "$::setfail 'timeout') - argument couldn't be parsed into an integer" {
            r config set timeout 1.5
        }
        assert_error "$::setfail 'timeout') - argument must be between 0 and 2147483647 inclusive" {
            r config set timeout -1
        }
        assert_error "$::setfail 'maxclients') - argument must be between 1 and 4294967295 inclusive" {
            r config set maxclients -1
        }
        assert_error "$::setfail 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive" {
            r config set proto-max-bulk-len 1000
        }
        assert_error "$::setfail 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning" {
            r config set loglevel loud
        }
        assert_error "$::setfail 'daemonize') - can't set immutable config" {
            r config set daemonize yes
        }
        assert_error "$::setfail 'timeout') - duplicate parameter" {
            r config set timeout 5 timeout 6
        }
        assert_error "$::setfail 'TIMEOUT') - duplicate parameter" {
            r config set timeout 5 TIMEOUT 6
        }
    }

    test "CONFIG SET argument count errors" {
        assert_error "ERR wrong number of arguments for 'config|set' command" {r config set}
        assert_error "ERR wrong number of arguments for 'config|set' command" {r config set timeout}
        assert_error "ERR syntax error" {r config set timeout 1 maxclients}
        assert_equal 0 [cfg timeout]
    }

    test "CONFIG SET accepts memory units" {
        set old [cfg proto-max-bulk-len]
        assert_equal OK [r config set proto-max-bulk-len 2mb]
        assert_equal 2097152 [cfg proto-max-bulk-len]
        assert_equal OK [r config set proto-max-bulk-len 1gb]
        assert_equal 1073741824 [cfg proto-max-bulk-len]
        assert_equal OK [r config set proto-max-bulk-len $old]
        assert_equal $old [cfg proto-max-bulk-len]
    }

    test "CONFIG SET loglevel" {
        set old [cfg loglevel]
        foreach level {debug verbose notice warning} {
            assert_equal OK [r config set loglevel $level]
            assert_equal $level [cfg loglevel]
        }
        r config set loglevel $old
    }

    test "CONFIG SET client-output-buffer-limit, one class at a time" {
        set old [cfg client-output-buffer-limit]
        assert_equal OK [r config set client-output-buffer-limit "pubsub 1mb 512kb 30"]
        assert_equal "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 30" \
            [cfg client-output-buffer-limit]
        assert_equal OK [r config set client-output-buffer-limit "normal 1mb 2mb 0 pubsub 33554432 8388608 60"]
        assert_equal "normal 1048576 2097152 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60" \
            [cfg client-output-buffer-limit]
        assert_equal OK [r config set client-output-buffer-limit $old]
        assert_equal $old [cfg client-output-buffer-limit]
    } {external:skip}

    test "CONFIG SET client-output-buffer-limit errors" {
        set old [cfg client-output-buffer-limit]
        assert_error "$::setfail 'client-output-buffer-limit') - Invalid client class specified in buffer limit configuration." {
            r config set client-output-buffer-limit "foo 1 2 3"
        }
        assert_error "$::setfail 'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration." {
            r config set client-output-buffer-limit "pubsub 1 2"
        }
        assert_error "$::setfail 'client-output-buffer-limit') - Error in hard, soft or soft_seconds setting in buffer limit configuration." {
            r config set client-output-buffer-limit "normal x 0 0"
        }
        assert_equal $old [cfg client-output-buffer-limit]
    }

    # -----------------------------------------------------------------
    # Runtime effects
    # -----------------------------------------------------------------

    test "CONFIG SET timeout closes idle clients but not subscribers" {
        set idle [redis_client]
        set idle_id [$idle client id]
        set fd [raw_connect]
        raw_send $fd "CLIENT SETNAME idle.raw\r\n"
        raw_expect $fd "+OK\r\n"
        set s2 [pubsub_client]
        subscribe $s2 {g1.chan}
        set s3 [pubsub_client 3]
        psubscribe $s3 {g1.*}
        assert_equal OK [r config set timeout 1]
        try {
            wait_for_condition 100 100 {
                [r client list id $idle_id] eq "" &&
                ![string match "*name=idle.raw*" [r client list]]
            } else {
                fail "idle clients were not closed: [r client list]"
            }
            assert_equal "" [raw_read_eof $fd]
            # Subscribers idle just as long are still there.
            assert_equal 2 [r publish g1.chan alive]
            assert_equal {message g1.chan alive} [$s2 read]
            assert_equal {pmessage g1.* g1.chan alive} [$s3 read]
        } finally {
            r config set timeout 0
        }
    } {external:skip}

    test "CONFIG SET maxclients refuses the connection after the limit" {
        wait_for_condition 100 20 {
            [connected_clients] == 1
        } else {
            fail "clients of earlier tests still connected"
        }
        set old [cfg maxclients]
        set rejected [info_field [r info stats] rejected_connections]
        assert_equal OK [r config set maxclients 3]
        try {
            set c1 [redis_client]
            set c2 [redis_client]
            assert_equal PONG [$c1 ping]
            assert_equal PONG [$c2 ping]
            set fd [raw_connect]
            assert_equal "-ERR max number of clients reached\r\n" [raw_read_eof $fd]
            assert_equal [expr {$rejected + 1}] [info_field [r info stats] rejected_connections]
            $c2 close
            wait_for_condition 100 20 {
                [connected_clients] == 2
            } else {
                fail "closed client still counted"
            }
            set c3 [redis_client]
            assert_equal PONG [$c3 ping]
        } finally {
            r config set maxclients $old
        }
    } {external:skip}

    test "CONFIG REWRITE writes the changed directive to the config file" {
        assert_equal OK [r config set timeout 321]
        try {
            assert_equal OK [r config rewrite]
            set text [read_file_bytes [srv config]]
            assert [regexp -line {^timeout 321$} $text] "timeout 321 in [show $text]"
            assert [regexp -line "^port [srv port]\$" $text] "port kept in [show $text]"
        } finally {
            r config set timeout 0
            r config rewrite
        }
        assert_no_match "*timeout 321*" [read_file_bytes [srv config]]
    } {external:skip}

    test "CONFIG REWRITE writes the ACL users as user lines, as Redis does" {
        assert_equal OK [r acl setuser rwuser on >pw +@pubsub &news*]
        try {
            assert_equal OK [r config rewrite]
            set text [read_file_bytes [srv config]]
            set sha [string repeat {[0-9a-f]} 64]
            assert [regexp -line "^user rwuser on #$sha resetchannels &news\\* -@all \\+@pubsub\$" $text] \
                "rwuser line in [show $text]"
            assert [regexp -line {^user default on nopass ~\* &\* \+@all$} $text] "default user line in [show $text]"
        } finally {
            r acl deluser rwuser
            r config rewrite
        }
        assert_no_match "*rwuser*" [read_file_bytes [srv config]]
    } {external:skip}

    test "CONFIG REWRITE takes no arguments" {
        assert_error "ERR wrong number of arguments for 'config|rewrite' command" {
            r config rewrite now
        }
    }

    test "The server is back to a clean state" {
        assert_server_clean
    }
}
