/* history_log.c -- Channel histories in append-only files (contract in
 * history_log.h).
 *
 * Data flow: history_append() -> history_log_appended() encodes one ENTRY
 * record into a scratch buffer and write(2)s it to the history's file
 * (opened on the first append), then fdatasyncs under `always`. The cron
 * (history_log_cron, once a second) fdatasyncs dirty files under
 * `everysec`, rewrites files that are mostly dead, and retries files that
 * failed. Start-up reads each file whole, replays its records through
 * history.c, skips a stretch that does not hold to the next record that
 * does (then rewrites the file), and cuts a tail that has none.
 *
 * Each open file keeps: its size (always a whole number of records: a
 * short or failed write is cut back with ftruncate), its live bytes (the
 * records of entries still in memory, plus header and meta: the rest is
 * dead), and its bytes written since the last fdatasync. A broken file
 * (its last write failed, or it could not be created) is not written to;
 * the cron rewrites it from memory, which also restores what was missed.
 *
 * Deliberately not here: a background thread (DESIGN.md: one thread), so
 * fsyncs and rewrites run inline and are measured for INFO. */
#include "history_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "frame.h"
#include "log.h"
#include "mem.h"
#include "util.h"

#define FILE_SUFFIX ".hlog"
#define TMP_SUFFIX ".tmp"
#define HEX_NAME_MAX 100        /* channel bytes spelled in hex in the file name */
#define HASH_INDEX_MAX 1000

typedef struct history_log_file {
    history *h;               /* borrowed: the history this file holds */
    char *path;               /* owned: relative to the working directory */
    int fd;                   /* -1 when broken */
    long long size;           /* bytes of whole records in the file */
    long long live;           /* bytes of records still alive */
    long long pending;        /* bytes written since the last fdatasync */
    bool broken;              /* last write failed: memory-only until rewritten */
    bool trim_pending;        /* entries up to trim_id were evicted, not yet recorded */
    history_id trim_id;
    struct history_log_file *prev, *next;
} history_log_file;

bool history_log_enabled;

static struct {
    char *dir;                /* owned */
    int policy;
    history_log_file *files;  /* every open or broken file */
    buf scratch;
    bool loading;
    long long last_cron_ms;
    long long last_sync_ms;   /* wall ms of the last successful fsync (or start) */
    long long fsyncs, fsync_us_total, fsync_us_max;
    long long write_errors, compactions, loaded_entries, truncated_files, skipped_records;
    long long last_err_log_ms, errors_since_log;
    char last_error[256];
} L = {.policy = HISTORY_LOG_FSYNC_EVERYSEC};

/* ------------------------------------------------------------------------
 * Record codec
 * ------------------------------------------------------------------------ */

static uint32_t crc_table[256];

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t history_log_crc32(uint32_t crc, const void *p, size_t len) {
    if (crc_table[1] == 0) crc_init();
    const unsigned char *s = p;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) crc = crc_table[(crc ^ s[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static void put_u32(unsigned char *d, uint32_t v) {
    for (int i = 0; i < 4; i++) d[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *d, uint64_t v) {
    for (int i = 0; i < 8; i++) d[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *s) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | s[i];
    return v;
}

static uint64_t get_u64(const unsigned char *s) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | s[i];
    return v;
}

void history_log_encode(buf *out, const history_log_record *r) {
    unsigned char fixed[1 + 40];
    size_t nfixed = 1;
    fixed[0] = (unsigned char)r->type;
    const char *tail = NULL;
    size_t tail_len = 0;
    switch (r->type) {
    case HISTORY_LOG_REC_HEADER:
        memcpy(fixed + 1, "RPHL\x01", 5);
        nfixed = 6;
        tail = r->data, tail_len = r->len;
        break;
    case HISTORY_LOG_REC_META:
        put_u64(fixed + 1, r->id.ms), put_u64(fixed + 9, r->id.seq);
        put_u64(fixed + 17, r->id2.ms), put_u64(fixed + 25, r->id2.seq);
        put_u64(fixed + 33, r->n);
        nfixed = 41;
        break;
    default: /* ENTRY, DEL, TRIM: an id, then the payload for ENTRY */
        put_u64(fixed + 1, r->id.ms), put_u64(fixed + 9, r->id.seq);
        nfixed = 17;
        if (r->type == HISTORY_LOG_REC_ENTRY) tail = r->data, tail_len = r->len;
        break;
    }
    unsigned char head[HISTORY_LOG_FRAME_LEN];
    uint32_t crc = history_log_crc32(0, fixed, nfixed);
    if (tail_len) crc = history_log_crc32(crc, tail, tail_len);
    put_u32(head, (uint32_t)(nfixed + tail_len));
    put_u32(head + 4, crc);
    buf_reserve(out, sizeof(head) + nfixed + tail_len);
    buf_append(out, head, sizeof(head));
    buf_append(out, fixed, nfixed);
    if (tail_len) buf_append(out, tail, tail_len);
}

int history_log_decode(const char *p, size_t len, history_log_record *r, size_t *used) {
    const unsigned char *s = (const unsigned char *)p;
    if (len < HISTORY_LOG_FRAME_LEN) return HISTORY_LOG_TORN;
    uint32_t body_len = get_u32(s), crc = get_u32(s + 4);
    if (body_len == 0 || body_len > HISTORY_LOG_MAX_BODY) return HISTORY_LOG_CORRUPT;
    if (len - HISTORY_LOG_FRAME_LEN < body_len) return HISTORY_LOG_TORN;
    const unsigned char *b = s + HISTORY_LOG_FRAME_LEN;
    if (history_log_crc32(0, b, body_len) != crc) return HISTORY_LOG_CORRUPT;
    history_log_record out = {.type = b[0]};
    switch (b[0]) {
    case HISTORY_LOG_REC_HEADER:
        if (body_len < 6 || memcmp(b + 1, "RPHL\x01", 5) != 0) return HISTORY_LOG_CORRUPT;
        out.data = (const char *)b + 6, out.len = body_len - 6;
        break;
    case HISTORY_LOG_REC_META:
        if (body_len != 41) return HISTORY_LOG_CORRUPT;
        out.id = (history_id){get_u64(b + 1), get_u64(b + 9)};
        out.id2 = (history_id){get_u64(b + 17), get_u64(b + 25)};
        out.n = get_u64(b + 33);
        break;
    case HISTORY_LOG_REC_ENTRY:
    case HISTORY_LOG_REC_DEL:
    case HISTORY_LOG_REC_TRIM:
        if (body_len < 17 || (b[0] != HISTORY_LOG_REC_ENTRY && body_len != 17)) return HISTORY_LOG_CORRUPT;
        out.id = (history_id){get_u64(b + 1), get_u64(b + 9)};
        if (b[0] == HISTORY_LOG_REC_ENTRY) out.data = (const char *)b + 17, out.len = body_len - 17;
        break;
    default:
        return HISTORY_LOG_CORRUPT;
    }
    *r = out;
    *used = HISTORY_LOG_FRAME_LEN + body_len;
    return HISTORY_LOG_OK;
}

/* ------------------------------------------------------------------------
 * Errors and syncing
 * ------------------------------------------------------------------------ */

/* Counts a disk error and logs it, at most one line a second. */
static void disk_error(const char *what, const char *path) {
    L.write_errors++;
    snprintf(L.last_error, sizeof(L.last_error), "%s %s: %s", what, path, strerror(errno));
    long long now = util_monotonic_us() / 1000;
    if (now - L.last_err_log_ms >= 1000) {
        if (L.errors_since_log)
            log_warning("Channel history: %s (and %lld more disk errors); the history stays in memory until "
                        "its file can be written again",
                        L.last_error, L.errors_since_log);
        else
            log_warning("Channel history: %s; the history stays in memory until its file can be written again",
                        L.last_error);
        L.last_err_log_ms = now;
        L.errors_since_log = 0;
    } else {
        L.errors_since_log++;
    }
}

static int sync_fd(int fd) {
    long long t0 = util_monotonic_us();
    int rc = fdatasync(fd);
    long long us = util_monotonic_us() - t0;
    if (rc == 0) {
        L.fsyncs++;
        L.fsync_us_total += us;
        if (us > L.fsync_us_max) L.fsync_us_max = us;
    }
    return rc;
}

static void file_sync(history_log_file *lf) {
    if (lf->fd == -1 || lf->pending == 0) return;
    if (sync_fd(lf->fd) == -1) {
        disk_error("fdatasync", lf->path);
        return;
    }
    lf->pending = 0;
    L.last_sync_ms = util_time_ms();
}

/* Writes all of b to fd; -1 with errno on failure. */
static int write_all(int fd, const char *p, size_t len) {
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        p += n, len -= (size_t)n;
    }
    return 0;
}

/* Appends the scratch buffer to lf; on failure cuts the file back to its
 * last whole record and marks it broken. */
static void file_write_scratch(history_log_file *lf) {
    if (lf->broken || lf->fd == -1) return;
    if (write_all(lf->fd, L.scratch.data, L.scratch.len) == -1) {
        int saved = errno;
        /* Best effort: a torn tail left behind is cut at the next load. */
        if (ftruncate(lf->fd, (off_t)lf->size) == -1)
            log_verbose("Channel history: ftruncate %s: %s", lf->path, strerror(errno));
        errno = saved;
        disk_error("write", lf->path);
        lf->broken = true;
        return;
    }
    lf->size += (long long)L.scratch.len;
    lf->pending += (long long)L.scratch.len;
    if (L.policy == HISTORY_LOG_FSYNC_ALWAYS) file_sync(lf);
}

/* Empties the scratch buffer for lf's next write, starting it with the
 * TRIM record of entries the memory cap evicted since lf's last record:
 * one write(2) carries both, and the eviction is on disk before any
 * later record. */
static void scratch_start(history_log_file *lf) {
    L.scratch.len = 0;
    if (!lf->trim_pending) return;
    history_log_record t = {.type = HISTORY_LOG_REC_TRIM, .id = lf->trim_id};
    history_log_encode(&L.scratch, &t);
    lf->trim_pending = false;
}

/* ------------------------------------------------------------------------
 * Files
 * ------------------------------------------------------------------------ */

static void header_record(buf *out, const history *h) {
    history_log_record r = {.type = HISTORY_LOG_REC_HEADER, .data = h->name, .len = h->name_len};
    history_log_encode(out, &r);
}

static uint64_t fnv1a64(const char *p, size_t len) {
    uint64_t x = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) x = (x ^ (unsigned char)p[i]) * 0x100000001b3ull;
    return x;
}

/* The file name for h: "c-<hex>.hlog" for names up to HEX_NAME_MAX bytes,
 * else "x-<fnv64>-<idx>.hlog". */
static char *file_path(const history *h, int idx) {
    buf b = {0};
    buf_printf(&b, "%s/", L.dir);
    if (h->name_len <= HEX_NAME_MAX) {
        buf_append_str(&b, "c-");
        for (size_t i = 0; i < h->name_len; i++) buf_printf(&b, "%02x", (unsigned char)h->name[i]);
    } else {
        buf_printf(&b, "x-%016llx-%d", (unsigned long long)fnv1a64(h->name, h->name_len), idx);
    }
    buf_append_str(&b, FILE_SUFFIX);
    buf_append_char(&b, '\0');
    return b.data;
}

/* Whether the file at path names a channel other than h's (an unreadable
 * or headerless file counts as other: it is not overwritten). */
static bool file_is_other(const char *path, const history *h) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) return true;
    buf head = {0};
    size_t want = HISTORY_LOG_FRAME_LEN + 6 + h->name_len;
    buf_reserve(&head, want);
    ssize_t n = pread(fd, head.data, want, 0);
    close(fd);
    history_log_record r;
    size_t used;
    bool other = n != (ssize_t)want || history_log_decode(head.data, want, &r, &used) != HISTORY_LOG_OK ||
                 r.type != HISTORY_LOG_REC_HEADER || r.len != h->name_len || memcmp(r.data, h->name, r.len) != 0;
    buf_free(&head);
    return other;
}

static history_log_file *file_attach(history *h, char *path, int fd, long long size, long long live) {
    history_log_file *lf = mem_calloc(sizeof(*lf));
    lf->h = h;
    lf->path = path;
    lf->fd = fd;
    lf->size = size;
    lf->live = live;
    lf->broken = fd == -1;
    lf->next = L.files;
    if (L.files) L.files->prev = lf;
    L.files = lf;
    h->log = lf;
    return lf;
}

static void file_free(history_log_file *lf) {
    if (lf->prev) lf->prev->next = lf->next;
    else L.files = lf->next;
    if (lf->next) lf->next->prev = lf->prev;
    if (lf->fd != -1) close(lf->fd);
    lf->h->log = NULL;
    mem_free(lf->path);
    mem_free(lf);
}

static void fsync_dir(void) {
    int fd = open(L.dir, O_RDONLY);
    if (fd == -1) return;
    if (fsync(fd) == -1 && errno != EINVAL) disk_error("fsync", L.dir);
    close(fd);
}

/* Bytes of h's records that a rewrite would keep. */
static long long live_bytes(const history *h) {
    buf b = {0};
    header_record(&b, h);
    long long n = (long long)b.len + (long long)HISTORY_LOG_FRAME_LEN + 41;
    buf_free(&b);
    for (size_t i = 0; i < h->count; i++) n += (long long)history_log_entry_size(history_at(h, i)->payload_len);
    return n;
}

/* Writes h's whole state to a temp file, syncs it and renames it over
 * lf's path. Returns 0, or -1 (counted, logged; lf unchanged). */
static int file_rewrite(history_log_file *lf) {
    history *h = lf->h;
    buf tmp = {0};
    buf_printf(&tmp, "%s%s", lf->path, TMP_SUFFIX);
    buf_append_char(&tmp, '\0');
    int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd == -1) {
        disk_error("open", tmp.data);
        buf_free(&tmp);
        return -1;
    }
    buf out = {0};
    header_record(&out, h);
    history_log_record meta = {.type = HISTORY_LOG_REC_META, .id = h->last_id, .id2 = h->max_deleted_id,
                               .n = h->entries_added - (uint64_t)h->count};
    history_log_encode(&out, &meta);
    int rc = 0;
    for (size_t i = 0; i < h->count && rc == 0; i++) {
        const history_entry *e = history_at(h, i);
        size_t blen;
        const char *bulk = history_entry_bulk(e, &blen);
        history_log_record r = {.type = HISTORY_LOG_REC_ENTRY, .id = e->id,
                                .data = bulk + (blen - e->payload_len - 2), .len = e->payload_len};
        history_log_encode(&out, &r);
        if (out.len >= 1 << 20 || i + 1 == h->count) {
            rc = write_all(fd, out.data, out.len);
            out.len = 0;
        }
    }
    if (rc == 0 && out.len) rc = write_all(fd, out.data, out.len);
    const char *what = "write";
    long long size = 0;
    if (rc == 0) {
        what = "fdatasync";
        rc = sync_fd(fd);
    }
    if (rc == 0) {
        what = "rename";
        rc = rename(tmp.data, lf->path);
    }
    if (rc == -1) {
        disk_error(what, tmp.data);
        close(fd);
        unlink(tmp.data);
        buf_free(&tmp);
        buf_free(&out);
        return -1;
    }
    fsync_dir();
    struct stat st;
    size = fstat(fd, &st) == 0 ? (long long)st.st_size : 0;
    if (lf->fd != -1) close(lf->fd);
    lf->fd = fd;
    lf->size = size;
    lf->live = size;
    lf->pending = 0;
    lf->broken = false;
    lf->trim_pending = false;   /* the new file holds what memory holds */
    L.last_sync_ms = util_time_ms();
    buf_free(&tmp);
    buf_free(&out);
    return 0;
}

/* Creates h's file (first append). A broken placeholder if it cannot. */
static history_log_file *file_create(history *h) {
    for (int idx = 0; idx < HASH_INDEX_MAX; idx++) {
        char *path = file_path(h, idx);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
        if (fd == -1 && errno == EEXIST) {
            /* A file of this name no rule matched at start-up: ours if it
             * names our channel (then start it afresh), else the next index. */
            if (h->name_len > HEX_NAME_MAX && file_is_other(path, h)) {
                mem_free(path);
                continue;
            }
            fd = open(path, O_WRONLY | O_TRUNC | O_APPEND | O_CLOEXEC);
        }
        if (fd == -1) {
            disk_error("open", path);
            return file_attach(h, path, -1, 0, 0);
        }
        history_log_file *lf = file_attach(h, path, fd, 0, 0);
        L.scratch.len = 0;
        header_record(&L.scratch, h);
        file_write_scratch(lf);
        lf->live = lf->size;
        return lf;
    }
    errno = EEXIST;
    char *path = file_path(h, HASH_INDEX_MAX);
    disk_error("open", path);
    return file_attach(h, path, -1, 0, 0);
}

/* ------------------------------------------------------------------------
 * Hooks from history.c
 * ------------------------------------------------------------------------ */

void history_log_appended(history *h, const history_entry *e) {
    if (L.loading) return;
    history_log_file *lf = h->log ? h->log : file_create(h);
    size_t rec = history_log_entry_size(e->payload_len);
    lf->live += (long long)rec;
    if (lf->broken) return;
    size_t blen;
    const char *bulk = history_entry_bulk(e, &blen);
    history_log_record r = {.type = HISTORY_LOG_REC_ENTRY, .id = e->id,
                            .data = bulk + (blen - e->payload_len - 2), .len = e->payload_len};
    scratch_start(lf);
    history_log_encode(&L.scratch, &r);
    file_write_scratch(lf);
}

void history_log_released(history *h, const history_entry *e) {
    h->log->live -= (long long)history_log_entry_size(e->payload_len);
}

static void small_record(history *h, int type, history_id id) {
    if (L.loading || h->log->broken) return;
    history_log_record r = {.type = type, .id = id};
    scratch_start(h->log);
    history_log_encode(&L.scratch, &r);
    file_write_scratch(h->log);
}

void history_log_evicted(history *h, history_id id) {
    history_log_file *lf = h->log;
    if (lf->broken) return;
    if (!lf->trim_pending || history_id_cmp(id, lf->trim_id) > 0) lf->trim_id = id;
    lf->trim_pending = true;
}

/* Writes lf's pending eviction record alone (cron, shutdown). */
static void flush_evictions(history_log_file *lf) {
    if (!lf->trim_pending || lf->broken) return;
    scratch_start(lf);
    file_write_scratch(lf);
}

void history_log_deleted(history *h, history_id id) {
    small_record(h, HISTORY_LOG_REC_DEL, id);
}

void history_log_trimmed(history *h, history_id last_removed) {
    small_record(h, HISTORY_LOG_REC_TRIM, last_removed);
}

void history_log_destroyed(history *h, bool remove_file) {
    history_log_file *lf = h->log;
    if (remove_file) {
        if (unlink(lf->path) == -1 && errno != ENOENT) disk_error("unlink", lf->path);
    } else {
        flush_evictions(lf);
        file_sync(lf);
    }
    file_free(lf);
}

/* ------------------------------------------------------------------------
 * Loading
 * ------------------------------------------------------------------------ */

/* Builds the RESP2 message frame a PUBLISH would have shared, and returns
 * the offset of the payload's bulk in it. */
static frame *message_frame(const history *h, const char *p, size_t len, size_t *off) {
    buf b = {0};
    buf_printf(&b, "*3\r\n$7\r\nmessage\r\n$%zu\r\n", h->name_len);
    buf_append(&b, h->name, h->name_len);
    buf_append_str(&b, "\r\n");
    *off = b.len;
    buf_printf(&b, "$%zu\r\n", len);
    buf_append(&b, p, len);
    buf_append_str(&b, "\r\n");
    frame *f = frame_new(b.len);
    memcpy(f->data, b.data, b.len);
    f->len = b.len;
    buf_free(&b);
    return f;
}

static int read_whole(int fd, buf *out) {
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) return 0;
        buf_append(out, chunk, (size_t)n);
    }
}

static void replay(history *h, const history_log_record *r) {
    switch (r->type) {
    case HISTORY_LOG_REC_META:
        if (history_id_cmp(r->id, h->last_id) > 0) h->last_id = r->id;
        if (history_id_cmp(r->id2, h->max_deleted_id) > 0) h->max_deleted_id = r->id2;
        h->entries_added = r->n;
        break;
    case HISTORY_LOG_REC_ENTRY: {
        size_t off;
        frame *f = message_frame(h, r->data, r->len, &off);
        history_append_loaded(h, f, off, r->len, r->id);
        frame_release(f);
        L.loaded_entries++;
        break;
    }
    case HISTORY_LOG_REC_DEL:
        history_delete(h, r->id);
        break;
    case HISTORY_LOG_REC_TRIM: {
        history_id minid = r->id;
        if (history_id_incr(&minid) == 0) history_trim_minid(h, minid, false, 0);
        break;
    }
    default: /* a second HEADER: ignored */
        break;
    }
}

#define RESYNC_CRC_BUDGET (64LL << 20)   /* bytes checksummed looking for the next record */

/* After a record that does not hold at pos: the offset of the next one
 * that does (a whole record with a valid checksum, and if an entry, one
 * past the last entry loaded), or data->len if there is none. A crash tears
 * only the tail, where this finds nothing; a flipped byte or a bad sector
 * in the middle then costs only the records it hit. The search gives up
 * past RESYNC_CRC_BUDGET checksummed bytes (garbage with plausible
 * lengths would make it quadratic). */
static size_t resync(const buf *data, size_t pos, history_id last_entry) {
    long long budget = RESYNC_CRC_BUDGET;
    for (size_t q = pos + 1; q + HISTORY_LOG_FRAME_LEN + 17 <= data->len && budget > 0; q++) {
        const unsigned char *s = (const unsigned char *)data->data + q;
        unsigned type = s[HISTORY_LOG_FRAME_LEN];
        if (type < HISTORY_LOG_REC_META || type > HISTORY_LOG_REC_TRIM) continue;
        uint32_t body_len = get_u32(s);
        if (body_len < 17 || body_len > data->len - q - HISTORY_LOG_FRAME_LEN) continue;
        budget -= body_len;
        history_log_record r;
        size_t used;
        if (history_log_decode(data->data + q, data->len - q, &r, &used) != HISTORY_LOG_OK) continue;
        if (r.type == HISTORY_LOG_REC_ENTRY && history_id_cmp(r.id, last_entry) <= 0) continue;
        return q;
    }
    return data->len;
}

static void load_file(const char *name) {
    buf pb = {0};
    buf_printf(&pb, "%s/%s", L.dir, name);
    buf_append_char(&pb, '\0');
    char *path = pb.data;
    int fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
    buf data = {0};
    if (fd == -1 || read_whole(fd, &data) == -1) {
        disk_error(fd == -1 ? "open" : "read", path);
        if (fd != -1) close(fd);
        buf_free(&data);
        mem_free(path);
        return;
    }
    history_log_record r;
    size_t used = 0;
    int st = history_log_decode(data.data, data.len, &r, &used);
    if (st != HISTORY_LOG_OK || r.type != HISTORY_LOG_REC_HEADER) {
        log_warning("!!! Warning: history file %s has no valid header (%zu bytes): left as it is", path,
                    data.len);
        close(fd);
        buf_free(&data);
        mem_free(path);
        return;
    }
    history *h = history_for_publish(r.data, r.len);
    if (!h || h->log) {
        log_notice("History file %s: no channel-history rule matches its channel (or it is a duplicate); "
                   "left as it is",
                   path);
        close(fd);
        buf_free(&data);
        mem_free(path);
        return;
    }
    size_t pos = used;
    long long records = 0;
    bool skipped = false;
    history_id last_entry = {0, 0};   /* entries' ids only grow (a META's last id may be ahead of them) */
    while (pos < data.len) {
        st = history_log_decode(data.data + pos, data.len - pos, &r, &used);
        if (st == HISTORY_LOG_OK && r.type == HISTORY_LOG_REC_ENTRY) {
            if (history_id_cmp(r.id, last_entry) <= 0) st = HISTORY_LOG_CORRUPT;
            else last_entry = r.id;
        }
        if (st != HISTORY_LOG_OK) {
            size_t next = resync(&data, pos, last_entry);
            if (next == data.len) break;
            log_warning("!!! Warning: history file %s: %s record at offset %zu; skipped %zu bytes to the next "
                        "record that holds. The file will be rewritten without them.",
                        path, st == HISTORY_LOG_TORN ? "torn (short)" : "corrupt", pos, next - pos);
            L.skipped_records++;
            skipped = true;
            pos = next;
            continue;
        }
        replay(h, &r);
        pos += used;
        records++;
    }
    if (pos < data.len) {
        log_warning("!!! Warning: history file %s: %s record at offset %zu (%zu bytes after it). Truncating the "
                    "file there and loading the %lld records before it.",
                    path, st == HISTORY_LOG_TORN ? "torn (short)" : "corrupt", pos, data.len - pos, records);
        L.truncated_files++;
        if (ftruncate(fd, (off_t)pos) == -1) disk_error("ftruncate", path);
    }
    log_verbose("History of channel loaded from %s: %lld records, %zu entries kept", path, records, h->count);
    history_log_file *lf = file_attach(h, path, fd, (long long)pos, 0);
    lf->live = live_bytes(h);
    /* Skipped bytes stay out of the file (a failed rewrite: skipped again
     * at the next load). */
    if (skipped) file_rewrite(lf);
    buf_free(&data);
}

int history_log_start(const char *dir, char *err, size_t errlen) {
    if (!dir || !dir[0]) return 0;
    if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
        snprintf(err, errlen, "channel-history-dir %s: mkdir: %s", dir, strerror(errno));
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "channel-history-dir %s: %s", dir, strerror(errno));
        return -1;
    }
    mem_free(L.dir);
    L.dir = mem_strdup(dir);
    history_log_enabled = true;
    L.last_sync_ms = util_time_ms();
    L.loading = true;
    long long t0 = util_monotonic_us(), files = 0, entries0 = L.loaded_entries;
    struct dirent *de;
    size_t slen = strlen(FILE_SUFFIX), tlen = strlen(FILE_SUFFIX TMP_SUFFIX);
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n > tlen && strcmp(de->d_name + n - tlen, FILE_SUFFIX TMP_SUFFIX) == 0) {
            /* A rewrite that did not finish: the file it was to replace is intact. */
            buf p = {0};
            buf_printf(&p, "%s/%s", dir, de->d_name);
            buf_append_char(&p, '\0');
            unlink(p.data);
            buf_free(&p);
        } else if (n > slen && strcmp(de->d_name + n - slen, FILE_SUFFIX) == 0) {
            load_file(de->d_name);
            files++;
        }
    }
    closedir(d);
    L.loading = false;
    history_loaded();
    log_notice("Channel history loaded from %s: %lld files, %lld entries read in %.3f seconds", dir, files,
               L.loaded_entries - entries0, (double)(util_monotonic_us() - t0) / 1e6);
    return 0;
}

void history_log_set_fsync(int policy) {
    L.policy = policy;
}

void history_log_shutdown(void) {
    while (L.files) {
        flush_evictions(L.files);
        file_sync(L.files);
        file_free(L.files);
    }
    buf_free(&L.scratch);
    L.scratch = (buf){0};
    mem_free(L.dir);
    L.dir = NULL;
    history_log_enabled = false;
}

/* ------------------------------------------------------------------------
 * Cron and stats
 * ------------------------------------------------------------------------ */

void history_log_cron(void) {
    if (!history_log_enabled) return;
    long long now = util_monotonic_us() / 1000;
    if (now - L.last_cron_ms < 1000) return;
    L.last_cron_ms = now;
    for (history_log_file *lf = L.files; lf; lf = lf->next) {
        if (lf->broken) {
            file_rewrite(lf);          /* also restores what was missed */
            continue;
        }
        long long dead = lf->size - lf->live;
        if (dead > lf->live && dead >= HISTORY_LOG_COMPACT_MIN) {
            if (file_rewrite(lf) == 0) L.compactions++;
            continue;
        }
        flush_evictions(lf);
        if (L.policy == HISTORY_LOG_FSYNC_EVERYSEC) file_sync(lf);
    }
}

void history_log_get_stats(history_log_stats *st) {
    memset(st, 0, sizeof(*st));
    st->enabled = history_log_enabled;
    st->fsync_policy = L.policy;
    for (history_log_file *lf = L.files; lf; lf = lf->next) {
        st->files++;
        st->disk_bytes += lf->size;
        st->pending_bytes += lf->pending;
        if (lf->broken) st->broken_files++;
    }
    st->fsync_lag_ms = st->pending_bytes ? util_time_ms() - L.last_sync_ms : 0;
    st->fsyncs = L.fsyncs;
    st->fsync_us_total = L.fsync_us_total;
    st->fsync_us_max = L.fsync_us_max;
    st->write_errors = L.write_errors;
    st->compactions = L.compactions;
    st->loaded_entries = L.loaded_entries;
    st->truncated_files = L.truncated_files;
    st->skipped_records = L.skipped_records;
    st->last_error = L.last_error;
}
