"""scenarios_cluster.py -- relays over a real Redis Cluster (3 masters, 3 replicas):
classic, pattern and shard channels, and the failures a cluster goes through.

Publishers go straight to the cluster (cluster-aware: SPUBLISH to the slot's
master, re-reading the slot map after an error), so the publish path does not
depend on the relay under test; an auditor subscribed straight to a node
that survives tells publish loss from the relay's subscription gaps. Loss
bounds are per subscriber at 100 msg/s per channel.
"""
import time

from lib import procs
from lib.cluster import slot_of
from lib.resp import Client
from lib.suite import scenario
from lib.wait import relay_info, relay_links, relay_state, wait_for, wait_relay

H = procs.HOST


def cluster_route(c):
    def route(ch):
        return (H, c.master_of(slot_of(ch)).port)
    return route


def relays(t, c, n=2, conf=()):
    seeds = [node.addr for node in c.nodes]
    return [t.relay(seeds, base="relay", conf=list(conf)) for _ in range(n)]


@scenario("cluster-basic")
def cluster_basic(t):
    c = t.cluster()
    ms = c.masters()
    shard = [c.names_for(m, "sh%d-" % i, 1)[0] for i, m in enumerate(ms)]
    classic = ["cl-a", "cl-b"]
    r1, r2 = relays(t, c)
    subs = []
    for r, resp in ((r1, 2), (r2, 3)):
        other = 5 - resp
        subs += [t.sub("%s-s" % r.name[-6:], r, "subscribe", classic, resp=resp),
                 t.sub("%s-p" % r.name[-6:], r, "psubscribe", ["cl-*"], resp=other),
                 t.sub("%s-ss" % r.name[-6:], r, "ssubscribe", shard[:1], resp=resp),
                 t.sub("%s-ss2" % r.name[-6:], r, "ssubscribe", shard[1:], resp=other)]
    for r in (r1, r2):
        info = wait_relay(r.port, channels=2, patterns=1, shard_channels=3, timeout=15)
        t.check(info.get("upstream_mode") == "cluster", "upstream_mode %s" % info.get("upstream_mode"))
        kinds = [l.get("kind") for l in relay_links(info) if l.get("state") == "up"]
        t.check(kinds.count("shard") >= 3 and "classic" in kinds, "links: %s" % relay_state(info))
    # SPUBLISH through a relay: forwarded to the slot's master, whose reply
    # counts its own subscribers: none, since relays hold shard channels on
    # the shard's replica (which gets every message the master publishes
    # and keeps its subscribers through failovers)
    for ch in shard:
        n = Client(H, r1.port).call("SPUBLISH", ch, "%s/probe:%s:0" % (procs.RUN_ID, ch))
        t.check(n == 0, "SPUBLISH %s via relay: the master counted %s, want 0 (relays are on replicas)" % (ch, n))
    pubs = [t.pub("cl-direct", None, classic[:1], route=lambda ch: (H, ms[1].port)).start(),
            t.pub("cl-via", r1, classic[1:]).start(),
            t.pub("sh-direct", None, shard, command="SPUBLISH", route=cluster_route(c)).start(),
            t.pub("sh-via", r2, shard, command="SPUBLISH").start()]
    t.wait_count(subs, 100)
    t.run_for(1.0)
    t.loss("cluster-basic", subs, pubs)


def shard_fault(t, label, fault, max_lost):
    """Relay subscribers on shard channels of one master (and of another, the
    control); fault(c, slot) hits the first master; counts what each lost."""
    c = t.cluster()
    m = c.masters()[0]
    other = [x for x in c.masters() if x is not m][0]
    hit = c.names_for(m, "hit-", 1)
    ctl = c.names_for(other, "ctl-", 1)
    r1, r2 = relays(t, c)
    subs = [t.sub("r1", r1, "ssubscribe", hit + ctl, resp=2), t.sub("r2", r2, "ssubscribe", hit + ctl, resp=3),
            t.sub("r1b", r1, "ssubscribe", hit, resp=3)]
    rep = c.replicas_of(m)[0]
    auditor = t.sub("auditor", None, "ssubscribe", hit, addrs=[(H, rep.port)])
    for r in (r1, r2):
        wait_relay(r.port, shard_channels=2, timeout=15)
    pub = t.pub("sp", None, hit + ctl, command="SPUBLISH", route=cluster_route(c)).start()
    # and SPUBLISH through a relay: what it acks must reach every subscriber
    via = t.pub("sp-via", r2, hit, command="SPUBLISH").start()
    t.wait_count(subs, 50, ch=hit[0])
    t.note("%s: before: hit shard master %r, replica %r; r1 %s" % (label, m, rep, relay_state(relay_info(r1.port))))
    t0 = time.monotonic()
    old, new, secs = fault(c, slot_of(hit[0]))
    for r in (r1, r2):
        wait_relay(r.port, shard_channels=2, timeout=15)
    took = time.monotonic() - t0
    t.wait_count(subs, 100, timeout=10, ch=hit[0])
    t.note("%s: cluster promoted %r in %.2fs; relays up again after %.2fs" % (label, new, secs, took))
    info = relay_info(r1.port)
    t.note("%s: r1 %s" % (label, relay_state(info)))
    t.loss(label, subs, [pub], max_lost=max_lost, auditor=auditor)
    t.loss(label + " (SPUBLISH via a relay)", subs, [via], max_lost=0)


@scenario("cluster-sigkill-master")
def cluster_sigkill_master(t):
    shard_fault(t, "sigkill-master", lambda c, s: c.kill_master(s), max_lost=1)


@scenario("cluster-manual-failover")
def cluster_manual_failover(t):
    shard_fault(t, "manual-failover", lambda c, s: c.failover(s), max_lost=2)


@scenario("cluster-sigstop-master")
def cluster_sigstop_master(t):
    # loss is reported, not bounded: the master is silent until its replica
    # is promoted (~2.5 s here); what counts is that nothing is duplicated or
    # reordered and the relays follow the promotion
    shard_fault(t, "sigstop-master", lambda c, s: c.stop_master(s), max_lost=10 ** 6)


@scenario("cluster-classic-node-death")
def cluster_classic_node_death(t):
    c = t.cluster()
    r1, r2 = relays(t, c)
    chans = ["cn-a", "cn-b"]
    subs = [t.sub("r1", r1, "subscribe", chans, resp=2), t.sub("r1p", r1, "psubscribe", ["cn-*"], resp=3),
            t.sub("r2", r2, "subscribe", chans, resp=3)]
    info = wait_relay(r1.port, channels=2, patterns=1, timeout=15)
    wait_relay(r2.port, channels=2, timeout=15)
    links = [l for l in relay_links(info) if l.get("kind") == "classic" and l.get("state") == "up"]
    t.check(len(links) == 1, "r1 classic links: %s" % relay_state(info))
    victim = c.by_port(int(links[0]["addr"].rsplit(":", 1)[1]))
    t.check(victim is not None, "classic link to an unknown node %s" % links[0]["addr"])
    keep = [n for n in c.live() if n is not victim and n not in c.replicas_of(victim)
            and n.id != c.view()[victim.id]["master"]]
    pub = t.pub("cp", None, chans, route=lambda ch: (H, keep[0].port)).start()
    auditor = t.sub("auditor", None, "subscribe", chans, addrs=[(H, keep[1].port)])
    t.wait_count(subs, 50)
    role = "master" if victim in c.masters() else "replica"
    victim.server.kill()
    rec = int(info.get("upstream_reconnects", 0))
    wait_relay(r1.port, channels=2, patterns=1, timeout=15,
               extra=lambda i: any(l.get("kind") == "classic" and l.get("state") == "up"
                                   and l.get("addr") != victim.addr for l in relay_links(i)))
    t.wait_count(subs, 100, timeout=10)
    t.note("classic-node-death: killed %s %r carrying r1's classic link (reconnects %d -> %s)"
           % (role, victim, rec, relay_info(r1.port).get("upstream_reconnects")))
    t.loss("classic-node-death", subs, [pub], max_lost=5, auditor=auditor)


@scenario("cluster-slot-move")
def cluster_slot_move(t):
    c = t.cluster()
    m = c.masters()[0]
    dst = c.masters()[1]
    ch = c.names_for(m, "mv-", 1)
    slot = slot_of(ch[0])
    r1, r2 = relays(t, c)
    subs = [t.sub("r1", r1, "ssubscribe", ch, resp=2), t.sub("r2", r2, "ssubscribe", ch, resp=3)]
    for r in (r1, r2):
        wait_relay(r.port, shard_channels=1, timeout=15)
    pub = t.pub("sp", None, ch, command="SPUBLISH", route=cluster_route(c)).start()
    t.wait_count(subs, 50)
    for target, label in ((dst, "moved"), (m, "moved back")):
        secs = c.move_slot(slot, target)

        # the target shard's link: to its replica, or its master if it has none
        addrs = [target.addr] + [n.addr for n in c.replicas_of(target)]

        def on_target(info):
            return any(l.get("addr") in addrs and l.get("kind") == "shard" and l.get("state") == "up"
                       and int(l.get("subs", "0")) >= 1 for l in relay_links(info))
        for r in (r1, r2):
            wait_relay(r.port, shard_channels=1, timeout=15, extra=on_target)
        t.wait_count(subs, 50, timeout=10)
        t.note("slot-move: slot %d %s to %r in %.3fs" % (slot, label, target, secs))
    for s in subs:
        t.check(not s.closed.is_set(), "%s disconnected by a slot move: %s" % (s.label(), s.events[-2:]))
    t.loss("slot-move", subs, [pub], max_lost=10 ** 6)
