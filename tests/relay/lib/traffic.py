"""traffic.py -- sequence-numbered publishers, recording subscribers, the checker.

Publisher(name, route, channels, rate=100, command="PUBLISH") sends, from its
own thread, one message per channel every 1/rate s with payload
"<run>/<publisher>:<channel>:<seq>" (seq counts from 1 per channel). Commands are
pipelined: a reader thread per connection matches replies in order, so a
held reply (a relay waiting for its upstream) does not slow the rate. A seq
is "acked" when its reply is an integer; replies that are errors are counted
by error code; a seq whose connection died before the reply is "unknown".
route(channel) -> (host, port) picks the node; on a connection error, an error
reply or a reply older than reply_timeout the connection is dropped and the
route asked again (a cluster publisher's route re-reads the slot map). A seq
is never sent twice, so the stream can be checked for duplicates.

Subscriber(name, addrs, kind, names, resp=2) subscribes with SUBSCRIBE,
PSUBSCRIBE or SSUBSCRIBE, then records every message: per channel the list
of seqs in arrival order per (publisher, channel), every arrival in one list
(to compare the interleaving two relays delivered), plus pushes that are not messages (unsubscribe
notices) as events. With reconnect=True it reconnects on loss (to the next
address of addrs, or where a -MOVED points) and subscribes again, recording
the outage; otherwise a lost connection ends it and is recorded.

check(sub, pubs, ...) -> Result: for each channel the subscriber should see,
lost = acked seqs it never got, dups (must be 0), disorder = acked seqs that
arrived after a higher acked seq (must be 0), late = unacked seqs (their
publisher gave up on the reply) that arrived after a higher seq (reported); with an auditor (a Subscriber straight on an upstream node), gap =
seqs the auditor got and the subscriber did not (subscription-gap loss, as
opposed to publish loss).
"""
import collections
import fnmatch
import socket
import threading
import time

from . import procs
from .resp import Client, ConnectionClosed, Push, RespError, Timeout, encode, Parser


class _PubConn:
    def __init__(self, pub, addr):
        self.pub = pub
        self.addr = addr
        self.sock = socket.create_connection(addr, timeout=1.0)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(None)
        self.inflight = collections.deque()   # (channel, seq, sent_at)
        self.lock = threading.Lock()
        self.dead = False
        threading.Thread(target=self._reader, daemon=True).start()

    def send(self, channel, seq, payload):
        with self.lock:
            if self.dead:
                raise ConnectionClosed("dead")
            self.inflight.append((channel, seq, time.monotonic()))
        self.sock.sendall(encode(self.pub.command, channel, payload))

    def oldest_age(self):
        with self.lock:
            if not self.inflight:
                return 0.0
            return time.monotonic() - self.inflight[0][2]

    def kill(self):
        with self.lock:
            if self.dead:
                return
            self.dead = True
            left = list(self.inflight)
            self.inflight.clear()
        for ch, seq, _ in left:
            self.pub._unknown(ch, seq)
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def _reader(self):
        parser = Parser()
        while not self.dead:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            parser.feed(data)
            while True:
                v = parser.get()
                if v is Parser.NEED:
                    break
                with self.lock:
                    if not self.inflight:
                        continue
                    ch, seq, _ = self.inflight.popleft()
                self.pub._reply(ch, seq, v)
        self.kill()


class Publisher:
    def __init__(self, name, route, channels, rate=100, command="PUBLISH", reply_timeout=1.0,
                 run=None):
        self.name = name
        self.route = route
        self.channels = list(channels)
        self.rate = rate
        self.command = command
        self.reply_timeout = reply_timeout
        self.run = run or procs.RUN_ID
        self.lock = threading.Lock()
        self.seq = {c: 0 for c in self.channels}
        self.acked = {c: set() for c in self.channels}
        self.unknown = {c: set() for c in self.channels}
        self.failed = {c: set() for c in self.channels}
        self.errors = collections.Counter()
        self.reply_counts = collections.Counter()    # integer reply value -> times
        self.not_sent = 0
        self.conns = {}
        self.stop_ev = threading.Event()
        self.thread = None
        self.last_ack_at = 0.0

    def payload(self, channel, seq):
        return "%s/%s:%s:%d" % (self.run, self.name, channel, seq)

    def _reply(self, ch, seq, v):
        with self.lock:
            if isinstance(v, int) and not isinstance(v, bool):
                self.acked[ch].add(seq)
                self.reply_counts[v] += 1
                self.last_ack_at = time.monotonic()
            else:
                self.failed[ch].add(seq)
                code = v.code if isinstance(v, RespError) else repr(v)[:30]
                self.errors[code] += 1
        if isinstance(v, RespError):
            self._drop_route(ch)

    def _unknown(self, ch, seq):
        with self.lock:
            self.unknown[ch].add(seq)

    def _drop_route(self, ch):
        try:
            addr = self.route(ch)
        except Exception:  # noqa: BLE001
            return
        c = self.conns.pop(addr, None)
        if c:
            c.kill()

    def _conn(self, ch):
        addr = self.route(ch)
        c = self.conns.get(addr)
        if c is not None and (c.dead or c.oldest_age() > self.reply_timeout):
            c.kill()
            c = None
        if c is None:
            c = _PubConn(self, addr)
            self.conns[addr] = c
        return c

    def start(self):
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self):
        period = 1.0 / self.rate
        t_next = time.monotonic()
        while not self.stop_ev.is_set():
            for ch in self.channels:
                with self.lock:
                    self.seq[ch] += 1
                    seq = self.seq[ch]
                try:
                    self._conn(ch).send(ch, seq, self.payload(ch, seq))
                except Exception:  # noqa: BLE001 -- refused, reset, no route: not sent
                    with self.lock:
                        self.not_sent += 1
                        self.failed[ch].add(seq)
                    self._drop_route(ch)
            t_next += period
            delay = t_next - time.monotonic()
            if delay > 0:
                self.stop_ev.wait(delay)
            elif delay < -1.0:
                t_next = time.monotonic()       # fell far behind (a blocked connect): no burst

    def stop(self, drain_timeout=3.0):
        """Stops sending and waits for outstanding replies (up to drain_timeout)."""
        self.stop_ev.set()
        if self.thread:
            self.thread.join(5)
        deadline = time.monotonic() + drain_timeout
        while time.monotonic() < deadline and any(
                c.inflight and not c.dead for c in list(self.conns.values())):
            time.sleep(0.01)
        for c in list(self.conns.values()):
            c.kill()

    def totals(self):
        with self.lock:
            return {"sent": sum(self.seq.values()), "acked": sum(len(a) for a in self.acked.values()),
                    "unknown": sum(len(a) for a in self.unknown.values()),
                    "failed": sum(len(a) for a in self.failed.values()),
                    "errors": dict(self.errors)}

    def describe(self):
        t = self.totals()
        s = "%s sent %d acked %d" % (self.name, t["sent"], t["acked"])
        if t["unknown"]:
            s += " unknown %d" % t["unknown"]
        if t["failed"]:
            s += " failed %d" % t["failed"]
        if t["errors"]:
            s += " errors %s" % ",".join("%s=%d" % kv for kv in sorted(t["errors"].items()))
        return s


def fixed_route(host, port):
    return lambda ch: (host, port)


class Subscriber:
    def __init__(self, name, addrs, kind, names, resp=2, reconnect=False, password=None,
                 user=None, tls_ca=None, run=None, ping=None):
        if isinstance(addrs, tuple):
            addrs = [addrs]
        self.name = name
        self.addrs = list(addrs)
        self.kind = kind.upper()          # SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE
        self.names = list(names)
        self.resp = resp
        self.reconnect = reconnect
        self.auth = dict(password=password, user=user, tls_ca=tls_ca)
        self.run = run or procs.RUN_ID
        self.lock = threading.Lock()
        self.seqs = collections.defaultdict(list)    # (publisher, channel) -> seqs in arrival order
        self.arrivals = []                            # (publisher, channel, seq)
        self.events = []                              # (time, text)
        self.foreign = 0
        self.ready = threading.Event()
        self.closed = threading.Event()
        self.stop_ev = threading.Event()
        self.connects = 0
        self.outage_s = 0.0
        self.client = None
        self.addr_i = 0
        self.redirect = None
        self.thread = None
        self.ping = ping                  # (period s, timeout s): liveness PINGs, or None
        self.last_pong = 0.0

    def start(self, timeout=5.0):
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.ready.wait(0.02) and not self.closed.is_set() and \
                time.monotonic() < deadline:
            pass
        if not self.ready.is_set():
            raise AssertionError("subscriber %s not subscribed within %.0fs (%s)" %
                                 (self.name, timeout, self.events[-3:]))
        return self

    def event(self, text):
        with self.lock:
            self.events.append((time.monotonic(), text))

    def _subscribe(self):
        if self.redirect:
            addr, self.redirect = self.redirect, None
        else:
            addr = self.addrs[self.addr_i % len(self.addrs)]
        c = Client(addr[0], addr[1], resp=self.resp, timeout=2.0, **self.auth)
        c.send(self.kind, *self.names)
        want = len(self.names)
        got = 0
        while got < want:
            v = c.read(2.0)
            if isinstance(v, RespError):
                c.close()
                if v.code in ("MOVED", "ASK"):
                    h, _, p = v.args[0].split()[2].rpartition(":")
                    self.redirect = (h or addr[0], int(p))
                raise v
            if isinstance(v, list) and v and str(v[0]).lower() == self.kind.lower():
                got += 1
            else:
                self._record(v)
        self.client = c
        self.connects += 1
        return c

    def _record(self, v):
        if not isinstance(v, list) or not v:
            self.event("unexpected %r" % (v,))
            return
        kind = str(v[0]).lower()
        if kind in ("message", "smessage"):
            ch, payload = v[1], v[2]
        elif kind == "pmessage":
            ch, payload = v[2], v[3]
        elif kind == "pong" or v == ["PONG"]:
            self.last_pong = time.monotonic()
            return
        else:
            self.event("push %r" % (v,))
            if kind in ("unsubscribe", "punsubscribe", "sunsubscribe") and self.reconnect:
                # not asked for: the server dropped the subscription (a slot
                # that moved, a master turned replica); a cluster client
                # subscribes again, following the -MOVED it gets
                raise ConnectionClosed("server sent %s" % kind)
            return
        parts = str(payload).rsplit(":", 2)
        run, _, pub = parts[0].partition("/")
        if len(parts) != 3 or run != self.run or parts[1] != ch or not parts[2].isdigit():
            with self.lock:
                self.foreign += 1
            return
        seq = int(parts[2])
        with self.lock:
            self.seqs[(pub, ch)].append(seq)
            self.arrivals.append((pub, ch, seq))

    def _run(self):
        down_since = None
        while not self.stop_ev.is_set():
            try:
                c = self._subscribe()
            except Exception as e:  # noqa: BLE001
                if not self.reconnect:
                    self.event("subscribe failed: %s" % e)
                    self.closed.set()
                    return
                if down_since is None:
                    down_since = time.monotonic()
                if not self.redirect:
                    self.addr_i += 1
                self.stop_ev.wait(0.05)
                continue
            if down_since is not None:
                self.outage_s += time.monotonic() - down_since
                self.event("resubscribed after %.3fs" % (time.monotonic() - down_since))
                down_since = None
            self.ready.set()
            self.last_pong = last_ping = time.monotonic()
            try:
                while not self.stop_ev.is_set():
                    now = time.monotonic()
                    if self.ping and now - last_ping >= self.ping[0]:
                        c.send("PING")
                        last_ping = now
                    if self.ping and now - self.last_pong > self.ping[1]:
                        raise Timeout("no PONG for %.1fs" % (now - self.last_pong))
                    try:
                        v = c.read(0.05 if self.ping else 0.2)
                    except Timeout:
                        continue
                    if v == "PONG":
                        self.last_pong = time.monotonic()
                        continue
                    self._record(v)
            except Exception as e:  # noqa: BLE001 -- closed, reset
                if self.stop_ev.is_set():
                    break
                self.event("connection lost: %s" % e)
                down_since = time.monotonic()
                c.close()
                if not self.redirect:
                    self.addr_i += 1          # try the next node first
                if not self.reconnect:
                    self.closed.set()
                    return
        if self.client:
            self.client.close()

    def stop(self):
        self.stop_ev.set()
        if self.thread:
            self.thread.join(3)
        if self.client:
            self.client.close()

    def count(self, ch=None):
        with self.lock:
            if ch is None:
                return len(self.arrivals)
            return sum(len(v) for k, v in self.seqs.items() if k[1] == ch)

    def got(self, pub, ch):
        with self.lock:
            return list(self.seqs.get((pub.name, ch), ()))

    def expects(self, ch, command="PUBLISH"):
        """Whether a message sent with command (PUBLISH or SPUBLISH) on ch
        reaches this subscriber: shard messages go to SSUBSCRIBE only."""
        if (command.upper() == "SPUBLISH") != (self.kind == "SSUBSCRIBE"):
            return False
        if self.kind == "PSUBSCRIBE":
            return any(fnmatch.fnmatchcase(ch, p) for p in self.names)
        return ch in self.names

    def label(self):
        return "%s %s resp%d" % (self.name, self.kind.lower(), self.resp)


class Result:
    def __init__(self, sub):
        self.sub = sub
        self.lost = 0
        self.dups = 0
        self.disorder = 0
        self.late = 0
        self.gap = None
        self.received = 0
        self.acked = 0
        self.details = []

    def ok(self, max_lost=0):
        return self.dups == 0 and self.disorder == 0 and self.lost <= max_lost and \
            self.sub.foreign == 0

    def text(self):
        s = "%s: lost %d/%d" % (self.sub.label(), self.lost, self.acked)
        if self.gap is not None:
            s += " gap %d" % self.gap
        for k in ("dups", "disorder", "late"):
            if getattr(self, k):
                s += " %s %d" % (k, getattr(self, k))
        if self.sub.foreign:
            s += " foreign %d" % self.sub.foreign
        if self.details:
            s += " (" + "; ".join(self.details[:3]) + ")"
        return s


def wait_drained(subs, pubs, timeout=3.0):
    """After the publishers stopped: waits until each subscriber got the last
    acked seq of each channel it expects, or until timeout (loss is then
    counted by check())."""
    deadline = time.monotonic() + timeout
    for s in subs:
        for p in pubs:
            for ch in p.channels:
                if not s.expects(ch, p.command) or not p.acked[ch]:
                    continue
                top = max(p.acked[ch])
                while time.monotonic() < deadline and top not in s.got(p, ch):
                    time.sleep(0.01)


def check(sub, pubs, auditor=None, since=None):
    """since: {(publisher name, channel): seq} -- only seqs from there on count
    as lost (the part of a run the caller holds the relay to)."""
    r = Result(sub)
    for p in pubs:
        for ch in p.channels:
            if not sub.expects(ch, p.command):
                continue
            got = sub.got(p, ch)
            got_set = set(got)
            acked = p.acked[ch]
            if since is not None:
                floor = since.get((p.name, ch), 0)
                acked = {x for x in acked if x >= floor}
            r.acked += len(acked)
            r.received += len(got)
            missing = sorted(acked - got_set)
            r.lost += len(missing)
            if missing:
                r.details.append("%s %s missing %s" % (p.name, ch, _ranges(missing)))
            r.dups += len(got) - len(got_set)
            top = 0
            for x in got:
                if x < top:
                    if x in p.acked[ch]:
                        r.disorder += 1
                    else:
                        r.late += 1
                top = max(top, x)
            if auditor is not None and auditor.expects(ch, p.command):
                a = set(auditor.got(p, ch))
                if since is not None:
                    a = {x for x in a if x >= since.get((p.name, ch), 0)}
                r.gap = (r.gap or 0) + len(a - got_set)
    return r


def mark(pubs):
    """The next seq each publisher will send, per channel (for check(since=))."""
    out = {}
    for p in pubs:
        with p.lock:
            for ch in p.channels:
                out[(p.name, ch)] = p.seq[ch] + 1
    return out


def _ranges(seqs):
    out = []
    start = prev = seqs[0]
    for s in seqs[1:] + [None]:
        if s is not None and s == prev + 1:
            prev = s
            continue
        out.append("%d" % start if start == prev else "%d-%d" % (start, prev))
        if s is not None:
            start = prev = s
    text = ",".join(out[:8])
    return text + (",..." if len(out) > 8 else "")
