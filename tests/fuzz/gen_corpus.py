#!/usr/bin/env python3
"""gen_corpus.py -- writes the hand-made seed inputs of every fuzz target.

Run from anywhere: `python3 tests/fuzz/gen_corpus.py [target...]`. Seeds go to
tests/fuzz/corpus/<target>/seed-<name> (old seed-* files are removed first,
other files are left alone; merge.sh always keeps the seeds), and the
libFuzzer dictionaries to tests/fuzz/dict/<target>.dict. The input layouts are described at the top of
each fuzz_<target>.c; the helpers below build them.

Sources: RESP requests written out here (valid, pipelined, inline with
quotes, and each malformed form the parser reports), the glob cases of
tests/assets/glob-cases.txt, and for the config target redis-pubsub.conf,
tests/assets/default.conf, every directive with its default value (read
from CONFIG GET * through a tiny program built against src/config.c) and
snippets of each directive type.
"""
import os
import re
import subprocess
import struct
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SRC = os.path.join(ROOT, "src")


def write_seed(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60]
    with open(os.path.join(d, "seed-" + safe), "wb") as f:
        f.write(data)


def write_dict(target, tokens):
    d = os.path.join(HERE, "dict")
    os.makedirs(d, exist_ok=True)
    seen = set()
    with open(os.path.join(d, target + ".dict"), "w") as f:
        f.write("# libFuzzer dictionary for %s, written by gen_corpus.py\n" % target)
        for t in tokens:
            if t in seen:
                continue
            seen.add(t)
            esc = "".join(
                c if 32 <= ord(c) < 127 and c not in '"\\' else "\\x%02x" % ord(c)
                for c in t.decode("latin-1"))
            f.write('"%s"\n' % esc)


# ------------------------------------------------------------------------
# fuzz_resp: header (flags, max bulk, n, n chunk sizes) + stream
# ------------------------------------------------------------------------

def mbulk(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


RESP_STREAMS = {
    "ping": mbulk("PING"),
    "subscribe": mbulk("SUBSCRIBE", "news", "sport"),
    "psubscribe": mbulk("PSUBSCRIBE", "news.*", "h?llo", "[ab]*"),
    "publish-pipeline": mbulk("PUBLISH", "news", "hello") * 3 + mbulk("PING", "x"),
    "binary-arg": mbulk("PUBLISH", b"ch\x00\r\n", b"\xff\x80\r\n\x00"),
    "empty-arg": mbulk("ECHO", ""),
    "hello3-auth": mbulk("HELLO", "3", "AUTH", "default", "pw") + mbulk("SUBSCRIBE", "a"),
    "auth-then-big": mbulk("AUTH", "pw") + b"*12\r\n" + b"$1\r\na\r\n" * 12,
    "inline-ping": b"PING\r\n",
    "inline-lf": b"subscribe a b c\n",
    "inline-quotes": b'set "a b" \'c d\' "\\x41\\n\\t\\"" \'it\\\'s\'\r\n',
    "inline-escapes": b'echo "\\x4g\\xZZ\\a\\b\\r\\\\" \'\\n\'\n',
    "inline-unbalanced": b'echo "abc\r\n',
    "inline-unbalanced-single": b"echo 'abc\r\n",
    "inline-quote-glued": b'echo "a"b\r\n',
    "inline-blanks": b"\r\n\n   \n\t\x0b\x0c\r\nPING\n",
    "inline-then-mbulk": b"PING\r\n" + mbulk("PING") + b"ECHO x\n",
    "empty-mbulk": b"*0\r\n*-1\r\n" + mbulk("PING"),
    "count-invalid": b"*abc\r\n",
    "count-plus": b"*+1\r\n$1\r\na\r\n",
    "count-big": b"*2147483648\r\n",
    "count-max": b"*2147483647\r\n$1\r\na\r\n",
    "count-unauth": b"*11\r\n",
    "count-nul": b"*1\x00\r\n$4\r\nPING\r\n",
    "expected-dollar": b"*3\r\n:1\r\n",
    "expected-dollar-cr": b"*1\r\n\r\n",
    "bulk-negative": b"*1\r\n$-5\r\n",
    "bulk-invalid": b"*1\r\n$abc\r\n",
    "bulk-big": b"*1\r\n$536870913\r\n",
    "bulk-unauth": b"*1\r\n$16385\r\n",
    "bulk-small-limit": b"*1\r\n$600\r\n",
    "bulk-nocrlf": b"*1\r\n$3\r\nabcde\r\n",
    "bulk-nul-len": b"*1\r\n$1\x00\r\na\r\n",
    "incomplete-bulk": b"*2\r\n$4\r\nPING\r\n$10\r\nabc",
    "incomplete-cr": b"*1\r",
    "incomplete-count": b"*1",
    "nul-inline": b"PI\x00NG\r\nPING\r\n",
    "cr-only": b"PING\rPONG\r\n",
    "huge-count-small-data": b"*1000000\r\n$1\r\na\r\n",
    "leading-zero": b"*01\r\n$04\r\nPING\r\n",
}

RESP_HEADERS = {
    "bytewise": bytes([0, 0, 0]),
    "smallbulk-eager": bytes([2 | 4, 8, 2, 0, 6]),
    "unauth-auth2-mixed": bytes([1 | (2 << 3), 0, 3, 0, 9, 255]),
}


def gen_resp():
    for sname, stream in RESP_STREAMS.items():
        for hname, header in RESP_HEADERS.items():
            write_seed("fuzz_resp", "%s-%s" % (sname, hname), header + stream)
    # Limits right at their edges: pre-AUTH 10 arguments / 16384 bytes, and
    # a proto-max-bulk-len of 8 (header byte 1).
    unauth = bytes([1, 0, 1, 6])
    write_seed("fuzz_resp", "unauth-10-args", unauth + mbulk(*["a"] * 10))
    write_seed("fuzz_resp", "unauth-11-args", unauth + mbulk(*["a"] * 11))
    write_seed("fuzz_resp", "unauth-bulk-16384", unauth + mbulk("x" * 16384))
    write_seed("fuzz_resp", "unauth-bulk-16385", unauth + mbulk("x" * 16385))
    write_seed("fuzz_resp", "maxbulk8-ok", bytes([2, 8, 1, 3]) + mbulk("12345678"))
    write_seed("fuzz_resp", "maxbulk8-over", bytes([2, 8, 1, 3]) + mbulk("123456789"))
    # Lines past 64 KiB (flag bit 6 pads the stream with its last byte).
    pad = bytes([64 | 4, 0, 1, 100])
    write_seed("fuzz_resp", "pad-inline-too-big", pad + b"A")
    write_seed("fuzz_resp", "pad-count-too-big", pad + b"*1")
    write_seed("fuzz_resp", "pad-bulk-len-too-big", pad + b"*1\r\n$1")
    write_seed("fuzz_resp", "pad-nul-stall", pad + b"*1\x00")
    write_seed("fuzz_resp", "pad-inline-nul-stall", pad + b"PING\x00")
    write_seed("fuzz_resp", "pad-long-bulk", bytes([64 | 4, 0, 1, 200]) + b"*1\r\n$65000\r\nx")
    write_seed("fuzz_resp", "pad-pipeline", pad + b"PING\r\n" * 20 + b"\n")
    write_dict("fuzz_resp", [b"\r\n", b"*", b"$", b"*1\r\n", b"$4\r\n", b"*-1\r\n", b"$-1\r\n", b'"', b"'",
                             b"\\x", b"\\\\", b"\\'", b'\\"', b"PING", b"SUBSCRIBE", b"PUBLISH", b"AUTH",
                             b"2147483647", b"2147483648", b"16384", b"16385", b"536870912", b"\x00"])


# ------------------------------------------------------------------------
# fuzz_glob: flags, param, PATTERN \t STRING
# ------------------------------------------------------------------------

def unescape_field(s):
    out = bytearray()
    i = 0
    raw = s.encode("latin-1")
    while i < len(raw):
        if raw[i:i + 2] == b"\\x" and i + 4 <= len(raw) and re.match(rb"[0-9a-fA-F]{2}", raw[i + 2:i + 4]):
            out.append(int(raw[i + 2:i + 4], 16))
            i += 4
        else:
            out.append(raw[i])
            i += 1
    return bytes(out)


def gen_glob():
    path = os.path.join(ROOT, "tests", "assets", "glob-cases.txt")
    n = 0
    with open(path, encoding="latin-1") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) != 3:
                continue
            pat, s = unescape_field(fields[0]), unescape_field(fields[1])
            if b"\t" in pat:
                continue
            write_seed("fuzz_glob", "case-%03d" % n, b"\x00\x00" + pat + b"\t" + s)
            n += 1
    nocase = [(b"MAXCLIENT?", b"maxclients"), (b"[\\M]axclient?", b"maxclients"), (b"[Z-a]x", b"mx"),
              (b"[A-n]axclients", b"maxclients"), (b"\\Maxclient?", b"maxclients"), (b"[^\\M]x", b"mx")]
    for i, (p, s) in enumerate(nocase):
        write_seed("fuzz_glob", "nocase-%d" % i, b"\x00\x00" + p + b"\t" + s)
    # Amplified: units whose repetition straddles 1000 star groups.
    amp = [(b"*a", b"a"), (b"a*", b"a"), (b"*?", b"x"), (b"*[a-z]", b"q"), (b"**a", b"a"),
           (b"*a*", b"a"), (b"*\\", b"\\"), (b"*[^b]", b"a"), (b"a*b", b"ab"), (b"*ab", b"aab")]
    for i, (p, s) in enumerate(amp):
        # param % 21 picks 990 + that many star groups, param / 21 the
        # string's slack (-6..+6 bytes): around 1000 and 1001 groups matter.
        for param in (20, 137, 242, 180):
            write_seed("fuzz_glob", "amp-%d-%d" % (i, param), bytes([1, param]) + p + b"\t" + s)
        write_seed("fuzz_glob", "amp-nocase-%d" % i, bytes([3, 7]) + p.upper() + b"\t" + s)
    write_dict("fuzz_glob", [b"*", b"?", b"[", b"]", b"[^", b"\\", b"-", b"\t", b"[a-z]", b"\\*",
                             b"\x80", b"\xff", b"\x7f", b"\x00", b"**"])


# ------------------------------------------------------------------------
# fuzz_config: file text [NUL include text], 0x01 argv, 0x02 CONFIG SET
# ------------------------------------------------------------------------

DUMP_C = r"""
#include <stdio.h>
#include "config.h"
static void cb(void *ctx, const char *name, const char *value) {
    (void)ctx;
    printf("%s\t%s\n", name, value);
}
int main(void) {
    const char *all = "*";
    size_t len = 1;
    config_init_defaults();
    config_get(&all, &len, 1, cb, NULL);
    config_free();
    return 0;
}
"""


def config_defaults():
    """Returns [(name, value)] from CONFIG GET * of a program linked with
    the config modules, or [] if it cannot be built."""
    with tempfile.TemporaryDirectory() as tmp:
        c = os.path.join(tmp, "dump.c")
        exe = os.path.join(tmp, "dump")
        with open(c, "w") as f:
            f.write(DUMP_C)
        srcs = [os.path.join(SRC, s) for s in
                ("config.c", "config_compat.c", "buf.c", "glob.c", "log.c", "mem.c", "util.c")]
        try:
            subprocess.run(["cc", "-std=c11", "-D_GNU_SOURCE", "-I" + SRC, "-o", exe, c] + srcs + ["-lm"],
                           check=True, capture_output=True)
            out = subprocess.run([exe], check=True, capture_output=True).stdout.decode("latin-1")
        except (OSError, subprocess.CalledProcessError) as e:
            print("gen_corpus: cannot list the directives (%s); skipping those seeds" % e, file=sys.stderr)
            return []
    pairs = []
    for line in out.splitlines():
        name, _, value = line.partition("\t")
        pairs.append((name, value))
    return pairs


CONFIG_SNIPPETS = {
    "port": b"port 7000\n",
    "bind-list": b"bind 127.0.0.1 -::1 * -::*\n",
    "bind-empty": b'bind ""\n',
    "bind-too-many": b"bind" + b" 1.2.3.4" * 17 + b"\n",
    "save": b"save 3600 1 300 100\nsave 60 10000\n",
    "save-empty": b'save ""\n',
    "save-odd": b"save 3600\n",
    "obuf": b"client-output-buffer-limit pubsub 32mb 8mb 60 normal 0 0 0\n",
    "obuf-bad": b"client-output-buffer-limit pubsub 32mb\n",
    "obuf-class": b"client-output-buffer-limit slave 1gb 1gb 0\n",
    "memory-units": b"proto-max-bulk-len 1gb\nclient-query-buffer-limit 1048576\nmaxmemory 100KB\n",
    "memory-bad": b"proto-max-bulk-len 1xb\n",
    "memory-huge": b"maxmemory 99999999999999999999gb\n",
    "octal": b"unixsocketperm 700\n",
    "octal-bad": b"unixsocketperm 800\n",
    "enum": b"loglevel verbose\nsupervised systemd\nprotected-mode no\nenable-protected-configs local\n",
    "enum-bad": b"loglevel loud\n",
    "bool-bad": b"daemonize maybe\n",
    "int-range": b"port 65536\n",
    "int-neg": b"timeout -1\n",
    "hz": b"hz 100000\n",
    "requirepass": b'requirepass "p a s s"\n',
    "user": b"user alice on >pw ~news.* +@all\nuser bob off\n",
    "user-dup": b"user alice on\nuser alice off\n",
    "rename": b'rename-command CONFIG ""\nrename-command FLUSHALL x\n',
    "inert": b"appendonly yes\nloadmodule /x.so\nlua-replicate-commands yes\n",
    "sentinel": b"sentinel monitor m 127.0.0.1 6379 2\n",
    "unknown": b"no-such-directive 1\n",
    "unbalanced": b'requirepass "abc\n',
    "quotes": b"logfile 'a\\'b'\npidfile \"\\x41\\n\"\n",
    "quote-glued": b'logfile "a"b\n',
    "comments-blanks": b"# comment\n\n   \t\r\n  # indented\nport 1\r\n",
    "case": b"PORT 1\nLogLevel Warning\n",
    "alias": b"slaveof 127.0.0.1 6380\nreplicaof no one\n",
    "include": b"include inc.conf\nport 1\x00port 2\n",
    "include-wildcard": b"include *.conf\x00loglevel debug\n",
    "include-self": b"include inc.conf\x00include inc.conf\n",
    "include-missing": b"include nowhere.conf\n",
    "include-abs": b"include /etc/redis/inc.conf\x00timeout 5\n",
    "include-bad-inner": b"include inc.conf\x00bogus directive\n",
    "dir": b"dir /tmp\n",
    "no-newline": b"port 1",
}


def gen_config():
    for name in ("redis-pubsub.conf", os.path.join("tests", "assets", "default.conf")):
        p = os.path.join(ROOT, name)
        if os.path.exists(p):
            with open(p, "rb") as f:
                write_seed("fuzz_config", os.path.basename(name), f.read())
    for name, text in CONFIG_SNIPPETS.items():
        write_seed("fuzz_config", name, text)
    pairs = config_defaults()
    # Every directive with its default, in one file.
    if pairs:
        whole = "".join("%s %s\n" % (n, v if v else '""') for n, v in pairs if n != "dir")
        write_seed("fuzz_config", "all-defaults", whole.encode("latin-1"))
    # Command line and CONFIG SET forms.
    argvs = {
        "argv-port": [b"--port", b"6380"],
        "argv-save": [b"--save", b"--loglevel", b"verbose"],
        "argv-joined": [b"--port 6380", b"--bind", b"127.0.0.1", b"::1"],
        "argv-stdin": [b"-", b"--port", b"1"],
        "argv-quote": [b"--requirepass", b'a "b"\n'],
    }
    for name, args in argvs.items():
        write_seed("fuzz_config", name, b"\x01" + b"\x00".join(args))
    sets = {
        "set-maxclients": [b"maxclients", b"100", b"timeout", b"30"],
        "set-save": [b"save", b"100 1 200 2"],
        "set-save-empty": [b"save", b""],
        "set-bind": [b"bind", b"127.0.0.1 -::1"],
        "set-obuf": [b"client-output-buffer-limit", b"pubsub 1mb 512kb 10"],
        "set-immutable": [b"daemonize", b"yes"],
        "set-dup": [b"port", b"1", b"PORT", b"2"],
        "set-memory": [b"proto-max-bulk-len", b"2mb", b"maxmemory", b"1g"],
        "set-enum": [b"loglevel", b"debug"],
        "set-alias": [b"slave-read-only", b"no"],
        "set-hz": [b"hz", b"0"],
    }
    for name, args in sets.items():
        write_seed("fuzz_config", name, b"\x02" + b"\x00".join(args))
    tokens = [b"include ", b"user ", b"rename-command ", b"sentinel ", b"yes", b"no", b'""', b"''", b"\\x",
              b"mb", b"gb", b"kb", b"-::1", b"*", b"\n", b"\x00", b"\x01--", b"\x02", b"normal", b"replica",
              b"slave", b"pubsub", b"local", b"systemd", b"upstart", b"auto", b"debug", b"verbose", b"notice",
              b"warning", b"allchannels", b"resetchannels"]
    tokens += [n.encode() for n, _ in pairs]
    write_dict("fuzz_config", tokens)


# ------------------------------------------------------------------------
# fuzz_pubsub: flags, then ops (owner | code << 3, name length, name)
# ------------------------------------------------------------------------

ALPHABET = "abc.*?[]\\^-ab*x\x00"


def enc_name(s):
    out = bytearray([len(s)])
    for ch in s:
        out.append(ALPHABET.index(ch))
    return bytes(out)


def op(owner, code, name=None, extra=None):
    out = bytes([owner | (code << 3)])
    if name is not None:
        out += enc_name(name)
    if extra is not None:
        out += bytes([extra])
    return out


SUB, UNSUB, PSUB, PUNSUB, PUB, SSUB, SUNSUB, SPUB = range(8)
UNSUB_ALL, SUNSUB_ALL, PUNSUB_ALL, RELEASE, RELEASE_SOME = range(8, 13)
CHECK_ALL = 15


def gen_pubsub():
    seeds = {
        "sub-pub": [op(0, SUB, "a"), op(1, SUB, "a"), op(2, PUB, "a"), op(0, UNSUB, "a"), op(2, PUB, "a")],
        "pattern": [op(0, PSUB, "a*"), op(1, PSUB, "a?"), op(2, PSUB, "*"), op(3, PUB, "ab"), op(3, PUB, ""),
                    op(3, PUB, "b"), op(0, PUNSUB, "a*"), op(3, PUB, "ab")],
        "suffix": [op(0, PSUB, "*.a"), op(1, PSUB, "**.a"), op(2, PSUB, "b*.a"), op(3, PUB, "b.a"),
                   op(3, PUB, ".a"), op(3, PUB, "bc.a"), op(4, CHECK_ALL, "")],
        "classes": [op(0, PSUB, "[ab]*"), op(1, PSUB, "[^a]?"), op(2, PSUB, "\\*a"), op(3, PSUB, "a\\"),
                    op(4, PUB, "*a"), op(4, PUB, "a\\"), op(4, PUB, "ba"), op(4, PUB, "bb")],
        "same-pattern": [op(o, PSUB, "a*") for o in range(8)] + [op(0, PUB, "abc"), op(3, PUNSUB, "a*"),
                                                                 op(0, PUB, "a")],
        "shard": [op(0, SSUB, "a"), op(1, SUB, "a"), op(2, PSUB, "a"), op(3, SPUB, "a"), op(3, PUB, "a"),
                  op(0, SUNSUB, "a"), op(3, SPUB, "a")],
        "unsub-all": [op(0, SUB, "a"), op(0, SUB, "b"), op(0, SSUB, "a"), op(0, PSUB, "a*"), op(0, PSUB, "b*"),
                      op(0, UNSUB_ALL), op(0, PUNSUB_ALL), op(0, SUNSUB_ALL), op(1, PUB, "a")],
        "release": [op(0, SUB, "a"), op(0, PSUB, "*"), op(0, SSUB, "x"), op(0, RELEASE), op(1, PUB, "a")],
        "release-some": [op(0, SUB, "a"), op(0, SUB, "b"), op(0, SUB, "c"), op(0, PSUB, "a*"), op(0, PSUB, "?"),
                         op(0, SSUB, "x"), op(0, RELEASE_SOME, extra=2), op(1, PUB, "a"),
                         op(0, RELEASE_SOME, extra=3), op(1, PUB, "a")],
        "churn": [op(o % 8, SUB if o % 3 else UNSUB, "abc"[o % 3]) for o in range(40)] + [op(0, PUB, "a")],
        "literal-patterns": [op(0, PSUB, "abc"), op(1, PSUB, "ab"), op(2, PSUB, "\\a"), op(3, PUB, "abc"),
                             op(3, PUB, "a"), op(4, CHECK_ALL, "abc")],
        "nul-names": [op(0, SUB, "a\x00"), op(1, PSUB, "a\x00*"), op(2, PUB, "a\x00b"), op(2, PUB, "a\x00")],
    }
    for name, ops in seeds.items():
        write_seed("fuzz_pubsub", name, b"\x00" + b"".join(ops))
        write_seed("fuzz_pubsub", name + "-free-held", b"\x01" + b"".join(ops))


# ------------------------------------------------------------------------
# fuzz_reply: header (flags, max bulk, max elements, n, n chunk sizes) + stream
# ------------------------------------------------------------------------

def reply_header(chunks=(), max_bulk=None, max_elems=None):
    flags = (1 if max_bulk is not None else 0) | (2 if max_elems is not None else 0)
    return bytes([flags, max_bulk or 0, max_elems or 0, len(chunks)]) + bytes(chunks)


def gen_reply():
    streams = {
        "status": b"+OK\r\n",
        "error": b"-ERR unknown command 'x'\r\n",
        "moved": b"-MOVED 3999 127.0.0.1:6381\r\n",
        "int": b":1000\r\n:-9223372036854775808\r\n",
        "bulk": b"$5\r\nhello\r\n$0\r\n\r\n$-1\r\n",
        "array": b"*2\r\n$3\r\nfoo\r\n:1\r\n*0\r\n*-1\r\n",
        "message": b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n",
        "pmessage": b"*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$1\r\nx\r\n",
        "push": b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n>3\r\n$8\r\nsmessage\r\n$1\r\nc\r\n$0\r\n\r\n",
        "resp3-scalars": b"_\r\n,3.14\r\n,-inf\r\n,nan\r\n#t\r\n#f\r\n(12345678901234567890\r\n",
        "blob-verbatim": b"!21\r\nSYNTAX invalid syntax\r\n=15\r\ntxt:Some string\r\n",
        "map-set": b"%2\r\n+first\r\n:1\r\n+second\r\n~2\r\n+a\r\n#t\r\n",
        "attributes": b"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*2\r\n:2\r\n|1\r\n+ttl\r\n:3600\r\n:3\r\n",
        "nested": b"*3\r\n%1\r\n~1\r\n_\r\n>1\r\n,1.5\r\n*1\r\n(7\r\n#f\r\n",
        "deep-64": b"*1\r\n" * 64 + b":7\r\n",
        "deep-65": b"*1\r\n" * 65 + b":7\r\n",
        "bad-type": b"+OK\r\n?\r\n",
        "bad-crlf": b"$3\r\nfooxx",
        "bad-len": b"$01\r\n",
        "incomplete": b"*3\r\n$7\r\nmessage\r\n$2\r\nc",
    }
    for name, stream in streams.items():
        write_seed("fuzz_reply", name, reply_header() + stream)
        write_seed("fuzz_reply", name + "-chunks", reply_header((2, 0, 6)) + stream)
    write_seed("fuzz_reply", "limit-bulk-ok", reply_header((3,), max_bulk=8) + b"$8\r\n12345678\r\n+12345678\r\n")
    write_seed("fuzz_reply", "limit-bulk-over", reply_header((3,), max_bulk=8) + b"$9\r\n123456789\r\n")
    write_seed("fuzz_reply", "limit-line-over", reply_header((3,), max_bulk=8) + b"-123456789\r\n")
    write_seed("fuzz_reply", "limit-elems", reply_header((1,), max_elems=4) + b"%2\r\n:1\r\n:2\r\n:3\r\n:4\r\n*5\r\n")
    fixtures = os.path.join(ROOT, "tests", "c", "fixtures")
    for name in sorted(os.listdir(fixtures)):
        if name.startswith("cluster_") and name.endswith(".resp"):
            with open(os.path.join(fixtures, name), "rb") as f:
                write_seed("fuzz_reply", name[:-5], reply_header((40, 255)) + f.read())
    write_dict("fuzz_reply", [b"\r\n", b"+OK\r\n", b"-ERR", b":1\r\n", b"$-1\r\n", b"*-1\r\n", b"_\r\n",
                              b"#t\r\n", b",1.5\r\n", b",inf\r\n", b"(1\r\n", b"$1\r\n", b"*1\r\n",
                              b"%1\r\n", b"~1\r\n", b">3\r\n", b"|1\r\n", b"!1\r\n", b"=5\r\ntxt:",
                              b"$7\r\nmessage\r\n", b"$8\r\npmessage\r\n", b"$8\r\nsmessage\r\n",
                              b"-MOVED ", b"*0\r\n", b"9223372036854775807", b"536870912",
                              b"$5\r\nslots\r\n", b"$5\r\nnodes\r\n", b"$4\r\nport\r\n", b"$8\r\ntls-port\r\n",
                              b"$2\r\nip\r\n", b"$8\r\nendpoint\r\n", b"$4\r\nrole\r\n", b"$6\r\nmaster\r\n",
                              b"$6\r\nhealth\r\n", b"$4\r\nfail\r\n", b"$7\r\nloading\r\n", b":16383\r\n"])


# fuzz_history_log: flags byte (bit 0: a HEADER for f.c first, bit 1: a
# memory cap) + the file's bytes, records as history_log.h frames them.
def hl_rec(body):
    return struct.pack("<II", len(body), zlib.crc32(body)) + body


def hl_id(ms, seq):
    return struct.pack("<QQ", ms, seq)


def hl_entry(ms, seq, payload):
    return hl_rec(b"\x03" + hl_id(ms, seq) + payload)


def gen_history_log():
    now = 1796600000000
    hdr = hl_rec(b"\x01RPHL\x01f.c")
    ents = b"".join(hl_entry(now + i, 0, b"payload %d" % i) for i in range(10))
    meta = hl_rec(b"\x02" + hl_id(now - 1, 5) + hl_id(now - 2, 0) + struct.pack("<Q", 7))
    seeds = {
        "valid": b"\x00" + hdr + ents,
        "valid-autoheader": b"\x01" + ents,
        "meta-del-trim": b"\x01" + meta + ents + hl_rec(b"\x04" + hl_id(now + 3, 0)) + hl_rec(b"\x05" + hl_id(now + 1, 0)),
        "torn-tail": b"\x01" + ents[:-5],
        "corrupt-middle": b"\x01" + ents[:100] + bytes([ents[100] ^ 0x40]) + ents[101:],
        "corrupt-length": b"\x01" + ents[:124] + bytes([ents[124] ^ 0x40]) + ents[125:],
        "capped": b"\x03" + b"".join(hl_entry(now + i, 0, b"x" * 300) for i in range(40)),
        "ids-backwards": b"\x01" + hl_entry(now + 5, 0, b"a") + hl_entry(now + 1, 0, b"b") + hl_entry(now + 9, 0, b"c"),
        "no-header": b"\x00" + ents,
        "over-50": b"\x01" + b"".join(hl_entry(now + i, i, b"m") for i in range(70)),
    }
    for name, data in seeds.items():
        write_seed("fuzz_history_log", name, data)


GENERATORS = {"fuzz_resp": gen_resp, "fuzz_glob": gen_glob, "fuzz_config": gen_config,
              "fuzz_pubsub": gen_pubsub, "fuzz_reply": gen_reply, "fuzz_history_log": gen_history_log}


def main():
    # Targets named on the command line, or all of them.
    targets = sys.argv[1:] or list(GENERATORS)
    for t in targets:
        d = os.path.join(HERE, "corpus", t)
        if os.path.isdir(d):
            for name in os.listdir(d):
                if name.startswith("seed-"):
                    os.remove(os.path.join(d, name))
    for t in targets:
        GENERATORS[t]()
    for t in targets:
        d = os.path.join(HERE, "corpus", t)
        print("%s: %d files" % (t, len(os.listdir(d))))


if __name__ == "__main__":
    main()
