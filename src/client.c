/* client.c -- One connection's life: accept, read, parse, dispatch, queue
 * output, write, enforce limits, close.
 *
 *   socket --read--> qbuf --resp_parse--> argv --dispatch--> handler
 *                                                               |
 *   socket <--writev-- c->out [ring: frame ref | frame ref | ...] + reply <--+
 *
 * Replies are encoded into c->out.reply, a small buffer allocated on demand.
 * A published message is a shared frame: large ones are queued by reference
 * (one pointer per subscriber in a ring, no copy), small ones are copied
 * into c->out.reply because a memcpy is cheaper than a reference. Order is kept
 * by turning that buffer into a frame of its own before a reference is queued.
 *
 * Nothing is written from inside a handler: clients with output go on the
 * pending list and client_before_sleep() writes them all before the loop
 * sleeps; EV_WRITABLE is armed only when the kernel buffer is full.
 * A client is never freed in the middle of a callback chain: it is marked
 * CLIENT_CLOSE_ASAP and freed in client_before_sleep().
 *
 * The queue itself and the socket seam live in conn.c, shared with the
 * relay's upstream links. TLS clients (c->tls set) differ only at the
 * socket: conn_read() and conn_writev() go through tls.c, a handshake runs
 * before the first read,
 * and OpenSSL may need the other socket event than the one a call was made
 * for. Plain sockets pay one branch. */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "acl.h"
#include "config.h"
#include "ev.h"
#include "frame.h"
#include "log.h"
#include "mem.h"
#include "pubsub.h"
#include "tls.h"

#define CLIENT_READ_LEN (16 * 1024)          /* bytes per read(), Redis's size */
#define CLIENT_READ_PASS_MAX (256 * 1024)    /* bytes read from one client per loop pass */
/* Message bytes queued for subscribers in one loop pass past which no
 * client reads beyond its first chunk: the flush of that much takes a few
 * ms of kernel copying, the longest anyone should wait. */
#define CLIENT_PASS_QUEUE_MAX (16 * 1024 * 1024)
/* ...and only while this pass queues this many message bytes per byte read. */
#define CLIENT_READ_MORE_FANOUT 8
#define CLIENT_WRITE_MAX (1024 * 1024)       /* bytes per client per write pass */
/* A client whose replies pile up above this stops being read until they
 * drain: a client that never reads cannot grow the server without bound. */
#define CLIENT_PAUSE_OUT_BYTES (4 * 1024 * 1024)
/* When a big subscriber goes away its subscriptions are released over
 * several loop passes, about this much work per pass, so nobody else waits
 * longer; the clock is read once per chunk. */
#define CLIENT_RELEASE_US 2000
#define CLIENT_RELEASE_CHUNK 256
#define CLIENT_RELEASE_LAZY_MIN 1024         /* fewer are released at once */
/* Late replies (slots) a client may have open before its input waits. */
#define CLIENT_SLOTS_MAX 4096


static const char *const err_max_clients = "-ERR max number of clients reached\r\n";
static const char *const err_protected =
    "-DENIED Redis is running in protected mode because protected mode is enabled "
    "and no password is set for the default user. In this mode connections are "
    "only accepted from the loopback interface. If you want to connect from "
    "external computers to Redis you may adopt one of the following solutions: "
    "1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' "
    "from the loopback interface by connecting to Redis from the same host the "
    "server is running, however MAKE SURE Redis is not publicly accessible from "
    "internet if you do so. Use CONFIG REWRITE to make this change permanent. "
    "2) Alternatively you can just disable the protected mode by editing the Redis "
    "configuration file, and setting the protected mode option to 'no', and then "
    "restarting the server. 3) If you started the server manually just for testing, "
    "restart it with the '--protected-mode no' option. 4) Set up an authentication "
    "password for the default user. NOTE: You only need to do one of the above "
    "things in order for the server to start accepting connections from the outside.\r\n";

static struct {
    ev_loop *loop;                 /* borrowed */
    pubsub *ps;                    /* borrowed */
    client_dispatch_fn *dispatch;
    client *head;                  /* all clients, oldest first (CLIENT LIST's order) */
    client *tail;                  /* the newest client */
    client *pending;               /* clients with output to flush */
    client *closing;               /* clients to free in before-sleep */
    client *zombies;               /* closed, subscriptions being released */
    client *held_head, *held_tail; /* clients whose command CLIENT PAUSE holds */
    client *resume;                /* unblocked clients whose input waits to run */
    long long blocked;             /* clients with CLIENT_BLOCKED */
    client_free_hook_fn *free_hook;
    uint64_t next_id;
    slice *argv;                   /* scratch argv for dispatch */
    int argv_cap;
    buf discard;                   /* replies of CLIENT REPLY OFF/SKIP */
    client_stats stats;
    size_t pass_queued;            /* message bytes queued this loop pass */
} M;

static void on_readable(ev_loop *loop, int fd, void *data, int mask);
static void tls_accept_step(client *c);
static void on_writable(ev_loop *loop, int fd, void *data, int mask);
static void process_input(client *c);
static void client_free(client *c);
static void release_deferred(client *c);
static size_t pending_bytes(const client *c);

void client_module_init(ev_loop *loop, pubsub *ps, client_dispatch_fn *dispatch) {
    M.loop = loop;
    M.ps = ps;
    M.dispatch = dispatch;
    M.next_id = 1;
}

/* ------------------------------------------------------------------------
 * Accepting connections
 * The checks Redis makes before a client may speak: maxclients and
 * protected mode. Both reply with one line written straight to the socket
 * and close it; neither creates a client. On the TLS port nothing can be
 * said before the handshake: past maxclients the socket is just closed,
 * and protected mode is checked once the handshake is done (as Redis).
 * ------------------------------------------------------------------------ */

static void refuse(int fd, const char *msg) {
    /* Best effort: the socket is fresh, so a short line always fits. */
    if (msg) {
        ssize_t n = write(fd, msg, strlen(msg));
        (void)n;
    }
    close(fd);
}

static bool protected_refuses(int fd) {
    return cfg.protected_mode && acl_default_is_nopass() && !net_is_local_peer(fd);
}

static client *client_new(int fd, bool unix_socket, tls_conn *tls) {
    client *c = mem_calloc(sizeof(*c));
    c->id = M.next_id++;
    c->fd = fd;
    c->tls = tls;
    c->resp = 2;
    c->state = CLIENT_ACTIVE;
    c->authenticated = acl_default_is_open();
    c->ctime_ms = c->last_active_ms = util_time_ms();
    resp_parser_init(&c->parser);
    c->parser.max_bulk_len = cfg.proto_max_bulk_len;
    c->last_cmd = "NULL";
    char addr[NET_ADDR_LEN];
    if (unix_socket) {
        c->flags |= CLIENT_UNIX_SOCKET;
        snprintf(addr, sizeof(addr), "%s:0", cfg.unixsocket ? cfg.unixsocket : "");
    } else {
        net_peer_str(fd, addr, sizeof(addr));
    }
    c->addr = mem_strdup(addr);
    c->prev = M.tail;
    if (M.tail) M.tail->next = c;
    else M.head = c;
    M.tail = c;
    M.stats.connected++;
    M.stats.total_connections++;
    return c;
}

static void accept_one(int fd, bool unix_socket, bool tls) {
    char err[NET_ERR_LEN];
    if (M.stats.connected >= (long long)cfg.maxclients) {
        M.stats.rejected_connections++;
        refuse(fd, tls ? NULL : err_max_clients);
        return;
    }
    if (!unix_socket) {
        net_set_nodelay(err, fd, true);
        if (cfg.tcp_keepalive > 0) net_set_keepalive(err, fd, cfg.tcp_keepalive);
        if (!tls && protected_refuses(fd)) {
            M.stats.rejected_connections++;
            refuse(fd, err_protected);
            return;
        }
    }
    tls_conn *t = tls ? tls_conn_new(fd) : NULL;
    if (tls && !t) {
        log_warning("Error creating the TLS connection of a new client (fd %d)", fd);
        M.stats.rejected_connections++;
        refuse(fd, NULL);
        return;
    }
    if (ev_add_fd(M.loop, fd, EV_READABLE, on_readable, NULL) == -1) {
        log_warning("Error registering fd event for the new client: fd %d over the event loop size", fd);
        tls_conn_free(t);
        M.stats.rejected_connections++;
        refuse(fd, tls ? NULL : err_max_clients);
        return;
    }
    client *c = client_new(fd, unix_socket, t);
    ev_add_fd(M.loop, fd, EV_READABLE, on_readable, c);
    log_verbose("Accepted %s", c->addr);
}

/* Out of descriptors, the pending connection would stay in the backlog and
 * the listener readable forever: a busy loop. One spare descriptor is kept
 * open for this; it is given up to accept the connection, which gets the
 * max-clients error and is closed, then taken back. */
static int spare_fd = -1;

static void take_spare(void) {
    if (spare_fd == -1) spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void refuse_with_spare(int lfd, bool tls) {
    char err[NET_ERR_LEN];
    if (spare_fd == -1) return;
    close(spare_fd);
    spare_fd = -1;
    int fd = net_accept(err, lfd);
    if (fd != -1) {
        M.stats.rejected_connections++;
        refuse(fd, tls ? NULL : err_max_clients);
    }
    take_spare();
}

static void accept_loop(int lfd, bool unix_socket, bool tls) {
    char err[NET_ERR_LEN];
    take_spare();
    /* Bounded like Redis (MAX_ACCEPTS_PER_CALL) so a connection storm
     * cannot starve the clients already connected. */
    for (int i = 0; i < 1000; i++) {
        int fd = net_accept(err, lfd);
        if (fd == -1) {
            if (errno == EMFILE || errno == ENFILE) {
                static long long last_logged_ms;
                long long now = util_time_ms();
                if (now - last_logged_ms >= 1000) {
                    log_warning("Accepting client connection: %s", err);
                    last_logged_ms = now;
                }
                refuse_with_spare(lfd, tls);
            } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
                log_verbose("Accepting client connection: %s", err);
            }
            return;
        }
        accept_one(fd, unix_socket, tls);
    }
}

void client_on_accept(ev_loop *loop, int fd, void *data, int mask) {
    (void)loop, (void)data, (void)mask;
    accept_loop(fd, false, false);
}

void client_on_accept_unix(ev_loop *loop, int fd, void *data, int mask) {
    (void)loop, (void)data, (void)mask;
    accept_loop(fd, true, false);
}

void client_on_accept_tls(ev_loop *loop, int fd, void *data, int mask) {
    (void)loop, (void)data, (void)mask;
    accept_loop(fd, false, true);
}

/* ------------------------------------------------------------------------
 * TLS handshake
 * A TLS client exists from accept on (it counts for maxclients and shows in
 * CLIENT LIST, as in Redis) but reads no command until the handshake is
 * done. Each step waits for the one socket event OpenSSL asked for.
 * ------------------------------------------------------------------------ */

static void arm_write(client *c, bool on) {
    if (on == !!(c->flags & CLIENT_WRITE_ARMED)) return;
    if (on) ev_add_fd(M.loop, c->fd, EV_WRITABLE, on_writable, c);
    else ev_del_fd(M.loop, c->fd, EV_WRITABLE);
    c->flags ^= CLIENT_WRITE_ARMED;
}

static void tls_accept_step(client *c) {
    char err[TLS_ERR_LEN];
    int rc = tls_handshake(c->tls, err, sizeof(err));
    if (rc == TLS_FAILED) {
        log_warning("Error accepting a client connection: %s (addr=%s)", err, c->addr);
        client_close_async(c);
        return;
    }
    arm_write(c, rc == TLS_WANT_WRITE);
    if (rc != TLS_DONE) return;
    if (protected_refuses(c->fd)) {
        struct iovec iov = {(void *)err_protected, strlen(err_protected)};
        ssize_t n = conn_writev(c->fd, c->tls, &iov, 1); /* best effort, as for plain sockets */
        (void)n;
        M.stats.rejected_connections++;
        client_close_async(c);
        return;
    }
    /* A command may have come with the last handshake message. */
    on_readable(M.loop, c->fd, c, EV_READABLE);
}

/* ------------------------------------------------------------------------
 * Lifecycle
 * ------------------------------------------------------------------------ */

void client_set_state(client *c, client_state state) {
    /* Legal moves only go towards closing. */
    if (state < c->state) {
        log_warning("BUG: client %llu state %d -> %d refused",
                    (unsigned long long)c->id, c->state, state);
        return;
    }
    if (state == c->state) return;
    log_debug("client %llu state %d -> %d", (unsigned long long)c->id, c->state, state);
    c->state = state;
    if (state == CLIENT_CLOSE_ASAP) {
        c->close_next = M.closing;
        M.closing = c;
    } else if (state == CLIENT_CLOSE_AFTER_REPLY) {
        /* Stop reading; the write path closes it once the output is out. */
        ev_del_fd(M.loop, c->fd, EV_READABLE);
        if (!conn_out_has_output(&c->out) && !c->slots) client_set_state(c, CLIENT_CLOSE_ASAP);
    }
}

void client_close_async(client *c) {
    client_set_state(c, CLIENT_CLOSE_ASAP);
}

/* ------------------------------------------------------------------------
 * Late replies
 * A slot is a place in the reply stream. While a client has slots, its
 * replies go into them instead of its output: each slot is either waiting
 * (late, not filled yet) or ready (bytes collected behind a waiting one).
 * Whenever the oldest slots are ready they move to the output, in order.
 * Pushes (messages) are not replies and never wait.
 * ------------------------------------------------------------------------ */

struct client_slot {
    client *c;                    /* borrowed: the client it belongs to */
    client_slot **holder;         /* borrowed: the filler's pointer, cleared when the slot goes */
    bool ready;
    buf bytes;
    client_slot *next;
};

static void mark_pending(client *c);

static client_slot *slot_append(client *c, bool ready) {
    client_slot *s = mem_calloc(sizeof(*s));
    s->c = c;
    s->ready = ready;
    if (c->slots_tail) c->slots_tail->next = s;
    else c->slots = s;
    c->slots_tail = s;
    c->slots_count++;
    return s;
}

client_slot *client_slot_open(client *c, client_slot **holder) {
    client_slot *s = slot_append(c, false);
    s->holder = holder;
    return s;
}

static void slots_flush(client *c) {
    while (c->slots && c->slots->ready) {
        client_slot *s = c->slots;
        c->slots = s->next;
        if (!c->slots) c->slots_tail = NULL;
        c->slots_count--;
        if (s->bytes.len && c->state != CLIENT_CLOSE_ASAP) {
            mark_pending(c);
            buf_append(&c->out.reply, s->bytes.data, s->bytes.len);
        }
        buf_free(&s->bytes);
        mem_free(s);
    }
}

void client_slot_fill(client_slot *s, const char *bytes, size_t len) {
    client *c = s->c;
    if (s->holder) *s->holder = NULL;
    s->holder = NULL;
    buf_append(&s->bytes, bytes, len);
    s->ready = true;
    slots_flush(c);
    if (conn_out_has_output(&c->out)) client_check_output_limits(c);
    else if (!c->slots && c->state == CLIENT_CLOSE_AFTER_REPLY) client_set_state(c, CLIENT_CLOSE_ASAP);
}

static void slots_free(client *c) {
    while (c->slots) {
        client_slot *s = c->slots;
        c->slots = s->next;
        if (s->holder) *s->holder = NULL;
        buf_free(&s->bytes);
        mem_free(s);
    }
    c->slots_tail = NULL;
    c->slots_count = 0;
}

static void free_multi(client *c) {
    for (int i = 0; i < c->multi_count; i++) {
        for (int j = 0; j < c->multi[i].argc; j++) mem_free((void *)c->multi[i].argv[j].ptr);
        mem_free(c->multi[i].argv);
    }
    mem_free(c->multi);
    c->multi = NULL;
    c->multi_count = 0;
}

void client_multi_reset(client *c) {
    free_multi(c);
    c->flags &= ~(CLIENT_MULTI | CLIENT_DIRTY_EXEC);
}

void client_set_free_hook(client_free_hook_fn *fn) {
    M.free_hook = fn;
}

static void free_held(client *c) {
    for (int j = 0; j < c->held.argc; j++) mem_free((void *)c->held.argv[j].ptr);
    mem_free(c->held.argv);
    c->held.argv = NULL;
    c->held.argc = 0;
}

static void unlink_held(client *c) {
    client **link = &M.held_head;
    client *prev = NULL;
    while (*link && *link != c) {
        prev = *link;
        link = &(*link)->held_next;
    }
    if (!*link) return;
    *link = c->held_next;
    if (M.held_tail == c) M.held_tail = prev;
    c->held_next = NULL;
}

static void client_free(client *c) {
    bool lazy = false;
    if (M.free_hook) M.free_hook(c);
    if (c->flags & CLIENT_HELD) unlink_held(c);
    free_held(c);
    if (c->flags & CLIENT_BLOCKED) M.blocked--;
    for (client **link = &M.resume; *link; link = &(*link)->resume_next) {
        if (*link == c) {
            *link = c->resume_next;
            break;
        }
    }
    if (c->subs) {
        M.stats.pubsub_clients--;
        /* A big registry is released in slices from before-sleep, so other
         * clients do not stall; until then the struct stays as a zombie
         * that deliveries skip (its state is CLIENT_CLOSE_ASAP). */
        if (pubsub_sub_held(c->subs) > CLIENT_RELEASE_LAZY_MIN) lazy = true;
        else pubsub_sub_release(M.ps, &c->subs);
    }
    ev_del_fd(M.loop, c->fd, EV_READABLE | EV_WRITABLE);
    tls_conn_free(c->tls);
    close(c->fd);
    conn_out_free(&c->out);
    slots_free(c);
    buf_free(&c->qbuf);
    resp_parser_free(&c->parser);
    free_multi(c);
    release_deferred(c);
    mem_free(c->deferred);
    mem_free(c->user);
    mem_free(c->addr);
    mem_free(c->name);
    mem_free(c->lib_name);
    mem_free(c->lib_ver);
    if (c->prev) c->prev->next = c->next;
    else M.head = c->next;
    if (c->next) c->next->prev = c->prev;
    else M.tail = c->prev;
    if (c->flags & CLIENT_PENDING_WRITE) {
        client **link = &M.pending;
        while (*link && *link != c) link = &(*link)->pending_next;
        if (*link) *link = c->pending_next;
    }
    M.stats.connected--;
    if (lazy) {
        c->next = M.zombies;
        M.zombies = c;
        ev_set_busy(M.loop, true);
        return;
    }
    mem_free(c);
}

/* Releases the zombies' subscriptions in chunks for about budget_us of
 * work (a time, not a count: a slow machine or a sanitizer build then
 * releases less per pass rather than stalling longer), or all of them
 * when budget_us is negative; frees the finished zombies. */
static void release_zombies(long long budget_us) {
    long long start = budget_us < 0 ? 0 : util_monotonic_us();
    while (M.zombies) {
        client *z = M.zombies;
        if (pubsub_sub_release_some(M.ps, &z->subs, CLIENT_RELEASE_CHUNK) == 0) {
            M.zombies = z->next;
            mem_free(z);
        }
        if (budget_us >= 0 && util_monotonic_us() - start >= budget_us) break;
    }
    ev_set_busy(M.loop, M.zombies != NULL);
}

static void free_closing(void) {
    while (M.closing) {
        client *c = M.closing;
        M.closing = c->close_next;
        client_free(c);
    }
}

void client_free_all(void) {
    if (spare_fd != -1) close(spare_fd);
    spare_fd = -1;
    while (M.head) {
        client *c = M.head;
        if (c->state != CLIENT_CLOSE_ASAP) client_set_state(c, CLIENT_CLOSE_ASAP);
        /* Take it off the closing list too: we free it right here. */
        client **link = &M.closing;
        while (*link && *link != c) link = &(*link)->close_next;
        if (*link) *link = c->close_next;
        client_free(c);
    }
    M.closing = NULL;
    release_zombies(-1);
    mem_free(M.argv);
    M.argv = NULL;
    M.argv_cap = 0;
    buf_free(&M.discard);
}

/* ------------------------------------------------------------------------
 * Input: read, parse, dispatch
 * ------------------------------------------------------------------------ */

static bool auth_required(const client *c) {
    return !c->authenticated && !acl_default_is_open();
}

/* One conn_read() of up to len bytes into c->qbuf. Small reads go through a
 * shared buffer so that a client sending a few small commands never owns a
 * 16 KB buffer; a big bulk is read straight into place. */
static ssize_t read_some(client *c, size_t len) {
    ssize_t n;
    if (len > CLIENT_READ_LEN) {
        buf_reserve(&c->qbuf, len);
        do n = conn_read(c->fd, c->tls, c->qbuf.data + c->qbuf.len, len);
        while (n < 0 && errno == EINTR);
    } else {
        static char scratch[CLIENT_READ_LEN];
        do n = conn_read(c->fd, c->tls, scratch, len);
        while (n < 0 && errno == EINTR);
        if (n > 0) {
            buf_reserve(&c->qbuf, (size_t)n);
            memcpy(c->qbuf.data + c->qbuf.len, scratch, (size_t)n);
        }
    }
    if (n > 0) c->qbuf.len += (size_t)n;
    return n;
}

static void on_readable(ev_loop *loop, int fd, void *data, int mask) {
    (void)loop, (void)fd, (void)mask;
    client *c = data;
    if (c->state != CLIENT_ACTIVE) return;
    if (c->tls && !tls_handshake_done(c->tls)) {
        tls_accept_step(c);
        return;
    }
    /* Read, run what came, and read again while the socket had more and
     * this pass is still light: a pipelining publisher's window is then
     * handled in one pass and each subscriber gets its messages in one
     * writev. The first read is always made, as one read a pass (Redis);
     * the later ones stop at CLIENT_READ_PASS_MAX bytes, or once this pass
     * has queued CLIENT_PASS_QUEUE_MAX bytes of messages for the flush,
     * which bounds how long everybody else waits for it. A short read means
     * empty, except on TLS: SSL_read returns one record at a time. */
    size_t total = 0;
    ssize_t n;
    for (;;) {
        size_t bulk_left = resp_parser_wanted(&c->parser);
        size_t len = bulk_left > CLIENT_READ_LEN ? bulk_left : CLIENT_READ_LEN;
        n = read_some(c, len);
        if (n <= 0) break;
        total += (size_t)n;
        M.stats.total_net_input_bytes += (long long)n;
        if (c->qbuf.len > c->qbuf_peak) c->qbuf_peak = c->qbuf.len;
        if ((long long)c->qbuf.len > cfg.client_query_buffer_limit) {
            M.stats.qbuf_limit_disconnections++;
            log_warning("Closing client that reached max query buffer length: id=%llu addr=%s qbuf=%zu",
                        (unsigned long long)c->id, c->addr, c->qbuf.len);
            client_close_async(c);
            return;
        }
        c->last_active_ms = util_time_ms();
        process_input(c);
        if (c->state != CLIENT_ACTIVE || (c->flags & CLIENT_READ_PAUSED)) break;
        bool maybe_more = (size_t)n == len || c->tls;
        /* Bigger batches pay only when messages fan out: to one or two
         * subscribers they just make the publisher and the server take
         * turns instead of working side by side. */
        bool fans_out = M.pass_queued >= total * CLIENT_READ_MORE_FANOUT;
        if (!maybe_more || !fans_out || total >= CLIENT_READ_PASS_MAX || M.pass_queued >= CLIENT_PASS_QUEUE_MAX)
            break;
    }
    if (n < 0 && c->tls && tls_read_needs_write(c->tls)) arm_write(c, true);
    if (total == 0) {
        if (n == 0) {
            log_verbose("Client closed connection id=%llu addr=%s", (unsigned long long)c->id, c->addr);
            client_close_async(c);
        } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
            log_verbose("Reading from client: %s", conn_strerror(c->tls));
            client_close_async(c);
        }
        return;
    }
    /* An end of file right after data is seen again on the next event, once
     * the replies to that data have been written, as with one read a pass.
     * Not on TLS: a close_notify may be all the socket had, so no event
     * follows; the replies are flushed and the client closed instead. */
    if (n == 0 && c->tls && c->state == CLIENT_ACTIVE) client_set_state(c, CLIENT_CLOSE_AFTER_REPLY);
    /* Bytes OpenSSL already decrypted will not wake epoll: read them now.
     * At most a record is left, so this recursion is shallow. */
    if (c->tls && c->state == CLIENT_ACTIVE && tls_pending(c->tls) > 0 && !(c->flags & CLIENT_READ_PAUSED))
        on_readable(loop, fd, c, mask);
}

static void protocol_error(client *c) {
    char msg[160];
    snprintf(msg, sizeof(msg), "ERR %s", c->parser.err);
    log_verbose("Protocol error (%s) from client: id=%llu addr=%s",
                c->parser.err, (unsigned long long)c->id, c->addr);
    /* The error is sent even under CLIENT REPLY OFF, as Redis does. */
    c->flags &= ~(CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP | CLIENT_REPLY_SKIP_NEXT);
    client_add_error(c, msg);
    client_set_state(c, CLIENT_CLOSE_AFTER_REPLY);
}

static void run_command(client *c) {
    int argc = (int)c->parser.argc;
    if (argc > M.argv_cap) {
        M.argv_cap = argc * 2;
        M.argv = mem_realloc(M.argv, sizeof(slice) * (size_t)M.argv_cap);
    }
    for (int i = 0; i < argc; i++) {
        M.argv[i].ptr = c->qbuf.data + c->parser.argv[i].off;
        M.argv[i].len = c->parser.argv[i].len;
    }
    if (c->flags & CLIENT_REPLY_SKIP_NEXT) {
        c->flags &= ~CLIENT_REPLY_SKIP_NEXT;
        c->flags |= CLIENT_REPLY_SKIP;
    }
    M.dispatch(c, argc, M.argv);
    /* A held command skips its reply when it finally runs. */
    if ((c->flags & (CLIENT_HELD | CLIENT_REPLY_SKIP)) == (CLIENT_HELD | CLIENT_REPLY_SKIP))
        c->flags |= CLIENT_REPLY_SKIP_NEXT;
    c->flags &= ~CLIENT_REPLY_SKIP;
}

/* ------------------------------------------------------------------------
 * Held commands (CLIENT PAUSE)
 * The command is copied, since the query buffer moves on; the client
 * stays readable (its query buffer just grows, up to the usual limit) but
 * process_input() runs nothing until the command is released.
 * ------------------------------------------------------------------------ */

void client_hold_command(client *c, int argc, const slice *argv) {
    free_held(c);
    c->held.argc = argc;
    c->held.argv = mem_alloc(sizeof(slice) * (size_t)argc);
    for (int i = 0; i < argc; i++) {
        c->held.argv[i].ptr = mem_strndup(argv[i].ptr, argv[i].len);
        c->held.argv[i].len = argv[i].len;
    }
    c->flags |= CLIENT_HELD;
    c->held_next = NULL;
    if (M.held_tail) M.held_tail->held_next = c;
    else M.held_head = c;
    M.held_tail = c;
}

/* Runs c's held command as run_command() would, then the rest of its input. */
static void release_one(client *c) {
    multi_cmd cmd = c->held;
    c->held.argc = 0;
    c->held.argv = NULL;
    c->flags &= ~CLIENT_HELD;
    if (c->state == CLIENT_ACTIVE) {
        if (c->flags & CLIENT_REPLY_SKIP_NEXT) {
            c->flags &= ~CLIENT_REPLY_SKIP_NEXT;
            c->flags |= CLIENT_REPLY_SKIP;
        }
        M.dispatch(c, cmd.argc, cmd.argv);
        if ((c->flags & (CLIENT_HELD | CLIENT_REPLY_SKIP)) == (CLIENT_HELD | CLIENT_REPLY_SKIP))
            c->flags |= CLIENT_REPLY_SKIP_NEXT;
        c->flags &= ~CLIENT_REPLY_SKIP;
        if (conn_out_has_output(&c->out)) client_check_output_limits(c);
        process_input(c);
    }
    for (int j = 0; j < cmd.argc; j++) mem_free((void *)cmd.argv[j].ptr);
    mem_free(cmd.argv);
}

void client_release_held(void) {
    /* Take the list: a released command may be held again (a new pause),
     * and then goes to the back of a new list, order kept. */
    client *list = M.held_head;
    M.held_head = M.held_tail = NULL;
    while (list) {
        client *c = list;
        list = c->held_next;
        c->held_next = NULL;
        release_one(c);
    }
}

void client_block(client *c) {
    c->flags |= CLIENT_BLOCKED;
    M.blocked++;
}

void client_unblock(client *c) {
    if (!(c->flags & CLIENT_BLOCKED)) return;
    c->flags &= ~CLIENT_BLOCKED;
    M.blocked--;
    c->resume_next = M.resume;
    M.resume = c;
    mark_pending(c);
}

long long client_blocked_count(void) {
    return M.blocked;
}

/* Runs the input that waited behind a block, for every unblocked client. */
static void resume_unblocked(void) {
    while (M.resume) {
        client *c = M.resume;
        M.resume = c->resume_next;
        c->resume_next = NULL;
        if (c->state == CLIENT_ACTIVE) {
            process_input(c);
            if (conn_out_has_output(&c->out)) client_check_output_limits(c);
        }
    }
}

static void process_input(client *c) {
    while (c->state == CLIENT_ACTIVE && !(c->flags & (CLIENT_READ_PAUSED | CLIENT_HELD | CLIENT_BLOCKED))) {
        c->parser.unauthenticated = auth_required(c);
        int rc = resp_parse(&c->parser, c->qbuf.data, c->qbuf.len);
        if (rc == RESP_INCOMPLETE) break;
        if (rc == RESP_ERR) {
            protocol_error(c);
            break;
        }
        run_command(c);
        /* A single big reply can cross the normal class's limits too. */
        if (conn_out_has_output(&c->out)) client_check_output_limits(c);
        if ((pending_bytes(c) > CLIENT_PAUSE_OUT_BYTES || c->slots_count >= CLIENT_SLOTS_MAX) &&
            c->state == CLIENT_ACTIVE) {
            c->flags |= CLIENT_READ_PAUSED;
            ev_del_fd(M.loop, c->fd, EV_READABLE);
        }
    }
    size_t used = resp_parser_pos(&c->parser);
    if (used > 0 && c->state != CLIENT_CLOSE_ASAP) {
        buf_consume(&c->qbuf, used);
        resp_parser_shift(&c->parser, used);
    }
    if (c->qbuf.len == 0 && c->qbuf.cap > CLIENT_READ_LEN * 2) buf_free(&c->qbuf);
}

/* ------------------------------------------------------------------------
 * Output queue
 * ------------------------------------------------------------------------ */

static void mark_pending(client *c) {
    if (c->flags & CLIENT_PENDING_WRITE) return;
    c->flags |= CLIENT_PENDING_WRITE;
    c->pending_next = M.pending;
    M.pending = c;
}

static bool replies_suppressed(const client *c) {
    return (c->flags & (CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP)) != 0;
}

/* Where the next reply bytes go, in order. */
static buf *ordered_buf(client *c) {
    if (c->slots) {
        /* Behind a late reply: collect into a ready slot at the end. */
        client_slot *t = c->slots_tail;
        if (!t->ready) t = slot_append(c, true);
        return &t->bytes;
    }
    mark_pending(c);
    return &c->out.reply;
}

buf *client_reply_buf(client *c) {
    if (replies_suppressed(c) || c->state == CLIENT_CLOSE_ASAP) {
        M.discard.len = 0;
        return &M.discard;
    }
    return ordered_buf(c);
}

buf *client_push_buf(client *c) {
    /* CLIENT REPLY OFF / SKIP silence replies, never pushes (Redis). */
    if (c->state == CLIENT_CLOSE_ASAP) {
        M.discard.len = 0;
        return &M.discard;
    }
    return ordered_buf(c);
}

void client_add_ok(client *c) {
    buf_append(client_reply_buf(c), "+OK\r\n", 5);
}

/* Error replies by their first word, for INFO errorstats. Past the last
 * slot new codes are lumped together, so a client cannot grow this. */
#define ERROR_CODES_MAX 128

static struct {
    char code[32];
    long long count;
} error_codes[ERROR_CODES_MAX];
static long long error_replies;

static void count_error(const char *text) {
    size_t n = strcspn(text, " ");
    if (n >= sizeof(error_codes[0].code)) n = sizeof(error_codes[0].code) - 1;
    error_replies++;
    for (int i = 0; i < ERROR_CODES_MAX; i++) {
        if (!error_codes[i].code[0]) {
            memcpy(error_codes[i].code, text, n);
            error_codes[i].code[n] = '\0';
        }
        if (strlen(error_codes[i].code) == n && memcmp(error_codes[i].code, text, n) == 0) {
            error_codes[i].count++;
            return;
        }
    }
}

void client_add_error(client *c, const char *text) {
    count_error(text);
    resp_add_error(client_reply_buf(c), text);
}

long long client_error_replies(void) {
    return error_replies;
}

void client_error_codes_foreach(void (*cb)(void *ctx, const char *code, long long count), void *ctx) {
    for (int i = 0; i < ERROR_CODES_MAX && error_codes[i].code[0]; i++)
        cb(ctx, error_codes[i].code, error_codes[i].count);
}

void client_add_errorf(client *c, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    client_add_error(c, msg);
}

/* Pending bytes: the queue's (already counted in out_bytes) plus c->reply. */
static size_t pending_bytes(const client *c) {
    return conn_out_pending(&c->out);
}

void client_add_frame(client *c, frame *f) {
    if (c->state == CLIENT_CLOSE_ASAP) return;   /* a push: REPLY OFF does not apply */
    mark_pending(c);
    M.pass_queued += f->len;
    conn_out_add_frame(&c->out, f);
    client_check_output_limits(c);
}

/* The deferred pushes: a handful at most outside EXEC, so the array is
 * kept between commands unless a transaction grew it. */
#define CLIENT_DEFERRED_KEEP 16

void client_defer_push(client *c, frame *f) {
    if (c->deferred_count == c->deferred_cap) {
        c->deferred_cap = c->deferred_cap ? c->deferred_cap * 2 : 4;
        c->deferred = mem_realloc(c->deferred, sizeof(*c->deferred) * c->deferred_cap);
    }
    frame_retain(f);
    c->deferred[c->deferred_count++] = f;
}

static void release_deferred(client *c) {
    for (uint32_t i = 0; i < c->deferred_count; i++) frame_release(c->deferred[i]);
    c->deferred_count = 0;
    if (c->deferred_cap > CLIENT_DEFERRED_KEEP) {
        mem_free(c->deferred);
        c->deferred = NULL;
        c->deferred_cap = 0;
    }
}

void client_flush_pushes(client *c) {
    for (uint32_t i = 0; i < c->deferred_count; i++) client_add_frame(c, c->deferred[i]);
    release_deferred(c);
}

bool client_is_subscribed(const client *c) {
    return c->subs != NULL;
}

int client_limit_class(const client *c) {
    return c->subs ? CLIENT_CLASS_PUBSUB : CLIENT_CLASS_NORMAL;
}

void client_check_output_limits(client *c) {
    if (c->state == CLIENT_CLOSE_ASAP) return;
    int cls = client_limit_class(c);
    unsigned long long used = pending_bytes(c);
    const config_obuf_limit *lim = &cfg.obuf_limits[cls];
    bool hard = lim->hard_bytes && used >= lim->hard_bytes;
    bool soft = false;
    if (lim->soft_bytes && used >= lim->soft_bytes) {
        long long now = util_time_ms();
        if (c->soft_limit_since_ms == 0) c->soft_limit_since_ms = now;
        else if (now - c->soft_limit_since_ms > lim->soft_seconds * 1000LL) soft = true;
    } else {
        c->soft_limit_since_ms = 0;
    }
    if (hard || soft) {
        M.stats.obuf_limit_disconnections++;
        log_warning("Client id=%llu addr=%s name=%s scheduled to be closed ASAP for overcoming of output buffer limits.",
                    (unsigned long long)c->id, c->addr, c->name ? c->name : "");
        client_close_async(c);
    }
}

/* ------------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------------ */

/* Writes what the kernel takes. Returns 0, or -1 if the client was closed. */
static int write_some(client *c) {
    ssize_t w = conn_out_write(&c->out, c->fd, c->tls, CLIENT_WRITE_MAX);
    if (w < 0) {
        log_verbose("Error writing to client: %s", conn_strerror(c->tls));
        client_close_async(c);
        return -1;
    }
    M.stats.total_net_output_bytes += w;
    return 0;
}

static bool has_output(const client *c) {
    return conn_out_has_output(&c->out);
}

/* After a write: arm or disarm EV_WRITABLE, resume reading, finish closing. */
static void after_write(client *c) {
    if (c->state == CLIENT_CLOSE_ASAP) return;
    if (has_output(c) || (c->tls && tls_read_needs_write(c->tls))) {
        if (!(c->flags & CLIENT_WRITE_ARMED)) {
            ev_add_fd(M.loop, c->fd, EV_WRITABLE, on_writable, c);
            c->flags |= CLIENT_WRITE_ARMED;
        }
    } else {
        if (c->flags & CLIENT_WRITE_ARMED) {
            ev_del_fd(M.loop, c->fd, EV_WRITABLE);
            c->flags &= ~CLIENT_WRITE_ARMED;
        }
        c->soft_limit_since_ms = 0;
        if (c->state == CLIENT_CLOSE_AFTER_REPLY && !c->slots) {
            client_set_state(c, CLIENT_CLOSE_ASAP);
            return;
        }
    }
    if ((c->flags & CLIENT_READ_PAUSED) && pending_bytes(c) < CLIENT_PAUSE_OUT_BYTES / 2 &&
        c->slots_count < CLIENT_SLOTS_MAX / 2) {
        c->flags &= ~CLIENT_READ_PAUSED;
        if (c->state == CLIENT_ACTIVE) {
            ev_add_fd(M.loop, c->fd, EV_READABLE, on_readable, c);
            process_input(c);
            if (c->tls && tls_pending(c->tls) > 0) on_readable(M.loop, c->fd, c, EV_READABLE);
            if (has_output(c)) mark_pending(c);
        }
    }
}

static void on_writable(ev_loop *loop, int fd, void *data, int mask) {
    (void)loop, (void)fd, (void)mask;
    client *c = data;
    if (c->state == CLIENT_CLOSE_ASAP) return;
    if (c->tls && !tls_handshake_done(c->tls)) {
        tls_accept_step(c);
        return;
    }
    if (c->tls && tls_read_needs_write(c->tls)) {
        on_readable(loop, fd, c, EV_READABLE);
        if (c->state == CLIENT_CLOSE_ASAP) return;
    }
    if (write_some(c) == -1) return;
    after_write(c);
}

void client_before_sleep(void) {
    resume_unblocked();
    /* Flushing may resume paused readers, whose commands may make more
     * clients pending: loop until the list is empty. */
    while (M.pending) {
        client *list = M.pending;
        M.pending = NULL;
        while (list) {
            client *c = list;
            list = c->pending_next;
            c->flags &= ~CLIENT_PENDING_WRITE;
            c->pending_next = NULL;
            if (c->state == CLIENT_CLOSE_ASAP) continue;
            /* An armed client is written by on_writable when the kernel
             * has room; writing now would just get EAGAIN. */
            if (!(c->flags & CLIENT_WRITE_ARMED) && write_some(c) == -1) continue;
            after_write(c);
        }
    }
    M.pass_queued = 0;
    free_closing();
    if (M.zombies) release_zombies(CLIENT_RELEASE_US);
}

/* ------------------------------------------------------------------------
 * Cron: idle timeouts, soft limits of clients nobody writes to, trimming
 * ------------------------------------------------------------------------ */

void client_cron(void) {
    long long now = util_time_ms();
    for (client *c = M.head; c; c = c->next) {
        if (c->state != CLIENT_ACTIVE) continue;
        if (cfg.timeout > 0 && !c->subs && !(c->flags & (CLIENT_READ_PAUSED | CLIENT_HELD | CLIENT_BLOCKED)) &&
            now - c->last_active_ms > (long long)cfg.timeout * 1000) {
            log_verbose("Closing idle client id=%llu addr=%s", (unsigned long long)c->id, c->addr);
            client_close_async(c);
            continue;
        }
        if (has_output(c)) client_check_output_limits(c);
        /* Give back buffers of idle clients: idle ones cost bytes, not KB. */
        conn_out_trim(&c->out);
        if (c->qbuf.len == 0 && resp_parser_pos(&c->parser) == 0) {
            buf_free(&c->qbuf);
            /* Between commands the parser's argv can go too. */
            if (c->parser.argv_cap > 0) {
                long long max_bulk = c->parser.max_bulk_len;
                resp_parser_free(&c->parser);
                resp_parser_init(&c->parser);
                c->parser.max_bulk_len = max_bulk;
            }
        }
        c->qbuf_peak = c->qbuf.len;
        if ((long long)pending_bytes(c) > M.stats.client_recent_max_output_buffer)
            M.stats.client_recent_max_output_buffer = (long long)pending_bytes(c);
        if ((long long)c->qbuf.cap > M.stats.client_recent_max_input_buffer)
            M.stats.client_recent_max_input_buffer = (long long)c->qbuf.cap;
    }
}

/* ------------------------------------------------------------------------
 * Queries and stats
 * ------------------------------------------------------------------------ */

client *client_by_id(uint64_t id) {
    for (client *c = M.head; c; c = c->next)
        if (c->id == id && c->state != CLIENT_CLOSE_ASAP) return c;
    return NULL;
}

client *client_first(void) {
    return M.head;
}

client *client_next(const client *c) {
    return c->next;
}

void client_laddr(const client *c, char *dst, size_t len) {
    if (c->flags & CLIENT_UNIX_SOCKET) snprintf(dst, len, "%s:0", cfg.unixsocket ? cfg.unixsocket : "");
    else net_local_str(c->fd, dst, len);
}

size_t client_reply_buf_size(const client *c) {
    return c->out.reply.cap;
}

size_t client_memory(const client *c) {
    return sizeof(*c) + c->qbuf.cap + conn_out_memory(&c->out) + c->out.bytes +
           c->parser.argv_cap * sizeof(resp_arg);
}

void client_note_subscriptions(client *c, bool had_subs) {
    if (!had_subs && c->subs) M.stats.pubsub_clients++;
    else if (had_subs && !c->subs) M.stats.pubsub_clients--;
}

void client_get_stats(client_stats *st) {
    *st = M.stats;
}

void client_reset_stats(void) {
    memset(error_codes, 0, sizeof(error_codes));
    error_replies = 0;
    M.stats.total_connections = 0;
    M.stats.rejected_connections = 0;
    M.stats.total_net_input_bytes = 0;
    M.stats.total_net_output_bytes = 0;
    M.stats.obuf_limit_disconnections = 0;
    M.stats.qbuf_limit_disconnections = 0;
}
