/* cmd_pause.c -- CLIENT PAUSE <ms> [WRITE|ALL] and CLIENT UNPAUSE.
 *
 * While a pause is in force, commands_dispatch() asks cmd_pause_holds()
 * about each command from a client's input once its checks have passed
 * (so an unknown command, an arity, NOAUTH or ACL error is still answered
 * at once, as in Redis). A held command is copied by client.c, which stops
 * running that client's input: its pipeline waits behind it, and nothing
 * spins, since the loop only wakes for the pause's timer. When the pause
 * ends (timeout or UNPAUSE) the held commands run in the order they were
 * held, each followed by the rest of its client's input.
 *
 * What is held, as redis-server 7.0 does it:
 *   ALL    every command of every client but monitors (Redis never pauses
 *          its replicas, and a monitor is one there), the pausing client
 *          included: its own UNPAUSE waits too.
 *   WRITE  the commands that write or may replicate: PUBLISH, SPUBLISH,
 *          FLUSHALL, FLUSHDB; queueing one of them in MULTI; and an EXEC
 *          whose queue holds one.
 * Commands that EXEC runs are never held: a pause started inside a
 * transaction starts after it. A new pause keeps the later end and the
 * stricter mode of the two. The pause ends on the loop, never inside a
 * handler, so UNPAUSE's reply comes before anything it releases. */
#include "cmd_handlers.h"

#include <limits.h>
#include <string.h>

#include "client.h"
#include "ev.h"
#include "util.h"

enum { PAUSE_NONE = 0, PAUSE_WRITE = 1, PAUSE_ALL = 2 };

int cmd_pause_mode;

static long long pause_end_ms;     /* monotonic ms when the pause ends */
static long long pause_timer;      /* id of the timer that ends it, 0 if none */

static long long now_ms(void) {
    return util_monotonic_us() / 1000;
}

/* Writes or may replicate, in Redis's terms. PUBLISH and SPUBLISH are
 * may-replicate commands there without saying so in COMMAND INFO. */
static bool is_write(const command *cmd) {
    return cmd->proc == cmd_publish || cmd->proc == cmd_spublish || commands_has_flag(cmd, "write") ||
           commands_has_flag(cmd, "may_replicate");
}

static bool queue_has_write(const client *c) {
    for (int i = 0; i < c->multi_count; i++) {
        const slice *argv = c->multi[i].argv;
        const command *cmd = commands_lookup(argv[0].ptr, argv[0].len);
        if (cmd && is_write(cmd)) return true;
    }
    return false;
}

bool cmd_pause_holds(const client *c, const command *run) {
    if (c->flags & CLIENT_MONITOR) return false;
    if (cmd_pause_mode == PAUSE_ALL) return true;
    if (is_write(run)) return true;
    return run->proc == cmd_exec && queue_has_write(c);
}

/* The timer: ends the pause when its time has come (or UNPAUSE ended it),
 * then runs what was held. */
static long long on_pause_timer(ev_loop *loop, long long id, void *data) {
    (void)loop, (void)id, (void)data;
    if (cmd_pause_mode != PAUSE_NONE) {
        long long left = pause_end_ms - now_ms();
        if (left > 0) return left > INT_MAX ? INT_MAX : left;
    }
    cmd_pause_mode = PAUSE_NONE;
    pause_timer = 0;
    client_release_held();
    return -1;
}

static void arm_timer(long long delay_ms) {
    if (pause_timer) ev_del_timer(cmd_env.loop, pause_timer);
    pause_timer = ev_add_timer(cmd_env.loop, delay_ms, on_pause_timer, NULL);
}

void cmd_client_pause(client *c, int argc, slice *argv) {
    if (argc > 4) {
        commands_reply_subcommand_syntax(c, &argv[0], &argv[1]);
        return;
    }
    int mode = PAUSE_ALL;
    if (argc == 4) {
        if (util_eq_nocase(argv[3].ptr, argv[3].len, "write")) mode = PAUSE_WRITE;
        else if (util_eq_nocase(argv[3].ptr, argv[3].len, "all")) mode = PAUSE_ALL;
        else {
            client_add_error(c, "ERR CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    }
    long long ms;
    if (!util_parse_ll(argv[2].ptr, argv[2].len, &ms)) {
        client_add_error(c, "ERR timeout is not an integer or out of range");
        return;
    }
    if (ms < 0) {
        client_add_error(c, "ERR timeout is negative");
        return;
    }
    long long now = now_ms();
    /* Redis adds the timeout to its clock unchecked: past LLONG_MAX the end
     * wraps into the past and the pause is over at once. So it is here,
     * without the overflow. */
    long long end = ms > LLONG_MAX - util_time_ms() ? now : now + ms;
    if (cmd_pause_mode == PAUSE_NONE || end > pause_end_ms) pause_end_ms = end;
    if (mode > cmd_pause_mode) cmd_pause_mode = mode;
    /* The timer re-arms itself until the end, so a longer pause needs none. */
    if (!pause_timer) arm_timer(pause_end_ms - now > INT_MAX ? INT_MAX : pause_end_ms - now);
    client_add_ok(c);
}

void cmd_client_unpause(client *c, int argc, slice *argv) {
    (void)argc, (void)argv;
    if (cmd_pause_mode != PAUSE_NONE) {
        cmd_pause_mode = PAUSE_NONE;
        arm_timer(0);   /* release from the loop, after this reply */
    }
    client_add_ok(c);
}
