/* fuzz_reply.c -- Fuzz target for the RESP2/RESP3 reply reader
 * (src/resp_reply.c), driven as an upstream link drives it: bytes go in
 * with rreader_feed(), replies come out of rreader_next() until it stops
 * returning RREADER_OK. Each input is read twice: once fed whole, once in
 * chunks whose sizes come from the input, each chunk copied to an
 * exact-size heap block first (so ASan sees any read past it). Both runs
 * must give the same replies, the same final outcome and the same count of
 * unread bytes. Along the way every reply must keep the contract: strings
 * NUL-terminated and within max_bulk_len (doubles: 128 bytes), aggregates
 * within max_elements, maps even, booleans 0/1, nesting within
 * RREADER_MAX_DEPTH; errors sticky and worded "Protocol error: ...". Each
 * reply is also encoded back to RESP and read again by a fresh reader,
 * which must give the same reply. The first 8 replies of the whole run also
 * go to the cluster map builders (src/cluster.c) as CLUSTER SHARDS (with
 * and without TLS) and CLUSTER SLOTS replies, and errors to the -MOVED
 * parser: no crash, no leak, and a map that is built is consistent. A
 * mismatch aborts with both transcripts.
 *
 * Input layout:
 *   byte 0      flags: bit 0 use byte 1 as max_bulk_len (0..255 bytes);
 *               bit 1 use byte 2 as max_elements (0..255).
 *   byte 1      max_bulk_len when bit 0 is set (else 512 MB).
 *   byte 2      max_elements when bit 1 is set (else 1M).
 *   byte 3      n = byte % 8 chunk-size bytes follow.
 *   n bytes     chunk sizes, used in turn: b + 1 bytes, 255 = all the rest;
 *               n == 0 feeds one byte at a time.
 *   the rest    the bytes a server sends. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cluster.h"
#include "resp_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER_LEN 4
#define ERR_PREFIX "Protocol error: "

typedef struct run_opts {
    long long max_bulk_len;
    long long max_elements;
    const uint8_t *chunks;    /* chunk-size bytes */
    size_t chunks_n;          /* 0: one byte at a time */
} run_opts;

static void die(const char *what) {
    fprintf(stderr, "fuzz_reply: %s\n", what);
    abort();
}

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) die("check failed: " #cond);                              \
    } while (0)

static void log_u64(buf *b, char tag, unsigned long long v) {
    buf_append_char(b, tag);
    buf_append(b, &v, sizeof(v));
}

static bool has_str(rreply_type t) {
    return t == RREPLY_STATUS || t == RREPLY_ERROR || t == RREPLY_STRING ||
           t == RREPLY_DOUBLE || t == RREPLY_BIGNUM;
}

static bool is_aggregate(rreply_type t) {
    return t == RREPLY_ARRAY || t == RREPLY_MAP || t == RREPLY_SET || t == RREPLY_PUSH;
}

/* Checks r against the contract and logs it. */
static void take_reply(const rreply *r, const run_opts *o, int depth, buf *log) {
    CHECK((int)r->type >= RREPLY_STATUS && r->type <= RREPLY_PUSH);
    log_u64(log, 'T', (unsigned long long)r->type);
    if (r->type == RREPLY_INT || r->type == RREPLY_BOOL) log_u64(log, 'I', (unsigned long long)r->integer);
    if (r->type == RREPLY_BOOL) CHECK(r->integer == 0 || r->integer == 1);
    if (has_str(r->type)) {
        CHECK(r->str != NULL && r->str[r->len] == '\0');
        /* Doubles have a fixed limit of their own. */
        if (r->type == RREPLY_DOUBLE) CHECK(r->len <= 128);
        else CHECK((long long)r->len <= o->max_bulk_len);
        log_u64(log, 'S', r->len);
        buf_append(log, r->str, r->len);
    } else {
        CHECK(r->str == NULL);
    }
    if (is_aggregate(r->type)) {
        CHECK(depth < RREADER_MAX_DEPTH);
        CHECK((long long)r->elements <= o->max_elements);
        CHECK(r->type != RREPLY_MAP || r->elements % 2 == 0);
        CHECK(r->elements == 0 || r->element != NULL);
        log_u64(log, 'A', r->elements);
        for (size_t i = 0; i < r->elements; i++) take_reply(r->element[i], o, depth + 1, log);
    } else {
        CHECK(r->elements == 0);
    }
}

/* Writes r back as RESP (verbatim strings become bulk strings). */
static void encode(buf *b, const rreply *r) {
    static const char agg[] = {'*', '%', '~', '>'};
    switch (r->type) {
    case RREPLY_STATUS: buf_printf(b, "+%s\r\n", r->str); break;
    case RREPLY_ERROR: buf_printf(b, "!%zu\r\n", r->len); break;
    case RREPLY_INT: buf_printf(b, ":%lld\r\n", r->integer); break;
    case RREPLY_STRING: buf_printf(b, "$%zu\r\n", r->len); break;
    case RREPLY_NIL: buf_append_str(b, "_\r\n"); break;
    case RREPLY_DOUBLE: buf_printf(b, ",%s\r\n", r->str); break;
    case RREPLY_BOOL: buf_append_str(b, r->integer ? "#t\r\n" : "#f\r\n"); break;
    case RREPLY_BIGNUM: buf_printf(b, "(%s\r\n", r->str); break;
    default:
        buf_printf(b, "%c%zu\r\n", agg[r->type - RREPLY_ARRAY],
                   r->type == RREPLY_MAP ? r->elements / 2 : r->elements);
        for (size_t i = 0; i < r->elements; i++) encode(b, r->element[i]);
        return;
    }
    if (r->type == RREPLY_ERROR || r->type == RREPLY_STRING) {
        buf_append(b, r->str, r->len);
        buf_append(b, "\r\n", 2);
    }
}

/* Status lines and doubles may hold NULs, which %s would cut: skip those. */
static bool encodable(const rreply *r) {
    if ((r->type == RREPLY_STATUS || r->type == RREPLY_DOUBLE) && strlen(r->str) != r->len) return false;
    for (size_t i = 0; i < r->elements; i++)
        if (!encodable(r->element[i])) return false;
    return true;
}

/* Encodes r, reads it back with a fresh reader: the same reply. */
static void round_trip(const rreply *r, const run_opts *o, const buf *logged, size_t from) {
    if (!encodable(r)) return;
    buf wire = {0}, again = {0};
    encode(&wire, r);
    rreader *rd = rreader_new(o->max_bulk_len, o->max_elements);
    rreader_feed(rd, wire.data, wire.len);
    rreply *back = NULL;
    if (rreader_next(rd, &back) != RREADER_OK) die("round trip: encoded reply not read back");
    take_reply(back, o, 0, &again);
    if (again.len != logged->len - from || memcmp(again.data, logged->data + from, again.len) != 0)
        die("round trip: reply differs");
    CHECK(rreader_buffered(rd) == 0);
    rreply_free(back);
    rreader_free(rd);
    buf_free(&wire);
    buf_free(&again);
}

/* A built map: slots point at shards, shards hold sane nodes. */
static void check_map(const cluster_map *m) {
    CHECK(m->shard_count >= 0);
    for (int s = 0; s < CLUSTER_SLOTS; s++) CHECK(m->slot_shard[s] >= -1 && m->slot_shard[s] < m->shard_count);
    for (int i = 0; i < m->shard_count; i++) {
        const cluster_shard *sh = &m->shards[i];
        CHECK(sh->node_count >= 0);
        CHECK(!sh->has_primary || (sh->node_count > 0 && sh->nodes[0].primary));
        for (int j = 0; j < sh->node_count; j++) {
            const cluster_node *n = &sh->nodes[j];
            CHECK(n->port > 0 && n->port <= 65535);
            CHECK(memchr(n->host, '\0', sizeof(n->host)) && memchr(n->id, '\0', sizeof(n->id)));
            CHECK(cluster_map_find_node(m, n->host, n->port) >= 0);
        }
    }
    CHECK(cluster_map_equal(m, m));
}

/* Replies still to try as cluster replies in this input: a map costs a
 * pass over 16384 slots, so only the first few of the whole run are. */
static int cluster_tries_left;

static void try_cluster(const rreply *r) {
    if (cluster_tries_left <= 0) return;
    cluster_tries_left--;
    char err[128];
    for (int kind = 0; kind < 3; kind++) {
        err[0] = '\0';
        cluster_map *m = kind == 2 ? cluster_map_from_slots(r, err, sizeof(err))
                                   : cluster_map_from_shards(r, kind == 1, err, sizeof(err));
        if (m) check_map(m);
        else CHECK(err[0] != '\0');
        cluster_map_free(m);
    }
    if (r->type == RREPLY_ERROR) {
        int slot, port;
        char host[64];
        if (cluster_parse_moved(r->str, r->len, &slot, host, sizeof(host), &port) == 0)
            CHECK(slot >= 0 && slot < CLUSTER_SLOTS && port > 0 && port <= 65535 && strlen(host) < sizeof(host));
    }
}

/* Reads every complete reply; returns the last rreader_next() result. */
static int read_available(rreader *r, const run_opts *o, buf *log) {
    for (;;) {
        rreply *rep = (rreply *)1;
        int rc = rreader_next(r, &rep);
        if (rc == RREADER_OK) {
            CHECK(rep != NULL);
            size_t from = log->len;
            take_reply(rep, o, 0, log);
            round_trip(rep, o, log, from);
            try_cluster(rep);
            rreply_free(rep);
            continue;
        }
        CHECK(rep == NULL);
        if (rc == RREADER_INCOMPLETE) {
            CHECK(rreader_error(r) == NULL);
            return rc;
        }
        CHECK(rc == RREADER_ERR);
        const char *err = rreader_error(r);
        CHECK(err != NULL);
        CHECK(strncmp(err, ERR_PREFIX, strlen(ERR_PREFIX)) == 0);
        CHECK(strchr(err, '\r') == NULL && strchr(err, '\n') == NULL);
        /* Sticky: more bytes change nothing. */
        rreader_feed(r, "+OK\r\n", 5);
        CHECK(rreader_next(r, &rep) == RREADER_ERR && rep == NULL);
        CHECK(rreader_error(r) != NULL && strcmp(rreader_error(r), err) == 0);
        buf_append_char(log, 'E');
        buf_append_str(log, err);
        return rc;
    }
}

static size_t next_chunk(const run_opts *o, size_t *turn, size_t left) {
    size_t n = 1;
    if (o->chunks_n > 0) {
        uint8_t b = o->chunks[(*turn)++ % o->chunks_n];
        n = b == 255 ? left : (size_t)b + 1;
    }
    return n < left ? n : left;
}

static void run(const run_opts *o, const uint8_t *stream, size_t len, bool chunked, buf *log) {
    rreader *r = rreader_new(o->max_bulk_len, o->max_elements);
    size_t fed = 0, turn = 0;
    int rc = RREADER_INCOMPLETE;
    while (fed < len && rc != RREADER_ERR) {
        size_t n = chunked ? next_chunk(o, &turn, len - fed) : len - fed;
        char *copy = malloc(n);
        if (!copy) abort();
        memcpy(copy, stream + fed, n);
        rreader_feed(r, copy, n);
        free(copy);
        fed += n;
        rc = read_available(r, o, log);
        if (rc != RREADER_ERR) CHECK(rreader_buffered(r) <= fed);
    }
    if (rc != RREADER_ERR) log_u64(log, 'P', rreader_buffered(r));
    rreader_free(r);
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
    o.max_bulk_len = (data[0] & 1) ? data[1] : 512LL * 1024 * 1024;
    o.max_elements = (data[0] & 2) ? data[2] : 1000000;
    o.chunks_n = data[3] % 8;
    if (size < HEADER_LEN + o.chunks_n) return 0;
    o.chunks = data + HEADER_LEN;
    const uint8_t *stream = data + HEADER_LEN + o.chunks_n;
    size_t len = size - HEADER_LEN - o.chunks_n;

    buf whole = {0}, chunked = {0};
    cluster_tries_left = 8;
    run(&o, stream, len, false, &whole);
    cluster_tries_left = 0;
    run(&o, stream, len, true, &chunked);
    if (whole.len != chunked.len || memcmp(whole.data, chunked.data, whole.len) != 0) {
        fprintf(stderr, "fuzz_reply: whole and chunked reads differ\n");
        print_log("whole", &whole);
        print_log("chunked", &chunked);
        abort();
    }
    buf_free(&whole);
    buf_free(&chunked);
    return 0;
}
