/* acl.h -- ACL users: passwords, command, channel (and stored key)
 * permissions, selectors, the ACL log and the ACL file, with Redis 7.0's
 * rule language and error texts. Knows nothing about sockets, clients or
 * RESP: commands are ids in a catalog that the command layer fills in. */
#ifndef ACL_H
#define ACL_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct buf;
typedef struct acl_user acl_user;       /* opaque */
typedef struct acl_userset acl_userset; /* opaque: users staged by ACL LOAD */

/* Outcomes of a check, ranked as Redis ranks them when selectors disagree. */
enum { ACL_OK = 0, ACL_DENIED_CMD = 1, ACL_DENIED_KEY = 2, ACL_DENIED_AUTH = 3, ACL_DENIED_CHANNEL = 4 };
/* Where a denial happened (ACL LOG "context"). */
enum { ACL_CTX_TOPLEVEL = 0, ACL_CTX_MULTI = 1 };

/* Errors of acl_user_apply(); acl_error_text() gives Redis's wording. */
enum {
    ACL_ERR_SYNTAX = 1,         /* "Syntax error" */
    ACL_ERR_UNKNOWN,            /* unknown command or category */
    ACL_ERR_KEYS_AFTER_ALL,     /* ~pattern after ~* / allkeys */
    ACL_ERR_CHANNELS_AFTER_ALL, /* &pattern after &* / allchannels */
    ACL_ERR_NO_SUCH_PASSWORD,   /* <pass or !hash not set */
    ACL_ERR_BAD_HASH,           /* #hash is not 64 lower-case hex digits */
    ACL_ERR_FIRSTARG_OF_SUB,    /* +config|get|x */
};
const char *acl_error_text(int err);

/* ------------------------------------------------------------------------
 * Command catalog
 * ------------------------------------------------------------------------ */

#define ACL_MAX_COMMANDS 1024   /* ids 0 .. ACL_MAX_COMMANDS-1 */

/* Which arguments of a command are channels (Redis checks these five). */
typedef enum {
    ACL_CHANNELS_NONE = 0,
    ACL_CHANNELS_FIRST,     /* argv[1]: PUBLISH, SPUBLISH */
    ACL_CHANNELS_ALL,       /* argv[1..]: SUBSCRIBE, SSUBSCRIBE */
    ACL_CHANNELS_PATTERNS,  /* argv[1..], matched literally: PSUBSCRIBE */
} acl_channel_args;

/* Which arguments of a command are keys, and the access they need. */
typedef enum {
    ACL_KEYS_NONE = 0,
    ACL_KEYS_FIRST_READ,    /* argv[1], read: XRANGE, XLEN... */
    ACL_KEYS_FIRST_WRITE,   /* argv[1], write: XADD, XTRIM, XDEL */
    ACL_KEYS_SECOND_READ,   /* argv[2], read: XINFO STREAM <key> */
    ACL_KEYS_STREAMS_READ,  /* the first half of what follows STREAMS, read: XREAD */
} acl_key_args;

#define ACL_CMD_NO_AUTH 0x1     /* always allowed, like AUTH and HELLO */

/* Registers a command ("publish") or a subcommand ("client|id", after its
 * container), categories as "@pubsub @slow" (a command that is not @fast
 * is also @slow, as in Redis). Returns its id, or -1 if the catalog is full,
 * the name is taken or the container is unknown. */
int acl_catalog_add(const char *name, const char *categories, unsigned flags, acl_channel_args channels);
/* Declares the key arguments of command id (default: none). */
void acl_catalog_set_keys(int id, acl_key_args keys);
/* Id of a command or "container|sub" by name, case-insensitively; -1. */
int acl_catalog_find(const char *name, size_t len);
/* Commands registered; ids are 0 .. count-1, each container before its
 * subcommands. */
int acl_catalog_count(void);
/* Lower-case full name of id ("client|id"). */
const char *acl_catalog_name(int id);
/* Empties the catalog (shutdown, tests); users must be freed first. */
void acl_catalog_clear(void);

/* ACL categories, in Redis's order: i = 0 .. until NULL. */
const char *acl_category_name(int i);
/* Index of a category by name, case-insensitively; -1 if unknown. */
int acl_category_find(const char *name, size_t len);
bool acl_command_in_category(int id, int category);

/* ------------------------------------------------------------------------
 * Users
 * ------------------------------------------------------------------------ */

/* Creates the user set with the default user "on nopass ~* &* +@all". */
void acl_init(void);
/* Frees every user and the log (not the catalog). */
void acl_free(void);

/* The default user: always exists, and keeps its address for life (ACL
 * LOAD copies new rules into it), so clients may hold it. */
acl_user *acl_default_user(void);
/* True when the default user is "on" and "nopass": then a connection is
 * authenticated without AUTH. */
bool acl_default_is_open(void);
/* True when the default user is "nopass" (protected mode looks at this). */
bool acl_default_is_nopass(void);
/* requirepass: the default user gets "resetpass >pass", or "nopass" when
 * pass is NULL or empty. */
void acl_set_default_password(const char *pass);

/* Users by name (binary-safe); NULL if unknown. */
acl_user *acl_find_user(const char *name, size_t len);
/* Users in name order (bytewise, as ACL USERS lists them). */
size_t acl_user_count(void);
acl_user *acl_user_at(size_t i);
const char *acl_user_name(const acl_user *u);
size_t acl_user_name_len(const acl_user *u);

/* Returns the user if name/pass are valid credentials of an enabled user,
 * else NULL. */
acl_user *acl_authenticate(const char *name, size_t name_len, const char *pass, size_t pass_len);

/* ---- Changing users (ACL SETUSER) ---------------------------------------
 * acl_setuser_stage() applies rules to a copy of the user (or to a new
 * user) without touching the live one; the caller may then compare old and
 * new channel rights, and acl_setuser_commit() installs the staged copy
 * (into the existing user, whose address stays valid). */

/* Returns an owned, unlinked copy of name's user with the rules applied,
 * or NULL with err holding the ERR reply text ("Error in ACL SETUSER
 * modifier ...", "Unmatched parenthesis ...", "Usernames can't ..."). */
acl_user *acl_setuser_stage(const char *name, size_t name_len, int nrules, const slice *rules, char *err,
                            size_t errlen);
/* Takes ownership of staged; returns the live user it became. */
acl_user *acl_setuser_commit(acl_user *staged);
/* Frees a user that is not linked in the set (a staged one). */
void acl_user_free(acl_user *u);
/* Removes u (never the default user) from the set and frees it; clients
 * holding it must drop it first. */
void acl_deluser(acl_user *u);

/* Applies one rule ("on", ">pass", "&news.*", "+@pubsub", "(...)"...) to
 * an unlinked user. Returns 0 or an ACL_ERR_*. */
int acl_user_apply(acl_user *u, const char *op, size_t len);
/* A new unlinked user, as ACL SETUSER creates it ("off", no rights). */
acl_user *acl_user_new(const char *name, size_t len);

/* ---- Describing users ----------------------------------------------------- */

/* Appends the rules of u as ACL LIST shows them after "user <name> ". */
void acl_user_describe(const acl_user *u, struct buf *out);
/* Flag names of u in Redis's order ("on", "nopass"...); returns the count. */
int acl_user_flags(const acl_user *u, const char *names[5]);
int acl_user_password_count(const acl_user *u);
/* Hex SHA-256 of password i. */
const char *acl_user_password(const acl_user *u, int i);
/* Selectors of u, the root one (index 0) included. */
int acl_user_selector_count(const acl_user *u);
/* ACL GETUSER fields of selector i: "-@all +publish", "~k* %R~r*",
 * "&news.*" (appended to out). */
void acl_selector_commands(const acl_user *u, int i, struct buf *out);
void acl_selector_keys(const acl_user *u, int i, struct buf *out);
void acl_selector_channels(const acl_user *u, int i, struct buf *out);

/* ---- Checks --------------------------------------------------------------- */

/* True when u may run anything on any channel: nothing to check. */
bool acl_user_unrestricted(const acl_user *u);
/* Checks command id with its arguments (argv[0] is the command name) for u.
 * Returns ACL_OK, ACL_DENIED_CMD, ACL_DENIED_KEY or ACL_DENIED_CHANNEL
 * (keys are checked before channels, as Redis does); *arg_idx is then the
 * index of the refused key or channel. */
int acl_check(const acl_user *u, int id, int argc, const slice *argv, int *arg_idx);
/* True if u may hold a subscription to name: a channel (glob rules) or,
 * with pattern, a pattern (must be allowed literally). */
bool acl_user_allows_channel(const acl_user *u, const char *name, size_t len, bool pattern);
/* True when subscribers holding old's rights might lose some with new's:
 * the caller must then check each of them with acl_user_allows_channel. */
bool acl_channels_may_shrink(const acl_user *new_rights, const acl_user *old_rights);

/* ------------------------------------------------------------------------
 * Loading and saving
 * ------------------------------------------------------------------------ */

/* Start-up: the `user` lines of the config file, or the ACL file (not
 * both). Logs Redis's messages and returns -1 on any error (the server
 * then exits 1). */
int acl_load_startup(void);

/* ACL LOAD, first half: parses path into a new set. Returns it, or NULL
 * with every problem appended to errors (Redis's single-line report). */
acl_userset *acl_load_stage(const char *path, struct buf *errors);
/* The default user the staged set would install. */
const acl_user *acl_userset_default(const acl_userset *set);
/* Installs set (taken): the default user gets the new default's rules in
 * place; every other old user is passed to on_removed before it is freed. */
void acl_load_commit(acl_userset *set, void (*on_removed)(void *ctx, acl_user *u), void *ctx);
void acl_userset_free(acl_userset *set);

/* ACL SAVE: writes every user to path (temp file, then rename). Returns 0,
 * or -1 after logging the reason. */
int acl_save_file(const char *path);

/* ------------------------------------------------------------------------
 * ACL LOG
 * ------------------------------------------------------------------------ */

typedef struct acl_log_entry {
    long long count;            /* similar events folded into this entry */
    int reason;                 /* ACL_DENIED_* */
    int context;                /* ACL_CTX_* */
    char *object;               /* owned: command, channel or AUTH verb */
    size_t object_len;
    char *username;             /* owned */
    size_t username_len;
    long long ctime_ms;         /* last update, wall clock */
    char *client_info;          /* owned: CLIENT LIST line of the client */
    size_t client_info_len;
} acl_log_entry;

/* Records a denial; folds it into a recent similar entry (same reason,
 * context, object and user, within 60 s) or adds it first, then trims the
 * log to acllog-max-len. All strings are borrowed and copied. */
void acl_log_add(int reason, int context, const char *object, size_t object_len, const char *user,
                 size_t user_len, const char *client_info, size_t client_info_len);
/* Entries, newest first. */
size_t acl_log_count(void);
const acl_log_entry *acl_log_at(size_t i);
void acl_log_reset(void);
/* Denials counted since start by reason (ACL_DENIED_*), for INFO stats. */
long long acl_denied_count(int reason);

#endif
