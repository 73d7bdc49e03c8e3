/* upstream.c -- Relay mode: the interest mirror, publish forwarding and the
 * cluster topology, over the links of upstream_link.c.
 *
 *   local clients --(P|S)SUBSCRIBE--> registry --topic hook--> dirty names
 *                                                                  |
 *   before sleep: one (P|S)(UN)SUBSCRIBE per link and kind, batched <-'
 *
 *   upstream push --message/pmessage/smessage--> cmd_pubsub_fanout() --> local subscribers
 *   local PUBLISH --> link (a reply slot keeps the client's reply order) --> upstream reply
 *
 * The registry is the truth of what is wanted: a name is wanted upstream
 * while some local client holds it. Each link records what it has asked
 * its server for (upstream_link_held()); a name whose two sides may differ
 * is "dirty", and before the loop sleeps every dirty name is settled with
 * as few commands as possible (one command per link, kind and 1024 names;
 * per slot for shard channels on a cluster, which refuses cross-slot
 * commands). A link that goes down forgets what it held; when it is up
 * again every name it is responsible for is dirty. So losing a link,
 * failing over, or moving a slot all come down to the same path.
 *
 * Which link holds a name: classic channels and patterns are on the
 * classic link (a cluster broadcasts PUBLISH to every node, so any node
 * will do); shard channels are on the classic link over a standalone
 * upstream, and on the link of their slot's shard over a cluster. A shard
 * link is first connected to the shard's primary; when it is lost it goes
 * at once to the next node of the shard (its replica serves SSUBSCRIBE and
 * becomes the primary in place), which is what keeps a failover's loss to
 * a message or so instead of the seconds the cluster takes to promote.
 *
 * Publishes: the reply is the upstream's. While no link can take one it is
 * held (bounded by upstream-hold-ms and -bytes), then sent in order. One
 * that was in flight on a link that died is answered -UPSTREAMDOWN, never
 * sent again: the upstream may have published it. An SPUBLISH answered
 * -MOVED was not executed and is sent again to the node named.
 *
 * A gap is a time when a link's names were not all held upstream: from a
 * link's loss (or the server unsubscribing on its own) until its names
 * are confirmed again. Each is logged, counted and timed. */
#include "upstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "client.h"
#include "cluster.h"
#include "cmd_handlers.h"
#include "config.h"
#include "dict.h"
#include "ev.h"
#include "log.h"
#include "mem.h"
#include "pubsub.h"
#include "resp.h"
#include "resp_reply.h"
#include "tls.h"
#include "upstream_link.h"
#include "util.h"

#define UPSTREAM_CRON_MS 50
#define UPSTREAM_BATCH 1024               /* names per subscription command */
#define UPSTREAM_RETRY_MIN_MS 100
#define UPSTREAM_RETRY_MAX_MS 1000
#define UPSTREAM_MOVED_MAX 5              /* redirections of one SPUBLISH */
/* The classic link and two per shard: a Redis Cluster has at most about
 * 1000 primaries. Shards past that get no links (logged). */
#define UPSTREAM_MAX_SHARDS 1000
#define UPSTREAM_MAX_LINKS (1 + 2 * UPSTREAM_MAX_SHARDS)

enum { MODE_NONE, MODE_DETECTING, MODE_STANDALONE, MODE_CLUSTER };
static const char *const mode_names[] = {"none", "detecting", "standalone", "cluster"};

/* What upstream.c keeps per link (the link's owner pointer). */
typedef struct linkinfo {
    upstream_link *link;          /* owned */
    int shard;                    /* shard index in the map, -1 for the classic link */
    int node;                     /* index of the node tried last (in the shard, or in seeds) */
    int tries;                    /* failed connects in a row */
    long long retry_at_ms;        /* when an idle link connects again; 0 = now */
    long long gap_since_ms;       /* start of the current gap, 0 if none */
    bool up;                      /* was up since its last loss */
    bool demoted;                 /* its server unsubscribed on its own: a failover or a slot move */
    int next_node;                /* the shard node to connect to next, -1: the one after node */
    bool publish;                 /* a shard's publish link (to its primary), holds no names */
    struct fwd_rec *blocked;      /* a link of its own for one blocking command: what it carries */
    struct linkinfo *next_block;  /* U.blocking list */
    char avoid[300];              /* "host:port" a publish link left, not to go back to soon */
    long long avoid_until_ms;
} linkinfo;

/* What a request's cookie points to (its first field). */
enum { REC_PUB = 1, REC_FWD = 2 };

/* A PUBLISH or SPUBLISH on its way upstream. */
typedef struct pub_rec {
    int kind;                     /* REC_PUB */
    client_slot *slot;            /* borrowed: the client's reply slot; NULL = nobody waits */
    bool shard;
    int slot_no;                  /* the channel's cluster slot */
    int moved;                    /* redirections so far */
    char *ch, *msg;               /* owned */
    size_t chlen, msglen;
    long long since_ms;
    struct pub_rec *next;         /* hold queue */
} pub_rec;

/* A command forwarded upstream (the Streams commands of channel history). */
typedef struct fwd_rec {
    int kind;                     /* REC_FWD */
    client_slot *slot;            /* borrowed: NULL once nobody waits */
    client *c;                    /* borrowed, valid while slot is set: who asked */
    int proto;                    /* the client's protocol when it asked */
    bool pairs;                   /* RESP2: a top-level map is an array of [key, value] pairs */
    int argc;                     /* a blocking command's arguments, kept until its link is up */
    char **argv;                  /* owned */
    size_t *lens;
} fwd_rec;

static void fwd_free(fwd_rec *f) {
    for (int i = 0; i < f->argc; i++) mem_free(f->argv[i]);
    mem_free(f->argv);
    mem_free(f->lens);
    mem_free(f);
}

static void fwd_reply(upstream_link *l, fwd_rec *f, const rreply *r);

typedef struct seed {
    char host[256];
    int port;
} seed;

static struct {
    ev_loop *loop;                /* borrowed */
    pubsub *ps;                   /* borrowed */
    int mode;
    seed *seeds;                  /* owned: configured seeds, then cluster nodes seen */
    int seed_count;
    linkinfo *classic;            /* owned */
    linkinfo **shards;            /* owned: one per shard of map: its shard channels' subscriptions */
    linkinfo **pubs;              /* owned: one per shard of map: its SPUBLISHes, to the primary */
    int shard_count;
    cluster_map *map;             /* owned */
    linkinfo *blocking;           /* owned: links of blocking commands (XREAD BLOCK), linked */
    int blocking_count;
    linkinfo **graveyard;         /* owned: links to free before sleeping */
    int graveyard_count;
    dict *dirty[3];               /* owned: names to settle, by kind */
    pub_rec *hold_head, *hold_tail;
    size_t hold_bytes, hold_count;
    bool refresh_inflight, refresh_again, resync_after_refresh;
    bool hold_added;              /* something was held this pass: try to send it before sleeping */
    long long last_refresh_ms;
    int refresh_cookie;           /* its address marks a refresh reply */
    bool use_slots;               /* the cluster has no CLUSTER SHARDS (Redis 6): read CLUSTER SLOTS */
    size_t unsolicited_pass;      /* server-made unsubscribes this pass, for one log line */
    char unsolicited_addr[300];
    struct {
        long long messages_in, deliveries, forwarded, held, failed, moved;
        long long reconnects, refreshes, gaps, gap_total_ms, gap_last_ms;
    } st;
} U;

static const upstream_link_ops link_ops;
static void request_refresh(void);
static void drain_hold(void);

bool upstream_is_relay(void) {
    return U.mode != MODE_NONE;
}

/* ------------------------------------------------------------------------
 * Links
 * ------------------------------------------------------------------------ */

static linkinfo *linkinfo_new(int shard, const char *host, int port) {
    linkinfo *li = mem_calloc(sizeof(*li));
    li->shard = shard;
    li->next_node = -1;
    li->link = upstream_link_new(U.loop, &link_ops, li, host, port);
    return li;
}

static bool is_buried(const linkinfo *li);

/* Closes li and frees it before sleeping; twice is once. */
static void bury(linkinfo *li) {
    if (!li || is_buried(li)) return;
    if (li->shard == -2) {
        linkinfo **pp = &U.blocking;
        while (*pp && *pp != li) pp = &(*pp)->next_block;
        if (*pp) {
            *pp = li->next_block;
            U.blocking_count--;
        }
    }
    U.graveyard = mem_realloc(U.graveyard, sizeof(*U.graveyard) * (size_t)(U.graveyard_count + 1));
    U.graveyard[U.graveyard_count++] = li;
    upstream_link_close(li->link, "not needed after a topology change");
}

static void free_graveyard(void) {
    for (int i = 0; i < U.graveyard_count; i++) {
        if (U.graveyard[i]->blocked) fwd_free(U.graveyard[i]->blocked);
        upstream_link_free(U.graveyard[i]->link);
        mem_free(U.graveyard[i]);
    }
    mem_free(U.graveyard);
    U.graveyard = NULL;
    U.graveyard_count = 0;
}

static bool is_buried(const linkinfo *li) {
    for (int i = 0; i < U.graveyard_count; i++)
        if (U.graveyard[i] == li) return true;
    return false;
}

static void add_seed(const char *host, int port) {
    for (int i = 0; i < U.seed_count; i++)
        if (U.seeds[i].port == port && !strcasecmp(U.seeds[i].host, host)) return;
    U.seeds = mem_realloc(U.seeds, sizeof(seed) * (size_t)(U.seed_count + 1));
    snprintf(U.seeds[U.seed_count].host, sizeof(U.seeds[0].host), "%s", host);
    U.seeds[U.seed_count].port = port;
    U.seed_count++;
}

/* The link holding a name of kind what, or NULL while none can. */
static linkinfo *responsible(int what, const char *name, size_t len) {
    if (what != PUBSUB_SHARD) return U.classic;
    if (U.mode == MODE_DETECTING) return NULL;
    if (U.mode != MODE_CLUSTER) return U.classic;
    if (!U.map) return NULL;
    int s = U.map->slot_shard[cluster_key_slot(name, len)];
    return s >= 0 && s < U.shard_count ? U.shards[s] : NULL;
}

/* Every link, classic first. */
static int all_links(linkinfo **out, int max) {
    int n = 0;
    if (U.classic && n < max) out[n++] = U.classic;
    for (int i = 0; i < U.shard_count && n < max; i++) out[n++] = U.shards[i];
    for (int i = 0; i < U.shard_count && n < max; i++) out[n++] = U.pubs[i];
    return n;
}

static const char *link_kind(const linkinfo *li) {
    return li->shard == -2 ? "blocking" : li->shard < 0 ? "classic" : li->publish ? "publish" : "shard";
}

/* ------------------------------------------------------------------------
 * The interest mirror
 * ------------------------------------------------------------------------ */

static const dict_type dirty_type = {.key_dup = dict_key_copy, .key_free = dict_key_release};

static void mark_dirty(int what, const char *name, size_t len) {
    dict_add(U.dirty[what], name, len, NULL);
}

/* The registry's hook: a topic gained its first or lost its last holder. */
static void on_topic(void *ctx, int what, const char *name, size_t len, bool added) {
    (void)ctx, (void)added;
    mark_dirty(what, name, len);
}

typedef struct mark_ctx {
    int what;
    const linkinfo *only;         /* NULL: every name */
} mark_ctx;

static void mark_one(void *ctx, const char *name, size_t len) {
    mark_ctx *m = ctx;
    if (m->only && responsible(m->what, name, len) != m->only) return;
    mark_dirty(m->what, name, len);
}

/* Makes dirty every wanted name that li is responsible for (NULL: every
 * wanted name of kind what). */
static void mark_wanted(const linkinfo *li, int what) {
    mark_ctx m = {what, li};
    pubsub_topics_foreach(U.ps, what, mark_one, &m);
}

static void mark_held_entry(void *ctx, const dict_entry *e) {
    mark_dirty(*(int *)ctx, dict_entry_key(e), dict_entry_key_len(e));
}

/* After a topology change: every shard name, wanted or held anywhere. */
static void mark_all_shard_names(void) {
    mark_wanted(NULL, PUBSUB_SHARD);
    linkinfo *links[UPSTREAM_MAX_LINKS];
    int n = all_links(links, UPSTREAM_MAX_LINKS);
    int what = PUBSUB_SHARD;
    for (int i = 0; i < n; i++) dict_foreach(upstream_link_held(links[i]->link, PUBSUB_SHARD), mark_held_entry, &what);
}

/* A batch of names for one link, kind and operation. */
typedef struct batch {
    linkinfo *li;
    int what;
    bool sub;
    const char **names;           /* borrowed: keys of U.dirty */
    size_t *lens;
    int *slots;
    int count, cap;
} batch;

typedef struct batches {
    batch *b;
    int count, cap;
} batches;

static batch *batch_for(batches *bs, linkinfo *li, int what, bool sub) {
    for (int i = 0; i < bs->count; i++)
        if (bs->b[i].li == li && bs->b[i].what == what && bs->b[i].sub == sub) return &bs->b[i];
    if (bs->count == bs->cap) {
        bs->cap = bs->cap ? bs->cap * 2 : 8;
        bs->b = mem_realloc(bs->b, sizeof(batch) * (size_t)bs->cap);
    }
    batch *b = &bs->b[bs->count++];
    memset(b, 0, sizeof(*b));
    b->li = li;
    b->what = what;
    b->sub = sub;
    return b;
}

static void batch_add(batch *b, const char *name, size_t len) {
    if (b->count == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->names = mem_realloc(b->names, sizeof(char *) * (size_t)b->cap);
        b->lens = mem_realloc(b->lens, sizeof(size_t) * (size_t)b->cap);
        b->slots = mem_realloc(b->slots, sizeof(int) * (size_t)b->cap);
    }
    b->names[b->count] = name;
    b->lens[b->count] = len;
    b->slots[b->count] = b->what == PUBSUB_SHARD ? cluster_key_slot(name, len) : 0;
    b->count++;
}

/* Decides what one dirty name needs; held dicts change as commands are
 * queued, so they always say what the server will have. */
static void settle(batches *bs, int what, const char *name, size_t len) {
    bool wanted = pubsub_topic_exists(U.ps, what, name, len);
    linkinfo *target = wanted ? responsible(what, name, len) : NULL;
    linkinfo *links[UPSTREAM_MAX_LINKS];
    int n = all_links(links, UPSTREAM_MAX_LINKS);
    for (int i = 0; i < n; i++) {
        linkinfo *li = links[i];
        if (li == target || !upstream_link_is_up(li->link)) continue;
        dict *held = upstream_link_held(li->link, what);
        if (dict_find(held, name, len)) {
            batch_add(batch_for(bs, li, what, false), name, len);
            dict_del(held, name, len);
        }
    }
    if (target && upstream_link_is_up(target->link)) {
        dict *held = upstream_link_held(target->link, what);
        if (!dict_find(held, name, len)) {
            batch_add(batch_for(bs, target, what, true), name, len);
            dict_add(held, name, len, NULL);
        }
    }
}

typedef struct slot_sort {
    int slot;
    int idx;
} slot_sort;

static int cmp_slot(const void *a, const void *b) {
    const slot_sort *x = a, *y = b;
    if (x->slot != y->slot) return x->slot < y->slot ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static link_op op_of(int what, bool sub) {
    link_op base = what == PUBSUB_CHANNEL ? LINK_SUBSCRIBE : what == PUBSUB_SHARD ? LINK_SSUBSCRIBE : LINK_PSUBSCRIBE;
    return sub ? base : (link_op)(base + LINK_UNSUBSCRIBE);
}

/* Sends one batch: commands of up to UPSTREAM_BATCH names; shard channels
 * over a cluster one slot per command. */
static void batch_send(batch *b) {
    link_op op = op_of(b->what, b->sub);
    bool per_slot = b->what == PUBSUB_SHARD && U.mode == MODE_CLUSTER;
    const char **names = mem_alloc(sizeof(char *) * (size_t)b->count);
    size_t *lens = mem_alloc(sizeof(size_t) * (size_t)b->count);
    slot_sort *order = mem_alloc(sizeof(slot_sort) * (size_t)b->count);
    for (int i = 0; i < b->count; i++) order[i] = (slot_sort){per_slot ? b->slots[i] : 0, i};
    if (per_slot) qsort(order, (size_t)b->count, sizeof(*order), cmp_slot);
    int start = 0;
    while (start < b->count) {
        int end = start;
        while (end < b->count && end - start < UPSTREAM_BATCH && order[end].slot == order[start].slot) {
            names[end - start] = b->names[order[end].idx];
            lens[end - start] = b->lens[order[end].idx];
            end++;
        }
        upstream_link_subscribe(b->li->link, op, end - start, names, lens);
        start = end;
    }
    mem_free(names);
    mem_free(lens);
    mem_free(order);
}

static void settle_dirty(void) {
    batches bs = {0};
    dict *dirty[3];
    bool any = false;
    for (int w = 0; w < 3; w++) {
        dirty[w] = U.dirty[w];
        if (dict_size(dirty[w])) any = true;
    }
    if (!any) return;
    /* New marks made while settling go to fresh dicts. */
    for (int w = 0; w < 3; w++) U.dirty[w] = dict_new(&dirty_type);
    for (int w = 0; w < 3; w++) {
        dict_iter it;
        dict_entry *e;
        dict_iter_init(&it, dirty[w]);
        while ((e = dict_iter_next(&it))) settle(&bs, w, dict_entry_key(e), dict_entry_key_len(e));
        dict_iter_done(&it);
    }
    for (int i = 0; i < bs.count; i++) {
        batch_send(&bs.b[i]);
        mem_free(bs.b[i].names);
        mem_free(bs.b[i].lens);
        mem_free(bs.b[i].slots);
    }
    mem_free(bs.b);
    for (int w = 0; w < 3; w++) dict_free(dirty[w]);
}

/* True when what is wanted is what the upstream holds, as far as we know:
 * nothing to settle, no confirmation awaited, no resync waiting for a map. */
static bool settled(void) {
    if (U.resync_after_refresh) return false;
    for (int w = 0; w < 3; w++)
        if (dict_size(U.dirty[w])) return false;
    linkinfo *links[UPSTREAM_MAX_LINKS];
    int n = all_links(links, UPSTREAM_MAX_LINKS);
    for (int i = 0; i < n; i++)
        if (upstream_link_pending(links[i]->link) > 0) return false;
    return true;
}

/* A gap ends when the link is up and everything is settled again (the
 * names it lost may have moved to another link). */
static void check_gap_end(linkinfo *li, bool all_settled) {
    if (!li->gap_since_ms || !upstream_link_is_up(li->link) || !all_settled) return;
    long long ms = util_time_ms() - li->gap_since_ms;
    li->gap_since_ms = 0;
    U.st.gaps++;
    U.st.gap_total_ms += ms;
    U.st.gap_last_ms = ms;
    size_t held = 0;
    for (int w = 0; w < 3; w++) held += dict_size(upstream_link_held(li->link, w));
    log_notice("Upstream %s link to %s: subscriptions held again after a gap of %lld ms (%zu on this link)",
               link_kind(li), upstream_link_addr(li->link), ms, held);
}

static void start_gap(linkinfo *li) {
    if (li->publish) return; /* holds no subscriptions */
    if (!li->gap_since_ms) li->gap_since_ms = util_time_ms();
}

/* ------------------------------------------------------------------------
 * Link events
 * ------------------------------------------------------------------------ */

static void on_up(upstream_link *l, const char *role) {
    linkinfo *li = upstream_link_owner(l);
    if (li->blocked) {
        fwd_rec *f = li->blocked;
        upstream_link_command(l, f->argc, (const char **)f->argv, f->lens, f);
        return;
    }
    li->tries = 0;
    li->up = true;
    log_notice("Upstream %s link to %s established (role %s)", link_kind(li), upstream_link_addr(l),
               role[0] ? role : "unknown");
    if (li == U.classic && (U.mode == MODE_DETECTING || (U.mode == MODE_CLUSTER && !U.map))) request_refresh();
    for (int w = 0; w < 3; w++) mark_wanted(li, w);
    if (U.mode == MODE_CLUSTER && li->shard >= 0) request_refresh();
    drain_hold();
}

/* Where a lost link goes next: the next node of its shard, or the next
 * seed; at once the first time round, then after a growing pause. */
static void plan_reconnect(linkinfo *li) {
    int n = 1;
    if (li->publish) {
        snprintf(li->avoid, sizeof(li->avoid), "%s:%d", upstream_link_host(li->link), upstream_link_port(li->link));
        li->avoid_until_ms = util_time_ms() + 10 * cfg.upstream_ping_timeout;
    }
    if (li->shard >= 0 && U.map && li->shard < U.map->shard_count) {
        cluster_shard *sh = &U.map->shards[li->shard];
        n = sh->node_count > 0 ? sh->node_count : 1;
        if (sh->node_count > 0) {
            li->node = li->next_node >= 0 && li->next_node < sh->node_count ? li->next_node
                                                                             : (li->node + 1) % sh->node_count;
            li->next_node = -1;
            upstream_link_retarget(li->link, sh->nodes[li->node].host, sh->nodes[li->node].port);
        }
    } else if (U.seed_count > 0) {
        /* The classic link: the next seed, skipping (first time round) the
         * lost node's shard, whose nodes are busy failing it over. */
        n = U.seed_count;
        int lost = U.map ? cluster_map_find_node(U.map, upstream_link_host(li->link), upstream_link_port(li->link)) : -1;
        int next = (li->node + 1) % U.seed_count;
        for (int k = 0; k < U.seed_count && lost >= 0 && li->tries < n; k++) {
            int i = (li->node + 1 + k) % U.seed_count;
            if (cluster_map_find_node(U.map, U.seeds[i].host, U.seeds[i].port) != lost) {
                next = i;
                break;
            }
        }
        li->node = next;
        upstream_link_retarget(li->link, U.seeds[li->node].host, U.seeds[li->node].port);
    }
    li->tries++;
    long long delay = 0;
    if (li->tries > n) {
        delay = UPSTREAM_RETRY_MIN_MS << (li->tries - n - 1 < 4 ? li->tries - n - 1 : 4);
        if (delay > UPSTREAM_RETRY_MAX_MS) delay = UPSTREAM_RETRY_MAX_MS;
    }
    li->retry_at_ms = util_time_ms() + delay;
}

static void on_down(upstream_link *l, const char *why) {
    linkinfo *li = upstream_link_owner(l);
    if (is_buried(li)) return;
    if (li->blocked) {
        /* Lost before its command was answered (or even sent). */
        log_verbose("Upstream blocking link to %s: %s", upstream_link_addr(l), why);
        fwd_reply(l, li->blocked, NULL);
        return;
    }
    bool was_up = li->up;
    li->up = false;
    char from[300];
    snprintf(from, sizeof(from), "%s", upstream_link_addr(l));
    plan_reconnect(li);
    if (was_up) {
        start_gap(li);
        U.st.reconnects++;
        log_warning("Upstream %s link to %s lost (%s); resubscribing on %s", link_kind(li), from, why,
                    upstream_link_addr(l));
    } else if (li->tries == 1) {
        log_warning("Upstream %s link to %s: %s; trying %s", link_kind(li), from, why, upstream_link_addr(l));
    } else {
        log_verbose("Upstream %s link to %s: %s", link_kind(li), from, why);
    }
    request_refresh();
    if (li->retry_at_ms <= util_time_ms()) upstream_link_connect(l);
}

static void on_message(upstream_link *l, const rreply *r) {
    (void)l;
    U.st.messages_in++;
    const rreply *const *e = (const rreply *const *)r->element;
    for (size_t i = 1; i < r->elements; i++)
        if (!e[i]->str) return;
    if (rreply_is_named(r, "pmessage")) {
        if (r->elements < 4) return;
        U.st.deliveries += cmd_pubsub_fanout(PUBSUB_CHANNEL, e[1]->str, e[1]->len, e[2]->str, e[2]->len, e[3]->str,
                                             e[3]->len);
    } else if (r->elements >= 3) {
        pubsub_kind k = rreply_is_named(r, "smessage") ? PUBSUB_SHARD : PUBSUB_CHANNEL;
        U.st.deliveries += cmd_pubsub_fanout(k, NULL, 0, e[1]->str, e[1]->len, e[2]->str, e[2]->len);
    }
}

static void on_confirmed(upstream_link *l, link_op op, const char *name, size_t len) {
    (void)op, (void)name, (void)len;
    linkinfo *li = upstream_link_owner(l);
    if (li->gap_since_ms && upstream_link_pending(l) == 0) check_gap_end(li, settled());
}

static int what_of(link_op op) {
    int base = op % LINK_UNSUBSCRIBE;
    return base == LINK_SUBSCRIBE ? PUBSUB_CHANNEL : base == LINK_SSUBSCRIBE ? PUBSUB_SHARD : PUBSUB_PATTERNS;
}

static void on_unsolicited(upstream_link *l, link_op op, const char *name, size_t len) {
    linkinfo *li = upstream_link_owner(l);
    int what = what_of(op);
    dict *held = upstream_link_held(l, what);
    if (!dict_find(held, name, len)) return;
    dict_del(held, name, len);
    start_gap(li);
    if (U.mode == MODE_CLUSTER) {
        /* A failover (this node is a replica now) or a slot moved away:
         * the names go where the map read next says, which after a
         * failover is the new primary, not this node (re-subscribing
         * here would miss what the new primary publishes until this one
         * has resynced from it). */
        li->demoted = true;
        U.resync_after_refresh = true;
    } else {
        mark_dirty(what, name, len);
    }
    if (U.unsolicited_pass++ == 0)
        snprintf(U.unsolicited_addr, sizeof(U.unsolicited_addr), "%s", upstream_link_addr(l));
    request_refresh();
}

static void on_refused(upstream_link *l, link_op op, char **names, size_t *lens, int count, const rreply *err) {
    linkinfo *li = upstream_link_owner(l);
    int what = what_of(op);
    dict *held = upstream_link_held(l, what);
    for (int i = 0; i < count; i++) dict_del(held, names[i], lens[i]);
    if (op >= LINK_UNSUBSCRIBE) return;
    bool moved = err->len >= 6 && !strncmp(err->str, "MOVED ", 6);
    if (moved) {
        /* The slot lives elsewhere now: settle its names after the map
         * has been read again. */
        start_gap(li);
        U.resync_after_refresh = true;
        request_refresh();
        log_verbose("Upstream %s refused %d names: %s; refreshing the topology", upstream_link_addr(l), count,
                    err->str);
    } else {
        log_warning("Upstream %s refused a subscription of %d names (first '%.*s'): %s", upstream_link_addr(l),
                    count, (int)(lens[0] > 128 ? 128 : lens[0]), names[0], err->str);
    }
}

/* ------------------------------------------------------------------------
 * Topology (cluster)
 * ------------------------------------------------------------------------ */

/* Index in sh of the node host:port, or -1. */
static int node_index(const cluster_shard *sh, const char *host, int port) {
    for (int n = 0; n < sh->node_count; n++)
        if (sh->nodes[n].port == port && !strcasecmp(sh->nodes[n].host, host)) return n;
    return -1;
}

/* Where a shard's subscriptions go first: a replica. A shard's messages
 * reach its replicas too (the primary passes them on), and a replica keeps
 * its subscribers through a failover, becoming the primary in place; so
 * neither a dead nor a demoted primary interrupts them. */
static int sub_node(const cluster_shard *sh) {
    return sh->node_count > 1 ? 1 : 0;
}

/* Keeps, for each shard of m, the links already connected to one of its
 * nodes (into subs or pubs by kind); buries the rest. */
static bool keep_links(cluster_map *m, linkinfo **from, int count, linkinfo **into) {
    bool changed = false;
    for (int i = 0; i < count; i++) {
        linkinfo *li = from[i];
        int s = cluster_map_find_node(m, upstream_link_host(li->link), upstream_link_port(li->link));
        if (s < 0 || into[s]) {
            bury(li);
            changed = true;
            continue;
        }
        into[s] = li;
        li->shard = s;
        cluster_shard *sh = &m->shards[s];
        li->node = node_index(sh, upstream_link_host(li->link), upstream_link_port(li->link));
        upstream_link_set_role(li->link, li->node == 0 && sh->has_primary ? "master" : "replica");
        bool primary_ok = sh->has_primary && sh->node_count > 0 && !sh->nodes[0].loading;
        if (li->demoted) {
            /* Its node unsubscribed on its own and is not the primary: a
             * failover demoted it; follow the new primary. */
            li->demoted = false;
            if (primary_ok && li->node != 0) li->next_node = 0;
        }
        if (li->publish && primary_ok && li->node != 0) {
            /* SPUBLISH goes to the primary, unless the link just left it
             * (a hung primary stays listed until the cluster fails it). */
            char addr[300];
            snprintf(addr, sizeof(addr), "%s:%d", sh->nodes[0].host, sh->nodes[0].port);
            if (!(strcmp(addr, li->avoid) == 0 && util_time_ms() < li->avoid_until_ms)) li->next_node = 0;
        }
    }
    return changed;
}

/* Links for a new map: shards keep the links already connected to one of
 * their nodes; new shards get a subscription link to a replica and a
 * publish link to the primary. */
static void apply_map(cluster_map *m, const char *answered_host) {
    for (int s = 0; s < m->shard_count; s++)
        for (int n = 0; n < m->shards[s].node_count; n++) {
            cluster_node *nd = &m->shards[s].nodes[n];
            if (!nd->host[0]) snprintf(nd->host, sizeof(nd->host), "%s", answered_host);
            add_seed(nd->host, nd->port);
        }
    bool changed = !U.map || !cluster_map_equal(U.map, m);
    size_t cap = (size_t)(m->shard_count ? m->shard_count : 1);
    linkinfo **shards = mem_calloc(sizeof(linkinfo *) * cap), **pubs = mem_calloc(sizeof(linkinfo *) * cap);
    if (keep_links(m, U.shards, U.shard_count, shards)) changed = true;
    if (keep_links(m, U.pubs, U.shard_count, pubs)) changed = true;
    for (int s = 0; s < m->shard_count; s++) {
        cluster_shard *sh = &m->shards[s];
        if (sh->node_count == 0) continue;
        if (!shards[s]) {
            int n = sub_node(sh);
            shards[s] = linkinfo_new(s, sh->nodes[n].host, sh->nodes[n].port);
            shards[s]->node = n;
            upstream_link_connect(shards[s]->link);
            changed = true;
        }
        if (!pubs[s]) {
            pubs[s] = linkinfo_new(s, sh->nodes[0].host, sh->nodes[0].port);
            pubs[s]->publish = true;
            upstream_link_connect(pubs[s]->link);
        }
    }
    /* A shard without nodes keeps no links: fill its places so every
     * index below shard_count is a link. */
    for (int s = 0; s < m->shard_count; s++) {
        if (!shards[s]) shards[s] = linkinfo_new(s, answered_host, 0);
        if (!pubs[s]) {
            pubs[s] = linkinfo_new(s, answered_host, 0);
            pubs[s]->publish = true;
        }
    }
    mem_free(U.shards);
    mem_free(U.pubs);
    U.shards = shards;
    U.pubs = pubs;
    U.shard_count = m->shard_count;
    cluster_map_free(U.map);
    U.map = m;
    /* Moves, now that the map is in place (the reconnect reads it). */
    for (int i = 0; i < U.shard_count; i++) {
        if (U.shards[i]->next_node == 0)
            upstream_link_close(U.shards[i]->link, "its node is a replica after a failover");
        if (U.pubs[i]->next_node == 0) upstream_link_close(U.pubs[i]->link, "following the shard's primary");
    }
    if (changed || U.resync_after_refresh) {
        U.resync_after_refresh = false;
        mark_all_shard_names();
    }
    drain_hold();
}

static void on_refresh_reply(upstream_link *l, const rreply *r) {
    U.refresh_inflight = false;
    U.last_refresh_ms = util_time_ms();
    if (!r) {
        U.refresh_again = true;
        return;
    }
    if (r->type == RREPLY_ERROR && !U.use_slots && strstr(r->str, "ubcommand")) {
        /* A cluster node older than CLUSTER SHARDS: ask CLUSTER SLOTS. */
        log_notice("Upstream %s has no CLUSTER SHARDS (%s): reading CLUSTER SLOTS", upstream_link_addr(l), r->str);
        U.use_slots = true;
        request_refresh();
        return;
    }
    if (r->type == RREPLY_ERROR) {
        if (U.mode == MODE_DETECTING) {
            log_notice("Upstream %s is not a cluster node (%s): standalone upstream", upstream_link_addr(l), r->str);
            U.mode = MODE_STANDALONE;
            mark_wanted(NULL, PUBSUB_SHARD);
            drain_hold();
        } else {
            log_warning("Upstream %s: CLUSTER %s failed: %s", upstream_link_addr(l), U.use_slots ? "SLOTS" : "SHARDS",
                        r->str);
        }
        return;
    }
    char err[256];
    cluster_map *m = U.use_slots ? cluster_map_from_slots(r, err, sizeof(err))
                                 : cluster_map_from_shards(r, cfg.upstream_tls, err, sizeof(err));
    if (!m) {
        log_warning("Upstream %s: unreadable CLUSTER %s reply: %s", upstream_link_addr(l),
                    U.use_slots ? "SLOTS" : "SHARDS", err);
        return;
    }
    if (m->shard_count > UPSTREAM_MAX_SHARDS) {
        log_warning("Upstream %s: %d shards, more than the %d a relay follows", upstream_link_addr(l),
                    m->shard_count, UPSTREAM_MAX_SHARDS);
        cluster_map_free(m);
        return;
    }
    U.st.refreshes++;
    if (U.mode != MODE_CLUSTER) {
        log_notice("Upstream %s is a Redis Cluster of %d shards: relaying shard channels per shard",
                   upstream_link_addr(l), m->shard_count);
        U.mode = MODE_CLUSTER;
    }
    apply_map(m, upstream_link_host(l));
    if (U.refresh_again) {
        U.refresh_again = false;
        request_refresh();
    }
}

static void request_refresh(void) {
    if (U.mode != MODE_CLUSTER && U.mode != MODE_DETECTING) return;
    if (U.refresh_inflight) {
        U.refresh_again = true;
        return;
    }
    linkinfo *links[UPSTREAM_MAX_LINKS];
    int n = all_links(links, UPSTREAM_MAX_LINKS);
    for (int i = 0; i < n; i++) {
        if (!upstream_link_is_up(links[i]->link)) continue;
        const char *argv[2] = {"CLUSTER", U.use_slots ? "SLOTS" : "SHARDS"};
        upstream_link_command(links[i]->link, 2, argv, NULL, &U.refresh_cookie);
        U.refresh_inflight = true;
        U.refresh_again = false;
        return;
    }
    U.refresh_again = true; /* no link up: the next one to come up asks */
}

/* ------------------------------------------------------------------------
 * Publishing
 * ------------------------------------------------------------------------ */

static void pub_free(pub_rec *p) {
    mem_free(p->ch);
    mem_free(p->msg);
    mem_free(p);
}

static void pub_answer(pub_rec *p, const char *bytes, size_t len) {
    if (p->slot) client_slot_fill(p->slot, bytes, len);
}

static void pub_fail(pub_rec *p, const char *why) {
    U.st.failed++;
    if (!p->slot) return;
    buf b = {0};
    resp_add_error(&b, why);
    pub_answer(p, b.data, b.len);
    buf_free(&b);
}

/* The link that takes p now, or NULL. Subscription changes not sent yet
 * are sent first: the upstream runs one connection's commands in order, so
 * a message published through this relay then reaches this relay's
 * subscribers too, as on one node (subscribe, then publish, gets it). */
static linkinfo *pub_route(const pub_rec *p) {
    linkinfo *li = p->shard ? responsible(PUBSUB_SHARD, p->ch, p->chlen) : U.classic;
    if (li && li->shard >= 0 && U.mode == MODE_CLUSTER) {
        /* The shard's publish link; while it is down, its subscription
         * link (a replica serves SPUBLISH too, to its own subscribers). */
        linkinfo *pub = U.pubs[li->shard];
        if (upstream_link_is_up(pub->link)) li = pub;
    }
    if (!li || !upstream_link_is_up(li->link)) return NULL;
    settle_dirty();
    return li;
}

static void pub_send(linkinfo *li, pub_rec *p) {
    const char *argv[3] = {p->shard ? "SPUBLISH" : "PUBLISH", p->ch, p->msg};
    size_t lens[3] = {strlen(argv[0]), p->chlen, p->msglen};
    U.st.forwarded++;
    upstream_link_command(li->link, 3, argv, lens, p);
}

static void hold(pub_rec *p) {
    p->next = NULL;
    if (U.hold_tail) U.hold_tail->next = p;
    else U.hold_head = p;
    U.hold_tail = p;
    U.hold_bytes += p->chlen + p->msglen;
    U.hold_count++;
}

static void hold_fail(pub_rec *p, long long now) {
    char why[160];
    snprintf(why, sizeof(why), "UPSTREAMDOWN no upstream link for %lld ms: message not published", now - p->since_ms);
    pub_fail(p, why);
    pub_free(p);
}

/* True if some link is up: otherwise nothing held can go anywhere. */
static bool any_link_up(void) {
    linkinfo *links[UPSTREAM_MAX_LINKS];
    int n = all_links(links, UPSTREAM_MAX_LINKS);
    for (int i = 0; i < n; i++)
        if (upstream_link_is_up(links[i]->link)) return true;
    return false;
}

/* Sends what can go, in order; fails what waited too long. The queue is
 * in arrival order, so while no link is up only its head is looked at. */
static void drain_hold(void) {
    long long now = util_time_ms();
    if (!any_link_up()) {
        while (U.hold_head && now - U.hold_head->since_ms > cfg.upstream_hold_ms) {
            pub_rec *p = U.hold_head;
            U.hold_head = p->next;
            if (!U.hold_head) U.hold_tail = NULL;
            U.hold_bytes -= p->chlen + p->msglen;
            U.hold_count--;
            hold_fail(p, now);
        }
        return;
    }
    pub_rec **pp = &U.hold_head, *last = NULL;
    while (*pp) {
        pub_rec *p = *pp;
        linkinfo *li = pub_route(p);
        bool expired = now - p->since_ms > cfg.upstream_hold_ms;
        if (li || expired) {
            *pp = p->next;
            U.hold_bytes -= p->chlen + p->msglen;
            U.hold_count--;
            if (li) pub_send(li, p);
            else hold_fail(p, now);
            continue;
        }
        last = p;
        pp = &p->next;
    }
    U.hold_tail = last;
}

void upstream_publish(client *c, bool shard, const char *ch, size_t chlen, const char *msg, size_t msglen) {
    pub_rec *p = mem_calloc(sizeof(*p));
    p->kind = REC_PUB;
    p->shard = shard;
    p->ch = mem_strndup(ch, chlen);
    p->chlen = chlen;
    p->msg = mem_alloc(msglen + 1);
    memcpy(p->msg, msg, msglen);
    p->msg[msglen] = '\0';
    p->msglen = msglen;
    p->since_ms = util_time_ms();
    if (c->flags & (CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP)) p->slot = NULL;
    else p->slot = client_slot_open(c, &p->slot);
    linkinfo *li = U.hold_head ? NULL : pub_route(p);
    if (li) {
        pub_send(li, p);
        return;
    }
    if (U.hold_bytes + chlen + msglen > (unsigned long long)cfg.upstream_hold_bytes) {
        pub_fail(p, "UPSTREAMDOWN no upstream link and upstream-hold-bytes reached: message not published");
        pub_free(p);
        return;
    }
    /* Behind what is held already, so one channel's order is kept; the
     * queue drains when a link comes up and on the cron. */
    U.st.held++;
    hold(p);
    U.hold_added = true;
}

/* The upstream's reply, in the client's protocol (PUBLISH answers an
 * integer; anything else is passed on as an error or status). */
static void pub_reply(upstream_link *l, pub_rec *p, const rreply *r) {
    if (!r) {
        char why[400];
        snprintf(why, sizeof(why),
                 "UPSTREAMDOWN upstream link to %s lost before the reply: the message may not have been published",
                 upstream_link_addr(l));
        pub_fail(p, why);
        pub_free(p);
        return;
    }
    if (r->type == RREPLY_ERROR && p->shard && r->len > 6 && !strncmp(r->str, "MOVED ", 6) &&
        p->moved < UPSTREAM_MOVED_MAX) {
        /* Not executed: send it where the cluster says, at once if we have
         * a link there, else after the map is read again. */
        int slot, port;
        char host[256];
        U.st.moved++;
        p->moved++;
        request_refresh();
        if (cluster_parse_moved(r->str, r->len, &slot, host, sizeof(host), &port) == 0) {
            if (!host[0]) snprintf(host, sizeof(host), "%s", upstream_link_host(l));
            linkinfo *links[UPSTREAM_MAX_LINKS];
            int n = all_links(links, UPSTREAM_MAX_LINKS);
            for (int i = 0; i < n; i++) {
                upstream_link *t = links[i]->link;
                if (upstream_link_is_up(t) && upstream_link_port(t) == port && !strcasecmp(upstream_link_host(t), host)) {
                    pub_send(links[i], p);
                    return;
                }
            }
        }
        p->since_ms = util_time_ms();
        hold(p);
        return;
    }
    buf b = {0};
    switch (r->type) {
    case RREPLY_INT: resp_add_int(&b, r->integer); break;
    case RREPLY_ERROR: resp_add_error(&b, r->str); break;
    case RREPLY_STATUS: buf_printf(&b, "+%s\r\n", r->str); break;
    default: resp_add_error(&b, "ERR unexpected reply from the upstream"); break;
    }
    pub_answer(p, b.data, b.len);
    buf_free(&b);
    pub_free(p);
}

/* ------------------------------------------------------------------------
 * Forwarded commands (the Streams commands of channel history)
 * The command goes to the node that holds the key (the classic link over a
 * standalone upstream; the slot's primary over a cluster); its reply comes
 * back, re-encoded in the client's protocol, in the client's reply order.
 * ------------------------------------------------------------------------ */


/* r in proto. The link speaks RESP3, so a null's kind is lost: a null at
 * the top is a null array in RESP2 (XREAD, XRANGE COUNT 0), a nested one a
 * null bulk (XINFO's missing entries). */
static void encode_reply(buf *b, const rreply *r, int proto, bool top, bool pairs) {
    switch (r->type) {
    case RREPLY_STATUS: resp_add_simple(b, r->str); return;
    case RREPLY_ERROR: resp_add_error(b, r->str); return;
    case RREPLY_INT: resp_add_int(b, r->integer); return;
    case RREPLY_STRING: resp_add_bulk(b, r->str, r->len); return;
    case RREPLY_NIL:
        if (top) resp_add_null_array(b, proto);
        else resp_add_null(b, proto);
        return;
    case RREPLY_BOOL: resp_add_bool(b, r->integer != 0, proto); return;
    case RREPLY_DOUBLE:
    case RREPLY_BIGNUM:
        if (proto >= 3) buf_printf(b, "%c%s\r\n", r->type == RREPLY_DOUBLE ? ',' : '(', r->str);
        else resp_add_bulk(b, r->str, r->len);
        return;
    case RREPLY_MAP:
        if (top && pairs && proto < 3) {
            /* XREAD: RESP3 answers a map, RESP2 an array of pairs. */
            resp_add_array_len(b, (long long)(r->elements / 2));
            for (size_t i = 0; i + 1 < r->elements; i += 2) {
                resp_add_array_len(b, 2);
                encode_reply(b, r->element[i], proto, false, false);
                encode_reply(b, r->element[i + 1], proto, false, false);
            }
            return;
        }
        resp_add_map_len(b, (long long)(r->elements / 2), proto);
        break;
    case RREPLY_SET: resp_add_set_len(b, (long long)r->elements, proto); break;
    case RREPLY_ARRAY:
    case RREPLY_PUSH: resp_add_array_len(b, (long long)r->elements); break;
    }
    for (size_t i = 0; i < r->elements; i++) encode_reply(b, r->element[i], proto, false, false);
}

static void fwd_reply(upstream_link *l, fwd_rec *f, const rreply *r) {
    if (f->slot) {
        buf b = {0};
        if (r) {
            encode_reply(&b, r, f->proto, true, f->pairs);
        } else {
            char why[400];
            snprintf(why, sizeof(why), "UPSTREAMDOWN upstream link to %s lost before the reply",
                     upstream_link_addr(l));
            resp_add_error(&b, why);
        }
        client_slot_fill(f->slot, b.data, b.len);
        buf_free(&b);
    }
    linkinfo *li = upstream_link_owner(l);
    if (li->blocked == f) {
        /* Its one command is answered: the link goes. */
        li->blocked = NULL;
        bury(li);
    }
    fwd_free(f);
}

void upstream_forward(client *c, int argc, const slice *argv, const slice *key, bool map_as_pairs, bool blocking) {
    linkinfo *li = U.classic;
    if (key && U.mode == MODE_CLUSTER && U.map) {
        int s = U.map->slot_shard[cluster_key_slot(key->ptr, key->len)];
        li = s >= 0 && s < U.shard_count ? U.pubs[s] : NULL;
    }
    if (!li || !upstream_link_is_up(li->link)) {
        client_add_error(c, "UPSTREAMDOWN no upstream link: command not sent");
        return;
    }
    fwd_rec *f = mem_calloc(sizeof(*f));
    f->kind = REC_FWD;
    f->c = c;
    f->proto = c->resp;
    f->pairs = map_as_pairs;
    if (!(c->flags & (CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP))) f->slot = client_slot_open(c, &f->slot);
    if (blocking) {
        /* A blocking command would hold a shared link's replies behind it
         * (RESP has no request ids): it gets a connection of its own to
         * the same node, sent once up, closed once answered. */
        f->argc = argc;
        f->argv = mem_alloc(sizeof(char *) * (size_t)argc);
        f->lens = mem_alloc(sizeof(size_t) * (size_t)argc);
        for (int i = 0; i < argc; i++) {
            f->argv[i] = mem_strndup(argv[i].ptr, argv[i].len);
            f->lens[i] = argv[i].len;
        }
        linkinfo *b = linkinfo_new(-2, upstream_link_host(li->link), upstream_link_port(li->link));
        b->blocked = f;
        upstream_link_set_blocking(b->link);
        b->next_block = U.blocking;
        U.blocking = b;
        U.blocking_count++;
        upstream_link_connect(b->link);
        return;
    }
    const char *small[16];
    size_t small_lens[16];
    const char **args = argc <= 16 ? small : mem_alloc(sizeof(char *) * (size_t)argc);
    size_t *lens = argc <= 16 ? small_lens : mem_alloc(sizeof(size_t) * (size_t)argc);
    for (int i = 0; i < argc; i++) {
        args[i] = argv[i].ptr;
        lens[i] = argv[i].len;
    }
    upstream_link_command(li->link, argc, args, lens, f);
    if (args != small) {
        mem_free(args);
        mem_free(lens);
    }
}

bool upstream_unblock(client *c, bool error) {
    for (linkinfo *b = U.blocking; b; b = b->next_block) {
        fwd_rec *f = b->blocked;
        if (!f || !f->slot || f->c != c) continue;
        /* Answered here as the upstream would; closing the connection
         * unblocks the command there. */
        buf r = {0};
        if (error) resp_add_error(&r, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
        else resp_add_null_array(&r, f->proto);
        client_slot_fill(f->slot, r.data, r.len);
        buf_free(&r);
        bury(b);
        return true;
    }
    return false;
}

static void on_reply(upstream_link *l, void *cookie, const rreply *r) {
    if (cookie == &U.refresh_cookie) on_refresh_reply(l, r);
    else if (*(int *)cookie == REC_FWD) fwd_reply(l, cookie, r);
    else pub_reply(l, cookie, r);
}

static const upstream_link_ops link_ops = {
    .up = on_up,
    .down = on_down,
    .message = on_message,
    .confirmed = on_confirmed,
    .unsolicited = on_unsolicited,
    .refused = on_refused,
    .reply = on_reply,
};

/* ------------------------------------------------------------------------
 * Cron, before-sleep, start and stop
 * ------------------------------------------------------------------------ */

static long long upstream_cron(ev_loop *loop, long long id, void *data) {
    (void)loop, (void)id, (void)data;
    long long now = util_time_ms();
    linkinfo *links[UPSTREAM_MAX_LINKS];
    int n = all_links(links, UPSTREAM_MAX_LINKS);
    for (int i = 0; i < n; i++) {
        linkinfo *li = links[i];
        upstream_link_cron(li->link, now);
        if (upstream_link_state(li->link) == LINK_IDLE && li->retry_at_ms <= now) upstream_link_connect(li->link);
    }
    for (linkinfo *b = U.blocking, *next; b; b = next) {
        next = b->next_block;
        if (b->blocked && !b->blocked->slot) {
            /* Its client went away: closing the connection unblocks the
             * command upstream. A command in flight is freed as its reply
             * never comes (fwd_reply); one not sent yet with the link. */
            bury(b);
            continue;
        }
        upstream_link_cron(b->link, now);
    }
    if (U.hold_head) drain_hold();
    if (U.mode == MODE_CLUSTER && !U.refresh_inflight && now - U.last_refresh_ms >= cfg.upstream_refresh_period)
        request_refresh();
    else if (U.refresh_again && !U.refresh_inflight)
        request_refresh();
    return UPSTREAM_CRON_MS;
}

void upstream_before_sleep(void) {
    if (U.mode == MODE_NONE) return;
    if (U.unsolicited_pass) {
        log_warning("Upstream %s unsubscribed %zu names on its own (failover or slot migration); resubscribing",
                    U.unsolicited_addr, U.unsolicited_pass);
        U.unsolicited_pass = 0;
    }
    settle_dirty();
    if (U.hold_added) {
        U.hold_added = false;
        drain_hold();
    }
    linkinfo *links[UPSTREAM_MAX_LINKS];
    int n = all_links(links, UPSTREAM_MAX_LINKS);
    bool all_settled = settled();
    for (int i = 0; i < n; i++) check_gap_end(links[i], all_settled);
    free_graveyard();
    upstream_link_flush_all();
}

int upstream_init(ev_loop *loop, pubsub *ps, char *err, size_t errlen) {
    if (!cfg.upstream || !cfg.upstream[0]) return 0;
    U.loop = loop;
    U.ps = ps;
    if (cfg.upstream_tls && tls_upstream_configure(err, errlen) == -1) return -1;
    const char *p = cfg.upstream;
    while (*p) {
        size_t n = strcspn(p, " ");
        char item[300];
        snprintf(item, sizeof(item), "%.*s", (int)(n < 299 ? n : 299), p);
        char *colon = strrchr(item, ':');
        if (colon) {
            *colon = '\0';
            char *host = item;
            if (host[0] == '[' && colon > item && colon[-1] == ']') {
                host++;
                colon[-1] = '\0';
            }
            add_seed(host, atoi(colon + 1));
        }
        p += n;
        while (*p == ' ') p++;
    }
    if (U.seed_count == 0) {
        snprintf(err, errlen, "upstream: no address");
        return -1;
    }
    U.mode = cfg.upstream_cluster == CONFIG_UPSTREAM_CLUSTER_NO    ? MODE_STANDALONE
             : cfg.upstream_cluster == CONFIG_UPSTREAM_CLUSTER_YES ? MODE_CLUSTER
                                                                   : MODE_DETECTING;
    for (int w = 0; w < 3; w++) U.dirty[w] = dict_new(&dirty_type);
    pubsub_set_topic_hook(ps, on_topic, NULL);
    U.classic = linkinfo_new(-1, U.seeds[0].host, U.seeds[0].port);
    log_notice("Relay mode: upstream %s (%s)", cfg.upstream, mode_names[U.mode]);
    upstream_link_connect(U.classic->link);
    ev_add_timer(loop, UPSTREAM_CRON_MS, upstream_cron, NULL);
    return 0;
}

void upstream_shutdown(void) {
    if (U.mode == MODE_NONE) return;
    pubsub_set_topic_hook(U.ps, NULL, NULL);
    while (U.hold_head) {
        pub_rec *p = U.hold_head;
        U.hold_head = p->next;
        pub_free(p);
    }
    U.hold_tail = NULL;
    while (U.blocking) bury(U.blocking);
    linkinfo *links[UPSTREAM_MAX_LINKS];
    int n = all_links(links, UPSTREAM_MAX_LINKS);
    for (int i = 0; i < n; i++) bury(links[i]);
    U.classic = NULL;
    mem_free(U.shards);
    mem_free(U.pubs);
    U.shards = U.pubs = NULL;
    U.shard_count = 0;
    free_graveyard();
    cluster_map_free(U.map);
    U.map = NULL;
    for (int w = 0; w < 3; w++) dict_free(U.dirty[w]);
    mem_free(U.seeds);
    U.seeds = NULL;
    U.mode = MODE_NONE;
}

/* ------------------------------------------------------------------------
 * INFO upstream
 * ------------------------------------------------------------------------ */

static const char *const state_names[] = {"down", "connecting", "connecting", "up"};

void upstream_info(buf *o) {
    buf_append_str(o, "# Upstream\r\n");
    buf_printf(o, "upstream_mode:%s\r\n", mode_names[U.mode]);
    linkinfo *links[UPSTREAM_MAX_LINKS];
    int n = all_links(links, UPSTREAM_MAX_LINKS);
    int up = 0;
    size_t pending = 0, held[3] = {0, 0, 0};
    for (int i = 0; i < n; i++) {
        upstream_link *l = links[i]->link;
        if (upstream_link_is_up(l)) up++;
        pending += upstream_link_pending(l);
        for (int w = 0; w < 3; w++) held[w] += dict_size(upstream_link_held(l, w));
    }
    for (int w = 0; w < 3; w++) pending += dict_size(U.dirty[w]);
    const char *status = U.mode == MODE_NONE ? "none" : up == n && n > 0 ? "up" : up == 0 ? "down" : "partial";
    buf_printf(o, "upstream_status:%s\r\n", status);
    buf_printf(o, "upstream_links:%d\r\n", n);
    for (int i = 0; i < n; i++) {
        upstream_link *l = links[i]->link;
        size_t subs = 0;
        for (int w = 0; w < 3; w++) subs += dict_size(upstream_link_held(l, w));
        buf_printf(o, "upstream_link%d:addr=%s,kind=%s,role=%s,state=%s,up_since_ms=%lld,subs=%zu\r\n", i,
                   upstream_link_addr(l), link_kind(links[i]), upstream_link_role(l),
                   state_names[upstream_link_state(l)], upstream_link_up_since_ms(l), subs);
    }
    buf_printf(o, "upstream_channels:%zu\r\n", held[PUBSUB_CHANNEL]);
    buf_printf(o, "upstream_patterns:%zu\r\n", held[PUBSUB_PATTERNS]);
    buf_printf(o, "upstream_shard_channels:%zu\r\n", held[PUBSUB_SHARD]);
    buf_printf(o, "upstream_pending:%zu\r\n", pending);
    buf_printf(o, "upstream_messages_in:%lld\r\n", U.st.messages_in);
    buf_printf(o, "upstream_deliveries:%lld\r\n", U.st.deliveries);
    buf_printf(o, "upstream_publish_forwarded:%lld\r\n", U.st.forwarded);
    buf_printf(o, "upstream_publish_held:%lld\r\n", U.st.held);
    buf_printf(o, "upstream_publish_held_now:%zu\r\n", U.hold_count);
    buf_printf(o, "upstream_publish_failed:%lld\r\n", U.st.failed);
    buf_printf(o, "upstream_publish_moved:%lld\r\n", U.st.moved);
    buf_printf(o, "upstream_blocking_links:%d\r\n", U.blocking_count);
    buf_printf(o, "upstream_reconnects:%lld\r\n", U.st.reconnects);
    buf_printf(o, "upstream_topology_refreshes:%lld\r\n", U.st.refreshes);
    buf_printf(o, "upstream_gaps:%lld\r\n", U.st.gaps);
    buf_printf(o, "upstream_gap_total_ms:%lld\r\n", U.st.gap_total_ms);
    buf_printf(o, "upstream_gap_last_ms:%lld\r\n", U.st.gap_last_ms);
}
