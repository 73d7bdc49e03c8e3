/* cmd_handlers.h -- Handlers of every command, by family, and the state they
 * share; included by commands.c (the table) and the cmd_*.c files only. */
#ifndef CMD_HANDLERS_H
#define CMD_HANDLERS_H

#include "commands.h"
#include "history.h"
#include "pubsub.h"

typedef struct pubsub pubsub;
typedef struct ev_loop ev_loop;

/* What handlers need from the server, filled in by server.c. */
typedef struct command_env {
    pubsub *ps;                   /* borrowed: the registry */
    ev_loop *loop;                /* borrowed: for the timers of CLIENT PAUSE */
    long long start_ms;           /* server start, wall clock */
    long long start_mono_us;      /* server start, monotonic */
    const char *executable;       /* absolute path of the binary */
    void (*request_shutdown)(void);
    unsigned long long *dirty_configs;
} command_env;

/* Set once by server.c before the first command runs. */
extern command_env cmd_env;

/* cmd_pubsub.c */
cmd_proc cmd_subscribe, cmd_unsubscribe, cmd_psubscribe, cmd_punsubscribe;
cmd_proc cmd_ssubscribe, cmd_sunsubscribe, cmd_publish, cmd_spublish;
cmd_proc cmd_pubsub_channels, cmd_pubsub_numsub, cmd_pubsub_numpat;
cmd_proc cmd_pubsub_shardchannels, cmd_pubsub_shardnumsub, cmd_pubsub_help;
/* Delivers a message to local subscribers as a PUBLISH would, without
 * replying to anyone: to the channel's own subscribers (pattern NULL), or to
 * those of exactly one pattern (a pmessage). Returns the deliveries. The
 * relay's upstream messages enter here. */
long long cmd_pubsub_fanout(pubsub_kind kind, const char *pattern, size_t plen, const char *ch, size_t chlen,
                            const char *msg, size_t msglen);
/* A local PUBLISH of msg to ch (not in relay mode), no reply: delivers to
 * subscribers and appends to the channel's history if it has one, serving
 * blocked readers. *id (if not NULL) gets the new entry's id, 0-0 when the
 * channel has no history. Returns the deliveries. */
long long cmd_pubsub_publish_local(client *c, const slice *ch, const slice *msg, history_id *id);
/* Drops every subscription of c without notifications (RESET). */
void cmd_pubsub_release(client *c);
/* Counters for INFO stats. */
long long cmd_pubsub_messages_published(void);
void cmd_pubsub_reset_stats(void);

/* cmd_conn.c */
cmd_proc cmd_ping, cmd_echo, cmd_hello, cmd_auth, cmd_select, cmd_reset, cmd_quit;
cmd_proc cmd_multi, cmd_exec, cmd_discard;
cmd_proc cmd_client_id, cmd_client_setname, cmd_client_getname, cmd_client_list;
cmd_proc cmd_client_info, cmd_client_kill, cmd_client_setinfo, cmd_client_reply;
cmd_proc cmd_client_no_evict, cmd_client_no_touch, cmd_client_help;
cmd_proc cmd_client_unblock;

/* cmd_history.c */
cmd_proc cmd_xrange, cmd_xrevrange, cmd_xread, cmd_xlen, cmd_xadd, cmd_xtrim, cmd_xdel;
cmd_proc cmd_xinfo_stream, cmd_xinfo_groups, cmd_xinfo_consumers, cmd_xinfo_help;
/* After an append to h: serves the readers blocked on its channel. */
void cmd_history_wake(const history *h);
/* CLIENT UNBLOCK: ends c's XREAD BLOCK with the null reply, or with
 * -UNBLOCKED when error; false if c is not blocked. */
bool cmd_history_unblock(client *c, bool error);
/* The free hook: forgets c's block, if any. */
void cmd_history_client_gone(client *c);
/* Readers blocked in XREAD (INFO). */
long long cmd_history_blocked(void);

/* cmd_monitor.c */
cmd_proc cmd_monitor;
/* Monitors connected; commands_dispatch() feeds them only when nonzero. */
extern int cmd_monitor_count;
/* Sends the line of a command c just ran (run: its table entry) to every
 * monitor, unless Redis keeps it from them (admin commands). */
void cmd_monitor_feed(const client *c, const command *run, int argc, const slice *argv);
/* RESET, and the free hook: c stops being a monitor (no-op if it is not). */
void cmd_monitor_stop(client *c);
/* Shutdown: frees the list of monitors. */
void cmd_monitor_free(void);

/* cmd_pause.c */
cmd_proc cmd_client_pause, cmd_client_unpause;
/* 0 when no CLIENT PAUSE is in force, else its mode; read by dispatch. */
extern int cmd_pause_mode;
/* True if the pause in force holds run (its checks passed) for c. */
bool cmd_pause_holds(const client *c, const command *run);

/* cmd_tracking.c */
cmd_proc cmd_client_tracking, cmd_client_caching, cmd_client_getredir, cmd_client_trackinginfo;
/* After every top-level command of a client with tracking on: ends the
 * effect of CLIENT CACHING, as Redis does, unless that was a CLIENT command. */
void cmd_tracking_after_command(client *c, const slice *name);
/* RESET and the free hook: turns tracking off, frees its state. */
void cmd_tracking_off(client *c);
/* For CLIENT LIST / INFO: appends the tracking flags ("t", "R", "B") at p,
 * returns the new end; and the redir= figure (-1 when tracking is off). */
char *cmd_tracking_flags(const client *c, char *p);
long long cmd_tracking_redir(const client *c);

/* cmd_admin.c */
cmd_proc cmd_info, cmd_time, cmd_dbsize, cmd_flushall, cmd_debug, cmd_shutdown;
cmd_proc cmd_config_get, cmd_config_set, cmd_config_resetstat, cmd_config_rewrite, cmd_config_help;
cmd_proc cmd_command, cmd_command_count, cmd_command_info, cmd_command_docs;
cmd_proc cmd_command_list, cmd_command_help, cmd_command_getkeys;
cmd_proc cmd_lastsave;
cmd_proc cmd_slowlog_get, cmd_slowlog_len, cmd_slowlog_reset, cmd_slowlog_help;
cmd_proc cmd_latency_latest, cmd_latency_history, cmd_latency_reset, cmd_latency_doctor;
cmd_proc cmd_latency_histogram, cmd_latency_help, cmd_latency_graph;

/* cmd_acl.c */
typedef struct acl_user acl_user;
cmd_proc cmd_acl_cat, cmd_acl_deluser, cmd_acl_dryrun, cmd_acl_genpass, cmd_acl_getuser, cmd_acl_help;
cmd_proc cmd_acl_list, cmd_acl_load, cmd_acl_log, cmd_acl_save, cmd_acl_setuser, cmd_acl_users;
cmd_proc cmd_acl_whoami;
/* Start-up: the ACL catalog from the command table, the default user,
 * requirepass, then the config's `user` lines or the aclfile. Returns -1
 * after logging when the server must exit. */
int cmd_acl_init(void);
void cmd_acl_free(void);
/* The ACL check of commands_dispatch(): true if c may run cmd with these
 * arguments; otherwise adds an ACL LOG entry, writes Redis's NOPERM text
 * into err (the caller replies it), false. */
bool cmd_acl_check(client *c, const command *cmd, int argc, slice *argv, char *err, size_t err_len);
/* EXEC's check of a queued command, whose rights may have changed since
 * it was queued: false after replying Redis's EXEC-time NOPERM. */
bool cmd_acl_check_queued(client *c, const command *cmd, int argc, slice *argv);
/* AUTH / HELLO AUTH: checks user (NULL: "default") and pass; on success c
 * is authenticated as that user, else an ACL LOG entry names verb. */
bool cmd_acl_authenticate(client *c, const slice *verb, const slice *user, const slice *pass);
/* Makes u (the default user included) the authenticated user of c. */
void cmd_acl_set_user(client *c, acl_user *u);

#endif
