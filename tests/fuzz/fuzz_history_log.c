/* fuzz_history_log.c -- Fuzz target for loading channel-history files
 * (src/history_log.c): the record decoder, the cut of a torn tail and the
 * skip over a bad stretch to the next record that holds.
 *
 * Each input becomes the one file of a fresh history directory, loaded by
 * history_log_start() as at start-up, under the rule `f.* 50` (and, when
 * asked, a memory cap). Checks, besides ASan/UBSan and leaks:
 *   - the loaded history's ids strictly increase, and it keeps at most the
 *     rule's 50 entries;
 *   - the loader leaves a file it reads back the same: after a shutdown,
 *     a second load gives exactly the same entries (ids and payloads) and
 *     neither cuts nor skips anything.
 *
 * Input layout:
 *   byte 0      flags: bit 0: prefix a valid HEADER record for channel
 *               "f.c" (so most inputs get past the header check); bit 1:
 *               channel-history-max-memory 4096.
 *   the rest    the file's bytes (after the header, if bit 0). */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "history.h"
#include "history_log.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void fail(const char *what) {
    fprintf(stderr, "fuzz_history_log: %s\n", what);
    abort();
}

static void clear_dir(void) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    char path[512];
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(d);
}

/* The entries of f.c as one comparable byte string: id, length, payload. */
static void snapshot(buf *out) {
    out->len = 0;
    history *h = history_find("f.c", 3);
    if (!h) return;
    if (h->count > 50) fail("more entries than the rule keeps");
    for (size_t i = 0; i < h->count; i++) {
        const history_entry *e = history_at(h, i);
        if (i > 0 && history_id_cmp(history_at(h, i - 1)->id, e->id) >= 0) fail("ids do not increase");
        size_t blen;
        const char *bulk = history_entry_bulk(e, &blen);
        buf_printf(out, "%llu-%llu:%u:", (unsigned long long)e->id.ms, (unsigned long long)e->id.seq,
                   e->payload_len);
        buf_append(out, bulk + (blen - e->payload_len - 2), e->payload_len);
    }
}

static void load(bool capped, history_log_stats *st) {
    char err[256];
    if (history_configure("f.* 50", err, sizeof(err)) == -1) fail(err);
    history_set_max_memory(capped ? 4096 : 0);
    if (history_log_start(dir, err, sizeof(err)) == -1) fail(err);
    history_log_get_stats(st);
}

static void unload(void) {
    history_free_all();
    history_log_shutdown();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/fuzz_history_log.%d", (int)getpid());
        log_set_level(4);   /* above warning: corrupt inputs would flood stderr */
    }
    clear_dir();
    rmdir(dir);
    bool header = data[0] & 1, capped = data[0] & 2;
    buf file = {0};
    if (header) {
        history_log_record r = {.type = HISTORY_LOG_REC_HEADER, .data = "f.c", .len = 3};
        history_log_encode(&file, &r);
    }
    buf_append(&file, (const char *)data + 1, size - 1);
    if (mkdir(dir, 0755) == -1) fail("mkdir");
    char path[128];
    snprintf(path, sizeof(path), "%s/c-662e63.hlog", dir);
    FILE *fp = fopen(path, "wb");
    if (!fp || (file.len && fwrite(file.data, 1, file.len, fp) != file.len) || fclose(fp) != 0) fail("write the input file");
    buf_free(&file);

    history_log_stats st1, st2;
    buf a = {0}, b = {0};
    load(capped, &st1);
    snapshot(&a);
    unload();
    long long truncated = st1.truncated_files, skipped = st1.skipped_records;
    load(capped, &st2);
    snapshot(&b);
    unload();
    if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0)) fail("a second load gives other entries");
    if (st2.truncated_files != truncated || st2.skipped_records != skipped)
        fail("the second load cut or skipped again");
    buf_free(&a);
    buf_free(&b);
    clear_dir();
    rmdir(dir);
    return 0;
}
