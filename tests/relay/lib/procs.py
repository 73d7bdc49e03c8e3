"""procs.py -- server processes for the relay suite: start, stop, signal, restart.

Every process this module starts is recorded by PID and killed (SIGKILL) at
interpreter exit and on SIGTERM/SIGINT/SIGHUP; nothing else is ever
signalled. Each server runs in its own directory under tests/tmp/relay/<run>/
with its config file and log file, kept when a scenario fails.

Ports: picked from 40000-49999, starting at an offset derived from our PID,
by binding the port (and, for cluster nodes, the bus port +10000) and
releasing it just before the server starts. A server whose log says the
address is in use is started again on the next free port.

Readiness is polled: a server is up when its port answers PING (any reply,
-NOAUTH included); a process that exits while we wait fails at once with the
tail of its log.
"""
import atexit
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import ctypes

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
REDIS_SERVER = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")
REDIS_CLI = os.environ.get("REDIS_CLI", "/usr/bin/redis-cli")
OURS = os.environ.get("RELAY_SERVER_BIN", os.path.join(ROOT, "src", "redis-pubsub-server"))
HOST = "127.0.0.1"

RUN_ID = "%d-%d" % (int(time.time()), os.getpid())
TMP = os.path.join(ROOT, "tests", "tmp", "relay", RUN_ID)

_live = {}                       # pid -> Server, everything we started and have not reaped
_lock = threading.Lock()
_ports_taken = set()
_next_port = [40000 + (os.getpid() * 97) % 10000]


class StartError(Exception):
    pass


try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:
    _libc = None


def _die_with_us():
    """Child side: SIGKILL when the suite process dies, however it dies
    (PR_SET_PDEATHSIG); servers are only ever started from the main thread."""
    if _libc is not None:
        _libc.prctl(1, signal.SIGKILL, 0, 0, 0)


def _port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((HOST, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port(bus=False):
    """A port that binds now (and port+10000 too when bus is set)."""
    with _lock:
        for _ in range(10000):
            p = _next_port[0]
            _next_port[0] = 40000 + (p - 40000 + 1) % 10000
            if p in _ports_taken or (bus and p + 10000 in _ports_taken):
                continue
            if _port_free(p) and (not bus or _port_free(p + 10000)):
                _ports_taken.add(p)
                if bus:
                    _ports_taken.add(p + 10000)
                return p
    raise StartError("no free port in 40000-49999")


def kill_all():
    with _lock:
        procs = list(_live.values())
    for srv in procs:
        srv.kill(signal.SIGKILL, quiet=True)


def _on_signal(signum, frame):
    kill_all()
    os._exit(128 + signum)


atexit.register(kill_all)
for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


def ping_reply(host, port, timeout=0.5, tls_ca=None):
    """The first reply line to PING, or None when nothing answers."""
    try:
        s = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        return None
    try:
        s.settimeout(timeout)
        if tls_ca:
            ctx = ssl.create_default_context(cafile=tls_ca)
            ctx.check_hostname = False
            s = ctx.wrap_socket(s)
        s.sendall(b"PING\r\n")
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(1024)
            if not chunk:
                return None
            data += chunk
        return data.split(b"\r\n", 1)[0].decode(errors="replace")
    except (OSError, ssl.SSLError):
        return None
    finally:
        s.close()


class Server:
    """One server process. kind is 'redis' (Debian's redis-server) or 'ours'.

    conf: list of config lines written to NAME/server.conf; args: extra
    command-line arguments appended after the config file."""

    def __init__(self, name, kind="redis", conf=(), args=(), port=None, bus=False,
                 tls_port=None, ready_tls_ca=None):
        self.name = name
        self.kind = kind
        self.conf = list(conf)
        self.args = list(args)
        self.bus = bus
        self.port = port
        self.tls_port = tls_port
        self.ready_tls_ca = ready_tls_ca
        self.dir = os.path.join(TMP, name)
        self.log = os.path.join(self.dir, "server.log")
        self.proc = None
        self.pid = None
        self.stopped = False     # SIGSTOPped
        self.starts = 0

    @property
    def addr(self):
        return "%s:%d" % (HOST, self.port)

    def _write_conf(self):
        os.makedirs(self.dir, exist_ok=True)
        lines = ["port %d" % self.port, "bind 127.0.0.1", "daemonize no",
                 'logfile "%s"' % self.log, 'dir "%s"' % self.dir]
        if self.kind == "redis":
            lines += ['save ""', "appendonly no", "protected-mode no"]
        if self.tls_port is not None:
            lines.append("tls-port %d" % self.tls_port)
        lines += self.conf
        path = os.path.join(self.dir, "server.conf")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def start(self, timeout=10.0):
        """Starts (or restarts, same port and dir) and waits until it answers."""
        fixed = self.port is not None and self.starts > 0
        for attempt in range(5):
            if self.port is None:
                self.port = free_port(bus=self.bus)
            conf = self._write_conf()
            binary = REDIS_SERVER if self.kind == "redis" else OURS
            log_mark = os.path.getsize(self.log) if os.path.exists(self.log) else 0
            out = open(os.path.join(self.dir, "stdout.log"), "ab")
            self.proc = subprocess.Popen([binary, conf] + self.args, stdout=out,
                                         stderr=subprocess.STDOUT, cwd=self.dir,
                                         start_new_session=True, preexec_fn=_die_with_us)
            out.close()
            self.pid = self.proc.pid
            self.stopped = False
            with _lock:
                _live[self.pid] = self
            try:
                self._wait_ready(timeout)
                self.starts += 1
                return self
            except StartError as e:
                text = self._log_since(log_mark)
                self.kill(signal.SIGKILL, quiet=True)
                if "in use" in text.lower() or "address already" in text.lower():
                    if not fixed:
                        self.port = None
                    time.sleep(0.2 * (attempt + 1))
                    continue
                raise StartError("%s: %s\n%s" % (self.name, e, self.tail(15)))
        raise StartError("%s: port %s stayed in use" % (self.name, self.port))

    def _log_since(self, mark):
        text = ""
        for p in (self.log, os.path.join(self.dir, "stdout.log")):
            try:
                with open(p, errors="replace") as f:
                    if p == self.log:
                        f.seek(mark)
                    text += f.read()
            except OSError:
                pass
        return text

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise StartError("exited with status %s before answering" % self.proc.returncode)
            if self.port and ping_reply(HOST, self.port, 0.3) is not None:
                if self.tls_port is None or self.ready_tls_ca is None or \
                        ping_reply(HOST, self.tls_port, 0.5, self.ready_tls_ca) is not None:
                    return
            time.sleep(0.02)
        raise StartError("did not answer PING within %.0fs" % timeout)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL, quiet=False):
        """Sends sig to our process; for SIGKILL/SIGTERM also reaps it."""
        if self.proc is None or self.proc.poll() is not None:
            self._forget()
            return
        try:
            if self.stopped and sig in (signal.SIGTERM, signal.SIGINT):
                os.kill(self.pid, signal.SIGCONT)
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass
        if sig == signal.SIGSTOP:
            self.stopped = True
        elif sig == signal.SIGCONT:
            self.stopped = False
        elif sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            self.stopped = False
            self._forget()

    def _forget(self):
        with _lock:
            if self.pid in _live and _live[self.pid] is self:
                del _live[self.pid]

    def stop(self):
        self.kill(signal.SIGTERM, quiet=True)

    def sigstop(self):
        self.kill(signal.SIGSTOP)

    def sigcont(self):
        self.kill(signal.SIGCONT)

    def restart(self, timeout=10.0):
        self.kill(signal.SIGKILL, quiet=True)
        return self.start(timeout)

    def tail(self, n=20):
        lines = []
        for p in (self.log, os.path.join(self.dir, "stdout.log")):
            try:
                with open(p, errors="replace") as f:
                    lines += f.read().splitlines()[-n:]
            except OSError:
                pass
        return "\n".join(lines[-n:])


def redis(name, conf=(), **kw):
    return Server(name, "redis", conf, **kw).start()


def ours(name, conf=(), args=(), **kw):
    return Server(name, "ours", conf, args, **kw).start()


def log(msg):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()
