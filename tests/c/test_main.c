/* test_main.c -- Runs every C unit-test table and prints the summary line.
 * Usage: test_main [substring]   (runs only tests whose "file/name" contains it) */
#include "test.h"

#include <ctype.h>
#include <stdlib.h>

int test_failed;

extern const test_case glob_tests[];
extern const test_case resp_tests[];
extern const test_case resp_reply_tests[];
extern const test_case cluster_tests[];
extern const test_case buf_tests[];
extern const test_case pubsub_tests[];
extern const test_case config_tests[];
extern const test_case dict_tests[];
extern const test_case acl_tests[];
extern const test_case history_tests[];
extern const test_case history_log_tests[];

static const struct {
    const char *file;
    const test_case *cases;
} tables[] = {
    {"buf", buf_tests},
    {"glob", glob_tests},
    {"resp", resp_tests},
    {"resp_reply", resp_reply_tests},
    {"cluster", cluster_tests},
    {"dict", dict_tests},
    {"pubsub", pubsub_tests},
    {"history", history_tests},
    {"history_log", history_log_tests},
    {"config", config_tests},
    {"acl", acl_tests},
};

void test_print_escaped(const char *label, const void *p, size_t len) {
    const unsigned char *s = p;
    fprintf(stderr, "      %s: \"", label);
    for (size_t i = 0; i < len && i < 512; i++) {
        if (s[i] == '\r') fprintf(stderr, "\\r");
        else if (s[i] == '\n') fprintf(stderr, "\\n");
        else if (isprint(s[i])) fputc(s[i], stderr);
        else fprintf(stderr, "\\x%02x", s[i]);
    }
    fprintf(stderr, "%s\"\n", len > 512 ? "..." : "");
}

int main(int argc, char **argv) {
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0;
    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
        for (const test_case *tc = tables[t].cases; tc->name; tc++) {
            char full[256];
            snprintf(full, sizeof(full), "%s/%s", tables[t].file, tc->name);
            if (filter && !strstr(full, filter)) continue;
            test_failed = 0;
            tc->fn();
            if (test_failed) {
                printf("[err]: %s\n", full);
                failed++;
            } else {
                printf("[ok]: %s\n", full);
                passed++;
            }
            fflush(stdout);
        }
    }
    printf("c-unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
