# tls.tcl -- TLS: tls-port next to port, client certificates (tls-auth-clients
# yes / optional / no, a wrong CA), a passphrase-protected key, tls-protocols,
# CONFIG SET of tls-* (a bad certificate keeps the old context), a plain-TCP
# client on the TLS port, maxclients there, a TLS-only server (port 0), and
# shutdown with TLS clients connected.
#
# Clients: redis-cli --tls, redis-py (tests/helpers/tls_client.py) for the
# pub/sub round trips, openssl s_client for protocol versions and as a TLS
# client the test drives itself. Certificates come from
# utils/gen-test-certs.sh. Every server here is spawned with its own
# tls-* overrides (or by proc_start, for port 0 and start-up errors), so
# the whole file is external:skip.

set ::tls_certs [file join $::tmp_root "tls-certs.[pid]"]
exec sh [file join $::root utils gen-test-certs.sh] $::tls_certs
set ::tls_py [file join $::root tests helpers tls_client.py]

proc tls_cert {name} {
    return [file join $::tls_certs $name]
}

# The tls-* overrides of a server with a TLS port: its certificate, and the
# test CA for client certificates.
proc tls_overrides {tls_port args} {
    return [list tls-port $tls_port tls-cert-file [tls_cert server.crt] tls-key-file [tls_cert server.key] \
        tls-ca-cert-file [tls_cert ca.crt] {*}$args]
}

# Runs redis-cli --tls against PORT. CERT is "client" (the good client
# certificate), "none", or "other" (signed by an unrelated CA). Returns
# {status output}; status 0 when redis-cli succeeded.
proc tls_cli {port cert args} {
    set cmd [list redis-cli -h 127.0.0.1 -p $port --tls --cacert [tls_cert ca.crt]]
    switch -- $cert {
        client {lappend cmd --cert [tls_cert client.crt] --key [tls_cert client.key]}
        other {lappend cmd --cert [tls_cert other-client.crt] --key [tls_cert other-client.key]}
        none {}
        default {error "tls_cli: unknown cert $cert"}
    }
    set status [catch {exec timeout 20 {*}$cmd {*}$args 2>@1} out]
    return [list $status [string trim $out]]
}

# The reply of a command sent by redis-cli --tls with the client certificate;
# fails the test if redis-cli failed.
proc tls_r {port args} {
    lassign [tls_cli $port client {*}$args] status out
    if {$status} {fail "redis-cli --tls $args failed: $out"}
    return $out
}

proc tls_py {args} {
    set status [catch {exec timeout 120 /usr/bin/python3 $::tls_py $::tls_certs {*}$args 2>@1} out]
    return [list $status [string trim $out]]
}

# openssl s_client with the client certificate and extra OPTIONS; stdin is
# empty, so it exits once connected. Returns {status output}.
proc tls_s_client {port args} {
    set status [catch {
        exec timeout 20 openssl s_client -connect 127.0.0.1:$port -CAfile [tls_cert ca.crt] \
            -cert [tls_cert client.crt] -key [tls_cert client.key] {*}$args < /dev/null 2>@1
    } out]
    return [list $status $out]
}

# A TLS client driven from Tcl: openssl s_client as a pipe. Commands go in
# as inline commands; what the server sends comes out unchanged.
proc tls_pipe_open {port} {
    set f [open [list | timeout 60 openssl s_client -quiet -connect 127.0.0.1:$port \
        -CAfile [tls_cert ca.crt] -cert [tls_cert client.crt] -key [tls_cert client.key] 2>/dev/null] r+]
    fconfigure $f -blocking 0 -translation binary -buffering none
    return $f
}

# Reads from the pipe until the data received ends with TAIL.
proc tls_pipe_read_until {f tail {timeout_ms 10000}} {
    set data ""
    set deadline [expr {[clock milliseconds] + $timeout_ms}]
    set n [string length $tail]
    while {[string range $data end-[expr {$n - 1}] end] ne $tail} {
        append data [read $f]
        if {[eof $f]} {fail "s_client ended while waiting for [escape_bytes $tail]: [escape_bytes $data]"}
        if {[clock milliseconds] > $deadline} {fail "timed out waiting for [escape_bytes $tail]: [escape_bytes $data]"}
        tsleep 5
    }
    return $data
}

# True once s_client has exited (the server ended the session); drains
# whatever came before.
proc tls_pipe_at_eof {f} {
    read $f
    return [eof $f]
}

# s_client -quiet ignores the end of its input: stop it (and the timeout
# wrapper we started it under) by pid.
proc tls_pipe_close {f} {
    foreach pid [pid $f] {catch {exec kill -TERM $pid}}
    catch {close $f}
}

# ---------------------------------------------------------------------
# A server with both port and tls-port
# ---------------------------------------------------------------------

set ::tls_port [find_available_port]
start_server [list tags {tls external:skip} overrides [tls_overrides $::tls_port]] {
    set tport $::tls_port

    test "TLS: both port and tls-port serve, redis-cli --tls with a client certificate" {
        assert_equal PONG [r ping]
        assert_equal PONG [tls_r $tport ping]
        assert_equal $tport [lindex [tls_r $tport config get tls-port] 1]
    }

    test "TLS: CLIENT LIST shows a TLS client with the same fields as a plain one" {
        set line [tls_r $tport client list]
        set tls_line ""
        foreach l [split $line "\n"] {
            if {[string match "*laddr=127.0.0.1:$tport *" $l]} {set tls_line $l}
        }
        assert {$tls_line ne ""} "no client on the TLS port in: $line"
        set plain_line [lindex [split [string trim [r client list]] "\n"] 0]
        set keys {}
        foreach kv $tls_line {lappend keys [lindex [split $kv =] 0]}
        set plain_keys {}
        foreach kv $plain_line {lappend plain_keys [lindex [split $kv =] 0]}
        assert_equal $plain_keys $keys
    }

    test "TLS: tls-auth-clients yes refuses a client without a certificate, and logs why" {
        lassign [tls_cli $tport none ping] status out
        assert_equal 1 $status "redis-cli without a certificate: $out"
        assert_no_match "*PONG*" $out
        wait_for_condition 100 20 {
            [string first "Error accepting a client connection" [read_file_bytes [srv stdout]]] >= 0
        } else {
            fail "no handshake failure in the log"
        }
        assert_equal PONG [tls_r $tport ping]
    }

    test "TLS: a client certificate from another CA is refused" {
        lassign [tls_cli $tport other ping] status out
        assert_equal 1 $status "redis-cli with a certificate from another CA: $out"
        assert_no_match "*PONG*" $out
    }

    test "TLS: a client that trusts another CA refuses the server" {
        set status [catch {
            exec timeout 20 redis-cli -h 127.0.0.1 -p $tport --tls --cacert [tls_cert other-ca.crt] \
                --cert [tls_cert client.crt] --key [tls_cert client.key] ping 2>@1
        } out]
        assert_equal 1 $status $out
        assert_no_match "*PONG*" $out
        assert_equal PONG [r ping]
    }

    test "TLS: tls-auth-clients optional and no accept a client without a certificate" {
        r config set tls-auth-clients optional
        assert_equal {0 PONG} [tls_cli $tport none ping]
        # optional still checks a certificate that is sent
        assert_equal 1 [lindex [tls_cli $tport other ping] 0]
        r config set tls-auth-clients no
        assert_equal {0 PONG} [tls_cli $tport none ping]
        assert_equal {0 PONG} [tls_py $tport [srv port] ping nocert]
        r config set tls-auth-clients yes
        assert_equal 1 [lindex [tls_cli $tport none ping] 0]
    }

    test "TLS: redis-py pub/sub over TLS: 1 MiB message, 10000 in order, plain and TLS subscribers" {
        assert_equal {0 ok} [tls_py $tport [srv port] pubsub]
    }

    test "TLS: 20 MB of pipelined commands; replies pile up, reading pauses and resumes" {
        assert_equal {0 ok} [tls_py $tport [srv port] echo_flood]
    }

    test "TLS: redis-py PING with a client certificate" {
        assert_equal {0 PONG} [tls_py $tport [srv port] ping]
    }

    test "TLS: a message reaches TLS and plain subscribers alike (s_client)" {
        set f [tls_pipe_open $tport]
        puts -nonewline $f "SUBSCRIBE tls.fan\r\n"
        tls_pipe_read_until $f [confirm_bytes 2 subscribe tls.fan 1]
        set c [pubsub_client]
        assert_equal {1} [subscribe $c {tls.fan}]
        assert_equal 2 [r publish tls.fan hello]
        tls_pipe_read_until $f [message_bytes 2 tls.fan hello]
        assert_equal {message tls.fan hello} [$c read]
        tls_pipe_close $f
        $c close
    }

    test "TLS: QUIT gets +OK, then the server closes the TLS connection" {
        set f [tls_pipe_open $tport]
        puts -nonewline $f "QUIT\r\n"
        tls_pipe_read_until $f "+OK\r\n"
        # s_client -quiet exits when the server ends the session.
        wait_for_condition 200 10 {[tls_pipe_at_eof $f]} else {
            fail "the TLS connection stayed open after QUIT"
        }
        tls_pipe_close $f
    }

    test "TLS: a client still in the handshake is listed and can be killed" {
        set fd [raw_connect 127.0.0.1 $tport]
        set id ""
        wait_for_condition 100 10 {
            [regexp "id=(\\d+) addr=\\S+ laddr=127.0.0.1:$tport " [r client list] -> id]
        } else {
            fail "no client on the TLS port in: [r client list]"
        }
        assert_equal 1 [r client kill id $id]
        assert_equal "" [raw_read_eof $fd]
        raw_close $fd
        assert_equal PONG [tls_r $tport ping]
    }

    test "TLS: a plain-TCP client on the TLS port is closed and the server keeps serving" {
        set fd [raw_connect 127.0.0.1 $tport]
        raw_send $fd "*1\r\n\$4\r\nPING\r\n"
        # Closed without a reply: EOF, or a reset since our bytes were unread.
        if {![catch {raw_read_eof $fd} data]} {
            assert_no_match "*PONG*" $data
        } else {
            assert_match "*reset*" $data
        }
        raw_close $fd
        assert_equal PONG [r ping]
        assert_equal PONG [tls_r $tport ping]
    }

    test "TLS: CONFIG SET tls-cert-file to a bad file fails and keeps the old context" {
        set good [lindex [r config get tls-cert-file] 1]
        assert_error "*Unable to update TLS configuration*" {r config set tls-cert-file /nonexistent/cert.pem}
        assert_equal $good [lindex [r config get tls-cert-file] 1]
        # A certificate that does not match the key is refused too.
        assert_error "*Unable to update TLS configuration*" {r config set tls-cert-file [tls_cert client.crt]}
        assert_equal PONG [tls_r $tport ping]
    }

    test "TLS: CONFIG SET tls-ciphers or tls-protocols to nonsense fails" {
        assert_error "*Unable to update TLS configuration*" {r config set tls-ciphers NOT-A-CIPHER}
        assert_error "*Unable to update TLS configuration*" {r config set tls-protocols TLSv9}
        assert_equal {} [lindex [r config get tls-protocols] 1]
        assert_equal PONG [tls_r $tport ping]
    }

    test "TLS: tls-dh-params-file loads DH parameters; a missing file is an error" {
        r config set tls-dh-params-file [tls_cert dh.pem]
        assert_equal PONG [tls_r $tport ping]
        assert_error "*Unable to update TLS configuration*" {r config set tls-dh-params-file /nonexistent/dh.pem}
        assert_equal [tls_cert dh.pem] [lindex [r config get tls-dh-params-file] 1]
        r config set tls-dh-params-file ""
        assert_equal PONG [tls_r $tport ping]
    }

    test "TLS: tls-ca-cert-dir verifies client certificates from a hashed directory" {
        set file [lindex [r config get tls-ca-cert-file] 1]
        r config set tls-ca-cert-file "" tls-ca-cert-dir [tls_cert ca-dir]
        assert_equal PONG [tls_r $tport ping]
        assert_equal 1 [lindex [tls_cli $tport other ping] 0]
        # With neither a file nor a directory, client certificates cannot be checked.
        assert_error "*Unable to update TLS configuration*" {r config set tls-ca-cert-dir ""}
        r config set tls-ca-cert-file $file tls-ca-cert-dir ""
        assert_equal PONG [tls_r $tport ping]
    }

    test "TLS: CONFIG SET tls-protocols TLSv1.3 refuses a TLSv1.2 client" {
        r config set tls-protocols TLSv1.3
        lassign [tls_s_client $tport -tls1_2] status out
        assert_equal 1 $status "s_client -tls1_2: $out"
        lassign [tls_s_client $tport -tls1_3] status out
        assert_equal 0 $status "s_client -tls1_3: $out"
        assert_match "*TLSv1.3*" $out
        r config set tls-protocols "TLSv1.2 TLSv1.3"
        lassign [tls_s_client $tport -tls1_2] status out
        assert_equal 0 $status "s_client -tls1_2 after re-enabling it: $out"
    }

    test "TLS: tls-session-caching yes resumes a TLSv1.2 session" {
        assert_equal yes [lindex [r config get tls-session-caching] 1]
        lassign [tls_s_client $tport -tls1_2 -reconnect] status out
        assert_equal 0 $status $out
        assert_match "*New, TLSv1.2*Reused, TLSv1.2*" $out
    }

    # Redis 7.0 answers a resumption attempt with an internal-error alert
    # here (no session id context); we just do a full handshake.
    test "TLS: tls-session-caching no makes every connection a full handshake" {
        r config set tls-session-caching no
        lassign [tls_s_client $tport -tls1_2 -reconnect] status out
        r config set tls-session-caching yes
        assert_equal 0 $status $out
        assert_match "*New, TLSv1.2*" $out
        assert_no_match "*Reused*" $out
    } {ours}

    test "TLS: past maxclients a TLS connection is dropped and counted as rejected" {
        # The connections of earlier redis-cli runs are closed by the server
        # when it sees them end: wait until only this client is left, or the
        # limit would count one that is about to go.
        wait_for_condition 200 10 {[connected_clients] == 1} else {
            fail "[connected_clients] clients connected, expected 1"
        }
        set before [info_field [r info stats] rejected_connections]
        r config set maxclients 1
        try {
            # One connection, dropped before its handshake: counted once.
            set fd [raw_connect 127.0.0.1 $tport]
            if {![catch {raw_read_eof $fd} data]} {assert_equal "" $data}
            raw_close $fd
            wait_for_condition 200 10 {
                [info_field [r info stats] rejected_connections] == $before + 1
            } else {
                fail "rejected_connections [info_field [r info stats] rejected_connections], expected [expr {$before + 1}]"
            }
            # redis-cli fails too. When its handshake ends in an I/O error
            # it connects once more before giving up (Redis counts both).
            lassign [tls_cli $tport client ping] status out
        } finally {
            r config set maxclients 10000
        }
        assert_equal 1 $status "redis-cli past maxclients: $out"
        assert_no_match "*PONG*" $out
        assert_range [info_field [r info stats] rejected_connections] [expr {$before + 2}] [expr {$before + 3}]
        assert_equal PONG [tls_r $tport ping]
    }

    test "TLS: CONFIG SET tls-port moves the TLS listener" {
        set new [find_available_port]
        r config set tls-port $new
        assert_equal PONG [tls_r $new ping]
        assert_equal 1 [lindex [tls_cli $tport client ping] 0]
        r config set tls-port $tport
        assert_equal PONG [tls_r $tport ping]
    }

    test "TLS: a CONFIG SET of port and a busy tls-port fails and leaves both listeners" {
        set new [find_available_port]
        set busy [find_available_port]
        set holder [socket -server tls_never_called -myaddr 127.0.0.1 $busy]
        try {
            assert_error "*Unable to listen on this port*" {r config set port $new tls-port $busy}
        } finally {
            close $holder
        }
        assert_equal [srv port] [lindex [r config get port] 1]
        assert_equal $tport [lindex [r config get tls-port] 1]
        set c [redis_client 127.0.0.1 [srv port]]
        assert_equal PONG [$c ping]
        $c close
        assert_error "*" {redis_client 127.0.0.1 $new}
        assert_equal PONG [tls_r $tport ping]
    }

    test "TLS: CONFIG SET bind reopens the plain and TLS listeners on the same ports" {
        r config set bind "127.0.0.1 -::1"
        set c [redis_client 127.0.0.1 [srv port]]
        assert_equal PONG [$c ping]
        $c close
        assert_equal PONG [tls_r $tport ping]
        r config set bind 127.0.0.1
        assert_equal PONG [tls_r $tport ping]
        assert_equal 127.0.0.1 [lindex [r config get bind] 1]
    }

    test "TLS: a CONFIG SET bind that cannot be bound fails and both listeners still serve" {
        # 203.0.113.0/24 is TEST-NET-3: not an address of this host.
        assert_error "*" {r config set bind "127.0.0.1 203.0.113.123"}
        assert_equal 127.0.0.1 [lindex [r config get bind] 1]
        set c [redis_client 127.0.0.1 [srv port]]
        assert_equal PONG [$c ping]
        $c close
        assert_equal PONG [tls_r $tport ping]
    }

    test "The server is back to a clean state" {
        assert_server_clean
    }
}

# ---------------------------------------------------------------------
# Protected mode on the TLS port (needs a non-loopback address)
# ---------------------------------------------------------------------

proc tls_external_ip {} {
    if {[catch {exec hostname -I} ips]} {return ""}
    foreach ip $ips {
        if {[regexp {^\d+\.\d+\.\d+\.\d+$} $ip] && ![string match 127.* $ip]} {return $ip}
    }
    return ""
}

set ::tls_ip [tls_external_ip]
set ::tls_port [find_available_port]
if {$::tls_ip ne ""} {
    start_server [list tags {tls external:skip} overrides [tls_overrides $::tls_port \
        bind "127.0.0.1 $::tls_ip" protected-mode yes tls-auth-clients no]] {

        test "TLS: protected mode refuses a non-loopback TLS client after the handshake, over TLS" {
            set before [info_field [r info stats] rejected_connections]
            set status [catch {
                exec timeout 20 redis-cli -h $::tls_ip -p $::tls_port --tls --insecure ping 2>@1
            } out]
            assert_match "*DENIED Redis is running in protected mode*" $out
            wait_for_condition 200 10 {
                [info_field [r info stats] rejected_connections] == $before + 1
            } else {
                fail "rejected_connections [info_field [r info stats] rejected_connections], expected [expr {$before + 1}]"
            }
            # Loopback clients are served.
            assert_equal {0 PONG} [tls_cli $::tls_port none ping]
        }

        test "The server is back to a clean state" {
            assert_server_clean
        }
    }
}

# ---------------------------------------------------------------------
# Keys with a passphrase
# ---------------------------------------------------------------------

set ::tls_port [find_available_port]
start_server [list tags {tls external:skip} overrides [tls_overrides $::tls_port \
    tls-key-file [tls_cert server-pass.key] tls-key-file-pass secret]] {

    test "TLS: a passphrase-protected key loads with tls-key-file-pass" {
        assert_equal PONG [tls_r $::tls_port ping]
    }

    test "TLS: CONFIG SET tls-key-file-pass to a wrong passphrase fails and keeps serving" {
        assert_error "*Unable to update TLS configuration*" {r config set tls-key-file-pass wrong}
        assert_equal PONG [tls_r $::tls_port ping]
    }

    test "The server is back to a clean state" {
        assert_server_clean
    }
}

# ---------------------------------------------------------------------
# Start-up and shutdown outside the harness
# ---------------------------------------------------------------------

tags {tls external:skip} {

    test "TLS: start-up with an unreadable certificate is fatal, with a clear message" {
        set port [find_available_port]
        foreach {what args} [list \
            cert [list --tls-cert-file [tls_cert nonexistent.crt] --tls-key-file [tls_cert server.key]] \
            pass [list --tls-cert-file [tls_cert server.crt] --tls-key-file [tls_cert server-pass.key]]] {
            set dir [proc_dir]
            set p [proc_start [list --port 0 --bind 127.0.0.1 --tls-port $port --save "" --dir $dir \
                --tls-ca-cert-file [tls_cert ca.crt] {*}$args] $dir]
            try {
                set status [proc_wait_exit $p]
                assert {$status ne "" && $status != 0} "$what: exit status '$status'"
                set out [proc_output $p]
                assert_match "*Failed to configure TLS*" $out $what
                if {$what eq "cert"} {
                    assert_match "*Failed to load certificate*nonexistent.crt*" $out
                } else {
                    assert_match "*Failed to load private key*server-pass.key*" $out
                }
            } finally {
                proc_cleanup $p
            }
        }
    }

    test "TLS: port 0 with tls-port only; SIGTERM with TLS clients connected exits cleanly" {
        set port [find_available_port]
        set dir [proc_dir]
        set argv [list --port 0 --bind 127.0.0.1 --save "" --dir $dir]
        foreach {k v} [tls_overrides $port] {lappend argv --$k $v}
        set p [proc_start $argv $dir]
        set f ""
        set fd ""
        try {
            proc_wait_ready $p $port
            assert_equal PONG [tls_r $port ping]
            assert_equal 0 [lindex [tls_r $port config get port] 1]
            # A subscribed TLS client and one stuck in the handshake stay
            # connected while the server shuts down.
            set f [tls_pipe_open $port]
            puts -nonewline $f "SUBSCRIBE tls.bye\r\n"
            tls_pipe_read_until $f [confirm_bytes 2 subscribe tls.bye 1]
            set fd [raw_connect 127.0.0.1 $port]
            raw_send $fd "\x16\x03\x01"
            assert_equal 1 [lindex [tls_r $port pubsub numsub tls.bye] 1]
            exec kill -TERM [dict get $p pid]
            assert_equal 0 [proc_wait_exit $p] "exit status: [proc_output $p]"
            set report [sanitizer_report $p]
            assert_equal "" $report
        } finally {
            if {$f ne ""} {tls_pipe_close $f}
            if {$fd ne ""} {raw_close $fd}
            proc_cleanup $p
        }
    }
}

file delete -force $::tls_certs
