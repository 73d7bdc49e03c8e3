/* cmd_monitor.c -- MONITOR: every command any client runs, as a line of text
 * to every monitor, in Redis's format and at Redis's moment.
 *
 *   dispatch --(after the handler ran)--> cmd_monitor_feed --> monitor replies
 *
 * What is fed, as redis-server 7.0 feeds it: a command whose handler ran,
 * right after it ran (its line shows the db it left the client in), even if
 * the handler replied an error; commands refused before running (unknown
 * command, arity in the table, NOAUTH, ACL, subscribed context) and
 * commands queued by MULTI are not, but EXEC feeds each command it runs,
 * then itself. Admin commands (CONFIG, CLIENT LIST, ACL SETUSER, MONITOR,
 * ...) are never fed: that is how Redis keeps their secrets out.
 * AUTH and HELLO ... AUTH show "(redacted)" in place of the credentials,
 * but only where the handler got far enough to read them: a HELLO refused
 * on its version, or AUTH with too many arguments, shows them as sent.
 *
 * A line: +<unix seconds>.<microseconds> [<db> <ip:port>|unix:<path>] "arg" ...
 * with each argument quoted and escaped as Redis's sdscatrepr does. The
 * same simple-string bytes go to RESP2 and RESP3 monitors.
 *
 * A monitor is a normal client otherwise: it may still run commands (fed
 * to the monitors, itself included, after their reply), QUIT closes it,
 * RESET ends monitoring, and its output counts against the normal class's
 * client-output-buffer-limit, like Redis's (monitors are not replicas
 * there). CLIENT PAUSE never holds a monitor (cmd_pause.c).
 *
 * Cost when nobody monitors: commands_dispatch() reads cmd_monitor_count. */
#include "cmd_handlers.h"

#include <stdio.h>
#include <string.h>

#include "client.h"
#include "config.h"
#include "mem.h"

int cmd_monitor_count;

static client **monitors;      /* owned array of borrowed clients, oldest first */
static int monitors_cap;

void cmd_monitor(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    if (commands_nesting() > 1) {
        /* Inside EXEC a client expects one reply per command. */
        client_add_error(c, "ERR MONITOR isn't allowed for DENY BLOCKING client");
        return;
    }
    if (c->flags & CLIENT_MONITOR) return;   /* already one: Redis says nothing */
    if (cmd_monitor_count == monitors_cap) {
        monitors_cap = monitors_cap ? monitors_cap * 2 : 4;
        monitors = mem_realloc(monitors, sizeof(*monitors) * (size_t)monitors_cap);
    }
    monitors[cmd_monitor_count++] = c;
    c->flags |= CLIENT_MONITOR;
    client_add_ok(c);
}

void cmd_monitor_stop(client *c) {
    if (!(c->flags & CLIENT_MONITOR)) return;
    c->flags &= ~CLIENT_MONITOR;
    for (int i = 0; i < cmd_monitor_count; i++) {
        if (monitors[i] != c) continue;
        memmove(&monitors[i], &monitors[i + 1], sizeof(*monitors) * (size_t)(cmd_monitor_count - i - 1));
        cmd_monitor_count--;
        return;
    }
}

void cmd_monitor_free(void) {
    mem_free(monitors);
    monitors = NULL;
    monitors_cap = cmd_monitor_count = 0;
}

/* ------------------------------------------------------------------------
 * The line
 * ------------------------------------------------------------------------ */

/* Appends s quoted, with Redis's escapes: \" \\ \n \r \t \a \b, and \xhh
 * for every other byte outside printable ASCII. */
static void append_repr(buf *b, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    buf_reserve(b, len + 2);
    buf_append_char(b, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        const char *esc = NULL;
        switch (ch) {
        case '\\': esc = "\\\\"; break;
        case '"': esc = "\\\""; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\a': esc = "\\a"; break;
        case '\b': esc = "\\b"; break;
        default: break;
        }
        if (esc) {
            buf_append(b, esc, 2);
        } else if (ch >= 0x20 && ch < 0x7f) {
            buf_append_char(b, (char)ch);
        } else {
            char x[4] = {'\\', 'x', hex[ch >> 4], hex[ch & 15]};
            buf_append(b, x, 4);
        }
    }
    buf_append_char(b, '"');
}

/* Marks in redact[] the arguments Redis's AUTH and HELLO hide: the ones
 * their parsers reached as credentials. */
static void find_redacted(const command *run, int argc, const slice *argv, bool *redact) {
    if (run->proc == cmd_auth) {
        if (argc > 3) return;                 /* a syntax error before any reading */
        for (int i = 1; i < argc; i++) redact[i] = true;
        return;
    }
    if (run->proc != cmd_hello || argc < 2) return;
    long long ver;
    if (!util_parse_ll(argv[1].ptr, argv[1].len, &ver) || ver < 2 || ver > 3) return;
    for (int j = 2; j < argc; j++) {
        int more = argc - j - 1;
        if (util_eq_nocase(argv[j].ptr, argv[j].len, "AUTH") && more >= 2) {
            redact[j + 1] = redact[j + 2] = true;
            j += 2;
        } else if (util_eq_nocase(argv[j].ptr, argv[j].len, "SETNAME") && more >= 1) {
            /* HELLO stops at a name it refuses, before any later AUTH. */
            for (size_t k = 0; k < argv[j + 1].len; k++) {
                unsigned char ch = (unsigned char)argv[j + 1].ptr[k];
                if (ch < '!' || ch > '~') return;
            }
            j += 1;
        } else {
            return;
        }
    }
}

static void format_line(buf *b, const client *c, const command *run, int argc, const slice *argv) {
    long long us = util_time_us();
    buf_printf(b, "+%lld.%06lld [%d ", us / 1000000, us % 1000000, c->db);
    if (c->flags & CLIENT_UNIX_SOCKET) buf_printf(b, "unix:%s] ", cfg.unixsocket ? cfg.unixsocket : "");
    else buf_printf(b, "%s] ", c->addr);
    bool small[16] = {false};
    bool *redact = small;
    if (argc > (int)(sizeof(small) / sizeof(small[0]))) redact = mem_calloc(sizeof(bool) * (size_t)argc);
    find_redacted(run, argc, argv, redact);
    for (int i = 0; i < argc; i++) {
        if (i > 0) buf_append_char(b, ' ');
        if (redact[i]) buf_append_str(b, "\"(redacted)\"");
        else append_repr(b, argv[i].ptr, argv[i].len);
    }
    buf_append(b, "\r\n", 2);
    if (redact != small) mem_free(redact);
}

void cmd_monitor_feed(const client *c, const command *run, int argc, const slice *argv) {
    if (commands_has_flag(run, "admin") || commands_has_flag(run, "skip_monitor")) return;
    buf line = {0};
    format_line(&line, c, run, argc, argv);
    for (int i = 0; i < cmd_monitor_count; i++) {
        client *m = monitors[i];
        /* A closing monitor (QUIT) gets nothing more, as in Redis. */
        if (m->state != CLIENT_ACTIVE) continue;
        buf_append(client_reply_buf(m), line.data, line.len);
        client_check_output_limits(m);
    }
    buf_free(&line);
}
