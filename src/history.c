/* history.c -- Channel histories in memory (contract in history.h).
 *
 * Layout: each history is an array of entries used as a deque (entries
 * [start, start + count) of cap): appends go at the end, trimming takes
 * from the front, XDEL closes the gap with a memmove (it is rare). Ids are
 * sorted, so ranges are binary searches.
 *
 * Lookup: `histories` maps channel -> history; `misses` caches channels
 * no rule matches, emptied when it reaches MISS_CACHE_MAX names or when
 * the rules change. Before both, a 256-bit set of the bytes the rules'
 * globs can match first (all of them when a glob starts with a wildcard):
 * a PUBLISH to a channel whose first byte no rule can start with costs a
 * bit test; any other channel without history one hash lookup (the
 * misses), and the glob rules run once per channel name (per cache
 * generation).
 *
 * Memory cap: every entry gets a global insertion number; a binary
 * min-heap holds the non-empty histories keyed by their first entry's
 * number, so the globally oldest entry is at the heap's top. Any change of
 * a history's first entry fixes its heap position (O(log histories)).
 *
 * Age: an entry remembers the monotonic ms it was appended at (not its id,
 * which may run ahead of the clock after the clock stepped back). Entries
 * past max-seconds go on every append, on every read (history_find) and
 * from the cron, so readers never see them.
 *
 * Persistence: history_log.c's hooks run at append, at every entry
 * release (to count a file's dead bytes), at XDEL / XTRIM (logged as
 * records) and when a history goes; each is a branch when it is off. */
#include "history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "dict.h"
#include "frame.h"
#include "glob.h"
#include "history_log.h"
#include "log.h"
#include "mem.h"
#include "util.h"

#define MISS_CACHE_MAX 65536

typedef struct rule {
    char *glob;
    size_t glob_len;
    long long max_messages, max_seconds;
} rule;

size_t history_rule_count;

static struct {
    rule *rules;
    dict *histories;          /* channel -> history (owned) */
    dict *misses;             /* channel -> NULL: no rule matches */
    uint8_t first_bytes[32];  /* bit b: some rule's glob can match a name starting with byte b */
    history **heap;           /* non-empty histories by first entry's order */
    size_t heap_len, heap_cap;
    uint64_t next_order;
    long long max_memory;
    long long bytes, entries, evictions;
    long long last_evict_log_ms;
    long long evicted_since_log;
    bool freeing_all;         /* shutdown: keep the files */
} H;

static void history_destroy(void *p);
static void cron_one(void *ctx, history *h);

static const dict_type histories_type = {NULL, NULL, NULL, NULL, history_destroy, 0};
/* histories borrow the key from the history (h->name); misses own theirs. */
static const dict_type misses_type = {NULL, NULL, dict_key_copy, dict_key_release, NULL, 0};

static long long mono_ms(void) {
    return util_monotonic_us() / 1000;
}

/* ------------------------------------------------------------------------
 * Ids
 * ------------------------------------------------------------------------ */

int history_id_cmp(history_id a, history_id b) {
    if (a.ms != b.ms) return a.ms < b.ms ? -1 : 1;
    if (a.seq != b.seq) return a.seq < b.seq ? -1 : 1;
    return 0;
}

/* Strict decimal digits within 64 bits. */
static bool parse_u64(const char *s, size_t len, uint64_t *out) {
    if (len == 0 || len > 20) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

int history_id_parse(const char *s, size_t len, bool missing_seq_max, bool allow_minmax, history_id *out,
                     bool *seq_given) {
    if (seq_given) *seq_given = false;
    if (len > 127) return -1;   /* Redis reads ids into a 128-byte buffer */
    if (allow_minmax && len == 1 && (s[0] == '-' || s[0] == '+')) {
        out->ms = out->seq = s[0] == '-' ? 0 : UINT64_MAX;
        return 0;
    }
    const char *dash = memchr(s, '-', len);
    if (!dash) {
        if (!parse_u64(s, len, &out->ms)) return -1;
        out->seq = missing_seq_max ? UINT64_MAX : 0;
        return 0;
    }
    if (!parse_u64(s, (size_t)(dash - s), &out->ms)) return -1;
    if (!parse_u64(dash + 1, len - (size_t)(dash - s) - 1, &out->seq)) return -1;
    if (seq_given) *seq_given = true;
    return 0;
}

int history_id_format(history_id id, char *dst) {
    return snprintf(dst, 42, "%llu-%llu", (unsigned long long)id.ms, (unsigned long long)id.seq);
}

int history_id_incr(history_id *id) {
    if (id->seq < UINT64_MAX) {
        id->seq++;
    } else if (id->ms < UINT64_MAX) {
        id->ms++;
        id->seq = 0;
    } else {
        return -1;
    }
    return 0;
}

int history_id_decr(history_id *id) {
    if (id->seq > 0) {
        id->seq--;
    } else if (id->ms > 0) {
        id->ms--;
        id->seq = UINT64_MAX;
    } else {
        return -1;
    }
    return 0;
}

history_id history_next_id(const history *h, long long now_ms) {
    history_id id = h->last_id;
    if (now_ms > 0 && (uint64_t)now_ms > id.ms) {
        id.ms = (uint64_t)now_ms;
        id.seq = 0;
    } else if (history_id_incr(&id) == -1) {
        id = h->last_id;   /* UINT64_MAX-UINT64_MAX: cannot happen with a real clock */
    }
    return id;
}

/* ------------------------------------------------------------------------
 * The eviction heap
 * ------------------------------------------------------------------------ */

static uint64_t head_order(const history *h) {
    return history_at(h, 0)->order;
}

static void heap_set(size_t i, history *h) {
    H.heap[i] = h;
    h->heap_idx = i;
}

static void heap_up(size_t i) {
    history *h = H.heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (head_order(H.heap[parent]) <= head_order(h)) break;
        heap_set(i, H.heap[parent]);
        i = parent;
    }
    heap_set(i, h);
}

static void heap_down(size_t i) {
    history *h = H.heap[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        uint64_t best = head_order(h);
        if (l < H.heap_len && head_order(H.heap[l]) < best) m = l, best = head_order(H.heap[l]);
        if (r < H.heap_len && head_order(H.heap[r]) < best) m = r;
        if (m == i) break;
        heap_set(i, H.heap[m]);
        i = m;
    }
    heap_set(i, h);
}

static void heap_remove(history *h) {
    size_t i = h->heap_idx;
    h->heap_idx = SIZE_MAX;
    history *last = H.heap[--H.heap_len];
    if (i == H.heap_len) return;
    heap_set(i, last);
    heap_up(i);
    heap_down(last->heap_idx);
}

/* After h's first entry changed (or h became empty / non-empty). */
static void head_changed(history *h) {
    if (h->count == 0) {
        if (h->heap_idx != SIZE_MAX) heap_remove(h);
        return;
    }
    if (h->heap_idx == SIZE_MAX) {
        if (H.heap_len == H.heap_cap) {
            H.heap_cap = H.heap_cap ? H.heap_cap * 2 : 16;
            H.heap = mem_realloc(H.heap, H.heap_cap * sizeof(*H.heap));
        }
        heap_set(H.heap_len++, h);
        heap_up(h->heap_idx);
    } else {
        /* Only removals from the front change the key, and they raise it. */
        heap_down(h->heap_idx);
    }
}

/* ------------------------------------------------------------------------
 * Entries
 * ------------------------------------------------------------------------ */

static size_t entry_bytes(const history_entry *e) {
    return sizeof(*e) + sizeof(frame) + e->f->len;
}

static void entry_release(history *h, history_entry *e) {
    size_t b = entry_bytes(e);
    h->bytes -= b;
    H.bytes -= (long long)b;
    H.entries--;
    if (h->log) history_log_released(h, e);
    frame_release(e->f);
}

/* Removes n entries from the front; does not fix the heap. */
static void drop_front(history *h, size_t n) {
    for (size_t i = 0; i < n; i++) entry_release(h, history_at(h, i));
    h->start += n;
    h->count -= n;
    if (h->count == 0) h->start = 0;
}

static void trim_age(history *h, long long now) {
    if (h->max_seconds <= 0 || h->count == 0) return;
    long long horizon = now - h->max_seconds * 1000;
    size_t n = 0;
    while (n < h->count && history_at(h, n)->added_ms <= horizon) n++;
    if (n) {
        drop_front(h, n);
        head_changed(h);
    }
}

static void trim_count(history *h) {
    if (h->count > (size_t)h->max_messages) {
        drop_front(h, h->count - (size_t)h->max_messages);
        head_changed(h);
    }
}

static void evict_for_memory(void) {
    if (H.max_memory <= 0) return;
    long long n = 0;
    while (H.bytes > H.max_memory && H.heap_len > 0) {
        history *h = H.heap[0];
        history_id id = history_at(h, 0)->id;
        drop_front(h, 1);
        head_changed(h);
        if (h->log) history_log_evicted(h, id);
        n++;
    }
    if (n == 0) return;
    H.evictions += n;
    H.evicted_since_log += n;
    long long now = mono_ms();
    if (now - H.last_evict_log_ms >= 1000) {
        log_notice("channel-history-max-memory (%lld bytes) reached: evicted the %lld oldest history entries",
                   H.max_memory, H.evicted_since_log);
        H.last_evict_log_ms = now;
        H.evicted_since_log = 0;
    }
}

static history_entry *append_entry(history *h, frame *f, size_t off, size_t payload_len, history_id id,
                                   long long added_ms) {
    if (h->start + h->count == h->cap) {
        if (h->start > 0 && h->start >= h->cap / 2) {
            memmove(h->e, h->e + h->start, h->count * sizeof(*h->e));
            h->start = 0;
        } else {
            h->cap = h->cap ? h->cap * 2 : 8;
            h->e = mem_realloc(h->e, h->cap * sizeof(*h->e));
        }
    }
    history_entry *e = &h->e[h->start + h->count];
    e->id = id;
    frame_retain(f);
    e->f = f;
    e->off = (uint32_t)off;
    e->payload_len = (uint32_t)payload_len;
    e->added_ms = added_ms;
    e->order = H.next_order++;
    h->count++;
    if (history_id_cmp(id, h->last_id) > 0) h->last_id = id;
    h->entries_added++;
    size_t b = entry_bytes(e);
    h->bytes += b;
    H.bytes += (long long)b;
    H.entries++;
    if (h->count == 1) head_changed(h);
    return e;
}

/* Trimming after an append: by count, age (at now, monotonic) and memory. */
static void trim_after_append(history *h, long long now) {
    trim_count(h);
    trim_age(h, now);
    evict_for_memory();
}

history_id history_append(history *h, frame *f, size_t off, size_t payload_len) {
    long long now = mono_ms();
    history_entry *e = append_entry(h, f, off, payload_len, history_next_id(h, util_time_ms()), now);
    history_id id = e->id;
    if (history_log_enabled) history_log_appended(h, e);
    trim_after_append(h, now);
    return id;
}

void history_append_loaded(history *h, frame *f, size_t off, size_t payload_len, history_id id) {
    /* The entry's age is known only from its id (wall-clock ms). */
    long long now = mono_ms(), wall = util_time_ms();
    long long age = wall > 0 && (uint64_t)wall > id.ms ? wall - (long long)id.ms : 0;
    append_entry(h, f, off, payload_len, id, now - age);
    /* Not the memory cap: files replay one after the other, and their
     * recorded evictions (TRIM records) trail by a record; history_loaded()
     * applies the cap once everything is in. */
    trim_count(h);
    trim_age(h, now);
}

void history_loaded(void) {
    evict_for_memory();
}

static size_t bound(const history *h, history_id id, bool upper) {
    size_t lo = 0, hi = h->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = history_id_cmp(history_at(h, mid)->id, id);
        if (c < 0 || (upper && c == 0)) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

size_t history_lower_bound(const history *h, history_id id) {
    return bound(h, id, false);
}

size_t history_upper_bound(const history *h, history_id id) {
    return bound(h, id, true);
}

int history_delete(history *h, history_id id) {
    size_t i = history_lower_bound(h, id);
    if (i == h->count || history_id_cmp(history_at(h, i)->id, id) != 0) return 0;
    entry_release(h, history_at(h, i));
    history_entry *base = history_at(h, 0);
    memmove(base + i, base + i + 1, (h->count - i - 1) * sizeof(*base));
    h->count--;
    if (h->count == 0) h->start = 0;
    if (history_id_cmp(id, h->max_deleted_id) > 0) h->max_deleted_id = id;
    if (i == 0) head_changed(h);
    if (h->log) history_log_deleted(h, id);
    return 1;
}

/* The modeled node of entry i: its ordinal among all entries ever added,
 * by HISTORY_NODE_ENTRIES. Ordinals are known for the newest entry
 * (entries_added - 1); XDEL makes the model approximate, which is all
 * "~" promises. */
static uint64_t node_of(const history *h, size_t i) {
    uint64_t ordinal = h->entries_added - (uint64_t)(h->count - i);
    return ordinal / HISTORY_NODE_ENTRIES;
}

/* Removes up to want entries from the front under the ~ / LIMIT rules. */
static size_t trim_front(history *h, size_t want, bool approx, long long limit) {
    if (want > h->count) want = h->count;
    if (approx) {
        /* No LIMIT: Redis's default of 100 nodes' worth; LIMIT 0: none. */
        if (limit < 0) limit = (long long)HISTORY_NODE_ENTRIES * 100;
        /* Only whole nodes: stop before the node that would be cut. */
        size_t n = 0;
        while (n < want) {
            uint64_t node = node_of(h, n);
            size_t end = n;
            while (end < h->count && node_of(h, end) == node) end++;
            if (end > want || (limit > 0 && (long long)end > limit)) break;
            n = end;
        }
        want = n;
    }
    if (want == 0) return 0;
    history_id last = history_at(h, want - 1)->id;
    drop_front(h, want);
    head_changed(h);
    if (h->log) history_log_trimmed(h, last);
    return want;
}

size_t history_trim_maxlen(history *h, uint64_t maxlen, bool approx, long long limit) {
    if ((uint64_t)h->count <= maxlen) return 0;
    return trim_front(h, h->count - (size_t)maxlen, approx, limit);
}

size_t history_trim_minid(history *h, history_id minid, bool approx, long long limit) {
    return trim_front(h, history_lower_bound(h, minid), approx, limit);
}

long long history_radix_keys(const history *h) {
    if (h->count == 0) return 0;
    return (long long)(node_of(h, h->count - 1) - node_of(h, 0) + 1);
}

long long history_radix_nodes(const history *h) {
    /* A rax with k keys sharing a prefix: about one node per key plus the
     * root, which is what Redis shows for small streams (1 key, 2 nodes;
     * empty: 0 keys, 1 node). */
    return history_radix_keys(h) + 1;
}

/* ------------------------------------------------------------------------
 * Histories and rules
 * ------------------------------------------------------------------------ */

static void history_destroy(void *p) {
    history *h = p;
    drop_front(h, h->count);
    head_changed(h);
    if (h->log) history_log_destroyed(h, !H.freeing_all);
    mem_free(h->e);
    mem_free(h->name);
    mem_free(h);
}

static const rule *rule_for(const char *ch, size_t len) {
    for (size_t i = 0; i < history_rule_count; i++)
        if (glob_match(H.rules[i].glob, H.rules[i].glob_len, ch, len)) return &H.rules[i];
    return NULL;
}

history *history_find(const char *ch, size_t len) {
    if (!H.histories) return NULL;
    history *h = dict_fetch(H.histories, ch, len);
    if (h) trim_age(h, mono_ms());
    return h;
}

history *history_for_publish(const char *ch, size_t len) {
    if (history_rule_count == 0) return NULL;
    if (len > 0 && !(H.first_bytes[(uint8_t)ch[0] >> 3] & (1u << ((uint8_t)ch[0] & 7)))) return NULL;
    /* Misses next: a channel without history costs one lookup. */
    if (dict_find(H.misses, ch, len)) return NULL;
    history *h = dict_fetch(H.histories, ch, len);
    if (h) return h;
    const rule *r = rule_for(ch, len);
    if (!r) {
        if (dict_size(H.misses) >= MISS_CACHE_MAX) {
            dict_free(H.misses);
            H.misses = dict_new(&misses_type);
        }
        dict_add(H.misses, ch, len, NULL);
        return NULL;
    }
    h = mem_calloc(sizeof(*h));
    h->name = mem_strndup(ch, len);
    h->name_len = len;
    h->max_messages = r->max_messages;
    h->max_seconds = r->max_seconds;
    h->heap_idx = SIZE_MAX;
    dict_add(H.histories, h->name, len, h);
    return h;
}

static void rules_free(void) {
    for (size_t i = 0; i < history_rule_count; i++) mem_free(H.rules[i].glob);
    mem_free(H.rules);
    H.rules = NULL;
    history_rule_count = 0;
}

int history_rules_parse(int argc, char **argv, buf *canon, char *err, size_t errlen) {
    int i = 0;
    while (i < argc) {
        long long n, s = 0;
        if (i + 1 >= argc) {
            snprintf(err, errlen, "channel-history needs <glob> <max-messages> [<max-seconds>]");
            return -1;
        }
        const char *glob = argv[i];
        if (!util_parse_ll(argv[i + 1], strlen(argv[i + 1]), &n) || n < 1) {
            snprintf(err, errlen, "channel-history max-messages must be an integer >= 1");
            return -1;
        }
        i += 2;
        if (i < argc && util_parse_ll(argv[i], strlen(argv[i]), &s)) {
            if (s < 0) {
                snprintf(err, errlen, "channel-history max-seconds must be an integer >= 0");
                return -1;
            }
            i++;
        }
        if (canon) {
            if (canon->len) buf_append_char(canon, ' ');
            bool plain = glob[0] != '\0';
            for (const char *p = glob; *p && plain; p++)
                plain = (unsigned char)*p > ' ' && *p != '"' && *p != '\'' && *p != '\\' && (unsigned char)*p < 127;
            if (plain) buf_append_str(canon, glob);
            else config_append_quoted(canon, glob, strlen(glob));
            buf_printf(canon, " %lld %lld", n, s);
        }
    }
    return 0;
}

static void forget_unmatched(void *ctx, history *h) {
    history ***drop = ctx;
    const rule *r = rule_for(h->name, h->name_len);
    if (!r) {
        **drop = h;
        (*drop)++;
        return;
    }
    h->max_messages = r->max_messages;
    h->max_seconds = r->max_seconds;
}

int history_configure(const char *canon, char *err, size_t errlen) {
    config_line l = {0};
    if (config_split_line(canon, strlen(canon), &l) == -1) {
        snprintf(err, errlen, "channel-history: unbalanced quotes");
        return -1;
    }
    if (history_rules_parse(l.argc, l.argv, NULL, err, errlen) == -1) {
        config_line_free(&l);
        return -1;
    }
    rules_free();
    for (int i = 0; i < l.argc;) {
        H.rules = mem_realloc(H.rules, (history_rule_count + 1) * sizeof(rule));
        rule *r = &H.rules[history_rule_count++];
        r->glob = mem_strdup(l.argv[i]);
        r->glob_len = strlen(l.argv[i]);
        util_parse_ll(l.argv[i + 1], strlen(l.argv[i + 1]), &r->max_messages);
        r->max_seconds = 0;
        i += 2;
        if (i < l.argc && util_parse_ll(l.argv[i], strlen(l.argv[i]), &r->max_seconds)) i++;
    }
    config_line_free(&l);
    memset(H.first_bytes, 0, sizeof(H.first_bytes));
    for (size_t i = 0; i < history_rule_count; i++) {
        uint8_t b = (uint8_t)H.rules[i].glob[0];
        if (H.rules[i].glob_len == 0) continue;   /* matches only "" (len 0 is never filtered) */
        if (b == '*' || b == '?' || b == '[' || b == '\\') memset(H.first_bytes, 0xff, sizeof(H.first_bytes));
        else H.first_bytes[b >> 3] |= (uint8_t)(1u << (b & 7));
    }
    if (!H.histories) H.histories = dict_new(&histories_type);
    if (H.misses) dict_free(H.misses);
    H.misses = dict_new(&misses_type);
    size_t n = dict_size(H.histories);
    if (n) {
        history **drop = mem_alloc(n * sizeof(*drop)), **end = drop;
        history_foreach(forget_unmatched, &end);
        for (history **p = drop; p < end; p++) dict_del(H.histories, (*p)->name, (*p)->name_len);
        mem_free(drop);
        long long now = mono_ms();
        history_foreach(cron_one, &now);
        evict_for_memory();
    }
    return 0;
}

void history_set_max_memory(long long bytes) {
    H.max_memory = bytes;
    evict_for_memory();
}

void history_free_all(void) {
    H.freeing_all = true;
    dict_free(H.histories);
    dict_free(H.misses);
    H.histories = H.misses = NULL;
    mem_free(H.heap);
    H.heap = NULL;
    H.heap_len = H.heap_cap = 0;
    rules_free();
    H.freeing_all = false;
}

/* ------------------------------------------------------------------------
 * Cron, stats, iteration
 * ------------------------------------------------------------------------ */

void history_foreach(void (*cb)(void *ctx, history *h), void *ctx) {
    if (!H.histories || !cb) return;
    size_t n = dict_size(H.histories), i = 0;
    if (n == 0) return;
    /* Collect first: a callback may change a history's entries (not the
     * dict itself). */
    history **all = mem_alloc(n * sizeof(*all));
    dict_iter it;
    dict_iter_init(&it, H.histories);
    dict_entry *de;
    while ((de = dict_iter_next(&it)) && i < n) all[i++] = dict_entry_val(de);
    dict_iter_done(&it);
    for (size_t k = 0; k < i; k++) cb(ctx, all[k]);
    mem_free(all);
}

static void cron_one(void *ctx, history *h) {
    const long long *now = ctx;
    trim_count(h);
    trim_age(h, *now);
}

void history_cron(void) {
    if (!H.histories || dict_size(H.histories) == 0) return;
    long long now = mono_ms();
    history_foreach(cron_one, &now);
    evict_for_memory();
}

void history_get_stats(history_stats *st) {
    st->channels = H.histories ? (long long)dict_size(H.histories) : 0;
    st->entries = H.entries;
    st->bytes = H.bytes;
    st->evictions = H.evictions;
    st->max_memory = H.max_memory;
}
