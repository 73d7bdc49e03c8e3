/* fuzz_config.c -- Fuzz target for configuration parsing (src/config.c,
 * src/config_compat.c).
 *
 * Every input starts from config_init_defaults() and ends with
 * config_free(), so nothing may crash or leak (LeakSanitizer checks at exit,
 * and libFuzzer after each input). The first byte picks a mode:
 *
 *   0x01  command line: the rest is argv[1..], NUL-separated, turned into
 *         config lines by config_argv_to_lines() and loaded.
 *   0x02  CONFIG SET: the rest is name, value, name, value..., NUL-separated,
 *         given to config_set(). After a success, setting each name to what
 *         config_format_value() reports must succeed and change nothing.
 *   0x03  a config file on disk: the rest, NULs included, is written to a
 *         file and loaded with config_load_file().
 *   else  a config file: the bytes up to the first NUL are the file, the
 *         bytes after it (up to the next NUL) the file `include` reads.
 *
 * A load may fail, but then with a non-empty message. A load that succeeds
 * is checked further: CONFIG GET * and config_format_value() agree on every
 * value; and the text saved as a file, loaded with config_load_file(),
 * rewritten with config_rewrite() and loaded again gives the same values.
 * In file mode the raw input also goes through config_split_line(): each
 * argument, quoted with config_append_quoted(), must split back to itself.
 *
 * Nothing outside a private temporary directory is read or written:
 * `include` lines are redirected there (their file name part is kept, so
 * wildcards still work) and limited in number so that self-inclusion stays
 * cheap; CONFIG SET of `dir` (whose apply hook calls chdir) is skipped. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MODE_ARGV 0x01
#define MODE_SET 0x02
#define MODE_RAW_FILE 0x03
#define MAX_ARGS 64
#define MAIN_INCLUDES 4      /* include lines kept in the main text */
#define FILE_INCLUDES 1      /* ... and in the included file: a chain, not a tree */
#define ERR_LEN 4096

static void fail(const char *what) {
    fprintf(stderr, "fuzz_config: %s\n", what);
    abort();
}

#define CHECK(cond)                                     \
    do {                                                \
        if (!(cond)) fail("check failed: " #cond);      \
    } while (0)

/* ------------------------------------------------------------------------
 * The private directory: inc/ holds inc.conf, main/ holds main.conf
 * --------------------------------------------------------------------- */

static char tmp_root[64];
static char inc_dir[96], inc_file[128], main_dir[96], main_file[128];

static void remove_tree(void) {
    char path[160];
    unlink(inc_file);
    unlink(main_file);
    snprintf(path, sizeof(path), "%s.tmp", main_file);
    unlink(path);
    rmdir(inc_dir);
    rmdir(main_dir);
    rmdir(tmp_root);
}

static void setup_dirs(void) {
    if (tmp_root[0]) return;
    snprintf(tmp_root, sizeof(tmp_root), "/tmp/fuzz_config.XXXXXX");
    if (!mkdtemp(tmp_root)) fail("mkdtemp failed");
    snprintf(inc_dir, sizeof(inc_dir), "%s/inc", tmp_root);
    snprintf(main_dir, sizeof(main_dir), "%s/main", tmp_root);
    snprintf(inc_file, sizeof(inc_file), "%s/inc.conf", inc_dir);
    snprintf(main_file, sizeof(main_file), "%s/main.conf", main_dir);
    if (mkdir(inc_dir, 0700) == -1 || mkdir(main_dir, 0700) == -1) fail("mkdir failed");
    atexit(remove_tree);
}

static void write_file(const char *path, const char *text, size_t len) {
    FILE *fp = fopen(path, "wb");
    if (!fp) fail("cannot write a file in the private directory");
    if (len && fwrite(text, 1, len, fp) != len) fail("short write");
    fclose(fp);
}

/* ------------------------------------------------------------------------
 * Redirecting include lines
 * --------------------------------------------------------------------- */

static bool is_trim(char c) {
    return c == ' ' || c == '\t' || c == '\r';
}

/* If the NUL-free line is `include <path>`, returns an owned copy of the
 * path's file name part, else NULL. */
static char *include_base(const char *line, size_t len) {
    config_line l = {0};
    char *base = NULL;
    if (config_split_line(line, len, &l) == 0 && l.argc == 2 && strcasecmp(l.argv[0], "include") == 0) {
        const char *slash = strrchr(l.argv[1], '/');
        base = strdup(slash ? slash + 1 : l.argv[1]);
        if (!base) abort();
    }
    config_line_free(&l);
    return base;
}

/* A line holding a NUL is read both ways config.c might read it: cut at
 * the NUL (as Redis, whose lines are C strings) and with the NUL as a blank.
 * Either reading that is an include is redirected. */
static char *include_base_any(const char *line, size_t len) {
    const char *nul = memchr(line, '\0', len);
    if (!nul) return include_base(line, len);
    char *base = include_base(line, (size_t)(nul - line));
    if (base) return base;
    char *blanked = malloc(len);
    if (!blanked) abort();
    for (size_t i = 0; i < len; i++) blanked[i] = line[i] ? line[i] : ' ';
    base = include_base(blanked, len);
    free(blanked);
    return base;
}

/* Copies text to out line by line; an `include <path>` line becomes an
 * include of <path>'s file name part inside inc/, or a comment past the
 * first max_includes. Lines are trimmed as config.c does. out is
 * NUL-terminated; its len excludes that NUL. */
static void redirect_includes(const char *text, size_t len, int max_includes, buf *out) {
    const char *p = text, *end = text + len;
    int includes = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end, *ls = p;
        const char *next = nl ? nl + 1 : end;
        while (ls < le && is_trim(*ls)) ls++;
        while (le > ls && is_trim(le[-1])) le--;
        char *base = ls < le && *ls != '#' ? include_base_any(ls, (size_t)(le - ls)) : NULL;
        if (!base) {
            buf_append(out, p, (size_t)(next - p));
        } else if (includes++ < max_includes) {
            buf path = {0};
            buf_printf(&path, "%s/%s", inc_dir, base);
            buf_append_str(out, "include ");
            config_append_quoted(out, path.data, path.len);
            buf_append_char(out, '\n');
            buf_free(&path);
        } else {
            buf_append_str(out, "# include dropped\n");
        }
        free(base);
        p = next;
    }
    buf_append_char(out, '\0');
    out->len--;
}

/* ------------------------------------------------------------------------
 * Snapshots of every value (CONFIG GET *)
 * --------------------------------------------------------------------- */

static void snapshot_cb(void *ctx, const char *name, const char *value) {
    buf *b = ctx;
    CHECK(name != NULL && name[0] != '\0' && value != NULL);
    /* config_format_value() is CONFIG GET for one name: it must agree. */
    static char one[1 << 16];
    CHECK(config_format_value(name, one, sizeof(one)) == 0);
    if (strlen(value) < sizeof(one) - 1 && strcmp(one, value) != 0) {
        fprintf(stderr, "fuzz_config: '%s': CONFIG GET says '%s', config_format_value '%s'\n", name, value,
                one);
        abort();
    }
    buf_append(b, name, strlen(name) + 1);
    buf_append(b, value, strlen(value) + 1);
}

static void snapshot(buf *b) {
    const char *all = "*";
    size_t all_len = 1;
    b->len = 0;
    config_get(&all, &all_len, 1, snapshot_cb, b);
}

static void compare_snapshots(const char *what, const buf *a, const buf *b) {
    if (a->len == b->len && memcmp(a->data, b->data, a->len) == 0) return;
    size_t i = 0;
    while (i < a->len && i < b->len && a->data[i] == b->data[i]) i++;
    /* Back up to the start of the name whose value differs. */
    size_t field = 0, start = 0;
    for (size_t k = 0; k < i; k++)
        if (a->data[k] == '\0') {
            field++;
            start = k + 1;
        }
    if (field % 2 == 1) {
        size_t k = start - 1;
        while (k > 0 && a->data[k - 1] != '\0') k--;
        start = k;
    }
    fprintf(stderr, "fuzz_config: %s: values differ at '%s'\n  before: '%s'\n  after:  '%s'\n", what,
            start < a->len ? a->data + start : "(end)", i < a->len ? a->data + i : "(end)",
            i < b->len ? b->data + i : "(end)");
    abort();
}

/* ------------------------------------------------------------------------
 * Modes
 * --------------------------------------------------------------------- */


/* Loaded values survive a trip through a file and CONFIG REWRITE. */
static void check_rewrite(const char *text) {
    buf before = {0}, after = {0};
    char err[ERR_LEN];
    snapshot(&before);
    write_file(main_file, text, strlen(text));
    config_init_defaults();
    if (config_load_file(main_file, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_config: the text loads, but not from a file:\n%s\n", err);
        abort();
    }
    snapshot(&after);
    compare_snapshots("config_load_file vs config_load_text", &before, &after);
    if (config_rewrite(err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_config: config_rewrite failed: %s\n", err);
        abort();
    }
    config_init_defaults();
    if (config_load_file(main_file, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_config: the rewritten file does not load:\n%s\n", err);
        abort();
    }
    snapshot(&after);
    compare_snapshots("load, CONFIG REWRITE, load again", &before, &after);
    buf_free(&before);
    buf_free(&after);
}

static void load_and_check(const char *text) {
    char err[ERR_LEN];
    err[0] = '\0';
    config_init_defaults();
    int rc = config_load_text(text, "fuzz.conf", err, sizeof(err));
    CHECK(rc == 0 || rc == -1);
    if (rc == -1) {
        CHECK(err[0] != '\0');
    } else {
        check_rewrite(text);
    }
    config_free();
    config_free(); /* twice is allowed */
}

static void split_roundtrip(const char *line, size_t len) {
    config_line l;
    if (config_split_line(line, len, &l) == -1) {
        CHECK(l.argc == 0 && l.argv == NULL);
        return;
    }
    buf joined = {0};
    for (int i = 0; i < l.argc; i++) {
        CHECK(l.argv[i] != NULL);
        buf q = {0};
        config_append_quoted(&q, l.argv[i], strlen(l.argv[i]));
        config_line back;
        CHECK(config_split_line(q.data, q.len, &back) == 0);
        CHECK(back.argc == 1 && strcmp(back.argv[0], l.argv[i]) == 0);
        config_line_free(&back);
        if (i) buf_append_char(&joined, ' ');
        buf_append(&joined, q.data, q.len);
        buf_free(&q);
        long long bytes;
        (void)config_parse_memory(l.argv[i], &bytes);
    }
    config_line all;
    CHECK(config_split_line(joined.data ? joined.data : "", joined.len, &all) == 0);
    CHECK(all.argc == l.argc);
    for (int i = 0; i < l.argc; i++) CHECK(strcmp(all.argv[i], l.argv[i]) == 0);
    config_line_free(&all);
    buf_free(&joined);
    config_line_free(&l);
}

static void split_spaces(const char *s, size_t len) {
    char **parts;
    int n = config_split_spaces(s, len, &parts);
    size_t spaces = 0;
    for (size_t i = 0; i < len; i++) spaces += s[i] == ' ';
    CHECK(len == 0 ? n == 0 : (size_t)n == spaces + 1);
    for (int i = 0; i < n; i++) mem_free(parts[i]);
    mem_free(parts);
}

/* The bytes as a config file, NULs and all, loaded by config_load_file():
 * the path a file on disk takes. */
static void mode_raw_file(const uint8_t *data, size_t size) {
    buf text = {0};
    redirect_includes((const char *)data, size, MAIN_INCLUDES, &text);
    write_file(main_file, text.data, text.len);
    write_file(inc_file, "", 0);
    buf_free(&text);
    char err[ERR_LEN];
    err[0] = '\0';
    config_init_defaults();
    if (config_load_file(main_file, err, sizeof(err)) == -1) {
        CHECK(err[0] != '\0');
    } else {
        buf values = {0};
        snapshot(&values);
        buf_free(&values);
    }
    config_free();
}

static void mode_file(const uint8_t *data, size_t size) {
    const uint8_t *nul = memchr(data, 0, size);
    size_t main_len = nul ? (size_t)(nul - data) : size;
    const char *inc = nul ? (const char *)nul + 1 : "";
    size_t inc_len = nul ? strnlen(inc, size - main_len - 1) : 0;

    buf inc_text = {0}, main_text = {0};
    redirect_includes(inc, inc_len, FILE_INCLUDES, &inc_text);
    write_file(inc_file, inc_text.data, inc_text.len);
    redirect_includes((const char *)data, main_len, MAIN_INCLUDES, &main_text);
    load_and_check(main_text.data);
    buf_free(&inc_text);
    buf_free(&main_text);

    split_roundtrip((const char *)data, size);
    split_spaces((const char *)data, size);
}

/* Splits data at NULs into at most max owned strings. */
static int split_nul(const uint8_t *data, size_t size, char **out, int max) {
    int n = 0;
    size_t i = 0;
    while (i <= size && n < max) {
        const uint8_t *nul = memchr(data + i, 0, size - i);
        size_t len = nul ? (size_t)(nul - (data + i)) : size - i;
        out[n] = malloc(len + 1);
        if (!out[n]) abort();
        memcpy(out[n], data + i, len);
        out[n][len] = '\0';
        n++;
        i += len + 1;
    }
    return n;
}

static void mode_argv(const uint8_t *data, size_t size) {
    char *argv[MAX_ARGS + 1];
    argv[0] = strdup("redis-pubsub-server");
    if (!argv[0]) abort();
    int argc = 1 + split_nul(data, size, argv + 1, MAX_ARGS);
    for (int i = 1; i < argc; i++) {
        /* "-" means stdin; a first argument without "--" is a file. */
        bool stdin_marker = strcmp(argv[i], "-") == 0;
        bool file_arg = i == 1 && strncmp(argv[i], "--", 2) != 0;
        if (stdin_marker || file_arg) {
            size_t len = strlen(argv[i]);
            char *fixed = malloc(len + 3);
            if (!fixed) abort();
            memcpy(fixed, "--", 2);
            memcpy(fixed + 2, argv[i], len + 1);
            free(argv[i]);
            argv[i] = fixed;
        }
    }
    buf lines = {0}, text = {0};
    config_argv_to_lines(argc, argv, 1, &lines);
    redirect_includes(lines.data ? lines.data : "", lines.len, MAIN_INCLUDES, &text);
    write_file(inc_file, "", 0);
    load_and_check(text.data);
    buf_free(&lines);
    buf_free(&text);
    for (int i = 0; i < argc; i++) free(argv[i]);
}

static void mode_set(const uint8_t *data, size_t size) {
    const char *names[MAX_ARGS / 2], *values[MAX_ARGS / 2];
    size_t name_lens[MAX_ARGS / 2], value_lens[MAX_ARGS / 2];
    int pairs = 0;
    const uint8_t *p = data, *end = data + size;
    while (p < end && pairs < MAX_ARGS / 2) {
        const uint8_t *nul = memchr(p, 0, (size_t)(end - p));
        if (!nul) break;
        const uint8_t *v = nul + 1;
        const uint8_t *vend = memchr(v, 0, (size_t)(end - v));
        if (!vend) vend = end;
        names[pairs] = (const char *)p;
        name_lens[pairs] = (size_t)(nul - p);
        values[pairs] = (const char *)v;
        value_lens[pairs] = (size_t)(vend - v);
        /* dir's apply hook calls chdir(): not here. */
        bool is_dir = name_lens[pairs] == 3 && strncasecmp(names[pairs], "dir", 3) == 0;
        if (!is_dir) pairs++;
        if (vend == end) break;
        p = vend + 1;
    }
    char err[ERR_LEN];
    err[0] = '\0';
    config_init_defaults();
    if (config_set(pairs, names, name_lens, values, value_lens, err, sizeof(err)) == -1) {
        CHECK(err[0] != '\0');
        config_free();
        return;
    }
    buf before = {0}, after = {0};
    snapshot(&before);
    static char value[1 << 16];
    for (int i = 0; i < pairs; i++) {
        char name[256];
        if (name_lens[i] >= sizeof(name) || memchr(names[i], 0, name_lens[i])) continue;
        memcpy(name, names[i], name_lens[i]);
        name[name_lens[i]] = '\0';
        CHECK(config_format_value(name, value, sizeof(value)) == 0);
        const char *n1 = name, *v1 = value;
        size_t nl = name_lens[i], vl = strlen(value);
        if (config_set(1, &n1, &nl, &v1, &vl, err, sizeof(err)) == -1) {
            fprintf(stderr, "fuzz_config: CONFIG SET %s '%s' (its own CONFIG GET value) fails: %s\n", name,
                    value, err);
            abort();
        }
    }
    snapshot(&after);
    compare_snapshots("CONFIG SET of the CONFIG GET values", &before, &after);
    buf_free(&before);
    buf_free(&after);
    config_free();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    setup_dirs();
    if (size > 0 && data[0] == MODE_ARGV) mode_argv(data + 1, size - 1);
    else if (size > 0 && data[0] == MODE_SET) mode_set(data + 1, size - 1);
    else if (size > 0 && data[0] == MODE_RAW_FILE) mode_raw_file(data + 1, size - 1);
    else mode_file(data, size);
    return 0;
}
