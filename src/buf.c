/* buf.c -- Growable byte buffer used for query buffers, small replies and
 * frame encoding. Grows geometrically up to 1 MiB steps so appends are
 * amortised O(1); never shrinks unless asked (buf_shrink). */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"

#define BUF_MAX_DOUBLING (1024 * 1024)

void buf_free(buf *b) {
    mem_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_reserve(buf *b, size_t extra) {
    if (b->cap - b->len >= extra) return;
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 16;
    while (cap < need) {
        if (cap < BUF_MAX_DOUBLING) cap *= 2;
        else cap += BUF_MAX_DOUBLING;
    }
    b->data = mem_realloc(b->data, cap);
    b->cap = cap;
}

void buf_append(buf *b, const void *p, size_t len) {
    if (!len) return;
    buf_reserve(b, len);
    memcpy(b->data + b->len, p, len);
    b->len += len;
}

void buf_append_str(buf *b, const char *s) {
    buf_append(b, s, strlen(s));
}

void buf_append_char(buf *b, char ch) {
    buf_reserve(b, 1);
    b->data[b->len++] = ch;
}

void buf_printf(buf *b, const char *fmt, ...) {
    va_list ap;
    char small[256];
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof(small)) {
        buf_append(b, small, (size_t)n);
        return;
    }
    buf_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_consume(buf *b, size_t n) {
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void buf_shrink(buf *b) {
    if (b->len == 0) {
        buf_free(b);
        return;
    }
    if (b->cap > b->len * 2 && b->cap > 1024) {
        b->data = mem_realloc(b->data, b->len);
        b->cap = b->len;
    }
}
