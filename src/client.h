/* client.h -- Client lifecycle, input parsing, output queue and limits. */
#ifndef CLIENT_H
#define CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "conn.h"
#include "net.h"
#include "resp.h"
#include "util.h"

typedef struct ev_loop ev_loop;
typedef struct pubsub pubsub;
typedef struct pubsub_sub pubsub_sub;
typedef struct frame frame;
typedef struct client client;
typedef struct acl_user acl_user;
typedef struct tls_conn tls_conn;
typedef struct client_tracking client_tracking;
typedef struct history_wait history_wait;

/* Phases of a connection, changed only by client_set_state(). */
typedef enum client_state {
    CLIENT_ACTIVE = 0,            /* reading and running commands */
    CLIENT_CLOSE_AFTER_REPLY,     /* stop reading; close once output is flushed */
    CLIENT_CLOSE_ASAP,            /* freed in before-sleep, output dropped */
} client_state;

/* client.flags */
#define CLIENT_MULTI         (1u << 0)   /* inside MULTI */
#define CLIENT_DIRTY_EXEC    (1u << 1)   /* a queued command was refused */
#define CLIENT_PENDING_WRITE (1u << 2)   /* on the pending-write list */
#define CLIENT_UNIX_SOCKET   (1u << 3)
#define CLIENT_NO_EVICT      (1u << 4)
#define CLIENT_NO_TOUCH      (1u << 5)
#define CLIENT_REPLY_OFF     (1u << 6)
#define CLIENT_REPLY_SKIP_NEXT (1u << 7) /* CLIENT REPLY SKIP: skip the next command's reply */
#define CLIENT_REPLY_SKIP    (1u << 8)   /* the current command's reply is skipped */
#define CLIENT_READ_PAUSED   (1u << 9)   /* output backlog: not reading input */
#define CLIENT_PROTECTED     (1u << 10)  /* being freed / in a handler: do not free now */
#define CLIENT_WRITE_ARMED   (1u << 11)  /* EV_WRITABLE registered */
#define CLIENT_MONITOR       (1u << 12)  /* MONITOR: fed every command (cmd_monitor.c) */
#define CLIENT_HELD          (1u << 13)  /* a command waits for CLIENT PAUSE to end */
#define CLIENT_BLOCKED       (1u << 14)  /* XREAD BLOCK: waits for data (cmd_history.c) */

/* Output-buffer limit classes, as in client-output-buffer-limit. */
enum { CLIENT_CLASS_NORMAL = 0, CLIENT_CLASS_REPLICA = 1, CLIENT_CLASS_PUBSUB = 2 };

typedef struct command command;

/* A reply that comes later (relay mode: a PUBLISH answered by the
 * upstream). Replies queued after it wait behind it, so the client still
 * reads replies in command order. */
typedef struct client_slot client_slot;

typedef struct multi_cmd {
    const command *cmd;           /* borrowed: the static command table; what EXEC runs */
    int argc;
    slice *argv;                  /* owned, each ptr owned */
} multi_cmd;

struct client {
    uint64_t id;
    int fd;
    client_state state;
    unsigned flags;
    int resp;                     /* protocol: 2 or 3 */
    int db;                       /* SELECTed database (ignored by pub/sub) */
    bool authenticated;
    tls_conn *tls;                /* owned: TLS state, NULL on a plain socket */
    char *user;                   /* owned: authenticated user name, NULL = "default" */
    acl_user *acl;                /* borrowed: lives in acl.c; the user named by user, NULL = default */
    char *name;                   /* owned: CLIENT SETNAME, NULL if none */
    char *lib_name;               /* owned: CLIENT SETINFO lib-name */
    char *lib_ver;                /* owned: CLIENT SETINFO lib-ver */

    buf qbuf;                     /* query buffer, allocated on demand */
    resp_parser parser;
    size_t qbuf_peak;             /* bytes, recent peak, for shrinking */

    conn_out out;                 /* queued output: frame references and small replies */
    long long soft_limit_since_ms;/* when the soft output limit was first exceeded, 0 if not */

    client_slot *slots;           /* owned: replies waiting for a late one, oldest first */
    client_slot *slots_tail;      /* borrowed: the last of them */
    uint32_t slots_count;
    pubsub_sub *subs;             /* owned by the registry: what it subscribes */
    int multi_count;
    multi_cmd *multi;             /* owned: commands queued by MULTI */
    multi_cmd held;               /* owned: the command CLIENT PAUSE holds, argc 0 if none */
    client_tracking *tracking;    /* owned by cmd_tracking.c: CLIENT TRACKING state, NULL when off */
    history_wait *hwait;          /* owned by cmd_history.c: XREAD BLOCK state, NULL when not blocked */
    frame **deferred;             /* owned: pushes to c held until its reply is out, each retained */
    uint32_t deferred_count;      /* pushes held */
    uint32_t deferred_cap;        /* slots of deferred */

    long long ctime_ms;           /* connected at */
    long long last_active_ms;     /* last read from the socket */
    const char *last_cmd;         /* borrowed: static name of the last command */
    char *addr;                   /* owned: "ip:port" of the peer, for logs and CLIENT LIST */

    client *prev, *next;          /* list of all clients, in connection order */
    client *pending_next;         /* list of clients with output to flush */
    client *close_next;           /* list of clients to free */
    client *held_next;            /* list of held clients, oldest first */
    client *resume_next;          /* list of unblocked clients whose input waits to run */
};

/* Runs one parsed command; argv borrows the query buffer until it returns. */
typedef void client_dispatch_fn(client *c, int argc, slice *argv);

/* Module setup: the loop to register fds in, the registry that subscribers
 * are released from, and the command dispatcher. */
void client_module_init(ev_loop *loop, pubsub *ps, client_dispatch_fn *dispatch);

/* Accept handler for a listening fd (registered by the server). */
void client_on_accept(ev_loop *loop, int fd, void *data, int mask);
/* Same for a unix-socket listener. */
void client_on_accept_unix(ev_loop *loop, int fd, void *data, int mask);
/* Same for a TLS listener: clients handshake before their first command. */
void client_on_accept_tls(ev_loop *loop, int fd, void *data, int mask);

/* Called for every client just before it is freed, with its state still
 * intact, so that higher modules drop what they keep about it (monitors,
 * tracking). One hook; NULL for none. */
typedef void client_free_hook_fn(client *c);
void client_set_free_hook(client_free_hook_fn *fn);

/* Lifecycle. */
void client_set_state(client *c, client_state state);
/* Schedules c to be freed in before-sleep (Redis freeClientAsync). */
void client_close_async(client *c);
/* Frees every client now: shutdown only. */
void client_free_all(void);
/* Before-sleep work: free closing clients, flush pending output. */
void client_before_sleep(void);
/* Once a second or so: idle timeouts, soft output limits, buffer trimming. */
void client_cron(void);

/* Replies. client_reply_buf() returns the buffer to encode a reply into
 * (resp_add_* from resp.h) and schedules the client for writing; while
 * replies are off it returns a scratch buffer that is discarded. */
buf *client_reply_buf(client *c);
void client_add_ok(client *c);
/* An error reply "-<text>\r\n"; text starts with its code ("ERR ..."). */
void client_add_error(client *c, const char *text);
void client_add_errorf(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Error replies sent since start (or CONFIG RESETSTAT), and by code. */
long long client_error_replies(void);
void client_error_codes_foreach(void (*cb)(void *ctx, const char *code, long long count), void *ctx);
/* The buffer to encode a push into (a subscribe confirmation): as
 * client_reply_buf(), but CLIENT REPLY OFF / SKIP do not silence pushes. */
buf *client_push_buf(client *c);
/* Queues the push f (a message): a reference, or a copy when small;
 * accounts the bytes. CLIENT REPLY OFF / SKIP do not silence it. */
void client_add_frame(client *c, frame *f);
/* Holds the push f (retained) for c itself until client_flush_pushes():
 * a command's pushes to its own client follow its reply (Redis 7.2). */
void client_defer_push(client *c, frame *f);
/* Queues the pushes held for c, in the order they were held. */
void client_flush_pushes(client *c);
/* Checks the output limits of c now; may schedule it to close. */
void client_check_output_limits(client *c);

/* Opens a slot for a reply that comes later; every reply after it is held
 * until it is filled. *holder (the caller's pointer to the slot) is set to
 * NULL if the client goes away first, so the filler knows. */
client_slot *client_slot_open(client *c, client_slot **holder);
/* Fills a slot with the reply's bytes and sends what is no longer waiting.
 * The slot is gone afterwards (and *holder set to NULL). */
void client_slot_fill(client_slot *s, const char *bytes, size_t len);
/* CLIENT PAUSE: holds the command being dispatched (argv is copied) and
 * stops processing c's input; the rest of its query buffer waits, and the
 * socket is still read, so a peer that goes away is noticed. */
void client_hold_command(client *c, int argc, const slice *argv);
/* Runs the held commands in the order they were held, then whatever their
 * clients sent after them. Call from the loop (a timer), not a handler. */
void client_release_held(void);

/* A blocking command (XREAD BLOCK): c runs no more input until
 * client_unblock(). Its reply comes later, from whoever unblocks it; the
 * socket is still read, so a peer that goes away is noticed. */
void client_block(client *c);
/* Ends the block; the rest of c's input runs from before-sleep (never
 * inside the handler of the client that unblocked it). */
void client_unblock(client *c);
/* Clients blocked now (INFO blocked_clients). */
long long client_blocked_count(void);

/* Ends a MULTI: drops queued commands, clears MULTI and DIRTY_EXEC. */
void client_multi_reset(client *c);
/* Call after changing c->subs, with whether c had subscriptions before:
 * keeps the pubsub_clients figure right. */
void client_note_subscriptions(client *c, bool had_subs);

/* Queries. */
bool client_is_subscribed(const client *c);
int client_limit_class(const client *c);
client *client_by_id(uint64_t id);
/* Iteration over all clients (CLIENT LIST, KILL, INFO), oldest first. */
client *client_first(void);
client *client_next(const client *c);
/* Writes c's local address ("ip:port", or "path:0") into dst; computed on
 * demand, since only CLIENT LIST and KILL LADDR ask. */
void client_laddr(const client *c, char *dst, size_t len);
/* Bytes of memory c holds (struct, buffers, queued output), for CLIENT LIST. */
size_t client_memory(const client *c);
/* Bytes of the reply buffer and the queue, in the CLIENT LIST sense. */
size_t client_reply_buf_size(const client *c);

typedef struct client_stats {
    long long connected;
    long long total_connections;
    long long rejected_connections;
    long long pubsub_clients;
    long long total_net_input_bytes;
    long long total_net_output_bytes;
    long long client_recent_max_output_buffer;
    long long client_recent_max_input_buffer;
    long long evicted_clients;    /* always 0: there is no eviction */
    long long obuf_limit_disconnections;
    long long qbuf_limit_disconnections;  /* closed at client-query-buffer-limit */
} client_stats;
void client_get_stats(client_stats *st);
void client_reset_stats(void);

#endif
