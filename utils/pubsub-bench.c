/* pubsub-bench.c -- Load generator and meter for Redis-compatible pub/sub
 * servers: ours (src/redis-pubsub-server) and redis-server alike.
 *
 * One process, one thread, one epoll loop, non-blocking sockets. Each run
 * plays one scenario (publish, fanout, patterns, channels, idle, slow) for a
 * bounded time and prints exactly one line of key=value pairs on stdout;
 * diagnostics go to stderr. utils/bench.sh runs it against fresh servers and
 * takes medians.
 *
 *   publishers --PUBLISH--> server --message--> subscribers
 *        ^                                          |
 *        '------ window: published - delivered/N ---'
 *
 * Reading: every socket is read into one shared buffer and fed to a
 * streaming RESP reader that keeps only a few bytes of state per connection
 * (a partial header line, the bytes left in the current bulk string, the
 * first 16 bytes of each top-level element). Payloads are never copied or
 * buffered, so 10,000 subscribers cost ~200 bytes each here, and a 64 KiB
 * message is skipped as it streams past.
 *
 * Payload: bytes 0-7 are the send time (CLOCK_MONOTONIC ns), bytes 8-15 a
 * sequence number (both native byte order: the same process reads them),
 * the rest filler. End-to-end latency is the time a read returned minus the
 * send time; the clock is read once per read(), not per message.
 *
 * Flow control: flat-out publishers keep at most --inflight PUBLISHes
 * unanswered and at most --inflight messages (and --window-mb bytes) not yet
 * delivered to every subscriber, so neither server can be buried in output
 * it cannot shed, and the rate measured is the rate delivered end to end.
 * With --rate the publisher is paced in 1 ms slices instead.
 *
 * Server cost: the run time of the server's threads (/proc/<--server-pid>/
 * task/TID/schedstat, in ns; utime+stime of /proc/<pid>/stat where schedstat
 * is missing) at the start and end of the measured window, divided by
 * deliveries (or publishes where nothing is delivered); RSS from
 * /proc/<pid>/status VmRSS.
 *
 * Relays: subscribers may connect to other ports than the publishers
 * (--sub-ports, round robin; --pub-port), e.g. subscribers on relays and
 * the publisher on their upstream. A relay confirms SUBSCRIBE before its
 * upstream does, so with --wait-upstream publishing starts only once every
 * subscriber port reports in INFO upstream that it holds its names
 * upstream (upstream_status:up, upstream_pending:0); otherwise the first
 * messages would be lost and the delivery window would never open. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "toolkit.h"

/* ======================== Options ========================================= */

enum scenario {
    SC_PUBLISH, SC_FANOUT, SC_PATTERNS, SC_CHANNELS, SC_IDLE, SC_SLOW, SC_CATCHUP
};

static const char *const scenario_names[] = {
    "publish", "fanout", "patterns", "channels", "idle", "slow", "catchup"
};

typedef struct options {
    const char *host;           /* server address, dotted IPv4 */
    int port;
    int pub_port;               /* publishers connect here (default port) */
    int sub_ports[8];           /* subscribers, round robin (default port) */
    int nsub_ports;
    bool wait_upstream;         /* wait for the relays at sub_ports to hold upstream */
    long other_pids[4];         /* more processes whose CPU share is reported */
    int nother_pids;
    double publish_rate;        /* fanout: PUBLISHes/s, paced (instead of --rate) */
    enum scenario sc;
    double duration_s;          /* measured window */
    long long count;            /* bound on PUBLISHes per run */
    double warmup_s;            /* traffic before the window, not counted */
    double setup_timeout_s;     /* bound on connecting and subscribing */
    int publishers;             /* publish: publisher connections */
    int pipeline;               /* PUBLISHes in flight per publisher connection */
    int subscribers;            /* fanout: subscribers on the channel */
    int size;                   /* payload bytes, >= 16 */
    int inflight;               /* fanout/slow: undelivered messages allowed */
    double rate;                /* fanout: deliveries/s, 0 = flat out */
    long window_bytes;          /* cap on undelivered bytes (all subscribers) */
    int patterns;               /* patterns: non-matching pattern count */
    int patterns_per_conn;
    int patterns_per_cmd;
    bool removed;               /* patterns: PUNSUBSCRIBE them before measuring */
    int channels;               /* channels: channel count */
    int channels_per_conn;
    int clients;                /* idle: subscriber connections */
    double idle_s;              /* idle: seconds between the two RSS readings */
    int slow;                   /* slow: subscribers that never read */
    int slow_rcvbuf;            /* slow: SO_RCVBUF of the slow sockets, bytes */
    int conns_per_addr;         /* connections per source address 127.0.0.x */
    bool busy_poll;             /* spin on epoll_wait(0) during the window */
    bool xread;                 /* fanout: readers use XREAD BLOCK, not SUBSCRIBE */
    bool xadd;                  /* publishers send XADD ch * message <payload> */
    int entries;                /* catchup: messages published before reading */
    int batch;                  /* catchup: COUNT per XRANGE / XREAD */
    bool catchup_xread;         /* catchup: XREAD COUNT instead of XRANGE */
    long server_pid;            /* 0 = no /proc figures */
    const char *server_name;    /* label copied to the output line */
} options;

static options opt = {
    .host = "127.0.0.1", .port = 6379, .sc = SC_FANOUT,
    .duration_s = 5, .count = 100000000, .warmup_s = 1, .setup_timeout_s = 120,
    .publishers = 1, .pipeline = 16, .subscribers = 100, .size = 16,
    .inflight = 64, .rate = 0, .window_bytes = 256L << 20,
    .patterns = 0, .patterns_per_conn = 1000, .patterns_per_cmd = 1000,
    .channels = 100000, .channels_per_conn = 1000,
    .clients = 10000, .idle_s = 10,
    .slow = 10, .slow_rcvbuf = 4096,
    .entries = 100000, .batch = 1000,
    .conns_per_addr = 0, .server_pid = 0, .server_name = "unknown",
};

/* ======================== Fast path ====================================== */

/* The exact bytes that precede the payload of the message a scenario
 * expects ("*3\r\n$7\r\nmessage\r\n$12\r\nbench:fanout\r\n$16\r\n"). A frame
 * that starts with them and lies whole in the buffer is delivered without
 * the general parser (fast_frame); anything else takes the general path. */
static char fast_prefix[160];
static size_t fast_prefix_len;

/* ======================== Connections and the loop ========================= */

enum role {
    ROLE_PUB,       /* publisher */
    ROLE_SUB,       /* counting subscriber (message / pmessage) */
    ROLE_PAT,       /* holder of non-matching patterns */
    ROLE_SLOW,      /* subscriber that stops reading */
    ROLE_CTRL,      /* control connection: PUBSUB NUMSUB polling */
    ROLE_IDLE,      /* idle subscriber */
    ROLE_XREAD,     /* history reader: XREAD BLOCK 0 from its last id, again and again */
    ROLE_CATCHUP,   /* history reader: XRANGE / XREAD COUNT pages until caught up */
};

typedef struct conn conn;

struct conn {
    int fd;
    uint8_t role;
    bool closed;                /* EOF, reset or error seen */
    bool reading;               /* EPOLLIN armed */
    bool writing;               /* EPOLLOUT armed */
    uint32_t idx;               /* index within its role */
    outbuf out;                 /* pending output */
    uint64_t pending;           /* commands sent and not answered */
    uint64_t acks;              /* subscribe-family confirmations seen */
    uint64_t next_seq;          /* fast subscriber: sequence expected next */
    reader rd;
    /* History readers only: their replies are nested (entries inside
     * arrays), so they are gathered whole here and parsed by
     * entries_parse() instead of the streaming reader. */
    outbuf in;
    char last_id[48];           /* id of the last entry seen, "0-0" at first */
    uint64_t page_entries;      /* catchup: entries in the last page */
};

typedef struct bench {
    int ep;
    conn **conns;               /* owned: every connection */
    int nconns, conns_cap;
    conn **pubs;                /* borrowed: publishers */
    int npubs;
    conn *ctrl;                 /* borrowed */
    uint64_t src_next;          /* connections opened, for source addresses */

    /* Counters, all since the start of the run. */
    uint64_t published;         /* PUBLISH commands sent */
    uint64_t replies;           /* PUBLISH integer replies */
    uint64_t receivers;         /* sum of PUBLISH replies (receiver counts) */
    uint64_t deliveries;        /* message/pmessage frames at counting subscribers */
    uint64_t delivered_bytes;   /* their payload bytes */
    uint64_t sub_acks;          /* subscribe-family confirmations */
    uint64_t errors;            /* error replies */
    uint64_t closed;            /* connections closed by the server */
    uint64_t slow_closed;
    uint64_t fast_gaps;         /* messages skipped in the fast subscriber's sequence */
    uint64_t fast_reorder;      /* messages older than expected */
    int64_t numsub;             /* last PUBSUB NUMSUB count, -1 = none yet */
    uint64_t numsub_at;         /* when it arrived */
    bool ctrl_waiting;

    /* Publishing policy. */
    bool publishing;
    uint64_t per_publish;       /* deliveries one publish produces */
    uint64_t window;            /* undelivered publishes allowed */
    double pub_rate;            /* publishes/s when paced, 0 = flat out */
    uint64_t pace_t0, pace_sent;
    const char *channel;        /* the one channel, or NULL for round robin */
    int rr_channels;

    /* Measurement. */
    bool measuring;
    hist *lat;
    uint64_t batch_now;         /* clock read after the last read() */
} bench;

static bench B;
static char rbuf[256 * 1024];
static char *filler;            /* payload filler, opt.size bytes */

static int64_t server_cpu_ns(void) { return proc_run_ns(opt.server_pid); }
static int64_t server_rss(void) { return proc_rss_bytes(opt.server_pid); }

static void conn_set_events(conn *c, bool rd, bool wr) {
    if (c->closed || (c->reading == rd && c->writing == wr)) return;
    epoll_mod(B.ep, c->fd, c, rd, wr);
    c->reading = rd;
    c->writing = wr;
}

static void conn_mark_closed(conn *c) {
    if (c->closed) return;
    c->closed = true;
    B.closed++;
    if (c->role == ROLE_SLOW) B.slow_closed++;
    epoll_ctl(B.ep, EPOLL_CTL_DEL, c->fd, NULL);
}

/* Appends a RESP command from argc strings. */
static void out_command(conn *c, int argc, const char *const *argv, const size_t *lens) {
    outbuf_command(&c->out, argc, argv, lens);
    c->pending++;
}

/* Writes what the kernel takes; arms EPOLLOUT only while output remains. */
static void conn_flush(conn *c) {
    if (c->closed) return;
    int rc = outbuf_write(&c->out, c->fd);
    if (rc == OUTBUF_ERR) {
        conn_mark_closed(c);
        return;
    }
    conn_set_events(c, c->reading, rc == OUTBUF_AGAIN);
}

static int source_addrs_per_range(void) {
    if (opt.conns_per_addr > 0) return opt.conns_per_addr;
    int lo = 32768, hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%d %d", &lo, &hi) != 2) { lo = 32768; hi = 60999; }
        fclose(f);
    }
    int n = hi - lo + 1 - 2000;
    return n < 1000 ? 1000 : n;
}

/* Opens a connection with a blocking connect (loopback: microseconds), then
 * makes it non-blocking. Connection k binds source address 127.0.0.(1 +
 * k / per-address) so that tens of thousands fit in the port range. */
static conn *conn_open(enum role role, uint32_t idx, int rcvbuf) {
    static int per_addr;
    if (per_addr == 0) per_addr = source_addrs_per_range();
    uint32_t src = 0;
    uint64_t k = B.src_next++ / (uint64_t)per_addr;
    if (k > 0 && strncmp(opt.host, "127.", 4) == 0) src = (127u << 24) | (uint32_t)(1 + k);
    char err[128];
    int port = opt.port;
    if (role == ROLE_PUB && opt.pub_port > 0) port = opt.pub_port;
    if (role != ROLE_PUB && opt.nsub_ports > 0)
        port = opt.sub_ports[role == ROLE_CTRL ? 0 : idx % (uint32_t)opt.nsub_ports];
    int fd = tcp_connect(opt.host, port, rcvbuf, src, err, sizeof err);
    if (fd < 0) die("%s (connection %llu)", err, (unsigned long long)(B.src_next - 1));
    conn *c = xcalloc(1, sizeof *c);
    c->fd = fd;
    c->role = (uint8_t)role;
    c->idx = idx;
    reader_init(&c->rd);
    struct epoll_event ev = {0};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.ptr = c;
    if (epoll_ctl(B.ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl: %s", strerror(errno));
    c->reading = true;
    if (B.nconns == B.conns_cap) {
        B.conns_cap = B.conns_cap ? B.conns_cap * 2 : 64;
        B.conns = xrealloc(B.conns, (size_t)B.conns_cap * sizeof *B.conns);
    }
    B.conns[B.nconns++] = c;
    return c;
}

/* ======================== Frames and publishing ============================ */

/* A message reached a counting subscriber: payload is element 2 (message)
 * or 3 (pmessage). */
static void on_delivery(conn *c, const rframe *f, int pi) {
    B.deliveries++;
    if (f->blen[pi] > 0) B.delivered_bytes += (uint64_t)f->blen[pi];
    if (f->clen[pi] < 16) return;
    uint64_t ts, seq;
    memcpy(&ts, f->cap[pi], 8);
    memcpy(&seq, f->cap[pi] + 8, 8);
    if (B.measuring && B.lat && B.batch_now >= ts) hist_add(B.lat, B.batch_now - ts);
    if (opt.sc == SC_SLOW && c->role == ROLE_SUB) {
        if (seq > c->next_seq) B.fast_gaps += seq - c->next_seq;
        if (seq < c->next_seq) B.fast_reorder++;
        else c->next_seq = seq + 1;
    }
}

static void on_fast_delivery(conn *c, const char *payload) {
    if (c->role != ROLE_SUB) return;
    rframe f;
    f.blen[0] = opt.size;
    f.clen[0] = 16;
    memcpy(f.cap[0], payload, 16);
    on_delivery(c, &f, 0);
}

/* fast_fn for the reader: a whole expected message at p, or 0. */
static size_t fast_frame(void *ctx, const char *p, size_t n) {
    size_t len = fast_prefix_len + (size_t)opt.size + 2;
    if (fast_prefix_len == 0 || n < len || memcmp(p, fast_prefix, fast_prefix_len) != 0 ||
        p[len - 2] != '\r' || p[len - 1] != '\n')
        return 0;
    on_fast_delivery(ctx, p + fast_prefix_len);
    return len;
}

/* Sets the fast-path prefix for messages on chan (pmessage when pattern). */
static void expect_message(const char *pattern, const char *chan) {
    if (pattern)
        fast_prefix_len = (size_t)snprintf(fast_prefix, sizeof fast_prefix,
            "*4\r\n$8\r\npmessage\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n$%d\r\n",
            strlen(pattern), pattern, strlen(chan), chan, opt.size);
    else
        fast_prefix_len = (size_t)snprintf(fast_prefix, sizeof fast_prefix,
            "*3\r\n$7\r\nmessage\r\n$%zu\r\n%s\r\n$%d\r\n", strlen(chan), chan, opt.size);
}

static void on_frame(void *ctx, const rframe *f) {
    conn *c = ctx;
    switch (f->type) {
    case ':':
        if (c->pending) c->pending--;
        if (c->role == ROLE_PUB) {
            B.replies++;
            if (f->ival > 0) B.receivers += (uint64_t)f->ival;
        }
        return;
    case '-':
        if (c->pending) c->pending--;
        B.errors++;
        return;
    case '+': case '$':
        if (c->pending) c->pending--;
        if (c->role == ROLE_PUB && f->type == '$') B.replies++;   /* XADD's id */
        return;
    case '*': case '>':
        break;
    default:
        return;
    }
    if (rframe_is(f, 0, "message") && f->nelem == 3) {
        if (c->role == ROLE_SUB) on_delivery(c, f, 2);
        return;
    }
    if (rframe_is(f, 0, "pmessage") && f->nelem == 4) {
        if (c->role == ROLE_SUB) on_delivery(c, f, 3);
        return;
    }
    if (rframe_is(f, 0, "subscribe") || rframe_is(f, 0, "psubscribe") ||
        rframe_is(f, 0, "unsubscribe") || rframe_is(f, 0, "punsubscribe")) {
        c->acks++;
        B.sub_acks++;
        return;
    }
    /* Any other array is a command reply, e.g. PUBSUB NUMSUB ch count. */
    if (c->pending) c->pending--;
    if (c->role == ROLE_CTRL && f->nelem == 2) {
        B.numsub = f->ival;
        B.numsub_at = now_ns();
        B.ctrl_waiting = false;
    }
}

/* Appends one PUBLISH of opt.size bytes stamped with now and the sequence. */
static void append_publish(conn *c, uint64_t now) {
    char ch[32];
    const char *chan = B.channel;
    size_t chlen;
    if (chan == NULL) {
        int n = snprintf(ch, sizeof ch, "ch:%llu",
                         (unsigned long long)(B.published % (uint64_t)B.rr_channels));
        chan = ch;
        chlen = (size_t)n;
    } else {
        chlen = strlen(chan);
    }
    char hdr[96];
    int h = opt.xadd ? snprintf(hdr, sizeof hdr, "*5\r\n$4\r\nXADD\r\n$%zu\r\n", chlen)
                     : snprintf(hdr, sizeof hdr, "*3\r\n$7\r\nPUBLISH\r\n$%zu\r\n", chlen);
    outbuf_reserve(&c->out, (size_t)h + chlen + 64 + (size_t)opt.size);
    char *w = c->out.p + c->out.len;
    memcpy(w, hdr, (size_t)h); w += h;
    memcpy(w, chan, chlen); w += chlen;
    w += sprintf(w, opt.xadd ? "\r\n$1\r\n*\r\n$7\r\nmessage\r\n$%d\r\n" : "\r\n$%d\r\n", opt.size);
    uint64_t seq = B.published;
    memcpy(w, &now, 8);
    memcpy(w + 8, &seq, 8);
    memcpy(w + 16, filler, (size_t)opt.size - 16);
    w += opt.size;
    memcpy(w, "\r\n", 2); w += 2;
    c->out.len = (size_t)(w - c->out.p);
    c->pending++;
    B.published++;
}

/* Tops every publisher up to its pipeline depth, within the delivery window
 * and, when paced, the publishes due by now. */
static void publish_fill(uint64_t now) {
    if (!B.publishing || B.npubs == 0) return;
    if (B.published >= (uint64_t)opt.count) return;
    uint64_t delivered = B.per_publish ? B.deliveries / B.per_publish : B.replies;
    uint64_t budget = UINT64_MAX;
    if (B.window) {
        uint64_t limit = delivered + B.window;
        budget = B.published >= limit ? 0 : limit - B.published;
    }
    if ((uint64_t)opt.count - B.published < budget) budget = (uint64_t)opt.count - B.published;
    if (B.pub_rate > 0) {
        uint64_t due = (uint64_t)(ns_to_s(now - B.pace_t0) * B.pub_rate);
        uint64_t owed = due > B.pace_sent ? due - B.pace_sent : 0;
        if (owed < budget) budget = owed;
    }
    for (int i = 0; i < B.npubs && budget > 0; i++) {
        conn *p = B.pubs[i];
        if (p->closed) continue;
        bool wrote = false;
        while (budget > 0 && p->pending < (uint64_t)opt.pipeline) {
            append_publish(p, now);
            budget--;
            if (B.pub_rate > 0) B.pace_sent++;
            wrote = true;
        }
        if (wrote) conn_flush(p);
    }
}

static void history_read(conn *c, const char *p, size_t n);
static void xread_resend(void);

static void handle_read(conn *c) {
    for (int rounds = 0; rounds < 4; rounds++) {
        long n = sock_read(c->fd, rbuf, sizeof rbuf);
        if (n == 0) return;
        if (n < 0) {
            conn_mark_closed(c);
            return;
        }
        B.batch_now = now_ns();
        if (c->role == ROLE_XREAD || c->role == ROLE_CATCHUP) {
            history_read(c, rbuf, (size_t)n);
            if (c->closed || (size_t)n < sizeof rbuf) return;
            continue;
        }
        reader_feed(&c->rd, c, on_frame, fast_frame, rbuf, (size_t)n);
        if (c->rd.bad) {
            fprintf(stderr, "pubsub-bench: protocol error from server (role %d)\n", c->role);
            conn_mark_closed(c);
            return;
        }
        if ((size_t)n < sizeof rbuf) return;
    }
}

/* One pass of the loop: waits at most timeout_ms, handles the events, tops
 * publishers up. */
static void loop_once(int timeout_ms) {
    static struct epoll_event evs[1024];
    int n = epoll_wait(B.ep, evs, 1024, timeout_ms);
    if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
        conn *c = evs[i].data.ptr;
        uint32_t e = evs[i].events;
        if (c->closed) continue;
        if (e & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
            if (c->reading || (e & (EPOLLHUP | EPOLLERR))) handle_read(c);
            else if (e & EPOLLRDHUP) conn_mark_closed(c);
        }
        if (!c->closed && (e & EPOLLOUT)) conn_flush(c);
    }
    xread_resend();
    publish_fill(now_ns());
}

typedef bool cond_fn(void);

/* Runs the loop until cond() holds or the deadline passes; true if cond. */
static bool loop_until(cond_fn *cond, uint64_t deadline, int tick_ms) {
    for (;;) {
        if (cond && cond()) return true;
        uint64_t now = now_ns();
        if (now >= deadline) return cond == NULL;
        uint64_t left_ms = (deadline - now) / 1000000 + 1;
        loop_once(left_ms < (uint64_t)tick_ms ? (int)left_ms : tick_ms);
    }
}

static uint64_t want_acks;
static bool acks_reached(void) { return B.sub_acks >= want_acks; }

static void wait_acks(uint64_t n, uint64_t deadline, const char *what) {
    want_acks = n;
    if (!loop_until(acks_reached, deadline, 50))
        die("setup timed out: %s (%llu of %llu confirmations)", what,
            (unsigned long long)B.sub_acks, (unsigned long long)n);
}

/* ======================== Measured window ================================== */

typedef struct snapshot {
    uint64_t t, published, replies, deliveries, bytes;
    int64_t cpu, tool_cpu;
    int64_t wait;               /* server's run-queue wait, -1 unknown */
    int64_t other_cpu[4];       /* --other-pid processes: run time */
    int64_t other_wait[4];      /* and run-queue wait */
} snapshot;

static snapshot snap(void) {
    snapshot s = { now_ns(), B.published, B.replies, B.deliveries, B.delivered_bytes,
                   server_cpu_ns(), self_cpu_ns(), -1, {0}, {0} };
    int64_t run;
    proc_sched_ns(opt.server_pid, &run, &s.wait);
    for (int i = 0; i < opt.nother_pids; i++)
        if (proc_sched_ns(opt.other_pids[i], &s.other_cpu[i], &s.other_wait[i]) < 0)
            s.other_cpu[i] = proc_cpu_ns(opt.other_pids[i]);
    return s;
}

/* Output line, built up by the scenario and printed once. */
static char line_buf[4096];
static size_t line_len;

static void out_kv(const char *key, const char *fmt, ...) {
    va_list ap;
    if (line_len > 0 && line_len < sizeof line_buf - 1) line_buf[line_len++] = ' ';
    line_len += (size_t)snprintf(line_buf + line_len, sizeof line_buf - line_len, "%s=", key);
    va_start(ap, fmt);
    line_len += (size_t)vsnprintf(line_buf + line_len, sizeof line_buf - line_len, fmt, ap);
    va_end(ap);
    if (line_len >= sizeof line_buf) line_len = sizeof line_buf - 1;
}

static void out_num(const char *key, double v, int decimals) {
    if (v < 0 || isnan(v)) out_kv(key, "na");
    else out_kv(key, "%.*f", decimals, v);
}

/* Reports rates and costs between two snapshots. per = divisor for CPU
 * (deliveries, or publishes). */
static void report_window(const snapshot *a, const snapshot *b, bool with_latency) {
    double secs = ns_to_s(b->t - a->t);
    uint64_t pubs = b->replies - a->replies;
    uint64_t dels = b->deliveries - a->deliveries;
    out_num("duration_s", secs, 2);
    out_kv("published", "%llu", (unsigned long long)(b->published - a->published));
    out_num("publish_per_s", (double)pubs / secs, 0);
    out_kv("deliveries", "%llu", (unsigned long long)dels);
    out_num("deliveries_per_s", (double)dels / secs, 0);
    out_num("mbytes_per_s", (double)(b->bytes - a->bytes) / secs / 1e6, 1);
    if (with_latency) {
        out_num("p50_us", hist_quantile_us(B.lat, 0.50), 1);
        out_num("p99_us", hist_quantile_us(B.lat, 0.99), 1);
        out_num("p999_us", hist_quantile_us(B.lat, 0.999), 1);
    }
    uint64_t per = dels ? dels : pubs;
    if (a->cpu >= 0 && b->cpu >= 0 && per > 0) {
        out_num("cpu_ns_per_delivery", (double)(b->cpu - a->cpu) / (double)per, 0);
        if (pubs > 0) out_num("cpu_ns_per_publish", (double)(b->cpu - a->cpu) / (double)pubs, 0);
        else out_kv("cpu_ns_per_publish", "na");
        out_num("server_cpu_pct", 100.0 * (double)(b->cpu - a->cpu) / (double)(b->t - a->t), 1);
    } else {
        out_kv("cpu_ns_per_delivery", "na");
        out_kv("cpu_ns_per_publish", "na");
        out_kv("server_cpu_pct", "na");
    }
    out_num("tool_cpu_pct", 100.0 * (double)(b->tool_cpu - a->tool_cpu) / (double)(b->t - a->t), 1);
    /* Time the server was ready to run but had no CPU: other processes on a
     * shared machine; large values explain high tail latencies. */
    out_num("server_runq_pct", a->wait >= 0 && b->wait >= 0
            ? 100.0 * (double)(b->wait - a->wait) / (double)(b->t - a->t) : -1, 2);
    if (opt.nother_pids > 0) {
        char list[128], wlist[128];
        size_t n = 0, wn = 0;
        for (int i = 0; i < opt.nother_pids; i++) {
            double span = (double)(b->t - a->t);
            double pct = a->other_cpu[i] >= 0 && b->other_cpu[i] >= 0
                ? 100.0 * (double)(b->other_cpu[i] - a->other_cpu[i]) / span : -1;
            double wpct = a->other_wait[i] >= 0 && b->other_wait[i] >= 0
                ? 100.0 * (double)(b->other_wait[i] - a->other_wait[i]) / span : -1;
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%.1f", i ? "," : "", pct);
            if (n >= sizeof list) n = sizeof list - 1;
            wn += (size_t)snprintf(wlist + wn, sizeof wlist - wn, "%s%.2f", i ? "," : "", wpct);
            if (wn >= sizeof wlist) wn = sizeof wlist - 1;
        }
        out_kv("other_cpu_pct", "%s", list);
        out_kv("other_runq_pct", "%s", wlist);
    }
}

/* Warm-up, then the measured window: returns the two snapshots. */
static void run_window(snapshot *a, snapshot *b) {
    B.publishing = true;
    B.pace_t0 = now_ns();
    B.pace_sent = 0;
    publish_fill(B.pace_t0);
    int tick = opt.busy_poll ? 0 : B.pub_rate > 0 ? 1 : 100;
    loop_until(NULL, now_ns() + s_to_ns(opt.warmup_s), tick);
    memset(B.lat, 0, sizeof *B.lat);
    B.measuring = true;
    *a = snap();
    loop_until(NULL, a->t + s_to_ns(opt.duration_s), tick);
    *b = snap();
    B.measuring = false;
    B.publishing = false;
}

/* INFO section of the server at port, read with a blocking socket into
 * buf (NUL-terminated); false if it could not be had. */
static bool server_info(int port, const char *section, char *buf, size_t cap) {
    char err[128];
    int fd = tcp_connect(opt.host, port, 0, 0, err, sizeof err);
    if (fd < 0) return false;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    struct timeval tv = { 2, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char cmd[96];
    int cl = snprintf(cmd, sizeof cmd, "*2\r\n$4\r\nINFO\r\n$%zu\r\n%s\r\n", strlen(section), section);
    bool ok = write(fd, cmd, (size_t)cl) == (ssize_t)cl;
    size_t len = 0;
    long want = -1;             /* total bytes of the bulk reply, once known */
    while (ok && len < cap - 1 && (want < 0 || (long)len < want)) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n <= 0) { ok = false; break; }
        len += (size_t)n;
        buf[len] = '\0';
        char *eol = strstr(buf, "\r\n");
        if (want < 0 && eol) {
            if (buf[0] != '$') { ok = false; break; }
            want = (long)(eol - buf) + 2 + atol(buf + 1) + 2;
        }
    }
    close(fd);
    buf[len] = '\0';
    return ok;
}

/* The integer after "field:" in INFO text, or -1. */
static long info_field(const char *text, const char *field) {
    char key[64];
    snprintf(key, sizeof key, "\n%s:", field);
    const char *p = strstr(text, key);
    return p ? atol(p + strlen(key)) : -1;
}

/* --wait-upstream: polls every subscriber port until its relay holds all
 * its names upstream; dies at the deadline. Prints upstream_wait_ms. */
static void wait_upstream(uint64_t deadline) {
    uint64_t t0 = now_ns();
    int ports[8], n = 0;
    if (opt.nsub_ports == 0) ports[n++] = opt.port;
    for (int i = 0; i < opt.nsub_ports; i++) ports[n++] = opt.sub_ports[i];
    static char text[16384];
    for (int i = 0; i < n; i++) {
        for (;;) {
            bool ok = server_info(ports[i], "upstream", text, sizeof text);
            if (ok && strstr(text, "upstream_status:up\r\n") &&
                info_field(text, "upstream_pending") == 0 &&
                info_field(text, "upstream_channels") + info_field(text, "upstream_patterns") +
                    info_field(text, "upstream_shard_channels") >= 1)
                break;
            if (now_ns() >= deadline)
                die("setup timed out: the relay on port %d does not hold its names upstream%s",
                    ports[i], ok ? "" : " (no INFO upstream reply)");
            loop_once(5);       /* keep reading the subscribers meanwhile */
        }
    }
    out_num("upstream_wait_ms", (double)(now_ns() - t0) / 1e6, 1);
}

static uint64_t setup_deadline;

static void add_publishers(int n) {
    if (opt.wait_upstream) wait_upstream(setup_deadline);
    B.pubs = xrealloc(B.pubs, (size_t)n * sizeof *B.pubs);
    for (int i = 0; i < n; i++) B.pubs[i] = conn_open(ROLE_PUB, (uint32_t)i, 0);
    B.npubs = n;
}

/* Subscribes conn c to one channel. */
static void subscribe_one(conn *c, const char *cmd, const char *chan) {
    const char *argv[2] = { cmd, chan };
    out_command(c, 2, argv, NULL);
    c->pending--;               /* confirmations are counted as acks, not replies */
    conn_flush(c);
}

/* Opens n subscribers of role on channel name(i), keeping at most 256
 * SUBSCRIBEs unconfirmed so the accept queue never overflows. */
static void open_subscribers(int n, enum role role, int rcvbuf, uint64_t deadline,
                             void (*name)(char *out, size_t cap, int i)) {
    uint64_t base = B.sub_acks;
    char chan[64];
    for (int i = 0; i < n; i++) {
        conn *c = conn_open(role, (uint32_t)i, rcvbuf);
        name(chan, sizeof chan, i);
        subscribe_one(c, "SUBSCRIBE", chan);
        if (i >= 256) {
            want_acks = base + (uint64_t)(i - 256);
            if (!loop_until(acks_reached, deadline, 10)) die("setup timed out opening subscribers");
        } else {
            loop_once(0);
        }
    }
    wait_acks(base + (uint64_t)n, deadline, "subscribing");
}

static const char *window_note;

/* Sets the flat-out window: --inflight publishes not yet delivered to all,
 * capped by --window-mb of undelivered bytes. */
static void set_window(uint64_t per_publish) {
    B.per_publish = per_publish;
    uint64_t w = (uint64_t)opt.inflight;
    uint64_t bytes_per = per_publish * (uint64_t)(opt.size + 64);
    if (bytes_per > 0 && w * bytes_per > (uint64_t)opt.window_bytes) {
        w = (uint64_t)opt.window_bytes / bytes_per;
        if (w < 1) w = 1;
        window_note = "bytes";
    }
    B.window = w;
}

/* ======================== History readers ================================== */

/* Channel history (issue 11) is read with the Streams commands, whose
 * replies nest entries inside arrays: [[name, [[id, [field, value...]]...]]]
 * for XREAD, [[id, [field, value...]]...] for XRANGE. The streaming reader
 * captures top-level elements only, so a history reader gathers each reply
 * whole in its conn.in and parses it here (payload = the value of the first
 * field, "message"). RESP2 only. */

/* One RESP header line at p: its type byte and number ("_" is a null, -1).
 * Returns the bytes it takes with its CRLF, 0 if not whole yet, -1 if bad. */
static long resp_header(const char *p, const char *end, char *type, long long *num) {
    if (p >= end) return 0;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL) return end - p > 64 ? -1 : 0;
    if (nl - p < 2 || nl[-1] != '\r') return -1;
    *type = p[0];
    if (*type == '_' || *type == '-' || *type == '+') {
        *num = -1;
    } else {
        char *e;
        *num = strtoll(p + 1, &e, 10);
        if (e != nl - 1) return -1;
    }
    return nl - p + 1;
}

/* A bulk string at p: *s, *len; returns its bytes, 0 if not whole, -1 bad. */
static long resp_bulk(const char *p, const char *end, const char **s, long long *len) {
    char t;
    long long n;
    long h = resp_header(p, end, &t, &n);
    if (h <= 0) return h;
    if (t != '$' || n < 0) return -1;
    if (end - p - h < n + 2) return 0;
    *s = p + h;
    *len = n;
    return h + n + 2;
}

typedef void entry_fn(conn *c, const char *id, size_t idlen, const char *payload, size_t plen);

/* The reply at p: an XREAD reply for one stream (xread; a null when there
 * is nothing) or an XRANGE reply. Calls emit (when not NULL) for each
 * entry. Returns the reply's bytes, 0 if it is not whole yet (emit must
 * then be NULL: callers check first, then emit), -1 if it is not one.
 * *count = its entries; an error reply is -2 with its bytes in *count. */
static long entries_parse(const char *p, size_t n, bool xread, conn *c, entry_fn *emit,
                          uint64_t *count) {
    const char *q = p, *end = p + n, *s;
    char t;
    long long k, len;
    long h;
    *count = 0;
#define NEXT_HEADER() do { h = resp_header(q, end, &t, &k); if (h <= 0) return h; q += h; } while (0)
#define NEXT_BULK() do { h = resp_bulk(q, end, &s, &len); if (h <= 0) return h; q += h; } while (0)
    NEXT_HEADER();
    if (t == '-') {
        *count = (uint64_t)(q - p);
        return -2;
    }
    if (xread) {
        if (t == '_' || (t == '*' && k < 0)) return q - p;
        if (t != '*' || k != 1) return -1;
        NEXT_HEADER();
        if (t != '*' || k != 2) return -1;
        NEXT_BULK();                    /* the stream's name */
        NEXT_HEADER();
    }
    if (t != '*' || k < 0) return -1;
    long long entries = k;
    for (long long i = 0; i < entries; i++) {
        NEXT_HEADER();
        if (t != '*' || k != 2) return -1;
        NEXT_BULK();
        const char *id = s, *payload = NULL;
        long long idlen = len, plen = 0;
        NEXT_HEADER();
        if (t != '*' || k < 0) return -1;
        long long fields = k;
        for (long long j = 0; j < fields; j++) {
            NEXT_BULK();
            if (j == 1) { payload = s; plen = len; }
        }
        if (emit) emit(c, id, (size_t)idlen, payload, (size_t)plen);
    }
#undef NEXT_HEADER
#undef NEXT_BULK
    *count = (uint64_t)entries;
    return q - p;
}

/* An entry reached a reader: counted as a delivery, with its latency from
 * the payload's timestamp while measuring. */
static void on_entry(conn *c, const char *id, size_t idlen, const char *payload, size_t plen) {
    if (idlen < sizeof c->last_id) {
        memcpy(c->last_id, id, idlen);
        c->last_id[idlen] = '\0';
    }
    B.deliveries++;
    B.delivered_bytes += plen;
    if (payload && plen >= 16 && B.measuring && B.lat) {
        uint64_t ts;
        memcpy(&ts, payload, 8);
        if (B.batch_now >= ts) hist_add(B.lat, B.batch_now - ts);
    }
}

/* XREAD BLOCK 0 STREAMS <channel> <last id>: what a consumer re-issues
 * after every reply. */
static void xread_send(conn *c) {
    const char *argv[6] = { "XREAD", "BLOCK", "0", "STREAMS", B.channel, c->last_id };
    out_command(c, 6, argv, NULL);
    conn_flush(c);
}

/* Readers due to re-issue XREAD. The tool plays 1000 independent
 * consumers on one thread: a reader re-issuing at once would put its
 * write(2) (and the wake-up of the server it causes) before the reads of
 * the readers behind it in the same epoll batch, and charge them its time.
 * So readers re-issue after the batch's reads, all together. */
static conn **xread_due;
static int nxread_due, xread_due_cap;

static void xread_queue(conn *c) {
    if (nxread_due == xread_due_cap) {
        xread_due_cap = xread_due_cap ? xread_due_cap * 2 : 1024;
        xread_due = xrealloc(xread_due, (size_t)xread_due_cap * sizeof *xread_due);
    }
    xread_due[nxread_due++] = c;
}

static void xread_resend(void) {
    for (int i = 0; i < nxread_due; i++)
        if (!xread_due[i]->closed) xread_send(xread_due[i]);
    nxread_due = 0;
}

/* Catch-up state: one reader paging through the history. */
static struct {
    uint64_t pass_entries;      /* entries read in the current pass */
    bool pass_done;
} CU;

/* The next page: XRANGE ch - + COUNT n, then XRANGE ch (last + COUNT n; or
 * XREAD COUNT n STREAMS ch 0-0, then from the last id. */
static void catchup_send(conn *c, bool first) {
    char cnt[24], start[56];
    snprintf(cnt, sizeof cnt, "%d", opt.batch);
    if (opt.catchup_xread) {
        const char *argv[6] = { "XREAD", "COUNT", cnt, "STREAMS", B.channel, first ? "0-0" : c->last_id };
        out_command(c, 6, argv, NULL);
    } else {
        snprintf(start, sizeof start, first ? "-" : "(%s", c->last_id);
        const char *argv[6] = { "XRANGE", B.channel, start, "+", "COUNT", cnt };
        out_command(c, 6, argv, NULL);
    }
    conn_flush(c);
}

/* Gathers a history reader's bytes; handles every whole reply in them. */
static void history_read(conn *c, const char *p, size_t n) {
    static unsigned logged;
    outbuf_append(&c->in, p, n);
    bool xread = c->role == ROLE_XREAD || opt.catchup_xread;
    while (c->in.off < c->in.len) {
        const char *r = c->in.p + c->in.off;
        size_t avail = c->in.len - c->in.off;
        uint64_t count;
        long rc = entries_parse(r, avail, xread, c, NULL, &count);
        if (rc == 0) return;
        if (rc == -1) {
            fprintf(stderr, "pubsub-bench: unexpected history reply: %.40s\n", r);
            conn_mark_closed(c);
            return;
        }
        if (c->pending) c->pending--;
        if (rc == -2) {
            B.errors++;
            if (logged++ < 3) fprintf(stderr, "pubsub-bench: error reply %.*s", (int)count, r);
            c->in.off += count;
            if (c->role == ROLE_CATCHUP) CU.pass_done = true;
            continue;
        }
        entries_parse(r, avail, xread, c, on_entry, &count);
        c->in.off += (size_t)rc;
        if (c->role == ROLE_XREAD) {
            xread_queue(c);
        } else {
            CU.pass_entries += count;
            if (count > 0 && count >= (uint64_t)opt.batch) catchup_send(c, false);
            else CU.pass_done = true;
        }
    }
    c->in.off = c->in.len = 0;
}

/* The history_blocked_readers figure of INFO history, or -1. */
static long blocked_readers(void) {
    static char text[4096];
    if (!server_info(opt.port, "history", text, sizeof text)) return -1;
    long n = info_field(text, "history_blocked_readers");
    /* redis-server: no history section; its blocked clients are the readers. */
    if (n < 0 && server_info(opt.port, "clients", text, sizeof text)) n = info_field(text, "blocked_clients");
    return n;
}

/* Opens n XREAD BLOCK readers of B.channel from 0-0 (so none misses the
 * first messages) and waits until the server holds them all blocked;
 * never more than 256 not yet blocked, so the accept queue never fills. */
static void open_xreaders(int n, uint64_t deadline) {
    for (int i = 0; i < n; i++) {
        conn *c = conn_open(ROLE_XREAD, (uint32_t)i, 0);
        strcpy(c->last_id, "0-0");
        xread_send(c);
        if (i % 256 == 255 || i == n - 1) {
            long want = i == n - 1 ? n : i + 1 - 256;
            for (;;) {
                long got = blocked_readers();
                if (got >= want) break;
                if (now_ns() >= deadline)
                    die("setup timed out: %ld of %ld XREAD readers blocked (INFO history)", got, want);
                loop_once(5);
            }
        }
    }
}

/* ======================== Scenarios ======================================== */

static void name_fanout(char *out, size_t cap, int i) { (void)i; snprintf(out, cap, "bench:fanout"); }
static void name_idle(char *out, size_t cap, int i) { snprintf(out, cap, "idle:%d", i); }
static void name_slow(char *out, size_t cap, int i) { (void)i; snprintf(out, cap, "bench:slow"); }
static void name_pub(char *out, size_t cap, int i) { (void)i; snprintf(out, cap, "bench:pub"); }

static void scenario_publish(uint64_t deadline) {
    open_subscribers(1, ROLE_SUB, 0, deadline, name_pub);
    add_publishers(opt.publishers);
    B.channel = "bench:pub";
    expect_message(NULL, B.channel);
    B.per_publish = 1;
    /* Undelivered messages bounded by twice what the pipelines hold. */
    B.window = (uint64_t)opt.publishers * (uint64_t)opt.pipeline * 2;
    snapshot a, b;
    run_window(&a, &b);
    out_kv("publishers", "%d", opt.publishers);
    out_kv("pipeline", "%d", opt.pipeline);
    out_kv("size", "%d", opt.size);
    report_window(&a, &b, true);
}

static void scenario_fanout(uint64_t deadline) {
    B.channel = "bench:fanout";
    if (opt.xread) open_xreaders(opt.subscribers, deadline);
    else open_subscribers(opt.subscribers, ROLE_SUB, 0, deadline, name_fanout);
    add_publishers(1);
    expect_message(NULL, B.channel);
    set_window((uint64_t)opt.subscribers);
    if (opt.rate > 0 || opt.publish_rate > 0) {
        /* Paced: the rate bounds the backlog; the byte cap of set_window()
         * (with a generous count) still stops a server that cannot keep up
         * from being buried. */
        B.pub_rate = opt.publish_rate > 0 ? opt.publish_rate : opt.rate / opt.subscribers;
        opt.inflight = 1 << 20;
        set_window((uint64_t)opt.subscribers);
        window_note = NULL;
        opt.pipeline = 1 << 30;
    } else {
        opt.pipeline = opt.inflight;
    }
    snapshot a, b;
    run_window(&a, &b);
    out_kv("subs", "%d", opt.subscribers);
    out_kv("readers", "%s", opt.xread ? "xread" : "subscribe");
    out_kv("size", "%d", opt.size);
    out_kv("mode", "%s", B.pub_rate > 0 ? "paced" : "flat");
    if (B.pub_rate > 0) out_num("rate", B.pub_rate * opt.subscribers, 0);
    else out_kv("inflight", "%llu", (unsigned long long)B.window);
    report_window(&a, &b, true);
}

/* Pattern i of the non-matching set: literal prefixes that differ, four
 * shapes. None matches "bench:pat:chan". */
static int pattern_name(char *out, size_t cap, int i) {
    switch (i % 4) {
    case 0: return snprintf(out, cap, "p%d:*", i);
    case 1: return snprintf(out, cap, "x%d.*.y", i);
    case 2: return snprintf(out, cap, "news.%d.[ab]*", i);
    default: return snprintf(out, cap, "q%d?z", i);
    }
}

/* Sends (P)SUBSCRIBE-family commands for items [first, first+count) of a
 * set, batch items per command. */
static void send_batched(conn *c, const char *cmd, int first, int count, int batch,
                         int (*name)(char *out, size_t cap, int i)) {
    const char **argv = xcalloc((size_t)batch + 1, sizeof *argv);
    size_t *lens = xcalloc((size_t)batch + 1, sizeof *lens);
    char *names = xcalloc((size_t)batch, 48);
    for (int done = 0; done < count;) {
        int k = count - done < batch ? count - done : batch;
        argv[0] = cmd;
        lens[0] = strlen(cmd);
        for (int j = 0; j < k; j++) {
            char *s = names + (size_t)j * 48;
            lens[j + 1] = (size_t)name(s, 48, first + done + j);
            argv[j + 1] = s;
        }
        out_command(c, k + 1, argv, lens);
        c->pending--;
        done += k;
    }
    conn_flush(c);
    free(argv);
    free(lens);
    free(names);
}

static void scenario_patterns(uint64_t deadline) {
    int nconn = (opt.patterns + opt.patterns_per_conn - 1) / opt.patterns_per_conn;
    conn **pc = xcalloc((size_t)(nconn ? nconn : 1), sizeof *pc);
    uint64_t base = B.sub_acks;
    for (int i = 0; i < nconn; i++) {
        int first = i * opt.patterns_per_conn;
        int count = opt.patterns - first < opt.patterns_per_conn ? opt.patterns - first
                                                                  : opt.patterns_per_conn;
        pc[i] = conn_open(ROLE_PAT, (uint32_t)i, 0);
        send_batched(pc[i], "PSUBSCRIBE", first, count, opt.patterns_per_cmd, pattern_name);
        loop_once(0);
    }
    wait_acks(base + (uint64_t)opt.patterns, deadline, "PSUBSCRIBE of the non-matching set");
    uint64_t setup_ns = now_ns();
    conn *sub = conn_open(ROLE_SUB, 0, 0);
    subscribe_one(sub, "PSUBSCRIBE", "bench:pat:*");
    wait_acks(base + (uint64_t)opt.patterns + 1, deadline, "PSUBSCRIBE bench:pat:*");
    if (opt.removed) {
        base = B.sub_acks;
        for (int i = 0; i < nconn; i++) {
            int first = i * opt.patterns_per_conn;
            int count = opt.patterns - first < opt.patterns_per_conn ? opt.patterns - first
                                                                      : opt.patterns_per_conn;
            send_batched(pc[i], "PUNSUBSCRIBE", first, count, opt.patterns_per_cmd, pattern_name);
        }
        wait_acks(base + (uint64_t)opt.patterns, deadline, "PUNSUBSCRIBE of the non-matching set");
    }
    (void)setup_ns;
    free(pc);
    add_publishers(1);
    B.channel = "bench:pat:chan";
    expect_message("bench:pat:*", B.channel);
    B.per_publish = 1;
    B.window = (uint64_t)opt.pipeline * 2;
    snapshot a, b;
    run_window(&a, &b);
    out_kv("patterns", "%d", opt.patterns);
    out_kv("removed", "%d", opt.removed ? 1 : 0);
    out_kv("pipeline", "%d", opt.pipeline);
    report_window(&a, &b, true);
}

static int channel_name(char *out, size_t cap, int i) { return snprintf(out, cap, "ch:%d", i); }

static void scenario_channels(uint64_t deadline) {
    int nconn = (opt.channels + opt.channels_per_conn - 1) / opt.channels_per_conn;
    uint64_t base = B.sub_acks;
    for (int i = 0; i < nconn; i++) {
        int first = i * opt.channels_per_conn;
        int count = opt.channels - first < opt.channels_per_conn ? opt.channels - first
                                                                  : opt.channels_per_conn;
        conn *c = conn_open(ROLE_SUB, (uint32_t)i, 0);
        send_batched(c, "SUBSCRIBE", first, count, opt.patterns_per_cmd, channel_name);
        loop_once(0);
    }
    wait_acks(base + (uint64_t)opt.channels, deadline, "SUBSCRIBE of every channel");
    add_publishers(opt.publishers);
    B.channel = NULL;
    B.rr_channels = opt.channels;
    B.per_publish = 1;
    B.window = (uint64_t)opt.publishers * (uint64_t)opt.pipeline * 2;
    snapshot a, b;
    run_window(&a, &b);
    out_kv("channels", "%d", opt.channels);
    out_kv("publishers", "%d", opt.publishers);
    out_kv("pipeline", "%d", opt.pipeline);
    report_window(&a, &b, true);
}

static void scenario_idle(uint64_t deadline) {
    int64_t rss0 = server_rss();
    int64_t cpu0 = server_cpu_ns();
    uint64_t t0 = now_ns();
    open_subscribers(opt.clients, ROLE_IDLE, 0, deadline, name_idle);
    uint64_t t1 = now_ns();
    int64_t cpu1 = server_cpu_ns();
    int64_t rss1 = server_rss();
    loop_until(NULL, t1 + s_to_ns(opt.idle_s), 200);
    int64_t rss2 = server_rss();
    int64_t cpu2 = server_cpu_ns();
    out_kv("clients", "%d", opt.clients);
    out_num("idle_s", opt.idle_s, 1);
    out_num("connect_s", ns_to_s(t1 - t0), 2);
    bool have = rss0 >= 0 && rss1 >= 0 && rss2 >= 0;
    out_num("rss_before_kb", have ? (double)rss0 / 1024 : -1, 0);
    out_num("rss_per_conn_bytes", have ? (double)(rss1 - rss0) / opt.clients : -1, 0);
    out_num("rss_per_conn_idle_bytes", have ? (double)(rss2 - rss0) / opt.clients : -1, 0);
    out_num("cpu_us_per_subscribe", cpu0 >= 0 ? (double)(cpu1 - cpu0) / 1000.0 / opt.clients : -1, 2);
    out_num("idle_cpu_pct", cpu0 >= 0 ? 100.0 * (double)(cpu2 - cpu1) / (double)(now_ns() - t1) : -1, 2);
    out_kv("cpu_ns_per_delivery", "na");
    out_kv("disconnected", "%llu", (unsigned long long)B.closed);
}

static bool all_slow_gone(void) {
    if (B.slow_closed >= (uint64_t)opt.slow) return true;
    return B.numsub >= 0 && B.numsub <= 1 && !B.ctrl_waiting;
}

static void scenario_slow(uint64_t deadline) {
    conn *fast = conn_open(ROLE_SUB, 0, 0);
    subscribe_one(fast, "SUBSCRIBE", "bench:slow");
    wait_acks(1, deadline, "SUBSCRIBE of the fast subscriber");
    open_subscribers(opt.slow, ROLE_SLOW, opt.slow_rcvbuf, deadline, name_slow);
    /* The slow ones stop reading from here on; a reset still shows up. */
    for (int i = 0; i < B.nconns; i++)
        if (B.conns[i]->role == ROLE_SLOW) conn_set_events(B.conns[i], false, false);
    B.ctrl = conn_open(ROLE_CTRL, 0, 0);
    B.numsub = -1;
    add_publishers(1);
    B.channel = "bench:slow";
    expect_message(NULL, B.channel);
    B.per_publish = 1;          /* only the fast subscriber counts */
    B.window = (uint64_t)opt.inflight;
    opt.pipeline = opt.inflight;

    int64_t rss0 = server_rss(), peak = rss0;
    snapshot a = snap();
    B.publishing = true;
    publish_fill(a.t);
    uint64_t end = a.t + s_to_ns(opt.duration_s);
    uint64_t next_sample = a.t, gone_at = 0;
    while (now_ns() < end) {
        uint64_t now = now_ns();
        if (now >= next_sample) {
            int64_t rss = server_rss();
            if (rss > peak) peak = rss;
            if (!B.ctrl_waiting && !B.ctrl->closed) {
                const char *argv[3] = { "PUBSUB", "NUMSUB", "bench:slow" };
                out_command(B.ctrl, 3, argv, NULL);
                conn_flush(B.ctrl);
                B.ctrl_waiting = true;
            }
            next_sample = now + 100000000;
        }
        if (all_slow_gone()) {
            gone_at = now_ns();
            break;
        }
        loop_once(10);
    }
    snapshot b = snap();
    int64_t rss = server_rss();
    if (rss > peak) peak = rss;
    B.publishing = false;
    /* Everything published must reach the fast subscriber: drain, bounded. */
    uint64_t drain_deadline = now_ns() + s_to_ns(5);
    while (now_ns() < drain_deadline) {
        bool replies_in = true;
        for (int i = 0; i < B.npubs; i++) if (B.pubs[i]->pending && !B.pubs[i]->closed) replies_in = false;
        if (replies_in && B.deliveries >= B.published) break;
        if (fast->closed) break;
        loop_once(10);
    }
    uint64_t lost = B.published > B.deliveries ? B.published - B.deliveries : 0;
    out_kv("slow", "%d", opt.slow);
    out_kv("size", "%d", opt.size);
    out_num("rss_before_kb", rss0 >= 0 ? (double)rss0 / 1024 : -1, 0);
    out_num("rss_peak_growth_kb", rss0 >= 0 ? (double)(peak - rss0) / 1024 : -1, 0);
    uint64_t gone = B.slow_closed;
    if (B.numsub >= 1 && (uint64_t)opt.slow - gone > (uint64_t)(B.numsub - 1))
        gone = (uint64_t)opt.slow - (uint64_t)(B.numsub - 1);
    out_kv("slow_disconnected", "%llu", (unsigned long long)gone);
    out_num("all_gone_ms", gone_at ? (double)(gone_at - a.t) / 1e6 : -1, 0);
    out_kv("fast_received", "%llu", (unsigned long long)B.deliveries);
    out_kv("fast_lost", "%llu", (unsigned long long)(lost + B.fast_gaps));
    out_kv("fast_out_of_order", "%llu", (unsigned long long)B.fast_reorder);
    out_kv("fast_disconnected", "%d", fast->closed ? 1 : 0);
    report_window(&a, &b, false);
}

static bool catchup_published(void) { return B.replies >= (uint64_t)opt.entries; }
static bool catchup_pass_done(void) { return CU.pass_done; }

/* One pass: the reader pages from the start of the history to its end. */
static void catchup_pass(conn *r, uint64_t deadline) {
    CU.pass_entries = 0;
    CU.pass_done = false;
    catchup_send(r, true);
    if (!loop_until(catchup_pass_done, deadline, 100))
        die("catch-up pass timed out after %llu entries", (unsigned long long)CU.pass_entries);
}

/* A reader --entries messages behind: publishes them into the channel's
 * history (no subscribers), then reads it all back in pages of --batch,
 * one pass unmeasured, then passes until --duration has passed (at least
 * one). deliveries_per_s is entries read per second. */
static void scenario_catchup(uint64_t deadline) {
    B.channel = "bench:catchup";
    add_publishers(1);
    opt.count = opt.entries;
    opt.pipeline = 128;
    B.per_publish = 0;
    B.window = 256;
    B.publishing = true;
    publish_fill(now_ns());
    if (!loop_until(catchup_published, deadline, 10))
        die("setup timed out: %llu of %d PUBLISHes answered", (unsigned long long)B.replies, opt.entries);
    B.publishing = false;
    conn *r = conn_open(ROLE_CATCHUP, 0, 0);
    catchup_pass(r, deadline);
    uint64_t kept = CU.pass_entries;
    if (kept < (uint64_t)opt.entries)
        fprintf(stderr, "pubsub-bench: the history kept %llu of %d entries\n",
                (unsigned long long)kept, opt.entries);
    int passes = 0;
    snapshot a = snap();
    uint64_t end_by = a.t + s_to_ns(opt.duration_s) * 4 + s_to_ns(30);
    do {
        catchup_pass(r, end_by);
        passes++;
    } while (now_ns() < a.t + s_to_ns(opt.duration_s));
    snapshot b = snap();
    out_kv("entries", "%d", opt.entries);
    out_kv("entries_kept", "%llu", (unsigned long long)kept);
    out_kv("size", "%d", opt.size);
    out_kv("cmd", "%s", opt.catchup_xread ? "xread" : "xrange");
    out_kv("batch", "%d", opt.batch);
    out_kv("passes", "%d", passes);
    out_num("entries_per_s", (double)(b.deliveries - a.deliveries) / ns_to_s(b.t - a.t), 0);
    report_window(&a, &b, false);
}

/* ======================== Main ============================================= */

static void usage(FILE *f) {
    fprintf(f,
"usage: pubsub-bench SCENARIO [options]\n"
"scenarios: publish fanout patterns channels idle slow catchup\n"
"  --host A --port N          server (default 127.0.0.1:6379)\n"
"  --server-pid PID           read CPU and RSS of the server from /proc\n"
"  --server-name NAME         label printed as server=NAME\n"
"  --duration S --warmup S    measured window and warm-up (5, 1)\n"
"  --count N                  at most N PUBLISHes per run (100000000)\n"
"  --setup-timeout S          bound on connecting/subscribing (120)\n"
"  --publishers P --pipeline D   publish: publisher connections, depth (1, 16)\n"
"  --subscribers N --size B   fanout: subscribers, payload bytes >= 16 (100, 16)\n"
"  --inflight K               undelivered publishes when flat out (64)\n"
"  --rate R                   fanout: deliveries/s, paced (default flat out)\n"
"  --publish-rate R           fanout: PUBLISHes/s, paced (instead of --rate)\n"
"  --pub-port N               publishers connect to this port (default --port)\n"
"  --sub-ports N[,N...]       subscribers connect to these, round robin (--port)\n"
"  --wait-upstream            before publishing, wait until the relays at the\n"
"                             subscriber ports hold their names upstream\n"
"  --other-pid PID            also report this process's CPU (other_cpu_pct;\n"
"                             up to 4, in order)\n"
"  --window-mb M              cap on undelivered bytes across subscribers (256)\n"
"  --patterns K [--removed]   patterns: non-matching patterns; PUNSUBSCRIBE first\n"
"  --patterns-per-conn N --per-command N   (1000, 1000)\n"
"  --channels N --channels-per-conn N      channels: (100000, 1000)\n"
"  --clients C --idle-seconds S            idle: (10000, 10)\n"
"  --slow S --slow-rcvbuf B                slow: non-reading subscribers (10, 4096)\n"
"  --xread                    fanout: the subscribers are history readers that\n"
"                             re-issue XREAD BLOCK 0 STREAMS ch <last id> (the\n"
"                             channel needs a channel-history rule)\n"
"  --xadd                     publishers send XADD ch * message <payload> instead of\n"
"                             PUBLISH (XREAD readers on redis-server, for reference)\n"
"  --entries N --batch N      catchup: history length, page size (100000, 1000)\n"
"  --catchup-cmd xrange|xread catchup: XRANGE ch (id + COUNT n, or XREAD COUNT n\n"
"  --conns-per-addr N         connections per source address 127.0.0.x\n"
"  --busy-poll                spin instead of sleeping in the window (takes a\n"
"                             whole core: shortens round trips, can slow the server)\n");
}

static double arg_double(const char *s, const char *name) {
    char *end;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || v < 0) die("bad value for --%s: %s", name, s);
    return v;
}

static int arg_int(const char *s, const char *name) {
    double v = arg_double(s, name);
    if (v != floor(v) || v > 1e9) die("bad value for --%s: %s", name, s);
    return (int)v;
}

static void parse_args(int argc, char **argv) {
    static const struct option lo[] = {
        {"count", 1, 0, 'x'}, {"host", 1, 0, 'h'}, {"port", 1, 0, 'p'}, {"server-pid", 1, 0, 'P'},
        {"server-name", 1, 0, 'N'}, {"duration", 1, 0, 'd'}, {"warmup", 1, 0, 'w'},
        {"setup-timeout", 1, 0, 'T'}, {"publishers", 1, 0, 'u'}, {"pipeline", 1, 0, 'D'},
        {"subscribers", 1, 0, 's'}, {"size", 1, 0, 'z'}, {"inflight", 1, 0, 'i'},
        {"rate", 1, 0, 'r'}, {"window-mb", 1, 0, 'W'}, {"patterns", 1, 0, 'k'},
        {"removed", 0, 0, 'R'}, {"patterns-per-conn", 1, 0, 'K'}, {"per-command", 1, 0, 'B'},
        {"channels", 1, 0, 'c'}, {"channels-per-conn", 1, 0, 'C'}, {"clients", 1, 0, 'n'},
        {"idle-seconds", 1, 0, 'I'}, {"slow", 1, 0, 'S'}, {"slow-rcvbuf", 1, 0, 'b'},
        {"conns-per-addr", 1, 0, 'A'}, {"busy-poll", 0, 0, 'Y'}, {"help", 0, 0, '?'},
        {"pub-port", 1, 0, 'o'}, {"sub-ports", 1, 0, 'O'}, {"wait-upstream", 0, 0, 'U'},
        {"other-pid", 1, 0, 'q'}, {"publish-rate", 1, 0, 'Q'}, {"xread", 0, 0, 'X'}, {"xadd", 0, 0, '7'},
        {"entries", 1, 0, 'e'}, {"batch", 1, 0, 'j'}, {"catchup-cmd", 1, 0, 'm'},
        {0, 0, 0, 0},
    };
    if (argc < 2 || argv[1][0] == '-') {
        usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
        exit(argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2);
    }
    bool found = false;
    for (int i = 0; i <= SC_CATCHUP; i++) {
        if (strcmp(argv[1], scenario_names[i]) == 0) {
            opt.sc = (enum scenario)i;
            found = true;
        }
    }
    if (!found) die("unknown scenario %s (publish fanout patterns channels idle slow catchup)", argv[1]);
    optind = 2;
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        const char *name = "";
        for (int i = 0; lo[i].name; i++) if (lo[i].val == ch) name = lo[i].name;
        switch (ch) {
        case 'h': opt.host = optarg; break;
        case 'p': opt.port = arg_int(optarg, name); break;
        case 'P': opt.server_pid = arg_int(optarg, name); break;
        case 'N': opt.server_name = optarg; break;
        case 'd': opt.duration_s = arg_double(optarg, name); break;
        case 'x': opt.count = (long long)arg_double(optarg, name); break;
        case 'w': opt.warmup_s = arg_double(optarg, name); break;
        case 'T': opt.setup_timeout_s = arg_double(optarg, name); break;
        case 'u': opt.publishers = arg_int(optarg, name); break;
        case 'D': opt.pipeline = arg_int(optarg, name); break;
        case 's': opt.subscribers = arg_int(optarg, name); break;
        case 'z': opt.size = arg_int(optarg, name); break;
        case 'i': opt.inflight = arg_int(optarg, name); break;
        case 'r': opt.rate = arg_double(optarg, name); break;
        case 'W': opt.window_bytes = (long)(arg_double(optarg, name) * 1048576); break;
        case 'k': opt.patterns = arg_int(optarg, name); break;
        case 'R': opt.removed = true; break;
        case 'K': opt.patterns_per_conn = arg_int(optarg, name); break;
        case 'B': opt.patterns_per_cmd = arg_int(optarg, name); break;
        case 'c': opt.channels = arg_int(optarg, name); break;
        case 'C': opt.channels_per_conn = arg_int(optarg, name); break;
        case 'n': opt.clients = arg_int(optarg, name); break;
        case 'I': opt.idle_s = arg_double(optarg, name); break;
        case 'S': opt.slow = arg_int(optarg, name); break;
        case 'b': opt.slow_rcvbuf = arg_int(optarg, name); break;
        case 'A': opt.conns_per_addr = arg_int(optarg, name); break;
        case 'Y': opt.busy_poll = true; break;
        case 'o': opt.pub_port = arg_int(optarg, name); break;
        case 'O': {
            char *list = strdup(optarg), *save = NULL;
            for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                if (opt.nsub_ports == 8) die("--sub-ports: at most 8");
                opt.sub_ports[opt.nsub_ports++] = arg_int(t, name);
            }
            free(list);
            break;
        }
        case 'U': opt.wait_upstream = true; break;
        case 'q':
            if (opt.nother_pids == 4) die("--other-pid: at most 4");
            opt.other_pids[opt.nother_pids++] = arg_int(optarg, name);
            break;
        case 'Q': opt.publish_rate = arg_double(optarg, name); break;
        case 'X': opt.xread = true; break;
        case '7': opt.xadd = true; break;
        case 'e': opt.entries = arg_int(optarg, name); break;
        case 'j': opt.batch = arg_int(optarg, name); break;
        case 'm':
            if (strcmp(optarg, "xread") == 0) opt.catchup_xread = true;
            else if (strcmp(optarg, "xrange") == 0) opt.catchup_xread = false;
            else die("--catchup-cmd: xrange or xread");
            break;
        case '?': usage(stderr); exit(2);
        default: break;
        }
    }
    if (optind != argc) die("unexpected argument %s", argv[optind]);
    if (opt.size < 16) die("--size must be at least 16 (timestamp and sequence)");
    if (opt.duration_s <= 0 || opt.duration_s > 3600) die("--duration must be in (0, 3600]");
    if (opt.count < 1) die("--count must be >= 1");
    if (opt.publishers < 1 || opt.pipeline < 1 || opt.subscribers < 1 || opt.inflight < 1)
        die("--publishers, --pipeline, --subscribers and --inflight must be >= 1");
    if (opt.patterns_per_conn < 1 || opt.patterns_per_cmd < 1 || opt.channels < 1 ||
        opt.channels_per_conn < 1 || opt.clients < 1 || opt.window_bytes < 1 ||
        opt.entries < 1 || opt.batch < 1)
        die("counts must be >= 1");
}

/* Raises RLIMIT_NOFILE to the hard limit: 10,000 subscribers need it. */
int main(int argc, char **argv) {
    tool_name = "pubsub-bench";
    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    B.ep = epoll_create1(EPOLL_CLOEXEC);
    if (B.ep < 0) die("epoll_create1: %s", strerror(errno));
    B.lat = xcalloc(1, sizeof *B.lat);
    B.numsub = -1;
    filler = xcalloc(1, (size_t)opt.size);
    memset(filler, 'x', (size_t)opt.size);
    uint64_t deadline = now_ns() + s_to_ns(opt.setup_timeout_s);
    setup_deadline = deadline;

    out_kv("scenario", "%s", scenario_names[opt.sc]);
    switch (opt.sc) {
    case SC_PUBLISH: scenario_publish(deadline); break;
    case SC_FANOUT: scenario_fanout(deadline); break;
    case SC_PATTERNS: scenario_patterns(deadline); break;
    case SC_CHANNELS: scenario_channels(deadline); break;
    case SC_IDLE: scenario_idle(deadline); break;
    case SC_SLOW: scenario_slow(deadline); break;
    case SC_CATCHUP: scenario_catchup(deadline); break;
    }
    if (opt.sc != SC_IDLE) {
        out_kv("errors", "%llu", (unsigned long long)B.errors);
        out_kv("disconnected", "%llu", (unsigned long long)(B.closed - B.slow_closed));
    }
    if (window_note) out_kv("window_capped_by", "%s", window_note);
    out_kv("server", "%s", opt.server_name);
    printf("%s\n", line_buf);
    fflush(stdout);
    for (int i = 0; i < B.nconns; i++) {
        close(B.conns[i]->fd);
        outbuf_free(&B.conns[i]->out);
        outbuf_free(&B.conns[i]->in);
        free(B.conns[i]);
    }
    free(B.conns);
    free(B.pubs);
    free(B.lat);
    free(xread_due);
    free(filler);
    close(B.ep);
    return 0;
}
