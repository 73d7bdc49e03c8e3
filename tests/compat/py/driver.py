"""redis-py compatibility driver for redis-pubsub.

Usage: /usr/bin/python3 driver.py HOST PORT

Prints one `ok - NAME` / `not ok - NAME: reason` line per check and ends with
`py: N passed, M failed`. Every check must also pass against Debian's
redis-server: a check that fails there is a wrong check. The library is
Debian's python3-redis (redis-py 4.3.x: RESP2 only, no protocol=3, no
PubSub.ssubscribe, so sharded pub/sub is driven through execute_command and a
raw connection).
"""

import os
import sys
import threading
import time
import traceback

import redis

GLOBAL_TIMEOUT = 110.0  # seconds; the contract allows 120
SOCKET_TIMEOUT = 10.0
NAME = "py"

HOST = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 6379
TAG = "pyc%d" % os.getpid()  # prefix of every channel/pattern we use

passed = 0
failed = 0
out_lock = threading.Lock()


def emit(line):
    with out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def finish():
    emit("%s: %d passed, %d failed" % (NAME, passed, failed))
    sys.stdout.flush()
    os._exit(0 if failed == 0 else 1)


def on_global_timeout():
    global failed
    failed += 1
    emit("not ok - global-timeout: driver still running after %.0f s" % GLOBAL_TIMEOUT)
    finish()


class CheckFailed(Exception):
    pass


def expect(cond, why):
    if not cond:
        raise CheckFailed(why)


def expect_eq(got, want, what):
    if got != want:
        raise CheckFailed("%s: got %r, want %r" % (what, short(got), short(want)))


def short(v, limit=200):
    r = repr(v)
    if len(r) > limit:
        return r[:limit] + "...(%d chars)" % len(r)
    return v if not isinstance(v, (bytes, str)) or len(v) < limit else r[:limit] + "..."


def check(name):
    """Decorator: run the function now as one check."""

    def deco(fn):
        global passed, failed
        try:
            fn()
        except CheckFailed as e:
            failed += 1
            emit("not ok - %s: %s" % (name, e))
        except Exception as e:  # library or socket error
            failed += 1
            tb = traceback.extract_tb(e.__traceback__)
            where = ""
            for fr in tb:
                if fr.filename.endswith("driver.py"):
                    where = " (driver.py:%d)" % fr.lineno
            emit("not ok - %s: %s: %s%s" % (name, type(e).__name__, str(e).replace("\n", " "), where))
        else:
            passed += 1
            emit("ok - %s" % name)
        return fn

    return deco


def client(**kw):
    kw.setdefault("socket_timeout", SOCKET_TIMEOUT)
    kw.setdefault("socket_connect_timeout", SOCKET_TIMEOUT)
    return redis.Redis(host=HOST, port=PORT, **kw)


def ch(name):
    return "%s:%s" % (TAG, name)


def next_msg(ps, deadline_s=5.0, want_types=None, ignore_subscribe=False):
    """get_message in a deadline loop; returns the first message whose type
    is in want_types (any type when None), or None at the deadline."""
    end = time.monotonic() + deadline_s
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return None
        m = ps.get_message(ignore_subscribe_messages=ignore_subscribe, timeout=min(left, 0.5))
        if m is None:
            continue
        if want_types is None or m["type"] in want_types:
            return m


def wait_until(pred, deadline_s=5.0, step=0.02):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def wait_numsub(r, channel, want, deadline_s=5.0):
    keys = (channel, channel.encode()) if isinstance(channel, str) else (channel, channel.decode("utf-8", "replace"))

    def ok():
        d = dict(r.pubsub_numsub(channel))
        return any(d.get(k) == want for k in keys)

    return wait_until(ok, deadline_s)


def main():
    timer = threading.Timer(GLOBAL_TIMEOUT, on_global_timeout)
    timer.daemon = True
    timer.start()

    emit("# version: redis-py %s resp2 (protocol=3 unsupported in this version)" % redis.__version__)
    try:
        client().ping()
    except Exception as e:
        global failed
        failed += 1
        emit("not ok - connect: cannot reach %s:%d: %s" % (HOST, PORT, e))
        finish()

    r = client()

    @check("connect-ping")
    def _():
        expect_eq(r.ping(), True, "PING")
        expect_eq(r.echo("hi"), b"hi", "ECHO")

    # ---------------------------------------------------------------- basics
    @check("get_message-subscribe-publish-unsubscribe")
    def _():
        ps = r.pubsub()
        ps.subscribe(ch("a"), ch("b"))
        m1 = next_msg(ps)
        m2 = next_msg(ps)
        expect_eq(m1, {"type": "subscribe", "pattern": None, "channel": ch("a").encode(), "data": 1}, "first confirmation")
        expect_eq(m2, {"type": "subscribe", "pattern": None, "channel": ch("b").encode(), "data": 2}, "second confirmation")
        expect_eq(r.publish(ch("a"), "x1"), 1, "PUBLISH a")
        expect_eq(r.publish(ch("b"), "x2"), 1, "PUBLISH b")
        expect_eq(next_msg(ps), {"type": "message", "pattern": None, "channel": ch("a").encode(), "data": b"x1"}, "message a")
        expect_eq(next_msg(ps), {"type": "message", "pattern": None, "channel": ch("b").encode(), "data": b"x2"}, "message b")
        ps.unsubscribe(ch("a"))
        expect_eq(next_msg(ps), {"type": "unsubscribe", "pattern": None, "channel": ch("a").encode(), "data": 1}, "unsubscribe a")
        ps.unsubscribe()
        expect_eq(next_msg(ps), {"type": "unsubscribe", "pattern": None, "channel": ch("b").encode(), "data": 0}, "unsubscribe all")
        expect(not ps.subscribed, "still marked subscribed after unsubscribing everything")
        expect_eq(r.publish(ch("a"), "gone"), 0, "PUBLISH after unsubscribe")
        ps.close()

    @check("get_message-ignore_subscribe_messages-decode_responses")
    def _():
        rd = client(decode_responses=True)
        ps = rd.pubsub(ignore_subscribe_messages=True)
        ps.subscribe(ch("dec"))
        # the confirmation is read (and dropped) by the first get_message
        expect(wait_numsub(rd, ch("dec"), 1), "NUMSUB never reached 1")
        expect_eq(rd.publish(ch("dec"), "text"), 1, "PUBLISH")
        m = next_msg(ps, ignore_subscribe=True)
        expect_eq(m, {"type": "message", "pattern": None, "channel": ch("dec"), "data": "text"}, "decoded message")
        ps.close()
        rd.close()

    @check("listen-generator")
    def _():
        ps = r.pubsub()
        ps.subscribe(ch("listen"))
        got = []
        for m in ps.listen():
            got.append((m["type"], m["channel"], m["data"]))
            if m["type"] == "subscribe":
                for i in range(3):
                    expect_eq(r.publish(ch("listen"), "L%d" % i), 1, "PUBLISH %d" % i)
            elif m["type"] == "message" and m["data"] == b"L2":
                ps.unsubscribe(ch("listen"))
            if len(got) > 10:
                break
        # listen() ends by itself once no subscription is left
        c = ch("listen").encode()
        expect_eq(got, [("subscribe", c, 1), ("message", c, b"L0"), ("message", c, b"L1"),
                        ("message", c, b"L2"), ("unsubscribe", c, 0)], "listen() sequence")
        ps.close()

    @check("psubscribe-get_message-pmessage")
    def _():
        ps = r.pubsub()
        ps.psubscribe(ch("news.*"))
        expect_eq(next_msg(ps), {"type": "psubscribe", "pattern": None, "channel": ch("news.*").encode(), "data": 1}, "confirmation")
        expect_eq(r.publish(ch("news.tech"), "n1"), 1, "PUBLISH matching")
        expect_eq(r.publish(ch("other.tech"), "n2"), 0, "PUBLISH not matching")
        expect_eq(next_msg(ps), {"type": "pmessage", "pattern": ch("news.*").encode(),
                                 "channel": ch("news.tech").encode(), "data": b"n1"}, "pmessage")
        ps.punsubscribe()
        expect_eq(next_msg(ps), {"type": "punsubscribe", "pattern": None, "channel": ch("news.*").encode(), "data": 0}, "punsubscribe")
        expect_eq(next_msg(ps, 0.2), None, "nothing else queued")
        ps.close()

    @check("run_in_thread-channel-and-pattern-handlers")
    def _():
        got = []
        cv = threading.Condition()

        def on_chan(m):
            with cv:
                got.append(("chan", m["type"], m["channel"], m["data"]))
                cv.notify_all()

        def on_pat(m):
            with cv:
                got.append(("pat", m["type"], m["pattern"], m["channel"], m["data"]))
                cv.notify_all()

        ps = r.pubsub()
        ps.subscribe(**{ch("thr"): on_chan})
        ps.psubscribe(**{ch("thr*"): on_pat})
        errors = []
        t = ps.run_in_thread(sleep_time=0.05, daemon=True, exception_handler=lambda e, p, th: errors.append(e))
        try:
            expect(wait_numsub(r, ch("thr"), 1), "NUMSUB never reached 1")
            # the pattern subscription is confirmed after the channel one on the
            # same connection: wait for NUMPAT to count it via a publish probe
            expect(wait_until(lambda: r.publish(ch("thr-probe"), "p") == 1), "pattern subscription never active")
            with cv:
                cv.wait_for(lambda: any(g[0] == "pat" and g[4] == b"p" for g in got), 5)
                del got[:]
            expect_eq(r.publish(ch("thr"), "both"), 2, "PUBLISH to channel+pattern")
            expect_eq(r.publish(ch("thr.x"), "pat-only"), 1, "PUBLISH to pattern only")
            with cv:
                cv.wait_for(lambda: len(got) >= 3, 5)
                snapshot = list(got)
        finally:
            t.stop()
            t.join(5)
        expect(not t.is_alive(), "worker thread did not stop")
        expect_eq(errors, [], "worker exceptions")
        want = [("chan", "message", ch("thr").encode(), b"both"),
                ("pat", "pmessage", ch("thr*").encode(), ch("thr").encode(), b"both"),
                ("pat", "pmessage", ch("thr*").encode(), ch("thr.x").encode(), b"pat-only")]
        # Redis delivers the channel message before the pattern message
        expect_eq(snapshot, want, "handler calls")
        ps.close()

    @check("run_in_thread-requires-handlers")
    def _():
        ps = r.pubsub()
        ps.subscribe(ch("nohandler"))
        try:
            ps.run_in_thread()
        except redis.exceptions.PubSubError:
            pass
        else:
            raise CheckFailed("run_in_thread accepted a channel without handler")
        finally:
            ps.close()

    # ------------------------------------------------------------ health check
    @check("health_check_interval-idle-subscriber")
    def _():
        rh = client(health_check_interval=1)
        ps = rh.pubsub()
        ps.subscribe(ch("hc"))
        expect_eq(next_msg(ps)["type"], "subscribe", "confirmation")
        conn = ps.connection
        sent = []
        orig = conn.send_command

        def spy(*args, **kw):
            sent.append(args)
            return orig(*args, **kw)

        conn.send_command = spy
        # stay idle for 2.6 s while polling: redis-py sends
        # PING redis-py-health-check each time more than 1 s passed since the
        # last read, and swallows the ["pong", "redis-py-health-check"] reply
        end = time.monotonic() + 2.6
        leaked = []
        while time.monotonic() < end:
            m = ps.get_message(timeout=0.1)
            if m is not None:
                leaked.append(m)
        pings = [a for a in sent if a and a[0] == "PING"]
        expect(len(pings) >= 1, "redis-py sent no health check PING in 2.6 s idle (sent %r)" % sent)
        expect_eq(pings[0], ("PING", "redis-py-health-check"), "health check command")
        expect_eq(leaked, [], "messages surfaced while idle")
        expect_eq(r.publish(ch("hc"), "after-idle"), 1, "PUBLISH after idle")
        m = next_msg(ps)
        expect_eq(m and (m["type"], m["data"]), ("message", b"after-idle"), "message after idle")
        expect_eq(ps.health_check_response_counter, 0, "unanswered health checks")
        conn.send_command = orig
        ps.close()
        rh.close()

    @check("health_check_interval-unsubscribed-then-resubscribe")
    def _():
        rh = client(health_check_interval=1)
        ps = rh.pubsub()
        ps.subscribe(ch("hc2"))
        expect_eq(next_msg(ps)["type"], "subscribe", "confirmation")
        ps.unsubscribe()
        expect_eq(next_msg(ps)["type"], "unsubscribe", "unsubscribe confirmation")
        # idle > 1 s with no subscription; then subscribing again makes
        # redis-py health-check the connection with a plain PING first (RESP2
        # outside subscribed mode: +PONG)
        end = time.monotonic() + 1.3
        while time.monotonic() < end:
            expect_eq(ps.get_message(timeout=0.1), None, "message while unsubscribed")
        ps.subscribe(ch("hc2"))
        m = next_msg(ps)
        expect_eq(m and (m["type"], m["data"]), ("subscribe", 1), "re-subscribe confirmation")
        expect_eq(r.publish(ch("hc2"), "back"), 1, "PUBLISH")
        m = next_msg(ps)
        expect_eq(m and (m["type"], m["data"]), ("message", b"back"), "message")
        ps.close()
        rh.close()

    @check("pubsub-ping-in-subscribed-mode")
    def _():
        ps = r.pubsub()
        ps.subscribe(ch("ping"))
        next_msg(ps)
        ps.ping()
        expect_eq(next_msg(ps), {"type": "pong", "pattern": None, "channel": None, "data": b""}, "PING with empty message")
        ps.ping("hello")
        expect_eq(next_msg(ps), {"type": "pong", "pattern": None, "channel": None, "data": b"hello"}, "PING hello")
        ps.close()

    # ------------------------------------------------------- pools, reconnects
    @check("connection-pool-several-publishers")
    def _():
        pool = redis.ConnectionPool(host=HOST, port=PORT, max_connections=8, socket_timeout=SOCKET_TIMEOUT)
        sub = redis.Redis(connection_pool=pool).pubsub()
        sub.subscribe(ch("pool"))
        expect_eq(next_msg(sub)["type"], "subscribe", "confirmation")
        nthreads, per = 5, 40
        counts = [0] * nthreads
        errs = []
        barrier = threading.Barrier(nthreads)

        def pub(i):
            try:
                c = redis.Redis(connection_pool=pool)
                barrier.wait(5)
                for j in range(per):
                    counts[i] += c.publish(ch("pool"), "%d:%d" % (i, j))
            except Exception as e:
                errs.append(e)

        ts = [threading.Thread(target=pub, args=(i,)) for i in range(nthreads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(20)
        expect_eq(errs, [], "publisher errors")
        expect_eq(sum(counts), nthreads * per, "sum of PUBLISH replies")
        seen = {}
        end = time.monotonic() + 10
        while sum(len(v) for v in seen.values()) < nthreads * per and time.monotonic() < end:
            m = sub.get_message(timeout=0.5)
            if m and m["type"] == "message":
                i, j = m["data"].decode().split(":")
                seen.setdefault(int(i), []).append(int(j))
        for i in range(nthreads):
            expect_eq(seen.get(i), list(range(per)), "messages of publisher %d (in order)" % i)
        created = pool._created_connections
        expect(created >= 2, "pool created only %d connection(s)" % created)
        expect(created <= 8, "pool exceeded max_connections: %d" % created)
        sub.close()
        pool.disconnect()

    @check("reconnect-and-resubscribe-after-client-kill")
    def _():
        name = "%s-victim" % TAG
        rv = client(client_name=name)
        ps = rv.pubsub()
        ps.subscribe(ch("rc"))
        ps.psubscribe(ch("rcp.*"))
        expect_eq(next_msg(ps)["type"], "subscribe", "subscribe confirmation")
        expect_eq(next_msg(ps)["type"], "psubscribe", "psubscribe confirmation")
        ids = [c["id"] for c in r.client_list() if c.get("name") == name]
        expect_eq(len(ids), 1, "CLIENT LIST entries named %s" % name)
        killed = r.client_kill_filter(_type="pubsub", _id=ids[0])
        expect_eq(killed, 1, "CLIENT KILL TYPE pubsub ID <id>")
        expect(wait_numsub(r, ch("rc"), 0), "NUMSUB did not drop to 0 after the kill")
        # next calls: the first one sees the closed socket (ConnectionError),
        # a following one reconnects and re-subscribes (redis-py's
        # on_connect callback), which yields fresh confirmations
        errors, confirmations = [], []
        end = time.monotonic() + 10
        while time.monotonic() < end and len(confirmations) < 2:
            try:
                m = ps.get_message(timeout=0.2)
            except redis.exceptions.ConnectionError as e:
                errors.append(e)
                continue
            if m is not None and m["type"] in ("subscribe", "psubscribe"):
                confirmations.append((m["type"], m["channel"]))
        expect_eq(sorted(confirmations), [("psubscribe", ch("rcp.*").encode()), ("subscribe", ch("rc").encode())],
                  "re-subscribe confirmations (errors seen: %r)" % errors)
        expect(wait_numsub(r, ch("rc"), 1), "NUMSUB never came back to 1")
        new_ids = [c["id"] for c in r.client_list() if c.get("name") == name]
        expect(len(new_ids) == 1 and new_ids != ids, "reconnected client not found by name (ids %r -> %r)" % (ids, new_ids))
        expect_eq(r.publish(ch("rc"), "after"), 1, "PUBLISH to channel after reconnect")
        expect_eq(r.publish(ch("rcp.z"), "after-p"), 1, "PUBLISH to pattern after reconnect")
        m1 = next_msg(ps, want_types=("message", "pmessage"))
        m2 = next_msg(ps, want_types=("message", "pmessage"))
        expect_eq(m1 and (m1["type"], m1["channel"], m1["data"]), ("message", ch("rc").encode(), b"after"), "message")
        expect_eq(m2 and (m2["type"], m2["pattern"], m2["data"]), ("pmessage", ch("rcp.*").encode(), b"after-p"), "pmessage")
        ps.close()
        rv.close()

    # ---------------------------------------------------------------- payloads
    @check("binary-payload-all-256-bytes")
    def _():
        ps = r.pubsub(ignore_subscribe_messages=True)
        ps.subscribe(ch("bin"))
        expect(wait_numsub(r, ch("bin"), 1), "NUMSUB never reached 1")
        data = bytes(range(256))
        expect_eq(r.publish(ch("bin"), data), 1, "PUBLISH")
        expect_eq(r.publish(ch("bin"), data[::-1] * 4), 1, "PUBLISH reversed x4")
        m = next_msg(ps, want_types=("message",))
        expect_eq(m and m["data"], data, "payload")
        m = next_msg(ps, want_types=("message",))
        expect_eq(m and m["data"], data[::-1] * 4, "payload reversed")
        ps.close()

    @check("binary-payload-empty")
    def _():
        ps = r.pubsub(ignore_subscribe_messages=True)
        ps.subscribe(ch("empty"))
        expect(wait_numsub(r, ch("empty"), 1), "NUMSUB never reached 1")
        expect_eq(r.publish(ch("empty"), b""), 1, "PUBLISH")
        m = next_msg(ps, want_types=("message",))
        expect_eq(m and m["data"], b"", "payload")
        ps.close()

    @check("binary-payload-1MiB")
    def _():
        ps = r.pubsub(ignore_subscribe_messages=True)
        ps.psubscribe(ch("big*"))
        ps.subscribe(ch("big"))
        expect(wait_numsub(r, ch("big"), 1), "NUMSUB never reached 1")
        data = os.urandom(1 << 20)
        expect_eq(r.publish(ch("big"), data), 2, "PUBLISH (channel + pattern)")
        m1 = next_msg(ps, 15, want_types=("message", "pmessage"))
        m2 = next_msg(ps, 15, want_types=("message", "pmessage"))
        expect(m1 is not None and m2 is not None, "1 MiB messages not received")
        expect_eq(m1["type"], "message", "first delivery")
        expect_eq(len(m1["data"]), 1 << 20, "message length")
        expect(m1["data"] == data, "message bytes differ")
        expect_eq(m2["type"], "pmessage", "second delivery")
        expect(m2["data"] == data, "pmessage bytes differ")
        ps.close()

    @check("binary-channel-name")
    def _():
        name = TAG.encode() + b":\x00\r\n\xff bin"
        ps = r.pubsub()
        ps.subscribe(name)
        m = next_msg(ps)
        expect_eq(m and m["channel"], name, "confirmation channel")
        expect_eq(dict(r.pubsub_numsub(name)), {name: 1}, "NUMSUB")
        expect_eq(r.publish(name, b"\x00"), 1, "PUBLISH")
        m = next_msg(ps)
        expect_eq(m and (m["channel"], m["data"]), (name, b"\x00"), "message")
        ps.close()

    @check("utf8-channel-names")
    def _():
        rd = client(decode_responses=True)
        names = [ch("канал"), ch("日本語チャンネル"), ch("emoji-🚀-ü")]
        ps = rd.pubsub()
        ps.subscribe(*names)
        for i, n in enumerate(names):
            m = next_msg(ps)
            expect_eq(m, {"type": "subscribe", "pattern": None, "channel": n, "data": i + 1}, "confirmation %d" % i)
        listed = set(rd.pubsub_channels(ch("*")))
        expect(set(names) <= listed, "PUBSUB CHANNELS %r lacks %r" % (listed, names))
        expect_eq(rd.pubsub_numsub(*names), [(n, 1) for n in names], "NUMSUB")
        for n in names:
            expect_eq(rd.publish(n, "значение ✓"), 1, "PUBLISH %s" % n)
        for n in names:
            expect_eq(next_msg(ps), {"type": "message", "pattern": None, "channel": n, "data": "значение ✓"}, "message")
        ps.close()
        rd.close()

    # ------------------------------------------------------- publish replies
    @check("publish-return-values")
    def _():
        expect_eq(r.publish(ch("nobody"), "x"), 0, "no subscriber")
        a = r.pubsub()
        a.subscribe(ch("cnt"))
        a.psubscribe(ch("cn?"))
        b = r.pubsub()
        b.subscribe(ch("cnt"))
        c = r.pubsub()
        c.psubscribe(ch("c*"), ch("*t"))
        for ps, n in ((a, 2), (b, 1), (c, 2)):
            for _ in range(n):
                expect(next_msg(ps) is not None, "missing confirmation")
        # a: channel + pattern = 2, b: 1, c: two patterns = 2
        expect_eq(r.publish(ch("cnt"), "x"), 5, "PUBLISH counted per channel and per matching pattern")
        expect_eq(r.publish(ch("cnx"), "x"), 2, "PUBLISH matching cn? and c*")
        a.close()
        expect(wait_numsub(r, ch("cnt"), 1), "NUMSUB after closing one subscriber")
        expect_eq(r.publish(ch("cnt"), "x"), 3, "PUBLISH after one subscriber left")
        b.close()
        c.close()
        expect(wait_until(lambda: r.publish(ch("cnt"), "x") == 0), "PUBLISH never returned 0 after everyone left")

    @check("publish-same-client-channel-and-pattern-counts-2")
    def _():
        ps = r.pubsub()
        ps.subscribe(ch("dup"))
        ps.psubscribe(ch("du*"))
        next_msg(ps)
        next_msg(ps)
        expect_eq(r.publish(ch("dup"), "d"), 2, "PUBLISH")
        m1 = next_msg(ps)
        m2 = next_msg(ps)
        expect_eq((m1["type"], m1["data"]), ("message", b"d"), "first delivery")
        expect_eq((m2["type"], m2["pattern"], m2["data"]), ("pmessage", ch("du*").encode(), b"d"), "second delivery")
        ps.close()

    @check("ordering-1000-messages")
    def _():
        ps = r.pubsub(ignore_subscribe_messages=True)
        ps.subscribe(ch("order"))
        expect(wait_numsub(r, ch("order"), 1), "NUMSUB never reached 1")
        pipe = r.pipeline(transaction=False)
        for i in range(1000):
            pipe.publish(ch("order"), "m%04d" % i)
        replies = pipe.execute()
        expect_eq(replies, [1] * 1000, "PUBLISH replies")
        got = []
        end = time.monotonic() + 15
        while len(got) < 1000 and time.monotonic() < end:
            m = ps.get_message(timeout=0.5)
            if m and m["type"] == "message":
                got.append(m["data"])
        expect_eq(len(got), 1000, "messages received")
        expect(got == [("m%04d" % i).encode() for i in range(1000)], "messages out of order")
        ps.close()

    # ------------------------------------------------------------ PUBSUB cmds
    @check("pubsub-channels-numsub-numpat")
    def _():
        base_numpat = r.pubsub_numpat()
        expect(isinstance(base_numpat, int), "NUMPAT is not an integer: %r" % (base_numpat,))
        p1 = r.pubsub()
        p1.subscribe(ch("ps.one"), ch("ps.two"))
        p1.psubscribe(ch("ps.*"), ch("ps.?ne"))
        p2 = r.pubsub()
        p2.subscribe(ch("ps.one"))
        p2.psubscribe(ch("ps.*"))
        for ps, n in ((p1, 4), (p2, 2)):
            for _ in range(n):
                expect(next_msg(ps) is not None, "missing confirmation")
        chans = sorted(r.pubsub_channels(ch("ps.*")))
        expect_eq(chans, [ch("ps.one").encode(), ch("ps.two").encode()], "PUBSUB CHANNELS pattern")
        expect_eq(sorted(r.pubsub_channels(ch("ps.o*"))), [ch("ps.one").encode()], "PUBSUB CHANNELS narrower")
        expect(ch("ps.one").encode() in r.pubsub_channels(), "PUBSUB CHANNELS without pattern lacks our channel")
        expect_eq(r.pubsub_numsub(ch("ps.one"), ch("ps.two"), ch("ps.none")),
                  [(ch("ps.one").encode(), 2), (ch("ps.two").encode(), 1), (ch("ps.none").encode(), 0)], "PUBSUB NUMSUB")
        expect_eq(r.pubsub_numsub(), [], "PUBSUB NUMSUB without channels")
        # NUMPAT counts distinct patterns: ps.* (twice) and ps.?ne
        expect_eq(r.pubsub_numpat() - base_numpat, 2, "PUBSUB NUMPAT delta")
        p1.close()
        p2.close()
        expect(wait_until(lambda: r.pubsub_numpat() == base_numpat), "NUMPAT did not come back down")
        expect(wait_until(lambda: r.pubsub_channels(ch("ps.*")) == []), "channels still listed after close")

    @check("pubsub-help-via-execute_command")
    def _():
        h = r.execute_command("PUBSUB", "HELP")
        expect(isinstance(h, list) and len(h) > 5, "PUBSUB HELP reply %r" % (h,))
        expect(any(b"NUMSUB" in line for line in h), "PUBSUB HELP does not mention NUMSUB")

    @check("sharded-ssubscribe-spublish-shardchannels-shardnumsub")
    def _():
        sc = ch("shard{1}")
        conn = r.connection_pool.make_connection()
        try:
            conn.send_command("SSUBSCRIBE", sc)
            expect_eq(conn.read_response(), [b"ssubscribe", sc.encode(), 1], "SSUBSCRIBE reply")
            expect_eq(r.execute_command("SPUBLISH", sc, "s1"), 1, "SPUBLISH")
            expect_eq(r.execute_command("PUBLISH", sc, "plain"), 0, "PUBLISH does not reach shard subscribers")
            expect_eq(conn.read_response(), [b"smessage", sc.encode(), b"s1"], "smessage")
            expect_eq(r.execute_command("PUBSUB", "SHARDCHANNELS", ch("shard*")), [sc.encode()], "PUBSUB SHARDCHANNELS")
            expect_eq(r.execute_command("PUBSUB", "SHARDNUMSUB", sc, ch("nope")), [sc.encode(), 1, ch("nope").encode(), 0],
                      "PUBSUB SHARDNUMSUB")
            expect(sc.encode() not in r.pubsub_channels(ch("*")), "shard channel listed by PUBSUB CHANNELS")
            conn.send_command("SUNSUBSCRIBE", sc)
            expect_eq(conn.read_response(), [b"sunsubscribe", sc.encode(), 0], "SUNSUBSCRIBE reply")
            expect_eq(r.execute_command("SPUBLISH", sc, "s2"), 0, "SPUBLISH after SUNSUBSCRIBE")
        finally:
            conn.disconnect()

    # ----------------------------------------------------------- glob table
    @check("glob-pattern-table")
    def _():
        pats = ["h?llo", "h*llo", "h[a-c]llo", "h[^e]llo", "h\\*llo"]
        chans = ["hello", "hallo", "hxllo", "heello", "hllo", "h*llo"]
        want = {
            "h?llo": {"hello", "hallo", "hxllo", "h*llo"},
            "h*llo": {"hello", "hallo", "hxllo", "heello", "hllo", "h*llo"},
            "h[a-c]llo": {"hallo"},
            "h[^e]llo": {"hallo", "hxllo", "h*llo"},
            "h\\*llo": {"h*llo"},
        }
        pre = TAG + ":g:"
        ps = r.pubsub()
        ps.psubscribe(*[pre + p for p in pats])
        for _ in pats:
            expect(next_msg(ps) is not None, "missing psubscribe confirmation")
        problems = []
        for c in chans:
            n = r.publish(pre + c, c)
            expect_n = sum(1 for p in pats if c in want[p])
            if n != expect_n:
                problems.append("PUBLISH %s -> %d, want %d" % (c, n, expect_n))
        seen = {p: set() for p in pats}
        total = sum(len(v) for v in want.values())
        end = time.monotonic() + 5
        count = 0
        while count < total and time.monotonic() < end:
            m = ps.get_message(timeout=0.3)
            if m and m["type"] == "pmessage":
                count += 1
                p = m["pattern"].decode()[len(pre):]
                seen[p].add(m["data"].decode())
                expect_eq(m["channel"].decode(), pre + m["data"].decode(), "pmessage channel")
        extra = next_msg(ps, 0.2)
        if extra is not None:
            problems.append("unexpected extra message %r" % (extra,))
        for p in pats:
            if seen[p] != want[p]:
                problems.append("%s matched %s, want %s" % (p, sorted(seen[p]), sorted(want[p])))
        expect(not problems, "; ".join(problems))
        ps.close()

    # ------------------------------------------------------------- RESP2 rule
    @check("resp2-subscribed-mode-rejects-GET")
    def _():
        ps = r.pubsub()
        ps.subscribe(ch("rule"))
        expect_eq(next_msg(ps)["type"], "subscribe", "confirmation")
        conn = ps.connection
        conn.send_command("GET", "somekey")
        try:
            reply = conn.read_response()
        except redis.exceptions.ResponseError as e:
            msg = str(e)
        else:
            raise CheckFailed("GET in subscribed mode returned %r instead of an error" % (reply,))
        want = ("Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
                "are allowed in this context")
        expect_eq(msg, want, "error")
        # the connection stays usable and subscribed
        expect_eq(r.publish(ch("rule"), "still"), 1, "PUBLISH after the error")
        m = next_msg(ps)
        expect_eq(m and (m["type"], m["data"]), ("message", b"still"), "message after the error")
        ps.close()

    @check("resp2-subscribed-mode-ping-and-publish-rule")
    def _():
        ps = r.pubsub()
        ps.subscribe(ch("rule2"))
        next_msg(ps)
        conn = ps.connection
        conn.send_command("PING")
        expect_eq(conn.read_response(), [b"pong", b""], "PING reply in subscribed mode")
        conn.send_command("PUBLISH", ch("rule2"), "x")
        try:
            reply = conn.read_response()
            raise CheckFailed("PUBLISH accepted in subscribed mode: %r" % (reply,))
        except redis.exceptions.ResponseError as e:
            expect_eq(str(e), "Can't execute 'publish': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
                      "are allowed in this context", "PUBLISH error")
        ps.close()

    @check("resp2-subscribed-mode-rejects-SET")
    def _():
        ps = r.pubsub()
        ps.subscribe(ch("rule3"))
        next_msg(ps)
        conn = ps.connection
        conn.send_command("SET", "k", "v")
        try:
            reply = conn.read_response()
            raise CheckFailed("SET accepted in subscribed mode: %r" % (reply,))
        except redis.exceptions.ResponseError as e:
            expect_eq(str(e), "Can't execute 'set': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
                      "are allowed in this context", "SET error")
        ps.close()

    emit("# skip - resp3-push-messages: redis-py %s has no protocol=3 (added in redis-py 5.0)" % redis.__version__)

    r.close()
    timer.cancel()
    finish()


if __name__ == "__main__":
    main()
