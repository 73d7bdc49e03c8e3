/* soak.c -- Long mixed load against a Redis-compatible pub/sub server, with
 * the checks that say whether the server stayed healthy under it.
 *
 * One thread, one epoll loop, non-blocking sockets, bounded in time: setup
 * (--setup-timeout), then --seconds of load, then at most --drain seconds for
 * the last messages. Everything runs at once, all the time:
 *
 *   publishers --PUBLISH/SPUBLISH, seq per (publisher, channel)--> server
 *   healthy subscribers (channels, patterns, shard channels; RESP2 and 3):
 *        every message checked: order, gaps, duplicates, length, routing
 *   churn: connect, subscribe to many, unsubscribe some, leave by QUIT,
 *        close, reset (SO_LINGER 0) or half-close
 *   slow readers: SUBSCRIBE to a flooded channel and never read; the server
 *        must cut them at its pubsub output-buffer limit
 *   malformed clients: a table of protocol abuse, each with the answer it
 *        must get (an error, a closed connection, or both)
 *   a PING prober: one PING every --ping-ms; the round trip is taken from the
 *        kernel's receive timestamp (SO_TIMESTAMPNS), so this tool's own
 *        delays in reaching the socket do not count against the server;
 *        each is also recorded less the server's run-queue wait meanwhile
 *        (/proc/PID/schedstat), the server's "own" time on a busy machine
 *   the server's VmRSS from /proc/PID/status every second
 *
 * A message payload starts with 16 bytes: "sk", publisher id, channel index,
 * payload length (u32), sequence (u64), native byte order (this process
 * reads what it wrote). A healthy subscriber keeps the next sequence it
 * expects per (publisher, channel); since healthy subscriptions are in place
 * before the first PUBLISH and no two of one subscriber's subscriptions match
 * the same channel, it must see every sequence from 0, once, in order.
 *
 * Output: a key=value progress line every --report seconds, a final
 * key=value summary, then "ok - ..." / "not ok - ..." checks and
 * "soak: N passed, M failed"; exit 1 if any failed, 2 on a usage or setup
 * error. utils/soak.sh starts the server and runs this. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "toolkit.h"

/* ======================== Options ========================================= */

typedef struct options {
    const char *host;
    int port;
    long server_pid;            /* 0 = no RSS figures, no crash detection */
    double seconds;             /* load phase */
    double rate;                /* PUBLISH + SPUBLISH per second, all publishers */
    int publishers;
    int churn;                  /* churn connections alive at any time */
    int slow;                   /* slow readers alive at any time */
    double malformed_per_s;     /* malformed clients started per second */
    double ping_ms;             /* PING interval */
    double tick_ms;             /* publishers send what is due every tick */
    double ping_limit_ms;       /* every PING must be answered within this */
    double slope_limit_mb_min;  /* RSS least-squares slope bound after warm-up */
    double report_s;            /* progress line interval */
    double setup_timeout_s;
    double drain_s;             /* bound on waiting for the last messages */
    unsigned seed;
    bool smoke;                 /* short run on a shared machine: PING judged leniently */
} options;

static options opt = {
    .host = "127.0.0.1", .port = 6379, .server_pid = 0, .seconds = 600, .rate = 20000,
    .publishers = 4, .churn = 20, .slow = 3, .malformed_per_s = 10, .ping_ms = 10, .tick_ms = 5,
    .ping_limit_ms = 10, .slope_limit_mb_min = 1.0, .report_s = 10,
    .setup_timeout_s = 60, .drain_s = 10, .seed = 1, .smoke = false,
};

/* ======================== Channels and healthy subscriptions =============== */

/* Channel index c: 0..NCHAN-1 are "soak:ch:NN" (PUBLISH), NCHAN..NALL-1 are
 * shard channels "soak:sh:NN" (SPUBLISH). */
#define NCHAN 40
#define NSHARD 20
#define NALL (NCHAN + NSHARD)
#define BUSY_CHANNEL "soak:busy"
#define MAX_PUBS 16
#define SMOKE_PING_OWN_MS 100   /* --smoke: bound on a PING less the server's CPU wait */

static char chan_name[NALL][16];
static int chan_name_len[NALL];

/* Healthy pattern subscriptions and the regular channels each matches,
 * written out by hand ("a-b" is a range): no glob matcher here, so a
 * disagreement shows as missed or unexpected messages. None matches
 * BUSY_CHANNEL or a shard channel's name ("soak:sh:NN"). */
static const struct { const char *pattern, *matches; } patterns[] = {
    { "soak:ch:0[0-2]", "0-2" },
    { "soak:ch:1[2-5]", "12-15" },
    { "soak:ch:?7", "7 17 27 37" },
    { "soak:ch:3[^0-7]", "38 39" },
    { "soak:ch:2[135]", "21 23 25" },
    { "soak:c?:*9", "9 19 29 39" },
    { "soak:ch:\\32", "32" },
    { "*:0[4-6]", "4-6" },
    { "soak:ch:[23][048]", "20 24 28 30 34 38" },
};
#define NPATTERNS (int)(sizeof patterns / sizeof patterns[0])

static uint64_t parse_mask(const char *s) {
    uint64_t m = 0;
    while (*s) {
        char *end;
        long a = strtol(s, &end, 10), b = a;
        if (*end == '-') b = strtol(end + 1, &end, 10);
        for (long i = a; i <= b; i++) m |= 1ull << i;
        s = end;
        while (*s == ' ') s++;
    }
    return m;
}

enum kind { K_CHANNEL, K_PATTERN, K_SHARD };

typedef struct healthy {
    uint8_t kind;
    int pattern;                /* K_PATTERN: index into patterns[] */
    uint64_t mask;              /* channel indexes it must receive */
    uint64_t next[MAX_PUBS][NALL]; /* sequence expected next per stream */
    uint32_t gaps[MAX_PUBS][NALL]; /* sequences skipped and not yet seen */
} healthy;

#define N_HEALTHY_CH 80
#define N_HEALTHY_PAT 60
#define N_HEALTHY_SH 60
#define N_HEALTHY (N_HEALTHY_CH + N_HEALTHY_PAT + N_HEALTHY_SH)

/* ======================== Connections ===================================== */

enum role { R_PUB, R_FLOOD, R_HEALTHY, R_CHURN, R_SLOW, R_BAD, R_PING, R_COUNT };

enum phase {
    P_SUBSCRIBING,              /* healthy, churn: confirmations outstanding */
    P_LIVE,                     /* churn: subscribed, reading */
    P_PARTIAL,                  /* churn: partial unsubscribe sent */
    P_LEAVING,                  /* churn: QUIT or half-close sent, awaiting EOF */
    P_STUCK,                    /* slow: not reading */
    P_DRAIN,                    /* slow: reading to find the EOF */
    P_WAIT,                     /* malformed: awaiting the answer */
};

#define PUB_RING 8192           /* PUBLISHes unanswered per publisher, at most */

typedef struct conn conn;
struct conn {
    int fd;
    uint8_t role, phase;
    bool closed;                /* fd closed; freed after the loop pass */
    bool reading, writing;      /* EPOLLIN / EPOLLOUT armed */
    bool resp3;
    bool got_err, got_ok;       /* an error / +OK reply seen */
    int list_pos;               /* index in its role list */
    uint32_t id;
    uint64_t due_ns;            /* the next lifecycle step */
    int64_t acks_left;          /* (un)subscribe confirmations awaited */
    int bad_case;               /* R_BAD: index into bad_cases[] */
    int leave;                  /* R_CHURN: how it will leave */
    uint64_t flood_mark;        /* R_SLOW: S.flood_acked when it subscribed */
    bool judged;                /* R_SLOW: flooded enough to be judged */
    healthy *h;                 /* borrowed, R_HEALTHY: lives in S.hs */
    uint16_t *ring;             /* owned, R_PUB: expected receivers per PUBLISH */
    uint32_t ring_head, ring_len;
    outbuf out;
    reader rd;
};

typedef struct stats {
    uint64_t published, pub_bytes, flooded;
    uint64_t delivered, delivered_bytes, missed, duplicates, reordered, corrupt, unexpected;
    uint64_t receivers_short, pub_errors, healthy_lost, refused;
    uint64_t churn_opened, churn_quit, churn_close, churn_reset, churn_halfclose;
    uint64_t churn_lost, churn_errors, churn_timeouts, churn_deliveries, churn_subs;
    uint64_t slow_opened, slow_cut, slow_survived, slow_undecided;
    uint64_t bad_opened, bad_handled, bad_failed;
    uint64_t pings, ping_over, ping_stalls;
    uint64_t ping_max_ns, ping_window_max_ns;
    uint64_t ping_own_over, ping_own_max_ns, ping_own_window_max_ns;   /* less CPU wait */
    uint64_t wait_ns, wait_window_ns;   /* server run-queue wait */
    double wait_max_pct;        /* largest share of a ~1 s sample spent waiting */
    bool server_gone;
} stats;

static struct {
    int ep;
    conn **list[R_COUNT];       /* live connections per role */
    int n[R_COUNT], cap[R_COUNT];
    conn **dead;                /* closed this pass, freed at its end */
    int ndead, dead_cap;
    conn *pubs[MAX_PUBS];
    conn *flood, *ping;
    healthy *hs[N_HEALTHY];     /* owned: kept after a connection is lost */
    int healthy_per_chan[NALL];
    uint64_t seq[MAX_PUBS][NALL];   /* next sequence per stream = messages sent */
    uint32_t next_id;
    bool loading;               /* load phase: publish, churn, slow, malformed */
    uint64_t load_t0, pub_sent_paced, flood_sent, bad_sent;
    uint64_t flood_acked;       /* flood PUBLISHes the server has answered */
    uint64_t ping_sent_rt;      /* CLOCK_REALTIME ns of the PING in flight, 0 = none */
    uint64_t ping_sent_mono, ping_next;
    uint64_t ping_rx_rt;        /* kernel receive time of the last read */
    hist *ping_lat, *ping_own;
    int64_t ping_wait0;         /* server run-queue wait when the PING was sent */
    uint64_t seed_state;
    stats s;
} S;

static char rbuf[256 * 1024];
static char filler[65536];

static uint64_t rnd(void) {
    /* xorshift64*: reproducible with --seed, good enough for load shapes. */
    S.seed_state ^= S.seed_state >> 12;
    S.seed_state ^= S.seed_state << 25;
    S.seed_state ^= S.seed_state >> 27;
    return S.seed_state * 2685821657736338717ull;
}

static uint64_t rnd_below(uint64_t n) { return n ? rnd() % n : 0; }

static uint64_t realtime_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void list_add(conn *c) {
    int r = c->role;
    if (S.n[r] == S.cap[r]) {
        S.cap[r] = S.cap[r] ? S.cap[r] * 2 : 16;
        S.list[r] = xrealloc(S.list[r], (size_t)S.cap[r] * sizeof *S.list[r]);
    }
    c->list_pos = S.n[r];
    S.list[r][S.n[r]++] = c;
}

static void list_del(conn *c) {
    int r = c->role;
    conn *last = S.list[r][--S.n[r]];
    S.list[r][c->list_pos] = last;
    last->list_pos = c->list_pos;
}

static void conn_set_events(conn *c, bool rd, bool wr) {
    if (c->closed || (c->reading == rd && c->writing == wr)) return;
    epoll_mod(S.ep, c->fd, c, rd, wr);
    c->reading = rd;
    c->writing = wr;
}

/* Closes the socket now; the struct is freed at the end of the loop pass,
 * since events already fetched may still point at it. reset: SO_LINGER 0,
 * so the server sees a connection reset instead of a FIN. */
static void conn_close(conn *c, bool reset) {
    if (c->closed) return;
    if (reset) {
        struct linger lg = { 1, 0 };
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    epoll_ctl(S.ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->closed = true;
    list_del(c);
    for (int p = 0; p < MAX_PUBS; p++)
        if (S.pubs[p] == c) S.pubs[p] = NULL;
    if (S.flood == c) S.flood = NULL;
    if (S.ping == c) S.ping = NULL;
    if (S.ndead == S.dead_cap) {
        S.dead_cap = S.dead_cap ? S.dead_cap * 2 : 64;
        S.dead = xrealloc(S.dead, (size_t)S.dead_cap * sizeof *S.dead);
    }
    S.dead[S.ndead++] = c;
}

static void conn_free(conn *c) {
    outbuf_free(&c->out);
    free(c->ring);
    free(c);
}

static void free_dead(void) {
    for (int i = 0; i < S.ndead; i++) conn_free(S.dead[i]);
    S.ndead = 0;
}

static void on_lost(conn *c, const char *why);
static void on_frame_fn(void *ctx, const rframe *f);

static void conn_flush(conn *c) {
    if (c->closed) return;
    int rc = outbuf_write(&c->out, c->fd);
    if (rc == OUTBUF_ERR) {
        on_lost(c, strerror(errno));
        return;
    }
    conn_set_events(c, c->reading, rc == OUTBUF_AGAIN);
}

/* Opens a connection of a role, or returns NULL (counted) when the server
 * refuses: during the load a refused connect is a failure of its own. */
static conn *conn_open(enum role role, int rcvbuf, bool reading) {
    char err[160];
    int fd = tcp_connect(opt.host, opt.port, rcvbuf, 0, err, sizeof err);
    if (fd < 0) {
        static int shown;
        if (shown++ < 5) fprintf(stderr, "soak: %s\n", err);
        S.s.refused++;
        return NULL;
    }
    conn *c = xcalloc(1, sizeof *c);
    c->fd = fd;
    c->role = (uint8_t)role;
    c->id = S.next_id++;
    reader_init(&c->rd);
    struct epoll_event ev = {0};
    ev.events = (reading ? EPOLLIN : 0) | EPOLLRDHUP;
    ev.data.ptr = c;
    if (epoll_ctl(S.ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl: %s", strerror(errno));
    c->reading = reading;
    list_add(c);
    return c;
}

static void send_command(conn *c, int argc, const char *const *argv) {
    outbuf_command(&c->out, argc, argv, NULL);
}

/* ======================== Publishers ====================================== */

/* Payload bytes of message seq on a stream: mostly 16..127 bytes, one in 400
 * between 4 KiB and 64 KiB, decided by a hash so it needs no state. */
static uint32_t payload_len(int p, int ch, uint64_t seq) {
    uint64_t h = (seq + 1) * 0x9E3779B97F4A7C15ull ^ ((uint64_t)p << 40) ^ ((uint64_t)ch << 48);
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    if (h % 400 == 0) return 4096 + (uint32_t)((h >> 12) % (65536 - 4096 + 1));
    return 16 + (uint32_t)((h >> 12) % 112);
}

static void append_message(conn *c, const char *cmd, const char *chan, size_t chlen,
                           int p, int ch, uint64_t seq, uint32_t len) {
    char hdr[96];
    int h = snprintf(hdr, sizeof hdr, "*3\r\n$%zu\r\n%s\r\n$%zu\r\n", strlen(cmd), cmd, chlen);
    outbuf_reserve(&c->out, (size_t)h + chlen + 16 + len + 2);
    outbuf_append(&c->out, hdr, (size_t)h);
    outbuf_append(&c->out, chan, chlen);
    h = snprintf(hdr, sizeof hdr, "\r\n$%u\r\n", len);
    outbuf_append(&c->out, hdr, (size_t)h);
    char head[16] = { 's', 'k', (char)p, (char)ch };
    memcpy(head + 4, &len, 4);
    memcpy(head + 8, &seq, 8);
    outbuf_append(&c->out, head, 16);
    outbuf_append(&c->out, filler, len - 16);
    outbuf_append(&c->out, "\r\n", 2);
}

/* One PUBLISH or SPUBLISH on a random channel from publisher p; false when
 * p has PUB_RING unanswered (the server is behind: the rate drops). */
static bool publish_one(int p) {
    conn *c = S.pubs[p];
    if (c == NULL || c->closed || c->ring_len == PUB_RING) return false;
    int ch = (int)rnd_below(NALL);
    uint64_t seq = S.seq[p][ch]++;
    uint32_t len = payload_len(p, ch, seq);
    append_message(c, ch < NCHAN ? "PUBLISH" : "SPUBLISH", chan_name[ch],
                   (size_t)chan_name_len[ch], p, ch, seq, len);
    c->ring[(c->ring_head + c->ring_len++) % PUB_RING] = (uint16_t)S.healthy_per_chan[ch];
    S.s.published++;
    S.s.pub_bytes += len;
    return true;
}

/* Every --tick-ms (batches keep the syscall count sane: a write and a read
 * per subscriber per tick at most), publishes what is due at --rate, and one 64 KiB message on the
 * busy channel every 10 ms (6.5 MB/s: what slow readers drown in). */
static void publish_tick(uint64_t now) {
    static uint64_t last;
    if (!S.loading || now - last < (uint64_t)(opt.tick_ms * 1e6)) return;
    last = now;
    uint64_t due = (uint64_t)(ns_to_s(now - S.load_t0) * opt.rate);
    bool wrote[MAX_PUBS] = { false };
    while (S.pub_sent_paced < due) {
        int p = (int)(S.pub_sent_paced % (uint64_t)opt.publishers);
        if (!publish_one(p)) break;
        wrote[p] = true;
        S.pub_sent_paced++;
    }
    /* Falling far behind (server stalled) must not turn into a burst later. */
    if (due > S.pub_sent_paced + (uint64_t)opt.rate) S.pub_sent_paced = due - (uint64_t)opt.rate;
    for (int p = 0; p < opt.publishers; p++)
        if (wrote[p]) conn_flush(S.pubs[p]);
    uint64_t flood_due = (now - S.load_t0) / 10000000u;
    conn *f = S.flood;
    if (f && !f->closed && S.flood_sent < flood_due && f->ring_len < 64) {
        append_message(f, "PUBLISH", BUSY_CHANNEL, strlen(BUSY_CHANNEL), 0, 0, S.flood_sent, 65536);
        f->ring_len++;
        S.flood_sent = flood_due;
        S.s.flooded++;
        conn_flush(f);
    }
}

static void on_pub_frame(conn *c, const rframe *f) {
    if (f->type == '-') {
        S.s.pub_errors++;
    } else if (f->type == ':' && c->role == R_PUB && c->ring_len > 0) {
        uint16_t want = c->ring[c->ring_head];
        if (f->ival < want) S.s.receivers_short++;
    } else if (f->type != ':') {
        S.s.unexpected++;
    }
    if (c->role == R_FLOOD && c->ring_len > 0) S.flood_acked++;
    if (c->ring_len > 0) {
        c->ring_head = (c->ring_head + 1) % PUB_RING;
        c->ring_len--;
    }
}

/* ======================== Healthy subscribers ============================= */

static void healthy_open(int i) {
    conn *c = conn_open(R_HEALTHY, 0, true);
    if (c == NULL) die("cannot open healthy subscriber %d", i);
    healthy *h = xcalloc(1, sizeof *h);
    c->h = h;
    c->resp3 = i % 2 == 1;
    if (c->resp3) {
        const char *argv[] = { "HELLO", "3" };
        send_command(c, 2, argv);
    }
    const char *argv[3];
    int argc = 1;
    if (i < N_HEALTHY_CH) {
        h->kind = K_CHANNEL;
        argv[0] = "SUBSCRIBE";
        int offs[2] = { 0, 13 };
        for (int k = 0; k < 2; k++) {
            int ch = (i * 7 + offs[k]) % NCHAN;
            h->mask |= 1ull << ch;
            argv[argc++] = chan_name[ch];
        }
    } else if (i < N_HEALTHY_CH + N_HEALTHY_PAT) {
        h->kind = K_PATTERN;
        h->pattern = (i - N_HEALTHY_CH) % NPATTERNS;
        h->mask = parse_mask(patterns[h->pattern].matches);
        argv[0] = "PSUBSCRIBE";
        argv[argc++] = patterns[h->pattern].pattern;
    } else {
        h->kind = K_SHARD;
        argv[0] = "SSUBSCRIBE";
        int j = i - N_HEALTHY_CH - N_HEALTHY_PAT;
        int offs[2] = { 0, 7 };
        for (int k = 0; k < 2; k++) {
            int ch = NCHAN + (j * 3 + offs[k]) % NSHARD;
            h->mask |= 1ull << ch;
            argv[argc++] = chan_name[ch];
        }
    }
    send_command(c, argc, argv);
    c->acks_left = argc - 1;
    c->phase = P_SUBSCRIBING;
    for (int ch = 0; ch < NALL; ch++)
        if (h->mask >> ch & 1) S.healthy_per_chan[ch]++;
    S.hs[i] = h;
    conn_flush(c);
}

static bool cap_eq(const rframe *f, int i, const char *s, size_t n) {
    return f->blen[i] == (int64_t)n && f->clen[i] == (n < RD_CAP ? n : RD_CAP) &&
           memcmp(f->cap[i], s, f->clen[i]) == 0;
}

/* A message at a healthy subscriber: element ci is the channel, pi the
 * payload. Checks routing and length, then the stream's sequence. */
static void healthy_message(conn *c, const rframe *f, enum kind k, int ci, int pi) {
    healthy *h = c->h;
    const char *pl = f->cap[pi];
    if (h->kind != k || f->clen[pi] < 16 || pl[0] != 's' || pl[1] != 'k') {
        S.s.unexpected++;
        return;
    }
    int p = (unsigned char)pl[2], ch = (unsigned char)pl[3];
    uint32_t len;
    uint64_t seq;
    memcpy(&len, pl + 4, 4);
    memcpy(&seq, pl + 8, 8);
    if (p >= opt.publishers || ch >= NALL || !(h->mask >> ch & 1) ||
        !cap_eq(f, ci, chan_name[ch], (size_t)chan_name_len[ch])) {
        S.s.unexpected++;
        return;
    }
    if (k == K_PATTERN) {
        const char *pat = patterns[h->pattern].pattern;
        if (!cap_eq(f, 1, pat, strlen(pat))) { S.s.unexpected++; return; }
    }
    if (f->blen[pi] != (int64_t)len || len != payload_len(p, ch, seq)) S.s.corrupt++;
    S.s.delivered++;
    S.s.delivered_bytes += len;
    uint64_t *next = &h->next[p][ch];
    if (seq == *next) {
        (*next)++;
    } else if (seq > *next) {
        S.s.missed += seq - *next;
        h->gaps[p][ch] += (uint32_t)(seq - *next);
        *next = seq + 1;
    } else if (h->gaps[p][ch] > 0) {
        /* An older message after a gap: late, not lost. */
        h->gaps[p][ch]--;
        S.s.missed--;
        S.s.reordered++;
    } else {
        S.s.duplicates++;
    }
}

static void on_healthy_frame(conn *c, const rframe *f) {
    if (f->type == '*' || f->type == '>') {
        if (rframe_is(f, 0, "message") && f->nelem == 3) { healthy_message(c, f, K_CHANNEL, 1, 2); return; }
        if (rframe_is(f, 0, "pmessage") && f->nelem == 4) { healthy_message(c, f, K_PATTERN, 2, 3); return; }
        if (rframe_is(f, 0, "smessage") && f->nelem == 3) { healthy_message(c, f, K_SHARD, 1, 2); return; }
        if (rframe_is(f, 0, "subscribe") || rframe_is(f, 0, "psubscribe") ||
            rframe_is(f, 0, "ssubscribe")) {
            c->acks_left--;
            return;
        }
    }
    if (f->type == '%' && c->resp3) return;     /* the HELLO 3 reply */
    S.s.unexpected++;
}

/* ======================== Churn =========================================== */

enum leave { L_QUIT, L_CLOSE, L_RESET, L_HALFCLOSE, L_COUNT };

/* A churn client: HELLO 3 sometimes, then SUBSCRIBE to 2 healthy channels and
 * 33 of its own, PSUBSCRIBE 10 patterns, SSUBSCRIBE 3 shard channels; it reads
 * whatever arrives, drops about half of it all midway, and leaves one of four
 * ways after 0.1-1.5 s. */
static void churn_open(uint64_t now) {
    conn *c = conn_open(R_CHURN, 0, true);
    if (c == NULL) return;
    S.s.churn_opened++;
    c->resp3 = rnd_below(3) == 0;
    c->leave = (int)rnd_below(L_COUNT);
    if (c->resp3) {
        const char *argv[] = { "HELLO", "3" };
        send_command(c, 2, argv);
    }
    char names[48][40];
    const char *argv[49];
    int n = 0;
    for (int k = 0; k < 2; k++) snprintf(names[n++], 40, "%s", chan_name[rnd_below(NCHAN)]);
    for (int k = 0; k < 33; k++) snprintf(names[n++], 40, "soak:churn:%u:%d", c->id, k);
    argv[0] = "SUBSCRIBE";
    for (int k = 0; k < n; k++) argv[k + 1] = names[k];
    send_command(c, n + 1, argv);
    c->acks_left = n;
    n = 0;
    snprintf(names[n++], 40, "soak:churn:%u:*", c->id);
    snprintf(names[n++], 40, "soak:ch:[0-3]%d", (int)rnd_below(10));   /* 4 channels */
    snprintf(names[n++], 40, "soak:*:%u?", c->id % 100);
    snprintf(names[n++], 40, "soak:c?:no%u", c->id);
    for (int k = 0; k < 6; k++) snprintf(names[n++], 40, "churn%u.%d.*.x[a-%c]", c->id, k, 'b' + k);
    argv[0] = "PSUBSCRIBE";
    for (int k = 0; k < n; k++) argv[k + 1] = names[k];
    send_command(c, n + 1, argv);
    c->acks_left += n;
    n = 0;
    /* Distinct: SUNSUBSCRIBE without arguments later confirms each once. */
    int first = (int)rnd_below(NSHARD);
    for (int k = 0; k < 3; k++) snprintf(names[n++], 40, "%s", chan_name[NCHAN + (first + k) % NSHARD]);
    argv[0] = "SSUBSCRIBE";
    for (int k = 0; k < n; k++) argv[k + 1] = names[k];
    send_command(c, n + 1, argv);
    c->acks_left += n;
    S.s.churn_subs += 48;
    c->phase = P_SUBSCRIBING;
    c->due_ns = now + s_to_ns(5);   /* bound on the confirmations */
    conn_flush(c);
}

static void churn_partial(conn *c, uint64_t now) {
    char names[16][40];
    const char *argv[17];
    int n = 0;
    for (int k = 0; k < 15; k++) snprintf(names[n++], 40, "soak:churn:%u:%d", c->id, k * 2);
    argv[0] = "UNSUBSCRIBE";
    for (int k = 0; k < n; k++) argv[k + 1] = names[k];
    send_command(c, n + 1, argv);
    c->acks_left += n;
    snprintf(names[0], 40, "soak:churn:%u:*", c->id);
    snprintf(names[1], 40, "churn%u.0.*.x[a-b]", c->id);
    snprintf(names[2], 40, "never:subscribed:%u", c->id);
    const char *pargv[] = { "PUNSUBSCRIBE", names[0], names[1], names[2] };
    send_command(c, 4, pargv);
    c->acks_left += 3;
    const char *sargv[] = { "SUNSUBSCRIBE" };   /* all shard channels: 3 confirmations */
    send_command(c, 1, sargv);
    c->acks_left += 3;
    c->phase = P_PARTIAL;
    c->due_ns = now + s_to_ns(0.05 + (double)rnd_below(700) / 1000);
    conn_flush(c);
}

static void churn_leave(conn *c, uint64_t now) {
    switch (c->leave) {
    case L_QUIT: {
        const char *argv[] = { "QUIT" };
        send_command(c, 1, argv);
        conn_flush(c);
        S.s.churn_quit++;
        break;
    }
    case L_HALFCLOSE:
        shutdown(c->fd, SHUT_WR);
        S.s.churn_halfclose++;
        break;
    case L_RESET:
        S.s.churn_reset++;
        conn_close(c, true);
        return;
    default:
        S.s.churn_close++;
        conn_close(c, false);
        return;
    }
    if (c->closed) return;
    c->phase = P_LEAVING;
    c->due_ns = now + s_to_ns(5);
}

static void on_churn_frame(conn *c, const rframe *f) {
    if (f->type == '*' || f->type == '>') {
        if (rframe_is(f, 0, "message") || rframe_is(f, 0, "pmessage") ||
            rframe_is(f, 0, "smessage")) {
            S.s.churn_deliveries++;
            return;
        }
        if (f->nelem == 3 && f->blen[0] >= 9 && f->blen[0] <= 12) {
            c->acks_left--;     /* (p|s)(un)subscribe confirmation */
            return;
        }
    }
    if (f->type == '%' && c->resp3) return;
    if (f->type == '+' && c->phase == P_LEAVING) { c->got_ok = true; return; }
    S.s.churn_errors++;
}

static void churn_tick(uint64_t now) {
    for (int i = 0; i < S.n[R_CHURN]; i++) {
        conn *c = S.list[R_CHURN][i];
        if (c->phase == P_SUBSCRIBING && c->acks_left == 0) {
            c->phase = P_LIVE;
            c->due_ns = now + s_to_ns(0.05 + (double)rnd_below(700) / 1000);
        } else if (now < c->due_ns) {
            continue;
        } else if (c->phase == P_LIVE) {
            churn_partial(c, now);
        } else if (c->phase == P_PARTIAL && c->acks_left > 0 && now < c->due_ns + s_to_ns(5)) {
            continue;           /* confirmations still on their way */
        } else if (c->phase == P_PARTIAL && c->acks_left == 0) {
            churn_leave(c, now);
            i--;                /* the list may have shrunk under i */
        } else {
            /* Confirmations or the final EOF did not come within 5 s. */
            S.s.churn_timeouts++;
            static int shown;
            if (shown++ < 5)
                fprintf(stderr, "soak: churn client stuck: phase %d, leave %d, %lld confirmations "
                        "missing, +OK %s\n", c->phase, c->leave, (long long)c->acks_left,
                        c->got_ok ? "seen" : "not seen");
            conn_close(c, false);
            i--;
        }
    }
    while (S.loading && S.n[R_CHURN] < opt.churn) churn_open(now);
}

/* ======================== Slow readers ==================================== */

/* A slow reader subscribes to the flooded channel with a 4 KiB receive
 * buffer and never reads: the server must cut it at its pubsub output
 * limit. It stays stuck until the server has acknowledged SLOW_FLOOD_MSGS
 * flood messages (24 MiB) since it subscribed, then reads to find out: EOF
 * within SLOW_DRAIN_S means the server cut it; still connected then, it
 * survived (a failure). The 24 MiB: the kernel holds at most the server's
 * send buffer (tcp_wmem max, 4 MiB by default) and the reader's ~8 KiB, so
 * past 8 MiB the server's own buffer is over the 4 MiB hard limit; three
 * times that is a margin for the message the SUBSCRIBE raced with. On a
 * starved machine the flood slows down, so the wait is counted in bytes,
 * not seconds; a reader that did not see 24 MiB within SLOW_STUCK_MAX_S is
 * "undecided" and judged neither way. */
#define SLOW_FLOOD_MSGS 384
#define SLOW_STUCK_MAX_S 60
#define SLOW_DRAIN_S 5

static void slow_open(uint64_t now) {
    conn *c = conn_open(R_SLOW, 4096, false);
    if (c == NULL) return;
    const char *argv[] = { "SUBSCRIBE", BUSY_CHANNEL };
    send_command(c, 2, argv);
    c->phase = P_STUCK;
    c->due_ns = now + s_to_ns(SLOW_STUCK_MAX_S);
    c->flood_mark = S.flood_acked;
    S.s.slow_opened++;
    conn_flush(c);
}

static void slow_tick(uint64_t now) {
    for (int i = 0; i < S.n[R_SLOW]; i++) {
        conn *c = S.list[R_SLOW][i];
        bool flooded = S.flood_acked - c->flood_mark >= SLOW_FLOOD_MSGS;
        if (c->phase == P_STUCK && (flooded || now >= c->due_ns)) {
            c->phase = P_DRAIN;
            c->judged = flooded;
            c->due_ns = now + s_to_ns(SLOW_DRAIN_S);
            conn_set_events(c, true, c->writing);
        } else if (c->phase == P_DRAIN && now >= c->due_ns) {
            if (c->judged) S.s.slow_survived++;
            else S.s.slow_undecided++;
            conn_close(c, false);
            i--;
        }
    }
    while (S.loading && S.n[R_SLOW] < opt.slow) slow_open(now);
}

/* ======================== Malformed clients =============================== */

enum { NEED_ERR = 1, NEED_CLOSE = 2, HALF_CLOSE = 4 };

/* Each case: what is sent, what must come back. Where unread bytes may still
 * sit in the server's receive buffer when it closes, the close can arrive as
 * a reset that overtakes the error text: those cases need only the close. */
static const struct { const char *name; const char *bytes; int expect; } bad_cases[] = {
    { "bad-multibulk-length", "*abc\r\n", NEED_ERR | NEED_CLOSE },
    { "huge-multibulk-length", "*99999999999\r\n", NEED_ERR | NEED_CLOSE },
    { "bad-bulk-length", "*1\r\n$x1\r\n", NEED_ERR | NEED_CLOSE },
    { "negative-bulk-length", "*1\r\n$-5\r\n", NEED_ERR | NEED_CLOSE },
    { "huge-bulk-length", "*1\r\n$99999999999\r\n", NEED_ERR | NEED_CLOSE },
    { "bulk-without-dollar", "*1\r\nPING\r\n", NEED_ERR | NEED_CLOSE },
    { "unbalanced-quotes", "PING \"abc\r\n", NEED_ERR | NEED_CLOSE },
    { "unknown-inline", NULL, NEED_ERR },               /* junk words: stays open */
    { "garbage-after-star", NULL, NEED_ERR | NEED_CLOSE }, /* '*' + random bytes */
    { "random-bytes", NULL, NEED_CLOSE | HALF_CLOSE },  /* anything, then EOF */
    { "unterminated-frame", "*3\r\n$7\r\nPUBLISH\r\n$4\r\nsoak", NEED_CLOSE | HALF_CLOSE },
    { "too-big-inline", NULL, NEED_CLOSE },             /* 70000 bytes, no newline */
    { "subscribe-no-args", "*1\r\n$9\r\nSUBSCRIBE\r\n", NEED_ERR },
};
#define NBAD (int)(sizeof bad_cases / sizeof bad_cases[0])
#define BAD_TIMEOUT_S 5

static void bad_payload(conn *c, int k) {
    char b[256];
    size_t n = 0;
    switch (k) {
    case 7:                     /* unknown-inline: never a real command name */
        n = (size_t)snprintf(b, sizeof b, "junk%u %llx zz\r\n", c->id, (unsigned long long)rnd());
        break;
    case 8:                     /* garbage-after-star: no CR, LF or NUL inside */
        /* No NUL: Redis looks for the line end with strchr, so a NUL hides
         * it and the server waits for more (ours does the same). */
        b[n++] = '*';
        b[n++] = 'x';
        for (size_t len = 10 + rnd_below(190); n < len;) {
            char ch = (char)rnd_below(256);
            if (ch != '\r' && ch != '\n' && ch != '\0') b[n++] = ch;
        }
        b[n++] = '\r';
        b[n++] = '\n';
        break;
    case 9:                     /* random-bytes */
        for (size_t len = 1 + rnd_below(200); n < len;) b[n++] = (char)rnd_below(256);
        break;
    case 11: {                  /* too-big-inline */
        static char big[70000];
        if (big[0] == 0) memset(big, 'a', sizeof big);
        outbuf_append(&c->out, big, sizeof big);
        return;
    }
    default:
        n = strlen(bad_cases[k].bytes);
        memcpy(b, bad_cases[k].bytes, n);
    }
    outbuf_append(&c->out, b, n);
}

static void bad_open(uint64_t now) {
    conn *c = conn_open(R_BAD, 0, true);
    if (c == NULL) return;
    c->bad_case = (int)(S.s.bad_opened++ % NBAD);
    bad_payload(c, c->bad_case);
    c->phase = P_WAIT;
    c->due_ns = now + s_to_ns(BAD_TIMEOUT_S);
    conn_flush(c);
    if (!c->closed && (bad_cases[c->bad_case].expect & HALF_CLOSE) && c->out.len == 0)
        shutdown(c->fd, SHUT_WR);
}

/* The answer is complete when what the case needs has been seen. */
static void bad_check(conn *c, bool eof) {
    int want = bad_cases[c->bad_case].expect;
    bool err_ok = !(want & NEED_ERR) || c->got_err;
    bool close_ok = !(want & NEED_CLOSE) || eof;
    if (err_ok && close_ok) {
        S.s.bad_handled++;
        conn_close(c, false);
    } else if (eof) {
        S.s.bad_failed++;
        fprintf(stderr, "soak: malformed %s: closed without the error reply\n",
                bad_cases[c->bad_case].name);
        conn_close(c, false);
    }
}

static void bad_tick(uint64_t now) {
    for (int i = 0; i < S.n[R_BAD]; i++) {
        conn *c = S.list[R_BAD][i];
        if (now < c->due_ns) continue;
        S.s.bad_failed++;
        static int shown;
        if (shown++ < 10)
            fprintf(stderr, "soak: malformed %s: no %s within %d s\n", bad_cases[c->bad_case].name,
                    c->got_err ? "close" : "error reply", BAD_TIMEOUT_S);
        conn_close(c, false);
        i--;
    }
    if (!S.loading) return;
    uint64_t due = (uint64_t)(ns_to_s(now - S.load_t0) * opt.malformed_per_s);
    while (S.bad_sent < due && S.n[R_BAD] < 100) {
        bad_open(now);
        S.bad_sent++;
    }
}

/* ======================== PING prober ====================================== */

/* Time the server spent runnable but waiting for a CPU (the second field of
 * /proc/PID/schedstat, ns), -1 if unknown. On a shared machine this is how
 * a slow PING is told apart: the server was not stuck, it was not running. */
static int64_t server_run_wait_ns(void) {
    if (opt.server_pid <= 0) return -1;
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/schedstat", opt.server_pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) return -1;
    unsigned long long run, wait;
    int n = fscanf(f, "%llu %llu", &run, &wait);
    fclose(f);
    return n == 2 ? (int64_t)wait : -1;
}

static void ping_tick(uint64_t now) {
    conn *c = S.ping;
    if (c == NULL || c->closed) return;
    if (S.ping_sent_rt != 0) {
        if (now - S.ping_sent_mono > s_to_ns(2) && S.s.ping_stalls == 0) {
            S.s.ping_stalls++;
            fprintf(stderr, "soak: PING unanswered for 2 s\n");
        }
        return;
    }
    if (now < S.ping_next) return;
    S.ping_next += (uint64_t)(opt.ping_ms * 1e6);
    if (S.ping_next < now) S.ping_next = now + (uint64_t)(opt.ping_ms * 1e6);
    static const char cmd[] = "*1\r\n$4\r\nPING\r\n";
    S.ping_sent_mono = now;
    S.ping_wait0 = server_run_wait_ns();
    S.ping_sent_rt = realtime_ns();
    outbuf_append(&c->out, cmd, sizeof cmd - 1);
    conn_flush(c);
}

/* Records a round trip, raw and "own": less the time the server waited for
 * a CPU meanwhile. The wait is read when the PING is sent and when its
 * answer is handled, so it may include a little before and after the
 * round trip: the own figure errs low on a contended machine, never high. */
static void ping_answered(uint64_t rx_rt) {
    uint64_t rtt = rx_rt > S.ping_sent_rt ? rx_rt - S.ping_sent_rt : 0;
    hist_add(S.ping_lat, rtt);
    S.s.pings++;
    if (rtt > 10000000u) S.s.ping_over++;
    if (rtt > S.s.ping_max_ns) S.s.ping_max_ns = rtt;
    if (rtt > S.s.ping_window_max_ns) S.s.ping_window_max_ns = rtt;
    int64_t w1 = server_run_wait_ns();
    uint64_t own = rtt;
    if (S.ping_wait0 >= 0 && w1 >= S.ping_wait0) {
        uint64_t waited = (uint64_t)(w1 - S.ping_wait0);
        own = rtt > waited ? rtt - waited : 0;
    }
    hist_add(S.ping_own, own);
    if (own > 10000000u) S.s.ping_own_over++;
    if (own > S.s.ping_own_max_ns) S.s.ping_own_max_ns = own;
    if (own > S.s.ping_own_window_max_ns) S.s.ping_own_window_max_ns = own;
    S.ping_sent_rt = 0;
}

static void on_ping_frame(conn *c, const rframe *f) {
    (void)c;
    if (f->type == '+' && f->clen[0] == 4 && memcmp(f->cap[0], "PONG", 4) == 0) {
        if (S.ping_sent_rt != 0) ping_answered(S.ping_rx_rt);
        return;
    }
    S.s.unexpected++;
}

/* Reads the prober's socket; the round trip ends at the kernel's receive
 * timestamp of the segment that carried the reply. */
static void ping_read(conn *c) {
    for (;;) {
        char cbuf[CMSG_SPACE(sizeof(struct timespec))];
        struct iovec iov = { rbuf, sizeof rbuf };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                             .msg_controllen = sizeof cbuf };
        ssize_t n = recvmsg(c->fd, &mh, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) {
            on_lost(c, n == 0 ? "EOF" : strerror(errno));
            return;
        }
        S.ping_rx_rt = realtime_ns();
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec ts;
                memcpy(&ts, CMSG_DATA(cm), sizeof ts);
                S.ping_rx_rt = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
            }
        }
        reader_feed(&c->rd, c, on_frame_fn, NULL, rbuf, (size_t)n);
        if (c->rd.bad) {
            on_lost(c, "protocol error");
            return;
        }
    }
}

/* ======================== Reading and losses ============================== */

static void on_frame_fn(void *ctx, const rframe *f) {
    conn *c = ctx;
    switch (c->role) {
    case R_PUB: case R_FLOOD: on_pub_frame(c, f); break;
    case R_HEALTHY: on_healthy_frame(c, f); break;
    case R_CHURN: on_churn_frame(c, f); break;
    case R_BAD: if (f->type == '-') c->got_err = true; break;
    case R_PING: on_ping_frame(c, f); break;
    default: break;                 /* slow readers: whatever they drain */
    }
}

/* The server closed a connection (EOF, reset or write error). */
static void on_lost(conn *c, const char *why) {
    if (c->closed) return;
    switch (c->role) {
    case R_BAD:
        bad_check(c, true);
        return;
    case R_SLOW:
        if (c->phase == P_STUCK || c->phase == P_DRAIN) S.s.slow_cut++;
        break;
    case R_CHURN:
        if (c->phase != P_LEAVING) {
            S.s.churn_lost++;
            fprintf(stderr, "soak: churn client lost its connection: %s\n", why);
        } else if (c->leave == L_QUIT && !c->got_ok) {
            S.s.churn_errors++;
            fprintf(stderr, "soak: churn client: connection closed before +OK to QUIT\n");
        }
        break;
    default: {
        static const char *const names[] = { "publisher", "flooder", "healthy subscriber",
                                             "churn", "slow", "malformed", "PING prober" };
        if (c->role == R_HEALTHY) S.s.healthy_lost++;
        else if (c->role == R_PING) S.s.ping_stalls++;
        else S.s.pub_errors++;
        fprintf(stderr, "soak: %s %u lost its connection: %s\n", names[c->role], c->id, why);
    }
    }
    conn_close(c, false);
}

static void handle_read(conn *c) {
    for (int rounds = 0; rounds < 4; rounds++) {
        long n = sock_read(c->fd, rbuf, sizeof rbuf);
        if (n == 0) return;
        if (n < 0) {
            on_lost(c, errno ? strerror(errno) : "EOF");
            return;
        }
        reader_feed(&c->rd, c, on_frame_fn, NULL, rbuf, (size_t)n);
        if (c->closed) return;
        if (c->rd.bad) {
            fprintf(stderr, "soak: protocol error from the server (role %d)\n", c->role);
            S.s.unexpected++;
            on_lost(c, "protocol error");
            return;
        }
        if (c->role == R_BAD) bad_check(c, false);
        if (c->closed || (size_t)n < sizeof rbuf) return;
    }
}

/* ======================== The loop ======================================== */

static void loop_once(int timeout_ms) {
    static struct epoll_event evs[512];
    int n = epoll_wait(S.ep, evs, 512, timeout_ms);
    if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
        conn *c = evs[i].data.ptr;
        uint32_t e = evs[i].events;
        if (c->closed) continue;
        if (e & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
            if (c->role == R_PING) ping_read(c);
            else if (c->reading || (e & (EPOLLHUP | EPOLLERR))) handle_read(c);
            else if (e & EPOLLRDHUP) on_lost(c, "EOF");
        }
        if (!c->closed && (e & EPOLLOUT)) conn_flush(c);
    }
    uint64_t now = now_ns();
    ping_tick(now);
    publish_tick(now);
    static uint64_t last_life;
    if (now - last_life >= 2000000u) {      /* lifecycles every 2 ms are plenty */
        last_life = now;
        churn_tick(now);
        slow_tick(now);
        bad_tick(now);
    }
    free_dead();
}

/* ======================== RSS samples and progress ========================= */

typedef struct sample { double t_s, rss_mb; } sample;
static sample *samples;
static int nsamples;

static void sample_rss(uint64_t now, uint64_t t0) {
    if (opt.server_pid <= 0) return;
    int64_t rss = proc_rss_bytes(opt.server_pid);
    if (rss < 0) {
        if (!S.s.server_gone) fprintf(stderr, "soak: server pid %ld is gone (crashed?)\n", opt.server_pid);
        S.s.server_gone = true;
        return;
    }
    samples = xrealloc(samples, (size_t)(nsamples + 1) * sizeof *samples);
    samples[nsamples].t_s = ns_to_s(now - t0);
    samples[nsamples].rss_mb = (double)rss / 1048576.0;
    nsamples++;
}

static void sample_wait(uint64_t now) {
    static int64_t last = -1;
    static uint64_t last_t;
    int64_t w = opt.server_pid > 0 ? server_run_wait_ns() : -1;
    if (w >= 0 && last >= 0 && w >= last && now > last_t) {
        uint64_t d = (uint64_t)(w - last);
        S.s.wait_ns += d;
        S.s.wait_window_ns += d;
        double pct = 100.0 * (double)d / (double)(now - last_t);
        if (pct > S.s.wait_max_pct) S.s.wait_max_pct = pct;
    }
    last = w;
    last_t = now;
}

static double last_rss_mb(void) { return nsamples ? samples[nsamples - 1].rss_mb : -1; }

static void progress(double t_s) {
    printf("t=%.0f published=%llu delivered=%llu missed=%llu duplicates=%llu reordered=%llu "
           "churn=%llu slow_cut=%llu malformed=%llu ping_max_ms=%.2f pings_over_10ms=%llu "
           "ping_own_max_ms=%.2f "
           "server_cpu_wait_ms=%.0f rss_mb=%.1f clients=%d\n",
           t_s, (unsigned long long)S.s.published, (unsigned long long)S.s.delivered,
           (unsigned long long)S.s.missed, (unsigned long long)S.s.duplicates,
           (unsigned long long)S.s.reordered, (unsigned long long)S.s.churn_opened,
           (unsigned long long)S.s.slow_cut, (unsigned long long)S.s.bad_handled,
           (double)S.s.ping_window_max_ns / 1e6, (unsigned long long)S.s.ping_over,
           (double)S.s.ping_own_window_max_ns / 1e6, (double)S.s.wait_window_ns / 1e6, last_rss_mb(), S.n[R_PUB] + S.n[R_FLOOD] + S.n[R_HEALTHY] + S.n[R_CHURN] +
           S.n[R_SLOW] + S.n[R_BAD] + S.n[R_PING]);
    fflush(stdout);
    S.s.ping_window_max_ns = 0;
    S.s.ping_own_window_max_ns = 0;
    S.s.wait_window_ns = 0;
}

/* ======================== Phases ========================================== */

static bool healthy_ready(void) {
    for (int i = 0; i < S.n[R_HEALTHY]; i++)
        if (S.list[R_HEALTHY][i]->acks_left > 0) return false;
    return true;
}

static void setup(void) {
    uint64_t deadline = now_ns() + s_to_ns(opt.setup_timeout_s);
    for (int ch = 0; ch < NALL; ch++) {
        if (ch < NCHAN) snprintf(chan_name[ch], sizeof chan_name[ch], "soak:ch:%02d", ch);
        else snprintf(chan_name[ch], sizeof chan_name[ch], "soak:sh:%02d", ch - NCHAN);
        chan_name_len[ch] = (int)strlen(chan_name[ch]);
    }
    for (int i = 0; i < N_HEALTHY; i++) {
        healthy_open(i);
        while (now_ns() < deadline) {
            int waiting = 0;
            for (int k = 0; k < S.n[R_HEALTHY]; k++) waiting += S.list[R_HEALTHY][k]->acks_left > 0;
            if (waiting < 64) break;
            loop_once(10);
        }
    }
    while (!healthy_ready()) {
        if (now_ns() >= deadline) die("setup timed out: healthy subscriptions not confirmed");
        if (S.s.healthy_lost || S.s.unexpected) die("setup failed: a healthy subscriber was refused");
        loop_once(10);
    }
    for (int p = 0; p < opt.publishers; p++) {
        S.pubs[p] = conn_open(R_PUB, 0, true);
        if (S.pubs[p] == NULL) die("cannot open publisher %d", p);
        S.pubs[p]->ring = xcalloc(PUB_RING, sizeof *S.pubs[p]->ring);
    }
    S.flood = conn_open(R_FLOOD, 0, true);
    S.ping = conn_open(R_PING, 0, true);
    if (S.flood == NULL || S.ping == NULL) die("cannot open the flooder or the prober");
    int one = 1;
    setsockopt(S.ping->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
}

/* The load phase: --seconds of everything, a progress line every
 * --report seconds, RSS every second. */
static void run_load(uint64_t t0) {
    S.loading = true;
    S.load_t0 = t0;
    S.ping_next = t0;
    uint64_t end = t0 + s_to_ns(opt.seconds);
    uint64_t next_sample = t0, next_report = t0 + s_to_ns(opt.report_s);
    for (;;) {
        uint64_t now = now_ns();
        if (now >= next_sample) {
            sample_rss(now, t0);
            sample_wait(now);
            next_sample += 1000000000u;
        }
        if (now >= next_report) {
            progress(ns_to_s(now - t0));
            next_report += s_to_ns(opt.report_s);
        }
        if (now >= end || S.s.server_gone) break;
        loop_once(1);
    }
    S.loading = false;
}

static bool drained(void) {
    for (int p = 0; p < opt.publishers; p++)
        if (S.pubs[p] && !S.pubs[p]->closed && S.pubs[p]->ring_len > 0) return false;
    for (int i = 0; i < N_HEALTHY; i++) {
        healthy *h = S.hs[i];
        for (int p = 0; p < opt.publishers; p++)
            for (int ch = 0; ch < NALL; ch++)
                if ((h->mask >> ch & 1) && h->next[p][ch] < S.seq[p][ch]) return false;
    }
    return true;
}

/* After the load: waits (bounded) for the last messages, then counts what
 * never arrived at the end of each stream as missed. */
static double drain(void) {
    uint64_t t = now_ns(), deadline = t + s_to_ns(opt.drain_s);
    while (!drained() && now_ns() < deadline && !S.s.server_gone) loop_once(5);
    for (int i = 0; i < N_HEALTHY; i++) {
        healthy *h = S.hs[i];
        for (int p = 0; p < opt.publishers; p++)
            for (int ch = 0; ch < NALL; ch++)
                if ((h->mask >> ch & 1) && h->next[p][ch] < S.seq[p][ch])
                    S.s.missed += S.seq[p][ch] - h->next[p][ch];
    }
    return ns_to_s(now_ns() - t);
}

/* ======================== Summary and checks ============================== */

typedef struct rss_fit {
    double start, after_warmup, end, max, median, slope_mb_min, warmup_s, window_s;
    int n;
} rss_fit;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Warm-up is the first 20% of the run, but at least 30 s of a long run and
 * never more than half of a short one; the rest is the judged window. */
static rss_fit rss_analyse(double run_s) {
    rss_fit r = { -1, -1, -1, -1, -1, 0, 0, 0, 0 };
    r.warmup_s = fmax(0.2 * run_s, fmin(30, 0.5 * run_s));
    if (nsamples == 0) return r;
    r.start = samples[0].rss_mb;
    r.end = samples[nsamples - 1].rss_mb;
    double *v = xcalloc((size_t)nsamples, sizeof *v);
    double st = 0, sv = 0;
    for (int i = 0; i < nsamples; i++) {
        if (samples[i].t_s < r.warmup_s) continue;
        if (r.n == 0) r.after_warmup = samples[i].rss_mb;
        v[r.n++] = samples[i].rss_mb;
        st += samples[i].t_s;
        sv += samples[i].rss_mb;
        if (samples[i].rss_mb > r.max) r.max = samples[i].rss_mb;
    }
    if (r.n >= 2) {
        double mt = st / r.n, mv = sv / r.n, num = 0, den = 0;
        for (int i = 0; i < nsamples; i++) {
            if (samples[i].t_s < r.warmup_s) continue;
            num += (samples[i].t_s - mt) * (samples[i].rss_mb - mv);
            den += (samples[i].t_s - mt) * (samples[i].t_s - mt);
        }
        r.slope_mb_min = den > 0 ? num / den * 60 : 0;
        r.window_s = samples[nsamples - 1].t_s - r.warmup_s;
        qsort(v, (size_t)r.n, sizeof *v, cmp_double);
        r.median = r.n % 2 ? v[r.n / 2] : (v[r.n / 2 - 1] + v[r.n / 2]) / 2;
    }
    free(v);
    return r;
}

static int passed, failed;

static void check(bool ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%s - ", ok ? "ok" : "not ok");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (ok) passed++;
    else failed++;
}

#define U(x) ((unsigned long long)(x))

static void summary(double run_s, double drain_s) {
    stats *s = &S.s;
    uint64_t expected = 0;
    for (int p = 0; p < opt.publishers; p++)
        for (int ch = 0; ch < NALL; ch++) expected += S.seq[p][ch] * (uint64_t)S.healthy_per_chan[ch];
    rss_fit r = rss_analyse(run_s);
    double limit_ms = opt.ping_limit_ms;
    printf("duration_s=%.1f drain_s=%.2f published=%llu publish_per_s=%.0f published_mb=%.1f "
           "delivered=%llu expected=%llu missed=%llu duplicates=%llu reordered=%llu corrupt=%llu "
           "unexpected=%llu receivers_short=%llu healthy_subscribers=%d healthy_lost=%llu "
           "flooded=%llu churn_connections=%llu churn_quit=%llu churn_close=%llu churn_reset=%llu "
           "churn_halfclose=%llu churn_subscriptions=%llu churn_deliveries=%llu churn_lost=%llu "
           "churn_errors=%llu churn_timeouts=%llu slow_readers=%llu slow_disconnects=%llu "
           "slow_survived=%llu slow_undecided=%llu malformed=%llu malformed_handled=%llu malformed_failed=%llu "
           "pings=%llu ping_p50_ms=%.3f ping_p99_ms=%.3f ping_p999_ms=%.3f ping_max_ms=%.3f "
           "pings_over_10ms=%llu ping_own_p999_ms=%.3f ping_own_max_ms=%.3f ping_own_over_10ms=%llu "
           "ping_stalls=%llu rss_start_mb=%.1f rss_after_warmup_mb=%.1f "
           "rss_median_mb=%.1f rss_end_mb=%.1f rss_max_mb=%.1f rss_slope_mb_per_min=%.3f "
           "warmup_s=%.0f rss_samples=%d refused=%llu server_cpu_wait_ms=%.0f "
           "server_cpu_wait_max_pct=%.0f\n",
           run_s, drain_s, U(s->published), (double)s->published / run_s,
           (double)s->pub_bytes / 1048576.0, U(s->delivered), U(expected), U(s->missed),
           U(s->duplicates), U(s->reordered), U(s->corrupt), U(s->unexpected),
           U(s->receivers_short), N_HEALTHY, U(s->healthy_lost), U(s->flooded),
           U(s->churn_opened), U(s->churn_quit), U(s->churn_close), U(s->churn_reset),
           U(s->churn_halfclose), U(s->churn_subs), U(s->churn_deliveries), U(s->churn_lost),
           U(s->churn_errors), U(s->churn_timeouts), U(s->slow_opened), U(s->slow_cut),
           U(s->slow_survived), U(s->slow_undecided), U(s->bad_opened), U(s->bad_handled), U(s->bad_failed),
           U(s->pings), hist_quantile_us(S.ping_lat, 0.5) / 1000,
           hist_quantile_us(S.ping_lat, 0.99) / 1000, hist_quantile_us(S.ping_lat, 0.999) / 1000,
           (double)s->ping_max_ns / 1e6, U(s->ping_over), hist_quantile_us(S.ping_own, 0.999) / 1000,
           (double)s->ping_own_max_ns / 1e6, U(s->ping_own_over), U(s->ping_stalls), r.start,
           r.after_warmup, r.median, r.end, r.max, r.slope_mb_min, r.warmup_s, nsamples,
           U(s->refused), (double)s->wait_ns / 1e6, s->wait_max_pct);

    check(!s->server_gone, "the server process stayed up (pid %ld)", opt.server_pid);
    check(s->healthy_lost == 0 && s->pub_errors == 0 && s->ping_stalls == 0,
          "no healthy subscriber, publisher or prober lost its connection or got an error "
          "(lost %llu, publisher errors %llu, PING stalls %llu)",
          U(s->healthy_lost), U(s->pub_errors), U(s->ping_stalls));
    check(s->published > 0 && s->missed == 0 && s->delivered == expected,
          "every healthy subscriber got every message: %llu delivered of %llu, %llu missed",
          U(s->delivered), U(expected), U(s->missed));
    check(s->duplicates == 0 && s->reordered == 0 && s->corrupt == 0 && s->unexpected == 0,
          "no duplicates (%llu), reordering (%llu), wrong lengths (%llu) or unexpected frames (%llu)",
          U(s->duplicates), U(s->reordered), U(s->corrupt), U(s->unexpected));
    check(s->receivers_short == 0,
          "PUBLISH/SPUBLISH replies counted at least the healthy subscribers (%llu short)",
          U(s->receivers_short));
    check(s->churn_opened > 0 && s->churn_lost == 0 && s->churn_errors == 0 && s->churn_timeouts == 0,
          "churn: %llu connections came and went, none cut, refused or stuck "
          "(lost %llu, errors %llu, timeouts %llu)",
          U(s->churn_opened), U(s->churn_lost), U(s->churn_errors), U(s->churn_timeouts));
    check(s->slow_cut > 0 && s->slow_survived == 0,
          "slow readers cut at the output-buffer limit: %llu of %llu (survived %llu, "
          "undecided %llu)", U(s->slow_cut), U(s->slow_opened), U(s->slow_survived),
          U(s->slow_undecided));
    check(s->bad_handled > 0 && s->bad_failed == 0,
          "malformed clients answered as required: %llu of %llu (failed %llu)",
          U(s->bad_handled), U(s->bad_opened), U(s->bad_failed));
    check(s->refused == 0, "every connection was accepted (%llu refused)", U(s->refused));
    /* The spec's check is the raw round trip. On a shared machine the server
     * can wait for a CPU for longer than the bound, so the same figure less
     * that wait is judged too: a failure of the first alone says "machine",
     * of both says "server". A smoke run judges only the second, leniently. */
    char wait_note[128];
    snprintf(wait_note, sizeof wait_note, "the server waited %.0f ms for a CPU in all, up to %.0f%% of "
             "a second", (double)s->wait_ns / 1e6, s->wait_max_pct);
    double raw_ms = (double)s->ping_max_ns / 1e6, own_ms = (double)s->ping_own_max_ns / 1e6;
    if (opt.smoke) {
        check(true, "PING round trip max %.2f ms, %llu of %llu over 10 ms (%s) # SKIP not judged "
              "in a smoke run", raw_ms, U(s->ping_over), U(s->pings), wait_note);
    } else {
        check(s->pings > 0 && raw_ms <= limit_ms,
              "PING answered within %.0f ms throughout: max %.2f ms, p99.9 %.2f ms, %llu of %llu "
              "over 10 ms (%s)", limit_ms, raw_ms, hist_quantile_us(S.ping_lat, 0.999) / 1000,
              U(s->ping_over), U(s->pings), wait_note);
    }
    double own_limit = opt.smoke ? SMOKE_PING_OWN_MS : limit_ms;
    check(s->pings > 0 && own_ms <= own_limit,
          "PING answered within %.0f ms of the server's own time (its CPU wait subtracted)%s: "
          "max %.2f ms, p99.9 %.2f ms, %llu of %llu over 10 ms", own_limit,
          opt.smoke ? " (relaxed from 10 ms: smoke run on a shared machine)" : "", own_ms,
          hist_quantile_us(S.ping_own, 0.999) / 1000, U(s->ping_own_over), U(s->pings));
    if (opt.server_pid <= 0) {
        check(true, "RSS not judged # SKIP no --server-pid");
        return;
    }
    /* Flat RSS, two bounds over the samples after warm-up:
     * - slope below --slope-limit (1 MB/min): the churn opens ~20 connections
     *   a second, so a leak of ~1 KB per connection, or of one small message
     *   in a thousand, exceeds it within the judged window, while the
     *   sawtooth of the slow readers' buffers (a few MB, many cycles) moves
     *   a least-squares slope over 400+ samples by ~0.1 MB/min;
     * - max within 10% + 16 MB of the median: room for the transient
     *   buffers this load creates on purpose (3 slow readers up to the 4 MB
     *   hard limit each, 64 KiB payloads in flight, allocator slack), no
     *   room for a growing pile-up. */
    if (r.window_s < 60) {
        check(true, "RSS slope %.2f MB/min not judged # SKIP judged window %.0f s is under 60 s",
              r.slope_mb_min, r.window_s);
    } else {
        check(r.slope_mb_min < opt.slope_limit_mb_min,
              "RSS flat after %.0f s warm-up: slope %.3f MB/min < %.2f over %.0f s",
              r.warmup_s, r.slope_mb_min, opt.slope_limit_mb_min, r.window_s);
    }
    double bound = r.median * 1.10 + 16;
    check(r.n > 0 && r.max <= bound, "RSS max %.1f MB within 10%% + 16 MB of the median %.1f MB (%.1f)",
          r.max, r.median, bound);
}

/* ======================== Options and main ================================ */

static void usage(FILE *f) {
    fprintf(f,
        "usage: soak [--host 127.0.0.1] [--port 6379] [--server-pid PID] [--seconds 600]\n"
        "            [--rate 20000] [--tick-ms 5] [--publishers 4] [--churn 20] [--slow 3]\n"
        "            [--malformed-per-s 10] [--ping-ms 10] [--ping-limit-ms 10]\n"
        "            [--slope-limit 1.0] [--report 10] [--drain 10] [--setup-timeout 60]\n"
        "            [--seed 1] [--smoke]\n"
        "--smoke: a short run on a shared machine; the raw PING round trip is not\n"
        "judged, the server's own share of it (its CPU wait subtracted) must stay\n"
        "under %d ms instead of --ping-limit-ms; the server should run with\n"
        "client-output-buffer-limit pubsub 4mb 1mb 10 (utils/soak.sh does that).\n",
        SMOKE_PING_OWN_MS);
}

static double arg_num(const char *s, const char *name, double lo, double hi) {
    char *end;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || !(v >= lo && v <= hi))
        die("bad value for --%s: %s (%g..%g)", name, s, lo, hi);
    return v;
}

static void parse_args(int argc, char **argv) {
    static const struct option longopts[] = {
        { "host", required_argument, NULL, 'h' }, { "port", required_argument, NULL, 'p' },
        { "server-pid", required_argument, NULL, 'P' }, { "seconds", required_argument, NULL, 's' },
        { "rate", required_argument, NULL, 'r' }, { "publishers", required_argument, NULL, 'u' },
        { "churn", required_argument, NULL, 'c' }, { "slow", required_argument, NULL, 'w' },
        { "malformed-per-s", required_argument, NULL, 'm' },
        { "ping-ms", required_argument, NULL, 'i' }, { "ping-limit-ms", required_argument, NULL, 'l' },
        { "slope-limit", required_argument, NULL, 'L' }, { "report", required_argument, NULL, 'R' },
        { "drain", required_argument, NULL, 'd' }, { "setup-timeout", required_argument, NULL, 'T' },
        { "seed", required_argument, NULL, 'S' }, { "tick-ms", required_argument, NULL, 't' }, { "smoke", no_argument, NULL, 'k' },
        { "help", no_argument, NULL, 'H' }, { NULL, 0, NULL, 0 },
    };
    int o;
    while ((o = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (o) {
        case 'h': opt.host = optarg; break;
        case 'p': opt.port = (int)arg_num(optarg, "port", 1, 65535); break;
        case 'P': opt.server_pid = (long)arg_num(optarg, "server-pid", 1, 1e9); break;
        case 's': opt.seconds = arg_num(optarg, "seconds", 1, 86400); break;
        case 'r': opt.rate = arg_num(optarg, "rate", 1, 1e7); break;
        case 'u': opt.publishers = (int)arg_num(optarg, "publishers", 1, MAX_PUBS); break;
        case 'c': opt.churn = (int)arg_num(optarg, "churn", 0, 10000); break;
        case 'w': opt.slow = (int)arg_num(optarg, "slow", 0, 1000); break;
        case 'm': opt.malformed_per_s = arg_num(optarg, "malformed-per-s", 0, 1000); break;
        case 'i': opt.ping_ms = arg_num(optarg, "ping-ms", 1, 1000); break;
        case 'l': opt.ping_limit_ms = arg_num(optarg, "ping-limit-ms", 0.1, 60000); break;
        case 'L': opt.slope_limit_mb_min = arg_num(optarg, "slope-limit", 0, 1e6); break;
        case 'R': opt.report_s = arg_num(optarg, "report", 0.1, 3600); break;
        case 'd': opt.drain_s = arg_num(optarg, "drain", 0, 600); break;
        case 'T': opt.setup_timeout_s = arg_num(optarg, "setup-timeout", 1, 3600); break;
        case 't': opt.tick_ms = arg_num(optarg, "tick-ms", 0, 1000); break;
        case 'S': opt.seed = (unsigned)arg_num(optarg, "seed", 0, 4e9); break;
        case 'k': opt.smoke = true; break;
        case 'H': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (optind != argc) die("unexpected argument %s", argv[optind]);
}

int main(int argc, char **argv) {
    tool_name = "soak";
    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    reader_log_errors = false;      /* malformed clients make errors by design */
    memset(filler, 'x', sizeof filler);
    S.seed_state = 0x9E3779B97F4A7C15ull ^ opt.seed;
    S.ep = epoll_create1(EPOLL_CLOEXEC);
    if (S.ep < 0) die("epoll_create1: %s", strerror(errno));
    S.ping_lat = xcalloc(1, sizeof *S.ping_lat);
    S.ping_own = xcalloc(1, sizeof *S.ping_own);

    setup();
    printf("soak: %d healthy subscribers (%d channel, %d pattern, %d shard; half RESP3), "
           "%d publishers at %.0f msg/s, %d churn, %d slow, %.0f malformed/s, PING every %.0f ms, "
           "%.0f s\n", N_HEALTHY, N_HEALTHY_CH, N_HEALTHY_PAT, N_HEALTHY_SH, opt.publishers,
           opt.rate, opt.churn, opt.slow, opt.malformed_per_s, opt.ping_ms, opt.seconds);
    fflush(stdout);
    uint64_t t0 = now_ns();
    run_load(t0);
    double run_s = ns_to_s(now_ns() - t0);
    double drain_s = drain();
    summary(run_s, drain_s);
    printf("soak: %d passed, %d failed\n", passed, failed);
    fflush(stdout);
    for (int r = 0; r < R_COUNT; r++)
        while (S.n[r] > 0) conn_close(S.list[r][S.n[r] - 1], false);
    free_dead();
    for (int r = 0; r < R_COUNT; r++) free(S.list[r]);
    free(S.dead);
    for (int i = 0; i < N_HEALTHY; i++) free(S.hs[i]);
    free(samples);
    free(S.ping_lat);
    free(S.ping_own);
    close(S.ep);
    return failed ? 1 : 0;
}
