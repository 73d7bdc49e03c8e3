#!/usr/bin/env bash
# tests/compat/run.sh -- runs every client-compatibility driver against our
# server and against Debian's redis-server, and tabulates the results.
#
#   tests/compat/run.sh [--only DRIVER]... [--server ours|redis|both]
#
# A driver is a directory tests/compat/<name>/ with an executable `run HOST
# PORT` that follows the contract in tests/compat/README.md. For each server
# this script starts one instance on a free port on 127.0.0.1 (in its own
# directory under tests/tmp/compat/), runs the drivers one after another with a
# 150 s timeout each, logs each run to tests/tmp/compat/<driver>-<server>.log
# and echoes it, restarts a server that stopped answering PING (which counts
# as a failure of the driver that was running), writes tests/compat/last-run.md
# and ends with "compat: N passed, M failed". Exit status: 0 only if nothing
# failed. Both servers are stopped by PID on exit, whatever the exit path.
set -u

cd "$(dirname "$0")/../.." || exit 2
ROOT=$(pwd)
TMP=$ROOT/tests/tmp/compat
DRIVER_TIMEOUT=${COMPAT_TIMEOUT:-150}      # seconds per driver run
DRIVERS_DIR=${COMPAT_DRIVERS_DIR:-tests/compat}   # override only to test this script
HOST=127.0.0.1
REDIS_BIN=${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}
OURS_BIN=$ROOT/src/redis-pubsub-server

only=()
servers="both"
usage() {
    echo "usage: $0 [--only DRIVER]... [--server ours|redis|both]" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case $1 in
    --only) [ $# -ge 2 ] || usage; only+=("$2"); shift 2 ;;
    --only=*) only+=("${1#--only=}"); shift ;;
    --server) [ $# -ge 2 ] || usage; servers=$2; shift 2 ;;
    --server=*) servers=${1#--server=}; shift ;;
    -h|--help) usage ;;
    *) echo "unknown option: $1" >&2; usage ;;
    esac
done
case $servers in
both) kinds=(ours redis) ;;
ours|redis) kinds=("$servers") ;;
*) usage ;;
esac

mkdir -p "$TMP"
total_pass=0
total_fail=0
server_dirs=()                           # removed at the end of a green run
finish() {
    if [ "$total_fail" -eq 0 ]; then
        cleanup
        for d in "${server_dirs[@]}"; do rm -rf "$d"; done
    fi
    echo "compat: $total_pass passed, $total_fail failed"
    [ "$total_fail" -eq 0 ] && exit 0
    exit 1
}

# ---------------------------------------------------------------------------
# Servers: one of each kind, stopped by PID on exit.

declare -A SPID SPORT SDIR
driver_pid=""
tail_pid=""

stop_server() {
    local kind=$1 pid=${SPID[$1]:-} i
    [ -n "$pid" ] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for i in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    SPID[$kind]=""
}

cleanup() {
    if [ -n "$driver_pid" ] && kill -0 "$driver_pid" 2>/dev/null; then
        kill -TERM "$driver_pid" 2>/dev/null   # timeout(1) passes it to the driver's group
        wait "$driver_pid" 2>/dev/null
    fi
    if [ -n "$tail_pid" ]; then
        kill -TERM "$tail_pid" 2>/dev/null
        wait "$tail_pid" 2>/dev/null
    fi
    for kind in ours redis; do
        stop_server "$kind"
    done
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; cleanup; exit 130' INT TERM

port_in_use() {
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

pong() {
    [ "$(timeout 5 redis-cli -h "$HOST" -p "$1" ping 2>/dev/null)" = "PONG" ]
}

# start_server KIND [PORT]: starts a server; sets SPID/SPORT/SDIR. Tries PORT
# (when given) and then successive free ports.
start_server() {
    # Below 32768, out of the kernel's ephemeral range, so that a client
    # socket cannot hold the port; a clash still only costs a retry.
    local kind=$1 port=${2:-$((20000 + ($$ * 13 + ${#kind} * 1000) % 12000))}
    local attempt dir pid i
    for attempt in $(seq 20); do
        while port_in_use "$port"; do port=$((port + 1)); done
        dir=$(mktemp -d "$TMP/$kind.XXXXXX")
        if [ "$kind" = ours ]; then
            (cd "$dir" && exec "$OURS_BIN" --port "$port" --bind "$HOST") >"$dir/stdout" 2>"$dir/stderr" &
        else
            (cd "$dir" && exec "$REDIS_BIN" --port "$port" --bind "$HOST" --save '' \
                --appendonly no --dir "$dir") >"$dir/stdout" 2>"$dir/stderr" &
        fi
        pid=$!
        for i in $(seq 100); do
            grep -q "Ready to accept connections" "$dir/stdout" 2>/dev/null && break
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null && pong "$port"; then
            SPID[$kind]=$pid
            SPORT[$kind]=$port
            SDIR[$kind]=$dir
            server_dirs+=("$dir")
            echo "# $kind server: pid $pid, port $port, dir ${dir#"$ROOT"/}"
            return 0
        fi
        echo "# $kind server did not start on port $port (attempt $attempt):" >&2
        cat "$dir/stdout" "$dir/stderr" | tail -n 2 | sed 's/^/#   /' >&2
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        rm -rf "$dir"
        port=$((port + 1))
    done
    return 1
}

# ---------------------------------------------------------------------------
# Build, find drivers.

if ! make -C src >"$TMP/build.log" 2>&1; then
    echo "compat: building the server failed:" >&2
    tail -n 30 "$TMP/build.log" >&2
    total_fail=1
    finish
fi

drivers=()
for d in "$DRIVERS_DIR"/*/; do
    name=$(basename "$d")
    [ -f "$d/run" ] && [ -x "$d/run" ] || continue
    if [ ${#only[@]} -gt 0 ]; then
        keep=0
        for o in "${only[@]}"; do [ "$o" = "$name" ] && keep=1; done
        [ $keep -eq 1 ] || continue
    fi
    drivers+=("$name")
done
for o in "${only[@]}"; do
    found=0
    for n in "${drivers[@]}"; do [ "$n" = "$o" ] && found=1; done
    if [ $found -eq 0 ]; then
        echo "not ok - no driver named '$o' (no executable $DRIVERS_DIR/$o/run)"
        total_fail=$((total_fail + 1))
    fi
done
if [ ${#drivers[@]} -eq 0 ]; then
    echo "no drivers to run" >&2
    total_fail=$((total_fail + 1))
    finish
fi

# ---------------------------------------------------------------------------
# Running one driver against one server.

declare -A RPASS RFAIL RTIME RNOTE VERSIONS

run_driver() {
    local name=$1 kind=$2 port=${SPORT[$2]} log=$TMP/$1-$2.log
    local start end status line p f note=""
    echo "=== $name against $kind (port $port)"
    start=$(date +%s.%N)
    COMPAT_SERVER=$kind timeout -k 5 "$DRIVER_TIMEOUT" "$DRIVERS_DIR/$name/run" "$HOST" "$port" \
        </dev/null >"$log" 2>&1 &
    driver_pid=$!
    # Echo the log as it grows; wait on the driver itself so that a signal
    # to this script is handled at once (bash runs traps between commands).
    tail -n +1 -s 0.2 -f --pid="$driver_pid" "$log" &
    tail_pid=$!
    wait "$driver_pid"
    status=$?
    wait "$tail_pid"
    driver_pid=""
    tail_pid=""
    end=$(date +%s.%N)

    line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed\$" "$log" | tail -n 1)
    [ -n "$line" ] || line=$(grep -E '^[A-Za-z0-9_.-]+: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
    if [ -n "$line" ]; then
        p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")
        f=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$line")
    else
        # No summary: what it printed counts, plus one failure for dying.
        p=$(grep -c '^ok - ' "$log")
        f=$(( $(grep -c '^not ok - ' "$log") + 1 ))
        note="no summary line"
    fi
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        [ -n "$line" ] || f=$((f - 1))
        f=$((f + 1))
        note="timed out after ${DRIVER_TIMEOUT}s"
    elif [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        note="exit status $status with no failure reported"
    fi
    if ! kill -0 "${SPID[$kind]}" 2>/dev/null || ! pong "$port"; then
        f=$((f + 1))
        note="${note:+$note; }$kind server died or stopped answering PING"
        echo "not ok - $name: the $kind server died or stopped answering PING; restarting it"
        tail -n 20 "${SDIR[$kind]}/stdout" "${SDIR[$kind]}/stderr" 2>/dev/null | sed 's/^/#   /'
        stop_server "$kind"
        if ! start_server "$kind" "$port"; then
            echo "not ok - could not restart the $kind server"
            f=$((f + 1))
        fi
    fi
    [ -z "$note" ] || echo "# $name/$kind: $note"
    RPASS[$name,$kind]=$p
    RFAIL[$name,$kind]=$f
    RTIME[$name,$kind]=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    RNOTE[$name,$kind]=$note
    if [ -z "${VERSIONS[$name]:-}" ]; then
        VERSIONS[$name]=$(sed -n 's/^# version: //p' "$log")
    fi
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
}

for kind in "${kinds[@]}"; do
    if ! start_server "$kind"; then
        echo "not ok - the $kind server did not start"
        total_fail=$((total_fail + 1))
        continue
    fi
    for name in "${drivers[@]}"; do
        run_driver "$name" "$kind"
    done
    stop_server "$kind"
done

# ---------------------------------------------------------------------------
# Results: a table on stdout and tests/compat/last-run.md.

result() {
    local key=$1,$2
    [ -n "${RPASS[$key]:-}" ] || { echo "not run"; return; }
    if [ "${RFAIL[$key]}" -eq 0 ]; then
        echo "${RPASS[$key]} passed"
    else
        echo "${RPASS[$key]} passed, ${RFAIL[$key]} failed${RNOTE[$key]:+ (${RNOTE[$key]})}"
    fi
}

echo
printf '%-14s %-6s %7s %7s %8s  %s\n' driver server passed failed seconds note
for name in "${drivers[@]}"; do
    for kind in "${kinds[@]}"; do
        [ -n "${RPASS[$name,$kind]:-}" ] || continue
        printf '%-14s %-6s %7s %7s %8s  %s\n' "$name" "$kind" "${RPASS[$name,$kind]}" \
            "${RFAIL[$name,$kind]}" "${RTIME[$name,$kind]}" "${RNOTE[$name,$kind]}"
    done
done
echo

md=tests/compat/last-run.md
[ "$DRIVERS_DIR" = tests/compat ] || md=$TMP/last-run.md
# Before the redirection below truncates $md, which would count as a change.
rev="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
{
    echo "# Client compatibility: last run"
    echo
    echo "Written by \`tests/compat/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')," \
        "commit $rev."
    echo "Scope: drivers ${drivers[*]}; servers ${kinds[*]}."
    echo "Servers: ours = \`src/redis-pubsub-server\`, redis = $("$REDIS_BIN" --version 2>/dev/null | sed -E 's/.*v=([^ ]+).*/Debian redis-server \1/')."
    echo
    echo "| client | version | protocol(s) | ours | redis |"
    echo "|---|---|---|---|---|"
    for name in "${drivers[@]}"; do
        vlines=${VERSIONS[$name]:-}
        [ -n "$vlines" ] || vlines="$name - -"
        while IFS= read -r v; do
            client=${v%% *}
            rest=${v#* }
            [ "$rest" != "$v" ] || rest="-"
            version=${rest%% *}
            protos=${rest#* }
            [ "$protos" != "$rest" ] || protos="-"
            [ "$client" = "$name" ] || client="$client ($name)"
            echo "| $client | $version | $protos | $(result "$name" ours) | $(result "$name" redis) |"
        done <<<"$vlines"
    done
    echo
    echo "Results are per driver: a driver testing several clients repeats its counts on each row."
    echo "Logs: \`tests/tmp/compat/<driver>-<server>.log\`."
} >"$md"
echo "# wrote $md"
finish
