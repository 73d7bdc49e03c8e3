/* pubsub.h -- The subscription registry: channels, patterns and shard
 * channels, and fan-out of a publish through a delivery callback. It knows
 * nothing about sockets or RESP: a subscriber is an opaque owner pointer. */
#ifndef PUBSUB_H
#define PUBSUB_H

#include <stdbool.h>
#include <stddef.h>

typedef struct pubsub pubsub;           /* the registry (opaque) */
typedef struct pubsub_sub pubsub_sub;   /* one subscriber's holdings (opaque) */

/* Channel namespaces. They never see each other's subscriptions. */
typedef enum { PUBSUB_CHANNEL = 0, PUBSUB_SHARD = 1 } pubsub_kind;
/* For pubsub_sub_foreach(): the subscriber's patterns. */
#define PUBSUB_PATTERNS 2

/* Called with a channel or pattern name; the bytes are borrowed and valid
 * during the call only. */
typedef void pubsub_name_fn(void *ctx, const char *name, size_t len);
/* Called once per delivery of a publish; pattern is NULL for a channel
 * subscriber, else the matching pattern (see pubsub_publish). */
typedef void pubsub_deliver_fn(void *ctx, void *owner, const char *pattern, size_t pattern_len);

/* ---- Lifetime ----------------------------------------------------------- */

/* Returns an owned, empty registry. */
pubsub *pubsub_new(void);
/* Frees the registry and every pubsub_sub in it; handles callers still hold
 * become dangling, so release subscribers first or forget their handles.
 * NULL is a no-op. */
void pubsub_free(pubsub *ps);

/* ---- Subscribing ---------------------------------------------------------
 * *sp is the subscriber's handle: NULL until its first subscription, when the
 * registry allocates it, and set back to NULL (memory freed) as soon as the
 * subscriber holds nothing. The handle is owned by the registry; the caller
 * only stores it. Names are borrowed; the registry copies what it keeps.
 * Subscribe returns 1 if added, 0 if already held; unsubscribe returns 1 if
 * removed, 0 if not held. owner is recorded on the first subscription and
 * must be the same on every later one. */

int pubsub_subscribe(pubsub *ps, pubsub_sub **sp, void *owner, pubsub_kind kind,
                     const char *ch, size_t len);
int pubsub_unsubscribe(pubsub *ps, pubsub_sub **sp, pubsub_kind kind, const char *ch, size_t len);
int pubsub_psubscribe(pubsub *ps, pubsub_sub **sp, void *owner, const char *pat, size_t len);
int pubsub_punsubscribe(pubsub *ps, pubsub_sub **sp, const char *pat, size_t len);

/* Unsubscribes from every channel of kind, calling cb(ctx, name, len) after
 * each removal (channels in no particular order). Inside cb the counts below
 * already reflect the removal and *sp is still valid; *sp becomes NULL after
 * the last call if nothing is left. cb may be NULL; it must not call into the
 * registry except for the read-only counts. */
void pubsub_unsubscribe_all(pubsub *ps, pubsub_sub **sp, pubsub_kind kind, pubsub_name_fn *cb,
                            void *ctx);
/* As pubsub_unsubscribe_all() for patterns, in subscription order. */
void pubsub_punsubscribe_all(pubsub *ps, pubsub_sub **sp, pubsub_name_fn *cb, void *ctx);
/* Drops everything the subscriber holds (client disconnect); *sp becomes NULL. */
void pubsub_sub_release(pubsub *ps, pubsub_sub **sp);
/* Drops at most max of what a subscriber holds, so a client with 100k
 * subscriptions can be released across several loop passes. Returns what
 * is still held; at 0, *sp has been freed and set to NULL. */
size_t pubsub_sub_release_some(pubsub *ps, pubsub_sub **sp, size_t max);
/* Channels, shard channels and patterns held in all (sub may be NULL). */
size_t pubsub_sub_held(const pubsub_sub *s);

/* ---- One subscriber ----------------------------------------------------- */

/* Channels of kind held by s; 0 for a NULL s. */
size_t pubsub_sub_channels(const pubsub_sub *s, pubsub_kind kind);
/* Patterns held by s; 0 for a NULL s. */
size_t pubsub_sub_patterns(const pubsub_sub *s);
/* Calls cb for each channel of what (PUBSUB_CHANNEL or PUBSUB_SHARD, any
 * order) or each pattern (PUBSUB_PATTERNS, subscription order) held by s,
 * changing nothing. s may be NULL. cb must not modify the registry. */
void pubsub_sub_foreach(const pubsub_sub *s, int what, pubsub_name_fn *cb, void *ctx);

/* ---- Publishing ----------------------------------------------------------
 * Calls deliver once per delivery: first each subscriber of the channel in
 * subscription order (pattern NULL); then, for kind PUBSUB_CHANNEL only, for
 * each held pattern that matches the channel, each subscriber of that pattern
 * in a row, all with the same pattern pointer (stable during the call, so the
 * caller can encode one pmessage frame per pattern). Returns the number of
 * deliveries: a subscriber reached through the channel and a pattern, or
 * through two patterns, counts each time. deliver must not modify the
 * registry. Patterns whose literal prefix cannot start the channel are never
 * looked at. */
long long pubsub_publish(pubsub *ps, pubsub_kind kind, const char *ch, size_t len,
                         pubsub_deliver_fn *deliver, void *ctx);

/* As pubsub_publish() for the channel's own subscribers only: no pattern is
 * looked at. A relay fans out an upstream "message" this way, since the
 * upstream sends a "pmessage" of its own for each matching pattern. */
long long pubsub_publish_exact(pubsub *ps, pubsub_kind kind, const char *ch, size_t len,
                               pubsub_deliver_fn *deliver, void *ctx);
/* Delivers to the subscribers of exactly the pattern pat (an upstream
 * "pmessage"), with the registry's stable copy of pat as the pattern
 * argument. Returns the deliveries; 0 if nobody holds pat. */
long long pubsub_publish_pattern(pubsub *ps, const char *pat, size_t plen, pubsub_deliver_fn *deliver,
                                 void *ctx);

/* ---- Topics as a whole (relay mode) ---------------------------------------
 * A topic is a channel, shard channel or pattern (what: PUBSUB_CHANNEL,
 * PUBSUB_SHARD or PUBSUB_PATTERNS) that at least one subscriber holds. */

/* Called with added=true right after a topic gets its first subscriber, and
 * with added=false right before it loses its last (by any path: unsubscribe,
 * unsubscribe-all, release). name is borrowed for the call; fn must not
 * modify the registry. */
typedef void pubsub_topic_fn(void *ctx, int what, const char *name, size_t len, bool added);
/* Installs the topic hook (one; NULL removes it). */
void pubsub_set_topic_hook(pubsub *ps, pubsub_topic_fn *fn, void *ctx);
/* True if some subscriber holds the topic. */
bool pubsub_topic_exists(const pubsub *ps, int what, const char *name, size_t len);
/* Calls cb for every topic of what, in no particular order; cb must not
 * modify the registry. */
void pubsub_topics_foreach(const pubsub *ps, int what, pubsub_name_fn *cb, void *ctx);

/* ---- Introspection (PUBSUB, INFO) ---------------------------------------- */

/* Channels of kind with at least one subscriber. */
size_t pubsub_channel_count(const pubsub *ps, pubsub_kind kind);
/* Distinct patterns with at least one subscriber (PUBSUB NUMPAT). */
size_t pubsub_pattern_count(const pubsub *ps);
/* Subscribers of one channel of kind (PUBSUB NUMSUB, SHARDNUMSUB). */
size_t pubsub_numsub(const pubsub *ps, pubsub_kind kind, const char *ch, size_t len);
/* Calls cb for every channel of kind with subscribers, in no particular
 * order (PUBSUB CHANNELS). cb must not modify the registry. */
void pubsub_channels_foreach(const pubsub *ps, pubsub_kind kind, pubsub_name_fn *cb, void *ctx);

#endif
