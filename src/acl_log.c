/* acl_log.c -- ACL LOG: the recent permission denials, newest first, with
 * similar events folded together, and the denial counters. */
#include "acl.h"

#include <string.h>

#include "config.h"
#include "mem.h"
#include "util.h"

#define LOG_GROUP_MS 60000          /* similar log events fold within this */
#define LOG_GROUP_SCAN 10           /* newest entries looked at for folding */

static struct {
    acl_log_entry *log;         /* owned, newest first */
    size_t log_len;
    long long denied[5];        /* by ACL_DENIED_* */
} L;

static void entry_free(acl_log_entry *e) {
    mem_free(e->object);
    mem_free(e->username);
    mem_free(e->client_info);
}

void acl_log_add(int reason, int context, const char *object, size_t object_len, const char *user,
                 size_t user_len, const char *client_info, size_t client_info_len) {
    if (reason >= 0 && reason < 5) L.denied[reason]++;
    long long now = util_time_ms();
    for (size_t i = 0; i < L.log_len && i < LOG_GROUP_SCAN; i++) {
        acl_log_entry *e = &L.log[i];
        long long delta = now - e->ctime_ms;
        if (e->reason != reason || e->context != context || delta > LOG_GROUP_MS || delta < -LOG_GROUP_MS ||
            e->object_len != object_len || memcmp(e->object, object, object_len) != 0 ||
            e->username_len != user_len || memcmp(e->username, user, user_len) != 0)
            continue;
        /* Fold into this entry and move it to the front. */
        acl_log_entry moved = *e;
        mem_free(moved.client_info);
        moved.client_info = mem_strndup(client_info, client_info_len);
        moved.client_info_len = client_info_len;
        moved.ctime_ms = now;
        moved.count++;
        memmove(&L.log[1], &L.log[0], sizeof(acl_log_entry) * i);
        L.log[0] = moved;
        return;
    }
    L.log = mem_realloc(L.log, sizeof(acl_log_entry) * (L.log_len + 1));
    memmove(&L.log[1], &L.log[0], sizeof(acl_log_entry) * L.log_len);
    L.log_len++;
    acl_log_entry *e = &L.log[0];
    e->count = 1;
    e->reason = reason;
    e->context = context;
    e->object = mem_strndup(object, object_len);
    e->object_len = object_len;
    e->username = mem_strndup(user, user_len);
    e->username_len = user_len;
    e->ctime_ms = now;
    e->client_info = mem_strndup(client_info, client_info_len);
    e->client_info_len = client_info_len;
    long long max = cfg.acllog_max_len < 0 ? 0 : cfg.acllog_max_len;
    while ((long long)L.log_len > max) entry_free(&L.log[--L.log_len]);
    if (L.log_len == 0) {
        mem_free(L.log);
        L.log = NULL;
    }
}

size_t acl_log_count(void) {
    return L.log_len;
}

const acl_log_entry *acl_log_at(size_t i) {
    return i < L.log_len ? &L.log[i] : NULL;
}

void acl_log_reset(void) {
    for (size_t i = 0; i < L.log_len; i++) entry_free(&L.log[i]);
    mem_free(L.log);
    L.log = NULL;
    L.log_len = 0;
}

long long acl_denied_count(int reason) {
    return reason >= 0 && reason < 5 ? L.denied[reason] : 0;
}
