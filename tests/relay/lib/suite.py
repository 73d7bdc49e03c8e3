"""suite.py -- scenario registry and runner for tests/relay.

A scenario is a function f(t) registered with @scenario("name", group=...);
it passes by returning and fails by raising (Fail from t.check(), an
AssertionError such as a WaitTimeout, a StartError, anything). The runner
prints `ok - NAME (Ns)` or `not ok - NAME: reason`, the scenario's `# ...`
notes (loss figures) as they come, and on failure the tail of the log of
every server the scenario started; it ends with `relay: N passed, M failed`.

t (a Context) owns what the scenario starts: servers (t.redis, t.ours,
t.relay), proxies, publishers and subscribers are stopped when the scenario
ends, whatever happened. The shared cluster (t.cluster()) outlives scenarios;
it is healed (killed nodes restarted as replicas, stopped ones continued)
before each scenario that asks for it, and replaced by a fresh one if it
cannot be healed.
"""
import fnmatch
import os
import shutil
import signal
import sys
import time
import traceback

from . import procs
from .cluster import Cluster
from .faultproxy import FaultProxy
from .traffic import Publisher, Subscriber, check, fixed_route, wait_drained

SCENARIOS = []


class Fail(AssertionError):
    pass


def scenario(name, group="relay"):
    def deco(fn):
        SCENARIOS.append((name, group, fn))
        return fn
    return deco


class Context:
    shared_cluster = None

    def __init__(self, name):
        self.name = name
        self.servers = []
        self.proxies = []
        self.pubs = []
        self.subs = []
        self.notes = []
        self.counter = 0
        self.used_cluster = False

    # ---------------------------------------------------------- resources
    def _srv_name(self, base):
        self.counter += 1
        return "%s-%s%d" % (self.name, base, self.counter)

    def redis(self, base="redis", conf=(), **kw):
        srv = procs.Server(self._srv_name(base), "redis", conf, **kw)
        self.servers.append(srv)
        return srv.start()

    def ours(self, base="node", conf=(), args=(), **kw):
        srv = procs.Server(self._srv_name(base), "ours", conf, args, **kw)
        self.servers.append(srv)
        return srv.start()

    def relay(self, upstreams, base="relay", conf=(), args=(), on_cmdline=False, **kw):
        """Our server with upstream set to upstreams (a list of "h:p" or Servers)."""
        addrs = [u if isinstance(u, str) else u.addr for u in upstreams]
        conf = list(conf)
        args = list(args)
        if on_cmdline:
            args = ["--upstream"] + addrs + args
        else:
            conf = ["upstream " + " ".join(addrs)] + conf
        try:
            return self.ours(base, conf, args, **kw)
        except procs.StartError as e:
            raise Fail("relay did not start: %s" % e)

    def proxy(self, server):
        px = FaultProxy(procs.HOST, server.port if hasattr(server, "port") else server,
                        name=self._srv_name("proxy")).start()
        self.proxies.append(px)
        return px

    def sub(self, name, server, kind, names, resp=2, **kw):
        addrs = kw.pop("addrs", None) or [(procs.HOST, server.port)]
        s = Subscriber(name, addrs, kind, names, resp=resp, **kw)
        self.subs.append(s)
        return s.start()

    def pub(self, name, target, channels, command="PUBLISH", route=None, **kw):
        route = route or fixed_route(procs.HOST, target.port)
        p = Publisher(name, route, channels, command=command, **kw)
        self.pubs.append(p)
        return p

    def cluster(self):
        self.used_cluster = True
        c = Context.shared_cluster
        if c is not None:
            try:
                c.heal(20)
                return c
            except Exception as e:  # noqa: BLE001
                self.note("shared cluster could not be healed (%s); starting a fresh one" % e)
                c.stop()
        c = Cluster(name="cluster%d" % int(time.monotonic() * 10 % 100000))
        Context.shared_cluster = c
        took = c.start()
        self.note("cluster created in %.1fs" % took)
        return c

    # ----------------------------------------------------------- checking
    def check(self, cond, msg):
        if not cond:
            raise Fail(msg)

    def note(self, msg):
        line = "# %s: %s" % (self.name, msg)
        self.notes.append(line)
        procs.log(line)

    def run_for(self, seconds):
        """Lets traffic run: the one place a scenario waits for time itself,
        because "N seconds of traffic" is the thing being measured."""
        time.sleep(seconds)

    def wait_count(self, subs, n, timeout=5.0, ch=None):
        """Waits until every subscriber in subs holds n more messages than now."""
        base = {id(s): s.count(ch) for s in subs}
        deadline = time.monotonic() + timeout
        for s in subs:
            while s.count(ch) < base[id(s)] + n:
                if time.monotonic() > deadline:
                    raise Fail("%s got %d of %d more messages%s within %.0fs (events: %s)" % (
                        s.label(), s.count(ch) - base[id(s)], n, " on " + ch if ch else "", timeout,
                        [e[1] for e in s.events[-3:]]))
                time.sleep(0.01)

    def loss(self, label, subs, pubs, max_lost=0, auditor=None, since=None, drain=3.0):
        """Stops pubs, waits for the tail, checks every sub and prints the figures.
        Fails if any sub lost more than max_lost, or saw a duplicate or disorder."""
        for p in pubs:
            p.stop()
        wait_drained(subs, pubs, drain)
        results = [check(s, pubs, auditor, since) for s in subs]
        figures = "/".join(str(r.lost) for r in results)
        self.note("%s: lost %s (%s)" % (label, figures, ", ".join(
            r.sub.label() for r in results)))
        pub_text = "; ".join(p.describe() for p in pubs)
        self.note("%s: %s" % (label, pub_text))
        if auditor is not None:
            a = check(auditor, pubs)
            self.note("%s: auditor %s" % (label, a.text()))
        bad = [r for r in results if not r.ok(max_lost)]
        for r in results:
            if r.details or not r.ok(max_lost):
                self.note("  " + r.text())
        if bad:
            raise Fail("%s: %s" % (label, "; ".join(r.text() for r in bad)))
        return results

    # ------------------------------------------------------------ cleanup
    def cleanup(self):
        for s in self.subs:
            s.stop_ev.set()
        for p in self.pubs:
            p.stop_ev.set()
        for s in self.subs:
            s.stop()
        for p in self.pubs:
            p.stop(drain_timeout=0)
        for px in self.proxies:
            px.close()
        for srv in self.servers:
            srv.kill(signal.SIGKILL, quiet=True)

    def dump_logs(self, lines=25):
        for srv in self.servers:
            procs.log("#   --- %s (%s, port %s, pid %s) %s" % (srv.name, srv.kind, srv.port, srv.pid,
                                                               srv.log))
            for l in srv.tail(lines).splitlines():
                procs.log("#   | " + l)
        if self.used_cluster and Context.shared_cluster is not None:
            procs.log("#   cluster node logs: " + " ".join(
                n.server.log for n in Context.shared_cluster.nodes))


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="tests/relay/run.sh")
    ap.add_argument("--only", action="append", default=[], help="run scenarios matching GLOB")
    ap.add_argument("--group", default="relay", help="relay (default), harness, or all")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep tests/tmp/relay/<run> even when green")
    args = ap.parse_args(argv)
    chosen = [(n, g, f) for n, g, f in SCENARIOS
              if (args.group == "all" or g == args.group) and
              (not args.only or any(fnmatch.fnmatchcase(n, o) for o in args.only))]
    if args.list:
        for n, g, _ in chosen:
            print("%s (%s)" % (n, g))
        return 0
    os.makedirs(procs.TMP, exist_ok=True)
    procs.log("# relay suite: run %s, %d scenario(s), logs in %s" % (procs.RUN_ID, len(chosen), procs.TMP))
    passed = failed = 0
    failures = []
    t_all = time.monotonic()
    for _ in range(args.repeat):
        for name, _, fn in chosen:
            t = Context(name)
            t0 = time.monotonic()
            try:
                fn(t)
                passed += 1
                procs.log("ok - %s (%.1fs)" % (name, time.monotonic() - t0))
            except Exception as e:  # noqa: BLE001 -- every failure is reported the same way
                failed += 1
                reason = "%s: %s" % (type(e).__name__, e) if not isinstance(e, Fail) else str(e)
                reason = reason.replace("\n", " | ")
                procs.log("not ok - %s: %s (%.1fs)" % (name, reason, time.monotonic() - t0))
                if not isinstance(e, (Fail, AssertionError, procs.StartError)):
                    for l in traceback.format_exc().splitlines():
                        procs.log("#   " + l)
                t.dump_logs()
                failures.append(name)
            finally:
                t.cleanup()
    if Context.shared_cluster is not None:
        Context.shared_cluster.stop()
    procs.kill_all()
    procs.log("# %.1fs in all%s" % (time.monotonic() - t_all,
                                  "; failed: " + " ".join(failures) if failures else ""))
    if failed == 0 and not args.keep:
        shutil.rmtree(procs.TMP, ignore_errors=True)
    procs.log("relay: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0
