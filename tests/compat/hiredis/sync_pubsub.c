/* sync_pubsub.c -- PUBSUB introspection, shard channels, PUBLISH counts, the
 * glob table and CLIENT KILL, through the hiredis synchronous API.
 *
 * Orders the server does not define (PUBSUB CHANNELS, several patterns
 * matching one message) are compared as sorted sets; everything else is
 * compared reply by reply. */
#include "sync.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Requires R to be an array of strings equal, as a set, to the NULL-ended
 * list WANT. */
static int expect_set(const redisReply *r, const char **want, const char *what)
{
    const char *got[64];
    size_t i, n = 0;

    while (want[n])
        n++;
    REQUIRE(r->type == REDIS_REPLY_ARRAY, "%s: not an array (type %d)", what, r->type);
    REQUIRE(r->elements == n, "%s: %zu elements, expected %zu", what, r->elements, n);
    for (i = 0; i < n; i++) {
        REQUIRE(r->element[i]->type == REDIS_REPLY_STRING, "%s: element %zu is not a string", what, i);
        got[i] = r->element[i]->str;
    }
    qsort(got, n, sizeof(got[0]), cmp_str);
    for (i = 0; i < n; i++) {
        const char *w[64];
        memcpy(w, want, n * sizeof(w[0]));
        qsort(w, n, sizeof(w[0]), cmp_str);
        REQUIRE(strcmp(got[i], w[i]) == 0, "%s: got %s where %s was expected", what, got[i], w[i]);
    }
    return 0;
}

static int expect_confirm(redisContext *c, const char *kind, const char *name, int count)
{
    redisReply *r;

    TRY(r = compat_get(c));
    return compat_expectf(r, kind, "[\"%s\",%s,%d]", kind, compat_q(name), count);
}

static int introspection_after_leaving(redisContext *s2, redisContext *s3, redisContext *s5,
                                       redisContext *q, long long numpat0);

int t_pubsub_introspection(void)
{
    redisContext *s1, *s2, *s3, *s4, *s5, *q;
    redisReply *r;
    char a[128], b[128], p1[128], p2[128], sa[128], sb[128], none[128], glob[128];
    long long numpat0;

    TRY(s1 = compat_connect());
    TRY(s2 = compat_connect());
    TRY(s3 = compat_connect());
    TRY(s4 = compat_connect());
    TRY(s5 = compat_connect());
    TRY(q = compat_connect());
    compat_name(a, sizeof(a), "intro-a");
    compat_name(b, sizeof(b), "intro-b");
    compat_name(p1, sizeof(p1), "intro-p1*");
    compat_name(p2, sizeof(p2), "intro-p2*");
    compat_name(sa, sizeof(sa), "intro-sa");
    compat_name(sb, sizeof(sb), "intro-sb");
    compat_name(none, sizeof(none), "intro-none");
    compat_name(glob, sizeof(glob), "intro-*");

    TRY(r = compat_cmd(q, "PUBSUB NUMPAT"));
    REQUIRE(r->type == REDIS_REPLY_INTEGER, "NUMPAT is not an integer");
    numpat0 = r->integer;
    if (redisAppendCommand(s1, "SUBSCRIBE %s %s", a, b) != REDIS_OK ||
        expect_confirm(s1, "subscribe", a, 1) || expect_confirm(s1, "subscribe", b, 2))
        return -1;
    if (sync_subscribe(s2, a, 1) != 0)
        return -1;
    if (redisAppendCommand(s3, "PSUBSCRIBE %s %s", p1, p2) != REDIS_OK ||
        expect_confirm(s3, "psubscribe", p1, 1) || expect_confirm(s3, "psubscribe", p2, 2))
        return -1;
    if (redisAppendCommand(s4, "SSUBSCRIBE %s %s", sa, sb) != REDIS_OK ||
        expect_confirm(s4, "ssubscribe", sa, 1) || expect_confirm(s4, "ssubscribe", sb, 2))
        return -1;
    if (redisAppendCommand(s5, "SSUBSCRIBE %s", sa) != REDIS_OK ||
        expect_confirm(s5, "ssubscribe", sa, 1))
        return -1;

    TRY(r = compat_cmd(q, "PUBSUB CHANNELS %s", glob));
    if (expect_set(r, (const char *[]){ a, b, NULL }, "PUBSUB CHANNELS pattern") != 0)
        return -1;
    TRY(r = compat_cmd(q, "PUBSUB NUMSUB %s %s %s", a, b, none));
    EXPECTF(r, "PUBSUB NUMSUB", "[%s,2,%s,1,%s,0]", compat_q(a), compat_q(b), compat_q(none));
    TRY(r = compat_cmd(q, "PUBSUB NUMSUB"));
    EXPECT(r, "[]", "PUBSUB NUMSUB without channels");
    TRY(r = compat_cmd(q, "PUBSUB NUMPAT"));
    EXPECTF(r, "PUBSUB NUMPAT", "%lld", numpat0 + 2);
    TRY(r = compat_cmd(q, "PUBSUB SHARDCHANNELS %s", glob));
    if (expect_set(r, (const char *[]){ sa, sb, NULL }, "PUBSUB SHARDCHANNELS pattern") != 0)
        return -1;
    TRY(r = compat_cmd(q, "PUBSUB SHARDNUMSUB %s %s %s", sa, sb, a));
    EXPECTF(r, "PUBSUB SHARDNUMSUB", "[%s,2,%s,1,%s,0]", compat_q(sa), compat_q(sb), compat_q(a));
    TRY(r = compat_cmd(q, "PUBSUB NUMSUB %s", sa));
    EXPECTF(r, "NUMSUB of a shard channel", "[%s,0]", compat_q(sa));

    /* Unfiltered CHANNELS lists ours among whatever else exists. */
    TRY(r = compat_cmd(q, "PUBSUB CHANNELS"));
    {
        size_t i;
        int found = 0;
        REQUIRE(r->type == REDIS_REPLY_ARRAY, "PUBSUB CHANNELS is not an array");
        for (i = 0; i < r->elements; i++)
            found += strcmp(r->element[i]->str, a) == 0 || strcmp(r->element[i]->str, b) == 0;
        REQUIRE(found == 2, "PUBSUB CHANNELS without pattern lists %d of our 2 channels", found);
    }

    return introspection_after_leaving(s2, s3, s5, q, numpat0);
}

/* Second half of t_pubsub_introspection: the counts go down again. */
static int introspection_after_leaving(redisContext *s2, redisContext *s3, redisContext *s5,
                                       redisContext *q, long long numpat0)
{
    redisReply *r;
    char a[128], p1[128], sa[128];

    compat_name(a, sizeof(a), "intro-a");
    compat_name(p1, sizeof(p1), "intro-p1*");
    compat_name(sa, sizeof(sa), "intro-sa");
    TRY(r = compat_cmd(s2, "UNSUBSCRIBE %s", a));
    EXPECTF(r, "UNSUBSCRIBE", "[\"unsubscribe\",%s,0]", compat_q(a));
    TRY(r = compat_cmd(s3, "PUNSUBSCRIBE %s", p1));
    EXPECTF(r, "PUNSUBSCRIBE", "[\"punsubscribe\",%s,1]", compat_q(p1));
    TRY(r = compat_cmd(s5, "SUNSUBSCRIBE"));
    EXPECTF(r, "SUNSUBSCRIBE", "[\"sunsubscribe\",%s,0]", compat_q(sa));
    TRY(r = compat_cmd(q, "PUBSUB NUMSUB %s", a));
    EXPECTF(r, "NUMSUB after UNSUBSCRIBE", "[%s,1]", compat_q(a));
    TRY(r = compat_cmd(q, "PUBSUB NUMPAT"));
    EXPECTF(r, "NUMPAT after PUNSUBSCRIBE", "%lld", numpat0 + 1);
    TRY(r = compat_cmd(q, "PUBSUB SHARDNUMSUB %s", sa));
    EXPECTF(r, "SHARDNUMSUB after SUNSUBSCRIBE", "[%s,1]", compat_q(sa));

    TRY(r = compat_cmd(q, "PUBSUB HELP"));
    REQUIRE(r->type == REDIS_REPLY_ARRAY && r->elements == 14, "PUBSUB HELP: not 14 lines");
    if (compat_expect_str(r->element[0], "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                          "PUBSUB HELP first line") != 0 ||
        compat_expect_str(r->element[13], "    Prints this help.", "PUBSUB HELP last line") != 0)
        return -1;
    TRY(r = compat_cmd(q, "PUBSUB NOSUCH"));
    EXPECT(r, "-ERR unknown subcommand 'NOSUCH'. Try PUBSUB HELP.", "PUBSUB NOSUCH");
    return 0;
}

int t_shard_channels(void)
{
    redisContext *sub, *pub;
    redisReply *r;
    char ch[128], none[128];

    TRY(sub = compat_connect());
    TRY(pub = compat_connect());
    compat_name(ch, sizeof(ch), "shard");
    compat_name(none, sizeof(none), "shard-none");
    TRY(r = compat_cmd(sub, "SSUBSCRIBE %s", ch));
    EXPECTF(r, "SSUBSCRIBE", "[\"ssubscribe\",%s,1]", compat_q(ch));
    TRY(r = compat_cmd(pub, "SPUBLISH %s hi", ch));
    EXPECT(r, "1", "SPUBLISH count");
    TRY(r = compat_get(sub));
    EXPECTF(r, "smessage", "[\"smessage\",%s,\"hi\"]", compat_q(ch));
    /* PUBLISH does not reach shard subscribers: separate namespaces. */
    TRY(r = compat_cmd(pub, "PUBLISH %s x", ch));
    EXPECT(r, "0", "PUBLISH to a shard channel name");
    TRY(r = compat_cmd(pub, "SPUBLISH %s x", none));
    EXPECT(r, "0", "SPUBLISH without subscribers");
    TRY(r = compat_cmd(sub, "PING"));
    EXPECT(r, "[\"pong\",\"\"]", "PING (no stray message before it)");
    TRY(r = compat_cmd(sub, "SUNSUBSCRIBE %s", ch));
    EXPECTF(r, "SUNSUBSCRIBE", "[\"sunsubscribe\",%s,0]", compat_q(ch));
    TRY(r = compat_cmd(sub, "PING"));
    EXPECT(r, "+PONG", "PING after SUNSUBSCRIBE");
    return 0;
}

/* One client subscribed to a channel and to a pattern matching it counts
 * twice, and receives the message then the pmessage. */
int t_channel_and_pattern_count_twice(void)
{
    redisContext *c, *pub;
    redisReply *r;
    char ch[128], pat[128];

    TRY(c = compat_connect());
    TRY(pub = compat_connect());
    compat_name(ch, sizeof(ch), "twice");
    compat_name(pat, sizeof(pat), "twi*");
    if (sync_subscribe(c, ch, 1) != 0)
        return -1;
    TRY(r = compat_cmd(c, "PSUBSCRIBE %s", pat));
    EXPECTF(r, "PSUBSCRIBE", "[\"psubscribe\",%s,2]", compat_q(pat));
    TRY(r = compat_cmd(pub, "PUBLISH %s x", ch));
    EXPECT(r, "2", "PUBLISH count");
    TRY(r = compat_get(c));
    EXPECTF(r, "first delivery", "[\"message\",%s,\"x\"]", compat_q(ch));
    TRY(r = compat_get(c));
    EXPECTF(r, "second delivery", "[\"pmessage\",%s,%s,\"x\"]", compat_q(pat), compat_q(ch));
    return 0;
}

/* Two patterns of one client matching a channel: two pmessages (any order). */
int t_two_patterns_count_twice(void)
{
    redisContext *c, *pub;
    redisReply *r, *m1, *m2;
    char ch[128], p1[128], p2[128];

    TRY(c = compat_connect());
    TRY(pub = compat_connect());
    compat_name(ch, sizeof(ch), "tp-hello");
    compat_name(p1, sizeof(p1), "tp-h?llo");
    compat_name(p2, sizeof(p2), "tp-h*llo");
    if (redisAppendCommand(c, "PSUBSCRIBE %s %s", p1, p2) != REDIS_OK ||
        expect_confirm(c, "psubscribe", p1, 1) || expect_confirm(c, "psubscribe", p2, 2))
        return -1;
    TRY(r = compat_cmd(pub, "PUBLISH %s x", ch));
    EXPECT(r, "2", "PUBLISH count");
    TRY(m1 = compat_get(c));
    TRY(m2 = compat_get(c));
    if (m1->type == REDIS_REPLY_ARRAY && m1->elements == 4 && strcmp(m1->element[1]->str, p2) == 0) {
        r = m1;
        m1 = m2;
        m2 = r;
    }
    EXPECTF(m1, "pmessage for h?llo", "[\"pmessage\",%s,%s,\"x\"]", compat_q(p1), compat_q(ch));
    EXPECTF(m2, "pmessage for h*llo", "[\"pmessage\",%s,%s,\"x\"]", compat_q(p2), compat_q(ch));
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The glob table: one subscriber per pattern, every channel published once. */

#define GLOB_PATTERNS 5
#define GLOB_CHANNELS 6

static const char *glob_patterns[GLOB_PATTERNS] = {
    "h?llo", "h*llo", "h[a-c]llo", "h[^e]llo", "h\\*llo",
};
static const char *glob_channels[GLOB_CHANNELS] = {
    "hello", "hallo", "hxllo", "heello", "hllo", "h*llo",
};
/* glob_match[p][c]: does pattern p match channel c (Redis semantics). */
static const char glob_match[GLOB_PATTERNS][GLOB_CHANNELS] = {
    { 1, 1, 1, 0, 0, 1 },       /* h?llo: exactly one byte, '*' included */
    { 1, 1, 1, 1, 1, 1 },       /* h*llo: any run, the empty one included */
    { 0, 1, 0, 0, 0, 0 },       /* h[a-c]llo */
    { 0, 1, 1, 0, 0, 1 },       /* h[^e]llo: one byte other than e */
    { 0, 0, 0, 0, 0, 1 },       /* h\*llo: a literal star */
};

int t_glob_table(void)
{
    redisContext *subs[GLOB_PATTERNS], *pub;
    redisReply *r;
    char pat[GLOB_PATTERNS][128], ch[GLOB_CHANNELS][128], what[160];
    int p, c;

    TRY(pub = compat_connect());
    for (c = 0; c < GLOB_CHANNELS; c++)
        snprintf(ch[c], sizeof(ch[c]), "%s-g:%s", compat_tag, glob_channels[c]);
    for (p = 0; p < GLOB_PATTERNS; p++) {
        snprintf(pat[p], sizeof(pat[p]), "%s-g:%s", compat_tag, glob_patterns[p]);
        TRY(subs[p] = compat_connect());
        TRY(r = compat_cmd(subs[p], "PSUBSCRIBE %s", pat[p]));
        EXPECTF(r, "PSUBSCRIBE", "[\"psubscribe\",%s,1]", compat_q(pat[p]));
    }
    for (c = 0; c < GLOB_CHANNELS; c++) {
        int want = 0;
        for (p = 0; p < GLOB_PATTERNS; p++)
            want += glob_match[p][c];
        snprintf(what, sizeof(what), "PUBLISH %s count", glob_channels[c]);
        TRY(r = compat_cmd(pub, "PUBLISH %s %d", ch[c], c));
        EXPECTF(r, what, "%d", want);
    }
    /* Each subscriber: the matching pmessages in publish order, then the
     * pong of a PING sent after all publishing, and nothing else. */
    for (p = 0; p < GLOB_PATTERNS; p++) {
        TRY(r = compat_cmd(subs[p], "PING"));
        for (c = 0; c < GLOB_CHANNELS; c++) {
            if (!glob_match[p][c])
                continue;
            snprintf(what, sizeof(what), "pattern %s, channel %s", glob_patterns[p], glob_channels[c]);
            EXPECTF(r, what, "[\"pmessage\",%s,%s,\"%d\"]", compat_q(pat[p]), compat_q(ch[c]), c);
            TRY(r = compat_get(subs[p]));
        }
        snprintf(what, sizeof(what), "pattern %s: pong after its pmessages", glob_patterns[p]);
        EXPECT(r, "[\"pong\",\"\"]", what);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* CLIENT KILL of a subscriber: its next read fails, it reconnects and
 * resubscribes, and messages flow again. */

static int killed_then_back(redisContext *sub, redisContext *ctl, const char *ch)
{
    redisReply *r;
    void *none = NULL;
    struct timeval tv = { COMPAT_TIMEOUT_MS / 1000, 0 };

    if (redisGetReply(sub, &none) == REDIS_OK) {
        compat_keep(none);
        FAIL("the killed subscriber still got a reply");
    }
    REQUIRE(sub->err == REDIS_ERR_EOF, "killed subscriber: error %d (%s), expected EOF",
            sub->err, sub->errstr);
    TRY(r = compat_cmd(ctl, "PUBSUB NUMSUB %s", ch));
    EXPECTF(r, "NUMSUB after the kill", "[%s,0]", compat_q(ch));
    REQUIRE(redisReconnect(sub) == REDIS_OK, "redisReconnect: %s", sub->errstr);
    REQUIRE(redisSetTimeout(sub, tv) == REDIS_OK, "redisSetTimeout: %s", sub->errstr);
    if (sync_subscribe(sub, ch, 1) != 0)
        return -1;
    TRY(r = compat_cmd(ctl, "PUBLISH %s back", ch));
    EXPECT(r, "1", "PUBLISH after resubscribing");
    TRY(r = compat_get(sub));
    EXPECTF(r, "message after resubscribing", "[\"message\",%s,\"back\"]", compat_q(ch));
    return 0;
}

int t_client_kill_id_reconnect(void)
{
    redisContext *sub, *ctl;
    redisReply *r;
    char ch[128];
    long long id;

    TRY(sub = compat_connect());
    TRY(ctl = compat_connect());
    compat_name(ch, sizeof(ch), "kill-id");
    TRY(r = compat_cmd(sub, "CLIENT ID"));
    REQUIRE(r->type == REDIS_REPLY_INTEGER, "CLIENT ID is not an integer");
    id = r->integer;
    if (sync_subscribe(sub, ch, 1) != 0)
        return -1;
    TRY(r = compat_cmd(ctl, "CLIENT KILL ID %lld", id));
    EXPECT(r, "1", "CLIENT KILL ID");
    TRY(r = compat_cmd(ctl, "CLIENT KILL ID %lld", id));
    EXPECT(r, "0", "CLIENT KILL ID of a gone client");
    return killed_then_back(sub, ctl, ch);
}

int t_client_kill_addr_reconnect(void)
{
    redisContext *sub, *ctl;
    redisReply *r;
    struct sockaddr_storage ss;
    socklen_t slen = sizeof(ss);
    char ch[128], ip[INET6_ADDRSTRLEN];
    int port;

    TRY(sub = compat_connect());
    TRY(ctl = compat_connect());
    compat_name(ch, sizeof(ch), "kill-addr");
    REQUIRE(getsockname(sub->fd, (struct sockaddr *)&ss, &slen) == 0, "getsockname failed");
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
        port = ntohs(s6->sin6_port);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
        port = ntohs(s4->sin_port);
    }
    if (sync_subscribe(sub, ch, 1) != 0)
        return -1;
    TRY(r = compat_cmd(ctl, "CLIENT KILL %s:%d", ip, port));
    EXPECT(r, "+OK", "CLIENT KILL ip:port");
    TRY(r = compat_cmd(ctl, "CLIENT KILL %s:%d", ip, port));
    EXPECT(r, "-ERR No such client", "CLIENT KILL ip:port of a gone client");
    return killed_then_back(sub, ctl, ch);
}
