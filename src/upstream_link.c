/* upstream_link.c -- One outbound RESP3 connection to an upstream node.
 *
 *   idle --connect--> connecting (TCP, TLS) --HELLO 3 [AUTH]--> hello --> up
 *     ^                                                                  |
 *     '------------- close (EOF, error, timeout, owner's call) <---------'
 *
 * Requests are pipelined and their replies come back in order, so the link
 * keeps a FIFO of what it sent. Two kinds of entries: a command, whose one
 * reply goes to the owner with the cookie it gave (PING and HELLO are the
 * link's own); and a subscription command, which in RESP3 produces one
 * confirmation *push* per name, or one error *reply* if refused. Pushes
 * that are not confirmations of the head entry are messages, or
 * unsubscribes the server made on its own (cluster failover, slot moved):
 * the owner hears of each. A server emits a command's whole output before
 * the next command's, so matching on the head is exact.
 *
 * Liveness: a PING goes out every upstream-ping-period while nothing else
 * is awaited; when the oldest request has had no answer for
 * upstream-ping-timeout the link is dropped (RESP has no request ids, so a
 * late reply could not be matched anyway). A hung node keeps TCP alive and
 * sends nothing: only this catches it.
 *
 * Output goes into a conn_out (conn.c) and is flushed from the before-sleep
 * hook, so many requests of one loop pass leave in one write. */
#include "upstream_link.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "config.h"
#include "conn.h"
#include "ev.h"
#include "log.h"
#include "mem.h"
#include "net.h"
#include "pubsub.h"
#include "resp.h"
#include "resp_reply.h"
#include "tls.h"
#include "util.h"

#define LINK_READ_LEN (64 * 1024)
#define LINK_READ_PASS_MAX (1024 * 1024)   /* bytes read per loop pass */
#define LINK_WRITE_MAX (4 * 1024 * 1024)   /* bytes written per pass */
#define LINK_MAX_BULK (512LL * 1024 * 1024)
#define LINK_MAX_ELEMENTS (1024LL * 1024 * 1024)

typedef enum { REQ_HELLO, REQ_PING, REQ_CMD, REQ_SUB } req_type;

typedef struct req {
    req_type type;
    long long sent_ms;
    void *cookie;             /* REQ_CMD: the owner's */
    link_op op;               /* REQ_SUB */
    int count, next;          /* REQ_SUB: names, and confirmations seen */
    char **names;             /* REQ_SUB: owned copies */
    size_t *lens;
} req;

struct upstream_link {
    ev_loop *loop;                  /* borrowed */
    const upstream_link_ops *ops;   /* borrowed: static */
    void *owner;                    /* borrowed */
    char host[256];
    int port;
    char addr[300];                 /* "host:port" */
    int fd;                         /* -1 when idle */
    tls_conn *tls;                  /* owned */
    link_state state;
    bool tls_handshaking;
    bool write_armed;
    bool on_flush_list;
    unsigned gen;                   /* connection number: events of an earlier one are stale */
    bool blocking;                  /* carries one blocking command: no PINGs, no reply timeout once up */
    rreader *rd;                    /* owned */
    conn_out out;                   /* owned: bytes for the socket */
    req *fifo;                      /* owned: ring of requests sent */
    size_t fifo_cap, fifo_first, fifo_count;
    size_t pending_confirms;        /* names of REQ_SUB entries not yet confirmed */
    long long state_since_ms;       /* when the current state began */
    long long up_since_ms;          /* unix ms when HELLO succeeded, 0 if not up */
    long long last_ping_ms;
    bool ping_outstanding;
    char role[16];
    dict *held[3];                  /* owned: the owner's names held here, by kind */
    int tag;
    upstream_link *flush_next;      /* list of links with output */
};

static upstream_link *flush_list;

/* Names held: owned copies as keys, no values. */
static const dict_type held_type = {.key_dup = dict_key_copy, .key_free = dict_key_release};

static void on_event(ev_loop *loop, int fd, void *data, int mask);

/* ------------------------------------------------------------------------
 * Requests: the FIFO and the output
 * ------------------------------------------------------------------------ */

static req *fifo_at(const upstream_link *l, size_t i) {
    return &l->fifo[(l->fifo_first + i) % l->fifo_cap];
}

static req *fifo_push(upstream_link *l) {
    if (l->fifo_count == l->fifo_cap) {
        size_t cap = l->fifo_cap ? l->fifo_cap * 2 : 16;
        req *n = mem_alloc(sizeof(*n) * cap);
        for (size_t i = 0; i < l->fifo_count; i++) n[i] = *fifo_at(l, i);
        mem_free(l->fifo);
        l->fifo = n;
        l->fifo_cap = cap;
        l->fifo_first = 0;
    }
    req *r = &l->fifo[(l->fifo_first + l->fifo_count) % l->fifo_cap];
    l->fifo_count++;
    memset(r, 0, sizeof(*r));
    r->sent_ms = util_time_ms();
    return r;
}

static void req_free(req *r) {
    for (int i = 0; i < r->count; i++) mem_free(r->names[i]);
    mem_free(r->names);
    mem_free(r->lens);
}

static void fifo_pop(upstream_link *l) {
    req_free(fifo_at(l, 0));
    l->fifo_first = (l->fifo_first + 1) % l->fifo_cap;
    l->fifo_count--;
}

static void want_flush(upstream_link *l) {
    if (l->on_flush_list) return;
    l->on_flush_list = true;
    l->flush_next = flush_list;
    flush_list = l;
}

/* Appends one command in RESP (an array of bulk strings) to the output. */
static void encode_command(upstream_link *l, int argc, const char **argv, const size_t *lens) {
    buf *b = &l->out.reply;
    resp_add_array_len(b, argc);
    for (int i = 0; i < argc; i++) resp_add_bulk(b, argv[i], lens ? lens[i] : strlen(argv[i]));
    want_flush(l);
}

static void send_hello(upstream_link *l) {
    const char *argv[5] = {"HELLO", "3"};
    int argc = 2;
    if (cfg.upstream_password[0]) {
        argv[argc++] = "AUTH";
        argv[argc++] = cfg.upstream_user[0] ? cfg.upstream_user : "default";
        argv[argc++] = cfg.upstream_password;
    }
    encode_command(l, argc, argv, NULL);
    fifo_push(l)->type = REQ_HELLO;
    l->state = LINK_HELLO;
    l->state_since_ms = util_time_ms();
}

void upstream_link_command(upstream_link *l, int argc, const char **argv, const size_t *lens, void *cookie) {
    if (l->state != LINK_UP) {
        log_warning("BUG: command on upstream link %s that is not up", l->addr);
        l->ops->reply(l, cookie, NULL);
        return;
    }
    encode_command(l, argc, argv, lens);
    req *r = fifo_push(l);
    r->type = REQ_CMD;
    r->cookie = cookie;
}

static const char *const op_names[LINK_OP_COUNT] = {"subscribe",   "psubscribe",   "ssubscribe",
                                                    "unsubscribe", "punsubscribe", "sunsubscribe"};

void upstream_link_subscribe(upstream_link *l, link_op op, int count, const char **names, const size_t *lens) {
    if (l->state != LINK_UP || count <= 0) return;
    buf *b = &l->out.reply;
    resp_add_array_len(b, count + 1);
    resp_add_bulk_str(b, op_names[op]);
    req *r = fifo_push(l);
    r->type = REQ_SUB;
    r->op = op;
    r->count = count;
    r->names = mem_alloc(sizeof(char *) * (size_t)count);
    r->lens = mem_alloc(sizeof(size_t) * (size_t)count);
    for (int i = 0; i < count; i++) {
        resp_add_bulk(b, names[i], lens[i]);
        r->names[i] = mem_strndup(names[i], lens[i]);
        r->lens[i] = lens[i];
    }
    l->pending_confirms += (size_t)count;
    want_flush(l);
}

/* ------------------------------------------------------------------------
 * Lifecycle
 * ------------------------------------------------------------------------ */

upstream_link *upstream_link_new(ev_loop *loop, const upstream_link_ops *ops, void *owner, const char *host,
                                 int port) {
    upstream_link *l = mem_calloc(sizeof(*l));
    l->loop = loop;
    l->ops = ops;
    l->owner = owner;
    l->fd = -1;
    l->tag = -1;
    for (int i = 0; i < 3; i++) l->held[i] = dict_new(&held_type);
    upstream_link_retarget(l, host, port);
    return l;
}

void upstream_link_retarget(upstream_link *l, const char *host, int port) {
    snprintf(l->host, sizeof(l->host), "%s", host);
    l->port = port;
    if (strchr(l->host, ':')) snprintf(l->addr, sizeof(l->addr), "[%s]:%d", l->host, port);
    else snprintf(l->addr, sizeof(l->addr), "%s:%d", l->host, port);
}

static void unlink_flush(upstream_link *l) {
    if (!l->on_flush_list) return;
    upstream_link **p = &flush_list;
    while (*p && *p != l) p = &(*p)->flush_next;
    if (*p) *p = l->flush_next;
    l->on_flush_list = false;
}

/* Releases the socket and everything of the connection; keeps the target. */
static void teardown(upstream_link *l) {
    if (l->fd != -1) {
        ev_del_fd(l->loop, l->fd, EV_READABLE | EV_WRITABLE);
        tls_conn_free(l->tls);
        l->tls = NULL;
        close(l->fd);
        l->fd = -1;
    }
    l->write_armed = false;
    l->tls_handshaking = false;
    conn_out_free(&l->out);
    unlink_flush(l);
    l->pending_confirms = 0;
    l->ping_outstanding = false;
    l->up_since_ms = 0;
    l->role[0] = '\0';
    for (int i = 0; i < 3; i++) {
        if (dict_size(l->held[i]) == 0) continue;
        dict_free(l->held[i]);
        l->held[i] = dict_new(&held_type);
    }
}

void upstream_link_close(upstream_link *l, const char *why) {
    if (l->state == LINK_IDLE) return;
    l->state = LINK_IDLE;
    l->state_since_ms = util_time_ms();
    teardown(l);
    /* Replies in flight will never come: tell the owner of each. The FIFO
     * is detached first, so a callback that sends on another link (or
     * reconnects this one later) sees a clean state. */
    req *fifo = l->fifo;
    size_t cap = l->fifo_cap, first = l->fifo_first, count = l->fifo_count;
    l->fifo = NULL;
    l->fifo_cap = l->fifo_first = l->fifo_count = 0;
    for (size_t i = 0; i < count; i++) {
        req *r = &fifo[(first + i) % cap];
        if (r->type == REQ_CMD) l->ops->reply(l, r->cookie, NULL);
        req_free(r);
    }
    mem_free(fifo);
    l->ops->down(l, why);
}

void upstream_link_free(upstream_link *l) {
    if (!l) return;
    if (l->state != LINK_IDLE) {
        l->state = LINK_IDLE;
        teardown(l);
        for (size_t i = 0; i < l->fifo_count; i++) {
            req *r = fifo_at(l, i);
            if (r->type == REQ_CMD) l->ops->reply(l, r->cookie, NULL);
            req_free(r);
        }
    }
    mem_free(l->fifo);
    rreader_free(l->rd);
    for (int i = 0; i < 3; i++) dict_free(l->held[i]);
    mem_free(l);
}

void upstream_link_connect(upstream_link *l) {
    if (l->state != LINK_IDLE) return;
    char err[NET_ERR_LEN];
    rreader_free(l->rd);
    l->rd = rreader_new(LINK_MAX_BULK, LINK_MAX_ELEMENTS);
    l->state = LINK_CONNECTING;
    l->state_since_ms = util_time_ms();
    l->gen++;
    l->fd = net_tcp_connect(err, l->host, l->port);
    if (l->fd == -1) {
        upstream_link_close(l, err);
        return;
    }
    net_set_nodelay(err, l->fd, true);
    if (ev_add_fd(l->loop, l->fd, EV_WRITABLE, on_event, l) == -1) {
        upstream_link_close(l, "fd over the event loop size");
        return;
    }
    l->write_armed = true;
}

/* ------------------------------------------------------------------------
 * Connecting: TCP, then TLS, then HELLO
 * ------------------------------------------------------------------------ */

static void arm(upstream_link *l, bool readable, bool writable) {
    ev_del_fd(l->loop, l->fd, EV_READABLE | EV_WRITABLE);
    int mask = (readable ? EV_READABLE : 0) | (writable ? EV_WRITABLE : 0);
    if (mask) ev_add_fd(l->loop, l->fd, mask, on_event, l);
    l->write_armed = writable;
}

static void tls_step(upstream_link *l) {
    char err[TLS_ERR_LEN];
    int rc = tls_handshake(l->tls, err, sizeof(err));
    if (rc == TLS_FAILED) {
        char why[TLS_ERR_LEN + 32];
        snprintf(why, sizeof(why), "TLS handshake: %s", err);
        upstream_link_close(l, why);
        return;
    }
    if (rc != TLS_DONE) {
        arm(l, rc == TLS_WANT_READ, rc == TLS_WANT_WRITE);
        return;
    }
    l->tls_handshaking = false;
    arm(l, true, false);
    send_hello(l);
}

static void connected(upstream_link *l) {
    int e = net_connect_result(l->fd);
    if (e == EINPROGRESS) return; /* a stale event: wait for the real one */
    if (e != 0) {
        char why[128];
        snprintf(why, sizeof(why), "connect: %s", strerror(e));
        upstream_link_close(l, why);
        return;
    }
    if (cfg.upstream_tls) {
        l->tls = tls_conn_new_upstream(l->fd, cfg.upstream_tls_sni);
        if (!l->tls) {
            upstream_link_close(l, "no upstream TLS context");
            return;
        }
        l->tls_handshaking = true;
        tls_step(l);
        return;
    }
    arm(l, true, false);
    send_hello(l);
}

/* The HELLO map's "role" field, if any. */
static void read_role(upstream_link *l, const rreply *r) {
    l->role[0] = '\0';
    if (r->type != RREPLY_MAP && r->type != RREPLY_ARRAY) return;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const rreply *k = r->element[i], *v = r->element[i + 1];
        if (k->str && k->len == 4 && !strncasecmp(k->str, "role", 4) && v->str)
            snprintf(l->role, sizeof(l->role), "%s", v->str);
    }
}

/* ------------------------------------------------------------------------
 * Reading: replies and pushes
 * ------------------------------------------------------------------------ */

static int push_op(const rreply *r) {
    if (r->elements < 2) return -1;
    const rreply *k = r->element[0];
    if (!k->str) return -1;
    for (int op = 0; op < LINK_OP_COUNT; op++)
        if (k->len == strlen(op_names[op]) && !strncasecmp(k->str, op_names[op], k->len)) return op;
    return -1;
}

static void handle_push(upstream_link *l, const rreply *r) {
    if (rreply_is_named(r, "message") || rreply_is_named(r, "pmessage") || rreply_is_named(r, "smessage")) {
        l->ops->message(l, r);
        return;
    }
    int op = push_op(r);
    if (op < 0) return; /* invalidate and other pushes: nothing of ours */
    const rreply *n = r->element[1];
    const char *name = n->str ? n->str : "";
    size_t len = n->str ? n->len : 0;
    if (l->fifo_count) {
        req *h = fifo_at(l, 0);
        if (h->type == REQ_SUB && (int)h->op == op && h->next < h->count && h->lens[h->next] == len &&
            memcmp(h->names[h->next], name, len) == 0) {
            h->next++;
            l->pending_confirms--;
            bool done = h->next == h->count;
            /* Popped before the callback, which may queue more (the ring
             * may move) or close the link. */
            if (done) fifo_pop(l);
            l->ops->confirmed(l, (link_op)op, name, len);
            return;
        }
    }
    if (op >= LINK_UNSUBSCRIBE) l->ops->unsolicited(l, (link_op)op, name, len);
}

static void handle_reply(upstream_link *l, const rreply *r) {
    if (l->fifo_count == 0) {
        upstream_link_close(l, "reply to nothing we sent (protocol out of step)");
        return;
    }
    req *h = fifo_at(l, 0);
    switch (h->type) {
    case REQ_HELLO:
        if (r->type == RREPLY_ERROR) {
            char why[300];
            snprintf(why, sizeof(why), "HELLO refused: %.*s", (int)(r->len > 250 ? 250 : r->len), r->str);
            upstream_link_close(l, why);
            return;
        }
        read_role(l, r);
        fifo_pop(l);
        l->state = LINK_UP;
        l->state_since_ms = util_time_ms();
        l->up_since_ms = util_time_ms();
        l->last_ping_ms = l->state_since_ms;
        l->ops->up(l, l->role);
        return;
    case REQ_PING:
        l->ping_outstanding = false;
        fifo_pop(l);
        return;
    case REQ_CMD: {
        void *cookie = h->cookie;
        fifo_pop(l);
        l->ops->reply(l, cookie, r);
        return;
    }
    case REQ_SUB: {
        /* A refusal: one error for the whole command, nothing subscribed.
         * The entry is detached first: the callback may send again. */
        req e = *h;
        l->pending_confirms -= (size_t)(e.count - e.next);
        l->fifo_first = (l->fifo_first + 1) % l->fifo_cap;
        l->fifo_count--;
        if (r->type == RREPLY_ERROR)
            l->ops->refused(l, e.op, e.names + e.next, e.lens + e.next, e.count - e.next, r);
        else
            log_verbose("Upstream %s: unexpected reply to %s", l->addr, op_names[e.op]);
        req_free(&e);
        return;
    }
    }
}

static void process_replies(upstream_link *l) {
    rreply *r;
    int rc;
    while (l->state >= LINK_HELLO && (rc = rreader_next(l->rd, &r)) == RREADER_OK) {
        if (r->type == RREPLY_PUSH) handle_push(l, r);
        else handle_reply(l, r);
        rreply_free(r);
    }
    if (l->state >= LINK_HELLO && rc == RREADER_ERR) {
        char why[300];
        snprintf(why, sizeof(why), "%s", rreader_error(l->rd));
        upstream_link_close(l, why);
    }
}

static void read_some(upstream_link *l) {
    static char scratch[LINK_READ_LEN];
    size_t total = 0;
    ssize_t n = 0;
    while (total < LINK_READ_PASS_MAX) {
        n = conn_read(l->fd, l->tls, scratch, sizeof(scratch));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        rreader_feed(l->rd, scratch, (size_t)n);
        total += (size_t)n;
        if ((size_t)n < sizeof(scratch) && !(l->tls && tls_pending(l->tls) > 0)) break;
    }
    if (total > 0) process_replies(l);
    if (l->state == LINK_IDLE) return;
    if (n == 0) {
        upstream_link_close(l, "connection closed by the upstream");
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        char why[300];
        snprintf(why, sizeof(why), "read: %s", conn_strerror(l->tls));
        upstream_link_close(l, why);
    } else if (n < 0 && l->tls && tls_read_needs_write(l->tls)) {
        arm(l, true, true);
    }
}

/* Writes what the socket takes; arms EV_WRITABLE for the rest. */
static void write_some(upstream_link *l) {
    ssize_t w = conn_out_write(&l->out, l->fd, l->tls, LINK_WRITE_MAX);
    if (w < 0) {
        char why[300];
        snprintf(why, sizeof(why), "write: %s", conn_strerror(l->tls));
        upstream_link_close(l, why);
        return;
    }
    bool more = conn_out_has_output(&l->out);
    if (more != l->write_armed) arm(l, true, more);
}

static void on_event(ev_loop *loop, int fd, void *data, int mask) {
    (void)loop, (void)fd;
    upstream_link *l = data;
    if (l->state == LINK_CONNECTING && !l->tls_handshaking) {
        connected(l);
        return;
    }
    if (l->tls_handshaking) {
        tls_step(l);
        return;
    }
    unsigned gen = l->gen;
    if (mask & EV_READABLE) read_some(l);
    /* The read may have closed the link and started a new connection on
     * the same fd number: the rest of this event is not for it. */
    if (l->gen != gen) return;
    if (l->state != LINK_IDLE && (mask & EV_WRITABLE)) {
        if (l->tls && tls_read_needs_write(l->tls)) read_some(l);
        if (l->state != LINK_IDLE) write_some(l);
    }
}

void upstream_link_flush_all(void) {
    while (flush_list) {
        upstream_link *l = flush_list;
        flush_list = l->flush_next;
        l->on_flush_list = false;
        if (l->state >= LINK_HELLO && !l->write_armed) write_some(l);
    }
}

/* ------------------------------------------------------------------------
 * Cron: timeouts and PINGs
 * ------------------------------------------------------------------------ */

void upstream_link_cron(upstream_link *l, long long now) {
    char why[128];
    if (l->state == LINK_CONNECTING) {
        if (now - l->state_since_ms > cfg.upstream_connect_timeout) {
            snprintf(why, sizeof(why), "connect timeout (%lld ms)", cfg.upstream_connect_timeout);
            upstream_link_close(l, why);
        }
        return;
    }
    if (l->state < LINK_HELLO) return;
    if (l->blocking && l->state == LINK_UP) return; /* its command may wait as long as it asked */
    if (l->fifo_count && now - fifo_at(l, 0)->sent_ms > cfg.upstream_ping_timeout) {
        snprintf(why, sizeof(why), "no reply for %lld ms", now - fifo_at(l, 0)->sent_ms);
        upstream_link_close(l, why);
        return;
    }
    if (l->state == LINK_UP && !l->ping_outstanding && now - l->last_ping_ms >= cfg.upstream_ping_period) {
        const char *argv[1] = {"PING"};
        encode_command(l, 1, argv, NULL);
        fifo_push(l)->type = REQ_PING;
        l->ping_outstanding = true;
        l->last_ping_ms = now;
    }
}

/* ------------------------------------------------------------------------
 * Queries
 * ------------------------------------------------------------------------ */

link_state upstream_link_state(const upstream_link *l) { return l->state; }
bool upstream_link_is_up(const upstream_link *l) { return l->state == LINK_UP; }
const char *upstream_link_host(const upstream_link *l) { return l->host; }
int upstream_link_port(const upstream_link *l) { return l->port; }
const char *upstream_link_addr(const upstream_link *l) { return l->addr; }
const char *upstream_link_role(const upstream_link *l) { return l->role[0] ? l->role : "unknown"; }
void *upstream_link_owner(const upstream_link *l) { return l->owner; }
void upstream_link_set_blocking(upstream_link *l) { l->blocking = true; }
void upstream_link_set_role(upstream_link *l, const char *role) {
    if (l->state == LINK_UP) snprintf(l->role, sizeof(l->role), "%s", role);
}
long long upstream_link_up_since_ms(const upstream_link *l) { return l->up_since_ms; }
size_t upstream_link_pending(const upstream_link *l) { return l->pending_confirms; }
size_t upstream_link_inflight(const upstream_link *l) { return l->fifo_count; }
size_t upstream_link_out_bytes(const upstream_link *l) { return conn_out_pending(&l->out); }
dict *upstream_link_held(upstream_link *l, int what) { return l->held[what]; }
int upstream_link_tag(const upstream_link *l) { return l->tag; }
void upstream_link_set_tag(upstream_link *l, int tag) { l->tag = tag; }
