#!/usr/bin/python3
"""tls_client.py -- redis-py over TLS, for tests/unit/tls.tcl.

    tls_client.py CERTDIR TLSPORT PLAINPORT ping [nocert]
    tls_client.py CERTDIR TLSPORT PLAINPORT pubsub
    tls_client.py CERTDIR TLSPORT PLAINPORT echo_flood

ping: PING over TLS (with the client certificate unless "nocert"); prints
PONG, or "ERR <exception>" and exits 1.
pubsub: a TLS subscriber (SUBSCRIBE + PSUBSCRIBE) and a plain one on the
same channel; a TLS publisher sends a 1 MiB message both receive intact,
then 10000 pipelined messages the TLS subscriber gets in order, then a
backlog of small and large messages it reads only once all are sent.
echo_flood: 20 MB of pipelined ECHOs over one TLS socket, replies checked.
Prints "ok"
or fails with a traceback. Every wait has a timeout.
"""
import sys

import redis

TIMEOUT = 10


def tls_client(certdir, port, cert=True):
    kw = dict(host="127.0.0.1", port=port, ssl=True, ssl_ca_certs=certdir + "/ca.crt",
              socket_timeout=TIMEOUT)
    if cert:
        kw.update(ssl_certfile=certdir + "/client.crt", ssl_keyfile=certdir + "/client.key")
    return redis.Redis(**kw)


def expect(ps, kind, channel=None):
    m = ps.get_message(timeout=TIMEOUT)
    assert m is not None, "no %s within %ss" % (kind, TIMEOUT)
    assert m["type"] == kind, m
    if channel is not None:
        assert m["channel"] == channel, m
    return m


def pubsub(certdir, tls_port, plain_port):
    sub = tls_client(certdir, tls_port).pubsub()
    sub.subscribe("tls.big")
    expect(sub, "subscribe", b"tls.big")
    sub.psubscribe("tls.n.*")
    expect(sub, "psubscribe", b"tls.n.*")
    plain = redis.Redis(host="127.0.0.1", port=plain_port, socket_timeout=TIMEOUT).pubsub()
    plain.subscribe("tls.big")
    expect(plain, "subscribe", b"tls.big")
    pub = tls_client(certdir, tls_port)

    big = bytes(range(256)) * 4096  # 1 MiB, every byte value
    assert pub.publish("tls.big", big) == 2
    for ps in (sub, plain):
        m = expect(ps, "message", b"tls.big")
        assert m["data"] == big, "1 MiB message corrupted (%d bytes)" % len(m["data"])

    n = 10000
    p = pub.pipeline(transaction=False)
    for i in range(n):
        p.publish("tls.n.x", str(i))
    assert p.execute() == [1] * n
    for i in range(n):
        m = expect(sub, "pmessage", b"tls.n.x")
        assert m["data"] == str(i).encode(), (i, m)
    # A backlog: the subscriber reads nothing until everything is published,
    # so the server's writes block mid-record and are retried while small
    # and large messages keep being queued behind them.
    msgs = []
    for i in range(200):
        msgs.append(b"%d:" % i + (big[: len(big) - i * 7919] if i % 20 == 0 else b"x" * (i % 600)))
    p = pub.pipeline(transaction=False)
    for m in msgs:
        p.publish("tls.n.backlog", m)
    assert p.execute() == [1] * len(msgs)
    for i, want in enumerate(msgs):
        m = expect(sub, "pmessage", b"tls.n.backlog")
        assert m["data"] == want, "backlog message %d: %d bytes, want %d" % (i, len(m["data"]), len(want))
    for c in (sub, plain):
        c.close()
    pub.close()
    print("ok")


def echo_flood(certdir, tls_port, n=20000, size=1000):
    """One TLS socket pipelines n ECHOs of size bytes while reading the
    replies, in one thread (an SSL object must not be shared between
    threads): the server's output backlog passes the point where it stops
    reading a client, so its reading resumes from TLS state."""
    import select
    import socket
    import ssl
    import time

    ctx = ssl.create_default_context(cafile=certdir + "/ca.crt")
    ctx.load_cert_chain(certdir + "/client.crt", certdir + "/client.key")
    sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", tls_port), timeout=TIMEOUT),
                           server_hostname="localhost")
    sock.setblocking(False)
    payload = (b"0123456789abcdef" * (size // 16 + 1))[:size]
    cmd = b"*2\r\n$4\r\nECHO\r\n$%d\r\n%s\r\n" % (size, payload)
    reply = b"$%d\r\n%s\r\n" % (size, payload)
    out = memoryview(cmd * n)
    sent = 0
    got = bytearray()
    want = len(reply) * n
    deadline = time.time() + 120
    # Reading starts only once sending blocks: by then the server holds
    # more replies than it lets pile up, and has stopped reading us.
    reading = False
    while len(got) < want:
        assert time.time() < deadline, "stalled: sent %d, received %d of %d" % (sent, len(got), want)
        wlist = [sock] if sent < len(out) else []
        select.select([sock] if reading else [], wlist, [], 1.0)
        if reading:
            try:
                while True:
                    chunk = sock.recv(1 << 20)
                    assert chunk, "connection closed after %d of %d bytes" % (len(got), want)
                    got += chunk
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
        if sent < len(out):
            try:
                sent += sock.send(out[sent:sent + 65536])
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                reading = True
        else:
            reading = True
    assert bytes(got) == reply * n, "replies differ"
    sock.close()
    print("ok")


def main():
    certdir, tls_port, plain_port, what = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    if what == "ping":
        try:
            print(tls_client(certdir, tls_port, cert=sys.argv[5:] != ["nocert"]).ping() and "PONG")
        except Exception as e:  # the test asserts on the text
            print("ERR %r" % e)
            sys.exit(1)
    elif what == "pubsub":
        pubsub(certdir, tls_port, plain_port)
    elif what == "echo_flood":
        echo_flood(certdir, tls_port)
    else:
        sys.exit("unknown command " + what)


if __name__ == "__main__":
    main()
