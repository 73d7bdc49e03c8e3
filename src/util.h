/* util.h -- Strict number parsing and formatting, clocks, small string helpers. */
#ifndef UTIL_H
#define UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A borrowed byte string: a command argument, a channel name. */
typedef struct slice {
    const char *ptr;
    size_t len;
} slice;

/* Parses a whole signed 64-bit decimal with Redis's strictness: no spaces,
 * no '+', no leading zeros (except "0"), no overflow. Returns true on success. */
bool util_parse_ll(const char *s, size_t len, long long *out);
/* Parses a memory size: "100", "1k" (1000), "1kb" (1024), "1m", "1mb", "1g",
 * "1gb", case-insensitive, as redis.conf does. Returns true on success. */
bool util_parse_memory(const char *s, long long *out);
/* Formats v into dst (at least 21 bytes); returns the length. */
size_t util_ll_to_str(char *dst, long long v);
/* Formats a double as Redis does for RESP3 doubles and INFO (%.17g, inf/-inf/nan). */
size_t util_double_to_str(char *dst, size_t dst_len, double v);

/* Wall-clock and monotonic clocks. */
long long util_time_us(void);
long long util_time_ms(void);
long long util_monotonic_us(void);

/* Case-insensitive comparison of a counted string with a C string. */
bool util_eq_nocase(const char *s, size_t len, const char *cstr);

#endif
