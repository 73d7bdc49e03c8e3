/* conn.h -- Connection I/O shared by client connections and upstream links:
 * the plain/TLS socket seam, and the output queue (shared frames by
 * reference, small bytes in a reply buffer) with its writev loop. Nothing
 * here knows what the bytes mean or who owns the socket. */
#ifndef CONN_H
#define CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "buf.h"
#include "tls.h"

typedef struct frame frame;

/* ---- The socket seam ----------------------------------------------------
 * read(2) and writev(2), or their TLS equivalents when tls is set; same
 * return conventions (errno EAGAIN, or EIO with conn_strerror() saying why). */

static inline ssize_t conn_read(int fd, tls_conn *tls, void *p, size_t len) {
    if (tls) return tls_read(tls, p, len);
    return read(fd, p, len);
}

static inline ssize_t conn_writev(int fd, tls_conn *tls, const struct iovec *iov, int cnt) {
    if (tls) return tls_writev(tls, iov, cnt);
    return writev(fd, iov, cnt);
}

/* Why the last conn_read/conn_writev failed (borrowed text). */
const char *conn_strerror(const tls_conn *tls);

/* ---- The output queue ----------------------------------------------------
 * Bytes leave in the order they were added. Frames above a size are queued
 * by reference (retained), smaller ones are copied into reply; whatever is
 * in reply when a reference is queued is turned into a frame of its own
 * first, so order holds. Zero-initialised is empty. */

typedef struct conn_out {
    frame **ring;                 /* owned: queued frame references, a ring of cap */
    uint32_t cap;                 /* slots, 0 or a power of two */
    uint32_t first;               /* slot of the oldest reference */
    uint32_t count;               /* references queued */
    buf reply;                    /* small bytes, written after the queue */
    size_t sent;                  /* bytes of the head (or of reply) already written */
    size_t bytes;                 /* pending bytes of the queue, shared frames counted in full */
} conn_out;

/* Frames up to this many bytes are copied rather than referenced. */
#define CONN_FRAME_COPY_MAX 512

/* Queues f: a reference (retained) if it is larger than CONN_FRAME_COPY_MAX,
 * else a copy. f stays the caller's. */
void conn_out_add_frame(conn_out *o, frame *f);
/* Pending bytes: the queue's plus reply's. */
static inline size_t conn_out_pending(const conn_out *o) {
    return o->bytes + o->reply.len;
}
static inline bool conn_out_has_output(const conn_out *o) {
    return o->count > 0 || o->reply.len > 0;
}
/* Writes what the socket takes, up to about max_bytes. Returns the bytes
 * written (0 included: the socket is full or there was nothing), or -1 on
 * an error (errno set; conn_strerror(tls) for the text). */
ssize_t conn_out_write(conn_out *o, int fd, tls_conn *tls, size_t max_bytes);
/* Drops everything queued and frees the buffers. */
void conn_out_free(conn_out *o);
/* Gives the buffers back if nothing is pending (idle connections). */
void conn_out_trim(conn_out *o);
/* Bytes held: buffers and the ring (frames counted by out->bytes). */
size_t conn_out_memory(const conn_out *o);

#endif
