/* net.c -- Thin, honest wrappers over the socket calls the server needs.
 * Nothing here knows about the event loop or clients. */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int fail(char *err, int fd, const char *what) {
    if (err) snprintf(err, NET_ERR_LEN, "%s: %s", what, strerror(errno));
    if (fd != -1) {
        int saved = errno;
        close(fd);
        errno = saved;
    }
    return -1;
}

int net_set_nonblock(char *err, int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
        return fail(err, -1, "fcntl(O_NONBLOCK)");
    return 0;
}

int net_set_nodelay(char *err, int fd, bool on) {
    int v = on;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)) == -1)
        return fail(err, -1, "setsockopt(TCP_NODELAY)");
    return 0;
}

int net_set_keepalive(char *err, int fd, int interval_s) {
    int yes = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &yes, sizeof(yes)) == -1)
        return fail(err, -1, "setsockopt(SO_KEEPALIVE)");
    /* Same shape as Redis: first probe after interval, then every third of
     * it, and give up after three unanswered probes. */
    int idle = interval_s, intvl = interval_s / 3, cnt = 3;
    if (intvl == 0) intvl = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    return 0;
}

int net_tcp_listen(char *err, const char *addr, int port, int backlog, bool reuseport) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t sslen;
    bool v6 = strchr(addr, ':') != NULL;
    if (v6) {
        struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&ss;
        sa->sin6_family = AF_INET6;
        sa->sin6_port = htons((unsigned short)port);
        if (strcmp(addr, "::*") == 0) sa->sin6_addr = in6addr_any;
        else if (inet_pton(AF_INET6, addr, &sa->sin6_addr) != 1) {
            if (err) snprintf(err, NET_ERR_LEN, "invalid address '%s'", addr);
            return -1;
        }
        sslen = sizeof(*sa);
    } else {
        struct sockaddr_in *sa = (struct sockaddr_in *)&ss;
        sa->sin_family = AF_INET;
        sa->sin_port = htons((unsigned short)port);
        if (strcmp(addr, "*") == 0) sa->sin_addr.s_addr = htonl(INADDR_ANY);
        else if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1) {
            if (err) snprintf(err, NET_ERR_LEN, "invalid address '%s'", addr);
            return -1;
        }
        sslen = sizeof(*sa);
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) return fail(err, -1, "socket");
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof(yes)) == -1)
        return fail(err, fd, "setsockopt(SO_REUSEPORT)");
    if (v6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &yes, sizeof(yes));
    if (bind(fd, (struct sockaddr *)&ss, sslen) == -1) return fail(err, fd, "bind");
    if (listen(fd, backlog) == -1) return fail(err, fd, "listen");
    return fd;
}

int net_unix_listen(char *err, const char *path, unsigned perm, int backlog) {
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        if (err) snprintf(err, NET_ERR_LEN, "unix socket path too long: %s", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) return fail(err, -1, "socket(AF_UNIX)");
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) return fail(err, fd, "bind(unix)");
    if (listen(fd, backlog) == -1) return fail(err, fd, "listen(unix)");
    if (perm && chmod(path, perm) == -1) return fail(err, fd, "chmod(unixsocket)");
    return fd;
}

int net_accept(char *err, int lfd) {
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) return fd;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return -1;
        return fail(err, -1, "accept");
    }
}

static void addr_str(const struct sockaddr_storage *ss, char *dst, size_t len) {
    char ip[INET6_ADDRSTRLEN];
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sa = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof(ip));
        snprintf(dst, len, "%s:%d", ip, ntohs(sa->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sa = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &sa->sin6_addr, ip, sizeof(ip));
        snprintf(dst, len, "%s:%d", ip, ntohs(sa->sin6_port));
    } else if (ss->ss_family == AF_UNIX) {
        const struct sockaddr_un *sa = (const struct sockaddr_un *)ss;
        snprintf(dst, len, "%s:0", sa->sun_path);
    } else {
        snprintf(dst, len, "?:0");
    }
}

void net_peer_str(int fd, char *dst, size_t len) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    memset(&ss, 0, sizeof(ss));
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1) ss.ss_family = AF_UNSPEC;
    addr_str(&ss, dst, len);
}

void net_local_str(int fd, char *dst, size_t len) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    memset(&ss, 0, sizeof(ss));
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) ss.ss_family = AF_UNSPEC;
    addr_str(&ss, dst, len);
}

bool net_is_local_peer(int fd) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1) return false;
    if (ss.ss_family == AF_UNIX) return true;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *sa = (const struct sockaddr_in *)&ss;
        return (ntohl(sa->sin_addr.s_addr) >> 24) == 127;
    }
    if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *sa = (const struct sockaddr_in6 *)&ss;
        return IN6_IS_ADDR_LOOPBACK(&sa->sin6_addr);
    }
    return false;
}

int net_tcp_connect(char *err, const char *host, int port) {
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    /* Literal addresses first: no resolver round trip for the common case. */
    hints.ai_flags = AI_NUMERICHOST;
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        hints.ai_flags = 0;
        rc = getaddrinfo(host, portstr, &hints, &res);
    }
    if (rc != 0) {
        if (err) snprintf(err, NET_ERR_LEN, "getaddrinfo(%s): %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd == -1) continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd == -1) return fail(err, -1, "connect");
    return fd;
}

int net_connect_result(int fd) {
    int e = 0;
    socklen_t len = sizeof(e);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1) return errno;
    if (e) return e;
    /* No error may also mean not finished yet (an event meant for an
     * earlier socket on the same fd number): a connected socket has a peer. */
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1) return errno == ENOTCONN ? EINPROGRESS : errno;
    return 0;
}
