"""faultproxy.py -- a TCP proxy between a relay and its upstream, driven by the test.

FaultProxy(upstream_host, upstream_port).start() listens on a free loopback
port; each accepted connection ("downstream", the relay's side) gets its own
connection to the upstream, and two threads copy bytes, one per direction.
Controls, all effective on every current connection at once:
  freeze()/thaw()     stop/resume forwarding both ways; sockets stay open, bytes
                      wait in the kernel buffers (new connections are accepted and
                      frozen too)
  drop_all()          close both sides of every connection with FIN
  reset_all()         close both sides with RST (SO_LINGER 0)
  cut_after(n)        forward n more bytes upstream->relay on each connection,
                      then close that connection with FIN (a frame cut in the middle)
  inject(data)        send data to the relay on every connection as if the
                      upstream had sent it (written between forwarded chunks)
  refuse(True)        accept and immediately close new connections (upstream away);
                      refuse(False) forwards again
Counters: accepted (connections handled: forwarded, refused or
failed to reach the upstream), active(), bytes_up (relay->upstream), bytes_down.
wait_connections(n) polls until n connections are active.

What it does not do: it never parses RESP, and it adds no delay; a connection
closed by either end is closed on the other with FIN.
"""
import socket
import struct
import threading
import time

from . import procs
from .wait import wait_for


class _Pair:
    def __init__(self, down, up):
        self.down = down
        self.up = up
        self.down_lock = threading.Lock()   # writes towards the relay
        self.closed = False
        self.cut_left = None                # bytes left before a cut, or None


class FaultProxy:
    def __init__(self, upstream_host, upstream_port, name="proxy"):
        self.upstream = (upstream_host, upstream_port)
        self.name = name
        self.port = None
        self.lock = threading.Lock()
        self.thawed = threading.Event()
        self.thawed.set()
        self.pairs = []
        self.accepted = 0
        self.bytes_up = 0
        self.bytes_down = 0
        self.refusing = False
        self.closing = False
        self.listener = None

    @property
    def addr(self):
        return "%s:%d" % (procs.HOST, self.port)

    def start(self):
        for _ in range(20):
            port = procs.free_port()
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((procs.HOST, port))
            except OSError:
                s.close()
                continue
            s.listen(128)
            self.listener, self.port = s, port
            break
        t = threading.Thread(target=self._accept_loop, daemon=True)
        t.start()
        return self

    def close(self):
        self.closing = True
        try:
            self.listener.close()
        except OSError:
            pass
        self.thaw()
        self.drop_all()

    # ------------------------------------------------------------- controls
    def freeze(self):
        self.thawed.clear()

    def thaw(self):
        self.thawed.set()

    def refuse(self, on=True):
        self.refusing = on

    def active(self):
        with self.lock:
            return len([p for p in self.pairs if not p.closed])

    def wait_connections(self, n, timeout=10.0):
        wait_for(lambda: self.active() >= n, timeout, "%d connection(s) through %s" % (n, self.name))

    def wait_accepted(self, n, timeout=10.0):
        wait_for(lambda: self.accepted >= n, timeout, "%d accepted by %s" % (n, self.name))

    def _current(self):
        with self.lock:
            return [p for p in self.pairs if not p.closed]

    def drop_all(self):
        for p in self._current():
            self._close(p, rst=False)

    def reset_all(self):
        for p in self._current():
            self._close(p, rst=True)

    def cut_after(self, n):
        for p in self._current():
            with p.down_lock:
                p.cut_left = n
            if n == 0:
                self._close(p, rst=False)

    def inject(self, data):
        n = 0
        for p in self._current():
            with p.down_lock:
                try:
                    p.down.sendall(data)
                    n += 1
                except OSError:
                    pass
        return n

    # ------------------------------------------------------------ machinery
    def _close(self, p, rst):
        with self.lock:
            if p.closed:
                return
            p.closed = True
        for s in (p.down, p.up):
            try:
                if rst:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                else:
                    s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass

    def _accept_loop(self):
        while not self.closing:
            try:
                down, _ = self.listener.accept()
            except OSError:
                return
            if self.refusing:
                down.close()
                self.accepted += 1
                continue
            try:
                up = socket.create_connection(self.upstream, timeout=2.0)
                up.settimeout(None)
            except OSError:
                down.close()
                self.accepted += 1
                continue
            for s in (down, up):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            p = _Pair(down, up)
            with self.lock:
                self.pairs = [q for q in self.pairs if not q.closed] + [p]
            self.accepted += 1          # counted once the pair is in place
            threading.Thread(target=self._pump, args=(p, down, up, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(p, up, down, True), daemon=True).start()

    def _pump(self, p, src, dst, to_relay):
        try:
            src.settimeout(0.05)
        except OSError:             # closed before this thread ran
            self._close(p, rst=False)
            return
        while not p.closed:
            if not self.thawed.is_set():
                self.thawed.wait(0.05)
                continue
            try:
                data = src.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            while not self.thawed.is_set() and not p.closed:   # froze while reading
                self.thawed.wait(0.05)
            if p.closed:
                break
            cut = False
            try:
                if to_relay:
                    with p.down_lock:
                        if p.cut_left is not None:
                            if len(data) >= p.cut_left:
                                data, cut = data[:p.cut_left], True
                            p.cut_left -= len(data)
                        dst.sendall(data)
                    self.bytes_down += len(data)
                else:
                    dst.sendall(data)
                    self.bytes_up += len(data)
            except OSError:
                break
            if cut:
                break
        self._close(p, rst=False)
