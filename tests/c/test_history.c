/* test_history.c -- history.c: id generation when the clock stands still or
 * steps back, id parsing, trimming by count and XTRIM, the memory cap. */
#include "frame.h"
#include "history.h"
#include "test.h"

#include <string.h>

static frame *payload_frame(const char *msg) {
    size_t len = strlen(msg);
    frame *f = frame_new(len + 16);
    int n = snprintf(f->data, len + 16, "$%zu\r\n%s\r\n", len, msg);
    f->len = (size_t)n;
    return f;
}

static void append(history *h, const char *msg) {
    frame *f = payload_frame(msg);
    history_append(h, f, 0, strlen(msg));
    frame_release(f);
}

static void test_next_id(void) {
    history h;
    memset(&h, 0, sizeof(h));
    history_id id = history_next_id(&h, 1000);
    TEST_TRUE(id.ms == 1000 && id.seq == 0);
    h.last_id = id;
    id = history_next_id(&h, 1000);            /* same ms: seq + 1 */
    TEST_TRUE(id.ms == 1000 && id.seq == 1);
    h.last_id = id;
    id = history_next_id(&h, 900);             /* clock stepped back */
    TEST_TRUE(id.ms == 1000 && id.seq == 2);
    h.last_id = (history_id){5, UINT64_MAX};
    id = history_next_id(&h, 1);               /* seq overflow: next ms */
    TEST_TRUE(id.ms == 6 && id.seq == 0);
}

static void test_parse(void) {
    history_id id;
    bool seq;
    TEST_EQ_INT(0, history_id_parse("5", 1, false, false, &id, &seq));
    TEST_TRUE(id.ms == 5 && id.seq == 0 && !seq);
    TEST_EQ_INT(0, history_id_parse("5", 1, true, false, &id, NULL));
    TEST_TRUE(id.seq == UINT64_MAX);
    TEST_EQ_INT(0, history_id_parse("18446744073709551615-7", 22, false, false, &id, &seq));
    TEST_TRUE(id.ms == UINT64_MAX && id.seq == 7 && seq);
    TEST_EQ_INT(-1, history_id_parse("18446744073709551616", 20, false, false, &id, NULL));
    TEST_EQ_INT(-1, history_id_parse("-", 1, false, false, &id, NULL));
    TEST_EQ_INT(0, history_id_parse("+", 1, false, true, &id, NULL));
    TEST_TRUE(id.ms == UINT64_MAX && id.seq == UINT64_MAX);
    TEST_EQ_INT(-1, history_id_parse("1-", 2, false, false, &id, NULL));
    TEST_EQ_INT(-1, history_id_parse("a-1", 3, false, false, &id, NULL));
    id = (history_id){1, 0};
    TEST_EQ_INT(0, history_id_decr(&id));
    TEST_TRUE(id.ms == 0 && id.seq == UINT64_MAX);
    id = (history_id){0, 0};
    TEST_EQ_INT(-1, history_id_decr(&id));
}

static void test_trim(void) {
    char err[128];
    TEST_EQ_INT(0, history_configure("t.* 3 0 big.* 1000 0", err, sizeof(err)));
    TEST_TRUE(history_for_publish("other", 5) == NULL);
    TEST_TRUE(history_for_publish("other", 5) == NULL);   /* cached miss */
    history *h = history_for_publish("t.a", 3);
    TEST_TRUE(h != NULL);
    for (int i = 0; i < 5; i++) append(h, "x");
    TEST_EQ_INT(3, (long long)h->count);
    TEST_EQ_INT(5, (long long)h->entries_added);
    for (size_t i = 1; i < h->count; i++)
        TEST_TRUE(history_id_cmp(history_at(h, i - 1)->id, history_at(h, i)->id) < 0);
    history *b = history_for_publish("big.a", 5);
    for (int i = 0; i < 250; i++) append(b, "y");
    TEST_EQ_INT(0, (long long)history_trim_maxlen(b, 200, true, -1));   /* no whole node of 100 */
    TEST_EQ_INT(50, (long long)history_trim_maxlen(b, 200, false, -1));
    /* What is left of node 0 (50..99) goes whole; node 1 would be cut. */
    TEST_EQ_INT(50, (long long)history_trim_maxlen(b, 60, true, -1));
    TEST_EQ_INT(100, (long long)history_trim_maxlen(b, 0, true, 100));  /* LIMIT 100: one node */
    TEST_EQ_INT(1, (long long)history_delete(b, history_at(b, 0)->id));
    TEST_EQ_INT(49, (long long)b->count);
    /* The memory cap evicts the globally oldest entry: h's first. */
    history_stats st;
    history_get_stats(&st);
    history_set_max_memory(st.bytes - 1);
    history_get_stats(&st);
    TEST_EQ_INT(1, st.evictions);
    TEST_EQ_INT(2, (long long)h->count);
    TEST_EQ_INT(49, (long long)b->count);
    /* Rules that no longer match drop the history. */
    TEST_EQ_INT(0, history_configure("big.* 10 0", err, sizeof(err)));
    TEST_TRUE(history_find("t.a", 3) == NULL);
    TEST_EQ_INT(10, (long long)history_find("big.a", 5)->count);
    history_free_all();
}

const test_case history_tests[] = {
    {"next_id", test_next_id},
    {"parse", test_parse},
    {"trim", test_trim},
    {NULL, NULL},
};
