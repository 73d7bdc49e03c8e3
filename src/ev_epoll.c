/* ev_epoll.c -- Linux epoll behind ev_backend.h. Level-triggered. */
#include "ev_backend.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "ev.h"
#include "mem.h"

struct ev_backend {
    int epfd;
    int setsize;
    struct epoll_event *events;   /* owned; setsize entries */
};

ev_backend *ev_backend_new(int setsize) {
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd == -1) return NULL;
    ev_backend *b = mem_calloc(sizeof(*b));
    b->epfd = epfd;
    b->setsize = setsize;
    b->events = mem_alloc(sizeof(struct epoll_event) * (size_t)setsize);
    return b;
}

void ev_backend_free(ev_backend *b) {
    if (!b) return;
    close(b->epfd);
    mem_free(b->events);
    mem_free(b);
}

int ev_backend_resize(ev_backend *b, int setsize) {
    b->events = mem_realloc(b->events, sizeof(struct epoll_event) * (size_t)setsize);
    b->setsize = setsize;
    return 0;
}

int ev_backend_set(ev_backend *b, int fd, int old_mask, int new_mask) {
    struct epoll_event ee = {0};
    ee.data.fd = fd;
    if (new_mask & EV_READABLE) ee.events |= EPOLLIN;
    if (new_mask & EV_WRITABLE) ee.events |= EPOLLOUT;
    int op;
    if (new_mask == EV_NONE) op = EPOLL_CTL_DEL;
    else op = old_mask == EV_NONE ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (epoll_ctl(b->epfd, op, fd, &ee) == -1 && op != EPOLL_CTL_DEL) return -1;
    return 0;
}

int ev_backend_poll(ev_backend *b, ev_fired *fired, int timeout_ms) {
    int n = epoll_wait(b->epfd, b->events, b->setsize, timeout_ms);
    if (n < 0) return 0;   /* EINTR: the caller simply loops again */
    for (int i = 0; i < n; i++) {
        struct epoll_event *e = &b->events[i];
        int mask = 0;
        /* Errors and hangups wake both sides so the handlers see them. */
        if (e->events & (EPOLLIN | EPOLLERR | EPOLLHUP)) mask |= EV_READABLE;
        if (e->events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) mask |= EV_WRITABLE;
        fired[i].fd = e->data.fd;
        fired[i].mask = mask;
    }
    return n;
}
