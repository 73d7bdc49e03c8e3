/* ev_backend.h -- What ev.c needs from an OS polling mechanism (epoll here). */
#ifndef EV_BACKEND_H
#define EV_BACKEND_H

typedef struct ev_backend ev_backend;

typedef struct ev_fired {
    int fd;
    int mask;
} ev_fired;

ev_backend *ev_backend_new(int setsize);
void ev_backend_free(ev_backend *b);
int ev_backend_resize(ev_backend *b, int setsize);
/* old_mask is what was watched before; new_mask what is watched after. */
int ev_backend_set(ev_backend *b, int fd, int old_mask, int new_mask);
/* Waits up to timeout_ms (-1: forever); fills fired, returns the count. */
int ev_backend_poll(ev_backend *b, ev_fired *fired, int timeout_ms);

#endif
