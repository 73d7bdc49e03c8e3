/* net.h -- Sockets: TCP and unix listeners, EMFILE-safe accept, socket
 * options and address strings. Errors fill a caller-owned err buffer with
 * "syscall(args): reason"; the caller decides whether to log. */
#ifndef NET_H
#define NET_H

#include <stdbool.h>
#include <stddef.h>

#define NET_ERR_LEN 256
#define NET_ADDR_LEN 64      /* enough for "[ipv6]:port" */

/* Listens on addr:port (IPv4 or IPv6 literal, or "*" / "::*"), with
 * SO_REUSEPORT when reuseport (several processes share the port). Returns
 * the non-blocking listening fd, or -1 with err set. */
int net_tcp_listen(char *err, const char *addr, int port, int backlog, bool reuseport);
/* Starts a non-blocking connect to host:port (a literal address, or a name
 * resolved on the spot). Returns the fd, connected or in progress (wait for
 * it to become writable, then ask net_connect_result()), or -1 with err set. */
int net_tcp_connect(char *err, const char *host, int port);
/* The outcome of a non-blocking connect: 0 when connected, EINPROGRESS
 * while it is not done, or the errno value of the failure. */
int net_connect_result(int fd);
/* Listens on a unix socket path with permissions perm (0: umask default). */
int net_unix_listen(char *err, const char *path, unsigned perm, int backlog);
/* Accepts one connection: returns the fd (non-blocking, close-on-exec),
 * -1 with errno EAGAIN when none is pending, or -1 with err set. */
int net_accept(char *err, int lfd);
int net_set_nonblock(char *err, int fd);
int net_set_nodelay(char *err, int fd, bool on);
/* Enables keepalive with the given interval in seconds. */
int net_set_keepalive(char *err, int fd, int interval_s);
/* "ip:port" of the peer (or local end) into dst; "/path:0" for unix sockets. */
void net_peer_str(int fd, char *dst, size_t len);
void net_local_str(int fd, char *dst, size_t len);
/* True when the peer of fd is a loopback address or a unix socket. */
bool net_is_local_peer(int fd);

#endif
