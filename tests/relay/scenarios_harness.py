"""scenarios_harness.py -- the harness checked against real servers, no relay needed
(`tests/relay/run.sh --group harness`).

They prove each piece can see what the relay scenarios ask it to see: the
checker counts loss, duplicates and disorder; the fault proxy freezes, cuts,
injects, resets and drops with redis-server behind it; the cluster helpers
fail over (timed, 3 times each); and a naive cluster client (subscribers
straight on the nodes, reconnecting on loss) is measured across the same
faults the relay scenarios inject, for the README's comparison.
"""
import time

from lib import procs
from lib.cluster import slot_of
from lib.resp import Client, ConnectionClosed, ProtocolError, Timeout
from lib.suite import scenario
from lib.traffic import Publisher, Subscriber, check


def cluster_route(c):
    """A cluster-aware publisher route: the slot's master from a live node's view,
    re-read when the publisher drops a connection."""
    def route(ch):
        m = c.master_of(slot_of(ch))
        return (procs.HOST, m.port)
    return route


@scenario("harness-checker", group="harness")
def harness_checker(t):
    p = Publisher("p", None, ["a"])
    p.acked["a"] = set(range(1, 11)) - {7}
    p.unknown["a"] = {7}
    s = Subscriber("s", [("127.0.0.1", 1)], "subscribe", ["a"])
    for seq in [1, 2, 3, 5, 4, 6, 6, 8, 9, 7]:
        s.seqs[("p", "a")].append(seq)
    r = check(s, [p])
    t.check((r.lost, r.dups, r.disorder, r.late) == (1, 1, 1, 1),
            "checker counted lost/dups/disorder/late %s, want 1/1/1/1 (10 missing, 6 twice, 4 "
            "after 5, unacked 7 late)" % ((r.lost, r.dups, r.disorder, r.late),))
    t.check(not r.ok(max_lost=5), "a stream with a duplicate passed")


@scenario("harness-proxy", group="harness")
def harness_proxy(t):
    up = t.redis()
    px = t.proxy(up)
    c = Client(procs.HOST, px.port)
    t.check(c.call("PING") == "PONG", "PING through the proxy")
    sub = t.sub("s", None, "subscribe", ["a"], addrs=[(procs.HOST, px.port)])
    pub = t.pub("p", up, ["a"]).start()
    t.wait_count([sub], 20)
    px.freeze()
    n0 = sub.count()
    # while frozen the upstream keeps accepting publishes, nothing reaches us
    acked0 = len(pub.acked["a"])
    deadline = time.monotonic() + 5
    while len(pub.acked["a"]) < acked0 + 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    t.check(sub.count() - n0 <= 1, "%d messages crossed a frozen proxy" % (sub.count() - n0))
    px.thaw()
    t.wait_count([sub], 30)
    t.check(not sub.closed.is_set(), "subscriber closed by freeze/thaw")
    pub.stop()
    r = check(sub, [pub])
    t.check(r.lost == 0 and r.dups == 0, "freeze/thaw lost or duplicated: " + r.text())
    # cut after 5 bytes: the subscriber's connection ends mid-frame
    px.cut_after(5)
    pub2 = t.pub("p2", up, ["a"]).start()
    deadline = time.monotonic() + 5
    while not sub.closed.is_set() and time.monotonic() < deadline:
        time.sleep(0.01)
    pub2.stop()
    t.check(sub.closed.is_set(), "cut_after(5) did not end the subscriber's connection")
    # inject garbage
    acc = px.accepted
    c2 = Client(procs.HOST, px.port)
    px.wait_accepted(acc + 1)
    t.check(px.inject(b"GARBAGE\r\n") >= 1, "inject reached no connection")
    try:
        v = c2.read(2.0)
        raise AssertionError("garbage parsed as %r" % (v,))
    except ProtocolError:
        pass
    for how in ("reset", "drop"):
        acc = px.accepted
        c3 = Client(procs.HOST, px.port)
        px.wait_accepted(acc + 1)
        px.reset_all() if how == "reset" else px.drop_all()
        try:
            c3.call("PING", timeout=2.0)
            raise AssertionError("PING answered after %s_all" % how)
        except ConnectionClosed as e:
            t.check(("reset" in str(e)) == (how == "reset"), "%s_all gave: %s" % (how, e))
    px.refuse(True)
    try:
        c4 = Client(procs.HOST, px.port)
        c4.call("PING", timeout=2.0)
        raise AssertionError("PING answered while refusing")
    except (ConnectionClosed, OSError):
        pass
    px.refuse(False)
    t.check(Client(procs.HOST, px.port).call("PING") == "PONG", "PING after refuse(False)")


@scenario("harness-cluster-faults", group="harness")
def harness_cluster_faults(t):
    c = t.cluster()
    slot = slot_of("harness")
    for name, fault in (("kill_master", lambda: c.kill_master(slot)),
                        ("failover", lambda: c.failover(slot)),
                        ("stop_master", lambda: c.stop_master(slot))):
        took = []
        for _ in range(3):
            old, new, secs = fault()
            t.check(new is not old and c.master_of(slot) is new, "%s: slot still on %r" % (name, old))
            heal = c.heal()
            took.append("%.2f+%.2f" % (secs, heal))
        t.note("%s (fault+heal seconds): %s" % (name, " ".join(took)))
    m = c.master_of(slot)
    other = [x for x in c.masters() if x is not m][0]
    took = []
    for _ in range(3):
        a = c.move_slot(slot, other)
        t.check(c.master_of(slot) is other, "slot did not move")
        b = c.move_slot(slot, m)
        t.check(c.master_of(slot) is m, "slot did not move back")
        took.append("%.3f/%.3f" % (a, b))
    t.note("move_slot there/back seconds: %s" % " ".join(took))


def naive(t, fault_name, fault, kinds=("ssubscribe", "subscribe")):
    """Subscribers straight on the nodes (as a cluster client without a relay
    would hold them), reconnecting to the slot's replica or the next node on
    loss; measures what they lose across fault."""
    c = t.cluster()
    m = c.masters()[0]
    rep = c.replicas_of(m)[0]
    others = [n for n in c.live() if n is not m]
    sh = c.names_for(m, "naive-sh", 1)
    cl = ["naive-cl"]
    subs = []
    for kind in kinds:
        names = sh if kind == "ssubscribe" else cl
        addrs = [(procs.HOST, m.port), (procs.HOST, rep.port)] + [(procs.HOST, n.port) for n in others]
        for resp in (2, 3):
            subs.append(t.sub("naive-%s" % kind[:2], None, kind, names, resp=resp, addrs=addrs,
                              reconnect=True, ping=(0.5, 1.5)))
    other_master = [x for x in c.masters() if x is not m][0]
    pubs = [t.pub("sp", None, sh, command="SPUBLISH", route=cluster_route(c)).start(),
            t.pub("cp", None, cl, route=lambda ch: (procs.HOST, other_master.port)).start()]
    t.wait_count(subs, 30)
    fault(c, slot_of(sh[0]))
    t.wait_count(subs, 50, timeout=10)
    res = t.loss("naive " + fault_name, subs, pubs, max_lost=10 ** 6)
    return res


@scenario("harness-naive-sigkill", group="harness")
def harness_naive_sigkill(t):
    naive(t, "sigkill-master", lambda c, s: c.kill_master(s))


@scenario("harness-naive-failover", group="harness")
def harness_naive_failover(t):
    naive(t, "manual-failover", lambda c, s: c.failover(s))


@scenario("harness-naive-sigstop", group="harness")
def harness_naive_sigstop(t):
    naive(t, "sigstop-master", lambda c, s: c.stop_master(s))
