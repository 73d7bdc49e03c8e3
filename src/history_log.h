/* history_log.h -- Channel histories on disk: one append-only file per
 * history (channel-history-dir), records framed and checksummed, synced by
 * an appendfsync-style policy (channel-history-fsync).
 *
 * Contract:
 *   - Off by default (dir ""): nothing here touches the disk, and the hooks
 *     history.c calls are one branch each.
 *   - A record is <body length u32 LE> <CRC-32 of the body u32 LE> <body>;
 *     the body's first byte is its type (HISTORY_LOG_REC_*), integers are
 *     little-endian u64. Every file starts with a HEADER record naming its
 *     channel (any bytes), so file names need only be unique: the channel
 *     name in hex when short, else a 64-bit FNV-1a hash plus an index.
 *   - Writes are inline write(2)s of whole records in the publish path.
 *     fsync policy: always = fdatasync before PUBLISH returns; everysec =
 *     the cron fdatasyncs each dirty file at most once a second (inline:
 *     DESIGN.md has no threads, so a slow disk shows as a slow cron tick;
 *     INFO reports the fsync cost); no = the kernel decides.
 *   - A write that fails (ENOSPC, EFBIG under a file-size limit, EIO,
 *     EACCES...) is counted and logged (at most a line a second); the file
 *     is cut back to its last whole record and that history is memory-only
 *     until a rewrite from memory succeeds (retried by the cron each
 *     second). Publishing never fails because of the disk.
 *   - Start-up (history_log_start) loads every *.hlog file whose channel a
 *     rule matches: each record whose checksum passes, in order. A record
 *     that does not hold is skipped up to the next one that does (logged;
 *     the file is then rewritten); when none follows, the file is
 *     truncated there (a torn tail, logged). Ids,
 *     entries-added and max-deleted-entry-id continue from the file.
 *     Files whose channel no rule matches are left as they are.
 *   - XDEL and XTRIM are logged as records, and so is eviction by the
 *     memory cap (with the history's next record, or by the cron within a
 *     second: load order must not decide what the cap evicts again);
 *     trimming by count and age is not (it is redone on load). The cron rewrites a file
 *     (temp file, fdatasync, rename, directory fsync) once its dead
 *     records outweigh its live ones (and exceed HISTORY_LOG_COMPACT_MIN
 *     bytes), so disk use stays within about twice the live entries.
 *   - A history dropped because the rules changed has its file removed;
 *     shutdown closes the files (synced) and removes nothing. */
#ifndef HISTORY_LOG_H
#define HISTORY_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history.h"

struct buf;

/* ---- Record codec (pure: no files) --------------------------------------- */

enum {
    HISTORY_LOG_REC_HEADER = 1,  /* "RPHL" <version u8> <channel bytes> */
    HISTORY_LOG_REC_META = 2,    /* last id, max deleted id, entries added before the entries that follow */
    HISTORY_LOG_REC_ENTRY = 3,   /* id, payload bytes */
    HISTORY_LOG_REC_DEL = 4,     /* XDEL of id */
    HISTORY_LOG_REC_TRIM = 5,    /* XTRIM: every entry with an id <= id is gone */
};

#define HISTORY_LOG_FRAME_LEN 8u           /* length + checksum */
#define HISTORY_LOG_MAX_BODY (1u << 30)    /* a longer length field is corruption */
#define HISTORY_LOG_COMPACT_MIN (64 * 1024)

typedef struct history_log_record {
    int type;                 /* HISTORY_LOG_REC_* */
    history_id id;            /* ENTRY, DEL, TRIM; META: last id */
    history_id id2;           /* META: max deleted id */
    uint64_t n;               /* META: entries added */
    const char *data;         /* HEADER: channel, ENTRY: payload; borrowed */
    size_t len;
} history_log_record;

/* Outcomes of history_log_decode(). */
#define HISTORY_LOG_OK 0
#define HISTORY_LOG_TORN 1       /* the bytes end inside a record */
#define HISTORY_LOG_CORRUPT 2    /* checksum, length or body does not hold */

/* CRC-32 (IEEE 802.3, reflected 0xEDB88320), continuing from crc (0 to start). */
uint32_t history_log_crc32(uint32_t crc, const void *p, size_t len);
/* Appends r as one record to out. */
void history_log_encode(struct buf *out, const history_log_record *r);
/* Bytes history_log_encode() writes for an ENTRY of payload_len bytes. */
static inline size_t history_log_entry_size(size_t payload_len) {
    return HISTORY_LOG_FRAME_LEN + 1 + 16 + payload_len;
}
/* Decodes the record at p (len bytes available). On HISTORY_LOG_OK fills
 * *r (data points into p) and *used; otherwise *r and *used are untouched. */
int history_log_decode(const char *p, size_t len, history_log_record *r, size_t *used);

/* ---- Persistence --------------------------------------------------------- */

enum { HISTORY_LOG_FSYNC_ALWAYS = 0, HISTORY_LOG_FSYNC_EVERYSEC = 1, HISTORY_LOG_FSYNC_NO = 2 };

/* True once history_log_start() enabled a directory. */
extern bool history_log_enabled;

/* Enables persistence in dir (created if missing; "" or NULL: stay
 * memory-only) and loads every history file there. Call after the rules
 * are configured. Returns 0, or -1 with err (the directory is unusable). */
int history_log_start(const char *dir, char *err, size_t errlen);
void history_log_set_fsync(int policy);
/* Syncs and closes every file (shutdown). */
void history_log_shutdown(void);
/* Once-a-second work from the server cron: everysec fsyncs, compaction,
 * retries after disk errors. Cheap when there is nothing to do. */
void history_log_cron(void);

/* Hooks history.c calls (no-ops unless enabled). */
void history_log_appended(history *h, const history_entry *e);
void history_log_released(history *h, const history_entry *e);
void history_log_deleted(history *h, history_id id);
void history_log_trimmed(history *h, history_id last_removed);
/* The memory cap evicted h's entries up to id: recorded as a TRIM with h's
 * next record, or by the cron within a second (a crash in between brings
 * them back on load, where the cap evicts again). */
void history_log_evicted(history *h, history_id id);
void history_log_destroyed(history *h, bool remove_file);

typedef struct history_log_stats {
    bool enabled;
    int fsync_policy;
    long long files, disk_bytes, pending_bytes;
    long long fsync_lag_ms;       /* since the last successful fsync; 0 if nothing is pending */
    long long fsyncs, fsync_us_total, fsync_us_max;
    long long write_errors, compactions, broken_files;
    long long loaded_entries, truncated_files;
    long long skipped_records;    /* bad stretches in the middle of files, skipped at load */
    const char *last_error;       /* "" if none */
} history_log_stats;
void history_log_get_stats(history_log_stats *st);

#endif
