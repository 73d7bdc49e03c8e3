# history_log.tcl -- Channel histories on disk (issue 11, durability):
# channel-history-dir and channel-history-fsync. Each test starts the binary
# itself (proc_start, support/server.tcl) so that it can stop, kill -9 and
# restart it on the same directory. Redis has no such thing: tagged `ours`.

proc hl_start {dir port {extra ""}} {
    set conf [proc_config $dir $port "channel-history \"h.*\" 100000\nchannel-history \"s.*\" 5\nchannel-history-dir hist\n$extra"]
    set p [proc_start [list $conf] $dir]
    proc_wait_ready $p $port
    return $p
}

# SIGTERM, exit 0, no sanitizer report.
proc hl_stop {p} {
    exec kill -TERM [dict get $p pid]
    assert_equal 0 [proc_wait_exit $p 10000] "exit status after SIGTERM"
    hl_no_sanitizer $p
}

proc hl_no_sanitizer {p} {
    set err [read_file_bytes [dict get $p stderr]]
    if {[string match "*Sanitizer*" $err] || [string match "*runtime error*" $err]} {
        fail "sanitizer report: $err"
    }
}

proc hl_info {c field} {
    foreach line [split [$c info history] "\r\n"] {
        if {[string match "$field:*" $line]} {return [string range $line [string length $field]+1 end]}
    }
    return ""
}

# The whole XINFO STREAM reply: length, radix-tree figures, ids, counters.
proc hl_xinfo {c ch} {
    return [$c xinfo stream $ch]
}

proc hl_id_less {a b} {
    lassign [split $a -] ams aseq
    lassign [split $b -] bms bseq
    return [expr {$ams < $bms || ($ams == $bms && $aseq < $bseq)}]
}

# Publishes "payload number 0..9" (16 bytes each) to ch on the server p
# (listening on port, files in dir), stops it, and returns the ids and the
# path of the history's one file.
proc hl_ten_then_stop {p dir port ch} {
    set c [redis_client 127.0.0.1 $port]
    for {set i 0} {$i < 10} {incr i} {$c publish $ch "payload number $i"}
    set ids [lmap e [$c xrange $ch - +] {lindex $e 0}]
    $c close
    hl_stop $p
    return [list $ids [lindex [hl_files $dir] 0]]
}

# data with the byte at offset at xor-ed with mask.
proc hl_flip {data at {mask 0x20}} {
    set flipped [format %c [expr {[scan [string index $data $at] %c] ^ $mask}]]
    return "[string range $data 0 [expr {$at - 1}]]$flipped[string range $data [expr {$at + 1}] end]"
}

proc hl_files {dir} {
    return [lsort [glob -nocomplain -directory [file join $dir hist] *.hlog]]
}

tags {history ours external:skip} {

    test {History: restart keeps every history, ids and XINFO counters; ids keep increasing} {
        set dir [proc_dir]
        set port [find_available_port]
        set p [hl_start $dir $port]
        try {
            set c [redis_client 127.0.0.1 $port]
            assert_equal enabled [hl_info $c history_persistence]
            assert_equal everysec [hl_info $c history_fsync]
            set bin "h.\x00bin\r\n\xff [string repeat x 200]"
            for {set i 0} {$i < 50} {incr i} {
                $c publish h.a "msg $i"
                $c publish $bin "b$i\x00\r\n"
            }
            $c xadd h.a * message via-xadd
            set del [lindex [$c xrange h.a - + COUNT 3] 2 0]
            assert_equal 1 [$c xdel h.a $del]
            assert_equal 4 [$c xtrim h.a MAXLEN 46]
            for {set i 0} {$i < 8} {incr i} {$c publish s.small $i}
            set before [list [$c xrange h.a - +] [$c xrange $bin - +] [$c xrange s.small - +]]
            set xb [list [hl_xinfo $c h.a] [hl_xinfo $c $bin] [hl_xinfo $c s.small]]
            assert_equal 3 [llength [hl_files $dir]]
            $c close
            hl_stop $p

            set p [hl_start $dir $port]
            set c [redis_client 127.0.0.1 $port]
            assert_equal $before [list [$c xrange h.a - +] [$c xrange $bin - +] [$c xrange s.small - +]]
            assert_equal $xb [list [hl_xinfo $c h.a] [hl_xinfo $c $bin] [hl_xinfo $c s.small]]
            assert_equal 5 [$c xlen s.small]
            set last [dict get [$c xinfo stream h.a] last-generated-id]
            set id [$c xadd h.a * message after]
            assert {[hl_id_less $last $id]}
            $c close
            hl_stop $p
        } finally {
            proc_cleanup $p
        }
    }

    test {History: a corrupt record in the middle of a file costs only that record} {
        set dir [proc_dir]
        set port [find_available_port]
        set p [hl_start $dir $port]
        try {
            lassign [hl_ten_then_stop $p $dir $port h.mid] ids f
            # The file ends with the ten entry records, 41 bytes each
            # (8 framing, type, 16 id, 16 payload): flip a payload byte of
            # the fifth, then a length byte of the seventh.
            set data [read_file_bytes $f]
            set base [expr {[string length $data] - 10 * 41}]
            set data [hl_flip $data [expr {$base + 4 * 41 + 30}] 0x40]
            write_file_bytes $f [hl_flip $data [expr {$base + 6 * 41 + 1}] 0x40]

            set p [hl_start $dir $port]
            set c [redis_client 127.0.0.1 $port]
            set log [read_file_bytes [dict get $p stdout]]
            assert_match "*Warning: history file *corrupt record at offset*skipped 41 bytes*" $log
            assert_equal [concat [lrange $ids 0 3] [lindex $ids 5] [lrange $ids 7 9]] \
                [lmap e [$c xrange h.mid - +] {lindex $e 0}]
            assert_equal 2 [hl_info $c history_skipped_records]
            assert_equal 0 [hl_info $c history_truncated_files]
            set kept [$c xrange h.mid - +]
            $c close
            hl_stop $p
            # Rewritten without them: the next start loads it clean.
            set p [hl_start $dir $port]
            set c [redis_client 127.0.0.1 $port]
            assert_equal 0 [hl_info $c history_skipped_records]
            assert_equal $kept [$c xrange h.mid - +]
            assert_no_match "*Warning: history file*" [read_file_bytes [dict get $p stdout]]
            $c close
            hl_stop $p
        } finally {
            proc_cleanup $p
        }
    }

    test {History: entries the memory cap evicted stay evicted after a restart} {
        # Interleaved publishes to two channels: the cap keeps the newest of
        # both. Were evictions not on disk, loading one file after the
        # other would let load order pick what the cap evicts again.
        set dir [proc_dir]
        set port [find_available_port]
        set p [hl_start $dir $port "channel-history-max-memory 30000\n"]
        try {
            set c [redis_client 127.0.0.1 $port]
            set payload [string repeat x 300]
            for {set i 0} {$i < 300} {incr i} {
                $c publish h.ev1 "$i $payload"
                $c publish h.ev2 "$i $payload"
            }
            assert_lessthan 0 [hl_info $c history_evictions]
            set before [list [$c xrange h.ev1 - +] [$c xrange h.ev2 - +]]
            assert_lessthan 10 [llength [lindex $before 0]]
            assert_lessthan 10 [llength [lindex $before 1]]
            assert_lessthan [llength [lindex $before 0]] 300
            set xb [list [hl_xinfo $c h.ev1] [hl_xinfo $c h.ev2]]
            $c close
            hl_stop $p

            set p [hl_start $dir $port "channel-history-max-memory 30000\n"]
            set c [redis_client 127.0.0.1 $port]
            assert_equal $before [list [$c xrange h.ev1 - +] [$c xrange h.ev2 - +]]
            assert_equal $xb [list [hl_xinfo $c h.ev1] [hl_xinfo $c h.ev2]]
            assert_equal 0 [hl_info $c history_evictions] "evictions while loading"
            $c close
            hl_stop $p
        } finally {
            proc_cleanup $p
        }
    }

    test {History: kill -9 during a publishing flood with fsync always loses no acknowledged message} {
        set dir [proc_dir]
        set port [find_available_port]
        set p [hl_start $dir $port "channel-history-fsync always\n"]
        try {
            set c [redis_client 127.0.0.1 $port]
            assert_equal always [lindex [$c config get channel-history-fsync] 1]
            set pid [dict get $p pid]
            # The killer fires while the loop below is publishing.
            exec sh -c "sleep 0.4; kill -9 $pid" &
            set acked {}
            for {set i 0} {$i < 1000000} {incr i} {
                if {[catch {$c publish h.flood "m$i"}]} break
                lappend acked "m$i"
            }
            catch {$c close}
            proc_wait_exit $p 5000
            assert_lessthan 50 [llength $acked] "messages acknowledged before the kill"

            set p [hl_start $dir $port]
            set c [redis_client 127.0.0.1 $port]
            set range [$c xrange h.flood - +]
            set got [lmap e $range {lindex $e 1 1}]
            # Every acknowledged message, in order; at most the one in flight after them.
            assert_equal $acked [lrange $got 0 [expr {[llength $acked] - 1}]]
            assert {[llength $got] - [llength $acked] <= 1}
            set prev 0-0
            foreach e $range {
                assert {[hl_id_less $prev [lindex $e 0]]}
                set prev [lindex $e 0]
            }
            assert {[hl_id_less $prev [$c xadd h.flood * message next]]}
            assert_equal [expr {[llength $got] + 1}] [dict get [$c xinfo stream h.flood] entries-added]
            $c close
            hl_stop $p
        } finally {
            proc_cleanup $p
        }
    }

    test {History: a torn last record is cut with a log line and the rest loads} {
        set dir [proc_dir]
        set port [find_available_port]
        set p [hl_start $dir $port]
        try {
            lassign [hl_ten_then_stop $p $dir $port h.torn] ids f
            set size [file size $f]
            # Cut 5 bytes into the last record (its payload is 16 bytes).
            exec truncate -s [expr {$size - 5}] $f

            set p [hl_start $dir $port]
            set c [redis_client 127.0.0.1 $port]
            assert_match "*Warning: history file *torn (short) record at offset*Truncating the file there*" \
                [read_file_bytes [dict get $p stdout]]
            assert_equal [lrange $ids 0 8] [lmap e [$c xrange h.torn - +] {lindex $e 0}]
            assert_equal 1 [hl_info $c history_truncated_files]
            # The file now ends at a record boundary: appends go on from there.
            $c publish h.torn again
            $c close
            hl_stop $p

            # A corrupt byte inside the last record: cut the same way.
            set data [read_file_bytes $f]
            write_file_bytes $f [hl_flip $data [expr {[string length $data] - 2}]]
            set p [hl_start $dir $port]
            set c [redis_client 127.0.0.1 $port]
            assert_match "*Warning: history file *corrupt record at offset*" [read_file_bytes [dict get $p stdout]]
            assert_equal [lrange $ids 0 8] [lmap e [$c xrange h.torn - +] {lindex $e 0}]
            $c close
            hl_stop $p

            # A file without a valid header is left as it is; the rest loads.
            set junk [file join $dir hist c-6a756e6b.hlog]
            write_file_bytes $junk "not a history file"
            set p [hl_start $dir $port]
            set c [redis_client 127.0.0.1 $port]
            assert_match "*Warning: history file *c-6a756e6b.hlog has no valid header*left as it is*" \
                [read_file_bytes [dict get $p stdout]]
            assert_equal "not a history file" [read_file_bytes $junk]
            assert_equal 9 [$c xlen h.torn]
            $c close
            hl_stop $p
        } finally {
            proc_cleanup $p
        }
    }

    test {History: files are compacted once trimmed entries make up most of them} {
        set dir [proc_dir]
        set port [find_available_port]
        set p [hl_start $dir $port]
        try {
            set c [redis_client 127.0.0.1 $port]
            set payload [string repeat z 1000]
            for {set i 0} {$i < 300} {incr i} {$c publish s.compact "$i $payload"}
            wait_for_condition 100 50 {
                [hl_info $c history_compactions] >= 1
            } else {
                fail "no compaction: [$c info history]"
            }
            # 5 entries of ~1 KB live: the file is a few KB, not 300.
            assert_lessthan [file size [lindex [hl_files $dir] 0]] 10000
            set before [$c xrange s.compact - +]
            set xb [hl_xinfo $c s.compact]
            assert_equal 300 [dict get $xb entries-added]
            $c close
            hl_stop $p
            set p [hl_start $dir $port]
            set c [redis_client 127.0.0.1 $port]
            assert_equal $before [$c xrange s.compact - +]
            assert_equal $xb [hl_xinfo $c s.compact]
            $c close
            hl_stop $p
        } finally {
            proc_cleanup $p
        }
    }

    test {History: past a file-size limit, publishing goes on, errors are counted, the file recovers} {
        set dir [proc_dir]
        set port [find_available_port]
        # The server runs under `ulimit -f 128`: 64 KiB per file in dash's
        # 512-byte blocks, 128 KiB where sh counts KiB; 300 KB overflows both.
        set wrapper [file join $dir limited.sh]
        write_file_bytes $wrapper "#!/bin/sh\nulimit -f 128 || exit 99\nexec \"[file normalize $::opt(server_bin)]\" \"\$@\"\n"
        file attributes $wrapper -permissions 0755
        set saved $::opt(server_bin)
        set ::opt(server_bin) $wrapper
        try {
            set p [hl_start $dir $port]
        } finally {
            set ::opt(server_bin) $saved
        }
        try {
            set c [redis_client 127.0.0.1 $port]
            set payload [string repeat d 1000]
            for {set i 0} {$i < 300} {incr i} {assert_equal 0 [$c publish h.full "$i $payload"]}
            assert_equal 300 [$c xlen h.full]
            assert_lessthan 0 [hl_info $c history_write_errors]
            assert_match "*File too large*" [hl_info $c history_last_disk_error]
            assert_equal 1 [hl_info $c history_memory_only_files]
            assert_equal PONG [$c ping]
            assert_match "*Channel history: write *File too large*stays in memory*" [read_file_bytes [dict get $p stdout]]
            # The file never went past the limit, and holds whole records only.
            assert_lessthan [file size [lindex [hl_files $dir] 0]] [expr {128 * 1024 + 1}]
            # Trimmed to what fits, the cron's retry rewrites the file from memory.
            $c xtrim h.full MAXLEN 20
            wait_for_condition 100 50 {
                [hl_info $c history_memory_only_files] == 0
            } else {
                fail "the file did not recover: [$c info history]"
            }
            set before [$c xrange h.full - +]
            $c close
            hl_stop $p
            set p [hl_start $dir $port]
            set c [redis_client 127.0.0.1 $port]
            assert_equal $before [$c xrange h.full - +]
            $c close
            hl_stop $p
        } finally {
            proc_cleanup $p
        }
    }

    test {History: an unwritable directory is counted and retried, publishing goes on} {
        set dir [proc_dir]
        set port [find_available_port]
        set p [hl_start $dir $port]
        try {
            set c [redis_client 127.0.0.1 $port]
            $c publish h.ok first
            # Replace the directory by a file: every open in it fails (ENOTDIR), whoever we are.
            file rename [file join $dir hist] [file join $dir hist.away]
            write_file_bytes [file join $dir hist] "not a directory"
            $c publish h.new x
            $c publish h.new y
            assert_equal 2 [$c xlen h.new]
            assert_lessthan 0 [hl_info $c history_write_errors]
            assert_match "*open hist/c-*" [hl_info $c history_last_disk_error]
            file delete [file join $dir hist]
            file rename [file join $dir hist.away] [file join $dir hist]
            wait_for_condition 100 50 {
                [hl_info $c history_memory_only_files] == 0
            } else {
                fail "no recovery: [$c info history]"
            }
            $c close
            hl_stop $p
            set p [hl_start $dir $port]
            set c [redis_client 127.0.0.1 $port]
            assert_equal {x y} [lmap e [$c xrange h.new - +] {lindex $e 1 1}]
            $c close
            hl_stop $p
        } finally {
            proc_cleanup $p
        }
    }

    test {History: CONFIG GET shows the directives; the fsync policy is settable, the directory is not} {
        set dir [proc_dir]
        set port [find_available_port]
        set p [hl_start $dir $port]
        try {
            set c [redis_client 127.0.0.1 $port]
            assert_equal {channel-history-dir hist} [$c config get channel-history-dir]
            assert_equal {channel-history-fsync everysec} [$c config get channel-history-fsync]
            # everysec: what is written is pending until the cron's fdatasync.
            $c publish h.sync one
            wait_for_condition 100 50 {
                [hl_info $c history_pending_bytes] == 0 && [hl_info $c history_fsyncs] >= 1
            } else {
                fail "everysec did not sync: [$c info history]"
            }
            assert_equal 0 [hl_info $c history_fsync_lag_ms]
            assert_equal OK [$c config set channel-history-fsync no]
            $c publish h.sync two
            assert_lessthan 0 [hl_info $c history_pending_bytes]
            assert_equal no [hl_info $c history_fsync]
            assert_equal OK [$c config set channel-history-fsync ALWAYS]
            assert_equal always [hl_info $c history_fsync]
            assert_error "*channel-history-fsync*" {$c config set channel-history-fsync sometimes}
            assert_error "*immutable*" {$c config set channel-history-dir /tmp}
            # Dropping the rule that matched a channel removes its file.
            $c publish s.gone x
            assert_equal 2 [llength [hl_files $dir]]
            assert_equal OK [$c config set channel-history "h.* 10"]
            assert_equal 1 [llength [hl_files $dir]]
            $c close
            hl_stop $p
        } finally {
            proc_cleanup $p
        }
    }
}
