/* frame.h -- Immutable, reference-counted encoded messages, shared by the
 * output queues of every subscriber that receives them. */
#ifndef FRAME_H
#define FRAME_H

#include <stddef.h>

typedef struct frame {
    unsigned refcount;      /* holders; freed when it drops to zero */
    size_t len;             /* bytes in data */
    char data[];            /* the encoded RESP bytes */
} frame;

/* Returns an owned frame of len bytes (refcount 1) for the caller to fill
 * before sharing it; after the first frame_retain it must not change. */
frame *frame_new(size_t len);
void frame_retain(frame *f);
/* Drops one reference; frees the frame with the last one. NULL is a no-op. */
void frame_release(frame *f);
/* Live frames and their bytes, for INFO. */
void frame_stats(size_t *count, size_t *bytes);

#endif
