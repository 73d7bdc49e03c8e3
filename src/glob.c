/* glob.c -- Glob matching with Redis 7.0 semantics, iterative and bounded.
 * glob.h lists the edge cases; this file explains how they are reached.
 *
 * The pattern is a sequence of tokens: star groups, and one-byte tokens
 * (`?`, a class, an escaped or plain byte) that each consume exactly one byte
 * of the string. Redis matches by recursing at every star group, and stops
 * early once a star has tried every position (its "skip longer matches"
 * rule). That makes only the most recent star worth backtracking to: if the
 * tokens after star k fail from every position, giving an earlier star more
 * bytes can only start them later, where they fail too. So we keep one
 * backtrack point and run in O(pattern_len * str_len) without recursion.
 *
 * Redis's recursion depth at star group k is always k - 1, whatever path led
 * there, so its nesting limit becomes a count of star groups kept with the
 * backtrack point. Bytes are read as unsigned char; only range ends are
 * ordered as signed char, for compatibility (see range_key). */
#include "glob.h"

#include <stdint.h>

typedef unsigned char byte;

static byte fold(byte c, bool nocase) {
    return (nocase && c >= 'A' && c <= 'Z') ? (byte)(c - 'A' + 'a') : c;
}

/* Redis reads range ends through a plain (signed on amd64) char. Flipping the
 * top bit maps signed-char order onto unsigned order. */
static unsigned range_key(byte c) {
    return c ^ 0x80u;
}

/* Matches c against the class whose body starts at p[i], just after its `[`.
 * Sets *next to the index after the class. The parse order follows Redis:
 * escape, closing `]`, end of pattern, range, literal. */
static bool class_match(const byte *p, size_t len, size_t i, byte c,
                        bool nocase, size_t *next) {
    bool negate = false, hit = false;
    byte fc = fold(c, nocase);

    if (i < len && p[i] == '^') {
        negate = true;
        i++;
    }
    for (;;) {
        if (i == len) break; /* Unterminated: the class is the rest. */
        if (p[i] == '\\' && len - i >= 2) {
            hit |= p[i + 1] == c; /* Exact even when nocase, as in Redis. */
            i += 2;
        } else if (p[i] == ']') {
            i++;
            break;
        } else if (len - i >= 3 && p[i + 1] == '-') {
            byte lo = p[i], hi = p[i + 2];
            if (range_key(lo) > range_key(hi)) {
                byte t = lo;
                lo = hi;
                hi = t;
            }
            /* Swap first, fold after: "[Z-a]" nocase becomes empty. */
            unsigned klo = range_key(fold(lo, nocase));
            unsigned khi = range_key(fold(hi, nocase));
            hit |= range_key(fc) >= klo && range_key(fc) <= khi;
            i += 3;
        } else {
            hit |= fold(p[i], nocase) == fc;
            i++;
        }
    }
    *next = i;
    return hit != negate;
}

/* Matches the one-byte token at p[i] (not a star) against c and sets *next
 * to the index of the following token. */
static bool token_match(const byte *p, size_t len, size_t i, byte c,
                        bool nocase, size_t *next) {
    switch (p[i]) {
    case '?':
        *next = i + 1;
        return true;
    case '[':
        return class_match(p, len, i + 1, c, nocase, next);
    case '\\':
        if (len - i >= 2) i++; /* A trailing backslash stands for itself. */
        /* fall through */
    default:
        *next = i + 1;
        return fold(p[i], nocase) == fold(c, nocase);
    }
}

static bool match(const byte *p, size_t plen, const byte *s, size_t slen,
                  bool nocase) {
    size_t pi = 0, si = 0, next;
    size_t back_p = SIZE_MAX; /* Token after the last star group, if any. */
    size_t back_s = 0;        /* String index that star group resumes at. */
    unsigned groups = 0;      /* Ordinal of the last star group reached. */

    /* Redis never enters its loop for an empty string: "*" fails on "". */
    if (slen == 0) return plen == 0;
    while (si < slen) {
        if (pi < plen && p[pi] == '*') {
            while (pi < plen && p[pi] == '*') pi++;
            if (pi == plen) return true; /* Trailing star: no recursion. */
            if (++groups > GLOB_MAX_STAR_GROUPS) return false;
            back_p = pi;
            back_s = si;
            continue;
        }
        if (pi < plen && token_match(p, plen, pi, s[si], nocase, &next)) {
            pi = next;
            si++;
            continue;
        }
        if (back_p == SIZE_MAX) return false;
        /* Let the last star group swallow one more byte and retry. groups
         * still names that star group: nothing after it was kept. */
        pi = back_p;
        si = ++back_s;
    }
    while (pi < plen && p[pi] == '*') pi++;
    return pi == plen;
}

bool glob_match(const char *pattern, size_t pattern_len, const char *str,
                size_t str_len) {
    return match((const byte *)pattern, pattern_len, (const byte *)str,
                 str_len, false);
}

bool glob_match_nocase(const char *pattern, size_t pattern_len,
                       const char *str, size_t str_len) {
    return match((const byte *)pattern, pattern_len, (const byte *)str,
                 str_len, true);
}

bool glob_star_tail(const char *pattern, size_t len, size_t *tail_start, size_t *tail_bytes) {
    const byte *p = (const byte *)pattern;
    bool star = false;
    size_t i = 0, next;
    *tail_start = *tail_bytes = 0;
    while (i < len) {
        if (p[i] == '*') {
            while (i < len && p[i] == '*') i++;
            star = true;
            *tail_start = i;
            *tail_bytes = 0;
            continue;
        }
        /* Only the token's extent matters here, not whether it matches. */
        token_match(p, len, i, 0, false, &next);
        (*tail_bytes)++;
        i = next;
    }
    return star;
}

size_t glob_literal_prefix(const char *pattern, size_t len, char *out) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = pattern[i];
        if (c == '*' || c == '?' || c == '[') break;
        if (c == '\\' && i + 1 < len) c = pattern[++i];
        out[n++] = c;
    }
    return n;
}

bool glob_is_literal(const char *pattern, size_t len) {
    for (size_t i = 0; i < len; i++) {
        char c = pattern[i];
        if (c == '*' || c == '?' || c == '[') return false;
        if (c == '\\') i++; /* Skips the escaped byte, if there is one. */
    }
    return true;
}
