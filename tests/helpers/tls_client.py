#!/usr/bin/python3
"""tls_client.py -- redis-py over TLS, for tests/unit/tls.tcl.

    tls_client.py CERTDIR TLSPORT PLAINPORT ping [nocert]
    tls_client.py CERTDIR TLSPORT PLAINPORT pubsub

ping: PING over TLS (with the client certificate unless "nocert"); prints
PONG, or "ERR <exception>" and exits 1.
pubsub: a TLS subscriber (SUBSCRIBE + PSUBSCRIBE) and a plain one on the
same channel; a TLS publisher sends a 1 MiB message both receive intact,
then 10000 pipelined messages the TLS subscriber gets in order, then a
backlog of small and large messages it reads only once all are sent.
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
    else:
        sys.exit("unknown command " + what)


if __name__ == "__main__":
    main()
