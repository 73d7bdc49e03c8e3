/* test_dict.c -- dict.c: add/find/delete, type callbacks, binary keys, growth
 * and shrinking (an emptied dict holds no buckets), the safe iterator with
 * deletion (also in the middle of a resize), entry stability, seeds, and a
 * million keys. */
#include "test.h"

#include <stdint.h>
#include <stdlib.h>

#include "dict.h"
#include "mem.h"

extern const test_case dict_tests[];

/* A type that owns copies of its keys and counts the callbacks. */
static int keys_freed, vals_freed;

static void *key_copy(const void *key, size_t len) {
    return mem_strndup(key, len);
}

static void key_release(void *key, size_t len) {
    (void)len;
    keys_freed++;
    mem_free(key);
}

static void val_release(void *val) {
    (void)val;
    vals_freed++;
}

static const dict_type owned_type = {
    .key_dup = key_copy, .key_free = key_release, .val_free = val_release};
static const dict_type copy_type = {.key_dup = key_copy, .key_free = key_release};

static size_t fmt_key(char *buf, long i) {
    return (size_t)snprintf(buf, 32, "key:%ld", i);
}

static void test_add_find_delete(void) {
    dict *d = dict_new(&owned_type);
    keys_freed = vals_freed = 0;
    TEST_EQ_INT(dict_size(d), 0);
    TEST_EQ_INT(dict_buckets(d), 0);
    TEST_TRUE(dict_find(d, "a", 1) == NULL);
    TEST_EQ_INT(dict_del(d, "a", 1), -1);

    TEST_EQ_INT(dict_add(d, "a", 1, (void *)1), 0);
    TEST_EQ_INT(dict_add(d, "b", 1, (void *)2), 0);
    TEST_EQ_INT(dict_add(d, "a", 1, (void *)3), -1);   /* exists: unchanged */
    TEST_EQ_INT(keys_freed, 0);
    TEST_EQ_INT(dict_size(d), 2);
    TEST_TRUE(dict_fetch(d, "a", 1) == (void *)1);
    TEST_TRUE(dict_fetch(d, "b", 1) == (void *)2);
    TEST_TRUE(dict_fetch(d, "ab", 2) == NULL);
    TEST_TRUE(dict_fetch(d, "", 0) == NULL);

    dict_entry *e = dict_find(d, "a", 1);
    TEST_TRUE(e != NULL);
    TEST_EQ_MEM(dict_entry_key(e), dict_entry_key_len(e), "a", 1);
    dict_entry_set_val(e, (void *)7);
    TEST_TRUE(dict_fetch(d, "a", 1) == (void *)7);
    TEST_EQ_INT(vals_freed, 0);

    TEST_EQ_INT(dict_del(d, "a", 1), 0);
    TEST_EQ_INT(keys_freed, 1);
    TEST_EQ_INT(vals_freed, 1);
    TEST_EQ_INT(dict_del(d, "a", 1), -1);
    TEST_EQ_INT(dict_size(d), 1);
    TEST_EQ_INT(dict_del(d, "b", 1), 0);
    TEST_EQ_INT(dict_size(d), 0);
    TEST_EQ_INT(dict_buckets(d), 0);           /* emptied: buckets given back */

    TEST_EQ_INT(dict_add(d, "c", 1, NULL), 0);
    dict_free(d);
    TEST_EQ_INT(keys_freed, 3);
    TEST_EQ_INT(vals_freed, 3);
    dict_free(NULL);
}

static void test_binary_keys(void) {
    static const dict_type borrowed = {0};
    const char k1[] = {'a', 0, 'b'};
    const char k2[] = {'a', 0, 'c'};
    const char k3[] = {(char)0x80, (char)0xff, 0};
    dict *d = dict_new(&borrowed);
    TEST_EQ_INT(dict_add(d, k1, 3, (void *)1), 0);
    TEST_EQ_INT(dict_add(d, k2, 3, (void *)2), 0);
    TEST_EQ_INT(dict_add(d, k3, 3, (void *)3), 0);
    TEST_EQ_INT(dict_add(d, k3, 2, (void *)4), 0);     /* a prefix is another key */
    TEST_EQ_INT(dict_add(d, "", 0, (void *)5), 0);
    TEST_EQ_INT(dict_add(d, "a", 1, (void *)6), 0);
    TEST_TRUE(dict_fetch(d, k1, 3) == (void *)1);
    TEST_TRUE(dict_fetch(d, k2, 3) == (void *)2);
    TEST_TRUE(dict_fetch(d, k3, 3) == (void *)3);
    TEST_TRUE(dict_fetch(d, k3, 2) == (void *)4);
    TEST_TRUE(dict_fetch(d, "", 0) == (void *)5);
    TEST_TRUE(dict_fetch(d, "a", 1) == (void *)6);
    TEST_TRUE(dict_fetch(d, k1, 2) == NULL);           /* "a\0" */
    /* Borrowed keys: the dict stores our pointer. */
    TEST_TRUE(dict_entry_key(dict_find(d, k1, 3)) == k1);
    TEST_EQ_INT(dict_del(d, "", 0), 0);
    TEST_TRUE(dict_fetch(d, "", 0) == NULL);
    TEST_EQ_INT(dict_size(d), 5);
    dict_free(d);
}

static void test_hash_seed(void) {
    uint8_t seed[16] = {0};
    dict_set_hash_seed(seed);
    uint64_t h0 = dict_hash("channel", 7);
    TEST_TRUE(h0 == dict_hash("channel", 7));
    TEST_TRUE(h0 != dict_hash("channel", 6));
    TEST_TRUE(dict_hash("", 0) != dict_hash("\0", 1));
    seed[3] = 1;
    dict_set_hash_seed(seed);
    TEST_TRUE(h0 != dict_hash("channel", 7));
    /* Every input length 0..40 hashes differently from its neighbours. */
    char buf[41];
    for (int i = 0; i < 41; i++) buf[i] = (char)('a' + i % 26);
    for (size_t n = 1; n <= 40; n++) TEST_TRUE(dict_hash(buf, n) != dict_hash(buf, n - 1));
    memset(seed, 0, sizeof(seed));
    dict_set_hash_seed(seed);
}

static void test_grow_and_shrink(void) {
    dict *d = dict_new(&copy_type);
    char k[32];
    const long n = 100000;
    for (long i = 0; i < n; i++) TEST_EQ_INT(dict_add(d, k, fmt_key(k, i), (void *)(intptr_t)i), 0);
    TEST_EQ_INT(dict_size(d), n);
    /* Load stays at most 1 once a resize finished (both tables count meanwhile). */
    TEST_TRUE(dict_buckets(d) >= (size_t)n);
    TEST_TRUE(dict_buckets(d) <= 4 * (size_t)n);
    for (long i = 0; i < n; i++) TEST_TRUE(dict_fetch(d, k, fmt_key(k, i)) == (void *)(intptr_t)i);

    /* Keep 100 keys: the table must end up small again. */
    for (long i = 100; i < n; i++) TEST_EQ_INT(dict_del(d, k, fmt_key(k, i)), 0);
    TEST_EQ_INT(dict_size(d), 100);
    for (int guard = 0; dict_is_rehashing(d) && guard < 100000; guard++) {
        dict_add(d, "x", 1, NULL);
        dict_del(d, "x", 1);
    }
    TEST_TRUE(!dict_is_rehashing(d));
    /* Shrinking stops once the table is at least 1/8 full: 100 keys fit
     * between 128 and 512 buckets, depending on when the last shrink began. */
    TEST_TRUE(dict_buckets(d) >= 128);
    TEST_TRUE(dict_buckets(d) <= 512);
    TEST_TRUE(dict_buckets(d) <= 8 * dict_size(d));
    for (long i = 0; i < 100; i++) TEST_TRUE(dict_fetch(d, k, fmt_key(k, i)) == (void *)(intptr_t)i);
    for (long i = 0; i < 100; i++) TEST_EQ_INT(dict_del(d, k, fmt_key(k, i)), 0);
    TEST_EQ_INT(dict_size(d), 0);
    TEST_EQ_INT(dict_buckets(d), 0);
    dict_free(d);
}

static void test_entries_stay_put(void) {
    static const dict_type extra_type = {.key_dup = key_copy, .key_free = key_release,
                                         .entry_extra = 2 * sizeof(void *)};
    dict *d = dict_new(&extra_type);
    char k[32];
    dict_entry *first = dict_add_entry(d, "first", 5, (void *)1);
    TEST_TRUE(first != NULL);
    void **extra = dict_entry_extra(first);
    TEST_TRUE(extra[0] == NULL && extra[1] == NULL);   /* zeroed on add */
    extra[0] = first;
    TEST_TRUE(dict_add_entry(d, "first", 5, NULL) == NULL);
    for (long i = 0; i < 5000; i++) TEST_TRUE(dict_add_entry(d, k, fmt_key(k, i), NULL) != NULL);
    /* Many resizes later, the entry is where it was. */
    TEST_TRUE(dict_find(d, "first", 5) == first);
    TEST_TRUE(((void **)dict_entry_extra(first))[0] == first);
    dict_free(d);
}

/* Iterates while deleting the returned entry, or every other one; checks
 * each key is seen exactly once. */
static void check_iter_delete(dict *d, long n, int every) {
    char *seen = calloc((size_t)n, 1);
    dict_iter it;
    dict_entry *e;
    long visits = 0, deleted = 0;
    dict_iter_init(&it, d);
    while ((e = dict_iter_next(&it))) {
        long i = (long)(intptr_t)dict_entry_val(e);
        if (i < 0 || i >= n || seen[i]) {
            TEST_FAIL_AT("bad or repeated key %ld", i);
            break;
        }
        seen[i] = 1;
        visits++;
        if (i % every == 0) {
            char k[32];
            size_t len = fmt_key(k, i);
            if (dict_del(d, k, len) != 0) TEST_FAIL_AT("delete of current entry failed");
            deleted++;
        }
    }
    dict_iter_done(&it);
    free(seen);
    TEST_EQ_INT(visits, n);
    TEST_EQ_INT((long)dict_size(d), n - deleted);
}

static void test_iterator_delete(void) {
    char k[32];
    /* Plain table, delete everything while iterating. */
    dict *d = dict_new(&copy_type);
    for (long i = 0; i < 1000; i++) dict_add(d, k, fmt_key(k, i), (void *)(intptr_t)i);
    check_iter_delete(d, 1000, 1);
    if (test_failed) return;
    TEST_EQ_INT(dict_size(d), 0);
    TEST_EQ_INT(dict_buckets(d), 0);            /* freed by dict_iter_done */
    dict_free(d);

    /* In the middle of a resize: stop adding as soon as one starts. */
    d = dict_new(&copy_type);
    long n = 0;
    while (!dict_is_rehashing(d) || n < 100) {
        dict_add(d, k, fmt_key(k, n), (void *)(intptr_t)n);
        n++;
    }
    TEST_TRUE(dict_is_rehashing(d));
    check_iter_delete(d, n, 2);
    if (test_failed) return;
    for (long i = 0; i < n; i++) {
        void *v = dict_fetch(d, k, fmt_key(k, i));
        if (i % 2 == 0) TEST_TRUE(v == NULL);
        else TEST_TRUE(v == (void *)(intptr_t)i);
    }
    dict_free(d);
}

static void count_entry(void *ctx, const dict_entry *e) {
    (void)e;
    (*(long *)ctx)++;
}

static void test_foreach(void) {
    dict *d = dict_new(&copy_type);
    char k[32];
    long count = 0;
    dict_foreach(d, count_entry, &count);
    TEST_EQ_INT(count, 0);
    for (long i = 0; i < 777; i++) dict_add(d, k, fmt_key(k, i), NULL);
    dict_foreach(d, count_entry, &count);
    TEST_EQ_INT(count, 777);
    dict_free(d);
}

static void test_million_keys(void) {
    static const dict_type u64_type = {0};
    const long n = 1000000;
    uint64_t *keys = mem_alloc(sizeof(uint64_t) * (size_t)n);
    for (long i = 0; i < n; i++) keys[i] = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
    dict *d = dict_new(&u64_type);
    for (long i = 0; i < n; i++) {
        if (dict_add(d, &keys[i], 8, (void *)(intptr_t)(i + 1)) != 0) {
            TEST_FAIL_AT("add %ld failed", i);
            break;
        }
    }
    TEST_EQ_INT(dict_size(d), n);
    for (long i = 0; i < n; i++) {
        if (dict_fetch(d, &keys[i], 8) != (void *)(intptr_t)(i + 1)) {
            TEST_FAIL_AT("fetch %ld failed", i);
            break;
        }
    }
    uint64_t absent = 1;
    TEST_TRUE(dict_fetch(d, &absent, 8) == NULL);
    for (long i = 0; i < n; i++) {
        if (dict_del(d, &keys[i], 8) != 0) {
            TEST_FAIL_AT("delete %ld failed", i);
            break;
        }
    }
    TEST_EQ_INT(dict_size(d), 0);
    TEST_EQ_INT(dict_buckets(d), 0);
    dict_free(d);
    mem_free(keys);
}

const test_case dict_tests[] = {
    {"add_find_delete", test_add_find_delete},
    {"binary_keys", test_binary_keys},
    {"hash_seed", test_hash_seed},
    {"grow_and_shrink", test_grow_and_shrink},
    {"entries_stay_put", test_entries_stay_put},
    {"iterator_delete", test_iterator_delete},
    {"foreach", test_foreach},
    {"million_keys", test_million_keys},
    {NULL, NULL},
};
