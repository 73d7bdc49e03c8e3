/* fuzz_resp.c -- Fuzz target for the RESP request parser (src/resp.c).
 *
 * The parser is driven the way client.c drives it: bytes are appended to a
 * query buffer, resp_parse() runs while it returns RESP_OK, then the bytes
 * before resp_parser_pos() are dropped and the parser is told with
 * resp_parser_shift(). Each input is parsed twice: once handed over whole,
 * once in chunks whose sizes come from the input, in a buffer reallocated to
 * its exact size on every append (so it moves, and ASan sees any read past
 * the end). Both runs must give the same commands and the same outcome;
 * along the way every argument must lie inside its command's bytes, the
 * parse position must stay within the buffer, and errors must be sticky and
 * worded as Redis words them. A mismatch aborts with both transcripts.
 *
 * Input layout:
 *   byte 0      flags: bit 0 start unauthenticated (pre-AUTH limits);
 *               bit 1 use byte 1 as proto-max-bulk-len; bit 2 drop consumed
 *               bytes after every command in the chunked run (client.c does
 *               it when the parser stops); bits 3-5 authenticate after that
 *               many commands (0: never), as an AUTH in a pipeline would;
 *               bit 6 pad the stream to just over 64 KiB by repeating its
 *               last byte, to reach the 64 KiB line limits.
 *   byte 1      proto-max-bulk-len when bit 1 is set (0..255 bytes).
 *   byte 2      n = byte % 8 chunk-size bytes follow.
 *   n bytes     chunk sizes, used in turn: b + 1 bytes, 255 = all the rest;
 *               n == 0 feeds one byte at a time. Chunks are never smaller
 *               than 1/256 of the stream, so a run makes at most ~256
 *               appends (each copies the buffer).
 *   the rest    the bytes a client sends. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER_LEN 3
#define PAD_TO (RESP_MAX_INLINE_LEN + 64)
#define MAX_APPENDS 256
#define ERR_PREFIX "Protocol error: "
#define DOLLAR_PREFIX "Protocol error: expected '$', got '"

typedef struct run_opts {
    bool unauthenticated;     /* pre-AUTH limits at the start */
    unsigned auth_after;      /* commands before AUTH succeeds; 0 = never */
    long long max_bulk_len;   /* parser limit */
    bool eager_consume;       /* chunked run: drop bytes after every command */
    const uint8_t *chunks;    /* chunk-size bytes */
    size_t chunks_n;          /* 0: one byte at a time */
} run_opts;

/* The state of one run: an exact-size query buffer and the transcript. */
typedef struct run_state {
    resp_parser p;
    char *qb;                 /* owned; exactly qb_len bytes (NULL if 0) */
    size_t qb_len;
    size_t dropped;           /* stream bytes consumed before qb[0] */
    unsigned long commands;   /* RESP_OK results so far */
    buf *log;                 /* borrowed: transcript to compare */
} run_state;

static void fail(const char *what, const run_state *s) {
    fprintf(stderr, "fuzz_resp: %s (after %lu commands, %zu bytes dropped)\n", what,
            s->commands, s->dropped);
    abort();
}

#define CHECK(cond, s)                                                            \
    do {                                                                          \
        if (!(cond)) fail("check failed: " #cond, s);                             \
    } while (0)

/* Appends n bytes by moving the buffer to a new exact-size block. */
static void qb_append(run_state *s, const uint8_t *src, size_t n) {
    if (n == 0) return;
    char *grown = malloc(s->qb_len + n);
    if (!grown) abort();
    if (s->qb_len) memcpy(grown, s->qb, s->qb_len);
    memcpy(grown + s->qb_len, src, n);
    free(s->qb);
    s->qb = grown;
    s->qb_len += n;
}

/* Drops the first n bytes, as client.c does with buf_consume(). */
static void qb_consume(run_state *s, size_t n) {
    if (n == 0) return;
    size_t pos = resp_parser_pos(&s->p);
    CHECK(n <= pos && pos <= s->qb_len, s);
    size_t left = s->qb_len - n;
    char *kept = NULL;
    if (left) {
        kept = malloc(left);
        if (!kept) abort();
        memcpy(kept, s->qb + n, left);
    }
    free(s->qb);
    s->qb = kept;
    s->qb_len = left;
    s->dropped += n;
    resp_parser_shift(&s->p, n);
    CHECK(resp_parser_pos(&s->p) == pos - n, s);
}

static void log_u64(buf *b, char tag, unsigned long long v) {
    buf_append_char(b, tag);
    buf_append(b, &v, sizeof(v));
}

/* Checks the command just parsed from qb[from..to) and logs it. */
static void take_command(run_state *s, const run_opts *o, const uint8_t *stream, size_t from,
                         size_t to, bool unauth) {
    const resp_parser *p = &s->p;
    CHECK(p->argc >= 1, s);
    CHECK(p->argv != NULL && p->argc <= p->argv_cap, s);
    log_u64(s->log, p->inline_cmd ? 'I' : 'M', p->argc);
    for (size_t i = 0; i < p->argc; i++) {
        size_t off = p->argv[i].off, len = p->argv[i].len;
        CHECK(off >= from && off <= to && len <= to - off, s);
        if (!p->inline_cmd) {
            /* Multibulk arguments are the stream's own bytes, untouched. */
            CHECK(memcmp(s->qb + off, stream + s->dropped + off, len) == 0, s);
            CHECK((long long)len <= o->max_bulk_len, s);
            if (unauth) CHECK(len <= RESP_UNAUTH_MAX_BULK, s);
        }
        log_u64(s->log, 'A', len);
        buf_append(s->log, s->qb + off, len);
    }
    if (!p->inline_cmd && unauth) CHECK(p->argc <= RESP_UNAUTH_MAX_MULTIBULK, s);
}

static void check_error(run_state *s) {
    const char *err = s->p.err;
    CHECK(err != NULL, s);
    size_t n = strlen(err);
    CHECK(n > strlen(ERR_PREFIX) && memcmp(err, ERR_PREFIX, strlen(ERR_PREFIX)) == 0, s);
    CHECK(strchr(err, '\r') == NULL && strchr(err, '\n') == NULL, s);
    if (strncmp(err, DOLLAR_PREFIX, strlen(DOLLAR_PREFIX)) == 0)
        CHECK(n == strlen(DOLLAR_PREFIX) + 2 && err[n - 1] == '\'', s);
    /* Sticky: the same error and position on every later call. */
    size_t pos = resp_parser_pos(&s->p);
    CHECK(resp_parse(&s->p, s->qb, s->qb_len) == RESP_ERR, s);
    CHECK(s->p.err == err && resp_parser_pos(&s->p) == pos, s);
    buf_append_char(s->log, 'E');
    buf_append_str(s->log, err);
}

/* Parses everything in the buffer; returns the last resp_parse() result. */
static int parse_available(run_state *s, const run_opts *o, const uint8_t *stream, bool eager) {
    for (;;) {
        bool unauth = o->unauthenticated && !(o->auth_after && s->commands >= o->auth_after);
        s->p.unauthenticated = unauth;
        size_t before = resp_parser_pos(&s->p);
        CHECK(before <= s->qb_len, s);
        int rc = resp_parse(&s->p, s->qb, s->qb_len);
        size_t after = resp_parser_pos(&s->p);
        CHECK(after >= before && after <= s->qb_len, s);
        if (rc == RESP_OK) {
            CHECK(after > before, s);
            take_command(s, o, stream, before, after, unauth);
            s->commands++;
            if (eager) qb_consume(s, after);
            continue;
        }
        if (rc == RESP_INCOMPLETE) {
            size_t want = resp_parser_wanted(&s->p);
            CHECK((long long)want <= o->max_bulk_len + 2, s);
            if (unauth) CHECK(want <= RESP_UNAUTH_MAX_BULK + 2, s);
            return rc;
        }
        CHECK(rc == RESP_ERR, s);
        check_error(s);
        return rc;
    }
}

static size_t next_chunk(const run_opts *o, size_t *turn, size_t left, size_t total) {
    size_t n = 1;
    if (o->chunks_n > 0) {
        uint8_t b = o->chunks[(*turn)++ % o->chunks_n];
        n = b == 255 ? left : (size_t)b + 1;
    }
    size_t floor = total / MAX_APPENDS;
    if (n < floor) n = floor;
    return n < left ? n : left;
}

/* One run over the stream, whole or chunked; the transcript goes to log. */
static void run(const run_opts *o, const uint8_t *stream, size_t len, bool chunked, buf *log) {
    run_state s;
    memset(&s, 0, sizeof(s));
    s.log = log;
    resp_parser_init(&s.p);
    s.p.max_bulk_len = o->max_bulk_len;
    bool eager = chunked && o->eager_consume;
    size_t fed = 0, turn = 0;
    int rc = RESP_INCOMPLETE;
    while (fed < len && rc != RESP_ERR) {
        size_t n = chunked ? next_chunk(o, &turn, len - fed, len) : len - fed;
        qb_append(&s, stream + fed, n);
        fed += n;
        rc = parse_available(&s, o, stream, eager);
        if (rc != RESP_ERR) qb_consume(&s, resp_parser_pos(&s.p));
    }
    if (rc != RESP_ERR) {
        /* Whatever is left waits for more bytes. */
        CHECK(resp_parser_pos(&s.p) == 0, &s);
        log_u64(log, 'P', s.qb_len);
    }
    CHECK(s.dropped + s.qb_len == len || rc == RESP_ERR, &s);
    resp_parser_free(&s.p);
    resp_parser_free(&s.p); /* twice is allowed */
    free(s.qb);
}

static void print_log(const char *name, const buf *b) {
    fprintf(stderr, "%s transcript (%zu bytes):\n", name, b->len);
    for (size_t i = 0; i < b->len; i++) {
        unsigned char c = (unsigned char)b->data[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') fputc(c, stderr);
        else fprintf(stderr, "\\x%02x", c);
    }
    fputc('\n', stderr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < HEADER_LEN) return 0;
    run_opts o;
    memset(&o, 0, sizeof(o));
    o.unauthenticated = data[0] & 1;
    o.max_bulk_len = (data[0] & 2) ? data[1] : RESP_DEFAULT_MAX_BULK_LEN;
    o.eager_consume = (data[0] & 4) != 0;
    o.auth_after = (data[0] >> 3) & 7;
    o.chunks_n = data[2] % 8;
    if (size < HEADER_LEN + o.chunks_n) return 0;
    o.chunks = data + HEADER_LEN;
    const uint8_t *stream = data + HEADER_LEN + o.chunks_n;
    size_t len = size - HEADER_LEN - o.chunks_n;
    uint8_t *padded = NULL;
    if ((data[0] & 64) && len > 0 && len < PAD_TO) {
        padded = malloc(PAD_TO);
        if (!padded) abort();
        memcpy(padded, stream, len);
        memset(padded + len, stream[len - 1], PAD_TO - len);
        stream = padded;
        len = PAD_TO;
    }

    buf whole = {0}, chunked = {0};
    run(&o, stream, len, false, &whole);
    run(&o, stream, len, true, &chunked);
    /* Past 64 KiB the inline limit may trip in one run only, legitimately:
     * it counts bytes waiting without a line end. */
    bool comparable = len <= RESP_MAX_INLINE_LEN;
    if (comparable && (whole.len != chunked.len || memcmp(whole.data, chunked.data, whole.len) != 0)) {
        fprintf(stderr, "fuzz_resp: whole and chunked parses differ\n");
        print_log("whole", &whole);
        print_log("chunked", &chunked);
        abort();
    }
    buf_free(&whole);
    buf_free(&chunked);
    free(padded);
    return 0;
}
