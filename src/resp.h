/* resp.h -- Incremental RESP request parser and reply encoders. */
#ifndef RESP_H
#define RESP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* ---- Parser outcomes and limits ---------------------------------------- */

#define RESP_OK 0         /* one complete command parsed */
#define RESP_INCOMPLETE 1 /* need more bytes; state kept */
#define RESP_ERR 2        /* protocol error; p->err says which; sticky */

#define RESP_DEFAULT_MAX_BULK_LEN (512LL * 1024 * 1024) /* proto-max-bulk-len */
#define RESP_MAX_INLINE_LEN (64 * 1024)   /* bytes pending without a line end */
#define RESP_MAX_MULTIBULK 2147483647LL   /* INT_MAX, as Redis */
#define RESP_UNAUTH_MAX_MULTIBULK 10      /* before AUTH */
#define RESP_UNAUTH_MAX_BULK 16384        /* bytes, before AUTH */
#define RESP_ARGV_PREALLOC_MAX 1024       /* argv entries reserved up front */

/* Protocol error texts (Redis's wording; the reply is "-ERR " text). The
 * "expected '$', got 'X'" error is formatted into the parser itself. */
#define RESP_ERR_INLINE_TOO_BIG "Protocol error: too big inline request"
#define RESP_ERR_UNBALANCED "Protocol error: unbalanced quotes in request"
#define RESP_ERR_MBULK_TOO_BIG "Protocol error: too big mbulk count string"
#define RESP_ERR_MBULK_INVALID "Protocol error: invalid multibulk length"
#define RESP_ERR_MBULK_UNAUTH "Protocol error: unauthenticated multibulk length"
#define RESP_ERR_BULK_TOO_BIG "Protocol error: too big bulk count string"
#define RESP_ERR_BULK_INVALID "Protocol error: invalid bulk length"
#define RESP_ERR_BULK_UNAUTH "Protocol error: unauthenticated bulk length"
#define RESP_ERR_BULK_CRLF "Protocol error: bulk data not followed by CRLF"

/* One argument: len bytes at offset off of the caller's query buffer. */
typedef struct resp_arg {
    size_t off;
    size_t len;
} resp_arg;

/* Public fields are the limits (set by the caller) and the result; the rest
 * is private parse state, all of it offsets, so the buffer may move. */
typedef struct resp_parser {
    long long max_bulk_len;   /* proto-max-bulk-len, bytes */
    bool unauthenticated;     /* apply the pre-AUTH limits */
    resp_arg *argv;           /* owned; argc entries valid after RESP_OK
                                 until the next resp_parse/resp_parser_shift */
    size_t argc;              /* arguments of the last command */
    size_t argv_cap;          /* entries allocated */
    bool inline_cmd;          /* the last command was inline */
    const char *err;          /* after RESP_ERR: static text, valid until the
                                 next error of any parser */
    /* Private. */
    size_t pos;               /* start of the command being parsed */
    size_t cur;               /* next unparsed byte of that command */
    size_t scan;              /* line-end search resumes here */
    size_t need;              /* bytes missing to finish the current bulk */
    long long mbulk_left;     /* bulks still expected in this command */
    long long bulk_len;       /* bytes of the current bulk, -1 if unread */
    int state;                /* idle, inline or multibulk */
    bool stalled;             /* a NUL hides the line end (Redis strchr) */
} resp_parser;

/* ---- Parser ------------------------------------------------------------ */

/* Initialises p: default limits, authenticated, no argv allocated yet. */
void resp_parser_init(resp_parser *p);
/* Releases argv; p may be initialised again. p == NULL is a no-op. */
void resp_parser_free(resp_parser *p);
/* Clears errors and parse state for a new stream; keeps limits and argv. */
void resp_parser_reset(resp_parser *p);

/* Parses one command from offset resp_parser_pos() of qb[0..len), the
 * caller's query buffer. Returns RESP_OK with argv/argc/inline_cmd set
 * (empty commands are skipped, never returned), RESP_INCOMPLETE when more
 * bytes are needed (progress is kept: call again with the same bytes plus
 * more, possibly at another address), or RESP_ERR with p->err set; errors
 * are sticky until resp_parser_reset(). Inline arguments are unquoted in
 * place, so bytes before the new resp_parser_pos() may change. */
int resp_parse(resp_parser *p, char *qb, size_t len);
/* Bytes at the start of qb consumed by completed (or skipped) commands. */
size_t resp_parser_pos(const resp_parser *p);
/* The caller dropped the first n (<= resp_parser_pos()) bytes of its buffer;
 * partial-command offsets are adjusted. The last RESP_OK's argv dies. */
void resp_parser_shift(resp_parser *p, size_t n);
/* After RESP_INCOMPLETE: bytes still needed to finish the bulk being read,
 * trailing CRLF included, or 0 if unknown; a hint for buf_reserve(). */
size_t resp_parser_wanted(const resp_parser *p);

/* ---- Reply encoders ---------------------------------------------------- */
/* proto is the client's protocol: 2 for RESP2, 3 (or more) for RESP3. */

/* "+s\r\n"; CR and LF in s become spaces. */
void resp_add_simple(buf *b, const char *s);
/* "-s\r\n"; s starts with its code ("ERR bad thing"); CR/LF become spaces. */
void resp_add_error(buf *b, const char *s);
/* ":v\r\n". */
void resp_add_int(buf *b, long long v);
/* "$len\r\n" then the len bytes at p, then "\r\n". */
void resp_add_bulk(buf *b, const void *p, size_t len);
/* resp_add_bulk() of a NUL-terminated string. */
void resp_add_bulk_str(buf *b, const char *s);
/* Null bulk: RESP2 "$-1\r\n", RESP3 "_\r\n". */
void resp_add_null(buf *b, int proto);
/* Null array: RESP2 "*-1\r\n", RESP3 "_\r\n". */
void resp_add_null_array(buf *b, int proto);
/* Aggregate headers; the caller then adds the n elements (2n for a map). */
void resp_add_array_len(buf *b, long long n);      /* "*n\r\n" */
void resp_add_map_len(buf *b, long long n, int proto);  /* "%n", RESP2 "*2n" */
void resp_add_set_len(buf *b, long long n, int proto);  /* "~n", RESP2 "*n" */
void resp_add_push_len(buf *b, long long n, int proto); /* ">n", RESP2 "*n" */
/* RESP3 ",v\r\n", RESP2 a bulk string; "%.17g", "inf", "-inf" as Redis 7.0. */
void resp_add_double(buf *b, double v, int proto);
/* RESP3 "#t\r\n"/"#f\r\n", RESP2 ":1\r\n"/":0\r\n". */
void resp_add_bool(buf *b, bool v, int proto);
/* RESP3 "=len+4\r\next:...\r\n" (ext3 is exactly 3 bytes, e.g. "txt"),
 * RESP2 a plain bulk string of the len bytes at p. */
void resp_add_verbatim(buf *b, const char *p, size_t len, const char *ext3,
                       int proto);

/* ---- Frame helpers ----------------------------------------------------- */

#define RESP_BULK_HEADER_MAX 24 /* "$" + 20 digits + "\r\n", rounded up */

/* Characters needed to print v in decimal, sign included. */
size_t resp_ll_len(long long v);
/* Writes "$len\r\n" to dst (RESP_BULK_HEADER_MAX bytes); returns its length. */
size_t resp_bulk_header(char *dst, size_t len);

#endif
