# process.tcl -- The server as a process: readiness line in the log, the
# pidfile, clean exit on SIGTERM, SIGINT and SHUTDOWN, a fatal error on a
# bad config file, --version, and command-line options overriding the
# config file.
#
# Most tests start the binary themselves with proc_start (support/server.tcl:
# the harness's start_server owns the processes it spawns and treats an
# early exit as a failure), so nothing here waits on a process without a
# deadline. Only processes started here are signalled, by pid.

# ---------------------------------------------------------------------
# Under the harness
# ---------------------------------------------------------------------

set ::harness_pidfile [file join $::tmp_root "process.[pid].harness.pid"]
file delete -force $::harness_pidfile

start_server [list tags {process external:skip} overrides [list pidfile $::harness_pidfile]] {

    test "The log says Ready to accept connections" {
        set log [read_file_bytes [srv stdout]]
        assert_match "*Ready to accept connections*" $log
    }

    test "The pidfile holds the server's pid" {
        assert [file exists $::harness_pidfile] "pidfile $::harness_pidfile"
        assert_equal [srv pid] [string trim [read_file_bytes $::harness_pidfile]]
    }

    test "SHUTDOWN with a bad argument is a syntax error and the server keeps running" {
        assert_error "ERR syntax error" {r shutdown foo}
        assert_equal PONG [r ping]
    }

    test "The server is back to a clean state" {
        assert_server_clean
    }
}

tags {process external:skip} {

    test "After the harness stopped it (SIGTERM), the pidfile is gone" {
        assert {![file exists $::harness_pidfile]} "pidfile still there"
    }

    test "SIGTERM: subscribers are disconnected, exit status 0, pidfile removed" {
        set dir [proc_dir]
        set port [find_available_port]
        set pidfile [file join $dir server.pid]
        set p [proc_start [list [proc_config $dir $port "pidfile $pidfile\n"]] $dir]
        try {
            proc_wait_ready $p $port
            wait_for_condition 100 10 {
                [string trim [read_file_bytes $pidfile]] ne ""
            } else {
                fail "no pidfile written"
            }
            assert_equal [dict get $p pid] [string trim [read_file_bytes $pidfile]]
            set c [redis_deferring_client 127.0.0.1 $port]
            subscribe $c {x.chan}
            set fd [raw_connect 127.0.0.1 $port]
            raw_send $fd "PING\r\n"
            raw_expect $fd "+PONG\r\n"
            set start [clock milliseconds]
            exec kill -TERM [dict get $p pid]
            set status [proc_wait_exit $p 5000]
            assert_equal 0 $status "exit status after SIGTERM"
            assert_lessthan [expr {[clock milliseconds] - $start}] 3000
            assert {![file exists $pidfile]} "pidfile removed"
            assert_equal "" [raw_read_eof $fd]
            assert_error "*" {$c read}
        } finally {
            proc_cleanup $p
        }
    }

    test "SIGINT: exit status 0" {
        set dir [proc_dir]
        set port [find_available_port]
        set p [proc_start [list [proc_config $dir $port]] $dir]
        try {
            proc_wait_ready $p $port
            exec kill -INT [dict get $p pid]
            assert_equal 0 [proc_wait_exit $p 5000] "exit status after SIGINT"
        } finally {
            proc_cleanup $p
        }
    }

    test "SHUTDOWN NOSAVE: the connection closes, exit status 0" {
        set dir [proc_dir]
        set port [find_available_port]
        set p [proc_start [list [proc_config $dir $port]] $dir]
        try {
            proc_wait_ready $p $port
            set fd [raw_connect 127.0.0.1 $port]
            raw_send $fd "SHUTDOWN NOSAVE\r\n"
            assert_equal "" [raw_read_eof $fd]
            assert_equal 0 [proc_wait_exit $p 5000] "exit status after SHUTDOWN"
        } finally {
            proc_cleanup $p
        }
    }

    test "An unknown directive in the config file is fatal and named" {
        set dir [proc_dir]
        set port [find_available_port]
        set conf [proc_config $dir $port "foobarbaz 1\n"]
        set p [proc_start [list $conf] $dir]
        try {
            set status [proc_wait_exit $p 5000]
            assert_not_equal "" $status "the server did not exit"
            assert_not_equal 0 $status "exit status"
            assert_match "*foobarbaz*" [proc_output $p]
            assert {![proc_port_open $port]}
        } finally {
            proc_cleanup $p
        }
    }

    test "A directive with a bad value in the config file is fatal" {
        set dir [proc_dir]
        set port [find_available_port]
        set conf [proc_config $dir $port "maxclients notanumber\n"]
        set p [proc_start [list $conf] $dir]
        try {
            set status [proc_wait_exit $p 5000]
            assert_not_equal "" $status "the server did not exit"
            assert_not_equal 0 $status "exit status"
            assert_match "*maxclients*" [proc_output $p]
        } finally {
            proc_cleanup $p
        }
    }

    test "A config file that cannot be read is fatal" {
        set dir [proc_dir]
        set p [proc_start [list [file join $dir no-such.conf]] $dir]
        try {
            set status [proc_wait_exit $p 5000]
            assert_not_equal "" $status "the server did not exit"
            assert_not_equal 0 $status "exit status"
            assert_match "*no-such.conf*" [proc_output $p]
        } finally {
            proc_cleanup $p
        }
    }

    test "--version prints a version line and exits 0" {
        set p [proc_start {--version}]
        try {
            assert_equal 0 [proc_wait_exit $p 5000] "exit status of --version"
            set out [read_file_bytes [dict get $p stdout]]
            assert [regexp {[0-9]+\.[0-9]+\.[0-9]+} $out] "version in [show $out]"
            assert_equal 1 [llength [split [string trim $out] "\n"]] "one line: [show $out]"
        } finally {
            proc_cleanup $p
        }
    }

    test "--port on the command line overrides the config file" {
        set dir [proc_dir]
        set file_port [find_available_port]
        set cli_port [find_available_port]
        set conf [proc_config $dir $file_port]
        set p [proc_start [list $conf --port $cli_port] $dir]
        try {
            proc_wait_ready $p $cli_port
            set c [redis_client 127.0.0.1 $cli_port]
            assert_equal [list port $cli_port] [$c config get port]
            assert_equal $cli_port [info_field [$c info server] tcp_port]
            assert {![proc_port_open $file_port]} "nothing listens on the file's port"
            exec kill -TERM [dict get $p pid]
            assert_equal 0 [proc_wait_exit $p 5000]
        } finally {
            proc_cleanup $p
        }
    }

    test "Several options on the command line after the config file" {
        set dir [proc_dir]
        set port [find_available_port]
        set conf [proc_config $dir [find_available_port]]
        set p [proc_start [list $conf --port $port --maxclients 77 --timeout 33] $dir]
        try {
            proc_wait_ready $p $port
            set c [redis_client 127.0.0.1 $port]
            assert_equal {maxclients 77} [$c config get maxclients]
            assert_equal {timeout 33} [$c config get timeout]
            exec kill -TERM [dict get $p pid]
            assert_equal 0 [proc_wait_exit $p 5000]
        } finally {
            proc_cleanup $p
        }
    }

    test "A multi-argument option given as one quoted argument is split, as in Redis" {
        set dir [proc_dir]
        set port [find_available_port]
        set conf [proc_config $dir [find_available_port]]
        set p [proc_start [list $conf --port $port --client-output-buffer-limit "pubsub 32mb 8mb 60"] $dir]
        try {
            proc_wait_ready $p $port
            set c [redis_client 127.0.0.1 $port]
            set v [lindex [$c config get client-output-buffer-limit] 1]
            assert [string match {*pubsub 33554432 8388608 60*} $v] "limits: [show $v]"
            exec kill -TERM [dict get $p pid]
            assert_equal 0 [proc_wait_exit $p 5000]
        } finally {
            proc_cleanup $p
        }
    }
}
