/* test_resp.c -- Unit tests for resp.c: the request parser and the reply
 * encoders.
 *
 * Every parser input is fed the way client.c feeds it (append, parse until
 * not RESP_OK, drop the consumed bytes, shift) whole, byte by byte and split
 * at every offset, and each time the bytes handed to the parser end exactly
 * at a PROT_NONE page, so a read past the end crashes even without ASan.
 * Expected replies and error texts were checked against redis-server 7.0.15
 * (the cases marked "ours" are our own rule). Commands are compared in a
 * rendered form: "i[" or "m[" (inline/multibulk), arguments joined by ",",
 * bytes outside '!'..'~' and the characters [ ] , \ written as \xHH. */
#include "resp.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"
#include "test.h"

/* Exact texts, pinned here independently of resp.h. */
#define E_INLINE_BIG "Protocol error: too big inline request"
#define E_QUOTES "Protocol error: unbalanced quotes in request"
#define E_MBULK_BIG "Protocol error: too big mbulk count string"
#define E_MBULK "Protocol error: invalid multibulk length"
#define E_MBULK_AUTH "Protocol error: unauthenticated multibulk length"
#define E_BULK_BIG "Protocol error: too big bulk count string"
#define E_BULK "Protocol error: invalid bulk length"
#define E_BULK_AUTH "Protocol error: unauthenticated bulk length"
#define E_CRLF "Protocol error: bulk data not followed by CRLF"
#define E_DOLLAR(c) "Protocol error: expected '$', got '" c "'"

/* ========================================================================
 * Guarded buffers and the feeding driver
 * ======================================================================== */

typedef struct feed_opts {
    bool unauth;        /* parser.unauthenticated */
    long long max_bulk; /* 0: default */
    bool keep;          /* never drop consumed bytes (offsets grow) */
} feed_opts;

typedef struct outcome {
    buf cmds;       /* rendered commands */
    int rc;         /* last resp_parse result */
    char err[96];   /* copy of p.err after RESP_ERR */
    char bad[160];  /* a broken invariant, or "" */
} outcome;

static void outcome_free(outcome *o) {
    buf_free(&o->cmds);
}

/* Feeds in[0..len) in chunks ending at cuts[] (ascending) and then at len. */
static void run_feed(const char *in, size_t len, const size_t *cuts, size_t ncuts,
                     const feed_opts *o, outcome *out) {
    memset(out, 0, sizeof(*out));
    resp_parser p;
    resp_parser_init(&p);
    p.unauthenticated = o->unauth;
    if (o->max_bulk) p.max_bulk_len = o->max_bulk;
    buf q = {0};
    size_t fed = 0;
    int rc = RESP_INCOMPLETE;
    for (size_t c = 0; c <= ncuts; c++) {
        size_t upto = c < ncuts ? cuts[c] : len;
        if (upto < fed) upto = fed;
        buf_append(&q, in + fed, upto - fed);
        fed = upto;
        char *g = test_guarded(q.data, q.len);
        while ((rc = resp_parse(&p, g, q.len)) == RESP_OK) {
            size_t pos = resp_parser_pos(&p);
            if (p.argc == 0 || pos > q.len)
                snprintf(out->bad, sizeof(out->bad), "argc %zu pos %zu len %zu",
                         p.argc, pos, q.len);
            for (size_t i = 0; i < p.argc; i++)
                if (p.argv[i].off + p.argv[i].len > pos)
                    snprintf(out->bad, sizeof(out->bad), "arg %zu beyond pos", i);
            if (out->bad[0]) break;
            buf_append_str(&out->cmds, p.inline_cmd ? "i[" : "m[");
            for (size_t i = 0; i < p.argc; i++) {
                if (i) buf_append_char(&out->cmds, ',');
                test_render_bytes(&out->cmds, g + p.argv[i].off, p.argv[i].len);
            }
            buf_append_char(&out->cmds, ']');
        }
        if (out->bad[0] || rc == RESP_ERR) break;
        if (rc != RESP_INCOMPLETE) {
            snprintf(out->bad, sizeof(out->bad), "resp_parse returned %d", rc);
            break;
        }
        if (q.len) memcpy(q.data, g, q.len); /* keep in-place unquoting */
        size_t pos = resp_parser_pos(&p);
        if (!o->keep && pos) {
            buf_consume(&q, pos);
            resp_parser_shift(&p, pos);
        }
    }
    out->rc = rc;
    if (rc == RESP_ERR && !out->bad[0]) {
        snprintf(out->err, sizeof(out->err), "%s", p.err ? p.err : "(null)");
        /* Sticky: valid input is refused until reset. */
        char ping[] = "PING\r\n";
        if (resp_parse(&p, ping, 6) != RESP_ERR || p.err == NULL ||
            strcmp(p.err, out->err) != 0)
            snprintf(out->bad, sizeof(out->bad), "error not sticky");
    }
    buf_free(&q);
    resp_parser_free(&p);
}

/* Checks one outcome; prints the case id and feeding mode on mismatch. */
static void expect_outcome(const outcome *got, const char *cmds, int rc,
                           const char *err, const char *id, const char *how) {
    if (got->bad[0]) {
        TEST_FAIL_AT("%s (%s): %s", id, how, got->bad);
        return;
    }
    size_t n = strlen(cmds);
    if (got->cmds.len != n || (n && memcmp(got->cmds.data, cmds, n) != 0)) {
        TEST_FAIL_AT("%s (%s): commands differ", id, how);
        test_print_escaped("got", got->cmds.data, got->cmds.len);
        test_print_escaped("want", cmds, n);
        return;
    }
    if (got->rc != rc) {
        TEST_FAIL_AT("%s (%s): rc %d, want %d (err \"%s\")", id, how, got->rc, rc,
                     got->err);
        return;
    }
    if (rc == RESP_ERR && strcmp(got->err, err) != 0) {
        TEST_FAIL_AT("%s (%s): err \"%s\", want \"%s\"", id, how, got->err, err);
        return;
    }
}

static void feed_and_expect(const char *in, size_t len, const size_t *cuts,
                            size_t ncuts, const feed_opts *o, const char *cmds,
                            int rc, const char *err, const char *id,
                            const char *how) {
    outcome got;
    run_feed(in, len, cuts, ncuts, o, &got);
    expect_outcome(&got, cmds, rc, err, id, how);
    outcome_free(&got);
}

/* Whole, byte by byte (dropping and keeping consumed bytes), and split at
 * every offset: all must give the same commands and final outcome. */
static void expect_everywhere(const char *in, size_t len, feed_opts o,
                              const char *cmds, int rc, const char *err,
                              const char *id) {
    o.keep = false;
    feed_and_expect(in, len, NULL, 0, &o, cmds, rc, err, id, "whole");
    if (test_failed) return;
    size_t *cuts = mem_alloc((len + 1) * sizeof(*cuts));
    for (size_t i = 1; i < len; i++) cuts[i - 1] = i;
    size_t ncuts = len > 1 ? len - 1 : 0;
    feed_and_expect(in, len, cuts, ncuts, &o, cmds, rc, err, id, "bytewise");
    if (!test_failed && len <= 4096) {
        o.keep = true;
        feed_and_expect(in, len, cuts, ncuts, &o, cmds, rc, err, id, "bytewise-keep");
    }
    for (size_t k = 1; k < len && !test_failed && len <= 4096; k++) {
        char how[48];
        snprintf(how, sizeof(how), "split at %zu", k);
        o.keep = k & 1;
        feed_and_expect(in, len, &k, 1, &o, cmds, rc, err, id, how);
    }
    mem_free(cuts);
}

/* ========================================================================
 * Table-driven parser cases
 * ======================================================================== */

typedef struct parse_case {
    const char *id;
    const char *in;
    size_t len;         /* 0: strlen(in) */
    const char *cmds;   /* rendered commands */
    int rc;             /* outcome once every byte is in */
    const char *err;    /* after RESP_ERR */
    bool unauth;
    long long max_bulk; /* 0: default */
} parse_case;

#define INC RESP_INCOMPLETE
#define ERR RESP_ERR

static const parse_case protocol_cases[] = {
    /* Well-formed multibulk. */
    {"mb-ping", "*1\r\n$4\r\nPING\r\n", 0, "m[PING]", INC, NULL, false, 0},
    {"mb-two", "*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n", 0, "m[ECHO,hello]", INC, NULL, false, 0},
    {"mb-empty-arg", "*1\r\n$0\r\n\r\n", 0, "m[]", INC, NULL, false, 0},
    {"mb-empty-args", "*3\r\n$0\r\n\r\n$1\r\nx\r\n$0\r\n\r\n", 0, "m[,x,]", INC, NULL, false, 0},
    {"mb-binary", "*1\r\n$6\r\n\r\n\0*$\xff\r\n", 16, "m[\\x0d\\x0a\\x00*$\\xff]", INC, NULL, false, 0},
    {"mb-count-only", "*3\r\n", 0, "", INC, NULL, false, 0},
    {"mb-partial-args", "*3\r\n$3\r\nSET\r\n$1\r\na\r\n", 0, "", INC, NULL, false, 0},
    {"mb-partial-data", "*1\r\n$4\r\nPIN", 0, "", INC, NULL, false, 0},
    {"mb-missing-lf", "*1\r\n$4\r\nPING\r", 0, "", INC, NULL, false, 0},
    {"mb-count-cr-last", "*1\r", 0, "", INC, NULL, false, 0},
    {"mb-pipeline", "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n", 0, "m[PING]m[PING]", INC, NULL, false, 0},
    /* Redis skips the byte after '\r' in length lines without looking. */
    {"mb-count-cr-x", "*1\rX$4\r\nPING\r\n", 0, "m[PING]", INC, NULL, false, 0},
    {"mb-len-cr-x", "*1\r\n$4\rXPING\r\n", 0, "m[PING]", INC, NULL, false, 0},
    /* Empty multibulk commands are skipped silently. */
    {"mb-zero", "*0\r\n*1\r\n$4\r\nPING\r\n", 0, "m[PING]", INC, NULL, false, 0},
    {"mb-minus-one", "*-1\r\nPING\r\n", 0, "i[PING]", INC, NULL, false, 0},
    {"mb-minus-many", "*-5\r\n*0\r\n*-9223372036854775808\r\n", 0, "", INC, NULL, false, 0},
    {"mb-max-count", "*2147483647\r\n", 0, "", INC, NULL, false, 0},
    /* After a complete multibulk, a '$' line starts an inline command. */
    {"mb-extra-bulk", "*1\r\n$3\r\nfoo\r\n$3\r\nbar\r\n", 0, "m[foo]i[$3]i[bar]", INC, NULL, false, 0},
    /* A NUL hides the line end from Redis (strchr): it waits. */
    {"nul-count", "*1\0\r\n$4\r\nPING\r\n", 15, "", INC, NULL, false, 0},
    {"nul-bulk-len", "*1\r\n$4\0\r\nPING\r\n", 15, "", INC, NULL, false, 0},
    {"nul-bulk-first", "*1\r\n\0\r\n", 7, "", INC, NULL, false, 0},
    {"nul-before-dollar-err", "*1\r\nX\0\r\n", 8, "", INC, NULL, false, 0},
    {"nul-count-cr-last", "*1\0\r", 4, "", INC, NULL, false, 0},
    {"nul-inline", "PING\0\r\n", 7, "", INC, NULL, false, 0},
    {"nul-in-bulk-data", "*1\r\n$1\r\n\0\r\n", 11, "m[\\x00]", INC, NULL, false, 0},
    /* Invalid multibulk counts. */
    {"count-too-big", "*2147483648\r\n", 0, "", ERR, E_MBULK, false, 0},
    {"count-minus-zero", "*-0\r\n", 0, "", ERR, E_MBULK, false, 0},
    {"count-leading-zero", "*01\r\n", 0, "", ERR, E_MBULK, false, 0},
    {"count-plus", "*+1\r\n", 0, "", ERR, E_MBULK, false, 0},
    {"count-empty", "*\r\n", 0, "", ERR, E_MBULK, false, 0},
    {"count-space-before", "* 1\r\n", 0, "", ERR, E_MBULK, false, 0},
    {"count-space-after", "*1 \r\n", 0, "", ERR, E_MBULK, false, 0},
    {"count-alpha", "*abc\r\n", 0, "", ERR, E_MBULK, false, 0},
    {"count-overflow", "*99999999999999999999999\r\n", 0, "", ERR, E_MBULK, false, 0},
    {"count-underflow", "*-9223372036854775809\r\n", 0, "", ERR, E_MBULK, false, 0},
    {"count-lf-only", "*1\n$4\r\nPING\r\n", 0, "", ERR, E_MBULK, false, 0},
    {"count-after-cmd", "*1\r\n$4\r\nPING\r\n*x\r\n", 0, "m[PING]", ERR, E_MBULK, false, 0},
    /* Bulk headers. */
    {"dollar-x", "*1\r\nX\r\n", 0, "", ERR, E_DOLLAR("X"), false, 0},
    {"dollar-cr", "*1\r\n\r\n", 0, "", ERR, E_DOLLAR(" "), false, 0},
    {"dollar-lf", "*1\r\n\n\r\n", 0, "", ERR, E_DOLLAR(" "), false, 0},
    {"dollar-ctl", "*1\r\n\x01\r\n", 0, "", ERR, E_DOLLAR("\x01"), false, 0},
    {"dollar-high", "*1\r\n\xff\r\n", 0, "", ERR, E_DOLLAR("\xff"), false, 0},
    {"dollar-star", "*2\r\n$1\r\na\r\n*1\r\n", 0, "", ERR, E_DOLLAR("*"), false, 0},
    {"bulk-negative", "*1\r\n$-1\r\n", 0, "", ERR, E_BULK, false, 0},
    {"bulk-empty", "*1\r\n$\r\n", 0, "", ERR, E_BULK, false, 0},
    {"bulk-leading-zero", "*1\r\n$01\r\n", 0, "", ERR, E_BULK, false, 0},
    {"bulk-plus", "*1\r\n$+1\r\n", 0, "", ERR, E_BULK, false, 0},
    {"bulk-space", "*1\r\n$ 1\r\n", 0, "", ERR, E_BULK, false, 0},
    {"bulk-trailing", "*1\r\n$1x\r\n", 0, "", ERR, E_BULK, false, 0},
    {"bulk-overflow", "*1\r\n$99999999999999999999\r\n", 0, "", ERR, E_BULK, false, 0},
    {"bulk-max-ok", "*1\r\n$536870912\r\n", 0, "", INC, NULL, false, 0},
    {"bulk-max-over", "*1\r\n$536870913\r\n", 0, "", ERR, E_BULK, false, 0},
    {"bulk-limit-ok", "*1\r\n$10\r\n0123456789\r\n", 0, "m[0123456789]", INC, NULL, false, 10},
    {"bulk-limit-over", "*1\r\n$11\r\n", 0, "", ERR, E_BULK, false, 10},
    /* Ours: the two bytes after bulk data must be CRLF. */
    {"ours-crlf-xx", "*1\r\n$4\r\nPINGxx", 0, "", ERR, E_CRLF, false, 0},
    {"ours-crlf-cr-x", "*1\r\n$4\r\nPING\rx", 0, "", ERR, E_CRLF, false, 0},
    {"ours-crlf-lf-lf", "*1\r\n$4\r\nPING\n\n", 0, "", ERR, E_CRLF, false, 0},
    {"ours-crlf-short", "*1\r\n$3\r\nPING\r\n", 0, "", ERR, E_CRLF, false, 0},
    /* Limits before AUTH. */
    {"unauth-count-ok", "*10\r\n", 0, "", INC, NULL, true, 0},
    {"unauth-count-over", "*11\r\n", 0, "", ERR, E_MBULK_AUTH, true, 0},
    {"unauth-count-invalid", "*2147483648\r\n", 0, "", ERR, E_MBULK, true, 0},
    {"unauth-count-skip", "*-5\r\n*0\r\n", 0, "", INC, NULL, true, 0},
    {"unauth-bulk-ok", "*1\r\n$16384\r\n", 0, "", INC, NULL, true, 0},
    {"unauth-bulk-over", "*1\r\n$16385\r\n", 0, "", ERR, E_BULK_AUTH, true, 0},
    {"unauth-bulk-invalid", "*1\r\n$536870913\r\n", 0, "", ERR, E_BULK, true, 0},
    {"unauth-inline-many", "PING a b c d e f g h i j k l m\r\n", 0,
     "i[PING,a,b,c,d,e,f,g,h,i,j,k,l,m]", INC, NULL, true, 0},
    {"auth-count-big", "*11\r\n", 0, "", INC, NULL, false, 0},
    /* Inline basics; the quoting table follows. */
    {"in-crlf", "PING\r\n", 0, "i[PING]", INC, NULL, false, 0},
    {"in-lf", "PING\n", 0, "i[PING]", INC, NULL, false, 0},
    {"in-no-eol", "PING", 0, "", INC, NULL, false, 0},
    {"in-cr-only", "PING\r", 0, "", INC, NULL, false, 0},
    {"in-empty-lines", "\r\n\n  \r\n\t\nPING\r\n", 0, "i[PING]", INC, NULL, false, 0},
    {"in-mixed", "PING\n*1\r\n$4\r\nPING\r\nECHO x\r\r\n", 0, "i[PING]m[PING]i[ECHO,x]", INC, NULL, false, 0},
    {"in-star-later", "PING *1\r\n", 0, "i[PING,*1]", INC, NULL, false, 0},
    {"in-dollar", "$4\r\n", 0, "i[$4]", INC, NULL, false, 0},
    {"in-quotes-then-more", "ECHO \"a b\"\r\nPING\r\n", 0, "i[ECHO,a\\x20b]i[PING]", INC, NULL, false, 0},
    {"in-unbalanced-after-ok", "PING\r\nECHO \"x\r\nPING\r\n", 0, "i[PING]", ERR, E_QUOTES, false, 0},
};

/* Generated by sending "RPUSH l x <line>" to redis-server 7.0.15 and reading
 * back LRANGE: the expected arguments are Redis's own split. */
static const struct inline_case {
    const char *in;
    size_t len;
    const char *cmds;
    int rc;
} inline_cases[] = {
    {"PING\r\n", 6, "i[PING]", INC},
    {"  SET  a   b  \r\n", 16, "i[SET,a,b]", INC},
    {"\tSET\ta\tb\r\n", 10, "i[SET,a,b]", INC},
    {"\"a b\" c\r\n", 9, "i[a\\x20b,c]", INC},
    {"\"a\\nb\"\r\n", 8, "i[a\\x0ab]", INC},
    {"\"\\r\\t\\b\\a\"\r\n", 12, "i[\\x0d\\x09\\x08\\x07]", INC},
    {"\"\\x41\\x42\"\r\n", 12, "i[AB]", INC},
    {"\"\\x4\"\r\n", 7, "i[x4]", INC},
    {"\"\\xzz\"\r\n", 8, "i[xzz]", INC},
    {"\"\\x00\"\r\n", 8, "i[\\x00]", INC},
    {"\"\\xfF\"\r\n", 8, "i[\\xff]", INC},
    {"\"\\\\\"\r\n", 6, "i[\\x5c]", INC},
    {"\"\\\"\"\r\n", 6, "i[\"]", INC},
    {"\"\\q\"\r\n", 6, "i[q]", INC},
    {"'a\\'b'\r\n", 8, "i[a'b]", INC},
    {"'a\\nb'\r\n", 8, "i[a\\x5cnb]", INC},
    {"'a\"b'\r\n", 7, "i[a\"b]", INC},
    {"\"a'b\"\r\n", 7, "i[a'b]", INC},
    {"\"\"\r\n", 4, "i[]", INC},
    {"\"\" ''\r\n", 7, "i[,]", INC},
    {"foo\"bar\"\r\n", 10, "i[foobar]", INC},
    {"foo\"bar\"baz\r\n", 13, "", ERR},
    {"\"abc\r\n", 6, "", ERR},
    {"'abc\r\n", 6, "", ERR},
    {"\"a\"b\r\n", 6, "", ERR},
    {"'a'b\r\n", 6, "", ERR},
    {"\"a\\\"\r\n", 6, "", ERR},
    {"\"a\\\r\n", 5, "", ERR},
    {"\"a\"\tb\r\n", 7, "i[a,b]", INC},
    {"\"a\"\013b\r\n", 7, "i[a,b]", INC},
    {"a\013b\r\n", 5, "i[a\\x0bb]", INC},
    {"\013\014PING\r\n", 8, "i[PING]", INC},
    {"a\rb\r\n", 5, "i[a,b]", INC},
    {"\"a\rb\"\r\n", 7, "i[a\\x0db]", INC},
    {"PING\r\r\n", 7, "i[PING]", INC},
    {"'it''s'\r\n", 9, "", ERR},
    {"\"\\x41\"x\r\n", 9, "", ERR},
    {"a'b c'd\r\n", 9, "", ERR},
    {"a'b c' d\r\n", 10, "i[ab\\x20c,d]", INC},
    {"\"\\xAG\"\r\n", 8, "i[xAG]", INC},
    {"\\x41\r\n", 6, "i[\\x5cx41]", INC},
    {"'\\\\'\r\n", 6, "", ERR},
    {"\303\251 \377\r\n", 6, "i[\\xc3\\xa9,\\xff]", INC},
    {"\"x\"\014\"y\"\r\n", 9, "i[x,y]", INC},
    {"\"\\x4g1\"\r\n", 9, "i[x4g1]", INC},
    {"a\"b c\"\r\n", 8, "i[ab\\x20c]", INC},
    {"'x' 'y'z\r\n", 10, "", ERR},
};

static void test_protocol_table(void) {
    size_t n = sizeof(protocol_cases) / sizeof(protocol_cases[0]);
    for (size_t i = 0; i < n && !test_failed; i++) {
        const parse_case *c = &protocol_cases[i];
        feed_opts o = {c->unauth, c->max_bulk, false};
        expect_everywhere(c->in, c->len ? c->len : strlen(c->in), o, c->cmds,
                          c->rc, c->err, c->id);
    }
}

static void test_inline_quoting_table(void) {
    size_t n = sizeof(inline_cases) / sizeof(inline_cases[0]);
    TEST_TRUE(n >= 25);
    for (size_t i = 0; i < n && !test_failed; i++) {
        const struct inline_case *c = &inline_cases[i];
        char id[32];
        snprintf(id, sizeof(id), "inline-%zu", i);
        feed_opts o = {false, 0, false};
        expect_everywhere(c->in, c->len, o, c->cmds, c->rc,
                          c->rc == ERR ? E_QUOTES : NULL, id);
        /* The same line after a command and followed by one: the split must
         * not depend on where the line sits, nor touch the next command. */
        if (test_failed) break;
        buf in = {0}, want = {0};
        buf_append_str(&in, "*1\r\n$1\r\nA\r\n");
        buf_append(&in, c->in, c->len);
        buf_append_str(&in, "PING\r\n");
        buf_append_str(&want, "m[A]");
        buf_append_str(&want, c->cmds);
        if (c->rc == INC) buf_append_str(&want, "i[PING]");
        buf_append_char(&want, '\0');
        expect_everywhere(in.data, in.len, o, want.data, c->rc,
                          c->rc == ERR ? E_QUOTES : NULL, id);
        buf_free(&in);
        buf_free(&want);
    }
}

/* ========================================================================
 * Limits
 * ======================================================================== */

/* Builds prefix + fill * n + suffix into b (reset first). */
static void make_input(buf *b, const char *prefix, size_t plen, char fill, size_t n,
                       const char *suffix) {
    b->len = 0;
    buf_append(b, prefix, plen);
    buf_reserve(b, n);
    memset(b->data + b->len, fill, n);
    b->len += n;
    buf_append_str(b, suffix);
}

/* Runs in whole and in 16 KiB reads (Redis's read size). */
static void expect_whole_and_reads(const buf *in, const char *cmds, int rc,
                                   const char *err, const char *id) {
    feed_opts o = {false, 0, false};
    feed_and_expect(in->data, in->len, NULL, 0, &o, cmds, rc, err, id, "whole");
    if (test_failed) return;
    size_t cuts[64], n = 0;
    for (size_t at = 16384; at < in->len && n < 64; at += 16384) cuts[n++] = at;
    feed_and_expect(in->data, in->len, cuts, n, &o, cmds, rc, err, id, "16k reads");
}

static void test_limit_64k(void) {
    buf b = {0};
    /* Count line: 64 KiB pending without CR is fine, one more byte is not. */
    make_input(&b, "*", 1, '1', 65535, "");
    expect_whole_and_reads(&b, "", INC, NULL, "count-64k");
    make_input(&b, "*", 1, '1', 65536, "");
    expect_whole_and_reads(&b, "", ERR, E_MBULK_BIG, "count-64k+1");
    /* A complete but long count line is just invalid. */
    make_input(&b, "*", 1, '1', 70000, "\r\n");
    expect_whole_and_reads(&b, "", ERR, E_MBULK, "count-long-line");
    /* Bulk length line: counted from the line's start. */
    make_input(&b, "*1\r\n$", 5, '1', 65535, "");
    expect_whole_and_reads(&b, "", INC, NULL, "bulk-64k");
    make_input(&b, "*1\r\n$", 5, '1', 65536, "");
    expect_whole_and_reads(&b, "", ERR, E_BULK_BIG, "bulk-64k+1");
    /* Inline: 64 KiB without LF, counted from the command start. */
    make_input(&b, "", 0, 'A', 65536, "");
    expect_whole_and_reads(&b, "", INC, NULL, "inline-64k");
    make_input(&b, "", 0, 'A', 65537, "");
    expect_whole_and_reads(&b, "", ERR, E_INLINE_BIG, "inline-64k+1");
    make_input(&b, "PING\r\n", 6, 'A', 65536, "");
    expect_whole_and_reads(&b, "i[PING]", INC, NULL, "inline-after-cmd-64k");
    make_input(&b, "PING\r\n", 6, 'A', 65537, "");
    expect_whole_and_reads(&b, "i[PING]", ERR, E_INLINE_BIG, "inline-after-cmd-64k+1");
    /* A NUL hides the line end: the limit decides, as in Redis. */
    make_input(&b, "PING\0", 5, 'A', 65531, "\n");
    expect_whole_and_reads(&b, "", ERR, E_INLINE_BIG, "inline-nul-65537");
    make_input(&b, "PING\0", 5, 'A', 65530, "\n");
    expect_whole_and_reads(&b, "", INC, NULL, "inline-nul-65536");
    make_input(&b, "*1\0", 3, 'x', 65534, "");
    expect_whole_and_reads(&b, "", ERR, E_MBULK_BIG, "count-nul-65537");
    make_input(&b, "*1\0", 3, 'x', 65532, "\r");
    expect_whole_and_reads(&b, "", INC, NULL, "count-nul-cr-65536");
    make_input(&b, "*1\0", 3, 'x', 65533, "\r");
    expect_whole_and_reads(&b, "", ERR, E_MBULK_BIG, "count-nul-cr-65537");
    make_input(&b, "*1\r\n$1\0", 7, 'x', 65534, "\r\n");
    expect_whole_and_reads(&b, "", ERR, E_BULK_BIG, "bulk-nul-65537");
    /* A long line whose LF is already here is parsed (Redis does the same
     * when the line arrives within one read). */
    make_input(&b, "ECHO ", 5, 'a', 70000, "\n");
    feed_opts o = {false, 0, false};
    outcome got;
    run_feed(b.data, b.len, NULL, 0, &o, &got);
    TEST_EQ_INT(got.rc, INC);
    TEST_EQ_INT(got.cmds.len, 70000 + 8);
    outcome_free(&got);
    buf_free(&b);
}

static void test_limit_big_bulk(void) {
    /* A 1 MB argument arrives in pieces; wanted() tells how much is left. */
    size_t n = 1000000;
    buf in = {0};
    buf_printf(&in, "*2\r\n$7\r\nPUBLISH\r\n$%zu\r\n", n);
    size_t head = in.len;
    buf_reserve(&in, n + 2);
    for (size_t i = 0; i < n; i++) in.data[head + i] = (char)(i * 7);
    in.len += n;
    buf_append(&in, "\r\n", 2);
    resp_parser p;
    resp_parser_init(&p);
    buf q = {0};
    buf_append(&q, in.data, head + 10);
    TEST_EQ_INT(resp_parse(&p, q.data, q.len), INC);
    TEST_EQ_INT(resp_parser_wanted(&p), n + 2 - 10);
    buf_append(&q, in.data + q.len, in.len - q.len - 1);
    TEST_EQ_INT(resp_parse(&p, q.data, q.len), INC);
    TEST_EQ_INT(resp_parser_wanted(&p), 1);
    buf_append(&q, "\n", 1);
    TEST_EQ_INT(resp_parse(&p, q.data, q.len), RESP_OK);
    TEST_EQ_INT(p.argc, 2);
    TEST_EQ_INT(p.argv[1].len, n);
    TEST_EQ_MEM(q.data + p.argv[1].off, n, in.data + head, n);
    TEST_EQ_INT(resp_parser_pos(&p), in.len);
    TEST_EQ_INT(resp_parse(&p, q.data, q.len), INC);
    TEST_EQ_INT(resp_parser_wanted(&p), 0);
    resp_parser_free(&p);
    buf_free(&q);
    buf_free(&in);
}

static void test_argv_prealloc_cap(void) {
    resp_parser p;
    resp_parser_init(&p);
    char huge[] = "*2147483647\r\n$1\r\na\r\n";
    TEST_EQ_INT(resp_parse(&p, huge, sizeof(huge) - 1), INC);
    TEST_TRUE(p.argv_cap <= 1024);
    resp_parser_free(&p);
    resp_parser_init(&p);
    char five[] = "*5\r\n";
    TEST_EQ_INT(resp_parse(&p, five, 4), INC);
    TEST_TRUE(p.argv_cap >= 5);
    resp_parser_free(&p);
    /* More arguments than the preallocation: argv keeps growing. */
    buf in = {0};
    buf_printf(&in, "*3000\r\n");
    for (int i = 0; i < 3000; i++) {
        char num[8];
        int n = snprintf(num, sizeof(num), "%d", i);
        buf_printf(&in, "$%d\r\n%s\r\n", n, num);
    }
    resp_parser_init(&p);
    TEST_EQ_INT(resp_parse(&p, in.data, in.len), RESP_OK);
    TEST_EQ_INT(p.argc, 3000);
    TEST_EQ_MEM(in.data + p.argv[2999].off, p.argv[2999].len, "2999", 4);
    size_t cap = p.argv_cap;
    /* No allocation per command once grown: the same argv is reused. */
    resp_arg *argv = p.argv;
    resp_parser_reset(&p);
    TEST_EQ_INT(resp_parse(&p, in.data, in.len), RESP_OK);
    TEST_TRUE(p.argv == argv);
    TEST_EQ_INT(p.argv_cap, cap);
    resp_parser_free(&p);
    buf_free(&in);
}

/* ========================================================================
 * API behaviour: shift, wanted, sticky errors, reset, in-place unquoting
 * ======================================================================== */

static void test_shift(void) {
    resp_parser p;
    resp_parser_init(&p);
    char b1[] = "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$5\r\nhel";
    size_t l1 = sizeof(b1) - 1;
    TEST_EQ_INT(resp_parse(&p, b1, l1), RESP_OK);
    TEST_EQ_INT(resp_parser_pos(&p), 14);
    TEST_EQ_INT(resp_parse(&p, b1, l1), INC);
    TEST_EQ_INT(resp_parser_pos(&p), 14);
    TEST_EQ_INT(resp_parser_wanted(&p), 4);
    /* The caller drops only part of what was consumed... */
    resp_parser_shift(&p, 10);
    TEST_EQ_INT(resp_parser_pos(&p), 4);
    /* ...then the rest, in a buffer at another address. */
    resp_parser_shift(&p, 4);
    TEST_EQ_INT(resp_parser_pos(&p), 0);
    char b2[] = "*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\nPING\r\n";
    TEST_EQ_INT(resp_parse(&p, b2, sizeof(b2) - 1), RESP_OK);
    TEST_EQ_INT(p.argc, 2);
    TEST_EQ_INT(p.argv[0].off, 8);
    TEST_EQ_MEM(b2 + p.argv[0].off, p.argv[0].len, "ECHO", 4);
    TEST_EQ_MEM(b2 + p.argv[1].off, p.argv[1].len, "hello", 5);
    TEST_EQ_INT(resp_parser_pos(&p), 25);
    resp_parser_shift(&p, 25); /* right after RESP_OK: argv is dropped */
    TEST_EQ_INT(p.argc, 0);
    TEST_EQ_INT(resp_parse(&p, b2 + 25, 6), RESP_OK);
    TEST_TRUE(p.inline_cmd);
    TEST_EQ_INT(p.argv[0].off, 0);
    TEST_EQ_INT(resp_parser_pos(&p), 6);
    resp_parser_free(&p);
}

static void test_shift_inline_scan(void) {
    /* The remembered line-end search position moves with the shift. */
    resp_parser p;
    resp_parser_init(&p);
    char b1[] = "PING\r\nECHO abc";
    TEST_EQ_INT(resp_parse(&p, b1, 14), RESP_OK);
    TEST_EQ_INT(resp_parse(&p, b1, 14), INC);
    resp_parser_shift(&p, 6);
    char b2[] = "ECHO abcdef\r\n";
    TEST_EQ_INT(resp_parse(&p, b2, 13), RESP_OK);
    TEST_EQ_INT(p.argc, 2);
    TEST_EQ_MEM(b2 + p.argv[1].off, p.argv[1].len, "abcdef", 6);
    resp_parser_free(&p);
}

static void test_wanted(void) {
    static const struct {
        const char *in;
        size_t wanted;
    } cases[] = {
        {"", 0},
        {"PIN", 0},
        {"*1\r\n$3", 0},
        {"*1\r\n$3\r", 0},
        {"*1\r\n$3\r\n", 5},
        {"*1\r\n$3\r\nfo", 3},
        {"*1\r\n$3\r\nfoo\r", 1},
        {"*2\r\n$5\r\nhello\r\n$10\r\n", 12},
        {"*2\r\n$5\r\nhello\r\n$10\r\nab", 10},
        {"*1\r\n$0\r\n", 2},
        {"*1\r\n$4\r\nPING\r\n", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        resp_parser p;
        resp_parser_init(&p);
        size_t len = strlen(cases[i].in);
        char *g = test_guarded(cases[i].in, len);
        int rc;
        while ((rc = resp_parse(&p, g, len)) == RESP_OK) continue;
        size_t wanted = resp_parser_wanted(&p);
        resp_parser_free(&p);
        TEST_EQ_INT(rc, INC);
        if (wanted != cases[i].wanted) {
            TEST_FAIL_AT("case %zu \"%s\": wanted %zu, want %zu", i, cases[i].in,
                         wanted, cases[i].wanted);
            return;
        }
    }
}

static void test_sticky_and_reset(void) {
    resp_parser p;
    resp_parser_init(&p);
    char bad[] = "*1\r\nX\r\n";
    TEST_EQ_INT(resp_parse(&p, bad, 7), ERR);
    TEST_EQ_STR(p.err, E_DOLLAR("X"));
    char ping[] = "PING\r\n";
    TEST_EQ_INT(resp_parse(&p, ping, 6), ERR);
    TEST_EQ_STR(p.err, E_DOLLAR("X"));
    resp_parser_reset(&p);
    TEST_TRUE(p.err == NULL);
    TEST_EQ_INT(resp_parser_pos(&p), 0);
    TEST_EQ_INT(resp_parse(&p, ping, 6), RESP_OK);
    TEST_EQ_INT(p.argc, 1);
    TEST_EQ_INT(resp_parser_pos(&p), 6);
    /* Reset in the middle of a command forgets it. */
    char part[] = "*2\r\n$1\r\na\r\n";
    resp_parser_reset(&p);
    TEST_EQ_INT(resp_parse(&p, part, sizeof(part) - 1), INC);
    resp_parser_reset(&p);
    TEST_EQ_INT(resp_parse(&p, ping, 6), RESP_OK);
    TEST_TRUE(p.inline_cmd);
    /* Limits survive a reset. */
    p.max_bulk_len = 3;
    p.unauthenticated = true;
    resp_parser_reset(&p);
    TEST_EQ_INT(p.max_bulk_len, 3);
    TEST_TRUE(p.unauthenticated);
    resp_parser_free(&p);
    resp_parser_free(&p); /* twice is harmless */
    resp_parser_free(NULL);
}

static void test_init_defaults(void) {
    resp_parser p;
    memset(&p, 0x5a, sizeof(p));
    resp_parser_init(&p);
    TEST_EQ_INT(p.max_bulk_len, 512LL * 1024 * 1024);
    TEST_TRUE(!p.unauthenticated);
    TEST_TRUE(p.argv == NULL);
    TEST_EQ_INT(p.argc, 0);
    TEST_TRUE(p.err == NULL);
    TEST_EQ_INT(resp_parser_pos(&p), 0);
    TEST_EQ_INT(resp_parser_wanted(&p), 0);
    char empty[1];
    TEST_EQ_INT(resp_parse(&p, empty, 0), INC);
    resp_parser_free(&p);
}

static void test_inline_in_place(void) {
    char line[] = "ECHO \"a\\x41\\n\" 'q\\'z'\r\nPING\r\n";
    size_t len = sizeof(line) - 1;
    char *g = test_guarded(line, len);
    resp_parser p;
    resp_parser_init(&p);
    TEST_EQ_INT(resp_parse(&p, g, len), RESP_OK);
    TEST_EQ_INT(p.argc, 3);
    TEST_EQ_MEM(g + p.argv[1].off, p.argv[1].len, "aA\n", 3);
    TEST_EQ_MEM(g + p.argv[2].off, p.argv[2].len, "q'z", 3);
    size_t pos = resp_parser_pos(&p);
    TEST_EQ_INT(pos, 23);
    /* Arguments do not overlap and bytes after the line are untouched. */
    TEST_TRUE(p.argv[1].off >= p.argv[0].off + p.argv[0].len);
    TEST_TRUE(p.argv[2].off >= p.argv[1].off + p.argv[1].len);
    TEST_EQ_MEM(g + pos, len - pos, "PING\r\n", 6);
    TEST_EQ_INT(resp_parse(&p, g, len), RESP_OK);
    TEST_EQ_MEM(g + p.argv[0].off, p.argv[0].len, "PING", 4);
    resp_parser_free(&p);
}

static void test_multibulk_not_modified(void) {
    char in[] = "*2\r\n$1\r\n\"\r\n$2\r\n\\x\r\n";
    char copy[sizeof(in)];
    memcpy(copy, in, sizeof(in));
    resp_parser p;
    resp_parser_init(&p);
    TEST_EQ_INT(resp_parse(&p, in, sizeof(in) - 1), RESP_OK);
    TEST_TRUE(!p.inline_cmd);
    TEST_EQ_MEM(in, sizeof(in), copy, sizeof(copy));
    resp_parser_free(&p);
}

/* ========================================================================
 * Pipelines and random tests
 * ======================================================================== */

static uint64_t rng_state;

static uint64_t rnd(void) {
    /* xorshift64*: fixed seeds keep failures reproducible. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static size_t rnd_below(size_t n) {
    return n ? (size_t)(rnd() % n) : 0;
}

/* Appends one random command to in and its rendering to want. */
static void random_command(buf *in, buf *want, bool unbounded) {
    static const char special[] = "\r\n\0*$\"' \\x01";
    int kind = (int)rnd_below(10);
    if (kind == 0) {
        static const char *const empties[] = {"*0\r\n", "*-1\r\n", "\r\n", "\n",
                                              "  \t\r\n", "*-42\r\n"};
        buf_append_str(in, empties[rnd_below(6)]);
        return;
    }
    size_t argc = 1 + rnd_below(6);
    if (kind <= 2) {
        /* Inline: plain words with random blanks. */
        buf_append_str(want, "i[");
        for (size_t a = 0; a < argc; a++) {
            if (a) {
                buf_append_char(want, ',');
                buf_append_char(in, rnd_below(2) ? ' ' : '\t');
            }
            size_t n = 1 + rnd_below(8);
            for (size_t i = 0; i < n; i++) {
                char ch = (char)('a' + rnd_below(26));
                buf_append_char(in, ch);
                buf_append_char(want, ch);
            }
        }
        buf_append_str(in, rnd_below(2) ? "\r\n" : "\n");
        buf_append_char(want, ']');
        return;
    }
    buf_printf(in, "*%zu\r\n", argc);
    buf_append_str(want, "m[");
    for (size_t a = 0; a < argc; a++) {
        size_t n = rnd_below(unbounded && rnd_below(8) == 0 ? 3000 : 12);
        char data[3000];
        for (size_t i = 0; i < n; i++)
            data[i] = rnd_below(3) ? (char)rnd() : special[rnd_below(sizeof(special))];
        buf_printf(in, "$%zu\r\n", n);
        buf_append(in, data, n);
        buf_append(in, "\r\n", 2);
        if (a) buf_append_char(want, ',');
        test_render_bytes(want, data, n);
    }
    buf_append_char(want, ']');
}

static size_t *random_cuts(size_t len, size_t max_cuts, size_t *ncuts) {
    size_t n = rnd_below(max_cuts + 1);
    size_t *cuts = mem_alloc((n + 1) * sizeof(*cuts));
    for (size_t i = 0; i < n; i++) cuts[i] = rnd_below(len + 1);
    for (size_t i = 1; i < n; i++) /* insertion sort: n is small */
        for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
            size_t t = cuts[j];
            cuts[j] = cuts[j - 1];
            cuts[j - 1] = t;
        }
    *ncuts = n;
    return cuts;
}

static void test_pipeline_1000(void) {
    rng_state = 0x1234567;
    buf in = {0}, want = {0};
    for (int i = 0; i < 1000; i++) {
        switch (i % 4) {
        case 0:
            buf_printf(&in, "*3\r\n$7\r\nPUBLISH\r\n$%d\r\nch%d\r\n$3\r\nmsg\r\n",
                       i < 10 ? 3 : i < 100 ? 4 : 5, i);
            buf_printf(&want, "m[PUBLISH,ch%d,msg]", i);
            break;
        case 1:
            buf_printf(&in, "SUBSCRIBE ch%d \"a b\"\r\n", i);
            buf_printf(&want, "i[SUBSCRIBE,ch%d,a\\x20b]", i);
            break;
        case 2:
            buf_append_str(&in, i % 8 == 2 ? "*0\r\n" : "\r\n"); /* skipped */
            buf_append_str(&in, "*1\r\n$4\r\nPING\r\n");
            buf_append_str(&want, "m[PING]");
            break;
        default:
            random_command(&in, &want, false);
            break;
        }
    }
    buf_append_char(&want, '\0');
    feed_opts o = {false, 0, false};
    feed_and_expect(in.data, in.len, NULL, 0, &o, want.data, INC, NULL, "pipeline", "whole");
    size_t *cuts = mem_alloc(in.len * sizeof(*cuts));
    for (size_t i = 1; i < in.len; i++) cuts[i - 1] = i;
    if (!test_failed)
        feed_and_expect(in.data, in.len, cuts, in.len - 1, &o, want.data, INC, NULL,
                        "pipeline", "bytewise");
    mem_free(cuts);
    for (int r = 0; r < 50 && !test_failed; r++) {
        size_t n;
        cuts = random_cuts(in.len, 40, &n);
        o.keep = r & 1;
        feed_and_expect(in.data, in.len, cuts, n, &o, want.data, INC, NULL,
                        "pipeline", "random splits");
        mem_free(cuts);
    }
    buf_free(&in);
    buf_free(&want);
}

static void test_random_roundtrip(void) {
    rng_state = 0x9e3779b97f4a7c15ULL;
    for (int round = 0; round < 400 && !test_failed; round++) {
        buf in = {0}, want = {0};
        size_t ncmd = 1 + rnd_below(40);
        for (size_t i = 0; i < ncmd; i++) random_command(&in, &want, true);
        buf_append_char(&want, '\0');
        size_t n;
        size_t *cuts = random_cuts(in.len, 20, &n);
        feed_opts o = {false, 0, round & 1};
        char id[48];
        snprintf(id, sizeof(id), "roundtrip round %d", round);
        feed_and_expect(in.data, in.len, cuts, n, &o, want.data, INC, NULL, id, "random splits");
        mem_free(cuts);
        buf_free(&in);
        buf_free(&want);
    }
}

static bool same_outcome(const outcome *a, const outcome *b) {
    return a->rc == b->rc && strcmp(a->err, b->err) == 0 &&
           a->cmds.len == b->cmds.len &&
           (a->cmds.len == 0 || memcmp(a->cmds.data, b->cmds.data, a->cmds.len) == 0);
}

static void test_random_garbage(void) {
    /* Random bytes, and mutated valid commands: never a crash or an
     * over-read, always INCOMPLETE or ERR at the end, and (below 64 KiB)
     * the outcome never depends on how the bytes were split. */
    static const char alphabet[] = "*$\r\n0123456789-+ \t\"'\\x\0AZ";
    rng_state = 42;
    buf in = {0}, want = {0};
    for (int iter = 0; iter < 100000 && !test_failed; iter++) {
        in.len = 0;
        if (iter & 1) {
            size_t n = rnd_below(40);
            for (size_t i = 0; i < n; i++)
                buf_append_char(&in, rnd_below(8) ? alphabet[rnd_below(sizeof(alphabet))]
                                                  : (char)rnd());
        } else {
            size_t ncmd = 1 + rnd_below(3);
            for (size_t i = 0; i < ncmd; i++) random_command(&in, &want, false);
            want.len = 0;
            for (size_t m = 1 + rnd_below(3); m > 0 && in.len; m--) {
                size_t at = rnd_below(in.len);
                switch (rnd_below(3)) {
                case 0: in.data[at] = alphabet[rnd_below(sizeof(alphabet))]; break;
                case 1: in.data[at] = (char)rnd(); break;
                default: in.len = at; break; /* truncate */
                }
            }
        }
        feed_opts o = {rnd_below(4) == 0, rnd_below(4) == 0 ? (long long)rnd_below(20) + 1 : 0,
                       false};
        outcome whole, split;
        run_feed(in.data, in.len, NULL, 0, &o, &whole);
        size_t n;
        size_t *cuts = random_cuts(in.len, 5, &n);
        o.keep = rnd_below(2);
        run_feed(in.data, in.len, cuts, n, &o, &split);
        mem_free(cuts);
        bool ok = !whole.bad[0] && !split.bad[0] &&
                  (whole.rc == INC || whole.rc == ERR) && same_outcome(&whole, &split);
        if (!ok) {
            TEST_FAIL_AT("iteration %d: rc %d/%d err \"%s\"/\"%s\" bad \"%s\"/\"%s\"",
                         iter, whole.rc, split.rc, whole.err, split.err, whole.bad,
                         split.bad);
            test_print_escaped("input", in.data, in.len);
            test_print_escaped("whole", whole.cmds.data, whole.cmds.len);
            test_print_escaped("split", split.cmds.data, split.cmds.len);
        }
        outcome_free(&whole);
        outcome_free(&split);
    }
    buf_free(&in);
    buf_free(&want);
}

/* ========================================================================
 * Encoders
 * ======================================================================== */

#define EXPECT_ENC(stmt, want)                                                   \
    do {                                                                         \
        buf b = {0};                                                             \
        buf_append(&b, "<", 1); /* encoders append, never overwrite */           \
        stmt;                                                                    \
        bool ok_ = b.len == sizeof(want) && b.data[0] == '<' &&                  \
                   memcmp(b.data + 1, want, sizeof(want) - 1) == 0;              \
        if (!ok_) {                                                              \
            TEST_FAIL_AT("%s", #stmt);                                           \
            test_print_escaped("got", b.data + 1, b.len - 1);                    \
            test_print_escaped("want", want, sizeof(want) - 1);                  \
        }                                                                        \
        buf_free(&b);                                                            \
        if (!ok_) return;                                                        \
    } while (0)

static void test_enc_simple_error(void) {
    EXPECT_ENC(resp_add_simple(&b, "OK"), "+OK\r\n");
    EXPECT_ENC(resp_add_simple(&b, ""), "+\r\n");
    EXPECT_ENC(resp_add_simple(&b, "a\r\nb"), "+a  b\r\n");
    EXPECT_ENC(resp_add_error(&b, "ERR bad thing"), "-ERR bad thing\r\n");
    EXPECT_ENC(resp_add_error(&b, "ERR a\r\nb\nc\r"), "-ERR a  b c \r\n");
    EXPECT_ENC(resp_add_error(&b, "NOAUTH Authentication required."),
               "-NOAUTH Authentication required.\r\n");
}

static void test_enc_int(void) {
    EXPECT_ENC(resp_add_int(&b, 0), ":0\r\n");
    EXPECT_ENC(resp_add_int(&b, 7), ":7\r\n");
    EXPECT_ENC(resp_add_int(&b, -1), ":-1\r\n");
    EXPECT_ENC(resp_add_int(&b, 1000), ":1000\r\n");
    EXPECT_ENC(resp_add_int(&b, LLONG_MAX), ":9223372036854775807\r\n");
    EXPECT_ENC(resp_add_int(&b, LLONG_MIN), ":-9223372036854775808\r\n");
    /* Against snprintf around every power of ten and at random. */
    rng_state = 7;
    for (int i = 0; i < 20000; i++) {
        long long v;
        if (i < 19 * 6) {
            long long p = 1;
            for (int k = 0; k < i / 6; k++) p *= 10;
            long long d[6] = {p - 1, p, p + 1, -p + 1, -p, -p - 1};
            v = d[i % 6];
        } else {
            v = (long long)(rnd() >> rnd_below(64));
            if (rnd_below(2) && v != LLONG_MIN) v = -v;
        }
        char want[32];
        int n = snprintf(want, sizeof(want), ":%lld\r\n", v);
        buf b = {0};
        resp_add_int(&b, v);
        bool ok = b.len == (size_t)n && memcmp(b.data, want, b.len) == 0;
        buf_free(&b);
        if (!ok) {
            TEST_FAIL_AT("resp_add_int(%lld)", v);
            return;
        }
        if (resp_ll_len(v) != (size_t)n - 3) {
            TEST_FAIL_AT("resp_ll_len(%lld) = %zu, want %d", v, resp_ll_len(v), n - 3);
            return;
        }
    }
}

static void test_enc_ll_len(void) {
    TEST_EQ_INT(resp_ll_len(0), 1);
    TEST_EQ_INT(resp_ll_len(9), 1);
    TEST_EQ_INT(resp_ll_len(10), 2);
    TEST_EQ_INT(resp_ll_len(99), 2);
    TEST_EQ_INT(resp_ll_len(100), 3);
    TEST_EQ_INT(resp_ll_len(-1), 2);
    TEST_EQ_INT(resp_ll_len(-10), 3);
    TEST_EQ_INT(resp_ll_len(LLONG_MAX), 19);
    TEST_EQ_INT(resp_ll_len(LLONG_MIN), 20);
}

static void test_enc_bulk(void) {
    EXPECT_ENC(resp_add_bulk(&b, "hello", 5), "$5\r\nhello\r\n");
    EXPECT_ENC(resp_add_bulk(&b, "", 0), "$0\r\n\r\n");
    EXPECT_ENC(resp_add_bulk(&b, NULL, 0), "$0\r\n\r\n");
    EXPECT_ENC(resp_add_bulk(&b, "a\0\r\nb", 5), "$5\r\na\0\r\nb\r\n");
    EXPECT_ENC(resp_add_bulk(&b, "0123456789", 10), "$10\r\n0123456789\r\n");
    EXPECT_ENC(resp_add_bulk_str(&b, "message"), "$7\r\nmessage\r\n");
    EXPECT_ENC(resp_add_bulk_str(&b, ""), "$0\r\n\r\n");
    /* A large one, appended to a buffer that is exactly full. */
    buf b = {0};
    buf_reserve(&b, 16);
    b.len = 0;
    while (b.len < b.cap) b.data[b.len++] = 'x';
    size_t before = b.len;
    char big[70000];
    memset(big, 'y', sizeof(big));
    resp_add_bulk(&b, big, sizeof(big));
    TEST_EQ_MEM(b.data + before, 9, "$70000\r\ny", 9);
    TEST_EQ_INT(b.len, before + 8 + 70000 + 2);
    TEST_EQ_MEM(b.data + b.len - 3, 3, "y\r\n", 3);
    buf_free(&b);
}

static void test_enc_bulk_header(void) {
    char d[RESP_BULK_HEADER_MAX];
    TEST_EQ_INT(resp_bulk_header(d, 0), 4);
    TEST_EQ_MEM(d, 4, "$0\r\n", 4);
    TEST_EQ_INT(resp_bulk_header(d, 123), 6);
    TEST_EQ_MEM(d, 6, "$123\r\n", 6);
    TEST_EQ_INT(resp_bulk_header(d, SIZE_MAX), 23);
    TEST_EQ_MEM(d, 23, "$18446744073709551615\r\n", 23);
}

static void test_enc_nulls(void) {
    EXPECT_ENC(resp_add_null(&b, 2), "$-1\r\n");
    EXPECT_ENC(resp_add_null(&b, 3), "_\r\n");
    EXPECT_ENC(resp_add_null_array(&b, 2), "*-1\r\n");
    EXPECT_ENC(resp_add_null_array(&b, 3), "_\r\n");
}

static void test_enc_aggregates(void) {
    EXPECT_ENC(resp_add_array_len(&b, 0), "*0\r\n");
    EXPECT_ENC(resp_add_array_len(&b, 3), "*3\r\n");
    EXPECT_ENC(resp_add_array_len(&b, -1), "*-1\r\n");
    EXPECT_ENC(resp_add_array_len(&b, 1234567), "*1234567\r\n");
    EXPECT_ENC(resp_add_map_len(&b, 7, 3), "%7\r\n");
    EXPECT_ENC(resp_add_map_len(&b, 7, 2), "*14\r\n");
    EXPECT_ENC(resp_add_map_len(&b, 0, 2), "*0\r\n");
    EXPECT_ENC(resp_add_set_len(&b, 5, 3), "~5\r\n");
    EXPECT_ENC(resp_add_set_len(&b, 5, 2), "*5\r\n");
    EXPECT_ENC(resp_add_push_len(&b, 3, 3), ">3\r\n");
    EXPECT_ENC(resp_add_push_len(&b, 3, 2), "*3\r\n");
}

static void test_enc_double(void) {
    /* Exactly what redis-server 7.0.15 sends for ZSCORE. */
    EXPECT_ENC(resp_add_double(&b, 1.1, 2), "$18\r\n1.1000000000000001\r\n");
    EXPECT_ENC(resp_add_double(&b, 1.1, 3), ",1.1000000000000001\r\n");
    EXPECT_ENC(resp_add_double(&b, 3, 2), "$1\r\n3\r\n");
    EXPECT_ENC(resp_add_double(&b, 3, 3), ",3\r\n");
    EXPECT_ENC(resp_add_double(&b, 0, 3), ",0\r\n");
    EXPECT_ENC(resp_add_double(&b, 0.1, 2), "$19\r\n0.10000000000000001\r\n");
    EXPECT_ENC(resp_add_double(&b, 1e300, 3), ",1.0000000000000001e+300\r\n");
    EXPECT_ENC(resp_add_double(&b, 1e-5, 3), ",1.0000000000000001e-05\r\n");
    EXPECT_ENC(resp_add_double(&b, 123456789012345678.0, 2),
               "$22\r\n1.2345678901234568e+17\r\n");
    EXPECT_ENC(resp_add_double(&b, INFINITY, 2), "$3\r\ninf\r\n");
    EXPECT_ENC(resp_add_double(&b, INFINITY, 3), ",inf\r\n");
    EXPECT_ENC(resp_add_double(&b, -INFINITY, 2), "$4\r\n-inf\r\n");
    EXPECT_ENC(resp_add_double(&b, -INFINITY, 3), ",-inf\r\n");
}

static void test_enc_bool(void) {
    EXPECT_ENC(resp_add_bool(&b, true, 3), "#t\r\n");
    EXPECT_ENC(resp_add_bool(&b, false, 3), "#f\r\n");
    EXPECT_ENC(resp_add_bool(&b, true, 2), ":1\r\n");
    EXPECT_ENC(resp_add_bool(&b, false, 2), ":0\r\n");
}

static void test_enc_verbatim(void) {
    EXPECT_ENC(resp_add_verbatim(&b, "hello", 5, "txt", 3), "=9\r\ntxt:hello\r\n");
    EXPECT_ENC(resp_add_verbatim(&b, "hello", 5, "txt", 2), "$5\r\nhello\r\n");
    EXPECT_ENC(resp_add_verbatim(&b, "", 0, "mkd", 3), "=4\r\nmkd:\r\n");
    EXPECT_ENC(resp_add_verbatim(&b, "a\r\nb", 4, "txt", 3), "=8\r\ntxt:a\r\nb\r\n");
}

static void test_enc_sequence(void) {
    /* A RESP3 message push followed by a RESP2 reply, in one buffer. */
    buf b = {0};
    resp_add_push_len(&b, 3, 3);
    resp_add_bulk_str(&b, "message");
    resp_add_bulk_str(&b, "ch");
    resp_add_bulk(&b, "hi", 2);
    resp_add_array_len(&b, 2);
    resp_add_int(&b, 1);
    resp_add_null(&b, 2);
    static const char want[] =
        ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n*2\r\n:1\r\n$-1\r\n";
    TEST_EQ_MEM(b.data, b.len, want, sizeof(want) - 1);
    buf_free(&b);
}

const test_case resp_tests[] = {
    {"protocol_table", test_protocol_table},
    {"inline_quoting_table", test_inline_quoting_table},
    {"limit_64k", test_limit_64k},
    {"limit_big_bulk", test_limit_big_bulk},
    {"argv_prealloc_cap", test_argv_prealloc_cap},
    {"shift", test_shift},
    {"shift_inline_scan", test_shift_inline_scan},
    {"wanted", test_wanted},
    {"sticky_and_reset", test_sticky_and_reset},
    {"init_defaults", test_init_defaults},
    {"inline_in_place", test_inline_in_place},
    {"multibulk_not_modified", test_multibulk_not_modified},
    {"pipeline_1000", test_pipeline_1000},
    {"random_roundtrip", test_random_roundtrip},
    {"random_garbage", test_random_garbage},
    {"enc_simple_error", test_enc_simple_error},
    {"enc_int", test_enc_int},
    {"enc_ll_len", test_enc_ll_len},
    {"enc_bulk", test_enc_bulk},
    {"enc_bulk_header", test_enc_bulk_header},
    {"enc_nulls", test_enc_nulls},
    {"enc_aggregates", test_enc_aggregates},
    {"enc_double", test_enc_double},
    {"enc_bool", test_enc_bool},
    {"enc_verbatim", test_enc_verbatim},
    {"enc_sequence", test_enc_sequence},
    {NULL, NULL},
};
