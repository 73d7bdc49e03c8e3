/* replay_main.c -- Runs a libFuzzer target without libFuzzer.
 * Each argument is a file, given to LLVMFuzzerTestOneInput() once, or a
 * directory, whose regular files (not those starting with '.') are given in
 * name order. This is how `make replay` checks the committed corpora and
 * every crash input ever found with gcc alone; a crash or a sanitizer report
 * ends the process with a non-zero status, so the caller sees the failure.
 * An input running longer than REPLAY_TIMEOUT seconds (default 5) is a
 * failure too: a hang found by the fuzzer must not hang `make test`.
 * Prints "<n> inputs" on success. */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long inputs;
static const char *current;   /* the input being run, for the timeout message */
static unsigned timeout_s = 5;

static void on_alarm(int sig) {
    (void)sig;
    /* Only async-signal-safe calls here. */
    static const char msg[] = "replay: timeout (REPLAY_TIMEOUT) on ";
    ssize_t n = write(2, msg, sizeof(msg) - 1);
    n = write(2, current, strlen(current));
    n = write(2, "\n", 1);
    (void)n;
    _exit(3);
}

static void die(const char *what, const char *path) {
    fprintf(stderr, "replay: %s %s: %s\n", what, path, strerror(errno));
    exit(2);
}

/* Reads the whole file into an exact-size heap block, so that a target
 * reading one byte past its input trips ASan as it would under libFuzzer. */
static void run_file(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) die("cannot open", path);
    size_t cap = 4096, len = 0, n;
    uint8_t *data = malloc(cap);
    if (!data) die("out of memory reading", path);
    while ((n = fread(data + len, 1, cap - len, fp)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            data = realloc(data, cap);
            if (!data) die("out of memory reading", path);
        }
    }
    if (ferror(fp)) die("cannot read", path);
    fclose(fp);
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) die("out of memory reading", path);
    memcpy(exact, data, len);
    free(data);
    if (getenv("REPLAY_VERBOSE")) fprintf(stderr, "replay: input %s\n", path);
    current = path;
    alarm(timeout_s);
    LLVMFuzzerTestOneInput(exact, len);
    alarm(0);
    free(exact);
    inputs++;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) die("cannot open directory", dir);
    char **names = NULL;
    size_t count = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            names = realloc(names, cap * sizeof(*names));
            if (!names) die("out of memory listing", dir);
        }
        size_t len = strlen(dir) + strlen(de->d_name) + 2;
        names[count] = malloc(len);
        if (!names[count]) die("out of memory listing", dir);
        snprintf(names[count], len, "%s/%s", dir, de->d_name);
        count++;
    }
    closedir(d);
    if (count > 1) qsort(names, count, sizeof(*names), by_name);
    for (size_t i = 0; i < count; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) run_file(names[i]);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv) {
    const char *t = getenv("REPLAY_TIMEOUT");
    if (t && atoi(t) > 0) timeout_s = (unsigned)atoi(t);
    signal(SIGALRM, on_alarm);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        /* A missing directory is an empty one: crashes/<target>/ may not
         * exist on a fresh checkout. */
        if (stat(argv[i], &st) == -1) {
            if (errno == ENOENT) continue;
            die("cannot stat", argv[i]);
        }
        if (S_ISDIR(st.st_mode)) run_dir(argv[i]);
        else run_file(argv[i]);
    }
    printf("%ld inputs\n", inputs);
    return 0;
}
