# process.tcl -- The server as a process: readiness line in the log, the
# pidfile, clean exit on SIGTERM, SIGINT and SHUTDOWN, a fatal error on a
# bad config file, --version, and command-line options overriding the
# config file.
#
# Most tests start the binary themselves (the harness's start_server owns
# the processes it spawns and treats an early exit as a failure), under a
# small sh wrapper that records the pid and the exit status, so nothing
# here waits on a process without a deadline. Only processes started here
# are signalled, by pid.

set ::proc_seq 0

# Starts the server binary with ARGS (a list) in a fresh directory, stdout
# and stderr to files there. Returns a dict: pid dir stdout stderr status.
proc proc_start {argv {dir ""}} {
    if {$dir eq ""} {set dir [proc_dir]}
    set out [file join $dir out.log]
    set err [file join $dir err.log]
    set pidfile [file join $dir wrapper.pid]
    set status [file join $dir exit.status]
    set wrapper {bin=$1; out=$2; err=$3; pf=$4; st=$5; shift 5; "$bin" "$@" >"$out" 2>"$err" </dev/null & echo $! >"$pf"; wait $!; echo $? >"$st"}
    exec sh -c $wrapper sh $::opt(server_bin) $out $err $pidfile $status {*}$argv &
    set pid ""
    wait_for_condition 500 10 {
        [string is integer -strict [set pid [string trim [read_file_bytes $pidfile]]]] && $pid > 0
    } else {
        fail "the wrapper did not record a pid"
    }
    report "\[server-pid\]: $pid"
    return [dict create pid $pid dir $dir stdout $out stderr $err status $status]
}

# A new empty directory under tests/tmp.
proc proc_dir {} {
    set dir [file join $::tmp_root "process.[pid].[incr ::proc_seq]"]
    file delete -force $dir
    file mkdir $dir
    return $dir
}

# The exit status of a process started by proc_start, waiting up to MS
# milliseconds; "" if it is still running.
proc proc_wait_exit {p {ms 10000}} {
    set deadline [expr {[clock milliseconds] + $ms}]
    while {[clock milliseconds] < $deadline} {
        set s [string trim [read_file_bytes [dict get $p status]]]
        if {[string is integer -strict $s]} {
            report "\[server-gone\]: [dict get $p pid]"
            return $s
        }
        tsleep 10
    }
    return ""
}

# Kills a process started by proc_start if it still runs, and removes its
# directory (test cleanup).
proc proc_cleanup {p} {
    if {[proc_wait_exit $p 0] eq ""} {
        catch {exec kill -KILL [dict get $p pid]}
        proc_wait_exit $p 2000
    }
    file delete -force [dict get $p dir]
}

# Waits until the server has logged that it is ready and accepts
# connections on PORT.
proc proc_wait_ready {p port} {
    wait_for_condition 500 20 {
        ([string first "Ready to accept connections" [read_file_bytes [dict get $p stdout]]] >= 0 &&
         [proc_port_open $port]) || [proc_wait_exit $p 0] ne ""
    } else {
        fail "server on port $port not ready: [read_file_bytes [dict get $p stdout]][read_file_bytes [dict get $p stderr]]"
    }
    if {[proc_wait_exit $p 0] ne ""} {
        fail "server exited at start-up: [read_file_bytes [dict get $p stdout]][read_file_bytes [dict get $p stderr]]"
    }
}

proc proc_port_open {port} {
    if {[catch {socket 127.0.0.1 $port} fd]} {return 0}
    close $fd
    return 1
}

# A minimal config file valid for both servers; returns its path.
proc proc_config {dir port {extra ""}} {
    set conf [file join $dir server.conf]
    write_file_bytes $conf "bind 127.0.0.1\nport $port\ndaemonize no\nlogfile \"\"\nsave \"\"\nappendonly no\ndir $dir\n$extra"
    return $conf
}

proc proc_output {p} {
    return "[read_file_bytes [dict get $p stdout]][read_file_bytes [dict get $p stderr]]"
}

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
