# util.tcl -- Helpers shared by the unit files.
#
# Clients:
#   pubsub_client ?RESP? ?LEVEL?   -> a deferring client; with RESP 3 it has
#                                     already sent HELLO 3 and read the reply
# Expected wire bytes (RESP is 2 or 3; RESP2 arrays become RESP3 pushes):
#   frame_bytes RESP ELEMENTS      -> ELEMENTS are {bulk TEXT} {int N} {null}
#   confirm_bytes RESP KIND NAME COUNT   (NAME "" with null=1: a null name)
#   message_bytes RESP CHANNEL PAYLOAD
#   pmessage_bytes RESP PATTERN CHANNEL PAYLOAD
#   smessage_bytes RESP CHANNEL PAYLOAD
#   bulk_bytes TEXT                -> $len CRLF TEXT CRLF
# Pub/sub helpers take a deferring client, send one command, read the
# confirmations and return them:
#   subscribe CLIENT CHANNELS      -> list of running counts, one per channel
#   psubscribe / ssubscribe        -> same, for patterns / shard channels
#   unsubscribe CLIENT CHANNELS    -> counts (CHANNELS must be non-empty)
#   punsubscribe / sunsubscribe    -> same
#   read_confirms CLIENT KIND N    -> N confirmation frames {kind name count},
#                                     each checked to be of KIND
#   read_message CLIENT            -> next frame, e.g. {message ch payload}
#   assert_no_pending CLIENT ?ms?  -> asserts nothing more arrives (PING probe)
# Server state:
#   connected_clients ?LEVEL?      -> INFO clients connected_clients
#   info_field INFO FIELD          -> value of FIELD in an INFO reply
#   assert_server_clean ?LEVEL?    -> no channels, patterns, shard channels,
#                                     one client (the default one)
# Data:
#   all_bytes                      -> the 256 byte values 0x00..0xff in order
#   random_bytes N                 -> N pseudo-random bytes (seeded, repeatable)
#   decode_escapes S               -> S with each \xHH turned into that byte

proc pubsub_client {{resp 2} {level 0}} {
    set c [redis_deferring_client $level]
    if {$resp == 3} {
        $c hello 3
        set reply [$c read]
        if {[lsearch -exact $reply proto] < 0} {
            fail "HELLO 3 did not return a map with proto: [show $reply]"
        }
    }
    return $c
}

proc bulk_bytes {text} {
    return "\$[string length $text]\r\n$text\r\n"
}

proc frame_bytes {resp elements} {
    set out [expr {$resp == 3 ? ">" : "*"}][llength $elements]\r\n
    foreach e $elements {
        lassign $e type value
        switch -exact -- $type {
            bulk {append out [bulk_bytes $value]}
            int  {append out ":$value\r\n"}
            null {append out [expr {$resp == 3 ? "_\r\n" : "\$-1\r\n"}]}
            default {error "frame_bytes: unknown element type $type"}
        }
    }
    return $out
}

proc confirm_bytes {resp kind name count {null 0}} {
    set n [expr {$null ? {null} : [list bulk $name]}]
    return [frame_bytes $resp [list [list bulk $kind] $n [list int $count]]]
}

proc message_bytes {resp channel payload} {
    return [frame_bytes $resp [list {bulk message} [list bulk $channel] [list bulk $payload]]]
}

proc pmessage_bytes {resp pattern channel payload} {
    return [frame_bytes $resp [list {bulk pmessage} [list bulk $pattern] \
        [list bulk $channel] [list bulk $payload]]]
}

proc smessage_bytes {resp channel payload} {
    return [frame_bytes $resp [list {bulk smessage} [list bulk $channel] [list bulk $payload]]]
}

proc read_confirms {client kind n} {
    set counts {}
    for {set i 0} {$i < $n} {incr i} {
        set frame [$client read]
        if {[lindex $frame 0] ne $kind || [llength $frame] != 3} {
            fail "expected a '$kind' confirmation, got [show $frame]"
        }
        lappend counts [lindex $frame 2]
    }
    return $counts
}

proc pubsub_command {client cmd kind names} {
    $client $cmd {*}$names
    return [read_confirms $client $kind [llength $names]]
}

proc subscribe {client channels} {
    pubsub_command $client subscribe subscribe $channels
}
proc psubscribe {client patterns} {
    pubsub_command $client psubscribe psubscribe $patterns
}
proc ssubscribe {client channels} {
    pubsub_command $client ssubscribe ssubscribe $channels
}
proc unsubscribe {client channels} {
    pubsub_command $client unsubscribe unsubscribe $channels
}
proc punsubscribe {client patterns} {
    pubsub_command $client punsubscribe punsubscribe $patterns
}
proc sunsubscribe {client channels} {
    pubsub_command $client sunsubscribe sunsubscribe $channels
}

proc read_message {client} {
    return [$client read]
}

# Proves that nothing is queued for a deferring client in RESP2 subscribed
# mode: PING's reply must be the very next frame.
proc assert_no_pending {client {label ""}} {
    $client ping no-pending-probe
    set frame [$client read]
    if {$frame ne {pong no-pending-probe} && $frame ne {no-pending-probe}} {
        fail [with_detail "unexpected frame before the PING reply: [show $frame]" $label]
    }
}

proc info_field {info field} {
    foreach line [split $info "\r\n"] {
        if {[string match "$field:*" $line]} {
            return [string range $line [expr {[string length $field] + 1}] end]
        }
    }
    return ""
}

proc connected_clients {{level 0}} {
    return [info_field [r $level info clients] connected_clients]
}

proc assert_server_clean {{level 0}} {
    # Disconnects are processed asynchronously by the server: wait for the
    # clients of earlier tests to be gone, then check the exact state.
    wait_for_condition 100 50 {
        [connected_clients $level] == 1 &&
        [llength [r $level pubsub channels]] == 0 &&
        [r $level pubsub numpat] == 0 &&
        [llength [r $level pubsub shardchannels]] == 0
    } else {
        fail "server not clean: [connected_clients $level] clients, channels [show [r $level pubsub channels]], numpat [r $level pubsub numpat], shardchannels [show [r $level pubsub shardchannels]]"
    }
    assert_equal [r $level pubsub channels] {} "PUBSUB CHANNELS"
    assert_equal [r $level pubsub numpat] 0 "PUBSUB NUMPAT"
    assert_equal [r $level pubsub shardchannels] {} "PUBSUB SHARDCHANNELS"
    assert_equal [connected_clients $level] 1 "connected_clients"
}

proc all_bytes {} {
    set s ""
    for {set i 0} {$i < 256} {incr i} {append s [format %c $i]}
    return $s
}

# A small linear congruential generator: the same bytes on every run.
proc random_bytes {n {seed 12345}} {
    set s ""
    set x $seed
    for {set i 0} {$i < $n} {incr i} {
        set x [expr {($x * 1103515245 + 12345) & 0x7fffffff}]
        append s [format %c [expr {($x >> 16) & 0xff}]]
    }
    return $s
}

proc decode_escapes {s} {
    set out ""
    set i 0
    set n [string length $s]
    while {$i < $n} {
        set chunk [string range $s $i [expr {$i + 3}]]
        if {[regexp {^\\x[0-9a-fA-F]{2}$} $chunk]} {
            append out [format %c [scan [string range $chunk 2 3] %x]]
            incr i 4
        } else {
            append out [string index $s $i]
            incr i
        }
    }
    return $out
}
