#!/bin/sh
# tests/relay/run.sh [--only GLOB]... [--group relay|harness|all] [--list] [--repeat N] [--keep]
# The relay-mode suite (see tests/relay/README.md): scenarios against real
# redis-server processes, a real Redis Cluster and relays of our server.
# Ends with "relay: N passed, M failed"; exit status non-zero on any failure.
cd "$(dirname "$0")/../.." || exit 2
if [ ! -x src/redis-pubsub-server ]; then
    make -s >/dev/null || { echo "relay: 0 passed, 1 failed"; exit 1; }
fi
exec /usr/bin/python3 tests/relay/main.py "$@"
