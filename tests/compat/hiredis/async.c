/* async.c -- hiredis asynchronous API with the libevent adapter.
 *
 * Usage: hiredis-async HOST PORT. One scenario, then one result line per
 * property of it. A subscriber context SUBSCRIBEs to a channel and
 * PSUBSCRIBEs to a pattern matching it; once both are confirmed, a second
 * context PUBLISHes N messages (each reaching two subscriptions); when all
 * messages and pmessages have arrived the subscriber unsubscribes from both,
 * and after the last confirmation both contexts disconnect, which leaves the
 * event loop with nothing to wait for, so event_base_dispatch() returns. A
 * guard timer breaks the loop if any of that does not happen in time. */
#include "compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>

#define ASYNC_MESSAGES 500
#define ASYNC_GUARD_SECONDS 15

static struct state {
    struct event_base *base;
    struct event *guard;
    redisAsyncContext *sub, *pub;
    char ch[128], pat[128];
    int connected, connect_failed;
    int confirmations;          /* subscribe + psubscribe seen */
    int confirm_bad;
    int messages, pmessages;    /* received, in order so far */
    int order_bad;
    int published, publish_bad; /* PUBLISH replies, wrong counts */
    int unsubscribed, unsub_bad;
    int disconnects, disconnect_bad;
    int unsub_sent, finishing, timed_out;
    char first_error[512];
} st;

static void note(const char *fmt, const char *a, long long b)
{
    if (st.first_error[0] == '\0')
        snprintf(st.first_error, sizeof(st.first_error), fmt, a, b);
}

static void on_connect(const redisAsyncContext *c, int status)
{
    if (status == REDIS_OK)
        st.connected++;
    else {
        st.connect_failed++;
        note("connect failed: %s (%lld)", c->errstr, status);
    }
}

static void on_disconnect(const redisAsyncContext *c, int status)
{
    st.disconnects++;
    if (status != REDIS_OK) {
        st.disconnect_bad++;
        note("disconnect with error: %s (%lld)", c->errstr, status);
    }
    if (st.disconnects == 2)
        evtimer_del(st.guard);
}

static void on_guard(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    st.timed_out = 1;
    event_base_loopbreak(st.base);
}

static void maybe_finish(void)
{
    if (st.finishing || st.unsubscribed < 2 || st.published < ASYNC_MESSAGES)
        return;
    st.finishing = 1;
    redisAsyncDisconnect(st.sub);
    redisAsyncDisconnect(st.pub);
}

static void on_publish(redisAsyncContext *c, void *reply, void *privdata)
{
    redisReply *r = reply;

    (void)c;
    (void)privdata;
    if (r == NULL)
        return;
    st.published++;
    if (r->type != REDIS_REPLY_INTEGER || r->integer != 2) {
        st.publish_bad++;
        note("PUBLISH reply type %s, integer %lld (expected 2)", r->type == REDIS_REPLY_INTEGER ? "int" : "other",
             r->integer);
    }
    maybe_finish();
}

static void start_publishing(void)
{
    int i;

    for (i = 0; i < ASYNC_MESSAGES; i++)
        redisAsyncCommand(st.pub, on_publish, NULL, "PUBLISH %s %d", st.ch, i);
}

static int is(const redisReply *r, size_t i, const char *s)
{
    return i < r->elements && r->element[i]->type == REDIS_REPLY_STRING && strcmp(r->element[i]->str, s) == 0;
}

static void confirmed(const redisReply *r, const char *name, int count)
{
    if (!is(r, 1, name) || r->element[2]->type != REDIS_REPLY_INTEGER || r->element[2]->integer != count) {
        st.confirm_bad++;
        note("bad confirmation for %s (count %lld)", name, r->elements > 2 ? r->element[2]->integer : -1);
    }
}

/* Every reply for the channel and for the pattern comes here (hiredis routes
 * subscription replies by channel / pattern name). */
static void on_sub(redisAsyncContext *c, void *reply, void *privdata)
{
    redisReply *r = reply;
    char want[32];

    (void)c;
    (void)privdata;
    if (r == NULL)
        return;                 /* the context is going away */
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3) {
        st.order_bad++;
        note("unexpected reply shape%s %lld", "", r->type);
        return;
    }
    if (is(r, 0, "subscribe") || is(r, 0, "psubscribe")) {
        st.confirmations++;
        confirmed(r, is(r, 0, "subscribe") ? st.ch : st.pat, st.confirmations);
        if (st.confirmations == 2)
            start_publishing();
    } else if (is(r, 0, "message")) {
        snprintf(want, sizeof(want), "%d", st.messages);
        if (!is(r, 1, st.ch) || !is(r, 2, want)) {
            st.order_bad++;
            note("message %s out of order (index %lld)", want, st.messages);
        }
        st.messages++;
    } else if (is(r, 0, "pmessage") && r->elements == 4) {
        snprintf(want, sizeof(want), "%d", st.pmessages);
        if (!is(r, 1, st.pat) || !is(r, 2, st.ch) || !is(r, 3, want)) {
            st.order_bad++;
            note("pmessage %s out of order (index %lld)", want, st.pmessages);
        }
        st.pmessages++;
    } else if (is(r, 0, "unsubscribe") || is(r, 0, "punsubscribe")) {
        st.unsubscribed++;
        confirmed(r, is(r, 0, "unsubscribe") ? st.ch : st.pat, 2 - st.unsubscribed);
        maybe_finish();
        return;
    } else {
        st.order_bad++;
        note("unexpected %s reply (elements %lld)", r->element[0]->str ? r->element[0]->str : "?",
             (long long)r->elements);
        return;
    }
    if (st.messages == ASYNC_MESSAGES && st.pmessages == ASYNC_MESSAGES && !st.unsub_sent) {
        st.unsub_sent = 1;      /* the confirmations lead to maybe_finish() */
        redisAsyncCommand(st.sub, on_sub, NULL, "UNSUBSCRIBE %s", st.ch);
        redisAsyncCommand(st.sub, on_sub, NULL, "PUNSUBSCRIBE %s", st.pat);
    }
}

static redisAsyncContext *async_connect(void)
{
    redisAsyncContext *c = redisAsyncConnect(compat_host, compat_port);

    if (c == NULL || c->err) {
        note("redisAsyncConnect: %s%lld", c ? c->errstr : "NULL", 0);
        return NULL;
    }
    redisLibeventAttach(c, st.base);
    redisAsyncSetConnectCallback(c, on_connect);
    redisAsyncSetDisconnectCallback(c, on_disconnect);
    return c;
}

static void run_scenario(void)
{
    struct timeval guard = { ASYNC_GUARD_SECONDS, 0 };

    st.base = event_base_new();
    st.guard = evtimer_new(st.base, on_guard, NULL);
    evtimer_add(st.guard, &guard);
    compat_name(st.ch, sizeof(st.ch), "async-news");
    compat_name(st.pat, sizeof(st.pat), "async-*");
    st.sub = async_connect();
    st.pub = async_connect();
    if (st.sub == NULL || st.pub == NULL)
        return;
    redisAsyncCommand(st.sub, on_sub, NULL, "SUBSCRIBE %s", st.ch);
    redisAsyncCommand(st.sub, on_sub, NULL, "PSUBSCRIBE %s", st.pat);
    event_base_dispatch(st.base);
}

/* ------------------------------------------------------------------------ */

#define WHY_FIRST (st.first_error[0] ? st.first_error : "-")

static int t_connect(void)
{
    REQUIRE(st.connected == 2 && st.connect_failed == 0, "%d of 2 connected; %s", st.connected, WHY_FIRST);
    return 0;
}

static int t_confirmations(void)
{
    REQUIRE(st.confirmations == 2 && st.confirm_bad == 0, "%d confirmations, %d wrong; %s",
            st.confirmations, st.confirm_bad, WHY_FIRST);
    return 0;
}

static int t_publish_counts(void)
{
    REQUIRE(st.published == ASYNC_MESSAGES && st.publish_bad == 0, "%d of %d PUBLISH replies, %d wrong; %s",
            st.published, ASYNC_MESSAGES, st.publish_bad, WHY_FIRST);
    return 0;
}

static int t_messages(void)
{
    REQUIRE(st.messages == ASYNC_MESSAGES && st.order_bad == 0, "%d of %d messages, %d out of order; %s",
            st.messages, ASYNC_MESSAGES, st.order_bad, WHY_FIRST);
    return 0;
}

static int t_pmessages(void)
{
    REQUIRE(st.pmessages == ASYNC_MESSAGES && st.order_bad == 0, "%d of %d pmessages, %d out of order; %s",
            st.pmessages, ASYNC_MESSAGES, st.order_bad, WHY_FIRST);
    return 0;
}

static int t_unsubscribe(void)
{
    REQUIRE(st.unsubscribed == 2 && st.confirm_bad == 0, "%d of 2 unsubscribe confirmations; %s",
            st.unsubscribed, WHY_FIRST);
    return 0;
}

static int t_disconnect(void)
{
    REQUIRE(st.disconnects == 2 && st.disconnect_bad == 0, "%d of 2 disconnect callbacks, %d with errors; %s",
            st.disconnects, st.disconnect_bad, WHY_FIRST);
    return 0;
}

static int t_loop_exits(void)
{
    REQUIRE(!st.timed_out, "the guard timer fired after %d s: the loop did not finish; %s",
            ASYNC_GUARD_SECONDS, WHY_FIRST);
    return 0;
}

int main(int argc, char **argv)
{
    compat_init(argc, argv);
    run_scenario();
    compat_run("async-libevent-connect", t_connect);
    compat_run("async-libevent-subscribe-confirmations", t_confirmations);
    compat_run("async-libevent-publish-counts", t_publish_counts);
    compat_run("async-libevent-messages-in-order", t_messages);
    compat_run("async-libevent-pmessages-in-order", t_pmessages);
    compat_run("async-libevent-unsubscribe", t_unsubscribe);
    compat_run("async-libevent-clean-disconnect", t_disconnect);
    compat_run("async-libevent-loop-exits", t_loop_exits);
    /* On success the contexts freed themselves on disconnect; after a
     * timeout they are left to the process exit. */
    event_free(st.guard);
    if (!st.timed_out)
        event_base_free(st.base);
    return compat_failures() ? 1 : 0;
}
