/* cmd_history.c -- The Redis Streams commands over channel histories:
 * XRANGE, XREVRANGE, XREAD [BLOCK], XLEN, XINFO, XADD, XTRIM, XDEL.
 *
 * Contract:
 *   - Replies and errors are Redis 7.0's, byte for byte, for the same
 *     entries (each entry: [id, ["message", payload]]). A channel without
 *     history answers as Redis does for a missing key.
 *   - XADD accepts only `XADD <channel> * message <payload>`: it is a
 *     PUBLISH (subscribers get the message) that answers the new id; on a
 *     channel no channel-history rule covers it is an error, nothing sent.
 *   - XREAD BLOCK: the client is blocked (client_block) with its keys and
 *     ids copied; the next publish to one of its keys that goes past its id
 *     serves it, in the order readers blocked, right after the
 *     publish's subscribers got the message (so both see the same order).
 *     A timeout replies the null array; CLIENT UNBLOCK replies the null
 *     array (TIMEOUT) or -UNBLOCKED (ERROR); a disconnect just forgets it.
 *     Inside EXEC, BLOCK does not block (as Redis).
 *   - One timer serves all timeouts: it is armed for the nearest deadline
 *     and re-armed after each expiry scan.
 *   - Relay mode: every command goes to the upstream (upstream_forward),
 *     its reply comes back unchanged; XREAD BLOCK waits there, on a
 *     connection of its own, and CLIENT UNBLOCK reaches it
 *     (upstream_unblock).
 * Socket I/O only through client.h. */
#include "cmd_handlers.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "dict.h"
#include "ev.h"
#include "history.h"
#include "mem.h"
#include "resp.h"
#include "upstream.h"

static const char *const ERR_INVALID_ID = "ERR Invalid stream ID specified as stream command argument";

/* ------------------------------------------------------------------------
 * Reply helpers
 * ------------------------------------------------------------------------ */

static void add_id(buf *b, history_id id) {
    char s[48];
    int n = history_id_format(id, s);
    resp_add_bulk(b, s, (size_t)n);
}

static void add_entry(buf *b, const history_entry *e) {
    buf_append(b, "*2\r\n", 4);
    add_id(b, e->id);
    buf_append(b, "*2\r\n$7\r\nmessage\r\n", 17);
    size_t len;
    const char *bulk = history_entry_bulk(e, &len);
    buf_append(b, bulk, len);
}

/* Entries [from, to) of h, forwards or backwards, as one array. */
static void add_entries(buf *b, const history *h, size_t from, size_t to, bool rev) {
    resp_add_array_len(b, (long long)(to - from));
    if (!rev)
        for (size_t i = from; i < to; i++) add_entry(b, history_at(h, i));
    else
        for (size_t i = to; i > from; i--) add_entry(b, history_at(h, i - 1));
}

/* On a relay the history is the upstream's: the command goes there
 * (routed by its key, argv[key_at]), its reply comes back unchanged. */
static bool relay_forwards(client *c, int argc, slice *argv, int key_at) {
    if (!upstream_is_relay()) return false;
    bool xread = util_eq_nocase(argv[0].ptr, argv[0].len, "xread");
    upstream_forward(c, argc, argv, key_at > 0 && key_at < argc ? &argv[key_at] : NULL, xread, false);
    return true;
}

/* An id argument: "-"/"+" allowed when minmax, "(" exclusive when excl. */
static int parse_range_id(const slice *a, bool missing_max, bool excl_ok, history_id *id, bool *excl) {
    *excl = false;
    const char *s = a->ptr;
    size_t len = a->len;
    if (excl_ok && len > 1 && s[0] == '(') {
        *excl = true;
        s++, len--;
        return history_id_parse(s, len, missing_max, false, id, NULL);
    }
    return history_id_parse(s, len, missing_max, true, id, NULL);
}

/* ------------------------------------------------------------------------
 * XRANGE / XREVRANGE / XLEN
 * ------------------------------------------------------------------------ */

static void range_generic(client *c, int argc, slice *argv, bool rev) {
    if (relay_forwards(c, argc, argv, 1)) return;
    const slice *sa = &argv[rev ? 3 : 2], *ea = &argv[rev ? 2 : 3];
    history_id start, end;
    bool sx, ex;
    if (parse_range_id(sa, false, true, &start, &sx) == -1 || parse_range_id(ea, true, true, &end, &ex) == -1) {
        client_add_error(c, ERR_INVALID_ID);
        return;
    }
    if (sx && history_id_incr(&start) == -1) {
        client_add_error(c, "ERR invalid start ID for the interval");
        return;
    }
    if (ex && history_id_decr(&end) == -1) {
        client_add_error(c, "ERR invalid end ID for the interval");
        return;
    }
    long long count = -1;
    for (int i = 4; i < argc; i++) {
        if (util_eq_nocase(argv[i].ptr, argv[i].len, "count") && i + 1 < argc) {
            if (!util_parse_ll(argv[i + 1].ptr, argv[i + 1].len, &count)) {
                client_add_error(c, ERR_NOT_INTEGER);
                return;
            }
            if (count < 0) count = 0;
            i++;
        } else {
            client_add_error(c, ERR_SYNTAX);
            return;
        }
    }
    buf *b = client_reply_buf(c);
    if (count == 0) {
        resp_add_null_array(b, c->resp);
        return;
    }
    history *h = history_find(argv[1].ptr, argv[1].len);
    if (!h || history_id_cmp(start, end) > 0) {
        resp_add_array_len(b, 0);
        return;
    }
    size_t from = history_lower_bound(h, start), to = history_upper_bound(h, end);
    if (to < from) to = from;
    if (count > 0 && (size_t)count < to - from) {
        if (rev) from = to - (size_t)count;
        else to = from + (size_t)count;
    }
    add_entries(b, h, from, to, rev);
}

void cmd_xrange(client *c, int argc, slice *argv) { range_generic(c, argc, argv, false); }
void cmd_xrevrange(client *c, int argc, slice *argv) { range_generic(c, argc, argv, true); }

void cmd_xlen(client *c, int argc, slice *argv) {
    (void)argc;
    if (relay_forwards(c, argc, argv, 1)) return;
    history *h = history_find(argv[1].ptr, argv[1].len);
    resp_add_int(client_reply_buf(c), h ? (long long)h->count : 0);
}

/* ------------------------------------------------------------------------
 * XADD: a PUBLISH that answers the id
 * ------------------------------------------------------------------------ */

void cmd_xadd(client *c, int argc, slice *argv) {
    if (relay_forwards(c, argc, argv, 1)) return;
    if (argc != 5 || argv[2].len != 1 || argv[2].ptr[0] != '*' || argv[3].len != 7 ||
        memcmp(argv[3].ptr, "message", 7) != 0) {
        client_add_error(c, "ERR only XADD <channel> * message <payload> is supported here (a PUBLISH to a "
                            "channel with history)");
        return;
    }
    if (!history_for_publish(argv[1].ptr, argv[1].len)) {
        client_add_error(c, "ERR XADD needs a channel with history: no channel-history rule matches this channel");
        return;
    }
    history_id id;
    cmd_pubsub_publish_local(c, &argv[1], &argv[4], &id);
    add_id(client_reply_buf(c), id);
    if (c->deferred_count && commands_nesting() < 2) client_flush_pushes(c);
}

/* ------------------------------------------------------------------------
 * XTRIM / XDEL
 * ------------------------------------------------------------------------ */

void cmd_xtrim(client *c, int argc, slice *argv) {
    if (relay_forwards(c, argc, argv, 1)) return;
    int strategy = 0;   /* 1 MAXLEN, 2 MINID */
    bool approx = false, limit_given = false;
    long long maxlen = 0, limit = -1;
    history_id minid = {0, 0};
    for (int i = 2; i < argc; i++) {
        int more = argc - i - 1;
        const slice *a = &argv[i];
        bool is_maxlen = util_eq_nocase(a->ptr, a->len, "maxlen");
        if ((is_maxlen || util_eq_nocase(a->ptr, a->len, "minid")) && more >= 1) {
            if (strategy && strategy != (is_maxlen ? 1 : 2)) {
                client_add_error(c, "ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
                return;
            }
            strategy = is_maxlen ? 1 : 2;
            const slice *next = &argv[i + 1];
            if (more >= 2 && next->len == 1 && (next->ptr[0] == '~' || next->ptr[0] == '=')) {
                approx = next->ptr[0] == '~';
                i++;
            }
            i++;
            if (is_maxlen) {
                if (!util_parse_ll(argv[i].ptr, argv[i].len, &maxlen)) {
                    client_add_error(c, ERR_NOT_INTEGER);
                    return;
                }
                if (maxlen < 0) {
                    client_add_error(c, "ERR The MAXLEN argument must be >= 0.");
                    return;
                }
            } else if (history_id_parse(argv[i].ptr, argv[i].len, false, false, &minid, NULL) == -1) {
                client_add_error(c, ERR_INVALID_ID);
                return;
            }
        } else if (util_eq_nocase(a->ptr, a->len, "limit") && more >= 1) {
            if (!util_parse_ll(argv[i + 1].ptr, argv[i + 1].len, &limit)) {
                client_add_error(c, ERR_NOT_INTEGER);
                return;
            }
            if (limit < 0) {
                client_add_error(c, "ERR The LIMIT argument must be >= 0.");
                return;
            }
            limit_given = true;
            i++;
        } else {
            client_add_error(c, ERR_SYNTAX);
            return;
        }
    }
    if (limit_given && !approx) {
        client_add_error(c, "ERR syntax error, LIMIT cannot be used without the special ~ option");
        return;
    }
    if (!strategy) {
        client_add_error(c, ERR_SYNTAX);
        return;
    }
    history *h = history_find(argv[1].ptr, argv[1].len);
    size_t n = 0;
    if (h) {
        n = strategy == 1 ? history_trim_maxlen(h, (uint64_t)maxlen, approx, limit)
                          : history_trim_minid(h, minid, approx, limit);
    }
    resp_add_int(client_reply_buf(c), (long long)n);
}

void cmd_xdel(client *c, int argc, slice *argv) {
    if (relay_forwards(c, argc, argv, 1)) return;
    history *h = history_find(argv[1].ptr, argv[1].len);
    if (!h) {
        resp_add_int(client_reply_buf(c), 0);
        return;
    }
    history_id *ids = mem_alloc(sizeof(*ids) * (size_t)(argc - 2));
    for (int i = 2; i < argc; i++) {
        if (history_id_parse(argv[i].ptr, argv[i].len, false, false, &ids[i - 2], NULL) == -1) {
            mem_free(ids);
            client_add_error(c, ERR_INVALID_ID);
            return;
        }
    }
    long long n = 0;
    for (int i = 0; i < argc - 2; i++) n += history_delete(h, ids[i]);
    mem_free(ids);
    resp_add_int(client_reply_buf(c), n);
}

/* ------------------------------------------------------------------------
 * XINFO
 * ------------------------------------------------------------------------ */

void cmd_xinfo_stream(client *c, int argc, slice *argv) {
    if (relay_forwards(c, argc, argv, 2)) return;
    bool full = false;
    long long count = 10;
    if (argc > 3) {
        bool ok = util_eq_nocase(argv[3].ptr, argv[3].len, "full");
        if (ok && argc == 6 && util_eq_nocase(argv[4].ptr, argv[4].len, "count")) {
            if (!util_parse_ll(argv[5].ptr, argv[5].len, &count)) {
                client_add_error(c, ERR_NOT_INTEGER);
                return;
            }
            if (count < 0) count = 10;
        } else if (!ok || argc != 4) {
            commands_reply_subcommand_syntax(c, &argv[0], &argv[1]);
            return;
        }
        full = true;
    }
    history *h = history_find(argv[2].ptr, argv[2].len);
    if (!h) {
        client_add_error(c, "ERR no such key");
        return;
    }
    buf *b = client_reply_buf(c);
    resp_add_map_len(b, full ? 9 : 10, c->resp);
    resp_add_bulk_str(b, "length");
    resp_add_int(b, (long long)h->count);
    resp_add_bulk_str(b, "radix-tree-keys");
    resp_add_int(b, history_radix_keys(h));
    resp_add_bulk_str(b, "radix-tree-nodes");
    resp_add_int(b, history_radix_nodes(h));
    resp_add_bulk_str(b, "last-generated-id");
    add_id(b, h->last_id);
    resp_add_bulk_str(b, "max-deleted-entry-id");
    add_id(b, h->max_deleted_id);
    resp_add_bulk_str(b, "entries-added");
    resp_add_int(b, (long long)h->entries_added);
    resp_add_bulk_str(b, "recorded-first-entry-id");
    add_id(b, h->count ? history_at(h, 0)->id : (history_id){0, 0});
    if (full) {
        resp_add_bulk_str(b, "entries");
        size_t to = count == 0 || (size_t)count > h->count ? h->count : (size_t)count;
        add_entries(b, h, 0, to, false);
        resp_add_bulk_str(b, "groups");
        resp_add_array_len(b, 0);
        return;
    }
    resp_add_bulk_str(b, "groups");
    resp_add_int(b, 0);
    resp_add_bulk_str(b, "first-entry");
    if (h->count) add_entry(b, history_at(h, 0));
    else resp_add_null(b, c->resp);
    resp_add_bulk_str(b, "last-entry");
    if (h->count) add_entry(b, history_at(h, h->count - 1));
    else resp_add_null(b, c->resp);
}

void cmd_xinfo_groups(client *c, int argc, slice *argv) {
    (void)argc;
    if (relay_forwards(c, argc, argv, 2)) return;
    if (!history_find(argv[2].ptr, argv[2].len)) client_add_error(c, "ERR no such key");
    else resp_add_array_len(client_reply_buf(c), 0);
}

void cmd_xinfo_consumers(client *c, int argc, slice *argv) {
    (void)argc;
    if (relay_forwards(c, argc, argv, 2)) return;
    if (!history_find(argv[2].ptr, argv[2].len)) {
        client_add_error(c, "ERR no such key");
        return;
    }
    /* Histories have no consumer groups. */
    buf msg = {0};
    buf_append_str(&msg, "NOGROUP No such consumer group '");
    buf_append(&msg, argv[3].ptr, argv[3].len);
    buf_append_str(&msg, "' for key name '");
    buf_append(&msg, argv[2].ptr, argv[2].len);
    buf_append_str(&msg, "'");
    buf_append_char(&msg, '\0');
    client_add_error(c, msg.data);
    buf_free(&msg);
}

void cmd_xinfo_help(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    static const char *const lines[] = {
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        NULL,
    };
    commands_reply_help(c, "XINFO", lines);
}

/* ------------------------------------------------------------------------
 * XREAD and blocked readers
 * ------------------------------------------------------------------------ */

typedef struct wait_node wait_node;

struct history_wait {
    client *c;
    int nkeys;
    slice *keys;              /* owned copies */
    history_id *after;        /* serve entries past these */
    wait_node *nodes;         /* one per key, in the per-channel lists */
    long long count;          /* 0: no limit */
    long long deadline_ms;    /* monotonic; 0: no timeout */
    bool picked;              /* chosen by the current wake-up */
    history_wait *prev, *next;/* all blocked readers */
};

struct wait_node {
    history_wait *w;
    int key;
    wait_node *prev, *next;   /* readers blocked on the same channel, oldest first */
};

typedef struct wait_list {
    wait_node *head, *tail;
} wait_list;

static void wait_list_free(void *p) {
    mem_free(p);
}

static const dict_type waits_type = {NULL, NULL, dict_key_copy, dict_key_release, wait_list_free, 0};

static struct {
    dict *by_channel;         /* channel -> wait_list */
    history_wait *head;       /* all blocked readers */
    long long blocked;
    long long timer;          /* 0: none armed */
    long long timer_at;       /* monotonic ms it fires at */
} W;

long long cmd_history_blocked(void) {
    return W.blocked;
}

static long long mono_ms(void) {
    return util_monotonic_us() / 1000;
}

/* The entries [from, to) key i has past its id, or false if none. */
static bool key_range(const slice *key, const history_id *after, long long count, history **hp, size_t *from,
                      size_t *to) {
    history *h = history_find(key->ptr, key->len);
    if (!h || h->count == 0) return false;
    *from = history_upper_bound(h, *after);
    if (*from == h->count) return false;
    *to = count > 0 && (size_t)count < h->count - *from ? *from + (size_t)count : h->count;
    *hp = h;
    return true;
}

/* Serves what each key has past its id into b; returns the keys served.
 * Two passes (count, then write) so the entries go straight into b: a
 * payload is copied once, into the reply. */
static int collect(buf *b, int proto, int nkeys, const slice *keys, const history_id *after, long long count,
                   int only) {
    int served = 0;
    history *h;
    size_t from, to;
    for (int i = 0; i < nkeys; i++)
        if ((only < 0 || i == only) && key_range(&keys[i], &after[i], count, &h, &from, &to)) served++;
    if (!served) return 0;
    if (proto >= 3) resp_add_map_len(b, served, 3);
    else resp_add_array_len(b, served);
    for (int i = 0; i < nkeys; i++) {
        if ((only >= 0 && i != only) || !key_range(&keys[i], &after[i], count, &h, &from, &to)) continue;
        if (proto < 3) resp_add_array_len(b, 2);
        resp_add_bulk(b, keys[i].ptr, keys[i].len);
        add_entries(b, h, from, to, false);
    }
    return served;
}

static void arm_timer(void);

/* Forgets w: out of every list, freed; the client is not touched. */
static void wait_free(history_wait *w) {
    for (int i = 0; i < w->nkeys; i++) {
        wait_node *n = &w->nodes[i];
        wait_list *l = dict_fetch(W.by_channel, w->keys[i].ptr, w->keys[i].len);
        if (!l) continue;
        if (n->prev) n->prev->next = n->next;
        else l->head = n->next;
        if (n->next) n->next->prev = n->prev;
        else l->tail = n->prev;
        if (!l->head) dict_del(W.by_channel, w->keys[i].ptr, w->keys[i].len);
    }
    if (w->prev) w->prev->next = w->next;
    else W.head = w->next;
    if (w->next) w->next->prev = w->prev;
    W.blocked--;
    w->c->hwait = NULL;
    for (int i = 0; i < w->nkeys; i++) mem_free((void *)w->keys[i].ptr);
    mem_free(w->keys);
    mem_free(w->after);
    mem_free(w->nodes);
    mem_free(w);
}

/* Ends the block of w's client after its reply was queued. */
static void wait_done(history_wait *w) {
    client *c = w->c;
    wait_free(w);
    client_unblock(c);
}

static void block_reader(client *c, int nkeys, const slice *keys, const history_id *after, long long count,
                         long long timeout_ms) {
    if (!W.by_channel) W.by_channel = dict_new(&waits_type);
    history_wait *w = mem_calloc(sizeof(*w));
    w->c = c;
    w->nkeys = nkeys;
    w->keys = mem_alloc(sizeof(slice) * (size_t)nkeys);
    w->after = mem_alloc(sizeof(history_id) * (size_t)nkeys);
    w->nodes = mem_calloc(sizeof(wait_node) * (size_t)nkeys);
    w->count = count;
    w->deadline_ms = timeout_ms > 0 ? mono_ms() + timeout_ms : 0;
    for (int i = 0; i < nkeys; i++) {
        w->keys[i].ptr = mem_strndup(keys[i].ptr, keys[i].len);
        w->keys[i].len = keys[i].len;
        w->after[i] = after[i];
        wait_node *n = &w->nodes[i];
        n->w = w;
        n->key = i;
        wait_list *l = dict_fetch(W.by_channel, keys[i].ptr, keys[i].len);
        if (!l) {
            l = mem_calloc(sizeof(*l));
            dict_add(W.by_channel, keys[i].ptr, keys[i].len, l);
        }
        n->prev = l->tail;
        if (l->tail) l->tail->next = n;
        else l->head = n;
        l->tail = n;
    }
    w->next = W.head;
    if (W.head) W.head->prev = w;
    W.head = w;
    W.blocked++;
    c->hwait = w;
    client_block(c);
    if (w->deadline_ms && (!W.timer || w->deadline_ms < W.timer_at)) arm_timer();
}

void cmd_history_wake(const history *h) {
    if (!W.blocked) return;
    wait_list *l = dict_fetch(W.by_channel, h->name, h->name_len);
    if (!l) return;
    size_t n = 0, cap = 8;
    wait_node **picked = mem_alloc(cap * sizeof(*picked));
    for (wait_node *x = l->head; x; x = x->next) {
        if (x->w->picked || history_id_cmp(h->last_id, x->w->after[x->key]) <= 0) continue;
        x->w->picked = true;
        if (n == cap) picked = mem_realloc(picked, (cap *= 2) * sizeof(*picked));
        picked[n++] = x;
    }
    for (size_t i = 0; i < n; i++) {
        history_wait *w = picked[i]->w;
        collect(client_reply_buf(w->c), w->c->resp, w->nkeys, w->keys, w->after, w->count, picked[i]->key);
        wait_done(w);
    }
    mem_free(picked);
}

static long long on_timer(ev_loop *loop, long long id, void *data) {
    (void)loop, (void)id, (void)data;
    W.timer = 0;
    long long now = mono_ms();
    for (history_wait *w = W.head, *next; w; w = next) {
        next = w->next;
        if (w->deadline_ms && w->deadline_ms <= now) {
            resp_add_null_array(client_reply_buf(w->c), w->c->resp);
            wait_done(w);
        }
    }
    arm_timer();
    return -1;
}

/* Arms the one timer for the nearest deadline (none if nobody waits). */
static void arm_timer(void) {
    long long next = 0;
    for (history_wait *w = W.head; w; w = w->next)
        if (w->deadline_ms && (!next || w->deadline_ms < next)) next = w->deadline_ms;
    if (W.timer) ev_del_timer(cmd_env.loop, W.timer);
    W.timer = 0;
    if (!next) return;
    long long delay = next - mono_ms();
    if (delay < 0) delay = 0;
    W.timer = ev_add_timer(cmd_env.loop, delay, on_timer, NULL);
    W.timer_at = next;
}

bool cmd_history_unblock(client *c, bool error) {
    history_wait *w = c->hwait;
    if (!w) return false;
    if (error) client_add_error(c, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
    else resp_add_null_array(client_reply_buf(c), c->resp);
    bool timed = w->deadline_ms != 0;
    wait_done(w);
    if (timed) arm_timer();
    return true;
}

void cmd_history_client_gone(client *c) {
    history_wait *w = c->hwait;
    if (!w) return;
    bool timed = w->deadline_ms != 0;
    wait_free(w);
    if (timed) arm_timer();
}

/* XREAD on a relay: forwarded, routed by its first key; with BLOCK on an
 * upstream connection of its own (see upstream_forward). */
static bool xread_relayed(client *c, int argc, slice *argv) {
    if (!upstream_is_relay()) return false;
    int first_key = 0;
    bool block = false;
    for (int i = 1; i < argc; i++) {
        if (util_eq_nocase(argv[i].ptr, argv[i].len, "block")) block = true;
        if (util_eq_nocase(argv[i].ptr, argv[i].len, "streams")) {
            first_key = i + 1;
            break;
        }
    }
    upstream_forward(c, argc, argv, first_key > 0 && first_key < argc ? &argv[first_key] : NULL, true,
                     block && commands_nesting() < 2);
    return true;
}

void cmd_xread(client *c, int argc, slice *argv) {
    if (xread_relayed(c, argc, argv)) return;
    long long timeout = -1, count = 0;
    int streams = 0;
    for (int i = 1; i < argc; i++) {
        int more = argc - i - 1;
        const slice *a = &argv[i];
        if (util_eq_nocase(a->ptr, a->len, "block") && more) {
            i++;
            if (!util_parse_ll(argv[i].ptr, argv[i].len, &timeout)) {
                client_add_error(c, "ERR timeout is not an integer or out of range");
                return;
            }
            if (timeout < 0) {
                client_add_error(c, "ERR timeout is negative");
                return;
            }
        } else if (util_eq_nocase(a->ptr, a->len, "count") && more) {
            i++;
            if (!util_parse_ll(argv[i].ptr, argv[i].len, &count)) {
                client_add_error(c, ERR_NOT_INTEGER);
                return;
            }
            if (count < 0) count = 0;
        } else if (util_eq_nocase(a->ptr, a->len, "streams") && more) {
            streams = i + 1;
            break;
        } else if (util_eq_nocase(a->ptr, a->len, "group") && more >= 2) {
            client_add_error(c, "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
            return;
        } else {
            client_add_error(c, ERR_SYNTAX);
            return;
        }
    }
    if (!streams) {
        client_add_error(c, ERR_SYNTAX);
        return;
    }
    if ((argc - streams) % 2) {
        client_add_error(c, "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be "
                            "specified.");
        return;
    }
    int nkeys = (argc - streams) / 2;
    const slice *keys = &argv[streams];
    history_id *after = mem_alloc(sizeof(history_id) * (size_t)nkeys);
    for (int i = 0; i < nkeys; i++) {
        const slice *a = &argv[streams + nkeys + i];
        if (a->len == 1 && a->ptr[0] == '$') {
            history *h = history_find(keys[i].ptr, keys[i].len);
            after[i] = h ? h->last_id : (history_id){0, 0};
        } else if (a->len == 1 && a->ptr[0] == '>') {
            mem_free(after);
            client_add_error(c, "ERR The > ID can be specified only when calling XREADGROUP using the GROUP "
                                "<group> <consumer> option.");
            return;
        } else if (history_id_parse(a->ptr, a->len, false, false, &after[i], NULL) == -1) {
            mem_free(after);
            client_add_error(c, ERR_INVALID_ID);
            return;
        }
    }
    buf *b = client_reply_buf(c);
    if (collect(b, c->resp, nkeys, keys, after, count, -1) == 0) {
        if (timeout >= 0 && commands_nesting() < 2) block_reader(c, nkeys, keys, after, count, timeout);
        else resp_add_null_array(b, c->resp);
    }
    mem_free(after);
}
