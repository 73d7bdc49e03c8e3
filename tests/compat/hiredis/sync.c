/* sync.c -- hiredis synchronous API against a pub/sub server (RESP2).
 *
 * Usage: hiredis-sync HOST PORT. Prints "# version: ..." and one line per
 * check (see compat.h); exits 1 if any check failed. Every channel name starts
 * with a per-process tag, so the checks never see each other's traffic, and
 * every context has a read timeout, so a missing reply fails a check instead
 * of hanging it. This file holds the core of SUBSCRIBE/PUBLISH; the PUBSUB
 * family, glob and CLIENT KILL live in sync_pubsub.c, RESP3 in sync_resp3.c. */
#include "sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALLOWED_IN_CONTEXT \
    "only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"

int sync_subscribe(redisContext *c, const char *ch, int count)
{
    redisReply *r;

    TRY(r = compat_cmd(c, "SUBSCRIBE %s", ch));
    return compat_expectf(r, "SUBSCRIBE reply", "[\"subscribe\",%s,%d]", compat_q(ch), count);
}

/* SUBSCRIBE, then messages read one by one with redisGetReply. */
static int t_subscribe_getreply(void)
{
    redisContext *sub, *pub;
    redisReply *r;
    char ch[128], what[64];
    int i;

    TRY(sub = compat_connect());
    TRY(pub = compat_connect());
    compat_name(ch, sizeof(ch), "basic");
    if (sync_subscribe(sub, ch, 1) != 0)
        return -1;
    for (i = 0; i < 3; i++) {
        TRY(r = compat_cmd(pub, "PUBLISH %s m%d", ch, i));
        EXPECT(r, "1", "PUBLISH count");
    }
    for (i = 0; i < 3; i++) {
        snprintf(what, sizeof(what), "message %d", i);
        TRY(r = compat_get(sub));
        EXPECTF(r, what, "[\"message\",%s,\"m%d\"]", compat_q(ch), i);
    }
    return 0;
}

/* A command outside the subscribed-context set gets Redis's exact error. */
static int refused_in_context(const char *cmd, const char *name)
{
    redisContext *sub;
    redisReply *r;
    char ch[128];

    TRY(sub = compat_connect());
    compat_name(ch, sizeof(ch), "ctx");
    if (sync_subscribe(sub, ch, 1) != 0)
        return -1;
    TRY(r = compat_cmd(sub, cmd));
    EXPECTF(r, cmd, "-ERR Can't execute '%s': " ALLOWED_IN_CONTEXT, name);
    /* The connection is still subscribed and usable. */
    TRY(r = compat_cmd(sub, "PING"));
    EXPECT(r, "[\"pong\",\"\"]", "PING after the error");
    return 0;
}

static int t_subscribed_get(void) { return refused_in_context("GET x", "get"); }
static int t_subscribed_set(void) { return refused_in_context("SET x y", "set"); }
static int t_subscribed_publish(void) { return refused_in_context("PUBLISH x y", "publish"); }
static int t_subscribed_client_id(void) { return refused_in_context("CLIENT ID", "client|id"); }

static int t_subscribed_unknown_command(void)
{
    redisContext *sub;
    redisReply *r;
    char ch[128];

    TRY(sub = compat_connect());
    compat_name(ch, sizeof(ch), "ctx");
    if (sync_subscribe(sub, ch, 1) != 0)
        return -1;
    TRY(r = compat_cmd(sub, "NOSUCHCMD a"));
    EXPECT(r, "-ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' ", "NOSUCHCMD");
    return 0;
}

static int t_subscribed_ping(void)
{
    redisContext *sub, *pub;
    redisReply *r;
    char ch[128];

    TRY(sub = compat_connect());
    TRY(pub = compat_connect());
    compat_name(ch, sizeof(ch), "ping");
    if (sync_subscribe(sub, ch, 1) != 0)
        return -1;
    TRY(r = compat_cmd(sub, "PING"));
    EXPECT(r, "[\"pong\",\"\"]", "PING");
    TRY(r = compat_cmd(sub, "PING %s", "hi there"));
    EXPECT(r, "[\"pong\",\"hi there\"]", "PING hi there");
    /* A message published before the PING arrives before the pong. */
    TRY(r = compat_cmd(pub, "PUBLISH %s before", ch));
    EXPECT(r, "1", "PUBLISH count");
    TRY(r = compat_cmd(sub, "PING"));
    EXPECTF(r, "reply after PUBLISH+PING", "[\"message\",%s,\"before\"]", compat_q(ch));
    TRY(r = compat_get(sub));
    EXPECT(r, "[\"pong\",\"\"]", "pong after the message");
    return 0;
}

/* RESET and UNSUBSCRIBE of everything leave subscribed mode. */
static int t_leave_subscribed_mode(void)
{
    redisContext *c;
    redisReply *r;
    char ch[128];

    TRY(c = compat_connect());
    compat_name(ch, sizeof(ch), "leave");
    if (sync_subscribe(c, ch, 1) != 0)
        return -1;
    TRY(r = compat_cmd(c, "UNSUBSCRIBE"));
    EXPECTF(r, "UNSUBSCRIBE", "[\"unsubscribe\",%s,0]", compat_q(ch));
    TRY(r = compat_cmd(c, "PING"));
    EXPECT(r, "+PONG", "PING after unsubscribing");
    TRY(r = compat_cmd(c, "UNSUBSCRIBE"));
    EXPECT(r, "[\"unsubscribe\",nil,0]", "UNSUBSCRIBE with nothing subscribed");
    TRY(r = compat_cmd(c, "PUNSUBSCRIBE"));
    EXPECT(r, "[\"punsubscribe\",nil,0]", "PUNSUBSCRIBE with nothing subscribed");
    if (sync_subscribe(c, ch, 1) != 0)
        return -1;
    TRY(r = compat_cmd(c, "RESET"));
    EXPECT(r, "+RESET", "RESET");
    TRY(r = compat_cmd(c, "PING"));
    EXPECT(r, "+PONG", "PING after RESET");
    TRY(r = compat_cmd(c, "PUBSUB NUMSUB %s", ch));
    EXPECTF(r, "NUMSUB after RESET", "[%s,0]", compat_q(ch));
    return 0;
}

static int t_quit_while_subscribed(void)
{
    redisContext *c;
    redisReply *r;
    char ch[128];
    void *none = NULL;

    TRY(c = compat_connect());
    compat_name(ch, sizeof(ch), "quit");
    if (sync_subscribe(c, ch, 1) != 0)
        return -1;
    TRY(r = compat_cmd(c, "QUIT"));
    EXPECT(r, "+OK", "QUIT");
    if (redisGetReply(c, &none) == REDIS_OK) {
        compat_keep(none);
        FAIL("the connection is still open after QUIT");
    }
    REQUIRE(c->err == REDIS_ERR_EOF, "after QUIT: error %d %s, expected EOF", c->err, c->errstr);
    return 0;
}

/* 1000 PUBLISH appended, then 1000 replies read; one channel has a subscriber
 * and a pattern subscriber (count 2), the other only the pattern (count 1). */
static int t_pipelined_publish(void)
{
    redisContext *sub, *psub, *pub;
    redisReply *r;
    char a[128], b[128], pat[128], what[64];
    int i, n = 1000;

    TRY(sub = compat_connect());
    TRY(psub = compat_connect());
    TRY(pub = compat_connect());
    compat_name(a, sizeof(a), "pipe-a");
    compat_name(b, sizeof(b), "pipe-b");
    compat_name(pat, sizeof(pat), "pipe-*");
    if (sync_subscribe(sub, a, 1) != 0)
        return -1;
    TRY(r = compat_cmd(psub, "PSUBSCRIBE %s", pat));
    EXPECTF(r, "PSUBSCRIBE", "[\"psubscribe\",%s,1]", compat_q(pat));
    for (i = 0; i < n; i++)
        if (redisAppendCommand(pub, "PUBLISH %s %d", i % 2 ? b : a, i) != REDIS_OK)
            FAIL("redisAppendCommand %d: %s", i, pub->errstr);
    for (i = 0; i < n; i++) {
        snprintf(what, sizeof(what), "reply %d", i);
        TRY(r = compat_get(pub));
        EXPECTF(r, what, "%d", i % 2 ? 1 : 2);
    }
    for (i = 0; i < n; i += 2) {
        snprintf(what, sizeof(what), "message %d", i);
        TRY(r = compat_get(sub));
        EXPECTF(r, what, "[\"message\",%s,\"%d\"]", compat_q(a), i);
    }
    for (i = 0; i < n; i++) {
        snprintf(what, sizeof(what), "pmessage %d", i);
        TRY(r = compat_get(psub));
        EXPECTF(r, what, "[\"pmessage\",%s,%s,\"%d\"]", compat_q(pat), compat_q(i % 2 ? b : a), i);
    }
    return 0;
}

/* One SUBSCRIBE with 1000 channels: 1000 confirmations counting up; then a
 * bare UNSUBSCRIBE: 1000 confirmations counting down, every channel once. */
static int t_subscribe_1000(void)
{
    enum { N = 1000 };
    static char names[N][160];
    static const char *argv[N + 1];
    static char seen[N];
    redisContext *c, *other;
    redisReply *r;
    char prefix[128];
    size_t plen;
    int i;

    TRY(c = compat_connect());
    TRY(other = compat_connect());
    compat_name(prefix, sizeof(prefix), "many-");
    plen = strlen(prefix);
    argv[0] = "SUBSCRIBE";
    for (i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "%s%d", prefix, i);
        argv[i + 1] = names[i];
    }
    TRY(r = compat_cmd_argv(c, N + 1, argv, NULL));
    for (i = 0; i < N; i++) {
        char what[64];
        if (i > 0)
            TRY(r = compat_get(c));
        snprintf(what, sizeof(what), "confirmation %d", i);
        EXPECTF(r, what, "[\"subscribe\",%s,%d]", compat_q(names[i]), i + 1);
    }
    TRY(r = compat_cmd(other, "PUBSUB NUMSUB %s %s", names[0], names[N - 1]));
    EXPECTF(r, "NUMSUB", "[%s,1,%s,1]", compat_q(names[0]), compat_q(names[N - 1]));
    TRY(r = compat_cmd(other, "PUBLISH %s x", names[500]));
    EXPECT(r, "1", "PUBLISH to channel 500");
    TRY(r = compat_get(c));
    EXPECTF(r, "message", "[\"message\",%s,\"x\"]", compat_q(names[500]));

    memset(seen, 0, sizeof(seen));
    TRY(r = compat_cmd(c, "UNSUBSCRIBE"));
    for (i = 0; i < N; i++) {
        const redisReply *e;
        int idx;
        if (i > 0)
            TRY(r = compat_get(c));
        REQUIRE(r->type == REDIS_REPLY_ARRAY && r->elements == 3, "unsubscribe reply %d is not a 3-array", i);
        e = r->element[1];
        REQUIRE(strcmp(r->element[0]->str, "unsubscribe") == 0, "reply %d: %s", i, r->element[0]->str);
        REQUIRE(e->type == REDIS_REPLY_STRING && e->len > plen && strncmp(e->str, prefix, plen) == 0,
                "reply %d names an unexpected channel", i);
        idx = atoi(e->str + plen);
        REQUIRE(idx >= 0 && idx < N && !seen[idx], "reply %d: channel %s repeated or unknown", i, e->str);
        seen[idx] = 1;
        REQUIRE(r->element[2]->type == REDIS_REPLY_INTEGER && r->element[2]->integer == N - 1 - i,
                "reply %d: count %lld, expected %d", i, r->element[2]->integer, N - 1 - i);
    }
    TRY(r = compat_cmd(c, "PING"));
    EXPECT(r, "+PONG", "PING after unsubscribing all");
    TRY(r = compat_cmd(other, "PUBSUB NUMSUB %s", names[7]));
    EXPECTF(r, "NUMSUB after", "[%s,0]", compat_q(names[7]));
    return 0;
}

static int t_psubscribe_pmessage(void)
{
    redisContext *sub, *pub;
    redisReply *r;
    char pat[128], ch[128];

    TRY(sub = compat_connect());
    TRY(pub = compat_connect());
    compat_name(pat, sizeof(pat), "ps.*");
    compat_name(ch, sizeof(ch), "ps.news");
    TRY(r = compat_cmd(sub, "PSUBSCRIBE %s", pat));
    EXPECTF(r, "PSUBSCRIBE", "[\"psubscribe\",%s,1]", compat_q(pat));
    TRY(r = compat_cmd(pub, "PUBLISH %s hello", ch));
    EXPECT(r, "1", "PUBLISH count");
    TRY(r = compat_get(sub));
    EXPECTF(r, "pmessage", "[\"pmessage\",%s,%s,\"hello\"]", compat_q(pat), compat_q(ch));
    TRY(r = compat_cmd(sub, "PUNSUBSCRIBE %s", pat));
    EXPECTF(r, "PUNSUBSCRIBE", "[\"punsubscribe\",%s,0]", compat_q(pat));
    TRY(r = compat_cmd(pub, "PUBLISH %s again", ch));
    EXPECT(r, "0", "PUBLISH after PUNSUBSCRIBE");
    return 0;
}

/* Publishes PAYLOAD on a channel named CH (both binary) and requires the
 * subscriber to receive exactly those bytes. */
static int roundtrip(const char *ch, size_t ch_len, const char *payload, size_t len)
{
    redisContext *sub, *pub;
    redisReply *r;

    TRY(sub = compat_connect());
    TRY(pub = compat_connect());
    TRY(r = compat_cmd(sub, "SUBSCRIBE %b", ch, ch_len));
    REQUIRE(r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[1]->len == ch_len &&
            memcmp(r->element[1]->str, ch, ch_len) == 0, "SUBSCRIBE confirmation differs");
    TRY(r = compat_cmd(pub, "PUBLISH %b %b", ch, ch_len, payload, len));
    EXPECT(r, "1", "PUBLISH count");
    TRY(r = compat_get(sub));
    REQUIRE(r->type == REDIS_REPLY_ARRAY && r->elements == 3, "message is not a 3-array");
    REQUIRE(strcmp(r->element[0]->str, "message") == 0, "kind %s", r->element[0]->str);
    REQUIRE(r->element[1]->len == ch_len && memcmp(r->element[1]->str, ch, ch_len) == 0,
            "channel name bytes differ");
    REQUIRE(r->element[2]->type == REDIS_REPLY_STRING, "payload type %d", r->element[2]->type);
    REQUIRE(r->element[2]->len == len, "payload length %zu, expected %zu", r->element[2]->len, len);
    REQUIRE(len == 0 || memcmp(r->element[2]->str, payload, len) == 0, "payload bytes differ");
    return 0;
}

static int t_binary_all_bytes(void)
{
    char payload[256], ch[160];
    size_t n;
    int i;

    for (i = 0; i < 256; i++)
        payload[i] = (char)i;
    /* The channel name itself carries NUL, CR, LF and high bytes. */
    n = strlen(compat_name(ch, sizeof(ch), "bin"));
    memcpy(ch + n, "\0\r\n\xff\x80 *?", 9);
    return roundtrip(ch, n + 9, payload, sizeof(payload));
}

static int t_empty_payload(void)
{
    char ch[128];

    compat_name(ch, sizeof(ch), "empty");
    return roundtrip(ch, strlen(ch), "", 0);
}

static int t_payload_1mib(void)
{
    size_t i, len = 1024 * 1024;
    char ch[128], *p = malloc(len);
    int rc;

    if (p == NULL)
        FAIL("malloc");
    for (i = 0; i < len; i++)
        p[i] = (char)((i * 7 + i / 251) & 0xff);
    compat_name(ch, sizeof(ch), "big");
    rc = roundtrip(ch, strlen(ch), p, len);
    free(p);
    return rc;
}

static int t_utf8_names(void)
{
    redisContext *sub, *psub, *pub, *q;
    redisReply *r;
    char ch[160], pat[160], one[160], two[160];

    TRY(sub = compat_connect());
    TRY(psub = compat_connect());
    TRY(pub = compat_connect());
    TRY(q = compat_connect());
    compat_name(ch, sizeof(ch), "κανάλι-频道-🚀");
    compat_name(pat, sizeof(pat), "κανάλι-*");
    if (sync_subscribe(sub, ch, 1) != 0)
        return -1;
    TRY(r = compat_cmd(psub, "PSUBSCRIBE %s", pat));
    EXPECTF(r, "PSUBSCRIBE", "[\"psubscribe\",%s,1]", compat_q(pat));
    TRY(r = compat_cmd(pub, "PUBLISH %s %s", ch, "héllo wörld ✓"));
    EXPECT(r, "2", "PUBLISH count");
    TRY(r = compat_get(sub));
    EXPECTF(r, "message", "[\"message\",%s,%s]", compat_q(ch), compat_q("héllo wörld ✓"));
    TRY(r = compat_get(psub));
    EXPECTF(r, "pmessage", "[\"pmessage\",%s,%s,%s]", compat_q(pat), compat_q(ch),
            compat_q("héllo wörld ✓"));
    TRY(r = compat_cmd(q, "PUBSUB CHANNELS %s", pat));
    EXPECTF(r, "PUBSUB CHANNELS", "[%s]", compat_q(ch));
    /* Glob '?' matches one byte, not one character: é is two bytes. */
    compat_name(one, sizeof(one), "u?");
    compat_name(two, sizeof(two), "u??");
    TRY(r = compat_cmd(psub, "PSUBSCRIBE %s %s", one, two));
    TRY(r = compat_get(psub));
    TRY(r = compat_cmd(pub, "PUBLISH %s-ué x", compat_tag));
    EXPECT(r, "1", "PUBLISH to u+e-acute (matches u?? only)");
    TRY(r = compat_get(psub));
    EXPECTF(r, "pmessage for u??", "[\"pmessage\",%s,\"%s-u\\xc3\\xa9\",\"x\"]", compat_q(two), compat_tag);
    return 0;
}

/* 2000 messages published alternately on two channels arrive in publish order. */
static int t_ordering_2000(void)
{
    redisContext *sub, *pub;
    redisReply *r;
    char a[128], b[128], what[64];
    int i, n = 2000;

    TRY(sub = compat_connect());
    TRY(pub = compat_connect());
    compat_name(a, sizeof(a), "order-a");
    compat_name(b, sizeof(b), "order-b");
    TRY(r = compat_cmd(sub, "SUBSCRIBE %s %s", a, b));
    TRY(r = compat_get(sub));
    EXPECTF(r, "second confirmation", "[\"subscribe\",%s,2]", compat_q(b));
    for (i = 0; i < n; i++)
        if (redisAppendCommand(pub, "PUBLISH %s %d", i % 3 ? a : b, i) != REDIS_OK)
            FAIL("redisAppendCommand: %s", pub->errstr);
    for (i = 0; i < n; i++) {
        TRY(r = compat_get(pub));
        if (r->type != REDIS_REPLY_INTEGER || r->integer != 1)
            return compat_expect(r, "1", "PUBLISH count");
    }
    for (i = 0; i < n; i++) {
        snprintf(what, sizeof(what), "message %d", i);
        TRY(r = compat_get(sub));
        EXPECTF(r, what, "[\"message\",%s,\"%d\"]", compat_q(i % 3 ? a : b), i);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */

static const struct {
    const char *name;
    compat_check_fn *fn;
} checks[] = {
    { "sync-subscribe-getreply", t_subscribe_getreply },
    { "sync-subscribed-get-refused", t_subscribed_get },
    { "sync-subscribed-set-refused", t_subscribed_set },
    { "sync-subscribed-publish-refused", t_subscribed_publish },
    { "sync-subscribed-client-id-refused", t_subscribed_client_id },
    { "sync-subscribed-unknown-command", t_subscribed_unknown_command },
    { "sync-subscribed-ping", t_subscribed_ping },
    { "sync-leave-subscribed-mode", t_leave_subscribed_mode },
    { "sync-quit-while-subscribed", t_quit_while_subscribed },
    { "sync-pipelined-publish-1000", t_pipelined_publish },
    { "sync-subscribe-1000-channels", t_subscribe_1000 },
    { "sync-psubscribe-pmessage", t_psubscribe_pmessage },
    { "sync-binary-all-256-bytes", t_binary_all_bytes },
    { "sync-empty-payload", t_empty_payload },
    { "sync-payload-1mib", t_payload_1mib },
    { "sync-utf8-channel-names", t_utf8_names },
    { "sync-ordering-2000", t_ordering_2000 },
    { "sync-pubsub-introspection", t_pubsub_introspection },
    { "sync-shard-channels", t_shard_channels },
    { "sync-channel-and-pattern-count-twice", t_channel_and_pattern_count_twice },
    { "sync-two-patterns-count-twice", t_two_patterns_count_twice },
    { "sync-glob-table", t_glob_table },
    { "sync-client-kill-id-reconnect", t_client_kill_id_reconnect },
    { "sync-client-kill-addr-reconnect", t_client_kill_addr_reconnect },
    { "resp3-raw-hello", t_resp3_raw_hello },
    { "resp3-raw-push-frames", t_resp3_raw_push_frames },
    { "resp3-raw-shard-and-unsubscribe", t_resp3_raw_shard_and_unsubscribe },
#if HIREDIS_MAJOR >= 1
    { "resp3-push-callback", t_resp3_push_callback },
#endif
};

int main(int argc, char **argv)
{
    size_t i;

    compat_init(argc, argv);
    printf("# version: hiredis %d.%d.%d %s\n", HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH,
           resp3_parsed_by_hiredis() ? "RESP2,RESP3" : "RESP2 (RESP3 checked on raw bytes)");
    for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
        compat_run(checks[i].name, checks[i].fn);
    return compat_failures() ? 1 : 0;
}
