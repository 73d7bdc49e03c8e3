# test_helper.tcl -- Runs the Tcl integration suite (tests/unit/*.tcl).
#
# Started by ../runtest. Two roles in one file:
#   runner  (default): picks the unit files, runs each in a worker process,
#           enforces --timeout per file, counts the [ok]/[err]/[skip] lines
#           the workers print, and ends with "tcl: N passed, M failed".
#   worker  (--worker FILE): sources the support code and one unit file.
# A worker announces every server it spawns ("[server-pid]: PID") so the
# runner can kill those servers, by pid, if the worker has to be killed.

set ::root [file dirname [file dirname [file normalize [info script]]]]
set ::tmp_root [file join $::root tests tmp]
set ::script [file normalize [info script]]

proc usage {} {
    puts {Usage: ./runtest [options]

Runs every tests/unit/*.tcl file (sorted) against a server spawned per
start_server block, or against an already running server.

Options:
  --single FILE        run only this unit file (repeatable): tests/unit/x.tcl,
                       unit/x or x
  --only GLOB          run only tests whose name matches GLOB (repeatable)
  --tags "a -b"        run tests tagged a, skip tests tagged b (repeatable)
  --host HOST          external mode: test the server at HOST:PORT, spawn
  --port PORT          nothing (tests tagged external:skip are skipped)
  --server-bin PATH    server binary to spawn (default src/redis-pubsub-server);
                       a redis-server binary runs the suite against Redis
  --ours-skip          skip tests tagged `ours` (implied when the server
                       under test is not redis-pubsub)
  --clients N          run up to N unit files in parallel (default 1)
  --timeout SECONDS    kill a unit file that runs longer (default 600)
  --verbose            print each test as it starts, skips, server details
  --dump-logs          print the server logs when a test fails
  --help               this text}
}

# Bad usage still ends with the summary line that scripts look for.
proc usage_error {msg} {
    puts stderr $msg
    puts "tcl: 0 passed, 1 failed"
    exit 2
}

proc parse_options {argv} {
    array set ::opt {
        singles {} only {} tags_include {} tags_exclude {}
        host "" port "" external 0 server_bin "" ours_skip 0
        clients 1 timeout 600 verbose 0 dump_logs 0 worker "" ours ""
    }
    set ::opt(server_bin) [file join $::root src redis-pubsub-server]
    for {set i 0} {$i < [llength $argv]} {incr i} {
        set arg [lindex $argv $i]
        set val [lindex $argv [expr {$i + 1}]]
        switch -exact -- $arg {
            --single {
                # A path that exists from the caller's directory wins.
                if {[file isfile $val]} {set val [file normalize $val]}
                lappend ::opt(singles) $val
                incr i
            }
            --only      {lappend ::opt(only) $val; incr i}
            --tags {
                foreach t $val {
                    if {[string index $t 0] eq "-"} {
                        lappend ::opt(tags_exclude) [string range $t 1 end]
                    } else {
                        lappend ::opt(tags_include) $t
                    }
                }
                incr i
            }
            --host       {set ::opt(host) $val; incr i}
            --port       {set ::opt(port) $val; incr i}
            --server-bin {
                if {[string first / $val] >= 0} {set val [file normalize $val]}
                set ::opt(server_bin) $val
                incr i
            }
            --ours-skip  {set ::opt(ours_skip) 1}
            --clients    {set ::opt(clients) $val; incr i}
            --timeout    {set ::opt(timeout) $val; incr i}
            --verbose    {set ::opt(verbose) 1}
            --dump-logs  {set ::opt(dump_logs) 1}
            --worker     {set ::opt(worker) $val; incr i}
            --ours       {set ::opt(ours) $val; incr i}
            --help       {usage; exit 0}
            default {usage_error "Unknown option: $arg (try --help)"}
        }
    }
    if {$::opt(host) ne "" && $::opt(port) eq ""} {
        usage_error "--host needs --port"
    }
    if {$::opt(port) ne "" && $::opt(host) eq ""} {set ::opt(host) 127.0.0.1}
    set ::opt(external) [expr {$::opt(port) ne ""}]
    foreach k {clients timeout} {
        if {![string is integer -strict $::opt($k)] || $::opt($k) < 1} {
            usage_error "--[string map {_ -} $k] needs a positive integer"
        }
    }
}

# ---------------------------------------------------------------------------
# Worker
# ---------------------------------------------------------------------------

proc worker_main {} {
    foreach f {client test server util} {
        source [file join $::root tests support $f.tcl]
    }
    array set ::stats {passed 0 failed 0 skipped 0}
    set ::server_is_ours $::opt(ours)
    set ::current_file $::opt(worker)
    if {[catch {uplevel #0 [list source $::opt(worker)]} err options]} {
        set trace [string range [dict get $options -errorinfo] [string length $err] end]
        report "\[exception\]: [file tail $::opt(worker)]: $err$trace"
        exit 1
    }
    exit [expr {$::stats(failed) > 0}]
}

# ---------------------------------------------------------------------------
# Runner
# ---------------------------------------------------------------------------

proc resolve_unit_file {name} {
    set candidates [list $name]
    set n [regsub {^(\./)?(tests/)?} $name ""]
    set n [regsub {\.tcl$} $n ""]
    lappend candidates [file join $::root tests $n.tcl] \
        [file join $::root tests unit $n.tcl]
    foreach c $candidates {
        if {[file isfile $c]} {return [file normalize $c]}
    }
    usage_error "No such test file: $name"
}

proc resolve_server_bin {bin} {
    if {[string first / $bin] < 0} {
        set found [auto_execok $bin]
        if {$found ne ""} {return [lindex $found 0]}
    }
    return [file normalize $bin]
}

proc runner_main {argv} {
    foreach f {client} {
        source [file join $::root tests support $f.tcl]
    }
    set files {}
    foreach s $::opt(singles) {lappend files [resolve_unit_file $s]}
    if {![llength $files]} {
        set files [lsort [glob -nocomplain -directory [file join $::root tests unit] *.tcl]]
    }

    if {$::opt(external)} {
        set ::opt(clients) 1   ;# files would see each other's clients
        if {[catch {
            set c [redis_client $::opt(host) $::opt(port)]
            $c timeout 5000
            set info [$c info server]
            $c close
        } err]} {
            puts "Cannot reach the external server at $::opt(host):$::opt(port): $err"
            puts "tcl: 0 passed, 1 failed"
            exit 1
        }
        set ours [expr {[string first "redis_pubsub_version:" $info] >= 0}]
        puts "Testing the external server at $::opt(host):$::opt(port)[expr {$ours ? "" : " (not redis-pubsub: tests tagged 'ours' are skipped)"}]"
    } else {
        set ::opt(server_bin) [resolve_server_bin $::opt(server_bin)]
        if {![file executable $::opt(server_bin)]} {
            puts "Server binary not found or not executable: $::opt(server_bin) (build it, or use --server-bin)"
            puts "tcl: 0 passed, 1 failed"
            exit 1
        }
        if {[string match *redis-server* [file tail $::opt(server_bin)]]} {
            set ours 0
            puts "Testing $::opt(server_bin) (Redis: tests tagged 'ours' are skipped)"
        } else {
            set ours maybe   ;# confirmed by INFO on the first spawn
            puts "Testing $::opt(server_bin)"
        }
    }
    if {$::opt(ours_skip)} {set ours 0}
    file mkdir $::tmp_root

    # Everything after the runner's own options goes to the workers as is.
    set ::worker_args [list --ours $ours --timeout $::opt(timeout) \
        --server-bin $::opt(server_bin)]
    if {$::opt(external)} {lappend ::worker_args --host $::opt(host) --port $::opt(port)}
    foreach o $::opt(only) {lappend ::worker_args --only $o}
    foreach t $::opt(tags_include) {lappend ::worker_args --tags $t}
    foreach t $::opt(tags_exclude) {lappend ::worker_args --tags "-$t"}
    if {$::opt(verbose)} {lappend ::worker_args --verbose}
    if {$::opt(dump_logs)} {lappend ::worker_args --dump-logs}

    array set ::total {passed 0 failed 0 skipped 0}
    set ::failures {}
    set ::pending $files
    set ::running 0
    set ::start_time [clock milliseconds]
    while {[llength $::pending] || $::running} {
        while {[llength $::pending] && $::running < $::opt(clients)} {
            start_worker [lindex $::pending 0]
            set ::pending [lrange $::pending 1 end]
        }
        vwait ::worker_event
    }

    set secs [format %.1f [expr {([clock milliseconds] - $::start_time) / 1000.0}]]
    puts ""
    puts "[llength $files] file(s) in $secs s; $::total(skipped) test(s) skipped"
    if {[llength $::failures]} {
        puts "Failed:"
        foreach f $::failures {puts "  $f"}
    }
    puts "tcl: $::total(passed) passed, $::total(failed) failed"
    exit [expr {$::total(failed) > 0}]
}

proc start_worker {file} {
    set cmd [list [info nameofexecutable] $::script --worker $file {*}$::worker_args]
    set chan [open |[concat $cmd [list 2>@stderr]] r]
    fconfigure $chan -blocking 0 -buffering line -translation lf
    set w [pid $chan]
    set ::workers($chan) [dict create file $file name [file rootname [file tail $file]] \
        pid $w servers {} errors 0 start [clock milliseconds]]
    set ::workers($chan,timer) [after [expr {$::opt(timeout) * 1000}] [list worker_timeout $chan]]
    incr ::running
    fileevent $chan readable [list worker_readable $chan]
    if {$::opt(verbose)} {puts "\[file\]: [dict get $::workers($chan) name] (worker pid $w)"}
}

proc count_failure {chan line} {
    incr ::total(failed)
    dict incr ::workers($chan) errors
    lappend ::failures "[dict get $::workers($chan) name]: [lindex [split $line \n] 0]"
}

proc worker_readable {chan} {
    while {[gets $chan line] >= 0} {
        switch -glob -- $line {
            {\[ok\]:*} {
                incr ::total(passed)
                puts $line
            }
            {\[err\]:*} {
                count_failure $chan $line
                puts $line
            }
            {\[exception\]:*} {
                count_failure $chan $line
                puts $line
            }
            {\[skip\]:*} {
                incr ::total(skipped)
                if {$::opt(verbose)} {puts $line}
            }
            {\[server-pid\]:*} {
                dict lappend ::workers($chan) servers [string trim [string range $line 13 end]]
            }
            {\[server-gone\]:*} {
                set gone [string trim [string range $line 14 end]]
                set l [dict get $::workers($chan) servers]
                dict set ::workers($chan) servers [lsearch -all -inline -not -exact $l $gone]
            }
            default {
                puts $line
            }
        }
    }
    flush stdout
    if {[eof $chan]} {worker_finished $chan}
}

proc worker_timeout {chan} {
    set w $::workers($chan)
    catch {exec kill -KILL [dict get $w pid]}
    foreach p [dict get $w servers] {catch {exec kill -KILL $p}}
    set line "\[err\]: [dict get $w name] timed out after $::opt(timeout) s (worker and its servers killed)"
    puts $line
    count_failure $chan $line
    worker_finished $chan
}

proc worker_finished {chan} {
    after cancel $::workers($chan,timer)
    fileevent $chan readable {}
    fconfigure $chan -blocking 1
    set status 0
    if {[catch {close $chan} err options]} {
        set ec [dict get $options -errorcode]
        if {[lindex $ec 0] eq "CHILDSTATUS"} {
            set status [lindex $ec 2]
        } elseif {[lindex $ec 0] eq "CHILDKILLED"} {
            set status "killed by [lindex $ec 2]"
        }
    }
    set w $::workers($chan)
    # A worker that died without saying why still fails the run.
    if {$status ne "0" && [dict get $w errors] == 0} {
        set line "\[err\]: [dict get $w name] worker exited with status $status"
        puts $line
        count_failure $chan $line
    }
    foreach p [dict get $w servers] {catch {exec kill -KILL $p}}
    set secs [format %.1f [expr {([clock milliseconds] - [dict get $w start]) / 1000.0}]]
    puts "\[done\]: [dict get $w name] ($secs s)"
    unset ::workers($chan) ::workers($chan,timer)
    incr ::running -1
    set ::worker_event 1
}

parse_options $argv
cd $::root
if {$::opt(worker) ne ""} {
    worker_main
} else {
    runner_main $argv
}
