/* test_resp_reply.c -- Unit tests for resp_reply.c: the RESP2/RESP3 reply
 * reader used by upstream links.
 *
 * Every input is fed whole, byte by byte and split at every offset; each
 * chunk is handed to rreader_feed() from the end of a page followed by a
 * PROT_NONE page, so a read past a chunk crashes even without ASan. Replies
 * are compared in a rendered form, one per reply, separated by spaces:
 *   +status -error :int $bytes _ ,double #1 (bignum
 *   *[a,b] %[k,v] ~[a] >[a]
 * with bytes outside '!'..'~' and the characters [ ] , \ written as \xHH.
 * Error texts are ours (the reader's contract), pinned here. */
#include "resp_reply.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"
#include "test.h"

#define E_BULK "Protocol error: invalid bulk length"
#define E_BULK_BIG "Protocol error: bulk length over limit"
#define E_MBULK "Protocol error: invalid multibulk length"
#define E_MBULK_BIG "Protocol error: aggregate length over limit"
#define E_DEPTH "Protocol error: nesting deeper than 64"
#define E_CRLF "Protocol error: bulk data not followed by CRLF"
#define E_EOL "Protocol error: line not ended by CRLF"
#define E_LINE_BIG "Protocol error: line longer than the bulk limit"
#define E_INT "Protocol error: invalid integer"
#define E_DOUBLE "Protocol error: invalid double"
#define E_BOOL "Protocol error: invalid boolean"
#define E_NULL "Protocol error: invalid null"
#define E_BIGNUM "Protocol error: invalid big number"
#define E_VERBATIM "Protocol error: invalid verbatim string"
#define E_TYPE(c) "Protocol error: invalid reply type byte " c

#define BIG 536870912LL

/* ========================================================================
 * Guarded chunks, rendering and the feeding driver
 * ======================================================================== */

/* Renders r; returns false (with why) if an invariant is broken. */
static bool render(buf *out, const rreply *r, char *why, size_t whylen) {
    static const char tag[] = {'+', '-', ':', '$', '_', ',', '#', '(', '*', '%', '~', '>'};
    if ((unsigned)r->type >= sizeof(tag)) {
        snprintf(why, whylen, "bad type %d", (int)r->type);
        return false;
    }
    buf_append_char(out, tag[r->type]);
    switch (r->type) {
    case RREPLY_INT:
        buf_printf(out, "%lld", r->integer);
        break;
    case RREPLY_BOOL:
        if (r->integer != 0 && r->integer != 1) {
            snprintf(why, whylen, "bool %lld", r->integer);
            return false;
        }
        buf_printf(out, "%lld", r->integer);
        break;
    case RREPLY_NIL:
        if (r->str || r->elements) {
            snprintf(why, whylen, "nil with data");
            return false;
        }
        break;
    case RREPLY_ARRAY: case RREPLY_MAP: case RREPLY_SET: case RREPLY_PUSH:
        if (r->type == RREPLY_MAP && r->elements % 2) {
            snprintf(why, whylen, "odd map");
            return false;
        }
        buf_append_char(out, '[');
        for (size_t i = 0; i < r->elements; i++) {
            if (i) buf_append_char(out, ',');
            if (!render(out, r->element[i], why, whylen)) return false;
        }
        buf_append_char(out, ']');
        break;
    default:
        if (r->str == NULL || r->str[r->len] != '\0') {
            snprintf(why, whylen, "string not NUL-terminated");
            return false;
        }
        test_render_bytes(out, r->str, r->len);
        break;
    }
    return true;
}

typedef struct outcome {
    buf replies;    /* rendered, space-separated */
    int rc;         /* last rreader_next result */
    char err[128];
    size_t buffered;
    char bad[160];  /* a broken invariant, or "" */
} outcome;

typedef struct limits {
    long long bulk;     /* 0: 512 MB */
    long long elems;    /* 0: 1M */
} limits;

/* Feeds in[0..len) in chunks ending at cuts[] (ascending), then at len,
 * reading replies after every chunk. */
static void run_feed(const char *in, size_t len, const size_t *cuts, size_t ncuts,
                     limits lim, outcome *out) {
    memset(out, 0, sizeof(*out));
    rreader *r = rreader_new(lim.bulk ? lim.bulk : BIG, lim.elems ? lim.elems : 1000000);
    size_t fed = 0;
    int rc = RREADER_INCOMPLETE;
    for (size_t c = 0; c <= ncuts && rc != RREADER_ERR && !out->bad[0]; c++) {
        size_t upto = c < ncuts ? cuts[c] : len;
        if (upto < fed) upto = fed;
        rreader_feed(r, test_guarded(in + fed, upto - fed), upto - fed);
        fed = upto;
        rreply *rep;
        while ((rc = rreader_next(r, &rep)) == RREADER_OK) {
            if (out->replies.len) buf_append_char(&out->replies, ' ');
            bool ok = render(&out->replies, rep, out->bad, sizeof(out->bad));
            rreply_free(rep);
            if (!ok) break;
        }
        if (rc != RREADER_OK && rep != NULL) snprintf(out->bad, sizeof(out->bad), "out set on %d", rc);
    }
    out->rc = rc;
    out->buffered = rreader_buffered(r);
    if (rc == RREADER_ERR && !out->bad[0]) {
        const char *e = rreader_error(r);
        snprintf(out->err, sizeof(out->err), "%s", e ? e : "(null)");
        /* Sticky: a valid reply fed afterwards is refused. */
        rreader_feed(r, "+OK\r\n", 5);
        rreply *rep = (rreply *)1;
        if (rreader_next(r, &rep) != RREADER_ERR || rep != NULL || rreader_error(r) == NULL ||
            strcmp(rreader_error(r), out->err) != 0)
            snprintf(out->bad, sizeof(out->bad), "error not sticky");
    } else if (rc != RREADER_ERR && rreader_error(r) != NULL) {
        snprintf(out->bad, sizeof(out->bad), "error text without error");
    }
    rreader_free(r);
}

static void expect_outcome(const outcome *got, const char *want, int rc, const char *err,
                           size_t buffered, const char *id, const char *how) {
    if (got->bad[0]) {
        TEST_FAIL_AT("%s (%s): %s", id, how, got->bad);
        return;
    }
    size_t n = strlen(want);
    if (got->replies.len != n || (n && memcmp(got->replies.data, want, n) != 0)) {
        TEST_FAIL_AT("%s (%s): replies differ", id, how);
        test_print_escaped("got", got->replies.data, got->replies.len);
        test_print_escaped("want", want, n);
        return;
    }
    if (got->rc != rc) {
        TEST_FAIL_AT("%s (%s): rc %d, want %d (err \"%s\")", id, how, got->rc, rc, got->err);
        return;
    }
    if (rc == RREADER_ERR && strcmp(got->err, err) != 0) {
        TEST_FAIL_AT("%s (%s): err \"%s\", want \"%s\"", id, how, got->err, err);
        return;
    }
    if (rc != RREADER_ERR && got->buffered != buffered) {
        TEST_FAIL_AT("%s (%s): buffered %zu, want %zu", id, how, got->buffered, buffered);
        return;
    }
}

/* Whole, byte by byte, and split at every offset (and at every pair of
 * offsets for short inputs): all must give the same replies and outcome. */
static void expect_everywhere(const char *in, size_t len, limits lim, const char *want, int rc,
                              const char *err, size_t buffered, const char *id) {
    outcome got;
    run_feed(in, len, NULL, 0, lim, &got);
    expect_outcome(&got, want, rc, err, buffered, id, "whole");
    buf_free(&got.replies);
    if (test_failed) return;
    size_t *cuts = mem_alloc((len + 1) * sizeof(*cuts));
    for (size_t i = 1; i < len; i++) cuts[i - 1] = i;
    run_feed(in, len, cuts, len > 1 ? len - 1 : 0, lim, &got);
    expect_outcome(&got, want, rc, err, buffered, id, "bytewise");
    buf_free(&got.replies);
    for (size_t k = 1; k < len && !test_failed; k++) {
        char how[48];
        snprintf(how, sizeof(how), "split at %zu", k);
        run_feed(in, len, &k, 1, lim, &got);
        expect_outcome(&got, want, rc, err, buffered, id, how);
        buf_free(&got.replies);
        for (size_t j = k + 1; j < len && len <= 64 && !test_failed; j++) {
            size_t two[2] = {k, j};
            snprintf(how, sizeof(how), "split at %zu,%zu", k, j);
            run_feed(in, len, two, 2, lim, &got);
            expect_outcome(&got, want, rc, err, buffered, id, how);
            buf_free(&got.replies);
        }
    }
    mem_free(cuts);
}

/* ========================================================================
 * Table-driven cases
 * ======================================================================== */

typedef struct reply_case {
    const char *id;
    const char *in;
    size_t len;          /* 0: strlen(in) */
    const char *want;    /* rendered replies */
    int rc;              /* outcome once every byte is in */
    const char *err;     /* after RREADER_ERR */
    size_t buffered;     /* unread bytes left (not checked after an error) */
    limits lim;
} reply_case;

#define INC RREADER_INCOMPLETE
#define ERR RREADER_ERR
#define NOLIM {0, 0}

static const reply_case reply_cases[] = {
    /* RESP2 types. */
    {"status", "+OK\r\n", 0, "+OK", INC, NULL, 0, NOLIM},
    {"status-empty", "+\r\n", 0, "+", INC, NULL, 0, NOLIM},
    {"status-lf-inside", "+a\nb\r\n", 0, "+a\\x0ab", INC, NULL, 0, NOLIM},
    {"error", "-ERR unknown command 'x'\r\n", 0, "-ERR\\x20unknown\\x20command\\x20'x'", INC, NULL, 0, NOLIM},
    {"moved", "-MOVED 3999 127.0.0.1:6381\r\n", 0, "-MOVED\\x203999\\x20127.0.0.1:6381", INC, NULL, 0, NOLIM},
    {"int", ":1000\r\n", 0, ":1000", INC, NULL, 0, NOLIM},
    {"int-zero", ":0\r\n", 0, ":0", INC, NULL, 0, NOLIM},
    {"int-neg", ":-42\r\n", 0, ":-42", INC, NULL, 0, NOLIM},
    {"int-min", ":-9223372036854775808\r\n", 0, ":-9223372036854775808", INC, NULL, 0, NOLIM},
    {"int-max", ":9223372036854775807\r\n", 0, ":9223372036854775807", INC, NULL, 0, NOLIM},
    {"bulk", "$5\r\nhello\r\n", 0, "$hello", INC, NULL, 0, NOLIM},
    {"bulk-empty", "$0\r\n\r\n", 0, "$", INC, NULL, 0, NOLIM},
    {"bulk-binary", "$6\r\n\r\n\0*\xff$\r\n", 12, "$\\x0d\\x0a\\x00*\\xff$", INC, NULL, 0, NOLIM},
    {"bulk-nil", "$-1\r\n", 0, "_", INC, NULL, 0, NOLIM},
    {"array", "*2\r\n$3\r\nfoo\r\n:1\r\n", 0, "*[$foo,:1]", INC, NULL, 0, NOLIM},
    {"array-empty", "*0\r\n", 0, "*[]", INC, NULL, 0, NOLIM},
    {"array-nil", "*-1\r\n", 0, "_", INC, NULL, 0, NOLIM},
    {"array-nested", "*2\r\n*1\r\n+a\r\n*2\r\n*0\r\n$-1\r\n", 0, "*[*[+a],*[*[],_]]", INC, NULL, 0, NOLIM},
    {"array-with-error", "*2\r\n-ERR x\r\n+OK\r\n", 0, "*[-ERR\\x20x,+OK]", INC, NULL, 0, NOLIM},
    {"message", "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n", 0, "*[$message,$ch,$hello]", INC, NULL, 0, NOLIM},
    {"pmessage", "*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$1\r\nx\r\n", 0, "*[$pmessage,$c*,$ch,$x]", INC, NULL, 0, NOLIM},
    {"subscribe", "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n", 0, "*[$subscribe,$a,:1]", INC, NULL, 0, NOLIM},
    {"pipeline", "+OK\r\n:1\r\n$1\r\nx\r\n*0\r\n", 0, "+OK :1 $x *[]", INC, NULL, 0, NOLIM},
    /* RESP3 types. */
    {"null", "_\r\n", 0, "_", INC, NULL, 0, NOLIM},
    {"double", ",3.14\r\n", 0, ",3.14", INC, NULL, 0, NOLIM},
    {"double-exp", ",-1.5e-10\r\n", 0, ",-1.5e-10", INC, NULL, 0, NOLIM},
    {"double-int", ",10\r\n", 0, ",10", INC, NULL, 0, NOLIM},
    {"double-inf", ",inf\r\n", 0, ",inf", INC, NULL, 0, NOLIM},
    {"double-ninf", ",-inf\r\n", 0, ",-inf", INC, NULL, 0, NOLIM},
    {"double-nan", ",nan\r\n", 0, ",nan", INC, NULL, 0, NOLIM},
    {"bool-true", "#t\r\n", 0, "#1", INC, NULL, 0, NOLIM},
    {"bool-false", "#f\r\n", 0, "#0", INC, NULL, 0, NOLIM},
    {"bignum", "(3492890328409238509324850943850943825024385\r\n", 0,
     "(3492890328409238509324850943850943825024385", INC, NULL, 0, NOLIM},
    {"bignum-neg", "(-1\r\n", 0, "(-1", INC, NULL, 0, NOLIM},
    {"blob-error", "!21\r\nSYNTAX invalid syntax\r\n", 0, "-SYNTAX\\x20invalid\\x20syntax", INC, NULL, 0, NOLIM},
    {"verbatim", "=15\r\ntxt:Some string\r\n", 0, "$txt:Some\\x20string", INC, NULL, 0, NOLIM},
    {"verbatim-empty-body", "=4\r\nmkd:\r\n", 0, "$mkd:", INC, NULL, 0, NOLIM},
    {"map", "%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n", 0, "%[+first,:1,+second,:2]", INC, NULL, 0, NOLIM},
    {"map-empty", "%0\r\n", 0, "%[]", INC, NULL, 0, NOLIM},
    {"set", "~3\r\n+a\r\n:1\r\n#t\r\n", 0, "~[+a,:1,#1]", INC, NULL, 0, NOLIM},
    {"set-empty", "~0\r\n", 0, "~[]", INC, NULL, 0, NOLIM},
    {"push-message", ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n", 0, ">[$message,$ch,$hi]", INC, NULL, 0, NOLIM},
    {"push-smessage", ">3\r\n$8\r\nsmessage\r\n$1\r\nc\r\n$0\r\n\r\n", 0, ">[$smessage,$c,$]", INC, NULL, 0, NOLIM},
    {"push-empty", ">0\r\n", 0, ">[]", INC, NULL, 0, NOLIM},
    {"hello3", "%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n", 0,
     "%[$server,$redis,$proto,:3]", INC, NULL, 0, NOLIM},
    {"nested-mixed", "*3\r\n%1\r\n~1\r\n_\r\n>1\r\n,1.5\r\n*1\r\n(7\r\n#f\r\n", 0,
     "*[%[~[_],>[,1.5]],*[(7],#0]", INC, NULL, 0, NOLIM},
    /* Attributes are read and dropped. */
    {"attr-top", "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*1\r\n:2\r\n", 0,
     "*[:2]", INC, NULL, 0, NOLIM},
    {"attr-inside", "*2\r\n:1\r\n|1\r\n+ttl\r\n:3600\r\n:2\r\n", 0, "*[:1,:2]", INC, NULL, 0, NOLIM},
    {"attr-empty", "|0\r\n+OK\r\n", 0, "+OK", INC, NULL, 0, NOLIM},
    {"attr-twice", "|1\r\n+a\r\n+b\r\n|1\r\n+c\r\n*1\r\n|0\r\n_\r\n:5\r\n", 0, ":5", INC, NULL, 0, NOLIM},
    {"attr-before-aggregate-end", "*1\r\n|1\r\n+a\r\n+b\r\n+x\r\n", 0, "*[+x]", INC, NULL, 0, NOLIM},
    {"attr-alone-waits", "|1\r\n+a\r\n+b\r\n", 0, "", INC, NULL, 12, NOLIM},
    /* Incomplete input waits, and keeps what it has. */
    {"inc-type-only", "+", 0, "", INC, NULL, 1, NOLIM},
    {"inc-cr", "+OK\r", 0, "", INC, NULL, 4, NOLIM},
    {"inc-bulk-header", "$5\r\n", 0, "", INC, NULL, 4, NOLIM},
    {"inc-bulk-data", "$5\r\nhel", 0, "", INC, NULL, 7, NOLIM},
    {"inc-bulk-cr", "$5\r\nhello\r", 0, "", INC, NULL, 10, NOLIM},
    {"inc-array", "*2\r\n+a\r\n", 0, "", INC, NULL, 8, NOLIM},
    {"inc-after-reply", "+OK\r\n*3\r\n$7\r\nmess", 0, "+OK", INC, NULL, 12, NOLIM},
    {"inc-big-count", "*1000000\r\n", 0, "", INC, NULL, 10, NOLIM},
    {"inc-big-bulk", "$536870912\r\n", 0, "", INC, NULL, 12, NOLIM},
    /* Bad type bytes. */
    {"type-x", "x\r\n", 0, "", ERR, E_TYPE("'x'"), 0, NOLIM},
    {"type-space", " +OK\r\n", 0, "", ERR, E_TYPE("\\x20"), 0, NOLIM},
    {"type-cr", "\r\n", 0, "", ERR, E_TYPE("\\x0d"), 0, NOLIM},
    {"type-nul", "\0", 1, "", ERR, E_TYPE("\\x00"), 0, NOLIM},
    {"type-quote", "'", 0, "", ERR, E_TYPE("\\x27"), 0, NOLIM},
    {"type-inline", "PONG\r\n", 0, "", ERR, E_TYPE("'P'"), 0, NOLIM},
    {"type-after-reply", "+OK\r\n?\r\n", 0, "+OK", ERR, E_TYPE("'?'"), 0, NOLIM},
    {"type-in-array", "*2\r\n+a\r\n@\r\n", 0, "", ERR, E_TYPE("'@'"), 0, NOLIM},
    /* Line endings. */
    {"eol-lf-only", "+OK\n:1\r\n", 0, "+OK\\x0a:1", INC, NULL, 0, NOLIM},
    {"eol-cr-x", "+OK\rx\r\n", 0, "", ERR, E_EOL, 0, NOLIM},
    {"eol-cr-cr", "$1\r\r\n", 0, "", ERR, E_EOL, 0, NOLIM},
    /* Bad bulk lengths and data. */
    {"bulk-len-empty", "$\r\n", 0, "", ERR, E_BULK, 0, NOLIM},
    {"bulk-len-alpha", "$x\r\n", 0, "", ERR, E_BULK, 0, NOLIM},
    {"bulk-len-plus", "$+1\r\n", 0, "", ERR, E_BULK, 0, NOLIM},
    {"bulk-len-zero-lead", "$01\r\n", 0, "", ERR, E_BULK, 0, NOLIM},
    {"bulk-len-minus-two", "$-2\r\n", 0, "", ERR, E_BULK, 0, NOLIM},
    {"bulk-len-space", "$1 \r\n", 0, "", ERR, E_BULK, 0, NOLIM},
    {"bulk-len-overflow", "$99999999999999999999\r\n", 0, "", ERR, E_BULK, 0, NOLIM},
    {"bulk-len-streamed", "$?\r\n", 0, "", ERR, E_BULK, 0, NOLIM},
    {"bulk-len-too-long-line", "$0000000000000000000000000000000001\r\n", 0, "", ERR, E_BULK, 0, NOLIM},
    {"bulk-len-long-no-cr", "$000000000000000000000000000000000", 0, "", ERR, E_BULK, 0, NOLIM},
    {"bulk-over-limit", "$11\r\n", 0, "", ERR, E_BULK_BIG, 0, {10, 0}},
    {"bulk-at-limit", "$10\r\n0123456789\r\n", 0, "$0123456789", INC, NULL, 0, {10, 0}},
    {"bulk-over-512mb", "$536870913\r\n", 0, "", ERR, E_BULK_BIG, 0, NOLIM},
    {"bulk-no-crlf", "$3\r\nfooxx", 0, "", ERR, E_CRLF, 0, NOLIM},
    {"bulk-cr-x", "$3\r\nfoo\rx", 0, "", ERR, E_CRLF, 0, NOLIM},
    {"bulk-short", "$2\r\nfoo\r\n", 0, "", ERR, E_CRLF, 0, NOLIM},
    {"blob-error-nil", "!-1\r\n", 0, "", ERR, E_BULK, 0, NOLIM},
    {"verbatim-nil", "=-1\r\n", 0, "", ERR, E_BULK, 0, NOLIM},
    {"verbatim-short", "=3\r\ntxt\r\n", 0, "", ERR, E_VERBATIM, 0, NOLIM},
    {"verbatim-no-colon", "=5\r\ntxt-x\r\n", 0, "", ERR, E_VERBATIM, 0, NOLIM},
    /* Bad aggregate counts. */
    {"count-empty", "*\r\n", 0, "", ERR, E_MBULK, 0, NOLIM},
    {"count-alpha", "*a\r\n", 0, "", ERR, E_MBULK, 0, NOLIM},
    {"count-minus-two", "*-2\r\n", 0, "", ERR, E_MBULK, 0, NOLIM},
    {"count-streamed", "*?\r\n", 0, "", ERR, E_MBULK, 0, NOLIM},
    {"map-nil", "%-1\r\n", 0, "", ERR, E_MBULK, 0, NOLIM},
    {"set-nil", "~-1\r\n", 0, "", ERR, E_MBULK, 0, NOLIM},
    {"push-nil", ">-1\r\n", 0, "", ERR, E_MBULK, 0, NOLIM},
    {"attr-nil", "|-1\r\n", 0, "", ERR, E_MBULK, 0, NOLIM},
    {"count-over-limit", "*4\r\n", 0, "", ERR, E_MBULK_BIG, 0, {0, 3}},
    {"count-at-limit", "*3\r\n:1\r\n:2\r\n:3\r\n", 0, "*[:1,:2,:3]", INC, NULL, 0, {0, 3}},
    {"map-over-limit", "%2\r\n", 0, "", ERR, E_MBULK_BIG, 0, {0, 3}},
    {"map-at-limit", "%2\r\n:1\r\n:2\r\n:3\r\n:4\r\n", 0, "%[:1,:2,:3,:4]", INC, NULL, 0, {0, 4}},
    {"attr-over-limit", "|2\r\n", 0, "", ERR, E_MBULK_BIG, 0, {0, 3}},
    {"count-huge", "*9223372036854775807\r\n", 0, "", ERR, E_MBULK_BIG, 0, NOLIM},
    {"map-huge", "%9223372036854775807\r\n", 0, "", ERR, E_MBULK_BIG, 0, NOLIM},
    /* Bad simple values. */
    {"int-empty", ":\r\n", 0, "", ERR, E_INT, 0, NOLIM},
    {"int-plus", ":+1\r\n", 0, "", ERR, E_INT, 0, NOLIM},
    {"int-alpha", ":1a\r\n", 0, "", ERR, E_INT, 0, NOLIM},
    {"int-overflow", ":9223372036854775808\r\n", 0, "", ERR, E_INT, 0, NOLIM},
    {"int-long-no-cr", ":111111111111111111111111111111111", 0, "", ERR, E_INT, 0, NOLIM},
    {"double-empty", ",\r\n", 0, "", ERR, E_DOUBLE, 0, NOLIM},
    {"double-alpha", ",1.5x\r\n", 0, "", ERR, E_DOUBLE, 0, NOLIM},
    {"double-space", ", 1\r\n", 0, "", ERR, E_DOUBLE, 0, NOLIM},
    {"bool-empty", "#\r\n", 0, "", ERR, E_BOOL, 0, NOLIM},
    {"bool-x", "#x\r\n", 0, "", ERR, E_BOOL, 0, NOLIM},
    {"bool-long", "#tt\r\n", 0, "", ERR, E_BOOL, 0, NOLIM},
    {"null-data", "_x\r\n", 0, "", ERR, E_NULL, 0, NOLIM},
    {"bignum-empty", "(\r\n", 0, "", ERR, E_BIGNUM, 0, NOLIM},
    {"bignum-minus", "(-\r\n", 0, "", ERR, E_BIGNUM, 0, NOLIM},
    {"bignum-alpha", "(12a\r\n", 0, "", ERR, E_BIGNUM, 0, NOLIM},
    {"line-over-limit", "+0123456789a\r\n", 0, "", ERR, E_LINE_BIG, 0, {10, 0}},
    {"line-over-limit-no-cr", "-0123456789a", 0, "", ERR, E_LINE_BIG, 0, {10, 0}},
    {"line-at-limit", "+0123456789\r\n", 0, "+0123456789", INC, NULL, 0, {10, 0}},
    {"line-at-limit-cr-pending", "+0123456789\r", 0, "", INC, NULL, 12, {10, 0}},
    /* Errors inside aggregates, after good replies. */
    {"err-deep-in-array", "+OK\r\n*2\r\n*1\r\n:x\r\n", 0, "+OK", ERR, E_INT, 0, NOLIM},
    {"err-in-attr", "|1\r\n+a\r\n$x\r\n", 0, "", ERR, E_BULK, 0, NOLIM},
};

static void test_reply_cases(void) {
    for (size_t i = 0; i < sizeof(reply_cases) / sizeof(reply_cases[0]); i++) {
        const reply_case *c = &reply_cases[i];
        size_t len = c->len ? c->len : strlen(c->in);
        expect_everywhere(c->in, len, c->lim, c->want, c->rc, c->err, c->buffered, c->id);
        if (test_failed) return;
    }
}

/* ========================================================================
 * Nesting, big payloads, long streams, helpers
 * ======================================================================== */

static void nested(buf *b, int levels, const char *open) {
    for (int i = 0; i < levels; i++) buf_append_str(b, open);
    buf_append_str(b, ":7\r\n");
}

static void test_depth_limit(void) {
    buf in = {0}, want = {0};
    nested(&in, 64, "*1\r\n");
    for (int i = 0; i < 64; i++) buf_append_str(&want, "*[");
    buf_append_str(&want, ":7");
    for (int i = 0; i < 64; i++) buf_append_char(&want, ']');
    buf_append_char(&want, '\0');
    expect_everywhere(in.data, in.len, (limits){0, 0}, want.data, INC, NULL, 0, "depth-64");
    buf_free(&in);
    buf_free(&want);
    if (test_failed) return;
    nested(&in, 65, "*1\r\n");
    expect_everywhere(in.data, in.len, (limits){0, 0}, "", ERR, E_DEPTH, 0, "depth-65");
    buf_free(&in);
    if (test_failed) return;
    /* Maps, pushes, attributes and an empty aggregate count as levels too. */
    nested(&in, 64, "%1\r\n:0\r\n");
    outcome got;
    run_feed(in.data, in.len, NULL, 0, (limits){0, 0}, &got);
    TEST_EQ_INT(got.rc, INC);
    buf_free(&got.replies);
    buf_free(&in);
    nested(&in, 64, ">1\r\n");
    in.len -= 4;
    buf_append_str(&in, "|1\r\n+a\r\n+b\r\n:7\r\n");
    run_feed(in.data, in.len, NULL, 0, (limits){0, 0}, &got);
    TEST_EQ_INT(got.rc, ERR);
    TEST_EQ_STR(got.err, E_DEPTH);
    buf_free(&got.replies);
    buf_free(&in);
    nested(&in, 64, "~1\r\n");
    in.len -= 4;
    buf_append_str(&in, "*0\r\n");
    run_feed(in.data, in.len, NULL, 0, (limits){0, 0}, &got);
    TEST_EQ_INT(got.rc, ERR);
    TEST_EQ_STR(got.err, E_DEPTH);
    buf_free(&got.replies);
    buf_free(&in);
}

/* A few-MB message push fed in 64 KiB chunks arrives intact, in one
 * allocation, and the reader gives its big buffer back afterwards. */
static void test_big_payload(void) {
    size_t payload = 5 * 1024 * 1024 + 3;
    buf in = {0};
    buf_printf(&in, ">3\r\n$7\r\nmessage\r\n$7\r\nchannel\r\n$%zu\r\n", payload);
    size_t head = in.len;
    buf_reserve(&in, payload + 2);
    for (size_t i = 0; i < payload; i++) in.data[head + i] = (char)(i * 31 + 7);
    in.len += payload;
    buf_append(&in, "\r\n", 2);
    size_t base = mem_used();
    rreader *r = rreader_new(BIG, 1024);
    rreply *rep = NULL;
    int rc = RREADER_INCOMPLETE;
    for (size_t off = 0; off < in.len; off += 65536) {
        size_t n = in.len - off < 65536 ? in.len - off : 65536;
        rreader_feed(r, in.data + off, n);
        rc = rreader_next(r, &rep);
        if (off + n < in.len) TEST_EQ_INT(rc, RREADER_INCOMPLETE);
    }
    TEST_EQ_INT(rc, RREADER_OK);
    TEST_TRUE(rreply_is_named(rep, "message"));
    TEST_EQ_INT(rep->type, RREPLY_PUSH);
    TEST_EQ_INT(rep->elements, 3);
    TEST_EQ_INT(rep->element[2]->len, payload);
    TEST_TRUE(memcmp(rep->element[2]->str, in.data + head, payload) == 0);
    TEST_EQ_INT(rep->element[2]->str[payload], 0);
    TEST_EQ_INT(rreader_buffered(r), 0);
    rreply_free(rep);
    /* Drained: what is left is the reader itself. */
    TEST_TRUE(mem_used() - base < 4096);
    rreader_free(r);
    buf_free(&in);
}

/* 20000 messages fed in odd-sized chunks: the buffer stays small. */
static void test_long_stream(void) {
    buf in = {0};
    for (int i = 0; i < 20000; i++) {
        char payload[32];
        int n = snprintf(payload, sizeof(payload), "payload-%d", i);
        if (i % 2)
            buf_printf(&in, "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$%d\r\n%s\r\n", n, payload);
        else
            buf_printf(&in, ">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$%d\r\n%s\r\n", n, payload);
    }
    size_t base = mem_used();
    size_t peak = 0;
    rreader *r = rreader_new(BIG, 1024);
    int got = 0;
    for (size_t off = 0, step = 1; off < in.len; off += step, step = step * 7 % 1999 + 1) {
        size_t n = in.len - off < step ? in.len - off : step;
        rreader_feed(r, in.data + off, n);
        rreply *rep;
        while (rreader_next(r, &rep) == RREADER_OK) {
            bool pm = got % 2 == 0;
            const rreply *p = rep->element[pm ? 3 : 2];
            char want[32];
            int wn = snprintf(want, sizeof(want), "payload-%d", got);
            if (!rreply_is_named(rep, pm ? "PMESSAGE" : "Message") || p->len != (size_t)wn ||
                memcmp(p->str, want, p->len) != 0) {
                rreply_free(rep);
                rreader_free(r);
                buf_free(&in);
                TEST_FAIL_AT("message %d wrong", got);
                return;
            }
            rreply_free(rep);
            got++;
        }
        if (mem_used() - base > peak) peak = mem_used() - base;
    }
    TEST_EQ_INT(got, 20000);
    TEST_EQ_INT(rreader_buffered(r), 0);
    TEST_TRUE(peak < 64 * 1024);
    rreader_free(r);
    buf_free(&in);
}

static void test_is_named(void) {
    rreader *r = rreader_new(BIG, 100);
    static const char in[] =
        "*2\r\n+Pong\r\n:1\r\n"    /* status first element */
        "*1\r\n:1\r\n"             /* int first element */
        "*0\r\n"                   /* empty */
        "~1\r\n$4\r\npong\r\n"     /* a set is not named */
        ">1\r\n$4\r\nPONG\r\n"     /* push */
        "$4\r\npong\r\n"           /* not an aggregate */
        "*1\r\n$5\r\npongs\r\n";   /* longer */
    rreader_feed(r, in, sizeof(in) - 1);
    static const bool want[] = {true, false, false, false, true, false, false};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        rreply *rep;
        TEST_EQ_INT(rreader_next(r, &rep), RREADER_OK);
        bool named = rreply_is_named(rep, "pong");
        rreply_free(rep);
        if (named != want[i]) {
            rreader_free(r);
            TEST_FAIL_AT("reply %zu: named %d", i, named);
            return;
        }
    }
    TEST_TRUE(!rreply_is_named(NULL, "pong"));
    rreply *rep = (rreply *)1;
    TEST_EQ_INT(rreader_next(r, &rep), RREADER_INCOMPLETE);
    TEST_TRUE(rep == NULL);
    rreader_free(r);
}

/* Frees with unread bytes and NULLs leak nothing (ASan checks). */
static void test_free_paths(void) {
    rreader_free(NULL);
    rreply_free(NULL);
    rreader *r = rreader_new(BIG, 100);
    static const char part[] = "*3\r\n$7\r\nmessage\r\n$2\r\nc";
    rreader_feed(r, part, sizeof(part) - 1);
    rreply *rep;
    TEST_EQ_INT(rreader_next(r, &rep), RREADER_INCOMPLETE);
    TEST_EQ_INT(rreader_buffered(r), sizeof(part) - 1);
    TEST_TRUE(rreader_error(r) == NULL);
    rreader_free(r);
    r = rreader_new(BIG, 100);
    rreader_feed(r, "+OK\r\n!x\r\n", 9);
    TEST_EQ_INT(rreader_next(r, &rep), RREADER_OK);
    rreply_free(rep);
    TEST_EQ_INT(rreader_next(r, &rep), RREADER_ERR);
    TEST_EQ_STR(rreader_error(r), E_BULK);
    rreader_feed(r, "+OK\r\n", 5);
    TEST_EQ_INT(rreader_next(r, &rep), RREADER_ERR);
    rreader_free(r);
}

const test_case resp_reply_tests[] = {
    {"reply_cases", test_reply_cases},
    {"depth_limit", test_depth_limit},
    {"big_payload", test_big_payload},
    {"long_stream", test_long_stream},
    {"is_named", test_is_named},
    {"free_paths", test_free_paths},
    {NULL, NULL},
};
