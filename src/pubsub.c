/* pubsub.c -- The subscription registry: who holds which channel, shard
 * channel and pattern, and the fan-out of a publish to them. Subscribers are
 * opaque owner pointers and delivery goes through a callback, so nothing here
 * knows about clients, sockets or RESP, and the C tests drive it directly.
 *
 *   pubsub                                    pubsub_sub (one per subscriber)
 *   topics[ns]: dict name -> topic            held[ns]: dict name -> slot index
 *     "news" -> channel                           "news" -> 1 ---------.
 *               slots: [owner,back] [hole] [owner,back] ...  <--------'
 *                                                |
 *                       back: the held entry ----'  (fixed up on compaction)
 *
 *   patterns, grouped by the literal bytes every match must start with
 *   (glob_literal_prefix), or end with, for "*.eu"-shaped patterns:
 *   by_prefix.groups: "news." -> { "news.*", "news.[ab]?" }
 *                     ""      -> { "?x*", "[ab]*" }
 *   by_prefix.lens:   affix lengths in use, sorted, with group counts: [0:1, 5:1]
 *   by_suffix.groups: ".eu"   -> { "*.eu", "**.eu" }       by_suffix.lens: [3:1]
 *
 * A topic (channel or pattern) keeps its subscribers in an array, in
 * subscription order. Unsubscribing leaves a hole (back == NULL) found in
 * O(1) through the index stored in the subscriber's held entry; the array is
 * compacted once holes outnumber subscribers, so removal is amortised O(1)
 * and delivery is a loop over a contiguous array with no hashing. Held
 * entries borrow the topic's name as their key, so the topic is found from
 * the key by a fixed offset.
 *
 * A publish to "news.eu" probes by_prefix.groups once per prefix length in
 * use that fits the channel ("", "news."), by_suffix.groups likewise with the
 * channel's tail (".eu"), and runs glob_match only on the patterns of the
 * groups found. Patterns without wildcards match by length alone once their
 * group (their whole text) is found. What remains unindexed is the group of
 * patterns with an empty prefix and no usable suffix ("*", "?x*", "[ab]*"):
 * those are matched on every publish.
 *
 * Invariants: a topic exists only while it has a subscriber, a group only
 * while it has a pattern, a lens entry only while a group has that length,
 * a held dict only while non-empty, and a pubsub_sub only while it holds
 * something. So an emptied registry costs what a new one does, and a client
 * that never subscribed costs one NULL pointer.
 *
 * Channels and shard channels run the same code, parametrised by the
 * namespace descriptor in `spaces`; patterns add the index on top. */
#include "pubsub.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dict.h"
#include "glob.h"
#include "mem.h"

/* ======================== Data structures ================================= */

enum { NS_PATTERN = PUBSUB_PATTERNS, NS_COUNT = 3 };

/* One subscription as its topic sees it. */
typedef struct slot {
    void *owner;                /* borrowed: the subscriber's opaque owner */
    dict_entry *back;           /* borrowed: held entry in its pubsub_sub; NULL for a hole */
} slot;

/* Subscribers of one topic, in subscription order, holes included. The
 * 32-bit counts are far above any client limit. */
typedef struct subs {
    slot *slots;                /* owned; cap slots, NULL when empty */
    uint32_t used;              /* slots in use, holes included */
    uint32_t live;              /* subscribers (slots that are not holes) */
    uint32_t cap;
} subs;

typedef struct channel {
    subs s;                     /* first member: a topic is reached as a subs * */
    char name[];                /* NUL-terminated copy; its length is the dict key's */
} channel;

typedef struct group group;

typedef struct pattern {
    subs s;                     /* first member, as in channel */
    group *group;               /* borrowed: lives in an index's groups */
    struct pattern *gprev;      /* borrowed: siblings in the group */
    struct pattern *gnext;
    size_t len;                 /* bytes in name */
    bool literal;               /* no wildcard: matches only its own text */
    bool has_tail;              /* a star, then tail_bytes one-byte tokens */
    size_t tail_start;          /* index in name of the tokens after the last star */
    size_t tail_bytes;
    bool by_suffix;             /* indexed in pubsub.by_suffix, else by_prefix */
    char name[];
} pattern;

/* Patterns sharing one literal affix (prefix or suffix). */
struct group {
    pattern *first;             /* borrowed: patterns live in topics[NS_PATTERN] */
    size_t affix_len;
    char affix[];
};

/* How many groups have an affix of this length. */
typedef struct affix_len {
    size_t len;
    size_t groups;
    /* Groups of this length by first and by last byte of their affix: a
     * publish probes the length only if both of the channel's bytes at
     * those places have a count, so a channel in another namespace costs
     * two array reads instead of a hash and a dict probe. */
    uint32_t first[256];
    uint32_t last[256];
} affix_len;

/* Patterns grouped by one kind of affix. */
typedef struct pindex {
    dict *groups;               /* owned: affix -> group (owned) */
    affix_len *lens;            /* owned; sorted by len, NULL when empty */
    size_t lens_used;
    size_t lens_cap;
} pindex;

struct pubsub {
    dict *topics[NS_COUNT];     /* owned: name -> channel or pattern (owned) */
    pindex by_prefix;           /* every pattern not in by_suffix */
    pindex by_suffix;           /* star-only patterns with a longer suffix than prefix */
    pubsub_sub *subs;           /* owned: every subscriber, linked */
    pubsub_topic_fn *topic_hook; /* told of each topic created and removed (relay mode) */
    void *topic_hook_ctx;
};

/* Kept in the extra bytes of each pattern held entry: subscription order. */
typedef struct order {
    dict_entry *prev;           /* borrowed: held entries of the same pubsub_sub */
    dict_entry *next;
} order;

struct pubsub_sub {
    void *owner;                /* borrowed: recorded on the first subscription */
    dict *held[NS_COUNT];       /* owned, NULL when empty: name -> slot index */
    dict_entry *pat_first;      /* borrowed: held[NS_PATTERN] in subscription order */
    dict_entry *pat_last;
    pubsub_sub *prev;           /* borrowed: pubsub.subs list */
    pubsub_sub *next;
};

static void topic_free(void *t) {
    subs *s = t;
    mem_free(s->slots);
    mem_free(t);
}

/* Topic names are owned by the topic; the dicts borrow them as keys. */
static const dict_type topics_type = {.val_free = topic_free};
static const dict_type groups_type = {.val_free = mem_free};
static const dict_type held_type = {.entry_extra = 0};
static const dict_type held_ordered_type = {.entry_extra = sizeof(order)};

/* The namespace descriptor: what differs between channels, shard channels
 * and patterns in the shared subscribe/unsubscribe path. */
typedef struct space {
    const dict_type *held_type; /* the subscriber's table for this namespace */
    size_t name_offset;         /* where the name sits in the topic */
    bool ordered;               /* subscribers list their holdings in order */
} space;

static const space spaces[NS_COUNT] = {
    [PUBSUB_CHANNEL] = {&held_type, offsetof(channel, name), false},
    [PUBSUB_SHARD] = {&held_type, offsetof(channel, name), false},
    [NS_PATTERN] = {&held_ordered_type, offsetof(pattern, name), true},
};

static const char *topic_name(int ns, const subs *t) {
    return (const char *)t + spaces[ns].name_offset;
}

/* The topic whose name a held entry borrows as its key. */
static subs *topic_of_entry(int ns, const dict_entry *e) {
    return (subs *)(uintptr_t)((const char *)dict_entry_key(e) - spaces[ns].name_offset);
}

/* ======================== Subscriber arrays ===============================
 * Appends go at the end; removal punches a hole. Holes at the end are popped
 * at once; holes elsewhere are squeezed out when they outnumber subscribers,
 * rewriting each moved subscriber's index in its held entry. */

static uint32_t subs_append(subs *s, void *owner, dict_entry *back) {
    if (s->used == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1;
        s->slots = mem_realloc(s->slots, sizeof(slot) * s->cap);
    }
    s->slots[s->used] = (slot){owner, back};
    s->live++;
    return s->used++;
}

static void subs_compact(subs *s) {
    uint32_t j = 0;
    for (uint32_t i = 0; i < s->used; i++) {
        if (!s->slots[i].back) continue;
        if (i != j) {
            s->slots[j] = s->slots[i];
            dict_entry_set_val(s->slots[j].back, (void *)(uintptr_t)j);
        }
        j++;
    }
    s->used = j;
    if (s->cap > 8 && s->used * 4 < s->cap) {
        s->cap = s->used * 2;
        s->slots = mem_realloc(s->slots, sizeof(slot) * s->cap);
    }
}

static void subs_remove(subs *s, uint32_t idx) {
    s->slots[idx].back = NULL;
    s->live--;
    if (s->live == 0) {
        mem_free(s->slots);
        *s = (subs){0};
        return;
    }
    while (!s->slots[s->used - 1].back) s->used--;
    if (s->used - s->live > s->live || (s->cap > 8 && s->used * 4 < s->cap)) subs_compact(s);
}

/* The delivery loop: no hashing, one pass over contiguous slots. */
static long long subs_deliver(const subs *s, pubsub_deliver_fn *deliver, void *ctx,
                              const char *pat, size_t pat_len) {
    const slot *sl = s->slots, *end = s->slots + s->used;
    for (; sl < end; sl++) {
        if (sl->back) deliver(ctx, sl->owner, pat, pat_len);
    }
    return s->live;
}

/* ======================== Pattern index ===================================
 * Every pattern sits in one group: that of its literal prefix, or, for a
 * pattern whose only wildcard is `*` and whose literal tail is longer than
 * its prefix, that of its suffix. lens lists the affix lengths in use so a
 * publish probes only those. Both affixes are conditions every match must
 * meet, so candidates found here are still checked with glob_match. */

static void edges_count(affix_len *al, const char *affix, int delta) {
    if (al->len == 0) return;
    al->first[(unsigned char)affix[0]] += (uint32_t)delta;
    al->last[(unsigned char)affix[al->len - 1]] += (uint32_t)delta;
}

static void lens_add(pindex *ix, size_t len, const char *affix) {
    size_t i = 0;
    while (i < ix->lens_used && ix->lens[i].len < len) i++;
    if (i < ix->lens_used && ix->lens[i].len == len) {
        ix->lens[i].groups++;
        edges_count(&ix->lens[i], affix, 1);
        return;
    }
    if (ix->lens_used == ix->lens_cap) {
        ix->lens_cap = ix->lens_cap ? ix->lens_cap * 2 : 8;
        ix->lens = mem_realloc(ix->lens, sizeof(affix_len) * ix->lens_cap);
    }
    memmove(ix->lens + i + 1, ix->lens + i, sizeof(affix_len) * (ix->lens_used - i));
    memset(&ix->lens[i], 0, sizeof(affix_len));
    ix->lens[i].len = len;
    ix->lens[i].groups = 1;
    edges_count(&ix->lens[i], affix, 1);
    ix->lens_used++;
}

static void lens_del(pindex *ix, size_t len, const char *affix) {
    size_t i = 0;
    while (ix->lens[i].len != len) i++;
    edges_count(&ix->lens[i], affix, -1);
    if (--ix->lens[i].groups > 0) return;
    ix->lens_used--;
    memmove(ix->lens + i, ix->lens + i + 1, sizeof(affix_len) * (ix->lens_used - i));
    if (ix->lens_used == 0) {
        mem_free(ix->lens);
        ix->lens = NULL;
        ix->lens_cap = 0;
    }
}

/* Length of the literal tail of a pattern whose only special byte is `*`
 * ("*.eu" -> 3), or 0 for any other pattern: without `?`, `[` or `\` every
 * other byte matches only itself, so each match ends with that tail. */
static size_t star_suffix_len(const char *pat, size_t len) {
    size_t tail = 0;
    bool star = false;
    for (size_t i = 0; i < len; i++) {
        char c = pat[i];
        if (c == '?' || c == '[' || c == '\\') return 0;
        if (c == '*') {
            star = true;
            tail = 0;
        } else {
            tail++;
        }
    }
    return star ? tail : 0;
}

static void index_add(pubsub *ps, pattern *p) {
    char small[128];
    char *prefix = p->len <= sizeof(small) ? small : mem_alloc(p->len);
    size_t plen = glob_literal_prefix(p->name, p->len, prefix);
    size_t slen = star_suffix_len(p->name, p->len);

    p->by_suffix = slen > plen;
    pindex *ix = p->by_suffix ? &ps->by_suffix : &ps->by_prefix;
    const char *affix = p->by_suffix ? p->name + p->len - slen : prefix;
    size_t alen = p->by_suffix ? slen : plen;
    group *g = dict_fetch(ix->groups, affix, alen);
    if (!g) {
        g = mem_alloc(sizeof(*g) + alen + 1);
        g->first = NULL;
        g->affix_len = alen;
        if (alen) memcpy(g->affix, affix, alen);
        g->affix[alen] = '\0';
        dict_add(ix->groups, g->affix, alen, g);
        lens_add(ix, alen, g->affix);
    }
    if (prefix != small) mem_free(prefix);

    p->group = g;
    p->gprev = NULL;
    p->gnext = g->first;
    if (g->first) g->first->gprev = p;
    g->first = p;
}

static void index_del(pubsub *ps, pattern *p) {
    group *g = p->group;
    if (p->gprev) p->gprev->gnext = p->gnext;
    else g->first = p->gnext;
    if (p->gnext) p->gnext->gprev = p->gprev;
    if (g->first) return;
    pindex *ix = p->by_suffix ? &ps->by_suffix : &ps->by_prefix;
    size_t alen = g->affix_len;
    lens_del(ix, alen, g->affix);
    dict_del(ix->groups, g->affix, alen);   /* frees g */
}

/* glob_match, after a check of the channel's last bytes against the tokens
 * after the pattern's last star: a 1 MiB channel against "a*a*a*a*x*b"
 * is then refused in a few steps instead of a scan per star. */
static bool pattern_match(const pattern *p, const char *ch, size_t len) {
    if (p->has_tail) {
        if (len < p->tail_bytes) return false;
        if (!glob_match(p->name + p->tail_start, p->len - p->tail_start, ch + len - p->tail_bytes, p->tail_bytes))
            return false;
    }
    return glob_match(p->name, p->len, ch, len);
}

/* Delivers to the patterns of ix matching the channel; from_end selects the
 * suffix index (probe the channel's tail rather than its head). */
static long long index_publish(const pindex *ix, bool from_end, const char *ch, size_t len,
                               pubsub_deliver_fn *deliver, void *ctx) {
    long long n = 0;
    for (size_t i = 0; i < ix->lens_used && ix->lens[i].len <= len; i++) {
        const affix_len *al = &ix->lens[i];
        size_t alen = al->len;
        const char *probe = from_end ? ch + len - alen : ch;
        if (alen && (!al->first[(unsigned char)probe[0]] || !al->last[(unsigned char)probe[alen - 1]]))
            continue;
        const group *g = dict_fetch(ix->groups, probe, alen);
        if (!g) continue;
        /* The affix matched; a literal pattern (prefix index only) also
         * needs the same length. */
        for (const pattern *p = g->first; p; p = p->gnext) {
            if (p->literal ? len != alen : !pattern_match(p, ch, len)) continue;
            n += subs_deliver(&p->s, deliver, ctx, p->name, p->len);
        }
    }
    return n;
}

/* ======================== Topics ========================================== */

static subs *topic_new(pubsub *ps, int ns, const char *name, size_t len) {
    subs *t;
    char *copy;
    if (ns == NS_PATTERN) {
        pattern *p = mem_alloc(sizeof(*p) + len + 1);
        p->len = len;
        p->literal = glob_is_literal(name, len);
        p->has_tail = glob_star_tail(name, len, &p->tail_start, &p->tail_bytes) && p->tail_bytes > 0;
        t = &p->s;
        copy = p->name;
    } else {
        channel *c = mem_alloc(sizeof(*c) + len + 1);
        t = &c->s;
        copy = c->name;
    }
    *t = (subs){0};
    if (len) memcpy(copy, name, len);
    copy[len] = '\0';
    if (ns == NS_PATTERN) index_add(ps, (pattern *)t);
    dict_add(ps->topics[ns], copy, len, t);
    if (ps->topic_hook) ps->topic_hook(ps->topic_hook_ctx, ns, copy, len, true);
    return t;
}

/* Removes a topic that has no subscribers left. */
static void topic_del(pubsub *ps, int ns, subs *t, size_t len) {
    if (ps->topic_hook) ps->topic_hook(ps->topic_hook_ctx, ns, topic_name(ns, t), len, false);
    if (ns == NS_PATTERN) index_del(ps, (pattern *)t);
    dict_del(ps->topics[ns], topic_name(ns, t), len);  /* frees t */
}

/* ======================== Subscribers ===================================== */

static pubsub_sub *sub_new(pubsub *ps, void *owner) {
    pubsub_sub *sub = mem_calloc(sizeof(*sub));
    sub->owner = owner;
    sub->next = ps->subs;
    if (ps->subs) ps->subs->prev = sub;
    ps->subs = sub;
    return sub;
}

/* Frees the held dicts that emptied, and the subscriber itself (setting *sp
 * to NULL) when it holds nothing. */
static void sub_trim(pubsub *ps, pubsub_sub **sp) {
    pubsub_sub *sub = *sp;
    bool holds = false;
    for (int ns = 0; ns < NS_COUNT; ns++) {
        if (sub->held[ns] && dict_size(sub->held[ns]) == 0) {
            dict_free(sub->held[ns]);
            sub->held[ns] = NULL;
        }
        if (sub->held[ns]) holds = true;
    }
    if (holds) return;
    if (sub->prev) sub->prev->next = sub->next;
    else ps->subs = sub->next;
    if (sub->next) sub->next->prev = sub->prev;
    mem_free(sub);
    *sp = NULL;
}

static order *order_of(dict_entry *e) {
    return dict_entry_extra(e);
}

static void order_append(pubsub_sub *sub, dict_entry *e) {
    order *o = order_of(e);
    o->prev = sub->pat_last;
    o->next = NULL;
    if (sub->pat_last) order_of(sub->pat_last)->next = e;
    else sub->pat_first = e;
    sub->pat_last = e;
}

static void order_unlink(pubsub_sub *sub, dict_entry *e) {
    order *o = order_of(e);
    if (o->prev) order_of(o->prev)->next = o->next;
    else sub->pat_first = o->next;
    if (o->next) order_of(o->next)->prev = o->prev;
    else sub->pat_last = o->prev;
}

/* The shared subscribe path for every namespace. */
static int hold(pubsub *ps, pubsub_sub **sp, void *owner, int ns, const char *name, size_t len) {
    pubsub_sub *sub = *sp;
    if (sub && sub->held[ns] && dict_find(sub->held[ns], name, len)) return 0;
    if (!sub) sub = *sp = sub_new(ps, owner);
    if (!sub->held[ns]) sub->held[ns] = dict_new(spaces[ns].held_type);

    subs *t = dict_fetch(ps->topics[ns], name, len);
    if (!t) t = topic_new(ps, ns, name, len);
    dict_entry *e = dict_add_entry(sub->held[ns], topic_name(ns, t), len, NULL);
    dict_entry_set_val(e, (void *)(uintptr_t)subs_append(t, sub->owner, e));
    if (spaces[ns].ordered) order_append(sub, e);
    return 1;
}

/* Takes held entry e out of its topic and out of sub. Returns the topic,
 * whose name stays valid until the caller runs drop_topic_if_empty(). */
static subs *detach(pubsub_sub *sub, int ns, dict_entry *e) {
    subs *t = topic_of_entry(ns, e);
    subs_remove(t, (uint32_t)(uintptr_t)dict_entry_val(e));
    if (spaces[ns].ordered) order_unlink(sub, e);
    dict_del(sub->held[ns], dict_entry_key(e), dict_entry_key_len(e));
    return t;
}

static void drop_topic_if_empty(pubsub *ps, int ns, subs *t, size_t len) {
    if (t->live == 0) topic_del(ps, ns, t, len);
}

/* The shared unsubscribe path for every namespace. */
static int unhold(pubsub *ps, pubsub_sub **sp, int ns, const char *name, size_t len) {
    pubsub_sub *sub = *sp;
    if (!sub || !sub->held[ns]) return 0;
    dict_entry *e = dict_find(sub->held[ns], name, len);
    if (!e) return 0;
    subs *t = detach(sub, ns, e);
    drop_topic_if_empty(ps, ns, t, len);
    sub_trim(ps, sp);
    return 1;
}

static void drop_and_notify(pubsub *ps, pubsub_sub *sub, int ns, dict_entry *e,
                            pubsub_name_fn *cb, void *ctx) {
    size_t len = dict_entry_key_len(e);
    subs *t = detach(sub, ns, e);
    if (cb) cb(ctx, topic_name(ns, t), len);
    drop_topic_if_empty(ps, ns, t, len);
}

static void unhold_all(pubsub *ps, pubsub_sub **sp, int ns, pubsub_name_fn *cb, void *ctx) {
    pubsub_sub *sub = *sp;
    if (!sub || !sub->held[ns]) return;
    if (spaces[ns].ordered) {
        dict_entry *e = sub->pat_first;
        while (e) {
            dict_entry *next = order_of(e)->next;
            drop_and_notify(ps, sub, ns, e, cb, ctx);
            e = next;
        }
    } else {
        dict_iter it;
        dict_entry *e;
        dict_iter_init(&it, sub->held[ns]);
        while ((e = dict_iter_next(&it))) drop_and_notify(ps, sub, ns, e, cb, ctx);
        dict_iter_done(&it);
    }
    /* Only now: cb may have read the counts through *sp. */
    sub_trim(ps, sp);
}

/* ======================== API ============================================= */

pubsub *pubsub_new(void) {
    pubsub *ps = mem_calloc(sizeof(*ps));
    for (int ns = 0; ns < NS_COUNT; ns++) ps->topics[ns] = dict_new(&topics_type);
    ps->by_prefix.groups = dict_new(&groups_type);
    ps->by_suffix.groups = dict_new(&groups_type);
    return ps;
}

void pubsub_free(pubsub *ps) {
    if (!ps) return;
    /* Held dicts borrow topic names, so they go first. */
    while (ps->subs) {
        pubsub_sub *sub = ps->subs;
        ps->subs = sub->next;
        for (int ns = 0; ns < NS_COUNT; ns++) dict_free(sub->held[ns]);
        mem_free(sub);
    }
    for (int ns = 0; ns < NS_COUNT; ns++) dict_free(ps->topics[ns]);
    dict_free(ps->by_prefix.groups);
    dict_free(ps->by_suffix.groups);
    mem_free(ps->by_prefix.lens);
    mem_free(ps->by_suffix.lens);
    mem_free(ps);
}

int pubsub_subscribe(pubsub *ps, pubsub_sub **sp, void *owner, pubsub_kind kind,
                     const char *ch, size_t len) {
    return hold(ps, sp, owner, (int)kind, ch, len);
}

int pubsub_unsubscribe(pubsub *ps, pubsub_sub **sp, pubsub_kind kind, const char *ch, size_t len) {
    return unhold(ps, sp, (int)kind, ch, len);
}

int pubsub_psubscribe(pubsub *ps, pubsub_sub **sp, void *owner, const char *pat, size_t len) {
    return hold(ps, sp, owner, NS_PATTERN, pat, len);
}

int pubsub_punsubscribe(pubsub *ps, pubsub_sub **sp, const char *pat, size_t len) {
    return unhold(ps, sp, NS_PATTERN, pat, len);
}

void pubsub_unsubscribe_all(pubsub *ps, pubsub_sub **sp, pubsub_kind kind, pubsub_name_fn *cb,
                            void *ctx) {
    unhold_all(ps, sp, (int)kind, cb, ctx);
}

void pubsub_punsubscribe_all(pubsub *ps, pubsub_sub **sp, pubsub_name_fn *cb, void *ctx) {
    unhold_all(ps, sp, NS_PATTERN, cb, ctx);
}

void pubsub_sub_release(pubsub *ps, pubsub_sub **sp) {
    /* The first calls may free the subscriber; later ones then see NULL. */
    for (int ns = 0; ns < NS_COUNT; ns++) unhold_all(ps, sp, ns, NULL, NULL);
}

size_t pubsub_sub_release_some(pubsub *ps, pubsub_sub **sp, size_t max) {
    pubsub_sub *sub = *sp;
    if (!sub) return 0;
    size_t done = 0;
    for (int ns = 0; ns < NS_COUNT && done < max; ns++) {
        if (!sub->held[ns]) continue;
        if (spaces[ns].ordered) {
            dict_entry *e = sub->pat_first;
            while (e && done < max) {
                dict_entry *next = order_of(e)->next;
                drop_and_notify(ps, sub, ns, e, NULL, NULL);
                e = next;
                done++;
            }
        } else {
            dict_iter it;
            dict_entry *e;
            dict_iter_init(&it, sub->held[ns]);
            while (done < max && (e = dict_iter_next(&it))) {
                drop_and_notify(ps, sub, ns, e, NULL, NULL);
                done++;
            }
            dict_iter_done(&it);
        }
    }
    sub_trim(ps, sp);
    return pubsub_sub_held(*sp);
}

size_t pubsub_sub_held(const pubsub_sub *s) {
    if (!s) return 0;
    size_t n = 0;
    for (int ns = 0; ns < NS_COUNT; ns++)
        if (s->held[ns]) n += dict_size(s->held[ns]);
    return n;
}

size_t pubsub_sub_channels(const pubsub_sub *s, pubsub_kind kind) {
    return s && s->held[kind] ? dict_size(s->held[kind]) : 0;
}

size_t pubsub_sub_patterns(const pubsub_sub *s) {
    return s && s->held[NS_PATTERN] ? dict_size(s->held[NS_PATTERN]) : 0;
}

typedef struct name_visit {
    pubsub_name_fn *cb;
    void *ctx;
} name_visit;

static void visit_key(void *ctx, const dict_entry *e) {
    name_visit *v = ctx;
    v->cb(v->ctx, dict_entry_key(e), dict_entry_key_len(e));
}

void pubsub_sub_foreach(const pubsub_sub *s, int what, pubsub_name_fn *cb, void *ctx) {
    if (!s || what < 0 || what >= NS_COUNT || !s->held[what]) return;
    if (spaces[what].ordered) {
        for (dict_entry *e = s->pat_first; e; e = order_of(e)->next)
            cb(ctx, dict_entry_key(e), dict_entry_key_len(e));
        return;
    }
    name_visit v = {cb, ctx};
    dict_foreach(s->held[what], visit_key, &v);
}

long long pubsub_publish(pubsub *ps, pubsub_kind kind, const char *ch, size_t len,
                         pubsub_deliver_fn *deliver, void *ctx) {
    long long n = 0;
    const subs *t = dict_fetch(ps->topics[kind], ch, len);
    if (t) n += subs_deliver(t, deliver, ctx, NULL, 0);
    if (kind != PUBSUB_CHANNEL) return n;     /* shard channels ignore patterns */
    n += index_publish(&ps->by_prefix, false, ch, len, deliver, ctx);
    n += index_publish(&ps->by_suffix, true, ch, len, deliver, ctx);
    return n;
}

long long pubsub_publish_exact(pubsub *ps, pubsub_kind kind, const char *ch, size_t len,
                               pubsub_deliver_fn *deliver, void *ctx) {
    const subs *t = dict_fetch(ps->topics[kind], ch, len);
    return t ? subs_deliver(t, deliver, ctx, NULL, 0) : 0;
}

long long pubsub_publish_pattern(pubsub *ps, const char *pat, size_t plen, pubsub_deliver_fn *deliver,
                                 void *ctx) {
    const pattern *p = dict_fetch(ps->topics[NS_PATTERN], pat, plen);
    return p ? subs_deliver(&p->s, deliver, ctx, p->name, p->len) : 0;
}

void pubsub_set_topic_hook(pubsub *ps, pubsub_topic_fn *fn, void *ctx) {
    ps->topic_hook = fn;
    ps->topic_hook_ctx = ctx;
}

bool pubsub_topic_exists(const pubsub *ps, int what, const char *name, size_t len) {
    return dict_find(ps->topics[what], name, len) != NULL;
}

void pubsub_topics_foreach(const pubsub *ps, int what, pubsub_name_fn *cb, void *ctx) {
    name_visit v = {cb, ctx};
    dict_foreach(ps->topics[what], visit_key, &v);
}

size_t pubsub_channel_count(const pubsub *ps, pubsub_kind kind) {
    return dict_size(ps->topics[kind]);
}

size_t pubsub_pattern_count(const pubsub *ps) {
    return dict_size(ps->topics[NS_PATTERN]);
}

size_t pubsub_numsub(const pubsub *ps, pubsub_kind kind, const char *ch, size_t len) {
    const subs *t = dict_fetch(ps->topics[kind], ch, len);
    return t ? t->live : 0;
}

void pubsub_channels_foreach(const pubsub *ps, pubsub_kind kind, pubsub_name_fn *cb, void *ctx) {
    name_visit v = {cb, ctx};
    dict_foreach(ps->topics[kind], visit_key, &v);
}
