/* resp.c -- Incremental parser for RESP requests, and reply encoders.
 * The parser never touches a socket: client.c appends bytes to the query
 * buffer and calls resp_parse() until it stops returning RESP_OK. Arguments
 * are offsets into that buffer, valid until the command is consumed. After
 * RESP_ERR the caller sends the error and closes. Limits: RESP_MAX_*.
 *
 * Behaviour follows Redis 7.0 byte for byte, quirks included: a length line
 * is found by its '\r' and the byte after it is skipped unchecked; a NUL
 * before the line end hides that end, as strchr() does in Redis, so such a
 * line waits until the 64 KiB limit trips. One rule is ours: bulk data must
 * be followed by "\r\n" (Redis skips those two bytes unchecked).
 *
 * Data flow: bytes -> resp_parse() -> argv offsets -> command dispatch; and
 * replies: handler -> resp_add_*() -> client output buffer. */
#include "resp.h"

#include <string.h>

#include "mem.h"
#include "util.h"

enum { STATE_IDLE, STATE_INLINE, STATE_MULTIBULK };

/* ========================================================================
 * Parser helpers
 * ======================================================================== */

static int fail(resp_parser *p, const char *err) {
    p->err = err;
    return RESP_ERR;
}

static void argv_reserve(resp_parser *p, size_t want) {
    if (want <= p->argv_cap) return;
    size_t cap = p->argv_cap ? p->argv_cap : 8;
    while (cap < want) cap *= 2;
    p->argv = mem_realloc(p->argv, cap * sizeof(*p->argv));
    p->argv_cap = cap;
}

static inline void argv_push(resp_parser *p, size_t off, size_t len) {
    if (p->argc == p->argv_cap) argv_reserve(p, p->argc + 1);
    p->argv[p->argc].off = off;
    p->argv[p->argc].len = len;
    p->argc++;
}

/* Marks the line starting at start as hidden by a NUL (Redis's strchr stops
 * there, so it never sees the line end) and applies the 64 KiB limit. */
static int stall(resp_parser *p, size_t start, size_t len, const char *too_big) {
    p->stalled = true;
    if (len - start > RESP_MAX_INLINE_LEN) return fail(p, too_big);
    return RESP_INCOMPLETE;
}

static bool has_nul(const char *qb, size_t from, size_t to) {
    return to > from && memchr(qb + from, '\0', to - from) != NULL;
}

/* Finds the '\r' ending the length line that starts at start, with one more
 * byte after it. Returns RESP_OK with *cr set, RESP_INCOMPLETE, or RESP_ERR
 * (too_big) once more than 64 KiB wait without a visible line end. */
static int find_cr(resp_parser *p, const char *qb, size_t len, size_t start,
                   const char *too_big, size_t *cr) {
    if (p->stalled) return stall(p, start, len, too_big);
    const char *hit = memchr(qb + p->scan, '\r', len - p->scan);
    if (hit == NULL) {
        p->scan = len;
        if (len - start > RESP_MAX_INLINE_LEN) return fail(p, too_big);
        return RESP_INCOMPLETE;
    }
    size_t at = (size_t)(hit - qb);
    p->scan = at;
    if (at + 1 >= len) {
        /* Redis waits for the byte after '\r', unless a NUL hides the '\r'. */
        if (has_nul(qb, start, at)) return stall(p, start, len, too_big);
        return RESP_INCOMPLETE;
    }
    *cr = at;
    return RESP_OK;
}

/* ========================================================================
 * Multibulk requests: *<count>\r\n then count times $<len>\r\n<data>\r\n
 * ======================================================================== */

static int parse_count(resp_parser *p, const char *qb, size_t len) {
    size_t cr;
    int rc = find_cr(p, qb, len, p->pos, RESP_ERR_MBULK_TOO_BIG, &cr);
    if (rc != RESP_OK) return rc;
    long long n;
    if (!util_parse_ll(qb + p->pos + 1, cr - p->pos - 1, &n)) {
        if (has_nul(qb, p->pos, cr))
            return stall(p, p->pos, len, RESP_ERR_MBULK_TOO_BIG);
        return fail(p, RESP_ERR_MBULK_INVALID);
    }
    if (n > RESP_MAX_MULTIBULK) return fail(p, RESP_ERR_MBULK_INVALID);
    if (n > RESP_UNAUTH_MAX_MULTIBULK && p->unauthenticated)
        return fail(p, RESP_ERR_MBULK_UNAUTH);
    p->cur = p->scan = cr + 2;
    p->mbulk_left = n;
    p->bulk_len = -1;
    /* A huge announced count must not allocate before its bytes arrive. */
    if (n > 0) argv_reserve(p, n < RESP_ARGV_PREALLOC_MAX ? (size_t)n
                                                          : RESP_ARGV_PREALLOC_MAX);
    return RESP_OK;
}

static int expected_dollar(resp_parser *p, unsigned char got) {
    /* One buffer for every parser: the error is read right after the
     * failing resp_parse() and a connection is closed after it, so no two
     * are in use at once; a per-parser copy would cost each client 48 bytes. */
    static char err_buf[48];
    static const char head[] = "Protocol error: expected '$', got '";
    size_t n = sizeof(head) - 1;
    memcpy(err_buf, head, n);
    /* Redis formats the byte raw with %c; its reply code turns CR/LF into
     * spaces. A NUL cannot get here: it would hide the line end. */
    err_buf[n++] = (got == '\r' || got == '\n') ? ' ' : (char)got;
    err_buf[n++] = '\'';
    err_buf[n] = '\0';
    return fail(p, err_buf);
}

static int parse_bulk_len(resp_parser *p, const char *qb, size_t len) {
    size_t cr, start = p->cur;
    int rc = find_cr(p, qb, len, start, RESP_ERR_BULK_TOO_BIG, &cr);
    if (rc != RESP_OK) return rc;
    long long n;
    bool ok = qb[start] == '$' &&
              util_parse_ll(qb + start + 1, cr - start - 1, &n);
    if (!ok) {
        if (has_nul(qb, start, cr))
            return stall(p, start, len, RESP_ERR_BULK_TOO_BIG);
        if (qb[start] != '$') return expected_dollar(p, (unsigned char)qb[start]);
        return fail(p, RESP_ERR_BULK_INVALID);
    }
    if (n < 0 || n > p->max_bulk_len) return fail(p, RESP_ERR_BULK_INVALID);
    if (n > RESP_UNAUTH_MAX_BULK && p->unauthenticated)
        return fail(p, RESP_ERR_BULK_UNAUTH);
    p->cur = cr + 2;
    p->bulk_len = n;
    return RESP_OK;
}

static int parse_multibulk(resp_parser *p, const char *qb, size_t len) {
    int rc;
    if (p->mbulk_left == 0) {
        if ((rc = parse_count(p, qb, len)) != RESP_OK) return rc;
        if (p->mbulk_left <= 0) return RESP_OK; /* empty: skipped */
    }
    while (p->mbulk_left > 0) {
        if (p->bulk_len < 0 && (rc = parse_bulk_len(p, qb, len)) != RESP_OK)
            return rc;
        unsigned long long want = (unsigned long long)p->bulk_len + 2;
        if (len - p->cur < want) {
            p->need = (size_t)(want - (len - p->cur));
            return RESP_INCOMPLETE;
        }
        size_t end = p->cur + (size_t)p->bulk_len;
        if (qb[end] != '\r' || qb[end + 1] != '\n')
            return fail(p, RESP_ERR_BULK_CRLF);
        argv_push(p, p->cur, (size_t)p->bulk_len);
        p->cur = p->scan = end + 2;
        p->bulk_len = -1;
        p->mbulk_left--;
    }
    return RESP_OK;
}

/* ========================================================================
 * Inline requests: one line, split like redis-cli input
 *
 * Words are separated by spaces, tabs, CR and LF; leading blanks also skip
 * \v and \f (C isspace). "double quotes" take \n \r \t \b \a \xHH and
 * \<any>; 'single quotes' take only \'. A closing quote must be followed by
 * a blank or the line end. Unquoting writes over the word's own bytes:
 * output never outruns input.
 * ======================================================================== */

static inline bool is_blank(unsigned char c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline int hex_val(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Splits qb[r..end) into argv; returns false on unbalanced quotes. */
static bool split_inline(resp_parser *p, char *qb, size_t r, size_t end) {
    /* Line bytes, with the end reading as NUL like the C string Redis uses. */
#define AT(i) ((i) < end ? (unsigned char)qb[i] : 0)
    for (;;) {
        while (r < end && is_blank((unsigned char)qb[r])) r++;
        if (r >= end) return true;
        size_t w = r, word = r;
        int quote = 0;
        for (;;) {
            if (r >= end) {
                if (quote) return false;
                break;
            }
            unsigned char c = (unsigned char)qb[r];
            if (quote == '"') {
                int hi, lo;
                if (c == '\\' && AT(r + 1) == 'x' && (hi = hex_val(AT(r + 2))) >= 0 &&
                    (lo = hex_val(AT(r + 3))) >= 0) {
                    qb[w++] = (char)(hi * 16 + lo);
                    r += 4;
                } else if (c == '\\' && AT(r + 1)) {
                    c = (unsigned char)qb[r + 1];
                    switch (c) {
                    case 'n': c = '\n'; break;
                    case 'r': c = '\r'; break;
                    case 't': c = '\t'; break;
                    case 'b': c = '\b'; break;
                    case 'a': c = '\a'; break;
                    default: break;
                    }
                    qb[w++] = (char)c;
                    r += 2;
                } else if (c == '"') {
                    if (AT(r + 1) && !is_blank(AT(r + 1))) return false;
                    r++;
                    break;
                } else {
                    qb[w++] = (char)c;
                    r++;
                }
            } else if (quote == '\'') {
                if (c == '\\' && AT(r + 1) == '\'') {
                    qb[w++] = '\'';
                    r += 2;
                } else if (c == '\'') {
                    if (AT(r + 1) && !is_blank(AT(r + 1))) return false;
                    r++;
                    break;
                } else {
                    qb[w++] = (char)c;
                    r++;
                }
            } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                r++;
                break;
            } else if (c == '"' || c == '\'') {
                quote = c;
                r++;
            } else {
                qb[w++] = (char)c;
                r++;
            }
        }
        argv_push(p, word, w - word);
    }
#undef AT
}

static int parse_inline(resp_parser *p, char *qb, size_t len) {
    const char *nl = p->stalled ? NULL : memchr(qb + p->scan, '\n', len - p->scan);
    if (nl == NULL) {
        p->scan = len;
        if (len - p->pos > RESP_MAX_INLINE_LEN) return fail(p, RESP_ERR_INLINE_TOO_BIG);
        return RESP_INCOMPLETE;
    }
    size_t at = (size_t)(nl - qb);
    if (has_nul(qb, p->pos, at)) return stall(p, p->pos, len, RESP_ERR_INLINE_TOO_BIG);
    size_t end = at;
    if (end > p->pos && qb[end - 1] == '\r') end--;
    if (!split_inline(p, qb, p->pos, end)) return fail(p, RESP_ERR_UNBALANCED);
    p->cur = at + 1;
    return RESP_OK;
}

/* ========================================================================
 * Parser API
 * ======================================================================== */

void resp_parser_init(resp_parser *p) {
    memset(p, 0, sizeof(*p));
    p->max_bulk_len = RESP_DEFAULT_MAX_BULK_LEN;
    p->bulk_len = -1;
}

void resp_parser_free(resp_parser *p) {
    if (p == NULL) return;
    mem_free(p->argv);
    p->argv = NULL;
    p->argc = p->argv_cap = 0;
}

void resp_parser_reset(resp_parser *p) {
    p->argc = 0;
    p->inline_cmd = false;
    p->err = NULL;
    p->pos = p->cur = p->scan = p->need = 0;
    p->mbulk_left = 0;
    p->bulk_len = -1;
    p->state = STATE_IDLE;
    p->stalled = false;
}

int resp_parse(resp_parser *p, char *qb, size_t len) {
    if (p->err) return RESP_ERR;
    p->need = 0;
    for (;;) {
        if (p->state == STATE_IDLE) {
            p->argc = 0;
            if (p->pos >= len) return RESP_INCOMPLETE;
            p->cur = p->scan = p->pos;
            p->mbulk_left = 0;
            p->bulk_len = -1;
            p->stalled = false;
            p->inline_cmd = qb[p->pos] != '*';
            p->state = p->inline_cmd ? STATE_INLINE : STATE_MULTIBULK;
        }
        int rc = p->state == STATE_INLINE ? parse_inline(p, qb, len)
                                          : parse_multibulk(p, qb, len);
        if (rc != RESP_OK) return rc;
        p->pos = p->cur;
        p->state = STATE_IDLE;
        if (p->argc > 0) return RESP_OK;
        /* An empty command (blank line, "*0", "*-1") is skipped silently. */
    }
}

size_t resp_parser_pos(const resp_parser *p) {
    return p->pos;
}

void resp_parser_shift(resp_parser *p, size_t n) {
    p->pos -= n;
    p->cur -= n;
    p->scan -= n;
    if (p->state == STATE_IDLE) {
        p->argc = 0;
        return;
    }
    for (size_t i = 0; i < p->argc; i++) p->argv[i].off -= n;
}

size_t resp_parser_wanted(const resp_parser *p) {
    return p->need;
}

/* ========================================================================
 * Reply encoders
 *
 * Each encoder reserves its worst case once and writes into the buffer
 * directly; integers are formatted by hand (this runs per reply).
 * ======================================================================== */

/* |v| without overflow, LLONG_MIN included. */
static inline unsigned long long magnitude(long long v) {
    return v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
}

size_t resp_ll_len(long long v) {
    unsigned long long u = magnitude(v);
    size_t n = v < 0 ? 2 : 1;
    while (u >= 10) {
        u /= 10;
        n++;
    }
    return n;
}

/* Writes the digits of u ending just before end; returns the first byte. */
static char *put_digits(char *end, unsigned long long u) {
    do {
        *--end = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    return end;
}

/* Writes "<prefix><v>\r\n" at dst; returns the bytes written. */
static size_t put_line(char *dst, char prefix, long long v) {
    char tmp[24];
    char *end = tmp + sizeof(tmp);
    *--end = '\n';
    *--end = '\r';
    char *s = put_digits(end, magnitude(v));
    if (v < 0) *--s = '-';
    *--s = prefix;
    size_t n = (size_t)(tmp + sizeof(tmp) - s);
    memcpy(dst, s, n);
    return n;
}

static void add_line(buf *b, char prefix, long long v) {
    buf_reserve(b, 24);
    b->len += put_line(b->data + b->len, prefix, v);
}

/* Appends prefix, s with CR/LF turned into spaces, and "\r\n". */
static void add_sanitized(buf *b, char prefix, const char *s) {
    size_t len = strlen(s);
    buf_reserve(b, len + 3);
    char *d = b->data + b->len;
    d[0] = prefix;
    memcpy(d + 1, s, len);
    for (size_t i = 1; i <= len; i++)
        if (d[i] == '\r' || d[i] == '\n') d[i] = ' ';
    d[len + 1] = '\r';
    d[len + 2] = '\n';
    b->len += len + 3;
}

void resp_add_simple(buf *b, const char *s) {
    add_sanitized(b, '+', s);
}

void resp_add_error(buf *b, const char *s) {
    add_sanitized(b, '-', s);
}

void resp_add_int(buf *b, long long v) {
    add_line(b, ':', v);
}

size_t resp_bulk_header(char *dst, size_t len) {
    char tmp[RESP_BULK_HEADER_MAX];
    char *end = tmp + sizeof(tmp);
    *--end = '\n';
    *--end = '\r';
    char *s = put_digits(end, len);
    *--s = '$';
    size_t n = (size_t)(tmp + sizeof(tmp) - s);
    memcpy(dst, s, n);
    return n;
}

void resp_add_bulk(buf *b, const void *p, size_t len) {
    buf_reserve(b, RESP_BULK_HEADER_MAX + len + 2);
    char *d = b->data + b->len;
    size_t n = resp_bulk_header(d, len);
    if (len) memcpy(d + n, p, len);
    d[n + len] = '\r';
    d[n + len + 1] = '\n';
    b->len += n + len + 2;
}

void resp_add_bulk_str(buf *b, const char *s) {
    resp_add_bulk(b, s, strlen(s));
}

void resp_add_null(buf *b, int proto) {
    if (proto >= 3) buf_append(b, "_\r\n", 3);
    else buf_append(b, "$-1\r\n", 5);
}

void resp_add_null_array(buf *b, int proto) {
    if (proto >= 3) buf_append(b, "_\r\n", 3);
    else buf_append(b, "*-1\r\n", 5);
}

void resp_add_array_len(buf *b, long long n) {
    add_line(b, '*', n);
}

void resp_add_map_len(buf *b, long long n, int proto) {
    if (proto >= 3) add_line(b, '%', n);
    else add_line(b, '*', n * 2);
}

void resp_add_set_len(buf *b, long long n, int proto) {
    add_line(b, proto >= 3 ? '~' : '*', n);
}

void resp_add_push_len(buf *b, long long n, int proto) {
    add_line(b, proto >= 3 ? '>' : '*', n);
}

void resp_add_double(buf *b, double v, int proto) {
    char d[64];
    size_t n = util_double_to_str(d, sizeof(d), v);
    if (proto >= 3) {
        buf_reserve(b, n + 3);
        char *o = b->data + b->len;
        o[0] = ',';
        memcpy(o + 1, d, n);
        o[n + 1] = '\r';
        o[n + 2] = '\n';
        b->len += n + 3;
    } else {
        resp_add_bulk(b, d, n);
    }
}

void resp_add_bool(buf *b, bool v, int proto) {
    if (proto >= 3) buf_append(b, v ? "#t\r\n" : "#f\r\n", 4);
    else buf_append(b, v ? ":1\r\n" : ":0\r\n", 4);
}

void resp_add_verbatim(buf *b, const char *p, size_t len, const char *ext3,
                       int proto) {
    if (proto < 3) {
        resp_add_bulk(b, p, len);
        return;
    }
    buf_reserve(b, RESP_BULK_HEADER_MAX + 4 + len + 2);
    char *d = b->data + b->len;
    size_t n = resp_bulk_header(d, len + 4);
    d[0] = '=';
    memcpy(d + n, ext3, 3);
    d[n + 3] = ':';
    if (len) memcpy(d + n + 4, p, len);
    d[n + 4 + len] = '\r';
    d[n + 5 + len] = '\n';
    b->len += n + len + 6;
}
