/* tls.h -- TLS with OpenSSL: the server context built from the tls-*
 * directives, and one connection's non-blocking handshake, read and write.
 * Only client.c calls the connection functions, where it would otherwise
 * call read() and writev(); the server builds and rebuilds the context. */
#ifndef TLS_H
#define TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef struct tls_conn tls_conn;

#define TLS_ERR_LEN 512

/* ------------------------------------------------------------------------
 * The context
 * ------------------------------------------------------------------------ */

/* Builds a new context from cfg.tls_* and, on success, makes it the one new
 * connections use (existing ones keep theirs). On failure logs the reason at
 * warning level, as Redis does, keeps the old context and returns -1. */
int tls_configure(void);
/* True once a context exists (tls_configure() succeeded at least once). */
bool tls_is_configured(void);
/* Frees the context (shutdown). Connections must be gone. */
void tls_free(void);

/* ------------------------------------------------------------------------
 * Connections
 * ------------------------------------------------------------------------ */

/* Outcomes of a handshake step: done, failed, or waiting for the socket
 * to become readable or writable. */
enum { TLS_DONE = 0, TLS_FAILED = -1, TLS_WANT_READ = 1, TLS_WANT_WRITE = 2 };

/* A server-side connection on accepted socket fd, with client certificate
 * checks as cfg.tls_auth_clients says. Returns an owned connection (the fd
 * stays the caller's to close), or NULL if there is no context. */
tls_conn *tls_conn_new(int fd);
/* Relay mode: builds the client context of upstream links from the
 * upstream-tls-* directives (replacing the previous one). Returns 0, or -1
 * with err filled. */
int tls_upstream_configure(char *err, size_t errlen);
/* A client-side connection to an upstream on connected socket fd, sending
 * and verifying sni when it is set. NULL if there is no upstream context. */
tls_conn *tls_conn_new_upstream(int fd, const char *sni);
/* Sends close_notify if the handshake finished (best effort, never
 * blocks), then frees t. NULL is a no-op. Does not close the fd. */
void tls_conn_free(tls_conn *t);

/* One step of the server handshake. TLS_WANT_*: call again on that socket
 * event. TLS_FAILED: err holds OpenSSL's reason; close the connection. */
int tls_handshake(tls_conn *t, char *err, size_t errlen);
bool tls_handshake_done(const tls_conn *t);

/* Like read(2) and writev(2) on a non-blocking socket: bytes moved, 0 at
 * end of stream (read), or -1 with errno EAGAIN or EIO (tls_last_error()
 * says why). tls_writev() copies small iovecs into one
 * record-sized buffer and writes a large first iovec in place; after
 * EAGAIN call it again with the same data at the front (more may follow). */
ssize_t tls_read(tls_conn *t, void *p, size_t len);
ssize_t tls_writev(tls_conn *t, const struct iovec *iov, int cnt);
/* True while the last tls_read() returned EAGAIN because OpenSSL must
 * write first (the socket must become writable before reading resumes). */
bool tls_read_needs_write(const tls_conn *t);
/* Decrypted bytes OpenSSL holds that no socket event will announce. */
size_t tls_pending(const tls_conn *t);
/* The reason of the last EIO, for logs. */
const char *tls_last_error(const tls_conn *t);

#endif
