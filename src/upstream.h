/* upstream.h -- Relay mode: mirrors the local registry's interest upstream
 * (one upstream subscription per channel, pattern and shard channel held
 * locally), forwards PUBLISH/SPUBLISH upstream and fans out what comes back.
 * Over a standalone upstream there is one link; over a Redis Cluster, one
 * for classic subscriptions and one per shard for shard channels. */
#ifndef UPSTREAM_H
#define UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ev_loop ev_loop;
typedef struct pubsub pubsub;
typedef struct client client;
typedef struct buf buf;

/* Starts relay mode if cfg.upstream is set (else does nothing): installs
 * the registry hook and connects. Returns 0, or -1 with err filled (a bad
 * upstream TLS setup). */
int upstream_init(ev_loop *loop, pubsub *ps, char *err, size_t errlen);
/* True when this node is a relay. */
bool upstream_is_relay(void);
/* Before the loop sleeps: send the pass's subscription changes, batched,
 * and write every link's output. */
void upstream_before_sleep(void);
/* Closes every link and frees everything (shutdown). */
void upstream_shutdown(void);

/* Forwards a PUBLISH (or SPUBLISH when shard) of client c; the upstream's
 * reply becomes c's reply, in its place among c's replies. Held while no
 * link can take it, answered -UPSTREAMDOWN when the hold runs out. */
void upstream_publish(client *c, bool shard, const char *ch, size_t chlen, const char *msg, size_t msglen);

/* Sends c's command (argv borrowed) to the upstream node that holds key
 * (NULL: any), and gives c the reply, in its protocol and its place among
 * c's replies; -UPSTREAMDOWN at once when no link can take it. For the
 * Streams commands of channel history on a relay. map_as_pairs: the
 * command's RESP2 form of a top-level map is an array of [key, value]
 * pairs (XREAD), not a flat array. blocking (XREAD BLOCK): the command
 * gets an upstream connection of its own, closed once it is answered or
 * its client goes away. */
typedef struct slice slice;
void upstream_forward(client *c, int argc, const slice *argv, const slice *key, bool map_as_pairs, bool blocking);
/* CLIENT UNBLOCK of a client whose blocking command waits upstream: its
 * reply is the null array (timeout) or -UNBLOCKED (error), the upstream
 * connection is closed. False if c has no such command. */
bool upstream_unblock(client *c, bool error);

/* The INFO "upstream" section's lines. */
void upstream_info(buf *o);

#endif
