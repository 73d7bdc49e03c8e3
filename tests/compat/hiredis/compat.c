/* compat.c -- Check runner and reply helpers for the hiredis programs.
 *
 * Everything a check allocates through these helpers is tracked in two small
 * arrays (contexts, replies) and released after the check, whatever its
 * outcome; see compat.h for the contract. */
#include "compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *compat_host;
int compat_port;
char compat_tag[64];

static char reason[COMPAT_REASON_LEN];
static int passed, failed;

static redisContext **ctxs;
static size_t ctxs_count, ctxs_cap;
static void **replies;
static size_t replies_count, replies_cap;

static void *grow(void *p, size_t *cap, size_t elem)
{
    *cap = *cap ? *cap * 2 : 64;
    p = realloc(p, *cap * elem);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

void compat_init(int argc, char **argv)
{
    if (argc != 3 || atoi(argv[2]) <= 0) {
        fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
        exit(2);
    }
    compat_host = argv[1];
    compat_port = atoi(argv[2]);
    snprintf(compat_tag, sizeof(compat_tag), "compat-hiredis-%ld", (long)getpid());
    setvbuf(stdout, NULL, _IOLBF, 0);
}

int compat_fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    return -1;
}

static void release_all(void)
{
    size_t i;

    for (i = 0; i < replies_count; i++)
        freeReplyObject(replies[i]);
    replies_count = 0;
    for (i = 0; i < ctxs_count; i++)
        redisFree(ctxs[i]);
    ctxs_count = 0;
}

void compat_run(const char *name, compat_check_fn *fn)
{
    char *p;
    long long start = compat_now_ms();
    int rc;

    reason[0] = '\0';
    rc = fn();
    release_all();
    if (rc == 0) {
        passed++;
        printf("ok - %s\n", name);
        return;
    }
    failed++;
    for (p = reason; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    printf("not ok - %s: %s (after %lld ms)\n", name,
           reason[0] ? reason : "no reason given", compat_now_ms() - start);
}

int compat_failures(void)
{
    return failed;
}

redisContext *compat_connect(void)
{
    struct timeval tv = { COMPAT_TIMEOUT_MS / 1000, (COMPAT_TIMEOUT_MS % 1000) * 1000 };
    redisContext *c = redisConnectWithTimeout(compat_host, compat_port, tv);

    if (c == NULL) {
        compat_fail("redisConnect returned NULL");
        return NULL;
    }
    if (ctxs_count == ctxs_cap)
        ctxs = grow(ctxs, &ctxs_cap, sizeof(*ctxs));
    ctxs[ctxs_count++] = c;
    if (c->err) {
        compat_fail("connect to %s:%d: %s", compat_host, compat_port, c->errstr);
        return NULL;
    }
    if (redisSetTimeout(c, tv) != REDIS_OK) {
        compat_fail("redisSetTimeout: %s", c->errstr);
        return NULL;
    }
    return c;
}

redisReply *compat_keep(void *reply)
{
    if (reply == NULL)
        return NULL;
    if (replies_count == replies_cap)
        replies = grow(replies, &replies_cap, sizeof(*replies));
    replies[replies_count++] = reply;
    return reply;
}

static redisReply *checked(redisContext *c, void *reply, const char *what)
{
    if (reply == NULL) {
        compat_fail("%s: no reply, context error %d: %s", what, c->err, c->errstr);
        return NULL;
    }
    return compat_keep(reply);
}

redisReply *compat_cmd(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    void *r;

    va_start(ap, fmt);
    r = redisvCommand(c, fmt, ap);
    va_end(ap);
    return checked(c, r, fmt);
}

redisReply *compat_cmd_argv(redisContext *c, int argc, const char **argv, const size_t *lens)
{
    return checked(c, redisCommandArgv(c, argc, argv, lens), argv[0]);
}

redisReply *compat_get(redisContext *c)
{
    void *r = NULL;

    if (redisGetReply(c, &r) != REDIS_OK)
        r = NULL;
    return checked(c, r, "redisGetReply");
}

/* ------------------------------------------------------------------------ */
/* Rendering replies. */

typedef struct out {
    char *buf;
    size_t len, used;
} out;

static void put(out *o, const char *s, size_t n)
{
    while (n-- && o->used + 4 < o->len)
        o->buf[o->used++] = *s++;
    o->buf[o->used] = '\0';
}

static void put_s(out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_quoted(out *o, const char *p, size_t len)
{
    char tmp[8];
    size_t i;

    put_s(o, "\"");
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '"' || ch == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)ch;
            put(o, tmp, 2);
        } else if (ch >= 0x20 && ch < 0x7f) {
            put(o, (const char *)&p[i], 1);
        } else {
            snprintf(tmp, sizeof(tmp), "\\x%02x", ch);
            put_s(o, tmp);
        }
    }
    put_s(o, "\"");
}

static void render(out *o, const redisReply *r)
{
    char tmp[32];
    size_t i;

    switch (r->type) {
    case REDIS_REPLY_STRING:
        put_quoted(o, r->str, r->len);
        break;
    case REDIS_REPLY_STATUS:
        put_s(o, "+");
        put(o, r->str, r->len);
        break;
    case REDIS_REPLY_ERROR:
        put_s(o, "-");
        put(o, r->str, r->len);
        break;
    case REDIS_REPLY_INTEGER:
        snprintf(tmp, sizeof(tmp), "%lld", r->integer);
        put_s(o, tmp);
        break;
    case REDIS_REPLY_NIL:
        put_s(o, "nil");
        break;
    case REDIS_REPLY_ARRAY:
        put_s(o, "[");
        for (i = 0; i < r->elements; i++) {
            if (i)
                put_s(o, ",");
            render(o, r->element[i]);
        }
        put_s(o, "]");
        break;
#if HIREDIS_MAJOR >= 1
    case REDIS_REPLY_PUSH:
    case REDIS_REPLY_SET:
        put_s(o, r->type == REDIS_REPLY_PUSH ? ">[" : "~[");
        for (i = 0; i < r->elements; i++) {
            if (i)
                put_s(o, ",");
            render(o, r->element[i]);
        }
        put_s(o, "]");
        break;
    case REDIS_REPLY_MAP:
        put_s(o, "{");
        for (i = 0; i < r->elements; i++) {
            if (i)
                put_s(o, i % 2 ? ":" : ",");
            render(o, r->element[i]);
        }
        put_s(o, "}");
        break;
    case REDIS_REPLY_DOUBLE:
    case REDIS_REPLY_BIGNUM:
    case REDIS_REPLY_VERB:
        put(o, r->str, r->len);
        break;
    case REDIS_REPLY_BOOL:
        put_s(o, r->integer ? "true" : "false");
        break;
#endif
    default:
        snprintf(tmp, sizeof(tmp), "<type %d>", r->type);
        put_s(o, tmp);
        break;
    }
}

char *compat_repr(const redisReply *r, char *buf, size_t len)
{
    out o = { buf, len, 0 };

    buf[0] = '\0';
    if (r == NULL)
        put_s(&o, "(no reply)");
    else
        render(&o, r);
    if (o.used + 4 >= len && len > 4)
        strcpy(buf + len - 4, "...");
    return buf;
}

char *compat_quote(const char *p, size_t len, char *buf, size_t buflen)
{
    out o = { buf, buflen, 0 };

    buf[0] = '\0';
    put_quoted(&o, p, len);
    return buf;
}

int compat_expect(const redisReply *r, const char *expected, const char *what)
{
    char got[512];

    compat_repr(r, got, sizeof(got));
    if (strcmp(got, expected) == 0)
        return 0;
    return compat_fail("%s: got %s, expected %s", what, got, expected);
}

int compat_expectf(const redisReply *r, const char *what, const char *fmt, ...)
{
    char want[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(want, sizeof(want), fmt, ap);
    va_end(ap);
    return compat_expect(r, want, what);
}

const char *compat_q(const char *s)
{
    static char pool[16][300];
    static unsigned next;
    char *buf = pool[next++ % 16];

    return compat_quote(s, strlen(s), buf, sizeof(pool[0]));
}

char *compat_name(char *buf, size_t len, const char *suffix)
{
    snprintf(buf, len, "%s-%s", compat_tag, suffix);
    return buf;
}

int compat_expect_str(const redisReply *r, const char *s, const char *what)
{
    char want[512];

    snprintf(want, sizeof(want), "+%s", s);
    return compat_expect(r, want, what);
}

long long compat_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
