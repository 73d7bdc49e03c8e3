/* test_pubsub.c -- pubsub.c without sockets: subscribers are small integers
 * cast to pointers and deliveries are recorded by a callback. Covers return
 * values and counts, delivery order and counting rules, the three namespaces,
 * unsubscribe-all callbacks, handle lifetime, binary and empty names, large
 * fan-outs, memory returning to the baseline, and a differential fuzz of the
 * pattern index against brute-force glob_match over every held pattern. */
#include "test.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "glob.h"
#include "mem.h"
#include "pubsub.h"

extern const test_case pubsub_tests[];

#define OWN(i) ((void *)(intptr_t)(i))
#define S(lit) lit, sizeof(lit) - 1

/* ---- Recorders ---------------------------------------------------------- */

typedef struct delivery {
    intptr_t owner;
    const char *pat;            /* borrowed from the registry during publish */
    char pat_copy[64];          /* first bytes, for checks after publish */
    size_t pat_len;
} delivery;

typedef struct recorder {
    delivery *d;
    size_t n, cap;
} recorder;

static void record(void *ctx, void *owner, const char *pat, size_t pat_len) {
    recorder *r = ctx;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->d = realloc(r->d, sizeof(delivery) * r->cap);
    }
    delivery *d = &r->d[r->n++];
    d->owner = (intptr_t)owner;
    d->pat = pat;
    d->pat_len = pat_len;
    memset(d->pat_copy, 0, sizeof(d->pat_copy));
    if (pat) memcpy(d->pat_copy, pat, pat_len < sizeof(d->pat_copy) ? pat_len : sizeof(d->pat_copy));
}

static long long publish(pubsub *ps, pubsub_kind kind, const char *ch, size_t len, recorder *r) {
    r->n = 0;
    return pubsub_publish(ps, kind, ch, len, record, r);
}

typedef struct names {
    char name[64][16];
    size_t len[64];
    size_t n;
    /* Set by the unsubscribe-all callback: counts seen through the handle. */
    pubsub_sub **sp;
    size_t counts[64];
    bool patterns;
} names;

static void collect(void *ctx, const char *name, size_t len) {
    names *c = ctx;
    if (c->n >= 64) return;
    memcpy(c->name[c->n], name, len < 16 ? len : 16);
    c->len[c->n] = len;
    if (c->sp)
        c->counts[c->n] = c->patterns ? pubsub_sub_patterns(*c->sp)
                                      : pubsub_sub_channels(*c->sp, PUBSUB_CHANNEL);
    c->n++;
}

static bool has_name(const names *c, const char *name, size_t len) {
    for (size_t i = 0; i < c->n; i++)
        if (c->len[i] == len && memcmp(c->name[i], name, len) == 0) return true;
    return false;
}

/* ---- Basics ------------------------------------------------------------- */

static void test_subscribe_counts(void) {
    pubsub *ps = pubsub_new();
    pubsub_sub *a = NULL, *b = NULL;

    TEST_EQ_INT(pubsub_sub_channels(a, PUBSUB_CHANNEL), 0);
    TEST_EQ_INT(pubsub_unsubscribe(ps, &a, PUBSUB_CHANNEL, S("x")), 0);
    TEST_TRUE(a == NULL);

    TEST_EQ_INT(pubsub_subscribe(ps, &a, OWN(1), PUBSUB_CHANNEL, S("news")), 1);
    TEST_TRUE(a != NULL);
    TEST_EQ_INT(pubsub_subscribe(ps, &a, OWN(1), PUBSUB_CHANNEL, S("news")), 0);
    TEST_EQ_INT(pubsub_subscribe(ps, &a, OWN(1), PUBSUB_CHANNEL, S("sport")), 1);
    TEST_EQ_INT(pubsub_subscribe(ps, &b, OWN(2), PUBSUB_CHANNEL, S("news")), 1);
    TEST_EQ_INT(pubsub_sub_channels(a, PUBSUB_CHANNEL), 2);
    TEST_EQ_INT(pubsub_sub_channels(b, PUBSUB_CHANNEL), 1);
    TEST_EQ_INT(pubsub_sub_channels(a, PUBSUB_SHARD), 0);
    TEST_EQ_INT(pubsub_sub_patterns(a), 0);
    TEST_EQ_INT(pubsub_channel_count(ps, PUBSUB_CHANNEL), 2);
    TEST_EQ_INT(pubsub_channel_count(ps, PUBSUB_SHARD), 0);
    TEST_EQ_INT(pubsub_numsub(ps, PUBSUB_CHANNEL, S("news")), 2);
    TEST_EQ_INT(pubsub_numsub(ps, PUBSUB_CHANNEL, S("sport")), 1);
    TEST_EQ_INT(pubsub_numsub(ps, PUBSUB_CHANNEL, S("none")), 0);
    TEST_EQ_INT(pubsub_numsub(ps, PUBSUB_SHARD, S("news")), 0);

    TEST_EQ_INT(pubsub_unsubscribe(ps, &a, PUBSUB_CHANNEL, S("nope")), 0);
    TEST_EQ_INT(pubsub_unsubscribe(ps, &a, PUBSUB_SHARD, S("news")), 0);
    TEST_EQ_INT(pubsub_unsubscribe(ps, &a, PUBSUB_CHANNEL, S("news")), 1);
    TEST_EQ_INT(pubsub_unsubscribe(ps, &a, PUBSUB_CHANNEL, S("news")), 0);
    TEST_EQ_INT(pubsub_numsub(ps, PUBSUB_CHANNEL, S("news")), 1);
    TEST_TRUE(a != NULL);
    TEST_EQ_INT(pubsub_unsubscribe(ps, &a, PUBSUB_CHANNEL, S("sport")), 1);
    TEST_TRUE(a == NULL);                      /* holds nothing: handle gone */
    TEST_EQ_INT(pubsub_channel_count(ps, PUBSUB_CHANNEL), 1);
    TEST_EQ_INT(pubsub_unsubscribe(ps, &b, PUBSUB_CHANNEL, S("news")), 1);
    TEST_TRUE(b == NULL);
    TEST_EQ_INT(pubsub_channel_count(ps, PUBSUB_CHANNEL), 0);
    pubsub_free(ps);
}

static void test_pattern_counts(void) {
    pubsub *ps = pubsub_new();
    pubsub_sub *a = NULL, *b = NULL;
    TEST_EQ_INT(pubsub_punsubscribe(ps, &a, S("n*")), 0);
    TEST_EQ_INT(pubsub_psubscribe(ps, &a, OWN(1), S("n*")), 1);
    TEST_EQ_INT(pubsub_psubscribe(ps, &a, OWN(1), S("n*")), 0);
    TEST_EQ_INT(pubsub_psubscribe(ps, &a, OWN(1), S("s?")), 1);
    TEST_EQ_INT(pubsub_psubscribe(ps, &b, OWN(2), S("n*")), 1);
    TEST_EQ_INT(pubsub_pattern_count(ps), 2);  /* distinct patterns */
    TEST_EQ_INT(pubsub_sub_patterns(a), 2);
    TEST_EQ_INT(pubsub_sub_patterns(b), 1);
    TEST_EQ_INT(pubsub_sub_channels(a, PUBSUB_CHANNEL), 0);
    /* A pattern is not a channel. */
    TEST_EQ_INT(pubsub_channel_count(ps, PUBSUB_CHANNEL), 0);
    TEST_EQ_INT(pubsub_numsub(ps, PUBSUB_CHANNEL, S("n*")), 0);
    TEST_EQ_INT(pubsub_unsubscribe(ps, &a, PUBSUB_CHANNEL, S("n*")), 0);

    TEST_EQ_INT(pubsub_punsubscribe(ps, &a, S("n*")), 1);
    TEST_EQ_INT(pubsub_pattern_count(ps), 2);  /* b still holds n* */
    TEST_EQ_INT(pubsub_punsubscribe(ps, &b, S("n*")), 1);
    TEST_TRUE(b == NULL);
    TEST_EQ_INT(pubsub_pattern_count(ps), 1);
    TEST_EQ_INT(pubsub_punsubscribe(ps, &a, S("s?")), 1);
    TEST_TRUE(a == NULL);
    TEST_EQ_INT(pubsub_pattern_count(ps), 0);
    pubsub_free(ps);
}

/* ---- Publishing --------------------------------------------------------- */

static void test_publish_order(void) {
    pubsub *ps = pubsub_new();
    pubsub_sub *s[6] = {NULL};
    recorder r = {0};
    for (int i = 1; i <= 5; i++) pubsub_subscribe(ps, &s[i], OWN(i), PUBSUB_CHANNEL, S("ch"));
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("ch"), &r), 5);
    TEST_EQ_INT(r.n, 5);
    for (int i = 0; i < 5; i++) {
        TEST_EQ_INT(r.d[i].owner, i + 1);
        TEST_TRUE(r.d[i].pat == NULL);
    }
    /* Leaving and coming back moves a subscriber to the end. */
    pubsub_unsubscribe(ps, &s[2], PUBSUB_CHANNEL, S("ch"));
    pubsub_unsubscribe(ps, &s[4], PUBSUB_CHANNEL, S("ch"));
    pubsub_subscribe(ps, &s[2], OWN(2), PUBSUB_CHANNEL, S("ch"));
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("ch"), &r), 4);
    static const int want[] = {1, 3, 5, 2};
    for (int i = 0; i < 4; i++) TEST_EQ_INT(r.d[i].owner, want[i]);
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("other"), &r), 0);
    TEST_EQ_INT(r.n, 0);
    free(r.d);
    pubsub_free(ps);
}

static void test_publish_patterns(void) {
    pubsub *ps = pubsub_new();
    pubsub_sub *a = NULL, *b = NULL, *c = NULL;
    recorder r = {0};
    pubsub_subscribe(ps, &a, OWN(1), PUBSUB_CHANNEL, S("news"));
    pubsub_psubscribe(ps, &a, OWN(1), S("n*"));      /* channel + pattern: twice */
    pubsub_psubscribe(ps, &b, OWN(2), S("n*"));
    pubsub_psubscribe(ps, &b, OWN(2), S("*s"));      /* two patterns: twice */
    pubsub_psubscribe(ps, &c, OWN(3), S("x*"));      /* no match */
    pubsub_psubscribe(ps, &c, OWN(3), S("newsx"));   /* literal, longer */

    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("news"), &r), 4);
    TEST_EQ_INT(r.n, 4);
    TEST_EQ_INT(r.d[0].owner, 1);                    /* channel subscribers first */
    TEST_TRUE(r.d[0].pat == NULL);
    int n_star = 0, star_s = 0;
    for (size_t i = 1; i < r.n; i++) {
        TEST_TRUE(r.d[i].pat != NULL);
        if (r.d[i].pat_len == 2 && !memcmp(r.d[i].pat_copy, "n*", 2)) n_star++;
        else if (r.d[i].pat_len == 2 && !memcmp(r.d[i].pat_copy, "*s", 2)) star_s++;
        else TEST_FAIL_AT("unexpected pattern %s", r.d[i].pat_copy);
    }
    TEST_EQ_INT(n_star, 2);
    TEST_EQ_INT(star_s, 1);
    /* The two n* deliveries are consecutive, with one pattern pointer. */
    size_t first = r.d[1].pat_len == 2 && !memcmp(r.d[1].pat_copy, "n*", 2) ? 1 : 2;
    TEST_TRUE(r.d[first].pat == r.d[first + 1].pat);
    TEST_EQ_INT(r.d[first].owner, 1);                /* subscription order */
    TEST_EQ_INT(r.d[first + 1].owner, 2);

    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("newsx"), &r), 3);   /* n* twice, newsx */
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("xs"), &r), 2);      /* x*, *s */
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("abc"), &r), 0);
    pubsub_free(ps);
    free(r.d);
}

static void test_literal_patterns(void) {
    pubsub *ps = pubsub_new();
    pubsub_sub *a = NULL;
    recorder r = {0};
    pubsub_psubscribe(ps, &a, OWN(1), S("news"));
    pubsub_psubscribe(ps, &a, OWN(1), S("a\\*b"));   /* escaped star: literal "a*b" */
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("news"), &r), 1);
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("newsx"), &r), 0);
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("new"), &r), 0);
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("a*b"), &r), 1);
    TEST_EQ_MEM(r.d[0].pat_copy, r.d[0].pat_len, "a\\*b", 4);
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("axb"), &r), 0);
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("a*bc"), &r), 0);
    pubsub_free(ps);
    free(r.d);
}

static void test_suffix_patterns(void) {
    pubsub *ps = pubsub_new();
    pubsub_sub *a = NULL, *b = NULL;
    recorder r = {0};
    pubsub_psubscribe(ps, &a, OWN(1), S("*.eu"));
    pubsub_psubscribe(ps, &a, OWN(1), S("**.eu"));
    pubsub_psubscribe(ps, &a, OWN(1), S("n*s*.eu"));
    pubsub_psubscribe(ps, &b, OWN(2), S("*u"));
    pubsub_psubscribe(ps, &b, OWN(2), S("*"));
    pubsub_psubscribe(ps, &b, OWN(2), S("*.e?"));          /* not star-only */
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("news.eu"), &r), 6);
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S(".eu"), &r), 5);  /* all but n*s*.eu */
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("eu"), &r), 2);   /* *u, * */
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("x.eu.x"), &r), 1);
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("u"), &r), 2);
    TEST_EQ_INT(pubsub_punsubscribe(ps, &a, S("**.eu")), 1);
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("news.eu"), &r), 5);
    pubsub_punsubscribe_all(ps, &a, NULL, NULL);
    TEST_TRUE(a == NULL);
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("news.eu"), &r), 3);
    pubsub_free(ps);
    free(r.d);
}

static void test_shard_namespace(void) {
    pubsub *ps = pubsub_new();
    pubsub_sub *a = NULL, *b = NULL, *p = NULL;
    recorder r = {0};
    TEST_EQ_INT(pubsub_subscribe(ps, &a, OWN(1), PUBSUB_SHARD, S("x")), 1);
    TEST_EQ_INT(pubsub_subscribe(ps, &b, OWN(2), PUBSUB_CHANNEL, S("x")), 1);
    TEST_EQ_INT(pubsub_subscribe(ps, &a, OWN(1), PUBSUB_CHANNEL, S("x")), 1);  /* both spaces */
    TEST_EQ_INT(pubsub_subscribe(ps, &a, OWN(1), PUBSUB_SHARD, S("x")), 0);
    pubsub_psubscribe(ps, &p, OWN(3), S("*"));
    TEST_EQ_INT(pubsub_channel_count(ps, PUBSUB_SHARD), 1);
    TEST_EQ_INT(pubsub_channel_count(ps, PUBSUB_CHANNEL), 1);
    TEST_EQ_INT(pubsub_numsub(ps, PUBSUB_SHARD, S("x")), 1);
    TEST_EQ_INT(pubsub_numsub(ps, PUBSUB_CHANNEL, S("x")), 2);
    TEST_EQ_INT(pubsub_sub_channels(a, PUBSUB_SHARD), 1);
    TEST_EQ_INT(pubsub_sub_channels(a, PUBSUB_CHANNEL), 1);

    /* Shard publish: shard subscribers only, patterns ignored. */
    TEST_EQ_INT(publish(ps, PUBSUB_SHARD, S("x"), &r), 1);
    TEST_EQ_INT(r.d[0].owner, 1);
    TEST_TRUE(r.d[0].pat == NULL);
    TEST_EQ_INT(publish(ps, PUBSUB_SHARD, S("y"), &r), 0);
    /* Channel publish: channel subscribers, then the pattern. */
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("x"), &r), 3);
    TEST_EQ_INT(r.d[0].owner, 2);
    TEST_EQ_INT(r.d[1].owner, 1);
    TEST_EQ_INT(r.d[2].owner, 3);

    TEST_EQ_INT(pubsub_unsubscribe(ps, &a, PUBSUB_SHARD, S("x")), 1);
    TEST_TRUE(a != NULL);                      /* still holds channel x */
    TEST_EQ_INT(pubsub_channel_count(ps, PUBSUB_SHARD), 0);
    TEST_EQ_INT(pubsub_numsub(ps, PUBSUB_CHANNEL, S("x")), 2);
    pubsub_free(ps);
    free(r.d);
}

/* ---- Unsubscribe all, release ------------------------------------------- */

static void test_unsubscribe_all_channels(void) {
    pubsub *ps = pubsub_new();
    pubsub_sub *a = NULL, *b = NULL;
    static const char *const chans[] = {"c1", "c2", "c3", "c4", "c5"};
    for (int i = 0; i < 5; i++) pubsub_subscribe(ps, &a, OWN(1), PUBSUB_CHANNEL, chans[i], 2);
    pubsub_subscribe(ps, &b, OWN(2), PUBSUB_CHANNEL, S("c3"));

    names got = {.sp = &a};
    pubsub_unsubscribe_all(ps, &a, PUBSUB_CHANNEL, collect, &got);
    TEST_EQ_INT(got.n, 5);
    for (int i = 0; i < 5; i++) {
        TEST_TRUE(has_name(&got, chans[i], 2));
        TEST_EQ_INT(got.counts[i], 4 - i);     /* the count already dropped */
    }
    TEST_TRUE(a == NULL);
    TEST_EQ_INT(pubsub_channel_count(ps, PUBSUB_CHANNEL), 1);
    TEST_EQ_INT(pubsub_numsub(ps, PUBSUB_CHANNEL, S("c3")), 1);

    /* Nothing held: no callback. */
    names none = {0};
    pubsub_unsubscribe_all(ps, &a, PUBSUB_CHANNEL, collect, &none);
    TEST_EQ_INT(none.n, 0);
    pubsub_unsubscribe_all(ps, &b, PUBSUB_SHARD, collect, &none);
    TEST_EQ_INT(none.n, 0);
    TEST_TRUE(b != NULL);
    pubsub_free(ps);
}

static void test_punsubscribe_all_order(void) {
    pubsub *ps = pubsub_new();
    pubsub_sub *a = NULL;
    pubsub_psubscribe(ps, &a, OWN(1), S("p3*"));
    pubsub_psubscribe(ps, &a, OWN(1), S("p1*"));
    pubsub_psubscribe(ps, &a, OWN(1), S("p2*"));
    pubsub_psubscribe(ps, &a, OWN(1), S("p4*"));
    pubsub_punsubscribe(ps, &a, S("p1*"));
    pubsub_psubscribe(ps, &a, OWN(1), S("p1*"));  /* now last */
    pubsub_subscribe(ps, &a, OWN(1), PUBSUB_CHANNEL, S("keep"));

    names seen = {0};
    pubsub_sub_foreach(a, PUBSUB_PATTERNS, collect, &seen);
    static const char *const want[] = {"p3*", "p2*", "p4*", "p1*"};
    TEST_EQ_INT(seen.n, 4);
    for (int i = 0; i < 4; i++) TEST_EQ_MEM(seen.name[i], seen.len[i], want[i], 3);

    names got = {.sp = &a, .patterns = true};
    pubsub_punsubscribe_all(ps, &a, collect, &got);
    TEST_EQ_INT(got.n, 4);
    for (int i = 0; i < 4; i++) {
        TEST_EQ_MEM(got.name[i], got.len[i], want[i], 3);
        TEST_EQ_INT(got.counts[i], 3 - i);
    }
    TEST_TRUE(a != NULL);                      /* the channel remains */
    TEST_EQ_INT(pubsub_sub_patterns(a), 0);
    TEST_EQ_INT(pubsub_sub_channels(a, PUBSUB_CHANNEL), 1);
    TEST_EQ_INT(pubsub_pattern_count(ps), 0);
    pubsub_unsubscribe_all(ps, &a, PUBSUB_CHANNEL, NULL, NULL);
    TEST_TRUE(a == NULL);
    pubsub_free(ps);
}

static void test_release(void) {
    pubsub *ps = pubsub_new();
    pubsub_sub *a = NULL, *b = NULL;
    recorder r = {0};
    pubsub_subscribe(ps, &a, OWN(1), PUBSUB_CHANNEL, S("c"));
    pubsub_subscribe(ps, &a, OWN(1), PUBSUB_SHARD, S("s"));
    pubsub_psubscribe(ps, &a, OWN(1), S("c*"));
    pubsub_subscribe(ps, &b, OWN(2), PUBSUB_CHANNEL, S("c"));
    pubsub_psubscribe(ps, &b, OWN(2), S("c*"));
    pubsub_sub_release(ps, &a);
    TEST_TRUE(a == NULL);
    pubsub_sub_release(ps, &a);                /* NULL handle: no-op */
    TEST_EQ_INT(pubsub_channel_count(ps, PUBSUB_SHARD), 0);
    TEST_EQ_INT(pubsub_numsub(ps, PUBSUB_CHANNEL, S("c")), 1);
    TEST_EQ_INT(pubsub_pattern_count(ps), 1);
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("c"), &r), 2);
    TEST_EQ_INT(r.d[0].owner, 2);
    TEST_EQ_INT(r.d[1].owner, 2);
    /* pubsub_free with b still subscribed frees b too (ASan checks leaks). */
    pubsub_free(ps);
    pubsub_free(NULL);
    free(r.d);
}

/* Memory returns to the empty registry's figure once everything is gone:
 * no empty topics, groups, prefix lengths or handles are left behind. */
static void test_memory_returns(void) {
    pubsub *ps = pubsub_new();
    recorder r = {0};
    size_t base = mem_used();
    pubsub_sub *s[50] = {NULL};
    char name[32];
    for (int i = 0; i < 50; i++) {
        for (int j = 0; j < 40; j++) {
            int n = snprintf(name, sizeof(name), "chan:%d", (i * 7 + j) % 60);
            pubsub_subscribe(ps, &s[i], OWN(i + 1), (pubsub_kind)(j % 2), name, (size_t)n);
            n = snprintf(name, sizeof(name), "pat:%d*[ab]?", (i + j) % 30);
            pubsub_psubscribe(ps, &s[i], OWN(i + 1), name, (size_t)n);
            n = snprintf(name, sizeof(name), "*:%d", (i + j) % 20);
            pubsub_psubscribe(ps, &s[i], OWN(i + 1), name, (size_t)n);
        }
    }
    TEST_TRUE(mem_used() > base);
    TEST_TRUE(publish(ps, PUBSUB_CHANNEL, S("pat:1xa1"), &r) > 0);
    for (int i = 0; i < 50; i += 2) pubsub_sub_release(ps, &s[i]);
    for (int i = 1; i < 50; i += 2) {
        pubsub_punsubscribe_all(ps, &s[i], NULL, NULL);
        pubsub_unsubscribe_all(ps, &s[i], PUBSUB_CHANNEL, NULL, NULL);
        pubsub_unsubscribe_all(ps, &s[i], PUBSUB_SHARD, NULL, NULL);
        TEST_TRUE(s[i] == NULL);
    }
    TEST_EQ_INT(pubsub_channel_count(ps, PUBSUB_CHANNEL), 0);
    TEST_EQ_INT(pubsub_pattern_count(ps), 0);
    TEST_EQ_INT(mem_used(), base);
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("pat:1xa1"), &r), 0);
    pubsub_free(ps);
    free(r.d);
}

/* ---- Names -------------------------------------------------------------- */

static void test_binary_names(void) {
    pubsub *ps = pubsub_new();
    pubsub_sub *a = NULL, *b = NULL;
    recorder r = {0};
    const char c1[] = {'a', 0, 'b'};
    const char c2[] = {'a', 0, 'c'};
    const char c3[] = {(char)0x80, (char)0xfe, (char)0xff};
    const char p1[] = {'a', 0, '*'};
    const char p2[] = {(char)0x80, '?', (char)0xff};
    TEST_EQ_INT(pubsub_subscribe(ps, &a, OWN(1), PUBSUB_CHANNEL, c1, 3), 1);
    TEST_EQ_INT(pubsub_subscribe(ps, &a, OWN(1), PUBSUB_CHANNEL, c2, 3), 1);
    TEST_EQ_INT(pubsub_subscribe(ps, &a, OWN(1), PUBSUB_CHANNEL, c1, 1), 1);   /* "a" */
    TEST_EQ_INT(pubsub_subscribe(ps, &a, OWN(1), PUBSUB_CHANNEL, c1, 2), 1);   /* "a\0" */
    TEST_EQ_INT(pubsub_subscribe(ps, &a, OWN(1), PUBSUB_CHANNEL, c3, 3), 1);
    TEST_EQ_INT(pubsub_sub_channels(a, PUBSUB_CHANNEL), 5);
    TEST_EQ_INT(pubsub_psubscribe(ps, &b, OWN(2), p1, 3), 1);
    TEST_EQ_INT(pubsub_psubscribe(ps, &b, OWN(2), p2, 3), 1);

    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, c1, 3, &r), 2);     /* a + "a\0*" */
    TEST_EQ_MEM(r.d[1].pat_copy, r.d[1].pat_len, p1, 3);
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, c1, 2, &r), 2);     /* "a\0" + "a\0*" */
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, c1, 1, &r), 1);
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, c3, 3, &r), 2);     /* c3 + p2 */
    TEST_EQ_INT(pubsub_numsub(ps, PUBSUB_CHANNEL, c2, 3), 1);

    names got = {0};
    pubsub_channels_foreach(ps, PUBSUB_CHANNEL, collect, &got);
    TEST_EQ_INT(got.n, 5);
    TEST_TRUE(has_name(&got, c1, 3));
    TEST_TRUE(has_name(&got, c1, 2));
    TEST_TRUE(has_name(&got, c3, 3));
    names mine = {0};
    pubsub_sub_foreach(a, PUBSUB_CHANNEL, collect, &mine);
    TEST_EQ_INT(mine.n, 5);
    TEST_TRUE(has_name(&mine, c2, 3));
    TEST_EQ_INT(pubsub_unsubscribe(ps, &a, PUBSUB_CHANNEL, c1, 3), 1);
    TEST_EQ_INT(pubsub_numsub(ps, PUBSUB_CHANNEL, c1, 2), 1);
    pubsub_free(ps);
    free(r.d);
}

static void test_empty_name(void) {
    pubsub *ps = pubsub_new();
    pubsub_sub *a = NULL, *b = NULL, *c = NULL;
    recorder r = {0};
    TEST_EQ_INT(pubsub_subscribe(ps, &a, OWN(1), PUBSUB_CHANNEL, "", 0), 1);
    TEST_EQ_INT(pubsub_subscribe(ps, &a, OWN(1), PUBSUB_CHANNEL, "", 0), 0);
    TEST_EQ_INT(pubsub_numsub(ps, PUBSUB_CHANNEL, "", 0), 1);
    TEST_EQ_INT(pubsub_psubscribe(ps, &b, OWN(2), "", 0), 1);   /* empty pattern */
    TEST_EQ_INT(pubsub_psubscribe(ps, &c, OWN(3), S("*")), 1);
    long long star = glob_match("*", 1, "", 0) ? 1 : 0;
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, "", 0, &r), 2 + star);
    TEST_EQ_INT(r.d[0].owner, 1);
    TEST_EQ_INT(r.d[1].owner, 2);
    TEST_EQ_INT(r.d[1].pat_len, 0);
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("x"), &r), 1);    /* only "*" */
    TEST_EQ_INT(r.d[0].owner, 3);
    TEST_EQ_INT(pubsub_unsubscribe(ps, &a, PUBSUB_CHANNEL, "", 0), 1);
    TEST_TRUE(a == NULL);
    TEST_EQ_INT(pubsub_punsubscribe(ps, &b, "", 0), 1);
    TEST_TRUE(b == NULL);
    pubsub_free(ps);
    free(r.d);
}

/* ---- Scale -------------------------------------------------------------- */

static void test_100k_channels(void) {
    pubsub *ps = pubsub_new();
    pubsub_sub *a = NULL, *b = NULL;
    recorder r = {0};
    char name[32];
    const int n = 100000;
    for (int i = 0; i < n; i++) {
        int len = snprintf(name, sizeof(name), "channel:%d", i);
        if (pubsub_subscribe(ps, &a, OWN(1), PUBSUB_CHANNEL, name, (size_t)len) != 1) {
            TEST_FAIL_AT("subscribe %d", i);
            return;
        }
        if (i % 2 == 0) pubsub_subscribe(ps, &b, OWN(2), PUBSUB_CHANNEL, name, (size_t)len);
    }
    TEST_EQ_INT(pubsub_channel_count(ps, PUBSUB_CHANNEL), n);
    TEST_EQ_INT(pubsub_sub_channels(a, PUBSUB_CHANNEL), n);
    TEST_EQ_INT(pubsub_sub_channels(b, PUBSUB_CHANNEL), n / 2);
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("channel:4242"), &r), 2);
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("channel:4243"), &r), 1);
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("channel:100000"), &r), 0);
    for (int i = 0; i < n; i += 3) {
        int len = snprintf(name, sizeof(name), "channel:%d", i);
        pubsub_unsubscribe(ps, &a, PUBSUB_CHANNEL, name, (size_t)len);
    }
    TEST_EQ_INT(pubsub_numsub(ps, PUBSUB_CHANNEL, S("channel:3")), 0);
    TEST_EQ_INT(pubsub_numsub(ps, PUBSUB_CHANNEL, S("channel:6")), 1);
    pubsub_unsubscribe_all(ps, &a, PUBSUB_CHANNEL, NULL, NULL);
    TEST_TRUE(a == NULL);
    TEST_EQ_INT(pubsub_channel_count(ps, PUBSUB_CHANNEL), n / 2);     /* b's half */
    pubsub_sub_release(ps, &b);
    TEST_EQ_INT(pubsub_channel_count(ps, PUBSUB_CHANNEL), 0);
    pubsub_free(ps);
    free(r.d);
}

static void test_10k_subscribers(void) {
    pubsub *ps = pubsub_new();
    const int n = 10000;
    pubsub_sub **s = calloc((size_t)n + 1, sizeof(*s));
    recorder r = {0};
    for (int i = 1; i <= n; i++) pubsub_subscribe(ps, &s[i], OWN(i), PUBSUB_CHANNEL, S("hot"));
    TEST_EQ_INT(pubsub_numsub(ps, PUBSUB_CHANNEL, S("hot")), n);
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("hot"), &r), n);
    for (int i = 0; i < n; i++) TEST_EQ_INT(r.d[i].owner, i + 1);

    /* Drop two of every three, in a scrambled order; order must hold. */
    for (int k = 0; k < n; k++) {
        int i = (int)(((long long)k * 7919) % n) + 1;
        if (i % 3 != 0) TEST_EQ_INT(pubsub_unsubscribe(ps, &s[i], PUBSUB_CHANNEL, S("hot")), 1);
    }
    TEST_EQ_INT(pubsub_numsub(ps, PUBSUB_CHANNEL, S("hot")), n / 3);
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("hot"), &r), n / 3);
    for (int i = 0; i < n / 3; i++) TEST_EQ_INT(r.d[i].owner, 3 * (i + 1));
    /* Newcomers go to the end. */
    pubsub_subscribe(ps, &s[1], OWN(1), PUBSUB_CHANNEL, S("hot"));
    TEST_EQ_INT(publish(ps, PUBSUB_CHANNEL, S("hot"), &r), n / 3 + 1);
    TEST_EQ_INT(r.d[n / 3].owner, 1);
    for (int i = 1; i <= n; i++) pubsub_sub_release(ps, &s[i]);
    TEST_EQ_INT(pubsub_channel_count(ps, PUBSUB_CHANNEL), 0);
    pubsub_free(ps);
    free(s);
    free(r.d);
}

/* ---- Differential fuzz of the pattern index ------------------------------
 * Random patterns built from every glob feature over a tiny alphabet (so
 * that matches are common), random channels, and subscribe/unsubscribe
 * churn by a few owners. After each publish the multiset of (owner, pattern)
 * deliveries must equal glob_match run against every held pattern, and each
 * pattern's deliveries must be consecutive with one pointer. */

#define FUZZ_OWNERS 16
#define FUZZ_PATTERNS 400
#define FUZZ_PUBLISHES 100000

static uint64_t rng_state;

static uint32_t rnd(uint32_t n) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static size_t random_pattern(char *out) {
    static const char *const pieces[] = {
        "a", "b", "c", ".", "ab", "a.", "*", "?", "**", "[abc]", "[^a]", "[a-c]",
        "[c-a]", "[^.b]", "[]", "[^]", "\\*", "\\?", "\\[", "\\a", "[\\]]", "[a-]",
        "]", "^", "-", "\x80", "\xff", "[\x80-\xff]",
    };
    const size_t npieces = sizeof(pieces) / sizeof(pieces[0]);
    size_t len = 0;
    if (rnd(4) == 0) {
        /* Star-only shapes ("*.a", "a*b*c", "**ab"), which the registry may
         * index by suffix, and near misses ("*\\a", "*a?") which it must not. */
        int n = 1 + (int)rnd(5);
        for (int i = 0; i < n; i++) {
            const char *p = (i == 0 && rnd(2)) || rnd(3) == 0 ? "*"
                            : rnd(5) == 0                    ? pieces[4 + rnd((uint32_t)npieces - 4)]
                                                             : pieces[rnd(4)];
            size_t pl = strlen(p);
            memcpy(out + len, p, pl);
            len += pl;
        }
        return len;
    }
    /* Literal-looking starts are common so prefixes vary in length. */
    int n = (int)rnd(6);
    for (int i = 0; i < n; i++) {
        const char *p = rnd(3) ? pieces[rnd(4)] : pieces[rnd((uint32_t)npieces)];
        size_t pl = strlen(p);
        memcpy(out + len, p, pl);
        len += pl;
    }
    switch (rnd(12)) {                         /* odd endings now and then */
    case 0: out[len++] = '\\'; break;          /* trailing backslash */
    case 1: memcpy(out + len, "[ab", 3); len += 3; break;   /* unterminated */
    case 2: out[len++] = '['; break;
    default: break;
    }
    return len;
}

static size_t random_channel(char *out) {
    static const char alphabet[] = "abc.abc.*?[]\\^-\x80\xff";
    size_t len = rnd(8);
    for (size_t i = 0; i < len; i++) out[i] = alphabet[rnd(sizeof(alphabet) - 1)];
    return len;
}

typedef struct fuzz_hit {
    intptr_t owner;
    int pat;                    /* index into the fuzz pattern table */
} fuzz_hit;

static int cmp_hits(const void *a, const void *b) {
    const fuzz_hit *x = a, *y = b;
    if (x->owner != y->owner) return x->owner < y->owner ? -1 : 1;
    return (x->pat > y->pat) - (x->pat < y->pat);
}

typedef struct fuzz {
    char pat[FUZZ_PATTERNS][48];
    size_t pat_len[FUZZ_PATTERNS];
    int same_as[FUZZ_PATTERNS];                 /* first index with identical text */
    bool held[FUZZ_OWNERS][FUZZ_PATTERNS];
    int holders[FUZZ_PATTERNS];
    pubsub_sub *subs[FUZZ_OWNERS];
    recorder r;
} fuzz;

static int pattern_index(const fuzz *f, const char *p, size_t len) {
    for (int i = 0; i < FUZZ_PATTERNS; i++)
        if (f->pat_len[i] == len && memcmp(f->pat[i], p, len) == 0) return f->same_as[i];
    return -1;
}

/* Compares one publish against brute force; returns false on mismatch. */
static bool fuzz_check(fuzz *f, pubsub *ps, const char *ch, size_t len) {
    static fuzz_hit want[FUZZ_OWNERS * FUZZ_PATTERNS], got[FUZZ_OWNERS * FUZZ_PATTERNS];
    size_t nwant = 0, ngot = 0;
    for (int p = 0; p < FUZZ_PATTERNS; p++) {
        if (f->same_as[p] != p || !f->holders[p]) continue;
        if (!glob_match(f->pat[p], f->pat_len[p], ch, len)) continue;
        for (int o = 0; o < FUZZ_OWNERS; o++)
            if (f->held[o][p]) want[nwant++] = (fuzz_hit){o + 1, p};
    }
    long long n = publish(ps, PUBSUB_CHANNEL, ch, len, &f->r);
    const char *prev = NULL;
    for (size_t i = 0; i < f->r.n; i++) {
        const delivery *d = &f->r.d[i];
        /* A pattern's run, once left, never comes back. */
        if (d->pat != prev) {
            for (size_t j = 0; j < i; j++) {
                if (f->r.d[j].pat == d->pat) {
                    fprintf(stderr, "    pattern deliveries not consecutive\n");
                    return false;
                }
            }
            prev = d->pat;
        }
        got[ngot++] = (fuzz_hit){d->owner, pattern_index(f, d->pat, d->pat_len)};
    }
    if (n != (long long)ngot || ngot != nwant) {
        fprintf(stderr, "    count: returned %lld, delivered %zu, expected %zu\n", n, ngot, nwant);
        test_print_escaped("channel", ch, len);
        return false;
    }
    qsort(want, nwant, sizeof(fuzz_hit), cmp_hits);
    qsort(got, ngot, sizeof(fuzz_hit), cmp_hits);
    if (memcmp(want, got, sizeof(fuzz_hit) * nwant) != 0) {
        fprintf(stderr, "    deliveries differ from brute force\n");
        test_print_escaped("channel", ch, len);
        return false;
    }
    return true;
}

static void fuzz_churn(fuzz *f, pubsub *ps) {
    int o = (int)rnd(FUZZ_OWNERS), p = f->same_as[rnd(FUZZ_PATTERNS)];
    if (rnd(200) == 0) {                       /* drop an owner's patterns */
        pubsub_punsubscribe_all(ps, &f->subs[o], NULL, NULL);
        for (int i = 0; i < FUZZ_PATTERNS; i++) {
            if (f->held[o][i]) f->holders[i]--;
            f->held[o][i] = false;
        }
        return;
    }
    if (f->held[o][p]) {
        if (pubsub_punsubscribe(ps, &f->subs[o], f->pat[p], f->pat_len[p]) != 1)
            TEST_FAIL_AT("punsubscribe returned 0 for a held pattern");
        f->held[o][p] = false;
        f->holders[p]--;
    } else {
        if (pubsub_psubscribe(ps, &f->subs[o], OWN(o + 1), f->pat[p], f->pat_len[p]) != 1)
            TEST_FAIL_AT("psubscribe returned 0 for a new pattern");
        f->held[o][p] = true;
        f->holders[p]++;
    }
}

static void test_fuzz_pattern_index(void) {
    fuzz *f = calloc(1, sizeof(*f));
    pubsub *ps = pubsub_new();
    rng_state = 0x2545f4914f6cdd1dULL;
    for (int i = 0; i < FUZZ_PATTERNS; i++) {
        f->pat_len[i] = random_pattern(f->pat[i]);
        f->same_as[i] = i;
        for (int j = 0; j < i; j++) {
            if (f->pat_len[j] == f->pat_len[i] && !memcmp(f->pat[j], f->pat[i], f->pat_len[i])) {
                f->same_as[i] = j;
                break;
            }
        }
    }
    /* Start with about half the (owner, pattern) pairs held... */
    for (int k = 0; k < FUZZ_OWNERS * FUZZ_PATTERNS / 8; k++) fuzz_churn(f, ps);
    /* ...and a few plain channel subscribers, which must not disturb counts. */
    pubsub_sub *plain = NULL;
    pubsub_subscribe(ps, &plain, OWN(1000), PUBSUB_CHANNEL, S("a"));

    char ch[16];
    for (int i = 0; i < FUZZ_PUBLISHES; i++) {
        if (rnd(4) == 0) fuzz_churn(f, ps);
        if (test_failed) break;
        size_t len = random_channel(ch);
        if (len == 1 && ch[0] == 'a') continue;    /* keep the plain channel out */
        if (!fuzz_check(f, ps, ch, len)) {
            TEST_FAIL_AT("publish %d differs from brute force", i);
            break;
        }
        if (i % 1000 == 0) {
            size_t distinct = 0;
            for (int p = 0; p < FUZZ_PATTERNS; p++) distinct += f->same_as[p] == p && f->holders[p];
            if (pubsub_pattern_count(ps) != distinct) {
                TEST_FAIL_AT("NUMPAT %zu, expected %zu", pubsub_pattern_count(ps), distinct);
                break;
            }
        }
    }
    for (int o = 0; o < FUZZ_OWNERS; o++) pubsub_sub_release(ps, &f->subs[o]);
    TEST_EQ_INT(pubsub_pattern_count(ps), 0);
    pubsub_sub_release(ps, &plain);
    pubsub_free(ps);
    free(f->r.d);
    free(f);
}

const test_case pubsub_tests[] = {
    {"subscribe_counts", test_subscribe_counts},
    {"pattern_counts", test_pattern_counts},
    {"publish_order", test_publish_order},
    {"publish_patterns", test_publish_patterns},
    {"literal_patterns", test_literal_patterns},
    {"suffix_patterns", test_suffix_patterns},
    {"shard_namespace", test_shard_namespace},
    {"unsubscribe_all_channels", test_unsubscribe_all_channels},
    {"punsubscribe_all_order", test_punsubscribe_all_order},
    {"release", test_release},
    {"memory_returns", test_memory_returns},
    {"binary_names", test_binary_names},
    {"empty_name", test_empty_name},
    {"100k_channels", test_100k_channels},
    {"10k_subscribers", test_10k_subscribers},
    {"fuzz_pattern_index", test_fuzz_pattern_index},
    {NULL, NULL},
};
