# info.tcl -- INFO: the sections and fields monitoring tools read, the
# counters that move as clients connect, run commands and subscribe, section
# selection (default, all, everything, several, unknown), and CONFIG
# RESETSTAT.
#
# Field names and section names are Redis 7.0's, plus the 7.2 and 7.4
# fields clients and exporters read (tests tagged redis72, skipped against
# Debian's 7.0). Values that are the server's own (allocator, memory
# figures) are checked for shape.

start_server {tags {info}} {

    # The "# Name" section headers of an INFO reply, in order.
    proc info_sections {info} {
        set names {}
        foreach line [split $info "\n"] {
            set line [string trimright $line "\r"]
            if {[string match "# *" $line]} {lappend names [string range $line 2 end]}
        }
        return $names
    }

    proc stat {field {section stats}} {
        return [info_field [r info $section] $field]
    }

    # Is WANT a subsequence (same relative order) of HAVE?
    proc in_order {want have} {
        set i 0
        foreach h $have {
            if {$i < [llength $want] && $h eq [lindex $want $i]} {incr i}
        }
        return [expr {$i == [llength $want]}]
    }

    set ::default_sections {Server Clients Memory Persistence Stats Replication CPU Keyspace}

    # -----------------------------------------------------------------
    # Sections
    # -----------------------------------------------------------------

    test "INFO without arguments has the default sections in Redis's order" {
        set sections [info_sections [r info]]
        foreach s $::default_sections {
            assert {$s in $sections} "section $s in {$sections}"
        }
        assert [in_order $::default_sections $sections] "order of {$sections}"
        assert {"Commandstats" ni $sections} "Commandstats is not a default section"
        assert_equal $sections [info_sections [r info default]]
    }

    test "INFO lines are CRLF-terminated field:value pairs under # headers" {
        set info [r info]
        assert_equal "# Server\r\n" [string range $info 0 9]
        assert_equal "\r\n" [string range $info end-1 end]
        assert {![regexp {[^\r]\n} $info]} "every LF follows a CR"
        foreach line [split [string map {"\r\n" "\n"} $info] "\n"] {
            if {$line eq "" || [string match "# *" $line]} continue
            assert_match {[a-zA-Z0-9_]*:*} $line
            assert [regexp {^[a-zA-Z0-9_]+:} $line] "field name in [show $line]"
        }
    }

    test "INFO server clients returns exactly those two sections" {
        assert_equal {Server Clients} [info_sections [r info server clients]]
        assert_equal {Server Clients} [info_sections [r info clients server]] \
            "sections come in the server's order, whatever the argument order"
    }

    test "INFO section names are case-insensitive" {
        assert_equal {Server} [info_sections [r info SERVER]]
        assert_equal {Stats} [info_sections [r info StAtS]]
    }

    test "INFO all and everything include every default section" {
        foreach arg {all everything} {
            set sections [info_sections [r info $arg]]
            foreach s $::default_sections {
                assert {$s in $sections} "INFO $arg has $s: {$sections}"
            }
            assert [in_order $::default_sections $sections] "INFO $arg order {$sections}"
        }
    }

    test "INFO of an unknown section is empty" {
        assert_equal "" [r info nosuchsection]
        assert_equal \$ [[srv client] last_type]
        set fd [raw_connect]
        raw_send $fd "INFO nosuchsection\r\n"
        raw_expect $fd "\$0\r\n\r\n"
    }

    test "INFO keyspace is an empty section" {
        assert_equal "# Keyspace\r\n" [r info keyspace]
    }

    # -----------------------------------------------------------------
    # Server section
    # -----------------------------------------------------------------

    test "INFO server: version, mode, port, uptime" {
        set info [r info server]
        assert_match {[0-9]*.[0-9]*.[0-9]*} [info_field $info redis_version]
        assert_equal standalone [info_field $info redis_mode]
        assert_equal [srv port] [info_field $info tcp_port]
        set up [info_field $info uptime_in_seconds]
        assert [string is integer -strict $up] "uptime_in_seconds=$up"
        assert_morethan_equal $up 0
        assert [string is integer -strict [info_field $info uptime_in_days]]
        assert [string is integer -strict [info_field $info process_id]]
        assert_equal 64 [info_field $info arch_bits]
        assert_equal epoll [info_field $info multiplexing_api]
        assert_match {[0-9a-f]*} [info_field $info run_id]
        assert_equal 40 [string length [info_field $info run_id]]
    }

    test "INFO server process_id is the server's pid" {
        assert_equal [srv pid] [info_field [r info server] process_id]
    } {external:skip}

    test "INFO server run_id is stable while the server runs" {
        assert_equal [info_field [r info server] run_id] [info_field [r info server] run_id]
    }

    test "INFO server has our redis_pubsub_version" {
        set v [info_field [r info server] redis_pubsub_version]
        assert_match {[0-9]*.[0-9]*.[0-9]*} $v
    } {ours}

    # Debian's redis-server says 7.0.15; we serve Redis 7.2's semantics.
    test "INFO server and HELLO say redis_version 7.2.x" {
        assert_match {7.2.[0-9]*} [info_field [r info server] redis_version]
        set c [redis_client]
        assert_match {7.2.[0-9]*} [dict get [$c hello 2] version]
        assert_equal [info_field [r info server] redis_version] [dict get [$c hello 2] version]
    } {redis72}

    # -----------------------------------------------------------------
    # Clients and stats
    # -----------------------------------------------------------------

    # Redis 7.4's Clients section (7.0 has neither pubsub_clients nor the
    # watch and blocking-key counters).
    test "INFO clients has Redis 7.4's fields in its order" {
        set want [list {*}{connected_clients cluster_connections maxclients
                  client_recent_max_input_buffer client_recent_max_output_buffer
                  blocked_clients tracking_clients pubsub_clients watching_clients
                  clients_in_timeout_table total_watched_keys total_blocking_keys
                  total_blocking_keys_on_nokey}]
        set keys {}
        foreach line [split [r info clients] "\n"] {
            set line [string trimright $line "\r"]
            if {[regexp {^([a-z_]+):} $line -> k]} {lappend keys $k}
        }
        assert_equal $want $keys
    } {redis72}

    test "INFO clients pubsub_clients counts clients with a subscription of any kind" {
        wait_for_condition 100 20 {
            [stat pubsub_clients clients] == 0
        } else {
            fail "subscribers of earlier tests still connected"
        }
        set a [pubsub_client]
        subscribe $a {n5.chan}
        set b [pubsub_client 3]
        psubscribe $b {n5.*}
        set s [pubsub_client]
        ssubscribe $s {n5.shard}
        assert_equal 3 [stat pubsub_clients clients]
        unsubscribe $a {n5.chan}
        assert_equal 2 [stat pubsub_clients clients]
        $b close
        wait_for_condition 100 20 {
            [stat pubsub_clients clients] == 1
        } else {
            fail "pubsub_clients is [stat pubsub_clients clients], expected 1"
        }
    } {redis72}

    # Both counters are Redis 7.4's (INFO stats); 7.0 has neither.
    test "INFO stats client_output_buffer_limit_disconnections counts every class" {
        set old [lindex [r config get client-output-buffer-limit] 1]
        set base [stat client_output_buffer_limit_disconnections]
        assert_equal 0 [stat client_query_buffer_limit_disconnections]
        try {
            r config set client-output-buffer-limit "normal 64kb 0 0 pubsub 64kb 0 0"
            # A normal client that pipelines big replies and never reads:
            # 400 x 64 KiB, far more than the socket buffers hold (Tcl
            # writes in the background; the write fails once we close it).
            set fd [raw_connect]
            set cmd [::redis::encode [list ECHO [string repeat e 65536]]]
            catch {raw_send $fd [string repeat $cmd 400]}
            wait_for_condition 200 50 {
                [stat client_output_buffer_limit_disconnections] == $base + 1
            } else {
                fail "normal client not counted: [stat client_output_buffer_limit_disconnections]"
            }
            # A subscriber that never reads.
            set sub [pubsub_client]
            subscribe $sub {n6.chan}
            set big [string repeat m 65536]
            for {set i 0} {$i < 400 && [r publish n6.chan $big] == 1} {incr i} {}
            wait_for_condition 200 50 {
                [stat client_output_buffer_limit_disconnections] == $base + 2
            } else {
                fail "subscriber not counted: [stat client_output_buffer_limit_disconnections]"
            }
        } finally {
            r config set client-output-buffer-limit $old
        }
    } {redis72}

    # Redis 7.4's counter too (7.0 has no such field).
    test "INFO stats client_query_buffer_limit_disconnections counts a client closed at the limit" {
        set old [lindex [r config get client-query-buffer-limit] 1]
        set base [stat client_query_buffer_limit_disconnections]
        try {
            r config set client-query-buffer-limit 1mb
            set fd [raw_connect]
            # An incomplete 10 MB bulk: the query buffer passes 1 MB.
            catch {raw_send $fd "*2\r\n\$4\r\nECHO\r\n\$10000000\r\n[string repeat q 2000000]"}
            wait_for_condition 200 50 {
                [stat client_query_buffer_limit_disconnections] == $base + 1
            } else {
                fail "not counted: [stat client_query_buffer_limit_disconnections]"
            }
        } finally {
            r config set client-query-buffer-limit $old
        }
    } {redis72}

    # CLIENT MAINT_NOTIFICATIONS is sent on connect by clients that then
    # fall back on Redis OSS's answer: the unknown-subcommand error.
    test "CLIENT MAINT_NOTIFICATIONS gets Redis's unknown-subcommand error" {
        assert_error "ERR unknown subcommand 'maint_notifications'. Try CLIENT HELP." {
            r client maint_notifications on
        }
        assert_error "ERR unknown subcommand 'MAINT_NOTIFICATIONS'. Try CLIENT HELP." {
            r client MAINT_NOTIFICATIONS on moving-endpoint-type internal-ip
        }
        set fd [raw_connect]
        raw_send $fd "CLIENT MAINT_NOTIFICATIONS on\r\nPING\r\n"
        raw_expect $fd "-ERR unknown subcommand 'MAINT_NOTIFICATIONS'. Try CLIENT HELP.\r\n+PONG\r\n"
    }

    test "INFO clients connected_clients follows connections" {
        wait_for_condition 100 20 {
            [connected_clients] == 1
        } else {
            fail "clients of earlier tests still connected"
        }
        set clients {}
        for {set i 0} {$i < 5} {incr i} {
            set c [redis_client]
            $c ping
            lappend clients $c
        }
        assert_equal 6 [connected_clients]
        foreach c [lrange $clients 0 2] {$c close}
        wait_for_condition 100 20 {
            [connected_clients] == 3
        } else {
            fail "connected_clients is [connected_clients], expected 3"
        }
    }

    test "INFO clients counts subscribers and raw connections too" {
        wait_for_condition 100 20 {
            [connected_clients] == 1
        } else {
            fail "clients of earlier tests still connected"
        }
        set s [pubsub_client 3]
        subscribe $s {n1.chan}
        set fd [raw_connect]
        raw_send $fd "PING\r\n"
        raw_expect $fd "+PONG\r\n"
        assert_equal 3 [connected_clients]
    }

    test "INFO clients maxclients matches CONFIG GET maxclients" {
        assert_equal [lindex [r config get maxclients] 1] [stat maxclients clients]
    }

    test "INFO stats total_connections_received counts new connections" {
        set before [stat total_connections_received]
        for {set i 0} {$i < 3} {incr i} {
            set c [redis_client]
            $c ping
            $c close
        }
        set fd [raw_connect]
        raw_send $fd "PING\r\n"
        raw_expect $fd "+PONG\r\n"
        assert_equal [expr {$before + 4}] [stat total_connections_received]
    }

    test "INFO stats total_commands_processed grows with commands" {
        set before [stat total_commands_processed]
        for {set i 0} {$i < 10} {incr i} {r ping}
        set after [stat total_commands_processed]
        assert_range [expr {$after - $before}] 10 12
    }

    test "INFO stats pubsub_channels, pubsub_patterns and pubsubshard_channels" {
        set base_ch [stat pubsub_channels]
        set base_pat [stat pubsub_patterns]
        set base_sh [stat pubsubshard_channels]
        set c1 [pubsub_client]
        set c2 [pubsub_client 3]
        subscribe $c1 {n2.a n2.b}
        subscribe $c2 {n2.b n2.c}
        psubscribe $c1 {n2.*}
        psubscribe $c2 {n2.* n2.?}
        ssubscribe $c2 {n2.s1 n2.s2}
        set info [r info stats]
        # Every counter counts distinct names: a pattern held by two
        # clients counts once, as in PUBSUB NUMPAT (Redis 7.0).
        assert_equal [expr {$base_ch + 3}] [info_field $info pubsub_channels]
        assert_equal [expr {$base_pat + 2}] [info_field $info pubsub_patterns]
        assert_equal [r pubsub numpat] [info_field $info pubsub_patterns]
        assert_equal [expr {$base_sh + 2}] [info_field $info pubsubshard_channels]
        unsubscribe $c1 {n2.a n2.b}
        punsubscribe $c2 {n2.?}
        sunsubscribe $c2 {n2.s1}
        set info [r info stats]
        assert_equal [expr {$base_ch + 2}] [info_field $info pubsub_channels]
        assert_equal [expr {$base_pat + 1}] [info_field $info pubsub_patterns]
        assert_equal [expr {$base_sh + 1}] [info_field $info pubsubshard_channels]
        $c1 close
        $c2 close
        wait_for_condition 100 20 {
            [stat pubsub_channels] == $base_ch &&
            [stat pubsub_patterns] == $base_pat &&
            [stat pubsubshard_channels] == $base_sh
        } else {
            fail "pub/sub counters did not drop back: [r info stats]"
        }
    }

    test "INFO memory: used_memory is a number, mem_allocator is named" {
        set info [r info memory]
        set used [info_field $info used_memory]
        assert [string is wide -strict $used] "used_memory=$used"
        assert_morethan $used 0
        assert_match {*[0-9]*} [info_field $info used_memory_human]
        assert [string is wide -strict [info_field $info used_memory_peak]]
        assert [string is wide -strict [info_field $info used_memory_rss]]
        assert_match {*[a-z]*} [info_field $info mem_allocator]
    }

    test "INFO memory used_memory grows with a large pending output" {
        set before [stat used_memory memory]
        set c [pubsub_client]
        subscribe $c {n3.big}
        # The subscriber does not read: what the socket buffers cannot
        # take (most of 16 MiB) waits in the server.
        set payload [string repeat x 1048576]
        for {set i 0} {$i < 16} {incr i} {r publish n3.big $payload}
        set after [stat used_memory memory]
        assert_morethan $after $before
    }

    test "INFO persistence and replication say what Redis says with nothing to save" {
        set info [r info persistence]
        assert_equal 0 [info_field $info loading]
        assert_equal 0 [info_field $info rdb_bgsave_in_progress]
        assert_equal 0 [info_field $info aof_enabled]
        set info [r info replication]
        assert_equal master [info_field $info role]
        assert_equal 0 [info_field $info connected_slaves]
    }

    test "INFO cpu reports CPU time as decimals" {
        set info [r info cpu]
        foreach f {used_cpu_sys used_cpu_user} {
            assert [string is double -strict [info_field $info $f]] "$f=[info_field $info $f]"
        }
    }

    # -----------------------------------------------------------------
    # CONFIG RESETSTAT
    # -----------------------------------------------------------------

    test "CONFIG RESETSTAT resets the connection and command counters" {
        for {set i 0} {$i < 20} {incr i} {r ping}
        set c [redis_client]
        $c ping
        assert_morethan [stat total_commands_processed] 20
        assert_morethan [stat total_connections_received] 0
        assert_equal OK [r config resetstat]
        set info [r info stats]
        assert_equal 0 [info_field $info total_connections_received]
        assert_range [info_field $info total_commands_processed] 0 2
        assert_error "ERR wrong number of arguments for 'config|resetstat' command" {
            r config resetstat x
        }
    }

    test "CONFIG RESETSTAT keeps the pub/sub state" {
        set c [pubsub_client]
        subscribe $c {n4.chan}
        set before [stat pubsub_channels]
        assert_equal OK [r config resetstat]
        assert_equal $before [stat pubsub_channels]
        assert_equal 1 [r publish n4.chan x]
        assert_equal {message n4.chan x} [$c read]
    }

    test "The server is back to a clean state" {
        assert_server_clean
    }
}
