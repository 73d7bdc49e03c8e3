/* sync_resp3.c -- RESP3 (HELLO 3) through hiredis.
 *
 * hiredis parses RESP3 from 1.0 on; Debian 12 ships 0.14, whose reader stops
 * at the first '%' or '>' byte. So the RESP3 checks here drive a hiredis
 * context for connecting and formatting commands, but read the socket
 * themselves and compare the bytes exactly with what Redis 7.0 sends: the
 * HELLO map, push frames for (p/s)subscribe confirmations and messages, and
 * the order of pushes and replies on one connection. With hiredis >= 1.0 the
 * push callback (redisSetPushCallback) is exercised as well. */
#include "sync.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int resp3_parsed_by_hiredis(void)
{
    return HIREDIS_MAJOR >= 1;
}

/* ------------------------------------------------------------------------ */
/* A raw connection: a hiredis context's socket, read and written directly. */

typedef struct raw {
    int fd;
    char buf[65536];
    size_t used;
} raw;

static raw raw_conn;                    /* one per check is enough */

static raw *raw_open(void)
{
    redisContext *c = compat_connect();

    if (c == NULL)
        return NULL;
    raw_conn.fd = c->fd;
    raw_conn.used = 0;
    return &raw_conn;
}

static int raw_send(raw *rw, const char *fmt, const char *a, const char *b)
{
    char *cmd = NULL;
    int len = b ? redisFormatCommand(&cmd, fmt, a, b) : a ? redisFormatCommand(&cmd, fmt, a)
                                                          : redisFormatCommand(&cmd, fmt);
    ssize_t off = 0, n;

    if (len < 0)
        FAIL("redisFormatCommand(%s) failed", fmt);
    while (off < len) {
        n = write(rw->fd, cmd + off, (size_t)(len - off));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            redisFreeCommand(cmd);
            FAIL("write: %s", strerror(errno));
        }
        off += n;
    }
    redisFreeCommand(cmd);
    return 0;
}

static int raw_fill(raw *rw, const char *what)
{
    ssize_t n;
    char q[300];

    if (rw->used == sizeof(rw->buf))
        FAIL("%s: more than %zu bytes pending", what, sizeof(rw->buf));
    do {
        n = read(rw->fd, rw->buf + rw->used, sizeof(rw->buf) - rw->used);
    } while (n < 0 && errno == EINTR);
    if (n == 0)
        FAIL("%s: connection closed; pending %s", what, compat_quote(rw->buf, rw->used, q, sizeof(q)));
    if (n < 0)
        FAIL("%s: read: %s; pending %s", what, strerror(errno), compat_quote(rw->buf, rw->used, q, sizeof(q)));
    rw->used += (size_t)n;
    return 0;
}

static void raw_consume(raw *rw, size_t n)
{
    memmove(rw->buf, rw->buf + n, rw->used - n);
    rw->used -= n;
}

/* Requires the next bytes on the connection to be exactly WANT. */
static int raw_expect(raw *rw, const char *want, size_t len, const char *what)
{
    char g[400], w[400];

    while (rw->used < len && memcmp(rw->buf, want, rw->used) == 0)
        if (raw_fill(rw, what) != 0)
            return -1;
    if (rw->used < len || memcmp(rw->buf, want, len) != 0)
        FAIL("%s: got %s, expected %s", what,
             compat_quote(rw->buf, rw->used < len + 40 ? rw->used : len + 40, g, sizeof(g)),
             compat_quote(want, len, w, sizeof(w)));
    raw_consume(rw, len);
    return 0;
}

/* Reads until END appears; returns the offset just past it in *at. */
static int raw_until(raw *rw, const char *end, size_t *at, const char *what)
{
    size_t elen = strlen(end);

    for (;;) {
        char *p = memmem(rw->buf, rw->used, end, elen);
        if (p != NULL) {
            *at = (size_t)(p - rw->buf) + elen;
            return 0;
        }
        if (raw_fill(rw, what) != 0)
            return -1;
    }
}

/* Building expected frames. */
typedef struct frame {
    char b[2048];
    size_t len;
} frame;

static void fr_add(frame *f, const char *fmt, const char *s)
{
    int n = snprintf(f->b + f->len, sizeof(f->b) - f->len, fmt, s);
    if (n > 0)
        f->len += (size_t)n;
}

static void fr_bulk(frame *f, const char *s)
{
    char hdr[32];

    snprintf(hdr, sizeof(hdr), "$%zu\r\n", strlen(s));
    fr_add(f, "%s", hdr);
    fr_add(f, "%s\r\n", s);
}

/* ">3 kind name count" or ">3 kind _ count" when name is NULL. */
static frame *push_confirm(frame *f, const char *kind, const char *name, int count)
{
    char n[32];

    f->len = 0;
    fr_add(f, "%s", ">3\r\n");
    fr_bulk(f, kind);
    if (name)
        fr_bulk(f, name);
    else
        fr_add(f, "%s", "_\r\n");
    snprintf(n, sizeof(n), ":%d\r\n", count);
    fr_add(f, "%s", n);
    return f;
}

/* ">3 message ch payload" or, with a pattern, ">4 pmessage pat ch payload". */
static frame *push_message(frame *f, const char *kind, const char *pat, const char *ch, const char *payload)
{
    f->len = 0;
    fr_add(f, "%s", pat ? ">4\r\n" : ">3\r\n");
    fr_bulk(f, kind);
    if (pat)
        fr_bulk(f, pat);
    fr_bulk(f, ch);
    fr_bulk(f, payload);
    return f;
}

#define RAW_EXPECT(rw, fr, what) \
    do { if (raw_expect((rw), (fr)->b, (fr)->len, (what)) != 0) return -1; } while (0)
#define RAW_EXPECT_S(rw, s, what) \
    do { if (raw_expect((rw), (s), strlen(s), (what)) != 0) return -1; } while (0)

#define HELLO3_HEAD "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$"
#define HELLO3_TAIL "$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"

static int raw_hello3(raw *rw)
{
    size_t at;

    if (raw_send(rw, "HELLO 3", NULL, NULL) != 0 || raw_until(rw, HELLO3_TAIL, &at, "HELLO 3") != 0)
        return -1;
    raw_consume(rw, at);
    return 0;
}

/* ------------------------------------------------------------------------ */

int t_resp3_raw_hello(void)
{
    raw *rw;
    size_t at;
    char q[400];

    TRY(rw = raw_open());
    if (raw_send(rw, "HELLO 3", NULL, NULL) != 0 || raw_send(rw, "PING", NULL, NULL) != 0)
        return -1;
    if (raw_until(rw, HELLO3_TAIL "+PONG\r\n", &at, "HELLO 3 map then +PONG") != 0)
        return -1;
    REQUIRE(at == rw->used, "bytes after +PONG: %s", compat_quote(rw->buf + at, rw->used - at, q, sizeof(q)));
    REQUIRE(strncmp(rw->buf, HELLO3_HEAD, strlen(HELLO3_HEAD)) == 0, "HELLO 3 reply starts %s",
            compat_quote(rw->buf, 60, q, sizeof(q)));
    REQUIRE(memmem(rw->buf, rw->used, "$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:", 24) != NULL,
            "no proto 3 / id fields in %s", compat_quote(rw->buf, rw->used, q, sizeof(q)));
    raw_consume(rw, at);
    /* HELLO 2 goes back to RESP2: the same fields as a flat array. */
    if (raw_send(rw, "HELLO 2", NULL, NULL) != 0 ||
        raw_until(rw, "$7\r\nmodules\r\n*0\r\n", &at, "HELLO 2") != 0)
        return -1;
    REQUIRE(strncmp(rw->buf, "*14\r\n$6\r\nserver\r\n", 17) == 0, "HELLO 2 reply starts %s",
            compat_quote(rw->buf, 40, q, sizeof(q)));
    REQUIRE(memmem(rw->buf, at, "$5\r\nproto\r\n:2\r\n", 15) != NULL, "HELLO 2 reply lacks proto 2");
    raw_consume(rw, at);
    if (raw_send(rw, "HELLO 4", NULL, NULL) != 0)
        return -1;
    RAW_EXPECT_S(rw, "-NOPROTO unsupported protocol version\r\n", "HELLO 4");
    return 0;
}

/* 1 if the server sends a command's pushes to its own client after the
 * reply, as Redis 7.2 does (redis#12326; ours, or a Redis >= 7.2), 0 if
 * before it (Redis 7.0), -1 if INFO failed. */
static int pushes_follow_reply(redisContext *c)
{
    redisReply *r;
    const char *v;
    int major = 0, minor = 0;

    TRY(r = compat_cmd(c, "INFO server"));
    REQUIRE(r->type == REDIS_REPLY_STRING, "INFO server: not a string (type %d)", r->type);
    if (strstr(r->str, "redis_pubsub_version:"))
        return 1;
    REQUIRE((v = strstr(r->str, "redis_version:")) && sscanf(v, "redis_version:%d.%d", &major, &minor) == 2,
            "INFO server without redis_version");
    return major > 7 || (major == 7 && minor >= 2);
}

int t_resp3_raw_push_frames(void)
{
    redisContext *pub;
    redisReply *r;
    raw *rw;
    frame f;
    char ch[128], pat[128];

    TRY(pub = compat_connect());
    TRY(rw = raw_open());
    compat_name(ch, sizeof(ch), "r3-news");
    compat_name(pat, sizeof(pat), "r3-*");
    if (raw_hello3(rw) != 0 || raw_send(rw, "SUBSCRIBE %s", ch, NULL) != 0)
        return -1;
    RAW_EXPECT(rw, push_confirm(&f, "subscribe", ch, 1), "SUBSCRIBE push");
    TRY(r = compat_cmd(pub, "PUBLISH %s hello", ch));
    EXPECT(r, "1", "PUBLISH count");
    RAW_EXPECT(rw, push_message(&f, "message", NULL, ch, "hello"), "message push");
    if (raw_send(rw, "PSUBSCRIBE %s", pat, NULL) != 0)
        return -1;
    RAW_EXPECT(rw, push_confirm(&f, "psubscribe", pat, 2), "PSUBSCRIBE push");
    TRY(r = compat_cmd(pub, "PUBLISH %s again", ch));
    EXPECT(r, "2", "PUBLISH count with the pattern");
    RAW_EXPECT(rw, push_message(&f, "message", NULL, ch, "again"), "message push (2)");
    RAW_EXPECT(rw, push_message(&f, "pmessage", pat, ch, "again"), "pmessage push");
    /* RESP3 has no subscribed-context restriction: plain replies. */
    if (raw_send(rw, "PING", NULL, NULL) != 0 || raw_send(rw, "PING %s", "x", NULL) != 0 ||
        raw_send(rw, "ECHO %s", "hi", NULL) != 0)
        return -1;
    RAW_EXPECT_S(rw, "+PONG\r\n$1\r\nx\r\n$2\r\nhi\r\n", "PING, PING x, ECHO hi while subscribed");
    /* Publishing to itself: Redis 7.0 sends the pushes before the reply,
     * 7.2 the reply first. */
    int after = pushes_follow_reply(pub);
    if (after < 0 || raw_send(rw, "PUBLISH %s %s", ch, "self") != 0)
        return -1;
    if (after)
        RAW_EXPECT_S(rw, ":2\r\n", "PUBLISH reply before the pushes (7.2)");
    RAW_EXPECT(rw, push_message(&f, "message", NULL, ch, "self"), "self message push");
    RAW_EXPECT(rw, push_message(&f, "pmessage", pat, ch, "self"), "self pmessage push");
    if (!after)
        RAW_EXPECT_S(rw, ":2\r\n", "PUBLISH reply after the pushes (7.0)");
    if (raw_send(rw, "UNSUBSCRIBE %s", ch, NULL) != 0)
        return -1;
    RAW_EXPECT(rw, push_confirm(&f, "unsubscribe", ch, 1), "UNSUBSCRIBE push");
    if (raw_send(rw, "PUNSUBSCRIBE", NULL, NULL) != 0)
        return -1;
    RAW_EXPECT(rw, push_confirm(&f, "punsubscribe", pat, 0), "PUNSUBSCRIBE push");
    return 0;
}

int t_resp3_raw_shard_and_unsubscribe(void)
{
    redisContext *pub;
    redisReply *r;
    raw *rw;
    frame f;
    char ch[128];

    TRY(pub = compat_connect());
    TRY(rw = raw_open());
    compat_name(ch, sizeof(ch), "r3-shard");
    if (raw_hello3(rw) != 0 || raw_send(rw, "SSUBSCRIBE %s", ch, NULL) != 0)
        return -1;
    RAW_EXPECT(rw, push_confirm(&f, "ssubscribe", ch, 1), "SSUBSCRIBE push");
    TRY(r = compat_cmd(pub, "SPUBLISH %s hi", ch));
    EXPECT(r, "1", "SPUBLISH count");
    RAW_EXPECT(rw, push_message(&f, "smessage", NULL, ch, "hi"), "smessage push");
    if (raw_send(rw, "UNSUBSCRIBE", NULL, NULL) != 0 || raw_send(rw, "PUNSUBSCRIBE", NULL, NULL) != 0)
        return -1;
    RAW_EXPECT(rw, push_confirm(&f, "unsubscribe", NULL, 0), "bare UNSUBSCRIBE push");
    RAW_EXPECT(rw, push_confirm(&f, "punsubscribe", NULL, 0), "bare PUNSUBSCRIBE push");
    if (raw_send(rw, "SUNSUBSCRIBE", NULL, NULL) != 0)
        return -1;
    RAW_EXPECT(rw, push_confirm(&f, "sunsubscribe", ch, 0), "SUNSUBSCRIBE push");
    if (raw_send(rw, "PUBSUB SHARDNUMSUB %s", ch, NULL) != 0)
        return -1;
    f.len = 0;
    fr_add(&f, "%s", "*2\r\n");
    fr_bulk(&f, ch);
    fr_add(&f, "%s", ":0\r\n");
    RAW_EXPECT(rw, &f, "PUBSUB SHARDNUMSUB in RESP3");
    return 0;
}

/* ------------------------------------------------------------------------ */
/* hiredis >= 1.0: RESP3 parsed by hiredis, pushes through the callback. */

#if HIREDIS_MAJOR >= 1
static char push_log[4096];

static void on_push(void *privdata, void *reply)
{
    char one[512];
    size_t used = strlen(push_log);

    (void)privdata;
    compat_repr(reply, one, sizeof(one));
    snprintf(push_log + used, sizeof(push_log) - used, "%s%s", used ? ";" : "", one);
    freeReplyObject(reply);
}

int t_resp3_push_callback(void)
{
    redisContext *c, *pub;
    redisReply *r;
    char ch[128], want[1024];

    TRY(c = compat_connect());
    TRY(pub = compat_connect());
    compat_name(ch, sizeof(ch), "r3-cb");
    push_log[0] = '\0';
    TRY(r = compat_cmd(c, "HELLO 3"));
    REQUIRE(r->type == REDIS_REPLY_MAP, "HELLO 3 reply type %d, expected a map", r->type);
    redisSetPushCallback(c, on_push);
    /* A push is not a reply: PING's reply is what redisGetReply returns. */
    if (redisAppendCommand(c, "SUBSCRIBE %s", ch) != REDIS_OK || redisAppendCommand(c, "PING") != REDIS_OK)
        FAIL("redisAppendCommand: %s", c->errstr);
    TRY(r = compat_get(c));
    EXPECT(r, "+PONG", "PING after SUBSCRIBE");
    TRY(r = compat_cmd(pub, "PUBLISH %s hello", ch));
    EXPECT(r, "1", "PUBLISH count");
    TRY(r = compat_cmd(c, "PING"));
    EXPECT(r, "+PONG", "PING after PUBLISH");
    snprintf(want, sizeof(want), ">[\"subscribe\",%s,1];>[\"message\",%s,\"hello\"]", compat_q(ch), compat_q(ch));
    REQUIRE(strcmp(push_log, want) == 0, "pushes %s, expected %s", push_log, want);
    return 0;
}
#else
int t_resp3_push_callback(void)
{
    FAIL("hiredis %d.%d has no push callback", HIREDIS_MAJOR, HIREDIS_MINOR);
}
#endif
