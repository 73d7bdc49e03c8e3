/* commands.c -- The command table and dispatch.
 *
 * commands_dispatch() applies Redis's checks in Redis's order: QUIT first,
 * then lookup (unknown command / unknown subcommand), arity, authentication,
 * the RESP2 subscribed context, and MULTI queueing; then the handler runs.
 * Lookup goes through a small open-addressing table keyed by the
 * lower-cased name, built once at start-up, so the hot path (PUBLISH) costs
 * one hash of a short name. The table here is also what COMMAND reports. */
#include "commands.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "acl.h"
#include "client.h"
#include "cmd_handlers.h"
#include "config.h"
#include "mem.h"
#include "resp.h"

const char *const ERR_SYNTAX = "ERR syntax error";
const char *const ERR_NOAUTH = "NOAUTH Authentication required.";
const char *const ERR_WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled.";
const char *const ERR_NOT_INTEGER = "ERR value is not an integer or out of range";

command_env cmd_env;

/* ------------------------------------------------------------------------
 * Argument descriptions for COMMAND DOCS
 * ------------------------------------------------------------------------ */

#define ARG(n, t) {n, t, NULL, 0, NULL}
#define ARG_OPT(n, t) {n, t, NULL, CMD_ARG_OPTIONAL, NULL}
#define ARG_MULTI(n, t) {n, t, NULL, CMD_ARG_MULTIPLE, NULL}
#define ARG_OPT_MULTI(n, t) {n, t, NULL, CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE, NULL}
#define ARG_END {NULL, NULL, NULL, 0, NULL}

static const command_arg args_channels[] = {ARG_MULTI("channel", "string"), ARG_END};
static const command_arg args_opt_channels[] = {ARG_OPT_MULTI("channel", "string"), ARG_END};
static const command_arg args_patterns[] = {ARG_MULTI("pattern", "pattern"), ARG_END};
static const command_arg args_opt_patterns[] = {ARG_OPT_MULTI("pattern", "pattern"), ARG_END};
static const command_arg args_shardchannels[] = {ARG_MULTI("shardchannel", "string"), ARG_END};
static const command_arg args_opt_shardchannels[] = {ARG_OPT_MULTI("shardchannel", "string"), ARG_END};
static const command_arg args_publish[] = {ARG("channel", "string"), ARG("message", "string"), ARG_END};
static const command_arg args_spublish[] = {ARG("shardchannel", "string"), ARG("message", "string"), ARG_END};
static const command_arg args_opt_pattern[] = {ARG_OPT("pattern", "pattern"), ARG_END};
static const command_arg args_message_opt[] = {ARG_OPT("message", "string"), ARG_END};
static const command_arg args_message[] = {ARG("message", "string"), ARG_END};
static const command_arg args_password[] = {ARG_OPT("username", "string"), ARG("password", "string"), ARG_END};
static const command_arg args_index[] = {ARG("index", "integer"), ARG_END};
static const command_arg hello_auth[] = {ARG("username", "string"), ARG("password", "string"), ARG_END};
static const command_arg hello_block[] = {
    ARG("protover", "integer"),
    {"username-password", "block", "AUTH", CMD_ARG_OPTIONAL, hello_auth},
    {"clientname", "string", "SETNAME", CMD_ARG_OPTIONAL, NULL},
    ARG_END};
static const command_arg args_hello[] = {
    {"arguments", "block", NULL, CMD_ARG_OPTIONAL, hello_block}, ARG_END};
static const command_arg args_section[] = {ARG_OPT_MULTI("section", "string"), ARG_END};
static const command_arg args_parameters[] = {ARG_MULTI("parameter", "string"), ARG_END};
static const command_arg config_set_pair[] = {ARG("parameter", "string"), ARG("value", "string"), ARG_END};
static const command_arg args_config_set[] = {
    {"data", "block", NULL, CMD_ARG_MULTIPLE, config_set_pair}, ARG_END};
static const command_arg args_name[] = {ARG("connection-name", "string"), ARG_END};
static const command_arg args_command_names[] = {ARG_OPT_MULTI("command-name", "string"), ARG_END};
static const command_arg shutdown_mode[] = {
    {"nosave", "pure-token", "NOSAVE", 0, NULL}, {"save", "pure-token", "SAVE", 0, NULL}, ARG_END};
static const command_arg args_shutdown[] = {
    {"nosave-save", "oneof", NULL, CMD_ARG_OPTIONAL, shutdown_mode},
    {"now", "pure-token", "NOW", CMD_ARG_OPTIONAL, NULL},
    {"force", "pure-token", "FORCE", CMD_ARG_OPTIONAL, NULL},
    {"abort", "pure-token", "ABORT", CMD_ARG_OPTIONAL, NULL}, ARG_END};
static const command_arg flush_mode[] = {
    {"async", "pure-token", "ASYNC", 0, NULL}, {"sync", "pure-token", "SYNC", 0, NULL}, ARG_END};
static const command_arg args_flush[] = {
    {"flush-type", "oneof", NULL, CMD_ARG_OPTIONAL, flush_mode}, ARG_END};
static const command_arg onoff[] = {
    {"on", "pure-token", "ON", 0, NULL}, {"off", "pure-token", "OFF", 0, NULL}, ARG_END};
static const command_arg args_onoff[] = {{"enabled", "oneof", NULL, 0, onoff}, ARG_END};
static const command_arg reply_modes[] = {
    {"on", "pure-token", "ON", 0, NULL}, {"off", "pure-token", "OFF", 0, NULL},
    {"skip", "pure-token", "SKIP", 0, NULL}, ARG_END};
static const command_arg args_reply[] = {{"action", "oneof", NULL, 0, reply_modes}, ARG_END};
static const command_arg setinfo_attr[] = {
    {"libname", "string", "LIB-NAME", 0, NULL}, {"libver", "string", "LIB-VER", 0, NULL}, ARG_END};
static const command_arg args_setinfo[] = {{"attr", "oneof", NULL, 0, setinfo_attr}, ARG_END};
static const command_arg kill_filters[] = {
    {"client-id", "integer", "ID", CMD_ARG_OPTIONAL, NULL},
    {"normal|pubsub", "string", "TYPE", CMD_ARG_OPTIONAL, NULL},
    {"username", "string", "USER", CMD_ARG_OPTIONAL, NULL},
    {"ip:port", "string", "ADDR", CMD_ARG_OPTIONAL, NULL},
    {"ip:port", "string", "LADDR", CMD_ARG_OPTIONAL, NULL},
    {"yes/no", "string", "SKIPME", CMD_ARG_OPTIONAL, NULL},
    {"maxage", "integer", "MAXAGE", CMD_ARG_OPTIONAL, NULL}, ARG_END};
static const command_arg args_kill[] = {
    {"filter", "block", NULL, CMD_ARG_MULTIPLE, kill_filters}, ARG_END};
static const command_arg list_type[] = {
    {"normal", "pure-token", "NORMAL", 0, NULL}, {"pubsub", "pure-token", "PUBSUB", 0, NULL}, ARG_END};
static const command_arg args_client_list[] = {
    {"client-type", "oneof", "TYPE", CMD_ARG_OPTIONAL, list_type},
    {"client-id", "integer", "ID", CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE, NULL}, ARG_END};
static const command_arg args_debug[] = {ARG("subcommand", "string"), ARG_OPT_MULTI("argument", "string"), ARG_END};

/* ------------------------------------------------------------------------
 * The table
 * ------------------------------------------------------------------------ */

#define PS "pubsub"
#define CONN "connection"
#define SRV "server"

#define SUB(n, p, a, f, fl, cat, since, sum, args) \
    {n, p, a, f, fl, cat, NULL, since, sum, "O(1)", args, NULL, 0, 0, 0}

static const command pubsub_subs[] = {
    SUB("pubsub|channels", cmd_pubsub_channels, -2, 0, "pubsub loading stale", "@pubsub @slow", "2.8.0",
        "Returns the active channels.", args_opt_pattern),
    SUB("pubsub|help", cmd_pubsub_help, 2, 0, "loading stale", "@slow", "6.2.0",
        "Returns helpful text about the different subcommands.", NULL),
    SUB("pubsub|numpat", cmd_pubsub_numpat, 2, 0, "pubsub loading stale", "@pubsub @slow", "2.8.0",
        "Returns a count of unique pattern subscriptions.", NULL),
    SUB("pubsub|numsub", cmd_pubsub_numsub, -2, 0, "pubsub loading stale", "@pubsub @slow", "2.8.0",
        "Returns a count of subscribers to channels.", args_opt_channels),
    SUB("pubsub|shardchannels", cmd_pubsub_shardchannels, -2, 0, "pubsub loading stale", "@pubsub @slow", "7.0.0",
        "Returns the active shard channels.", args_opt_pattern),
    SUB("pubsub|shardnumsub", cmd_pubsub_shardnumsub, -2, 0, "pubsub loading stale", "@pubsub @slow", "7.0.0",
        "Returns the count of subscribers of shard channels.", args_opt_shardchannels),
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0},
};

static const command client_subs[] = {
    SUB("client|caching", cmd_client_tracking, 3, 0, "noscript loading stale", "@slow @connection", "6.0.0",
        "Not supported: there is no keyspace to track.", NULL),
    SUB("client|getname", cmd_client_getname, 2, 0, "noscript loading stale", "@slow @connection", "2.6.9",
        "Returns the name of the connection.", NULL),
    SUB("client|getredir", cmd_client_tracking, 2, 0, "noscript loading stale", "@slow @connection", "6.0.0",
        "Not supported: there is no keyspace to track.", NULL),
    SUB("client|help", cmd_client_help, 2, 0, "loading stale", "@slow @connection", "5.0.0",
        "Returns helpful text about the different subcommands.", NULL),
    SUB("client|id", cmd_client_id, 2, 0, "noscript loading stale", "@slow @connection", "5.0.0",
        "Returns the unique client ID of the connection.", NULL),
    SUB("client|info", cmd_client_info, 2, 0, "noscript loading stale", "@slow @connection", "6.2.0",
        "Returns information about the connection.", NULL),
    SUB("client|kill", cmd_client_kill, -3, 0, "admin noscript loading stale", "@admin @slow @dangerous @connection", "2.4.0",
        "Terminates open connections.", args_kill),
    SUB("client|list", cmd_client_list, -2, 0, "admin noscript loading stale", "@admin @slow @dangerous @connection", "2.4.0",
        "Lists open connections.", args_client_list),
    SUB("client|no-evict", cmd_client_no_evict, 3, 0, "admin noscript loading stale", "@admin @slow @dangerous @connection", "7.0.0",
        "Sets the client eviction mode of the connection.", args_onoff),
    SUB("client|no-touch", cmd_client_no_touch, 3, 0, "noscript loading stale", "@slow @connection", "7.2.0",
        "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", args_onoff),
    SUB("client|pause", cmd_client_unsupported, -3, 0, "admin noscript loading stale", "@admin @slow @dangerous @connection", "3.0.0",
        "Not supported by redis-pubsub.", NULL),
    SUB("client|reply", cmd_client_reply, 3, 0, "noscript loading stale", "@slow @connection", "3.2.0",
        "Instructs the server whether to reply to commands.", args_reply),
    SUB("client|setinfo", cmd_client_setinfo, 4, 0, "noscript loading stale", "@slow @connection", "7.2.0",
        "Sets information specific to the client or connection.", args_setinfo),
    SUB("client|setname", cmd_client_setname, 3, 0, "noscript loading stale", "@slow @connection", "2.6.9",
        "Sets the connection name.", args_name),
    SUB("client|tracking", cmd_client_tracking, -3, 0, "noscript loading stale", "@slow @connection", "6.0.0",
        "Not supported: there is no keyspace to track.", NULL),
    SUB("client|trackinginfo", cmd_client_tracking, 2, 0, "noscript loading stale", "@slow @connection", "6.2.0",
        "Not supported: there is no keyspace to track.", NULL),
    SUB("client|unblock", cmd_client_unblock, -3, 0, "admin noscript loading stale", "@admin @slow @dangerous @connection", "5.0.0",
        "Unblocks a client blocked by a blocking command: none ever is here.", NULL),
    SUB("client|unpause", cmd_client_unsupported, 2, 0, "admin noscript loading stale", "@admin @slow @dangerous @connection", "6.2.0",
        "Not supported by redis-pubsub.", NULL),
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0},
};

static const command config_subs[] = {
    SUB("config|get", cmd_config_get, -3, 0, "admin noscript loading stale", "@admin @slow @dangerous", "2.0.0",
        "Returns the effective values of configuration parameters.", args_parameters),
    SUB("config|help", cmd_config_help, 2, 0, "loading stale", "@slow", "5.0.0",
        "Returns helpful text about the different subcommands.", NULL),
    SUB("config|resetstat", cmd_config_resetstat, 2, 0, "admin noscript loading stale", "@admin @slow @dangerous", "2.0.0",
        "Resets the server's statistics.", NULL),
    SUB("config|rewrite", cmd_config_rewrite, 2, 0, "admin noscript loading stale", "@admin @slow @dangerous", "2.8.0",
        "Persists the effective configuration to file.", NULL),
    SUB("config|set", cmd_config_set, -4, 0, "admin noscript loading stale", "@admin @slow @dangerous", "2.0.0",
        "Sets configuration parameters in-flight.", args_config_set),
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0},
};

static const command command_subs[] = {
    SUB("command|count", cmd_command_count, 2, 0, "loading stale", "@slow @connection", "2.8.13",
        "Returns a count of commands.", NULL),
    SUB("command|docs", cmd_command_docs, -2, 0, "loading stale", "@slow @connection", "7.0.0",
        "Returns documentary information about one, multiple or all commands.", args_command_names),
    SUB("command|getkeys", cmd_command_getkeys, -3, 0, "loading stale", "@slow @connection", "2.8.13",
        "Extracts the key names from an arbitrary command.", NULL),
    SUB("command|help", cmd_command_help, 2, 0, "loading stale", "@slow @connection", "5.0.0",
        "Returns helpful text about the different subcommands.", NULL),
    SUB("command|info", cmd_command_info, -2, 0, "loading stale", "@slow @connection", "2.8.13",
        "Returns information about one, multiple or all commands.", args_command_names),
    SUB("command|list", cmd_command_list, -2, 0, "loading stale", "@slow @connection", "7.0.0",
        "Returns a list of command names.", NULL),
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0},
};

/* ---- ACL (handlers in cmd_acl.c) ---- */
static const command_arg args_acl_category[] = {ARG_OPT("category", "string"), ARG_END};
static const command_arg args_acl_username[] = {ARG("username", "string"), ARG_END};
static const command_arg args_acl_usernames[] = {ARG_MULTI("username", "string"), ARG_END};
static const command_arg args_acl_setuser[] = {ARG("username", "string"), ARG_OPT_MULTI("rule", "string"), ARG_END};
static const command_arg args_acl_dryrun[] = {
    ARG("username", "string"), ARG("command", "string"), ARG_OPT_MULTI("arg", "string"), ARG_END};
static const command_arg args_acl_bits[] = {ARG_OPT("bits", "integer"), ARG_END};
static const command_arg acl_log_op[] = {
    {"count", "integer", NULL, 0, NULL}, {"reset", "pure-token", "RESET", 0, NULL}, ARG_END};
static const command_arg args_acl_log[] = {{"operation", "oneof", NULL, CMD_ARG_OPTIONAL, acl_log_op}, ARG_END};

#define ACL_ADMIN "admin noscript loading stale"
#define ACL_ADMIN_CATS "@admin @slow @dangerous"

static const command acl_subs[] = {
    SUB("acl|cat", cmd_acl_cat, -2, 0, "noscript loading stale", "@slow", "6.0.0",
        "Lists the ACL categories, or the commands inside a category.", args_acl_category),
    SUB("acl|deluser", cmd_acl_deluser, -3, 0, ACL_ADMIN, ACL_ADMIN_CATS, "6.0.0",
        "Deletes users and closes their connections.", args_acl_usernames),
    SUB("acl|dryrun", cmd_acl_dryrun, -4, 0, ACL_ADMIN, ACL_ADMIN_CATS, "7.0.0",
        "Tells whether a user may run a command, without running it.", args_acl_dryrun),
    SUB("acl|genpass", cmd_acl_genpass, -2, 0, "noscript loading stale", "@slow", "6.0.0",
        "Returns a random password, in hex.", args_acl_bits),
    SUB("acl|getuser", cmd_acl_getuser, 3, 0, ACL_ADMIN, ACL_ADMIN_CATS, "6.0.0",
        "Returns the rules of a user.", args_acl_username),
    SUB("acl|help", cmd_acl_help, 2, 0, "loading stale", "@slow", "6.0.0",
        "Returns helpful text about the different subcommands.", NULL),
    SUB("acl|list", cmd_acl_list, 2, 0, ACL_ADMIN, ACL_ADMIN_CATS, "6.0.0",
        "Returns every user as an ACL file line.", NULL),
    SUB("acl|load", cmd_acl_load, 2, 0, ACL_ADMIN, ACL_ADMIN_CATS, "6.0.0",
        "Replaces the users with those of the aclfile.", NULL),
    SUB("acl|log", cmd_acl_log, -2, 0, ACL_ADMIN, ACL_ADMIN_CATS, "6.0.0",
        "Returns the latest refused commands and authentications.", args_acl_log),
    SUB("acl|save", cmd_acl_save, 2, 0, ACL_ADMIN, ACL_ADMIN_CATS, "6.0.0",
        "Writes the users to the aclfile.", NULL),
    SUB("acl|setuser", cmd_acl_setuser, -3, 0, ACL_ADMIN, ACL_ADMIN_CATS, "6.0.0",
        "Creates a user, or changes its rules.", args_acl_setuser),
    SUB("acl|users", cmd_acl_users, 2, 0, ACL_ADMIN, ACL_ADMIN_CATS, "6.0.0",
        "Lists all ACL users.", NULL),
    SUB("acl|whoami", cmd_acl_whoami, 2, 0, "noscript loading stale", "@slow", "6.0.0",
        "Returns the authenticated username of the current connection.", NULL),
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0},
};

static const command slowlog_subs[] = {
    SUB("slowlog|get", cmd_slowlog_get, -2, 0, "admin loading stale", "@admin @slow @dangerous", "2.2.12",
        "Returns the slow log's entries: none are kept here.", NULL),
    SUB("slowlog|help", cmd_slowlog_help, 2, 0, "loading stale", "@slow", "6.2.0",
        "Returns helpful text about the different subcommands.", NULL),
    SUB("slowlog|len", cmd_slowlog_len, 2, 0, "admin loading stale", "@admin @slow @dangerous", "2.2.12",
        "Returns the number of entries in the slow log: 0 here.", NULL),
    SUB("slowlog|reset", cmd_slowlog_reset, 2, 0, "admin loading stale", "@admin @slow @dangerous", "2.2.12",
        "Clears all entries from the slow log.", NULL),
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0},
};

static const command latency_subs[] = {
    SUB("latency|doctor", cmd_latency_doctor, 2, 0, "admin noscript loading stale", "@admin @slow @dangerous", "2.8.13",
        "Returns a human-readable latency analysis report.", NULL),
    SUB("latency|help", cmd_latency_help, 2, 0, "loading stale", "@slow", "2.8.13",
        "Returns helpful text about the different subcommands.", NULL),
    SUB("latency|histogram", cmd_latency_histogram, -2, 0, "admin noscript loading stale", "@admin @slow @dangerous", "7.0.0",
        "Returns the cumulative distribution of latencies of commands: none are tracked here.", NULL),
    SUB("latency|history", cmd_latency_history, 3, 0, "admin noscript loading stale", "@admin @slow @dangerous", "2.8.13",
        "Returns timestamp-latency samples for an event: none are tracked here.", NULL),
    SUB("latency|latest", cmd_latency_latest, 2, 0, "admin noscript loading stale", "@admin @slow @dangerous", "2.8.13",
        "Returns the latest latency samples for all events: none are tracked here.", NULL),
    SUB("latency|reset", cmd_latency_reset, -2, 0, "admin noscript loading stale", "@admin @slow @dangerous", "2.8.13",
        "Resets the latency data for one or more events.", NULL),
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0},
};

#define CMD(n, p, a, f, fl, cat, grp, since, sum, cx, args, subs) \
    {n, p, a, f, fl, cat, grp, since, sum, cx, args, subs, 0, 0, 0}

static const command table[] = {
    CMD("acl", NULL, -2, CMD_CONTAINER, "", "@slow", SRV, "6.0.0", "A container for Access List Control commands.", NULL, NULL, acl_subs),
    CMD("auth", cmd_auth, -2, CMD_NO_AUTH, "noscript loading stale fast no_auth allow_busy", "@fast @connection", CONN, "1.0.0",
        "Authenticates the connection.", "O(N) where N is the number of passwords defined for the user", args_password, NULL),
    CMD("client", NULL, -2, CMD_CONTAINER, "", "@slow", CONN, "2.4.0", "A container for client connection commands.", NULL, NULL, client_subs),
    CMD("command", cmd_command, -1, CMD_CONTAINER, "loading stale", "@slow @connection", SRV, "2.8.13",
        "Returns detailed information about all commands.", "O(N) where N is the total number of commands", NULL, command_subs),
    CMD("config", NULL, -2, CMD_CONTAINER, "", "@slow", SRV, "2.0.0", "A container for server configuration commands.", NULL, NULL, config_subs),
    CMD("dbsize", cmd_dbsize, 1, 0, "readonly fast", "@keyspace @read @fast", SRV, "1.0.0",
        "Returns the number of keys in the database: always 0 here.", "O(1)", NULL, NULL),
    CMD("debug", cmd_debug, -2, CMD_ADMIN | CMD_PROTECTED, "admin noscript loading stale", "@admin @slow @dangerous", SRV, "1.0.0",
        "A container for debugging commands (LOG, SLEEP).", "Depends on subcommand.", args_debug, NULL),
    CMD("discard", cmd_discard, 1, CMD_NO_MULTI, "noscript loading stale fast allow_busy", "@fast @transaction", "transactions", "2.0.0",
        "Discards a transaction.", "O(N), when N is the number of queued commands", NULL, NULL),
    CMD("echo", cmd_echo, 2, 0, "fast", "@fast @connection", CONN, "1.0.0",
        "Returns the given string.", "O(1)", args_message, NULL),
    CMD("exec", cmd_exec, 1, CMD_NO_MULTI, "noscript loading stale skip_slowlog", "@slow @transaction", "transactions", "1.2.0",
        "Executes all commands in a transaction.", "Depends on commands in the transaction", NULL, NULL),
    CMD("flushall", cmd_flushall, -1, 0, "write", "@keyspace @write @slow @dangerous", SRV, "1.0.0",
        "Removes all keys from all databases: nothing to remove here.", "O(1)", args_flush, NULL),
    CMD("flushdb", cmd_flushall, -1, 0, "write", "@keyspace @write @slow @dangerous", SRV, "1.0.0",
        "Removes all keys from the current database: nothing to remove here.", "O(1)", args_flush, NULL),
    CMD("hello", cmd_hello, -1, CMD_NO_AUTH, "noscript loading stale fast no_auth allow_busy", "@fast @connection", CONN, "6.0.0",
        "Handshakes with the server.", "O(1)", args_hello, NULL),
    CMD("info", cmd_info, -1, 0, "loading stale", "@slow @dangerous", SRV, "1.0.0",
        "Returns information and statistics about the server.", "O(1)", args_section, NULL),
    CMD("latency", NULL, -2, CMD_CONTAINER, "", "@slow", SRV, "2.8.13", "A container for latency diagnostics commands.",
        NULL, NULL, latency_subs),
    CMD("lastsave", cmd_lastsave, 1, 0, "loading stale fast", "@admin @fast @dangerous", SRV, "1.0.0",
        "Returns the Unix timestamp of the last successful save: the start time here.", "O(1)", NULL, NULL),
    CMD("multi", cmd_multi, 1, CMD_NO_MULTI, "noscript loading stale fast allow_busy", "@fast @transaction", "transactions", "1.2.0",
        "Starts a transaction.", "O(1)", NULL, NULL),
    CMD("ping", cmd_ping, -1, CMD_PUBSUB_OK, "fast", "@fast @connection", CONN, "1.0.0",
        "Returns the server's liveliness response.", "O(1)", args_message_opt, NULL),
    CMD("psubscribe", cmd_psubscribe, -2, CMD_PUBSUB_OK, "pubsub noscript loading stale", "@pubsub @slow", PS, "2.0.0",
        "Listens for messages published to channels that match one or more patterns.",
        "O(N) where N is the number of patterns to subscribe to.", args_patterns, NULL),
    CMD("publish", cmd_publish, 3, 0, "pubsub loading stale fast", "@pubsub @fast", PS, "2.0.0",
        "Posts a message to a channel.",
        "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
        args_publish, NULL),
    CMD("pubsub", NULL, -2, CMD_CONTAINER, "", "@slow", PS, "2.8.0", "A container for Pub/Sub commands.", NULL, NULL, pubsub_subs),
    CMD("punsubscribe", cmd_punsubscribe, -1, CMD_PUBSUB_OK, "pubsub noscript loading stale", "@pubsub @slow", PS, "2.0.0",
        "Stops listening to messages published to channels that match one or more patterns.",
        "O(N) where N is the number of patterns to unsubscribe.", args_opt_patterns, NULL),
    CMD("quit", cmd_quit, -1, CMD_NO_AUTH | CMD_PUBSUB_OK | CMD_NO_MULTI, "noscript loading stale fast no_auth allow_busy",
        "@fast @connection", CONN, "1.0.0", "Closes the connection.", "O(1)", NULL, NULL),
    CMD("reset", cmd_reset, 1, CMD_NO_AUTH | CMD_PUBSUB_OK | CMD_NO_MULTI, "noscript loading stale fast no_auth allow_busy",
        "@fast @connection", CONN, "6.2.0", "Resets the connection.", "O(1)", NULL, NULL),
    CMD("select", cmd_select, 2, 0, "loading stale fast", "@fast @connection", CONN, "1.0.0",
        "Changes the selected database (pub/sub ignores it).", "O(1)", args_index, NULL),
    CMD("shutdown", cmd_shutdown, -1, CMD_ADMIN, "admin noscript loading stale no_multi allow_busy",
        "@admin @slow @dangerous", SRV, "1.0.0", "Closes the connections and stops the server.",
        "O(N) where N is the number of connections", args_shutdown, NULL),
    CMD("slowlog", NULL, -2, CMD_CONTAINER, "", "@slow", SRV, "2.2.12", "A container for slow log commands.",
        NULL, NULL, slowlog_subs),
    CMD("spublish", cmd_spublish, 3, 0, "pubsub loading stale fast", "@pubsub @fast", PS, "7.0.0",
        "Post a message to a shard channel",
        "O(N) where N is the number of clients subscribed to the receiving shard channel.", args_spublish, NULL),
    CMD("ssubscribe", cmd_ssubscribe, -2, CMD_PUBSUB_OK, "pubsub noscript loading stale", "@pubsub @slow", PS, "7.0.0",
        "Listens for messages published to shard channels.",
        "O(N) where N is the number of shard channels to subscribe to.", args_shardchannels, NULL),
    CMD("subscribe", cmd_subscribe, -2, CMD_PUBSUB_OK, "pubsub noscript loading stale", "@pubsub @slow", PS, "2.0.0",
        "Listens for messages published to channels.",
        "O(N) where N is the number of channels to subscribe to.", args_channels, NULL),
    CMD("sunsubscribe", cmd_sunsubscribe, -1, CMD_PUBSUB_OK, "pubsub noscript loading stale", "@pubsub @slow", PS, "7.0.0",
        "Stops listening to messages posted to shard channels.",
        "O(N) where N is the number of shard channels to unsubscribe.", args_opt_shardchannels, NULL),
    CMD("time", cmd_time, 1, 0, "loading stale fast", "@fast", SRV, "2.6.0",
        "Returns the server time.", "O(1)", NULL, NULL),
    CMD("unsubscribe", cmd_unsubscribe, -1, CMD_PUBSUB_OK, "pubsub noscript loading stale", "@pubsub @slow", PS, "2.0.0",
        "Stops listening to messages posted to channels.",
        "O(N) where N is the number of channels to unsubscribe.", args_opt_channels, NULL),
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
    "module", "monitor", "move", "mset", "msetnx", "object", "persist", "pexpire", "pexpireat",
    "pexpiretime", "pfadd", "pfcount", "pfdebug", "pfmerge", "pfselftest", "psetex", "psync", "pttl",
    "randomkey", "readonly", "readwrite", "rename", "renamenx", "replconf", "replicaof", "restore",
    "restore-asking", "role", "rpop", "rpoplpush", "rpush", "rpushx", "sadd", "save", "scan", "scard",
    "script", "sdiff", "sdiffstore", "set", "setbit", "setex", "setnx", "setrange", "sinter",
    "sintercard", "sinterstore", "sismember", "slaveof", "smembers", "smismember", "smove", "sort",
    "sort_ro", "spop", "srandmember", "srem", "sscan", "strlen", "substr", "sunion", "sunionstore",
    "swapdb", "sync", "touch", "ttl", "type", "unlink", "unwatch", "wait", "watch", "xack", "xadd",
    "xautoclaim", "xclaim", "xdel", "xgroup", "xinfo", "xlen", "xpending", "xrange", "xread",
    "xreadgroup", "xrevrange", "xsetid", "xtrim", "zadd", "zcard", "zcount", "zdiff", "zdiffstore",
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

void commands_init(void) {
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

void commands_call(client *c, const command *run, int argc, slice *argv) {
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

void commands_dispatch(client *c, int argc, slice *argv) {
    const command *run = check_command(c, argc, argv);
    if (!run) return;
    c->last_cmd = run->name;
    if ((c->flags & CLIENT_MULTI) && !(run->flags & CMD_NO_MULTI)) {
        queue_multi(c, run, argc, argv);
        return;
    }
    commands_call(c, run, argc, argv);
}
