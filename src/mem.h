/* mem.h -- Allocator wrapper: jemalloc (default) or libc, with a used-memory
 * counter. Allocation never fails from the caller's view: on OOM we log the
 * size and abort, so callers never check for NULL. */
#ifndef MEM_H
#define MEM_H

#include <stddef.h>

void *mem_alloc(size_t size);
void *mem_calloc(size_t size);
/* Returns the new pointer; the old one is dead afterwards. */
void *mem_realloc(void *ptr, size_t size);
/* mem_free(NULL) is a no-op. */
void mem_free(void *ptr);
/* Returns an owned NUL-terminated copy of the len bytes at s. */
char *mem_strndup(const char *s, size_t len);
char *mem_strdup(const char *s);

/* Bytes currently allocated through this module (usable sizes). */
size_t mem_used(void);
/* "jemalloc-5.3.0" or "libc". */
const char *mem_allocator_name(void);
/* Allocator-level figures for INFO memory; 0 where unknown. */
void mem_allocator_stats(size_t *allocated, size_t *active, size_t *resident);
/* Resident set size of this process in bytes, read from /proc. */
size_t mem_rss(void);

#endif
