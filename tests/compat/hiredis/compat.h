/* compat.h -- Check runner and reply helpers shared by the hiredis programs.
 *
 * A check is a function returning 0 (passed) or -1 (failed, with the reason
 * written by FAIL()). Contexts and replies obtained through the helpers below
 * belong to the running check and are freed by check_run() when it returns, so
 * a check can bail out at any point without leaking or leaving a subscriber
 * connected. Output follows tests/compat/README.md: "ok - NAME" or
 * "not ok - NAME: reason". */
#ifndef COMPAT_H
#define COMPAT_H

#include <stddef.h>
#include <hiredis/hiredis.h>

#define COMPAT_REASON_LEN 1024
#define COMPAT_TIMEOUT_MS 5000          /* read/write timeout of every context */

typedef int compat_check_fn(void);

/* The host and port under test, and a per-process prefix for channel names. */
extern const char *compat_host;
extern int compat_port;
extern char compat_tag[64];

/* Parses argv (HOST PORT); exits with usage on error. */
void compat_init(int argc, char **argv);

/* Runs one check, prints its result line, frees what it registered. */
void compat_run(const char *name, compat_check_fn *fn);

/* Prints nothing; returns the number of failed checks so far. */
int compat_failures(void);

/* Records the failure reason (printf format); always returns -1. */
int compat_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define FAIL(...) return compat_fail(__VA_ARGS__)
#define REQUIRE(cond, ...) do { if (!(cond)) FAIL(__VA_ARGS__); } while (0)

/* A blocking context with timeouts, owned by the running check; NULL (with the
 * reason recorded) if the connection failed. */
redisContext *compat_connect(void);

/* Takes ownership of a reply for the running check; returns it. */
redisReply *compat_keep(void *reply);

/* redisCommand / redisCommandArgv / redisGetReply returning a kept reply, or
 * NULL with the context error recorded as the reason. */
redisReply *compat_cmd(redisContext *c, const char *fmt, ...);
redisReply *compat_cmd_argv(redisContext *c, int argc, const char **argv, const size_t *lens);
redisReply *compat_get(redisContext *c);

/* A one-line rendering of a reply: "[\"message\",\"ch\",1]", "-ERR ...",
 * "+OK", "nil"; binary bytes as \xNN; long output is cut. Returns buf. */
char *compat_repr(const redisReply *r, char *buf, size_t len);

/* Renders a reply and compares it with the expected rendering; on mismatch
 * records "WHAT: got X, expected Y" and returns -1. */
int compat_expect(const redisReply *r, const char *expected, const char *what);

/* Same, for a reply that is a status/simple string reply. */
int compat_expect_str(const redisReply *r, const char *s, const char *what);

/* compat_expect() with the expected rendering given as a printf format. */
int compat_expectf(const redisReply *r, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The quoted rendering of a C string, in one of 16 rotating static buffers
 * (valid until 16 more calls): for building expected renderings. */
const char *compat_q(const char *s);

/* Writes "<compat_tag>-SUFFIX" into buf; returns buf. */
char *compat_name(char *buf, size_t len, const char *suffix);

/* Renders bytes as a quoted string with escapes into buf; returns buf. */
char *compat_quote(const char *p, size_t len, char *buf, size_t buflen);

/* Monotonic milliseconds. */
long long compat_now_ms(void);

#define EXPECT(reply, expected, what) \
    do { if (compat_expect((reply), (expected), (what)) != 0) return -1; } while (0)
#define EXPECTF(reply, what, ...) \
    do { if (compat_expectf((reply), (what), __VA_ARGS__) != 0) return -1; } while (0)

/* Evaluates an expression yielding a pointer; returns -1 from the check when
 * it is NULL (the helper has recorded why). */
#define TRY(x) do { if ((x) == NULL) return -1; } while (0)

#endif
