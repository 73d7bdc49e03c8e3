/* buf.h -- Growable, binary-safe byte buffer. */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>

typedef struct buf {
    char *data;     /* owned; NULL until the first append */
    size_t len;     /* bytes used */
    size_t cap;     /* bytes allocated */
} buf;

/* A zeroed buf is empty and valid; buf_free() returns it to that state. */
void buf_free(buf *b);
/* Makes room for at least extra more bytes after len; may move data. */
void buf_reserve(buf *b, size_t extra);
void buf_append(buf *b, const void *p, size_t len);
void buf_append_str(buf *b, const char *s);
void buf_append_char(buf *b, char ch);
/* printf-style append. */
void buf_printf(buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes (n <= len), moving the rest down. */
void buf_consume(buf *b, size_t n);
/* Gives the allocation back when it is empty, or shrinks it to fit. */
void buf_shrink(buf *b);

#endif
