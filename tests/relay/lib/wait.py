"""wait.py -- poll for a state, never sleep for one.

wait_for(fn, timeout, what) calls fn until it returns something truthy (or,
with want_none=True, until it returns None: fn then returns a string saying
what is still wrong) and returns that value; on timeout it raises WaitTimeout
naming `what` and the last value or exception seen, so a failure says which
state never came.

Relay helpers read INFO upstream (field names from notes/relay-spec.md):
relay_info(port) -> dict, relay_links(info) -> list of link dicts,
wait_relay(port, channels=, patterns=, shard_channels=, timeout=) waits for
upstream_status:up, upstream_pending:0 and the given counts.
"""
import time

from .resp import Client, parse_info, parse_kv


class WaitTimeout(AssertionError):
    pass


def wait_for(fn, timeout, what, want_none=False, interval=0.02):
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            v = fn()
            err = None
        except Exception as e:  # noqa: BLE001 -- keep polling; report the last one
            v, err = (None if not want_none else "exception"), e
        if err is None:
            if want_none and v is None:
                return None
            if not want_none and v:
                return v
            last = v
        else:
            last = "%s: %s" % (type(err).__name__, err)
        if time.monotonic() >= deadline:
            raise WaitTimeout("timed out after %.1fs waiting for %s (last: %s)" % (timeout, what, last))
        time.sleep(interval)


def relay_info(port, host="127.0.0.1", **kw):
    c = Client(host, port, timeout=2.0, **kw)
    try:
        return parse_info(c.call("INFO", "upstream"))
    finally:
        c.close()


def relay_links(info):
    out = []
    i = 0
    while "upstream_link%d" % i in info:
        out.append(parse_kv(info["upstream_link%d" % i]))
        i += 1
    return out


def relay_state(info):
    """A one-line summary of INFO upstream for failure messages."""
    keys = ("upstream_mode", "upstream_status", "upstream_links", "upstream_channels",
            "upstream_patterns", "upstream_shard_channels", "upstream_pending",
            "upstream_reconnects", "upstream_gaps")
    s = " ".join("%s=%s" % (k[9:], info.get(k, "?")) for k in keys)
    links = ["%s/%s/%s/%s" % (l.get("addr"), l.get("kind"), l.get("role"), l.get("state"))
             for l in relay_links(info)]
    return s + " links=[" + " ".join(links) + "]"


def wait_relay(port, timeout=10.0, channels=None, patterns=None, shard_channels=None,
               status="up", extra=None, **kw):
    """Waits until INFO upstream says status, pending 0 and the given counts;
    extra(info) may add a condition (return True when satisfied)."""
    state = {}

    def check():
        info = relay_info(port, **kw)
        state["info"] = info
        if info.get("upstream_status") != status:
            return "status %s" % relay_state(info)
        if info.get("upstream_pending") != "0":
            return "pending %s" % relay_state(info)
        for key, want in (("upstream_channels", channels), ("upstream_patterns", patterns),
                          ("upstream_shard_channels", shard_channels)):
            if want is not None and info.get(key) != str(want):
                return "%s!=%s: %s" % (key, want, relay_state(info))
        if extra is not None and not extra(info):
            return "extra condition: %s" % relay_state(info)
        return None

    wait_for(check, timeout, "relay on port %d up" % port, want_none=True, interval=0.03)
    return state["info"]


def counter(port, field, **kw):
    return int(relay_info(port, **kw).get(field, "-1"))
