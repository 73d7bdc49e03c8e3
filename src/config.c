/* config.c -- The directive table and everything that reads or writes it:
 * config files and command-line overrides, CONFIG GET, CONFIG SET, CONFIG
 * REWRITE. One table drives all of them: each row names a directive, its
 * type, bounds, default (as text, parsed by the same code as a file
 * argument), flags and where its value lives in `cfg`. config_compat.c adds
 * the rows of directives Redis knows that have no effect here.
 *
 * Values are parsed into a scratch `value`, then moved into storage, so that
 * CONFIG SET can parse everything before touching anything and restore the
 * old values if an apply hook fails. The module knows nothing of sockets or
 * clients: the server registers apply hooks for what it must act on, and the
 * command layer turns our "ERR ..." texts into replies.
 *
 *   file / argv --> load_line --+                 +--> cfg (typed fields)
 *   CONFIG SET  --> set_parse --+--> value_parse --+--> apply hooks
 *   CONFIG GET / REWRITE <-- value_format <-- cfg
 */
#include "config.h"
#include "config_internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "glob.h"
#include "history.h"
#include "log.h"
#include "mem.h"
#include "util.h"
#include "version.h"

config cfg;

/* ------------------------------------------------------------------------
 * Our directives
 * ------------------------------------------------------------------------ */

static const char *const loglevel_names[] = {"debug", "verbose", "notice", "warning", NULL};
static const char *const supervised_names[] = {"upstart", "systemd", "auto", "no", NULL};
static const char *const acl_pubsub_names[] = {"allchannels", "resetchannels", NULL};
static const char *const protected_names[] = {"no", "yes", "local", NULL};
static const char *const tls_auth_names[] = {"no", "yes", "optional", NULL};
static const char *const upstream_cluster_names[] = {"no", "yes", "auto", NULL};
/* In HISTORY_LOG_FSYNC_* order. */
static const char *const history_fsync_names[] = {"always", "everysec", "no", NULL};

static int check_hz(long long *v, char *err, size_t errlen);
static int apply_dir(const char *name, char *err, size_t errlen);
static int canon_upstream(int argc, char **argv, buf *out, char *err, size_t errlen);
static int canon_channel_history(int argc, char **argv, buf *out, char *err, size_t errlen);

#define DEF(n, t, s, f, d, lo, hi, en, field) {n, NULL, t, s, f, d, lo, hi, en, &cfg.field, NULL, NULL, NULL}
#define BOOL_DEF(n, f, field, d) DEF(n, CONFIG_T_BOOL, CONFIG_S_BOOL, f, d, 0, 0, NULL, field)
#define INT_DEF(n, f, field, d, lo, hi) DEF(n, CONFIG_T_INT, CONFIG_S_INT, f, d, lo, hi, NULL, field)
#define MEM_DEF(n, f, field, d, lo) DEF(n, CONFIG_T_MEMORY, CONFIG_S_LL, f, d, lo, LLONG_MAX, NULL, field)
#define ENUM_DEF(n, f, field, d, names) DEF(n, CONFIG_T_ENUM, CONFIG_S_INT, f, d, 0, 0, names, field)
#define STR_DEF(n, f, field, d) DEF(n, CONFIG_T_STRING, CONFIG_S_PTR, f, d, 0, 0, NULL, field)

static const config_def core_defs[] = {
    /* Network */
    INT_DEF("port", 0, port, "6379", 0, 65535),
    DEF("bind", CONFIG_T_BIND, CONFIG_S_PTR, CONFIG_F_MULTI_ARG, "127.0.0.1 -::1", 0, 0, NULL, bind),
    STR_DEF("unixsocket", CONFIG_F_IMMUTABLE, unixsocket, ""),
    DEF("unixsocketperm", CONFIG_T_OCTAL, CONFIG_S_INT, CONFIG_F_IMMUTABLE, "0", 0, 0777, NULL, unixsocketperm),
    INT_DEF("tcp-backlog", CONFIG_F_IMMUTABLE, tcp_backlog, "511", 0, INT_MAX),
    INT_DEF("tcp-keepalive", 0, tcp_keepalive, "300", 0, INT_MAX),
    INT_DEF("timeout", 0, timeout, "0", 0, INT_MAX),
    BOOL_DEF("protected-mode", 0, protected_mode, "yes"),
    /* General */
    BOOL_DEF("daemonize", CONFIG_F_IMMUTABLE, daemonize, "no"),
    ENUM_DEF("supervised", CONFIG_F_IMMUTABLE, supervised, "no", supervised_names),
    STR_DEF("pidfile", CONFIG_F_IMMUTABLE, pidfile, ""),
    ENUM_DEF("loglevel", 0, loglevel, "notice", loglevel_names),
    STR_DEF("logfile", CONFIG_F_IMMUTABLE, logfile, ""),
    {"dir", NULL, CONFIG_T_STRING, CONFIG_S_PTR, CONFIG_F_PROTECTED | CONFIG_F_CWD, "", 0, 0, NULL, &cfg.dir, NULL,
     NULL, apply_dir},
    INT_DEF("databases", CONFIG_F_IMMUTABLE, databases, "16", 1, INT_MAX),
    {"hz", NULL, CONFIG_T_INT, CONFIG_S_INT, 0, "10", 0, INT_MAX, NULL, &cfg.hz, NULL, check_hz, NULL},
    /* Security */
    STR_DEF("requirepass", CONFIG_F_SENSITIVE, requirepass, ""),
    ENUM_DEF("acl-pubsub-default", 0, acl_pubsub_default, "resetchannels", acl_pubsub_names),
    STR_DEF("aclfile", CONFIG_F_IMMUTABLE, aclfile, ""),
    DEF("acllog-max-len", CONFIG_T_INT, CONFIG_S_LL, 0, "128", 0, LLONG_MAX, NULL, acllog_max_len),
    ENUM_DEF("enable-protected-configs", CONFIG_F_IMMUTABLE, enable_protected_configs, "no", protected_names),
    ENUM_DEF("enable-debug-command", CONFIG_F_IMMUTABLE, enable_debug_command, "no", protected_names),
    /* Limits */
    DEF("maxclients", CONFIG_T_INT, CONFIG_S_UINT, 0, "10000", 1, UINT_MAX, NULL, maxclients),
    MEM_DEF("proto-max-bulk-len", 0, proto_max_bulk_len, "512mb", 1024 * 1024),
    MEM_DEF("client-query-buffer-limit", 0, client_query_buffer_limit, "1gb", 1024 * 1024),
    DEF("client-output-buffer-limit", CONFIG_T_OBUF, CONFIG_S_PTR, CONFIG_F_MULTI_ARG,
        "normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60", 0, 0, NULL, obuf_limits),
    /* TLS: the server hooks rebuild the context and the TLS listeners */
    INT_DEF("tls-port", 0, tls_port, "0", 0, 65535),
    STR_DEF("tls-cert-file", 0, tls_cert_file, ""),
    STR_DEF("tls-key-file", 0, tls_key_file, ""),
    STR_DEF("tls-key-file-pass", CONFIG_F_SENSITIVE, tls_key_file_pass, ""),
    STR_DEF("tls-dh-params-file", 0, tls_dh_params_file, ""),
    STR_DEF("tls-ca-cert-file", 0, tls_ca_cert_file, ""),
    STR_DEF("tls-ca-cert-dir", 0, tls_ca_cert_dir, ""),
    ENUM_DEF("tls-auth-clients", 0, tls_auth_clients, "yes", tls_auth_names),
    STR_DEF("tls-protocols", 0, tls_protocols, ""),
    STR_DEF("tls-ciphers", 0, tls_ciphers, ""),
    STR_DEF("tls-ciphersuites", 0, tls_ciphersuites, ""),
    BOOL_DEF("tls-prefer-server-ciphers", 0, tls_prefer_server_ciphers, "no"),
    BOOL_DEF("tls-session-caching", 0, tls_session_caching, "yes"),
    DEF("tls-session-cache-size", CONFIG_T_INT, CONFIG_S_LL, 0, "20480", 0, INT_MAX, NULL, tls_session_cache_size),
    DEF("tls-session-cache-timeout", CONFIG_T_INT, CONFIG_S_LL, 0, "300", 0, INT_MAX, NULL,
        tls_session_cache_timeout),
    BOOL_DEF("reuseport", CONFIG_F_IMMUTABLE, reuseport, "no"),
    /* Relay mode: upstream.c reads these when it (re)connects */
    {"upstream", NULL, CONFIG_T_STRING, CONFIG_S_PTR, CONFIG_F_IMMUTABLE | CONFIG_F_MULTI_ARG, "", 0, 0, NULL,
     &cfg.upstream, canon_upstream, NULL, NULL},
    ENUM_DEF("upstream-cluster", CONFIG_F_IMMUTABLE, upstream_cluster, "auto", upstream_cluster_names),
    STR_DEF("upstream-user", 0, upstream_user, ""),
    STR_DEF("upstream-password", CONFIG_F_SENSITIVE, upstream_password, ""),
    BOOL_DEF("upstream-tls", CONFIG_F_IMMUTABLE, upstream_tls, "no"),
    STR_DEF("upstream-tls-ca-cert-file", 0, upstream_tls_ca_cert_file, ""),
    STR_DEF("upstream-tls-cert-file", 0, upstream_tls_cert_file, ""),
    STR_DEF("upstream-tls-key-file", 0, upstream_tls_key_file, ""),
    STR_DEF("upstream-tls-sni", 0, upstream_tls_sni, ""),
    DEF("upstream-connect-timeout", CONFIG_T_INT, CONFIG_S_LL, 0, "2000", 1, LLONG_MAX, NULL, upstream_connect_timeout),
    DEF("upstream-ping-period", CONFIG_T_INT, CONFIG_S_LL, 0, "500", 10, LLONG_MAX, NULL, upstream_ping_period),
    DEF("upstream-ping-timeout", CONFIG_T_INT, CONFIG_S_LL, 0, "1500", 10, LLONG_MAX, NULL, upstream_ping_timeout),
    DEF("upstream-hold-ms", CONFIG_T_INT, CONFIG_S_LL, 0, "10000", 0, LLONG_MAX, NULL, upstream_hold_ms),
    MEM_DEF("upstream-hold-bytes", 0, upstream_hold_bytes, "64mb", 0),
    DEF("upstream-refresh-period", CONFIG_T_INT, CONFIG_S_LL, 0, "5000", 100, LLONG_MAX, NULL,
        upstream_refresh_period),
    /* Channel history: any number of lines, each adding rules (as save) */
    {"channel-history", NULL, CONFIG_T_STRING, CONFIG_S_PTR, CONFIG_F_MULTI_ARG | CONFIG_F_APPEND, "", 0, 0, NULL,
     &cfg.channel_history, canon_channel_history, NULL, NULL},
    MEM_DEF("channel-history-max-memory", 0, channel_history_max_memory, "0", 0),
    STR_DEF("channel-history-dir", CONFIG_F_IMMUTABLE, channel_history_dir, ""),
    ENUM_DEF("channel-history-fsync", 0, channel_history_fsync, "everysec", history_fsync_names),
};

#define CORE_COUNT (sizeof(core_defs) / sizeof(core_defs[0]))
#define MAX_DEFS 256

/* channel-history <glob> <max-messages> [<max-seconds>] ...: history.c
 * knows the rule syntax; the canonical form always has three fields. */
static int canon_channel_history(int argc, char **argv, buf *out, char *err, size_t errlen) {
    return history_rules_parse(argc, argv, out, err, errlen);
}

static int check_hz(long long *v, char *err, size_t errlen) {
    (void)err, (void)errlen;
    /* Redis keeps any value in bounds but runs its cron within 1..500. */
    if (*v < 1) *v = 1;
    if (*v > 500) *v = 500;
    return 0;
}

/* upstream: one or more host:port seeds, kept as one space-separated string. */
static int canon_upstream(int argc, char **argv, buf *out, char *err, size_t errlen) {
    for (int i = 0; i < argc; i++) {
        const char *colon = strrchr(argv[i], ':');
        long long port;
        if (!colon || colon == argv[i] || !util_parse_ll(colon + 1, strlen(colon + 1), &port) || port < 1 ||
            port > 65535 || strchr(argv[i], ' ')) {
            snprintf(err, errlen, "Invalid upstream address '%s' (expected host:port)", argv[i]);
            return -1;
        }
        if (i) buf_append(out, " ", 1);
        buf_append_str(out, argv[i]);
    }
    return 0;
}

static int apply_dir(const char *name, char *err, size_t errlen) {
    (void)name;
    if (cfg.dir[0] && chdir(cfg.dir) == -1) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Module state
 * ------------------------------------------------------------------------ */

static config_apply_fn *hooks[MAX_DEFS]; /* server hooks, by table index */
char *config_file_path_abs;               /* owned; absolute path of the config file */
static buf notices;                      /* pending notice lines, NUL-separated */
static int notices_n;

const char *const config_obuf_class_names[CONFIG_CLASS_COUNT] = {"normal", "replica", "pubsub"};
static const char *const obuf_class_get_names[CONFIG_CLASS_COUNT] = {"normal", "slave", "pubsub"};

#define MAX_INCLUDE_DEPTH 16
#define GB (1024LL * 1024 * 1024)
#define MB (1024LL * 1024)

size_t config_defs_count(void) {
    return CORE_COUNT + config_compat_count;
}

const config_def *config_def_at(size_t i) {
    return i < CORE_COUNT ? &core_defs[i] : &config_compat_defs[i - CORE_COUNT];
}

/* Finds a directive by name or alias, any case. Returns its index or -1;
 * *is_alias tells which name matched. */
int config_def_lookup(const char *name, size_t len, bool *is_alias) {
    for (size_t i = 0; i < config_defs_count(); i++) {
        const config_def *d = config_def_at(i);
        if (util_eq_nocase(name, len, d->name)) {
            if (is_alias) *is_alias = false;
            return (int)i;
        }
        if (d->alias && util_eq_nocase(name, len, d->alias)) {
            if (is_alias) *is_alias = true;
            return (int)i;
        }
    }
    return -1;
}

static void add_notice(const char *name) {
    buf_printf(&notices, "%s: accepted for compatibility; has no effect in redis-pubsub", name);
    buf_append_char(&notices, '\0');
    notices_n++;
}

/* Notices queued by loads since the last config_log_notices(). */
int config_notices_count(void) {
    return notices_n;
}

/* Logs the queued notices at notice level, then forgets them. */
void config_log_notices(void) {
    for (size_t off = 0; off < notices.len; off += strlen(notices.data + off) + 1)
        log_notice("%s", notices.data + off);
    buf_free(&notices);
    notices_n = 0;
}

/* ------------------------------------------------------------------------
 * Values: a scratch copy of one directive's value, and the storage it moves to
 * ------------------------------------------------------------------------ */


/* Copies the stored value into v; pointers are shared, not duplicated. */
void config_value_load(const config_def *d, value *v) {
    memset(v, 0, sizeof(*v));
    switch (d->store) {
    case CONFIG_S_BOOL: v->num = *(bool *)d->storage; return;
    case CONFIG_S_INT: v->num = *(int *)d->storage; return;
    case CONFIG_S_UINT: v->num = *(unsigned int *)d->storage; return;
    case CONFIG_S_LL: v->num = *(long long *)d->storage; return;
    case CONFIG_S_PTR: break;
    }
    if (d->type == CONFIG_T_BIND) {
        v->list = cfg.bind;
        v->list_count = cfg.bind_count;
    } else if (d->type == CONFIG_T_OBUF) {
        memcpy(v->obuf, d->storage, sizeof(v->obuf));
    } else {
        v->str = *(char **)d->storage;
    }
}

/* Moves v into storage; whatever storage held must be owned elsewhere. */
static void value_store(const config_def *d, const value *v) {
    switch (d->store) {
    case CONFIG_S_BOOL: *(bool *)d->storage = v->num != 0; return;
    case CONFIG_S_INT: *(int *)d->storage = (int)v->num; return;
    case CONFIG_S_UINT: *(unsigned int *)d->storage = (unsigned int)v->num; return;
    case CONFIG_S_LL: *(long long *)d->storage = v->num; return;
    case CONFIG_S_PTR: break;
    }
    if (d->type == CONFIG_T_BIND) {
        cfg.bind = v->list;
        cfg.bind_count = v->list_count;
    } else if (d->type == CONFIG_T_OBUF) {
        memcpy(d->storage, v->obuf, sizeof(v->obuf));
    } else {
        *(char **)d->storage = v->str;
    }
}

void config_value_free(value *v) {
    mem_free(v->str);
    for (int i = 0; i < v->list_count; i++) mem_free(v->list[i]);
    mem_free(v->list);
    v->str = NULL;
    v->list = NULL;
    v->list_count = 0;
}

static int parse_obuf(int argc, char **argv, value *out, char *err, size_t errlen) {
    if (argc % 4 != 0) {
        snprintf(err, errlen, "Wrong number of arguments in buffer limit configuration.");
        return -1;
    }
    for (int i = 0; i < argc; i += 4) {
        int cls;
        if (!strcasecmp(argv[i], "normal")) cls = CONFIG_CLASS_NORMAL;
        else if (!strcasecmp(argv[i], "replica") || !strcasecmp(argv[i], "slave")) cls = CONFIG_CLASS_REPLICA;
        else if (!strcasecmp(argv[i], "pubsub")) cls = CONFIG_CLASS_PUBSUB;
        else {
            snprintf(err, errlen, "Invalid client class specified in buffer limit configuration.");
            return -1;
        }
        long long hard, soft, secs;
        if (config_parse_memory(argv[i + 1], &hard) != 1 || config_parse_memory(argv[i + 2], &soft) != 1 ||
            !util_parse_ll(argv[i + 3], strlen(argv[i + 3]), &secs) || secs < 0 || secs > INT_MAX) {
            snprintf(err, errlen, "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
            return -1;
        }
        out->obuf[cls].hard_bytes = (unsigned long long)hard;
        out->obuf[cls].soft_bytes = (unsigned long long)soft;
        out->obuf[cls].soft_seconds = secs;
    }
    return 0;
}

static int parse_bind(int argc, char **argv, value *out, char *err, size_t errlen) {
    if (argc > CONFIG_MAX_BIND) {
        snprintf(err, errlen, "Too many bind addresses specified.");
        return -1;
    }
    for (int i = 0; i < argc; i++) {
        if (!argv[i][0]) { /* what "bind '127.0.0.1  ::1'" splits into; Redis fails to bind it */
            snprintf(err, errlen, "Failed to bind to specified addresses.");
            return -1;
        }
    }
    out->list = argc ? mem_alloc(sizeof(char *) * (size_t)argc) : NULL;
    for (int i = 0; i < argc; i++) out->list[i] = mem_strdup(argv[i]);
    out->list_count = argc;
    return 0;
}

static int parse_number(const config_def *d, const char *s, long long *out, char *err, size_t errlen) {
    long long v;
    if (d->type == CONFIG_T_BOOL) {
        if (!strcasecmp(s, "yes")) v = 1;
        else if (!strcasecmp(s, "no")) v = 0;
        else {
            snprintf(err, errlen, "argument must be 'yes' or 'no'");
            return -1;
        }
    } else if (d->type == CONFIG_T_ENUM) {
        for (v = 0; d->enum_names[v]; v++)
            if (!strcasecmp(s, d->enum_names[v])) break;
        if (!d->enum_names[v]) {
            int n = snprintf(err, errlen, "argument(s) must be one of the following: ");
            for (int i = 0; d->enum_names[i] && n >= 0 && (size_t)n < errlen; i++)
                n += snprintf(err + n, errlen - (size_t)n, "%s%s", i ? ", " : "", d->enum_names[i]);
            return -1;
        }
    } else if (d->type == CONFIG_T_OCTAL) {
        char *end;
        errno = 0;
        v = strtoll(s, &end, 8);
        if (errno || *end) {
            snprintf(err, errlen, "argument couldn't be parsed as an octal number");
            return -1;
        }
        if (v < d->min || v > d->max) {
            snprintf(err, errlen, "argument must be between %llo and %llo inclusive", (unsigned long long)d->min,
                     (unsigned long long)d->max);
            return -1;
        }
    } else {
        bool mem = d->type == CONFIG_T_MEMORY;
        int rc = mem ? config_parse_memory(s, &v) : util_parse_ll(s, strlen(s), &v);
        if (rc == 0) {
            snprintf(err, errlen, mem ? "argument must be a memory value"
                                      : "argument couldn't be parsed into an integer");
            return -1;
        }
        /* A memory value past LLONG_MAX is out of bounds, as in Redis. */
        if (rc == -1 || v < d->min || v > d->max) {
            snprintf(err, errlen, "argument must be between %lld and %lld inclusive", d->min, d->max);
            return -1;
        }
    }
    if (d->check && d->check(&v, err, errlen) == -1) return -1;
    *out = v;
    return 0;
}

/* Parses the arguments of directive d into *out, which starts as a copy of
 * the current value's plain fields (client-output-buffer-limit changes only
 * the classes named). Returns 0, or -1 with Redis's reason in err. */
static int value_parse(const config_def *d, int argc, char **argv, value *out, char *err, size_t errlen) {
    config_value_load(d, out);
    out->str = NULL;
    out->list = NULL;
    out->list_count = 0;
    if (!(d->flags & CONFIG_F_MULTI_ARG) && argc != 1) {
        snprintf(err, errlen, "wrong number of arguments");
        return -1;
    }
    switch (d->type) {
    case CONFIG_T_BIND: return parse_bind(argc, argv, out, err, errlen);
    case CONFIG_T_OBUF: return parse_obuf(argc, argv, out, err, errlen);
    case CONFIG_T_STRING:
        if (d->canon) {
            buf b = {0};
            if (d->canon(argc, argv, &b, err, errlen) == -1) {
                buf_free(&b);
                return -1;
            }
            out->str = mem_strndup(b.data ? b.data : "", b.len);
            buf_free(&b);
        } else {
            out->str = mem_strdup(argv[0]);
        }
        return 0;
    default: return parse_number(d, argv[0], &out->num, err, errlen);
    }
}

/* Appends the CONFIG GET form of v. */
void config_value_format(const config_def *d, const value *v, buf *out) {
    switch (d->type) {
    case CONFIG_T_BOOL: buf_append_str(out, v->num ? "yes" : "no"); return;
    case CONFIG_T_INT:
    case CONFIG_T_MEMORY: buf_printf(out, "%lld", v->num); return;
    case CONFIG_T_OCTAL: buf_printf(out, "%llo", (unsigned long long)v->num); return;
    case CONFIG_T_ENUM: buf_append_str(out, d->enum_names[v->num]); return;
    case CONFIG_T_BIND:
        for (int i = 0; i < v->list_count; i++) buf_printf(out, "%s%s", i ? " " : "", v->list[i]);
        return;
    case CONFIG_T_OBUF:
        for (int c = 0; c < CONFIG_CLASS_COUNT; c++)
            buf_printf(out, "%s%s %llu %llu %lld", c ? " " : "", obuf_class_get_names[c], v->obuf[c].hard_bytes,
                       v->obuf[c].soft_bytes, v->obuf[c].soft_seconds);
        return;
    case CONFIG_T_STRING:
        if (d->flags & CONFIG_F_CWD) {
            char cwd[PATH_MAX];
            buf_append_str(out, getcwd(cwd, sizeof(cwd)) ? cwd : "");
        } else {
            buf_append_str(out, v->str ? v->str : "");
        }
        return;
    }
}

/* Parses the default of d into *v: split into arguments for directives
 * taking several, whole otherwise. A bad default is a bug in the table. */
void config_value_default(const config_def *d, value *v) {
    config_line args = {0};
    char err[256];
    char *whole = (char *)d->default_value;
    bool multi = d->flags & CONFIG_F_MULTI_ARG;
    if (multi && config_split_line(d->default_value, strlen(d->default_value), &args) == -1) abort();
    if (value_parse(d, multi ? args.argc : 1, multi ? args.argv : &whole, v, err, sizeof(err)) == -1) {
        fprintf(stderr, "config: bad default for %s: %s\n", d->name, err);
        abort();
    }
    config_line_free(&args);
}

/* ------------------------------------------------------------------------
 * Defaults and freeing
 * ------------------------------------------------------------------------ */

static void lines_free(config_line **lines, int *count) {
    for (int i = 0; i < *count; i++) config_line_free(&(*lines)[i]);
    mem_free(*lines);
    *lines = NULL;
    *count = 0;
}

static void lines_push(config_line **lines, int *count, int argc, char **argv) {
    *lines = mem_realloc(*lines, sizeof(config_line) * (size_t)(*count + 1));
    config_line *l = &(*lines)[(*count)++];
    l->argc = argc;
    l->argv = mem_alloc(sizeof(char *) * (size_t)(argc ? argc : 1));
    for (int i = 0; i < argc; i++) l->argv[i] = mem_strdup(argv[i]);
}

/* Frees every owned value, user and rename line, the file path and the
 * notices; cfg and every inert slot end zeroed. Hooks stay registered. */
void config_free(void) {
    for (size_t i = 0; i < config_defs_count(); i++) {
        const config_def *d = config_def_at(i);
        value v;
        config_value_load(d, &v);
        config_value_free(&v);
        memset(&v, 0, sizeof(v));
        value_store(d, &v);
    }
    lines_free(&cfg.users, &cfg.users_count);
    lines_free(&cfg.renames, &cfg.renames_count);
    memset(&cfg, 0, sizeof(cfg));
    mem_free(config_file_path_abs);
    config_file_path_abs = NULL;
    buf_free(&notices);
    notices_n = 0;
}

/* Frees the current values, then parses every default into storage. */
void config_init_defaults(void) {
    if (config_defs_count() > MAX_DEFS) abort();
    config_free();
    for (size_t i = 0; i < config_defs_count(); i++) {
        const config_def *d = config_def_at(i);
        value v;
        config_value_default(d, &v);
        value_store(d, &v);
    }
}

/* ------------------------------------------------------------------------
 * Loading config text, files and argv
 * ------------------------------------------------------------------------ */

typedef struct load_session {
    unsigned char seen[MAX_DEFS]; /* set during this load: APPEND, one notice each */
    unsigned specials_noticed;    /* bit per file-only directive already noticed */
    int depth;                    /* include nesting */
} load_session;

enum { LOAD_OK = 0, LOAD_ERR_REASON = -1, LOAD_ERR_FULL = -2 };

static int load_text(load_session *s, const char *text, size_t len, const char *source, bool argv_src, char *err,
                     size_t errlen);

/* Directives only config files know, not CONFIG GET/SET. */
static const char *const file_only_inert[] = {"rename-command", "loadmodule", "list-max-ziplist-entries",
                                              "list-max-ziplist-value", "lua-replicate-commands", NULL};

static void notice_special(load_session *s, int idx) {
    if (s->specials_noticed & (1u << idx)) return;
    s->specials_noticed |= 1u << idx;
    add_notice(file_only_inert[idx]);
}

int config_read_file(const char *path, buf *out, char *err, size_t errlen) {
    FILE *fp = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!fp) {
        snprintf(err, errlen, "Fatal error, can't open config file '%s': %s", path, strerror(errno));
        return -1;
    }
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) buf_append(out, chunk, n);
    int failed = ferror(fp);
    if (fp != stdin) fclose(fp);
    if (failed) {
        snprintf(err, errlen, "Fatal error, can't read config file '%s'", path);
        return -1;
    }
    return 0;
}

static int load_file(load_session *s, const char *path, const char *shown, char *err, size_t errlen) {
    buf text = {0};
    int rc = config_read_file(path, &text, err, errlen);
    if (rc == 0) rc = load_text(s, text.data ? text.data : "", text.len, shown, false, err, errlen);
    buf_free(&text);
    return rc;
}

/* Loads every file of dir whose name matches pattern, in name order. */
static int load_matching(load_session *s, const char *dir, const char *pattern, char *err, size_t errlen) {
    char **names;
    int n = config_list_matching(dir, pattern, &names);
    int rc = 0;
    buf path = {0};
    for (int i = 0; i < n; i++) {
        path.len = 0;
        buf_printf(&path, "%s/%s", dir, names[i]);
        buf_append_char(&path, '\0');
        if (rc == 0) rc = load_file(s, path.data, path.data, err, errlen);
        mem_free(names[i]);
    }
    buf_free(&path);
    mem_free(names);
    return rc;
}

/* include <path>: relative to the working directory; wildcards (as Redis 7
 * allows) in the file name part only. */
static int load_include(load_session *s, const char *path, char *err, size_t errlen) {
    if (s->depth >= MAX_INCLUDE_DEPTH) {
        snprintf(err, errlen, "Fatal error, too many nested includes at '%s'", path);
        return LOAD_ERR_FULL;
    }
    s->depth++;
    int rc;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (strpbrk(base, "*?[")) {
        char *dir = slash ? mem_strndup(path, (size_t)(slash - path)) : mem_strdup(".");
        rc = load_matching(s, dir, base, err, errlen);
        mem_free(dir);
    } else {
        rc = load_file(s, path, path, err, errlen);
    }
    s->depth--;
    return rc == 0 ? LOAD_OK : LOAD_ERR_FULL;
}

static int load_user(const config_line *l, char *reason, size_t rlen) {
    for (int i = 0; i < cfg.users_count; i++) {
        if (!strcmp(cfg.users[i].argv[0], l->argv[1])) {
            snprintf(reason, rlen,
                     "Error in user declaration '%s': Duplicate user found. A user can only be defined once in "
                     "config files",
                     l->argv[1]);
            return LOAD_ERR_REASON;
        }
    }
    lines_push(&cfg.users, &cfg.users_count, l->argc - 1, l->argv + 1);
    return LOAD_OK;
}

/* Handles directives outside the table. Returns 1 if not one of them. */
static int load_special(load_session *s, const config_line *l, char *reason, size_t rlen) {
    const char *name = l->argv[0];
    if (!strcasecmp(name, "include") && l->argc == 2) return load_include(s, l->argv[1], reason, rlen);
    if (!strcasecmp(name, "user") && l->argc >= 2) return load_user(l, reason, rlen);
    if (!strcasecmp(name, "sentinel")) {
        snprintf(reason, rlen, "sentinel directive while not in sentinel mode");
        return LOAD_ERR_REASON;
    }
    if (!strcasecmp(name, "rename-command") && l->argc == 3) {
        lines_push(&cfg.renames, &cfg.renames_count, 2, l->argv + 1);
        notice_special(s, 0);
        return LOAD_OK;
    }
    if (!strcasecmp(name, "loadmodule") && l->argc >= 2) {
        notice_special(s, 1);
        return LOAD_OK;
    }
    for (int i = 2; file_only_inert[i]; i++) {
        if (!strcasecmp(name, file_only_inert[i]) && l->argc == 2) {
            notice_special(s, i);
            return LOAD_OK;
        }
    }
    return 1;
}

/* Applies one split config line. */
static int load_line(load_session *s, const config_line *l, char *reason, size_t rlen) {
    int rc = load_special(s, l, reason, rlen);
    if (rc != 1) return rc;
    int idx = config_def_lookup(l->argv[0], strlen(l->argv[0]), NULL);
    if (idx == -1) {
        snprintf(reason, rlen, "Bad directive or wrong number of arguments");
        return LOAD_ERR_REASON;
    }
    const config_def *d = config_def_at((size_t)idx);
    int argc = l->argc - 1;
    char **argv = l->argv + 1;
    if ((d->flags & CONFIG_F_MULTI_ARG) && argc == 1 && !argv[0][0]) argc = 0; /* save "" */
    /* One quoted argument of a multi-argument directive is split again, as
     * Redis does: --client-output-buffer-limit "pubsub 32mb 8mb 60". */
    config_line resplit = {0};
    if ((d->flags & CONFIG_F_MULTI_ARG) && argc == 1) {
        if (config_split_line(argv[0], strlen(argv[0]), &resplit) == -1) {
            snprintf(reason, rlen, "Unbalanced quotes in configuration line");
            return LOAD_ERR_REASON;
        }
        argc = resplit.argc;
        argv = resplit.argv;
    }
    value v, old;
    int parsed = value_parse(d, argc, argv, &v, reason, rlen);
    config_line_free(&resplit);
    if (parsed == -1) {
        config_value_free(&v);
        return LOAD_ERR_REASON;
    }
    config_value_load(d, &old);
    if ((d->flags & CONFIG_F_APPEND) && s->seen[idx] && v.str[0] && old.str[0]) {
        /* The first save line of a load replaces the default, later ones add. */
        buf joined = {0};
        buf_printf(&joined, "%s %s", old.str, v.str);
        mem_free(v.str);
        v.str = mem_strndup(joined.data, joined.len);
        buf_free(&joined);
    }
    value_store(d, &v);
    config_value_free(&old);
    if ((d->flags & CONFIG_F_INERT) && !s->seen[idx]) add_notice(d->name);
    s->seen[idx] = 1;
    return LOAD_OK;
}

static void fatal_message(char *err, size_t errlen, const char *source, bool argv_src, int lineno,
                          const char *line, size_t line_len, const char *reason) {
    int n = snprintf(err, errlen, "*** FATAL CONFIG FILE ERROR (redis-pubsub %s) ***\n", REDIS_PUBSUB_VERSION);
    if (n < 0 || (size_t)n >= errlen) return;
    if (argv_src) n += snprintf(err + n, errlen - (size_t)n, "Reading the command line options, at option %d\n", lineno);
    else n += snprintf(err + n, errlen - (size_t)n, "Reading the configuration file '%s', at line %d\n", source, lineno);
    if (n < 0 || (size_t)n >= errlen) return;
    snprintf(err + n, errlen - (size_t)n, ">>> '%.*s'\n%s", (int)line_len, line, reason);
}

static int load_text(load_session *s, const char *text, size_t len, const char *source, bool argv_src, char *err,
                     size_t errlen) {
    const char *p = text, *end = text + len;
    for (int lineno = 1; p < end; lineno++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *ls = p;
        p = nl ? nl + 1 : end;
        while (ls < le && strchr(" \t\r", *ls)) ls++;
        while (le > ls && strchr(" \t\r", le[-1])) le--;
        if (ls == le || *ls == '#') continue;

        config_line l;
        char reason[2048];
        int rc;
        if (config_split_line(ls, (size_t)(le - ls), &l) == -1) {
            snprintf(reason, sizeof(reason), "Unbalanced quotes in configuration line");
            rc = LOAD_ERR_REASON;
        } else if (l.argc == 0) {
            rc = LOAD_OK;
        } else {
            rc = load_line(s, &l, reason, sizeof(reason));
            if (rc == LOAD_ERR_FULL) snprintf(err, errlen, "%s", reason);
        }
        config_line_free(&l);
        if (rc == LOAD_ERR_REASON)
            fatal_message(err, errlen, source, argv_src, lineno, ls, (size_t)(le - ls), reason);
        if (rc != LOAD_OK) return -1;
    }
    return 0;
}

/* Loads text as one session (save lines add up within it). Returns 0 or -1
 * with the fatal message in err; values read before the error stay set. */
int config_load_text(const char *text, const char *source_name, char *err, size_t errlen) {
    load_session s;
    memset(&s, 0, sizeof(s));
    return load_text(&s, text, strlen(text), source_name, false, err, errlen);
}

/* Sets config_file_path_abs to the absolute form of path: resolved if the file exists
 * (so REWRITE edits a symlink's target), else joined to the cwd. */
static void remember_path(const char *path) {
    char resolved[PATH_MAX], cwd[PATH_MAX];
    mem_free(config_file_path_abs);
    if (realpath(path, resolved)) {
        config_file_path_abs = mem_strdup(resolved);
    } else if (path[0] != '/' && getcwd(cwd, sizeof(cwd))) {
        buf b = {0};
        buf_printf(&b, "%s/%s", cwd, path);
        config_file_path_abs = mem_strndup(b.data, b.len);
        buf_free(&b);
    } else {
        config_file_path_abs = mem_strdup(path);
    }
}

static int load_main_file(load_session *s, const char *path, char *err, size_t errlen) {
    remember_path(path);
    buf text = {0};
    int rc = config_read_file(config_file_path_abs, &text, err, errlen);
    if (rc == 0) rc = load_text(s, text.data ? text.data : "", text.len, config_file_path_abs, false, err, errlen);
    buf_free(&text);
    return rc;
}

/* Loads path as one session and remembers it for CONFIG REWRITE. */
int config_load_file(const char *path, char *err, size_t errlen) {
    load_session s;
    memset(&s, 0, sizeof(s));
    return load_main_file(&s, path, err, errlen);
}

/* File (argv[1] unless it starts with '-'), then stdin if "-" is first or
 * last, then the --options, all one session. Returns 0 or -1 (err set). */
int config_load_argv(int argc, char **argv, char *err, size_t errlen) {
    load_session s;
    memset(&s, 0, sizeof(s));
    int first = 1;
    if (argc > 1 && argv[1][0] != '-') {
        if (load_main_file(&s, argv[1], err, errlen) == -1) return -1;
        first = 2;
    }
    bool from_stdin = argc > 1 && (!strcmp(argv[1], "-") || (argc > 2 && !strcmp(argv[argc - 1], "-")));
    if (from_stdin && load_file(&s, "-", "stdin", err, errlen) == -1) return -1;
    buf lines = {0};
    config_argv_to_lines(argc, argv, first, &lines);
    int rc = load_text(&s, lines.data ? lines.data : "", lines.len, "command line", true, err, errlen);
    buf_free(&lines);
    return rc;
}

/* Borrowed; valid until the next load or config_free(). */
const char *config_file_path(void) {
    return config_file_path_abs;
}

/* ------------------------------------------------------------------------
 * CONFIG GET
 * ------------------------------------------------------------------------ */

/* Walks patterns in order and the table in order for each, emitting every
 * matching name or alias once. */
void config_get(const char **patterns, const size_t *pattern_lens, int npatterns, config_get_fn *cb, void *ctx) {
    unsigned char emitted[MAX_DEFS * 2] = {0};
    buf v = {0};
    for (int p = 0; p < npatterns; p++) {
        if (!memchr(patterns[p], '*', pattern_lens[p]) && !memchr(patterns[p], '?', pattern_lens[p]) &&
            !memchr(patterns[p], '[', pattern_lens[p])) {
            /* A plain name is a lookup, and Redis echoes it as typed. */
            bool is_alias = false;
            int idx = config_def_lookup(patterns[p], pattern_lens[p], &is_alias);
            if (idx == -1) continue;
            const config_def *d = config_def_at((size_t)idx);
            size_t slot = (size_t)idx * 2 + (is_alias ? 1 : 0);
            if (emitted[slot]) continue;
            emitted[slot] = 1;
            value cur;
            config_value_load(d, &cur);
            v.len = 0;
            config_value_format(d, &cur, &v);
            buf_append_char(&v, '\0');
            char *typed = mem_strndup(patterns[p], pattern_lens[p]);
            cb(ctx, typed, v.data);
            mem_free(typed);
            continue;
        }
        for (size_t i = 0; i < config_defs_count(); i++) {
            const config_def *d = config_def_at(i);
            for (int a = 0; a < 2; a++) {
                const char *name = a ? d->alias : d->name;
                if (!name || emitted[i * 2 + (size_t)a]) continue;
                if (!glob_match_nocase(patterns[p], pattern_lens[p], name, strlen(name))) continue;
                emitted[i * 2 + (size_t)a] = 1;
                value cur;
                config_value_load(d, &cur);
                v.len = 0;
                config_value_format(d, &cur, &v);
                buf_append_char(&v, '\0');
                cb(ctx, name, v.data);
            }
        }
    }
    buf_free(&v);
}

/* The CONFIG GET form of one directive, truncated to dst_len. */
int config_format_value(const char *name, char *dst, size_t dst_len) {
    int idx = config_def_lookup(name, strlen(name), NULL);
    if (idx == -1) return -1;
    const config_def *d = config_def_at((size_t)idx);
    value cur;
    config_value_load(d, &cur);
    buf v = {0};
    config_value_format(d, &cur, &v);
    snprintf(dst, dst_len, "%.*s", (int)v.len, v.data ? v.data : "");
    buf_free(&v);
    return 0;
}

/* True if name (or its alias) is flagged CONFIG_F_SENSITIVE. */
bool config_is_sensitive(const char *name, size_t name_len) {
    int idx = config_def_lookup(name, name_len, NULL);
    return idx != -1 && (config_def_at((size_t)idx)->flags & CONFIG_F_SENSITIVE);
}

/* Stores fn for the directive called name (or its alias); NULL removes. */
int config_set_apply_hook(const char *name, config_apply_fn *fn) {
    int idx = config_def_lookup(name, strlen(name), NULL);
    if (idx == -1) return -1;
    hooks[idx] = fn;
    return 0;
}

/* ------------------------------------------------------------------------
 * CONFIG SET
 * ------------------------------------------------------------------------ */

typedef struct set_item {
    int idx;       /* table index */
    bool alias;    /* named by its alias */
    value old;     /* what storage held before */
    value new;     /* parsed value */
    bool parsed;
} set_item;

static void set_error(char *err, size_t errlen, const char *name, size_t name_len, const char *reason) {
    snprintf(err, errlen, "ERR CONFIG SET failed (possibly related to argument '%.*s') - %s", (int)name_len, name,
             reason);
}

bool config_value_changed(const config_def *d, const value *a, const value *b) {
    if (d->flags & CONFIG_F_CWD) return strcmp(a->str ? a->str : "", b->str ? b->str : "") != 0;
    buf fa = {0}, fb = {0};
    config_value_format(d, a, &fa);
    config_value_format(d, b, &fb);
    bool changed = fa.len != fb.len || (fa.len && memcmp(fa.data, fb.data, fa.len) != 0);
    buf_free(&fa);
    buf_free(&fb);
    return changed;
}

/* Checks names: unknown, immutable, protected, named twice. */
static int set_check_names(int npairs, const char **names, const size_t *name_lens, set_item *items, char *err,
                           size_t errlen) {
    for (int i = 0; i < npairs; i++) {
        int idx = config_def_lookup(names[i], name_lens[i], &items[i].alias);
        if (idx == -1) {
            char shown[129];
            size_t n = name_lens[i] < 128 ? name_lens[i] : 128;
            for (size_t k = 0; k < n; k++) shown[k] = (names[i][k] == '\r' || names[i][k] == '\n') ? ' ' : names[i][k];
            shown[n] = '\0';
            snprintf(err, errlen, "ERR Unknown option or number of arguments for CONFIG SET - '%s'", shown);
            return -1;
        }
        items[i].idx = idx;
        const config_def *d = config_def_at((size_t)idx);
        const char *reason = NULL;
        if (d->flags & CONFIG_F_IMMUTABLE) reason = "can't set immutable config";
        else if ((d->flags & CONFIG_F_PROTECTED) && cfg.enable_protected_configs != CONFIG_PROTECTED_YES)
            reason = "can't set protected config";
        for (int j = 0; !reason && j < i; j++)
            if (items[j].idx == idx && items[j].alias == items[i].alias) reason = "duplicate parameter";
        if (reason) {
            set_error(err, errlen, names[i], name_lens[i], reason);
            return -1;
        }
    }
    return 0;
}

static int set_parse(int npairs, const char **names, const size_t *name_lens, const char **values,
                     const size_t *value_lens, set_item *items, char *err, size_t errlen) {
    for (int i = 0; i < npairs; i++) {
        const config_def *d = config_def_at((size_t)items[i].idx);
        char **argv;
        int argc;
        if (d->flags & CONFIG_F_MULTI_ARG) {
            argc = config_split_spaces(values[i], value_lens[i], &argv);
        } else {
            argc = 1;
            argv = mem_alloc(sizeof(char *));
            argv[0] = mem_strndup(values[i], value_lens[i]);
        }
        char reason[256];
        int rc = value_parse(d, argc, argv, &items[i].new, reason, sizeof(reason));
        items[i].parsed = true;
        for (int k = 0; k < argc; k++) mem_free(argv[k]);
        mem_free(argv);
        if (rc == -1) {
            set_error(err, errlen, names[i], name_lens[i], reason);
            return -1;
        }
    }
    return 0;
}

/* The apply functions (built-in, then server hooks) of the directives a
 * CONFIG SET changed, each function once even if several directives share
 * it (the server's listener hook serves port and bind). */
typedef struct apply_list {
    config_apply_fn *fns[MAX_DEFS * 2];
    const char *names[MAX_DEFS * 2]; /* canonical name passed to the hook */
    int shown[MAX_DEFS * 2];         /* pair index for the error message */
    int count;
} apply_list;

static void apply_add(apply_list *al, config_apply_fn *fn, const char *name, int pair) {
    if (!fn) return;
    for (int i = 0; i < al->count; i++)
        if (al->fns[i] == fn) return;
    al->fns[al->count] = fn;
    al->names[al->count] = name;
    al->shown[al->count++] = pair;
}

/* Names, then values, then storage, then apply functions; a failure at any
 * stage leaves every value as it was. Returns 0, or -1 with "ERR ...". */
int config_set(int npairs, const char **names, const size_t *name_lens, const char **values,
               const size_t *value_lens, char *err, size_t errlen) {
    set_item *items = mem_calloc(sizeof(set_item) * (size_t)(npairs ? npairs : 1));
    apply_list *al = mem_calloc(sizeof(apply_list));
    int rc = -1;
    if (set_check_names(npairs, names, name_lens, items, err, errlen) == -1) goto done;
    if (set_parse(npairs, names, name_lens, values, value_lens, items, err, errlen) == -1) goto done;

    for (int i = 0; i < npairs; i++) {
        const config_def *d = config_def_at((size_t)items[i].idx);
        config_value_load(d, &items[i].old);
        value_store(d, &items[i].new);
        if (config_value_changed(d, &items[i].old, &items[i].new)) {
            apply_add(al, d->apply, d->name, i);
            apply_add(al, hooks[items[i].idx], d->name, i);
        }
    }
    int failed = -1;
    char reason[256];
    for (int k = 0; k < al->count && failed == -1; k++) {
        reason[0] = '\0';
        if (al->fns[k](al->names[k], reason, sizeof(reason)) == -1) failed = k;
    }
    if (failed == -1) {
        /* Storage owns the new values now; the old ones (and a value set
         * under a name and then its alias) are garbage. */
        for (int i = 0; i < npairs; i++) {
            config_value_free(&items[i].old);
            items[i].parsed = false;
        }
        rc = 0;
        goto done;
    }
    set_error(err, errlen, names[al->shown[failed]], name_lens[al->shown[failed]], reason);
    /* Restore in reverse, so a directive set under both names gets its
     * original back; then re-apply what may have acted on the new values. */
    for (int i = npairs - 1; i >= 0; i--) value_store(config_def_at((size_t)items[i].idx), &items[i].old);
    for (int k = 0; k <= failed; k++) {
        char ignored[256];
        if (al->fns[k](al->names[k], ignored, sizeof(ignored)) == -1)
            log_warning("Failed to restore '%s' after a failed CONFIG SET: %s", al->names[k], ignored);
    }
done:
    for (int i = 0; i < npairs; i++)
        if (items[i].parsed) config_value_free(&items[i].new);
    mem_free(items);
    mem_free(al);
    return rc;
}
