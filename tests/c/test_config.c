/* test_config.c -- Directive table, config files, argv overrides, CONFIG
 * GET/SET/REWRITE. Expected error texts were read from redis-server 7.0.15.
 * Runs from the repository root (it loads ./redis-pubsub.conf). */
#include "test.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "mem.h"

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static char err[4096];

static int load(const char *text) {
    config_init_defaults();
    err[0] = '\0';
    return config_load_text(text, "t.conf", err, sizeof(err));
}

/* The last line of a fatal message: the reason. */
static const char *reason(void) {
    const char *nl = strrchr(err, '\n');
    return nl ? nl + 1 : err;
}

static void collect(void *ctx, const char *name, const char *value) {
    buf_printf(ctx, "%s=%s\n", name, value);
}

/* CONFIG GET with one pattern; returns the value of the first match or
 * "<none>" (static storage, valid until the next call). */
static const char *get(const char *pattern) {
    static char out[1024];
    buf b = {0};
    size_t len = strlen(pattern);
    config_get(&pattern, &len, 1, collect, &b);
    if (!b.len) snprintf(out, sizeof(out), "<none>");
    else {
        const char *eq = memchr(b.data, '=', b.len), *nl = memchr(b.data, '\n', b.len);
        snprintf(out, sizeof(out), "%.*s", (int)(nl - eq - 1), eq + 1);
    }
    buf_free(&b);
    return out;
}

static void get_many(buf *out, int n, const char **pats) {
    size_t lens[8];
    for (int i = 0; i < n; i++) lens[i] = strlen(pats[i]);
    config_get(pats, lens, n, collect, out);
}

static int set_pairs(int n, const char **nv) {
    const char *names[8], *values[8];
    size_t nl[8], vl[8];
    for (int i = 0; i < n; i++) {
        names[i] = nv[2 * i];
        values[i] = nv[2 * i + 1];
        nl[i] = strlen(names[i]);
        vl[i] = strlen(values[i]);
    }
    err[0] = '\0';
    return config_set(n, names, nl, values, vl, err, sizeof(err));
}

static int set1(const char *name, const char *value) {
    const char *nv[] = {name, value};
    return set_pairs(1, nv);
}

static char tmpdir[64];

static const char *tmp_path(const char *name) {
    static char path[4][256];
    static int next;
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_config.XXXXXX");
        if (!mkdtemp(tmpdir)) abort();
    }
    char *p = path[next++ % 4];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    return p;
}

static void write_file(const char *path, const char *text) {
    FILE *fp = fopen(path, "w");
    if (!fp) abort();
    fputs(text, fp);
    fclose(fp);
}

static char *read_all(const char *path) {
    static char text[16384];
    FILE *fp = fopen(path, "r");
    if (!fp) return strcpy(text, "<missing>");
    size_t n = fread(text, 1, sizeof(text) - 1, fp);
    text[n] = '\0';
    fclose(fp);
    return text;
}

#define SET_ERR(name, reason_text) \
    "ERR CONFIG SET failed (possibly related to argument '" name "') - " reason_text

/* ------------------------------------------------------------------------
 * Defaults and line syntax
 * ------------------------------------------------------------------------ */

static void test_defaults(void) {
    config_init_defaults();
    TEST_EQ_INT(cfg.port, 6379);
    TEST_EQ_INT(cfg.bind_count, 2);
    TEST_EQ_STR(cfg.bind[0], "127.0.0.1");
    TEST_EQ_STR(cfg.bind[1], "-::1");
    TEST_EQ_STR(cfg.unixsocket, "");
    TEST_EQ_INT(cfg.unixsocketperm, 0);
    TEST_EQ_INT(cfg.tcp_backlog, 511);
    TEST_EQ_INT(cfg.tcp_keepalive, 300);
    TEST_EQ_INT(cfg.timeout, 0);
    TEST_EQ_INT(cfg.maxclients, 10000);
    TEST_TRUE(cfg.protected_mode);
    TEST_TRUE(!cfg.daemonize);
    TEST_EQ_INT(cfg.supervised, CONFIG_SUPERVISED_NO);
    TEST_EQ_STR(cfg.requirepass, "");
    TEST_EQ_INT(cfg.databases, 16);
    TEST_EQ_INT(cfg.loglevel, LOG_NOTICE);
    TEST_EQ_STR(cfg.logfile, "");
    TEST_EQ_STR(cfg.pidfile, "");
    TEST_EQ_STR(cfg.dir, "");
    TEST_EQ_INT(cfg.hz, 10);
    TEST_EQ_INT(cfg.proto_max_bulk_len, 512LL * 1024 * 1024);
    TEST_EQ_INT(cfg.client_query_buffer_limit, 1024LL * 1024 * 1024);
    TEST_EQ_INT(cfg.acl_pubsub_default, CONFIG_ACL_RESETCHANNELS);
    TEST_EQ_STR(cfg.aclfile, "");
    TEST_EQ_INT(cfg.acllog_max_len, 128);
    TEST_EQ_INT(cfg.enable_protected_configs, CONFIG_PROTECTED_NO);
    TEST_EQ_INT(cfg.obuf_limits[CONFIG_CLASS_NORMAL].hard_bytes, 0);
    TEST_EQ_INT(cfg.obuf_limits[CONFIG_CLASS_REPLICA].hard_bytes, 256LL << 20);
    TEST_EQ_INT(cfg.obuf_limits[CONFIG_CLASS_REPLICA].soft_bytes, 64LL << 20);
    TEST_EQ_INT(cfg.obuf_limits[CONFIG_CLASS_PUBSUB].hard_bytes, 32LL << 20);
    TEST_EQ_INT(cfg.obuf_limits[CONFIG_CLASS_PUBSUB].soft_bytes, 8LL << 20);
    TEST_EQ_INT(cfg.obuf_limits[CONFIG_CLASS_PUBSUB].soft_seconds, 60);
    TEST_EQ_INT(cfg.users_count, 0);
    TEST_TRUE(config_file_path() == NULL);
    TEST_EQ_INT(config_notices_count(), 0);
    /* Inert directives answer with Redis's defaults. */
    TEST_EQ_STR(get("save"), "3600 1 300 100 60 10000");
    TEST_EQ_STR(get("appendonly"), "no");
    TEST_EQ_STR(get("maxmemory"), "0");
    TEST_EQ_STR(get("maxmemory-policy"), "noeviction");
    TEST_EQ_STR(get("hash-max-ziplist-value"), "64");
    TEST_EQ_STR(get("active-defrag-ignore-bytes"), "104857600");
    TEST_EQ_STR(get("oom-score-adj-values"), "0 200 800");
    TEST_EQ_STR(get("latency-tracking-info-percentiles"), "50 99 99.9");
    TEST_EQ_STR(get("proc-title-template"), "{title} {listen-addr} {server-mode}");
    TEST_EQ_STR(get("list-max-listpack-size"), "-2");
}

static const struct {
    const char *line;
    int argc; /* -1: unbalanced */
    const char *args[4];
} split_cases[] = {
    {"", 0, {NULL}},
    {"   \t ", 0, {NULL}},
    {"port 6379", 2, {"port", "6379"}},
    {"  port\t6379  ", 2, {"port", "6379"}},
    {"requirepass \"\"", 2, {"requirepass", ""}},
    {"requirepass \"a b\"", 2, {"requirepass", "a b"}},
    {"x \"a\\nb\\t\\\"\\\\\"", 2, {"x", "a\nb\t\"\\"}},
    {"x \"\\x41\\x4a\\xzz\"", 2, {"x", "AJxzz"}},
    {"x 'it\\'s' 'a\\nb'", 3, {"x", "it's", "a\\nb"}},
    {"x foo\"bar baz\"", 2, {"x", "foobar baz"}},
    {"x \"a\"b", -1, {NULL}},
    {"x 'a'b", -1, {NULL}},
    {"x \"abc", -1, {NULL}},
    {"x 'abc", -1, {NULL}},
    {"x \"abc\\\"", -1, {NULL}},
    {"x \"a\" \"\" 'b'", 4, {"x", "a", "", "b"}},
};

static void test_split_line(void) {
    for (size_t i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
        config_line l;
        int rc = config_split_line(split_cases[i].line, strlen(split_cases[i].line), &l);
        if (split_cases[i].argc == -1) {
            if (rc != -1) TEST_FAIL_AT("case %zu: expected unbalanced quotes", i);
            TEST_EQ_INT(rc, -1);
            continue;
        }
        TEST_EQ_INT(rc, 0);
        if (l.argc != split_cases[i].argc) TEST_FAIL_AT("case %zu: '%s'", i, split_cases[i].line);
        TEST_EQ_INT(l.argc, split_cases[i].argc);
        for (int a = 0; a < l.argc; a++) TEST_EQ_STR(l.argv[a], split_cases[i].args[a]);
        config_line_free(&l);
    }
}

static void test_quote_round_trip(void) {
    const char raw[] = "a b\"c\\d\ne\rf\tg\x01h\x7f'i\a\b";
    buf b = {0};
    config_append_quoted(&b, raw, sizeof(raw) - 1);
    static const char quoted[] = "\"a b\\\"c\\\\d\\ne\\rf\\tg\\x01h\\x7f'i\\a\\b\"";
    TEST_EQ_MEM(b.data, b.len, quoted, sizeof(quoted) - 1);
    config_line l;
    TEST_EQ_INT(config_split_line(b.data, b.len, &l), 0);
    TEST_EQ_INT(l.argc, 1);
    TEST_EQ_STR(l.argv[0], raw);
    config_line_free(&l);
    buf_free(&b);
}

/* ------------------------------------------------------------------------
 * Loading files: values and fatal errors
 * ------------------------------------------------------------------------ */

static void test_load_values(void) {
    int rc = load("# comment\n"
                  "\n"
                  "   # indented comment\r\n"
                  "PORT 7000\r\n"
                  "  bind 10.0.0.1 ::1  \n"
                  "unixsocket /tmp/x.sock\n"
                  "unixsocketperm 770\n"
                  "Protected-Mode NO\n"
                  "daemonize YES\n"
                  "supervised systemd\n"
                  "loglevel WARNING\n"
                  "logfile \"/tmp/a log\"\n"
                  "requirepass 'p w'\n"
                  "maxclients 4294967295\n"
                  "proto-max-bulk-len 1mb\n"
                  "client-query-buffer-limit 2GB\n"
                  "timeout 30\n"
                  "hz 1000\n"
                  "acl-pubsub-default allchannels\n"
                  "client-output-buffer-limit pubsub 1kb 1k 5\n"
                  "client-output-buffer-limit SLAVE 0 0 0\n");
    if (rc) TEST_FAIL_AT("%s", err);
    TEST_EQ_INT(rc, 0);
    TEST_EQ_INT(cfg.port, 7000);
    TEST_EQ_INT(cfg.bind_count, 2);
    TEST_EQ_STR(cfg.bind[0], "10.0.0.1");
    TEST_EQ_STR(cfg.unixsocket, "/tmp/x.sock");
    TEST_EQ_INT(cfg.unixsocketperm, 0770);
    TEST_EQ_STR(get("unixsocketperm"), "770");
    TEST_TRUE(!cfg.protected_mode);
    TEST_TRUE(cfg.daemonize);
    TEST_EQ_INT(cfg.supervised, CONFIG_SUPERVISED_SYSTEMD);
    TEST_EQ_INT(cfg.loglevel, LOG_WARNING);
    TEST_EQ_STR(cfg.logfile, "/tmp/a log");
    TEST_EQ_STR(cfg.requirepass, "p w");
    TEST_EQ_INT(cfg.maxclients, 4294967295U);
    TEST_EQ_INT(cfg.proto_max_bulk_len, 1 << 20);
    TEST_EQ_INT(cfg.client_query_buffer_limit, 2LL << 30);
    TEST_EQ_INT(cfg.timeout, 30);
    TEST_EQ_INT(cfg.hz, 500); /* clamped, as Redis */
    TEST_EQ_INT(cfg.acl_pubsub_default, CONFIG_ACL_ALLCHANNELS);
    TEST_EQ_INT(cfg.obuf_limits[CONFIG_CLASS_PUBSUB].hard_bytes, 1024);
    TEST_EQ_INT(cfg.obuf_limits[CONFIG_CLASS_PUBSUB].soft_bytes, 1000);
    TEST_EQ_INT(cfg.obuf_limits[CONFIG_CLASS_PUBSUB].soft_seconds, 5);
    TEST_EQ_INT(cfg.obuf_limits[CONFIG_CLASS_REPLICA].hard_bytes, 0);
    TEST_EQ_INT(cfg.obuf_limits[CONFIG_CLASS_NORMAL].soft_seconds, 0);
    TEST_EQ_STR(get("client-output-buffer-limit"), "normal 0 0 0 slave 0 0 0 pubsub 1024 1000 5");
    TEST_EQ_INT(config_notices_count(), 0);
}

static void test_load_fatal_message(void) {
    TEST_EQ_INT(load("port 7000\nfoo bar\n"), -1);
    TEST_EQ_STR(err, "*** FATAL CONFIG FILE ERROR (redis-pubsub 0.1.0) ***\n"
                     "Reading the configuration file 't.conf', at line 2\n"
                     ">>> 'foo bar'\n"
                     "Bad directive or wrong number of arguments");
    /* Lines are counted with comments and blanks; the line shown is trimmed. */
    TEST_EQ_INT(load("# a\n\n  port abc  \r\n"), -1);
    TEST_TRUE(strstr(err, "at line 3\n>>> 'port abc'\n") != NULL);
}

static const struct {
    const char *text;
    const char *reason;
} load_errors[] = {
    {"port", "wrong number of arguments"},
    {"port 1 2", "wrong number of arguments"},
    {"port abc", "argument couldn't be parsed into an integer"},
    {"port 01", "argument couldn't be parsed into an integer"},
    {"port +1", "argument couldn't be parsed into an integer"},
    {"port 99999", "argument must be between 0 and 65535 inclusive"},
    {"port -1", "argument must be between 0 and 65535 inclusive"},
    {"timeout 99999999999999999999", "argument couldn't be parsed into an integer"},
    {"maxclients 0", "argument must be between 1 and 4294967295 inclusive"},
    {"protected-mode maybe", "argument must be 'yes' or 'no'"},
    {"daemonize 1", "argument must be 'yes' or 'no'"},
    {"proto-max-bulk-len 1xb", "argument must be a memory value"},
    {"proto-max-bulk-len -1", "argument must be a memory value"},
    {"proto-max-bulk-len 100", "argument must be between 1048576 and 9223372036854775807 inclusive"},
    {"loglevel foo", "argument(s) must be one of the following: debug, verbose, notice, warning"},
    {"supervised foo", "argument(s) must be one of the following: upstart, systemd, auto, no"},
    {"acl-pubsub-default x", "argument(s) must be one of the following: allchannels, resetchannels"},
    {"unixsocketperm 0800", "argument couldn't be parsed as an octal number"},
    {"unixsocketperm 1000", "argument must be between 0 and 777 inclusive"},
    {"requirepass", "wrong number of arguments"},
    {"requirepass \"a\"b", "Unbalanced quotes in configuration line"},
    {"port \"6379", "Unbalanced quotes in configuration line"},
    {"client-output-buffer-limit pubsub 1 2", "Wrong number of arguments in buffer limit configuration."},
    {"client-output-buffer-limit foo 1 2 3", "Invalid client class specified in buffer limit configuration."},
    {"client-output-buffer-limit pubsub 1 2 -3",
     "Error in hard, soft or soft_seconds setting in buffer limit configuration."},
    {"bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", "Too many bind addresses specified."},
    {"save 100", "Invalid save parameters"},
    {"save 0 1", "Invalid save parameters"},
    {"appendonly maybe", "argument must be 'yes' or 'no'"},
    {"maxmemory-policy foo", "argument(s) must be one of the following: volatile-lru, volatile-lfu, "
                             "volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"},
    {"notify-keyspace-events Z", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."},
    {"oom-score-adj-values 1 2 3000", "Invalid oom-score-adj-values, elements must be between -2000 and 2000."},
    {"maxmemory-clients 101%", "percentage argument must be less or equal to 100"},
    {"io-threads 0", "argument must be between 1 and 128 inclusive"},
    {"replicaof abc", "wrong number of arguments"},
    {"user", "Bad directive or wrong number of arguments"},
    {"include", "Bad directive or wrong number of arguments"},
    {"rename-command foo", "Bad directive or wrong number of arguments"},
    {"sentinel monitor x", "sentinel directive while not in sentinel mode"},
    {"user a on\nuser a off", "Error in user declaration 'a': Duplicate user found. A user can only be defined "
                              "once in config files"},
    {"cluster-enabled yes", "redis-pubsub does not support cluster mode (cluster-enabled must be no)"},
    {"tls-auth-clients maybe", "argument(s) must be one of the following: no, yes, optional"},
};

static void test_load_errors(void) {
    for (size_t i = 0; i < sizeof(load_errors) / sizeof(load_errors[0]); i++) {
        if (load(load_errors[i].text) != -1) TEST_FAIL_AT("no error for '%s'", load_errors[i].text);
        if (strcmp(reason(), load_errors[i].reason)) TEST_FAIL_AT("for '%s'", load_errors[i].text);
        TEST_EQ_STR(reason(), load_errors[i].reason);
    }
}

static void test_load_last_bind_wins(void) {
    TEST_EQ_INT(load("bind 10.0.0.1\nbind 10.0.0.2 -::1\n"), 0);
    TEST_EQ_INT(cfg.bind_count, 2);
    TEST_EQ_STR(cfg.bind[0], "10.0.0.2");
    TEST_EQ_STR(get("bind"), "10.0.0.2 -::1");
    /* A bare bind, or bind "", listens nowhere. */
    TEST_EQ_INT(load("bind\n"), 0);
    TEST_EQ_INT(cfg.bind_count, 0);
    TEST_EQ_INT(load("bind \"\"\n"), 0);
    TEST_EQ_INT(cfg.bind_count, 0);
    TEST_EQ_STR(get("bind"), "");
}

static void test_load_save_lines_add_up(void) {
    TEST_EQ_INT(load("save 900 1\nsave 300 10\n"), 0);
    TEST_EQ_STR(get("save"), "900 1 300 10");
    TEST_EQ_INT(load("save 900 1\nsave \"\"\n"), 0);
    TEST_EQ_STR(get("save"), "");
    TEST_EQ_INT(load("save \"\"\nsave 60 5\n"), 0);
    TEST_EQ_STR(get("save"), "60 5");
    TEST_EQ_INT(load("save\n"), 0);
    TEST_EQ_STR(get("save"), "");
}

static void test_load_inert_notices(void) {
    TEST_EQ_INT(load("save 60 1\nappendonly no\nappendonly NO\nslaveof no one\nmaxmemory 1gb\n"
                     "rename-command DEBUG \"\"\nrename-command FLUSHALL x\nlist-max-ziplist-entries 5\n"),
                0);
    TEST_EQ_INT(config_notices_count(), 6); /* one per directive, not per line */
    TEST_EQ_STR(get("maxmemory"), "1073741824");
    TEST_EQ_STR(get("slaveof"), "");
    TEST_EQ_INT(cfg.renames_count, 2);
    TEST_EQ_STR(cfg.renames[0].argv[0], "DEBUG");
    TEST_EQ_STR(cfg.renames[0].argv[1], "");
    int old = log_get_level();
    log_set_level(LOG_WARNING); /* keep the test output clean */
    config_log_notices();
    log_set_level(old);
    TEST_EQ_INT(config_notices_count(), 0);
}

static void test_load_users(void) {
    TEST_EQ_INT(load("user default on nopass ~* &* +@all\nuser alice on >pw &news.* +subscribe\n"), 0);
    TEST_EQ_INT(cfg.users_count, 2);
    TEST_EQ_INT(cfg.users[1].argc, 5);
    TEST_EQ_STR(cfg.users[1].argv[0], "alice");
    TEST_EQ_STR(cfg.users[1].argv[2], ">pw");
    TEST_EQ_INT(config_notices_count(), 0);
}

static void test_load_include(void) {
    write_file(tmp_path("inc1.conf"), "port 7001\ntimeout 5\n");
    write_file(tmp_path("part-a.conf"), "tcp-keepalive 10\n");
    write_file(tmp_path("part-b.conf"), "tcp-keepalive 20\nhz 20\n");
    write_file(tmp_path("bad.conf"), "# first\nfoo\n");
    char text[1024];
    snprintf(text, sizeof(text), "include %s\nport 7002\ninclude %s\n", tmp_path("inc1.conf"),
             tmp_path("part-*.conf"));
    TEST_EQ_INT(load(text), 0);
    TEST_EQ_INT(cfg.port, 7002);
    TEST_EQ_INT(cfg.timeout, 5);
    TEST_EQ_INT(cfg.tcp_keepalive, 20); /* files of a wildcard load in name order */
    TEST_EQ_INT(cfg.hz, 20);
    snprintf(text, sizeof(text), "include %s\n", tmp_path("nothing-*.conf"));
    TEST_EQ_INT(load(text), 0);
    /* Errors name the included file and its own line. */
    snprintf(text, sizeof(text), "port 1\ninclude %s\n", tmp_path("bad.conf"));
    TEST_EQ_INT(load(text), -1);
    char want[512];
    snprintf(want, sizeof(want), "Reading the configuration file '%s', at line 2\n>>> 'foo'", tmp_path("bad.conf"));
    TEST_TRUE(strstr(err, want) != NULL);
    snprintf(text, sizeof(text), "include %s\n", tmp_path("missing.conf"));
    TEST_EQ_INT(load(text), -1);
    snprintf(want, sizeof(want), "Fatal error, can't open config file '%s': No such file or directory",
             tmp_path("missing.conf"));
    TEST_EQ_STR(err, want);
    /* A file that includes itself stops at the nesting limit. */
    snprintf(text, sizeof(text), "include %s\n", tmp_path("self.conf"));
    write_file(tmp_path("self.conf"), text);
    TEST_EQ_INT(load(text), -1);
    TEST_TRUE(strstr(err, "too many nested includes") != NULL);
}

static void test_load_missing_file(void) {
    config_init_defaults();
    TEST_EQ_INT(config_load_file(tmp_path("nope.conf"), err, sizeof(err)), -1);
    char want[512];
    snprintf(want, sizeof(want), "Fatal error, can't open config file '%s': No such file or directory",
             tmp_path("nope.conf"));
    TEST_EQ_STR(err, want);
}

static void test_load_shipped_conf(void) {
    config_init_defaults();
    int rc = config_load_file("redis-pubsub.conf", err, sizeof(err));
    if (rc) TEST_FAIL_AT("%s", err);
    TEST_EQ_INT(rc, 0);
    TEST_EQ_INT(config_notices_count(), 0);
    TEST_TRUE(config_file_path() && config_file_path()[0] == '/');
    /* It documents the defaults: the values equal a fresh start's. */
    buf loaded = {0}, fresh = {0};
    const char *all = "*";
    get_many(&loaded, 1, &all);
    config_init_defaults();
    get_many(&fresh, 1, &all);
    TEST_EQ_MEM(loaded.data, loaded.len, fresh.data, fresh.len);
    buf_free(&loaded);
    buf_free(&fresh);
}

/* ------------------------------------------------------------------------
 * argv
 * ------------------------------------------------------------------------ */

static int load_argv(int argc, const char **argv) {
    config_init_defaults();
    err[0] = '\0';
    return config_load_argv(argc, (char **)argv, err, sizeof(err));
}

static void test_argv_overrides(void) {
    const char *path = tmp_path("argv.conf");
    write_file(path, "port 7000\nloglevel warning\ntimeout 9\n");
    const char *a1[] = {"srv", path, "--port", "7001", "--loglevel", "verbose", "--requirepass", "a b"};
    TEST_EQ_INT(load_argv(8, a1), 0);
    TEST_EQ_INT(cfg.port, 7001);
    TEST_EQ_INT(cfg.loglevel, LOG_VERBOSE);
    TEST_EQ_INT(cfg.timeout, 9);
    TEST_EQ_STR(cfg.requirepass, "a b");
    TEST_TRUE(config_file_path() && strstr(config_file_path(), "argv.conf"));

    const char *a2[] = {"srv", "--port 7002", "--bind", "10.0.0.1", "10.0.0.2", "--save"};
    TEST_EQ_INT(load_argv(6, a2), 0);
    TEST_EQ_INT(cfg.port, 7002);
    TEST_EQ_INT(cfg.bind_count, 2);
    TEST_EQ_STR(get("save"), "");
    TEST_TRUE(config_file_path() == NULL);

    /* After a name, "--x" is its value, except for --save. */
    const char *a3[] = {"srv", "--requirepass", "--foo", "--save", "--timeout", "3"};
    TEST_EQ_INT(load_argv(6, a3), 0);
    TEST_EQ_STR(cfg.requirepass, "--foo");
    TEST_EQ_STR(get("save"), "");
    TEST_EQ_INT(cfg.timeout, 3);
}

static void test_argv_errors(void) {
    const char *a1[] = {"srv", "--port", "7000", "--foo", "bar"};
    TEST_EQ_INT(load_argv(5, a1), -1);
    TEST_EQ_STR(err, "*** FATAL CONFIG FILE ERROR (redis-pubsub 0.1.0) ***\n"
                     "Reading the command line options, at option 2\n"
                     ">>> 'foo \"bar\"'\n"
                     "Bad directive or wrong number of arguments");
    const char *a2[] = {"srv", "--loglevel", "verbose", "notice"};
    TEST_EQ_INT(load_argv(4, a2), -1);
    TEST_TRUE(strstr(err, ">>> 'loglevel \"verbose\" \"notice\"'\nwrong number of arguments") != NULL);
    const char *a3[] = {"srv", "--port"};
    TEST_EQ_INT(load_argv(2, a3), -1);
    TEST_EQ_STR(reason(), "wrong number of arguments");
    const char *a4[] = {"srv", tmp_path("absent.conf"), "--port", "1"};
    TEST_EQ_INT(load_argv(4, a4), -1);
    TEST_TRUE(strstr(err, "Fatal error, can't open config file '") == err);
}

static void test_argv_stdin(void) {
    int fds[2];
    TEST_EQ_INT(pipe(fds), 0);
    const char *text = "port 7003\ntimeout 4\n";
    TEST_EQ_INT(write(fds[1], text, strlen(text)), (long long)strlen(text));
    close(fds[1]);
    int saved = dup(STDIN_FILENO);
    dup2(fds[0], STDIN_FILENO);
    close(fds[0]);
    const char *a[] = {"srv", "-", "--timeout", "8"};
    int rc = load_argv(4, a);
    clearerr(stdin);
    dup2(saved, STDIN_FILENO);
    close(saved);
    TEST_EQ_INT(rc, 0);
    TEST_EQ_INT(cfg.port, 7003);
    TEST_EQ_INT(cfg.timeout, 8);
    TEST_TRUE(config_file_path() == NULL);
}

/* ------------------------------------------------------------------------
 * CONFIG GET
 * ------------------------------------------------------------------------ */

static int count_lines(const buf *b) {
    int n = 0;
    for (size_t i = 0; i < b->len; i++) n += b->data[i] == '\n';
    return n;
}

static void test_get_patterns(void) {
    config_init_defaults();
    buf b = {0};
    const char *star = "*";
    get_many(&b, 1, &star);
    /* Redis 7.0.15 lists 192 names (aliases included) in CONFIG GET *; we
     * add reuseport, the 15 upstream* directives of relay mode and the
     * 4 channel-history* directives. */
    TEST_EQ_INT(count_lines(&b), 192 + 20);
    buf_free(&b);

    const char *pats[] = {"PORT", "maxclients", "*max*", "port", "*ort"};
    get_many(&b, 5, pats);
    buf_append_char(&b, '\0');
    /* Pattern order; a plain name is echoed as typed, as Redis does. */
    TEST_TRUE(!strncmp(b.data, "PORT=6379\nmaxclients=10000\n", 27));
    TEST_TRUE(strstr(b.data, "\nmaxmemory=0\n") != NULL);
    TEST_TRUE(strstr(b.data, "\nproto-max-bulk-len=536870912\n") != NULL);
    TEST_TRUE(strstr(b.data, "\ntls-port=0\n") != NULL);
    TEST_TRUE(strstr(b.data, "\nport=") == NULL);           /* each name once */
    TEST_TRUE(strstr(b.data + 27, "maxclients=") == NULL);
    buf_free(&b);

    const char *ro[] = {"*read-only"};
    get_many(&b, 1, ro);
    buf_append_char(&b, '\0');
    TEST_EQ_STR(b.data, "replica-read-only=yes\nslave-read-only=yes\n");
    buf_free(&b);

    TEST_EQ_STR(get("nosuch"), "<none>");
    TEST_EQ_STR(get("client-output-buffer-limit"),
                "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
    TEST_EQ_STR(get("bind"), "127.0.0.1 -::1");
    TEST_EQ_STR(get("unixsocketperm"), "0");
    TEST_EQ_STR(get("protected-mode"), "yes");
    TEST_EQ_STR(get("client-query-buffer-limit"), "1073741824");
    TEST_EQ_STR(get("supervised"), "no");
    char cwd[PATH_MAX];
    TEST_TRUE(getcwd(cwd, sizeof(cwd)) != NULL);
    TEST_EQ_STR(get("dir"), cwd);
    char one[64];
    TEST_EQ_INT(config_format_value("LOGLEVEL", one, sizeof(one)), 0);
    TEST_EQ_STR(one, "notice");
    TEST_EQ_INT(config_format_value("nosuch", one, sizeof(one)), -1);
    TEST_TRUE(config_is_sensitive("REQUIREPASS", 11));
    TEST_TRUE(config_is_sensitive("masterauth", 10));
    TEST_TRUE(!config_is_sensitive("port", 4));
}

/* ------------------------------------------------------------------------
 * CONFIG SET
 * ------------------------------------------------------------------------ */

static void test_set_values(void) {
    config_init_defaults();
    TEST_EQ_INT(set1("Port", "7000"), 0);
    TEST_EQ_INT(cfg.port, 7000);
    TEST_EQ_INT(set1("protected-mode", "NO"), 0);
    TEST_EQ_STR(get("protected-mode"), "no");
    TEST_EQ_INT(set1("loglevel", "VERBOSE"), 0);
    TEST_EQ_STR(get("loglevel"), "verbose");
    TEST_EQ_INT(set1("maxmemory", "1Kb"), 0);
    TEST_EQ_STR(get("maxmemory"), "1024");
    TEST_EQ_INT(set1("maxmemory", ""), 0); /* Redis reads "" as 0 */
    TEST_EQ_STR(get("maxmemory"), "0");
    TEST_EQ_INT(set1("maxmemory", "01"), 0);
    TEST_EQ_STR(get("maxmemory"), "1");
    TEST_EQ_INT(set1("hz", "0"), 0);
    TEST_EQ_STR(get("hz"), "1");
    TEST_EQ_INT(set1("requirepass", "a b"), 0);
    TEST_EQ_STR(cfg.requirepass, "a b");
    TEST_EQ_INT(set1("bind", "10.0.0.1 -::1 ::2"), 0);
    TEST_EQ_INT(cfg.bind_count, 3);
    TEST_EQ_INT(set1("bind", ""), 0);
    TEST_EQ_INT(cfg.bind_count, 0);
    /* client-output-buffer-limit changes only the classes named. */
    TEST_EQ_INT(set1("client-output-buffer-limit", "PUBSUB 1mb 2kb 3"), 0);
    TEST_EQ_STR(get("client-output-buffer-limit"),
                "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 2048 3");
    TEST_EQ_INT(set1("client-output-buffer-limit", "replica 1 2 3 normal 4 5 6"), 0);
    TEST_EQ_STR(get("client-output-buffer-limit"), "normal 4 5 6 slave 1 2 3 pubsub 1048576 2048 3");
    TEST_EQ_INT(set1("client-output-buffer-limit", ""), 0);
    TEST_EQ_INT(cfg.obuf_limits[CONFIG_CLASS_NORMAL].hard_bytes, 4);
    /* Inert values keep Redis's formats. */
    TEST_EQ_INT(set1("save", "100 1 200 2"), 0);
    TEST_EQ_STR(get("save"), "100 1 200 2");
    TEST_EQ_INT(set1("save", ""), 0);
    TEST_EQ_STR(get("save"), "");
    TEST_EQ_INT(set1("notify-keyspace-events", "Kx$ghlsz"), 0);
    TEST_EQ_STR(get("notify-keyspace-events"), "g$lshzxK");
    TEST_EQ_INT(set1("notify-keyspace-events", "mEKn"), 0);
    TEST_EQ_STR(get("notify-keyspace-events"), "nKEm");
    TEST_EQ_INT(set1("notify-keyspace-events", "nA"), 0);
    TEST_EQ_STR(get("notify-keyspace-events"), "A");
    TEST_EQ_INT(set1("latency-tracking-info-percentiles", "12.3456789 1e1 0.000001 100"), 0);
    TEST_EQ_STR(get("latency-tracking-info-percentiles"), "12.345679 10 0.000001 100");
    TEST_EQ_INT(set1("maxmemory-clients", "10%"), 0);
    TEST_EQ_STR(get("maxmemory-clients"), "10%");
    TEST_EQ_INT(set1("slave-priority", "5"), 0);
    TEST_EQ_STR(get("replica-priority"), "5");
    /* A name and its alias are two parameters for the duplicate check. */
    const char *both[] = {"hash-max-listpack-entries", "5", "hash-max-ziplist-entries", "6"};
    TEST_EQ_INT(set_pairs(2, both), 0);
    TEST_EQ_STR(get("hash-max-listpack-entries"), "6");
}

static const struct {
    const char *name, *value, *error;
} set_errors[] = {
    {"foo", "bar", "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"},
    {"port", "abc", SET_ERR("port", "argument couldn't be parsed into an integer")},
    {"port", " 1", SET_ERR("port", "argument couldn't be parsed into an integer")},
    {"port", "", SET_ERR("port", "argument couldn't be parsed into an integer")},
    {"port", "99999", SET_ERR("port", "argument must be between 0 and 65535 inclusive")},
    {"timeout", "-1", SET_ERR("timeout", "argument must be between 0 and 2147483647 inclusive")},
    {"maxclients", "0", SET_ERR("maxclients", "argument must be between 1 and 4294967295 inclusive")},
    {"protected-mode", "maybe", SET_ERR("protected-mode", "argument must be 'yes' or 'no'")},
    {"maxmemory", "1xb", SET_ERR("maxmemory", "argument must be a memory value")},
    {"maxmemory", "+5", SET_ERR("maxmemory", "argument must be a memory value")},
    {"maxmemory", "5 ", SET_ERR("maxmemory", "argument must be a memory value")},
    {"proto-max-bulk-len", "100",
     SET_ERR("proto-max-bulk-len", "argument must be between 1048576 and 9223372036854775807 inclusive")},
    {"loglevel", "foo",
     SET_ERR("loglevel", "argument(s) must be one of the following: debug, verbose, notice, warning")},
    {"daemonize", "no", SET_ERR("daemonize", "can't set immutable config")},
    {"unixsocket", "/tmp/x", SET_ERR("unixsocket", "can't set immutable config")},
    {"logfile", "", SET_ERR("logfile", "can't set immutable config")},
    {"supervised", "foo", SET_ERR("supervised", "can't set immutable config")},
    {"slaveof", "no one", SET_ERR("slaveof", "can't set immutable config")},
    {"dir", "/tmp", SET_ERR("dir", "can't set protected config")},
    {"dbfilename", "x.rdb", SET_ERR("dbfilename", "can't set protected config")},
    {"client-output-buffer-limit", "pubsub 1 2",
     SET_ERR("client-output-buffer-limit", "Wrong number of arguments in buffer limit configuration.")},
    {"client-output-buffer-limit", "foo 1 2 3",
     SET_ERR("client-output-buffer-limit", "Invalid client class specified in buffer limit configuration.")},
    {"client-output-buffer-limit", "pubsub 1x 2 3",
     SET_ERR("client-output-buffer-limit",
             "Error in hard, soft or soft_seconds setting in buffer limit configuration.")},
    {"save", "100", SET_ERR("save", "Invalid save parameters")},
    {"save", "  ", SET_ERR("save", "Invalid save parameters")},
    {"bind", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", SET_ERR("bind", "Too many bind addresses specified.")},
    {"notify-keyspace-events", "Z",
     SET_ERR("notify-keyspace-events", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")},
    {"oom-score-adj-values", "1 2", SET_ERR("oom-score-adj-values", "wrong number of arguments")},
    {"acl-pubsub-default", "foo",
     SET_ERR("acl-pubsub-default", "argument(s) must be one of the following: allchannels, resetchannels")},
};

static void test_set_errors(void) {
    config_init_defaults();
    for (size_t i = 0; i < sizeof(set_errors) / sizeof(set_errors[0]); i++) {
        if (set1(set_errors[i].name, set_errors[i].value) != -1)
            TEST_FAIL_AT("no error for %s '%s'", set_errors[i].name, set_errors[i].value);
        TEST_EQ_STR(err, set_errors[i].error);
    }
    /* Unknown names are echoed at most 128 bytes, without CR/LF. */
    char longname[300];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    longname[3] = '\n';
    TEST_EQ_INT(set1(longname, "1"), -1);
    TEST_EQ_INT(strlen(err), strlen("ERR Unknown option or number of arguments for CONFIG SET - ''") + 128);
    TEST_TRUE(strchr(err, '\n') == NULL);
}

static void test_set_checks_names_first(void) {
    config_init_defaults();
    /* Redis checks every name before any value. */
    const char *a[] = {"port", "abc", "foo", "1"};
    TEST_EQ_INT(set_pairs(2, a), -1);
    TEST_EQ_STR(err, "ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
    const char *b[] = {"port", "abc", "daemonize", "no"};
    TEST_EQ_INT(set_pairs(2, b), -1);
    TEST_EQ_STR(err, SET_ERR("daemonize", "can't set immutable config"));
    const char *c[] = {"port", "1", "PORT", "abc"};
    TEST_EQ_INT(set_pairs(2, c), -1);
    TEST_EQ_STR(err, SET_ERR("PORT", "duplicate parameter"));
    const char *d[] = {"port", "abc", "maxclients", "abc"};
    TEST_EQ_INT(set_pairs(2, d), -1);
    TEST_EQ_STR(err, SET_ERR("port", "argument couldn't be parsed into an integer"));
}

static void test_set_atomic(void) {
    config_init_defaults();
    const char *a[] = {"port", "7000", "requirepass", "secret", "bind", "1.2.3.4", "maxclients", "0"};
    TEST_EQ_INT(set_pairs(4, a), -1);
    TEST_EQ_INT(cfg.port, 6379);
    TEST_EQ_STR(cfg.requirepass, "");
    TEST_EQ_INT(cfg.bind_count, 2);
    TEST_EQ_INT(cfg.maxclients, 10000);
    const char *b[] = {"port", "7000", "requirepass", "secret", "bind", "1.2.3.4", "maxclients", "5"};
    TEST_EQ_INT(set_pairs(4, b), 0);
    TEST_EQ_INT(cfg.port, 7000);
    TEST_EQ_STR(cfg.requirepass, "secret");
    TEST_EQ_STR(cfg.bind[0], "1.2.3.4");
    TEST_EQ_INT(cfg.maxclients, 5);
}

static int hook_calls, hook_port_seen;
static int fail_next;

static int hook_listen(const char *name, char *e, size_t elen) {
    (void)name;
    hook_calls++;
    hook_port_seen = cfg.port;
    if (fail_next) {
        fail_next = 0;
        snprintf(e, elen, "Unable to listen on this port");
        return -1;
    }
    return 0;
}

static int hook_calls2, hook_bad_name;
static int hook_other(const char *name, char *e, size_t elen) {
    (void)e, (void)elen;
    if (strcmp(name, "timeout")) hook_bad_name = 1;
    hook_calls2++;
    return 0;
}

static void test_set_hooks(void) {
    config_init_defaults();
    TEST_EQ_INT(config_set_apply_hook("port", hook_listen), 0);
    TEST_EQ_INT(config_set_apply_hook("bind", hook_listen), 0);
    TEST_EQ_INT(config_set_apply_hook("timeout", hook_other), 0);
    TEST_EQ_INT(config_set_apply_hook("nosuch", hook_other), -1);
    hook_calls = hook_calls2 = 0;

    TEST_EQ_INT(set1("port", "7000"), 0);
    TEST_EQ_INT(hook_calls, 1);
    TEST_EQ_INT(hook_port_seen, 7000); /* the new value is in place */
    TEST_EQ_INT(set1("port", "7000"), 0); /* unchanged: no hook */
    TEST_EQ_INT(hook_calls, 1);
    const char *both[] = {"port", "7001", "bind", "0.0.0.0", "timeout", "5"};
    TEST_EQ_INT(set_pairs(3, both), 0);
    TEST_EQ_INT(hook_calls, 2); /* one function, once */
    TEST_EQ_INT(hook_calls2, 1);

    /* A failing hook restores every value and runs the hooks again. */
    fail_next = 1;
    const char *c[] = {"timeout", "9", "port", "7002", "requirepass", "x"};
    TEST_EQ_INT(set_pairs(3, c), -1);
    TEST_EQ_STR(err, SET_ERR("port", "Unable to listen on this port"));
    TEST_EQ_INT(cfg.port, 7001);
    TEST_EQ_INT(cfg.timeout, 5);
    TEST_EQ_STR(cfg.requirepass, "");
    TEST_EQ_INT(hook_calls, 4);
    TEST_EQ_INT(hook_port_seen, 7001);
    TEST_EQ_INT(hook_calls2, 3); /* applied, then re-applied with 5 */

    TEST_EQ_INT(hook_bad_name, 0);
    config_set_apply_hook("port", NULL);
    config_set_apply_hook("bind", NULL);
    config_set_apply_hook("timeout", NULL);
}

static void test_set_protected_dir(void) {
    char cwd[PATH_MAX];
    TEST_TRUE(getcwd(cwd, sizeof(cwd)) != NULL);
    TEST_EQ_INT(load("enable-protected-configs yes\n"), 0);
    TEST_EQ_INT(set1("dir", tmp_path("")), 0);
    char now[PATH_MAX];
    TEST_TRUE(getcwd(now, sizeof(now)) != NULL);
    int moved = strcmp(now, cwd) != 0;
    TEST_EQ_INT(set1("dir", "/nonexistent-dir-xyz"), -1);
    TEST_EQ_STR(err, SET_ERR("dir", "No such file or directory"));
    TEST_EQ_INT(chdir(cwd), 0);
    TEST_TRUE(moved);
}

/* ------------------------------------------------------------------------
 * CONFIG REWRITE
 * ------------------------------------------------------------------------ */

static void test_rewrite_without_file(void) {
    config_init_defaults();
    TEST_EQ_INT(config_rewrite(err, sizeof(err)), -1);
    TEST_EQ_STR(err, "ERR The server is running without a config file");
}

static void test_rewrite_round_trip(void) {
    const char *path = tmp_path("rw.conf");
    char text[2048];
    write_file(tmp_path("rw-inc.conf"), "tcp-keepalive 100\n");
    snprintf(text, sizeof(text),
             "# top comment\n"
             "port 7000\n"
             "# timeout comment\n"
             "timeout 5\n"
             "maxclients 500\n"
             "loglevel verbose\n"
             "loglevel notice\n"
             "client-output-buffer-limit normal 0 0 0\n"
             "client-output-buffer-limit pubsub 32mb 8mb 60\n"
             "slaveof no one\n"
             "user alice on nopass &* +@all\n"
             "include %s\n"
             "some unknown line is kept? no: it would not load\n",
             tmp_path("rw-inc.conf"));
    /* The last line would not load; write the file without it. */
    *strstr(text, "some unknown") = '\0';
    write_file(path, text);
    chmod(path, 0600);
    config_init_defaults();
    TEST_EQ_INT(config_load_file(path, err, sizeof(err)), 0);

    const char *nv[] = {"timeout", "0", "maxclients", "600", "protected-mode", "no", "client-output-buffer-limit",
                        "pubsub 64mb 2mb 30", "requirepass", "p \"w\"", "save", ""};
    TEST_EQ_INT(set_pairs(6, nv), 0);
    TEST_EQ_INT(config_rewrite(err, sizeof(err)), 0);
    const char *out = read_all(path);
    /* Changed lines in place, duplicates blanked, the rest kept, new values after the signature. */
    TEST_TRUE(strstr(out, "# top comment\nport 7000\n# timeout comment\ntimeout 0\nmaxclients 600\n"
                          "loglevel notice\n\n"
                          "client-output-buffer-limit normal 0 0 0\n"
                          "client-output-buffer-limit replica 256mb 64mb 60\n"
                          "\n" /* slaveof no one: Redis leaves no line for it */
                          "user alice on nopass &* +@all\n") == out);
    TEST_TRUE(strstr(out, "\n\n# Generated by CONFIG REWRITE\n") != NULL);
    TEST_TRUE(strstr(out, "\nclient-output-buffer-limit pubsub 64mb 2mb 30\n") != NULL);
    TEST_TRUE(strstr(out, "\nprotected-mode no\n") != NULL);
    TEST_TRUE(strstr(out, "\nrequirepass \"p \\\"w\\\"\"\n") != NULL);
    TEST_TRUE(strstr(out, "\nsave \"\"\n") != NULL);
    TEST_TRUE(strstr(out, "\ntcp-keepalive 100\n") != NULL); /* from the include, flattened */
    TEST_TRUE(strstr(out, "\ndir \"/") != NULL);
    TEST_TRUE(strstr(out, "\nport 7000\n") != NULL);
    TEST_TRUE(strstr(out, "appendonly") == NULL); /* defaults stay out */
    struct stat st;
    TEST_EQ_INT(stat(path, &st), 0);
    TEST_EQ_INT(st.st_mode & 0777, 0600);

    /* Reload: same values. */
    buf before = {0}, after = {0};
    const char *all = "*";
    get_many(&before, 1, &all);
    config_init_defaults();
    TEST_EQ_INT(config_load_file(path, err, sizeof(err)), 0);
    get_many(&after, 1, &all);
    TEST_EQ_MEM(after.data, after.len, before.data, before.len);
    buf_free(&before);
    buf_free(&after);

    /* A second rewrite adds no second signature and changes nothing. */
    char first[16384];
    snprintf(first, sizeof(first), "%s", read_all(path));
    TEST_EQ_INT(config_rewrite(err, sizeof(err)), 0);
    TEST_EQ_STR(read_all(path), first);
    TEST_EQ_INT(set1("hz", "20"), 0);
    TEST_EQ_INT(config_rewrite(err, sizeof(err)), 0);
    out = read_all(path);
    const char *sig = strstr(out, "# Generated by CONFIG REWRITE");
    TEST_TRUE(sig && !strstr(sig + 1, "# Generated by CONFIG REWRITE"));
    TEST_TRUE(strstr(out, "\nhz 20\n") != NULL);
}

static void test_rewrite_shipped_conf_is_stable(void) {
    const char *path = tmp_path("shipped.conf");
    char *text = read_all("redis-pubsub.conf");
    char copy[16384];
    snprintf(copy, sizeof(copy), "%s", text);
    write_file(path, copy);
    config_init_defaults();
    TEST_EQ_INT(config_load_file(path, err, sizeof(err)), 0);
    TEST_EQ_INT(config_rewrite(err, sizeof(err)), 0);
    /* Only dir may change (Redis always writes it as an absolute path). */
    const char *out = read_all(path);
    TEST_TRUE(strstr(out, "# Generated by CONFIG REWRITE") == NULL);
    TEST_TRUE(strstr(out, "\ndir \"/") != NULL);
    TEST_EQ_INT(strlen(out) > strlen(copy) / 2, 1);
}

static void test_rewrite_missing_file_is_created(void) {
    const char *path = tmp_path("gone.conf");
    write_file(path, "port 7005\n");
    config_init_defaults();
    TEST_EQ_INT(config_load_file(path, err, sizeof(err)), 0);
    unlink(path);
    TEST_EQ_INT(config_rewrite(err, sizeof(err)), 0);
    TEST_TRUE(strstr(read_all(path), "# Generated by CONFIG REWRITE\n") != NULL);
    TEST_TRUE(strstr(read_all(path), "\nport 7005\n") != NULL);
}

/* ------------------------------------------------------------------------
 * Memory
 * ------------------------------------------------------------------------ */

static void test_free_releases_everything(void) {
    config_free();
    size_t base = mem_used();
    TEST_EQ_INT(load("requirepass x\nbind 1.1.1.1 2.2.2.2\nuser a on\nrename-command A B\nsave 1 1\n"
                     "appendonly yes\nreplica-announce-ip h\n"),
                0);
    const char *nv[] = {"logfile", "x"};
    TEST_EQ_INT(set_pairs(1, nv), -1); /* error paths free what they parsed */
    const char *nv2[] = {"requirepass", "y", "port", "bad"};
    TEST_EQ_INT(set_pairs(2, nv2), -1);
    TEST_TRUE(mem_used() > base);
    config_free();
    TEST_EQ_INT(mem_used(), base);
    config_free(); /* twice is fine */
    TEST_EQ_INT(mem_used(), base);
    if (tmpdir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
        if (system(cmd) != 0) TEST_FAIL_AT("could not remove %s", tmpdir);
    }
}

/* Found by fuzz_config: a NUL byte made config_split_line loop forever
 * (reachable from a config file and from ACL SETUSER). A NUL ends the line. */
static void test_split_line_nul(void) {
    config_line l;
    TEST_EQ_INT(config_split_line("port\0 7", 7, &l), 0);
    TEST_EQ_INT(l.argc, 1);
    TEST_EQ_STR(l.argv[0], "port");
    config_line_free(&l);
    TEST_EQ_INT(config_split_line("\0", 1, &l), 0);
    TEST_EQ_INT(l.argc, 0);
    config_line_free(&l);
}

const test_case config_tests[] = {
    {"split_line_nul", test_split_line_nul},
    {"defaults", test_defaults},
    {"split_line", test_split_line},
    {"quote_round_trip", test_quote_round_trip},
    {"load_values", test_load_values},
    {"load_fatal_message", test_load_fatal_message},
    {"load_errors", test_load_errors},
    {"load_last_bind_wins", test_load_last_bind_wins},
    {"load_save_lines_add_up", test_load_save_lines_add_up},
    {"load_inert_notices", test_load_inert_notices},
    {"load_users", test_load_users},
    {"load_include", test_load_include},
    {"load_missing_file", test_load_missing_file},
    {"load_shipped_conf", test_load_shipped_conf},
    {"argv_overrides", test_argv_overrides},
    {"argv_errors", test_argv_errors},
    {"argv_stdin", test_argv_stdin},
    {"get_patterns", test_get_patterns},
    {"set_values", test_set_values},
    {"set_errors", test_set_errors},
    {"set_checks_names_first", test_set_checks_names_first},
    {"set_atomic", test_set_atomic},
    {"set_hooks", test_set_hooks},
    {"set_protected_dir", test_set_protected_dir},
    {"rewrite_without_file", test_rewrite_without_file},
    {"rewrite_round_trip", test_rewrite_round_trip},
    {"rewrite_shipped_conf_is_stable", test_rewrite_shipped_conf_is_stable},
    {"rewrite_missing_file_is_created", test_rewrite_missing_file_is_created},
    {"free_releases_everything", test_free_releases_everything},
    {NULL, NULL},
};
