/* ev.c -- A single-threaded reactor: an fd-indexed table of handlers, a few
 * timers and a before-sleep hook, on top of ev_backend.h (epoll).
 *
 * One pass of the loop: run the before-sleep hook (the server flushes pending
 * replies there), wait for events until the nearest timer, dispatch readable
 * then writable for each fired fd, then run due timers. Timers live in an
 * unsorted list: the server keeps one or two, so a scan beats a heap.
 * Handlers may add or delete any fd during dispatch; a deleted fd whose event
 * is still in the fired array is skipped because its mask is rechecked. */
#include "ev.h"

#include <stddef.h>

#include "ev_backend.h"
#include "mem.h"
#include "util.h"

typedef struct ev_file {
    int mask;               /* EV_READABLE | EV_WRITABLE */
    ev_fd_fn *on_read;
    ev_fd_fn *on_write;
    void *data;             /* borrowed: owned by whoever registered it */
} ev_file;

typedef struct ev_timer {
    long long id;
    long long when_us;      /* monotonic deadline */
    ev_timer_fn *fn;
    void *data;
    struct ev_timer *next;
    bool deleted;
} ev_timer;

struct ev_loop {
    int setsize;
    ev_file *files;         /* owned; setsize entries */
    ev_fired *fired;        /* owned; setsize entries */
    ev_backend *backend;    /* owned */
    ev_timer *timers;       /* owned list */
    long long next_timer_id;
    ev_hook_fn *before_sleep;
    bool stop;
    bool busy;              /* poll without waiting */
};

ev_loop *ev_loop_new(int setsize) {
    ev_backend *b = ev_backend_new(setsize);
    if (!b) return NULL;
    ev_loop *loop = mem_calloc(sizeof(*loop));
    loop->backend = b;
    loop->setsize = setsize;
    loop->files = mem_calloc(sizeof(ev_file) * (size_t)setsize);
    loop->fired = mem_calloc(sizeof(ev_fired) * (size_t)setsize);
    return loop;
}

void ev_loop_free(ev_loop *loop) {
    if (!loop) return;
    ev_timer *t = loop->timers;
    while (t) {
        ev_timer *next = t->next;
        mem_free(t);
        t = next;
    }
    ev_backend_free(loop->backend);
    mem_free(loop->files);
    mem_free(loop->fired);
    mem_free(loop);
}

int ev_loop_resize(ev_loop *loop, int setsize) {
    if (setsize == loop->setsize) return 0;
    for (int fd = setsize; fd < loop->setsize; fd++)
        if (loop->files[fd].mask != EV_NONE) return -1;
    if (ev_backend_resize(loop->backend, setsize) == -1) return -1;
    loop->files = mem_realloc(loop->files, sizeof(ev_file) * (size_t)setsize);
    loop->fired = mem_realloc(loop->fired, sizeof(ev_fired) * (size_t)setsize);
    for (int fd = loop->setsize; fd < setsize; fd++) loop->files[fd].mask = EV_NONE;
    loop->setsize = setsize;
    return 0;
}

int ev_loop_setsize(const ev_loop *loop) {
    return loop->setsize;
}

int ev_add_fd(ev_loop *loop, int fd, int mask, ev_fd_fn *fn, void *data) {
    if (fd < 0 || fd >= loop->setsize) return -1;
    ev_file *f = &loop->files[fd];
    int new_mask = f->mask | mask;
    if (new_mask != f->mask &&
        ev_backend_set(loop->backend, fd, f->mask, new_mask) == -1) return -1;
    f->mask = new_mask;
    if (mask & EV_READABLE) f->on_read = fn;
    if (mask & EV_WRITABLE) f->on_write = fn;
    f->data = data;
    return 0;
}

void ev_del_fd(ev_loop *loop, int fd, int mask) {
    if (fd < 0 || fd >= loop->setsize) return;
    ev_file *f = &loop->files[fd];
    if (f->mask == EV_NONE) return;
    int new_mask = f->mask & ~mask;
    if (new_mask != f->mask) ev_backend_set(loop->backend, fd, f->mask, new_mask);
    f->mask = new_mask;
}

int ev_fd_mask(const ev_loop *loop, int fd) {
    if (fd < 0 || fd >= loop->setsize) return EV_NONE;
    return loop->files[fd].mask;
}

long long ev_add_timer(ev_loop *loop, long long delay_ms, ev_timer_fn *fn, void *data) {
    ev_timer *t = mem_calloc(sizeof(*t));
    t->id = ++loop->next_timer_id;
    t->when_us = util_monotonic_us() + delay_ms * 1000;
    t->fn = fn;
    t->data = data;
    t->next = loop->timers;
    loop->timers = t;
    return t->id;
}

void ev_del_timer(ev_loop *loop, long long id) {
    for (ev_timer *t = loop->timers; t; t = t->next)
        if (t->id == id) t->deleted = true;
}

void ev_set_before_sleep(ev_loop *loop, ev_hook_fn *fn) {
    loop->before_sleep = fn;
}

void ev_set_busy(ev_loop *loop, bool busy) {
    loop->busy = busy;
}

void ev_stop(ev_loop *loop) {
    loop->stop = true;
}

const char *ev_backend_name(void) {
    return "epoll";
}

/* Milliseconds until the nearest timer, -1 if there is none. */
static int next_timeout_ms(ev_loop *loop) {
    long long now = util_monotonic_us(), best = -1;
    for (ev_timer *t = loop->timers; t; t = t->next) {
        if (t->deleted) continue;
        long long left = t->when_us - now;
        if (left < 0) left = 0;
        if (best == -1 || left < best) best = left;
    }
    if (best == -1) return -1;
    return (int)((best + 999) / 1000);
}

static void run_timers(ev_loop *loop) {
    long long now = util_monotonic_us();
    /* Timers added by a callback have ids above max_id and wait a pass. */
    long long max_id = loop->next_timer_id;
    ev_timer **link = &loop->timers;
    while (*link) {
        ev_timer *t = *link;
        if (t->deleted) {
            *link = t->next;
            mem_free(t);
            continue;
        }
        if (t->id <= max_id && t->when_us <= now) {
            long long again = t->fn(loop, t->id, t->data);
            if (again < 0) t->deleted = true;
            else t->when_us = util_monotonic_us() + again * 1000;
        }
        link = &t->next;
    }
}

void ev_run(ev_loop *loop) {
    loop->stop = false;
    while (!loop->stop) {
        if (loop->before_sleep) loop->before_sleep(loop);
        if (loop->stop) break;
        int n = ev_backend_poll(loop->backend, loop->fired, loop->busy ? 0 : next_timeout_ms(loop));
        for (int i = 0; i < n; i++) {
            int fd = loop->fired[i].fd, mask = loop->fired[i].mask;
            ev_file *f = &loop->files[fd];
            bool did_read = false;
            if (f->mask & mask & EV_READABLE) {
                f->on_read(loop, fd, f->data, mask);
                did_read = true;
            }
            /* Refetch: the read handler may have changed or closed the fd. */
            f = &loop->files[fd];
            if ((f->mask & mask & EV_WRITABLE) && !(did_read && f->on_write == f->on_read))
                f->on_write(loop, fd, f->data, mask);
        }
        run_timers(loop);
    }
}
