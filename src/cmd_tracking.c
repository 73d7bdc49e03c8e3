/* cmd_tracking.c -- CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO.
 *
 * There is no keyspace here, so no key is ever tracked and no invalidation
 * is ever sent; but client libraries turn tracking on when they connect,
 * and then read it back, so the state is kept and every reply and error is
 * an empty Redis's, checked in Redis's order. The state of a client with
 * tracking on is a client_tracking (c->tracking, NULL when off): mode
 * flags, the redirect id and, in BCAST mode, the prefixes, kept sorted as
 * Redis's radix tree lists them (a BCAST without PREFIX tracks "").
 *
 * CLIENT CACHING yes|no lasts until the end of the next command that is
 * not a CLIENT command, outside MULTI (Redis clears the flag when it resets
 * the client after a command). A redirect target that goes away is never
 * noticed: Redis notices only when it sends an invalidation. */
#include "cmd_handlers.h"

#include <stdio.h>
#include <string.h>

#include "client.h"
#include "mem.h"
#include "resp.h"

#define TRACK_BCAST    (1u << 0)
#define TRACK_OPTIN    (1u << 1)
#define TRACK_OPTOUT   (1u << 2)
#define TRACK_NOLOOP   (1u << 3)
#define TRACK_CACHING  (1u << 4)   /* CLIENT CACHING yes (OPTIN) or no (OPTOUT) */

struct client_tracking {
    unsigned flags;                /* TRACK_* */
    long long redir;               /* client id, 0 for none */
    size_t prefix_count;
    slice *prefixes;               /* owned, each ptr owned; sorted bytewise */
};

void cmd_tracking_off(client *c) {
    client_tracking *t = c->tracking;
    if (!t) return;
    for (size_t i = 0; i < t->prefix_count; i++) mem_free((void *)t->prefixes[i].ptr);
    mem_free(t->prefixes);
    mem_free(t);
    c->tracking = NULL;
}

static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen) {
    int r = memcmp(a, b, alen < blen ? alen : blen);
    if (r) return r;
    return alen < blen ? -1 : alen > blen;
}

/* Adds a prefix unless it is there already; keeps the array sorted. */
static void add_prefix(client_tracking *t, const char *p, size_t len) {
    size_t at = 0;
    while (at < t->prefix_count) {
        int r = cmp_bytes(t->prefixes[at].ptr, t->prefixes[at].len, p, len);
        if (r == 0) return;
        if (r > 0) break;
        at++;
    }
    t->prefixes = mem_realloc(t->prefixes, sizeof(slice) * (t->prefix_count + 1));
    memmove(&t->prefixes[at + 1], &t->prefixes[at], sizeof(slice) * (t->prefix_count - at));
    t->prefixes[at].ptr = mem_strndup(p, len);
    t->prefixes[at].len = len;
    t->prefix_count++;
}

/* Either is a prefix of the other. */
static bool overlap(const slice *a, const slice *b) {
    size_t n = a->len < b->len ? a->len : b->len;
    return memcmp(a->ptr, b->ptr, n) == 0;
}

/* Redis formats these with %s: a prefix shows up to its first NUL, and
 * the error text, like every error, has no line breaks. */
static void add_overlap_error(client *c, const slice *p, const char *what, const slice *q) {
    char msg[512];
    int n = snprintf(msg, sizeof(msg), "ERR Prefix '%.*s' overlaps with %s prefix '%.*s'. "
                     "Prefixes for a single client must not overlap.",
                     (int)strnlen(p->ptr, p->len > 128 ? 128 : p->len), p->ptr, what,
                     (int)strnlen(q->ptr, q->len > 128 ? 128 : q->len), q->ptr);
    for (int i = 0; i < n && i < (int)sizeof(msg); i++)
        if (msg[i] == '\r' || msg[i] == '\n') msg[i] = ' ';
    client_add_error(c, msg);
}

/* Redis's check of new BCAST prefixes against the client's and each other. */
static bool prefixes_ok(client *c, const slice *const *pre, int count) {
    const client_tracking *t = c->tracking;
    for (int i = 0; i < count; i++) {
        for (size_t k = 0; t && k < t->prefix_count; k++) {
            if (overlap(&t->prefixes[k], pre[i])) {
                add_overlap_error(c, pre[i], "an existing", &t->prefixes[k]);
                return false;
            }
        }
        for (int j = i + 1; j < count; j++) {
            if (overlap(pre[i], pre[j])) {
                add_overlap_error(c, pre[i], "another provided", pre[j]);
                return false;
            }
        }
    }
    return true;
}

/* Checks the options of CLIENT TRACKING ON against each other and the
 * client's current mode, in Redis's order; replies and returns false. */
static bool enable_ok(client *c, unsigned opts, int prefix_count) {
    const client_tracking *t = c->tracking;
    if (!(opts & TRACK_BCAST) && prefix_count) {
        client_add_error(c, "ERR PREFIX option requires BCAST mode to be enabled");
        return false;
    }
    if (t && !!(t->flags & TRACK_BCAST) != !!(opts & TRACK_BCAST)) {
        client_add_error(c, "ERR You can't switch BCAST mode on/off before disabling tracking for this client, "
                            "and then re-enabling it with a different mode.");
        return false;
    }
    if ((opts & TRACK_BCAST) && (opts & (TRACK_OPTIN | TRACK_OPTOUT))) {
        client_add_error(c, "ERR OPTIN and OPTOUT are not compatible with BCAST");
        return false;
    }
    if ((opts & TRACK_OPTIN) && (opts & TRACK_OPTOUT)) {
        client_add_error(c, "ERR You can't specify both OPTIN mode and OPTOUT mode");
        return false;
    }
    if (t && (((opts & TRACK_OPTIN) && (t->flags & TRACK_OPTOUT)) ||
              ((opts & TRACK_OPTOUT) && (t->flags & TRACK_OPTIN)))) {
        client_add_error(c, "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, "
                            "and then re-enabling it with a different mode.");
        return false;
    }
    return true;
}

void cmd_client_tracking(client *c, int argc, slice *argv) {
    unsigned opts = 0;
    long long redir = 0;
    const slice **pre = mem_alloc(sizeof(*pre) * (size_t)argc);
    int prefix_count = 0;
    for (int j = 3; j < argc; j++) {
        const slice *o = &argv[j];
        bool more = j + 1 < argc;
        if (util_eq_nocase(o->ptr, o->len, "redirect") && more) {
            j++;
            if (redir != 0) {
                client_add_error(c, "ERR A client can only redirect to a single other client");
                goto done;
            }
            if (!util_parse_ll(argv[j].ptr, argv[j].len, &redir)) {
                client_add_error(c, ERR_NOT_INTEGER);
                goto done;
            }
            if (redir <= 0 || !client_by_id((uint64_t)redir)) {
                client_add_error(c, "ERR The client ID you want redirect to does not exist");
                goto done;
            }
        } else if (util_eq_nocase(o->ptr, o->len, "bcast")) {
            opts |= TRACK_BCAST;
        } else if (util_eq_nocase(o->ptr, o->len, "optin")) {
            opts |= TRACK_OPTIN;
        } else if (util_eq_nocase(o->ptr, o->len, "optout")) {
            opts |= TRACK_OPTOUT;
        } else if (util_eq_nocase(o->ptr, o->len, "noloop")) {
            opts |= TRACK_NOLOOP;
        } else if (util_eq_nocase(o->ptr, o->len, "prefix") && more) {
            pre[prefix_count++] = &argv[++j];
        } else {
            client_add_error(c, ERR_SYNTAX);
            goto done;
        }
    }
    if (util_eq_nocase(argv[2].ptr, argv[2].len, "on")) {
        if (!enable_ok(c, opts, prefix_count)) goto done;
        if ((opts & TRACK_BCAST) && !prefixes_ok(c, pre, prefix_count)) goto done;
        client_tracking *t = c->tracking;
        if (!t) t = c->tracking = mem_calloc(sizeof(*t));
        t->flags = (t->flags & TRACK_CACHING) | (opts & (TRACK_BCAST | TRACK_OPTIN | TRACK_OPTOUT | TRACK_NOLOOP));
        t->redir = redir;
        if ((opts & TRACK_BCAST) && prefix_count == 0) add_prefix(t, "", 0);
        for (int i = 0; i < prefix_count; i++) add_prefix(t, pre[i]->ptr, pre[i]->len);
    } else if (util_eq_nocase(argv[2].ptr, argv[2].len, "off")) {
        cmd_tracking_off(c);
    } else {
        client_add_error(c, ERR_SYNTAX);
        goto done;
    }
    client_add_ok(c);
done:
    mem_free(pre);
}

void cmd_client_caching(client *c, int argc, slice *argv) {
    (void)argc;
    client_tracking *t = c->tracking;
    if (!t) {
        client_add_error(c, "ERR CLIENT CACHING can be called only when the client is in tracking mode "
                            "with OPTIN or OPTOUT mode enabled");
        return;
    }
    const slice *v = &argv[2];
    if (util_eq_nocase(v->ptr, v->len, "yes")) {
        if (!(t->flags & TRACK_OPTIN)) {
            client_add_error(c, "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
            return;
        }
    } else if (util_eq_nocase(v->ptr, v->len, "no")) {
        if (!(t->flags & TRACK_OPTOUT)) {
            client_add_error(c, "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
            return;
        }
    } else {
        client_add_error(c, ERR_SYNTAX);
        return;
    }
    t->flags |= TRACK_CACHING;
    client_add_ok(c);
}

void cmd_client_getredir(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    resp_add_int(client_reply_buf(c), cmd_tracking_redir(c));
}

void cmd_client_trackinginfo(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    const client_tracking *t = c->tracking;
    const char *flags[8];
    int n = 0;
    if (!t) {
        flags[n++] = "off";
    } else {
        flags[n++] = "on";
        if (t->flags & TRACK_BCAST) flags[n++] = "bcast";
        if (t->flags & TRACK_OPTIN) flags[n++] = "optin";
        if (t->flags & TRACK_OPTOUT) flags[n++] = "optout";
        if (t->flags & TRACK_CACHING) {
            if (t->flags & TRACK_OPTIN) flags[n++] = "caching-yes";
            else if (t->flags & TRACK_OPTOUT) flags[n++] = "caching-no";
        }
        if (t->flags & TRACK_NOLOOP) flags[n++] = "noloop";
    }
    buf *b = client_reply_buf(c);
    resp_add_map_len(b, 3, c->resp);
    resp_add_bulk_str(b, "flags");
    resp_add_set_len(b, n, c->resp);   /* a set in RESP3, as Redis sends */
    for (int i = 0; i < n; i++) resp_add_bulk_str(b, flags[i]);
    resp_add_bulk_str(b, "redirect");
    resp_add_int(b, cmd_tracking_redir(c));
    resp_add_bulk_str(b, "prefixes");
    size_t count = t ? t->prefix_count : 0;
    resp_add_array_len(b, (long long)count);
    for (size_t i = 0; i < count; i++) resp_add_bulk(b, t->prefixes[i].ptr, t->prefixes[i].len);
}

void cmd_tracking_after_command(client *c, const slice *name) {
    client_tracking *t = c->tracking;
    if (!t || !(t->flags & TRACK_CACHING) || (c->flags & CLIENT_MULTI)) return;
    if (!util_eq_nocase(name->ptr, name->len, "client")) t->flags &= ~TRACK_CACHING;
}

char *cmd_tracking_flags(const client *c, char *p) {
    if (!c->tracking) return p;
    *p++ = 't';
    if (c->tracking->flags & TRACK_BCAST) *p++ = 'B';
    return p;
}

long long cmd_tracking_redir(const client *c) {
    return c->tracking ? c->tracking->redir : -1;
}
