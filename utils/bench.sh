#!/usr/bin/env bash
# bench.sh -- Compares redis-pubsub-server with redis-server, scenario by
# scenario, using utils/build/pubsub-bench.
#
#   utils/bench.sh --quick          a few minutes: the headline scenarios
#   utils/bench.sh --full           every scenario (about half an hour)
#   utils/bench.sh --quick --relay  the relay-mode scenarios alone (~1.5 min)
#   utils/bench.sh --quick --history  the channel-history scenarios alone (~2 min)
#   options: --runs N (per server, default 3), --only REGEX (scenario ids),
#            --port-base P, --list, --no-plot, --no-pin, --relay, --history
#
# Both sets end with the relay-mode scenarios (relay-*): there each row
# compares two set-ups (a relay against our standalone node, or N=10000
# against N=2 subscribers behind two relays) instead of ours and redis;
# see "relay scenarios" below for the set-ups and their pinning. Then come
# the channel-history scenarios (history-*, issue 11): two set-ups of our
# own server compared the same way (a channel with history against the same
# channel without, XREAD BLOCK readers against SUBSCRIBE subscribers...).
#
# With two or more CPUs the server is pinned to CPU 0 and the tool to CPU 1
# (taskset): on this kind of VM a wake-up across CPUs costs ~50 us, and an
# unpinned pair lands on one CPU or on two by chance, which makes
# round-trip-bound scenarios (patterns, publish) bimodal by 5x.
#
# Every run gets a FRESH server on a loopback port of its own, and servers
# alternate: ours, redis, ours, redis... Medians per side go into a Markdown
# table (ours/redis ratio; for latency, CPU and memory lower is better),
# printed and written to docs/bench-results.md with the machine, the date
# and the exact commands. Raw lines go to docs/bench-data/raw-MODE.txt and
# plot data to docs/bench-data/*.dat; utils/plot.sh draws docs/*.svg.
#
# Servers are stopped with SIGTERM by PID (SIGKILL after 15 s): only
# processes this script started. Every tool run is bounded by timeout(1).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOL=$ROOT/utils/build/pubsub-bench
OURS=$ROOT/src/redis-pubsub-server
REDIS=$(command -v redis-server || true)
DOCS=$ROOT/docs
DATA=$DOCS/bench-data

MODE=
RUNS=3
ONLY=
LIST=0
PLOT=1
PIN=1
RELAY_ONLY=0
HISTORY_ONLY=0
PORT=${BENCH_PORT_BASE:-$((22000 + ($$ % 300) * 20))}

die() { echo "bench.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case $1 in
    --quick) MODE=quick ;;
    --full) MODE=full ;;
    --runs) RUNS=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --port-base) PORT=$2; shift ;;
    --list) LIST=1 ;;
    --no-plot) PLOT=0 ;;
    --no-pin) PIN=0 ;;
    --relay) RELAY_ONLY=1 ;;
    --history) HISTORY_ONLY=1 ;;
    -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (try --help)" ;;
    esac
    shift
done
[ -n "$MODE" ] || die "say --quick or --full"
[ "$RELAY_ONLY" = 1 ] && [ "$HISTORY_ONLY" = 1 ] && die "--relay and --history: say one"
# Results, raw lines and the docs section are per KEY: the mode, or
# MODE-relay / MODE-history for a run of those scenarios alone.
KEY=$MODE
[ "$RELAY_ONLY" = 1 ] && KEY=$MODE-relay
[ "$HISTORY_ONLY" = 1 ] && KEY=$MODE-history
[ "$RUNS" -ge 1 ] 2>/dev/null || die "--runs must be a positive number"

# ---------------------------------------------------------------- scenarios
# id | tool arguments | metrics: key:better[:target], better = hi or lo;
# a target is a ratio bound (>=1.3, <=0.9) or an absolute bound on ours
# (abs<=1024).
if [ "$MODE" = quick ]; then
    DUR="--duration 3 --warmup 1"
else
    DUR="--duration 5 --warmup 1"
fi
FANOUT_METRICS="deliveries_per_s:hi p50_us:lo p99_us:lo p999_us:lo cpu_ns_per_delivery:lo"
PUB_METRICS="publish_per_s:hi p50_us:lo p99_us:lo cpu_ns_per_delivery:lo"
IDLE_METRICS="rss_per_conn_bytes:lo rss_per_conn_idle_bytes:lo:abs<=1024 cpu_us_per_subscribe:lo idle_cpu_pct:lo"
SLOW_METRICS="rss_peak_growth_kb:lo all_gone_ms:lo fast_lost:lo cpu_ns_per_delivery:lo"

fanout_target() { # subs size -> deliveries target / cpu target
    case "$1x$2" in
    100x16) echo "deliveries_per_s:hi:>=1.0 p50_us:lo p99_us:lo p999_us:lo cpu_ns_per_delivery:lo:<=0.9" ;;
    10000x16) echo "deliveries_per_s:hi:>=1.1 p50_us:lo p99_us:lo p999_us:lo cpu_ns_per_delivery:lo:<=0.85" ;;
    1000x1024) echo "deliveries_per_s:hi:>=3.5 p50_us:lo p99_us:lo p999_us:lo cpu_ns_per_delivery:lo" ;;
    10000x1024) echo "deliveries_per_s:hi:>=3 p50_us:lo p99_us:lo p999_us:lo cpu_ns_per_delivery:lo" ;;
    100x65536|1000x65536|10000x65536)
        echo "deliveries_per_s:hi:>=15 p50_us:lo p99_us:lo p999_us:lo cpu_ns_per_delivery:lo" ;;
    *) echo "$FANOUT_METRICS" ;;
    esac
}

# One publisher at depth 16 is bound by the round trip: both servers give the
# same 0-pattern figure (~145k/s). At depth 128 the server's own speed shows
# (Redis then gives the issue's ~230k/s for channels-100000).
SERVER_BOUND_DEPTH=128

SCEN=()
add() { SCEN+=("$1|$2|$3"); }
add_fanout() { add "fanout-$1x$2" "fanout --subscribers $1 --size $2 $DUR" "$(fanout_target "$1" "$2")"; }
add_patterns() {
    local t= rm=${2:-} extra=
    [ -z "$rm" ] && case $1 in 10000) t=":>=50" ;; 100000) t=":>=1000" ;; esac
    [ -n "$rm" ] && extra="--removed "
    add "patterns-$1$rm" "patterns --patterns $1 $extra--pipeline $SERVER_BOUND_DEPTH $DUR" \
        "publish_per_s:hi$t p50_us:lo p99_us:lo cpu_ns_per_delivery:lo"
}

if [ "$MODE" = quick ]; then
    add_fanout 100 16
    add_fanout 1000 1024
    add_fanout 10000 16
    add_patterns 0
    add_patterns 10000
    add_patterns 100000
    add "publish-50x16" "publish --publishers 50 --pipeline 16 $DUR" "publish_per_s:hi:>=1.3 p50_us:lo p99_us:lo cpu_ns_per_delivery:lo"
    add "idle-10000" "idle --clients 10000 --idle-seconds 10" "$IDLE_METRICS"
    add "slow-100" "slow --slow 100 --size 1024 --duration 30" "rss_peak_growth_kb:lo:<=0.05 all_gone_ms:lo fast_lost:lo cpu_ns_per_delivery:lo"
else
    for subs in 1 100 1000 10000; do
        for size in 16 1024 65536; do add_fanout $subs $size; done
    done
    # Latency at the same offered load for both servers (paced publisher).
    add "fanout-paced-1000x16@500k" "fanout --subscribers 1000 --size 16 --rate 500000 $DUR" "deliveries_per_s:hi p50_us:lo p99_us:lo p999_us:lo cpu_ns_per_delivery:lo"
    add "fanout-paced-10000x16@1M" "fanout --subscribers 10000 --size 16 --rate 1000000 $DUR" "deliveries_per_s:hi p50_us:lo p99_us:lo p999_us:lo cpu_ns_per_delivery:lo"
    add "fanout-paced-1000x1024@300k" "fanout --subscribers 1000 --size 1024 --rate 300000 $DUR" "deliveries_per_s:hi p50_us:lo p99_us:lo p999_us:lo cpu_ns_per_delivery:lo"
    for k in 0 100 10000 100000; do add_patterns $k; done
    add_patterns 10000 -removed
    add_patterns 100000 -removed
    add "publish-1x16" "publish --publishers 1 --pipeline 16 $DUR" "$PUB_METRICS"
    add "publish-50x16" "publish --publishers 50 --pipeline 16 $DUR" "publish_per_s:hi:>=1.3 p50_us:lo p99_us:lo cpu_ns_per_delivery:lo"
    add "channels-100000" "channels --channels 100000 --channels-per-conn 1000 --publishers 1 --pipeline $SERVER_BOUND_DEPTH $DUR" "publish_per_s:hi:>=1.3 p50_us:lo p99_us:lo cpu_ns_per_delivery:lo"
    add "idle-10000" "idle --clients 10000 --idle-seconds 10" "$IDLE_METRICS"
    add "slow-1" "slow --slow 1 --size 1024 --duration 30" "$SLOW_METRICS"
    add "slow-10" "slow --slow 10 --size 1024 --duration 30" "$SLOW_METRICS"
    add "slow-100" "slow --slow 100 --size 1024 --duration 30" "rss_peak_growth_kb:lo:<=0.05 all_gone_ms:lo fast_lost:lo cpu_ns_per_delivery:lo"
fi

# ---------------------------------------------------------------- relay scenarios
# Relay mode (issue 9): each scenario compares two set-ups in the same run,
# "measured" against "baseline", alternating, fresh processes every run.
# id | label A | topology A | tool args A | label B | topology B | tool args B | metrics
# Metrics as above; a target bounds A/B (<=1.1) or A-B (diff<=500).
# Topologies (start_topo): local = our standalone node; relay = a relay
# whose upstream is redis-server, subscribers on the relay, the publisher on
# the upstream, the relay measured; relay-path = publisher and subscribers
# on the relay (publisher -> relay -> upstream -> relay -> subscribers);
# relays2 = two relays with the subscribers split between them, the
# publisher on the upstream, the upstream measured.
if [ "$MODE" = quick ]; then
    RDUR="--duration 2 --warmup 1"
else
    RDUR="--duration 5 --warmup 1"
fi
# Scenario 2 paces the publisher so both sides publish at the same rate: a
# flat-out N=2 side would publish many times faster and batch its reads,
# making its CPU per PUBLISH smaller for reasons that have nothing to do
# with subscribers. 200/s x 10,000 subscribers (2M deliveries/s) is what
# the CPU that holds the two relays and the tool keeps up with.
RELAY_PUB_RATE=200
RSCEN=()
add_relay() { RSCEN+=("$1|$2|$3|$4|$5|$6|$7|$8"); }
RELAY_CPU_METRICS="cpu_ns_per_delivery:lo:<=1.1 deliveries_per_s:hi p50_us:lo p99_us:lo server_cpu_pct:lo"
add_relay "relay-cpu-1000x1024" relay relay "fanout --subscribers 1000 --size 1024 $RDUR" \
    local local "fanout --subscribers 1000 --size 1024 $RDUR" "$RELAY_CPU_METRICS"
add_relay "relay-cpu-10000x16" relay relay "fanout --subscribers 10000 --size 16 $RDUR" \
    local local "fanout --subscribers 10000 --size 16 $RDUR" "$RELAY_CPU_METRICS"
add_relay "relay-upstream-10000vs2" n10000 relays2 "fanout --subscribers 10000 --size 16 --publish-rate $RELAY_PUB_RATE $RDUR" \
    n2 relays2 "fanout --subscribers 2 --size 16 --publish-rate $RELAY_PUB_RATE $RDUR" \
    "cpu_ns_per_publish:lo:<=1.2 publish_per_s:hi server_cpu_pct:lo"
# Latency at a load that leaves the relay most of its CPU: the relay's own
# wait adds to the path twice (the PUBLISH in, the message back), so at a
# load that keeps it ~70% busy, queueing, not the relay, sets the figure.
add_latency() { # subs size rate label
    add_relay "relay-latency-$1x$2@$4" relay relay-path "fanout --subscribers $1 --size $2 --rate $3 $RDUR" \
        local local "fanout --subscribers $1 --size $2 --rate $3 $RDUR" \
        "p50_us:lo:diff<=500 p99_us:lo:diff<=2000 p999_us:lo deliveries_per_s:hi server_cpu_pct:lo"
}
add_latency 1 16 1000 1k        # the hop alone: one subscriber, 1000 PUBLISH/s
add_latency 100 16 50000 50k
if [ "$MODE" = full ]; then add_latency 1000 16 100000 100k; fi

# ---------------------------------------------------------------- history scenarios
# Channel history (issue 11, memory only): two set-ups of our own server in
# the same run, alternating, fresh servers every run, as the relay
# scenarios (same fields; a target bounds A/B, A-B, or A alone: abs>=).
# Topologies: plain = ours as for the other scenarios; history = plus
# HISTORY_RULE (every bench:* channel keeps its last 100,000 messages);
# other-rule = plus a rule no bench channel matches (the publish path's
# check alone); persist = history plus HISTORY_PERSIST_ARGS (unset: the
# persist scenario is left out; the hook for an --persist / everysec run
# once channel-history-dir exists: e.g. HISTORY_PERSIST_ARGS="--channel-
# history-dir DIR --channel-history-fsync everysec", the directives as that
# branch names them). Everything on CPU 0 (server) and CPU 1 (tool).
if [ "$MODE" = quick ]; then
    HDUR="--duration 3 --warmup 1"
else
    HDUR="--duration 5 --warmup 1"
fi
HISTORY_RULE=("bench*" 100000)
OTHER_RULE=("nomatch*" 100000)
HISTORY_PERSIST_ARGS=${HISTORY_PERSIST_ARGS:-}
# 100 PUBLISHes/s x 1000 readers (and 20/s, below): each reader re-issues
# XREAD after each reply, so the server parses a command per delivery; the
# SUBSCRIBE side gets the same paced load on the same history set-up.
HISTORY_XREAD_RATE=100000
HSCEN=()
add_hist() { HSCEN+=("$1|$2|$3|$4|$5|$6|$7|$8"); }
add_hist "history-fanout-1000x1024" history history "fanout --subscribers 1000 --size 1024 $HDUR" \
    plain plain "fanout --subscribers 1000 --size 1024 $HDUR" \
    "deliveries_per_s:hi:>=0.9 cpu_ns_per_delivery:lo p50_us:lo p99_us:lo server_cpu_pct:lo"
if [ -n "$HISTORY_PERSIST_ARGS" ]; then
    add_hist "history-fanout-persist-1000x1024" persist persist "fanout --subscribers 1000 --size 1024 $HDUR" \
        plain plain "fanout --subscribers 1000 --size 1024 $HDUR" \
        "deliveries_per_s:hi:>=0.8 cpu_ns_per_delivery:lo p50_us:lo p99_us:lo server_cpu_pct:lo"
fi
add_xread() { # rate label
    add_hist "history-xread-p99-1000x1024@$2" xread history "fanout --xread --subscribers 1000 --size 1024 --rate $1 $HDUR" \
        subscribe history "fanout --subscribers 1000 --size 1024 --rate $1 $HDUR" \
        "p99_us:lo:<=1.5 p50_us:lo p999_us:lo deliveries_per_s:hi cpu_ns_per_delivery:lo server_cpu_pct:lo tool_cpu_pct:lo"
}
# Two loads: 20 PUBLISHes/s leaves the server most of its CPU (the figure
# is the path: reply, re-issue, block); at 100/s the server is 80-90% busy
# on this machine and queueing sets both sides' latency.
add_xread 20000 20k
add_xread "$HISTORY_XREAD_RATE" 100k
# For reference, what the request/reply model costs redis-server on the same
# tool and load (its XREAD readers read streams the publisher XADDs to), and
# our XREAD readers against its.
add_xread_ref() { # rate label
    add_hist "history-xread-redis-ref-1000x1024@$2" redis-xread redis "fanout --xread --xadd --subscribers 1000 --size 1024 --rate $1 $HDUR" \
        redis-subscribe redis "fanout --subscribers 1000 --size 1024 --rate $1 $HDUR" \
        "p99_us:lo p50_us:lo deliveries_per_s:hi cpu_ns_per_delivery:lo server_cpu_pct:lo"
    add_hist "history-xread-vs-redis-1000x1024@$2" xread history "fanout --xread --subscribers 1000 --size 1024 --rate $1 $HDUR" \
        redis-xread redis "fanout --xread --xadd --subscribers 1000 --size 1024 --rate $1 $HDUR" \
        "p99_us:lo p50_us:lo deliveries_per_s:hi cpu_ns_per_delivery:lo server_cpu_pct:lo"
}
add_xread_ref 20000 20k
add_xread_ref "$HISTORY_XREAD_RATE" 100k
add_hist "history-catchup-100000x16" xrange history "catchup --entries 100000 --batch 1000 --size 16 $HDUR" \
    xread history "catchup --entries 100000 --batch 1000 --size 16 --catchup-cmd xread $HDUR" \
    "entries_per_s:hi:abs>=1000000 cpu_ns_per_delivery:lo server_cpu_pct:lo tool_cpu_pct:lo"
if [ "$MODE" = full ]; then
    add_hist "history-catchup-100000x1024" xrange history "catchup --entries 100000 --batch 1000 --size 1024 $HDUR" \
        xread history "catchup --entries 100000 --batch 1000 --size 1024 --catchup-cmd xread $HDUR" \
        "entries_per_s:hi cpu_ns_per_delivery:lo server_cpu_pct:lo tool_cpu_pct:lo"
fi
add_hist "history-none-fanout-1000x1024" other-rule other-rule "fanout --subscribers 1000 --size 1024 $HDUR" \
    plain plain "fanout --subscribers 1000 --size 1024 $HDUR" \
    "deliveries_per_s:hi:>=0.95 cpu_ns_per_delivery:lo p99_us:lo server_cpu_pct:lo"
# Publish-bound: the per-PUBLISH rule check shows here if anywhere.
add_hist "history-none-publish-50x16" other-rule other-rule "publish --publishers 50 --pipeline 16 $HDUR" \
    plain plain "publish --publishers 50 --pipeline 16 $HDUR" \
    "publish_per_s:hi:>=0.95 cpu_ns_per_delivery:lo p99_us:lo server_cpu_pct:lo"
[ "$RELAY_ONLY" = 1 ] && { SCEN=(); HSCEN=(); }
[ "$HISTORY_ONLY" = 1 ] && { SCEN=(); RSCEN=(); }

if [ "$LIST" = 1 ]; then
    for s in "${SCEN[@]}"; do IFS='|' read -r id args _ <<<"$s"; echo "$id: pubsub-bench $args"; done
    for s in "${RSCEN[@]}" "${HSCEN[@]}"; do
        IFS='|' read -r id la ta aa lb tb ab _ <<<"$s"
        echo "$id: $la ($ta): pubsub-bench $aa; $lb ($tb): pubsub-bench $ab"
    done
    exit 0
fi

# ---------------------------------------------------------------- setup
[ -n "$REDIS" ] || die "redis-server not found (apt-get install redis-server)"
make -s -C "$ROOT/utils" >/dev/null || die "building the tool failed"
[ -x "$OURS" ] || make -s -C "$ROOT/src" >/dev/null || die "building the server failed"
[ -x "$OURS" ] || die "$OURS missing"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
[ "$NOFILE" -ge 12000 ] || echo "bench.sh: warning: ulimit -n is $NOFILE; 10,000-client scenarios need ~10,100" >&2

SERVER_PIN=()
TOOL_PIN=()
if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    SERVER_PIN=(taskset -c 0)
    TOOL_PIN=(taskset -c 1)
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pubsub-bench.XXXXXX")
mkdir -p "$DATA"
# Snapshot the server binary: src/ may be rebuilt while a long run goes on,
# and one run must not mix two builds.
OURS_SRC=$OURS
OURS_SUM=$(sha256sum "$OURS_SRC" | cut -c1-12)
OURS_BUILT=$(date -u -r "$(readlink -f "$OURS_SRC")" '+%Y-%m-%d %H:%M UTC')
cp "$(readlink -f "$OURS_SRC")" "$WORK/redis-pubsub-server"
OURS=$WORK/redis-pubsub-server
# Raw lines collect in WORK and replace docs/bench-data/raw-MODE.txt only
# when the run completes; a partial run (--only) leaves docs/ alone.
RAW=$WORK/raw.txt
: >"$RAW"
SPID=
SPIDS=()
cleanup() {
    local p
    for p in "${SPIDS[@]}"; do kill -0 "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

server_cmd() { # side port -> the command line, one word per line
    local side=$1 port=$2
    if [ "$side" = ours ]; then
        printf '%s\n' "$OURS" --port "$port" --bind 127.0.0.1 --protected-mode no \
            --maxclients 20000 --client-output-buffer-limit pubsub 32mb 8mb 60
    else
        printf '%s\n' "$REDIS" --port "$port" --bind 127.0.0.1 --protected-mode no \
            --maxclients 20000 --save '' --appendonly no \
            --client-output-buffer-limit pubsub 32mb 8mb 60
    fi
}

# The command line as a shell would take it back ('' for the empty --save).
show_cmd() {
    local w out=
    while IFS= read -r w; do
        if [ -z "$w" ]; then out="$out ''"; else out="$out $w"; fi
    done < <(server_cmd "$1" PORT)
    echo "${out# }"
}

port_busy() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# start_server SIDE [CPU [EXTRA...]]: starts a fresh server (ours|redis) on
# the next free port, pinned to CPU (default: the server's pin; "-" = the
# same), with EXTRA arguments after the usual ones (--upstream ...). Sets
# SPID and SPORT and adds SPID to SPIDS (stop_servers stops them all).
start_server() {
    local side=$1 cpu=${2:--} tries=0 pin=("${SERVER_PIN[@]}")
    shift; [ $# -gt 0 ] && shift
    [ "$cpu" != - ] && [ ${#SERVER_PIN[@]} -gt 0 ] && pin=(taskset -c "$cpu")
    while [ $tries -lt 20 ]; do
        PORT=$((PORT + 1)); tries=$((tries + 1))
        port_busy "$PORT" && continue
        local log=$WORK/$side-$PORT.log cmd=()
        mapfile -t cmd < <(server_cmd "$side" "$PORT")
        (cd "$WORK" && exec "${pin[@]}" "${cmd[@]}" "$@") >"$log" 2>&1 </dev/null &
        SPID=$!
        SPIDS+=("$SPID")
        local i
        for i in $(seq 200); do
            grep -q "Ready to accept connections" "$log" 2>/dev/null && { SPORT=$PORT; return 0; }
            kill -0 "$SPID" 2>/dev/null || break
            sleep 0.05
        done
        stop_pid "$SPID"
        grep -q "in use" "$log" 2>/dev/null && continue
        echo "bench.sh: $side did not start; log:" >&2; tail -5 "$log" >&2
        return 1
    done
    return 1
}

stop_pid() {
    local p=$1 i rest=()
    kill -TERM "$p" 2>/dev/null
    for i in $(seq 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    for i in "${SPIDS[@]}"; do [ "$i" != "$p" ] && rest+=("$i"); done
    SPIDS=("${rest[@]}")
}

# Stops every server started, the last started (relays) first.
stop_servers() {
    local k
    for ((k = ${#SPIDS[@]} - 1; k >= 0; k--)); do stop_pid "${SPIDS[$k]}"; done
    SPID=
}

# Relay pinning, 2 CPUs for 3+ processes: the process whose CPU is measured
# runs alone on CPU 0, exactly as a standalone server does in the other
# scenarios, and everything else shares CPU 1 with the tool; so the figure
# compared with the baseline is taken in the same conditions (no other
# process evicting its cache or taking its CPU). relay-path (latency) puts
# the upstream on CPU 0 with the relay instead: then the path crosses CPUs
# twice, tool -> relay and relay -> tool, as in the standalone baseline
# (a wake-up across CPUs costs ~50 us here), and what is added is the
# relay's work and the relay <-> upstream round trip.
RELAY_PATH_UPSTREAM_CPU=${RELAY_PATH_UPSTREAM_CPU:-0}

# start_topo TOPOLOGY: starts its servers; sets RARGS (the tool's port, pid
# and relay arguments).
start_topo() {
    local up upid r1 p1
    RARGS=()
    case $1 in
    local|plain)
        start_server ours 0 || return 1
        RARGS=(--port "$SPORT" --server-pid "$SPID") ;;
    history|other-rule|persist)
        local extra=(--channel-history "${HISTORY_RULE[@]}")
        [ "$1" = other-rule ] && extra=(--channel-history "${OTHER_RULE[@]}")
        # shellcheck disable=SC2206
        [ "$1" = persist ] && extra+=($HISTORY_PERSIST_ARGS)
        start_server ours 0 "${extra[@]}" || return 1
        RARGS=(--port "$SPORT" --server-pid "$SPID") ;;
    redis)
        start_server redis 0 || return 1
        RARGS=(--port "$SPORT" --server-pid "$SPID") ;;
    relay|relay-path)
        if [ "$1" = relay ]; then start_server redis 1 || return 1
        else start_server redis "$RELAY_PATH_UPSTREAM_CPU" || return 1; fi
        up=$SPORT upid=$SPID
        start_server ours 0 --upstream "127.0.0.1:$up" || return 1
        RARGS=(--port "$SPORT" --wait-upstream --server-pid "$SPID" --other-pid "$upid")
        if [ "$1" = relay ]; then RARGS+=(--pub-port "$up"); fi ;;
    relays2)
        start_server redis 0 || return 1
        up=$SPORT upid=$SPID
        start_server ours 1 --upstream "127.0.0.1:$up" || return 1
        r1=$SPORT p1=$SPID
        start_server ours 1 --upstream "127.0.0.1:$up" || return 1
        RARGS=(--port "$r1" --sub-ports "$r1,$SPORT" --pub-port "$up" --wait-upstream
               --server-pid "$upid" --other-pid "$p1" --other-pid "$SPID") ;;
    *) echo "bench.sh: unknown topology $1" >&2; return 1 ;;
    esac
}

# ---------------------------------------------------------------- runs
START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench.sh --$MODE: ${#SCEN[@]} scenarios x $RUNS runs per server, alternating ours/redis; ${#RSCEN[@]} relay scenarios, ${#HSCEN[@]} history scenarios" >&2
for s in "${SCEN[@]}"; do
    IFS='|' read -r id args metrics <<<"$s"
    [ -n "$ONLY" ] && ! [[ $id =~ $ONLY ]] && continue
    for run in $(seq "$RUNS"); do
        for side in ours redis; do
            start_server "$side" || { stop_servers; echo "$id $side run=$run error=server_start" >>"$RAW"; continue; }
            # shellcheck disable=SC2086
            line=$(timeout 300 "${TOOL_PIN[@]}" "$TOOL" $args --port "$SPORT" --server-pid "$SPID" \
                   --server-name "$side" 2>>"$WORK/tool.err")
            rc=$?
            stop_servers
            [ $rc -eq 0 ] && [ -n "$line" ] || line="error=tool_exit_$rc"
            echo "$id $side run=$run $line" >>"$RAW"
            printf '  %-28s %-5s run %d  %s\n' "$id" "$side" "$run" \
                "$(tr ' ' '\n' <<<"$line" | grep -E '^(deliveries_per_s|publish_per_s|rss_per_conn_idle_bytes|rss_peak_growth_kb|cpu_ns_per_delivery|error)=' | tr '\n' ' ')" >&2
        done
    done
done
for s in "${RSCEN[@]}" "${HSCEN[@]}"; do
    IFS='|' read -r id la ta aa lb tb ab metrics <<<"$s"
    [ -n "$ONLY" ] && ! [[ $id =~ $ONLY ]] && continue
    for run in $(seq "$RUNS"); do
        for side in A B; do
            if [ $side = A ]; then label=$la topo=$ta args=$aa; else label=$lb topo=$tb args=$ab; fi
            start_topo "$topo" || { stop_servers; echo "$id $label run=$run error=server_start" >>"$RAW"; continue; }
            # shellcheck disable=SC2086
            line=$(timeout 300 "${TOOL_PIN[@]}" "$TOOL" $args "${RARGS[@]}" \
                   --server-name "$label" 2>>"$WORK/tool.err")
            rc=$?
            stop_servers
            [ $rc -eq 0 ] && [ -n "$line" ] || line="error=tool_exit_$rc"
            echo "$id $label run=$run $line" >>"$RAW"
            printf '  %-28s %-6s run %d  %s\n' "$id" "$label" "$run" \
                "$(tr ' ' '\n' <<<"$line" | grep -E '^(deliveries_per_s|publish_per_s|entries_per_s|p50_us|p99_us|cpu_ns_per_delivery|cpu_ns_per_publish|server_cpu_pct|other_cpu_pct|error)=' | tr '\n' ' ')" >&2
        done
    done
done
ELAPSED=$(( $(date +%s) - START ))
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- table
# median FILE ID SIDE KEY -> median of the numeric values, or "na".
median() {
    awk -v id="$2" -v side="$3" -v key="$4" '
        $1 == id && $2 == side {
            for (i = 3; i <= NF; i++) {
                split($i, kv, "=")
                if (kv[1] == key && kv[2] ~ /^-?[0-9.]+$/) v[n++] = kv[2] + 0
            }
        }
        END {
            if (n == 0) { print "na"; exit }
            for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
            m = (n % 2) ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
            printf "%.10g\n", m
        }' "$1"
}

fmt() { awk -v x="$1" 'BEGIN { if (x == "na") print "na"; else if (x+0 >= 100) printf "%.0f\n", x; else printf "%.3g\n", x }'; }

TABLE=$WORK/table.md
rows=0
{
    echo "| scenario | metric | better | ours (median) | redis (median) | ours/redis | target | meets |"
    echo "|---|---|---|---:|---:|---:|---|---|"
} >"$TABLE"
for s in "${SCEN[@]}"; do
    IFS='|' read -r id args metrics <<<"$s"
    [ -n "$ONLY" ] && ! [[ $id =~ $ONLY ]] && continue
    for m in $metrics; do
        IFS=':' read -r key dir target <<<"$m"
        o=$(median "$RAW" "$id" ours "$key")
        r=$(median "$RAW" "$id" redis "$key")
        ratio=$(awk -v o="$o" -v r="$r" 'BEGIN { if (o == "na" || r == "na" || r + 0 == 0) print "na"; else printf "%.3g\n", o / r }')
        better=higher; [ "$dir" = lo ] && better=lower
        meets=
        if [ -n "$target" ]; then
            meets=$(awk -v t="$target" -v ratio="$ratio" -v o="$o" 'BEGIN {
                x = ratio; if (t ~ /^abs/) { x = o; sub(/^abs/, "", t) }
                if (x == "na") { print "?"; exit }
                if (t ~ /^>=/) ok = (x + 0 >= substr(t, 3) + 0); else ok = (x + 0 <= substr(t, 3) + 0)
                print ok ? "yes" : "**MISS**" }')
        fi
        echo "| $id | $key | $better | $(fmt "$o") | $(fmt "$r") | $ratio | $target | $meets |" >>"$TABLE"
        rows=$((rows + 1))
    done
done
[ $rows -gt 0 ] && cat "$TABLE"

# pair_table OUT SCENARIO...: the table of two-set-up scenarios (relay,
# history) into OUT; prints the number of rows.
pair_table() {
    local out=$1 s id la lb metrics m key dir target a b ratio diff better meets n=0
    shift
    {
        echo "| scenario | metric | better | measured | median | baseline | median | ratio | difference | target | meets |"
        echo "|---|---|---|---|---:|---|---:|---:|---:|---|---|"
    } >"$out"
    for s in "$@"; do
        IFS='|' read -r id la _ _ lb _ _ metrics <<<"$s"
        [ -n "$ONLY" ] && ! [[ $id =~ $ONLY ]] && continue
        for m in $metrics; do
            IFS=':' read -r key dir target <<<"$m"
            a=$(median "$RAW" "$id" "$la" "$key")
            b=$(median "$RAW" "$id" "$lb" "$key")
            ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a == "na" || b == "na" || b + 0 == 0) print "na"; else printf "%.3g\n", a / b }')
            diff=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a == "na" || b == "na") print "na"; else { d = a - b; if (d >= 100 || d <= -100) printf "%+.0f\n", d; else printf "%+.3g\n", d } }')
            better=higher; [ "$dir" = lo ] && better=lower
            meets=
            if [ -n "$target" ]; then
                meets=$(awk -v t="$target" -v ratio="$ratio" -v d="$diff" -v a="$a" 'BEGIN {
                    x = ratio
                    if (t ~ /^diff/) { x = d; sub(/^diff/, "", t) }
                    else if (t ~ /^abs/) { x = a; sub(/^abs/, "", t) }
                    if (x == "na") { print "?"; exit }
                    if (t ~ /^>=/) ok = (x + 0 >= substr(t, 3) + 0); else ok = (x + 0 <= substr(t, 3) + 0)
                    print ok ? "yes" : "**MISS**" }')
            fi
            echo "| $id | $key | $better | $la | $(fmt "$a") | $lb | $(fmt "$b") | $ratio | $diff | $target | $meets |" >>"$out"
            n=$((n + 1))
        done
    done
    echo $n
}
RTABLE=$WORK/relay-table.md
rrows=$(pair_table "$RTABLE" "${RSCEN[@]}")
[ $rrows -gt 0 ] && { echo; cat "$RTABLE"; }
HTABLE=$WORK/history-table.md
hrows=$(pair_table "$HTABLE" "${HSCEN[@]}")
[ $hrows -gt 0 ] && { echo; cat "$HTABLE"; }

if [ -n "$ONLY" ]; then
    echo "bench.sh: --only run: docs/ not updated; raw lines:" >&2
    cat "$RAW" >&2
    exit 0
fi

cp "$RAW" "$DATA/raw-$KEY.txt"
# A whole run holds the relay and history scenarios too: it supersedes a
# --relay or --history run of the same mode.
if [ "$RELAY_ONLY" = 0 ] && [ "$HISTORY_ONLY" = 0 ]; then
    rm -f "$DATA/raw-$MODE-relay.txt" "$DATA/results-$MODE-relay.md" \
        "$DATA/raw-$MODE-history.txt" "$DATA/results-$MODE-history.md"
fi

# ---------------------------------------------------------------- plot data
if [ "$RELAY_ONLY" = 0 ] && [ "$HISTORY_ONLY" = 0 ]; then
{
    echo "# subs ours_16 redis_16 ours_1024 redis_1024 ours_65536 redis_65536 (deliveries/s, medians; ? = not run)"
    for subs in 1 100 1000 10000; do
        row="$subs"
        for size in 16 1024 65536; do
            for side in ours redis; do
                v=$(median "$RAW" "fanout-${subs}x$size" "$side" deliveries_per_s)
                [ "$v" = na ] && v="?"
                row="$row $v"
            done
        done
        echo "$row"
    done
} >"$DATA/fanout-$MODE.dat"
{
    echo "# patterns ours redis (PUBLISH/s, medians; ? = not run)"
    for k in 0 100 10000 100000; do
        o=$(median "$RAW" "patterns-$k" ours publish_per_s); [ "$o" = na ] && o="?"
        r=$(median "$RAW" "patterns-$k" redis publish_per_s); [ "$r" = na ] && r="?"
        echo "$k $o $r"
    done
} >"$DATA/patterns-$MODE.dat"
fi

# ---------------------------------------------------------------- report
SECTION=$DATA/results-$KEY.md
{
    if [ "$RELAY_ONLY" = 1 ]; then echo "## \`utils/bench.sh --$MODE --relay\`"
    elif [ "$HISTORY_ONLY" = 1 ]; then echo "## \`utils/bench.sh --$MODE --history\`"
    else echo "## \`utils/bench.sh --$MODE\`"; fi
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); wall time ${ELAPSED}s; $RUNS runs per side (server, or set-up) per scenario, alternating, fresh servers each run"
    echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), kernel $(uname -r), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM (shared, noisy: other jobs may run); load average at start $LOAD_START, at end $LOAD_END (a quiet machine reads ~1 during a run: our server plus the tool)"
    echo "- ours: src/redis-pubsub-server built $OURS_BUILT (sha256 $OURS_SUM), tree at \`$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')\`$(cd "$ROOT" && [ -z "$(git status --porcelain -- src 2>/dev/null)" ] || echo ' with uncommitted changes in src/'), $("$OURS" --version 2>/dev/null | head -1)"
    echo "- redis: $("$REDIS" --version)"
    echo "- ours started as: \`$(show_cmd ours | sed "s|$OURS|src/redis-pubsub-server|")\` (a copy of the binary taken at the start)"
    echo "- redis started as: \`$(show_cmd redis)\`"
    if [ ${#SERVER_PIN[@]} -gt 0 ]; then
        echo "- pinned: server \`${SERVER_PIN[*]}\`, tool \`${TOOL_PIN[*]}\`"
    else
        echo "- not pinned"
    fi
    echo "- ulimit -n $NOFILE; tool: \`utils/build/pubsub-bench SCENARIO ARGS --port PORT --server-pid PID --server-name ours|redis\`"
    echo
    if [ $rows -gt 0 ]; then
        echo "Ratios are ours/redis. For throughput higher is better; for latency, CPU per"
        echo "delivery and memory lower is better (column \"better\"). Targets are ratio"
        echo "bounds, or absolute bounds on ours (abs)."
        echo
        cat "$TABLE"
        echo
        echo "Commands (tool arguments per scenario):"
        echo
        for s in "${SCEN[@]}"; do
            IFS='|' read -r id args _ <<<"$s"
            echo "- $id: \`pubsub-bench $args\`"
        done
        echo
    fi
    if [ $rrows -gt 0 ]; then
        echo "### Relay mode"
        echo
        [ ${#SERVER_PIN[@]} -gt 0 ] || echo "Not pinned in this run: ignore the CPU placements below."
        echo "Each row compares two set-ups measured in this run, alternating, fresh"
        echo "processes every run: \"measured\" against \"baseline\"; ratio = measured /"
        echo "baseline, difference = measured - baseline; a target bounds one of them"
        echo "(diff: the difference). Set-ups (upstream: \`$(show_cmd redis)\`;"
        echo "relays: ours as above plus \`--upstream 127.0.0.1:UPSTREAM\`):"
        echo
        echo "- local: our standalone node, publisher and subscribers on it; the node on CPU 0, the tool on CPU 1."
        echo "- relay (relay-cpu-*): subscribers on one relay, the publisher on the relay's upstream; the relay (measured: \`--server-pid\`) alone on CPU 0, the upstream and the tool on CPU 1."
        echo "- relay (relay-latency-*): publisher and subscribers on the relay (publisher -> relay -> upstream -> relay -> subscribers); the relay on CPU 0, the upstream on CPU $RELAY_PATH_UPSTREAM_CPU, the tool on CPU 1 (the path then crosses CPUs as often as the baseline's: tool -> relay, relay -> tool)."
        echo "- n10000, n2 (relay-upstream-*): two relays holding N subscribers between them, the publisher on the upstream, both at $RELAY_PUB_RATE PUBLISHes/s; the upstream (measured) alone on CPU 0, both relays and the tool on CPU 1."
        echo
        echo "The tool waits (\`--wait-upstream\`) until every relay reports its names held upstream before publishing. \`other_cpu_pct\` in the raw lines is the CPU of the other servers (the upstream, or the two relays)."
        echo
        cat "$RTABLE"
        echo
        echo "Commands (tool arguments per set-up; the port, pid and relay arguments are added per set-up):"
        echo
        for s in "${RSCEN[@]}"; do
            IFS='|' read -r id la ta aa lb tb ab _ <<<"$s"
            echo "- $id: $la ($ta): \`pubsub-bench $aa\`; $lb ($tb): \`pubsub-bench $ab\`"
        done
        echo
    fi
    if [ $hrows -gt 0 ]; then
        echo "### Channel history (memory only)"
        echo
        echo "Each row compares two set-ups of our server measured in this run, alternating,"
        echo "fresh servers every run, server on CPU 0 and tool on CPU 1 (as above); ratio ="
        echo "measured / baseline; abs: a bound on the measured median alone. Set-ups (ours"
        echo "as above, plus):"
        echo
        echo "- plain: nothing (no channel-history rule)."
        echo "- history: \`--channel-history '${HISTORY_RULE[0]}' ${HISTORY_RULE[1]}\` (every bench:* channel keeps its last ${HISTORY_RULE[1]} messages, memory only)."
        echo "- other-rule: \`--channel-history '${OTHER_RULE[0]}' ${OTHER_RULE[1]}\`, which no bench channel matches: only the publish path's rule check."
        [ -n "$HISTORY_PERSIST_ARGS" ] && echo "- persist: history plus \`$HISTORY_PERSIST_ARGS\`."
        echo "- xread (history-xread-p99-*): on the history set-up, the 1000 \"subscribers\" are readers that each send \`XREAD BLOCK 0 STREAMS bench:fanout <last id>\` (from 0-0; publishing starts once INFO history counts them all blocked) and re-send it after every reply, as a consumer does; subscribe: the same paced load to 1000 SUBSCRIBE subscribers on the same set-up. Latency: from the send time in the payload to the read that brought the entry."
        echo "- redis-xread, redis-subscribe (history-xread-redis-ref-*, history-xread-vs-redis-*): redis-server (no history) with the same readers, the publisher sending \`XADD bench:fanout * message <payload>\` for the XREAD readers (\`--xadd\`) and PUBLISH for the subscribers: what the same request/reply pattern costs Redis on this tool and load."
        echo "- xrange, xread (history-catchup-*): 100,000 messages published into the history first (no subscribers), then one reader pages through it, 1000 entries a page (\`XRANGE bench:catchup - + COUNT 1000\`, then \`(<last id>\`; or \`XREAD COUNT 1000 STREAMS bench:catchup 0-0\`, then \`<last id>\`), one pass unmeasured, then whole passes for the duration; entries_per_s = entries read per second."
        echo
        cat "$HTABLE"
        echo
        echo "Commands (tool arguments per set-up; the port and pid are added per run):"
        echo
        for s in "${HSCEN[@]}"; do
            IFS='|' read -r id la ta aa lb tb ab _ <<<"$s"
            echo "- $id: $la ($ta): \`pubsub-bench $aa\`; $lb ($tb): \`pubsub-bench $ab\`"
        done
        echo
    fi
    echo "Raw lines: \`docs/bench-data/raw-$KEY.txt\`."
} >"$SECTION"
if [ "$HISTORY_ONLY" = 1 ] && [ -f "$DOCS/bench-results.md" ]; then
    # A history-only run replaces its own section in place and leaves the
    # rest of the file as it is (it may hold sections kept by hand).
    awk -v head="## \`utils/bench.sh --$MODE --history\`" '
        $0 == head { skip = 1; next }
        skip && /^## / { skip = 0 }
        !skip { print }' "$DOCS/bench-results.md" >"$WORK/results.md"
    { sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$WORK/results.md"; echo; cat "$SECTION"; } >"$DOCS/bench-results.md"
else
{
    echo "# Benchmark results: redis-pubsub vs redis-server"
    echo
    echo "Produced by \`utils/bench.sh\` (see \`utils/README.md\`); do not edit by hand."
    echo "Plots: [fanout](fanout.svg), [patterns](patterns.svg)."
    echo
    for m in full quick full-relay quick-relay full-history quick-history; do
        [ -f "$DATA/results-$m.md" ] && { cat "$DATA/results-$m.md"; echo; }
    done
} >"$DOCS/bench-results.md"
fi

if [ "$PLOT" = 1 ] && [ "$RELAY_ONLY" = 0 ] && [ "$HISTORY_ONLY" = 0 ]; then
    if command -v gnuplot >/dev/null; then
        "$ROOT/utils/plot.sh" || echo "bench.sh: plot.sh failed" >&2
    else
        echo "bench.sh: gnuplot not installed (apt-get install gnuplot-nox): no plots" >&2
    fi
fi
if [ -s "$WORK/tool.err" ]; then
    echo "bench.sh: tool diagnostics (first lines of $WORK/tool.err):" >&2
    head -5 "$WORK/tool.err" >&2
fi
echo "bench.sh: wrote docs/bench-results.md (${ELAPSED}s)" >&2
