/* commands.c -- The command table and dispatch.
 *
 * commands_dispatch() applies Redis's checks in Redis's order: QUIT first,
 * then lookup (unknown command / unknown subcommand), arity, authentication,
 * the RESP2 subscribed context, and MULTI queueing; then the handler runs.
 * Lookup goes through a small open-addressing table keyed by the
 * lower-cased name, built once at start-up, so the hot path (PUBLISH) costs
 * one hash of a short name. The table says which commands are served and
 * by which handler; commands_init() binds each to its data in
 * commands_meta.c (arity, ACL categories, all that COMMAND reports). */
#include "commands.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acl.h"
#include "client.h"
#include "cmd_handlers.h"
#include "config.h"
#include "log.h"
#include "mem.h"
#include "resp.h"

const char *const ERR_SYNTAX = "ERR syntax error";
const char *const ERR_NOAUTH = "NOAUTH Authentication required.";
const char *const ERR_NOAUTH_HELLO =
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
    "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
    "select the RESP protocol version at the same time";
const char *const ERR_WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled.";
const char *const ERR_NOT_INTEGER = "ERR value is not an integer or out of range";

command_env cmd_env;

/* ------------------------------------------------------------------------
 * The table: handlers and dispatch flags. Arity, ACL categories and what
 * COMMAND reports come from commands_meta.c, bound by name at start-up.
 * To serve a command of the meta data, add its line here (and take it out
 * of redis_only below); to serve one the data lacks, add its Redis replies
 * to utils/command-meta-extra.resp3 and re-run utils/gen-command-meta.py.
 * ------------------------------------------------------------------------ */

#define SUB(n, p) {n, p, 0, NULL, NULL, 0, NULL}
#define CMD(n, p, f, subs) {n, p, f, subs, NULL, 0, NULL}
#define END {NULL, NULL, 0, NULL, NULL, 0, NULL}

static command pubsub_subs[] = {
    SUB("pubsub|channels", cmd_pubsub_channels),
    SUB("pubsub|help", cmd_pubsub_help),
    SUB("pubsub|numpat", cmd_pubsub_numpat),
    SUB("pubsub|numsub", cmd_pubsub_numsub),
    SUB("pubsub|shardchannels", cmd_pubsub_shardchannels),
    SUB("pubsub|shardnumsub", cmd_pubsub_shardnumsub),
    END,
};

static command client_subs[] = {
    SUB("client|caching", cmd_client_caching),
    SUB("client|getname", cmd_client_getname),
    SUB("client|getredir", cmd_client_getredir),
    SUB("client|help", cmd_client_help),
    SUB("client|id", cmd_client_id),
    SUB("client|info", cmd_client_info),
    SUB("client|kill", cmd_client_kill),
    SUB("client|list", cmd_client_list),
    SUB("client|no-evict", cmd_client_no_evict),
    SUB("client|no-touch", cmd_client_no_touch),
    SUB("client|pause", cmd_client_pause),
    SUB("client|reply", cmd_client_reply),
    SUB("client|setinfo", cmd_client_setinfo),
    SUB("client|setname", cmd_client_setname),
    SUB("client|tracking", cmd_client_tracking),
    SUB("client|trackinginfo", cmd_client_trackinginfo),
    SUB("client|unblock", cmd_client_unblock),
    SUB("client|unpause", cmd_client_unpause),
    END,
};

static command config_subs[] = {
    SUB("config|get", cmd_config_get),
    SUB("config|help", cmd_config_help),
    SUB("config|resetstat", cmd_config_resetstat),
    SUB("config|rewrite", cmd_config_rewrite),
    SUB("config|set", cmd_config_set),
    END,
};

static command command_subs[] = {
    SUB("command|count", cmd_command_count),
    SUB("command|docs", cmd_command_docs),
    SUB("command|getkeys", cmd_command_getkeys),
    SUB("command|getkeysandflags", cmd_command_getkeys),
    SUB("command|help", cmd_command_help),
    SUB("command|info", cmd_command_info),
    SUB("command|list", cmd_command_list),
    END,
};

/* Handlers in cmd_acl.c. */
static command acl_subs[] = {
    SUB("acl|cat", cmd_acl_cat),
    SUB("acl|deluser", cmd_acl_deluser),
    SUB("acl|dryrun", cmd_acl_dryrun),
    SUB("acl|genpass", cmd_acl_genpass),
    SUB("acl|getuser", cmd_acl_getuser),
    SUB("acl|help", cmd_acl_help),
    SUB("acl|list", cmd_acl_list),
    SUB("acl|load", cmd_acl_load),
    SUB("acl|log", cmd_acl_log),
    SUB("acl|save", cmd_acl_save),
    SUB("acl|setuser", cmd_acl_setuser),
    SUB("acl|users", cmd_acl_users),
    SUB("acl|whoami", cmd_acl_whoami),
    END,
};

static command slowlog_subs[] = {
    SUB("slowlog|get", cmd_slowlog_get),
    SUB("slowlog|help", cmd_slowlog_help),
    SUB("slowlog|len", cmd_slowlog_len),
    SUB("slowlog|reset", cmd_slowlog_reset),
    END,
};

static command latency_subs[] = {
    SUB("latency|doctor", cmd_latency_doctor),
    SUB("latency|graph", cmd_latency_graph),
    SUB("latency|help", cmd_latency_help),
    SUB("latency|histogram", cmd_latency_histogram),
    SUB("latency|history", cmd_latency_history),
    SUB("latency|latest", cmd_latency_latest),
    SUB("latency|reset", cmd_latency_reset),
    END,
};

static command xinfo_subs[] = {
    SUB("xinfo|consumers", cmd_xinfo_consumers),
    SUB("xinfo|groups", cmd_xinfo_groups),
    SUB("xinfo|help", cmd_xinfo_help),
    SUB("xinfo|stream", cmd_xinfo_stream),
    END,
};

static command table[] = {
    CMD("acl", NULL, 0, acl_subs),
    CMD("auth", cmd_auth, CMD_NO_AUTH, NULL),
    CMD("client", NULL, 0, client_subs),
    CMD("command", cmd_command, 0, command_subs),
    CMD("config", NULL, 0, config_subs),
    CMD("dbsize", cmd_dbsize, 0, NULL),
    CMD("debug", cmd_debug, CMD_PROTECTED, NULL),
    CMD("discard", cmd_discard, CMD_NO_MULTI, NULL),
    CMD("echo", cmd_echo, 0, NULL),
    CMD("exec", cmd_exec, CMD_NO_MULTI, NULL),
    CMD("flushall", cmd_flushall, 0, NULL),
    CMD("flushdb", cmd_flushall, 0, NULL),
    CMD("hello", cmd_hello, CMD_NO_AUTH, NULL),
    CMD("info", cmd_info, 0, NULL),
    CMD("lastsave", cmd_lastsave, 0, NULL),
    CMD("latency", NULL, 0, latency_subs),
    CMD("monitor", cmd_monitor, 0, NULL),
    CMD("multi", cmd_multi, CMD_NO_MULTI, NULL),
    CMD("ping", cmd_ping, CMD_PUBSUB_OK, NULL),
    CMD("psubscribe", cmd_psubscribe, CMD_PUBSUB_OK, NULL),
    CMD("publish", cmd_publish, 0, NULL),
    CMD("pubsub", NULL, 0, pubsub_subs),
    CMD("punsubscribe", cmd_punsubscribe, CMD_PUBSUB_OK, NULL),
    CMD("quit", cmd_quit, CMD_NO_AUTH | CMD_PUBSUB_OK | CMD_NO_MULTI, NULL),
    CMD("reset", cmd_reset, CMD_NO_AUTH | CMD_PUBSUB_OK | CMD_NO_MULTI, NULL),
    CMD("select", cmd_select, 0, NULL),
    CMD("shutdown", cmd_shutdown, 0, NULL),
    CMD("slowlog", NULL, 0, slowlog_subs),
    CMD("spublish", cmd_spublish, 0, NULL),
    CMD("ssubscribe", cmd_ssubscribe, CMD_PUBSUB_OK, NULL),
    CMD("subscribe", cmd_subscribe, CMD_PUBSUB_OK, NULL),
    CMD("sunsubscribe", cmd_sunsubscribe, CMD_PUBSUB_OK, NULL),
    CMD("time", cmd_time, 0, NULL),
    CMD("unsubscribe", cmd_unsubscribe, CMD_PUBSUB_OK, NULL),
    /* Channel histories as streams (cmd_history.c) */
    CMD("xadd", cmd_xadd, 0, NULL),
    CMD("xdel", cmd_xdel, 0, NULL),
    CMD("xinfo", NULL, 0, xinfo_subs),
    CMD("xlen", cmd_xlen, 0, NULL),
    CMD("xrange", cmd_xrange, 0, NULL),
    CMD("xread", cmd_xread, 0, NULL),
    CMD("xrevrange", cmd_xrevrange, 0, NULL),
    CMD("xtrim", cmd_xtrim, 0, NULL),
};

#define TABLE_LEN (sizeof(table) / sizeof(table[0]))

/* Redis 7.0 commands that this server does not serve (its keyspace,
 * replication, scripting...), sorted. They get the unknown-command error,
 * except where Redis would refuse them earlier: before AUTH, and in the
 * RESP2 subscribed context. */
static const char *const redis_only[] = {
    "append", "asking", "bgrewriteaof", "bgsave", "bitcount", "bitfield", "bitfield_ro", "bitop",
    "bitpos", "blmove", "blmpop", "blpop", "brpop", "brpoplpush", "bzmpop", "bzpopmax", "bzpopmin",
    "cluster", "copy", "decr", "decrby", "del", "dump", "eval", "eval_ro", "evalsha", "evalsha_ro",
    "exists", "expire", "expireat", "expiretime", "failover", "fcall", "fcall_ro", "function",
    "geoadd", "geodist", "geohash", "geopos", "georadius", "georadius_ro", "georadiusbymember",
    "georadiusbymember_ro", "geosearch", "geosearchstore", "get", "getbit", "getdel", "getex",
    "getrange", "getset", "hdel", "hexists", "hget", "hgetall", "hincrby", "hincrbyfloat", "hkeys",
    "hlen", "hmget", "hmset", "hrandfield", "hscan", "hset", "hsetnx", "hstrlen", "hvals", "incr",
    "incrby", "incrbyfloat", "keys", "lcs", "lindex", "linsert", "llen", "lmove", "lmpop", "lolwut",
    "lpop", "lpos", "lpush", "lpushx", "lrange", "lrem", "lset", "ltrim", "memory", "mget", "migrate",
    "module", "move", "mset", "msetnx", "object", "persist", "pexpire", "pexpireat",
    "pexpiretime", "pfadd", "pfcount", "pfdebug", "pfmerge", "pfselftest", "psetex", "psync", "pttl",
    "randomkey", "readonly", "readwrite", "rename", "renamenx", "replconf", "replicaof", "restore",
    "restore-asking", "role", "rpop", "rpoplpush", "rpush", "rpushx", "sadd", "save", "scan", "scard",
    "script", "sdiff", "sdiffstore", "set", "setbit", "setex", "setnx", "setrange", "sinter",
    "sintercard", "sinterstore", "sismember", "slaveof", "smembers", "smismember", "smove", "sort",
    "sort_ro", "spop", "srandmember", "srem", "sscan", "strlen", "substr", "sunion", "sunionstore",
    "swapdb", "sync", "touch", "ttl", "type", "unlink", "unwatch", "wait", "watch", "xack",
    "xautoclaim", "xclaim", "xgroup", "xpending",
    "xreadgroup", "xsetid", "zadd", "zcard", "zcount", "zdiff", "zdiffstore",
    "zincrby", "zinter", "zintercard", "zinterstore", "zlexcount", "zmpop", "zmscore", "zpopmax",
    "zpopmin", "zrandmember", "zrange", "zrangebylex", "zrangebyscore", "zrangestore", "zrank", "zrem",
    "zremrangebylex", "zremrangebyrank", "zremrangebyscore", "zrevrange", "zrevrangebylex",
    "zrevrangebyscore", "zrevrank", "zscan", "zscore", "zunion", "zunionstore",
};

/* Lower-cases name into dst (at most 31 bytes) and looks it up in redis_only. */
static const char *redis_only_lookup(const char *name, size_t len) {
    char low[32];
    if (len == 0 || len >= sizeof(low)) return NULL;
    for (size_t i = 0; i < len; i++) low[i] = (char)tolower((unsigned char)name[i]);
    low[len] = '\0';
    size_t lo = 0, hi = sizeof(redis_only) / sizeof(redis_only[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int cmp = strcmp(low, redis_only[mid]);
        if (cmp == 0) return redis_only[mid];
        if (cmp < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

/* ------------------------------------------------------------------------
 * Per-command statistics (INFO commandstats), keyed by command pointer
 * ------------------------------------------------------------------------ */

#define STATS_SLOTS 256     /* power of two, above twice the commands and subcommands */
#define TIME_SAMPLE 8       /* one call in 8 is timed; usec is scaled up */

static struct {
    const command *cmd;
    command_stats st;
} stats[STATS_SLOTS];

static command_stats *stats_of(const command *cmd) {
    unsigned h = (unsigned)(((uintptr_t)cmd >> 4) * 2654435761u) & (STATS_SLOTS - 1);
    while (stats[h].cmd && stats[h].cmd != cmd) h = (h + 1) & (STATS_SLOTS - 1);
    stats[h].cmd = cmd;
    return &stats[h].st;
}

const command_stats *commands_stats(const command *cmd) {
    return stats_of(cmd);
}
#define SLOTS 128   /* power of two, more than twice the table */

static const command *slots[SLOTS];
static long long total_processed;

static unsigned hash_name(const char *s, size_t len) {
    unsigned h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)tolower((unsigned char)s[i])) * 16777619u;
    return h;
}

const command_meta *commands_meta_find(const char *name) {
    size_t lo = 0, hi = commands_meta_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int cmp = strcmp(name, commands_meta[mid].name);
        if (cmp == 0) return &commands_meta[mid];
        if (cmp < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

/* Gives cmd its meta data; a served command without it is a build mistake. */
static void bind_meta(command *cmd) {
    cmd->meta = commands_meta_find(cmd->name);
    if (!cmd->meta) {
        log_warning("command '%s' has no COMMAND data: see utils/gen-command-meta.py", cmd->name);
        abort();
    }
    cmd->arity = cmd->meta->arity;
    cmd->acl_categories = cmd->meta->acl_categories;
}

void commands_init(void) {
    for (size_t i = 0; i < TABLE_LEN; i++) {
        bind_meta(&table[i]);
        for (command *s = table[i].subcommands; s && s->name; s++) bind_meta(s);
    }
    for (size_t i = 0; i < TABLE_LEN; i++) {
        unsigned h = hash_name(table[i].name, strlen(table[i].name)) & (SLOTS - 1);
        while (slots[h]) h = (h + 1) & (SLOTS - 1);
        slots[h] = &table[i];
    }
}

void commands_free(void) {
    memset(slots, 0, sizeof(slots));
}

const command *commands_lookup(const char *name, size_t len) {
    if (len == 0 || len > 32) return NULL;
    unsigned h = hash_name(name, len) & (SLOTS - 1);
    while (slots[h]) {
        const command *cmd = slots[h];
        if (strlen(cmd->name) == len && strncasecmp(cmd->name, name, len) == 0) return cmd;
        h = (h + 1) & (SLOTS - 1);
    }
    return NULL;
}

const command *commands_lookup_sub(const command *parent, const char *name, size_t len) {
    if (!parent->subcommands) return NULL;
    size_t plen = strlen(parent->name) + 1;   /* "client|" */
    for (const command *s = parent->subcommands; s->name; s++)
        if (strlen(s->name) - plen == len && strncasecmp(s->name + plen, name, len) == 0) return s;
    return NULL;
}

const command *commands_at(size_t i) {
    return i < TABLE_LEN ? &table[i] : NULL;
}

size_t commands_count(void) {
    return TABLE_LEN;
}

long long commands_total_processed(void) {
    return total_processed;
}

void commands_reset_stats(void) {
    total_processed = 0;
    for (size_t i = 0; i < STATS_SLOTS; i++) memset(&stats[i].st, 0, sizeof(stats[i].st));
}

/* ------------------------------------------------------------------------
 * Shared replies
 * ------------------------------------------------------------------------ */

/* Appends s to dst as Redis's "%.<max>s" would: at most max bytes, and
 * nothing from a NUL byte on (Redis formats argv as C strings). */
static void cat_trunc(buf *dst, const char *s, size_t len, size_t max) {
    if (len > max) len = max;
    const char *nul = memchr(s, '\0', len);
    buf_append(dst, s, nul ? (size_t)(nul - s) : len);
}

void commands_reply_arity(client *c, const char *name) {
    client_add_errorf(c, "ERR wrong number of arguments for '%s' command", name);
}

/* Replies "ERR <what> '<sub>'. Try <CMD> HELP." with sub cut to 128 bytes. */
static void reply_try_help(client *c, const char *what, const slice *cmd, const slice *sub) {
    buf msg = {0};
    buf_printf(&msg, "ERR %s '", what);
    cat_trunc(&msg, sub->ptr, sub->len, 128);
    buf_append_str(&msg, "'. Try ");
    for (size_t i = 0; i < cmd->len; i++) buf_append_char(&msg, (char)toupper((unsigned char)cmd->ptr[i]));
    buf_append_str(&msg, " HELP.");
    buf_append_char(&msg, '\0');
    client_add_error(c, msg.data);
    buf_free(&msg);
}

void commands_reply_unknown_sub(client *c, const slice *cmd, const slice *sub) {
    reply_try_help(c, "unknown subcommand", cmd, sub);
}

void commands_reply_subcommand_syntax(client *c, const slice *cmd, const slice *sub) {
    reply_try_help(c, "unknown subcommand or wrong number of arguments for", cmd, sub);
}

void commands_reply_help(client *c, const char *cmd_upper, const char *const *lines) {
    size_t n = 0;
    while (lines[n]) n++;
    buf *b = client_reply_buf(c);
    resp_add_array_len(b, (long long)n + 3);
    char head[128];
    snprintf(head, sizeof(head), "%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", cmd_upper);
    resp_add_simple(b, head);
    for (size_t i = 0; i < n; i++) resp_add_simple(b, lines[i]);
    resp_add_simple(b, "HELP");
    resp_add_simple(b, "    Prints this help.");
}

/* Writes Redis's unknown-command text into msg (NUL-terminated): the name
 * and each argument cut to what "%.128s" prints, 128 bytes of arguments. */
static void unknown_command_text(buf *msg, int argc, slice *argv) {
    buf_append_str(msg, "ERR unknown command '");
    cat_trunc(msg, argv[0].ptr, argv[0].len, 128);
    buf_append_str(msg, "', with args beginning with: ");
    size_t args_len = 0;
    for (int i = 1; i < argc && args_len < 128; i++) {
        size_t before = msg->len;
        buf_append_char(msg, '\'');
        cat_trunc(msg, argv[i].ptr, argv[i].len, 128 - args_len);
        buf_append_str(msg, "' ");
        args_len += msg->len - before;
    }
    buf_append_char(msg, '\0');
}

/* ------------------------------------------------------------------------
 * Dispatch
 * ------------------------------------------------------------------------ */

#define CONTEXT_ERR_FMT "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / " \
                        "PING / QUIT / RESET are allowed in this context"

static const char *const ERR_DEBUG_PROTECTED =
    "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", "
    "you can run it from a local connection, otherwise you need to set this option in the "
    "configuration file, and then restart the server.";

/* Refuses a command before it runs (cmd NULL: unknown), replying msg.
 * Inside MULTI the transaction is marked to abort at EXEC. EXEC itself
 * refused (arity, NOAUTH, NOPERM, subscribed context) ends the transaction
 * with Redis's "EXECABORT Transaction discarded because of: <msg>", msg
 * without its "ERR " (other codes, NOPERM, stay). */
static void refuse(client *c, const command *cmd, const char *msg) {
    if (cmd) stats_of(cmd)->rejected_calls++;
    if (cmd && cmd->proc == cmd_exec) {
        client_multi_reset(c);
        if (strncmp(msg, "ERR ", 4) == 0) msg += 4;
        client_add_errorf(c, "EXECABORT Transaction discarded because of: %s", msg);
        return;
    }
    if (c->flags & CLIENT_MULTI) c->flags |= CLIENT_DIRTY_EXEC;
    client_add_error(c, msg);
}

static void queue_multi(client *c, const command *cmd, int argc, slice *argv) {
    c->multi = mem_realloc(c->multi, sizeof(multi_cmd) * (size_t)(c->multi_count + 1));
    multi_cmd *mc = &c->multi[c->multi_count++];
    mc->cmd = cmd;
    mc->argc = argc;
    mc->argv = mem_alloc(sizeof(slice) * (size_t)argc);
    for (int i = 0; i < argc; i++) {
        mc->argv[i].ptr = mem_strndup(argv[i].ptr, argv[i].len);
        mc->argv[i].len = argv[i].len;
    }
    resp_add_simple(client_reply_buf(c), "QUEUED");
}

/* enable-debug-command: yes, or local and the peer is on this machine (a
 * unix socket or a loopback address), as Redis decides. */
static bool protected_allowed(const client *c) {
    if (cfg.enable_debug_command == CONFIG_PROTECTED_YES) return true;
    if (cfg.enable_debug_command != CONFIG_PROTECTED_LOCAL) return false;
    return (c->flags & CLIENT_UNIX_SOCKET) || net_is_local_peer(c->fd);
}

static bool arity_ok(const command *cmd, int argc) {
    return cmd->arity > 0 ? argc == cmd->arity : argc >= -cmd->arity;
}

static bool auth_missing(const client *c) {
    return !c->authenticated && !acl_default_is_open();
}

/* Nesting of commands: 1 for a command from the socket, 2 for one that
 * EXEC runs. */
static int depth;

int commands_nesting(void) {
    return depth;
}

/* Runs run's handler, counting it for INFO commandstats, and feeds the
 * monitors. */
static void call_counted(client *c, const command *run, int argc, slice *argv) {
    command_stats *st = stats_of(run);
    total_processed++;
    long long errors_before = client_error_replies();
    /* Timing every call would cost two clock reads per PUBLISH; a sample
     * of one in TIME_SAMPLE, scaled, gives the same figure on average. */
    if (st->calls++ % TIME_SAMPLE == 0) {
        long long t0 = util_monotonic_us();
        run->proc(c, argc, argv);
        st->usec += (util_monotonic_us() - t0) * TIME_SAMPLE;
    } else {
        run->proc(c, argc, argv);
    }
    if (client_error_replies() != errors_before) st->failed_calls++;
    /* The one branch MONITOR costs when nobody monitors. */
    if (cmd_monitor_count) cmd_monitor_feed(c, run, argc, argv);
}

void commands_call(client *c, const command *run, int argc, slice *argv) {
    depth++;
    call_counted(c, run, argc, argv);
    depth--;
}

/* Every check Redis makes before a command runs or is queued, in Redis's
 * order; returns the command to run, or NULL after refusing it. */
static const command *check_command(client *c, int argc, slice *argv) {
    const command *cmd = commands_lookup(argv[0].ptr, argv[0].len);
    char msg[512];
    if (!cmd) {
        const char *known = redis_only_lookup(argv[0].ptr, argv[0].len);
        if (known && auth_missing(c)) {
            refuse(c, NULL, ERR_NOAUTH);
        } else if (known && c->resp == 2 && client_is_subscribed(c)) {
            snprintf(msg, sizeof(msg), CONTEXT_ERR_FMT, known);
            refuse(c, NULL, msg);
        } else {
            buf text = {0};
            unknown_command_text(&text, argc, argv);
            refuse(c, NULL, text.data);
            buf_free(&text);
        }
        return NULL;
    }
    const command *run = cmd;
    if (cmd->subcommands && argc >= 2) {
        const command *sub = commands_lookup_sub(cmd, argv[1].ptr, argv[1].len);
        if (sub) {
            run = sub;
        } else if (!cmd->proc) {
            if (c->flags & CLIENT_MULTI) c->flags |= CLIENT_DIRTY_EXEC;
            commands_reply_unknown_sub(c, &argv[0], &argv[1]);
            return NULL;
        }
    }
    if (!arity_ok(run, argc)) {
        snprintf(msg, sizeof(msg), "ERR wrong number of arguments for '%s' command", run->name);
        refuse(c, run, msg);
        return NULL;
    }
    if ((run->flags & CMD_PROTECTED) && !protected_allowed(c)) {
        refuse(c, run, ERR_DEBUG_PROTECTED);
        return NULL;
    }
    if (auth_missing(c) && !(run->flags & CMD_NO_AUTH)) {
        refuse(c, run, ERR_NOAUTH);
        return NULL;
    }
    /* ACL: the user's command and channel permissions (cmd_acl.c). */
    if (!cmd_acl_check(c, run, argc, argv, msg, sizeof(msg))) {
        refuse(c, run, msg);
        return NULL;
    }
    if (c->resp == 2 && client_is_subscribed(c) && !(run->flags & CMD_PUBSUB_OK)) {
        snprintf(msg, sizeof(msg), CONTEXT_ERR_FMT, run->name);
        refuse(c, run, msg);
        return NULL;
    }
    return run;
}

static void dispatch_checked(client *c, int argc, slice *argv) {
    const command *run = check_command(c, argc, argv);
    if (!run) return;
    c->last_cmd = run->name;
    /* CLIENT PAUSE holds a command after its checks, as Redis does, and
     * never one that EXEC runs. */
    if (cmd_pause_mode && depth == 1 && cmd_pause_holds(c, run)) {
        client_hold_command(c, argc, argv);
        return;
    }
    if ((c->flags & CLIENT_MULTI) && !(run->flags & CMD_NO_MULTI)) {
        queue_multi(c, run, argc, argv);
        return;
    }
    call_counted(c, run, argc, argv);
}

void commands_dispatch(client *c, int argc, slice *argv) {
    depth++;
    dispatch_checked(c, argc, argv);
    depth--;
    if (depth == 0 && c->tracking) cmd_tracking_after_command(c, &argv[0]);
}

bool commands_has_flag(const command *cmd, const char *flag) {
    size_t n = strlen(flag);
    for (const char *p = cmd->meta ? cmd->meta->flags : NULL; p && *p;) {
        size_t len = strcspn(p, " ");
        if (len == n && memcmp(p, flag, n) == 0) return true;
        p += len;
        while (*p == ' ') p++;
    }
    return false;
}
