/* ev.h -- The reactor: fd events, timers and a before-sleep hook. */
#ifndef EV_H
#define EV_H

#include <stdbool.h>

#define EV_NONE 0
#define EV_READABLE 1
#define EV_WRITABLE 2

typedef struct ev_loop ev_loop;
typedef void ev_fd_fn(ev_loop *loop, int fd, void *data, int mask);
/* A timer callback returns the delay in ms until it runs again, or -1 to stop. */
typedef long long ev_timer_fn(ev_loop *loop, long long id, void *data);
typedef void ev_hook_fn(ev_loop *loop);

/* Returns an owned loop able to watch fds below setsize, or NULL. */
ev_loop *ev_loop_new(int setsize);
void ev_loop_free(ev_loop *loop);
/* Grows (or shrinks, if no fd above it is watched) the fd capacity. */
int ev_loop_resize(ev_loop *loop, int setsize);
int ev_loop_setsize(const ev_loop *loop);

/* Adds mask to the events watched on fd; fn is called with data for those
 * events. Returns 0, or -1 if fd is out of range or the backend refused. */
int ev_add_fd(ev_loop *loop, int fd, int mask, ev_fd_fn *fn, void *data);
/* Stops watching mask on fd; with mask covering everything, fd is forgotten. */
void ev_del_fd(ev_loop *loop, int fd, int mask);
int ev_fd_mask(const ev_loop *loop, int fd);

/* Runs fn after delay_ms; returns the timer id. */
long long ev_add_timer(ev_loop *loop, long long delay_ms, ev_timer_fn *fn, void *data);
void ev_del_timer(ev_loop *loop, long long id);

/* While busy, the loop polls without sleeping, so before-sleep work that
 * is done in slices (a big client's release) goes on at full speed. */
void ev_set_busy(ev_loop *loop, bool busy);
/* Called before every wait for events. */
void ev_set_before_sleep(ev_loop *loop, ev_hook_fn *fn);
/* Runs until ev_stop(); readable fires before writable for one fd. */
void ev_run(ev_loop *loop);
void ev_stop(ev_loop *loop);
/* Backend name, "epoll". */
const char *ev_backend_name(void);

#endif
