# protocol.tcl -- The RESP2 request parser, seen from a raw socket: exact
# protocol errors (each followed by the server closing the connection), the
# inline form and its quoting, pipelining, split and large requests, and the
# exact text of command errors that keep the connection open (unknown
# command, wrong number of arguments, unknown subcommand).
#
# Every reply below was first read from redis-server 7.0. Protocol error
# replies are pinned byte for byte: clients and tools match them.

start_server {tags {protocol}} {

    # Sends BYTES on a new raw connection, expects exactly REPLY back and
    # then the server closing the connection.
    proc expect_close_after {bytes reply} {
        set fd [raw_connect]
        raw_send $fd $bytes
        raw_expect $fd $reply
        set rest [raw_read_eof $fd]
        assert_equal $rest "" "bytes after the error reply"
        raw_close $fd
    }

    # Sends BYTES on a new raw connection, expects exactly REPLY back, and
    # checks the connection still works (a PING answers PONG).
    proc expect_open_after {bytes reply} {
        set fd [raw_connect]
        raw_send $fd $bytes
        raw_expect $fd $reply
        raw_send $fd "PING\r\n"
        raw_expect $fd "+PONG\r\n"
        raw_close $fd
    }

    # The multibulk encoding of ARGS.
    proc mbulk {args} {
        return [::redis::encode $args]
    }

    # -----------------------------------------------------------------
    # Protocol errors: reply, then close.
    # -----------------------------------------------------------------

    set perr "-ERR Protocol error:"

    test "A non-numeric multibulk count is a protocol error and closes" {
        expect_close_after "*abc\r\n" "$perr invalid multibulk length\r\n"
    }

    test "A multibulk count above INT_MAX is a protocol error and closes" {
        expect_close_after "*99999999999\r\n" "$perr invalid multibulk length\r\n"
    }

    test "A multibulk count with trailing garbage is a protocol error" {
        expect_close_after "*1x\r\n" "$perr invalid multibulk length\r\n"
    }

    test "A non-numeric bulk length is a protocol error and closes" {
        expect_close_after "*1\r\n\$abc\r\n" "$perr invalid bulk length\r\n"
    }

    test "A negative bulk length is a protocol error and closes" {
        expect_close_after "*1\r\n\$-1\r\n" "$perr invalid bulk length\r\n"
    }

    test "A bulk length above proto-max-bulk-len is a protocol error" {
        expect_close_after "*1\r\n\$99999999999\r\n" "$perr invalid bulk length\r\n"
    }

    test "Something other than '\$' where a bulk is expected is a protocol error" {
        expect_close_after "*1\r\nxPING\r\n" "$perr expected '\$', got 'x'\r\n"
        expect_close_after "*2\r\n\$4\r\nECHO\r\n:12\r\n" "$perr expected '\$', got ':'\r\n"
    }

    test "An inline request over 64 KiB without a newline is a protocol error" {
        expect_close_after [string repeat A 65600] "$perr too big inline request\r\n"
    }

    test "An inline request just under 64 KiB is accepted" {
        set arg [string repeat b 65000]
        expect_open_after "ECHO $arg\r\n" [bulk_bytes $arg]
    }

    test "A multibulk count line over 64 KiB is a protocol error" {
        expect_close_after "*[string repeat 1 65600]" "$perr too big mbulk count string\r\n"
    }

    test "A bulk length line over 64 KiB is a protocol error" {
        expect_close_after "*1\r\n\$[string repeat 1 65600]" "$perr too big bulk count string\r\n"
    }

    test "Unbalanced double quotes in an inline request are a protocol error" {
        expect_close_after "ECHO \"abc\r\n" "$perr unbalanced quotes in request\r\n"
    }

    test "Unbalanced single quotes in an inline request are a protocol error" {
        expect_close_after "ECHO 'abc\r\n" "$perr unbalanced quotes in request\r\n"
    }

    test "A closing quote followed by a non-space is a protocol error" {
        expect_close_after "ECHO \"a\"b\r\n" "$perr unbalanced quotes in request\r\n"
    }

    test "Commands before a protocol error in the same write still run" {
        set fd [raw_connect]
        raw_send $fd "PING\r\n[mbulk ECHO before]*abc\r\n[mbulk ECHO after]"
        set got [raw_read_eof $fd]
        assert_equal $got "+PONG\r\n[bulk_bytes before]$perr invalid multibulk length\r\n"
        raw_close $fd
    }

    test "Commands after a protocol error in the same write do not run" {
        set fd [raw_connect]
        raw_send $fd "*1\r\n\$x\r\n[mbulk PUBLISH p1.after x]"
        assert_equal [raw_read_eof $fd] "$perr invalid bulk length\r\n"
        raw_close $fd
        assert_equal {p1.after 0} [r pubsub numsub p1.after]
    }

    test "proto-max-bulk-len bounds the bulk length (CONFIG SET)" {
        set old [lindex [r config get proto-max-bulk-len] 1]
        assert_equal OK [r config set proto-max-bulk-len 1048576]
        try {
            expect_close_after "*2\r\n\$4\r\nECHO\r\n\$1048577\r\n" \
                "$perr invalid bulk length\r\n"
            # Exactly the limit is still accepted.
            set arg [string repeat z 1048576]
            expect_open_after [mbulk ECHO $arg] [bulk_bytes $arg]
        } finally {
            r config set proto-max-bulk-len $old
        }
        assert_equal $old [lindex [r config get proto-max-bulk-len] 1]
    }

    test "A subscriber closed for a protocol error leaves no subscription behind" {
        # A client closed for a protocol error leaves nothing behind.
        set fd [raw_connect]
        raw_send $fd "[mbulk SUBSCRIBE p2.chan]*1\r\n\$-5\r\n"
        raw_expect $fd "*3\r\n\$9\r\nsubscribe\r\n\$7\r\np2.chan\r\n:1\r\n"
        raw_expect $fd "$perr invalid bulk length\r\n"
        assert_equal [raw_read_eof $fd] ""
        wait_for_condition 100 20 {
            [r pubsub numsub p2.chan] eq {p2.chan 0}
        } else {
            fail "the closed subscriber still counts: [r pubsub numsub p2.chan]"
        }
    }

    test "Bulk data not followed by CRLF is a protocol error" {
        expect_close_after "*1\r\n\$4\r\nPINGxx" "$perr bulk data not followed by CRLF\r\n"
    } {ours}

    # -----------------------------------------------------------------
    # Inline commands.
    # -----------------------------------------------------------------

    test "Inline commands accept double-quoted arguments with spaces" {
        expect_open_after "ECHO \"a b\"\r\n" [bulk_bytes "a b"]
    }

    test "Inline commands accept single-quoted arguments" {
        expect_open_after "ECHO 'c d'\r\n" [bulk_bytes "c d"]
        expect_open_after "ECHO 'it\\'s'\r\n" [bulk_bytes "it's"]
    }

    test "Inline double quotes understand \\xHH and \\n \\t escapes" {
        expect_open_after "ECHO \"\\x41\\x42\"\r\n" [bulk_bytes AB]
        expect_open_after "ECHO \"a\\tb\\n\"\r\n" [bulk_bytes "a\tb\n"]
        expect_open_after "ECHO \"\\x00\\xff\"\r\n" [bulk_bytes "\x00\xff"]
    }

    test "Inline commands: several spaces separate, a bare LF ends the line" {
        expect_open_after "ECHO    x   \r\n" [bulk_bytes x]
        expect_open_after "ECHO y\n" [bulk_bytes y]
        expect_open_after "PING\nPING\n" "+PONG\r\n+PONG\r\n"
    }

    test "Inline quoted arguments reach subscribers unchanged" {
        set c [pubsub_client]
        subscribe $c {{p3 chan}}
        set fd [raw_connect]
        raw_send $fd "PUBLISH \"p3 chan\" 'hello world'\r\n"
        raw_expect $fd ":1\r\n"
        assert_equal {message {p3 chan} {hello world}} [$c read]
    }

    test "Empty lines, blank lines and *0 are skipped silently" {
        expect_open_after "\r\n\r\n*0\r\n   \r\n\n*0\r\nPING\r\n" "+PONG\r\n"
    }

    test "A negative multibulk count is skipped silently" {
        expect_open_after "*-1\r\nPING\r\n" "+PONG\r\n"
    }

    test "An empty bulk argument is an empty string" {
        expect_open_after "*2\r\n\$4\r\nECHO\r\n\$0\r\n\r\n" "\$0\r\n\r\n"
    }

    # -----------------------------------------------------------------
    # Pipelining, fragmentation, large and binary arguments.
    # -----------------------------------------------------------------

    test "10,000 PINGs in one write get 10,000 PONGs in order" {
        set fd [raw_connect]
        raw_send $fd [string repeat [mbulk PING] 10000]
        raw_expect $fd [string repeat "+PONG\r\n" 10000]
        raw_send $fd [mbulk ECHO last]
        raw_expect $fd [bulk_bytes last]
        assert_equal "" [raw_read_available $fd 50]
    }

    test "Pipelined inline and multibulk commands can be mixed" {
        set fd [raw_connect]
        raw_send $fd "PING\r\n[mbulk ECHO one]ECHO two\r\n[mbulk PING three]"
        raw_expect $fd "+PONG\r\n[bulk_bytes one][bulk_bytes two][bulk_bytes three]"
    }

    test "A multibulk command split byte by byte over many writes" {
        set c [pubsub_client]
        subscribe $c {p4.split}
        set fd [raw_connect]
        set bytes [mbulk PUBLISH p4.split "pay load"]
        set n [string length $bytes]
        for {set i 0} {$i < $n} {incr i} {
            raw_send $fd [string index $bytes $i]
            tsleep 1
            if {$i == 3 || $i == 20 || $i == $n - 2} {
                # Nothing happens before the last byte.
                assert_equal "" [raw_read_available $fd 20] "after byte $i"
            }
        }
        raw_expect $fd ":1\r\n"
        assert_equal {message p4.split {pay load}} [$c read]
    }

    test "An inline command split byte by byte over many writes" {
        set fd [raw_connect]
        foreach ch [split "ECHO \"split inline\"\r\n" ""] {
            raw_send $fd $ch
            tsleep 1
        }
        raw_expect $fd [bulk_bytes "split inline"]
    }

    test "Two commands split across writes at every boundary" {
        set bytes "[mbulk ECHO ab][mbulk ECHO cd]"
        set want "[bulk_bytes ab][bulk_bytes cd]"
        set n [string length $bytes]
        set fd [raw_connect]
        for {set cut 1} {$cut < $n} {incr cut} {
            raw_send $fd [string range $bytes 0 [expr {$cut - 1}]]
            tsleep 1
            raw_send $fd [string range $bytes $cut end]
            raw_expect $fd $want
        }
    }

    # A client whose large commands leave in one write: Tcl's default
    # 4 KiB channel buffer splits them, and the last small piece then waits
    # for the server's delayed ACK (Nagle), about 40 ms per command.
    proc fast_client {} {
        set c [redis_client]
        fconfigure [$c channel] -buffersize 1000000
        return $c
    }

    test "A 1 MiB argument is echoed back intact" {
        set arg [random_bytes 1048576]
        set c [fast_client]
        assert_equal $arg [$c echo $arg]
    }

    test "A 1 MiB message is delivered intact" {
        set c [pubsub_client]
        subscribe $c {p5.big}
        set payload [random_bytes 1048576 777]
        set pub [fast_client]
        assert_equal 1 [$pub publish p5.big $payload]
        assert_equal [list message p5.big $payload] [$c read]
    }

    test "Every byte value round-trips in an argument" {
        set all [all_bytes]
        assert_equal $all [r echo $all]
        expect_open_after [mbulk ECHO "\r\n\r\n"] [bulk_bytes "\r\n\r\n"]
    }

    # -----------------------------------------------------------------
    # Command errors: the exact text, and the connection stays open.
    # -----------------------------------------------------------------

    test "Unknown command error text, multibulk and inline" {
        set want "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"
        expect_open_after [mbulk foo a b] $want
        expect_open_after "foo a b\r\n" $want
        expect_open_after "foo\r\n" "-ERR unknown command 'foo', with args beginning with: \r\n"
        expect_open_after "FOO \"x y\"\r\n" \
            "-ERR unknown command 'FOO', with args beginning with: 'x y' \r\n"
    }

    test "Unknown command error through the client API" {
        assert_error "ERR unknown command 'nosuchcmd', with args beginning with: 'x' " {
            r nosuchcmd x
        }
        assert_equal PONG [r ping]
    }

    test "Unknown command: a long name is cut to 128 bytes" {
        set name [string repeat x 200]
        expect_open_after [mbulk $name] \
            "-ERR unknown command '[string repeat x 128]', with args beginning with: \r\n"
    }

    test "Unknown command: a long argument is cut to 128 bytes" {
        expect_open_after [mbulk foo [string repeat a 200]] \
            "-ERR unknown command 'foo', with args beginning with: '[string repeat a 128]' \r\n"
    }

    test "Unknown command: the argument list stops once 128 bytes are used" {
        # Each argument takes len+3 bytes ('x' plus a space); an argument
        # is added while fewer than 128 bytes are used, and is cut to what
        # is left of the 128.
        expect_open_after [mbulk foo [string repeat a 100] [string repeat b 100]] \
            "-ERR unknown command 'foo', with args beginning with: '[string repeat a 100]' '[string repeat b 25]' \r\n"
        expect_open_after [mbulk foo {*}[lrepeat 100 ab]] \
            "-ERR unknown command 'foo', with args beginning with: [string repeat {'ab' } 26]\r\n"
        expect_open_after [mbulk foo [string repeat a 125] b] \
            "-ERR unknown command 'foo', with args beginning with: '[string repeat a 125]' \r\n"
        expect_open_after [mbulk foo [string repeat a 124] b c] \
            "-ERR unknown command 'foo', with args beginning with: '[string repeat a 124]' 'b' \r\n"
    }

    test "Unknown command: CR and LF in the echoed text become spaces" {
        expect_open_after [mbulk foo "x\r\ny"] \
            "-ERR unknown command 'foo', with args beginning with: 'x  y' \r\n"
        expect_open_after [mbulk "fo\r\no" z] \
            "-ERR unknown command 'fo  o', with args beginning with: 'z' \r\n"
    }

    test "Unknown command: a NUL byte cuts the name and each argument, the rest stays" {
        # Redis formats argv as C strings: the name up to its NUL, each
        # argument up to its own, and the arguments after it are all there.
        expect_open_after [mbulk "fo\x00ob" bar] \
            "-ERR unknown command 'fo', with args beginning with: 'bar' \r\n"
        expect_open_after [mbulk foo "b\x00r" baz] \
            "-ERR unknown command 'foo', with args beginning with: 'b' 'baz' \r\n"
        expect_open_after [mbulk "\x00" "\x00"] \
            "-ERR unknown command '', with args beginning with: '' \r\n"
        # The 128-byte budget counts what is printed, not the bytes sent.
        expect_open_after [mbulk foo "[string repeat a 50]\x00[string repeat b 49]" [string repeat c 100] hello] \
            "-ERR unknown command 'foo', with args beginning with: '[string repeat a 50]' '[string repeat c 75]' \r\n"
        expect_open_after [mbulk "[string repeat a 60]\x00[string repeat b 139]" "[string repeat c 100]\x00[string repeat d 199]"] \
            "-ERR unknown command '[string repeat a 60]', with args beginning with: '[string repeat c 100]' \r\n"
    }

    test "Unknown subcommand: a NUL byte cuts the echoed name" {
        expect_open_after [mbulk CLIENT "xy\x00z"] "-ERR unknown subcommand 'xy'. Try CLIENT HELP.\r\n"
        expect_open_after [mbulk PUBSUB "xy\x00z"] "-ERR unknown subcommand 'xy'. Try PUBSUB HELP.\r\n"
    }

    test "An inline line with a NUL byte: no answer until 64 KiB wait, then Redis's error" {
        # Redis looks for the line end with strchr(), which stops at the
        # NUL: the line is never seen, and the request grows until it is too
        # big. 65537 bytes in all, the first that is too much, so every byte
        # sent is read before the server answers and closes.
        set fd [raw_connect]
        raw_send $fd "fo\x00o bar\r\nPING\r\n"
        assert_equal "" [raw_read_available $fd 200] "an answer before the limit"
        raw_send $fd [string repeat x [expr {65537 - 16}]]
        raw_expect $fd "$perr too big inline request\r\n"
        assert_equal "" [raw_read_eof $fd] "bytes after the error reply"
        raw_close $fd
    }

    test "Wrong number of arguments error texts" {
        foreach {cmd name} {
            {publish}            publish
            {publish a}          publish
            {publish a b c}      publish
            {subscribe}          subscribe
            {psubscribe}         psubscribe
            {ssubscribe}         ssubscribe
            {spublish a}         spublish
            {pubsub}             pubsub
            {pubsub numpat x}    pubsub|numpat
            {client}             client
            {client kill}        client|kill
            {client id x}        client|id
            {client setname}     client|setname
            {config}             config
            {config get}         config|get
            {ping a b}           ping
            {echo}               echo
            {echo a b}           echo
            {select}             select
            {auth}               auth
            {multi x}            multi
            {time x}             time
        } {
            assert_error "ERR wrong number of arguments for '$name' command" {r {*}$cmd} $cmd
        }
        assert_equal PONG [r ping]
    }

    test "Wrong number of arguments: exact bytes on the wire" {
        expect_open_after [mbulk PUBLISH onlyone] \
            "-ERR wrong number of arguments for 'publish' command\r\n"
        expect_open_after [mbulk PUBSUB NUMPAT x] \
            "-ERR wrong number of arguments for 'pubsub|numpat' command\r\n"
    }

    test "Unknown subcommand error texts" {
        assert_error "ERR unknown subcommand 'foo'. Try PUBSUB HELP." {r pubsub foo}
        assert_error "ERR unknown subcommand 'foo'. Try PUBSUB HELP." {r pubsub foo bar}
        assert_error "ERR unknown subcommand 'foo'. Try CLIENT HELP." {r client foo}
        assert_error "ERR unknown subcommand 'foo'. Try CONFIG HELP." {r config foo}
        assert_error "ERR unknown subcommand 'foo'. Try COMMAND HELP." {r command foo}
        expect_open_after [mbulk PUBSUB foo] \
            "-ERR unknown subcommand 'foo'. Try PUBSUB HELP.\r\n"
    }

    test "Subcommand names are case-insensitive" {
        assert_equal 0 [r PUBSUB NumPat]
        assert_match {*PUBSUB*} [lindex [r pubsub HELP] 0]
    }

    test "Command names are case-insensitive" {
        assert_equal PONG [r PiNg]
        assert_equal hi [r eCHo hi]
    }

    # -----------------------------------------------------------------
    # Limits before authentication.
    # -----------------------------------------------------------------

    start_server {tags {external:skip} overrides {requirepass foobar}} {
        test "Before AUTH a multibulk count over 10 is a protocol error" {
            expect_close_after "*11\r\n" "$perr unauthenticated multibulk length\r\n"
        }

        test "Before AUTH a bulk over 16384 bytes is a protocol error" {
            expect_close_after "*1\r\n\$16385\r\n" "$perr unauthenticated bulk length\r\n"
        }

        test "Before AUTH, 10 arguments and 16384-byte bulks are still parsed" {
            set fd [raw_connect]
            raw_send $fd [mbulk PING a b c d e f g h i]
            raw_expect $fd "-NOAUTH Authentication required.\r\n"
            raw_send $fd [mbulk ECHO [string repeat q 16384]]
            raw_expect $fd "-NOAUTH Authentication required.\r\n"
            raw_close $fd
        }

        test "Before AUTH, commands before the limit error still get replies" {
            expect_close_after "PING\r\n*11\r\n" \
                "-NOAUTH Authentication required.\r\n$perr unauthenticated multibulk length\r\n"
        }

        test "After AUTH the unauthenticated limits no longer apply" {
            set fd [raw_connect]
            raw_send $fd [mbulk AUTH foobar]
            raw_expect $fd "+OK\r\n"
            raw_send $fd [mbulk PUBLISH a b c d e f g h i j k]
            raw_expect $fd "-ERR wrong number of arguments for 'publish' command\r\n"
            set arg [string repeat r 20000]
            raw_send $fd [mbulk ECHO $arg]
            raw_expect $fd [bulk_bytes $arg]
            raw_close $fd
        }

        test "The password-protected server is clean" {
            r auth foobar
            assert_server_clean
        }
    }

    test "The server is back to a clean state" {
        assert_server_clean
    }
}
