/* toolkit.h -- What the load tools in utils/ share: clocks, allocation that
 * dies on failure, /proc figures of a server, a latency histogram, an output
 * buffer for RESP commands, loopback connections, and the streaming RESP
 * reader. Used by pubsub-bench.c and soak.c; nothing here knows a scenario. */
#ifndef TOOLKIT_H
#define TOOLKIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Process basics ---- */

/* Prefix of die() messages and reader diagnostics, e.g. "pubsub-bench". */
extern const char *tool_name;

/* Prints "tool_name: message" on stderr and exits 2. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

uint64_t now_ns(void);                  /* CLOCK_MONOTONIC */
double ns_to_s(uint64_t ns);
uint64_t s_to_ns(double s);
void *xrealloc(void *p, size_t n);      /* dies instead of returning NULL */
void *xcalloc(size_t n, size_t size);
void raise_nofile(void);                /* soft RLIMIT_NOFILE up to the hard one */

/* ---- Figures of another process (the server) from /proc ---- */

int64_t proc_cpu_ns(long pid);          /* utime+stime in ns; -1 if unknown */
/* Run time and run-queue wait (ready, no CPU) of all of pid's threads in
 * ns from /proc/PID/task/TID/schedstat; 0, or -1 without schedstat. */
int proc_sched_ns(long pid, int64_t *run, int64_t *wait);
int64_t proc_run_ns(long pid);          /* schedstat run time, ns; else proc_cpu_ns() */
int64_t proc_rss_bytes(long pid);       /* VmRSS in bytes; -1 if unknown (gone) */
int64_t self_cpu_ns(void);              /* this process, getrusage */

/* ---- Latency histogram: log-linear buckets over ns, ~3% resolution ---- */

#define HIST_SUB_BITS 5
#define HIST_MAX_EXP 42
#define HIST_BUCKETS (64 + (HIST_MAX_EXP - 6 + 1) * (1 << HIST_SUB_BITS))

typedef struct hist {
    uint64_t count[HIST_BUCKETS];
    uint64_t total;
} hist;

void hist_add(hist *h, uint64_t v_ns);
double hist_quantile_us(const hist *h, double q);   /* -1 when empty */

/* ---- Output buffer: bytes queued for one socket ---- */

typedef struct outbuf {
    char *p;                    /* owned */
    size_t len, off, cap;       /* bytes [off, len) are still to write */
} outbuf;

/* Makes room for more bytes at p + len; p may move. */
void outbuf_reserve(outbuf *o, size_t more);
void outbuf_append(outbuf *o, const void *p, size_t n);
/* Appends a RESP multibulk command; lens may be NULL for C strings. */
void outbuf_command(outbuf *o, int argc, const char *const *argv, const size_t *lens);

enum { OUTBUF_DONE, OUTBUF_AGAIN, OUTBUF_ERR };
/* Writes what the kernel takes: OUTBUF_DONE when empty, OUTBUF_AGAIN when
 * the socket is full, OUTBUF_ERR on a write error (errno kept). */
int outbuf_write(outbuf *o, int fd);
void outbuf_free(outbuf *o);

/* ---- Connections ---- */

/* Opens a TCP connection to host:port with a blocking connect (loopback:
 * microseconds), TCP_NODELAY, SO_RCVBUF rcvbuf when > 0, source address
 * src (host byte order) when non-zero; returns a non-blocking fd, or -1
 * with err filled. */
int tcp_connect(const char *host, int port, int rcvbuf, uint32_t src, char *err, size_t err_len);

/* One read(): > 0 bytes read; 0 nothing to read now (EAGAIN); -1 the peer
 * closed (errno 0) or an error (errno set). EINTR is retried. */
long sock_read(int fd, void *buf, size_t cap);

/* epoll_ctl(EPOLL_CTL_MOD) of fd with data ptr: EPOLLIN when rd, EPOLLOUT
 * when wr, EPOLLRDHUP always; dies on failure. */
void epoll_mod(int ep, int fd, void *ptr, bool rd, bool wr);

/* ---- Streaming RESP reader ----
 * Every socket is read into one shared buffer and fed here; the reader keeps
 * a few bytes of state per connection (a header line cut by a read, bytes
 * left in the current bulk, the first RD_CAP bytes of each of the first
 * RD_ELEMS top-level elements). Payloads are skipped where they lie. */

#define RD_CAP 16
#define RD_ELEMS 4
#define RD_DEPTH 8
#define RD_LINE 48

/* A frame as reported: top-level type, element count, the first bytes and
 * length of the first RD_ELEMS top-level elements, the last top-level
 * integer. Nested aggregates are walked but not captured. */
typedef struct rframe {
    char type;                  /* '*', '>', '+', '-', ':', '$', '_' ... */
    int32_t nelem;              /* top-level elements (1 for a scalar) */
    int32_t elem;               /* index of the top-level element being read */
    int64_t ival;               /* last top-level integer */
    int64_t blen[RD_ELEMS];     /* bulk length of element i, -1 if not a bulk */
    uint8_t clen[RD_ELEMS];     /* bytes captured of element i */
    char cap[RD_ELEMS][RD_CAP]; /* first bytes of element i */
} rframe;

enum { RD_HEADER = 0, RD_BULK = 1 };

typedef struct reader {
    uint8_t state;              /* RD_HEADER or RD_BULK */
    uint8_t line_len;           /* bytes carried in line[] */
    uint8_t depth;              /* open aggregates */
    bool line_trunc;            /* the carried line overflowed (long error text) */
    bool bad;                   /* protocol error: sticky */
    int8_t cap_idx;             /* element the current bulk is captured into, -1 */
    char line[RD_LINE];         /* a header line split across reads */
    int64_t bulk_left;          /* payload + CRLF bytes left in the bulk */
    int64_t bulk_pos;           /* payload bytes of the bulk already seen */
    int64_t bulk_len;
    int64_t left[RD_DEPTH];     /* elements left in each open aggregate */
    rframe f;
} reader;

/* Called for every complete top-level frame; ctx is the caller's. */
typedef void frame_fn(void *ctx, const rframe *f);
/* Optional fast path, offered the bytes at a frame boundary: returns the
 * length of a whole frame it consumed there, or 0 to take the general path. */
typedef size_t fast_fn(void *ctx, const char *p, size_t n);

/* Error replies ('-' lines) are printed on stderr, the first few only,
 * unless this is false. */
extern bool reader_log_errors;

void reader_init(reader *r);
/* Feeds n bytes; calls fn for every complete frame. Sets r->bad (sticky) on
 * a protocol error. */
void reader_feed(reader *r, void *ctx, frame_fn *fn, fast_fn *fast, const char *p, size_t n);
/* True if element i of f is a bulk string equal to word. */
bool rframe_is(const rframe *f, int i, const char *word);

#endif
