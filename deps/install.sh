#!/bin/sh
# deps/install.sh build|test|bench|soak|fuzz -- installs the Debian packages a step needs,
# only those missing, so a machine that has them needs no network.
# See deps/README.md for what each package is for.
set -e

build_pkgs="gcc make libc6-dev libjemalloc-dev libssl-dev"
# Tests: the Tcl suite and the oracle, then the client-compatibility drivers
# (hiredis C programs, redis-py, redis-rb, the Prometheus exporter; the
# application drivers: Django Channels' channel layer, phpredis, Go's redigo
# built offline from Debian's sources), and valgrind for tests/valgrind.sh.
# tests/relay needs only redis-server, redis-tools (redis-cli --cluster
# create), python3 and openssl, all here.
test_pkgs="$build_pkgs tcl redis-server redis-tools python3 openssl libhiredis-dev libevent-dev pkg-config
           python3-redis ruby ruby-redis prometheus-redis-exporter valgrind
           python3-channels-redis php-cli php-redis golang-go golang-github-gomodule-redigo-dev"

# Benchmarks: the oracle, plots, ss (free ports) and taskset (pinning).
bench_pkgs="$build_pkgs redis-server redis-tools gnuplot-nox iproute2 util-linux"
# Soak: ss (free ports), taskset (pinning), the oracle for SERVER=redis-server.
soak_pkgs="$build_pkgs redis-server iproute2 util-linux"

case "$1" in
    build) want=$build_pkgs ;;
    test) want=$test_pkgs ;;
    bench) want=$bench_pkgs ;;
    soak) want=$soak_pkgs ;;
    fuzz) want="$build_pkgs clang" ;;
    *) echo "usage: $0 build|test|bench|soak|fuzz" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
# Node.js drivers: any node >= 18 with npm will do (the lockfile pins the
# client libraries); Debian's nodejs and npm packages when there is none.
if [ "$1" = test ] && ! command -v npm >/dev/null 2>&1; then
    missing="$missing nodejs npm"
fi
[ -z "$missing" ] && exit 0

echo "deps: installing$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Installing redis-server must not leave a system Redis running on 6379:
# policy-rc.d forbids service starts during the install (where systemd
# or init scripts would otherwise start it).
policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e $policy ] && [ "$(id -u)" = 0 ]; then
    printf '#!/bin/sh\nexit 101\n' > $policy && chmod +x $policy && made_policy=1
fi
$SUDO apt-get install -y -qq --no-install-recommends $missing
[ -n "$made_policy" ] && rm -f $policy
exit 0
