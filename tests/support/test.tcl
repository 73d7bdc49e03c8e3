# test.tcl -- Tests, tags and assertions.
#
#   test NAME BODY ?TAGS?     run BODY as one test; prints [ok]/[err]/[skip]
#   tags TAGS BODY            every test inside BODY also carries TAGS
#                             (`ours`: our own behaviour; `redis72`: Redis 7.2
#                             behaviour: both skipped against redis-server)
#   fail MESSAGE              fail the current test
#   assert EXPR ?DETAIL?
#   assert_equal VALUE EXPECTED ?DETAIL?
#   assert_match PATTERN VALUE ?DETAIL?
#   assert_no_match PATTERN VALUE ?DETAIL?
#   assert_error PATTERN SCRIPT       SCRIPT must raise an error matching PATTERN
#   assert_range VALUE MIN MAX        MIN <= VALUE <= MAX
#   assert_morethan VALUE MIN, assert_morethan_equal VALUE MIN
#   assert_lessthan VALUE MAX, assert_lessthan_equal VALUE MAX
#   wait_for_condition MAXTRIES DELAY_MS COND else ELSE_SCRIPT
#   tsleep MS                 sleep while servicing the event loop
#
# A failed assertion raises a Tcl error whose message starts with
# "assertion:"; `test` strips that prefix when it reports the failure. Any
# other error inside a test body also fails that test (and only that test).
# Clients and raw sockets a test opens are closed when it ends, pass or fail.
# Each line printed here is read by the parent runner: a line starting with
# [ok]: [err]: or [skip]: counts one test.

set ::tags {}
set ::current_test ""

# Reports are flushed line by line so the parent sees them as they happen.
proc report {line} {
    puts $line
    flush stdout
}

proc verbose_report {line} {
    if {$::opt(verbose)} {report $line}
}

# ---------------------------------------------------------------------------
# Test selection
# ---------------------------------------------------------------------------

# Returns "" when a test (or block) with these tags may run, otherwise the
# reason it is skipped. `name` is "" for start_server blocks, which are not
# filtered by --only or by the include list (their tests are).
proc skip_reason {name tags} {
    if {$::opt(external) && "external:skip" in $tags} {
        return "external:skip"
    }
    if {$::server_is_ours eq "0" && "ours" in $tags} {
        return "server under test is not ours"
    }
    # redis72: Redis 7.2 behaviour that Debian's redis-server 7.0 (the only
    # other server the suite runs against) answers otherwise; each such
    # test says why. Ours serves 7.2's semantics.
    if {$::server_is_ours eq "0" && "redis72" in $tags} {
        return "Redis 7.2 behaviour; the server under test is not ours (Redis 7.0)"
    }
    foreach t $::opt(tags_exclude) {
        if {$t in $tags} {return "tag $t excluded"}
    }
    if {$name eq ""} {return ""}
    if {[llength $::opt(tags_include)]} {
        set hit 0
        foreach t $::opt(tags_include) {
            if {$t in $tags} {set hit 1; break}
        }
        if {!$hit} {return "no included tag"}
    }
    if {[llength $::opt(only)]} {
        set hit 0
        foreach pattern $::opt(only) {
            if {[string match $pattern $name]} {set hit 1; break}
        }
        if {!$hit} {return "not selected by --only"}
    }
    return ""
}

proc tags {tags body} {
    set saved $::tags
    lappend ::tags {*}$tags
    set code [catch {uplevel 1 $body} result options]
    set ::tags $saved
    return -options $options $result
}

# ---------------------------------------------------------------------------
# Running one test
# ---------------------------------------------------------------------------

proc test {name body {tags {}}} {
    set all_tags [concat $::tags $tags]
    set why [skip_reason $name $all_tags]
    if {$why ne ""} {
        incr ::stats(skipped)
        report "\[skip\]: $name ($why)"
        return
    }
    set ::current_test $name
    verbose_report "\[test\]: $name"
    set handles_before [::redis::open_handles]
    set start [clock milliseconds]
    set code [catch {uplevel 1 $body} result options]
    set elapsed [expr {[clock milliseconds] - $start}]
    foreach h [::redis::open_handles] {
        if {$h ni $handles_before} {::redis::close_handle $h}
    }
    set ::current_test ""
    # 0 = ok, 2 = `return` used to finish early: both count as success.
    if {$code == 0 || $code == 2} {
        incr ::stats(passed)
        report "\[ok\]: $name ($elapsed ms)"
        return
    }
    incr ::stats(failed)
    if {[string match "assertion:*" $result]} {
        set reason [string range $result 10 end]
    } else {
        set reason "error: $result"
        if {$::opt(verbose)} {
            append reason "\n" [dict get $options -errorinfo]
        } else {
            # The innermost frames say where it happened; keep a few.
            set info [split [dict get $options -errorinfo] "\n"]
            append reason "\n    " [join [lrange $info 1 6] "\n    "]
        }
    }
    report "\[err\]: $name -- $reason"
    server_after_failure
}

# ---------------------------------------------------------------------------
# Assertions
# ---------------------------------------------------------------------------

# Where an assertion was called from, as unit-file:line when Tcl can tell.
# Frames of support code are skipped. A script run with uplevel (a test or
# start_server body) reports lines relative to the body, which starts on the
# line of the command that received it: add them up until a frame gives an
# absolute file line.
proc assert_location {} {
    set offset 0
    set skip_proc ""
    for {set level [expr {[info frame] - 1}]} {$level > 0} {incr level -1} {
        set frame [info frame $level]
        set proc [expr {[dict exists $frame proc] ? [dict get $frame proc] : ""}]
        if {$skip_proc ne ""} {
            if {$proc eq $skip_proc} continue
            set skip_proc ""
        }
        if {![dict exists $frame line]} {return ""}
        switch -exact -- [dict get $frame type] {
            source {
                set file [dict get $frame file]
                if {[file tail [file dirname $file]] eq "support"} continue
                return " (at [file tail $file]:[expr {[dict get $frame line] + $offset}])"
            }
            eval {
                if {$proc eq ""} {return ""}
                incr offset [expr {[dict get $frame line] - 1}]
                set skip_proc $proc
            }
            default {return ""}
        }
    }
    return ""
}

# A printable, bounded form of a value for failure messages.
proc show {value} {
    set limit 400
    set s [escape_bytes $value]
    if {[string length $s] > $limit} {
        set s "[string range $s 0 $limit]... ([string length $value] bytes)"
    }
    return "'$s'"
}

proc fail {msg} {
    error "assertion:$msg[assert_location]"
}

proc with_detail {msg detail} {
    if {$detail ne ""} {append msg " ($detail)"}
    return $msg
}

proc assert {condition {detail ""}} {
    if {![uplevel 1 [list expr $condition]]} {
        fail [with_detail "expected \[$condition\] to be true" $detail]
    }
}

proc assert_equal {value expected {detail ""}} {
    if {$value ne $expected} {
        fail [with_detail "expected [show $expected], got [show $value]" $detail]
    }
}

proc assert_not_equal {value unexpected {detail ""}} {
    if {$value eq $unexpected} {
        fail [with_detail "expected anything but [show $unexpected]" $detail]
    }
}

proc assert_match {pattern value {detail ""}} {
    if {![string match $pattern $value]} {
        fail [with_detail "expected [show $value] to match [show $pattern]" $detail]
    }
}

proc assert_no_match {pattern value {detail ""}} {
    if {[string match $pattern $value]} {
        fail [with_detail "expected [show $value] not to match [show $pattern]" $detail]
    }
}

proc assert_error {pattern script {detail ""}} {
    if {[catch {uplevel 1 $script} err]} {
        if {![string match $pattern $err]} {
            fail [with_detail "expected an error matching [show $pattern], got [show $err]" $detail]
        }
        return $err
    }
    fail [with_detail "expected an error matching [show $pattern], but the script succeeded" $detail]
}

proc assert_range {value min max {detail ""}} {
    if {!([string is double -strict $value] && $value >= $min && $value <= $max)} {
        fail [with_detail "expected [show $value] to be between $min and $max" $detail]
    }
}

proc assert_morethan {value min {detail ""}} {
    if {!([string is double -strict $value] && $value > $min)} {
        fail [with_detail "expected [show $value] > $min" $detail]
    }
}

proc assert_morethan_equal {value min {detail ""}} {
    if {!([string is double -strict $value] && $value >= $min)} {
        fail [with_detail "expected [show $value] >= $min" $detail]
    }
}

proc assert_lessthan {value max {detail ""}} {
    if {!([string is double -strict $value] && $value < $max)} {
        fail [with_detail "expected [show $value] < $max" $detail]
    }
}

proc assert_lessthan_equal {value max {detail ""}} {
    if {!([string is double -strict $value] && $value <= $max)} {
        fail [with_detail "expected [show $value] <= $max" $detail]
    }
}

# ---------------------------------------------------------------------------
# Waiting
# ---------------------------------------------------------------------------

# Sleeps without blocking the event loop, so queued socket output keeps
# flowing while we wait.
proc tsleep {ms} {
    set var ::tsleep_[incr ::tsleep_seq]
    set $var 0
    after $ms [list set $var 1]
    vwait $var
    unset $var
}
set ::tsleep_seq 0

# wait_for_condition 50 100 {[expr]} else {fail "message"}
# Evaluates COND up to MAXTRIES times, DELAY ms apart; runs ELSE_SCRIPT in the
# caller if it never became true.
proc wait_for_condition {maxtries delay cond else elsescript} {
    if {$else ne "else"} {
        error "wait_for_condition: expected 'else', got '$else'"
    }
    for {set i 0} {$i < $maxtries} {incr i} {
        if {[uplevel 1 [list expr $cond]]} return
        tsleep $delay
    }
    uplevel 1 $elsescript
}
