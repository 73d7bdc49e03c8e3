#!/usr/bin/env python3
"""gen-command-meta.py -- Writes src/commands_meta.c, the COMMAND INFO and
COMMAND DOCS data of every command, from captured replies.

    utils/gen-command-meta.py [CAPTURE_DIR] > src/commands_meta.c

Inputs are RESP3 captures in the format of ../shared/redis-7.2-replies/
(README.md there): a line "# COMMAND INFO name" or "# COMMAND DOCS name",
then the reply bytes, then a newline. Read, in order, and the first entry of
a name wins:
  CAPTURE_DIR/command-info.resp3, CAPTURE_DIR/command-docs.resp3
      Redis 7.2.6 (default: tests/assets/redis72, a copy of
      ../shared/redis-7.2-replies/);
  utils/command-meta-extra.resp3
      commands the 7.2 capture lacks, each entry's origin said above it.
The replies are facts about Redis's behaviour; this script turns them into
C data (no code of Redis is involved) and fails on any field it does not
know, so that nothing is dropped silently. The C side (cmd_admin.c) encodes
the data back, in RESP2 or RESP3, and tests/unit/command_table.tcl compares the
result with the captures byte for byte.

Only python3's standard library is used. The output is committed: building
the server does not need Python. Re-run it after changing an input.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DIR = os.path.join(os.path.dirname(HERE), "tests", "assets", "redis72")


# ---------------------------------------------------------------------------
# RESP3 reader: returns (type, value) for aggregates and simple strings,
# plain Python values for bulk strings, integers and nulls.
# ---------------------------------------------------------------------------

def parse(data, i):
    t = data[i:i + 1]
    j = data.index(b"\r\n", i)
    line = data[i + 1:j]
    i = j + 2
    if t in (b"+", b"-"):
        return (t.decode(), line.decode()), i
    if t == b":":
        return int(line), i
    if t == b"_":
        return None, i
    if t == b"$":
        n = int(line)
        return data[i:i + n].decode(), i + n + 2
    if t in (b"*", b"~", b"%"):
        n = int(line)
        out = []
        for _ in range(n * 2 if t == b"%" else n):
            v, i = parse(data, i)
            out.append(v)
        return (t.decode(), out), i
    raise ValueError("unexpected RESP type %r at byte %d" % (t, i))


def read_entries(path):
    """Yields (kind, name, reply) for each entry of a capture file."""
    data = open(path, "rb").read()
    i = 0
    while i < len(data):
        j = data.index(b"\n", i)
        header = data[i:j].decode()
        i = j + 1
        if header.startswith("#") and not header.startswith("# COMMAND "):
            continue                         # a comment line
        _, _, kind, name = header.split(" ", 3)
        reply, i = parse(data, i)
        if data[i:i + 1] != b"\n":
            raise ValueError("%s: no newline after %s" % (path, header))
        i += 1
        yield kind, name, reply


def items(v, t):
    if not isinstance(v, tuple) or v[0] != t:
        raise ValueError("expected %s, got %r" % (t, v))
    return v[1]


def pairs(v):
    kv = items(v, "%")
    return list(zip(kv[0::2], kv[1::2]))


def words(v, t="~"):
    out = []
    for x in items(v, t):
        out.append(x[1] if isinstance(x, tuple) else x)
    return out


# ---------------------------------------------------------------------------
# Collecting the data of each command (and subcommand, by "parent|sub")
# ---------------------------------------------------------------------------

meta = {}          # name -> dict


def take_info(entry):
    (name, arity, flags, first, last, step, cats, tips, specs, subs) = items(entry, "*")
    m = meta.setdefault(name, {})
    if "arity" in m:
        return
    m.update(arity=arity, flags=words(flags), first=first, last=last, step=step,
             cats=words(cats), tips=words(tips), specs=[], subs=[])
    for spec in items(specs, "~"):
        m["specs"].append(take_key_spec(name, spec))
    for sub in items(subs, "*" if subs[0] == "*" else "~"):
        m["subs"].append(items(sub, "*")[0])
        take_info(sub)


def take_key_spec(name, spec):
    kv = pairs(spec)
    d = dict(kv)
    keys = [k for k, _ in kv]
    if keys not in (["flags", "begin_search", "find_keys"], ["notes", "flags", "begin_search", "find_keys"]):
        raise ValueError("%s: key spec fields %s" % (name, keys))
    bs = dict(pairs(d["begin_search"]))
    fk = dict(pairs(d["find_keys"]))
    if bs["type"] not in ("index", "keyword") or fk["type"] != "range":
        raise ValueError("%s: only index or keyword / range key specs are supported" % name)
    bss = dict(pairs(bs["spec"]))
    fks = dict(pairs(fk["spec"]))
    out = {"flags": words(d["flags"]), "lastkey": fks["lastkey"], "keystep": fks["keystep"],
           "limit": fks["limit"], "notes": d.get("notes"), "keyword": None, "index": 0}
    if bs["type"] == "index":
        out["index"] = bss["index"]
    else:
        if list(bss) != ["keyword", "startfrom"]:
            raise ValueError("%s: keyword spec fields %s" % (name, list(bss)))
        out["keyword"] = bss["keyword"]
        out["index"] = bss["startfrom"]
    return out


DOC_KEYS = ["summary", "since", "group", "complexity", "doc_flags", "deprecated_since",
            "replaced_by", "history", "arguments", "subcommands"]
ARG_KEYS = ["name", "type", "key_spec_index", "display_text", "token", "since", "flags", "deprecated_since",
            "arguments"]


def check_order(what, keys, known):
    pos = [known.index(k) if k in known else -1 for k in keys]
    if -1 in pos:
        raise ValueError("%s: unknown field %s" % (what, keys[pos.index(-1)]))
    if pos != sorted(pos):
        raise ValueError("%s: fields in an order the encoder does not write: %s" % (what, keys))


def take_docs(name, doc):
    m = meta.setdefault(name, {})
    if "summary" in m:
        return
    kv = pairs(doc)
    check_order(name, [k for k, _ in kv], DOC_KEYS)
    d = dict(kv)
    m["summary"] = d["summary"]
    m["since"] = d["since"]
    m["group"] = d["group"]
    m["complexity"] = d.get("complexity")
    m["doc_flags"] = words(d["doc_flags"]) if "doc_flags" in d else []
    m["deprecated_since"] = d.get("deprecated_since")
    m["replaced_by"] = d.get("replaced_by")
    m["history"] = [tuple(items(h, "*")) for h in items(d["history"], "~")] if "history" in d else []
    m["args"] = [take_arg(name, a) for a in items(d["arguments"], "*")] if "arguments" in d else None
    if "subcommands" in d:
        for sub, sdoc in pairs(d["subcommands"]):
            take_docs(sub, sdoc)


def take_arg(cmd, a):
    kv = pairs(a)
    check_order(cmd + " argument", [k for k, _ in kv], ARG_KEYS)
    d = dict(kv)
    return {"name": d["name"], "type": d["type"], "key_spec_index": d.get("key_spec_index"),
            "display_text": d.get("display_text"),
            "token": d.get("token"), "since": d.get("since"),
            "deprecated_since": d.get("deprecated_since"),
            "flags": words(d["flags"]) if "flags" in d else [],
            "args": [take_arg(cmd, s) for s in items(d["arguments"], "*")] if "arguments" in d else None}


# ---------------------------------------------------------------------------
# C output
# ---------------------------------------------------------------------------

def cstr(s):
    if s is None:
        return "NULL"
    out = '"'
    for ch in s:
        if ch in '"\\':
            out += "\\" + ch
        elif 32 <= ord(ch) < 127:
            out += ch
        else:
            raise ValueError("non-printable character in %r" % s)
    return out + '"'


def ident(name):
    return "".join(ch if ch.isalnum() else "_" for ch in name)


ARG_FLAG = {"optional": "CMD_ARG_OPTIONAL", "multiple": "CMD_ARG_MULTIPLE",
            "multiple_token": "CMD_ARG_MULTIPLE_TOKEN"}

out = []
counter = [0]


def emit_args(prefix, args):
    """Emits the array for args (children first); returns its C name."""
    counter[0] += 1
    cname = "args_%s_%d" % (prefix, counter[0])
    children = [emit_args(prefix, a["args"]) if a["args"] else "NULL" for a in args]
    out.append("static const command_arg %s[] = {" % cname)
    for a, child in zip(args, children):
        flags = " | ".join(ARG_FLAG[f] for f in a["flags"]) or "0"
        ksi = ", %d" % (0 if a["key_spec_index"] is None else a["key_spec_index"] + 1)
        out.append("    {%s, %s, %s, %s, %s, %s, %s, %s%s}," % (
            cstr(a["name"]), cstr(a["type"]), cstr(a["display_text"]), cstr(a["token"]),
            cstr(a["since"]), cstr(a["deprecated_since"]), flags, child, ksi))
    out.append("    {NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0},")
    out.append("};")
    return cname


def main():
    cap = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DIR
    sources = [os.path.join(cap, "command-info.resp3"), os.path.join(cap, "command-docs.resp3"),
               os.path.join(HERE, "command-meta-extra.resp3")]
    for path in sources:
        for kind, name, reply in read_entries(path):
            if kind == "INFO":
                for entry in items(reply, "*"):
                    take_info(entry)
            elif kind == "DOCS":
                for cmd, doc in pairs(reply):
                    take_docs(cmd, doc)
            else:
                raise ValueError("%s: unknown entry kind %s" % (path, kind))
    for name, m in meta.items():
        if "arity" not in m or "summary" not in m:
            raise ValueError("%s: needs both COMMAND INFO and COMMAND DOCS" % name)
        if sorted(m["subs"]) != sorted(n for n in meta if n.startswith(name + "|")):
            raise ValueError("%s: subcommands of INFO and DOCS differ" % name)

    print("/* commands_meta.c -- GENERATED by utils/gen-command-meta.py: do not edit.")
    print(" * What COMMAND INFO and COMMAND DOCS report for each command, as data:")
    print(" * Redis 7.2.6's replies (tests/assets/redis72/), plus the entries of")
    print(" * utils/command-meta-extra.resp3. Sorted by name, for commands_meta_find(). */")
    print('#include "commands.h"')
    print("")
    names = sorted(meta)
    for name in names:
        m = meta[name]
        p = ident(name)
        if m["tips"]:
            out.append("static const char *const tips_%s[] = {%s, NULL};" % (
                p, ", ".join(cstr(t) for t in m["tips"])))
        if m["specs"]:
            out.append("static const command_key_spec specs_%s[] = {" % p)
            for s in m["specs"]:
                extra = ", %s, %s" % (cstr(s["notes"]), cstr(s["keyword"]))
                out.append("    {%s, %d, %d, %d, %d%s}," % (cstr(" ".join(s["flags"])), s["index"],
                                                         s["lastkey"], s["keystep"], s["limit"], extra))
            out.append("};")
        if m["history"]:
            out.append("static const command_history history_%s[] = {" % p)
            for since, text in m["history"]:
                out.append("    {%s, %s}," % (cstr(since), cstr(text)))
            out.append("};")
        m["args_c"] = emit_args(p, m["args"]) if m["args"] else "NULL"
    print("\n".join(out))
    print("")
    print("const command_meta commands_meta[] = {")
    for name in names:
        m = meta[name]
        p = ident(name)
        print("    {%s, %d, %s, %d, %d, %d, %s," % (
            cstr(name), m["arity"], cstr(" ".join(m["flags"])), m["first"], m["last"], m["step"],
            cstr(" ".join(m["cats"]))))
        print("     %s, %s, %d," % ("tips_" + p if m["tips"] else "NULL",
                                  "specs_" + p if m["specs"] else "NULL", len(m["specs"])))
        print("     %s," % cstr(m["summary"]))
        print("     %s, %s, %s," % (cstr(m["since"]), cstr(m["group"]), cstr(m["complexity"])))
        print("     %s, %s, %s," % (cstr(" ".join(m["doc_flags"]) if m["doc_flags"] else None),
                                    cstr(m["deprecated_since"]), cstr(m["replaced_by"])))
        print("     %s, %d, %s}," % ("history_" + p if m["history"] else "NULL", len(m["history"]),
                                     m["args_c"]))
    print("};")
    print("")
    print("const size_t commands_meta_count = sizeof(commands_meta) / sizeof(commands_meta[0]);")


if __name__ == "__main__":
    main()
