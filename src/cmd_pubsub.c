/* cmd_pubsub.c -- (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB.
 *
 * Confirmations are one frame per channel with the running count, as Redis
 * sends them: in RESP3 they are push frames. A publish encodes each wire
 * form at most once (RESP2 array, RESP3 push; one pmessage frame per
 * matching pattern) and hands the same frame to every subscriber.
 *
 * Confirmations and messages are pushes: CLIENT REPLY OFF / SKIP do not
 * silence them. A publisher subscribed to what it publishes gets its reply
 * first and then its own messages (Redis 7.2): deliveries to the publisher
 * are held (client_defer_push) and queued after the reply, or, inside EXEC,
 * after EXEC's whole reply (cmd_exec flushes them). Deliveries to everybody
 * else pay one pointer compare for this. */
#include "cmd_handlers.h"

#include <string.h>

#include "client.h"
#include "frame.h"
#include "glob.h"
#include "history.h"
#include "mem.h"
#include "pubsub.h"
#include "resp.h"
#include "upstream.h"

static long long messages_published;

long long cmd_pubsub_messages_published(void) {
    return messages_published;
}

void cmd_pubsub_reset_stats(void) {
    messages_published = 0;
}

/* ------------------------------------------------------------------------
 * Subscribe and unsubscribe
 * ------------------------------------------------------------------------ */

typedef enum { KIND_CHANNEL, KIND_PATTERN, KIND_SHARD } sub_kind;

static const char *const kind_sub[] = {"subscribe", "psubscribe", "ssubscribe"};
static const char *const kind_unsub[] = {"unsubscribe", "punsubscribe", "sunsubscribe"};

/* The count Redis reports: channels + patterns, or shard channels alone. */
static long long sub_count(const client *c, sub_kind kind) {
    if (kind == KIND_SHARD) return (long long)pubsub_sub_channels(c->subs, PUBSUB_SHARD);
    return (long long)(pubsub_sub_channels(c->subs, PUBSUB_CHANNEL) + pubsub_sub_patterns(c->subs));
}

static void reply_confirm(client *c, const char *what, const char *name, size_t len, bool null_name,
                          long long count) {
    buf *b = client_push_buf(c);
    resp_add_push_len(b, 3, c->resp);
    resp_add_bulk_str(b, what);
    if (null_name) resp_add_null(b, c->resp);
    else resp_add_bulk(b, name, len);
    resp_add_int(b, count);
}

static void subscribe_generic(client *c, int argc, slice *argv, sub_kind kind) {
    bool had = client_is_subscribed(c);
    for (int i = 1; i < argc; i++) {
        if (kind == KIND_PATTERN)
            pubsub_psubscribe(cmd_env.ps, &c->subs, c, argv[i].ptr, argv[i].len);
        else
            pubsub_subscribe(cmd_env.ps, &c->subs, c, kind == KIND_SHARD ? PUBSUB_SHARD : PUBSUB_CHANNEL,
                             argv[i].ptr, argv[i].len);
        reply_confirm(c, kind_sub[kind], argv[i].ptr, argv[i].len, false, sub_count(c, kind));
    }
    client_note_subscriptions(c, had);
}

typedef struct unsub_ctx {
    client *c;
    sub_kind kind;
    bool notify;
} unsub_ctx;

static void on_unsubscribed(void *ctx, const char *name, size_t len) {
    unsub_ctx *u = ctx;
    if (u->notify) reply_confirm(u->c, kind_unsub[u->kind], name, len, false, sub_count(u->c, u->kind));
}

static void unsubscribe_generic(client *c, int argc, slice *argv, sub_kind kind) {
    bool had = client_is_subscribed(c);
    pubsub_kind pk = kind == KIND_SHARD ? PUBSUB_SHARD : PUBSUB_CHANNEL;
    if (argc == 1) {
        unsub_ctx u = {c, kind, true};
        size_t held = kind == KIND_PATTERN ? pubsub_sub_patterns(c->subs) : pubsub_sub_channels(c->subs, pk);
        if (held == 0) {
            /* Nothing held: one notification with a null name, never an error. */
            reply_confirm(c, kind_unsub[kind], NULL, 0, true, sub_count(c, kind));
        } else if (kind == KIND_PATTERN) {
            pubsub_punsubscribe_all(cmd_env.ps, &c->subs, on_unsubscribed, &u);
        } else {
            pubsub_unsubscribe_all(cmd_env.ps, &c->subs, pk, on_unsubscribed, &u);
        }
    } else {
        for (int i = 1; i < argc; i++) {
            if (kind == KIND_PATTERN) pubsub_punsubscribe(cmd_env.ps, &c->subs, argv[i].ptr, argv[i].len);
            else pubsub_unsubscribe(cmd_env.ps, &c->subs, pk, argv[i].ptr, argv[i].len);
            reply_confirm(c, kind_unsub[kind], argv[i].ptr, argv[i].len, false, sub_count(c, kind));
        }
    }
    client_note_subscriptions(c, had);
}

void cmd_subscribe(client *c, int argc, slice *argv) { subscribe_generic(c, argc, argv, KIND_CHANNEL); }
void cmd_psubscribe(client *c, int argc, slice *argv) { subscribe_generic(c, argc, argv, KIND_PATTERN); }
void cmd_ssubscribe(client *c, int argc, slice *argv) {
    /* Redis refuses it to a client that expects one reply per command;
     * inside EXEC that is every client (SUBSCRIBE and PSUBSCRIBE are let
     * through there for backward compatibility, SSUBSCRIBE is not). */
    if (commands_nesting() > 1) {
        client_add_error(c, "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
        return;
    }
    subscribe_generic(c, argc, argv, KIND_SHARD);
}
void cmd_unsubscribe(client *c, int argc, slice *argv) { unsubscribe_generic(c, argc, argv, KIND_CHANNEL); }
void cmd_punsubscribe(client *c, int argc, slice *argv) { unsubscribe_generic(c, argc, argv, KIND_PATTERN); }
void cmd_sunsubscribe(client *c, int argc, slice *argv) { unsubscribe_generic(c, argc, argv, KIND_SHARD); }

void cmd_pubsub_release(client *c) {
    bool had = client_is_subscribed(c);
    pubsub_sub_release(cmd_env.ps, &c->subs);
    client_note_subscriptions(c, had);
}

/* ------------------------------------------------------------------------
 * Publishing
 * ------------------------------------------------------------------------ */

typedef struct publish_ctx {
    client *self;              /* the publisher: its own deliveries are deferred */
    const slice *channel;
    const slice *message;
    bool shard;
    frame *plain[2];           /* message/smessage frame for RESP2 and RESP3 */
    const char *pattern;       /* pattern of the pmessage frames below */
    frame *pat[2];
} publish_ctx;

/* Encodes [kind, (pattern,) channel, message] for one protocol. */
static frame *encode_message(const publish_ctx *p, const char *pattern, size_t plen, int proto) {
    const char *kind = pattern ? "pmessage" : (p->shard ? "smessage" : "message");
    buf b = {0};
    buf_reserve(&b, p->channel->len + p->message->len + plen + 64);
    resp_add_push_len(&b, pattern ? 4 : 3, proto);
    resp_add_bulk_str(&b, kind);
    if (pattern) resp_add_bulk(&b, pattern, plen);
    resp_add_bulk(&b, p->channel->ptr, p->channel->len);
    resp_add_bulk(&b, p->message->ptr, p->message->len);
    frame *f = frame_new(b.len);
    memcpy(f->data, b.data, b.len);
    buf_free(&b);
    return f;
}

static void deliver(void *ctx, void *owner, const char *pattern, size_t plen) {
    publish_ctx *p = ctx;
    client *c = owner;
    int form = c->resp == 3 ? 1 : 0;
    frame **slot;
    if (!pattern) {
        slot = &p->plain[form];
    } else {
        if (pattern != p->pattern) {
            frame_release(p->pat[0]);
            frame_release(p->pat[1]);
            p->pat[0] = p->pat[1] = NULL;
            p->pattern = pattern;
        }
        slot = &p->pat[form];
    }
    if (!*slot) *slot = encode_message(p, pattern, plen, form ? 3 : 2);
    if (c == p->self) client_defer_push(c, *slot);
    else client_add_frame(c, *slot);
}

long long cmd_pubsub_fanout(pubsub_kind kind, const char *pattern, size_t plen, const char *ch, size_t chlen,
                            const char *msg, size_t msglen) {
    slice channel = {ch, chlen}, message = {msg, msglen};
    publish_ctx p = {NULL, &channel, &message, kind == PUBSUB_SHARD, {NULL, NULL}, NULL, {NULL, NULL}};
    long long n = pattern ? pubsub_publish_pattern(cmd_env.ps, pattern, plen, deliver, &p)
                          : pubsub_publish_exact(cmd_env.ps, kind, ch, chlen, deliver, &p);
    for (int i = 0; i < 2; i++) {
        frame_release(p.plain[i]);
        frame_release(p.pat[i]);
    }
    return n;
}

/* Bytes of the bulk header "$<len>\r\n". */
static size_t bulk_header_len(size_t len) {
    size_t digits = 1;
    while (len >= 10) len /= 10, digits++;
    return digits + 3;
}

static long long publish_to(client *c, const slice *ch, const slice *msg, bool shard, history_id *id) {
    publish_ctx p = {c, ch, msg, shard, {NULL, NULL}, NULL, {NULL, NULL}};
    /* A channel with history keeps the RESP2 frame subscribers share: it
     * is built first so that the history retains the very same bytes. */
    history *h = !shard && history_enabled() ? history_for_publish(ch->ptr, ch->len) : NULL;
    if (h) p.plain[0] = encode_message(&p, NULL, 0, 2);
    long long n = pubsub_publish(cmd_env.ps, shard ? PUBSUB_SHARD : PUBSUB_CHANNEL, ch->ptr, ch->len, deliver, &p);
    if (h) {
        size_t off = p.plain[0]->len - msg->len - 2 - bulk_header_len(msg->len);
        history_id nid = history_append(h, p.plain[0], off, msg->len);
        if (id) *id = nid;
        cmd_history_wake(h);
    } else if (id) {
        id->ms = id->seq = 0;
    }
    for (int i = 0; i < 2; i++) {
        frame_release(p.plain[i]);
        frame_release(p.pat[i]);
    }
    messages_published++;
    return n;
}

long long cmd_pubsub_publish_local(client *c, const slice *ch, const slice *msg, history_id *id) {
    return publish_to(c, ch, msg, false, id);
}

static void publish_generic(client *c, slice *argv, bool shard) {
    if (upstream_is_relay()) {
        /* Relay mode: the upstream publishes, and its reply is ours; local
         * subscribers get the message when it comes back from upstream.
         * A relay keeps no history: the upstream does (history commands
         * are forwarded, cmd_history.c). */
        upstream_publish(c, shard, argv[1].ptr, argv[1].len, argv[2].ptr, argv[2].len);
        return;
    }
    long long n = publish_to(c, &argv[1], &argv[2], shard, NULL);
    resp_add_int(client_reply_buf(c), n);
    if (c->deferred_count && commands_nesting() < 2) client_flush_pushes(c);
}

void cmd_publish(client *c, int argc, slice *argv) {
    (void)argc;
    publish_generic(c, argv, false);
}

void cmd_spublish(client *c, int argc, slice *argv) {
    (void)argc;
    publish_generic(c, argv, true);
}

/* ------------------------------------------------------------------------
 * PUBSUB introspection
 * ------------------------------------------------------------------------ */

typedef struct list_ctx {
    const slice *pattern;      /* NULL: every name */
    buf names;                 /* encoded bulk strings */
    long long count;
} list_ctx;

static void collect_name(void *ctx, const char *name, size_t len) {
    list_ctx *l = ctx;
    if (l->pattern && !glob_match(l->pattern->ptr, l->pattern->len, name, len)) return;
    resp_add_bulk(&l->names, name, len);
    l->count++;
}

static void list_channels(client *c, int argc, slice *argv, pubsub_kind kind) {
    if (argc > 3) {
        commands_reply_subcommand_syntax(c, &argv[0], &argv[1]);
        return;
    }
    list_ctx l = {argc == 3 ? &argv[2] : NULL, {0}, 0};
    pubsub_channels_foreach(cmd_env.ps, kind, collect_name, &l);
    buf *b = client_reply_buf(c);
    resp_add_array_len(b, l.count);
    buf_append(b, l.names.data, l.names.len);
    buf_free(&l.names);
}

static void numsub(client *c, int argc, slice *argv, pubsub_kind kind) {
    /* A flat array in RESP3 too, as Redis 7.0 replies. */
    buf *b = client_reply_buf(c);
    resp_add_array_len(b, 2LL * (argc - 2));
    for (int i = 2; i < argc; i++) {
        resp_add_bulk(b, argv[i].ptr, argv[i].len);
        resp_add_int(b, (long long)pubsub_numsub(cmd_env.ps, kind, argv[i].ptr, argv[i].len));
    }
}

void cmd_pubsub_channels(client *c, int argc, slice *argv) { list_channels(c, argc, argv, PUBSUB_CHANNEL); }
void cmd_pubsub_shardchannels(client *c, int argc, slice *argv) { list_channels(c, argc, argv, PUBSUB_SHARD); }
void cmd_pubsub_numsub(client *c, int argc, slice *argv) { numsub(c, argc, argv, PUBSUB_CHANNEL); }
void cmd_pubsub_shardnumsub(client *c, int argc, slice *argv) { numsub(c, argc, argv, PUBSUB_SHARD); }

void cmd_pubsub_numpat(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    resp_add_int(client_reply_buf(c), (long long)pubsub_pattern_count(cmd_env.ps));
}

void cmd_pubsub_help(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    static const char *const lines[] = {
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        NULL,
    };
    commands_reply_help(c, "PUBSUB", lines);
}
