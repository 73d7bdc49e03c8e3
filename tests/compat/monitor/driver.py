#!/usr/bin/python3
"""MONITOR as redis-cli and raw clients see it: driver.py HOST PORT

`redis-cli monitor` runs in the background with its output in a file,
polled against a deadline, while raw-socket clients run commands; the lines
must be Redis's: `<unix time>.<6 digits> [0 127.0.0.1:<client port>] "arg"
...`, every argument as sent (case kept), quoted and escaped as Redis does
(\\\\ \\" \\n \\r \\t \\a \\b, printable ASCII as is, any other byte \\xhh),
passwords of AUTH and HELLO ... AUTH shown as "(redacted)", commands
refused before they run (unknown, wrong arity) not shown, and ACL SETUSER's
password never shown. Raw MONITOR connections check the +OK, the lines as
status replies in RESP2 and RESP3, two monitors seeing the same lines,
RESET leaving monitor mode and QUIT ending the connection.

Prints `ok - NAME` / `not ok - NAME: reason` per check, `# version:` and
last `monitor: N passed, M failed`; exits 1 on any failure.
"""

import os
import re
import socket
import subprocess
import sys
import time

HOST = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 6379
WAIT = 10.0
DEADLINE = time.monotonic() + 100
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
TMP = os.path.join(ROOT, "tests", "tmp", "compat")
TAG = "compat-mon-%d" % os.getpid()

passed = 0
failed = 0


def ok(name):
    global passed
    passed += 1
    print("ok - %s" % name, flush=True)


def not_ok(name, reason):
    global failed
    failed += 1
    print("not ok - %s: %s" % (name, " ".join(str(reason).split())[:400]), flush=True)


def check(name, fn):
    if time.monotonic() > DEADLINE:
        not_ok(name, "not run: the driver's 100 s budget is spent")
        return
    try:
        fn()
        ok(name)
    except Exception as e:  # noqa: BLE001 -- every failure is a not-ok line
        not_ok(name, "%s: %s" % (type(e).__name__, e))


def eq(actual, expected, what):
    if actual != expected:
        raise AssertionError("%s: expected %r, got %r" % (what, expected, actual))


def repr_arg(b):
    """An argument as Redis quotes it in a MONITOR line."""
    out = ['"']
    named = {0x5C: "\\\\", 0x22: '\\"', 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x07: "\\a", 0x08: "\\b"}
    for c in b:
        if c in named:
            out.append(named[c])
        elif 0x20 <= c <= 0x7E:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    out.append('"')
    return "".join(out)


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    """A raw RESP connection with a reply reader (enough for these checks)."""

    def __init__(self):
        self.sock = socket.create_connection((HOST, PORT), timeout=WAIT)
        self.buf = b""
        self.port = self.sock.getsockname()[1]

    def send(self, *args):
        self.sock.sendall(encode(*args))

    def send_raw(self, data):
        self.sock.sendall(data)

    def _fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError("connection closed")
        self.buf += d

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read(self):
        """One reply: ('+', str) / ('-', str) / (':', int) / ('$', bytes) /
        ('*' or '>' or '%', list) / ('_', None) and so on."""
        line = self._line()
        t, rest = chr(line[0]), line[1:]
        if t in "+-":
            return (t, rest.decode("latin1"))
        if t == ":":
            return (t, int(rest))
        if t == "$":
            n = int(rest)
            if n < 0:
                return (t, None)
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return (t, data)
        if t in "*>~":
            n = int(rest)
            return (t, [self.read() for _ in range(max(n, 0))])
        if t == "%":
            n = int(rest)
            return (t, [(self.read(), self.read()) for _ in range(n)])
        if t == "_":
            return (t, None)
        if t in "#,(":
            return (t, rest.decode())
        raise AssertionError("unexpected reply type %r in %r" % (t, line))

    def call(self, *args):
        self.send(*args)
        return self.read()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


LINE = re.compile(r'^(\d+)\.(\d{6}) \[0 127\.0\.0\.1:(\d+)\] (.*)$')


def parse_line(line):
    m = LINE.match(line)
    if not m:
        raise AssertionError("not a MONITOR line: %r" % line)
    return float(m.group(1) + "." + m.group(2)), int(m.group(3)), m.group(4)


class CliMonitor:
    """`redis-cli monitor` with its output in a file."""

    def __init__(self):
        os.makedirs(TMP, exist_ok=True)
        self.path = os.path.join(TMP, "monitor-%d.out" % os.getpid())
        self.out = open(self.path, "wb")
        self.proc = subprocess.Popen(["redis-cli", "-h", HOST, "-p", str(PORT), "monitor"],
                                     stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.STDOUT)

    def lines(self):
        with open(self.path, "rb") as f:
            return f.read().decode("latin1").split("\n")[:-1]

    def wait_for(self, pred, what):
        end = time.monotonic() + WAIT
        while True:
            ls = self.lines()
            r = pred(ls)
            if r:
                return r
            if self.proc.poll() is not None:
                raise AssertionError("redis-cli monitor exited (%s) waiting for %s; it printed %r"
                                     % (self.proc.returncode, what, ls[-3:]))
            if time.monotonic() > end:
                raise AssertionError("%s: not seen within %.0f s; last lines %r" % (what, WAIT, ls[-3:]))
            time.sleep(0.02)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        os.unlink(self.path)


def main():
    ver = subprocess.run(["redis-cli", "--version"], capture_output=True, text=True).stdout.split()
    print("# version: redis-cli %s RESP2,RESP3 (redis-cli monitor; raw MONITOR in RESP2 and RESP3)"
          % (ver[1] if len(ver) > 1 else "?"), flush=True)
    mon = CliMonitor()
    cli = {"up": False}

    def started():
        mon.wait_for(lambda ls: ls and ls[0] == "OK", 'the "OK" redis-cli monitor prints first')
        cli["up"] = True
    check("redis-cli monitor starts with OK", started)

    def need_cli():
        if not cli["up"]:
            raise AssertionError("not run: redis-cli monitor did not start")

    def lines_of(port, marker):
        """The MONITOR lines of the client on `port`, up to and including
        the one with `marker`; waits for that one."""
        def pred(ls):
            mine = []
            for line in ls[1:]:
                m = LINE.match(line)
                if m and int(m.group(3)) == port:
                    mine.append(line)
                    if marker in line:
                        return mine
            return None
        return mon.wait_for(pred, "the line with %s" % marker)

    c = Conn()

    def publish_line():
        need_cli()
        ch = TAG + ".ch"
        before = time.time()
        eq(c.call("PUBLISH", ch, "x"), (":", 0), "PUBLISH reply")
        line = lines_of(c.port, '"%s"' % ch)[-1]
        t, port, args = parse_line(line)
        eq(args, '"PUBLISH" "%s" "x"' % ch, "arguments")
        eq(port, c.port, "client port")
        if not before - 5 <= t <= time.time() + 5:
            raise AssertionError("time %.6f is not now (%.6f)" % (t, before))
    check('a PUBLISH shows as <time> [0 127.0.0.1:port] "PUBLISH" "ch" "x"', publish_line)

    def escaping():
        need_cli()
        payload = bytes(range(256))
        name = TAG + ".esc"
        c.call("publish", name, payload)
        c.call("PUBLISH", name + ".utf8", "h\u00e9llo \"w\" \\ \u2713".encode())
        c.send_raw(b"ECHO inline-" + TAG.encode() + b"\r\n")
        eq(c.read(), ("$", ("inline-" + TAG).encode()), "inline ECHO reply")
        mine = lines_of(c.port, '"inline-%s"' % TAG)[-3:]
        eq(parse_line(mine[0])[2], '"publish" "%s" %s' % (name, repr_arg(payload)), "all 256 byte values")
        eq(parse_line(mine[1])[2], '"PUBLISH" "%s.utf8" %s' % (name, repr_arg("h\u00e9llo \"w\" \\ \u2713".encode())),
           "UTF-8, quotes and backslash")
        eq(parse_line(mine[2])[2], '"ECHO" "inline-%s"' % TAG, "inline command")
    check("arguments as sent, escaped as Redis does (all 256 bytes, UTF-8, inline)", escaping)

    def pipeline_order():
        need_cli()
        ch = TAG + ".pipe"
        c.send_raw(b"".join(encode("PUBLISH", ch, "m%d" % i) for i in range(100)))
        for i in range(100):
            eq(c.read(), (":", 0), "reply %d" % i)
        mine = [ln for ln in lines_of(c.port, '"m99"') if '"%s"' % ch in ln]
        eq([parse_line(ln)[2] for ln in mine], ['"PUBLISH" "%s" "m%d"' % (ch, i) for i in range(100)], "100 lines")
        times = [parse_line(ln)[0] for ln in mine]
        if times != sorted(times):
            raise AssertionError("timestamps go backwards: %r" % times)
    check("100 pipelined commands: 100 lines in order, time never going back", pipeline_order)

    def two_clients():
        need_cli()
        d = Conn()
        try:
            d.call("PUBLISH", TAG + ".d", "from d")
            c.call("PUBLISH", TAG + ".c", "from c")
            ld = lines_of(d.port, '"from d"')[-1]
            lc = lines_of(c.port, '"from c"')[-1]
            eq(parse_line(ld)[1], d.port, "port of d")
            eq(parse_line(lc)[1], c.port, "port of c")
        finally:
            d.close()
    check("each client's lines carry its own address", two_clients)

    def redaction():
        need_cli()
        d = Conn()
        try:
            eq(d.call("AUTH", "pw-" + TAG)[0], "-", "AUTH with no password set")
            eq(d.call("AUTH", "user-" + TAG, "pw-" + TAG)[0], "-", "AUTH user password")
            eq(d.call("HELLO", "3", "AUTH", "default", "pw-" + TAG)[0], "%", "HELLO 3 AUTH default")
            eq(d.call("HELLO", "2")[0], "*", "HELLO 2")
            eq(d.call("ACL", "SETUSER", "user-" + TAG, ">pw-" + TAG, "no-such-rule")[0], "-", "ACL SETUSER with a bad rule")
            d.call("PUBLISH", TAG + ".auth", "end")
            mine = lines_of(d.port, '"%s.auth"' % TAG)
            text = "\n".join(mine)
            if "pw-" + TAG in text or "user-" + TAG in text:
                raise AssertionError("a password or user name shows: %r" % mine)
            args = [parse_line(ln)[2] for ln in mine]
            for want in ['"AUTH" "(redacted)"', '"AUTH" "(redacted)" "(redacted)"',
                         '"HELLO" "3" "AUTH" "(redacted)" "(redacted)"', '"HELLO" "2"']:
                if want not in args:
                    raise AssertionError("no line %s in %r" % (want, args))
            eq(args.index('"AUTH" "(redacted)"') < args.index('"HELLO" "2"'), True, "order")
        finally:
            d.close()
    check("AUTH and HELLO AUTH passwords redacted, ACL SETUSER's never shown", redaction)

    def refused_not_shown():
        need_cli()
        c.call("PUBLISH", TAG + ".before", "1")
        eq(c.call("NO-SUCH-COMMAND-" + TAG, "x")[0], "-", "unknown command")
        eq(c.call("PUBLISH", TAG + ".arity")[0], "-", "PUBLISH with one argument")
        c.call("PUBLISH", TAG + ".after", "2")
        mine = lines_of(c.port, '"%s.after"' % TAG)
        i = max(k for k, ln in enumerate(mine) if '"%s.before"' % TAG in ln)
        eq([parse_line(ln)[2] for ln in mine[i + 1:]], ['"PUBLISH" "%s.after" "2"' % TAG], "lines after the marker")
    check("commands refused before running (unknown, wrong arity) are not shown", refused_not_shown)

    def subscribed_client():
        need_cli()
        d = Conn()
        try:
            d.call("SUBSCRIBE", TAG + ".sub")
            eq(d.call("PING"), ("*", [("$", b"pong"), ("$", b"")]), "PING while subscribed")
            d.call("UNSUBSCRIBE")
            d.call("PUBLISH", TAG + ".sub", "after")
            args = [parse_line(ln)[2] for ln in lines_of(d.port, '"after"')]
            eq(args, ['"SUBSCRIBE" "%s.sub"' % TAG, '"PING"', '"UNSUBSCRIBE"', '"PUBLISH" "%s.sub" "after"' % TAG],
               "lines of the subscriber")
        finally:
            d.close()
    check("a subscriber's SUBSCRIBE, PING and UNSUBSCRIBE are shown", subscribed_client)

    # ------------------------------------------------------------ raw monitors
    def raw_monitor(proto):
        m = Conn()
        if proto == 3:
            eq(m.call("HELLO", "3")[0], "%", "HELLO 3")
        eq(m.call("MONITOR"), ("+", "OK"), "MONITOR reply")
        return m

    def raw_lines(proto):
        m = raw_monitor(proto)
        try:
            c.call("PUBLISH", TAG + ".raw%d" % proto, "r")
            while True:
                t, v = m.read()
                eq(t, "+", "type of a MONITOR line in RESP%d" % proto)
                if '"%s.raw%d"' % (TAG, proto) in v:
                    break
            _, port, args = parse_line(v)
            eq((port, args), (c.port, '"PUBLISH" "%s.raw%d" "r"' % (TAG, proto)), "line")
        finally:
            m.close()
    check("MONITOR in RESP2: +OK, then each line a status reply", lambda: raw_lines(2))
    check("MONITOR in RESP3: +OK, then each line a status reply (not a push)", lambda: raw_lines(3))

    def two_monitors():
        m1, m2 = raw_monitor(2), raw_monitor(3)
        try:
            c.call("PUBLISH", TAG + ".two", "both")
            seen = []
            for m in (m1, m2):
                while True:
                    t, v = m.read()
                    if '"%s.two"' % TAG in v:
                        seen.append(v)
                        break
            eq(seen[0], seen[1], "the same line on both monitors")
        finally:
            m1.close()
            m2.close()
    check("two monitors see the same line", two_monitors)

    def reset_ends():
        m = raw_monitor(2)
        try:
            c.call("PUBLISH", TAG + ".pre-reset", "x")
            while '"%s.pre-reset"' % TAG not in m.read()[1]:
                pass
            m.send("RESET")
            while True:
                r = m.read()
                if r == ("+", "RESET"):
                    break
                if not (r[0] == "+" and LINE.match(r[1])):
                    raise AssertionError("before +RESET: %r" % (r,))
            c.call("PUBLISH", TAG + ".post-reset", "y")
            eq(m.call("PING"), ("+", "PONG"), "the next reply after RESET and another client's PUBLISH")
        finally:
            m.close()
    check("RESET leaves monitor mode: no lines after +RESET", reset_ends)

    def quit_ends():
        m = raw_monitor(2)
        try:
            m.send("QUIT")
            while True:
                r = m.read()
                if r == ("+", "OK"):
                    break
                if not (r[0] == "+" and LINE.match(r[1])):
                    raise AssertionError("before +OK: %r" % (r,))
            c.call("PUBLISH", TAG + ".post-quit", "z")
            try:
                while True:
                    r = m.read()
                    if not (r[0] == "+" and LINE.match(r[1])):
                        raise AssertionError("after QUIT's +OK: %r" % (r,))
            except EOFError:
                pass
        finally:
            m.close()
    check("QUIT: +OK and the connection closes", quit_ends)

    c.close()
    mon.stop()


try:
    main()
except Exception as e:  # noqa: BLE001
    not_ok("driver", "%s: %s" % (type(e).__name__, e))
print("monitor: %d passed, %d failed" % (passed, failed), flush=True)
sys.exit(1 if failed else 0)
