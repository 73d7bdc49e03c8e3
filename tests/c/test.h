/* test.h -- Tiny C unit-test framework: a table of named test functions per
 * file, assertions that print both operands, and a summary line
 * "c-unit: N passed, M failed" printed by test_main.c.
 *
 * A test file defines its cases and exports one table:
 *
 *     static void test_foo(void) { TEST_EQ_INT(1 + 1, 2); }
 *     const test_case resp_tests[] = { {"foo", test_foo}, {NULL, NULL} };
 *
 * and test_main.c lists the table. An assertion failure marks the current
 * test failed and returns from the test function. */
#ifndef TEST_H
#define TEST_H

#include <stdio.h>
#include <string.h>

typedef struct test_case {
    const char *name;
    void (*fn)(void);
} test_case;

struct buf;
/* test_util.c: copies len bytes so that the last one sits just before a
 * PROT_NONE page (one arena, reused by every call: the previous copy is
 * gone). */
char *test_guarded(const void *data, size_t len);
/* Appends s to out, bytes outside printable ASCII (and [ ] , \) as \xhh. */
void test_render_bytes(struct buf *out, const char *s, size_t len);

/* Set by a failing assertion; reset by the runner before each test. */
extern int test_failed;

#define TEST_FAIL_AT(...)                                                  \
    do {                                                                   \
        fprintf(stderr, "    %s:%d: ", __FILE__, __LINE__);                \
        fprintf(stderr, __VA_ARGS__);                                      \
        fprintf(stderr, "\n");                                             \
        test_failed = 1;                                                   \
    } while (0)

#define TEST_TRUE(cond)                                                    \
    do {                                                                   \
        if (!(cond)) { TEST_FAIL_AT("expected true: %s", #cond); return; } \
    } while (0)

#define TEST_EQ_INT(a, b)                                                  \
    do {                                                                   \
        long long test_a_ = (long long)(a), test_b_ = (long long)(b);      \
        if (test_a_ != test_b_) {                                          \
            TEST_FAIL_AT("%s == %s: %lld != %lld", #a, #b, test_a_, test_b_); \
            return;                                                        \
        }                                                                  \
    } while (0)

#define TEST_EQ_STR(a, b)                                                  \
    do {                                                                   \
        const char *test_a_ = (a), *test_b_ = (b);                         \
        if (strcmp(test_a_, test_b_) != 0) {                               \
            TEST_FAIL_AT("%s == %s: \"%s\" != \"%s\"", #a, #b, test_a_, test_b_); \
            return;                                                        \
        }                                                                  \
    } while (0)

/* Compares len bytes; prints both as escaped strings on mismatch. */
#define TEST_EQ_MEM(a, alen, b, blen)                                      \
    do {                                                                   \
        size_t test_al_ = (alen), test_bl_ = (blen);                       \
        if (test_al_ != test_bl_ || memcmp((a), (b), test_al_) != 0) {     \
            TEST_FAIL_AT("%s == %s: lengths %zu / %zu", #a, #b, test_al_, test_bl_); \
            test_print_escaped("got", (a), test_al_);                     \
            test_print_escaped("want", (b), test_bl_);                    \
            return;                                                        \
        }                                                                  \
    } while (0)

void test_print_escaped(const char *label, const void *p, size_t len);

#endif
