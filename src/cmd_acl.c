/* cmd_acl.c -- The ACL command family, and the glue between acl.c and the
 * connections: the command catalog built from the command table, the
 * permission check that commands_dispatch() runs after the authentication
 * check, AUTH's credential check, the ACL LOG entries, and disconnecting
 * the clients that lose their user (ACL DELUSER, ACL LOAD) or a channel
 * they are subscribed to (ACL SETUSER, ACL LOAD).
 *
 * Replies and error texts are Redis 7.0.15's, checked against it; ACL HELP
 * is worded here. A client's user is c->acl (NULL: the default user), with
 * its name copied in c->user for CLIENT LIST. */
#include "cmd_handlers.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "acl.h"
#include "client.h"
#include "config.h"
#include "info.h"
#include "log.h"
#include "mem.h"
#include "pubsub.h"
#include "resp.h"

#define ID_SLOTS 512                /* power of two, above twice the table */
#define GENPASS_MAX_BITS 4096

/* Catalog id of each command of the table, keyed by its address. */
static struct {
    const command *cmd;
    int id;
} ids[ID_SLOTS];

static unsigned id_slot(const command *cmd) {
    unsigned h = (unsigned)(((uintptr_t)cmd >> 4) * 2654435761u) & (ID_SLOTS - 1);
    while (ids[h].cmd && ids[h].cmd != cmd) h = (h + 1) & (ID_SLOTS - 1);
    return h;
}

static int command_id(const command *cmd) {
    unsigned h = id_slot(cmd);
    return ids[h].cmd ? ids[h].id : -1;
}

static acl_user *user_of(const client *c) {
    return c->acl ? c->acl : acl_default_user();
}

static acl_channel_args channel_args(const char *name) {
    if (!strcmp(name, "publish") || !strcmp(name, "spublish") || !strcmp(name, "xadd")) return ACL_CHANNELS_FIRST;
    if (!strcmp(name, "subscribe") || !strcmp(name, "ssubscribe")) return ACL_CHANNELS_ALL;
    if (!strcmp(name, "psubscribe")) return ACL_CHANNELS_PATTERNS;
    return ACL_CHANNELS_NONE;
}

/* Channel histories are streams: their commands take the channel as a key. */
static acl_key_args key_args(const char *name) {
    if (!strcmp(name, "xadd") || !strcmp(name, "xtrim") || !strcmp(name, "xdel")) return ACL_KEYS_FIRST_WRITE;
    if (!strcmp(name, "xrange") || !strcmp(name, "xrevrange") || !strcmp(name, "xlen")) return ACL_KEYS_FIRST_READ;
    if (!strcmp(name, "xinfo|stream") || !strcmp(name, "xinfo|groups") || !strcmp(name, "xinfo|consumers"))
        return ACL_KEYS_SECOND_READ;
    if (!strcmp(name, "xread")) return ACL_KEYS_STREAMS_READ;
    return ACL_KEYS_NONE;
}

static void register_command(const command *cmd) {
    int id = acl_catalog_add(cmd->name, cmd->acl_categories ? cmd->acl_categories : "",
                             (cmd->flags & CMD_NO_AUTH) ? ACL_CMD_NO_AUTH : 0, channel_args(cmd->name));
    if (id == -1) return;
    acl_catalog_set_keys(id, key_args(cmd->name));
    unsigned h = id_slot(cmd);
    ids[h].cmd = cmd;
    ids[h].id = id;
}

/* Redis 7.0 commands and subcommands that this server does not serve,
 * grouped by their ACL categories (as COMMAND INFO of redis-server 7.0.15
 * lists them). They get catalog ids too, so that rules naming them ("+get",
 * "-@write", "+cluster|info") load and read back as in Redis, and category
 * rules cover the same commands; they are never run here. */
static const struct {
    const char *categories;
    const char *names;
} redis_only[] = {
    {"@admin @fast @dangerous",
     "role"},
    {"@admin @slow @dangerous",
     "bgrewriteaof bgsave failover monitor psync replconf replicaof save slaveof sync"},
    {"@fast @connection",
     "asking readonly readwrite"},
    {"@fast @transaction",
     "unwatch watch"},
    {"@hyperloglog @admin @slow @dangerous",
     "pfselftest"},
    {"@keyspace @read @fast",
     "exists expiretime pexpiretime pttl touch ttl type"},
    {"@keyspace @read @slow",
     "dump randomkey scan"},
    {"@keyspace @read @slow @dangerous",
     "keys"},
    {"@keyspace @write @fast",
     "expire expireat move persist pexpire pexpireat renamenx unlink"},
    {"@keyspace @write @fast @dangerous",
     "swapdb"},
    {"@keyspace @write @slow",
     "copy del rename"},
    {"@keyspace @write @slow @dangerous",
     "migrate restore restore-asking"},
    {"@read @bitmap @fast",
     "bitfield_ro getbit"},
    {"@read @bitmap @slow",
     "bitcount bitpos"},
    {"@read @fast",
     "lolwut"},
    {"@read @geo @slow",
     "geodist geohash geopos georadius_ro georadiusbymember_ro geosearch"},
    {"@read @hash @fast",
     "hexists hget hlen hmget hstrlen"},
    {"@read @hash @slow",
     "hgetall hkeys hrandfield hscan hvals"},
    {"@read @hyperloglog @slow",
     "pfcount"},
    {"@read @list @fast",
     "llen"},
    {"@read @list @slow",
     "lindex lpos lrange"},
    {"@read @set @fast",
     "scard sismember smismember"},
    {"@read @set @slow",
     "sdiff sinter sintercard smembers srandmember sscan sunion"},
    {"@read @set @sortedset @list @slow @dangerous",
     "sort_ro"},
    {"@read @sortedset @fast",
     "zcard zcount zlexcount zmscore zrank zrevrank zscore"},
    {"@read @sortedset @slow",
     "zdiff zinter zintercard zrandmember zrange zrangebylex zrangebyscore zrevrange "
     "zrevrangebylex zrevrangebyscore zscan zunion"},
    {"@read @stream @slow",
     "xpending"},
    {"@read @string @fast",
     "get mget strlen"},
    {"@read @string @slow",
     "getrange lcs substr"},
    {"@slow",
     "cluster function memory module object script xgroup"},
    {"@slow @connection",
     "wait"},
    {"@slow @scripting",
     "eval eval_ro evalsha evalsha_ro fcall fcall_ro"},
    {"@write @bitmap @slow",
     "bitfield bitop setbit"},
    {"@write @geo @slow",
     "geoadd georadius georadiusbymember geosearchstore"},
    {"@write @hash @fast",
     "hdel hincrby hincrbyfloat hmset hset hsetnx"},
    {"@write @hyperloglog @admin @slow @dangerous",
     "pfdebug"},
    {"@write @hyperloglog @fast",
     "pfadd"},
    {"@write @hyperloglog @slow",
     "pfmerge"},
    {"@write @list @fast",
     "lpop lpush lpushx rpop rpush rpushx"},
    {"@write @list @slow",
     "linsert lmove lmpop lrem lset ltrim rpoplpush"},
    {"@write @list @slow @blocking",
     "blmove blmpop blpop brpop brpoplpush"},
    {"@write @set @fast",
     "sadd smove spop srem"},
    {"@write @set @slow",
     "sdiffstore sinterstore sunionstore"},
    {"@write @set @sortedset @list @slow @dangerous",
     "sort"},
    {"@write @sortedset @fast",
     "zadd zincrby zpopmax zpopmin zrem"},
    {"@write @sortedset @fast @blocking",
     "bzpopmax bzpopmin"},
    {"@write @sortedset @slow",
     "zdiffstore zinterstore zmpop zrangestore zremrangebylex zremrangebyrank "
     "zremrangebyscore zunionstore"},
    {"@write @sortedset @slow @blocking",
     "bzmpop"},
    {"@write @stream @fast",
     "xack xautoclaim xclaim xsetid"},
    {"@write @stream @slow @blocking",
     "xreadgroup"},
    {"@write @string @fast",
     "append decr decrby getdel getex getset incr incrby incrbyfloat setnx"},
    {"@write @string @slow",
     "mset msetnx psetex set setex setrange"},
    {"@admin @slow @dangerous",
     "cluster|addslots cluster|addslotsrange cluster|bumpepoch "
     "cluster|count-failure-reports cluster|delslots cluster|delslotsrange "
     "cluster|failover cluster|flushslots cluster|forget cluster|meet cluster|replicas "
     "cluster|replicate cluster|reset cluster|saveconfig cluster|set-config-epoch "
     "cluster|setslot cluster|slaves module|list module|load module|loadex "
     "module|unload"},
    {"@keyspace @read @slow",
     "object|encoding object|freq object|idletime object|refcount"},
    {"@keyspace @slow",
     "object|help"},
    {"@read @slow",
     "memory|usage"},
    {"@slow",
     "cluster|countkeysinslot cluster|getkeysinslot cluster|help cluster|info "
     "cluster|keyslot cluster|links cluster|myid cluster|nodes cluster|shards "
     "cluster|slots memory|doctor memory|help memory|malloc-stats memory|purge "
     "memory|stats module|help"},
    {"@slow @scripting",
     "function|dump function|help function|kill function|list function|stats script|debug "
     "script|exists script|flush script|help script|kill script|load"},
    {"@stream @slow",
     "xgroup|help"},
    {"@write @slow @scripting",
     "function|delete function|flush function|load function|restore"},
    {"@write @stream @slow",
     "xgroup|create xgroup|createconsumer xgroup|delconsumer xgroup|destroy xgroup|setid"},
};

static void register_redis_only(void) {
    for (size_t g = 0; g < sizeof(redis_only) / sizeof(redis_only[0]); g++) {
        const char *p = redis_only[g].names;
        char name[64];
        while (*p) {
            size_t n = strcspn(p, " ");
            if (n > 0 && n < sizeof(name)) {
                memcpy(name, p, n);
                name[n] = '\0';
                acl_catalog_add(name, redis_only[g].categories, 0, ACL_CHANNELS_NONE);
            }
            p += n;
            while (*p == ' ') p++;
        }
    }
}

/* ------------------------------------------------------------------------
 * Start-up and shutdown
 * ------------------------------------------------------------------------ */

static int apply_requirepass(const char *name, char *err, size_t errlen) {
    (void)name, (void)err, (void)errlen;
    acl_set_default_password(cfg.requirepass);
    return 0;
}

static void write_user_lines(buf *out);

int cmd_acl_init(void) {
    for (size_t i = 0; i < commands_count(); i++) {
        const command *cmd = commands_at(i);
        register_command(cmd);
        for (const command *s = cmd->subcommands; s && s->name; s++) register_command(s);
    }
    register_redis_only();
    acl_init();
    acl_set_default_password(cfg.requirepass);
    config_set_apply_hook("requirepass", apply_requirepass);
    config_set_users_writer(write_user_lines);
    return acl_load_startup();
}

void cmd_acl_free(void) {
    acl_free();
    acl_catalog_clear();
    memset(ids, 0, sizeof(ids));
}

/* ------------------------------------------------------------------------
 * Users of connections
 * ------------------------------------------------------------------------ */

void cmd_acl_set_user(client *c, acl_user *u) {
    c->acl = u == acl_default_user() ? NULL : u;
    mem_free(c->user);
    c->user = c->acl ? mem_strndup(acl_user_name(u), acl_user_name_len(u)) : NULL;
    c->authenticated = true;
}

/* Set when the client running an ACL command loses its user: it is
 * closed once its reply is queued (close_self_after_reply). */
static bool self_dropped;

/* Takes c back to the unauthenticated default user and closes it; the
 * client running the command is closed after its reply, as Redis does. */
static void drop_client(client *c, client *self) {
    c->acl = NULL;
    mem_free(c->user);
    c->user = NULL;
    c->authenticated = false;
    if (c == self) self_dropped = true;
    else client_close_async(c);
}

/* Call after queueing the reply of a command that may drop clients. */
static void close_self_after_reply(client *c) {
    if (!self_dropped) return;
    self_dropped = false;
    client_set_state(c, CLIENT_CLOSE_AFTER_REPLY);
}

typedef struct drop_ctx {
    client *self;
    const acl_user *rights;     /* NULL: drop every client of the user */
    bool violation;
} drop_ctx;

static void check_channel(void *ctx, const char *name, size_t len) {
    drop_ctx *d = ctx;
    if (!d->violation && !acl_user_allows_channel(d->rights, name, len, false)) d->violation = true;
}

static void check_pattern(void *ctx, const char *name, size_t len) {
    drop_ctx *d = ctx;
    if (!d->violation && !acl_user_allows_channel(d->rights, name, len, true)) d->violation = true;
}

/* Closes the subscribers of u holding a channel or pattern that rights
 * (u's rules to be) would refuse, as Redis does when channels shrink. */
static void drop_revoked_subscribers(const acl_user *u, const acl_user *rights, client *self) {
    if (!acl_channels_may_shrink(rights, u)) return;
    for (client *o = client_first(); o; o = client_next(o)) {
        if (o->state == CLIENT_CLOSE_ASAP || user_of(o) != u || !client_is_subscribed(o)) continue;
        drop_ctx d = {self, rights, false};
        pubsub_sub_foreach(o->subs, PUBSUB_PATTERNS, check_pattern, &d);
        pubsub_sub_foreach(o->subs, PUBSUB_CHANNEL, check_channel, &d);
        pubsub_sub_foreach(o->subs, PUBSUB_SHARD, check_channel, &d);
        if (d.violation) drop_client(o, self);
    }
}

/* Before u is freed: no client may keep its address, closing ones included. */
static void drop_clients_of(void *ctx, acl_user *u) {
    client *self = ctx;
    for (client *o = client_first(); o; o = client_next(o)) {
        if (o->acl != u) continue;
        if (o->state == CLIENT_CLOSE_ASAP) o->acl = NULL;
        else drop_client(o, self);
    }
}

/* ------------------------------------------------------------------------
 * Permission checks and the ACL LOG
 * ------------------------------------------------------------------------ */

static void log_denial(client *c, int reason, int context, const char *object, size_t object_len) {
    const acl_user *u = user_of(c);
    buf info = {0};
    info_client_line(c, &info);
    acl_log_add(reason, context, object, object_len, acl_user_name(u), acl_user_name_len(u),
                info.data ? info.data : "", info.len);
    buf_free(&info);
}

bool cmd_acl_check(client *c, const command *cmd, int argc, slice *argv, char *err, size_t err_len) {
    const acl_user *u = user_of(c);
    if (acl_user_unrestricted(u)) return true;
    int idx = 0;
    int r = acl_check(u, command_id(cmd), argc, argv, &idx);
    if (r == ACL_OK) return true;
    /* The log's client line names the refused command, as Redis's does. */
    c->last_cmd = cmd->name;
    int context = (c->flags & CLIENT_MULTI) ? ACL_CTX_MULTI : ACL_CTX_TOPLEVEL;
    if (r == ACL_DENIED_CMD) {
        log_denial(c, r, context, cmd->name, strlen(cmd->name));
        snprintf(err, err_len, "NOPERM this user has no permissions to run the '%s' command", cmd->name);
    } else {
        log_denial(c, r, context, argv[idx].ptr, argv[idx].len);
        snprintf(err, err_len, "NOPERM this user has no permissions to access one of the %s used as arguments",
                 r == ACL_DENIED_KEY ? "keys" : "channels");
    }
    return false;
}

bool cmd_acl_check_queued(client *c, const command *cmd, int argc, slice *argv) {
    const acl_user *u = user_of(c);
    if (acl_user_unrestricted(u)) return true;
    int idx = 0;
    int r = acl_check(u, command_id(cmd), argc, argv, &idx);
    if (r == ACL_OK) return true;
    c->last_cmd = "exec";
    if (r == ACL_DENIED_CMD) log_denial(c, r, ACL_CTX_MULTI, cmd->name, strlen(cmd->name));
    else log_denial(c, r, ACL_CTX_MULTI, argv[idx].ptr, argv[idx].len);
    client_add_errorf(c, "NOPERM ACLs rules changed between the moment the transaction was accumulated and the "
                         "EXEC call. This command is no longer allowed for the following reason: %s",
                      r == ACL_DENIED_CMD   ? "no permission to execute the command or subcommand"
                      : r == ACL_DENIED_KEY ? "no permission to touch the specified keys"
                                            : "no permission to access one of the channels used as arguments");
    return false;
}

bool cmd_acl_authenticate(client *c, const slice *verb, const slice *user, const slice *pass) {
    const char *name = user ? user->ptr : "default";
    size_t name_len = user ? user->len : 7;
    acl_user *u = acl_authenticate(name, name_len, pass->ptr, pass->len);
    if (u) {
        cmd_acl_set_user(c, u);
        return true;
    }
    buf info = {0};
    info_client_line(c, &info);
    acl_log_add(ACL_DENIED_AUTH, (c->flags & CLIENT_MULTI) ? ACL_CTX_MULTI : ACL_CTX_TOPLEVEL, verb->ptr, verb->len,
                name, name_len, info.data ? info.data : "", info.len);
    buf_free(&info);
    return false;
}

/* ------------------------------------------------------------------------
 * ACL SETUSER, DELUSER, GETUSER, LIST, USERS, WHOAMI
 * ------------------------------------------------------------------------ */

/* An error reply of any length (client_add_errorf() stops at 512 bytes). */
static void reply_error_buf(client *c, buf *msg) {
    buf_append_char(msg, '\0');
    client_add_error(c, msg->data);
    buf_free(msg);
}

void cmd_acl_setuser(client *c, int argc, slice *argv) {
    size_t errlen = 256;
    for (int i = 3; i < argc; i++) errlen += argv[i].len + 1;
    char *err = mem_alloc(errlen);
    acl_user *staged = acl_setuser_stage(argv[2].ptr, argv[2].len, argc - 3, argv + 3, err, errlen);
    if (!staged) {
        client_add_error(c, err);
        mem_free(err);
        return;
    }
    mem_free(err);
    acl_user *live = acl_find_user(argv[2].ptr, argv[2].len);
    if (live) drop_revoked_subscribers(live, staged, c);
    acl_setuser_commit(staged);
    client_add_ok(c);
    close_self_after_reply(c);
}

void cmd_acl_deluser(client *c, int argc, slice *argv) {
    for (int i = 2; i < argc; i++) {
        if (argv[i].len == 7 && memcmp(argv[i].ptr, "default", 7) == 0) {
            client_add_error(c, "ERR The 'default' user cannot be removed");
            return;
        }
    }
    long long deleted = 0;
    for (int i = 2; i < argc; i++) {
        acl_user *u = acl_find_user(argv[i].ptr, argv[i].len);
        if (!u) continue;
        drop_clients_of(c, u);
        acl_deluser(u);
        deleted++;
    }
    resp_add_int(client_reply_buf(c), deleted);
    close_self_after_reply(c);
}

static void add_bulk_buf(buf *b, buf *text) {
    resp_add_bulk(b, text->data ? text->data : "", text->len);
    text->len = 0;
}

void cmd_acl_getuser(client *c, int argc, slice *argv) {
    (void)argc;
    const acl_user *u = acl_find_user(argv[2].ptr, argv[2].len);
    buf *b = client_reply_buf(c);
    if (!u) {
        resp_add_null(b, c->resp);
        return;
    }
    buf text = {0};
    const char *flags[5];
    int nflags = acl_user_flags(u, flags);
    resp_add_map_len(b, 6, c->resp);
    resp_add_bulk_str(b, "flags");
    resp_add_set_len(b, nflags, c->resp);
    for (int i = 0; i < nflags; i++) resp_add_bulk_str(b, flags[i]);
    resp_add_bulk_str(b, "passwords");
    resp_add_array_len(b, acl_user_password_count(u));
    for (int i = 0; i < acl_user_password_count(u); i++) resp_add_bulk_str(b, acl_user_password(u, i));
    for (int s = 0; s < acl_user_selector_count(u); s++) {
        if (s == 1) resp_add_array_len(b, acl_user_selector_count(u) - 1);
        if (s >= 1) resp_add_map_len(b, 3, c->resp);
        resp_add_bulk_str(b, "commands");
        acl_selector_commands(u, s, &text);
        add_bulk_buf(b, &text);
        resp_add_bulk_str(b, "keys");
        acl_selector_keys(u, s, &text);
        add_bulk_buf(b, &text);
        resp_add_bulk_str(b, "channels");
        acl_selector_channels(u, s, &text);
        add_bulk_buf(b, &text);
        if (s == 0) resp_add_bulk_str(b, "selectors");
    }
    if (acl_user_selector_count(u) == 1) resp_add_array_len(b, 0);
    buf_free(&text);
}

/* "user <name> <rules>", as ACL LIST and CONFIG REWRITE write it. */
static void user_line(const acl_user *u, buf *out) {
    buf_append_str(out, "user ");
    buf_append(out, acl_user_name(u), acl_user_name_len(u));
    buf_append_char(out, ' ');
    acl_user_describe(u, out);
}

void cmd_acl_list(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    buf *b = client_reply_buf(c);
    buf line = {0};
    resp_add_array_len(b, (long long)acl_user_count());
    for (size_t i = 0; i < acl_user_count(); i++) {
        user_line(acl_user_at(i), &line);
        add_bulk_buf(b, &line);
    }
    buf_free(&line);
}

/* CONFIG REWRITE's user lines (config_set_users_writer). */
static void write_user_lines(buf *out) {
    for (size_t i = 0; i < acl_user_count(); i++) {
        user_line(acl_user_at(i), out);
        buf_append_char(out, '\n');
    }
}

void cmd_acl_users(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    buf *b = client_reply_buf(c);
    resp_add_array_len(b, (long long)acl_user_count());
    for (size_t i = 0; i < acl_user_count(); i++)
        resp_add_bulk(b, acl_user_name(acl_user_at(i)), acl_user_name_len(acl_user_at(i)));
}

void cmd_acl_whoami(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    const acl_user *u = user_of(c);
    resp_add_bulk(client_reply_buf(c), acl_user_name(u), acl_user_name_len(u));
}

/* ------------------------------------------------------------------------
 * ACL CAT, GENPASS, LOG, DRYRUN
 * ------------------------------------------------------------------------ */

void cmd_acl_cat(client *c, int argc, slice *argv) {
    buf *b = client_reply_buf(c);
    if (argc == 2) {
        long long n = 0;
        while (acl_category_name((int)n)) n++;
        resp_add_array_len(b, n);
        for (int i = 0; i < n; i++) resp_add_bulk_str(b, acl_category_name(i));
        return;
    }
    if (argc > 3) {
        commands_reply_subcommand_syntax(c, &argv[0], &argv[1]);
        return;
    }
    int cat = acl_category_find(argv[2].ptr, argv[2].len);
    if (cat == -1) {
        client_add_errorf(c, "ERR Unknown category '%.*s'", (int)(argv[2].len > 128 ? 128 : argv[2].len),
                          argv[2].ptr);
        return;
    }
    buf names = {0};
    long long n = 0;
    for (int id = 0; id < acl_catalog_count(); id++) {
        if (!acl_command_in_category(id, cat)) continue;
        resp_add_bulk_str(&names, acl_catalog_name(id));
        n++;
    }
    resp_add_array_len(b, n);
    buf_append(b, names.data, names.len);
    buf_free(&names);
}

static void random_bytes(unsigned char *p, size_t len) {
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    size_t got = 0;
    while (fd != -1 && got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n <= 0) break;
        got += (size_t)n;
    }
    if (fd != -1) close(fd);
    /* /dev/urandom does not fail in practice; never leave bytes unset. */
    for (; got < len; got++) p[got] = (unsigned char)(util_monotonic_us() ^ rand());
}

void cmd_acl_genpass(client *c, int argc, slice *argv) {
    long long bits = 256;
    if (argc > 3) {
        commands_reply_subcommand_syntax(c, &argv[0], &argv[1]);
        return;
    }
    if (argc == 3 && !util_parse_ll(argv[2].ptr, argv[2].len, &bits)) {
        client_add_error(c, ERR_NOT_INTEGER);
        return;
    }
    if (bits <= 0 || bits > GENPASS_MAX_BITS) {
        client_add_errorf(c, "ERR ACL GENPASS argument must be the number of bits for the output password, a "
                             "positive number up to %d", GENPASS_MAX_BITS);
        return;
    }
    static const char digits[] = "0123456789abcdef";
    size_t chars = (size_t)(bits + 3) / 4;
    unsigned char raw[GENPASS_MAX_BITS / 4];
    char hex[GENPASS_MAX_BITS / 4];
    random_bytes(raw, chars);
    for (size_t i = 0; i < chars; i++) hex[i] = digits[raw[i] & 15];
    resp_add_bulk(client_reply_buf(c), hex, chars);
}

static const char *reason_name(int reason) {
    switch (reason) {
    case ACL_DENIED_CMD: return "command";
    case ACL_DENIED_KEY: return "key";
    case ACL_DENIED_CHANNEL: return "channel";
    case ACL_DENIED_AUTH: return "auth";
    default: return "unknown";
    }
}

void cmd_acl_log(client *c, int argc, slice *argv) {
    long long count = 10;
    if (argc > 3) {
        commands_reply_subcommand_syntax(c, &argv[0], &argv[1]);
        return;
    }
    if (argc == 3) {
        if (util_eq_nocase(argv[2].ptr, argv[2].len, "reset")) {
            acl_log_reset();
            client_add_ok(c);
            return;
        }
        if (!util_parse_ll(argv[2].ptr, argv[2].len, &count)) {
            client_add_error(c, ERR_NOT_INTEGER);
            return;
        }
        if (count < 0) count = 0;
    }
    if ((size_t)count > acl_log_count()) count = (long long)acl_log_count();
    buf *b = client_reply_buf(c);
    long long now = util_time_ms();
    resp_add_array_len(b, count);
    for (long long i = 0; i < count; i++) {
        const acl_log_entry *e = acl_log_at((size_t)i);
        resp_add_map_len(b, 7, c->resp);
        resp_add_bulk_str(b, "count");
        resp_add_int(b, e->count);
        resp_add_bulk_str(b, "reason");
        resp_add_bulk_str(b, reason_name(e->reason));
        resp_add_bulk_str(b, "context");
        resp_add_bulk_str(b, e->context == ACL_CTX_MULTI ? "multi" : "toplevel");
        resp_add_bulk_str(b, "object");
        resp_add_bulk(b, e->object, e->object_len);
        resp_add_bulk_str(b, "username");
        resp_add_bulk(b, e->username, e->username_len);
        resp_add_bulk_str(b, "age-seconds");
        resp_add_double(b, (double)(now - e->ctime_ms) / 1000, c->resp);
        resp_add_bulk_str(b, "client-info");
        resp_add_bulk(b, e->client_info, e->client_info_len);
    }
}

/* Replies "<prefix>'<name>'<suffix>" as an error, name untruncated. */
static void reply_named_error(client *c, const char *prefix, const slice *name, const char *suffix) {
    buf msg = {0};
    buf_append_str(&msg, prefix);
    buf_append(&msg, name->ptr, name->len);
    buf_append_str(&msg, suffix);
    reply_error_buf(c, &msg);
}

void cmd_acl_dryrun(client *c, int argc, slice *argv) {
    const acl_user *u = acl_find_user(argv[2].ptr, argv[2].len);
    if (!u) {
        reply_named_error(c, "ERR User '", &argv[2], "' not found");
        return;
    }
    int cargc = argc - 3;
    slice *cargv = argv + 3;
    const command *cmd = commands_lookup(cargv[0].ptr, cargv[0].len);
    if (cmd && cmd->subcommands && cargc >= 2) cmd = commands_lookup_sub(cmd, cargv[1].ptr, cargv[1].len);
    if (!cmd) {
        reply_named_error(c, "ERR Command '", &cargv[0], "' not found");
        return;
    }
    if (cmd->arity > 0 ? cargc != cmd->arity : cargc < -cmd->arity) {
        commands_reply_arity(c, cmd->name);
        return;
    }
    int idx = 0;
    int r = acl_check(u, command_id(cmd), cargc, cargv, &idx);
    buf msg = {0};
    if (r == ACL_DENIED_CMD) {
        buf_printf(&msg, "This user has no permissions to run the '%s' command", cmd->name);
    } else if (r == ACL_DENIED_CHANNEL || r == ACL_DENIED_KEY) {
        buf_append_str(&msg, "This user has no permissions to access the '");
        buf_append(&msg, cargv[idx].ptr, cargv[idx].len);
        buf_append_str(&msg, r == ACL_DENIED_KEY ? "' key" : "' channel");
    }
    if (r == ACL_OK) client_add_ok(c);
    else resp_add_bulk(client_reply_buf(c), msg.data, msg.len);
    buf_free(&msg);
}

/* ------------------------------------------------------------------------
 * ACL LOAD, SAVE, HELP
 * ------------------------------------------------------------------------ */

static bool have_aclfile(client *c) {
    if (cfg.aclfile && cfg.aclfile[0]) return true;
    client_add_error(c, "ERR This Redis instance is not configured to use an ACL file. You may want to specify "
                        "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a "
                        "Redis configuration file set) in order to store users in the Redis configuration.");
    return false;
}

void cmd_acl_load(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    if (!have_aclfile(c)) return;
    buf errors = {0};
    buf_append_str(&errors, "ERR ");
    acl_userset *set = acl_load_stage(cfg.aclfile, &errors);
    if (!set) {
        reply_error_buf(c, &errors);
        return;
    }
    buf_free(&errors);
    /* Redis 7.0 keeps the default user's subscribers whatever their
     * channels become; we close those that lost a channel, as SETUSER does. */
    drop_revoked_subscribers(acl_default_user(), acl_userset_default(set), c);
    acl_load_commit(set, drop_clients_of, c);
    client_add_ok(c);
    close_self_after_reply(c);
}

void cmd_acl_save(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    if (!have_aclfile(c)) return;
    if (acl_save_file(cfg.aclfile) == 0) client_add_ok(c);
    else client_add_error(c, "ERR There was an error trying to save the ACLs. Please check the server logs for "
                             "more information");
}

void cmd_acl_help(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    static const char *const lines[] = {
        "CAT [<category>]",
        "    List the command categories, or the commands in one.",
        "DELUSER <username> [<username> ...]",
        "    Delete users; their connections are closed.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Tell whether the user may run the command, without running it.",
        "GETUSER <username>",
        "    Show the rules of a user.",
        "GENPASS [<bits>]",
        "    Return a random password of 256 bits, or of the given size.",
        "LIST",
        "    Show every user as an ACL file line.",
        "LOAD",
        "    Replace the users with those of the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the latest denied commands and authentications, or clear them.",
        "SAVE",
        "    Write the users to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create a user, or change its rules.",
        "USERS",
        "    List the user names.",
        "WHOAMI",
        "    Return the user name of this connection.",
        NULL,
    };
    commands_reply_help(c, "ACL", lines);
}
