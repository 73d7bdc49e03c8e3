/* resp_reply.h -- Incremental reader of RESP2/RESP3 replies (what a Redis
 * server sends), for upstream links. Bytes in with rreader_feed(), complete
 * replies out with rreader_next(); each reply is one owned allocation.
 * RESP3 attributes ('|') are read and discarded. */
#ifndef RESP_REPLY_H
#define RESP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

/* ------------------------------------------------------------------------
 * Replies
 * ------------------------------------------------------------------------ */

typedef enum {
    RREPLY_STATUS,   /* + */
    RREPLY_ERROR,    /* - and RESP3 blob error ! */
    RREPLY_INT,      /* : */
    RREPLY_STRING,   /* $ and = verbatim (the "txt:" prefix kept) */
    RREPLY_NIL,      /* $-1, *-1, _ */
    RREPLY_DOUBLE,   /* , ; str holds the text */
    RREPLY_BOOL,     /* # ; integer 0/1 */
    RREPLY_BIGNUM,   /* ( ; str holds the digits */
    RREPLY_ARRAY,    /* * */
    RREPLY_MAP,      /* % ; elements = 2*pairs, k,v,k,v */
    RREPLY_SET,      /* ~ */
    RREPLY_PUSH      /* > */
} rreply_type;

typedef struct rreply {
    rreply_type type;
    long long integer;        /* INT, BOOL */
    const char *str;          /* STATUS, ERROR, STRING, DOUBLE, BIGNUM: bytes, NUL-terminated too; owned by the reply */
    size_t len;               /* bytes at str, without the NUL */
    size_t elements;          /* aggregates */
    struct rreply **element;  /* owned by the reply */
} rreply;

/* Frees a reply returned by rreader_next(), with everything inside it; NULL
 * is a no-op. Only a top-level reply may be freed: its children live in the
 * same allocation. */
void rreply_free(rreply *r);

/* True if r is an aggregate (ARRAY or PUSH) whose first element is a
 * STRING or STATUS equal, case-insensitively, to name. */
bool rreply_is_named(const rreply *r, const char *name);

/* ------------------------------------------------------------------------
 * Reader
 * ------------------------------------------------------------------------ */

typedef struct rreader rreader;

#define RREADER_OK 0
#define RREADER_INCOMPLETE 1
#define RREADER_ERR -1

/* Deepest aggregate nesting accepted (attributes count as a level). */
#define RREADER_MAX_DEPTH 64

/* Returns an owned reader. A bulk, status, error or big number longer than
 * max_bulk_len bytes, or an aggregate of more than max_elements elements (a
 * map of n pairs has 2n), is a protocol error; so is a double over 128
 * bytes or a length/integer line over 32. */
rreader *rreader_new(long long max_bulk_len, long long max_elements);
/* Frees the reader and any bytes not yet read; NULL is a no-op. */
void rreader_free(rreader *r);
/* Appends a copy of the len bytes at p (borrowed). */
void rreader_feed(rreader *r, const char *p, size_t len);
/* Reads the next complete reply: RREADER_OK with *out set (owned, free with
 * rreply_free), RREADER_INCOMPLETE (*out NULL: feed more), or RREADER_ERR
 * (*out NULL). The error is sticky: every later call returns it, and
 * rreader_error() says why ("Protocol error: ..."). */
int rreader_next(rreader *r, rreply **out);
/* The error text after RREADER_ERR; NULL while there is none. */
const char *rreader_error(const rreader *r);
/* Bytes fed but not yet returned as replies. */
size_t rreader_buffered(const rreader *r);

#endif
