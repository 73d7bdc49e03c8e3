# pause.tcl -- CLIENT PAUSE <ms> [WRITE|ALL] and CLIENT UNPAUSE, as
# redis-server 7.0 runs them (7.2's transcripts agree).
#
# A held command is seen as state, never waited for with a sleep: CLIENT
# LIST shows its client with flag b, and a monitor (never paused) can lift
# the pause. That no reply arrived is checked after a round trip on another
# connection that the server handled later.

start_server {tags {pause}} {

    proc resp_cmd {args} {
        set out "*[llength $args]\r\n"
        foreach a $args {append out "\$[string length $a]\r\n$a\r\n"}
        return $out
    }

    proc raw_id {fd} {
        raw_send $fd [resp_cmd CLIENT ID]
        set line ""
        while {![string match "*\r\n" $line]} {append line [raw_read $fd 1]}
        return [string range $line 1 end-2]
    }

    # A monitor: CLIENT PAUSE never holds one, so it can always UNPAUSE.
    proc pause_admin {} {
        set fd [raw_connect]
        raw_send $fd [resp_cmd MONITOR]
        raw_expect $fd "+OK\r\n"
        return $fd
    }

    proc unpause_from {fd} {
        raw_send $fd [resp_cmd CLIENT UNPAUSE]
        # Skip the monitor lines of earlier commands; the reply comes before
        # the lines of what it releases.
        while 1 {
            set line ""
            while {![string match "*\r\n" $line]} {append line [raw_read $fd 1]}
            if {$line eq "+OK\r\n"} return
            if {![regexp {^\+[0-9]+\.[0-9]{6} \[} $line]} {fail "unexpected: [escape_bytes $line]"}
        }
    }

    proc is_held {id} {
        return [regexp { flags=[^ ]*b} [r client list id $id]]
    }

    proc wait_held {id} {
        wait_for_condition 100 20 {[is_held $id]} else {
            fail "client $id not held: [r client list id $id]"
        }
    }

    test "CLIENT PAUSE argument errors are Redis's" {
        assert_error "*wrong number of arguments for 'client|pause' command*" {r client pause}
        assert_error "ERR timeout is not an integer or out of range" {r client pause abc}
        assert_error "ERR timeout is not an integer or out of range" {r client pause 1.5}
        assert_error "ERR timeout is not an integer or out of range" {r client pause +5}
        assert_error "ERR timeout is negative" {r client pause -1}
        assert_error "ERR CLIENT PAUSE mode must be WRITE or ALL" {r client pause 10 foo}
        assert_error "ERR CLIENT PAUSE mode must be WRITE or ALL" {r client pause abc foo}
        assert_error "ERR unknown subcommand or wrong number of arguments for 'pause'. Try CLIENT HELP." \
            {r client pause 10 write x}
        assert_error "*wrong number of arguments for 'client|unpause' command*" {r client unpause x}
        assert_equal OK [r client unpause]
    }

    test "CLIENT PAUSE WRITE holds PUBLISH and what follows it, not PING; UNPAUSE resumes in order" {
        set s [pubsub_client]
        subscribe $s {pause.w}
        set admin [pause_admin]
        assert_equal OK [r client pause 100000 write]
        set b [raw_connect]
        set bid [raw_id $b]
        raw_send $b "[resp_cmd PING 1][resp_cmd PUBLISH pause.w m1][resp_cmd PING 2]"
        raw_expect $b "\$1\r\n1\r\n"
        wait_held $bid
        # PING, PUBSUB and SUBSCRIBE are not writes: they run.
        assert_equal PONG [r ping]
        assert_equal {pause.w 1} [r pubsub numsub pause.w]
        assert_equal "" [read $b]
        unpause_from $admin
        raw_expect $b ":1\r\n\$1\r\n2\r\n"
        assert_equal {message pause.w m1} [$s read]
        raw_close $b
        raw_close $admin
        $s close
    }

    test "CLIENT PAUSE WRITE holds SPUBLISH, a PUBLISH queued in MULTI, and EXEC" {
        set admin [pause_admin]
        assert_equal OK [r client pause 100000 write]
        set a [raw_connect]
        set aid [raw_id $a]
        raw_send $a [resp_cmd SPUBLISH pause.s x]
        set c [raw_connect]
        set cid [raw_id $c]
        raw_send $c "[resp_cmd MULTI][resp_cmd PING][resp_cmd PUBLISH pause.w inmulti][resp_cmd EXEC]"
        raw_expect $c "+OK\r\n+QUEUED\r\n"
        wait_held $aid
        wait_held $cid
        assert_match "* flags=xb *" [r client list id $cid]
        assert_match "* cmd=publish *" [r client list id $cid]
        assert_equal "" [read $a]
        assert_equal "" [read $c]
        unpause_from $admin
        raw_expect $a ":0\r\n"
        raw_expect $c "+QUEUED\r\n*2\r\n+PONG\r\n:0\r\n"
        raw_close $a
        raw_close $c
        raw_close $admin
    }

    # Under PAUSE ALL `r` is held too: ask through the monitor, whose stream
    # has nothing else in it while nothing runs.
    proc admin_list {admin id} {
        raw_send $admin [resp_cmd CLIENT LIST ID $id]
        set head ""
        while {![string match "*\r\n" $head]} {append head [raw_read $admin 1]}
        set len [string range $head 1 end-2]
        set body [raw_read $admin [expr {$len + 2}]]
        return [string range $body 0 end-2]
    }

    proc admin_all_list {admin} {
        raw_send $admin [resp_cmd CLIENT LIST]
        set head ""
        while {![string match "*\r\n" $head]} {append head [raw_read $admin 1]}
        set len [string range $head 1 end-2]
        return [string range [raw_read $admin [expr {$len + 2}]] 0 end-2]
    }

    proc wait_held_all {admin id} {
        wait_for_condition 100 20 {
            [regexp { flags=[^ ]*b} [admin_list $admin $id]]
        } else {
            fail "client $id not held: [admin_list $admin $id]"
        }
    }

    test "CLIENT PAUSE ALL holds every client, the pausing one and subscribers too, but not monitors" {
        set admin [pause_admin]
        set s [raw_connect]
        set sid [raw_id $s]
        raw_send $s [resp_cmd SUBSCRIBE pause.all]
        raw_expect $s "*3\r\n\$9\r\nsubscribe\r\n\$9\r\npause.all\r\n:1\r\n"
        set p [raw_connect]
        set pid [raw_id $p]
        # Drain the monitor's lines of those three commands.
        for {set i 0} {$i < 3} {incr i} {
            set line ""
            while {![string match "*\r\n" $line]} {append line [raw_read $admin 1]}
        }
        assert_match {*"CLIENT" "ID"*} $line
        raw_send $p "[resp_cmd CLIENT PAUSE 100000 ALL][resp_cmd PING self]"
        raw_expect $p "+OK\r\n"
        wait_held_all $admin $pid
        raw_send $s [resp_cmd PING]
        wait_held_all $admin $sid
        # Errors found before the pause is consulted are still answered.
        set q [raw_connect]
        raw_send $q "[resp_cmd NOSUCHCOMMAND][resp_cmd CLIENT PAUSE]"
        raw_expect $q "-ERR unknown command 'NOSUCHCOMMAND', with args beginning with: \r\n"
        raw_expect $q "-ERR wrong number of arguments for 'client|pause' command\r\n"
        assert_equal "" [read $p]
        assert_equal "" [read $s]
        unpause_from $admin
        raw_expect $p "\$4\r\nself\r\n"
        raw_expect $s "*2\r\n\$4\r\npong\r\n\$0\r\n\r\n"
        foreach fd [list $p $s $q $admin] {raw_close $fd}
    }

    test "A second CLIENT PAUSE keeps the stricter mode and the later end" {
        set admin [pause_admin]
        raw_send $admin [resp_cmd CLIENT PAUSE 100000 ALL]
        raw_expect $admin "+OK\r\n"
        raw_send $admin [resp_cmd CLIENT PAUSE 10 WRITE]
        raw_expect $admin "+OK\r\n"
        set c [raw_connect]
        raw_send $c [resp_cmd PING held]
        # CLIENT LIST ID needs the id: find the held PING among all clients.
        wait_for_condition 100 20 {
            [string match "* flags=b *cmd=ping *" [admin_all_list $admin]]
        } else {
            fail "PING not held: [admin_all_list $admin]"
        }
        assert_equal "" [read $c]
        unpause_from $admin
        raw_expect $c "\$4\r\nheld\r\n"
        raw_close $c
        raw_close $admin
    }

    test "CLIENT PAUSE ends by itself when its time is up" {
        set c [raw_connect]
        set cid [raw_id $c]
        assert_equal OK [r client pause 200 write]
        raw_send $c [resp_cmd PUBLISH pause.t x]
        # Held (unless the machine was too slow to see it), then released.
        wait_for_condition 200 20 {
            [r client list id $cid] ne "" && ![is_held $cid]
        } else {
            fail "client still held: [r client list id $cid]"
        }
        raw_expect $c ":0\r\n"
        raw_close $c
    }

    test "Server is clean after the pause tests" {
        assert_server_clean
    }
}
