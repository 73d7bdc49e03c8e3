/* server.h -- The server struct: the loop, the listeners, the registry and
 * the process-wide flags. Each module declares its own API elsewhere. */
#ifndef SERVER_H
#define SERVER_H

#include <signal.h>
#include <stdbool.h>

typedef struct ev_loop ev_loop;
typedef struct pubsub pubsub;

#define SERVER_MAX_LISTENERS 16

typedef struct server_state {
    ev_loop *loop;                          /* owned */
    pubsub *ps;                             /* owned: the subscription registry */
    int tcp_fds[SERVER_MAX_LISTENERS];      /* listening sockets */
    int tcp_count;
    int tls_fds[SERVER_MAX_LISTENERS];      /* TLS listening sockets */
    int tls_count;
    int tcp_port_open;                      /* port tcp_fds were opened for, 0 if none */
    int tls_port_open;                      /* port tls_fds were opened for, 0 if none */
    char *tcp_bind_open;                    /* owned: bind list tcp_fds were opened for */
    char *tls_bind_open;                    /* owned: bind list tls_fds were opened for */
    int unix_fd;                            /* -1 if none */
    long long cron_timer;
    long long cron_ticks;                   /* 100 ms ticks since start */
    volatile sig_atomic_t shutdown_signal;  /* set by the signal handler */
    bool shutdown_requested;                /* SHUTDOWN command */
    char *executable;                       /* owned: absolute path of argv[0] */
    bool pidfile_written;
} server_state;

extern server_state server;

#endif
