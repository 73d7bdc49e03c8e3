/* cmd_conn.c -- Connection commands: PING, ECHO, HELLO, AUTH, SELECT, RESET,
 * QUIT, MULTI/EXEC/DISCARD and the CLIENT family. */
#include "cmd_handlers.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "acl.h"
#include "client.h"
#include "config.h"
#include "info.h"
#include "mem.h"
#include "resp.h"
#include "upstream.h"
#include "version.h"

/* ------------------------------------------------------------------------
 * PING, ECHO, SELECT, QUIT
 * ------------------------------------------------------------------------ */

void cmd_ping(client *c, int argc, slice *argv) {
    if (argc > 2) {
        commands_reply_arity(c, "ping");
        return;
    }
    buf *b = client_reply_buf(c);
    if (c->resp == 2 && client_is_subscribed(c)) {
        /* RESP2 subscribed context: a two-element reply, as Redis sends. */
        resp_add_array_len(b, 2);
        resp_add_bulk_str(b, "pong");
        if (argc == 2) resp_add_bulk(b, argv[1].ptr, argv[1].len);
        else resp_add_bulk(b, "", 0);
    } else if (argc == 2) {
        resp_add_bulk(b, argv[1].ptr, argv[1].len);
    } else {
        resp_add_simple(b, "PONG");
    }
}

void cmd_echo(client *c, int argc, slice *argv) {
    (void)argc;
    resp_add_bulk(client_reply_buf(c), argv[1].ptr, argv[1].len);
}

void cmd_select(client *c, int argc, slice *argv) {
    (void)argc;
    long long db;
    if (!util_parse_ll(argv[1].ptr, argv[1].len, &db) || db < INT32_MIN || db > INT32_MAX) {
        client_add_error(c, ERR_NOT_INTEGER);
        return;
    }
    if (db < 0 || db >= cfg.databases) {
        client_add_error(c, "ERR DB index is out of range");
        return;
    }
    c->db = (int)db;
    client_add_ok(c);
}

void cmd_quit(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    c->flags &= ~(CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP);
    client_add_ok(c);
    client_set_state(c, CLIENT_CLOSE_AFTER_REPLY);
}

/* ------------------------------------------------------------------------
 * Authentication: ACL users (cmd_acl.c checks the credentials)
 * ------------------------------------------------------------------------ */

void cmd_auth(client *c, int argc, slice *argv) {
    if (argc > 3) {
        client_add_error(c, ERR_SYNTAX);
        return;
    }
    if (argc == 2 && acl_default_is_nopass()) {
        client_add_error(c, "ERR AUTH <password> called without any password configured for "
                            "the default user. Are you sure your configuration is correct?");
        return;
    }
    const slice *user = argc == 3 ? &argv[1] : NULL;
    const slice *pass = argc == 3 ? &argv[2] : &argv[1];
    if (cmd_acl_authenticate(c, &argv[0], user, pass)) client_add_ok(c);
    else client_add_error(c, ERR_WRONGPASS);
}

/* ------------------------------------------------------------------------
 * HELLO and RESET
 * ------------------------------------------------------------------------ */

static bool valid_name(const char *p, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (p[i] < '!' || p[i] > '~') return false;
    return true;
}

static void set_name(client *c, const slice *name) {
    mem_free(c->name);
    c->name = name->len ? mem_strndup(name->ptr, name->len) : NULL;
}

void cmd_hello(client *c, int argc, slice *argv) {
    long long ver = 0;
    int next = 1;
    if (argc >= 2) {
        if (!util_parse_ll(argv[1].ptr, argv[1].len, &ver) || ver < INT32_MIN || ver > INT32_MAX) {
            client_add_error(c, "ERR Protocol version is not an integer or out of range");
            return;
        }
        next = 2;
        if (ver < 2 || ver > 3) {
            client_add_error(c, "NOPROTO unsupported protocol version");
            return;
        }
    }
    /* Options act in order, as in Redis: AUTH authenticates where it
     * stands (a bad pair ends the command with WRONGPASS), SETNAME names
     * an authenticated client at once, and a syntax error later on keeps
     * what the options before it did. */
    const slice *name = NULL;
    for (int j = next; j < argc; j++) {
        int more = argc - j - 1;
        if (util_eq_nocase(argv[j].ptr, argv[j].len, "AUTH") && more >= 2) {
            if (!cmd_acl_authenticate(c, &argv[0], &argv[j + 1], &argv[j + 2])) {
                client_add_error(c, ERR_WRONGPASS);
                return;
            }
            j += 2;
        } else if (util_eq_nocase(argv[j].ptr, argv[j].len, "SETNAME") && more >= 1) {
            name = &argv[j + 1];
            if (!valid_name(name->ptr, name->len)) {
                client_add_error(c, "ERR Client names cannot contain spaces, newlines or special characters.");
                return;
            }
            if (c->authenticated) set_name(c, name);
            j += 1;
        } else {
            client_add_errorf(c, "ERR Syntax error in HELLO option '%.*s'",
                              (int)(argv[j].len > 128 ? 128 : argv[j].len), argv[j].ptr);
            return;
        }
    }
    if (!c->authenticated) {
        client_add_error(c, ERR_NOAUTH_HELLO);
        return;
    }
    if (ver) c->resp = (int)ver;
    buf *b = client_reply_buf(c);
    resp_add_map_len(b, 7, c->resp);
    resp_add_bulk_str(b, "server");
    resp_add_bulk_str(b, "redis");
    resp_add_bulk_str(b, "version");
    resp_add_bulk_str(b, REDIS_COMPAT_VERSION);
    resp_add_bulk_str(b, "proto");
    resp_add_int(b, c->resp);
    resp_add_bulk_str(b, "id");
    resp_add_int(b, (long long)c->id);
    resp_add_bulk_str(b, "mode");
    resp_add_bulk_str(b, "standalone");
    resp_add_bulk_str(b, "role");
    resp_add_bulk_str(b, "master");
    resp_add_bulk_str(b, "modules");
    resp_add_array_len(b, 0);
}

void cmd_reset(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    client_multi_reset(c);
    cmd_pubsub_release(c);
    cmd_monitor_stop(c);
    cmd_tracking_off(c);
    c->resp = 2;
    c->db = 0;
    /* Redis 7.2 clears NO-EVICT too (7.0 kept it). */
    c->flags &= ~(CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP | CLIENT_REPLY_SKIP_NEXT | CLIENT_NO_TOUCH | CLIENT_NO_EVICT);
    mem_free(c->name);
    c->name = NULL;
    mem_free(c->user);
    c->user = NULL;
    c->acl = NULL;
    c->authenticated = acl_default_is_open();
    resp_add_simple(client_reply_buf(c), "RESET");
}

/* ------------------------------------------------------------------------
 * MULTI / EXEC / DISCARD (queueing itself happens in commands_dispatch)
 * ------------------------------------------------------------------------ */

void cmd_multi(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    if (c->flags & CLIENT_MULTI) {
        client_add_error(c, "ERR MULTI calls can not be nested");
        return;
    }
    c->flags |= CLIENT_MULTI;
    client_add_ok(c);
}

void cmd_discard(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    if (!(c->flags & CLIENT_MULTI)) {
        client_add_error(c, "ERR DISCARD without MULTI");
        return;
    }
    client_multi_reset(c);
    client_add_ok(c);
}

/* Runs the queued commands as Redis does: each was checked when it was
 * queued, so only the ACL is checked again (rights may have changed since);
 * MULTI stays set while they run (CLIENT INFO shows flags=x and the queued
 * count, the ACL LOG context is "multi"). Pushes the transaction makes for
 * c itself follow EXEC's reply (Redis 7.2). */
void cmd_exec(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    if (!(c->flags & CLIENT_MULTI)) {
        client_add_error(c, "ERR EXEC without MULTI");
        return;
    }
    if (c->flags & CLIENT_DIRTY_EXEC) {
        client_add_error(c, "EXECABORT Transaction discarded because of previous errors.");
        client_multi_reset(c);
        return;
    }
    resp_add_array_len(client_reply_buf(c), c->multi_count);
    /* Nothing a queued command runs can queue more: c->multi stays put. */
    for (int i = 0; i < c->multi_count; i++) {
        multi_cmd *mc = &c->multi[i];
        if (cmd_acl_check_queued(c, mc->cmd, mc->argc, mc->argv)) commands_call(c, mc->cmd, mc->argc, mc->argv);
    }
    client_multi_reset(c);
    client_flush_pushes(c);
}

/* ------------------------------------------------------------------------
 * CLIENT
 * ------------------------------------------------------------------------ */

void cmd_client_id(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    resp_add_int(client_reply_buf(c), (long long)c->id);
}

void cmd_client_setname(client *c, int argc, slice *argv) {
    (void)argc;
    if (!valid_name(argv[2].ptr, argv[2].len)) {
        client_add_error(c, "ERR Client names cannot contain spaces, newlines or special characters.");
        return;
    }
    set_name(c, &argv[2]);
    client_add_ok(c);
}

void cmd_client_getname(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    buf *b = client_reply_buf(c);
    if (c->name) resp_add_bulk_str(b, c->name);
    else resp_add_null(b, c->resp);
}

void cmd_client_info(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    buf line = {0};
    info_client_line(c, &line);
    buf_append_char(&line, '\n');
    resp_add_verbatim(client_reply_buf(c), line.data, line.len, "txt", c->resp);
    buf_free(&line);
}

/* Parses "normal", "pubsub", "master", "replica"/"slave" into a class; -1 if unknown. */
static int parse_type(const slice *s) {
    if (util_eq_nocase(s->ptr, s->len, "normal")) return CLIENT_CLASS_NORMAL;
    if (util_eq_nocase(s->ptr, s->len, "pubsub")) return CLIENT_CLASS_PUBSUB;
    if (util_eq_nocase(s->ptr, s->len, "replica") || util_eq_nocase(s->ptr, s->len, "slave"))
        return CLIENT_CLASS_REPLICA;
    if (util_eq_nocase(s->ptr, s->len, "master")) return 3;
    return -1;
}

void cmd_client_list(client *c, int argc, slice *argv) {
    int type = -1;
    int first_id = 0;
    if (argc == 4 && util_eq_nocase(argv[2].ptr, argv[2].len, "type")) {
        type = parse_type(&argv[3]);
        if (type < 0) {
            client_add_errorf(c, "ERR Unknown client type '%.*s'", (int)argv[3].len, argv[3].ptr);
            return;
        }
    } else if (argc >= 4 && util_eq_nocase(argv[2].ptr, argv[2].len, "id")) {
        first_id = 3;
        for (int i = 3; i < argc; i++) {
            long long id;
            if (!util_parse_ll(argv[i].ptr, argv[i].len, &id) || id <= 0) {
                client_add_error(c, "ERR Invalid client ID");
                return;
            }
        }
    } else if (argc != 2) {
        client_add_error(c, ERR_SYNTAX);
        return;
    }
    /* Oldest connection first; with ID, in the order of the ids given,
     * repeats included, as Redis. */
    buf out = {0};
    if (first_id) {
        for (int i = first_id; i < argc; i++) {
            long long id;
            util_parse_ll(argv[i].ptr, argv[i].len, &id);
            client *o = client_by_id((uint64_t)id);
            if (!o) continue;
            info_client_line(o, &out);
            buf_append_char(&out, '\n');
        }
    }
    for (client *o = first_id ? NULL : client_first(); o; o = client_next(o)) {
        if (o->state == CLIENT_CLOSE_ASAP) continue;
        if (type >= 0 && client_limit_class(o) != type) continue;
        info_client_line(o, &out);
        buf_append_char(&out, '\n');
    }
    resp_add_verbatim(client_reply_buf(c), out.data ? out.data : "", out.len, "txt", c->resp);
    buf_free(&out);
}

typedef struct kill_filter {
    long long id;          /* 0: any */
    int type;              /* -1: any */
    const slice *user, *addr, *laddr;
    bool skipme;
} kill_filter;

static bool slice_eq_str(const slice *s, const char *str) {
    return s->len == strlen(str) && memcmp(s->ptr, str, s->len) == 0;
}

static bool kill_matches(const kill_filter *f, const client *self, const client *o) {
    if (o->state == CLIENT_CLOSE_ASAP) return false;
    if (f->skipme && o == self) return false;
    if (f->id && (unsigned long long)f->id != o->id) return false;
    if (f->type >= 0 && client_limit_class(o) != f->type) return false;
    if (f->addr && !slice_eq_str(f->addr, o->addr)) return false;
    if (f->laddr) {
        char laddr[NET_ADDR_LEN];
        client_laddr(o, laddr, sizeof(laddr));
        if (!slice_eq_str(f->laddr, laddr)) return false;
    }
    if (f->user && !slice_eq_str(f->user, o->user ? o->user : "default")) return false;
    return true;
}

/* Parses the filter form; replies and returns -1 on a bad argument. */
static int parse_kill_filters(client *c, int argc, slice *argv, kill_filter *f) {
    for (int i = 2; i < argc; i += 2) {
        if (i + 1 >= argc) {
            client_add_error(c, ERR_SYNTAX);
            return -1;
        }
        const slice *opt = &argv[i], *val = &argv[i + 1];
        if (util_eq_nocase(opt->ptr, opt->len, "id")) {
            if (!util_parse_ll(val->ptr, val->len, &f->id) || f->id <= 0) {
                client_add_error(c, "ERR client-id should be greater than 0");
                return -1;
            }
        } else if (util_eq_nocase(opt->ptr, opt->len, "type")) {
            f->type = parse_type(val);
            if (f->type < 0) {
                client_add_errorf(c, "ERR Unknown client type '%.*s'", (int)val->len, val->ptr);
                return -1;
            }
        } else if (util_eq_nocase(opt->ptr, opt->len, "addr")) {
            f->addr = val;
        } else if (util_eq_nocase(opt->ptr, opt->len, "laddr")) {
            f->laddr = val;
        } else if (util_eq_nocase(opt->ptr, opt->len, "user")) {
            if (!acl_find_user(val->ptr, val->len)) {
                client_add_errorf(c, "ERR No such user '%.*s'", (int)(val->len > 128 ? 128 : val->len), val->ptr);
                return -1;
            }
            f->user = val;
        } else if (util_eq_nocase(opt->ptr, opt->len, "skipme")) {
            if (util_eq_nocase(val->ptr, val->len, "yes")) f->skipme = true;
            else if (util_eq_nocase(val->ptr, val->len, "no")) f->skipme = false;
            else {
                client_add_error(c, ERR_SYNTAX);
                return -1;
            }
        } else {
            client_add_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    return 0;
}

void cmd_client_kill(client *c, int argc, slice *argv) {
    kill_filter f = {0, -1, NULL, NULL, NULL, true};
    bool old_form = argc == 3;
    if (old_form) {
        f.addr = &argv[2];
        f.skipme = false;
    } else if (parse_kill_filters(c, argc, argv, &f) == -1) {
        return;
    }
    long long killed = 0;
    bool self = false;
    for (client *o = client_first(); o; o = client_next(o)) {
        if (!kill_matches(&f, c, o)) continue;
        killed++;
        if (o == c) self = true;
        else client_close_async(o);
    }
    if (old_form) {
        if (killed == 0) client_add_error(c, "ERR No such client");
        else client_add_ok(c);
    } else {
        resp_add_int(client_reply_buf(c), killed);
    }
    /* Killing ourselves: the reply goes out first, as in Redis. */
    if (self) client_set_state(c, CLIENT_CLOSE_AFTER_REPLY);
}

void cmd_client_setinfo(client *c, int argc, slice *argv) {
    (void)argc;
    const slice *attr = &argv[2], *val = &argv[3];
    char **slot;
    if (util_eq_nocase(attr->ptr, attr->len, "lib-name")) slot = &c->lib_name;
    else if (util_eq_nocase(attr->ptr, attr->len, "lib-ver")) slot = &c->lib_ver;
    else {
        client_add_errorf(c, "ERR Unrecognized option '%.*s'", (int)(attr->len > 128 ? 128 : attr->len), attr->ptr);
        return;
    }
    if (!valid_name(val->ptr, val->len)) {
        client_add_errorf(c, "ERR %.*s cannot contain spaces, newlines or special characters.",
                          (int)attr->len, attr->ptr);
        return;
    }
    mem_free(*slot);
    *slot = val->len ? mem_strndup(val->ptr, val->len) : NULL;
    client_add_ok(c);
}

void cmd_client_reply(client *c, int argc, slice *argv) {
    (void)argc;
    const slice *mode = &argv[2];
    if (util_eq_nocase(mode->ptr, mode->len, "on")) {
        c->flags &= ~(CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP_NEXT | CLIENT_REPLY_SKIP);
        client_add_ok(c);
    } else if (util_eq_nocase(mode->ptr, mode->len, "off")) {
        c->flags |= CLIENT_REPLY_OFF;
    } else if (util_eq_nocase(mode->ptr, mode->len, "skip")) {
        if (!(c->flags & CLIENT_REPLY_OFF)) c->flags |= CLIENT_REPLY_SKIP_NEXT;
    } else {
        client_add_error(c, ERR_SYNTAX);
    }
}

static void set_flag_onoff(client *c, const slice *v, unsigned flag) {
    if (util_eq_nocase(v->ptr, v->len, "on")) c->flags |= flag;
    else if (util_eq_nocase(v->ptr, v->len, "off")) c->flags &= ~flag;
    else {
        client_add_error(c, ERR_SYNTAX);
        return;
    }
    client_add_ok(c);
}

void cmd_client_no_evict(client *c, int argc, slice *argv) {
    (void)argc;
    set_flag_onoff(c, &argv[2], CLIENT_NO_EVICT);
}

void cmd_client_no_touch(client *c, int argc, slice *argv) {
    (void)argc;
    set_flag_onoff(c, &argv[2], CLIENT_NO_TOUCH);
}

void cmd_client_unblock(client *c, int argc, slice *argv) {
    /* Only XREAD BLOCK blocks: here (cmd_history.c) or, on a relay, upstream. */
    long long id;
    if (!util_parse_ll(argv[2].ptr, argv[2].len, &id)) {
        client_add_error(c, ERR_NOT_INTEGER);
        return;
    }
    bool error = false;
    if (argc == 4) {
        error = util_eq_nocase(argv[3].ptr, argv[3].len, "error");
        if (!error && !util_eq_nocase(argv[3].ptr, argv[3].len, "timeout")) {
            client_add_error(c, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    }
    if (argc > 4) {
        client_add_error(c, ERR_SYNTAX);
        return;
    }
    client *target = id > 0 ? client_by_id((uint64_t)id) : NULL;
    bool done = target && (cmd_history_unblock(target, error) || upstream_unblock(target, error));
    resp_add_int(client_reply_buf(c), done ? 1 : 0);
}

void cmd_client_help(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    static const char *const lines[] = {
        "CACHING (YES|NO)",
        "    With tracking in OPTIN or OPTOUT mode, say whether the next command's keys",
        "    are tracked (there are no keys here, so none ever is).",
        "GETNAME",
        "    Return the name of this connection.",
        "GETREDIR",
        "    Return the id of the client tracking notifications go to, 0 or -1.",
        "ID",
        "    Return the id of this connection.",
        "INFO",
        "    Return information about this connection.",
        "KILL <ip:port>",
        "    Close the connection at <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Close the connections matching every filter: ID <id>, TYPE normal|pubsub,",
        "    USER <name>, ADDR <ip:port>, LADDR <ip:port>, SKIPME yes|no.",
        "LIST [TYPE normal|pubsub] [ID <id> [<id> ...]]",
        "    List the connections, one line each.",
        "NO-EVICT (ON|OFF)",
        "    Accepted for compatibility: clients are never evicted here.",
        "NO-TOUCH (ON|OFF)",
        "    Accepted for compatibility: there are no keys to touch.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Hold the commands of every client but monitors (ALL, the default) or only",
        "    those that publish (WRITE) for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Turn replies on or off, or skip the reply of the next command.",
        "SETINFO <LIB-NAME|LIB-VER> <value>",
        "    Record the client library's name or version.",
        "SETNAME <name>",
        "    Name this connection.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]] [OPTIN] [OPTOUT] [NOLOOP]",
        "    Turn client-side caching on or off; the state is kept, no key is ever invalidated.",
        "TRACKINGINFO",
        "    Report the tracking state of this connection.",
        "UNPAUSE",
        "    End a CLIENT PAUSE: held commands run, in order.",
        NULL,
    };
    commands_reply_help(c, "CLIENT", lines);
}
