/* server.c -- main(): configuration, listeners, signals, the cron and the
 * before-sleep hook; and the orderly shutdown that frees everything.
 *
 * Start-up: defaults, config file and --overrides, log target, daemonize,
 * pidfile, listeners, then "Ready to accept connections" (tests wait for
 * that line). Every pass of the loop ends in before_sleep(): flush the
 * output of every client that has some, free the clients that are closing,
 * and act on a pending SIGTERM/SIGINT or SHUTDOWN. */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "cmd_handlers.h"
#include "commands.h"
#include "config.h"
#include "dict.h"
#include "ev.h"
#include "history.h"
#include "history_log.h"
#include "info.h"
#include "log.h"
#include "mem.h"
#include "net.h"
#include "pubsub.h"
#include "tls.h"
#include "upstream.h"
#include "version.h"

server_state server;

/* ------------------------------------------------------------------------
 * Listeners
 * ------------------------------------------------------------------------ */

static void close_fds(int *fds, int *count) {
    for (int i = 0; i < *count; i++) {
        ev_del_fd(server.loop, fds[i], EV_READABLE);
        close(fds[i]);
    }
    *count = 0;
}

static void close_listeners(void) {
    close_fds(server.tcp_fds, &server.tcp_count);
    close_fds(server.tls_fds, &server.tls_count);
    if (server.unix_fd != -1) {
        ev_del_fd(server.loop, server.unix_fd, EV_READABLE);
        close(server.unix_fd);
        server.unix_fd = -1;
        if (cfg.unixsocket && cfg.unixsocket[0]) unlink(cfg.unixsocket);
    }
}

/* Opens every bind address on port (cfg.port or cfg.tls_port); kind is
 * "tcp" or "tls" for the logs. Returns 0, or -1 after logging. */
static int open_tcp_listeners(int port, const char *kind, int *fds, int *count) {
    *count = 0;
    if (port == 0) return 0;
    for (int i = 0; i < cfg.bind_count && *count < SERVER_MAX_LISTENERS; i++) {
        const char *addr = cfg.bind[i];
        bool optional = addr[0] == '-';
        if (optional) addr++;
        char err[NET_ERR_LEN];
        int fd = net_tcp_listen(err, addr, port, cfg.tcp_backlog, cfg.reuseport);
        if (fd == -1) {
            if (optional && (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT ||
                             errno == EINVAL)) {
                log_notice("Skipping optional bind address %s: %s", addr, err);
                continue;
            }
            log_warning("Warning: Could not create server %s listening socket %s:%d: %s",
                        strcmp(kind, "tls") ? "TCP" : "TLS", addr, port, err);
            for (int j = 0; j < *count; j++) close(fds[j]);
            *count = 0;
            return -1;
        }
        fds[(*count)++] = fd;
    }
    if (*count == 0 && cfg.bind_count > 0) {
        log_warning("Failed listening on port %d (%s): no bind address could be used", port, kind);
        return -1;
    }
    return 0;
}

/* The bind list as one string, to tell whether CONFIG SET changed it. */
static char *bind_string(void) {
    size_t len = 1;
    for (int i = 0; i < cfg.bind_count; i++) len += strlen(cfg.bind[i]) + 1;
    char *s = mem_calloc(len);
    for (int i = 0; i < cfg.bind_count; i++) {
        if (i) strcat(s, " ");
        strcat(s, cfg.bind[i]);
    }
    return s;
}

/* Records what a set of listeners was opened for (port, bind list). */
static void note_listening(int *port_open, char **bind_open, int port) {
    *port_open = port;
    mem_free(*bind_open);
    *bind_open = bind_string();
}

static void watch_listeners(void) {
    for (int i = 0; i < server.tcp_count; i++)
        ev_add_fd(server.loop, server.tcp_fds[i], EV_READABLE, client_on_accept, NULL);
    for (int i = 0; i < server.tls_count; i++)
        ev_add_fd(server.loop, server.tls_fds[i], EV_READABLE, client_on_accept_tls, NULL);
    if (server.unix_fd != -1) ev_add_fd(server.loop, server.unix_fd, EV_READABLE, client_on_accept_unix, NULL);
}

static int open_listeners(void) {
    if (open_tcp_listeners(cfg.port, "tcp", server.tcp_fds, &server.tcp_count) == -1) {
        log_warning("Failed listening on port %d (tcp), aborting.", cfg.port);
        return -1;
    }
    if (open_tcp_listeners(cfg.tls_port, "tls", server.tls_fds, &server.tls_count) == -1) {
        log_warning("Failed listening on port %d (tls), aborting.", cfg.tls_port);
        return -1;
    }
    if (cfg.unixsocket && cfg.unixsocket[0]) {
        char err[NET_ERR_LEN];
        server.unix_fd = net_unix_listen(err, cfg.unixsocket, (unsigned)cfg.unixsocketperm, cfg.tcp_backlog);
        if (server.unix_fd == -1) {
            log_warning("Failed opening Unix socket: %s", err);
            return -1;
        }
    }
    watch_listeners();
    note_listening(&server.tcp_port_open, &server.tcp_bind_open, cfg.port);
    note_listening(&server.tls_port_open, &server.tls_bind_open, cfg.tls_port);
    return 0;
}

/* Replaces the listeners in fds with new ones on port, unless neither the
 * port nor the bind list changed since they were opened. On a new port the
 * new ones are opened first, so a failure leaves the old ones serving. On
 * the same port the old ones must go first (a new list may keep an
 * address), as in Redis; after a failure nothing listens and *port_open is
 * 0, so the restoring pass of CONFIG SET opens the old list again. */
static int relisten(int port, const char *kind, int *fds, int *count, ev_fd_fn *on_accept, int *port_open,
                    char **bind_open) {
    char *binds = bind_string();
    bool same = port == *port_open && !strcmp(binds, *bind_open ? *bind_open : "");
    mem_free(binds);
    if (same) return 0;
    if (port == *port_open) {
        close_fds(fds, count);
        *port_open = 0;
    }
    int nfds[SERVER_MAX_LISTENERS], ncount;
    if (open_tcp_listeners(port, kind, nfds, &ncount) == -1) return -1;
    close_fds(fds, count);
    memcpy(fds, nfds, sizeof(int) * (size_t)ncount);
    *count = ncount;
    for (int i = 0; i < ncount; i++) ev_add_fd(server.loop, fds[i], EV_READABLE, on_accept, NULL);
    note_listening(port_open, bind_open, port);
    return 0;
}

/* CONFIG SET port / tls-port / bind (one hook: it runs once however many
 * of them change, and again to restore them if the CONFIG SET fails). */
static int apply_listen(const char *name, char *err, size_t errlen) {
    (void)name;
    if (relisten(cfg.port, "tcp", server.tcp_fds, &server.tcp_count, client_on_accept, &server.tcp_port_open,
                 &server.tcp_bind_open) == -1) {
        snprintf(err, errlen, "Unable to listen on this port");
        return -1;
    }
    if (cfg.tls_port && !tls_is_configured() && tls_configure() == -1) {
        snprintf(err, errlen, "Unable to update TLS configuration. Check server logs.");
        return -1;
    }
    if (relisten(cfg.tls_port, "tls", server.tls_fds, &server.tls_count, client_on_accept_tls,
                 &server.tls_port_open, &server.tls_bind_open) == -1) {
        snprintf(err, errlen, "Unable to listen on this port. Check server logs.");
        return -1;
    }
    return 0;
}

/* CONFIG SET of a tls-* directive the context is built from: a new context
 * for new connections, or an error and the old one kept. As in Redis, a
 * server without a TLS port only stores the values. */
static int apply_tls(const char *name, char *err, size_t errlen) {
    (void)name;
    if (cfg.tls_port == 0) return 0;
    if (tls_configure() == -1) {
        snprintf(err, errlen, "Unable to update TLS configuration. Check server logs.");
        return -1;
    }
    return 0;
}

static int apply_loglevel(const char *name, char *err, size_t errlen) {
    (void)name, (void)err, (void)errlen;
    log_set_level(cfg.loglevel);
    return 0;
}

/* Raises the soft fd limit towards want (the hard limit caps it); returns
 * the limit in effect afterwards. */
static rlim_t raise_open_files(rlim_t want) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1) return want;
    if (rl.rlim_cur >= want) return rl.rlim_cur;
    rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur;
}

/* maxclients plus 32 spare descriptors, as Redis reserves. */
#define SPARE_FDS 32

/* At start-up: raises the fd limit for maxclients, or lowers maxclients to
 * what the system gives, with Redis's warnings. */
static void adjust_open_files(void) {
    rlim_t want = (rlim_t)cfg.maxclients + SPARE_FDS;
    errno = 0;
    rlim_t got = raise_open_files(want);
    if (got >= want) return;
    unsigned old = cfg.maxclients;
    cfg.maxclients = got > SPARE_FDS ? (unsigned)(got - SPARE_FDS) : 1;
    log_warning("You requested maxclients of %u requiring at least %llu max file descriptors.", old,
                (unsigned long long)want);
    log_warning("Server can't set maximum open files to %llu because of OS error: %s.",
                (unsigned long long)want, strerror(errno ? errno : EPERM));
    log_warning("Current maximum open files is %llu. maxclients has been reduced to %u to compensate "
                "for low ulimit. If you need higher maxclients increase 'ulimit -n'.",
                (unsigned long long)got, cfg.maxclients);
}

static int apply_maxclients(const char *name, char *err, size_t errlen) {
    (void)name;
    /* CONFIG SET refuses what the system cannot give, as Redis does. */
    rlim_t got = raise_open_files((rlim_t)cfg.maxclients + SPARE_FDS);
    if (got < (rlim_t)cfg.maxclients + SPARE_FDS) {
        snprintf(err, errlen, "The operating system is not able to handle the specified number of clients, try with %llu",
                 (unsigned long long)(got > SPARE_FDS ? got - SPARE_FDS : 1));
        return -1;
    }
    int need = (int)cfg.maxclients + 64;
    if (need > ev_loop_setsize(server.loop) && ev_loop_resize(server.loop, need) == -1) {
        snprintf(err, errlen, "The event loop API used by Redis is not able to handle the specified number of clients");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Signals, cron, before-sleep, shutdown
 * ------------------------------------------------------------------------ */

static void on_signal(int sig) {
    server.shutdown_signal = sig;
}

static void setup_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    /* Past a file-size limit a write fails with EFBIG (a disk error for
     * history_log.c) instead of killing the server. */
    signal(SIGXFSZ, SIG_IGN);
}

static void request_shutdown(void) {
    server.shutdown_requested = true;
}

/* Runs hz times a second; samples for INFO every 100 ms and does the
 * per-client work once a second, whatever hz is. */
static long long cron(ev_loop *loop, long long id, void *data) {
    (void)loop, (void)id, (void)data;
    static long long last_sample_ms, last_clients_ms;
    long long now = util_time_ms();
    server.cron_ticks++;
    if (now - last_sample_ms >= 100) {
        info_cron_sample();
        last_sample_ms = now;
    }
    history_cron();   /* age trimming: a scan of the histories */
    history_log_cron(); /* once a second: everysec fsyncs, compaction, retries */
    if (now - last_clients_ms >= 1000) {
        client_cron();
        last_clients_ms = now;
    }
    int hz = cfg.hz > 0 ? cfg.hz : 10;
    return 1000 / hz > 0 ? 1000 / hz : 1;
}

static void before_sleep(ev_loop *loop) {
    client_before_sleep();
    upstream_before_sleep();
    if (server.shutdown_signal) {
        log_warning("Received %s scheduling shutdown...", server.shutdown_signal == SIGINT ? "SIGINT" : "SIGTERM");
        ev_stop(loop);
    } else if (server.shutdown_requested) {
        ev_stop(loop);
    }
}

/* ------------------------------------------------------------------------
 * Supervision: systemd's notify protocol is one datagram to $NOTIFY_SOCKET
 * ("@name" is the abstract namespace). No libsystemd needed.
 * ------------------------------------------------------------------------ */

static bool supervised_by_systemd(void) {
    if (cfg.supervised == CONFIG_SUPERVISED_SYSTEMD) return true;
    return cfg.supervised == CONFIG_SUPERVISED_AUTO && getenv("NOTIFY_SOCKET") != NULL;
}

static void notify_systemd(const char *msg) {
    if (!supervised_by_systemd()) return;
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !path[0]) {
        log_warning("systemd supervision requested, but NOTIFY_SOCKET not found!");
        return;
    }
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    size_t len = strlen(path);
    if (len >= sizeof(sa.sun_path)) return;
    memcpy(sa.sun_path, path, len);
    if (sa.sun_path[0] == '@') sa.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd == -1) return;
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen) == -1)
        log_warning("Can't send notification to systemd: %s", strerror(errno));
    close(fd);
}

static void write_pidfile(void) {
    if (!cfg.pidfile || !cfg.pidfile[0]) return;
    FILE *fp = fopen(cfg.pidfile, "w");
    if (!fp) {
        log_warning("Failed to write PID file: %s", strerror(errno));
        return;
    }
    fprintf(fp, "%d\n", (int)getpid());
    fclose(fp);
    server.pidfile_written = true;
}

/* What the command modules keep about a client goes with it. */
/* channel-history, channel-history-max-memory: the rules and the cap. */
static int apply_history(const char *name, char *err, size_t errlen) {
    (void)name;
    if (history_configure(cfg.channel_history ? cfg.channel_history : "", err, errlen) == -1) return -1;
    history_set_max_memory(cfg.channel_history_max_memory);
    return 0;
}

static int apply_history_fsync(const char *name, char *err, size_t errlen) {
    (void)name, (void)err, (void)errlen;
    history_log_set_fsync(cfg.channel_history_fsync);
    return 0;
}

static void on_client_free(client *c) {
    cmd_history_client_gone(c);
    cmd_monitor_stop(c);
    cmd_tracking_off(c);
}

static void shutdown_and_free(void) {
    notify_systemd("STOPPING=1\n");
    close_listeners();
    upstream_shutdown();
    client_free_all();
    history_free_all();
    history_log_shutdown();
    tls_free();
    mem_free(server.tcp_bind_open);
    mem_free(server.tls_bind_open);
    if (server.pidfile_written) {
        log_notice("Removing the pid file.");
        unlink(cfg.pidfile);
    }
    log_warning("redis-pubsub is now ready to exit, bye bye...");
    pubsub_free(server.ps);
    cmd_acl_free();
    cmd_monitor_free();
    commands_free();
    ev_loop_free(server.loop);
    mem_free(server.executable);
    config_free();
}

/* ------------------------------------------------------------------------
 * Start-up
 * ------------------------------------------------------------------------ */

static void usage(void) {
    fprintf(stderr,
            "Usage: ./redis-pubsub-server [/path/to/redis-pubsub.conf] [options] [-]\n"
            "       ./redis-pubsub-server - (read config from stdin)\n"
            "       ./redis-pubsub-server -v or --version\n"
            "       ./redis-pubsub-server -h or --help\n\n"
            "Examples:\n"
            "       ./redis-pubsub-server (run the server with default config)\n"
            "       ./redis-pubsub-server redis-pubsub.conf\n"
            "       ./redis-pubsub-server --port 7777\n"
            "       ./redis-pubsub-server redis-pubsub.conf --port 7000 --loglevel verbose\n");
}

static void daemonize(void) {
    if (fork() != 0) exit(0);
    setsid();
    int fd = open("/dev/null", O_RDWR, 0);
    if (fd != -1) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO) close(fd);
    }
}

static void seed_hash(void) {
    uint8_t seed[16];
    int fd = open("/dev/urandom", O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, seed, sizeof(seed)) : -1;
    if (fd >= 0) close(fd);
    if (n != (ssize_t)sizeof(seed)) {
        long long t = util_monotonic_us() ^ ((long long)getpid() << 20);
        memcpy(seed, &t, sizeof(t));
        memcpy(seed + 8, &t, sizeof(t));
    }
    dict_set_hash_seed(seed);
}

int main(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version"))) {
        printf("redis-pubsub server v=%s (Redis %s compatible) malloc=%s bits=%d\n", REDIS_PUBSUB_VERSION,
               REDIS_COMPAT_VERSION, mem_allocator_name(), (int)(sizeof(void *) * 8));
        return 0;
    }
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage();
        return 0;
    }
    char resolved[PATH_MAX];
    server.executable = mem_strdup(realpath(argv[0], resolved) ? resolved : argv[0]);
    server.unix_fd = -1;

    config_init_defaults();
    char err[2048];
    if (config_load_argv(argc, argv, err, sizeof(err)) == -1) {
        fprintf(stderr, "\n%s\n", err);
        mem_free(server.executable);
        config_free();
        return 1;
    }
    if (cfg.daemonize) daemonize();
    log_set_level(cfg.loglevel);
    if (cfg.logfile && cfg.logfile[0] && log_set_file(cfg.logfile) == -1) {
        fprintf(stderr, "Can't open the log file: %s\n", strerror(errno));
        return 1;
    }
    log_notice("oO0OoO0OoO0Oo redis-pubsub is starting oO0OoO0OoO0Oo");
    log_notice("redis-pubsub version=%s (Redis %s compatible), bits=%d, pid=%d, just started",
               REDIS_PUBSUB_VERSION, REDIS_COMPAT_VERSION, (int)(sizeof(void *) * 8), (int)getpid());
    config_log_notices();
    log_notice("Configuration loaded");
    if (cfg.dir && cfg.dir[0] && chdir(cfg.dir) == -1) {
        log_warning("Can't chdir to '%s': %s", cfg.dir, strerror(errno));
        return 1;
    }

    seed_hash();
    info_init();
    adjust_open_files();
    server.loop = ev_loop_new((int)cfg.maxclients + 64);
    if (!server.loop) {
        log_warning("Failed creating the event loop: %s", strerror(errno));
        return 1;
    }
    server.ps = pubsub_new();
    commands_init();
    if (cmd_acl_init() == -1) return 1; /* ACL users; logged why */
    cmd_env.ps = server.ps;
    cmd_env.loop = server.loop;
    cmd_env.start_ms = util_time_ms();
    cmd_env.start_mono_us = util_monotonic_us();
    cmd_env.executable = server.executable;
    cmd_env.request_shutdown = request_shutdown;
    client_module_init(server.loop, server.ps, commands_dispatch);
    client_set_free_hook(on_client_free);
    config_set_apply_hook("port", apply_listen);
    config_set_apply_hook("bind", apply_listen);
    config_set_apply_hook("tls-port", apply_listen);
    static const char *const tls_context_directives[] = {
        "tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-dh-params-file", "tls-ca-cert-file",
        "tls-ca-cert-dir", "tls-protocols", "tls-ciphers", "tls-ciphersuites", "tls-prefer-server-ciphers",
        "tls-session-caching", "tls-session-cache-size", "tls-session-cache-timeout"};
    for (size_t i = 0; i < sizeof(tls_context_directives) / sizeof(tls_context_directives[0]); i++)
        config_set_apply_hook(tls_context_directives[i], apply_tls);
    config_set_apply_hook("loglevel", apply_loglevel);
    config_set_apply_hook("maxclients", apply_maxclients);
    config_set_apply_hook("channel-history", apply_history);
    config_set_apply_hook("channel-history-max-memory", apply_history);
    config_set_apply_hook("channel-history-fsync", apply_history_fsync);
    char herr[256];
    if (apply_history("channel-history", herr, sizeof(herr)) == -1) {
        log_warning("channel-history: %s", herr);
        return 1;
    }
    history_log_set_fsync(cfg.channel_history_fsync);
    if (history_log_start(cfg.channel_history_dir, herr, sizeof(herr)) == -1) {
        log_warning("%s", herr);
        return 1;
    }

    setup_signals();
    log_notice("Running mode=%s, port=%d.", cfg.upstream && cfg.upstream[0] ? "relay" : "standalone", cfg.port);
    if (cfg.tls_port && tls_configure() == -1) {
        log_warning("Failed to configure TLS. Check logs for more info.");
        return 1;
    }
    if (open_listeners() == -1) return 1; /* logged why */
    char uerr[512];
    if (upstream_init(server.loop, server.ps, uerr, sizeof(uerr)) == -1) {
        log_warning("Failed to start relay mode: %s", uerr);
        return 1;
    }
    write_pidfile();
    server.cron_timer = ev_add_timer(server.loop, 1000 / (cfg.hz > 0 ? cfg.hz : 10), cron, NULL);
    ev_set_before_sleep(server.loop, before_sleep);
    log_notice("Server initialized");
    if (server.tcp_count > 0) log_notice("Ready to accept connections tcp");
    if (server.unix_fd != -1) log_notice("Ready to accept connections unix");
    if (server.tls_count > 0) log_notice("Ready to accept connections tls");
    if (supervised_by_systemd()) {
        log_notice("Supervised by systemd. Please make sure you set appropriate values for TimeoutStartSec and TimeoutStopSec in your service unit.");
        notify_systemd("STATUS=Ready to accept connections\nREADY=1\n");
    }

    ev_run(server.loop);
    shutdown_and_free();
    return 0;
}
