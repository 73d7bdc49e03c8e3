/* util.c -- Strict number parsing and formatting, clocks. Parsing follows
 * the strictness Redis applies to protocol lengths and integer arguments, so
 * that "+1", " 1" and "01" are rejected here exactly where Redis rejects them. */
#include "util.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

bool util_parse_ll(const char *s, size_t len, long long *out) {
    if (len == 0 || len > 20) return false;
    if (len == 1 && s[0] == '0') {
        *out = 0;
        return true;
    }
    size_t i = 0;
    bool neg = false;
    if (s[0] == '-') {
        neg = true;
        i = 1;
        if (len == 1) return false;
    }
    if (s[i] < '1' || s[i] > '9') return false;
    unsigned long long v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        unsigned long long d = (unsigned long long)(s[i] - '0');
        if (v > (ULLONG_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1) return false;
        *out = (long long)(0 - v);
    } else {
        if (v > (unsigned long long)LLONG_MAX) return false;
        *out = (long long)v;
    }
    return true;
}

bool util_parse_memory(const char *s, long long *out) {
    size_t len = strlen(s);
    size_t digits = len;
    while (digits > 0 && isalpha((unsigned char)s[digits - 1])) digits--;
    const char *unit = s + digits;
    long long mul;
    if (*unit == '\0' || !strcasecmp(unit, "b")) mul = 1;
    else if (!strcasecmp(unit, "k")) mul = 1000;
    else if (!strcasecmp(unit, "kb")) mul = 1024;
    else if (!strcasecmp(unit, "m")) mul = 1000LL * 1000;
    else if (!strcasecmp(unit, "mb")) mul = 1024LL * 1024;
    else if (!strcasecmp(unit, "g")) mul = 1000LL * 1000 * 1000;
    else if (!strcasecmp(unit, "gb")) mul = 1024LL * 1024 * 1024;
    else return false;
    long long v;
    if (!util_parse_ll(s, digits, &v) || v < 0) return false;
    if (v > LLONG_MAX / mul) return false;
    *out = v * mul;
    return true;
}

size_t util_ll_to_str(char *dst, long long v) {
    return (size_t)snprintf(dst, 21, "%lld", v);
}

size_t util_double_to_str(char *dst, size_t dst_len, double v) {
    if (isinf(v)) return (size_t)snprintf(dst, dst_len, "%s", v > 0 ? "inf" : "-inf");
    if (isnan(v)) return (size_t)snprintf(dst, dst_len, "nan");
    return (size_t)snprintf(dst, dst_len, "%.17g", v);
}

long long util_time_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long util_time_ms(void) {
    return util_time_us() / 1000;
}

long long util_monotonic_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

bool util_eq_nocase(const char *s, size_t len, const char *cstr) {
    size_t clen = strlen(cstr);
    return len == clen && strncasecmp(s, cstr, len) == 0;
}
