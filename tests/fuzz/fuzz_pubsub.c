/* fuzz_pubsub.c -- Fuzz target for the subscription registry (src/pubsub.c).
 *
 * A byte-coded sequence of operations by 8 subscribers runs against the
 * registry and against a model kept here: a plain list of (kind, owner,
 * name) subscriptions in subscription order. Every publish is compared with
 * a brute-force answer (each channel subscriber in subscription order, then
 * one delivery per subscriber of every matching pattern, found with
 * glob_match over all patterns, so the pattern index is what is tested);
 * every operation's return value and every subscriber's counts are compared
 * with the model, and the registry-wide counts now and then and at the end.
 *
 * Input layout:
 *   byte 0      bit 0: end with pubsub_free() while subscribers still hold
 *               things (else release everyone first and check it is empty).
 *   then ops    one byte each: bits 0-2 the subscriber, bits 3-6 the
 *               operation (table in run_op); most take a name: a length
 *               byte (0..8), then that many bytes. A name byte below 0x80
 *               is drawn from a small alphabet of letters and glob
 *               characters, so names and patterns collide and match often;
 *               bytes from 0x80 stand for themselves. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glob.h"
#include "pubsub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The model is not what is being fuzzed: keep libFuzzer's coverage and
 * comparison tracing out of it. */
#if defined(__clang__)
#define MODEL __attribute__((no_sanitize("coverage")))
#else
#define MODEL
#endif

#define OWNERS 8
#define NAME_MAX 8
#define MAX_OPS 1024
#define KIND_PATTERN 2 /* model kind for patterns, beside PUBSUB_CHANNEL/SHARD */

static const char alphabet[16] = {'a', 'b', 'c', '.', '*', '?', '[', ']',
                                  '\\', '^', '-', 'a', 'b', '*', 'x', '\0'};

typedef struct entry {
    int kind;               /* PUBSUB_CHANNEL, PUBSUB_SHARD or KIND_PATTERN */
    int owner;
    size_t len;
    uint8_t name[NAME_MAX];
    bool live;
} entry;

typedef struct delivery {
    int owner;
    const char *pattern;    /* borrowed from the registry during publish */
    size_t pattern_len;
    uint8_t copy[NAME_MAX]; /* the pattern's bytes, checked during the call */
} delivery;

static struct {
    pubsub *ps;
    pubsub_sub *sp[OWNERS];
    char owner_tag[OWNERS];  /* owner pointers are &owner_tag[i] */
    entry *entries;          /* the model, in subscription order */
    size_t n, cap;
    delivery *dl;            /* deliveries of the publish being checked */
    size_t dl_n, dl_cap;
    unsigned long op;        /* operations done, for messages */
} S;

static void fail(const char *what) {
    fprintf(stderr, "fuzz_pubsub: %s (operation %lu)\n", what, S.op);
    abort();
}

#define CHECK(cond)                                     \
    do {                                                \
        if (!(cond)) fail("check failed: " #cond);      \
    } while (0)

/* ------------------------------------------------------------------------
 * The model
 * --------------------------------------------------------------------- */

MODEL static bool same_name(const entry *e, const uint8_t *name, size_t len) {
    return e->len == len && memcmp(e->name, name, len) == 0;
}

MODEL static entry *model_find(int kind, int owner, const uint8_t *name, size_t len) {
    for (size_t i = 0; i < S.n; i++) {
        entry *e = &S.entries[i];
        if (e->live && e->kind == kind && e->owner == owner && same_name(e, name, len)) return e;
    }
    return NULL;
}

MODEL static void model_add(int kind, int owner, const uint8_t *name, size_t len) {
    if (S.n == S.cap) {
        S.cap = S.cap ? S.cap * 2 : 64;
        S.entries = realloc(S.entries, S.cap * sizeof(*S.entries));
        if (!S.entries) abort();
    }
    entry *e = &S.entries[S.n++];
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->owner = owner;
    e->len = len;
    memcpy(e->name, name, len);
    e->live = true;
}

MODEL static size_t model_count(int owner, int kind) {
    size_t c = 0;
    for (size_t i = 0; i < S.n; i++)
        c += S.entries[i].live && S.entries[i].owner == owner && S.entries[i].kind == kind;
    return c;
}

/* Distinct live names of a kind. */
MODEL static size_t model_distinct(int kind) {
    size_t c = 0;
    for (size_t i = 0; i < S.n; i++) {
        const entry *e = &S.entries[i];
        if (!e->live || e->kind != kind) continue;
        bool first = true;
        for (size_t k = 0; k < i && first; k++) {
            const entry *f = &S.entries[k];
            if (f->live && f->kind == kind && same_name(f, e->name, e->len)) first = false;
        }
        c += first;
    }
    return c;
}

MODEL static size_t model_numsub(int kind, const uint8_t *name, size_t len) {
    size_t c = 0;
    for (size_t i = 0; i < S.n; i++)
        c += S.entries[i].live && S.entries[i].kind == kind && same_name(&S.entries[i], name, len);
    return c;
}

/* ------------------------------------------------------------------------
 * Checks against the registry
 * --------------------------------------------------------------------- */

static void check_owner(int o) {
    size_t ch = model_count(o, PUBSUB_CHANNEL), sh = model_count(o, PUBSUB_SHARD);
    size_t pat = model_count(o, KIND_PATTERN);
    const pubsub_sub *s = S.sp[o];
    CHECK((s == NULL) == (ch + sh + pat == 0));
    CHECK(pubsub_sub_channels(s, PUBSUB_CHANNEL) == ch);
    CHECK(pubsub_sub_channels(s, PUBSUB_SHARD) == sh);
    CHECK(pubsub_sub_patterns(s) == pat);
    CHECK(pubsub_sub_held(s) == ch + sh + pat);
}

static void check_global(void) {
    CHECK(pubsub_channel_count(S.ps, PUBSUB_CHANNEL) == model_distinct(PUBSUB_CHANNEL));
    CHECK(pubsub_channel_count(S.ps, PUBSUB_SHARD) == model_distinct(PUBSUB_SHARD));
    CHECK(pubsub_pattern_count(S.ps) == model_distinct(KIND_PATTERN));
}

static int owner_index(void *owner) {
    char *tag = owner;
    CHECK(tag >= S.owner_tag && tag < S.owner_tag + OWNERS);
    return (int)(tag - S.owner_tag);
}

static void on_deliver(void *ctx, void *owner, const char *pattern, size_t pattern_len) {
    (void)ctx;
    if (S.dl_n == S.dl_cap) {
        S.dl_cap = S.dl_cap ? S.dl_cap * 2 : 64;
        S.dl = realloc(S.dl, S.dl_cap * sizeof(*S.dl));
        if (!S.dl) abort();
    }
    delivery *d = &S.dl[S.dl_n++];
    d->owner = owner_index(owner);
    d->pattern = pattern;
    d->pattern_len = pattern_len;
    if (pattern) {
        CHECK(pattern_len <= NAME_MAX);
        memcpy(d->copy, pattern, pattern_len);
    }
}

/* Publishes and compares every delivery with the brute-force answer. */
static void check_publish(pubsub_kind kind, const uint8_t *ch, size_t len) {
    S.dl_n = 0;
    long long n = pubsub_publish(S.ps, kind, (const char *)ch, len, on_deliver, NULL);
    CHECK(n >= 0 && (size_t)n == S.dl_n);
    /* Channel subscribers first, in subscription order. */
    size_t k = 0;
    for (size_t i = 0; i < S.n; i++) {
        const entry *e = &S.entries[i];
        if (!e->live || e->kind != (int)kind || !same_name(e, ch, len)) continue;
        CHECK(k < S.dl_n && S.dl[k].pattern == NULL && S.dl[k].owner == e->owner);
        k++;
    }
    size_t first_pattern = k;
    for (; k < S.dl_n; k++) CHECK(S.dl[k].pattern != NULL);
    if (kind == PUBSUB_SHARD) {
        CHECK(first_pattern == S.dl_n);
        return;
    }
    /* Then one group per matching pattern: the same pointer in a row, and
     * no pattern text in two groups. */
    for (k = first_pattern; k < S.dl_n; k++) {
        const delivery *d = &S.dl[k];
        bool new_group = k == first_pattern || S.dl[k - 1].pattern != d->pattern;
        for (size_t j = first_pattern; new_group && j < k; j++)
            CHECK(!(S.dl[j].pattern_len == d->pattern_len && memcmp(S.dl[j].copy, d->copy, d->pattern_len) == 0));
        if (!new_group) CHECK(S.dl[k - 1].pattern_len == d->pattern_len);
    }
    /* Each (owner, pattern) that matches is delivered exactly once. */
    size_t expected = first_pattern;
    for (size_t i = 0; i < S.n; i++) {
        const entry *e = &S.entries[i];
        if (!e->live || e->kind != KIND_PATTERN) continue;
        if (!glob_match((const char *)e->name, e->len, (const char *)ch, len)) continue;
        expected++;
        size_t found = 0;
        for (k = first_pattern; k < S.dl_n; k++) {
            const delivery *d = &S.dl[k];
            found += d->owner == e->owner && d->pattern_len == e->len && memcmp(d->copy, e->name, e->len) == 0;
        }
        if (found != 1) {
            fprintf(stderr, "fuzz_pubsub: pattern '%.*s' of subscriber %d delivered %zu times for '%.*s'\n",
                    (int)e->len, (const char *)e->name, e->owner, found, (int)len, (const char *)ch);
            abort();
        }
    }
    if (expected != S.dl_n) {
        fprintf(stderr, "fuzz_pubsub: %zu deliveries for '%.*s', the model says %zu\n", S.dl_n, (int)len,
                (const char *)ch, expected);
        abort();
    }
    CHECK(pubsub_numsub(S.ps, kind, (const char *)ch, len) == first_pattern);
}

/* ------------------------------------------------------------------------
 * Bulk removals
 * --------------------------------------------------------------------- */

typedef struct removal {
    int owner;
    int kind;
    size_t calls;
    size_t before;  /* held of that kind before the call */
} removal;

static void on_removed(void *ctx, const char *name, size_t len) {
    removal *r = ctx;
    entry *e = model_find(r->kind, r->owner, (const uint8_t *)name, len);
    CHECK(e != NULL); /* held, and reported once */
    if (r->kind == KIND_PATTERN) {
        /* Patterns go in subscription order: this is the owner's oldest. */
        for (size_t i = 0; i < S.n && &S.entries[i] != e; i++)
            CHECK(!(S.entries[i].live && S.entries[i].owner == r->owner && S.entries[i].kind == KIND_PATTERN));
    }
    e->live = false;
    r->calls++;
    /* The counts already show the removal; the handle is still valid. */
    const pubsub_sub *s = S.sp[r->owner];
    CHECK(s != NULL);
    size_t now = r->kind == KIND_PATTERN ? pubsub_sub_patterns(s) : pubsub_sub_channels(s, (pubsub_kind)r->kind);
    CHECK(now == r->before - r->calls);
}

static void remove_all(int o, int kind) {
    removal r = {o, kind, 0, model_count(o, kind)};
    if (kind == KIND_PATTERN) pubsub_punsubscribe_all(S.ps, &S.sp[o], on_removed, &r);
    else pubsub_unsubscribe_all(S.ps, &S.sp[o], (pubsub_kind)kind, on_removed, &r);
    CHECK(r.calls == r.before);
    CHECK(model_count(o, kind) == 0);
}

typedef struct listing {
    int owner;
    int kind;
    size_t seen;
    size_t last;    /* model index of the previous pattern listed */
} listing;

static void on_listed(void *ctx, const char *name, size_t len) {
    listing *l = ctx;
    for (size_t i = 0; i < S.n; i++) {
        entry *e = &S.entries[i];
        if (e->live && e->kind == l->kind && e->owner == l->owner && same_name(e, (const uint8_t *)name, len)) {
            CHECK(!(l->kind == KIND_PATTERN && l->seen > 0 && i <= l->last)); /* in order */
            e->kind += 16; /* mark as still held */
            l->last = i;
            l->seen++;
            return;
        }
    }
    fail("a listed name is not held");
}

/* After pubsub_sub_release_some(), learns from the registry which of the
 * owner's subscriptions are left (it may drop any of them). */
static void release_some(int o, size_t max) {
    size_t held = model_count(o, PUBSUB_CHANNEL) + model_count(o, PUBSUB_SHARD) + model_count(o, KIND_PATTERN);
    size_t left = pubsub_sub_release_some(S.ps, &S.sp[o], max);
    CHECK(left == (held > max ? held - max : 0));
    size_t seen = 0;
    for (int kind = 0; kind <= KIND_PATTERN; kind++) {
        listing l = {o, kind, 0, 0};
        pubsub_sub_foreach(S.sp[o], kind, on_listed, &l);
        seen += l.seen;
    }
    CHECK(seen == left);
    for (size_t i = 0; i < S.n; i++) {
        entry *e = &S.entries[i];
        if (!e->live || e->owner != o) continue;
        if (e->kind >= 16) e->kind -= 16;
        else e->live = false;
    }
}

/* ------------------------------------------------------------------------
 * Operations
 * --------------------------------------------------------------------- */

/* Reads a name; returns false at the end of the input. */
static bool read_name(const uint8_t **p, const uint8_t *end, uint8_t *name, size_t *len) {
    if (*p >= end) return false;
    size_t n = **p % (NAME_MAX + 1);
    (*p)++;
    if ((size_t)(end - *p) < n) return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = (*p)[i];
        name[i] = b < 0x80 ? (uint8_t)alphabet[b % sizeof(alphabet)] : b;
    }
    *p += n;
    *len = n;
    return true;
}

static void subscribe_op(int o, int kind, const uint8_t *name, size_t len, bool add) {
    /* An exact-size copy, so a registry keeping the caller's bytes shows. */
    char *copy = malloc(len ? len : 1);
    if (!copy) abort();
    memcpy(copy, name, len);
    entry *e = model_find(kind, o, name, len);
    int rc;
    void *owner = &S.owner_tag[o];
    if (kind == KIND_PATTERN)
        rc = add ? pubsub_psubscribe(S.ps, &S.sp[o], owner, copy, len) : pubsub_punsubscribe(S.ps, &S.sp[o], copy, len);
    else
        rc = add ? pubsub_subscribe(S.ps, &S.sp[o], owner, (pubsub_kind)kind, copy, len)
                 : pubsub_unsubscribe(S.ps, &S.sp[o], (pubsub_kind)kind, copy, len);
    memset(copy, 0x5a, len ? len : 1);
    free(copy);
    if (add) {
        CHECK(rc == (e == NULL));
        if (!e) model_add(kind, o, name, len);
    } else {
        CHECK(rc == (e != NULL));
        if (e) e->live = false;
    }
    if (kind != KIND_PATTERN) CHECK(pubsub_numsub(S.ps, (pubsub_kind)kind, (const char *)name, len) ==
                                    model_numsub(kind, name, len));
}

/* Runs one operation; returns false when the input ends inside it. */
static bool run_op(const uint8_t **p, const uint8_t *end) {
    uint8_t op = *(*p)++;
    int o = op & 7, code = (op >> 3) & 15;
    uint8_t name[NAME_MAX];
    size_t len = 0;
    bool named = code <= 7 || code == 13 || code == 14 || code == 15;
    if (named && !read_name(p, end, name, &len)) return false;
    switch (code) {
    case 0: subscribe_op(o, PUBSUB_CHANNEL, name, len, true); break;
    case 1: subscribe_op(o, PUBSUB_CHANNEL, name, len, false); break;
    case 2: case 14: subscribe_op(o, KIND_PATTERN, name, len, true); break;
    case 3: subscribe_op(o, KIND_PATTERN, name, len, false); break;
    case 4: case 13: check_publish(PUBSUB_CHANNEL, name, len); break;
    case 5: subscribe_op(o, PUBSUB_SHARD, name, len, true); break;
    case 6: subscribe_op(o, PUBSUB_SHARD, name, len, false); break;
    case 7: check_publish(PUBSUB_SHARD, name, len); break;
    case 8: remove_all(o, PUBSUB_CHANNEL); break;
    case 9: remove_all(o, PUBSUB_SHARD); break;
    case 10: remove_all(o, KIND_PATTERN); break;
    case 11:
        pubsub_sub_release(S.ps, &S.sp[o]);
        for (size_t i = 0; i < S.n; i++)
            if (S.entries[i].owner == o) S.entries[i].live = false;
        break;
    case 12:
        if (*p >= end) return false;
        release_some(o, *(*p)++ % 5);
        break;
    case 15:
        check_global();
        CHECK(pubsub_numsub(S.ps, PUBSUB_CHANNEL, (const char *)name, len) == model_numsub(PUBSUB_CHANNEL, name, len));
        CHECK(pubsub_numsub(S.ps, PUBSUB_SHARD, (const char *)name, len) == model_numsub(PUBSUB_SHARD, name, len));
        break;
    }
    check_owner(o);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    bool free_while_held = data[0] & 1;
    const uint8_t *p = data + 1, *end = data + size;
    memset(&S, 0, sizeof(S));
    S.ps = pubsub_new();
    while (p < end && S.op < MAX_OPS && run_op(&p, end)) S.op++;
    check_global();
    if (!free_while_held) {
        for (int o = 0; o < OWNERS; o++) {
            pubsub_sub_release(S.ps, &S.sp[o]);
            CHECK(S.sp[o] == NULL);
        }
        CHECK(pubsub_channel_count(S.ps, PUBSUB_CHANNEL) == 0);
        CHECK(pubsub_channel_count(S.ps, PUBSUB_SHARD) == 0);
        CHECK(pubsub_pattern_count(S.ps) == 0);
    }
    pubsub_free(S.ps);
    free(S.entries);
    free(S.dl);
    return 0;
}
