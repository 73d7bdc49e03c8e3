#!/bin/sh
# tests/run-all.sh -- every suite of `make test`, then the totals.
# Each suite ends with "NAME: N passed, M failed"; a suite that dies without
# that line counts as one failure. Run from the repository root.
set -u
cd "$(dirname "$0")/.."
mkdir -p tests/tmp
total_pass=0
total_fail=0
summary=""

run_suite() {
    label=$1
    shift
    log=tests/tmp/suite-$label.log
    echo "=== $label: $*"
    "$@" 2>&1 | tee "$log"
    line=$(grep -E '^[A-Za-z0-9_-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        p=0
        f=1
        line="(no summary line)"
    else
        p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
        f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    fi
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    summary="$summary
  $label: $p passed, $f failed"
}

redis_bin=$(command -v redis-server || echo /usr/bin/redis-server)

run_suite c-unit sh -c 'make -s -C tests/c >/dev/null && tests/c/build/test_main'
run_suite fuzz-replay make -s -C tests/fuzz replay
run_suite tcl-ours ./runtest
run_suite tcl-redis ./runtest --server-bin "$redis_bin"
run_suite tcl-asan sh -c 'make -s -C src SANITIZE=address >/dev/null && ./runtest --server-bin src/build/address/redis-pubsub-server'
run_suite valgrind sh tests/valgrind.sh
run_suite compat tests/compat/run.sh
# Relay mode against real redis-server processes and a Redis Cluster
# (tests/relay/README.md).
run_suite relay sh tests/relay/run.sh
# 20 s of the soak load (utils/soak.sh; `make soak` is the 10-minute run):
# keeps the tool from rotting. --smoke relaxes the PING checks (other jobs on
# the shared test machines keep the server off the CPU for 100+ ms at a time):
# the raw round trip is reported, the server's own time is held to 100 ms.
run_suite soak-smoke utils/soak.sh --smoke --seconds 20

echo
echo "=== totals$summary"
echo "total: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
