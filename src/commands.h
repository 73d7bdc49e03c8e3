/* commands.h -- The command table, lookup and dispatch with Redis's checks
 * (unknown command, arity, authentication, subscribed context, MULTI). */
#ifndef COMMANDS_H
#define COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

typedef struct client client;
typedef void cmd_proc(client *c, int argc, slice *argv);

/* command.flags */
#define CMD_NO_AUTH       (1u << 0)   /* allowed before AUTH */
#define CMD_PUBSUB_OK     (1u << 1)   /* allowed in RESP2 subscribed context */
#define CMD_NO_MULTI      (1u << 2)   /* runs at once even inside MULTI */
#define CMD_ADMIN         (1u << 3)
#define CMD_CONTAINER     (1u << 4)   /* has subcommands */
#define CMD_PROTECTED     (1u << 5)   /* DEBUG: refused unless enable-debug-command allows */

/* One argument in COMMAND DOCS. */
typedef struct command_arg {
    const char *name;
    const char *type;         /* "string", "integer", "pattern", "key", "pure-token", "oneof", "block" */
    const char *token;        /* NULL when the argument has no token */
    unsigned flags;           /* CMD_ARG_* */
    const struct command_arg *sub;  /* children of oneof/block, NULL-name terminated */
} command_arg;

#define CMD_ARG_OPTIONAL  (1u << 0)
#define CMD_ARG_MULTIPLE  (1u << 1)
#define CMD_ARG_MULTIPLE_TOKEN (1u << 2)

typedef struct command {
    const char *name;         /* lower case; "client|kill" style for subcommands */
    cmd_proc *proc;           /* NULL for a container reached only via subcommands */
    int arity;                /* Redis convention: -N means at least N */
    unsigned flags;           /* CMD_* */
    const char *info_flags;   /* COMMAND INFO flags, space-separated */
    const char *acl_categories; /* "@pubsub @fast", space-separated */
    const char *group;        /* COMMAND DOCS group: "pubsub", "connection", "server" */
    const char *since;        /* Redis version that introduced it */
    const char *summary;      /* one line, our own words */
    const char *complexity;   /* NULL when not meaningful */
    const command_arg *args;  /* NULL-name terminated, or NULL */
    const struct command *subcommands; /* NULL-name terminated, or NULL */
    int key_first, key_last, key_step; /* always 0: no keyspace */
} command;

/* Counters of one command, for INFO commandstats. */
typedef struct command_stats {
    long long calls;          /* times the handler ran */
    long long usec;           /* estimated microseconds spent in it */
    long long rejected_calls; /* refused before running: arity, auth, context */
    long long failed_calls;   /* ran and replied an error */
} command_stats;

/* Builds the lookup table. */
void commands_init(void);
void commands_free(void);
/* Runs one command for c with all of Redis's checks, or queues it inside
 * MULTI (the checks are made then, as Redis makes them); the
 * client_dispatch_fn. A refused command marks the transaction to abort; a
 * refused EXEC ends it with EXECABORT. */
void commands_dispatch(client *c, int argc, slice *argv);
/* Runs cmd's handler with no checks, counting it for INFO commandstats:
 * what EXEC does with a queued command once its ACL re-check passed. */
void commands_call(client *c, const command *cmd, int argc, slice *argv);
/* Finds a top-level command by name, case-insensitively; NULL if unknown. */
const command *commands_lookup(const char *name, size_t len);
/* Finds a subcommand of parent by name; NULL if unknown. */
const command *commands_lookup_sub(const command *parent, const char *name, size_t len);
/* Iterates the top-level table: index 0.. until NULL. */
const command *commands_at(size_t i);
size_t commands_count(void);
/* Counts processed per command (INFO commandstats) and in total. */
long long commands_total_processed(void);
/* The counters of cmd (a top-level command or a subcommand). */
const command_stats *commands_stats(const command *cmd);
void commands_reset_stats(void);

/* Shared error text, defined once (STYLE.md section 7). */
extern const char *const ERR_SYNTAX;        /* "ERR syntax error" */
extern const char *const ERR_NOAUTH;        /* "NOAUTH Authentication required." */
extern const char *const ERR_WRONGPASS;
extern const char *const ERR_NOT_INTEGER;   /* "ERR value is not an integer or out of range" */

/* Replies "ERR wrong number of arguments for '<name>' command". */
void commands_reply_arity(client *c, const char *name);
/* Replies "ERR unknown subcommand '<sub>'. Try <CMD> HELP." */
void commands_reply_unknown_sub(client *c, const slice *cmd, const slice *sub);
/* Replies "ERR unknown subcommand or wrong number of arguments for '<sub>'.
 * Try <CMD> HELP.", Redis's answer to a subcommand given bad arguments. */
void commands_reply_subcommand_syntax(client *c, const slice *cmd, const slice *sub);
/* Replies a HELP array: the header line, then lines, then Redis's HELP trailer. */
void commands_reply_help(client *c, const char *cmd_upper, const char *const *lines);

#endif
