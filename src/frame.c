/* frame.c -- Encode once, share everywhere: a published message becomes one
 * frame per wire form, and every subscriber's output queue holds a reference
 * instead of a copy. Frames are immutable once shared, so no locking or
 * copy-on-write is ever needed (and the server has one thread anyway). */
#include "frame.h"

#include "mem.h"

static size_t live_count, live_bytes;

frame *frame_new(size_t len) {
    frame *f = mem_alloc(sizeof(frame) + len);
    f->refcount = 1;
    f->len = len;
    live_count++;
    live_bytes += len;
    return f;
}

void frame_retain(frame *f) {
    f->refcount++;
}

void frame_release(frame *f) {
    if (!f) return;
    if (--f->refcount > 0) return;
    live_count--;
    live_bytes -= f->len;
    mem_free(f);
}

void frame_stats(size_t *count, size_t *bytes) {
    *count = live_count;
    *bytes = live_bytes;
}
