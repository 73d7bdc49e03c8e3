/* toolkit.c -- Shared by the load tools in utils/ (pubsub-bench, soak):
 * clocks, allocation, /proc figures of the server, a latency histogram, an
 * output buffer, loopback connections and the streaming RESP reader.
 * Nothing here knows a scenario or keeps global state beyond the two
 * settings in toolkit.h; see that file for the contracts. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "toolkit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

const char *tool_name = "tool";
bool reader_log_errors = true;

/* ======================== Small utilities ================================= */

void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", tool_name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double ns_to_s(uint64_t ns) { return (double)ns / 1e9; }

uint64_t s_to_ns(double s) { return (uint64_t)(s * 1e9); }

void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n);
    if (q == NULL && n != 0) die("out of memory (%zu bytes)", n);
    return q;
}

void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n, size);
    if (p == NULL) die("out of memory (%zu x %zu bytes)", n, size);
    return p;
}

/* CPU time (utime+stime of all threads) of pid in ns; -1 without one. */
int64_t proc_cpu_ns(long pid) {
    if (pid <= 0) return -1;
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) return -1;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    /* The command name may hold spaces: fields are counted after the last ')'. */
    char *p = strrchr(text, ')');
    if (p == NULL) return -1;
    p++;
    unsigned long long utime = 0, stime = 0;
    for (int field = 3; field <= 15; field++) {
        while (*p == ' ') p++;
        if (field == 14) utime = strtoull(p, NULL, 10);
        if (field == 15) stime = strtoull(p, NULL, 10);
        while (*p && *p != ' ') p++;
    }
    long hz = sysconf(_SC_CLK_TCK);
    return (int64_t)((utime + stime) * (1000000000ULL / (unsigned long long)hz));
}

/* Run time and run-queue wait of all threads of pid in ns, summed from
 * /proc/PID/task/TID/schedstat (fields 1 and 2, exact to the ns); 0, or
 * -1 when schedstat is missing (no such pid, or a kernel without it). */
int proc_sched_ns(long pid, int64_t *run, int64_t *wait) {
    *run = *wait = -1;
    if (pid <= 0) return -1;
    char path[96];
    snprintf(path, sizeof path, "/proc/%ld/task", pid);
    DIR *d = opendir(path);
    if (d == NULL) return -1;
    int64_t rsum = 0, wsum = 0;
    bool any = false;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        snprintf(path, sizeof path, "/proc/%ld/task/%.20s/schedstat", pid, e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL) continue;
        unsigned long long r = 0, w = 0;
        if (fscanf(f, "%llu %llu", &r, &w) == 2) {
            rsum += (int64_t)r;
            wsum += (int64_t)w;
            any = true;
        }
        fclose(f);
    }
    closedir(d);
    if (!any) return -1;
    *run = rsum;
    *wait = wsum;
    return 0;
}

int64_t proc_run_ns(long pid) {
    int64_t run, wait;
    if (proc_sched_ns(pid, &run, &wait) == 0) return run;
    return proc_cpu_ns(pid);
}

/* Resident set of pid in bytes; -1 without one. */
int64_t proc_rss_bytes(long pid) {
    if (pid <= 0) return -1;
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) return -1;
    int64_t kb = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtoll(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

int64_t self_cpu_ns(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
           ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}


void raise_nofile(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* ======================== Latency histogram ================================ */

static int hist_index(uint64_t v) {
    if (v < 64) return (int)v;
    int e = 63 - __builtin_clzll(v);
    if (e > HIST_MAX_EXP) return HIST_BUCKETS - 1;
    int sub = (int)((v >> (e - HIST_SUB_BITS)) & ((1u << HIST_SUB_BITS) - 1));
    return 64 + (e - 6) * (1 << HIST_SUB_BITS) + sub;
}

/* Midpoint of a bucket, ns. */
static double hist_value(int idx) {
    if (idx < 64) return idx;
    int e = (idx - 64) / (1 << HIST_SUB_BITS) + 6;
    int sub = (idx - 64) % (1 << HIST_SUB_BITS);
    double lo = ldexp(1.0, e) + sub * ldexp(1.0, e - HIST_SUB_BITS);
    return lo + ldexp(1.0, e - HIST_SUB_BITS) / 2;
}

void hist_add(hist *h, uint64_t v) {
    h->count[hist_index(v)]++;
    h->total++;
}

/* The q-quantile in microseconds; -1 when empty. */
double hist_quantile_us(const hist *h, double q) {
    if (h->total == 0) return -1;
    uint64_t rank = (uint64_t)ceil(q * (double)h->total);
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        seen += h->count[i];
        if (seen >= rank) return hist_value(i) / 1000.0;
    }
    return hist_value(HIST_BUCKETS - 1) / 1000.0;
}


/* ======================== Output buffer and connections ==================== */

void outbuf_reserve(outbuf *o, size_t more) {
    if (o->off > 0 && o->off == o->len) o->off = o->len = 0;
    if (o->len + more <= o->cap) return;
    if (o->off > 0) {
        memmove(o->p, o->p + o->off, o->len - o->off);
        o->len -= o->off;
        o->off = 0;
        if (o->len + more <= o->cap) return;
    }
    size_t cap = o->cap ? o->cap : 256;
    while (cap < o->len + more) cap *= 2;
    o->p = xrealloc(o->p, cap);
    o->cap = cap;
}

void outbuf_append(outbuf *o, const void *p, size_t n) {
    outbuf_reserve(o, n);
    memcpy(o->p + o->len, p, n);
    o->len += n;
}

void outbuf_command(outbuf *o, int argc, const char *const *argv, const size_t *lens) {
    char hdr[32];
    int h = snprintf(hdr, sizeof hdr, "*%d\r\n", argc);
    outbuf_append(o, hdr, (size_t)h);
    for (int i = 0; i < argc; i++) {
        size_t len = lens ? lens[i] : strlen(argv[i]);
        h = snprintf(hdr, sizeof hdr, "$%zu\r\n", len);
        outbuf_append(o, hdr, (size_t)h);
        outbuf_append(o, argv[i], len);
        outbuf_append(o, "\r\n", 2);
    }
}

int outbuf_write(outbuf *o, int fd) {
    while (o->off < o->len) {
        ssize_t n = write(fd, o->p + o->off, o->len - o->off);
        if (n > 0) {
            o->off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return OUTBUF_AGAIN;
        if (n == 0) errno = EPIPE;
        return OUTBUF_ERR;
    }
    o->off = o->len = 0;
    return OUTBUF_DONE;
}

void outbuf_free(outbuf *o) {
    free(o->p);
    o->p = NULL;
    o->len = o->off = o->cap = 0;
}

int tcp_connect(const char *host, int port, int rcvbuf, uint32_t src, char *err, size_t err_len) {
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        snprintf(err, err_len, "bad address %s", host);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        snprintf(err, err_len, "socket: %s (raise ulimit -n?)", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (src != 0) {
        struct sockaddr_in sin = {0};
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(src);
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
            snprintf(err, err_len, "bind %u.%u.%u.%u: %s", src >> 24, (src >> 16) & 255,
                     (src >> 8) & 255, src & 255, strerror(errno));
            close(fd);
            return -1;
        }
    }
    for (;;) {
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) break;
        if (errno == EINTR) continue;
        snprintf(err, err_len, "connect %s:%d: %s", host, port, strerror(errno));
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

long sock_read(int fd, void *buf, size_t cap) {
    for (;;) {
        ssize_t n = read(fd, buf, cap);
        if (n > 0) return (long)n;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        if (n == 0) errno = 0;
        return -1;
    }
}

void epoll_mod(int ep, int fd, void *ptr, bool rd, bool wr) {
    struct epoll_event ev = {0};
    ev.events = (rd ? EPOLLIN : 0) | (wr ? EPOLLOUT : 0) | EPOLLRDHUP;
    ev.data.ptr = ptr;
    if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) < 0) die("epoll_ctl: %s", strerror(errno));
}

/* ======================== Streaming RESP reader ============================ */

static int64_t parse_int(const char *p, size_t len, bool *ok) {
    int64_t v = 0;
    bool neg = false;
    size_t i = 0;
    *ok = false;
    if (len > 0 && p[0] == '-') { neg = true; i = 1; }
    if (i == len) return 0;
    for (; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') return 0;
        v = v * 10 + (p[i] - '0');
    }
    *ok = true;
    return neg ? -v : v;
}

static void frame_begin(reader *r, char type, int32_t nelem) {
    r->f.type = type;
    r->f.nelem = nelem;
    r->f.elem = 0;
    r->f.ival = 0;
    for (int i = 0; i < RD_ELEMS; i++) {
        r->f.blen[i] = -1;
        r->f.clen[i] = 0;
    }
}

/* The element index a value at the current depth is captured into. */
static int capture_index(const reader *r) {
    if (r->depth == 0) return 0;
    if (r->depth == 1 && r->f.elem < RD_ELEMS) return r->f.elem;
    return -1;
}

/* A value finished: close the aggregates it completes; report the frame
 * when the top level is done. */
static void element_done(reader *r, void *ctx, frame_fn *fn) {
    for (;;) {
        if (r->depth == 0) {
            fn(ctx, &r->f);
            return;
        }
        if (r->depth == 1) r->f.elem++;
        if (--r->left[r->depth - 1] > 0) return;
        r->depth--;
    }
}

/* One complete header line (without CRLF). */
static void header_line(reader *r, void *ctx, frame_fn *fn, const char *line, size_t len) {
    if (len == 0) { r->bad = true; return; }
    char type = line[0];
    bool ok;
    if (r->depth == 0) frame_begin(r, type, 1);
    int ci = capture_index(r);
    switch (type) {
    case '+': case '-':
        if (ci >= 0) {
            size_t n = len - 1 < RD_CAP ? len - 1 : RD_CAP;
            memcpy(r->f.cap[ci], line + 1, n);
            r->f.clen[ci] = (uint8_t)n;
        }
        if (type == '-') {
            static int shown;
            if (reader_log_errors && shown++ < 5)
                fprintf(stderr, "%s: server error: %.*s\n", tool_name, (int)len, line);
        }
        element_done(r, ctx, fn);
        return;
    case ':':
        r->f.ival = parse_int(line + 1, len - 1, &ok);
        if (!ok) { r->bad = true; return; }
        element_done(r, ctx, fn);
        return;
    case '_':
        element_done(r, ctx, fn);
        return;
    case '$': case '=': case '!': {
        int64_t n = parse_int(line + 1, len - 1, &ok);
        if (!ok || n < -1) { r->bad = true; return; }
        if (n == -1) { element_done(r, ctx, fn); return; }
        if (ci >= 0) r->f.blen[ci] = n;
        r->cap_idx = (int8_t)ci;
        r->bulk_len = n;
        r->bulk_pos = 0;
        r->bulk_left = n + 2;
        r->state = RD_BULK;
        return;
    }
    case '*': case '>': case '%': case '~': {
        int64_t n = parse_int(line + 1, len - 1, &ok);
        if (!ok || n < -1) { r->bad = true; return; }
        if (type == '%') n *= 2;
        if (r->depth == 0) r->f.nelem = (int32_t)(n < 0 ? 0 : n);
        if (n <= 0) { element_done(r, ctx, fn); return; }
        if (r->depth == RD_DEPTH) { r->bad = true; return; }
        r->left[r->depth++] = n;
        return;
    }
    default:                    /* ',' '#' '(' and anything else: a scalar line */
        if (!strchr(",#(", type)) { r->bad = true; return; }
        element_done(r, ctx, fn);
        return;
    }
}

/* Feeds n bytes; calls fn for every complete frame. Payload bytes are
 * skipped where they lie; only header lines cut by a read are carried. */
void reader_feed(reader *r, void *ctx, frame_fn *fn, fast_fn *fast, const char *p, size_t n) {
    while (n > 0 && !r->bad) {
        if (fast && r->state == RD_HEADER && r->line_len == 0 && !r->line_trunc && r->depth == 0) {
            size_t used = fast(ctx, p, n);
            if (used > 0) {
                p += used;
                n -= used;
                continue;
            }
        }
        if (r->state == RD_BULK) {
            size_t take = (size_t)r->bulk_left < n ? (size_t)r->bulk_left : n;
            if (r->cap_idx >= 0 && r->bulk_pos < RD_CAP && r->bulk_pos < r->bulk_len) {
                int64_t room = RD_CAP - r->bulk_pos;
                int64_t payload_left = r->bulk_len - r->bulk_pos;
                int64_t k = (int64_t)take;
                if (k > room) k = room;
                if (k > payload_left) k = payload_left;
                memcpy(r->f.cap[r->cap_idx] + r->bulk_pos, p, (size_t)k);
                r->f.clen[r->cap_idx] = (uint8_t)(r->bulk_pos + k);
            }
            r->bulk_pos += (int64_t)take;
            r->bulk_left -= (int64_t)take;
            p += take;
            n -= take;
            if (r->bulk_left == 0) {
                r->state = RD_HEADER;
                element_done(r, ctx, fn);
            }
            continue;
        }
        const char *nl = memchr(p, '\n', n);
        if (nl == NULL) {
            size_t room = RD_LINE - r->line_len;
            size_t k = n < room ? n : room;
            memcpy(r->line + r->line_len, p, k);
            r->line_len = (uint8_t)(r->line_len + k);
            if (k < n) r->line_trunc = true;
            return;
        }
        size_t seg = (size_t)(nl - p);
        const char *line = p;
        size_t len = seg;
        if (r->line_len > 0 || r->line_trunc) {
            size_t room = RD_LINE - r->line_len;
            size_t k = seg < room ? seg : room;
            memcpy(r->line + r->line_len, p, k);
            line = r->line;
            len = r->line_len + k;
        }
        if (len > 0 && line[len - 1] == '\r') len--;
        p = nl + 1;
        n -= seg + 1;
        r->line_len = 0;
        r->line_trunc = false;
        header_line(r, ctx, fn, line, len);
    }
}


void reader_init(reader *r) {
    memset(r, 0, sizeof *r);
    r->cap_idx = -1;
}

bool rframe_is(const rframe *f, int i, const char *word) {
    size_t n = strlen(word);
    return f->blen[i] == (int64_t)n && f->clen[i] == n && memcmp(f->cap[i], word, n) == 0;
}
