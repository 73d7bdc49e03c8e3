/* fuzz_glob.c -- Fuzz target for glob matching (src/glob.c).
 *
 * glob_match() and glob_match_nocase() are compared with a reference matcher
 * written here from the rules in glob.h (Redis 7.0 stringmatchlen
 * behaviour): the pattern is decoded into tokens, each one-byte token into a
 * 256-bit membership set (ranges ordered as signed char, escapes, unterminated
 * classes, trailing backslash), then a dynamic program over (token, string
 * position) answers "does it match". Redis's limit of 1000 nested star groups
 * is modelled apart: Redis places each segment between stars at its leftmost
 * fit, and fails as soon as that search reaches star group 1001 with string
 * bytes left and pattern after it. The reference is polynomial, so it runs
 * on inputs up to REF_MAX_LEN bytes; longer inputs only check that glob.c
 * neither crashes nor reads out of bounds (both sides are exact-size heap
 * copies).
 *
 * glob_literal_prefix() and glob_is_literal() are checked too: a match
 * implies the string starts with the prefix, and a literal pattern matches
 * exactly its prefix.
 *
 * Input layout:
 *   byte 0      flags: bit 0 "amplify": repeat the pattern until its star
 *               groups straddle the nesting limit (990..1010, from byte 1)
 *               and the string to a length near what that needs; bit 1
 *               amplified runs use glob_match_nocase.
 *   byte 1      amplify parameter.
 *   the rest    PATTERN, then a TAB (0x09), then STRING (no TAB: the
 *               string is the pattern's own bytes). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reference is not what is being fuzzed: keep libFuzzer's coverage and
 * comparison tracing out of it (it would cost most of the time). */
#if defined(__clang__)
#define REFERENCE __attribute__((no_sanitize("coverage")))
#else
#define REFERENCE
#endif

#define REF_MAX_LEN 256             /* reference runs up to this many bytes */
#define AMP_MAX_PATTERN 4096        /* amplified pattern bytes */
#define AMP_MAX_STRING 4096         /* amplified string bytes */
#define AMP_MAX_CELLS (4u << 20)    /* tokens x string bytes in the program */
#define SEPARATOR '\t'
#define REDIS_MAX_NESTING 1000       /* Redis fails past this many star groups */

/* ------------------------------------------------------------------------
 * Reference matcher
 * --------------------------------------------------------------------- */

typedef struct token {
    bool star;          /* a group of one or more `*` */
    bool literal;       /* from a plain or escaped byte (not `?` or `[`) */
    uint8_t byte;       /* that byte, when literal */
    uint8_t set[32];    /* bytes the token accepts, when not a star */
} token;

REFERENCE static void set_add(token *t, unsigned b) {
    t->set[b >> 3] |= (uint8_t)(1u << (b & 7));
}

REFERENCE static bool set_has(const token *t, uint8_t b) {
    return (t->set[b >> 3] >> (b & 7)) & 1;
}

/* ASCII-only case folding, on a byte or a signed-char value alike. */
REFERENCE static int fold(int c, bool nocase) {
    return (nocase && c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* The value Redis compares range ends with: a plain char, signed on amd64. */
REFERENCE static int as_signed(uint8_t b) {
    return b < 128 ? b : b - 256;
}

REFERENCE static void add_folded(token *t, uint8_t c, bool nocase) {
    for (unsigned b = 0; b < 256; b++)
        if (fold(b, nocase) == fold(c, nocase)) set_add(t, b);
}

/* Decodes the class whose body starts at p[i] (after `[`) into t->set and
 * returns the index after it. Rules, in the order glob.h gives them: `\x`
 * (two bytes left) is x exactly; `]` closes; the end of the pattern closes;
 * `a-b` with three bytes left is a range, swapped if reversed, then folded;
 * anything else is one byte, folded. `^` first negates. */
REFERENCE static size_t decode_class(const uint8_t *p, size_t len, size_t i, bool nocase, token *t) {
    bool negate = i < len && p[i] == '^';
    if (negate) i++;
    while (i < len) {
        if (p[i] == '\\' && len - i >= 2) {
            set_add(t, p[i + 1]);
            i += 2;
        } else if (p[i] == ']') {
            i++;
            break;
        } else if (len - i >= 3 && p[i + 1] == '-') {
            int lo = as_signed(p[i]), hi = as_signed(p[i + 2]);
            if (lo > hi) {
                int swap = lo;
                lo = hi;
                hi = swap;
            }
            lo = fold(lo, nocase);
            hi = fold(hi, nocase);
            for (unsigned b = 0; b < 256; b++) {
                int k = fold(as_signed((uint8_t)b), nocase);
                if (k >= lo && k <= hi) set_add(t, b);
            }
            i += 3;
        } else {
            add_folded(t, p[i], nocase);
            i++;
        }
    }
    if (negate)
        for (int k = 0; k < 32; k++) t->set[k] = (uint8_t)~t->set[k];
    return i;
}

/* Decodes a pattern into *out (owned by the caller); returns the count. */
REFERENCE static size_t tokenize(const uint8_t *p, size_t len, bool nocase, token **out) {
    token *t = calloc(len ? len : 1, sizeof(*t));
    if (!t) abort();
    size_t n = 0, i = 0;
    while (i < len) {
        token *k = &t[n++];
        if (p[i] == '*') {
            while (i < len && p[i] == '*') i++;
            k->star = true;
        } else if (p[i] == '?') {
            memset(k->set, 0xff, sizeof(k->set));
            i++;
        } else if (p[i] == '[') {
            i = decode_class(p, len, i + 1, nocase, k);
        } else {
            if (p[i] == '\\' && len - i >= 2) i++; /* a trailing `\` is itself */
            k->literal = true;
            k->byte = p[i];
            add_folded(k, p[i], nocase);
            i++;
        }
    }
    *out = t;
    return n;
}

/* Glob semantics without the nesting limit: does t[0..nt) match s[0..n)?
 * Row i of the program says, for each j, whether t[i..] matches s[j..]. */
REFERENCE static bool ref_program(const token *t, size_t nt, const uint8_t *s, size_t n) {
    uint8_t *next = calloc(n + 1, 1), *cur = calloc(n + 1, 1);
    if (!next || !cur) abort();
    next[n] = 1;
    for (size_t i = nt; i-- > 0;) {
        if (t[i].star) {
            cur[n] = next[n];
            for (size_t j = n; j-- > 0;) cur[j] = next[j] || cur[j + 1];
        } else {
            cur[n] = 0;
            for (size_t j = 0; j < n; j++) cur[j] = set_has(&t[i], s[j]) && next[j + 1];
        }
        uint8_t *swap = cur;
        cur = next;
        next = swap;
    }
    bool r = next[0];
    free(next);
    free(cur);
    return r;
}

REFERENCE static bool segment_fits(const token *t, size_t len, const uint8_t *s) {
    for (size_t k = 0; k < len; k++)
        if (!set_has(&t[k], s[k])) return false;
    return true;
}

/* True if Redis's search reaches star group GLOB_MAX_STAR_GROUPS + 1 with
 * string bytes left and more pattern after it, which fails the match. Its
 * search is deterministic: the literal start must fit at 0, and the segment
 * after each star group is tried at every position from the left; the first
 * fit that leaves bytes leads to the next star group. */
REFERENCE static bool ref_hits_limit(const token *t, size_t nt, const uint8_t *s, size_t n) {
    size_t i = 0, j = 0;
    unsigned groups = 0;
    for (; i < nt && !t[i].star; i++, j++)
        if (j == n || !set_has(&t[i], s[j])) return false;
    while (i < nt && j < n) {
        groups++;
        size_t seg = i + 1, end = seg;
        if (seg == nt) return false; /* trailing star group: matches at once */
        if (groups > REDIS_MAX_NESTING) return true;
        while (end < nt && !t[end].star) end++;
        if (end == nt) return false; /* last segment: no star group after it */
        size_t len = end - seg, q = j;
        while (q + len <= n && !segment_fits(&t[seg], len, s + q)) q++;
        if (q + len > n) return false;
        j = q + len;
        i = end;
    }
    return false;
}

REFERENCE static bool ref_match(const token *t, size_t nt, const uint8_t *s, size_t n) {
    if (n == 0) return nt == 0; /* Redis: "*" does not match "". */
    return !ref_hits_limit(t, nt, s, n) && ref_program(t, nt, s, n);
}

/* ------------------------------------------------------------------------
 * Checks
 * --------------------------------------------------------------------- */

static void print_bytes(const char *name, const uint8_t *b, size_t len) {
    fprintf(stderr, "%s (%zu bytes): \"", name, len);
    size_t shown = len > 200 ? 200 : len;
    for (size_t i = 0; i < shown; i++) {
        if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '\\' && b[i] != '"') fputc(b[i], stderr);
        else fprintf(stderr, "\\x%02x", b[i]);
    }
    fprintf(stderr, "\"%s\n", shown < len ? "..." : "");
}

static void report(const char *what, const uint8_t *p, size_t plen, const uint8_t *s, size_t slen,
                   bool nocase) {
    fprintf(stderr, "fuzz_glob: %s (%s)\n", what, nocase ? "nocase" : "case-sensitive");
    print_bytes("pattern", p, plen);
    print_bytes("string", s, slen);
    abort();
}

static bool run_glob(const uint8_t *p, size_t plen, const uint8_t *s, size_t slen, bool nocase) {
    return nocase ? glob_match_nocase((const char *)p, plen, (const char *)s, slen)
                  : glob_match((const char *)p, plen, (const char *)s, slen);
}

static void check_match(const uint8_t *p, size_t plen, const uint8_t *s, size_t slen, bool nocase,
                        bool with_reference) {
    bool got = run_glob(p, plen, s, slen, nocase);
    if (!with_reference) return;
    token *t;
    size_t nt = tokenize(p, plen, nocase, &t);
    bool want = ref_match(t, nt, s, slen);
    free(t);
    if (got != want)
        report(got ? "glob matches, the reference does not" : "the reference matches, glob does not", p,
               plen, s, slen, nocase);
}

/* glob_literal_prefix / glob_is_literal against the tokens, and the
 * property the pattern index relies on. */
static void check_prefix(const uint8_t *p, size_t plen, const uint8_t *s, size_t slen) {
    char *prefix = malloc(plen ? plen : 1);
    if (!prefix) abort();
    size_t n = glob_literal_prefix((const char *)p, plen, prefix);
    if (n > plen) report("prefix longer than the pattern", p, plen, s, slen, false);
    token *t;
    size_t nt = tokenize(p, plen, false, &t), lits = 0;
    while (lits < nt && t[lits].literal) lits++;
    bool same = lits == n;
    for (size_t i = 0; same && i < n; i++) same = t[i].byte == (uint8_t)prefix[i];
    if (!same) report("literal prefix differs from the reference", p, plen, s, slen, false);
    bool literal = glob_is_literal((const char *)p, plen);
    if (literal != (lits == nt)) report("glob_is_literal differs from the reference", p, plen, s, slen, false);
    free(t);

    bool m = glob_match((const char *)p, plen, (const char *)s, slen);
    bool starts = slen >= n && memcmp(s, prefix, n) == 0;
    if (m && !starts) report("match without the literal prefix", p, plen, s, slen, false);
    if (literal) {
        if (m != (starts && slen == n)) report("literal pattern vs its prefix", p, plen, s, slen, false);
        if (!glob_match((const char *)p, plen, prefix, n))
            report("literal pattern does not match its prefix", p, plen, s, slen, false);
    }
    free(prefix);
}

REFERENCE static size_t star_groups(const uint8_t *p, size_t len) {
    token *t;
    size_t nt = tokenize(p, len, false, &t), g = 0;
    for (size_t i = 0; i < nt; i++) g += t[i].star;
    free(t);
    return g;
}

REFERENCE static size_t byte_tokens(const uint8_t *p, size_t len) {
    token *t;
    size_t nt = tokenize(p, len, false, &t), b = 0;
    for (size_t i = 0; i < nt; i++) b += !t[i].star;
    free(t);
    return b;
}

/* Returns an owned block holding unit repeated times times. */
REFERENCE static uint8_t *repeat(const uint8_t *unit, size_t len, size_t times) {
    uint8_t *r = malloc(len * times > 0 ? len * times : 1);
    if (!r) abort();
    for (size_t i = 0; i < times; i++) memcpy(r + i * len, unit, len);
    return r;
}

/* Repeats the pattern until its star groups reach 990..1010 and the string
 * to about the bytes those groups need, then compares with the reference:
 * this is where the nesting limit decides. */
static void check_amplified(const uint8_t *p, size_t plen, const uint8_t *s, size_t slen, uint8_t flags,
                            uint8_t param) {
    if (plen == 0 || slen == 0 || plen > 64 || slen > 64) return;
    bool nocase = flags & 2;
    /* Copies may merge star groups at their joins: count two copies. */
    uint8_t *two = repeat(p, plen, 2);
    size_t g1 = star_groups(p, plen), g2 = star_groups(two, plen * 2);
    size_t b2 = byte_tokens(two, plen * 2);
    free(two);
    if (g2 <= g1) return; /* no stars, or only stars */
    size_t per_copy = g2 - g1, target = 990 + param % 21;
    size_t copies = 1 + (target > g1 ? (target - g1 + per_copy - 1) / per_copy : 0);
    if (copies * plen > AMP_MAX_PATTERN) return;
    long long need = (long long)(copies * (b2 / 2)) + param / 21 - 6; /* a few bytes either way */
    size_t times = need > 0 ? (size_t)need / slen + 1 : 1;
    if (times * slen > AMP_MAX_STRING) return;
    uint8_t *bp = repeat(p, plen, copies), *bs = repeat(s, slen, times);
    size_t bplen = copies * plen, bslen = times * slen;
    token *t;
    size_t nt = tokenize(bp, bplen, nocase, &t);
    if ((size_t)nt * (bslen + 1) <= AMP_MAX_CELLS) {
        bool got = run_glob(bp, bplen, bs, bslen, nocase);
        bool want = ref_match(t, nt, bs, bslen);
        if (got != want)
            report(got ? "amplified: glob matches, the reference does not"
                       : "amplified: the reference matches, glob does not",
                   bp, bplen, bs, bslen, nocase);
    }
    free(t);
    free(bp);
    free(bs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    uint8_t flags = data[0], param = data[1];
    const uint8_t *body = data + 2;
    size_t len = size - 2;
    const uint8_t *sep = memchr(body, SEPARATOR, len);
    size_t plen = sep ? (size_t)(sep - body) : len;
    size_t slen = sep ? len - plen - 1 : len;
    /* Exact-size copies: glob.c must not read past either end. */
    uint8_t *p = malloc(plen ? plen : 1), *s = malloc(slen ? slen : 1);
    if (!p || !s) abort();
    memcpy(p, body, plen);
    memcpy(s, sep ? sep + 1 : body, slen);

    bool small = plen <= REF_MAX_LEN && slen <= REF_MAX_LEN;
    check_match(p, plen, s, slen, false, small);
    check_match(p, plen, s, slen, true, small);
    check_prefix(p, plen, s, slen);
    if (flags & 1) check_amplified(p, plen, s, slen, flags, param);
    free(p);
    free(s);
    return 0;
}
