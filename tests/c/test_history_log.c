/* test_history_log.c -- history_log.c: the CRC-32, the record codec (round
 * trips, every single-byte corruption, a torn record at every byte offset,
 * records placed against a guard page), and a file round trip through
 * history_log_start() with a torn tail. */
#include "buf.h"
#include "frame.h"
#include "history.h"
#include "history_log.h"
#include "test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_crc32(void) {
    TEST_EQ_INT(0xCBF43926u, history_log_crc32(0, "123456789", 9));
    TEST_EQ_INT(0, history_log_crc32(0, "", 0));
    /* Continuing a CRC over pieces equals the CRC of the whole. */
    uint32_t c = history_log_crc32(0, "1234", 4);
    TEST_EQ_INT(0xCBF43926u, history_log_crc32(c, "56789", 5));
}

/* Three records of different types, as a file holds them. */
static void sample(buf *b, size_t ends[3]) {
    history_log_record hd = {.type = HISTORY_LOG_REC_HEADER, .data = "ch\0\r\n\xff", .len = 6};
    history_log_record en = {.type = HISTORY_LOG_REC_ENTRY, .id = {1796309000000ull, 7}, .data = "hello", .len = 5};
    history_log_record me = {.type = HISTORY_LOG_REC_META, .id = {5, 6}, .id2 = {3, 4}, .n = 99};
    history_log_encode(b, &hd);
    ends[0] = b->len;
    history_log_encode(b, &en);
    ends[1] = b->len;
    history_log_encode(b, &me);
    ends[2] = b->len;
}

static void test_roundtrip(void) {
    buf b = {0};
    size_t ends[3];
    sample(&b, ends);
    TEST_EQ_INT(history_log_entry_size(5), ends[1] - ends[0]);
    history_log_record r;
    size_t used, pos = 0;
    TEST_EQ_INT(HISTORY_LOG_OK, history_log_decode(b.data, b.len, &r, &used));
    TEST_EQ_INT(HISTORY_LOG_REC_HEADER, r.type);
    TEST_EQ_MEM("ch\0\r\n\xff", 6, r.data, r.len);
    pos += used;
    TEST_EQ_INT(HISTORY_LOG_OK, history_log_decode(b.data + pos, b.len - pos, &r, &used));
    TEST_EQ_INT(HISTORY_LOG_REC_ENTRY, r.type);
    TEST_TRUE(r.id.ms == 1796309000000ull && r.id.seq == 7);
    TEST_EQ_MEM("hello", 5, r.data, r.len);
    pos += used;
    TEST_EQ_INT(HISTORY_LOG_OK, history_log_decode(b.data + pos, b.len - pos, &r, &used));
    TEST_EQ_INT(HISTORY_LOG_REC_META, r.type);
    TEST_TRUE(r.id.ms == 5 && r.id.seq == 6 && r.id2.ms == 3 && r.id2.seq == 4 && r.n == 99);
    pos += used;
    TEST_EQ_INT(b.len, pos);
    /* DEL and TRIM carry an id only; an empty payload is a valid entry. */
    buf c = {0};
    history_log_record d = {.type = HISTORY_LOG_REC_TRIM, .id = {UINT64_MAX, UINT64_MAX}};
    history_log_encode(&c, &d);
    history_log_record e = {.type = HISTORY_LOG_REC_ENTRY, .id = {1, 0}, .data = "", .len = 0};
    history_log_encode(&c, &e);
    TEST_EQ_INT(HISTORY_LOG_OK, history_log_decode(c.data, c.len, &r, &used));
    TEST_TRUE(r.type == HISTORY_LOG_REC_TRIM && r.id.ms == UINT64_MAX && r.id.seq == UINT64_MAX);
    TEST_EQ_INT(HISTORY_LOG_OK, history_log_decode(c.data + used, c.len - used, &r, &used));
    TEST_TRUE(r.type == HISTORY_LOG_REC_ENTRY && r.len == 0);
    buf_free(&b);
    buf_free(&c);
}

static void test_corrupt(void) {
    buf b = {0};
    size_t ends[3];
    sample(&b, ends);
    /* Every byte of the entry record, flipped (each bit pattern 0x01 and
     * 0x80), makes it fail: never a wrong record accepted. */
    for (size_t i = ends[0]; i < ends[1]; i++) {
        for (int m = 0; m < 2; m++) {
            char save = b.data[i];
            b.data[i] = (char)(save ^ (m ? 0x80 : 0x01));
            history_log_record r = {0};
            size_t used = 12345;
            int st = history_log_decode(b.data + ends[0], b.len - ends[0], &r, &used);
            if (st == HISTORY_LOG_OK) TEST_FAIL_AT("flip at %zu accepted", i);
            TEST_EQ_INT(12345, used);
            b.data[i] = save;
        }
    }
    /* A length of zero or past HISTORY_LOG_MAX_BODY is corruption, not a tear. */
    char zero[16] = {0};
    history_log_record r;
    size_t used;
    TEST_EQ_INT(HISTORY_LOG_CORRUPT, history_log_decode(zero, sizeof(zero), &r, &used));
    char huge[16] = {(char)0xff, (char)0xff, (char)0xff, (char)0x7f};
    TEST_EQ_INT(HISTORY_LOG_CORRUPT, history_log_decode(huge, sizeof(huge), &r, &used));
    /* A good checksum over an unknown type is still refused. */
    buf u = {0};
    history_log_record x = {.type = 9, .id = {1, 1}};
    history_log_encode(&u, &x);
    TEST_EQ_INT(HISTORY_LOG_CORRUPT, history_log_decode(u.data, u.len, &r, &used));
    buf_free(&u);
    buf_free(&b);
}

/* Cut after k bytes, the records wholly inside decode, the next is TORN;
 * the bytes sit at the end of a page followed by an unreadable one. */
static void test_torn_every_offset(void) {
    buf b = {0};
    size_t ends[3];
    sample(&b, ends);
    long page = sysconf(_SC_PAGESIZE);
    char *mem = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    TEST_TRUE(mem != MAP_FAILED);
    TEST_EQ_INT(0, mprotect(mem + page, (size_t)page, PROT_NONE));
    for (size_t k = 0; k <= b.len; k++) {
        char *p = mem + page - k;
        memcpy(p, b.data, k);
        size_t pos = 0, n = 0, used;
        history_log_record r;
        int st;
        while ((st = history_log_decode(p + pos, k - pos, &r, &used)) == HISTORY_LOG_OK) pos += used, n++;
        size_t want = (k >= ends[0]) + (k >= ends[1]) + (k >= ends[2]);
        if (n != want) TEST_FAIL_AT("cut at %zu: %zu records, want %zu", k, n, want);
        if (st != HISTORY_LOG_TORN) TEST_FAIL_AT("cut at %zu: outcome %d, want TORN", k, st);
        if (pos != (want ? ends[want - 1] : 0)) TEST_FAIL_AT("cut at %zu: stopped at %zu", k, pos);
    }
    munmap(mem, (size_t)page * 2);
    buf_free(&b);
}

static void publish(history *h, const char *msg) {
    size_t len = strlen(msg);
    frame *f = frame_new(len + 16);
    f->len = (size_t)snprintf(f->data, len + 16, "$%zu\r\n%s\r\n", len, msg);
    history_append(h, f, 0, len);
    frame_release(f);
}

/* Writes, shuts down, loads again: same entries, ids and counters; then
 * a torn tail is cut and what precedes it loads. */
static void test_file_roundtrip(void) {
    char dir[] = "/tmp/test_history_log.XXXXXX";
    TEST_TRUE(mkdtemp(dir) != NULL);
    char err[256];
    TEST_EQ_INT(0, history_configure("t.* 3 0", err, sizeof(err)));
    TEST_EQ_INT(0, history_log_start(dir, err, sizeof(err)));
    history *h = history_for_publish("t.a", 3);
    for (int i = 0; i < 6; i++) publish(h, i % 2 ? "odd" : "even");
    TEST_EQ_INT(1, (long long)history_delete(h, history_at(h, 1)->id));
    history_id last = h->last_id, maxdel = h->max_deleted_id, first = history_at(h, 0)->id;
    history_free_all();
    history_log_shutdown();

    TEST_EQ_INT(0, history_configure("t.* 3 0", err, sizeof(err)));
    TEST_EQ_INT(0, history_log_start(dir, err, sizeof(err)));
    h = history_find("t.a", 3);
    TEST_TRUE(h != NULL);
    TEST_EQ_INT(2, (long long)h->count);
    TEST_EQ_INT(6, (long long)h->entries_added);
    TEST_EQ_INT(0, history_id_cmp(last, h->last_id));
    TEST_EQ_INT(0, history_id_cmp(maxdel, h->max_deleted_id));
    TEST_EQ_INT(0, history_id_cmp(first, history_at(h, 0)->id));
    size_t blen;
    const char *bulk = history_entry_bulk(history_at(h, 1), &blen);
    TEST_EQ_MEM("$3\r\nodd\r\n", 9, bulk, blen);
    publish(h, "after");
    TEST_TRUE(history_id_cmp(h->last_id, last) > 0);
    history_free_all();
    history_log_shutdown();

    /* Tear the last record (the "after" entry) by 3 bytes. */
    char path[128];
    snprintf(path, sizeof(path), "%s/c-742e61.hlog", dir);
    struct stat st;
    TEST_EQ_INT(0, stat(path, &st));
    TEST_EQ_INT(0, truncate(path, st.st_size - 3));
    TEST_EQ_INT(0, history_configure("t.* 3 0", err, sizeof(err)));
    TEST_EQ_INT(0, history_log_start(dir, err, sizeof(err)));
    h = history_find("t.a", 3);
    TEST_EQ_INT(2, (long long)h->count);
    TEST_EQ_INT(0, history_id_cmp(last, h->last_id));
    history_log_stats ls;
    history_log_get_stats(&ls);
    TEST_EQ_INT(1, ls.truncated_files);
    TEST_EQ_INT(0, stat(path, &st));
    TEST_EQ_INT(st.st_size, ls.disk_bytes);
    /* The rules dropping the history remove its file. */
    TEST_EQ_INT(0, history_configure("", err, sizeof(err)));
    TEST_TRUE(access(path, F_OK) == -1);
    history_free_all();
    history_log_shutdown();
    TEST_EQ_INT(0, rmdir(dir));
}

const test_case history_log_tests[] = {
    {"crc32", test_crc32},
    {"roundtrip", test_roundtrip},
    {"corrupt", test_corrupt},
    {"torn_every_offset", test_torn_every_offset},
    {"file_roundtrip", test_file_roundtrip},
    {NULL, NULL},
};
