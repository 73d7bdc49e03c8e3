"""scenarios_standalone.py -- relays over one standalone upstream (redis-server or
our own node): the basics, trees, restarts, AUTH, TLS, a misbehaving upstream
link (through the fault proxy), held publishes and fan-in.

Waits: every "the relay holds it upstream now" is wait_relay() on INFO
upstream (status up, pending 0, the expected counts); every "messages flow
again" is wait_count(). Loss is counted by the checker against the
publishers' acked seqs; where a fault makes some loss legitimate, only the
seqs published after the relay reported itself up again are held to zero
(check(since=mark)).
"""
import os
import signal
import subprocess
import time

from lib import procs
from lib.resp import Client, ConnectionClosed, RespError, parse_info
from lib.suite import Fail, scenario
from lib.traffic import mark
from lib.wait import counter, relay_info, relay_state, wait_for, wait_relay

H = procs.HOST


def upstream(t, kind, conf=()):
    return t.redis("up", conf) if kind == "redis" else t.ours("up", conf)


def numsub(server, ch, **kw):
    c = Client(H, server.port, **kw)
    try:
        return c.call("PUBSUB", "NUMSUB", ch)[1]
    finally:
        c.close()


def basics(t, kind):
    up = upstream(t, kind)
    r1 = t.relay([up])
    r2 = t.relay([up], on_cmdline=True)          # --upstream on the command line
    subs = [t.sub("r1a", r1, "subscribe", ["ch1"], resp=2),
            t.sub("r1b", r1, "subscribe", ["ch1", "ch2"], resp=3),
            t.sub("r1p", r1, "psubscribe", ["ch*"], resp=3),
            t.sub("r2a", r2, "subscribe", ["ch1"], resp=3),
            t.sub("r2p", r2, "psubscribe", ["ch*"], resp=2)]
    wait_relay(r1.port, channels=2, patterns=1)
    wait_relay(r2.port, channels=1, patterns=1)
    info = relay_info(r1.port)
    t.check(info.get("upstream_mode") == "standalone", "upstream_mode %s" % info.get("upstream_mode"))
    # PUBSUB on a relay counts its own clients; the upstream counts one per relay
    t.check(numsub(r1, "ch1") == 2, "NUMSUB ch1 on r1 = %s, want 2 (local)" % numsub(r1, "ch1"))
    t.check(numsub(r2, "ch1") == 1, "NUMSUB ch1 on r2 = %s, want 1" % numsub(r2, "ch1"))
    t.check(numsub(up, "ch1") == 2, "NUMSUB ch1 upstream = %s, want 2 (one per relay)" % numsub(up, "ch1"))
    # PUBLISH through a relay answers the upstream's count: 2 relays x (channel + pattern)
    probe = "%s/probe:ch1:0" % procs.RUN_ID
    direct = Client(H, up.port).call("PUBLISH", "ch1", probe)
    via = Client(H, r1.port).call("PUBLISH", "ch1", probe)
    t.check(direct == 4 and via == 4, "PUBLISH ch1 counts: upstream %s, via relay %s, want 4" % (direct, via))
    # traffic: publishers through each relay on ch1 (ordering across relays), and ch2
    pubs = [t.pub("via1", r1, ["ch1", "ch2"]).start(), t.pub("via2", r2, ["ch1"]).start(),
            t.pub("direct", up, ["ch2"]).start()]
    t.wait_count(subs, 100)
    t.run_for(1.0)
    t.loss("%s upstream" % kind, subs, pubs)
    # the interleaving of ch1 is the upstream's, the same on both relays
    seq1 = [a for a in subs[0].arrivals if a[1] == "ch1"]
    seq2 = [a for a in subs[3].arrivals if a[1] == "ch1"]
    t.check(seq1 == seq2, "ch1 order differs between r1 and r2 (%d vs %d arrivals, first difference at %s)"
            % (len(seq1), len(seq2), next((i for i, (a, b) in enumerate(zip(seq1, seq2)) if a != b), "end")))
    # the last local subscriber leaving unsubscribes upstream
    for s in subs[3:]:
        s.stop()
    wait_relay(r2.port, channels=0, patterns=0)
    wait_for(lambda: numsub(up, "ch1") == 1, 5, "upstream NUMSUB ch1 back to 1")


@scenario("standalone-redis-basic")
def standalone_redis_basic(t):
    basics(t, "redis")


@scenario("standalone-ours-basic")
def standalone_ours_basic(t):
    basics(t, "ours")


@scenario("relay-tree")
def relay_tree(t):
    up = t.redis("up")
    r1 = t.relay([up], base="mid")
    r2 = t.relay([r1], base="leaf")
    subs = [t.sub("leaf-s", r2, "subscribe", ["t1"], resp=2),
            t.sub("leaf-p", r2, "psubscribe", ["t*"], resp=3),
            t.sub("mid-s", r1, "subscribe", ["t1"], resp=3)]
    wait_relay(r2.port, channels=1, patterns=1)
    wait_relay(r1.port, channels=1, patterns=1)
    t.check(numsub(up, "t1") == 1, "upstream NUMSUB t1 = %s, want 1 (the mid relay)" % numsub(up, "t1"))
    t.check(numsub(r1, "t1") == 2, "mid relay NUMSUB t1 = %s, want 2 (its client + the leaf)"
            % numsub(r1, "t1"))
    pubs = [t.pub("direct", up, ["t1"]).start(), t.pub("via-leaf", r2, ["t2"]).start()]
    t.wait_count(subs[:2], 100)
    t.run_for(1.0)
    t.loss("tree", subs, pubs)


@scenario("upstream-restart")
def upstream_restart(t):
    up = t.redis("up")
    r = t.relay([up])
    subs = [t.sub("s2", r, "subscribe", ["u1"], resp=2), t.sub("s3", r, "subscribe", ["u1"], resp=3),
            t.sub("p2", r, "psubscribe", ["u*"], resp=2)]
    wait_relay(r.port, channels=1, patterns=1)
    rec0 = counter(r.port, "upstream_reconnects")
    pub = t.pub("direct", up, ["u1"]).start()
    t.wait_count(subs, 30)
    up.kill(signal.SIGKILL)
    wait_relay(r.port, status="down", timeout=5)
    up.start()
    wait_relay(r.port, channels=1, patterns=1, extra=lambda i: int(i["upstream_reconnects"]) > rec0)
    since = mark([pub])
    t.wait_count(subs, 50)
    for s in subs:
        t.check(not s.closed.is_set() and s.connects == 1, "%s was disconnected by the upstream restart: %s"
                % (s.label(), s.events[-2:]))
    res = t.loss("upstream-restart (after relay up)", subs, [pub], since=since)
    t.note("upstream-restart: lost while reconnecting: %s" % "/".join(
        str(len(pub.acked["u1"] - set(s.got(pub, "u1")))) for s in subs))
    return res


@scenario("relay-restart")
def relay_restart(t):
    up = t.redis("up")
    r = t.relay([up])
    addrs = [(H, r.port)]
    subs = [t.sub("s2", None, "subscribe", ["v1"], resp=2, addrs=addrs, reconnect=True),
            t.sub("s3", None, "psubscribe", ["v*"], resp=3, addrs=addrs, reconnect=True)]
    wait_relay(r.port, channels=1, patterns=1)
    pub = t.pub("direct", up, ["v1"]).start()
    t.wait_count(subs, 30)
    r.kill(signal.SIGKILL)
    r.start()
    wait_for(lambda: all(s.connects >= 2 for s in subs), 10, "subscribers reconnected to the restarted relay")
    wait_relay(r.port, channels=1, patterns=1)
    since = mark([pub])
    t.wait_count(subs, 50)
    t.loss("relay-restart (after resubscribe)", subs, [pub], since=since)
    t.note("relay-restart: outage seen by clients %s s" % "/".join("%.2f" % s.outage_s for s in subs))


@scenario("upstream-auth-requirepass")
def upstream_auth_requirepass(t):
    up = t.redis("up", ["requirepass s3cret"])
    bad = t.relay([up], base="badpw", conf=["upstream-password wrong"])
    r = t.relay([up], conf=["upstream-password s3cret"])
    subs = [t.sub("s", r, "subscribe", ["a1"], resp=2), t.sub("p", r, "psubscribe", ["a*"], resp=3)]
    t.sub("bad", bad, "subscribe", ["a1"])
    wait_relay(r.port, channels=1, patterns=1)
    # the relay with the wrong password got WRONGPASS and says so, its clients still served
    wait_for(lambda: "errorstat_WRONGPASS" in Client(H, up.port, password="s3cret").call("INFO", "errorstats"),
             5, "upstream answered WRONGPASS to the bad relay")
    st = relay_info(bad.port)
    t.check(st.get("upstream_status") != "up", "relay with a wrong password says %s" % relay_state(st))
    t.check(Client(H, bad.port).call("PING") == "PONG", "relay with a wrong password does not answer PING")
    pub = t.pub("via", r, ["a1"]).start()
    t.wait_count(subs, 50)
    t.loss("requirepass", subs, [pub])


@scenario("upstream-auth-acl-user")
def upstream_auth_acl_user(t):
    up = t.redis("up", ["user default off", "user relayu on >relaypw ~* &* +@all"])
    r = t.relay([up], conf=["upstream-user relayu", "upstream-password relaypw"])
    subs = [t.sub("s", r, "subscribe", ["b1"], resp=3), t.sub("ss", r, "ssubscribe", ["b2"], resp=2)]
    wait_relay(r.port, channels=1, shard_channels=1)
    lst = Client(H, up.port, user="relayu", password="relaypw").call("CLIENT", "LIST")
    users = {f.split("=", 1)[1] for line in lst.splitlines() for f in line.split() if f.startswith("user=")}
    t.check(users == {"relayu"}, "upstream clients' users: %s, want only relayu" % users)
    pubs = [t.pub("via", r, ["b1"]).start(), t.pub("svia", r, ["b2"], command="SPUBLISH").start()]
    t.wait_count(subs, 50)
    t.loss("acl-user", subs, pubs)


def tls_dir():
    d = os.path.join(procs.TMP, "tls")
    if not os.path.exists(os.path.join(d, "ca.crt")):
        subprocess.run(["sh", os.path.join(procs.ROOT, "utils", "gen-test-certs.sh"), d], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return d


@scenario("upstream-tls")
def upstream_tls(t):
    d = tls_dir()
    tport = procs.free_port()
    up = t.redis("up", ["tls-cert-file %s/server.crt" % d, "tls-key-file %s/server.key" % d,
                        "tls-ca-cert-file %s/ca.crt" % d, "tls-auth-clients yes"],
                 tls_port=tport, ready_tls_ca=None)
    r = t.relay(["127.0.0.1:%d" % tport], conf=[
        "upstream-tls yes", "upstream-tls-ca-cert-file %s/ca.crt" % d,
        "upstream-tls-cert-file %s/client.crt" % d, "upstream-tls-key-file %s/client.key" % d,
        "upstream-tls-sni localhost"])
    subs = [t.sub("s", r, "subscribe", ["c1"], resp=2), t.sub("p", r, "psubscribe", ["c*"], resp=3)]
    wait_relay(r.port, channels=1, patterns=1)
    t.check(numsub(up, "c1") == 1, "upstream NUMSUB c1 = %s over TLS" % numsub(up, "c1"))
    pubs = [t.pub("via", r, ["c1"]).start(), t.pub("direct", up, ["c2"]).start()]
    t.wait_count(subs[1:], 60)
    t.loss("tls", subs, pubs)
    # a relay trusting another CA must not come up
    bad = t.relay(["127.0.0.1:%d" % tport], base="badca", conf=[
        "upstream-tls yes", "upstream-tls-ca-cert-file %s/other-ca.crt" % d,
        "upstream-tls-cert-file %s/client.crt" % d, "upstream-tls-key-file %s/client.key" % d])
    t.sub("bad", bad, "subscribe", ["c1"])
    wait_for(lambda: counter(bad.port, "upstream_reconnects") >= 1 or
             relay_info(bad.port).get("upstream_status") == "down", 5, "untrusted upstream refused")
    st = relay_info(bad.port)
    t.check(st.get("upstream_status") != "up", "relay trusting another CA says %s" % relay_state(st))


def link_fault(t, name, fault, ping_conf=()):
    # fault(px, up, r): px the proxy, up the upstream, r the relay
    """A relay behind the fault proxy; fault(px) breaks the link; the relay's
    clients must stay connected and answered, the relay must reconnect and
    deliver again."""
    up = t.redis("up")
    px = t.proxy(up)
    r = t.relay(["127.0.0.1:%d" % px.port], conf=list(ping_conf))
    subs = [t.sub("s2", r, "subscribe", ["f1"], resp=2), t.sub("s3", r, "psubscribe", ["f*"], resp=3),
            t.sub("ss", r, "ssubscribe", ["f2"], resp=2)]
    idle = Client(H, r.port)
    wait_relay(r.port, channels=1, patterns=1, shard_channels=1)
    rec0 = counter(r.port, "upstream_reconnects")
    acc0 = px.accepted
    pubs = [t.pub("direct", up, ["f1"]).start(),
            t.pub("sdirect", up, ["f2"], command="SPUBLISH").start()]
    t.wait_count(subs, 30)
    t0 = time.monotonic()
    fault(px, up, r)
    wait_relay(r.port, channels=1, patterns=1, shard_channels=1, timeout=10,
               extra=lambda i: int(i["upstream_reconnects"]) > rec0 and px.accepted > acc0)
    took = time.monotonic() - t0
    since = mark(pubs)
    t.check(idle.call("PING", timeout=2.0) == "PONG", "PING on the relay not answered after the fault")
    t.wait_count(subs, 50)
    for s in subs:
        t.check(not s.closed.is_set(), "%s disconnected by an upstream fault: %s" % (s.label(), s.events[-2:]))
    t.loss(name + " (after relay up)", subs, pubs, since=since)
    t.note("%s: relay up again after %.2fs, %d upstream connection(s)" % (name, took, px.accepted - acc0))


def big_publish(up):
    Client(H, up.port).call("PUBLISH", "f1", "x" * 2000)


@scenario("upstream-garbage")
def upstream_garbage(t):
    link_fault(t, "garbage", lambda px, up, r: px.inject(b"\x00\xff:notanumber\r\n$-7\r\n*x\r\n"))


@scenario("upstream-close-midframe")
def upstream_close_midframe(t):
    def fault(px, up, r):
        px.cut_after(7)
        big_publish(up)
    link_fault(t, "close-midframe", fault)


@scenario("upstream-reset")
def upstream_reset(t):
    link_fault(t, "reset", lambda px, up, r: px.reset_all())


@scenario("upstream-fin")
def upstream_fin(t):
    link_fault(t, "fin", lambda px, up, r: px.drop_all())


@scenario("upstream-frozen")
def upstream_frozen(t):
    """A link that stays open and silent: only the relay's PINGs can tell."""
    def fault(px, up, r):
        px.freeze()
        t0 = time.monotonic()
        wait_relay(r.port, status="down", timeout=6)
        t.note("frozen: relay noticed after %.2fs (upstream-ping-timeout 1500)" % (time.monotonic() - t0))
        px.reset_all()          # the frozen connections; the relay's next one must go through
        px.thaw()
    link_fault(t, "frozen", fault)


@scenario("publish-held")
def publish_held(t):
    """Publishes through a relay whose upstream is away are held and delivered
    once when it is back (within upstream-hold-ms)."""
    up = t.redis("up")
    r = t.relay([up], conf=["upstream-hold-ms 8000"])
    subs = [t.sub("s2", r, "subscribe", ["h1"], resp=2), t.sub("s3", r, "subscribe", ["h1"], resp=3)]
    wait_relay(r.port, channels=1)
    pub = t.pub("via", r, ["h1"], reply_timeout=30).start()
    t.wait_count(subs, 30)
    up.kill(signal.SIGKILL)
    wait_for(lambda: counter(r.port, "upstream_publish_held_now") >= 50, 5, "50 publishes held")
    held = counter(r.port, "upstream_publish_held_now")
    up.start()
    wait_relay(r.port, channels=1, extra=lambda i: i["upstream_publish_held_now"] == "0")
    t.wait_count(subs, 50)
    try:
        res = t.loss("publish-held", subs, [pub])
    finally:
        t.note("publish-held: PUBLISH replies (receivers: times) %s" % dict(pub.reply_counts))
    tot = pub.totals()
    t.note("publish-held: %d held at the restart, %d answered -UPSTREAMDOWN (in flight when the link died)"
           % (held, tot["errors"].get("UPSTREAMDOWN", 0)))
    t.check(tot["unknown"] == 0, "%d publishes never answered" % tot["unknown"])
    t.check(set(tot["errors"]) <= {"UPSTREAMDOWN"}, "publish errors: %s" % tot["errors"])
    t.check(tot["errors"].get("UPSTREAMDOWN", 0) <= 5, "too many UPSTREAMDOWN: %s" % tot["errors"])
    return res


@scenario("publish-hold-expires")
def publish_hold_expires(t):
    up = t.redis("up")
    r = t.relay([up], conf=["upstream-hold-ms 300"])
    wait_relay(r.port)
    up.kill(signal.SIGKILL)
    wait_relay(r.port, status="down", timeout=5)
    c = Client(H, r.port)
    t0 = time.monotonic()
    v = c.call_noraise("PUBLISH", "h2", "x", timeout=5)
    took = time.monotonic() - t0
    t.check(isinstance(v, RespError) and v.code == "UPSTREAMDOWN", "PUBLISH with no upstream: %r" % (v,))
    t.check(0.25 <= took <= 2.0, "UPSTREAMDOWN after %.2fs with upstream-hold-ms 300" % took)
    t.check(counter(r.port, "upstream_publish_failed") >= 1, "upstream_publish_failed not counted")
    t.check(c.call("PING") == "PONG", "relay connection unusable after UPSTREAMDOWN")
    up.start()
    wait_relay(r.port)
    v = c.call_noraise("PUBLISH", "h2", "x", timeout=5)
    t.check(v == 0, "PUBLISH after the upstream is back: %r" % (v,))
    t.note("hold-expires: -UPSTREAMDOWN after %.2fs" % took)


@scenario("fanin-1000")
def fanin_1000(t):
    up = t.redis("up")
    r = t.relay([up])
    chans = ["fan%d" % i for i in range(5)]
    conns = []
    for i in range(200):
        c = Client(H, r.port, resp=3 if i % 2 else 2)
        c.send("SUBSCRIBE", *chans)
        conns.append(c)
    for c in conns:
        for _ in chans:
            c.read_reply(5) if c.resp == 2 else c.read(5)
    one = Client(H, r.port)
    many = ["many%d" % i for i in range(1000)]
    one.send("SUBSCRIBE", *many)
    for _ in many:
        one.read(5)
    wait_relay(r.port, channels=1005, timeout=15)
    info = parse_info(Client(H, up.port).call("INFO", "commandstats"))
    calls = int(info.get("cmdstat_subscribe", "calls=0").split(",")[0].split("=")[1])
    t.note("fanin: 2000 local subscriptions (200 clients x 5 channels + 1 x 1000), "
           "upstream SUBSCRIBE calls %d" % calls)
    t.check(calls < 20, "upstream got %d SUBSCRIBE commands for 1005 channels" % calls)
    t.check(numsub(r, "fan3") == 200, "relay NUMSUB fan3 = %s" % numsub(r, "fan3"))
    t.check(numsub(up, "fan3") == 1, "upstream NUMSUB fan3 = %s" % numsub(up, "fan3"))
    n = Client(H, up.port).call("PUBLISH", "fan3", "hello")
    t.check(n == 1, "upstream PUBLISH fan3 reached %s" % n)
    for c in conns:
        while True:
            v = c.read(5)
            if isinstance(v, list) and v[0] == "message":
                t.check(v[1:] == ["fan3", "hello"], "got %r" % (v,))
                break
    for c in conns + [one]:
        c.close()
    wait_relay(r.port, channels=0, timeout=10)
    info = parse_info(Client(H, up.port).call("INFO", "commandstats"))
    ucalls = int(info.get("cmdstat_unsubscribe", "calls=0").split(",")[0].split("=")[1])
    t.note("fanin: upstream UNSUBSCRIBE calls %d after every client left" % ucalls)
    t.check(ucalls < 20, "upstream got %d UNSUBSCRIBE commands" % ucalls)
    t.check(numsub(up, "fan3") == 0, "upstream still holds fan3")


@scenario("relay-local-acl")
def relay_local_acl(t):
    """Local ACL rules apply before anything is forwarded: a user without the
    channel gets NOPERM from the relay and the upstream never sees the
    command; the relay's own upstream credentials are not the client's."""
    up = t.redis("up")
    r = t.relay([up], conf=["user alice on >pw resetchannels &news* +@all"])
    wait_relay(r.port, timeout=15)
    a = Client(H, r.port, user="alice", password="pw")
    t.check(a.call("ACL", "WHOAMI") == "alice", "not authenticated as alice")
    for args in (("PUBLISH", "secret", "x"), ("SUBSCRIBE", "secret")):
        try:
            a.call(*args)
            raise Fail("%s on a channel alice may not use was not refused" % args[0])
        except RespError as e:
            t.check(str(e).startswith("NOPERM"), "%s refused with %s" % (args[0], e))
    t.check(a.call("PUBLISH", "news1", "ok") == 0, "alice's PUBLISH news1 was not forwarded")
    info = parse_info(Client(H, up.port).call("INFO", "commandstats"))
    calls = int(info.get("cmdstat_publish", "calls=0").split(",")[0].split("=")[1])
    t.check(calls == 1, "upstream saw %d PUBLISH (want 1: only the permitted one)" % calls)
    t.check(numsub(up, "secret") == 0, "the refused SUBSCRIBE reached the upstream")
    a.close()


@scenario("relay-reuseport")
def relay_reuseport(t):
    """Two relays share one port with reuseport yes; each serves its clients,
    and a message published through either reaches subscribers on both."""
    up = t.redis("up")
    r1 = t.relay([up], conf=["reuseport yes"])
    r2 = t.relay([up], conf=["reuseport yes"], port=r1.port)
    t.check(r2.port == r1.port and r1.alive() and r2.alive(), "second relay on port %s" % r1.port)
    # The kernel spreads connections over both processes: subscribe until
    # both relays hold the channel upstream.
    subs = []
    for _ in range(64):
        c = Client(H, r1.port)
        c.call("SUBSCRIBE", "rp")
        subs.append(c)
        wait_for(lambda: numsub(up, "rp") >= 1, 5, "a relay holds rp upstream")
        try:
            wait_for(lambda: numsub(up, "rp") == 2, 0.3, "both relays hold rp upstream")
            break
        except Exception:  # noqa: BLE001 -- this one landed on the same relay
            continue
    t.check(numsub(up, "rp") == 2, "after %d clients only one relay holds rp" % len(subs))
    n = Client(H, up.port).call("PUBLISH", "rp", "hi")
    t.check(n == 2, "upstream counted %s relays, want 2" % n)
    for c in subs:
        v = c.read(5)
        t.check(list(v) == ["message", "rp", "hi"], "got %r" % (v,))
        c.close()


@scenario("relay-config")
def relay_config(t):
    """The relay directives through CONFIG GET/SET: upstream is fixed at
    start-up, the timings change at run time, and INFO says relay."""
    up = t.redis("up")
    r = t.relay([up], conf=["upstream-ping-period 400"])
    c = Client(H, r.port)
    t.check(c.call("CONFIG", "GET", "upstream") == ["upstream", up.addr], "CONFIG GET upstream")
    t.check(c.call("CONFIG", "GET", "upstream-ping-period") == ["upstream-ping-period", "400"],
            "CONFIG GET upstream-ping-period")
    try:
        c.call("CONFIG", "SET", "upstream", "127.0.0.1:1")
        raise Fail("CONFIG SET upstream was accepted")
    except RespError as e:
        t.check("can't set immutable config" in str(e), "CONFIG SET upstream: %s" % e)
    t.check(c.call("CONFIG", "SET", "upstream-ping-period", "250", "upstream-hold-ms", "500") == "OK",
            "CONFIG SET of the timings")
    t.check(c.call("CONFIG", "GET", "upstream-hold-ms") == ["upstream-hold-ms", "500"], "hold-ms after SET")
    info = parse_info(c.call("INFO"))
    t.check(info.get("upstream_mode") == "standalone", "INFO (default) has upstream_mode %s"
            % info.get("upstream_mode"))
    c.close()


@scenario("relay-history-forward")
def relay_history_forward(t):
    """The Streams commands of channel history go upstream through a relay
    and their replies come back unchanged (RESP2 and RESP3): over our node
    with channel-history, and over a redis-server whose streams the
    application writes. XREAD BLOCK goes on an upstream connection of its
    own, closed when it is answered or its client leaves."""
    ours = t.ours("up", conf=['channel-history "h.*" 100'])
    redis = t.redis("up2")
    for up, key, write in ((ours, "h.one", ("PUBLISH", "h.one", "m%d")),
                           (redis, "s.one", ("XADD", "s.one", "*", "message", "m%d"))):
        r = t.relay([up])
        wait_relay(r.port, timeout=15)
        for i in range(3):
            args = [a % i if "%d" in a else a for a in write]
            Client(H, r.port).call(*args)
        via_xadd = Client(H, r.port).call("XADD", key, "*", "message", "via")
        t.check(isinstance(via_xadd, str) and "-" in via_xadd, "XADD through the relay answered %r" % (via_xadd,))
        for resp in (2, 3):
            d, v = Client(H, up.port, resp=resp), Client(H, r.port, resp=resp)
            for cmd in (("XRANGE", key, "-", "+"), ("XREVRANGE", key, "+", "-", "COUNT", "2"), ("XLEN", key),
                        ("XREAD", "COUNT", "2", "STREAMS", key, "0-0"), ("XREAD", "STREAMS", "nokey", "0-0"),
                        ("XRANGE", "nokey", "-", "+"), ("XINFO", "STREAM", key)):
                want, got = d.call_raw(*cmd), v.call_raw(*cmd)
                t.check(got == want, "%s via the relay (RESP%d over %s): %r, upstream %r"
                        % (" ".join(cmd), resp, up.kind, got, want))
            d.close()
            v.close()
        # XREAD BLOCK through the relay: its own upstream connection.
        for resp in (2, 3):
            d, v = Client(H, up.port, resp=resp), Client(H, r.port, resp=resp)
            cmd = ("XREAD", "BLOCK", "50", "STREAMS", key, "$")
            want, got = d.call_raw(*cmd), v.call_raw(*cmd)
            t.check(got == want, "XREAD BLOCK timeout via the relay (RESP%d): %r, upstream %r" % (resp, got, want))
            d.close()
            v.close()
        reader = Client(H, r.port)
        reader.send("XREAD", "BLOCK", "0", "STREAMS", key, "$")
        wait_for(lambda: int(relay_info(r.port).get("upstream_blocking_links", 0)) == 1, 5,
                 "the relay opened a blocking link")
        # `$` is resolved when the XREAD reaches the upstream: publish only
        # once the upstream holds it blocked.
        wait_for(lambda: parse_info(Client(H, up.port).call("INFO", "clients")).get("blocked_clients") == "1", 5,
                 "the upstream holds the blocked reader")
        Client(H, r.port).call(*[a % 99 if "%d" in a else a for a in write])
        got = reader.read_reply(5)
        t.check(isinstance(got, list) and got[0][0] == key and got[0][1][0][1][1] == "m99",
                "the blocked reader through the relay got %r" % (got,))
        reader.close()
        # A reader that leaves while blocked: the relay closes its link.
        leaver = Client(H, r.port)
        leaver.send("XREAD", "BLOCK", "0", "STREAMS", key, "$")
        wait_for(lambda: int(relay_info(r.port).get("upstream_blocking_links", 0)) == 1, 5, "a blocking link")
        leaver.close()
        wait_for(lambda: int(relay_info(r.port).get("upstream_blocking_links", 0)) == 0, 5,
                 "the relay closed the link of a reader that left")
        if up.kind == "ours":
            wait_for(lambda: "history_blocked_readers:0" in Client(H, up.port).call("INFO", "history"), 5,
                     "the upstream let go of the reader")
        # CLIENT UNBLOCK on the relay reaches a reader blocked upstream: it
        # gets the bytes the upstream gives a reader unblocked there, and
        # the upstream lets go of it.
        def up_blocked():
            return parse_info(Client(H, up.port).call("INFO", "clients")).get("blocked_clients")
        for resp in (2, 3):
            for how in ((), ("TIMEOUT",), ("ERROR",)):
                raws = []
                for port in (up.port, r.port):
                    blocked = Client(H, port, resp=resp)
                    cid = blocked.call("CLIENT", "ID")
                    blocked.send("XREAD", "BLOCK", "0", "STREAMS", key, "$")
                    wait_for(lambda: up_blocked() == "1", 5, "the upstream holds the reader blocked")
                    n = Client(H, port).call("CLIENT", "UNBLOCK", str(cid), *how)
                    t.check(n == 1, "CLIENT UNBLOCK %s %s on port %d answered %r" % (cid, how, port, n))
                    start = blocked.parser.pos
                    blocked.read(5)
                    raws.append(bytes(blocked.parser.buf[start:blocked.parser.pos]))
                    blocked.close()
                    wait_for(lambda: up_blocked() == "0", 5, "the upstream let go of the unblocked reader")
                t.check(raws[1] == raws[0], "CLIENT UNBLOCK %s via the relay (RESP%d over %s): the reader got %r, "
                        "upstream %r" % (how, resp, up.kind, raws[1], raws[0]))
        t.check(int(relay_info(r.port).get("upstream_blocking_links", 0)) == 0,
                "no blocking link left after CLIENT UNBLOCK")
