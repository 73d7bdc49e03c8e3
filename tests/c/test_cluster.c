/* test_cluster.c -- Unit tests for cluster.c: key slots, the cluster map
 * from CLUSTER SHARDS / CLUSTER SLOTS replies, map comparison, -MOVED.
 *
 * The fixtures under tests/c/fixtures/ are raw replies captured from a
 * 6-node redis-server 7.0.15 cluster (ports 31701-31706, 3 masters with a
 * replica each), in RESP2 and RESP3: "healthy" after creation, "failover"
 * after SIGKILL of the master 31702 and the promotion of its replica 31706
 * (31702 shows health "fail" in a shard with no slots), "rejoin_loading"
 * after restarting 31702, caught while it loads as 31706's replica. Slot
 * numbers below were checked with CLUSTER KEYSLOT on that cluster. Run from
 * the repository root (the fixture paths are relative to it). */
#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "test.h"

#define FIXTURES "tests/c/fixtures/"

#define ID_31701 "e58b72e8d8030736da71b8563c434d2c1ffb2365"
#define ID_31702 "98ccf2113cc3da6c419f4972cc138c2f9421f8a1"
#define ID_31703 "1f5acd3b342ef5eab4660d990cf9a696ba048e15"
#define ID_31704 "a7603500a4007372def809519ca9610b68370e3b"
#define ID_31705 "b0ca64e017dcba702508959c30476c04125b82b6"
#define ID_31706 "e880d060aa8c5c01c43305243dc6ec096dd9cb56"

/* ========================================================================
 * Helpers
 * ======================================================================== */

/* Reads one complete reply from bytes; NULL (and a failure) otherwise. */
static rreply *reply_from(const char *p, size_t len) {
    rreader *r = rreader_new(1 << 20, 1 << 20);
    rreader_feed(r, p, len);
    rreply *rep = NULL;
    int rc = rreader_next(r, &rep);
    if (rc != RREADER_OK || rreader_buffered(r) != 0) {
        TEST_FAIL_AT("reply not read: rc %d, %zu left, %s", rc, rreader_buffered(r),
                     rreader_error(r) ? rreader_error(r) : "");
        rreply_free(rep);
        rep = NULL;
    }
    rreader_free(r);
    return rep;
}

static rreply *reply_str(const char *s) {
    return reply_from(s, strlen(s));
}

static rreply *fixture(const char *name) {
    char path[256];
    snprintf(path, sizeof(path), FIXTURES "%s.resp", name);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        TEST_FAIL_AT("cannot open %s (run from the repository root)", path);
        return NULL;
    }
    buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) buf_append(&b, chunk, n);
    fclose(fp);
    rreply *r = reply_from(b.data, b.len);
    buf_free(&b);
    return r;
}

static cluster_map *shards_map(const char *name, bool tls) {
    rreply *r = fixture(name);
    if (!r) return NULL;
    char err[128] = "";
    cluster_map *m = cluster_map_from_shards(r, tls, err, sizeof(err));
    rreply_free(r);
    if (!m) TEST_FAIL_AT("%s: %s", name, err);
    return m;
}

static cluster_map *slots_map(const char *name) {
    rreply *r = fixture(name);
    if (!r) return NULL;
    char err[128] = "";
    cluster_map *m = cluster_map_from_slots(r, err, sizeof(err));
    rreply_free(r);
    if (!m) TEST_FAIL_AT("%s: %s", name, err);
    return m;
}

/* Checks that every slot in [start, end] belongs to shard idx. */
static bool range_is(const cluster_map *m, int start, int end, int idx) {
    for (int s = start; s <= end; s++)
        if (m->slot_shard[s] != idx) return false;
    return true;
}

/* Checks node i of shard s. */
static bool node_is(const cluster_map *m, int s, int i, int port, bool primary, bool loading,
                    const char *id) {
    const cluster_node *n = &m->shards[s].nodes[i];
    return strcmp(n->host, "127.0.0.1") == 0 && n->port == port && n->primary == primary &&
           n->loading == loading && strcmp(n->id, id) == 0;
}

/* ========================================================================
 * Slots
 * ======================================================================== */

static void test_key_slot(void) {
    static const struct {
        const char *key;
        int slot;
    } cases[] = {
        {"123456789", 12739},   /* CRC16-XMODEM check value 0x31C3 */
        {"foo", 12182},
        {"{user1000}.following", 3443},
        {"user1000", 3443},
        {"foo{}{bar}", 8363},   /* empty tag: the whole key */
        {"foo{{bar}}zap", 4015},
        {"{bar", 4015},
        {"a{b}c", 3300},
        {"b", 3300},
        {"{}", 15257},
        {"", 0},
        {"foo{bar}{zap}", 5061},
        {"bar", 5061},
        {"{}{x}", 3257},        /* only the first '{' counts */
        {"x", 16287},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = cluster_key_slot(cases[i].key, strlen(cases[i].key));
        if (got != cases[i].slot) {
            TEST_FAIL_AT("slot of \"%s\": %d, want %d", cases[i].key, got, cases[i].slot);
            return;
        }
    }
    /* Binary-safe: a NUL is a byte like any other. */
    TEST_TRUE(cluster_key_slot("a\0b", 3) != cluster_key_slot("a", 1));
    TEST_EQ_INT(cluster_key_slot("x{a\0b}y", 7), cluster_key_slot("a\0b", 3));
}

/* ========================================================================
 * CLUSTER SHARDS fixtures
 * ======================================================================== */

static void check_healthy(const cluster_map *m) {
    TEST_EQ_INT(m->shard_count, 3);
    /* Shards in reply order: 5461-10922, 10923-16383, 0-5460. */
    TEST_TRUE(range_is(m, 5461, 10922, 0));
    TEST_TRUE(range_is(m, 10923, 16383, 1));
    TEST_TRUE(range_is(m, 0, 5460, 2));
    for (int s = 0; s < 3; s++) {
        TEST_EQ_INT(m->shards[s].node_count, 2);
        TEST_TRUE(m->shards[s].has_primary);
    }
    TEST_TRUE(node_is(m, 0, 0, 31702, true, false, ID_31702));
    TEST_TRUE(node_is(m, 0, 1, 31706, false, false, ID_31706));
    TEST_TRUE(node_is(m, 1, 0, 31703, true, false, ID_31703));
    TEST_TRUE(node_is(m, 1, 1, 31704, false, false, ID_31704));
    TEST_TRUE(node_is(m, 2, 0, 31701, true, false, ID_31701));
    TEST_TRUE(node_is(m, 2, 1, 31705, false, false, ID_31705));
    TEST_EQ_INT(cluster_map_find_node(m, "127.0.0.1", 31704), 1);
    TEST_EQ_INT(cluster_map_find_node(m, "127.0.0.1", 31701), 2);
    TEST_EQ_INT(cluster_map_find_node(m, "127.0.0.2", 31701), -1);
    TEST_EQ_INT(cluster_map_find_node(m, "127.0.0.1", 31707), -1);
}

static void test_shards_healthy(void) {
    cluster_map *m2 = shards_map("cluster_healthy_shards_resp2", false);
    cluster_map *m3 = shards_map("cluster_healthy_shards_resp3", false);
    if (m2 && m3) {
        check_healthy(m2);
        if (!test_failed) check_healthy(m3);
        if (!test_failed) TEST_TRUE(cluster_map_equal(m2, m3));
        /* No tls-port in the reply: want_tls falls back to "port". */
        cluster_map *t = shards_map("cluster_healthy_shards_resp3", true);
        if (t && !test_failed) TEST_TRUE(cluster_map_equal(t, m3));
        cluster_map_free(t);
    }
    cluster_map_free(m2);
    cluster_map_free(m3);
}

static void check_failover(const cluster_map *m) {
    /* The dead ex-master 31702 is listed in a slotless shard: left out. */
    TEST_EQ_INT(m->shard_count, 3);
    TEST_TRUE(range_is(m, 5461, 10922, 0));
    TEST_TRUE(range_is(m, 10923, 16383, 1));
    TEST_TRUE(range_is(m, 0, 5460, 2));
    TEST_EQ_INT(m->shards[0].node_count, 1);
    TEST_TRUE(m->shards[0].has_primary);
    TEST_TRUE(node_is(m, 0, 0, 31706, true, false, ID_31706));
    TEST_EQ_INT(cluster_map_find_node(m, "127.0.0.1", 31702), -1);
    TEST_EQ_INT(cluster_map_find_node(m, "127.0.0.1", 31706), 0);
}

static void test_shards_failover(void) {
    cluster_map *h = shards_map("cluster_healthy_shards_resp2", false);
    cluster_map *m2 = shards_map("cluster_failover_shards_resp2", false);
    cluster_map *m3 = shards_map("cluster_failover_shards_resp3", false);
    if (h && m2 && m3) {
        check_failover(m2);
        if (!test_failed) check_failover(m3);
        if (!test_failed) TEST_TRUE(cluster_map_equal(m2, m3));
        if (!test_failed) TEST_TRUE(!cluster_map_equal(h, m2));
        if (!test_failed) TEST_TRUE(!cluster_map_equal(m2, h));
    }
    cluster_map_free(h);
    cluster_map_free(m2);
    cluster_map_free(m3);
}

static void test_shards_loading(void) {
    cluster_map *f = shards_map("cluster_failover_shards_resp2", false);
    cluster_map *m = shards_map("cluster_rejoin_loading_shards_resp2", false);
    if (f && m) {
        TEST_EQ_INT(m->shard_count, 3);
        TEST_TRUE(range_is(m, 5461, 10922, 0));
        TEST_EQ_INT(m->shards[0].node_count, 2);
        TEST_TRUE(node_is(m, 0, 0, 31706, true, false, ID_31706));
        /* Back as a replica, still loading: kept, and marked. */
        TEST_TRUE(node_is(m, 0, 1, 31702, false, true, ID_31702));
        TEST_TRUE(!cluster_map_equal(f, m));
    }
    cluster_map_free(f);
    cluster_map_free(m);
}

/* ========================================================================
 * CLUSTER SLOTS fixtures
 * ======================================================================== */

static void test_slots_fixtures(void) {
    static const char *const pairs[][2] = {
        {"cluster_healthy_slots_resp2", "cluster_healthy_shards_resp2"},
        {"cluster_healthy_slots_resp3", "cluster_healthy_shards_resp3"},
        {"cluster_failover_slots_resp2", "cluster_failover_shards_resp2"},
        {"cluster_failover_slots_resp3", "cluster_failover_shards_resp3"},
    };
    for (size_t i = 0; i < 4 && !test_failed; i++) {
        cluster_map *sl = slots_map(pairs[i][0]);
        cluster_map *sh = shards_map(pairs[i][1], false);
        if (sl && sh) {
            /* Both commands describe the same cluster. */
            if (!cluster_map_equal(sl, sh)) TEST_FAIL_AT("%s differs from %s", pairs[i][0], pairs[i][1]);
            if (!test_failed) TEST_EQ_INT(sl->shard_count, 3);
            if (!test_failed) TEST_EQ_INT(sl->shards[sl->slot_shard[0]].nodes[0].port, 31701);
            if (!test_failed) TEST_TRUE(sl->shards[sl->slot_shard[0]].nodes[0].primary);
        }
        cluster_map_free(sl);
        cluster_map_free(sh);
    }
}

/* ========================================================================
 * Hand-made replies: TLS ports, endpoints, grouping, errors
 * ======================================================================== */

/* A one-shard CLUSTER SHARDS reply (RESP2) with one node of the given
 * fields (a flat list of $-strings and integers, already encoded). */
static rreply *one_shard(const char *slots, int node_fields, const char *node) {
    buf b = {0};
    buf_printf(&b, "*1\r\n*4\r\n$5\r\nslots\r\n%s$5\r\nnodes\r\n*1\r\n*%d\r\n%s", slots, node_fields * 2, node);
    rreply *r = reply_from(b.data, b.len);
    buf_free(&b);
    return r;
}

#define NODE_TLS                                                                 \
    "$2\r\nid\r\n$3\r\nabc\r\n$4\r\nport\r\n:7000\r\n$8\r\ntls-port\r\n:7443\r\n"  \
    "$2\r\nip\r\n$8\r\n10.0.0.1\r\n$8\r\nendpoint\r\n$1\r\n?\r\n"               \
    "$4\r\nrole\r\n$6\r\nmaster\r\n$6\r\nhealth\r\n$6\r\nonline\r\n"

static void test_shards_tls_and_endpoint(void) {
    rreply *r = one_shard("*2\r\n:0\r\n:16383\r\n", 7, NODE_TLS);
    if (!r) return;
    char err[128];
    cluster_map *plain = cluster_map_from_shards(r, false, err, sizeof(err));
    cluster_map *tls = cluster_map_from_shards(r, true, err, sizeof(err));
    rreply_free(r);
    TEST_TRUE(plain && tls);
    TEST_EQ_INT(plain->shards[0].nodes[0].port, 7000);
    TEST_EQ_INT(tls->shards[0].nodes[0].port, 7443);
    /* Endpoint "?" is unusable: the ip is used. */
    TEST_EQ_STR(tls->shards[0].nodes[0].host, "10.0.0.1");
    TEST_EQ_STR(tls->shards[0].nodes[0].id, "abc");
    TEST_TRUE(!cluster_map_equal(plain, tls));
    TEST_TRUE(range_is(tls, 0, 16383, 0));
    cluster_map_free(plain);
    cluster_map_free(tls);

    /* A hostname endpoint wins over the ip. */
    r = one_shard("*2\r\n:0\r\n:16383\r\n", 4,
                  "$4\r\nport\r\n:7000\r\n$2\r\nip\r\n$8\r\n10.0.0.1\r\n"
                  "$8\r\nendpoint\r\n$11\r\nredis-0.svc\r\n$4\r\nrole\r\n$7\r\nreplica\r\n");
    if (!r) return;
    cluster_map *m = cluster_map_from_shards(r, false, err, sizeof(err));
    rreply_free(r);
    TEST_TRUE(m != NULL);
    TEST_EQ_STR(m->shards[0].nodes[0].host, "redis-0.svc");
    TEST_EQ_STR(m->shards[0].nodes[0].id, "");
    TEST_TRUE(!m->shards[0].has_primary && !m->shards[0].nodes[0].primary);
    TEST_EQ_INT(cluster_map_find_node(m, "REDIS-0.svc", 7000), 0);
    cluster_map_free(m);

    /* Every node failed: the shard still owns its slots, with no node. */
    r = one_shard("*2\r\n:5\r\n:5\r\n", 2, "$4\r\nport\r\n:7000\r\n$6\r\nhealth\r\n$4\r\nfail\r\n");
    if (!r) return;
    m = cluster_map_from_shards(r, false, err, sizeof(err));
    rreply_free(r);
    TEST_TRUE(m != NULL);
    TEST_EQ_INT(m->shard_count, 1);
    TEST_EQ_INT(m->shards[0].node_count, 0);
    TEST_EQ_INT(m->slot_shard[5], 0);
    TEST_EQ_INT(m->slot_shard[4], -1);
    TEST_EQ_INT(m->slot_shard[6], -1);
    cluster_map_free(m);
}

static void test_shards_primary_first(void) {
    /* RESP3, replica listed before the master, two slot ranges. */
    rreply *r = reply_str(
        "*1\r\n%2\r\n$5\r\nslots\r\n*4\r\n:0\r\n:9\r\n:20\r\n:29\r\n$5\r\nnodes\r\n*3\r\n"
        "%2\r\n$4\r\nport\r\n:7001\r\n$4\r\nrole\r\n$7\r\nreplica\r\n"
        "%2\r\n$4\r\nport\r\n:7002\r\n$4\r\nrole\r\n$7\r\nreplica\r\n"
        "%3\r\n$4\r\nport\r\n:7000\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$6\r\nhealth\r\n$7\r\nloading\r\n");
    if (!r) return;
    char err[128];
    cluster_map *m = cluster_map_from_shards(r, false, err, sizeof(err));
    rreply_free(r);
    TEST_TRUE(m != NULL);
    TEST_EQ_INT(m->shards[0].node_count, 3);
    TEST_TRUE(m->shards[0].has_primary);
    TEST_EQ_INT(m->shards[0].nodes[0].port, 7000);
    TEST_TRUE(m->shards[0].nodes[0].loading);
    TEST_EQ_INT(m->shards[0].nodes[1].port, 7001);
    TEST_EQ_INT(m->shards[0].nodes[2].port, 7002);
    TEST_EQ_STR(m->shards[0].nodes[0].host, ""); /* no ip, no endpoint */
    TEST_TRUE(range_is(m, 0, 9, 0) && range_is(m, 20, 29, 0));
    TEST_EQ_INT(m->slot_shard[10], -1);
    TEST_EQ_INT(m->slot_shard[30], -1);
    cluster_map_free(m);
}

static void test_slots_grouping(void) {
    /* Two ranges of one primary (its replica listed once), an unknown
     * endpoint with an "ip" in the metadata, and a NULL endpoint. */
    rreply *r = reply_str(
        "*3\r\n"
        "*4\r\n:0\r\n:99\r\n*3\r\n$8\r\n10.0.0.1\r\n:7000\r\n$1\r\nA\r\n*3\r\n$8\r\n10.0.0.2\r\n:7001\r\n$1\r\nB\r\n"
        "*3\r\n:100\r\n:199\r\n*4\r\n$1\r\n?\r\n:7002\r\n$1\r\nC\r\n%1\r\n$2\r\nip\r\n$8\r\n10.0.0.3\r\n"
        "*4\r\n:200\r\n:299\r\n*3\r\n$8\r\n10.0.0.1\r\n:7000\r\n$1\r\nA\r\n*3\r\n$-1\r\n:7001\r\n$1\r\nB\r\n");
    if (!r) return;
    char err[128];
    cluster_map *m = cluster_map_from_slots(r, err, sizeof(err));
    rreply_free(r);
    TEST_TRUE(m != NULL);
    TEST_EQ_INT(m->shard_count, 2);
    TEST_TRUE(range_is(m, 0, 99, 0) && range_is(m, 200, 299, 0) && range_is(m, 100, 199, 1));
    TEST_EQ_INT(m->slot_shard[300], -1);
    TEST_EQ_INT(m->shards[0].node_count, 2);
    TEST_EQ_STR(m->shards[0].nodes[0].id, "A");
    TEST_TRUE(m->shards[0].nodes[0].primary && !m->shards[0].nodes[1].primary);
    TEST_EQ_STR(m->shards[0].nodes[1].host, "10.0.0.2");
    TEST_EQ_STR(m->shards[1].nodes[0].host, "10.0.0.3");
    TEST_EQ_INT(cluster_map_find_node(m, "10.0.0.3", 7002), 1);
    cluster_map_free(m);
}

static void test_map_errors(void) {
    static const struct {
        const char *id;
        bool slots;          /* CLUSTER SLOTS, else SHARDS */
        const char *in;
        const char *err;     /* prefix of the error text */
    } cases[] = {
        {"shards-error-reply", false, "-ERR unknown subcommand 'SHARDS'\r\n",
         "CLUSTER SHARDS: ERR unknown subcommand 'SHARDS'"},
        {"shards-not-array", false, "+OK\r\n", "CLUSTER SHARDS: not an array"},
        {"shards-not-map", false, "*1\r\n:1\r\n", "CLUSTER SHARDS: shard 0 is not a map"},
        {"shards-odd-slots", false, "*1\r\n*4\r\n$5\r\nslots\r\n*1\r\n:1\r\n$5\r\nnodes\r\n*0\r\n",
         "CLUSTER SHARDS: shard 0: bad slots"},
        {"shards-no-nodes", false, "*1\r\n*2\r\n$5\r\nslots\r\n*2\r\n:1\r\n:2\r\n", "CLUSTER SHARDS: shard 0: bad nodes"},
        {"shards-slot-range", false, "*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:1\r\n:16384\r\n$5\r\nnodes\r\n*0\r\n",
         "CLUSTER SHARDS: shard 0: bad or taken slot range 0"},
        {"shards-slot-reversed", false, "*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:5\r\n:4\r\n$5\r\nnodes\r\n*0\r\n",
         "CLUSTER SHARDS: shard 0: bad or taken slot range 0"},
        {"shards-slot-taken", false,
         "*2\r\n*4\r\n$5\r\nslots\r\n*2\r\n:1\r\n:5\r\n$5\r\nnodes\r\n*0\r\n"
         "*4\r\n$5\r\nslots\r\n*2\r\n:5\r\n:9\r\n$5\r\nnodes\r\n*1\r\n*2\r\n$4\r\nport\r\n:1\r\n",
         "CLUSTER SHARDS: shard 1: bad or taken slot range 0"},
        {"shards-host-too-long", false,
         "*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:1\r\n:5\r\n$5\r\nnodes\r\n*1\r\n*4\r\n$4\r\nport\r\n:1\r\n$2\r\nip\r\n"
         "$64\r\n0123456789012345678901234567890123456789012345678901234567890123\r\n",
         "CLUSTER SHARDS: shard 0: bad node 0"},
        {"shards-id-too-long", false,
         "*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:1\r\n:5\r\n$5\r\nnodes\r\n*1\r\n*4\r\n$4\r\nport\r\n:1\r\n$2\r\nid\r\n"
         "$41\r\n01234567890123456789012345678901234567890\r\n",
         "CLUSTER SHARDS: shard 0: bad node 0"},
        {"slots-error-reply", true, "-ERR This instance has cluster support disabled\r\n",
         "CLUSTER SLOTS: ERR This instance has cluster support disabled"},
        {"slots-not-array", true, ":1\r\n", "CLUSTER SLOTS: not an array"},
        {"slots-short-entry", true, "*1\r\n*2\r\n:0\r\n:1\r\n", "CLUSTER SLOTS: entry 0 is not [start, end, nodes...]"},
        {"slots-bad-primary", true, "*1\r\n*3\r\n:0\r\n:1\r\n*1\r\n$1\r\nh\r\n", "CLUSTER SLOTS: entry 0: bad primary"},
        {"slots-bad-port", true, "*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\nh\r\n:0\r\n", "CLUSTER SLOTS: entry 0: bad primary"},
        {"slots-bad-replica", true, "*1\r\n*4\r\n:0\r\n:1\r\n*2\r\n$1\r\nh\r\n:1\r\n:5\r\n", "CLUSTER SLOTS: entry 0: bad node 1"},
        {"slots-overlap", true,
         "*2\r\n*3\r\n:0\r\n:10\r\n*2\r\n$1\r\nh\r\n:1\r\n*3\r\n:10\r\n:20\r\n*2\r\n$1\r\ng\r\n:1\r\n",
         "CLUSTER SLOTS: entry 1: bad or taken slot range"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rreply *r = reply_str(cases[i].in);
        if (!r) {
            TEST_FAIL_AT("%s: fixture not read", cases[i].id);
            return;
        }
        char err[128] = "";
        cluster_map *m = cases[i].slots ? cluster_map_from_slots(r, err, sizeof(err))
                                        : cluster_map_from_shards(r, false, err, sizeof(err));
        rreply_free(r);
        if (m != NULL) {
            cluster_map_free(m);
            TEST_FAIL_AT("%s: map built", cases[i].id);
            return;
        }
        if (strcmp(err, cases[i].err) != 0) {
            TEST_FAIL_AT("%s: err \"%s\", want \"%s\"", cases[i].id, err, cases[i].err);
            return;
        }
    }
    char err[8] = "x";
    TEST_TRUE(cluster_map_from_shards(NULL, false, err, sizeof(err)) == NULL);
    TEST_EQ_STR(err, "CLUSTER");   /* truncated to the buffer */
    TEST_TRUE(cluster_map_from_slots(NULL, NULL, 0) == NULL);
    cluster_map_free(NULL);
}

static void test_map_equal(void) {
    cluster_map *a = shards_map("cluster_healthy_shards_resp2", false);
    cluster_map *b = shards_map("cluster_healthy_shards_resp2", false);
    if (a && b) {
        TEST_TRUE(cluster_map_equal(a, b));
        /* Node order inside a shard does not matter. */
        cluster_node t = b->shards[0].nodes[0];
        b->shards[0].nodes[0] = b->shards[0].nodes[1];
        b->shards[0].nodes[1] = t;
        TEST_TRUE(cluster_map_equal(a, b));
        /* One slot moving is a change. */
        b->slot_shard[100] = 0;
        TEST_TRUE(!cluster_map_equal(a, b));
        b->slot_shard[100] = 2;
        TEST_TRUE(cluster_map_equal(a, b));
        b->slot_shard[16383] = -1;
        TEST_TRUE(!cluster_map_equal(a, b));
        TEST_TRUE(!cluster_map_equal(b, a));
        b->slot_shard[16383] = 1;
        b->shards[1].nodes[1].port++;
        TEST_TRUE(!cluster_map_equal(a, b));
    }
    cluster_map_free(a);
    cluster_map_free(b);
}

/* ========================================================================
 * MOVED
 * ======================================================================== */

static void test_parse_moved(void) {
    static const struct {
        const char *in;
        int rc, slot, port;
        const char *host;
    } cases[] = {
        {"MOVED 3999 127.0.0.1:6381", 0, 3999, 6381, "127.0.0.1"},
        {"-MOVED 12182 127.0.0.1:31703", 0, 12182, 31703, "127.0.0.1"},
        {"MOVED 1 :7000", 0, 1, 7000, ""},
        {"MOVED 0 redis-0.svc.local:6379", 0, 0, 6379, "redis-0.svc.local"},
        {"MOVED 16383 ::1:7000", 0, 16383, 7000, "::1"},
        {"MOVED 16384 127.0.0.1:7000", -1, 0, 0, NULL},
        {"MOVED -1 127.0.0.1:7000", -1, 0, 0, NULL},
        {"MOVED 01 127.0.0.1:7000", -1, 0, 0, NULL},
        {"MOVED 1 127.0.0.1", -1, 0, 0, NULL},
        {"MOVED 1 127.0.0.1:", -1, 0, 0, NULL},
        {"MOVED 1 127.0.0.1:0", -1, 0, 0, NULL},
        {"MOVED 1 127.0.0.1:65536", -1, 0, 0, NULL},
        {"MOVED 1 127.0.0.1:70x", -1, 0, 0, NULL},
        {"MOVED 1 a b:7", -1, 0, 0, NULL},
        {"MOVED 1", -1, 0, 0, NULL},
        {"MOVED ", -1, 0, 0, NULL},
        {"ASK 1 127.0.0.1:7000", -1, 0, 0, NULL},
        {"moved 1 127.0.0.1:7000", -1, 0, 0, NULL},
        {"ERR MOVED 1 127.0.0.1:7000", -1, 0, 0, NULL},
        {"", -1, 0, 0, NULL},
        {"-", -1, 0, 0, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int slot = -7, port = -7;
        char host[64] = "unset";
        int rc = cluster_parse_moved(cases[i].in, strlen(cases[i].in), &slot, host, sizeof(host), &port);
        if (rc != cases[i].rc || (rc == 0 && (slot != cases[i].slot || port != cases[i].port ||
                                              strcmp(host, cases[i].host) != 0))) {
            TEST_FAIL_AT("\"%s\": rc %d slot %d host \"%s\" port %d", cases[i].in, rc, slot, host, port);
            return;
        }
    }
    /* The host must fit, NUL included; the length bounds the text. */
    int slot, port;
    char small[9];
    TEST_EQ_INT(cluster_parse_moved("MOVED 1 127.0.0.1:7", 19, &slot, small, sizeof(small), &port), -1);
    char fits[10];
    TEST_EQ_INT(cluster_parse_moved("MOVED 1 127.0.0.1:7", 19, &slot, fits, sizeof(fits), &port), 0);
    TEST_EQ_STR(fits, "127.0.0.1");
    TEST_EQ_INT(cluster_parse_moved("MOVED 2 h:70001", 14, &slot, fits, sizeof(fits), &port), 0);
    TEST_EQ_INT(port, 7000);
}

const test_case cluster_tests[] = {
    {"key_slot", test_key_slot},
    {"shards_healthy", test_shards_healthy},
    {"shards_failover", test_shards_failover},
    {"shards_loading", test_shards_loading},
    {"slots_fixtures", test_slots_fixtures},
    {"shards_tls_and_endpoint", test_shards_tls_and_endpoint},
    {"shards_primary_first", test_shards_primary_first},
    {"slots_grouping", test_slots_grouping},
    {"map_errors", test_map_errors},
    {"map_equal", test_map_equal},
    {"parse_moved", test_parse_moved},
    {NULL, NULL},
};
