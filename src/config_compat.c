/* config_compat.c -- What lets us read what redis-server reads: the
 * redis.conf line syntax (quoting, escapes), Redis's leniencies with memory
 * values, how it turns argv into config lines, splits CONFIG SET values and
 * expands include wildcards; and the rows of the directive table for
 * everything Redis 7.0 knows that has no effect in redis-pubsub
 * (persistence, replication, eviction, encodings, cluster, the client side
 * of TLS...).
 *
 * Inert directives are still typed: their values are checked the way Redis
 * checks them, stored, shown by CONFIG GET in Redis's format, settable by
 * CONFIG SET (unless Redis makes them immutable) and written by CONFIG
 * REWRITE, so monitoring tools and configs written for Redis keep working.
 * Loading one logs a single notice. Types, bounds, defaults and error texts
 * were read from redis-server 7.0.15 (CONFIG GET *, CONFIG SET errors).
 * One value is refused outright, because silently ignoring it would
 * mislead: cluster-enabled yes. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "glob.h"
#include "mem.h"
#include "util.h"

/* ------------------------------------------------------------------------
 * Line syntax, values and arguments as redis-server reads them
 * ------------------------------------------------------------------------ */

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
}

static bool token_end(char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\0';
}

/* Reads one argument starting at *pp (not a blank) into tok. Returns 0, or
 * -1 for an unterminated quote or a closing quote glued to more text. */
static int read_token(const char **pp, const char *end, buf *tok) {
    const char *p = *pp;
    char quote = 0;
    for (;;) {
        if (!quote) {
            if (p == end || token_end(*p)) break;
            if (*p == '"' || *p == '\'') quote = *p;
            else buf_append_char(tok, *p);
            p++;
            continue;
        }
        if (p == end) return -1;
        if (*p == '\\' && quote == '"' && end - p >= 4 && p[1] == 'x' && isxdigit((unsigned char)p[2]) &&
            isxdigit((unsigned char)p[3])) {
            buf_append_char(tok, (char)(hex_value(p[2]) * 16 + hex_value(p[3])));
            p += 4;
        } else if (*p == '\\' && quote == '"' && end - p >= 2) {
            const char *from = "nrtba", *to = "\n\r\t\b\a";
            const char *hit = strchr(from, p[1]);
            buf_append_char(tok, hit && p[1] ? to[hit - from] : p[1]);
            p += 2;
        } else if (*p == '\\' && quote == '\'' && end - p >= 2 && p[1] == '\'') {
            buf_append_char(tok, '\'');
            p += 2;
        } else if (*p == quote) {
            /* "foo"bar is an error, as in Redis: a quote must end the token. */
            if (p + 1 < end && !isspace((unsigned char)p[1])) return -1;
            p++;
            break;
        } else {
            buf_append_char(tok, *p++);
        }
    }
    *pp = p;
    return 0;
}

/* Splits like redis.conf; on -1 nothing is left allocated in *out. */
int config_split_line(const char *line, size_t len, config_line *out) {
    /* Lines are C strings in Redis: a NUL ends the line. Without this cut
     * a NUL was never consumed and the loop added empty arguments forever. */
    const char *nul = memchr(line, '\0', len);
    if (nul) len = (size_t)(nul - line);
    const char *p = line, *end = line + len;
    buf tok = {0};
    out->argv = NULL;
    out->argc = 0;
    for (;;) {
        while (p < end && isspace((unsigned char)*p)) p++;
        if (p == end) break;
        tok.len = 0;
        if (read_token(&p, end, &tok) == -1) {
            buf_free(&tok);
            config_line_free(out);
            return -1;
        }
        out->argv = mem_realloc(out->argv, sizeof(char *) * (size_t)(out->argc + 1));
        out->argv[out->argc++] = mem_strndup(tok.data ? tok.data : "", tok.len);
    }
    buf_free(&tok);
    return 0;
}

/* Frees the arguments; *line is then empty and may be reused. */
void config_line_free(config_line *line) {
    for (int i = 0; i < line->argc; i++) mem_free(line->argv[i]);
    mem_free(line->argv);
    line->argv = NULL;
    line->argc = 0;
}

/* The inverse of config_split_line() for one argument. */
void config_append_quoted(buf *b, const char *s, size_t len) {
    buf_append_char(b, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '\\': buf_append_str(b, "\\\\"); break;
        case '"': buf_append_str(b, "\\\""); break;
        case '\n': buf_append_str(b, "\\n"); break;
        case '\r': buf_append_str(b, "\\r"); break;
        case '\t': buf_append_str(b, "\\t"); break;
        case '\a': buf_append_str(b, "\\a"); break;
        case '\b': buf_append_str(b, "\\b"); break;
        default:
            if (isprint(c)) buf_append_char(b, (char)c);
            else buf_printf(b, "\\x%02x", c);
        }
    }
    buf_append_char(b, '"');
}

/* Returns 1 (*out set), 0 (malformed) or -1 (too large). */
int config_parse_memory(const char *s, long long *out) {
    if (!*s) { /* Redis reads "" as 0 */
        *out = 0;
        return 1;
    }
    while (s[0] == '0' && isdigit((unsigned char)s[1])) s++; /* and "01" as 1 */
    if (util_parse_memory(s, out)) return 1;
    /* Tell "too big" from "not a memory value": Redis words them apart. */
    size_t digits = strspn(s, "0123456789");
    char one[8];
    long long ignored;
    if (digits == 0 || strlen(s + digits) > 2) return 0;
    snprintf(one, sizeof(one), "1%s", s + digits);
    return util_parse_memory(one, &ignored) ? -1 : 0;
}

/* Appends one line per --option to out, without a final newline. */
void config_argv_to_lines(int argc, char **argv, int first, buf *out) {
    bool open = false, has_value = false, is_save = false;
    for (int j = first; j < argc; j++) {
        const char *a = argv[j];
        if (!strcmp(a, "-") && (j == 1 || j == argc - 1)) continue; /* the stdin marker */
        bool dashes = a[0] == '-' && a[1] == '-';
        if (dashes && (!open || has_value || is_save)) {
            if (open && is_save && !has_value) buf_append_str(out, " \"\"");
            if (open) buf_append_char(out, '\n');
            buf_append_str(out, a + 2);
            open = true;
            is_save = !strcasecmp(a + 2, "save");
            has_value = strpbrk(a + 2, " \t") != NULL; /* "--port 6380" as one argument */
        } else {
            if (open) buf_append_char(out, ' ');
            config_append_quoted(out, a, strlen(a));
            open = true;
            has_value = true;
        }
    }
    if (open && is_save && !has_value) buf_append_str(out, " \"\"");
}

/* Splits at each space, as Redis splits a CONFIG SET value of a directive
 * taking several arguments: "" is none, "a  b" has an empty one between. */
int config_split_spaces(const char *s, size_t len, char ***out) {
    *out = NULL;
    if (len == 0) return 0;
    int n = 1;
    for (size_t i = 0; i < len; i++) n += s[i] == ' ';
    *out = mem_alloc(sizeof(char *) * (size_t)n);
    n = 0;
    const char *start = s;
    for (const char *p = s;; p++) {
        if (p == s + len || *p == ' ') {
            (*out)[n++] = mem_strndup(start, (size_t)(p - start));
            if (p == s + len) break;
            start = p + 1;
        }
    }
    return n;
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Expands an include wildcard within one directory, sorted, skipping dot
 * files unless the pattern starts with a dot, as glob(3) does for Redis. A
 * directory that cannot be read matches nothing. */
int config_list_matching(const char *dir, const char *pattern, char ***out) {
    DIR *dh = opendir(dir[0] ? dir : "/");
    char **names = NULL;
    int n = 0;
    struct dirent *de;
    while (dh && (de = readdir(dh)) != NULL) {
        if (de->d_name[0] == '.' && pattern[0] != '.') continue;
        if (!glob_match(pattern, strlen(pattern), de->d_name, strlen(de->d_name))) continue;
        names = mem_realloc(names, sizeof(char *) * (size_t)(n + 1));
        names[n++] = mem_strdup(de->d_name);
    }
    if (dh) closedir(dh);
    if (n) qsort(names, (size_t)n, sizeof(char *), compare_names);
    *out = names;
    return n;
}

/* ------------------------------------------------------------------------
 * Validators of the inert directives that are not plain types
 * ------------------------------------------------------------------------ */

static bool parse_lenient_ll(const char *s, long long *out) {
    char *end;
    errno = 0;
    *out = strtoll(s, &end, 10);
    return *s && !*end && errno == 0;
}

/* save <seconds> <changes> [...]: pairs, seconds >= 1, changes >= 0. */
static int canon_save(int argc, char **argv, buf *out, char *err, size_t errlen) {
    for (int i = 0; i < argc; i += 2) {
        long long secs, changes;
        if (argc % 2 || !parse_lenient_ll(argv[i], &secs) || !parse_lenient_ll(argv[i + 1], &changes) ||
            secs < 1 || changes < 0) {
            snprintf(err, errlen, "Invalid save parameters");
            return -1;
        }
        buf_printf(out, "%s%lld %lld", i ? " " : "", secs, changes);
    }
    return 0;
}

/* notify-keyspace-events: class letters, shown in Redis's order, with "A"
 * standing for all of g$lshzxetd. */
static int canon_keyspace_events(int argc, char **argv, buf *out, char *err, size_t errlen) {
    static const char *const all = "g$lshzxetd";
    (void)argc;
    bool on[256] = {false};
    for (const unsigned char *p = (const unsigned char *)argv[0]; *p; p++) {
        if (*p == 'A') {
            for (const char *c = all; *c; c++) on[(unsigned char)*c] = true;
        } else if (*p && strchr("g$lshzxeKEtmdn", *p)) {
            on[*p] = true;
        } else {
            snprintf(err, errlen, "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
            return -1;
        }
    }
    bool every = true;
    for (const char *c = all; *c; c++) every = every && on[(unsigned char)*c];
    const char *order = every ? "AKEm" : "g$lshzxetdnKEm";
    for (const char *c = order; *c; c++)
        if (*c == 'A' || on[(unsigned char)*c]) buf_append_char(out, *c);
    return 0;
}

static int canon_oom_values(int argc, char **argv, buf *out, char *err, size_t errlen) {
    if (argc != 3) {
        snprintf(err, errlen, "wrong number of arguments");
        return -1;
    }
    for (int i = 0; i < 3; i++) {
        long long v;
        if (!parse_lenient_ll(argv[i], &v) || v < -2000 || v > 2000) {
            snprintf(err, errlen, "Invalid oom-score-adj-values, elements must be between -2000 and 2000.");
            return -1;
        }
        buf_printf(out, "%s%lld", i ? " " : "", v);
    }
    return 0;
}

/* latency-tracking-info-percentiles: numbers in 0..100, shown as %f with
 * the trailing zeros dropped ("99.9", "12.345679"). */
static int canon_percentiles(int argc, char **argv, buf *out, char *err, size_t errlen) {
    for (int i = 0; i < argc; i++) {
        char *end;
        double v = strtod(argv[i], &end);
        if (!argv[i][0] || *end) {
            snprintf(err, errlen, "Invalid latency-tracking-info-percentiles parameters");
            return -1;
        }
        if (!(v >= 0.0 && v <= 100.0)) { /* NaN too */
            snprintf(err, errlen, "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]");
            return -1;
        }
        char num[64];
        int n = snprintf(num, sizeof(num), "%f", v);
        while (n > 0 && num[n - 1] == '0') n--;
        if (n > 0 && num[n - 1] == '.') n--;
        buf_printf(out, "%s%.*s", i ? " " : "", n, num);
    }
    return 0;
}

/* maxmemory-clients: a memory value, or a percentage of maxmemory. */
static int canon_memory_or_percent(int argc, char **argv, buf *out, char *err, size_t errlen) {
    (void)argc;
    const char *s = argv[0];
    size_t len = strlen(s);
    long long v;
    if (len > 1 && s[len - 1] == '%') {
        if (!util_parse_ll(s, len - 1, &v) || v < 0) {
            snprintf(err, errlen, "argument must be a memory or percent value");
            return -1;
        }
        if (v > 100) {
            snprintf(err, errlen, "percentage argument must be less or equal to 100");
            return -1;
        }
        buf_printf(out, "%lld%%", v);
        return 0;
    }
    if (config_parse_memory(s, &v) != 1) {
        snprintf(err, errlen, "argument must be a memory or percent value");
        return -1;
    }
    buf_printf(out, "%lld", v);
    return 0;
}

/* replicaof <host> <port> | no one. CONFIG GET shows "" for "no one",
 * which is also the default (no arguments). */
static int canon_replicaof(int argc, char **argv, buf *out, char *err, size_t errlen) {
    if (argc == 0) return 0;
    if (argc != 2) {
        snprintf(err, errlen, "wrong number of arguments");
        return -1;
    }
    if (!strcasecmp(argv[0], "no") && !strcasecmp(argv[1], "one")) return 0;
    /* Redis keeps the port as atoi() of the argument, so "" is port 0;
     * storing the number keeps the value loadable after CONFIG REWRITE. */
    buf_printf(out, "%s %d", argv[0], atoi(argv[1]));
    return 0;
}

/* proc-title-template: {title} {listen-addr} {server-mode} {port}
 * {tls-port} {unixsocket} {config-file} expand; "{{" is a literal brace;
 * anything else in braces, an unclosed brace or a blank result is invalid. */
static int canon_proc_title(int argc, char **argv, buf *out, char *err, size_t errlen) {
    static const char *const vars[] = {"title", "listen-addr", "server-mode", "port", "tls-port",
                                       "unixsocket", "config-file", NULL};
    (void)argc;
    bool visible = false;
    for (const char *p = argv[0]; *p; p++) {
        if (*p == '{' && p[1] == '{') {
            p++;
        } else if (*p == '{') {
            const char *close = strchr(p, '}');
            size_t n = close ? (size_t)(close - p - 1) : 0;
            int i = 0;
            while (close && vars[i] && !(strlen(vars[i]) == n && !strncmp(p + 1, vars[i], n))) i++;
            if (!close || !vars[i]) {
                visible = false;
                break;
            }
            p = close;
        } else if (*p == ' ') {
            continue;
        }
        visible = true;
    }
    if (!visible) {
        snprintf(err, errlen, "template format is invalid or contains unknown variables");
        return -1;
    }
    buf_append_str(out, argv[0]);
    return 0;
}

/* cluster-announce-hostname: letters, digits, '-' and '.', or empty. */
static int canon_hostname(int argc, char **argv, buf *out, char *err, size_t errlen) {
    (void)argc;
    for (const char *p = argv[0]; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.') {
            snprintf(err, errlen, "Hostnames may only contain alphanumeric characters, hyphens or dots");
            return -1;
        }
    }
    buf_append_str(out, argv[0]);
    return 0;
}

/* repl-backlog-size: Redis raises anything smaller to 16kb. */
static int check_backlog(long long *v, char *err, size_t errlen) {
    (void)err, (void)errlen;
    if (*v < 16384) *v = 16384;
    return 0;
}

static int check_no_cluster(long long *v, char *err, size_t errlen) {
    if (!*v) return 0;
    snprintf(err, errlen, "redis-pubsub does not support cluster mode (cluster-enabled must be no)");
    return -1;
}

/* ------------------------------------------------------------------------
 * The inert directives
 * ------------------------------------------------------------------------ */

static const char *const appendfsync_names[] = {"everysec", "always", "no", NULL};
static const char *const endpoint_names[] = {"ip", "hostname", "unknown-endpoint", NULL};
static const char *const no_yes_local_names[] = {"no", "yes", "local", NULL};
static const char *const policy_names[] = {"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
                                           "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction", NULL};
static const char *const oom_names[] = {"no", "yes", "relative", "absolute", NULL};
static const char *const propagation_names[] = {"ignore", "panic", "panic-on-replicas", NULL};
static const char *const diskless_load_names[] = {"disabled", "on-empty-db", "swapdb", NULL};
static const char *const sanitize_names[] = {"no", "yes", "clients", NULL};
static const char *const shutdown_names[] = {"default", "save", "nosave", "now", "force", NULL};
static const char *const facility_names[] = {"user", "local0", "local1", "local2", "local3", "local4",
                                             "local5", "local6", "local7", NULL};

/* Each row gets its own static storage through a compound literal. */
#define INERT(n, a, t, s, f, d, lo, hi, en, st, canon, check) \
    {n, a, t, s, CONFIG_F_INERT | (f), d, lo, hi, en, st, canon, check, NULL}
#define BOOL_(n, a, f, d) INERT(n, a, CONFIG_T_BOOL, CONFIG_S_BOOL, f, d, 0, 0, NULL, &(bool){0}, NULL, NULL)
#define INT_(n, a, f, d, lo, hi) INERT(n, a, CONFIG_T_INT, CONFIG_S_LL, f, d, lo, hi, NULL, &(long long){0}, NULL, NULL)
#define MEM_(n, a, f, d, lo) \
    INERT(n, a, CONFIG_T_MEMORY, CONFIG_S_LL, f, d, lo, LLONG_MAX, NULL, &(long long){0}, NULL, NULL)
#define ENUM_(n, f, d, names) INERT(n, NULL, CONFIG_T_ENUM, CONFIG_S_INT, f, d, 0, 0, names, &(int){0}, NULL, NULL)
#define STR_(n, a, f, d) INERT(n, a, CONFIG_T_STRING, CONFIG_S_PTR, f, d, 0, 0, NULL, &(char *){NULL}, NULL, NULL)
#define CANON_(n, a, f, d, fn) INERT(n, a, CONFIG_T_STRING, CONFIG_S_PTR, f, d, 0, 0, NULL, &(char *){NULL}, fn, NULL)

#define IMM CONFIG_F_IMMUTABLE
#define MULTI CONFIG_F_MULTI_ARG
#define SECRET CONFIG_F_SENSITIVE

const config_def config_compat_defs[] = {
    /* Persistence */
    CANON_("save", NULL, MULTI | CONFIG_F_APPEND, "3600 1 300 100 60 10000", canon_save),
    STR_("dbfilename", NULL, CONFIG_F_PROTECTED, "dump.rdb"),
    BOOL_("rdbcompression", NULL, 0, "yes"),
    BOOL_("rdbchecksum", NULL, IMM, "yes"),
    BOOL_("rdb-del-sync-files", NULL, 0, "no"),
    BOOL_("rdb-save-incremental-fsync", NULL, 0, "yes"),
    BOOL_("stop-writes-on-bgsave-error", NULL, 0, "yes"),
    ENUM_("sanitize-dump-payload", 0, "no", sanitize_names),
    BOOL_("appendonly", NULL, 0, "no"),
    STR_("appendfilename", NULL, IMM, "appendonly.aof"),
    STR_("appenddirname", NULL, IMM, "appendonlydir"),
    ENUM_("appendfsync", 0, "everysec", appendfsync_names),
    BOOL_("no-appendfsync-on-rewrite", NULL, 0, "no"),
    INT_("auto-aof-rewrite-percentage", NULL, 0, "100", 0, INT_MAX),
    MEM_("auto-aof-rewrite-min-size", NULL, 0, "64mb", 0),
    BOOL_("aof-load-truncated", NULL, 0, "yes"),
    BOOL_("aof-use-rdb-preamble", NULL, 0, "yes"),
    BOOL_("aof-rewrite-incremental-fsync", NULL, 0, "yes"),
    BOOL_("aof-timestamp-enabled", NULL, 0, "no"),
    BOOL_("aof-disable-auto-gc", NULL, 0, "no"),
    /* Replication */
    CANON_("replicaof", "slaveof", IMM | MULTI, "", canon_replicaof),
    STR_("masterauth", NULL, SECRET, ""),
    STR_("masteruser", NULL, 0, ""),
    BOOL_("replica-serve-stale-data", "slave-serve-stale-data", 0, "yes"),
    BOOL_("replica-read-only", "slave-read-only", 0, "yes"),
    BOOL_("repl-diskless-sync", NULL, 0, "yes"),
    INT_("repl-diskless-sync-delay", NULL, 0, "5", 0, INT_MAX),
    INT_("repl-diskless-sync-max-replicas", NULL, 0, "0", 0, INT_MAX),
    ENUM_("repl-diskless-load", 0, "disabled", diskless_load_names),
    INT_("repl-ping-replica-period", "repl-ping-slave-period", 0, "10", 1, INT_MAX),
    INT_("repl-timeout", NULL, 0, "60", 1, INT_MAX),
    BOOL_("repl-disable-tcp-nodelay", NULL, 0, "no"),
    INERT("repl-backlog-size", NULL, CONFIG_T_MEMORY, CONFIG_S_LL, 0, "1mb", 1, LLONG_MAX, NULL, &(long long){0},
          NULL, check_backlog),
    INT_("repl-backlog-ttl", NULL, 0, "3600", 0, LLONG_MAX),
    INT_("replica-priority", "slave-priority", 0, "100", 0, INT_MAX),
    BOOL_("replica-announced", NULL, 0, "yes"),
    INT_("min-replicas-to-write", "min-slaves-to-write", 0, "0", 0, INT_MAX),
    INT_("min-replicas-max-lag", "min-slaves-max-lag", 0, "10", 0, INT_MAX),
    STR_("replica-announce-ip", "slave-announce-ip", 0, ""),
    INT_("replica-announce-port", "slave-announce-port", 0, "0", 0, 65535),
    BOOL_("replica-lazy-flush", "slave-lazy-flush", 0, "no"),
    BOOL_("replica-ignore-maxmemory", "slave-ignore-maxmemory", 0, "yes"),
    BOOL_("replica-ignore-disk-write-errors", NULL, 0, "no"),
    ENUM_("propagation-error-behavior", 0, "ignore", propagation_names),
    /* Memory and eviction */
    MEM_("maxmemory", NULL, 0, "0", 0),
    ENUM_("maxmemory-policy", 0, "noeviction", policy_names),
    INT_("maxmemory-samples", NULL, 0, "5", 1, INT_MAX),
    INT_("maxmemory-eviction-tenacity", NULL, 0, "10", 0, 100),
    CANON_("maxmemory-clients", NULL, 0, "0", canon_memory_or_percent),
    BOOL_("lazyfree-lazy-eviction", NULL, 0, "no"),
    BOOL_("lazyfree-lazy-expire", NULL, 0, "no"),
    BOOL_("lazyfree-lazy-server-del", NULL, 0, "no"),
    BOOL_("lazyfree-lazy-user-del", NULL, 0, "no"),
    BOOL_("lazyfree-lazy-user-flush", NULL, 0, "no"),
    INT_("lfu-log-factor", NULL, 0, "10", 0, INT_MAX),
    INT_("lfu-decay-time", NULL, 0, "1", 0, INT_MAX),
    BOOL_("activedefrag", NULL, 0, "no"),
    MEM_("active-defrag-ignore-bytes", NULL, 0, "100mb", 1),
    INT_("active-defrag-threshold-lower", NULL, 0, "10", 0, 1000),
    INT_("active-defrag-threshold-upper", NULL, 0, "100", 0, 1000),
    INT_("active-defrag-cycle-min", NULL, 0, "1", 1, 99),
    INT_("active-defrag-cycle-max", NULL, 0, "25", 1, 99),
    INT_("active-defrag-max-scan-fields", NULL, 0, "1000", 1, LLONG_MAX),
    BOOL_("jemalloc-bg-thread", NULL, 0, "yes"),
    BOOL_("disable-thp", NULL, IMM, "yes"),
    ENUM_("oom-score-adj", 0, "no", oom_names),
    CANON_("oom-score-adj-values", NULL, MULTI, "0 200 800", canon_oom_values),
    INT_("active-expire-effort", NULL, 0, "1", 1, 10),
    /* Data type encodings */
    INT_("hash-max-listpack-entries", "hash-max-ziplist-entries", 0, "512", 0, LLONG_MAX),
    MEM_("hash-max-listpack-value", "hash-max-ziplist-value", 0, "64", 0),
    INT_("list-max-listpack-size", "list-max-ziplist-size", 0, "-2", INT_MIN, INT_MAX),
    INT_("list-compress-depth", NULL, 0, "0", 0, INT_MAX),
    INT_("set-max-intset-entries", NULL, 0, "512", 0, LLONG_MAX),
    INT_("zset-max-listpack-entries", "zset-max-ziplist-entries", 0, "128", 0, LLONG_MAX),
    MEM_("zset-max-listpack-value", "zset-max-ziplist-value", 0, "64", 0),
    MEM_("hll-sparse-max-bytes", NULL, 0, "3000", 0),
    MEM_("stream-node-max-bytes", NULL, 0, "4096", 0),
    INT_("stream-node-max-entries", NULL, 0, "100", 0, LLONG_MAX),
    BOOL_("activerehashing", NULL, 0, "yes"),
    INT_("tracking-table-max-keys", NULL, 0, "1000000", 0, LLONG_MAX),
    /* Scripting, events, diagnostics */
    INT_("busy-reply-threshold", "lua-time-limit", 0, "5000", 0, LLONG_MAX),
    CANON_("notify-keyspace-events", NULL, 0, "", canon_keyspace_events),
    INT_("slowlog-log-slower-than", NULL, 0, "10000", -1, LLONG_MAX),
    INT_("slowlog-max-len", NULL, 0, "128", 0, LLONG_MAX),
    INT_("latency-monitor-threshold", NULL, 0, "0", 0, LLONG_MAX),
    BOOL_("latency-tracking", NULL, 0, "yes"),
    CANON_("latency-tracking-info-percentiles", NULL, MULTI, "50 99 99.9", canon_percentiles),
    BOOL_("crash-log-enabled", NULL, 0, "yes"),
    BOOL_("crash-memcheck-enabled", NULL, 0, "yes"),
    ENUM_("enable-module-command", IMM, "no", no_yes_local_names),
    /* Process */
    BOOL_("always-show-logo", NULL, IMM, "no"),
    BOOL_("set-proc-title", NULL, IMM, "yes"),
    CANON_("proc-title-template", NULL, 0, "{title} {listen-addr} {server-mode}", canon_proc_title),
    BOOL_("syslog-enabled", NULL, IMM, "no"),
    STR_("syslog-ident", NULL, IMM, "redis"),
    ENUM_("syslog-facility", IMM, "local0", facility_names),
    INT_("io-threads", NULL, IMM, "1", 1, 128),
    BOOL_("io-threads-do-reads", NULL, IMM, "no"),
    STR_("server_cpulist", NULL, IMM, ""),
    STR_("bio_cpulist", NULL, IMM, ""),
    STR_("aof_rewrite_cpulist", NULL, IMM, ""),
    STR_("bgsave_cpulist", NULL, IMM, ""),
    BOOL_("dynamic-hz", NULL, 0, "yes"),
    ENUM_("shutdown-on-sigint", 0, "default", shutdown_names),
    ENUM_("shutdown-on-sigterm", 0, "default", shutdown_names),
    INT_("shutdown-timeout", NULL, 0, "10", 0, INT_MAX),
    STR_("ignore-warnings", NULL, 0, ""),
    STR_("bind-source-addr", NULL, 0, ""),
    INT_("socket-mark-id", NULL, IMM, "0", 0, UINT_MAX),
    /* Cluster */
    INERT("cluster-enabled", NULL, CONFIG_T_BOOL, CONFIG_S_BOOL, IMM, "no", 0, 0, NULL, &(bool){0}, NULL,
          check_no_cluster),
    STR_("cluster-config-file", NULL, IMM, "nodes.conf"),
    INT_("cluster-port", NULL, IMM, "0", 0, 65535),
    INT_("cluster-node-timeout", NULL, 0, "15000", 0, LLONG_MAX),
    INT_("cluster-replica-validity-factor", "cluster-slave-validity-factor", 0, "10", 0, INT_MAX),
    INT_("cluster-migration-barrier", NULL, 0, "1", 0, INT_MAX),
    BOOL_("cluster-allow-replica-migration", NULL, 0, "yes"),
    BOOL_("cluster-require-full-coverage", NULL, 0, "yes"),
    BOOL_("cluster-replica-no-failover", "cluster-slave-no-failover", 0, "no"),
    BOOL_("cluster-allow-reads-when-down", NULL, 0, "no"),
    BOOL_("cluster-allow-pubsubshard-when-down", NULL, 0, "yes"),
    MEM_("cluster-link-sendbuf-limit", NULL, 0, "0", 0),
    STR_("cluster-announce-ip", NULL, 0, ""),
    CANON_("cluster-announce-hostname", NULL, 0, "", canon_hostname),
    INT_("cluster-announce-port", NULL, 0, "0", 0, 65535),
    INT_("cluster-announce-bus-port", NULL, 0, "0", 0, 65535),
    INT_("cluster-announce-tls-port", NULL, 0, "0", 0, 65535),
    ENUM_("cluster-preferred-endpoint-type", 0, "ip", endpoint_names),
    /* TLS: the server side is live (config.c); these configure the
     * replication and cluster links, which redis-pubsub does not have. */
    STR_("tls-client-cert-file", NULL, 0, ""),
    STR_("tls-client-key-file", NULL, 0, ""),
    STR_("tls-client-key-file-pass", NULL, SECRET, ""),
    BOOL_("tls-replication", NULL, 0, "no"),
    BOOL_("tls-cluster", NULL, 0, "no"),
};

const size_t config_compat_count = sizeof(config_compat_defs) / sizeof(config_compat_defs[0]);
