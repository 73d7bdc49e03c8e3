/* dict.c -- Chained hash table with power-of-two bucket arrays and
 * incremental rehashing. Keys are binary (pointer + length); what the table
 * does with keys and values is decided by a dict_type (copy or borrow keys,
 * free values). Keys that come from the network are hashed with SipHash-1-3
 * under a secret 128-bit seed, so a client cannot choose names that collide.
 *
 * Resizing never stalls: a resize allocates the new bucket array as table 1
 * and every add or delete then moves a few buckets from table 0 to table 1;
 * lookups look in both until table 0 is empty and table 1 takes its place.
 * The table grows when it holds as many entries as buckets and shrinks when
 * fewer than one bucket in eight is used; an empty dict holds no buckets.
 * Lookups never move anything (dict_find takes a const dict), so a dict that
 * is only read stays half-rehashed; it is correct, just a probe slower.
 *
 * Entries are 32 bytes (plus entry_extra) and never move in memory: rehashing
 * relinks them, so callers may keep dict_entry pointers until deletion. */
#include "dict.h"

#include <string.h>

#include "mem.h"

#define DICT_MIN_EXP 0          /* 1 bucket: most subscribers hold one or two names */
#define DICT_STEP_BUCKETS 8     /* non-empty buckets moved per add/delete */
#define DICT_STEP_EMPTY 80      /* empty buckets skipped per add/delete, at most */

struct dict_entry {
    dict_entry *next;           /* borrowed: next entry in the same bucket */
    void *key;                  /* owned if the type has key_dup, else borrowed */
    size_t key_len;
    void *val;                  /* owned if the type has val_free */
};

struct dict {
    const dict_type *type;      /* borrowed: usually static const */
    dict_entry **buckets[2];    /* owned; table 1 is non-NULL only while rehashing */
    size_t used[2];             /* entries in each table */
    uint8_t exp[2];             /* log2 of each table's bucket count */
    uint32_t paused;            /* open safe iterators; no rehashing while > 0 */
    size_t rehash_idx;          /* next table-0 bucket to move while rehashing */
};

/* ======================== SipHash-1-3 =====================================
 * Written from the SipHash paper (Aumasson, Bernstein 2012): one compression
 * round per 8-byte word, three finalization rounds. */

static uint64_t seed_k0, seed_k1;

static uint64_t load_le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static uint64_t rotl(uint64_t x, int b) {
    return (x << b) | (x >> (64 - b));
}

#define SIP_ROUND(v0, v1, v2, v3)                                          \
    do {                                                                   \
        v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);          \
        v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                             \
        v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                             \
        v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);          \
    } while (0)

/* c_rounds/d_rounds are a build-time choice (1/3 here); a scratch build with
 * -DDICT_SIP_C=2 -DDICT_SIP_D=4 checks the code against the published
 * SipHash-2-4 test vectors. */
#ifndef DICT_SIP_C
#define DICT_SIP_C 1
#endif
#ifndef DICT_SIP_D
#define DICT_SIP_D 3
#endif

void dict_set_hash_seed(const uint8_t seed[16]) {
    seed_k0 = load_le64(seed);
    seed_k1 = load_le64(seed + 8);
}

uint64_t dict_hash(const void *key, size_t len) {
    const uint8_t *p = key;
    uint64_t v0 = seed_k0 ^ 0x736f6d6570736575ULL;
    uint64_t v1 = seed_k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = seed_k0 ^ 0x6c7967656e657261ULL;
    uint64_t v3 = seed_k1 ^ 0x7465646279746573ULL;
    const uint8_t *end = p + (len & ~(size_t)7);

    for (; p != end; p += 8) {
        uint64_t m = load_le64(p);
        v3 ^= m;
        for (int i = 0; i < DICT_SIP_C; i++) SIP_ROUND(v0, v1, v2, v3);
        v0 ^= m;
    }
    /* Last word: the remaining 0..7 bytes, and the length in the top byte. */
    uint64_t b = (uint64_t)len << 56;
    for (size_t i = 0; i < (len & 7); i++) b |= (uint64_t)p[i] << (8 * i);
    v3 ^= b;
    for (int i = 0; i < DICT_SIP_C; i++) SIP_ROUND(v0, v1, v2, v3);
    v0 ^= b;
    v2 ^= 0xff;
    for (int i = 0; i < DICT_SIP_D; i++) SIP_ROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

/* ======================== Tables ==========================================
 * Table 0 is the live table; table 1 exists only during a resize. */

static size_t table_size(const dict *d, int t) {
    return d->buckets[t] ? (size_t)1 << d->exp[t] : 0;
}

static uint64_t hash_key(const dict *d, const void *key, size_t len) {
    return d->type->hash ? d->type->hash(key, len) : dict_hash(key, len);
}

static bool key_matches(const dict *d, const dict_entry *e, const void *key, size_t len) {
    if (d->type->key_eq) return d->type->key_eq(e->key, e->key_len, key, len);
    return e->key_len == len && (len == 0 || memcmp(e->key, key, len) == 0);
}

/* Smallest exponent whose table has more than n buckets' worth of room:
 * 2^exp >= n, at least DICT_MIN_EXP. */
static uint8_t exp_for(size_t n) {
    uint8_t e = DICT_MIN_EXP;
    while (((size_t)1 << e) < n) e++;
    return e;
}

static dict_entry **buckets_new(uint8_t exp) {
    return mem_calloc(sizeof(dict_entry *) << exp);
}

/* Moves up to DICT_STEP_BUCKETS buckets from table 0 to table 1, skipping
 * at most DICT_STEP_EMPTY empty ones, and finishes the resize when table 0
 * is drained. */
static void rehash_step(dict *d) {
    int moves = DICT_STEP_BUCKETS, empty = DICT_STEP_EMPTY;
    size_t mask1 = ((size_t)1 << d->exp[1]) - 1;

    while (moves-- > 0 && d->used[0] > 0) {
        while (d->buckets[0][d->rehash_idx] == NULL) {
            d->rehash_idx++;
            if (--empty == 0) return;
        }
        dict_entry *e = d->buckets[0][d->rehash_idx];
        while (e) {
            dict_entry *next = e->next;
            size_t b = hash_key(d, e->key, e->key_len) & mask1;
            e->next = d->buckets[1][b];
            d->buckets[1][b] = e;
            d->used[0]--;
            d->used[1]++;
            e = next;
        }
        d->buckets[0][d->rehash_idx++] = NULL;
    }
    if (d->used[0] == 0) {
        mem_free(d->buckets[0]);
        d->buckets[0] = d->buckets[1];
        d->exp[0] = d->exp[1];
        d->used[0] = d->used[1];
        d->buckets[1] = NULL;
        d->used[1] = 0;
        d->rehash_idx = 0;
    }
}

/* Starts a grow or shrink when the load calls for one, or frees the buckets
 * of an empty dict. Not while rehashing or paused by an iterator. */
static void check_resize(dict *d) {
    if (d->paused || d->buckets[1] || !d->buckets[0]) return;
    size_t size = table_size(d, 0), used = d->used[0];
    uint8_t target;
    if (used == 0) {
        mem_free(d->buckets[0]);
        d->buckets[0] = NULL;
        return;
    }
    if (used >= size) {
        target = exp_for(used + 1);
    } else if (size > ((size_t)1 << DICT_MIN_EXP) && used < size / 8) {
        target = exp_for(used * 2);     /* leaves the table at most half full */
    } else {
        return;
    }
    d->buckets[1] = buckets_new(target);
    d->exp[1] = target;
    d->rehash_idx = 0;
}

/* Finds key in both tables; sets *link to the pointer that points at the
 * entry (for unlinking) and *table to its table. */
static dict_entry *lookup(const dict *d, const void *key, size_t len, uint64_t h,
                          dict_entry ***link, int *table) {
    for (int t = 0; t < 2; t++) {
        if (!d->buckets[t]) break;
        dict_entry **pp = &d->buckets[t][h & (((size_t)1 << d->exp[t]) - 1)];
        for (; *pp; pp = &(*pp)->next) {
            if (key_matches(d, *pp, key, len)) {
                if (link) *link = pp;
                if (table) *table = t;
                return *pp;
            }
        }
    }
    return NULL;
}

/* ======================== API ============================================= */

dict *dict_new(const dict_type *type) {
    dict *d = mem_calloc(sizeof(*d));
    d->type = type;
    return d;
}

static void entry_free(dict *d, dict_entry *e) {
    if (d->type->key_free) d->type->key_free(e->key, e->key_len);
    if (d->type->val_free) d->type->val_free(e->val);
    mem_free(e);
}

void dict_free(dict *d) {
    if (!d) return;
    for (int t = 0; t < 2; t++) {
        for (size_t b = 0; b < table_size(d, t); b++) {
            dict_entry *e = d->buckets[t][b];
            while (e) {
                dict_entry *next = e->next;
                entry_free(d, e);
                e = next;
            }
        }
        mem_free(d->buckets[t]);
    }
    mem_free(d);
}

dict_entry *dict_add_entry(dict *d, const void *key, size_t len, void *val) {
    if (d->buckets[1] && !d->paused) rehash_step(d);
    uint64_t h = hash_key(d, key, len);
    if (lookup(d, key, len, h, NULL, NULL)) return NULL;
    check_resize(d);
    if (!d->buckets[0]) {
        d->buckets[0] = buckets_new(DICT_MIN_EXP);
        d->exp[0] = DICT_MIN_EXP;
    }

    dict_entry *e = mem_alloc(sizeof(*e) + d->type->entry_extra);
    if (d->type->entry_extra) memset(e + 1, 0, d->type->entry_extra);
    e->key = d->type->key_dup ? d->type->key_dup(key, len) : (void *)(uintptr_t)key;
    e->key_len = len;
    e->val = val;
    /* During a resize new entries go straight to the new table. */
    int t = d->buckets[1] ? 1 : 0;
    dict_entry **b = &d->buckets[t][h & (((size_t)1 << d->exp[t]) - 1)];
    e->next = *b;
    *b = e;
    d->used[t]++;
    return e;
}

int dict_add(dict *d, const void *key, size_t len, void *val) {
    return dict_add_entry(d, key, len, val) ? 0 : -1;
}

dict_entry *dict_find(const dict *d, const void *key, size_t len) {
    if (!d->buckets[0]) return NULL;
    return lookup(d, key, len, hash_key(d, key, len), NULL, NULL);
}

void *dict_fetch(const dict *d, const void *key, size_t len) {
    dict_entry *e = dict_find(d, key, len);
    return e ? e->val : NULL;
}

int dict_del(dict *d, const void *key, size_t len) {
    if (!d->buckets[0]) return -1;
    if (d->buckets[1] && !d->paused) rehash_step(d);
    dict_entry **link;
    int t;
    dict_entry *e = lookup(d, key, len, hash_key(d, key, len), &link, &t);
    if (!e) return -1;
    *link = e->next;
    d->used[t]--;
    entry_free(d, e);
    check_resize(d);
    return 0;
}

size_t dict_size(const dict *d) {
    return d->used[0] + d->used[1];
}

size_t dict_buckets(const dict *d) {
    return table_size(d, 0) + table_size(d, 1);
}

bool dict_is_rehashing(const dict *d) {
    return d->buckets[1] != NULL;
}

const void *dict_entry_key(const dict_entry *e) {
    return e->key;
}

size_t dict_entry_key_len(const dict_entry *e) {
    return e->key_len;
}

void *dict_entry_val(const dict_entry *e) {
    return e->val;
}

void dict_entry_set_val(dict_entry *e, void *val) {
    e->val = val;
}

void *dict_entry_extra(dict_entry *e) {
    return e + 1;
}

/* ======================== Iteration ======================================= */

void dict_iter_init(dict_iter *it, dict *d) {
    it->d = d;
    it->table = 0;
    it->bucket = 0;
    it->next = NULL;
    d->paused++;
}

dict_entry *dict_iter_next(dict_iter *it) {
    dict *d = it->d;
    while (!it->next) {
        if (it->bucket >= table_size(d, it->table)) {
            if (it->table == 1 || !d->buckets[1]) return NULL;
            it->table = 1;
            it->bucket = 0;
            continue;
        }
        it->next = d->buckets[it->table][it->bucket++];
    }
    /* Remember the successor now, so the caller may delete what we return. */
    dict_entry *e = it->next;
    it->next = e->next;
    return e;
}

void dict_iter_done(dict_iter *it) {
    dict *d = it->d;
    d->paused--;
    /* A step lets a resize that ended up empty finish, so check_resize can
     * give the buckets back. */
    if (!d->paused && d->buckets[1]) rehash_step(d);
    check_resize(d);
}

void dict_foreach(const dict *d, dict_foreach_fn *fn, void *ctx) {
    for (int t = 0; t < 2; t++) {
        for (size_t b = 0; b < table_size(d, t); b++) {
            for (const dict_entry *e = d->buckets[t][b]; e; e = e->next) fn(ctx, e);
        }
    }
}

void *dict_key_copy(const void *key, size_t len) {
    return mem_strndup(key, len);
}

void dict_key_release(void *key, size_t len) {
    (void)len;
    mem_free(key);
}
