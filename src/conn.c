/* conn.c -- The output queue shared by clients and upstream links, and the
 * socket seam's error text.
 *
 *   [ring: frame ref | frame ref | ...] + reply  --writev-->  socket
 *
 * A queued frame is a reference (one pointer in a power-of-two ring, no
 * copy); small frames and replies are bytes in `reply`, written after the
 * ring. Before a reference is queued, what sits in reply becomes a frame of
 * its own, so bytes leave in the order they were added. `sent` counts the
 * bytes of the head already written: of the ring's first frame, or of reply
 * when the ring is empty. The caller decides when to write (before the loop
 * sleeps, or when the socket is writable) and what an error means. */
#include "conn.h"

#include <errno.h>
#include <string.h>

#include "frame.h"
#include "mem.h"

#define CONN_IOV_MAX 256
#define CONN_REPLY_KEEP 16384        /* reply buffer kept after a drain, bytes */
#define CONN_RING_MIN 8              /* first ring size, a power of two */
#define CONN_RING_KEEP 64            /* empty rings up to this stay */

const char *conn_strerror(const tls_conn *tls) {
    return tls ? tls_last_error(tls) : strerror(errno);
}

static frame *ring_at(const conn_out *o, uint32_t i) {
    return o->ring[(o->first + i) & (o->cap - 1)];
}

/* Appends an owned reference to the ring, growing it by doubling. */
static void ring_push(conn_out *o, frame *f) {
    if (o->count == o->cap) {
        uint32_t cap = o->cap ? o->cap * 2 : CONN_RING_MIN;
        frame **ring = mem_alloc(sizeof(*ring) * cap);
        for (uint32_t i = 0; i < o->count; i++) ring[i] = ring_at(o, i);
        mem_free(o->ring);
        o->ring = ring;
        o->cap = cap;
        o->first = 0;
    }
    o->ring[(o->first + o->count) & (o->cap - 1)] = f;
    o->count++;
}

void conn_out_add_frame(conn_out *o, frame *f) {
    if (f->len <= CONN_FRAME_COPY_MAX) {
        buf_append(&o->reply, f->data, f->len);
        return;
    }
    if (o->reply.len > 0) {
        /* Keep order: what is in reply goes before the frame, as a frame of
         * its own (a copy, but only of small messages and replies, and only
         * when large and small ones mix). */
        bool was_head = o->count == 0;
        frame *rf = frame_new(o->reply.len);
        memcpy(rf->data, o->reply.data, o->reply.len);
        ring_push(o, rf);
        /* A partly written reply becomes the head: sent carries over. */
        o->bytes += rf->len - (was_head ? o->sent : 0);
        o->reply.len = 0;
    }
    frame_retain(f);
    ring_push(o, f);
    o->bytes += f->len;
}

/* Drops n written bytes from the front of the output. */
static void advance(conn_out *o, size_t n) {
    while (n > 0 && o->count) {
        frame *h = ring_at(o, 0);
        size_t left = h->len - o->sent;
        if (n < left) {
            o->sent += n;
            o->bytes -= n;
            return;
        }
        n -= left;
        o->bytes -= left;
        o->sent = 0;
        o->first = (o->first + 1) & (o->cap - 1);
        o->count--;
        frame_release(h);
    }
    if (o->count == 0 && o->cap > CONN_RING_KEEP) {
        /* A backlog drained: give the big ring back. */
        mem_free(o->ring);
        o->ring = NULL;
        o->cap = o->first = 0;
    }
    if (n > 0) {
        /* The rest comes from reply; sent indexes into it. */
        o->sent += n;
        if (o->sent == o->reply.len) {
            o->reply.len = 0;
            o->sent = 0;
            if (o->reply.cap > CONN_REPLY_KEEP) buf_free(&o->reply);
        }
    }
}

ssize_t conn_out_write(conn_out *o, int fd, tls_conn *tls, size_t max_bytes) {
    size_t total = 0;
    while (total < max_bytes) {
        struct iovec iov[CONN_IOV_MAX];
        int cnt = 0;
        size_t off = o->sent;
        uint32_t queued = o->count < CONN_IOV_MAX ? o->count : CONN_IOV_MAX;
        for (uint32_t i = 0; i < queued; i++) {
            frame *f = ring_at(o, i);
            iov[cnt].iov_base = f->data + off;
            iov[cnt].iov_len = f->len - off;
            cnt++;
            off = 0;
        }
        if (cnt < CONN_IOV_MAX && o->reply.len > 0) {
            size_t roff = o->count ? 0 : o->sent;
            iov[cnt].iov_base = o->reply.data + roff;
            iov[cnt].iov_len = o->reply.len - roff;
            cnt++;
        }
        if (cnt == 0) break;
        ssize_t w = conn_writev(fd, tls, iov, cnt);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            return -1;
        }
        total += (size_t)w;
        advance(o, (size_t)w);
    }
    return (ssize_t)total;
}

void conn_out_free(conn_out *o) {
    for (uint32_t i = 0; i < o->count; i++) frame_release(ring_at(o, i));
    mem_free(o->ring);
    o->ring = NULL;
    o->cap = o->first = o->count = 0;
    o->bytes = 0;
    o->sent = 0;
    buf_free(&o->reply);
}

void conn_out_trim(conn_out *o) {
    if (conn_out_has_output(o)) return;
    if (o->reply.cap > 0) buf_free(&o->reply);
    if (o->cap > 0) conn_out_free(o);
}

size_t conn_out_memory(const conn_out *o) {
    return o->reply.cap + o->cap * sizeof(frame *);
}
