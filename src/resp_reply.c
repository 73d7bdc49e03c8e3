/* resp_reply.c -- Incremental reader of RESP2/RESP3 replies from a Redis
 * server (upstream links in relay mode). It never touches a socket: the link
 * feeds what it read with rreader_feed() and calls rreader_next() until it
 * stops returning RREADER_OK. Replies are built only once they are complete,
 * each in one allocation: nodes, then child pointer arrays, then the string
 * bytes, so a message push costs one malloc and one copy of its payload.
 *
 * Two passes per reply, neither repeated:
 *
 *   bytes -> scan (resumable) -> complete? -> build (one pass) -> rreply
 *
 * The scan walks headers and validates everything, counting the nodes and
 * string bytes the reply will need; it keeps a stack of open aggregates and
 * its offset, so a later call resumes where the last one stopped instead of
 * rescanning (an incomplete bulk costs one header re-read, not a look at
 * its payload). The build pass then trusts the bytes: they were checked.
 *
 * Strictness is ours, chosen for a link to a real Redis: lines end in CRLF,
 * bulk data is followed by CRLF, numbers are canonical decimals (no '+', no
 * leading zeros), verbatim strings carry a 3-byte format and ':', streamed
 * RESP3 aggregates ('?' lengths) are refused. Attributes are validated and
 * dropped. Limits: max_bulk_len for bulk and simple-line lengths,
 * max_elements per aggregate, RREADER_MAX_DEPTH nesting.
 *
 * Buffer: consumed bytes are dropped by moving the rest down when at least
 * as many bytes were consumed as remain (amortised O(1) per byte), and a
 * buffer over RREADER_KEEP_BYTES is given back once drained, so a long
 * stream does not grow it. */
#include "resp_reply.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "util.h"

#define RREADER_MIN_BYTES (16 * 1024)
#define RREADER_KEEP_BYTES (1024 * 1024)
#define RREADER_HINT_BYTES (16 * 1024 * 1024)
#define HEADER_MAX_LEN 32   /* length/count/number lines; any valid one fits */
#define DOUBLE_MAX_LEN 128
#define SCAN_WAIT 2         /* scan_bulk(): its data is not all in yet */

#define E_BULK "Protocol error: invalid bulk length"
#define E_BULK_BIG "Protocol error: bulk length over limit"
#define E_MBULK "Protocol error: invalid multibulk length"
#define E_MBULK_BIG "Protocol error: aggregate length over limit"
#define E_DEPTH "Protocol error: nesting deeper than 64"
#define E_CRLF "Protocol error: bulk data not followed by CRLF"
#define E_EOL "Protocol error: line not ended by CRLF"
#define E_LINE_BIG "Protocol error: line longer than the bulk limit"
#define E_INT "Protocol error: invalid integer"
#define E_DOUBLE "Protocol error: invalid double"
#define E_BOOL "Protocol error: invalid boolean"
#define E_NULL "Protocol error: invalid null"
#define E_BIGNUM "Protocol error: invalid big number"
#define E_VERBATIM "Protocol error: invalid verbatim string"

typedef struct frame {
    long long left;   /* elements still to read */
    bool attr;        /* an attribute: its end is not a value of the parent */
} frame;

struct rreader {
    char *buf;                 /* owned; bytes [pos, len) are unread */
    size_t len;                /* bytes used */
    size_t cap;                /* bytes allocated */
    size_t pos;                /* start of the reply being scanned */
    /* Scan state of the current reply; offsets are relative to pos. */
    size_t scan;               /* next header to read */
    size_t line;               /* where the '\r' search resumes (0: header start) */
    size_t want;               /* bytes the reply needs, when a bulk waits */
    int depth;                 /* open frames */
    int attrs;                 /* open attribute frames among them */
    size_t nodes;              /* rreply nodes the reply will hold */
    size_t str_bytes;          /* string bytes, NULs included */
    frame stack[RREADER_MAX_DEPTH];
    long long max_bulk_len;
    long long max_elements;
    bool failed;               /* sticky */
    char err[128];
};

/* ========================================================================
 * Replies
 * ======================================================================== */

void rreply_free(rreply *r) {
    mem_free(r);
}

bool rreply_is_named(const rreply *r, const char *name) {
    if (r == NULL || (r->type != RREPLY_ARRAY && r->type != RREPLY_PUSH)) return false;
    if (r->elements == 0) return false;
    const rreply *first = r->element[0];
    if (first->type != RREPLY_STRING && first->type != RREPLY_STATUS) return false;
    return util_eq_nocase(first->str, first->len, name);
}

/* ========================================================================
 * Reader lifecycle and buffer
 * ======================================================================== */

rreader *rreader_new(long long max_bulk_len, long long max_elements) {
    rreader *r = mem_calloc(sizeof(*r));
    r->max_bulk_len = max_bulk_len < 0 ? 0 : max_bulk_len;
    r->max_elements = max_elements < 0 ? 0 : max_elements;
    return r;
}

void rreader_free(rreader *r) {
    if (r == NULL) return;
    mem_free(r->buf);
    mem_free(r);
}

const char *rreader_error(const rreader *r) {
    return r->failed ? r->err : NULL;
}

size_t rreader_buffered(const rreader *r) {
    return r->len - r->pos;
}

void rreader_feed(rreader *r, const char *p, size_t len) {
    if (len == 0 || r->failed) return;
    if (r->pos == r->len) {
        r->pos = r->len = 0;
    } else if (r->pos > 0 && (r->pos >= r->len - r->pos || r->cap - r->len < len)) {
        /* Moving no more than was consumed keeps this O(1) per byte. */
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->cap - r->len < len) {
        /* A waiting bulk says how much the reply needs: grow once for it,
         * but no more than RREADER_HINT_BYTES ahead of the bytes we have,
         * so a header alone cannot make us allocate max_bulk_len. */
        size_t need = r->len + len;
        size_t hint = r->pos + r->want;
        if (hint > need + RREADER_HINT_BYTES) hint = need + RREADER_HINT_BYTES;
        if (hint > need) need = hint;
        size_t cap = r->cap ? r->cap * 2 : RREADER_MIN_BYTES;
        if (cap < need) cap = need;
        r->buf = mem_realloc(r->buf, cap);
        r->cap = cap;
    }
    memcpy(r->buf + r->len, p, len);
    r->len += len;
}

static int fail(rreader *r, const char *msg) {
    r->failed = true;
    snprintf(r->err, sizeof(r->err), "%s", msg);
    return RREADER_ERR;
}

static int fail_type(rreader *r, unsigned char c) {
    r->failed = true;
    if (isgraph(c) && c != '\'')
        snprintf(r->err, sizeof(r->err), "Protocol error: invalid reply type byte '%c'", c);
    else
        snprintf(r->err, sizeof(r->err), "Protocol error: invalid reply type byte \\x%02x", c);
    return RREADER_ERR;
}

/* ========================================================================
 * Scan: validate and size the current reply, resumably
 * ======================================================================== */

/* Longest line body accepted after type byte t, and the error beyond it. */
static size_t line_limit(const rreader *r, char t, const char **err) {
    switch (t) {
    case '$': case '=': case '!': *err = E_BULK; return HEADER_MAX_LEN;
    case '*': case '%': case '~': case '>': case '|': *err = E_MBULK; return HEADER_MAX_LEN;
    case ':': *err = E_INT; return HEADER_MAX_LEN;
    case '#': *err = E_BOOL; return HEADER_MAX_LEN;
    case '_': *err = E_NULL; return HEADER_MAX_LEN;
    case ',': *err = E_DOUBLE; return DOUBLE_MAX_LEN;
    default: *err = E_LINE_BIG; return (size_t)r->max_bulk_len;
    }
}

static bool valid_double(const char *s, size_t n) {
    if (n == 0 || n > DOUBLE_MAX_LEN || isspace((unsigned char)s[0])) return false;
    char tmp[DOUBLE_MAX_LEN + 1];
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    (void)strtod(tmp, &end);
    return end == tmp + n;
}

static bool valid_bignum(const char *s, size_t n) {
    size_t i = (n > 0 && s[0] == '-') ? 1 : 0;
    if (i == n) return false;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

/* Counts a leaf about to be materialised (nothing inside attributes is). */
static void count_leaf(rreader *r, size_t str_len, bool has_str) {
    if (r->attrs > 0) return;
    r->nodes++;
    if (has_str) r->str_bytes += str_len + 1;
}

/* A value (not an attribute) just ended: closes the aggregates it completes.
 * Returns true when that finishes the top-level reply. */
static bool value_done(rreader *r) {
    while (r->depth > 0) {
        frame *f = &r->stack[r->depth - 1];
        if (--f->left > 0) return false;
        r->depth--;
        if (f->attr) {
            /* The value it annotates is still to come. */
            r->attrs--;
            return false;
        }
    }
    return true;
}

/* Handles an aggregate header with body s[0..n). Returns RREADER_OK when
 * the reply is complete, RREADER_INCOMPLETE to keep scanning, or ERR. */
static int scan_aggregate(rreader *r, char t, const char *s, size_t n) {
    long long count;
    if (!util_parse_ll(s, n, &count)) return fail(r, E_MBULK);
    if (count == -1 && t == '*') {
        count_leaf(r, 0, false);
        return value_done(r) ? RREADER_OK : RREADER_INCOMPLETE;
    }
    if (count < 0) return fail(r, E_MBULK);
    bool pairs = t == '%' || t == '|';
    if (count > (pairs ? r->max_elements / 2 : r->max_elements)) return fail(r, E_MBULK_BIG);
    if (r->depth == RREADER_MAX_DEPTH) return fail(r, E_DEPTH);
    long long elements = pairs ? count * 2 : count;
    bool attr = t == '|';
    if (!attr) count_leaf(r, 0, false);
    if (elements == 0) {
        if (attr) return RREADER_INCOMPLETE;
        return value_done(r) ? RREADER_OK : RREADER_INCOMPLETE;
    }
    r->stack[r->depth].left = elements;
    r->stack[r->depth].attr = attr;
    r->depth++;
    if (attr) r->attrs++;
    return RREADER_INCOMPLETE;
}

/* Handles a bulk header ($ = !) whose line ends at base + next; returns
 * SCAN_WAIT while its data is incomplete. */
static int scan_bulk(rreader *r, const char *base, size_t avail, char t, const char *s,
                     size_t n, size_t next) {
    long long blen;
    if (!util_parse_ll(s, n, &blen)) return fail(r, E_BULK);
    if (blen == -1 && t == '$') {
        count_leaf(r, 0, false);
        r->scan = next;
        return value_done(r) ? RREADER_OK : RREADER_INCOMPLETE;
    }
    if (blen < 0) return fail(r, E_BULK);
    if (blen > r->max_bulk_len) return fail(r, E_BULK_BIG);
    size_t end = next + (size_t)blen;
    if (end + 2 > avail) {
        /* Re-read this header next time; tell feed how big to grow. */
        r->want = end + 2;
        r->line = 0;
        return SCAN_WAIT;
    }
    if (base[end] != '\r' || base[end + 1] != '\n') return fail(r, E_CRLF);
    if (t == '=' && (blen < 4 || base[next + 3] != ':')) return fail(r, E_VERBATIM);
    count_leaf(r, (size_t)blen, true);
    r->want = 0;
    r->scan = end + 2;
    return value_done(r) ? RREADER_OK : RREADER_INCOMPLETE;
}

/* Handles a one-line value (+ - : , # _ ( ) with body s[0..n). */
static int scan_simple(rreader *r, char t, const char *s, size_t n) {
    long long v;
    switch (t) {
    case ':': if (!util_parse_ll(s, n, &v)) return fail(r, E_INT); break;
    case ',': if (!valid_double(s, n)) return fail(r, E_DOUBLE); break;
    case '#': if (n != 1 || (s[0] != 't' && s[0] != 'f')) return fail(r, E_BOOL); break;
    case '_': if (n != 0) return fail(r, E_NULL); break;
    case '(': if (!valid_bignum(s, n)) return fail(r, E_BIGNUM); break;
    default: break;
    }
    count_leaf(r, n, t == '+' || t == '-' || t == ',' || t == '(');
    return value_done(r) ? RREADER_OK : RREADER_INCOMPLETE;
}

static bool is_type_byte(char t) {
    switch (t) {
    case '+': case '-': case ':': case '$': case '*': case '_': case ',': case '#':
    case '!': case '=': case '(': case '%': case '~': case '>': case '|':
        return true;
    default:
        return false;
    }
}

/* Scans on from r->scan. Returns RREADER_OK once the reply is complete (it
 * spans [0, r->scan) from pos), RREADER_INCOMPLETE or RREADER_ERR. */
static int scan_reply(rreader *r) {
    const char *base = r->buf + r->pos;
    size_t avail = r->len - r->pos;
    for (;;) {
        size_t at = r->scan;
        if (at >= avail) return RREADER_INCOMPLETE;
        char t = base[at];
        if (!is_type_byte(t)) return fail_type(r, (unsigned char)t);
        const char *too_long;
        size_t limit = line_limit(r, t, &too_long);
        size_t from = r->line > at + 1 ? r->line : at + 1;
        const char *cr = from < avail ? memchr(base + from, '\r', avail - from) : NULL;
        if (cr == NULL) {
            /* The body is at least this long: refuse it now if that is too long. */
            if (avail - (at + 1) > limit) return fail(r, too_long);
            r->line = avail;
            return RREADER_INCOMPLETE;
        }
        size_t crpos = (size_t)(cr - base);
        const char *s = base + at + 1;
        size_t n = crpos - (at + 1);
        if (n > limit) return fail(r, too_long);
        if (crpos + 1 >= avail) {
            r->line = crpos;
            return RREADER_INCOMPLETE;
        }
        if (base[crpos + 1] != '\n') return fail(r, E_EOL);
        size_t next = crpos + 2;
        r->line = 0;
        int rc;
        switch (t) {
        case '$': case '=': case '!':
            rc = scan_bulk(r, base, avail, t, s, n, next);
            if (rc == SCAN_WAIT) return RREADER_INCOMPLETE;
            break;
        case '*': case '%': case '~': case '>': case '|':
            r->scan = next;
            rc = scan_aggregate(r, t, s, n);
            break;
        default:
            r->scan = next;
            rc = scan_simple(r, t, s, n);
            break;
        }
        if (rc != RREADER_INCOMPLETE) return rc;
    }
}

/* ========================================================================
 * Build: one pass over a complete, validated reply
 * ======================================================================== */

typedef struct builder {
    const char *in;           /* borrowed: the reply's bytes */
    size_t off;               /* next header */
    size_t end;               /* bytes in the reply */
    rreply *nodes;            /* borrowed: arena slots */
    size_t next_node;
    rreply **ptrs;
    size_t next_ptr;
    char *strs;
    size_t next_str;
} builder;

/* Reads the header at b->off: its type, body and the offset after it. */
static char read_line(builder *b, const char **s, size_t *n) {
    char t = b->in[b->off];
    const char *body = b->in + b->off + 1;
    const char *cr = memchr(body, '\r', b->end - b->off - 1);
    *s = body;
    *n = (size_t)(cr - body);
    b->off = (size_t)(cr - b->in) + 2;
    return t;
}

static long long line_ll(const char *s, size_t n) {
    long long v = 0;
    if (!util_parse_ll(s, n, &v)) abort(); /* validated by the scan */
    return v;
}

static const char *copy_str(builder *b, const char *s, size_t n) {
    char *dst = b->strs + b->next_str;
    if (n) memcpy(dst, s, n);
    dst[n] = '\0';
    b->next_str += n + 1;
    return dst;
}

/* Builds the value at b->off (after any attributes, which are skipped);
 * with keep false nothing is stored and NULL is returned. */
static rreply *build_value(builder *b, bool keep) {
    const char *s;
    size_t n;
    char t = read_line(b, &s, &n);
    while (t == '|') {
        long long pairs = line_ll(s, n);
        for (long long i = 0; i < pairs * 2; i++) build_value(b, false);
        t = read_line(b, &s, &n);
    }
    rreply *node = NULL;
    if (keep) {
        node = &b->nodes[b->next_node++];
        memset(node, 0, sizeof(*node));
    }
    rreply_type type = RREPLY_NIL;
    const char *str = NULL;
    size_t len = 0;
    long long count = 0;
    switch (t) {
    case '+': type = RREPLY_STATUS; str = s; len = n; break;
    case '-': type = RREPLY_ERROR; str = s; len = n; break;
    case ',': type = RREPLY_DOUBLE; str = s; len = n; break;
    case '(': type = RREPLY_BIGNUM; str = s; len = n; break;
    case ':': type = RREPLY_INT; count = line_ll(s, n); break;
    case '#': type = RREPLY_BOOL; count = s[0] == 't'; break;
    case '_': type = RREPLY_NIL; break;
    case '$': case '=': case '!':
        count = line_ll(s, n);
        if (count == -1) break;
        type = t == '!' ? RREPLY_ERROR : RREPLY_STRING;
        str = b->in + b->off;
        len = (size_t)count;
        b->off += len + 2;
        count = 0;
        break;
    default: /* * % ~ > */
        count = line_ll(s, n);
        if (count == -1) break;
        type = t == '*' ? RREPLY_ARRAY : t == '%' ? RREPLY_MAP
             : t == '~' ? RREPLY_SET : RREPLY_PUSH;
        if (t == '%') count *= 2;
        break;
    }
    if (!keep) {
        if (type >= RREPLY_ARRAY)
            for (long long i = 0; i < count; i++) build_value(b, false);
        return NULL;
    }
    node->type = type;
    if (type == RREPLY_INT || type == RREPLY_BOOL) node->integer = count;
    if (str) {
        node->str = copy_str(b, str, len);
        node->len = len;
    }
    if (type >= RREPLY_ARRAY) { /* the aggregates close the enum */
        node->elements = (size_t)count;
        node->element = count ? b->ptrs + b->next_ptr : NULL;
        b->next_ptr += (size_t)count;
        for (size_t i = 0; i < node->elements; i++) node->element[i] = build_value(b, true);
    }
    return node;
}

/* Builds the reply the scan found complete, in one allocation. */
static rreply *build_reply(const rreader *r) {
    size_t nodes_bytes = r->nodes * sizeof(rreply);
    size_t ptrs_bytes = (r->nodes - 1) * sizeof(rreply *);
    char *block = mem_alloc(nodes_bytes + ptrs_bytes + r->str_bytes);
    builder b = {
        .in = r->buf + r->pos, .off = 0, .end = r->scan,
        .nodes = (rreply *)(void *)block,
        .ptrs = (rreply **)(void *)(block + nodes_bytes),
        .strs = block + nodes_bytes + ptrs_bytes,
    };
    rreply *root = build_value(&b, true);
    if (b.off != r->scan || b.next_node != r->nodes || b.next_ptr != r->nodes - 1 ||
        b.next_str != r->str_bytes)
        abort(); /* the scan and the build disagree: a bug here */
    return root;
}

int rreader_next(rreader *r, rreply **out) {
    *out = NULL;
    if (r->failed) return RREADER_ERR;
    int rc = scan_reply(r);
    if (rc != RREADER_OK) return rc;
    *out = build_reply(r);
    r->pos += r->scan;
    r->scan = r->line = r->want = 0;
    r->nodes = r->str_bytes = 0;
    if (r->pos == r->len) {
        r->pos = r->len = 0;
        if (r->cap > RREADER_KEEP_BYTES) {
            mem_free(r->buf);
            r->buf = NULL;
            r->cap = 0;
        }
    }
    return RREADER_OK;
}
