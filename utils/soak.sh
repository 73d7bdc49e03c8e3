#!/usr/bin/env bash
# soak.sh -- Runs utils/build/soak against a fresh server and judges it.
#
#   utils/soak.sh                       10 minutes against src/redis-pubsub-server
#   utils/soak.sh --seconds 120         shorter
#   utils/soak.sh --server /usr/bin/redis-server --seconds 120   the same load on Redis
#   utils/soak.sh --smoke --seconds 20  what `make test` runs: PING bound relaxed
#   options: --port-base P, --pin, --keep (keep the work directory),
#            -- ARGS (passed on to the tool, e.g. -- --rate 30000)
#
# The server is started on a free loopback port (from 24000 up, checked with
# ss) with a small pubsub output-buffer limit, so slow readers are cut often:
#   --port P --bind 127.0.0.1 --protected-mode no --maxclients 10000
#   --client-output-buffer-limit pubsub 4mb 1mb 10   (Redis also: --save '' --appendonly no)
# Nothing is pinned unless --pin (server on CPU 0, tool on CPU 1, as
# utils/bench.sh does): the soak measures no throughput, and on a shared
# machine whose benchmarks pin their servers to CPU 0 a pinned soak server
# queues behind them (seconds of run-queue wait in a 10-minute run) and
# its PINGs pay for it. After the tool the script adds its own checks:
# the server is still running, it exits 0 on SIGTERM, and its log holds no
# sanitizer report, assertion or panic. It stops only the server it started,
# by PID (SIGKILL after 15 s). Ends with "soak: N passed, M failed"; exits 1
# if anything failed, 2 if the server could not be started.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOL=$ROOT/utils/build/soak
SERVER=$ROOT/src/redis-pubsub-server
SECONDS_RUN=600
SMOKE=0
PIN=0
KEEP=0
PORT=${SOAK_PORT_BASE:-$((24000 + ($$ % 300) * 10))}
TOOL_ARGS=()

die() { echo "soak.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case $1 in
    --seconds) SECONDS_RUN=$2; shift ;;
    --server) SERVER=$2; shift ;;
    --smoke) SMOKE=1 ;;
    --port-base) PORT=$2; shift ;;
    --pin) PIN=1 ;;
    --keep) KEEP=1 ;;
    --) shift; TOOL_ARGS=("$@"); break ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (try --help)" ;;
    esac
    shift
done
[ "$SECONDS_RUN" -ge 1 ] 2>/dev/null || die "--seconds must be a positive whole number"

make -s -C "$ROOT/utils" >/dev/null || die "building the tool failed"
if [ "$SERVER" = "$ROOT/src/redis-pubsub-server" ] && [ ! -x "$SERVER" ]; then
    make -s -C "$ROOT/src" >/dev/null || die "building the server failed"
fi
[ -x "$SERVER" ] || die "$SERVER is not an executable"
SERVER_VERSION=$("$SERVER" --version 2>/dev/null | head -1)
case $SERVER_VERSION in
*redis-pubsub*) SIDE=ours ;;
*) SIDE=redis ;;
esac
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

SERVER_PIN=()
TOOL_PIN=()
if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    SERVER_PIN=(taskset -c 0)
    TOOL_PIN=(taskset -c 1)
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/soak.XXXXXX")
SPID=
cleanup() {
    if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then kill -KILL "$SPID" 2>/dev/null; fi
    [ "$KEEP" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

port_busy() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

server_args() { # port -> arguments, one per line
    printf '%s\n' --port "$1" --bind 127.0.0.1 --protected-mode no --maxclients 10000 \
        --client-output-buffer-limit pubsub 4mb 1mb 10
    [ "$SIDE" = redis ] && printf '%s\n' --save '' --appendonly no
}

LOG=$WORK/server.log
start_server() {
    local tries=0 i args=()
    while [ $tries -lt 20 ]; do
        PORT=$((PORT + 1)); tries=$((tries + 1))
        port_busy "$PORT" && continue
        mapfile -t args < <(server_args "$PORT")
        (cd "$WORK" && exec "${SERVER_PIN[@]}" "$SERVER" "${args[@]}") >"$LOG" 2>&1 </dev/null &
        SPID=$!
        for i in $(seq 200); do
            grep -q "Ready to accept connections" "$LOG" 2>/dev/null && return 0
            kill -0 "$SPID" 2>/dev/null || break
            sleep 0.05
        done
        kill -KILL "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; SPID=
        grep -q "in use" "$LOG" 2>/dev/null && continue
        echo "soak.sh: the server did not start; log:" >&2; tail -5 "$LOG" >&2
        return 1
    done
    return 1
}

start_server || die "could not start $SERVER"
echo "soak.sh: $SIDE ($SERVER_VERSION) pid $SPID on 127.0.0.1:$PORT, ${SECONDS_RUN}s," \
     "$(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "soak.sh: server arguments: $(server_args PORT | tr '\n' ' ' | sed "s/--save  /--save '' /")"

EXTRA=()
[ "$SMOKE" = 1 ] && EXTRA=(--smoke)
OUT=$WORK/soak.out
timeout $((SECONDS_RUN + 180)) "${TOOL_PIN[@]}" "$TOOL" --port "$PORT" --server-pid "$SPID" \
    --seconds "$SECONDS_RUN" "${EXTRA[@]}" "${TOOL_ARGS[@]}" 2>&1 | tee "$OUT"
rc=${PIPESTATUS[0]}

pass=0
fail=0
check() { # ok(0|1) text
    if [ "$1" = 1 ]; then echo "ok - $2"; pass=$((pass + 1)); else echo "not ok - $2"; fail=$((fail + 1)); fi
}
line=$(grep -E '^soak: [0-9]+ passed, [0-9]+ failed' "$OUT" | tail -n 1)
if [ -n "$line" ]; then
    pass=$(echo "$line" | sed -E 's/^soak: ([0-9]+) passed.*/\1/')
    fail=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    [ "$rc" -le 1 ] || check 0 "the tool exited with status $rc"
else
    check 0 "the tool finished and printed its checks (exit status $rc)"
fi

alive=0
kill -0 "$SPID" 2>/dev/null && alive=1
check $alive "the server was still running at the end of the run"
if [ $alive = 1 ]; then
    kill -TERM "$SPID" 2>/dev/null
    for i in $(seq 150); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
    stopped=1
    kill -0 "$SPID" 2>/dev/null && { kill -KILL "$SPID" 2>/dev/null; stopped=0; }
    wait "$SPID" 2>/dev/null
    status=$?
    SPID=
    check $(( stopped && status == 0 )) "the server exited 0 on SIGTERM within 15 s (status $status)"
fi
bad=$(grep -E -c 'AddressSanitizer|LeakSanitizer|runtime error:|Assertion|ASSERT|PANIC|panic|Segmentation|crashed' "$LOG")
check $((bad == 0)) "the server log holds no sanitizer report, assertion or crash ($bad lines)"
if [ "$bad" != 0 ] || [ "$fail" != 0 ]; then
    echo "soak.sh: last server log lines:"
    tail -n 20 "$LOG" | sed 's/^/  /'
fi
echo "soak: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
