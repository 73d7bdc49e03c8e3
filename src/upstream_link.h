/* upstream_link.h -- One outbound RESP3 connection of a relay to an upstream
 * node: non-blocking connect, TLS, HELLO 3 with AUTH, pipelined requests
 * matched to their replies in order, PING liveness, and the subscription
 * bookkeeping RESP needs (confirmations are pushes, refusals are replies).
 * It knows nothing of local clients or of the cluster: what it reads goes
 * to its owner through the callbacks below. */
#ifndef UPSTREAM_LINK_H
#define UPSTREAM_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include "dict.h"

typedef struct ev_loop ev_loop;
typedef struct rreply rreply;
typedef struct upstream_link upstream_link;

typedef enum {
    LINK_IDLE = 0,     /* not connected, nothing in progress */
    LINK_CONNECTING,   /* TCP connect, TLS handshake */
    LINK_HELLO,        /* HELLO 3 sent, waiting for its reply */
    LINK_UP,           /* serving requests */
} link_state;

/* Subscription operations, in the order of the push names they confirm. */
typedef enum {
    LINK_SUBSCRIBE = 0, LINK_PSUBSCRIBE, LINK_SSUBSCRIBE,
    LINK_UNSUBSCRIBE, LINK_PUNSUBSCRIBE, LINK_SUNSUBSCRIBE,
    LINK_OP_COUNT
} link_op;

/* What the owner hears. Every callback runs from the loop, never from
 * inside a call the owner made; a callback must not free the link (close
 * it instead: upstream_link_close() is safe anywhere). */
typedef struct upstream_link_ops {
    /* HELLO succeeded: the link serves requests. role is the server's
     * ("master", "replica", or "" when HELLO did not say). */
    void (*up)(upstream_link *l, const char *role);
    /* The link closed (why: for logs). Requests in flight have had their
     * reply callback with NULL first. The owner may connect it again. */
    void (*down)(upstream_link *l, const char *why);
    /* message / pmessage / smessage push (borrowed for the call). */
    void (*message)(upstream_link *l, const rreply *push);
    /* The server confirmed op for name (ours, in the order sent). */
    void (*confirmed)(upstream_link *l, link_op op, const char *name, size_t len);
    /* The server unsubscribed name on its own (op is an unsubscribe kind):
     * a cluster failover or slot migration. */
    void (*unsolicited)(upstream_link *l, link_op op, const char *name, size_t len);
    /* The server refused a subscription command (MOVED, CROSSSLOT, NOPERM...):
     * none of its names is subscribed. err is the error reply. */
    void (*refused)(upstream_link *l, link_op op, char **names, size_t *lens, int count, const rreply *err);
    /* The reply to upstream_link_command() (borrowed), or NULL if the link
     * closed before it came. */
    void (*reply)(upstream_link *l, void *cookie, const rreply *r);
} upstream_link_ops;

/* Returns an owned, idle link to host:port; owner is the caller's pointer. */
upstream_link *upstream_link_new(ev_loop *loop, const upstream_link_ops *ops, void *owner, const char *host,
                                 int port);
/* Closes (as upstream_link_close) and frees; NULL is a no-op. Never from a
 * callback of the same link. */
void upstream_link_free(upstream_link *l);
/* Starts connecting (idle links only; a connected one is left as it is).
 * Failures are reported through down(). */
void upstream_link_connect(upstream_link *l);
/* Points an idle link at another node. */
void upstream_link_retarget(upstream_link *l, const char *host, int port);
/* Drops the connection: replies in flight get NULL, then down(why). No-op
 * on an idle link. */
void upstream_link_close(upstream_link *l, const char *why);

/* Sends a command (argv borrowed, copied into the output); its reply goes
 * to ops->reply with cookie. Only on an up link. */
void upstream_link_command(upstream_link *l, int argc, const char **argv, const size_t *lens, void *cookie);
/* Sends op for names (borrowed): one command; each name's confirmation
 * goes to ops->confirmed, a refusal to ops->refused. Only on an up link. */
void upstream_link_subscribe(upstream_link *l, link_op op, int count, const char **names, const size_t *lens);

/* Writes the output of every link that has some (before the loop sleeps). */
void upstream_link_flush_all(void);
/* Once per cron tick: PINGs, reply timeouts, connect timeouts. */
void upstream_link_cron(upstream_link *l, long long now_ms);

/* ---- Queries ------------------------------------------------------------ */
link_state upstream_link_state(const upstream_link *l);
bool upstream_link_is_up(const upstream_link *l);
const char *upstream_link_host(const upstream_link *l);
int upstream_link_port(const upstream_link *l);
/* "host:port" (borrowed). */
const char *upstream_link_addr(const upstream_link *l);
const char *upstream_link_role(const upstream_link *l);
/* Marks a link made for one blocking command (XREAD BLOCK): once up it
 * sends no PINGs and has no reply timeout. */
void upstream_link_set_blocking(upstream_link *l);
/* What the owner learnt of the node's role since HELLO (a cluster map). */
void upstream_link_set_role(upstream_link *l, const char *role);
void *upstream_link_owner(const upstream_link *l);
long long upstream_link_up_since_ms(const upstream_link *l);
/* Subscription confirmations still awaited. */
size_t upstream_link_pending(const upstream_link *l);
/* Requests sent whose replies have not come. */
size_t upstream_link_inflight(const upstream_link *l);
/* Bytes queued for the socket. */
size_t upstream_link_out_bytes(const upstream_link *l);

/* The owner's per-link data: names held on this link, by kind
 * (PUBSUB_CHANNEL, PUBSUB_SHARD, PUBSUB_PATTERNS): name -> NULL. */
dict *upstream_link_held(upstream_link *l, int what);
/* The owner's tag for this link (shard index, -1 for the classic link). */
int upstream_link_tag(const upstream_link *l);
void upstream_link_set_tag(upstream_link *l, int tag);

#endif
