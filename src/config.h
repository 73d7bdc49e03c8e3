/* config.h -- Configuration: the directive table, redis.conf-syntax files and
 * command-line overrides, CONFIG GET / SET / REWRITE. Values live, typed, in
 * the global `cfg`; every other module reads them from there and never writes
 * them (CONFIG SET goes through config_set(), which calls the apply hooks). */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

/* ------------------------------------------------------------------------
 * The values
 * ------------------------------------------------------------------------ */

#define CONFIG_MAX_BIND 16 /* addresses in one bind directive, as Redis */

/* Client classes of client-output-buffer-limit, in Redis's order. */
enum { CONFIG_CLASS_NORMAL = 0, CONFIG_CLASS_REPLICA = 1, CONFIG_CLASS_PUBSUB = 2, CONFIG_CLASS_COUNT = 3 };

/* Enum values are indexes into each directive's name list, which follows the
 * order Redis prints in its "must be one of the following" error. */
enum { CONFIG_SUPERVISED_UPSTART, CONFIG_SUPERVISED_SYSTEMD, CONFIG_SUPERVISED_AUTO, CONFIG_SUPERVISED_NO };
enum { CONFIG_ACL_ALLCHANNELS, CONFIG_ACL_RESETCHANNELS };
enum { CONFIG_PROTECTED_NO, CONFIG_PROTECTED_YES, CONFIG_PROTECTED_LOCAL };
enum { CONFIG_TLS_AUTH_NO, CONFIG_TLS_AUTH_YES, CONFIG_TLS_AUTH_OPTIONAL };
enum { CONFIG_UPSTREAM_CLUSTER_NO, CONFIG_UPSTREAM_CLUSTER_YES, CONFIG_UPSTREAM_CLUSTER_AUTO };

typedef struct config_obuf_limit {
    unsigned long long hard_bytes; /* close at once at this many pending bytes; 0 = none */
    unsigned long long soft_bytes; /* close after soft_seconds at or above this; 0 = none */
    long long soft_seconds;        /* seconds over soft_bytes before closing */
} config_obuf_limit;

/* One `user` (or `rename-command`) line from a config file: the arguments
 * after the directive name, kept for the ACL and command modules. */
typedef struct config_line {
    char **argv; /* owned, each owned */
    int argc;
} config_line;

typedef struct config {
    /* Network */
    int port;                       /* TCP port; 0 = no TCP listener */
    char **bind;                    /* owned; "-addr" = optional address */
    int bind_count;                 /* entries in bind; 0 = listen nowhere */
    char *unixsocket;               /* owned; "" = no unix socket */
    int unixsocketperm;             /* mode bits (octal in files); 0 = umask */
    int tcp_backlog;                /* listen(2) backlog */
    int tcp_keepalive;              /* seconds; 0 = no SO_KEEPALIVE */
    int timeout;                    /* idle seconds before closing; 0 = never */
    bool protected_mode;            /* refuse non-loopback clients without a password */
    /* General */
    bool daemonize;
    int supervised;                 /* CONFIG_SUPERVISED_* */
    char *pidfile;                  /* owned; "" = none */
    int loglevel;                   /* LOG_* of log.h */
    char *logfile;                  /* owned; "" = stdout */
    char *dir;                      /* owned; "" = stay; the server chdirs at start */
    int databases;                  /* SELECT accepts 0 .. databases-1 */
    int hz;                         /* cron frequency, kept within 1..500 */
    /* Security */
    char *requirepass;              /* owned; "" = no password */
    int acl_pubsub_default;         /* CONFIG_ACL_* */
    char *aclfile;                  /* owned; "" = none */
    long long acllog_max_len;       /* ACL LOG entries kept */
    int enable_protected_configs;   /* CONFIG_PROTECTED_*: only YES lets CONFIG SET change dir */
    int enable_debug_command;       /* CONFIG_PROTECTED_*: who may run DEBUG */
    config_line *users;             /* owned; `user` lines in file order */
    int users_count;
    config_line *renames;           /* owned; `rename-command` lines (not applied yet) */
    int renames_count;
    /* Limits */
    unsigned int maxclients;        /* connected clients at most */
    long long proto_max_bulk_len;   /* bytes in one bulk argument */
    long long client_query_buffer_limit; /* bytes in one client's query buffer */
    config_obuf_limit obuf_limits[CONFIG_CLASS_COUNT]; /* by CONFIG_CLASS_* */
    /* TLS (strings owned; "" = not set) */
    int tls_port;                   /* TLS port on the bind addresses; 0 = none */
    char *tls_cert_file;            /* server certificate chain, PEM */
    char *tls_key_file;             /* its private key, PEM */
    char *tls_key_file_pass;        /* passphrase of an encrypted key */
    char *tls_ca_cert_file;         /* CAs that sign client certificates */
    char *tls_ca_cert_dir;          /* same, as an OpenSSL hashed directory */
    char *tls_dh_params_file;       /* DH parameters, PEM; "" = OpenSSL's built-in */
    char *tls_protocols;            /* "TLSv1.2 TLSv1.3" and the like; "" = those two */
    char *tls_ciphers;              /* TLSv1.2 and below cipher list */
    char *tls_ciphersuites;         /* TLSv1.3 cipher suites */
    int tls_auth_clients;           /* CONFIG_TLS_AUTH_*: client certificates */
    bool tls_prefer_server_ciphers;
    bool tls_session_caching;
    long long tls_session_cache_size;    /* sessions kept */
    long long tls_session_cache_timeout; /* seconds */
    bool reuseport;                 /* SO_REUSEPORT on the TCP listeners */
    /* Relay mode (strings owned; "" = not set) */
    char *upstream;                 /* seeds "host:port host:port ..."; "" = standalone node */
    int upstream_cluster;           /* CONFIG_UPSTREAM_CLUSTER_* */
    char *upstream_user;            /* AUTH user on every upstream link; "" = default */
    char *upstream_password;        /* AUTH password; "" = no AUTH */
    bool upstream_tls;              /* TLS on the upstream links */
    char *upstream_tls_ca_cert_file;
    char *upstream_tls_cert_file;   /* client certificate, if the upstream asks */
    char *upstream_tls_key_file;
    char *upstream_tls_sni;         /* server name sent and verified; "" = the host */
    long long upstream_connect_timeout; /* ms */
    long long upstream_ping_period; /* ms between PINGs on each link */
    long long upstream_ping_timeout;/* ms without a reply before a link is dropped */
    long long upstream_hold_ms;     /* how long a PUBLISH waits for a link */
    long long upstream_hold_bytes;  /* bytes of PUBLISHes held at most */
    long long upstream_refresh_period; /* ms between cluster topology refreshes */
    /* Channel history (history.c reads these through the server's hooks) */
    char *channel_history;          /* owned; canonical "glob n s ..." rules; "" = none */
    long long channel_history_max_memory; /* bytes for all histories; 0 = no cap */
    char *channel_history_dir;      /* owned; "" = memory only (history_log.c) */
    int channel_history_fsync;      /* HISTORY_LOG_FSYNC_*: always, everysec, no */
} config;

extern config cfg;

/* ------------------------------------------------------------------------
 * Loading
 * ------------------------------------------------------------------------ */

/* Frees whatever cfg holds and fills it with the defaults (those of
 * redis-pubsub.conf). Forgets the config file path and pending notices. */
void config_init_defaults(void);
/* Loads the configuration as redis-server does from its arguments:
 * [configfile | -] [--name value ...]. A first argument not starting with
 * "--" is the file ("-" reads stdin); each "--name" starts an override line
 * applied after the file, later lines winning. Returns 0, or -1 with err
 * holding the whole fatal message (the server prints "\n", err, "\n" to
 * stderr and exits 1, as Redis does). -v/-h are the caller's business. */
int config_load_argv(int argc, char **argv, char *err, size_t errlen);
/* Loads a config file and remembers its absolute path for CONFIG REWRITE. */
int config_load_file(const char *path, char *err, size_t errlen);
/* Loads config text; source_name appears in error messages. Relative
 * `include` paths are relative to the working directory, as in Redis. */
int config_load_text(const char *text, const char *source_name, char *err, size_t errlen);
/* Absolute path of the config file loaded, or NULL (none, or stdin). */
const char *config_file_path(void);
/* Notices collected while loading (such as "save: accepted for
 * compatibility; has no effect in redis-pubsub"): the server calls
 * config_log_notices() once logging is set up; it logs and forgets them. */
int config_notices_count(void);
void config_log_notices(void);
/* Frees every owned value; cfg is then zeroed. Safe to call twice. */
void config_free(void);

/* ------------------------------------------------------------------------
 * CONFIG GET / SET / REWRITE
 * ------------------------------------------------------------------------ */

typedef void config_get_fn(void *ctx, const char *name, const char *value);
/* Calls cb(ctx, name, value) for every directive name (aliases included,
 * as Redis) matching any pattern, case-insensitively, each name once, in
 * pattern order then table order. Values are formatted as Redis 7.0's
 * CONFIG GET does; the strings are valid during the call only. */
void config_get(const char **patterns, const size_t *pattern_lens, int npatterns, config_get_fn *cb, void *ctx);
/* Writes the CONFIG GET form of one directive into dst (NUL-terminated,
 * truncated to dst_len). Returns 0, or -1 if the name is unknown. */
int config_format_value(const char *name, char *dst, size_t dst_len);

/* CONFIG SET with npairs name/value pairs (borrowed, binary-safe lengths).
 * All or nothing: names are checked first (unknown, immutable, protected,
 * duplicate), then every value is parsed, then stored; apply hooks of the
 * changed directives run last, and if one fails every value is restored and
 * the hooks run again. Returns 0, or -1 with err holding the full error
 * reply text, "ERR ..." as Redis words it. The caller answers an odd
 * argument count itself (Redis: "ERR wrong number of arguments ..."). */
int config_set(int npairs, const char **names, const size_t *name_lens, const char **values,
               const size_t *value_lens, char *err, size_t errlen);

/* Called by config_set() after the new value is stored (cfg shows it).
 * Returning -1 with err set ("Unable to listen on this port") fails the
 * CONFIG SET and restores the old values. A hook runs once per CONFIG SET
 * even if registered for several directives that change together. Hooks do
 * not run while loading files: the server applies start-up values itself. */
typedef int config_apply_fn(const char *name, char *err, size_t errlen);
/* Registers fn for directive name (a canonical name). Returns 0, or -1 if
 * the name is unknown. Registering again replaces the hook. */
int config_set_apply_hook(const char *name, config_apply_fn *fn);
/* True for directives whose values must not be logged (requirepass...). */
bool config_is_sensitive(const char *name, size_t name_len);

/* CONFIG REWRITE writes the ACL users as `user` lines (when there is no
 * aclfile), as Redis does; fn appends them to out, one per line, each
 * ending in '\n'. Set by the ACL layer, which config.c must not know. */
typedef void config_users_fn(struct buf *out);
void config_set_users_writer(config_users_fn *fn);

/* CONFIG REWRITE: rewrites the file loaded at start-up in place of itself
 * (temp file + rename, mode kept). Lines of directives we know are updated
 * where they stand (extra occurrences blanked), others are kept verbatim,
 * and non-default values not in the file are appended after a
 * "# Generated by CONFIG REWRITE" line. Returns 0, or -1 with err holding
 * the reply ("ERR The server is running without a config file"). */
int config_rewrite(char *err, size_t errlen);

/* ------------------------------------------------------------------------
 * Reading arguments as redis-server does (config_compat.c)
 * ------------------------------------------------------------------------ */

/* Splits a line into arguments: blanks separate; "double quotes" take the
 * escapes \n \r \t \b \a \xHH and \<c> for c; 'single quotes' take only \'.
 * A closing quote must be followed by a blank or the end. On success fills
 * *out (owned: config_line_free) and returns 0; -1 on unbalanced quotes. */
int config_split_line(const char *line, size_t len, config_line *out);
void config_line_free(config_line *line);
/* Appends s quoted so that config_split_line() gives it back: "..." with
 * \\ \" \n \r \t \a \b and \xHH for other unprintable bytes. */
void config_append_quoted(struct buf *b, const char *s, size_t len);

/* Parses a memory value as Redis does: digits with an optional unit,
 * "" as 0, leading zeros allowed. Returns 1, 0 if malformed, or -1 if
 * well-formed but past LLONG_MAX (Redis then reports the bounds). */
int config_parse_memory(const char *s, long long *out);
/* Appends the config lines redis-server makes of argv[first..]: "--name"
 * starts a line, other arguments are quoted values. A "--x" right after a
 * name still without value is that value, except after --save (then save
 * ""). "--port 6380" as one argument is a name and its value. A "-" first
 * or last (stdin) is skipped. */
void config_argv_to_lines(int argc, char **argv, int first, struct buf *out);

/* Splits a CONFIG SET value at each space, as Redis does for directives
 * taking several arguments. Returns the count; *out is owned (NULL if 0). */
int config_split_spaces(const char *s, size_t len, char ***out);
/* Names in dir matching an include wildcard, sorted; *out owned (NULL if 0). */
int config_list_matching(const char *dir, const char *pattern, char ***out);

/* ------------------------------------------------------------------------
 * The directive table (config.c holds ours, config_compat.c the directives
 * Redis knows that have no effect here). Not for other modules.
 * ------------------------------------------------------------------------ */

typedef enum config_type {
    CONFIG_T_BOOL,   /* yes / no, any case */
    CONFIG_T_INT,    /* strict decimal within min..max */
    CONFIG_T_MEMORY, /* bytes with optional unit: 1k 1kb 1m 1mb 1g 1gb */
    CONFIG_T_OCTAL,  /* octal within min..max (unixsocketperm) */
    CONFIG_T_ENUM,   /* one of enum_names, any case */
    CONFIG_T_STRING, /* any string, or what canon accepts */
    CONFIG_T_BIND,   /* list of up to CONFIG_MAX_BIND addresses */
    CONFIG_T_OBUF,   /* client-output-buffer-limit class groups */
} config_type;

/* Where a number lives in cfg (or in config_compat.c's storage). */
typedef enum config_store { CONFIG_S_BOOL, CONFIG_S_INT, CONFIG_S_UINT, CONFIG_S_LL, CONFIG_S_PTR } config_store;

#define CONFIG_F_IMMUTABLE 0x01 /* CONFIG SET refuses: "can't set immutable config" */
#define CONFIG_F_SENSITIVE 0x02 /* value is a secret */
#define CONFIG_F_PROTECTED 0x04 /* CONFIG SET only with enable-protected-configs yes */
#define CONFIG_F_INERT     0x08 /* known to Redis, no effect here: notice when loaded */
#define CONFIG_F_MULTI_ARG 0x10 /* file: several arguments; SET: split at spaces */
#define CONFIG_F_APPEND    0x20 /* later lines of one load add to the first (save) */
#define CONFIG_F_CWD       0x40 /* CONFIG GET / REWRITE show the working directory */

/* Validates the arguments of a CONFIG_T_STRING directive and writes its
 * canonical value to out. Returns 0, or -1 with the reason in err. */
typedef int config_canon_fn(int argc, char **argv, struct buf *out, char *err, size_t errlen);
/* Checks (and may adjust, as hz is clamped) a parsed number or bool. */
typedef int config_check_fn(long long *value, char *err, size_t errlen);

typedef struct config_def {
    const char *name;
    const char *alias;              /* second name (slaveof...) or NULL */
    config_type type;
    config_store store;
    unsigned flags;                 /* CONFIG_F_* */
    const char *default_value;      /* parsed at init like a file argument */
    long long min, max;             /* INT, MEMORY, OCTAL bounds */
    const char *const *enum_names;  /* ENUM: NULL-terminated */
    void *storage;                  /* borrowed: a cfg field or a static slot */
    config_canon_fn *canon;         /* STRING: validator, or NULL */
    config_check_fn *check;         /* BOOL, INT...: extra rule, or NULL */
    config_apply_fn *apply;         /* built-in apply, before the server's hook */
} config_def;

extern const config_def config_compat_defs[];
extern const size_t config_compat_count;

#endif
