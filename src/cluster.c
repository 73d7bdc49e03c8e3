/* cluster.c -- The Redis Cluster map for relay mode. Pure data: the
 * upstream code sends CLUSTER SHARDS (or CLUSTER SLOTS on servers without
 * it), hands the reply here, and gets a map of slot -> shard -> nodes; it
 * hashes shard channels with cluster_key_slot() and follows -MOVED with
 * cluster_parse_moved(). Nothing here touches a socket or keeps state
 * between calls.
 *
 *   CLUSTER SHARDS reply --cluster_map_from_shards()--> cluster_map
 *   CLUSTER SLOTS reply  --cluster_map_from_slots()---> cluster_map
 *   old map, new map     --cluster_map_equal()--------> refresh changed?
 *
 * Shapes, as redis-server 7.0.15 sends them (captures in tests/c/fixtures/):
 * CLUSTER SHARDS is an array of shards, each "slots" [start, end, ...] and
 * "nodes" [node...], each node "id" "port" ["tls-port"] "ip" "endpoint"
 * ["hostname"] "role" master|replica "replication-offset" "health"
 * online|fail|loading; in RESP2 every key/value object is a flat list, in
 * RESP3 a map. A master that failed over stays listed in a shard of its
 * own with no slots. CLUSTER SLOTS is an array of [start, end, primary,
 * replica...], each node [endpoint, port, id, {metadata}].
 *
 * Deliberate simplifications: hostnames are kept only as endpoints (the
 * "hostname" field is not used), and a map is rebuilt whole on every
 * refresh rather than patched. */
#include "cluster.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mem.h"
#include "util.h"

/* ========================================================================
 * Slots: CRC16-XMODEM and hash tags
 * ======================================================================== */

static uint16_t crc16_table[256];
static bool crc16_ready;

/* Fills the byte-at-a-time table for polynomial 0x1021 (MSB first). */
static void crc16_init(void) {
    for (unsigned b = 0; b < 256; b++) {
        uint16_t crc = (uint16_t)(b << 8);
        for (int bit = 0; bit < 8; bit++)
            crc = (uint16_t)((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
        crc16_table[b] = crc;
    }
    crc16_ready = true;
}

static uint16_t crc16(const char *p, size_t len) {
    if (!crc16_ready) crc16_init();
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++)
        crc = (uint16_t)((crc << 8) ^ crc16_table[((crc >> 8) ^ (unsigned char)p[i]) & 0xff]);
    return crc;
}

int cluster_key_slot(const char *key, size_t len) {
    const char *open = memchr(key, '{', len);
    if (open) {
        size_t from = (size_t)(open - key) + 1;
        const char *close = memchr(key + from, '}', len - from);
        if (close && close > key + from)
            return crc16(key + from, (size_t)(close - key) - from) & (CLUSTER_SLOTS - 1);
    }
    return crc16(key, len) & (CLUSTER_SLOTS - 1);
}

/* ========================================================================
 * Reply helpers
 * ======================================================================== */

static bool is_str(const rreply *r) {
    return r && (r->type == RREPLY_STRING || r->type == RREPLY_STATUS);
}

static bool is_list(const rreply *r) {
    return r && (r->type == RREPLY_ARRAY || r->type == RREPLY_SET);
}

/* A key/value object: a RESP3 map or a RESP2 flat list of pairs. */
static bool is_kv(const rreply *r) {
    return r && (r->type == RREPLY_MAP || (r->type == RREPLY_ARRAY && r->elements % 2 == 0));
}

/* The value of key in a key/value object, or NULL. */
static const rreply *kv_get(const rreply *obj, const char *key) {
    for (size_t i = 0; i + 1 < obj->elements; i += 2) {
        const rreply *k = obj->element[i];
        if (is_str(k) && util_eq_nocase(k->str, k->len, key)) return obj->element[i + 1];
    }
    return NULL;
}

static bool get_int(const rreply *r, long long *v) {
    if (r == NULL) return false;
    if (r->type == RREPLY_INT) {
        *v = r->integer;
        return true;
    }
    return is_str(r) && util_parse_ll(r->str, r->len, v);
}

static bool str_is(const rreply *r, const char *s) {
    return is_str(r) && util_eq_nocase(r->str, r->len, s);
}

/* An endpoint a client can use: not NULL, "" or "?". */
static bool usable_host(const rreply *r) {
    return is_str(r) && r->len > 0 && !(r->len == 1 && r->str[0] == '?');
}

static int copy_field(char *dst, size_t dstlen, const rreply *r) {
    if (!is_str(r)) {
        dst[0] = '\0';
        return 0;
    }
    if (r->len >= dstlen) return -1;
    memcpy(dst, r->str, r->len);
    dst[r->len] = '\0';
    return 0;
}

/* ========================================================================
 * Map building
 * ======================================================================== */

static cluster_map *map_new(size_t shards_max) {
    cluster_map *m = mem_calloc(sizeof(*m));
    m->shards = mem_calloc((shards_max ? shards_max : 1) * sizeof(*m->shards));
    for (int s = 0; s < CLUSTER_SLOTS; s++) m->slot_shard[s] = -1;
    return m;
}

void cluster_map_free(cluster_map *m) {
    if (m == NULL) return;
    for (int i = 0; i < m->shard_count; i++) mem_free(m->shards[i].nodes);
    mem_free(m->shards);
    mem_free(m);
}

/* Frees what was built (the map, and a shard not yet in it), fills err
 * with "<what>: <detail>" and returns NULL. */
static cluster_map *map_fail(cluster_map *m, cluster_shard *pending, char *err, size_t errlen,
                             const char *what, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static cluster_map *map_fail(cluster_map *m, cluster_shard *pending, char *err, size_t errlen,
                             const char *what, const char *fmt, ...) {
    if (pending) mem_free(pending->nodes);
    cluster_map_free(m);
    char detail[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    if (errlen) snprintf(err, errlen, "%s: %s", what, detail);
    return NULL;
}

/* Gives slots start..end to shard idx; -1 if a slot is out of range or
 * already taken. */
static int assign_range(cluster_map *m, long long start, long long end, int idx) {
    if (start < 0 || end < start || end >= CLUSTER_SLOTS) return -1;
    for (long long s = start; s <= end; s++) {
        if (m->slot_shard[s] != -1) return -1;
        m->slot_shard[s] = (int16_t)idx;
    }
    return 0;
}

/* Moves the first primary to the front, keeping the others in order. */
static void primary_first(cluster_shard *sh) {
    for (int i = 0; i < sh->node_count; i++) {
        if (!sh->nodes[i].primary) continue;
        cluster_node p = sh->nodes[i];
        memmove(sh->nodes + 1, sh->nodes, (size_t)i * sizeof(*sh->nodes));
        sh->nodes[0] = p;
        sh->has_primary = true;
        return;
    }
}

/* One CLUSTER SHARDS node. Returns 1 (keep), 0 (leave out) or -1 (bad). */
static int shard_node(const rreply *n, bool want_tls, cluster_node *out) {
    if (!is_kv(n)) return -1;
    memset(out, 0, sizeof(*out));
    const rreply *health = kv_get(n, "health");
    if (str_is(health, "fail") || str_is(health, "failed")) return 0;
    out->loading = str_is(health, "loading");
    out->primary = str_is(kv_get(n, "role"), "master");
    if (copy_field(out->id, sizeof(out->id), kv_get(n, "id")) != 0) return -1;
    const rreply *endpoint = kv_get(n, "endpoint");
    const rreply *host = usable_host(endpoint) ? endpoint : kv_get(n, "ip");
    if (copy_field(out->host, sizeof(out->host), host) != 0) return -1;
    long long port = 0;
    if (!(want_tls && get_int(kv_get(n, "tls-port"), &port) && port > 0))
        if (!get_int(kv_get(n, "port"), &port)) port = 0;
    if (port <= 0 || port > 65535) return 0;
    out->port = (int)port;
    return 1;
}

cluster_map *cluster_map_from_shards(const rreply *r, bool want_tls, char *err, size_t errlen) {
    static const char what[] = "CLUSTER SHARDS";
    if (r && r->type == RREPLY_ERROR) {
        if (errlen) snprintf(err, errlen, "%s: %.*s", what, (int)(r->len > 200 ? 200 : r->len), r->str);
        return NULL;
    }
    if (!is_list(r)) return map_fail(NULL, NULL, err, errlen, what, "not an array");
    cluster_map *m = map_new(r->elements);
    for (size_t i = 0; i < r->elements; i++) {
        const rreply *sh = r->element[i];
        if (!is_kv(sh)) return map_fail(m, NULL, err, errlen, what, "shard %zu is not a map", i);
        const rreply *slots = kv_get(sh, "slots"), *nodes = kv_get(sh, "nodes");
        if (!is_list(slots) || slots->elements % 2)
            return map_fail(m, NULL, err, errlen, what, "shard %zu: bad slots", i);
        if (!is_list(nodes)) return map_fail(m, NULL, err, errlen, what, "shard %zu: bad nodes", i);
        if (slots->elements == 0) continue;
        cluster_shard cur = {0};
        cur.nodes = mem_calloc((nodes->elements ? nodes->elements : 1) * sizeof(*cur.nodes));
        for (size_t j = 0; j < nodes->elements; j++) {
            int rc = shard_node(nodes->element[j], want_tls, &cur.nodes[cur.node_count]);
            if (rc < 0) return map_fail(m, &cur, err, errlen, what, "shard %zu: bad node %zu", i, j);
            if (rc > 0) cur.node_count++;
        }
        primary_first(&cur);
        int idx = m->shard_count;
        for (size_t k = 0; k < slots->elements; k += 2) {
            long long start, end;
            if (!get_int(slots->element[k], &start) || !get_int(slots->element[k + 1], &end) ||
                assign_range(m, start, end, idx) != 0)
                return map_fail(m, &cur, err, errlen, what, "shard %zu: bad or taken slot range %zu", i, k / 2);
        }
        m->shards[m->shard_count++] = cur;
    }
    return m;
}

/* One CLUSTER SLOTS node: [endpoint, port, id, {metadata}]. Returns 0 or -1. */
static int slots_node(const rreply *n, bool primary, cluster_node *out) {
    if (!is_list(n) || n->elements < 2) return -1;
    memset(out, 0, sizeof(*out));
    out->primary = primary;
    const rreply *host = n->element[0];
    if (!usable_host(host)) {
        const rreply *meta = n->elements > 3 && is_kv(n->element[3]) ? n->element[3] : NULL;
        host = meta ? kv_get(meta, "ip") : NULL;
    }
    if (copy_field(out->host, sizeof(out->host), host) != 0) return -1;
    long long port;
    if (!get_int(n->element[1], &port) || port <= 0 || port > 65535) return -1;
    out->port = (int)port;
    if (n->elements > 2 && copy_field(out->id, sizeof(out->id), n->element[2]) != 0) return -1;
    return 0;
}

static bool same_node(const cluster_node *a, const cluster_node *b) {
    if (a->id[0] || b->id[0]) return strcmp(a->id, b->id) == 0;
    return a->port == b->port && strcasecmp(a->host, b->host) == 0;
}

/* Adds n to sh unless it is there already; sh->nodes has room. */
static void shard_add_node(cluster_shard *sh, const cluster_node *n) {
    for (int i = 0; i < sh->node_count; i++)
        if (same_node(&sh->nodes[i], n)) return;
    sh->nodes[sh->node_count++] = *n;
}

cluster_map *cluster_map_from_slots(const rreply *r, char *err, size_t errlen) {
    static const char what[] = "CLUSTER SLOTS";
    if (r && r->type == RREPLY_ERROR) {
        if (errlen) snprintf(err, errlen, "%s: %.*s", what, (int)(r->len > 200 ? 200 : r->len), r->str);
        return NULL;
    }
    if (!is_list(r)) return map_fail(NULL, NULL, err, errlen, what, "not an array");
    cluster_map *m = map_new(r->elements);
    for (size_t i = 0; i < r->elements; i++) {
        const rreply *e = r->element[i];
        long long start, end;
        if (!is_list(e) || e->elements < 3 || !get_int(e->element[0], &start) ||
            !get_int(e->element[1], &end))
            return map_fail(m, NULL, err, errlen, what, "entry %zu is not [start, end, nodes...]", i);
        cluster_node primary;
        if (slots_node(e->element[2], true, &primary) != 0)
            return map_fail(m, NULL, err, errlen, what, "entry %zu: bad primary", i);
        int idx = -1;
        for (int s = 0; s < m->shard_count && idx < 0; s++)
            if (same_node(&m->shards[s].nodes[0], &primary)) idx = s;
        size_t extra = e->elements - 2;
        cluster_shard *sh;
        if (idx < 0) {
            idx = m->shard_count++;
            sh = &m->shards[idx];
            sh->nodes = mem_calloc(extra * sizeof(*sh->nodes));
            sh->has_primary = true;
        } else {
            sh = &m->shards[idx];
            sh->nodes = mem_realloc(sh->nodes, ((size_t)sh->node_count + extra) * sizeof(*sh->nodes));
        }
        shard_add_node(sh, &primary);
        for (size_t j = 3; j < e->elements; j++) {
            cluster_node replica;
            if (slots_node(e->element[j], false, &replica) != 0)
                return map_fail(m, NULL, err, errlen, what, "entry %zu: bad node %zu", i, j - 2);
            shard_add_node(sh, &replica);
        }
        if (assign_range(m, start, end, idx) != 0)
            return map_fail(m, NULL, err, errlen, what, "entry %zu: bad or taken slot range", i);
    }
    return m;
}

/* ========================================================================
 * Queries
 * ======================================================================== */

int cluster_map_find_node(const cluster_map *m, const char *host, int port) {
    for (int s = 0; s < m->shard_count; s++)
        for (int i = 0; i < m->shards[s].node_count; i++) {
            const cluster_node *n = &m->shards[s].nodes[i];
            if (n->port == port && strcasecmp(n->host, host) == 0) return s;
        }
    return -1;
}

static bool node_equal(const cluster_node *a, const cluster_node *b) {
    return a->port == b->port && a->primary == b->primary && a->loading == b->loading &&
           strcmp(a->id, b->id) == 0 && strcasecmp(a->host, b->host) == 0;
}

/* Same node sets, whatever the order (shards hold a handful of nodes). */
static bool shard_equal(const cluster_shard *a, const cluster_shard *b) {
    if (a->node_count != b->node_count || a->has_primary != b->has_primary) return false;
    for (int i = 0; i < a->node_count; i++) {
        bool found = false;
        for (int j = 0; j < b->node_count && !found; j++) found = node_equal(&a->nodes[i], &b->nodes[j]);
        if (!found) return false;
    }
    return true;
}

bool cluster_map_equal(const cluster_map *a, const cluster_map *b) {
    int last_a = -2, last_b = -2;
    for (int s = 0; s < CLUSTER_SLOTS; s++) {
        int ia = a->slot_shard[s], ib = b->slot_shard[s];
        if (ia == last_a && ib == last_b) continue; /* the same pair as the slot before */
        if ((ia < 0) != (ib < 0)) return false;
        if (ia >= 0 && !shard_equal(&a->shards[ia], &b->shards[ib])) return false;
        last_a = ia;
        last_b = ib;
    }
    return true;
}

/* ========================================================================
 * Redirections
 * ======================================================================== */

int cluster_parse_moved(const char *err, size_t len, int *slot, char *host, size_t hostlen, int *port) {
    static const char word[] = "MOVED ";
    if (len > 0 && err[0] == '-') {
        err++;
        len--;
    }
    if (len < sizeof(word) - 1 || memcmp(err, word, sizeof(word) - 1) != 0) return -1;
    const char *p = err + sizeof(word) - 1, *end = err + len;
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    if (sp == NULL) return -1;
    long long s;
    if (!util_parse_ll(p, (size_t)(sp - p), &s) || s < 0 || s >= CLUSTER_SLOTS) return -1;
    const char *addr = sp + 1, *colon = NULL;
    for (const char *q = addr; q < end; q++)
        if (*q == ':') colon = q;
    if (colon == NULL) return -1;
    long long pt;
    if (!util_parse_ll(colon + 1, (size_t)(end - colon - 1), &pt) || pt <= 0 || pt > 65535) return -1;
    size_t hlen = (size_t)(colon - addr);
    if (hlen >= hostlen || memchr(addr, ' ', hlen)) return -1;
    memcpy(host, addr, hlen);
    host[hlen] = '\0';
    *slot = (int)s;
    *port = (int)pt;
    return 0;
}
