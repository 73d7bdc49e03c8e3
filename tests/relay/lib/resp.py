"""resp.py -- a small blocking RESP2/RESP3 client for the relay suite.

What it does: connects (plain or TLS) to one server, sends commands as RESP
arrays, and parses every reply type of RESP2 and RESP3 (simple strings,
errors, integers, bulk and multi-bulk, and RESP3's null, boolean, double,
big number, verbatim string, map, set, attribute and push). Strings come back
as str (UTF-8, undecodable bytes kept by surrogateescape); errors come back as
RespError values and call() raises them; RESP3 pushes are Push lists so a
caller can tell them from replies. Every read has a deadline: a read that
does not complete in time raises Timeout, a closed connection raises
ConnectionClosed, and the connection is then useless (no resynchronisation).

What it does not do: no pooling, no cluster redirection, no retries, no
threads. One Client belongs to one thread at a time.
"""
import socket
import ssl
import time


class RespError(Exception):
    """An error reply (-ERR ..., !..., or a protocol violation by the peer)."""

    @property
    def code(self):
        return str(self).split(" ", 1)[0]


class ProtocolError(Exception):
    pass


class Timeout(Exception):
    pass


class ConnectionClosed(Exception):
    pass


class Push(list):
    """A RESP3 push frame (>...)."""


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode("utf-8", "surrogateescape")
        elif not isinstance(a, (bytes, bytearray)):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def _text(b):
    return b.decode("utf-8", "surrogateescape")


class Parser:
    """Incremental parser: feed() bytes, then get() until it returns
    Parser.NEED (not enough bytes for a whole value yet)."""
    NEED = object()

    def __init__(self):
        self.buf = bytearray()
        self.pos = 0

    def feed(self, data):
        if self.pos > 65536:
            del self.buf[:self.pos]
            self.pos = 0
        self.buf += data

    def get(self):
        try:
            value, pos = self._parse(self.pos)
        except IndexError:
            return Parser.NEED
        self.pos = pos
        return value

    def _line(self, pos):
        end = self.buf.find(b"\r\n", pos)
        if end < 0:
            raise IndexError
        return bytes(self.buf[pos:end]), end + 2

    def _parse(self, pos):
        if pos >= len(self.buf):
            raise IndexError
        t = self.buf[pos:pos + 1]
        line, pos = self._line(pos + 1)
        if t == b"+":
            return _text(line), pos
        if t == b"-":
            return RespError(_text(line)), pos
        if t == b":":
            return int(line), pos
        if t == b"(":
            return int(line), pos
        if t == b",":
            return float(line.replace(b"inf", b"Infinity")), pos
        if t == b"#":
            return line == b"t", pos
        if t == b"_":
            return None, pos
        if t in (b"$", b"=", b"!"):
            n = int(line)
            if n < 0:
                return None, pos
            if pos + n + 2 > len(self.buf):
                raise IndexError
            data = bytes(self.buf[pos:pos + n])
            pos += n + 2
            if t == b"=":
                data = data[4:]
            if t == b"!":
                return RespError(_text(data)), pos
            return _text(data), pos
        if t in (b"*", b"~", b">"):
            n = int(line)
            if n < 0:
                return None, pos
            items = []
            for _ in range(n):
                v, pos = self._parse(pos)
                items.append(v)
            if t == b">":
                return Push(items), pos
            return items, pos
        if t == b"%":
            n = int(line)
            m = {}
            for _ in range(n):
                k, pos = self._parse(pos)
                v, pos = self._parse(pos)
                m[k if not isinstance(k, list) else tuple(k)] = v
            return m, pos
        if t == b"|":
            n = int(line)
            for _ in range(2 * n):
                _, pos = self._parse(pos)
            return self._parse(pos)
        raise ProtocolError("bad type byte %r" % t)


class Client:
    """One connection. resp=3 sends HELLO 3 first (with AUTH if given)."""

    def __init__(self, host, port, resp=2, password=None, user=None,
                 tls_ca=None, tls_cert=None, tls_key=None, timeout=5.0,
                 name=None):
        self.host, self.port, self.resp = host, port, resp
        self.timeout = timeout
        self.parser = Parser()
        self.pushes = []
        self._stash = Parser.NEED
        s = socket.create_connection((host, port), timeout=timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls_ca:
            ctx = ssl.create_default_context(cafile=tls_ca)
            ctx.check_hostname = False
            if tls_cert:
                ctx.load_cert_chain(tls_cert, tls_key)
            s = ctx.wrap_socket(s)
        self.sock = s
        if resp == 3:
            args = ["HELLO", "3"]
            if password is not None:
                args += ["AUTH", user or "default", password]
            if name:
                args += ["SETNAME", name]
            self.call(*args)
        else:
            if password is not None:
                if user:
                    self.call("AUTH", user, password)
                else:
                    self.call("AUTH", password)
            if name:
                self.call("CLIENT", "SETNAME", name)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def fileno(self):
        return self.sock.fileno()

    def send(self, *args):
        self.sock.sendall(encode(*args))

    def send_raw(self, data):
        self.sock.sendall(data)

    def pending(self):
        """True when a whole value is already buffered."""
        if self._stash is not Parser.NEED:
            return True
        v = self.parser.get()
        if v is Parser.NEED:
            return False
        self._stash = v
        return True

    def read(self, timeout=None):
        """Next value from the wire (reply or push), within timeout seconds."""
        stash = self._stash
        if stash is not Parser.NEED:
            self._stash = Parser.NEED
            return stash
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            v = self.parser.get()
            if v is not Parser.NEED:
                return v
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("no reply from %s:%s within %.1fs" % (self.host, self.port,
                              self.timeout if timeout is None else timeout))
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ssl.SSLWantReadError:
                continue
            except (ConnectionResetError, BrokenPipeError) as e:
                raise ConnectionClosed("%s:%s: %s" % (self.host, self.port, e))
            if not data:
                raise ConnectionClosed("%s:%s closed the connection" % (self.host, self.port))
            self.parser.feed(data)

    def read_reply(self, timeout=None):
        """Next non-push value; RESP3 pushes met on the way go to self.pushes."""
        while True:
            v = self.read(timeout)
            if isinstance(v, Push):
                self.pushes.append(v)
                continue
            return v

    def call_raw(self, *args, timeout=None):
        """Sends one command and returns the exact bytes of its reply (for
        byte-for-byte comparisons); no push may be pending."""
        self.send(*args)
        start = self.parser.pos
        v = self.read(timeout)
        if isinstance(v, Push):
            raise ProtocolError("a push arrived where a reply was expected: %r" % (v,))
        return bytes(self.parser.buf[start:self.parser.pos])

    def call(self, *args, timeout=None):
        """Sends one command and returns its reply; raises RespError on an error reply."""
        self.send(*args)
        v = self.read_reply(timeout)
        if isinstance(v, RespError):
            raise v
        return v

    def call_noraise(self, *args, timeout=None):
        self.send(*args)
        return self.read_reply(timeout)

    def info(self, section=None):
        text = self.call("INFO", section) if section else self.call("INFO")
        return parse_info(text)


def parse_info(text):
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or ":" not in line:
            continue
        k, v = line.split(":", 1)
        out[k] = v
    return out


def parse_kv(value):
    """'addr=1.2.3.4:5,kind=shard,...' -> dict."""
    out = {}
    for part in value.split(","):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k] = v
    return out


def quick(host, port, *args, timeout=3.0, **kw):
    """One command on a fresh connection."""
    c = Client(host, port, timeout=timeout, **kw)
    try:
        return c.call(*args)
    finally:
        c.close()
