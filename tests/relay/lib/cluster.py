"""cluster.py -- a real Redis Cluster (Debian's redis-server) for the relay suite.

Cluster(masters=3, replicas=1).start() runs 2*3 nodes with cluster-enabled
yes, a short cluster-node-timeout, no persistence, joined by
`redis-cli --cluster create ... --cluster-replicas 1 --cluster-yes`, and
returns once wait_healthy() holds:
  - every live node answers CLUSTER INFO with cluster_state:ok,
  - every live node's CLUSTER NODES shows the same masters owning the same
    slots, and no live node flagged fail/pfail,
  - every master has its replicas and every replica says master_link_status:up.
Everything is polled; nothing sleeps for a fixed time.

Fault helpers (each returns the seconds it took, measured until the cluster
is healthy again from the survivors' point of view):
  kill_master(slot)     SIGKILL the slot's master, wait for its replica's promotion
  failover(slot)        CLUSTER FAILOVER on the slot's replica, wait for the swap
  stop(node)/cont(node) SIGSTOP/SIGCONT
  move_slot(slot, dst)  SETSLOT IMPORTING/MIGRATING/NODE (the slot must hold no keys)
  heal()                restarts killed nodes (they rejoin as replicas from their
                        nodes.conf), SIGCONTs stopped ones, waits for health

Names: slot_of(name) is Redis's CRC16-XMODEM mod 16384 with {hash tags};
names_for(master, prefix, n) picks channel names whose slots that master owns.
"""
import os
import signal
import subprocess
import time

from . import procs
from .resp import Client, RespError, parse_info
from .wait import wait_for

NODE_TIMEOUT_MS = int(os.environ.get("RELAY_CLUSTER_NODE_TIMEOUT", "1000"))


def _crc16_table():
    t = []
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
        t.append(c & 0xFFFF)
    return t


_CRC = _crc16_table()


def crc16(data):
    c = 0
    for b in data:
        c = ((c << 8) & 0xFFFF) ^ _CRC[((c >> 8) ^ b) & 0xFF]
    return c


def slot_of(name):
    if isinstance(name, str):
        name = name.encode()
    s = name.find(b"{")
    if s >= 0:
        e = name.find(b"}", s + 1)
        if e > s + 1:
            name = name[s + 1:e]
    return crc16(name) % 16384


class Node:
    def __init__(self, server):
        self.server = server
        self.id = None

    @property
    def port(self):
        return self.server.port

    @property
    def addr(self):
        return self.server.addr

    def client(self, timeout=2.0, resp=2):
        return Client(procs.HOST, self.port, timeout=timeout, resp=resp)

    def call(self, *args, timeout=2.0):
        c = self.client(timeout)
        try:
            return c.call(*args)
        finally:
            c.close()

    def alive(self):
        return self.server.alive() and not self.server.stopped

    def __repr__(self):
        return "node(%s %s)" % (self.port, (self.id or "?")[:8])


def parse_nodes(text):
    """CLUSTER NODES -> {id: {addr, flags, master, slots:set-of-(lo,hi)}}."""
    out = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) < 8:
            continue
        slots = []
        for s in f[8:]:
            if s.startswith("["):
                continue
            lo, _, hi = s.partition("-")
            slots.append((int(lo), int(hi or lo)))
        flags = set(f[2].split(","))
        out[f[0]] = {"addr": f[1].split("@")[0], "flags": flags,
                     "master": None if f[3] == "-" else f[3], "slots": tuple(sorted(slots)),
                     "connected": f[7] == "connected"}
    return out


class Cluster:
    def __init__(self, name="cluster", masters=3, replicas=1, node_timeout_ms=NODE_TIMEOUT_MS,
                 conf=()):
        self.name = name
        self.n_masters = masters
        self.n_replicas = replicas
        self.node_timeout_ms = node_timeout_ms
        self.extra_conf = list(conf)
        self.nodes = []
        self.promoted_at = {}        # node id -> monotonic time it last won an election
        self.failover_retries = 0

    # ---------------------------------------------------------------- setup
    def start(self, timeout=30.0):
        t0 = time.monotonic()
        n = self.n_masters * (1 + self.n_replicas)
        for i in range(n):
            conf = ["cluster-enabled yes", "cluster-config-file nodes.conf",
                    "cluster-node-timeout %d" % self.node_timeout_ms,
                    "cluster-require-full-coverage yes",
                    # an empty data set: sync at once (the default waits 5 s for more replicas)
                    "repl-diskless-sync yes", "repl-diskless-sync-delay 0",
                    "repl-diskless-sync-max-replicas 1"] + self.extra_conf
            srv = procs.Server("%s-%d" % (self.name, i), "redis", conf, bus=True)
            srv.start()
            self.nodes.append(Node(srv))
        for node in self.nodes:
            node.id = node.call("CLUSTER", "MYID")
        cmd = [procs.REDIS_CLI, "--cluster", "create"] + [n.addr for n in self.nodes] + \
              ["--cluster-replicas", str(self.n_replicas), "--cluster-yes"]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        if r.returncode != 0:
            raise procs.StartError("cluster create failed:\n" + r.stdout.decode(errors="replace")[-2000:])
        self.wait_healthy(timeout - (time.monotonic() - t0))
        return time.monotonic() - t0

    def stop(self):
        for n in self.nodes:
            n.server.kill(signal.SIGKILL, quiet=True)

    # ------------------------------------------------------------ inspection
    def live(self):
        return [n for n in self.nodes if n.alive()]

    def by_id(self, node_id):
        for n in self.nodes:
            if n.id == node_id:
                return n
        return None

    def by_port(self, port):
        for n in self.nodes:
            if n.port == port:
                return n
        return None

    def view(self, node=None):
        """CLUSTER NODES as seen from node (default: the first live one)."""
        node = node or self.live()[0]
        return parse_nodes(node.call("CLUSTER", "NODES"))

    def masters(self):
        v = self.view()
        return [self.by_id(i) for i, e in v.items() if "master" in e["flags"] and e["slots"]
                and "fail" not in e["flags"]]

    def master_of(self, slot):
        for i, e in self.view().items():
            if "master" in e["flags"] and "fail" not in e["flags"]:
                for lo, hi in e["slots"]:
                    if lo <= slot <= hi:
                        return self.by_id(i)
        return None

    def replicas_of(self, master):
        return [self.by_id(i) for i, e in self.view().items()
                if e["master"] == master.id and "fail" not in e["flags"]]

    def names_for(self, master, prefix, n=1):
        """n names 'prefix<k>' whose slots master owns."""
        ranges = self.view()[master.id]["slots"]
        out, k = [], 0
        while len(out) < n:
            name = "%s%d" % (prefix, k)
            s = slot_of(name)
            if any(lo <= s <= hi for lo, hi in ranges):
                out.append(name)
            k += 1
        return out

    def slot_map(self, node):
        """{slot-range: master-id} from node's view, or None if it does not answer."""
        v = parse_nodes(node.call("CLUSTER", "NODES", timeout=1.0))
        return v

    def health_problem(self):
        """None when healthy, else a string saying what is not yet right."""
        live = self.live()
        views = {}
        for n in live:
            try:
                info = parse_info(n.call("CLUSTER", "INFO", timeout=1.0))
                if info.get("cluster_state") != "ok":
                    return "%r: cluster_state:%s" % (n, info.get("cluster_state"))
                views[n.id] = parse_nodes(n.call("CLUSTER", "NODES", timeout=1.0))
            except Exception as e:  # noqa: BLE001 -- any failure is "not yet"
                return "%r: %s" % (n, e)
        live_ids = {n.id for n in live}
        ref = None
        ref_roles = None
        for nid, v in views.items():
            owners = {}
            roles = {}
            for i, e in v.items():
                if i not in live_ids:
                    continue
                if e["flags"] & {"fail", "pfail", "fail?", "handshake", "noaddr"}:
                    return "%s sees %s as %s" % (nid[:8], i[:8], ",".join(sorted(e["flags"])))
                roles[i] = e["master"]
                if "master" in e["flags"] and e["slots"]:
                    owners[i] = e["slots"]
            if ref is None:
                ref, ref_roles = owners, roles
            elif owners != ref:
                return "views differ on slot owners (%s)" % nid[:8]
            elif roles != ref_roles:
                return "views differ on replicas (%s)" % nid[:8]
        if ref is None or len(ref) != self.n_masters:
            return "%d masters own slots, want %d" % (len(ref or {}), self.n_masters)
        covered = sum(hi - lo + 1 for sl in ref.values() for lo, hi in sl)
        if covered != 16384:
            return "%d slots covered" % covered
        v = next(iter(views.values()))
        for mid in ref:
            reps = [i for i, e in v.items() if e["master"] == mid and i in live_ids]
            if len(reps) < self.n_replicas and len(live) == len(self.nodes):
                return "master %s has %d replicas" % (mid[:8], len(reps))
            for rid in reps:
                r = self.by_id(rid)
                try:
                    info = parse_info(r.call("INFO", "replication", timeout=1.0))
                except Exception as e:  # noqa: BLE001
                    return "%r: %s" % (r, e)
                if info.get("role") != "slave" or info.get("master_link_status") != "up":
                    return "%r role=%s link=%s" % (r, info.get("role"), info.get("master_link_status"))
                mp = int(info.get("master_port", "0"))
                if mp != self.by_id(mid).port:
                    return "%r replicates port %d, want %d" % (r, mp, self.by_id(mid).port)
        return None

    def wait_healthy(self, timeout=30.0):
        wait_for(self.health_problem, timeout, "cluster healthy", want_none=True, interval=0.05)

    # ---------------------------------------------------------------- faults
    def kill_master(self, slot, timeout=20.0):
        """SIGKILLs the master of slot; returns (dead, promoted, seconds)."""
        m = self.master_of(slot)
        reps = self.replicas_of(m)
        t0 = time.monotonic()
        m.server.kill(signal.SIGKILL)
        promoted = self._wait_owner(slot, lambda n: n is not m and n in reps, timeout)
        self.promoted_at[promoted.id] = time.monotonic()
        return m, promoted, time.monotonic() - t0

    def failover(self, slot, timeout=20.0, force=False):
        """CLUSTER FAILOVER on the slot's first replica; returns (old, new, seconds).

        Redis 7.0 sometimes lets a manual failover that follows another one
        closely time out (the replica "wins" an election with a stale epoch
        and is demoted again); the request is then repeated, up to 3 times."""
        m = self.master_of(slot)
        r = self.replicas_of(m)[0]
        # Within 4 node timeouts of its last election win a node still holds
        # that election's auth state and "wins" the next one without a new
        # epoch, only to be demoted again (Redis 7.0 clusterHandleSlaveFailover
        # resets it after auth_retry_time = 4 * node-timeout). That timer is
        # not observable, so wait it out here.
        quiet = self.promoted_at.get(r.id, -1e9) + 4 * self.node_timeout_ms / 1000.0 + 0.3
        if time.monotonic() < quiet:
            time.sleep(quiet - time.monotonic())
        t0 = time.monotonic()
        args = ["CLUSTER", "FAILOVER"] + (["FORCE"] if force else [])
        last = None
        for _ in range(3):
            r.call(*args)
            try:
                self._wait_owner(slot, lambda n: n is r, min(3.0, timeout))
                break
            except AssertionError as e:
                last = e
        else:
            raise last
        self.promoted_at[r.id] = time.monotonic()
        self.wait_healthy(timeout)
        self.failover_retries = _
        return m, r, time.monotonic() - t0

    def _wait_owner(self, slot, pred, timeout):
        """Waits until every live node says a node satisfying pred owns slot
        and says cluster_state:ok."""
        def check():
            owner = None
            for n in self.live():
                try:
                    info = parse_info(n.call("CLUSTER", "INFO", timeout=0.5))
                    if info.get("cluster_state") != "ok":
                        return None
                    v = parse_nodes(n.call("CLUSTER", "NODES", timeout=0.5))
                except Exception:  # noqa: BLE001
                    return None
                mine = None
                for i, e in v.items():
                    if "master" in e["flags"] and "fail" not in e["flags"] and \
                            any(lo <= slot <= hi for lo, hi in e["slots"]):
                        mine = i
                if mine is None or (owner is not None and mine != owner):
                    return None
                owner = mine
            node = self.by_id(owner)
            return node if node is not None and pred(node) else None
        return wait_for(check, timeout, "new owner of slot %d" % slot, interval=0.02)

    def stop_master(self, slot, timeout=20.0):
        """SIGSTOPs the master of slot and waits until its replica is promoted;
        returns (stopped, promoted, seconds). heal() SIGCONTs it (it rejoins
        as a replica)."""
        m = self.master_of(slot)
        t0 = time.monotonic()
        m.server.sigstop()
        promoted = self._wait_owner(slot, lambda n: n is not m, timeout)
        self.promoted_at[promoted.id] = time.monotonic()
        return m, promoted, time.monotonic() - t0

    def stop_node(self, node):
        node.server.sigstop()

    def cont_node(self, node):
        node.server.sigcont()

    def move_slot(self, slot, dst, timeout=10.0):
        """Moves an empty slot to master dst; returns seconds until every node agrees."""
        src = self.master_of(slot)
        t0 = time.monotonic()
        if src is dst:
            return 0.0
        dst.call("CLUSTER", "SETSLOT", slot, "IMPORTING", src.id)
        src.call("CLUSTER", "SETSLOT", slot, "MIGRATING", dst.id)
        keys = src.call("CLUSTER", "COUNTKEYSINSLOT", slot)
        if keys:
            raise RuntimeError("slot %d holds %d keys" % (slot, keys))
        dst.call("CLUSTER", "SETSLOT", slot, "NODE", dst.id)
        src.call("CLUSTER", "SETSLOT", slot, "NODE", dst.id)
        for m in self.masters():
            if m is not src and m is not dst:
                try:
                    m.call("CLUSTER", "SETSLOT", slot, "NODE", dst.id)
                except RespError:
                    pass
        self._wait_owner(slot, lambda n: n is dst, timeout)
        return time.monotonic() - t0

    def heal(self, timeout=30.0):
        """Brings every node back (restart killed, SIGCONT stopped); waits for health."""
        t0 = time.monotonic()
        for n in self.nodes:
            if n.server.stopped:
                n.server.sigcont()
        for n in self.nodes:
            if not n.server.alive():
                n.server.start()
        self.wait_healthy(timeout)
        return time.monotonic() - t0
