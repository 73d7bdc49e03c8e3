/* tls.c -- TLS with OpenSSL, in two parts: the server context, rebuilt
 * from the tls-* directives at start-up and on CONFIG SET, and the
 * per-connection calls client.c makes instead of read() and writev().
 *
 *   client.c --conn_read / conn_writev--> tls_read / tls_writev --> SSL --> fd
 *
 * Nothing here touches the event loop: every call is non-blocking and says
 * what it waits for, and client.c arms the socket events. A new context
 * only affects connections accepted afterwards; each SSL holds a reference
 * to the context it was made from, so swapping contexts is safe.
 *
 * Writes: the output queue is a list of iovecs, often many small ones
 * (replies, copied small messages). SSL_write takes one buffer, and every
 * call makes at least one record, so small iovecs are copied into a
 * record-sized scratch buffer; a first iovec of a record or more (a large
 * shared frame) is written in place. The queue is never copied as a whole
 * and shared frames stay shared. OpenSSL requires a retried SSL_write to
 * start with the same bytes: it does, because the queue only grows at the
 * end and nothing is consumed before a write succeeds.
 * ACCEPT_MOVING_WRITE_BUFFER lets the retry come from another address. */
#include "tls.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "config.h"
#include "log.h"
#include "mem.h"

#define TLS_RECORD_LEN 16384              /* plaintext bytes in a full record */
#define TLS_WRITE_MAX (1024 * 1024)       /* bytes per SSL_write in place */

struct tls_conn {
    SSL *ssl;                 /* owned */
    bool handshake_done;
    bool read_needs_write;    /* last SSL_read wanted the socket writable */
    bool failed;              /* a fatal error: no close_notify */
    char err[TLS_ERR_LEN];    /* reason of the last EIO */
};

static SSL_CTX *ctx;          /* owned: context of new connections */
static SSL_CTX *upstream_ctx; /* owned: context of upstream links (relay mode) */

/* ------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------ */

/* Writes the oldest queued OpenSSL error (or fallback) into dst and
 * empties the queue, so the next call starts clean. */
static void ssl_error_text(char *dst, size_t len, const char *fallback) {
    unsigned long e = ERR_get_error();
    if (e) ERR_error_string_n(e, dst, len);
    else snprintf(dst, len, "%s", fallback);
    ERR_clear_error();
}

/* The reason of a failed SSL call whose SSL_get_error() was code. */
static void conn_error_text(char *dst, size_t len, int code) {
    if (code == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        snprintf(dst, len, "%s", errno ? strerror(errno) : "unexpected EOF");
        return;
    }
    ssl_error_text(dst, len, "TLS error");
}

/* ------------------------------------------------------------------------
 * The context
 * ------------------------------------------------------------------------ */

static int key_password(char *buf, int size, int rwflag, void *data) {
    (void)rwflag;
    const char *pass = data;
    if (!pass || !pass[0]) return 0; /* never prompt on the terminal */
    int n = (int)strlen(pass);
    if (n > size) n = size;
    memcpy(buf, pass, (size_t)n);
    return n;
}

/* tls-protocols: any of TLSv1 TLSv1.1 TLSv1.2 TLSv1.3, blank-separated;
 * "" is TLSv1.2 and TLSv1.3. Returns the SSL_OP_NO_* options for the
 * others, or -1 (logged) for an unknown name. */
static long protocol_options(const char *list) {
    static const struct {
        const char *name;
        long op;
    } protos[] = {{"TLSv1", SSL_OP_NO_TLSv1},
                  {"TLSv1.1", SSL_OP_NO_TLSv1_1},
                  {"TLSv1.2", SSL_OP_NO_TLSv1_2},
                  {"TLSv1.3", SSL_OP_NO_TLSv1_3}};
    const size_t n = sizeof(protos) / sizeof(protos[0]);
    if (!list || !list[0]) return SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;
    long allowed = 0;
    const char *p = list;
    while (*p) {
        size_t wl = strcspn(p, " ");
        if (wl > 0) {
            size_t i = 0;
            while (i < n && !(strlen(protos[i].name) == wl && !strncasecmp(p, protos[i].name, wl))) i++;
            if (i == n) {
                log_warning("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', "
                            "'TLSv1.2' and 'TLSv1.3'.");
                return -1;
            }
            allowed |= protos[i].op;
        }
        p += wl;
        while (*p == ' ') p++;
    }
    long all = 0;
    for (size_t i = 0; i < n; i++) all |= protos[i].op;
    return all & ~allowed;
}

static int load_dh_params(SSL_CTX *c, const char *path) {
    BIO *in = BIO_new_file(path, "r");
    if (!in) {
        log_warning("Failed to load %s: %s", path, strerror(errno));
        ERR_clear_error();
        return -1;
    }
    EVP_PKEY *dh = PEM_read_bio_Parameters(in, NULL);
    BIO_free(in);
    if (!dh || SSL_CTX_set0_tmp_dh_pkey(c, dh) != 1) {
        char e[256];
        ssl_error_text(e, sizeof(e), "no DH parameters");
        log_warning("Failed to load DH params file: %s: %s", path, e);
        EVP_PKEY_free(dh);
        return -1;
    }
    return 0;
}

static void configure_sessions(SSL_CTX *c) {
    if (cfg.tls_session_caching) {
        static const unsigned char sid_ctx[] = "redis-pubsub";
        SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER);
        SSL_CTX_sess_set_cache_size(c, cfg.tls_session_cache_size);
        SSL_CTX_set_timeout(c, cfg.tls_session_cache_timeout);
        SSL_CTX_set_session_id_context(c, sid_ctx, sizeof(sid_ctx) - 1);
    } else {
        /* No cache and no tickets: every connection does a full handshake. */
        SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(c, 0);
    }
}

/* Certificate, key and CA; the first failure is logged. */
static int load_credentials(SSL_CTX *c) {
    char e[256];
    if (!cfg.tls_cert_file[0]) {
        log_warning("No tls-cert-file configured!");
        return -1;
    }
    if (!cfg.tls_key_file[0]) {
        log_warning("No tls-key-file configured!");
        return -1;
    }
    bool need_ca = cfg.tls_auth_clients != CONFIG_TLS_AUTH_NO;
    if (need_ca && !cfg.tls_ca_cert_file[0] && !cfg.tls_ca_cert_dir[0]) {
        log_warning("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, "
                    "tls-replication or tls-auth-clients are enabled!");
        return -1;
    }
    if (SSL_CTX_use_certificate_chain_file(c, cfg.tls_cert_file) != 1) {
        ssl_error_text(e, sizeof(e), "unknown error");
        log_warning("Failed to load certificate: %s: %s", cfg.tls_cert_file, e);
        return -1;
    }
    SSL_CTX_set_default_passwd_cb(c, key_password);
    SSL_CTX_set_default_passwd_cb_userdata(c, cfg.tls_key_file_pass);
    if (SSL_CTX_use_PrivateKey_file(c, cfg.tls_key_file, SSL_FILETYPE_PEM) != 1) {
        ssl_error_text(e, sizeof(e), "unknown error");
        log_warning("Failed to load private key: %s: %s", cfg.tls_key_file, e);
        return -1;
    }
    /* The password is needed only while loading; cfg may change later. */
    SSL_CTX_set_default_passwd_cb_userdata(c, NULL);
    const char *file = cfg.tls_ca_cert_file[0] ? cfg.tls_ca_cert_file : NULL;
    const char *dir = cfg.tls_ca_cert_dir[0] ? cfg.tls_ca_cert_dir : NULL;
    if ((file || dir) && SSL_CTX_load_verify_locations(c, file, dir) != 1) {
        ssl_error_text(e, sizeof(e), "unknown error");
        log_warning("Failed to configure CA certificate(s) file/directory: %s", e);
        return -1;
    }
    return 0;
}

static SSL_CTX *context_new(void) {
    long no_protos = protocol_options(cfg.tls_protocols);
    if (no_protos == -1) return NULL;
    SSL_CTX *c = SSL_CTX_new(TLS_server_method());
    if (!c) {
        char e[256];
        ssl_error_text(e, sizeof(e), "unknown error");
        log_warning("Failed to create TLS context: %s", e);
        return NULL;
    }
    SSL_CTX_set_options(c, SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_IGNORE_UNEXPECTED_EOF | (unsigned long)no_protos);
    if (cfg.tls_prefer_server_ciphers) SSL_CTX_set_options(c, SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* RELEASE_BUFFERS: an idle connection gives its 34 KB of buffers back. */
    SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
    configure_sessions(c);
    int rc = load_credentials(c);
    if (rc == 0 && cfg.tls_ciphers[0] && SSL_CTX_set_cipher_list(c, cfg.tls_ciphers) != 1) {
        log_warning("Failed to configure ciphers: %s", cfg.tls_ciphers);
        rc = -1;
    }
    if (rc == 0 && cfg.tls_ciphersuites[0] && SSL_CTX_set_ciphersuites(c, cfg.tls_ciphersuites) != 1) {
        log_warning("Failed to configure ciphersuites: %s", cfg.tls_ciphersuites);
        rc = -1;
    }
    if (rc == 0) {
        if (cfg.tls_dh_params_file[0]) rc = load_dh_params(c, cfg.tls_dh_params_file);
        else SSL_CTX_set_dh_auto(c, 1);
    }
    ERR_clear_error();
    if (rc == -1) {
        SSL_CTX_free(c);
        return NULL;
    }
    return c;
}

/* Replaces the context with one built from cfg; keeps the old on failure. */
int tls_configure(void) {
    SSL_CTX *c = context_new();
    if (!c) return -1;
    SSL_CTX_free(ctx);
    ctx = c;
    return 0;
}

bool tls_is_configured(void) {
    return ctx != NULL;
}

void tls_free(void) {
    SSL_CTX_free(ctx);
    ctx = NULL;
    SSL_CTX_free(upstream_ctx);
    upstream_ctx = NULL;
}

/* ------------------------------------------------------------------------
 * The upstream context (relay mode): a client context from the
 * upstream-tls-* directives. The peer's chain is verified against the CA;
 * its name only when upstream-tls-sni names it (loopback and cluster nodes
 * are usually reached by address).
 * ------------------------------------------------------------------------ */

int tls_upstream_configure(char *err, size_t errlen) {
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    if (!c) {
        ssl_error_text(err, errlen, "SSL_CTX_new failed");
        return -1;
    }
    SSL_CTX_set_options(c, SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1);
    SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
    char e[256];
    const char *ca = cfg.upstream_tls_ca_cert_file;
    int ok = ca[0] ? SSL_CTX_load_verify_locations(c, ca, NULL) : SSL_CTX_set_default_verify_paths(c);
    if (ok != 1) {
        ssl_error_text(e, sizeof(e), "unknown error");
        snprintf(err, errlen, "Failed to load upstream CA certificate(s) %s: %s", ca, e);
        SSL_CTX_free(c);
        return -1;
    }
    if (cfg.upstream_tls_cert_file[0]) {
        const char *key = cfg.upstream_tls_key_file[0] ? cfg.upstream_tls_key_file : cfg.upstream_tls_cert_file;
        if (SSL_CTX_use_certificate_chain_file(c, cfg.upstream_tls_cert_file) != 1 ||
            SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1) {
            ssl_error_text(e, sizeof(e), "unknown error");
            snprintf(err, errlen, "Failed to load upstream client certificate %s: %s", cfg.upstream_tls_cert_file, e);
            SSL_CTX_free(c);
            return -1;
        }
    }
    ERR_clear_error();
    SSL_CTX_free(upstream_ctx);
    upstream_ctx = c;
    return 0;
}

tls_conn *tls_conn_new_upstream(int fd, const char *sni) {
    if (!upstream_ctx) return NULL;
    SSL *ssl = SSL_new(upstream_ctx);
    if (!ssl || SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        ERR_clear_error();
        return NULL;
    }
    SSL_set_connect_state(ssl);
    if (sni && sni[0]) {
        SSL_set_tlsext_host_name(ssl, sni);
        SSL_set1_host(ssl, sni);
    }
    tls_conn *t = mem_calloc(sizeof(*t));
    t->ssl = ssl;
    return t;
}

/* ------------------------------------------------------------------------
 * Connections
 * ------------------------------------------------------------------------ */

tls_conn *tls_conn_new(int fd) {
    if (!ctx) return NULL;
    SSL *ssl = SSL_new(ctx);
    if (!ssl || SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        ERR_clear_error();
        return NULL;
    }
    SSL_set_accept_state(ssl);
    /* Read per connection, as Redis does: CONFIG SET tls-auth-clients
     * applies to the next connection without rebuilding the context. */
    int mode = SSL_VERIFY_NONE;
    if (cfg.tls_auth_clients == CONFIG_TLS_AUTH_YES) mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    else if (cfg.tls_auth_clients == CONFIG_TLS_AUTH_OPTIONAL) mode = SSL_VERIFY_PEER;
    SSL_set_verify(ssl, mode, NULL);
    tls_conn *t = mem_calloc(sizeof(*t));
    t->ssl = ssl;
    return t;
}

void tls_conn_free(tls_conn *t) {
    if (!t) return;
    /* One non-blocking try at close_notify, so clients see a clean end;
     * whatever does not fit in the socket is dropped with it. */
    if (t->handshake_done && !t->failed) SSL_shutdown(t->ssl);
    ERR_clear_error();
    SSL_free(t->ssl);
    mem_free(t);
}

int tls_handshake(tls_conn *t, char *err, size_t errlen) {
    ERR_clear_error();
    int rc = SSL_do_handshake(t->ssl);
    if (rc == 1) {
        t->handshake_done = true;
        return TLS_DONE;
    }
    int code = SSL_get_error(t->ssl, rc);
    if (code == SSL_ERROR_WANT_READ) return TLS_WANT_READ;
    if (code == SSL_ERROR_WANT_WRITE) return TLS_WANT_WRITE;
    t->failed = true;
    conn_error_text(err, errlen, code);
    return TLS_FAILED;
}

bool tls_handshake_done(const tls_conn *t) {
    return t->handshake_done;
}

/* Maps a failed SSL_read/SSL_write to the read(2)/write(2) convention. */
static ssize_t io_result(tls_conn *t, int rc, bool reading) {
    int code = SSL_get_error(t->ssl, rc);
    switch (code) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        if (reading) t->read_needs_write = code == SSL_ERROR_WANT_WRITE;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        if (reading) return 0; /* close_notify, or EOF (IGNORE_UNEXPECTED_EOF) */
        break;
    default: break;
    }
    t->failed = true;
    conn_error_text(t->err, sizeof(t->err), code);
    errno = EIO;
    return -1;
}

ssize_t tls_read(tls_conn *t, void *p, size_t len) {
    if (len > INT_MAX) len = INT_MAX;
    ERR_clear_error();
    t->read_needs_write = false;
    int rc = SSL_read(t->ssl, p, (int)len);
    if (rc > 0) return rc;
    return io_result(t, rc, true);
}

ssize_t tls_writev(tls_conn *t, const struct iovec *iov, int cnt) {
    static char scratch[TLS_RECORD_LEN];
    const void *p;
    size_t len;
    if (cnt == 1 || iov[0].iov_len >= TLS_RECORD_LEN) {
        p = iov[0].iov_base;
        len = iov[0].iov_len < TLS_WRITE_MAX ? iov[0].iov_len : TLS_WRITE_MAX;
    } else {
        len = 0;
        for (int i = 0; i < cnt && len < sizeof(scratch); i++) {
            size_t n = iov[i].iov_len;
            if (n > sizeof(scratch) - len) n = sizeof(scratch) - len;
            memcpy(scratch + len, iov[i].iov_base, n);
            len += n;
        }
        p = scratch;
    }
    if (len == 0) return 0;
    ERR_clear_error();
    int rc = SSL_write(t->ssl, p, (int)len);
    if (rc > 0) return rc;
    return io_result(t, rc, false);
}

bool tls_read_needs_write(const tls_conn *t) {
    return t->read_needs_write;
}

size_t tls_pending(const tls_conn *t) {
    int n = SSL_pending(t->ssl);
    return n > 0 ? (size_t)n : 0;
}

const char *tls_last_error(const tls_conn *t) {
    return t->err;
}
