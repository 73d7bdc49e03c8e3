#!/bin/sh
# tests/valgrind.sh -- runs the server under valgrind through a short
# scenario (tests/helpers/scenario.py: subscriptions in RESP2 and RESP3,
# small and 1 MiB messages, CLIENT KILL, clients leaving with output queued,
# CONFIG SET, ACL, MULTI/EXEC, a protocol error), then SHUTDOWN, and checks
# that valgrind saw no error and no leak on the way out.
#
# The server is built with the libc allocator at -O0 in its own variant
# (src/build/valgrind/, `make -C src valgrind`), so the default binary is
# left alone. Prints one line per check and ends with
# "valgrind: N passed, M failed"; the exit status is non-zero on failure.
# Run from anywhere; takes about 30 s.
set -u
cd "$(dirname "$0")/.."
root=$(pwd)
bin=$root/src/build/valgrind/redis-pubsub-server
dir=$root/tests/tmp/valgrind.$$
pass=0
fail=0

check() {
    # check NAME CONDITION-EXIT-STATUS
    if [ "$2" -eq 0 ]; then
        printf '[ok]: %s\n' "$1"
        pass=$((pass + 1))
    else
        printf '[err]: %s\n' "$1"
        fail=$((fail + 1))
    fi
}

finish() {
    echo "valgrind: $pass passed, $fail failed"
    [ "$fail" -eq 0 ] || echo "    (files kept in $dir)"
    [ "$fail" -eq 0 ] && rm -rf "$dir"
    [ "$fail" -eq 0 ]
    exit $?
}

if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind not installed (Debian package valgrind)"
    check "valgrind is installed" 1
    finish
fi
make -s -C src valgrind >/dev/null
built=$?
check "build the valgrind variant (MALLOC=libc, -O0)" $built
[ $built -eq 0 ] && [ -x "$bin" ] || finish

rm -rf "$dir"
mkdir -p "$dir"
# A loopback port nobody listens on, picked by binding to it.
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
tls_port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'bind 127.0.0.1\nport %s\ndaemonize no\nloglevel verbose\nlogfile ""\nsave ""\nappendonly no\ndir %s\n' \
    "$port" "$dir" >"$dir/server.conf"
# A TLS listener too, so the TLS paths (handshake, records, a failed
# handshake, close) run under valgrind as well.
sh utils/gen-test-certs.sh "$dir/tls" >/dev/null 2>&1
check "test certificates (utils/gen-test-certs.sh)" $?
# Channel history with its append-only log (scenario step "channel history").
mkdir -p "$dir/history"
printf 'channel-history "vg.*" 5 0\nchannel-history-dir %s\nchannel-history-fsync always\n' "$dir/history" >>"$dir/server.conf"
printf 'tls-port %s\ntls-cert-file %s\ntls-key-file %s\ntls-ca-cert-file %s\ntls-auth-clients optional\n' \
    "$tls_port" "$dir/tls/server.crt" "$dir/tls/server.key" "$dir/tls/ca.crt" >>"$dir/server.conf"

valgrind --leak-check=full --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
    --log-file="$dir/valgrind.log" \
    "$bin" "$dir/server.conf" >"$dir/stdout" 2>"$dir/stderr" &
pid=$!

# Ready when the log says so (valgrind makes start-up take a second or two).
ready=1
i=0
while [ $i -lt 600 ]; do
    if grep -q "Ready to accept connections" "$dir/stdout" 2>/dev/null; then
        ready=0
        break
    fi
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
    i=$((i + 1))
done
check "server under valgrind ready on port $port" $ready
if [ $ready -ne 0 ]; then
    kill -KILL $pid 2>/dev/null
    wait $pid 2>/dev/null
    finish
fi

/usr/bin/python3 tests/helpers/scenario.py "$port" "$tls_port" "$dir/tls/ca.crt" >"$dir/scenario.log" 2>&1
scenario=$?
while read -r line; do
    case $line in
        ok:*) check "${line#ok: }" 0 ;;
        FAIL:*) check "${line#FAIL: }" 1 ;;
        *) printf '    %s\n' "$line" ;;
    esac
done <"$dir/scenario.log"
check "scenario exit status 0 (got $scenario)" $scenario

# SHUTDOWN was the scenario's last step: the process must end on its own.
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 600 ]; do
    sleep 0.1
    i=$((i + 1))
done
if kill -0 $pid 2>/dev/null; then
    check "server exited within 60 s of SHUTDOWN" 1
    kill -KILL $pid 2>/dev/null
fi
wait $pid
status=$?
check "exit status 0, not 99 (valgrind's error code) (got $status)" $status

log=$dir/valgrind.log
grep -q "ERROR SUMMARY: 0 errors" "$log"
check "ERROR SUMMARY: 0 errors" $?
# "definitely lost: 0 bytes", or no leak summary at all when every block
# was freed.
lost() {
    n=$(sed -n "s/.*$1 lost: \([0-9,]*\) bytes.*/\1/p" "$log" | tr -d , | tail -n 1)
    [ -z "$n" ] && grep -q "All heap blocks were freed" "$log" && n=0
    [ "${n:-1}" -eq 0 ]
}
lost definitely
check "definitely lost: 0 bytes" $?
lost indirectly
check "indirectly lost: 0 bytes" $?
if [ "$fail" -ne 0 ]; then
    sed -n '/HEAP SUMMARY/,$p' "$log" | head -n 80
    grep -B2 -A20 "Invalid\|uninitialised\|definitely lost in" "$log" | head -n 80
fi
finish
