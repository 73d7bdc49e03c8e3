#!/usr/bin/python3
"""scenario.py PORT TLS_PORT CA_FILE -- a short tour of the server's code paths for
tests/valgrind.sh: every kind of subscription in RESP2 and RESP3, small
and 1 MiB messages, CLIENT KILL, a client leaving with output still
queued, a big subscriber leaving (released in slices), CONFIG SET, ACL
SETUSER and AUTH, MULTI/EXEC, a protocol error, half a command left
behind, TLS subscribers (one leaving mid-handshake, one speaking plain RESP
to the TLS port), channel history with its log (blocked readers, one
leaving, one unblocked, trimming), MONITOR, CLIENT PAUSE and TRACKING, and
finally SHUTDOWN with clients still subscribed.

Prints "ok: STEP" or "FAIL: STEP: why" per step, and exits 1 if a step
failed. Replies are checked byte for byte where the bytes are fixed; every
read has a deadline (valgrind makes the server some 20 times slower)."""
import os
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faults import Failure, connect, encode, read_exact, reset, subscribe  # noqa: E402

PORT = 0
failed = 0


def step(name, fn):
    global failed
    try:
        fn()
        print("ok: %s" % name, flush=True)
    except (Failure, OSError) as e:
        failed += 1
        print("FAIL: %s: %s: %s" % (name, type(e).__name__, e), flush=True)


def call(s, *args):
    """Sends one command and returns the first line of the reply."""
    s.sendall(encode(*args))
    return read_line(s)


def read_line(s):
    line = b""
    while not line.endswith(b"\r\n"):
        d = s.recv(1)
        if not d:
            raise Failure("connection closed, got %r" % line)
        line += d
    return line


def read_reply(s):
    """Reads one whole reply of any RESP2/RESP3 type; returns its bytes."""
    line = read_line(s)
    t, rest = line[:1], line[1:-2]
    if t in b"$=!" and rest != b"-1":
        return line + read_exact(s, int(rest) + 2)
    if t in b"*>~%|" and rest != b"-1":
        n = int(rest) * (2 if t in b"%|" else 1)
        out = line
        for _ in range(n):
            out += read_reply(s)
        return out
    return line


def want(got, exp):
    if got != exp:
        raise Failure("expected %r, got %r" % (exp[:120], got[:120]))


def info(s, section):
    """The INFO reply (bytes) for one section."""
    s.sendall(encode("INFO", section))
    return read_reply(s)


def client():
    s = connect(PORT)
    s.settimeout(60)
    return s


def main():
    global PORT
    PORT = int(sys.argv[1])
    tls_port, ca_file = int(sys.argv[2]), sys.argv[3]
    big = b"B" * (1 << 20)
    tls_clients = []
    admin = client()
    sub2, sub3, pub = client(), client(), client()

    def subscriptions():
        sub2.sendall(encode("SUBSCRIBE", "v.a", "v.b") + encode("PSUBSCRIBE", "v.*")
                     + encode("SSUBSCRIBE", "v.s"))
        for _ in range(4):
            read_reply(sub2)
        sub3.sendall(encode("HELLO", "3"))
        want(read_reply(sub3)[:1], b"%")
        sub3.sendall(encode("SUBSCRIBE", "v.a") + encode("PSUBSCRIBE", "v.[ab]"))
        want(read_reply(sub3)[:1], b">")
        want(read_reply(sub3)[:1], b">")

    def messages():
        want(call(pub, "PUBLISH", "v.a", "small"), b":4\r\n")  # sub2 twice, sub3 twice
        pub.sendall(encode("PUBLISH", "v.a", big))
        want(read_line(pub), b":4\r\n")
        want(call(pub, "SPUBLISH", "v.s", "shard"), b":1\r\n")
        for payload in (b"small", big):
            want(read_reply(sub2), encode("message", "v.a", payload))
            want(read_reply(sub2), encode("pmessage", "v.*", "v.a", payload))
        want(read_reply(sub2), encode("smessage", "v.s", "shard"))
        for payload in (b"small", big):
            got = [read_reply(sub3), read_reply(sub3)]
            if not all(g.startswith(b">") and g.endswith(payload + b"\r\n") for g in got):
                raise Failure("RESP3 pushes %r" % [g[:60] for g in got])

    def kill():
        victim = client()
        want(call(victim, "CLIENT", "SETNAME", "victim"), b"+OK\r\n")
        victim_id = call(victim, "CLIENT", "ID")[1:-2]
        want(call(admin, "CLIENT", "KILL", "ID", victim_id.decode()), b":1\r\n")
        if victim.recv(100) != b"":
            raise Failure("killed client not closed")

    def queued_output():
        # A subscriber that never reads, 24 MiB queued for it (under the
        # pubsub hard limit), then it goes: once with a FIN, once an RST.
        for close in (lambda s: s.close(), reset):
            slow = client()
            subscribe(slow, "slow")
            for _ in range(24):
                pub.sendall(encode("PUBLISH", "slow", big))
                want(read_line(pub), b":1\r\n")
            close(slow)
        want(call(admin, "PING"), b"+PONG\r\n")

    def big_subscriber():
        # Over 4096 subscriptions: released in slices after it leaves; one
        # such client leaves, another is still there at SHUTDOWN.
        for name in ("gone", "stays"):
            s = client()
            chans = ["v.%s.%d" % (name, i) for i in range(6000)]
            s.sendall(encode("SUBSCRIBE", *chans))
            for _ in chans:
                read_reply(s)
            if name == "gone":
                s.close()
            else:
                big_subscriber.keep = s
        want(call(admin, "PING"), b"+PONG\r\n")

    def config():
        for args in (("client-output-buffer-limit", "pubsub 64mb 16mb 60"),
                     ("maxclients", "5000"), ("timeout", "0"), ("loglevel", "verbose"),
                     ("client-query-buffer-limit", "1gb"), ("hz", "20")):
            want(call(admin, "CONFIG", "SET", *args), b"+OK\r\n")
        admin.sendall(encode("CONFIG", "GET", "*"))
        want(read_reply(admin)[:1], b"*")
        want(call(admin, "CONFIG", "SET", "maxclients", "nope")[:4], b"-ERR")
        want(call(admin, "CONFIG", "RESETSTAT"), b"+OK\r\n")

    def acl():
        want(call(admin, "ACL", "SETUSER", "alice", "on", ">pw", "&acl.*", "+@all"), b"+OK\r\n")
        want(call(admin, "ACL", "SETUSER", "bob", "on", ">pw", "resetchannels", "+@all"), b"+OK\r\n")
        a = client()
        want(call(a, "AUTH", "alice", "wrong")[:10], b"-WRONGPASS")
        want(call(a, "AUTH", "alice", "pw"), b"+OK\r\n")
        want(call(a, "PUBLISH", "acl.x", "x"), b":0\r\n")
        want(call(a, "PUBLISH", "other", "x")[:7], b"-NOPERM")
        b = client()
        want(call(b, "AUTH", "bob", "pw"), b"+OK\r\n")
        want(call(admin, "ACL", "DELUSER", "bob"), b":1\r\n")
        if b.recv(100) != b"":
            raise Failure("deleted user's client not closed")
        admin.sendall(encode("ACL", "LIST"))
        want(read_reply(admin)[:1], b"*")
        a.close()

    def multi():
        m = client()
        want(call(m, "MULTI"), b"+OK\r\n")
        want(call(m, "PUBLISH", "v.b", "in-multi"), b"+QUEUED\r\n")
        want(call(m, "PING"), b"+QUEUED\r\n")
        m.sendall(encode("EXEC"))
        want(read_reply(m), b"*2\r\n:3\r\n+PONG\r\n")  # sub2 twice, sub3 once
        want(read_reply(sub2), encode("message", "v.b", "in-multi"))
        want(read_reply(sub2), encode("pmessage", "v.*", "v.b", "in-multi"))
        want(call(m, "MULTI"), b"+OK\r\n")
        want(call(m, "PING"), b"+QUEUED\r\n")
        want(call(m, "DISCARD"), b"+OK\r\n")
        # A transaction left open when the client goes.
        want(call(m, "MULTI"), b"+OK\r\n")
        want(call(m, "PUBLISH", "v.b", "never"), b"+QUEUED\r\n")
        m.close()

    def protocol_error():
        p = client()
        p.sendall(b"*1\r\n$abc\r\n")
        want(read_line(p)[:20], b"-ERR Protocol error:")
        if p.recv(100) != b"":
            raise Failure("not closed after a protocol error")
        half = client()
        half.sendall(b"*3\r\n$7\r\nPUBLISH\r\n$3\r\nv.a\r\n$100\r\nonly-part")
        want(call(admin, "PING"), b"+PONG\r\n")
        half.close()

    def introspection():
        for args in (("INFO", "everything"), ("CLIENT", "LIST"), ("PUBSUB", "CHANNELS"),
                     ("PUBSUB", "NUMSUB", "v.a"), ("COMMAND", "DOCS", "publish"), ("COMMAND",)):
            admin.sendall(encode(*args))
            read_reply(admin)
        want(call(admin, "PUBSUB", "NUMPAT"), b":2\r\n")

    def tls():
        ctx = ssl.create_default_context(cafile=ca_file)
        raw = socket.create_connection(("127.0.0.1", tls_port), timeout=60)
        t = ctx.wrap_socket(raw, server_hostname="localhost")
        t.sendall(encode("SUBSCRIBE", "w.tls"))
        read_reply(t)
        want(call(pub, "PUBLISH", "w.tls", big), b":1\r\n")
        want(read_reply(t), encode("message", "w.tls", big))
        # One that leaves halfway through its handshake, one that speaks
        # plain RESP to the TLS port; the TLS subscriber stays for SHUTDOWN.
        half_tls = socket.create_connection(("127.0.0.1", tls_port), timeout=60)
        half_tls.sendall(b"\x16\x03\x01\x00\x10")
        half_tls.close()
        plain = socket.create_connection(("127.0.0.1", tls_port), timeout=60)
        plain.sendall(encode("PING"))
        deadline = time.time() + 60
        try:
            while plain.recv(100) != b"":
                if time.time() > deadline:
                    raise Failure("plain client on the TLS port still connected")
        except ConnectionResetError:
            pass  # closed with its request unread: a reset is a close too
        plain.close()
        want(call(pub, "PUBLISH", "w.tls", "again"), b":1\r\n")
        want(read_reply(t), encode("message", "w.tls", "again"))
        tls_clients.append(t)

    def history():
        # valgrind.sh configures channel-history "vg.*" 5 0 with a
        # channel-history-dir: appends, trimming, the log, blocked readers.
        r = client()
        r.sendall(encode("XREAD", "BLOCK", "0", "STREAMS", "vg.a", "$"))
        gone = client()
        gone.sendall(encode("XREAD", "BLOCK", "0", "STREAMS", "vg.a", "vg.b", "$", "$"))
        unb = client()
        unb.sendall(encode("CLIENT", "ID"))
        unb_id = int(read_line(unb)[1:-2])
        unb.sendall(encode("XREAD", "BLOCK", "0", "STREAMS", "vg.c", "$"))
        deadline = time.time() + 30
        while b"history_blocked_readers:3" not in info(admin, "history"):
            if time.time() > deadline:
                raise Failure("three readers never blocked: %r" % info(admin, "history"))
            time.sleep(0.05)
        gone.close()
        want(call(admin, "CLIENT", "UNBLOCK", str(unb_id), "ERROR"), b":1\r\n")
        want(read_line(unb)[:10], b"-UNBLOCKED")
        big = "x" * (1 << 20)
        for i in range(8):
            call(admin, "PUBLISH", "vg.a", big if i == 3 else "m%d" % i)
        reply = read_reply(r)
        if b"m0" not in reply:
            raise Failure("blocked reader got %r" % reply[:80])
        admin.sendall(encode("XLEN", "vg.a"))
        want(read_line(admin), b":5\r\n")
        admin.sendall(encode("XRANGE", "vg.a", "-", "+", "COUNT", "2"))
        read_reply(admin)
        admin.sendall(encode("XADD", "vg.a", "*", "message", "xadd"))
        read_reply(admin)
        admin.sendall(encode("XTRIM", "vg.a", "MAXLEN", "2"))
        read_reply(admin)
        admin.sendall(encode("XINFO", "STREAM", "vg.a"))
        read_reply(admin)
        r.close()
        unb.close()

    def monitor_pause():
        m = client()
        want(call(m, "MONITOR"), b"+OK\r\n")
        call(admin, "PING")
        line = read_line(m)
        if b'"ping"' not in line.lower():
            raise Failure("monitor line %r" % line)
        m.close()
        want(call(admin, "CLIENT", "PAUSE", "50", "WRITE"), b"+OK\r\n")
        p = client()
        p.sendall(encode("PUBLISH", "w.pause", "x"))
        want(read_line(p), b":0\r\n")
        p.close()
        want(call(admin, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a"), b"+OK\r\n")
        want(call(admin, "CLIENT", "TRACKING", "OFF"), b"+OK\r\n")

    def shutdown():
        admin.sendall(encode("SHUTDOWN", "NOSAVE"))
        deadline = time.time() + 60
        while admin.recv(100) != b"":
            if time.time() > deadline:
                raise Failure("still connected after SHUTDOWN")

    step("(P/S)SUBSCRIBE in RESP2, SUBSCRIBE and PSUBSCRIBE after HELLO 3", subscriptions)
    step("PUBLISH small and 1 MiB, SPUBLISH; all delivered", messages)
    step("CLIENT KILL ID closes the client", kill)
    step("subscribers leave with 24 MiB queued (FIN, then RST)", queued_output)
    step("6000-channel subscribers: one leaves, one stays", big_subscriber)
    step("CONFIG SET, CONFIG GET *, CONFIG RESETSTAT", config)
    step("ACL SETUSER, AUTH, NOPERM, ACL DELUSER closes its client", acl)
    step("MULTI/EXEC, DISCARD, a MULTI left open", multi)
    step("a protocol error closes; half a command left behind", protocol_error)
    step("INFO, CLIENT LIST, PUBSUB, COMMAND", introspection)
    step("TLS: subscribe, 1 MiB message, a half handshake, plain RESP on the TLS port", tls)
    step("channel history: blocked readers (one leaves, one CLIENT UNBLOCK), 1 MiB entry, trim, XADD/XTRIM/XINFO, the log", history)
    step("MONITOR, CLIENT PAUSE WRITE, CLIENT TRACKING", monitor_pause)
    step("SHUTDOWN NOSAVE with subscribers connected", shutdown)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
