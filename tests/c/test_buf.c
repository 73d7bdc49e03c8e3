/* test_buf.c -- Unit tests for buf.c: appends, printf, consume, shrink and
 * the growth policy of buf_reserve(). Leaks are caught by LeakSanitizer. */
#include "buf.h"

#include <stdint.h>
#include <string.h>

#include "test.h"

static void test_zeroed_is_empty(void) {
    buf b = {0};
    TEST_EQ_INT(b.len, 0);
    buf_append(&b, "", 0); /* an empty append allocates nothing */
    TEST_TRUE(b.data == NULL);
    buf_free(&b);
    TEST_TRUE(b.data == NULL);
    TEST_EQ_INT(b.cap, 0);
}

static void test_append(void) {
    buf b = {0};
    buf_append(&b, "abc", 3);
    buf_append_str(&b, "def");
    buf_append_char(&b, 'g');
    buf_append(&b, "\0h", 2);
    TEST_EQ_MEM(b.data, b.len, "abcdefg\0h", 9);
    TEST_TRUE(b.cap >= b.len);
    buf_free(&b);
}

static void test_append_many(void) {
    buf b = {0};
    for (int i = 0; i < 100000; i++) buf_append_char(&b, (char)('a' + i % 26));
    TEST_EQ_INT(b.len, 100000);
    for (int i = 0; i < 100000; i++)
        if (b.data[i] != (char)('a' + i % 26)) {
            TEST_FAIL_AT("byte %d is %d", i, b.data[i]);
            return;
        }
    buf_free(&b);
}

static void test_printf(void) {
    buf b = {0};
    buf_printf(&b, "%d-%s", 42, "x");
    TEST_EQ_MEM(b.data, b.len, "42-x", 4);
    buf_printf(&b, "%s", "");
    TEST_EQ_INT(b.len, 4);
    buf_free(&b);
}

static void test_printf_long(void) {
    /* Longer than the 256-byte stack buffer: the second vsnprintf path. */
    char big[1000];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    buf b = {0};
    buf_append(&b, "<", 1);
    buf_printf(&b, "%s|%d", big, 7);
    TEST_EQ_INT(b.len, 1 + 999 + 2);
    TEST_EQ_INT(b.data[0], '<');
    TEST_EQ_INT(b.data[1], 'z');
    TEST_EQ_INT(b.data[999], 'z');
    TEST_EQ_MEM(b.data + 1000, 2, "|7", 2);
    /* Exactly 255 and 256 characters: the boundary of the stack buffer. */
    buf_free(&b);
    big[255] = '\0';
    buf_printf(&b, "%s", big);
    TEST_EQ_INT(b.len, 255);
    big[255] = 'z';
    big[256] = '\0';
    buf_printf(&b, "%s", big);
    TEST_EQ_INT(b.len, 255 + 256);
    for (size_t i = 0; i < b.len; i++)
        if (b.data[i] != 'z') {
            TEST_FAIL_AT("byte %zu is %d", i, b.data[i]);
            return;
        }
    buf_free(&b);
}

static void test_consume(void) {
    buf b = {0};
    buf_append_str(&b, "hello world");
    buf_consume(&b, 0);
    TEST_EQ_MEM(b.data, b.len, "hello world", 11);
    buf_consume(&b, 6);
    TEST_EQ_MEM(b.data, b.len, "world", 5);
    buf_consume(&b, 5);
    TEST_EQ_INT(b.len, 0);
    TEST_TRUE(b.cap > 0); /* consuming keeps the allocation */
    buf_append_str(&b, "again");
    TEST_EQ_MEM(b.data, b.len, "again", 5);
    buf_consume(&b, 100); /* more than len empties it */
    TEST_EQ_INT(b.len, 0);
    buf_free(&b);
}

static void test_shrink(void) {
    buf b = {0};
    buf_shrink(&b); /* empty and unallocated: stays so */
    TEST_TRUE(b.data == NULL);
    buf_reserve(&b, 100000);
    buf_append_str(&b, "abc");
    size_t big = b.cap;
    TEST_TRUE(big >= 100003);
    buf_shrink(&b);
    TEST_EQ_MEM(b.data, b.len, "abc", 3);
    TEST_TRUE(b.cap < big);
    TEST_TRUE(b.cap >= b.len);
    buf_consume(&b, 3);
    buf_shrink(&b); /* empty: the allocation goes back */
    TEST_TRUE(b.data == NULL);
    TEST_EQ_INT(b.cap, 0);
    TEST_EQ_INT(b.len, 0);
    /* A small buffer is left alone. */
    buf_append_str(&b, "xy");
    size_t cap = b.cap;
    buf_shrink(&b);
    TEST_EQ_INT(b.cap, cap);
    buf_free(&b);
}

static void test_reserve_growth(void) {
    buf b = {0};
    buf_reserve(&b, 1);
    TEST_TRUE(b.cap >= 1);
    TEST_EQ_INT(b.len, 0);
    size_t cap = b.cap;
    buf_reserve(&b, cap); /* fits: no change */
    TEST_EQ_INT(b.cap, cap);
    buf_append(&b, "a", 1);
    buf_reserve(&b, cap); /* one byte short: grows at least geometrically */
    TEST_TRUE(b.cap >= cap * 2);
    TEST_EQ_MEM(b.data, b.len, "a", 1);
    /* Appends of a growing buffer reallocate O(log n) times below 1 MiB. */
    buf_free(&b);
    int moves = 0;
    size_t last = 0;
    for (int i = 0; i < (1 << 20); i++) {
        buf_append_char(&b, 'x');
        if (b.cap != last) {
            moves++;
            last = b.cap;
        }
    }
    TEST_TRUE(moves <= 20);
    /* Beyond 1 MiB growth is linear in 1 MiB steps, never less than asked. */
    cap = b.cap;
    buf_reserve(&b, b.cap - b.len + 1);
    TEST_TRUE(b.cap > cap);
    TEST_TRUE(b.cap - cap <= 1024 * 1024);
    buf_reserve(&b, 5 * 1024 * 1024);
    TEST_TRUE(b.cap - b.len >= 5 * 1024 * 1024);
    TEST_EQ_INT(b.data[b.len - 1], 'x');
    buf_free(&b);
}

static void test_reserve_then_write(void) {
    /* The encoders' pattern: reserve, write past len, bump len. */
    buf b = {0};
    buf_append_str(&b, "ab");
    buf_reserve(&b, 10);
    TEST_TRUE(b.cap - b.len >= 10);
    memcpy(b.data + b.len, "0123456789", 10);
    b.len += 10;
    TEST_EQ_MEM(b.data, b.len, "ab0123456789", 12);
    buf_free(&b);
}

const test_case buf_tests[] = {
    {"zeroed_is_empty", test_zeroed_is_empty},
    {"append", test_append},
    {"append_many", test_append_many},
    {"printf", test_printf},
    {"printf_long", test_printf_long},
    {"consume", test_consume},
    {"shrink", test_shrink},
    {"reserve_growth", test_reserve_growth},
    {"reserve_then_write", test_reserve_then_write},
    {NULL, NULL},
};
