/* test_util.c -- Helpers the parser tests share: guarded copies (bytes that
 * end right before a PROT_NONE page, so a read past the end faults) and a
 * byte renderer for readable failure messages. */
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "buf.h"

static char *arena;      /* writable bytes, then one PROT_NONE page */
static size_t arena_len; /* writable bytes */

char *test_guarded(const void *data, size_t len) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (arena == NULL || len > arena_len) {
        if (arena) munmap(arena, arena_len + page);
        size_t n = (len + page - 1) / page * page;
        if (n == 0) n = page;
        arena = mmap(NULL, n + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (arena == MAP_FAILED || mprotect(arena + n, page, PROT_NONE) != 0) {
            perror("mmap");
            abort();
        }
        arena_len = n;
    }
    char *dst = arena + arena_len - len;
    if (len) memcpy(dst, data, len);
    return dst;
}

void test_render_bytes(buf *out, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= '!' && c <= '~' && c != '[' && c != ']' && c != ',' && c != '\\') {
            buf_append_char(out, (char)c);
        } else {
            char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            buf_append(out, e, 4);
        }
    }
}
