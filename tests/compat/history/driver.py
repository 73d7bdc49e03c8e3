#!/usr/bin/python3
"""tests/compat/history/driver.py HOST PORT -- the catch-up pattern of channel
history with redis-py, as an application uses it: read with XREAD BLOCK from
the last id seen; after losing the connection (CLIENT KILL while blocked, or
a close), reconnect and read again from the last id: nothing published
meanwhile is missing, nothing comes twice, the order holds. Runs against ours
(with a channel-history rule set by CONFIG SET) and against redis-server
(where XADD writes a plain stream): the Streams replies must be the same.
On ours also: PUBLISH appends, and SUBSCRIBE and XREAD see the same messages.
Prints ok/not ok lines and `history-py: N passed, M failed`."""
import sys
import threading
import time

import redis

HOST, PORT = sys.argv[1], int(sys.argv[2])
passed = failed = 0
KEY = "hist.py.%d" % int(time.time() * 1000)


def check(name, fn):
    global passed, failed
    try:
        fn()
        passed += 1
        print("ok - %s" % name, flush=True)
    except Exception as e:  # noqa: BLE001 -- every failure reported the same way
        failed += 1
        print("not ok - %s: %s: %s" % (name, type(e).__name__, e), flush=True)


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


r = redis.Redis(host=HOST, port=PORT, decode_responses=True, socket_timeout=10)
ours = "redis_pubsub_version" in r.info("server")
if ours:
    r.config_set("channel-history", "hist.* 10000 0")


def xadd(n, tag):
    return [r.xadd(KEY, {"message": "%s-%d" % (tag, i)}) for i in range(n)]


def entries(reply):
    out = []
    for _key, items in reply or []:
        for eid, fields in items:
            out.append((eid, fields["message"]))
    return out


state = {"last": "0-0", "seen": []}


def read_from(client, block=None):
    got = entries(client.xread({KEY: state["last"]}, count=1000, block=block))
    for eid, msg in got:
        state["seen"].append(msg)
        state["last"] = eid
    return got


def first_read():
    xadd(50, "a")
    reader = redis.Redis(host=HOST, port=PORT, decode_responses=True, socket_timeout=10)
    got = read_from(reader)
    expect([m for _, m in got] == ["a-%d" % i for i in range(50)], "first read: %r" % got[:3])
    reader.close()


def reconnect_after_close():
    xadd(30, "b")  # published while the reader is away
    reader = redis.Redis(host=HOST, port=PORT, decode_responses=True, socket_timeout=10)
    got = read_from(reader)
    expect([m for _, m in got] == ["b-%d" % i for i in range(30)], "after reconnect: %r" % got[:3])
    reader.close()


def killed_while_blocked():
    reader = redis.Redis(host=HOST, port=PORT, decode_responses=True, socket_timeout=10)
    my_id = reader.client_id()
    errors = []

    def blocked():
        try:
            read_from(reader, block=0)
        except redis.exceptions.ConnectionError as e:
            errors.append(e)

    t = threading.Thread(target=blocked)
    t.start()
    wait_blocked(my_id)
    r.client_kill_filter(_id=my_id)
    t.join(10)
    expect(errors, "the blocked reader was not cut off")
    xadd(20, "c")  # while it is down
    again = redis.Redis(host=HOST, port=PORT, decode_responses=True, socket_timeout=10)
    got = read_from(again)
    expect([m for _, m in got] == ["c-%d" % i for i in range(20)], "after CLIENT KILL: %r" % got[:3])
    again.close()


def wait_blocked(client_id):
    """Until CLIENT LIST shows the client in its XREAD."""
    deadline = time.time() + 10
    while time.time() < deadline:
        me = [c for c in r.client_list() if int(c["id"]) == client_id]
        if me and me[0]["cmd"] == "xread":
            return
        time.sleep(0.02)
    raise AssertionError("client %d never blocked in XREAD" % client_id)


def block_wakes():
    reader = redis.Redis(host=HOST, port=PORT, decode_responses=True, socket_timeout=10)
    my_id = reader.client_id()
    box = []
    t = threading.Thread(target=lambda: box.append(read_from(reader, block=5000)))
    t.start()
    wait_blocked(my_id)
    xadd(1, "d")
    t.join(10)
    expect(box and [m for _, m in box[0]] == ["d-0"], "woken read: %r" % box)
    reader.close()


def whole_history():
    expect(state["seen"] == ["a-%d" % i for i in range(50)] + ["b-%d" % i for i in range(30)] +
           ["c-%d" % i for i in range(20)] + ["d-0"], "seen %d messages" % len(state["seen"]))
    ids = [e[0] for e in r.xrange(KEY)]
    expect(ids == sorted(ids, key=lambda s: tuple(map(int, s.split("-")))), "ids not increasing")
    info = r.xinfo_stream(KEY)
    expect(info["length"] == 101 and info["last-generated-id"] == ids[-1], "XINFO STREAM %r" % info)


def publish_and_subscribe_agree():
    ch = KEY + ".pub"
    ps = r.pubsub()
    ps.subscribe(ch)
    ps.get_message(timeout=5)
    for i in range(10):
        r.publish(ch, "p-%d" % i)
    subs = []
    while len(subs) < 10:
        m = ps.get_message(timeout=5)
        if m is None:
            break
        if m["type"] == "message":
            subs.append(m["data"])
    hist = [fields["message"] for _, fields in r.xrange(ch)]
    expect(subs == hist == ["p-%d" % i for i in range(10)], "subscriber %r, history %r" % (subs, hist))
    ps.close()


check("xread-first-read", first_read)
check("xread-reconnect-after-close-misses-nothing", reconnect_after_close)
check("xread-block-client-killed-then-resume", killed_while_blocked)
check("xread-block-wakes-on-xadd", block_wakes)
check("history-whole-in-order", whole_history)
if ours:  # redis-server has no channel history: PUBLISH appends nothing there
    check("publish-appends-subscribe-and-xread-agree", publish_and_subscribe_agree)
if ours:
    r.config_set("channel-history", "")
else:
    r.delete(KEY)
print("history-py: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
