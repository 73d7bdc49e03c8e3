#!/usr/bin/python3
"""Django Channels over the server: driver.py HOST PORT

A chat application as Django Channels runs it, with
channels_redis.pubsub.RedisPubSubChannelLayer as the channel layer. Two
layer aliases with their own connections stand for two ASGI worker
processes; websocket consumers (AsyncJsonWebsocketConsumer behind a
URLRouter) are driven through asgiref's ApplicationCommunicator, as
Channels' own tests do, without a web server.

Checks: consumers on both workers group_add their channels on connect (one
server subscription per worker and group); group_send from a consumer and
from outside any consumer (a view or a management command) reaches every
member of the group once, in order, and nobody else; send() to one
consumer's channel reaches that consumer only; new_channel/receive as a
background worker uses them, with msgpack payloads; a consumer leaving
(group_discard) stops its deliveries and the last one out unsubscribes;
after flush nothing of the run is subscribed.

Prints `# version:` lines, `ok - NAME` / `not ok - NAME: reason` per check
and last `channels: N passed, M failed`; exits 1 on any failure.
"""

import asyncio
import os
import sys
import time
import traceback

HOST = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 6379
DEADLINE = time.monotonic() + 100
CHECK_TIMEOUT = 15.0
PREFIX = "compat-chan-%d" % os.getpid()

passed = 0
failed = 0


def ok(name):
    global passed
    passed += 1
    print("ok - %s" % name, flush=True)


def not_ok(name, reason):
    global failed
    failed += 1
    reason = " ".join(str(reason).split())[:400]
    print("not ok - %s: %s" % (name, reason), flush=True)


def finish():
    print("channels: %d passed, %d failed" % (passed, failed), flush=True)
    sys.exit(1 if failed else 0)


try:
    import django
    from django.conf import settings
    import channels
    import channels_redis
    import redis
    import msgpack
except ImportError as e:
    not_ok("import", "%s (Debian package python3-channels-redis)" % e)
    finish()

settings.configure(
    DEBUG=False,
    INSTALLED_APPS=["channels"],
    CHANNEL_LAYERS={
        alias: {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": ["redis://%s:%d/0" % (HOST, PORT)], "prefix": PREFIX},
        }
        for alias in ("default", "worker2")
    },
)
django.setup()

from django.urls import path  # noqa: E402  (needs the settings above)
from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from channels.routing import URLRouter  # noqa: E402
from asgiref.testing import ApplicationCommunicator  # noqa: E402


class ChatConsumer(AsyncJsonWebsocketConsumer):
    """Joins the room's group on connect, tells the client its channel name,
    relays what the client says to the group, and leaves on disconnect."""

    async def connect(self):
        self.group = "room-" + self.scope["url_route"]["kwargs"]["room"]
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"hello": self.channel_name})

    async def receive_json(self, content, **kwargs):
        await self.channel_layer.group_send(
            self.group, {"type": "chat.message", "text": content["say"], "n": content["n"]})

    async def chat_message(self, event):
        await self.send_json({"text": event["text"], "n": event["n"]})

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)


class Worker2ChatConsumer(ChatConsumer):
    channel_layer_alias = "worker2"


apps = {
    "default": URLRouter([path("ws/chat/<room>/", ChatConsumer.as_asgi())]),
    "worker2": URLRouter([path("ws/chat/<room>/", Worker2ChatConsumer.as_asgi())]),
}

admin = redis.Redis(host=HOST, port=PORT, socket_timeout=10)


def numsub(channel):
    return admin.pubsub_numsub(channel)[0][1]


async def poll_until(fn, what, timeout=CHECK_TIMEOUT):
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("%s: not reached within %.0f s" % (what, timeout))
        await asyncio.sleep(0.02)


def eq(actual, expected, what):
    if actual != expected:
        raise AssertionError("%s: expected %r, got %r" % (what, expected, actual))


class Client:
    """One websocket client of one worker's application."""

    def __init__(self, name, worker, room):
        self.name = name
        self.worker = worker
        self.room = room
        path_ = "/ws/chat/%s/" % room
        self.comm = ApplicationCommunicator(apps[worker], {
            "type": "websocket", "path": path_, "raw_path": path_.encode(),
            "query_string": b"", "headers": [], "subprotocols": [],
            "client": ["127.0.0.1", 50000], "server": ["127.0.0.1", 80],
        })
        self.channel = None

    async def connect(self):
        await self.comm.send_input({"type": "websocket.connect"})
        m = await self.comm.receive_output(CHECK_TIMEOUT)
        eq(m["type"], "websocket.accept", "%s: reply to connect" % self.name)
        self.channel = (await self.receive())["hello"]

    async def receive(self, timeout=CHECK_TIMEOUT):
        import json
        m = await self.comm.receive_output(timeout)
        eq(m["type"], "websocket.send", "%s: event type" % self.name)
        return json.loads(m["text"])

    async def say(self, text, n):
        import json
        await self.comm.send_input({"type": "websocket.receive", "text": json.dumps({"say": text, "n": n})})

    async def nothing_pending(self):
        return await self.comm.receive_nothing(timeout=0.05, interval=0.01)

    async def disconnect(self):
        await self.comm.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.comm.wait(CHECK_TIMEOUT)


async def check(name, coro_fn):
    if time.monotonic() > DEADLINE:
        not_ok(name, "not run: the driver's 100 s budget is spent")
        return False
    try:
        await asyncio.wait_for(coro_fn(), CHECK_TIMEOUT * 2)
        ok(name)
        return True
    except Exception as e:  # noqa: BLE001 -- every failure is a not-ok line
        not_ok(name, "%s: %s" % (type(e).__name__, e) if str(e) else traceback.format_exc())
        return False


async def main():
    print("# version: channels_redis %s RESP2 (RedisPubSubChannelLayer; Django Channels %s, "
          "Django %s, redis-py %s)" % (channels_redis.__version__, channels.__version__,
                                        django.__version__, redis.__version__), flush=True)
    group_ch = lambda g: "%s__group__room-%s" % (PREFIX, g)  # noqa: E731
    layer1 = get_channel_layer("default")
    layer2 = get_channel_layer("worker2")
    c = {
        "a1": Client("a1", "default", "lobby"),
        "a2": Client("a2", "default", "lobby"),
        "b1": Client("b1", "worker2", "lobby"),
        "b2": Client("b2", "worker2", "other"),
    }

    async def expect_all(members, n_values, what):
        for name in members:
            got = [(await c[name].receive())["n"] for _ in n_values]
            eq(got, list(n_values), "%s: %s" % (what, name))

    async def expect_silent(names):
        for name in names:
            if not await c[name].nothing_pending():
                raise AssertionError("%s received something: %r" % (name, await c[name].receive()))

    async def connect_all():
        for cl in c.values():
            await cl.connect()
        # One subscription per worker and group: both workers hold lobby.
        await poll_until(lambda: numsub(group_ch("lobby")) == 2, "NUMSUB lobby group = 2")
        await poll_until(lambda: numsub(group_ch("other")) == 1, "NUMSUB other group = 1")
        for cl in c.values():
            await poll_until(lambda: numsub(cl.channel) == 1, "NUMSUB %s = 1" % cl.channel)

    if not await check("consumers on two workers connect and group_add", connect_all):
        finish()

    async def group_send_from_consumer():
        for n in range(20):
            await c["a1"].say("hi %d é" % n, n)
        await expect_all(["a1", "a2", "b1"], range(20), "20 group messages in order")
        await expect_silent(["b2"])
    await check("group_send from a consumer reaches the group on both workers, in order", group_send_from_consumer)

    async def group_send_outside():
        await layer2.group_send("room-lobby", {"type": "chat.message", "text": "from a view", "n": 100})
        await layer2.group_send("room-other", {"type": "chat.message", "text": "to other", "n": 101})
        await expect_all(["a1", "a2", "b1"], [100], "lobby")
        await expect_all(["b2"], [101], "other")
        await expect_silent(["a1", "a2", "b1"])
    await check("group_send from outside a consumer, to two groups", group_send_outside)

    async def send_single():
        await layer2.send(c["a2"].channel, {"type": "chat.message", "text": "just you", "n": 200})
        await layer1.send(c["b2"].channel, {"type": "chat.message", "text": "and you", "n": 201})
        await expect_all(["a2"], [200], "direct")
        await expect_all(["b2"], [201], "direct")
        await expect_silent(["a1", "b1"])
    await check("send to one consumer's channel reaches that consumer only", send_single)

    async def worker_receive():
        ch = await layer1.new_channel()
        await poll_until(lambda: numsub(ch) == 1, "NUMSUB new channel = 1")
        payloads = [{"type": "job", "i": i, "blob": bytes(range(256)), "s": "ü" * i} for i in range(5)]
        for p in payloads:
            await layer2.send(ch, p)
        got = [await asyncio.wait_for(layer1.receive(ch), CHECK_TIMEOUT) for _ in payloads]
        eq(got, payloads, "received payloads")
    await check("new_channel and receive, msgpack payloads with bytes, in order", worker_receive)

    async def discard():
        await c["b1"].disconnect()
        # worker2 had b1 alone in lobby: its group_discard unsubscribes.
        await poll_until(lambda: numsub(group_ch("lobby")) == 1, "NUMSUB lobby group = 1")
        await layer2.group_send("room-lobby", {"type": "chat.message", "text": "after", "n": 300})
        await expect_all(["a1", "a2"], [300], "after b1 left")
        await c["a2"].disconnect()
        eq(numsub(group_ch("lobby")), 1, "NUMSUB lobby group while a1 is still in it")
        await layer1.group_send("room-lobby", {"type": "chat.message", "text": "only a1", "n": 301})
        await expect_all(["a1"], [301], "after a2 left")
        await expect_silent(["b2"])
        await c["a1"].disconnect()
        await poll_until(lambda: numsub(group_ch("lobby")) == 0, "NUMSUB lobby group = 0")
        await c["b2"].disconnect()
    await check("group_discard on disconnect; the last one out unsubscribes the group", discard)

    async def cleanup():
        await layer1.flush()
        await layer2.flush()
        await poll_until(lambda: admin.pubsub_channels(PREFIX + "*") == [], "no channels of the run left")
    await check("after flush nothing of the run is subscribed", cleanup)


try:
    asyncio.run(main())
except SystemExit:
    raise
except Exception:  # noqa: BLE001
    not_ok("driver", traceback.format_exc())
finish()
