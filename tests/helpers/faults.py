#!/usr/bin/python3
"""faults.py MODE PORT ARGS... -- the client side of tests/unit/faults.tcl,
for what Tcl cannot do: reset a connection (SO_LINGER 0), hold thousands of
sockets, stop a subscriber process, load a server with many clients.

Every mode talks to 127.0.0.1:PORT, prints its results as lines on stdout
("ok ...", "error: ...") and exits 1 on any error. Every read has a
deadline. Modes that wait for the test to act print a line and then read
one line from stdin before going on.

  rst-frame PORT HEX [sync]
      For every prefix of the bytes HEX (empty to whole), one connection
      sends that prefix and is reset. With "sync" the connection first
      answers a PING, and a second connection's PING proves the server has
      read the prefix before the reset.
  rst-pipeline PORT CHANNEL N [wait]
      Sends N complete PUBLISH CHANNEL m<i> and half of one more in one
      write, then resets; with "wait", prints "sent" and resets only after
      reading a line. (A reset makes Linux drop what the server has not
      read yet, so without "wait" only a prefix of the N may arrive.)
  rst-backlog PORT CHANNEL OFFSET...
      For each OFFSET: a subscriber lets the server queue 48 messages of
      64 KiB, reads OFFSET bytes, and is reset. A healthy subscriber in this
      process must receive every message, byte for byte.
  conns PORT N ROUNDS
      Per round: opens N connections, each answers a PING, prints
      "open ROUND", waits for a line; closes them (every third one by
      reset), prints "closed ROUND", waits for a line.
  sub PORT CHANNEL COUNT
      Subscribes, prints "ready", then expects COUNT messages with payloads
      0..COUNT-1 in order, each padded to 100 bytes; prints "ok COUNT".
  load PORT N CHANNEL
      N clients: half subscribe to CHANNEL, half publish to it in pipelined
      bursts. Prints "running" once messages flow, then runs until the
      server closes every connection, and prints "ok closed".
  flood PORT MB
      Pipelines MB megabytes of PUBLISH and PING without reading, until all
      is sent or the server has taken nothing for 1 s; prints "sent BYTES
      CMDS". Waits for a line, then reads every reply, checks each, and
      prints "ok replies CMDS".
  setfd PID LIMIT
      Sets the open-files limit (soft and hard) of process PID.
"""
import os
import resource
import select
import socket
import struct
import sys
import threading
import time

HOST = "127.0.0.1"
TIMEOUT = 20.0


class Failure(Exception):
    pass


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def connect(port):
    s = socket.create_connection((HOST, port), timeout=TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def reset(s):
    """Closes with an RST instead of a FIN: linger on, timeout 0."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def read_exact(s, n):
    chunks = []
    while n > 0:
        d = s.recv(min(n, 1 << 20))
        if not d:
            raise Failure("connection closed with %d bytes still expected" % n)
        chunks.append(d)
        n -= len(d)
    return b"".join(chunks)


def expect(s, want):
    got = read_exact(s, len(want))
    if got != want:
        raise Failure("expected %r, got %r" % (want[:200], got[:200]))


def ping(s):
    s.sendall(b"PING\r\n")
    expect(s, b"+PONG\r\n")


def message_bytes(channel, payload):
    return encode("message", channel, payload)


def subscribe(s, channel):
    s.sendall(encode("SUBSCRIBE", channel))
    expect(s, b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:1\r\n" % (len(channel), channel.encode()))


# ---------------------------------------------------------------------------
# Resets at every byte, mid-pipeline and mid-write
# ---------------------------------------------------------------------------

def mode_rst_frame(port, hexbytes, sync=None):
    frame = bytes.fromhex(hexbytes)
    control = connect(port) if sync else None
    for k in range(len(frame) + 1):
        s = connect(port)
        if sync:
            ping(s)
        if k:
            s.sendall(frame[:k])
        if sync:
            ping(control)
        reset(s)
    if control:
        control.close()
    print("ok %d" % (len(frame) + 1))


def mode_rst_pipeline(port, channel, n, wait=None):
    n = int(n)
    data = b"".join(encode("PUBLISH", channel, "m%d" % i) for i in range(n))
    last = encode("PUBLISH", channel, "m%d" % n)
    s = connect(port)
    ping(s)
    s.sendall(data + last[: len(last) // 2])
    if wait:
        print("sent", flush=True)
        wait_line()
    reset(s)
    print("ok %d" % n)


def mode_rst_backlog(port, channel, *offsets):
    payloads = [(b"%05d" % i) * 13107 + b"x" for i in range(48)]  # 64 KiB each
    for off in map(int, offsets):
        healthy, doomed, pub = connect(port), connect(port), connect(port)
        subscribe(healthy, channel)
        subscribe(doomed, channel)
        want = b"".join(message_bytes(channel, p) for p in payloads)
        got = []
        reader = threading.Thread(target=lambda: got.append(read_exact(healthy, len(want))))
        reader.start()
        pub.sendall(b"".join(encode("PUBLISH", channel, p) for p in payloads))
        expect(pub, b":2\r\n" * len(payloads))
        if off:
            read_exact(doomed, off)
        reset(doomed)
        reader.join(TIMEOUT)
        if not got or got[0] != want:
            raise Failure("healthy subscriber got a wrong stream (offset %d)" % off)
        # The server must drop the reset subscriber and go on serving.
        pub.sendall(encode("PUBLISH", channel, "after"))
        deadline = time.time() + TIMEOUT
        while True:
            r = read_exact(pub, 4)
            if r == b":1\r\n":
                break
            if r != b":2\r\n" or time.time() > deadline:
                raise Failure("PUBLISH after the reset replied %r" % r)
            pub.sendall(encode("PUBLISH", channel, "after"))
        healthy.close()
        pub.close()
    print("ok %d" % len(offsets))


# ---------------------------------------------------------------------------
# Many connections
# ---------------------------------------------------------------------------

def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        if hard != resource.RLIM_INFINITY and hard < n:
            raise Failure("open-files hard limit %d is below %d" % (hard, n))
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, hard))


def wait_line():
    if not sys.stdin.readline():
        raise Failure("stdin closed")


def ping_all(socks):
    """Pipelines a PING on every socket, then waits for every PONG."""
    for s in socks:
        s.sendall(b"PING\r\n")
    ep = select.epoll()
    left = {}
    for s in socks:
        ep.register(s.fileno(), select.EPOLLIN)
        left[s.fileno()] = [s, b""]
    deadline = time.time() + TIMEOUT
    while left:
        if time.time() > deadline:
            raise Failure("%d connections did not answer PING" % len(left))
        for fd, _ in ep.poll(1.0):
            entry = left[fd]
            d = entry[0].recv(64)
            if not d:
                raise Failure("connection closed before PONG")
            entry[1] += d
            if entry[1] == b"+PONG\r\n":
                ep.unregister(fd)
                del left[fd]
    ep.close()


def mode_conns(port, n, rounds):
    n, rounds = int(n), int(rounds)
    raise_nofile(n + 100)
    for r in range(rounds):
        socks = []
        for i in range(n):
            s = socket.socket()
            s.settimeout(TIMEOUT)
            s.connect((HOST, port))
            socks.append(s)
        ping_all(socks)
        print("open %d" % r, flush=True)
        wait_line()
        for i, s in enumerate(socks):
            if i % 3 == 0:
                reset(s)
            else:
                s.close()
        print("closed %d" % r, flush=True)
        wait_line()
    print("ok %d" % rounds)


# ---------------------------------------------------------------------------
# A subscriber process to stop and continue
# ---------------------------------------------------------------------------

def pad100(i):
    return (b"%d:" % i).ljust(100, b"p")


def mode_sub(port, channel, count):
    count = int(count)
    s = connect(port)
    s.settimeout(60)
    subscribe(s, channel)
    print("ready", flush=True)
    buf = b""
    for i in range(count):
        want = message_bytes(channel, pad100(i))
        while len(buf) < len(want):
            d = s.recv(1 << 20)
            if not d:
                raise Failure("closed after %d messages" % i)
            buf += d
        if buf[: len(want)] != want:
            raise Failure("message %d: expected %r, got %r" % (i, want, buf[: len(want)]))
        buf = buf[len(want):]
    print("ok %d" % count)


# ---------------------------------------------------------------------------
# Load while the server is told to stop
# ---------------------------------------------------------------------------

def mode_load(port, n, channel):
    n = int(n)
    subs = [connect(port) for _ in range(n // 2)]
    pubs = [connect(port) for _ in range(n - n // 2)]
    for s in subs:
        subscribe(s, channel)
    for s in pubs + subs:
        s.setblocking(False)
    burst = encode("PUBLISH", channel, "x" * 64) * 20
    ep = select.epoll()
    alive = {}
    for s in subs:
        ep.register(s.fileno(), select.EPOLLIN)
        alive[s.fileno()] = s
    for s in pubs:
        ep.register(s.fileno(), select.EPOLLIN | select.EPOLLOUT)
        alive[s.fileno()] = s
    received = 0
    announced = False
    deadline = time.time() + 60
    while alive:
        if time.time() > deadline:
            raise Failure("%d connections still open after 60 s" % len(alive))
        for fd, ev in ep.poll(0.5):
            s = alive.get(fd)
            if s is None:
                continue
            try:
                if ev & select.EPOLLOUT:
                    s.send(burst)
                if ev & (select.EPOLLIN | select.EPOLLHUP | select.EPOLLERR):
                    d = s.recv(1 << 16)
                    if not d:
                        raise ConnectionResetError
                    received += len(d)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                ep.unregister(fd)
                del alive[fd]
                s.close()
        if not announced and received > 100000:
            print("running", flush=True)
            announced = True
    print("ok closed")


# ---------------------------------------------------------------------------
# A client that never reads
# ---------------------------------------------------------------------------

def mode_flood(port, mb):
    total = int(mb) << 20
    cmds_in_chunk = [b"PING\r\n"] * 64 + [encode("PUBLISH", "flood.none", "f" * 200)]
    chunk = b"".join(cmds_in_chunk)
    ends, pos = [], 0
    for c in cmds_in_chunk:
        pos += len(c)
        ends.append(pos)
    s = connect(port)
    s.setblocking(False)
    sent = 0
    deadline = time.time() + 60
    # Not writable for a whole second: the server has stopped reading. (A
    # blocked socket still takes a few hundred bytes now and then, so
    # "send succeeded" is no sign of progress.)
    while sent < total and time.time() < deadline:
        if not select.select([], [s], [], 1.0)[1]:
            break
        try:
            sent += s.send(chunk[sent % len(chunk):])
        except BlockingIOError:
            continue
    # Only whole commands get replies; a cut one waits in the server.
    cmds = (sent // len(chunk)) * len(ends) + sum(1 for e in ends if e <= sent % len(chunk))
    print("sent %d %d" % (sent, cmds), flush=True)
    wait_line()
    s.setblocking(True)
    s.settimeout(TIMEOUT)
    replies = [b"+PONG\r\n"] * 64 + [b":0\r\n"]
    rchunk = b"".join(replies)
    want_len = (cmds // len(ends)) * len(rchunk) + sum(len(r) for r in replies[: cmds % len(ends)])
    pos = 0
    while pos < want_len:
        d = s.recv(min(1 << 20, want_len - pos))
        if not d:
            raise Failure("closed after %d of %d reply bytes" % (pos, want_len))
        if not check_stream(d, pos, rchunk):
            raise Failure("wrong reply bytes near offset %d" % pos)
        pos += len(d)
    print("ok replies %d" % cmds)


def check_stream(d, pos, period):
    """True if d, found at offset pos of a repetition of period, matches it."""
    o = pos % len(period)
    reps = period[o:] + period * (len(d) // len(period) + 1)
    return reps[: len(d)] == d


def mode_setfd(pid, limit):
    limit = int(limit)
    resource.prlimit(int(pid), resource.RLIMIT_NOFILE, (limit, limit))
    print("ok %d" % limit)


MODES = {
    "rst-frame": mode_rst_frame,
    "rst-pipeline": mode_rst_pipeline,
    "rst-backlog": mode_rst_backlog,
    "conns": mode_conns,
    "sub": mode_sub,
    "load": mode_load,
    "flood": mode_flood,
    "setfd": mode_setfd,
}


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in MODES:
        print(__doc__, file=sys.stderr)
        return 2
    mode, args = sys.argv[1], sys.argv[2:]
    if mode != "setfd":
        args[0] = int(args[0])
    try:
        MODES[mode](*args)
    except (Failure, OSError) as e:
        print("error: %s: %s" % (type(e).__name__, e), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
