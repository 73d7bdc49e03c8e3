/* mem.c -- Allocator wrapper. Every heap byte of the server goes through here
 * so that INFO memory can report used_memory, and so that running out of
 * memory is one log line and an abort, never a NULL a caller forgot to check.
 * The counter is the allocator's usable size, as Redis counts it. */
#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <malloc.h>

#ifdef USE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

static size_t used_bytes;

static void oom(size_t size) {
    fprintf(stderr, "redis-pubsub: out of memory allocating %zu bytes\n", size);
    fflush(stderr);
    abort();
}

void *mem_alloc(size_t size) {
    void *p = malloc(size ? size : 1);
    if (!p) oom(size);
    used_bytes += malloc_usable_size(p);
    return p;
}

void *mem_calloc(size_t size) {
    void *p = calloc(1, size ? size : 1);
    if (!p) oom(size);
    used_bytes += malloc_usable_size(p);
    return p;
}

void *mem_realloc(void *ptr, size_t size) {
    if (!ptr) return mem_alloc(size);
    size_t old = malloc_usable_size(ptr);
    void *p = realloc(ptr, size ? size : 1);
    if (!p) oom(size);
    used_bytes += malloc_usable_size(p);
    used_bytes -= old;
    return p;
}

void mem_free(void *ptr) {
    if (!ptr) return;
    used_bytes -= malloc_usable_size(ptr);
    free(ptr);
}

char *mem_strndup(const char *s, size_t len) {
    char *p = mem_alloc(len + 1);
    if (len) memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *mem_strdup(const char *s) {
    return mem_strndup(s, strlen(s));
}

size_t mem_used(void) {
    return used_bytes;
}

const char *mem_allocator_name(void) {
#ifdef USE_JEMALLOC
    static char name[64];
    if (!name[0]) {
        const char *v = NULL;
        size_t sz = sizeof(v);
        if (mallctl("version", &v, &sz, NULL, 0) == 0 && v) {
            /* "5.3.0-0-g54eaed1d..." -> "jemalloc-5.3.0" */
            size_t n = strcspn(v, "-");
            snprintf(name, sizeof(name), "jemalloc-%.*s", (int)n, v);
        } else {
            snprintf(name, sizeof(name), "jemalloc");
        }
    }
    return name;
#else
    return "libc";
#endif
}

void mem_allocator_stats(size_t *allocated, size_t *active, size_t *resident) {
    *allocated = *active = *resident = 0;
#ifdef USE_JEMALLOC
    uint64_t epoch = 1;
    size_t sz = sizeof(epoch);
    mallctl("epoch", &epoch, &sz, &epoch, sz);
    sz = sizeof(size_t);
    mallctl("stats.allocated", allocated, &sz, NULL, 0);
    mallctl("stats.active", active, &sz, NULL, 0);
    mallctl("stats.resident", resident, &sz, NULL, 0);
#endif
}

size_t mem_rss(void) {
    FILE *fp = fopen("/proc/self/statm", "r");
    if (!fp) return 0;
    unsigned long size = 0, resident = 0;
    int n = fscanf(fp, "%lu %lu", &size, &resident);
    fclose(fp);
    if (n != 2) return 0;
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}
