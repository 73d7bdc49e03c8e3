# tracking.tcl -- CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO on a
# server with nothing to track: the state is kept and every reply and error
# is an empty redis-server 7.0's (7.2.6's transcripts agree). No key is
# ever tracked, so no invalidation is ever sent.

start_server {tags {tracking}} {

    proc fresh {} {
        set c [redis_client]
        return $c
    }

    test "Tracking off: TRACKINGINFO, GETREDIR, CACHING" {
        set c [fresh]
        assert_equal {flags off redirect -1 prefixes {}} [$c client trackinginfo]
        assert_equal -1 [$c client getredir]
        assert_error "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled" \
            {$c client caching yes}
        $c close
    }

    # {arguments} {expected error}, each on a client with tracking off.
    foreach {args err} {
        {maybe} {ERR syntax error}
        {on foo} {ERR syntax error}
        {on redirect} {ERR syntax error}
        {on prefix} {ERR syntax error}
        {off foo} {ERR syntax error}
        {on redirect abc} {ERR value is not an integer or out of range}
        {on redirect 999999} {ERR The client ID you want redirect to does not exist}
        {on redirect 0} {ERR The client ID you want redirect to does not exist}
        {on redirect -1} {ERR The client ID you want redirect to does not exist}
        {on prefix a} {ERR PREFIX option requires BCAST mode to be enabled}
        {on optin optout} {ERR You can't specify both OPTIN mode and OPTOUT mode}
        {on bcast optin} {ERR OPTIN and OPTOUT are not compatible with BCAST}
        {on bcast optout} {ERR OPTIN and OPTOUT are not compatible with BCAST}
        {on bcast prefix x prefix xy} {ERR Prefix 'x' overlaps with another provided prefix 'xy'. Prefixes for a single client must not overlap.}
        {on bcast prefix a prefix a} {ERR Prefix 'a' overlaps with another provided prefix 'a'. Prefixes for a single client must not overlap.}
    } {
        test "CLIENT TRACKING $args: $err" {
            set c [fresh]
            assert_error $err {$c client tracking {*}$args}
            assert_equal {flags off redirect -1 prefixes {}} [$c client trackinginfo]
            $c close
        }
    }

    test "CLIENT TRACKING off accepts options and stays off" {
        set c [fresh]
        assert_equal OK [$c client tracking off prefix a]
        assert_equal OK [$c client tracking off bcast]
        assert_equal {flags off redirect -1 prefixes {}} [$c client trackinginfo]
        $c close
    }

    test "CLIENT TRACKING on: no error, state kept, CLIENT INFO shows t and redir=0" {
        set c [fresh]
        assert_equal OK [$c client tracking on]
        assert_equal {flags on redirect 0 prefixes {}} [$c client trackinginfo]
        assert_equal 0 [$c client getredir]
        assert_error "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode." {$c client caching yes}
        assert_match "* flags=t * redir=0 *" [$c client info]
        assert_equal OK [$c client tracking off]
        assert_match "* flags=N * redir=-1 *" [$c client info]
        $c close
    }

    test "BCAST tracks the empty prefix, or sorted prefixes; overlaps are refused" {
        set c [fresh]
        assert_equal OK [$c client tracking on bcast]
        assert_equal {flags {on bcast} redirect 0 prefixes {{}}} [$c client trackinginfo]
        assert_match "* flags=tB *" [$c client info]
        assert_error "ERR Prefix 'ab' overlaps with an existing prefix ''. Prefixes for a single client must not overlap." \
            {$c client tracking on bcast prefix ab}
        assert_error "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode." \
            {$c client tracking on}
        assert_error "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode." \
            {$c client tracking on optin}
        assert_equal OK [$c client tracking off]
        assert_equal OK [$c client tracking on bcast prefix b prefix a prefix c]
        assert_equal {flags {on bcast} redirect 0 prefixes {a b c}} [$c client trackinginfo]
        assert_error "ERR Prefix 'bx' overlaps with an existing prefix 'b'. Prefixes for a single client must not overlap." \
            {$c client tracking on bcast prefix bx}
        assert_equal OK [$c client tracking on bcast prefix d]
        assert_equal {flags {on bcast} redirect 0 prefixes {a b c d}} [$c client trackinginfo]
        $c close
    }

    test "OPTIN, CACHING yes lasts until the next non-CLIENT command; NOLOOP" {
        set c [fresh]
        assert_equal OK [$c client tracking on optin noloop]
        assert_equal {flags {on optin noloop} redirect 0 prefixes {}} [$c client trackinginfo]
        assert_error "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode." {$c client caching no}
        assert_error "ERR syntax error" {$c client caching maybe}
        assert_equal OK [$c client caching yes]
        assert_equal {flags {on optin caching-yes noloop} redirect 0 prefixes {}} [$c client trackinginfo]
        assert_equal PONG [$c ping]
        assert_equal {flags {on optin noloop} redirect 0 prefixes {}} [$c client trackinginfo]
        assert_error "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode." \
            {$c client tracking on optout}
        # ON again without options resets them.
        assert_equal OK [$c client tracking on]
        assert_equal {flags on redirect 0 prefixes {}} [$c client trackinginfo]
        $c close
    }

    test "CACHING inside MULTI holds until EXEC ends" {
        set c [fresh]
        assert_equal OK [$c client tracking on optin]
        $c multi
        $c client caching yes
        $c client trackinginfo
        assert_equal {OK {flags {on optin caching-yes} redirect 0 prefixes {}}} [$c exec]
        assert_equal {flags {on optin} redirect 0 prefixes {}} [$c client trackinginfo]
        $c close
    }

    test "OPTOUT with REDIRECT: CACHING no, GETREDIR, redir= and one redirect only" {
        set other [fresh]
        set oid [$other client id]
        set c [fresh]
        assert_equal OK [$c client tracking on optout redirect $oid]
        assert_equal OK [$c client caching no]
        assert_equal [list flags {on optout caching-no} redirect $oid prefixes {}] [$c client trackinginfo]
        assert_equal $oid [$c client getredir]
        assert_match "* redir=$oid *" [$c client info]
        assert_error "ERR A client can only redirect to a single other client" \
            {$c client tracking on optout redirect $oid redirect $oid}
        # Re-enabling without REDIRECT drops it; redirecting to itself is allowed.
        set cid [$c client id]
        assert_equal OK [$c client tracking on redirect $cid]
        assert_equal $cid [$c client getredir]
        assert_equal OK [$c client tracking on]
        assert_equal 0 [$c client getredir]
        $c close
        $other close
    }

    test "RESET turns tracking off" {
        set c [fresh]
        assert_equal OK [$c client tracking on bcast prefix p]
        assert_equal RESET [$c reset]
        assert_equal {flags off redirect -1 prefixes {}} [$c client trackinginfo]
        $c close
    }

    test "TRACKINGINFO in RESP3 is a map whose flags are a set" {
        set fd [raw_connect]
        raw_send $fd "*2\r\n\$5\r\nHELLO\r\n\$1\r\n3\r\n"
        set data ""
        while {![string match "*modules\r\n\*0\r\n" $data]} {append data [raw_read $fd 1]}
        raw_send $fd "*2\r\n\$6\r\nCLIENT\r\n\$12\r\nTRACKINGINFO\r\n"
        raw_expect $fd "%3\r\n\$5\r\nflags\r\n~1\r\n\$3\r\noff\r\n\$8\r\nredirect\r\n:-1\r\n\$8\r\nprefixes\r\n*0\r\n"
        raw_close $fd
    }

    test "Tracking subcommand arity errors" {
        assert_error "*wrong number of arguments for 'client|tracking' command*" {r client tracking}
        assert_error "*wrong number of arguments for 'client|caching' command*" {r client caching}
        assert_error "*wrong number of arguments for 'client|getredir' command*" {r client getredir x}
        assert_error "*wrong number of arguments for 'client|trackinginfo' command*" {r client trackinginfo x}
    }

    test "Server is clean after the tracking tests" {
        assert_server_clean
    }
}
