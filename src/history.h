/* history.h -- Channel histories: the last messages of channels whose names
 * match a `channel-history` rule, kept as stream entries (id <ms>-<seq>,
 * one field "message") that hold the frame already built for subscribers.
 *
 * Contract:
 *   - A rule is <glob> <max-messages> <max-seconds> (0 seconds: no age
 *     limit); the first rule, in configuration order, that matches a
 *     channel decides its limits.
 *   - With no rule configured, history_for_publish() is one load and a
 *     branch. With rules, the decision per channel name is cached (a
 *     positive one is the history itself, negative ones live in a bounded
 *     cache), so a PUBLISH does not run the glob matcher every time.
 *   - Ids grow strictly per channel, whatever the wall clock does: the
 *     next id is <now>-0 when now is past the last id's ms, else
 *     <last ms>-<last seq + 1> (as Redis streams generate "*").
 *   - An entry retains a frame (frame_retain) and points at the payload's
 *     bulk string inside it ("$<len>\r\n<bytes>\r\n"); removing the entry
 *     releases the frame. Nothing is copied.
 *   - A history, once created, lives (possibly empty, keeping its last id)
 *     until the rules stop matching its channel.
 *   - channel-history-max-memory bounds entries + frames of all histories
 *     together: the globally oldest entries are evicted first (a heap of
 *     histories keyed by the insertion order of their first entry), each
 *     eviction counted, and logged at most once a second.
 * It knows nothing about clients, sockets or RESP beyond the frame bytes.
 * Persistence (channel-history-dir) is history_log.c: history.c calls its
 * hooks on append, release, XDEL, XTRIM and drop. */
#ifndef HISTORY_H
#define HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
typedef struct frame frame;

typedef struct history_id {
    uint64_t ms, seq;
} history_id;

typedef struct history_entry {
    history_id id;
    frame *f;                 /* retained */
    uint32_t off;             /* offset in f->data of the payload's "$<len>\r\n" */
    uint32_t payload_len;     /* bytes of the payload itself */
    long long added_ms;       /* monotonic ms when appended: age trimming */
    uint64_t order;           /* global insertion order: memory eviction */
} history_entry;

typedef struct history {
    char *name;               /* owned: the channel */
    size_t name_len;
    long long max_messages;   /* from the rule that matched */
    long long max_seconds;    /* 0: no age limit */
    history_entry *e;         /* owned: entries [start, start + count) of cap */
    size_t start, count, cap;
    history_id last_id;       /* last generated: ids only grow */
    history_id max_deleted_id;
    uint64_t entries_added;
    size_t bytes;             /* entries' share of memory: struct + frame bytes */
    size_t heap_idx;          /* position in the eviction heap, SIZE_MAX if empty */
    struct history_log_file *log; /* owned by history_log.c: its file, NULL if none */
} history;

/* Number of rules configured: 0 means no channel has history. */
extern size_t history_rule_count;

/* ---- Rules ---------------------------------------------------------------- */

/* Parses rules given as arguments: <glob> <max-messages> [<max-seconds>]
 * repeated (a token after max-messages that is a number is its
 * max-seconds). Writes the canonical form "glob n s glob n s ..." (globs
 * quoted when needed) to canon if not NULL. Returns 0, or -1 with err. */
int history_rules_parse(int argc, char **argv, struct buf *canon, char *err, size_t errlen);
/* Installs the rules of a canonical text (as CONFIG GET shows it). Every
 * existing history is matched again: dropped if nothing matches any more,
 * else given its (new) limits and trimmed. Returns 0, or -1 with err. */
int history_configure(const char *canon, char *err, size_t errlen);
/* 0: no cap. Evicts at once if over the new cap. */
void history_set_max_memory(long long bytes);
/* Frees everything (shutdown). */
void history_free_all(void);

/* ---- Finding -------------------------------------------------------------- */

/* The history a publish to ch appends to, created on first use; NULL if no
 * rule matches (then cheap: see the contract). */
static inline bool history_enabled(void) {
    return history_rule_count != 0;
}
history *history_for_publish(const char *ch, size_t len);
/* The existing history of ch (for reads), age-trimmed first; NULL if none. */
history *history_find(const char *ch, size_t len);

/* ---- Writing -------------------------------------------------------------- */

/* The id the next append to h would get at wall-clock now_ms. */
history_id history_next_id(const history *h, long long now_ms);
/* Appends an entry holding f (retained here) whose payload bulk starts at
 * off, with the next id; trims by count, age and memory. Returns the id. */
history_id history_append(history *h, frame *f, size_t off, size_t payload_len);
/* Appends an entry read back from disk with exactly id (ids only grow:
 * last_id becomes the larger of both); its age counts from id's ms. */
void history_append_loaded(history *h, frame *f, size_t off, size_t payload_len, history_id id);
/* After the last history_append_loaded(): applies the memory cap. */
void history_loaded(void);
/* XDEL: removes the entry with exactly id; 1 if it was there, else 0. */
int history_delete(history *h, history_id id);
/* XTRIM MAXLEN / MINID. approx: only whole modeled nodes go (see
 * HISTORY_NODE_ENTRIES); limit (with approx only): at most that many
 * entries removed, 0 for no limit, -1 for Redis's default (10000). Returns the entries removed. */
size_t history_trim_maxlen(history *h, uint64_t maxlen, bool approx, long long limit);
size_t history_trim_minid(history *h, history_id minid, bool approx, long long limit);
/* Age trimming of every history (the server's cron). */
void history_cron(void);

/* Entries per modeled radix-tree node, Redis's stream-node-max-entries
 * default: "~" trimming removes whole nodes of this many entries, counted
 * from the channel's first entry ever, and XINFO's radix-tree figures are
 * derived from it. */
#define HISTORY_NODE_ENTRIES 100

/* ---- Reading -------------------------------------------------------------- */

/* Entry i (0 = oldest) of h. */
static inline history_entry *history_at(const history *h, size_t i) {
    return &h->e[h->start + i];
}
/* Index of the first entry with id >= id (count if none). */
size_t history_lower_bound(const history *h, history_id id);
/* Index of the first entry with id > id (count if none). */
size_t history_upper_bound(const history *h, history_id id);
/* The payload's bulk string bytes ("$<len>\r\n<payload>\r\n") of e. */
static inline const char *history_entry_bulk(const history_entry *e, size_t *len);
/* XINFO radix-tree-keys / radix-tree-nodes as modeled (see the .c file). */
long long history_radix_keys(const history *h);
long long history_radix_nodes(const history *h);

/* ---- Ids ------------------------------------------------------------------ */

int history_id_cmp(history_id a, history_id b);
/* Parses "<ms>[-<seq>]" as Redis does; a missing seq is 0, or UINT64_MAX
 * when missing_seq_max. "-" and "+" are the smallest and largest ids when
 * allow_minmax. Returns 0, or -1 if invalid. *seq_given tells whether the
 * text had a seq part (may be NULL). */
int history_id_parse(const char *s, size_t len, bool missing_seq_max, bool allow_minmax, history_id *out,
                     bool *seq_given);
/* Writes "<ms>-<seq>" with a NUL; returns its length (dst >= 42 bytes). */
int history_id_format(history_id id, char *dst);
/* id + 1 / id - 1; -1 if there is no such id (the max / 0-0). */
int history_id_incr(history_id *id);
int history_id_decr(history_id *id);

/* ---- INFO ----------------------------------------------------------------- */

typedef struct history_stats {
    long long channels;       /* histories held */
    long long entries;
    long long bytes;
    long long evictions;      /* entries evicted by channel-history-max-memory */
    long long max_memory;
} history_stats;
void history_get_stats(history_stats *st);
/* Calls cb for every history (in no particular order); cb must not change
 * the histories. */
void history_foreach(void (*cb)(void *ctx, history *h), void *ctx);

#include "frame.h"
static inline const char *history_entry_bulk(const history_entry *e, size_t *len) {
    *len = e->f->len - e->off;
    return e->f->data + e->off;
}

#endif
