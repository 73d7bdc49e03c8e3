/* cmd_admin.c -- Server commands: INFO, CONFIG, COMMAND, TIME, DBSIZE,
 * FLUSHALL/FLUSHDB, LASTSAVE, DEBUG, SHUTDOWN (ACL is in cmd_acl.c).
 * Keyspace-shaped commands answer as an empty Redis would. */
#include "cmd_handlers.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client.h"
#include "config.h"
#include "glob.h"
#include "info.h"
#include "log.h"
#include "mem.h"
#include "resp.h"

/* ------------------------------------------------------------------------
 * INFO, TIME, DBSIZE, FLUSHALL, LASTSAVE
 * ------------------------------------------------------------------------ */

void cmd_info(client *c, int argc, slice *argv) {
    buf out = {0};
    info_generate(&out, argc - 1, argv + 1);
    resp_add_verbatim(client_reply_buf(c), out.data ? out.data : "", out.len, "txt", c->resp);
    buf_free(&out);
}

void cmd_time(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    long long us = util_time_us();
    char sec[24], usec[24];
    size_t sl = util_ll_to_str(sec, us / 1000000), ul = util_ll_to_str(usec, us % 1000000);
    buf *b = client_reply_buf(c);
    resp_add_array_len(b, 2);
    resp_add_bulk(b, sec, sl);
    resp_add_bulk(b, usec, ul);
}

void cmd_dbsize(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    resp_add_int(client_reply_buf(c), 0);
}

void cmd_flushall(client *c, int argc, slice *argv) {
    if (argc > 2 || (argc == 2 && !util_eq_nocase(argv[1].ptr, argv[1].len, "async") &&
                     !util_eq_nocase(argv[1].ptr, argv[1].len, "sync"))) {
        client_add_error(c, ERR_SYNTAX);
        return;
    }
    client_add_ok(c);
}

void cmd_lastsave(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    resp_add_int(client_reply_buf(c), cmd_env.start_ms / 1000);
}

/* ------------------------------------------------------------------------
 * SLOWLOG and LATENCY: monitoring tools ask; nothing here is slow enough to
 * log, so they answer as a Redis with empty logs does.
 * ------------------------------------------------------------------------ */

void cmd_slowlog_get(client *c, int argc, slice *argv) {
    if (argc == 3) {
        long long n;
        if (!util_parse_ll(argv[2].ptr, argv[2].len, &n) || n < -1) {
            client_add_error(c, "ERR count should be greater than or equal to -1");
            return;
        }
    } else if (argc > 3) {
        commands_reply_subcommand_syntax(c, &argv[0], &argv[1]);
        return;
    }
    resp_add_array_len(client_reply_buf(c), 0);
}

void cmd_slowlog_len(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    resp_add_int(client_reply_buf(c), 0);
}

void cmd_slowlog_reset(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    client_add_ok(c);
}

void cmd_slowlog_help(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    static const char *const lines[] = {
        "GET [<count>]",
        "    Return the slow log's entries: it is always empty here.",
        "LEN",
        "    Return the number of entries: 0.",
        "RESET",
        "    Clear the slow log.",
        NULL,
    };
    commands_reply_help(c, "SLOWLOG", lines);
}

void cmd_latency_latest(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    resp_add_array_len(client_reply_buf(c), 0);
}

void cmd_latency_history(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    resp_add_array_len(client_reply_buf(c), 0);
}

void cmd_latency_reset(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    resp_add_int(client_reply_buf(c), 0);
}

/* No event ever has samples here: Redis's answer for such an event. */
void cmd_latency_graph(client *c, int argc, slice *argv) {
    (void)argc;
    client_add_errorf(c, "ERR No samples available for event '%.*s'", (int)(argv[2].len < 128 ? argv[2].len : 128),
                      argv[2].ptr);
}

void cmd_latency_histogram(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    resp_add_map_len(client_reply_buf(c), 0, c->resp);
}

void cmd_latency_doctor(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    static const char report[] =
        "I have no latency reports to show you: redis-pubsub does not track latency events.\n";
    resp_add_verbatim(client_reply_buf(c), report, sizeof(report) - 1, "txt", c->resp);
}

void cmd_latency_help(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    static const char *const lines[] = {
        "DOCTOR",
        "    Return a latency report (there are no events to report here).",
        "GRAPH <event>",
        "    Return an ASCII latency graph of an event: none are tracked.",
        "HISTOGRAM [<command> ...]",
        "    Return latency histograms of commands: none are tracked.",
        "HISTORY <event>",
        "    Return the samples of an event: none are tracked.",
        "LATEST",
        "    Return the latest samples of every event: none are tracked.",
        "RESET [<event> ...]",
        "    Reset events; returns how many were reset (0).",
        NULL,
    };
    commands_reply_help(c, "LATENCY", lines);
}

/* ------------------------------------------------------------------------
 * DEBUG (a subset useful to tests) and SHUTDOWN
 * ------------------------------------------------------------------------ */

void cmd_debug(client *c, int argc, slice *argv) {
    const slice *sub = &argv[1];
    if (util_eq_nocase(sub->ptr, sub->len, "log") && argc == 3) {
        log_warning("DEBUG LOG: %.*s", (int)argv[2].len, argv[2].ptr);
        client_add_ok(c);
    } else if (util_eq_nocase(sub->ptr, sub->len, "sleep") && argc == 3) {
        char tmp[64];
        snprintf(tmp, sizeof(tmp), "%.*s", (int)(argv[2].len < 63 ? argv[2].len : 63), argv[2].ptr);
        double secs = strtod(tmp, NULL);
        if (secs > 0) {
            struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
            nanosleep(&ts, NULL);
        }
        client_add_ok(c);
    } else if (util_eq_nocase(sub->ptr, sub->len, "help")) {
        static const char *const lines[] = {
            "LOG <message>",
            "    Write <message> to the server log.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds> (decimals allowed).",
            NULL,
        };
        commands_reply_help(c, "DEBUG", lines);
    } else {
        client_add_errorf(c, "ERR Unknown subcommand or wrong number of arguments for '%.*s'. Try DEBUG HELP.",
                          (int)(sub->len > 128 ? 128 : sub->len), sub->ptr);
    }
}

void cmd_shutdown(client *c, int argc, slice *argv) {
    for (int i = 1; i < argc; i++) {
        const slice *a = &argv[i];
        if (util_eq_nocase(a->ptr, a->len, "abort")) {
            client_add_error(c, "ERR No shutdown in progress.");
            return;
        }
        if (!util_eq_nocase(a->ptr, a->len, "nosave") && !util_eq_nocase(a->ptr, a->len, "save") &&
            !util_eq_nocase(a->ptr, a->len, "now") && !util_eq_nocase(a->ptr, a->len, "force")) {
            client_add_error(c, ERR_SYNTAX);
            return;
        }
    }
    log_warning("User requested shutdown...");
    cmd_env.request_shutdown();
}

/* ------------------------------------------------------------------------
 * CONFIG
 * ------------------------------------------------------------------------ */

typedef struct config_reply {
    buf pairs;
    long long count;
} config_reply;

static void collect_config(void *ctx, const char *name, const char *value) {
    config_reply *r = ctx;
    resp_add_bulk_str(&r->pairs, name);
    resp_add_bulk_str(&r->pairs, value);
    r->count++;
}

void cmd_config_get(client *c, int argc, slice *argv) {
    int n = argc - 2;
    const char **pats = mem_alloc(sizeof(char *) * (size_t)n);
    size_t *lens = mem_alloc(sizeof(size_t) * (size_t)n);
    for (int i = 0; i < n; i++) {
        pats[i] = argv[i + 2].ptr;
        lens[i] = argv[i + 2].len;
    }
    config_reply r = {{0}, 0};
    config_get(pats, lens, n, collect_config, &r);
    buf *b = client_reply_buf(c);
    resp_add_map_len(b, r.count, c->resp);
    buf_append(b, r.pairs.data, r.pairs.len);
    buf_free(&r.pairs);
    mem_free(pats);
    mem_free(lens);
}

void cmd_config_set(client *c, int argc, slice *argv) {
    if ((argc - 2) % 2 != 0) {
        client_add_error(c, ERR_SYNTAX);
        return;
    }
    int n = (argc - 2) / 2;
    const char **names = mem_alloc(sizeof(char *) * (size_t)n);
    const char **values = mem_alloc(sizeof(char *) * (size_t)n);
    size_t *nlens = mem_alloc(sizeof(size_t) * (size_t)n);
    size_t *vlens = mem_alloc(sizeof(size_t) * (size_t)n);
    for (int i = 0; i < n; i++) {
        names[i] = argv[2 + 2 * i].ptr;
        nlens[i] = argv[2 + 2 * i].len;
        values[i] = argv[3 + 2 * i].ptr;
        vlens[i] = argv[3 + 2 * i].len;
    }
    char err[512];
    if (config_set(n, names, nlens, values, vlens, err, sizeof(err)) == 0) client_add_ok(c);
    else client_add_error(c, err);
    mem_free(names);
    mem_free(values);
    mem_free(nlens);
    mem_free(vlens);
}

void cmd_config_resetstat(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    client_reset_stats();
    commands_reset_stats();
    cmd_pubsub_reset_stats();
    client_add_ok(c);
}

void cmd_config_rewrite(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    char err[512];
    if (config_rewrite(err, sizeof(err)) == 0) {
        log_notice("CONFIG REWRITE executed with success.");
        client_add_ok(c);
    } else {
        client_add_error(c, err);
    }
}

void cmd_config_help(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    static const char *const lines[] = {
        "GET <pattern> [<pattern> ...]",
        "    Return the parameters matching any glob-style <pattern> and their values.",
        "SET <directive> <value> [<directive> <value> ...]",
        "    Change parameters at run time; all of them change or none does.",
        "RESETSTAT",
        "    Reset the statistics reported by INFO.",
        "REWRITE",
        "    Write the running configuration back to the configuration file.",
        NULL,
    };
    commands_reply_help(c, "CONFIG", lines);
}

/* ------------------------------------------------------------------------
 * COMMAND
 * ------------------------------------------------------------------------ */

/* COMMAND INFO and DOCS write each command's meta data (commands_meta.c)
 * in Redis 7.2's layout; which aggregate is a set or a map in RESP3 is
 * Redis's choice, kept as is. Subcommands are those served. */

static size_t count_words(const char *words) {
    size_t n = 0;
    for (const char *p = words; p && *p;) {
        while (*p == ' ') p++;
        if (!*p) break;
        n++;
        while (*p && *p != ' ') p++;
    }
    return n;
}

/* Adds the words of a space-separated list as a set of simple strings. */
static void add_word_set(buf *b, const char *words, int proto) {
    resp_add_set_len(b, (long long)count_words(words), proto);
    for (const char *p = words; p && *p;) {
        while (*p == ' ') p++;
        if (!*p) break;
        const char *start = p;
        while (*p && *p != ' ') p++;
        char word[64];
        snprintf(word, sizeof(word), "%.*s", (int)(p - start), start);
        resp_add_simple(b, word);
    }
}

static size_t count_subs(const command *cmd) {
    size_t n = 0;
    if (cmd->subcommands)
        for (const command *s = cmd->subcommands; s->name; s++) n++;
    return n;
}

static void add_key_spec(buf *b, const command_key_spec *ks, int proto) {
    resp_add_map_len(b, ks->notes ? 4 : 3, proto);
    if (ks->notes) {
        resp_add_bulk_str(b, "notes");
        resp_add_bulk_str(b, ks->notes);
    }
    resp_add_bulk_str(b, "flags");
    add_word_set(b, ks->flags, proto);
    resp_add_bulk_str(b, "begin_search");
    resp_add_map_len(b, 2, proto);
    resp_add_bulk_str(b, "type");
    resp_add_bulk_str(b, ks->keyword ? "keyword" : "index");
    resp_add_bulk_str(b, "spec");
    if (ks->keyword) {
        resp_add_map_len(b, 2, proto);
        resp_add_bulk_str(b, "keyword");
        resp_add_bulk_str(b, ks->keyword);
        resp_add_bulk_str(b, "startfrom");
    } else {
        resp_add_map_len(b, 1, proto);
        resp_add_bulk_str(b, "index");
    }
    resp_add_int(b, ks->begin_index);
    resp_add_bulk_str(b, "find_keys");
    resp_add_map_len(b, 2, proto);
    resp_add_bulk_str(b, "type");
    resp_add_bulk_str(b, "range");
    resp_add_bulk_str(b, "spec");
    resp_add_map_len(b, 3, proto);
    resp_add_bulk_str(b, "lastkey");
    resp_add_int(b, ks->last_key);
    resp_add_bulk_str(b, "keystep");
    resp_add_int(b, ks->key_step);
    resp_add_bulk_str(b, "limit");
    resp_add_int(b, ks->limit);
}

static void add_command_info(buf *b, const command *cmd, int proto) {
    const command_meta *m = cmd->meta;
    resp_add_array_len(b, 10);
    resp_add_bulk_str(b, m->name);
    resp_add_int(b, m->arity);
    add_word_set(b, m->flags, proto);
    resp_add_int(b, m->key_first);
    resp_add_int(b, m->key_last);
    resp_add_int(b, m->key_step);
    add_word_set(b, m->acl_categories, proto);
    long long ntips = 0;
    while (m->tips && m->tips[ntips]) ntips++;
    resp_add_set_len(b, ntips, proto);
    for (long long i = 0; i < ntips; i++) resp_add_bulk_str(b, m->tips[i]);
    resp_add_set_len(b, m->key_spec_count, proto);
    for (int i = 0; i < m->key_spec_count; i++) add_key_spec(b, &m->key_specs[i], proto);
    size_t nsubs = count_subs(cmd);
    if (nsubs == 0) {
        resp_add_set_len(b, 0, proto);
        return;
    }
    resp_add_array_len(b, (long long)nsubs);
    for (const command *s = cmd->subcommands; s->name; s++) add_command_info(b, s, proto);
}

void cmd_command(client *c, int argc, slice *argv) {
    (void)argv;
    if (argc != 1) {
        commands_reply_unknown_sub(c, &argv[0], &argv[1]);
        return;
    }
    buf *b = client_reply_buf(c);
    resp_add_array_len(b, (long long)commands_count());
    for (size_t i = 0; i < commands_count(); i++) add_command_info(b, commands_at(i), c->resp);
}

void cmd_command_count(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    resp_add_int(client_reply_buf(c), (long long)commands_count());
}

/* Finds "name" or "parent|sub", as COMMAND INFO and DOCS accept both. */
static const command *find_by_fullname(const slice *name) {
    const char *bar = memchr(name->ptr, '|', name->len);
    if (!bar) return commands_lookup(name->ptr, name->len);
    const command *parent = commands_lookup(name->ptr, (size_t)(bar - name->ptr));
    if (!parent) return NULL;
    return commands_lookup_sub(parent, bar + 1, name->len - (size_t)(bar - name->ptr) - 1);
}

void cmd_command_info(client *c, int argc, slice *argv) {
    buf *b = client_reply_buf(c);
    if (argc == 2) {
        resp_add_array_len(b, (long long)commands_count());
        for (size_t i = 0; i < commands_count(); i++) add_command_info(b, commands_at(i), c->resp);
        return;
    }
    resp_add_array_len(b, argc - 2);
    for (int i = 2; i < argc; i++) {
        const command *cmd = find_by_fullname(&argv[i]);
        if (cmd) add_command_info(b, cmd, c->resp);
        else resp_add_null(b, c->resp);
    }
}

static size_t count_args(const command_arg *args) {
    size_t n = 0;
    if (args)
        for (const command_arg *a = args; a->name; a++) n++;
    return n;
}

static void add_field(buf *b, const char *key, const char *value) {
    resp_add_bulk_str(b, key);
    resp_add_bulk_str(b, value);
}

static void add_arg_docs(buf *b, const command_arg *a, int proto) {
    long long fields = 2 + !!a->key_spec_index1 + !!a->display_text + !!a->token + !!a->since + !!a->flags +
                       !!a->deprecated_since + !!a->args;
    resp_add_map_len(b, fields, proto);
    add_field(b, "name", a->name);
    add_field(b, "type", a->type);
    if (a->key_spec_index1) {
        resp_add_bulk_str(b, "key_spec_index");
        resp_add_int(b, a->key_spec_index1 - 1);
    }
    if (a->display_text) add_field(b, "display_text", a->display_text);
    if (a->token) add_field(b, "token", a->token);
    if (a->since) add_field(b, "since", a->since);
    if (a->flags) {
        resp_add_bulk_str(b, "flags");
        long long n = !!(a->flags & CMD_ARG_OPTIONAL) + !!(a->flags & CMD_ARG_MULTIPLE) +
                      !!(a->flags & CMD_ARG_MULTIPLE_TOKEN);
        resp_add_set_len(b, n, proto);
        if (a->flags & CMD_ARG_OPTIONAL) resp_add_simple(b, "optional");
        if (a->flags & CMD_ARG_MULTIPLE) resp_add_simple(b, "multiple");
        if (a->flags & CMD_ARG_MULTIPLE_TOKEN) resp_add_simple(b, "multiple_token");
    }
    if (a->deprecated_since) add_field(b, "deprecated_since", a->deprecated_since);
    if (a->args) {
        resp_add_bulk_str(b, "arguments");
        resp_add_array_len(b, (long long)count_args(a->args));
        for (const command_arg *s = a->args; s->name; s++) add_arg_docs(b, s, proto);
    }
}

static void add_command_docs(buf *b, const command *cmd, int proto) {
    const command_meta *m = cmd->meta;
    size_t nsubs = count_subs(cmd);
    resp_add_bulk_str(b, m->name);
    long long fields = 3 + !!m->complexity + !!m->doc_flags + !!m->deprecated_since + !!m->replaced_by +
                       !!m->history_count + !!m->args + !!nsubs;
    resp_add_map_len(b, fields, proto);
    add_field(b, "summary", m->summary);
    add_field(b, "since", m->since);
    add_field(b, "group", m->group);
    if (m->complexity) add_field(b, "complexity", m->complexity);
    if (m->doc_flags) {
        resp_add_bulk_str(b, "doc_flags");
        add_word_set(b, m->doc_flags, proto);
    }
    if (m->deprecated_since) add_field(b, "deprecated_since", m->deprecated_since);
    if (m->replaced_by) add_field(b, "replaced_by", m->replaced_by);
    if (m->history_count) {
        resp_add_bulk_str(b, "history");
        resp_add_set_len(b, m->history_count, proto);
        for (int i = 0; i < m->history_count; i++) {
            resp_add_array_len(b, 2);
            resp_add_bulk_str(b, m->history[i].since);
            resp_add_bulk_str(b, m->history[i].text);
        }
    }
    if (m->args) {
        resp_add_bulk_str(b, "arguments");
        resp_add_array_len(b, (long long)count_args(m->args));
        for (const command_arg *a = m->args; a->name; a++) add_arg_docs(b, a, proto);
    }
    if (nsubs) {
        resp_add_bulk_str(b, "subcommands");
        resp_add_map_len(b, (long long)nsubs, proto);
        for (const command *s = cmd->subcommands; s->name; s++) add_command_docs(b, s, proto);
    }
}

void cmd_command_docs(client *c, int argc, slice *argv) {
    buf *b = client_reply_buf(c);
    if (argc == 2) {
        resp_add_map_len(b, (long long)commands_count(), c->resp);
        for (size_t i = 0; i < commands_count(); i++) add_command_docs(b, commands_at(i), c->resp);
        return;
    }
    const command **found = mem_alloc(sizeof(command *) * (size_t)argc);
    long long n = 0;
    for (int i = 2; i < argc; i++) {
        const command *cmd = find_by_fullname(&argv[i]);
        if (cmd) found[n++] = cmd;
    }
    resp_add_map_len(b, n, c->resp);
    for (long long i = 0; i < n; i++) add_command_docs(b, found[i], c->resp);
    mem_free(found);
}

typedef struct list_filter {
    const slice *pattern, *aclcat;
    buf names;
    long long count;
} list_filter;

/* Adds cmd's name to f->names if it passes the filter. */
static void list_one(list_filter *f, const command *cmd) {
    if (f->pattern && !glob_match_nocase(f->pattern->ptr, f->pattern->len, cmd->name, strlen(cmd->name)))
        return;
    if (f->aclcat) {
        char cat[64];
        snprintf(cat, sizeof(cat), "@%.*s", (int)(f->aclcat->len < 60 ? f->aclcat->len : 60), f->aclcat->ptr);
        if (!cmd->acl_categories || !strstr(cmd->acl_categories, cat)) return;
    }
    resp_add_bulk_str(&f->names, cmd->name);
    f->count++;
}

void cmd_command_list(client *c, int argc, slice *argv) {
    const slice *pattern = NULL, *aclcat = NULL;
    if (argc == 5 && util_eq_nocase(argv[2].ptr, argv[2].len, "filterby")) {
        if (util_eq_nocase(argv[3].ptr, argv[3].len, "pattern")) pattern = &argv[4];
        else if (util_eq_nocase(argv[3].ptr, argv[3].len, "aclcat")) aclcat = &argv[4];
        else if (!util_eq_nocase(argv[3].ptr, argv[3].len, "module")) {
            client_add_error(c, ERR_SYNTAX);
            return;
        } else {
            resp_add_set_len(client_reply_buf(c), 0, c->resp);
            return;
        }
    } else if (argc != 2) {
        client_add_error(c, ERR_SYNTAX);
        return;
    }
    list_filter f = {pattern, aclcat, {0}, 0};
    for (size_t i = 0; i < commands_count(); i++) {
        const command *cmd = commands_at(i);
        list_one(&f, cmd);
        if (cmd->subcommands)
            for (const command *s = cmd->subcommands; s->name; s++) list_one(&f, s);
    }
    buf names = f.names;
    long long n = f.count;
    buf *b = client_reply_buf(c);
    resp_add_array_len(b, n);
    buf_append(b, names.data, names.len);
    buf_free(&names);
}

/* COMMAND GETKEYS and GETKEYSANDFLAGS: the key specs here (SPUBLISH,
 * SSUBSCRIBE, SUNSUBSCRIBE) are all not_key, which these two leave out, so
 * every command Redis knows has no key arguments. */
void cmd_command_getkeys(client *c, int argc, slice *argv) {
    (void)argc;
    const command *cmd = commands_lookup(argv[2].ptr, argv[2].len);
    if (cmd && cmd->subcommands && argc >= 4) {
        const command *sub = commands_lookup_sub(cmd, argv[3].ptr, argv[3].len);
        if (sub) cmd = sub;
        else if (!cmd->proc) cmd = NULL;
    }
    if (!cmd) client_add_error(c, "ERR Invalid command specified");
    else client_add_error(c, "ERR The command has no key arguments");
}

void cmd_command_help(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    static const char *const lines[] = {
        "(no subcommand)",
        "    Return details about every command.",
        "COUNT",
        "    Return the number of commands served.",
        "DOCS [<command-name> ...]",
        "    Return documentation for the named commands, or for all of them.",
        "INFO [<command-name> ...]",
        "    Return details about the named commands, or about all of them.",
        "LIST [FILTERBY (MODULE <name>|ACLCAT <category>|PATTERN <pattern>)]",
        "    Return the names of the commands served, optionally filtered.",
        NULL,
    };
    commands_reply_help(c, "COMMAND", lines);
}
