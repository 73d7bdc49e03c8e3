/* test_glob.c -- Unit tests for glob.c: Redis's glob semantics, pinned.
 *
 * Every expected value in the tables below was obtained from redis-server
 * 7.0.15 on amd64 (PUBSUB CHANNELS <pattern> against subscribed channels, and
 * PSUBSCRIBE + PUBLISH for the same cases; CONFIG GET for the nocase table),
 * never reasoned out. Beyond the tables: a random comparison against a tiny
 * recursive reference matcher, time bounds on pathological patterns, the
 * literal-prefix helpers, and the shared case file tests/assets/glob-cases.txt
 * (read relative to the repository root, where the test binary runs). */
#include "glob.h"
#include "mem.h"
#include "test.h"
#include "util.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Helpers
 * --------------------------------------------------------------------- */

#define S(x) x, sizeof(x) - 1

/* Copies len bytes into an exact-size heap block, so that ASan catches any
 * read past the end (glob must not rely on a NUL terminator). */
static char *exact_copy(const char *p, size_t len) {
    char *c = mem_alloc(len ? len : 1);
    memcpy(c, p, len);
    return c;
}

static bool match_exact(const char *p, size_t plen, const char *s,
                        size_t slen, bool nocase) {
    char *pc = exact_copy(p, plen), *sc = exact_copy(s, slen);
    bool r = nocase ? glob_match_nocase(pc, plen, sc, slen)
                    : glob_match(pc, plen, sc, slen);
    mem_free(pc);
    mem_free(sc);
    return r;
}

/* Returns an owned buffer holding pre, unit n times, then post. */
static char *repeat(const char *pre, const char *unit, size_t n,
                    const char *post, size_t *len) {
    size_t pl = strlen(pre), ul = strlen(unit), ol = strlen(post);
    *len = pl + ul * n + ol;
    char *b = mem_alloc(*len + 1), *w = b;
    memcpy(w, pre, pl);
    w += pl;
    for (size_t i = 0; i < n; i++, w += ul) memcpy(w, unit, ul);
    memcpy(w, post, ol);
    return b;
}

/* xorshift64*: a fixed seed gives the same cases on every run. */
static uint64_t rng_state;

static uint64_t rng_next(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static size_t rng_fill(char *out, size_t max_len, const char *alphabet,
                       size_t alphabet_len) {
    size_t n = (size_t)(rng_next() % (max_len + 1));
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[rng_next() % alphabet_len];
    return n;
}

/* ------------------------------------------------------------------------
 * The verified table
 * --------------------------------------------------------------------- */

typedef struct glob_case {
    const char *id;
    const char *pattern;
    size_t pattern_len;
    const char *str;
    size_t str_len;
    int expected;
} glob_case;

static const glob_case cases[] = {
    {"empty-1", S(""), S(""), 1},
    {"empty-2", S(""), S("a"), 0},
    {"empty-3", S("a"), S(""), 0},
    {"empty-4", S("*"), S(""), 0},
    {"empty-5", S("**"), S(""), 0},
    {"empty-6", S("?"), S(""), 0},
    {"empty-7", S("[^]"), S(""), 0},
    {"empty-8", S("\\"), S(""), 0},
    {"literal-1", S("hello"), S("hello"), 1},
    {"literal-2", S("hello"), S("hell"), 0},
    {"literal-3", S("hello"), S("hello!"), 0},
    {"literal-4", S("hello"), S("Hello"), 0},
    {"star-1", S("*"), S("a"), 1},
    {"star-2", S("*"), S("anything"), 1},
    {"star-3", S("h*o"), S("ho"), 1},
    {"star-4", S("h*o"), S("hello"), 1},
    {"star-5", S("h*o"), S("hellx"), 0},
    {"star-6", S("a*"), S("a"), 1},
    {"star-7", S("a*"), S("ab"), 1},
    {"star-8", S("a*"), S("ba"), 0},
    {"star-9", S("*a"), S("a"), 1},
    {"star-10", S("*a"), S("ba"), 1},
    {"star-11", S("*a"), S("ab"), 0},
    {"star-12", S("a**b"), S("ab"), 1},
    {"star-13", S("a**b"), S("axxb"), 1},
    {"star-14", S("*a*"), S("bab"), 1},
    {"star-15", S("*a*"), S("bbb"), 0},
    {"star-16", S("a*b*c"), S("abc"), 1},
    {"star-17", S("a*b*c"), S("axbxc"), 1},
    {"star-18", S("a*b*c"), S("acb"), 0},
    {"star-19", S("news.*"), S("news."), 1},
    {"star-20", S("news.*"), S("news.art"), 1},
    {"star-21", S("news.*"), S("news"), 0},
    {"star-22", S("*aab"), S("aaab"), 1},
    {"star-23", S("*aab"), S("aab"), 1},
    {"star-24", S("*aab"), S("abab"), 0},
    {"star-25", S("a*a*a*b"), S("aaaaab"), 1},
    {"star-26", S("a*a*a*b"), S("aaaaa"), 0},
    {"star-27", S("*abc*def"), S("xabcxdef"), 1},
    {"star-28", S("*abc*def"), S("xabcxdefx"), 0},
    {"star-29", S("*abc*def*"), S("xabcxdefx"), 1},
    {"qmark-1", S("?"), S("a"), 1},
    {"qmark-2", S("?"), S("ab"), 0},
    {"qmark-3", S("?\?"), S("ab"), 1},
    {"qmark-4", S("?\?"), S("a"), 0},
    {"qmark-5", S("?\?"), S("abc"), 0},
    {"qmark-6", S("*?"), S("a"), 1},
    {"qmark-7", S("*?"), S("abc"), 1},
    {"qmark-8", S("?*"), S("a"), 1},
    {"qmark-9", S("?*"), S("abc"), 1},
    {"qmark-10", S("a?c"), S("abc"), 1},
    {"qmark-11", S("a?c"), S("ac"), 0},
    {"qmark-12", S("*?\?"), S("ab"), 1},
    {"qmark-13", S("*?\?"), S("a"), 0},
    {"class-1", S("[abc]"), S("b"), 1},
    {"class-2", S("[abc]"), S("d"), 0},
    {"class-3", S("[abc]"), S("ab"), 0},
    {"class-4", S("h[ae]llo"), S("hallo"), 1},
    {"class-5", S("h[ae]llo"), S("hillo"), 0},
    {"class-6", S("[^a]"), S("b"), 1},
    {"class-7", S("[^a]"), S("a"), 0},
    {"class-8", S("[^a]"), S("bb"), 0},
    {"class-9", S("[^abc]"), S("c"), 0},
    {"class-10", S("[^abc]"), S("x"), 1},
    {"class-11", S("[!a]"), S("!"), 1},
    {"class-12", S("[!a]"), S("b"), 0},
    {"class-13", S("[a^]"), S("^"), 1},
    {"class-14", S("[^^]"), S("^"), 0},
    {"class-15", S("[^^]"), S("a"), 1},
    {"range-1", S("[a-c]"), S("b"), 1},
    {"range-2", S("[a-c]"), S("d"), 0},
    {"range-3", S("[a-c]"), S("-"), 0},
    {"range-4", S("[0-9]x"), S("5x"), 1},
    {"range-5", S("[0-9]x"), S("ax"), 0},
    {"range-6", S("[a-cx-z]"), S("y"), 1},
    {"range-7", S("[a-cx-z]"), S("m"), 0},
    {"range-8", S("[^a-c]"), S("b"), 0},
    {"range-9", S("[^a-c]"), S("d"), 1},
    {"range-10", S("[z-a]"), S("m"), 1},
    {"range-11", S("[z-a]"), S("A"), 0},
    {"range-12", S("[c-a]"), S("c"), 1},
    {"range-13", S("[c-a]"), S("a"), 1},
    {"range-14", S("[c-a]"), S("d"), 0},
    {"range-15", S("[^z-a]"), S("m"), 0},
    {"range-16", S("[^z-a]"), S("-"), 1},
    {"range-17", S("[--0]"), S("."), 1},
    {"range-18", S("[--0]"), S("1"), 0},
    {"range-19", S("[a-a]"), S("a"), 1},
    {"range-20", S("[a-a]"), S("b"), 0},
    {"dash-1", S("[-a]"), S("-"), 1},
    {"dash-2", S("[-a]"), S("a"), 1},
    {"dash-3", S("[-a]"), S("b"), 0},
    {"dash-4", S("[a-]"), S("a"), 1},
    {"dash-5", S("[a-]"), S("-"), 0},
    {"dash-6", S("[a-]"), S("]"), 1},
    {"dash-7", S("[a-]"), S("^"), 1},
    {"dash-8", S("[a-]"), S("_"), 1},
    {"dash-9", S("[a-]"), S("b"), 0},
    {"dash-10", S("[a-]x"), S("x"), 1},
    {"dash-11", S("[a-]x"), S("^"), 1},
    {"dash-12", S("[a-]x"), S("ax"), 0},
    {"dash-13", S("[a-z-]"), S("-"), 1},
    {"dash-14", S("[a-z-]"), S("m"), 1},
    {"dash-15", S("[a\\-z]"), S("-"), 1},
    {"dash-16", S("[a\\-z]"), S("a"), 1},
    {"dash-17", S("[a\\-z]"), S("m"), 0},
    {"dash-18", S("[a\\-z]"), S("z"), 1},
    {"dash-19", S("[\\a-z]"), S("a"), 1},
    {"dash-20", S("[\\a-z]"), S("-"), 1},
    {"dash-21", S("[\\a-z]"), S("m"), 0},
    {"bracket-1", S("[]"), S("]"), 0},
    {"bracket-2", S("[]"), S("a"), 0},
    {"bracket-3", S("[]]"), S("]"), 0},
    {"bracket-4", S("[]]"), S("]]"), 0},
    {"bracket-5", S("[]a]"), S("a"), 0},
    {"bracket-6", S("[]a]"), S("]a"), 0},
    {"bracket-7", S("[]-a]"), S("-"), 0},
    {"bracket-8", S("[]-a]"), S("]"), 0},
    {"bracket-9", S("[^]"), S("a"), 1},
    {"bracket-10", S("[^]"), S("]"), 1},
    {"bracket-11", S("[^]"), S("ab"), 0},
    {"bracket-12", S("[^]a"), S("xa"), 1},
    {"bracket-13", S("[^]a"), S("a"), 0},
    {"bracket-14", S("[^]]"), S("a]"), 1},
    {"bracket-15", S("[^]]"), S("]"), 0},
    {"bracket-16", S("[\\]]"), S("]"), 1},
    {"bracket-17", S("[\\]]"), S("\\"), 0},
    {"bracket-18", S("[\\\\]"), S("\\"), 1},
    {"bracket-19", S("[\\\\]"), S("]"), 0},
    {"bracket-20", S("[[]"), S("["), 1},
    {"bracket-21", S("[[]"), S("]"), 0},
    {"bracket-22", S("[[a]]"), S("a]"), 1},
    {"bracket-23", S("[[a]]"), S("[]"), 1},
    {"bracket-24", S("[[a]]"), S("a"), 0},
    {"bracket-25", S("a]"), S("a]"), 1},
    {"bracket-26", S("]"), S("]"), 1},
    {"unterminated-1", S("["), S("["), 0},
    {"unterminated-2", S("["), S("a"), 0},
    {"unterminated-3", S("["), S(""), 0},
    {"unterminated-4", S("x["), S("x"), 0},
    {"unterminated-5", S("x["), S("x["), 0},
    {"unterminated-6", S("[a"), S("a"), 1},
    {"unterminated-7", S("[a"), S("["), 0},
    {"unterminated-8", S("[a"), S("ab"), 0},
    {"unterminated-9", S("[ab"), S("b"), 1},
    {"unterminated-10", S("[ab"), S("c"), 0},
    {"unterminated-11", S("x[ab"), S("xb"), 1},
    {"unterminated-12", S("x[ab"), S("x"), 0},
    {"unterminated-13", S("[^"), S("a"), 1},
    {"unterminated-14", S("[^"), S("^"), 1},
    {"unterminated-15", S("[^"), S("ab"), 0},
    {"unterminated-16", S("[^a"), S("a"), 0},
    {"unterminated-17", S("[^a"), S("b"), 1},
    {"unterminated-18", S("[\\"), S("\\"), 1},
    {"unterminated-19", S("[\\"), S("a"), 0},
    {"unterminated-20", S("[\\]"), S("]"), 1},
    {"unterminated-21", S("[\\]"), S("\\"), 0},
    {"unterminated-22", S("[a-\\]"), S("\\"), 1},
    {"unterminated-23", S("[a-\\]"), S("a"), 1},
    {"unterminated-24", S("[a-\\]"), S("]"), 1},
    {"unterminated-25", S("[a-\\]"), S("b"), 0},
    {"unterminated-26", S("[a-\\]]"), S("]]"), 1},
    {"unterminated-27", S("[a-\\]]"), S("a]"), 1},
    {"unterminated-28", S("[a-\\]]"), S("a"), 0},
    {"unterminated-29", S("*["), S("x["), 0},
    {"unterminated-30", S("*["), S("x"), 0},
    {"unterminated-31", S("*[^"), S("xy"), 1},
    {"escape-1", S("\\"), S("\\"), 1},
    {"escape-2", S("\\"), S("a"), 0},
    {"escape-3", S("\\\\"), S("\\"), 1},
    {"escape-4", S("a\\"), S("a\\"), 1},
    {"escape-5", S("a\\"), S("a"), 0},
    {"escape-6", S("*\\"), S("xyz\\"), 1},
    {"escape-7", S("*\\"), S("xyz"), 0},
    {"escape-8", S("\\*"), S("*"), 1},
    {"escape-9", S("\\*"), S("a"), 0},
    {"escape-10", S("\\?"), S("?"), 1},
    {"escape-11", S("\\?"), S("a"), 0},
    {"escape-12", S("\\["), S("["), 1},
    {"escape-13", S("\\a"), S("a"), 1},
    {"escape-14", S("\\a"), S("\\a"), 0},
    {"escape-15", S("a\\*b"), S("a*b"), 1},
    {"escape-16", S("a\\*b"), S("axb"), 0},
    {"escape-17", S("\\[a]"), S("[a]"), 1},
    {"escape-18", S("\\[a]"), S("a"), 0},
    {"high-1", S("\200"), S("\200"), 1},
    {"high-2", S("\200"), S("\000"), 0},
    {"high-3", S("?"), S("\377"), 1},
    {"high-4", S("[\200-\377]"), S("\220"), 1},
    {"high-5", S("[\200-\377]"), S("a"), 0},
    {"high-6", S("[\000-\377]"), S("\000"), 1},
    {"high-7", S("[\000-\377]"), S("\377"), 1},
    {"high-8", S("[\000-\377]"), S("a"), 0},
    {"high-9", S("[\000-\377]"), S("\200"), 0},
    {"high-10", S("[a-\377]"), S("b"), 0},
    {"high-11", S("[a-\377]"), S("\000"), 1},
    {"high-12", S("[a-\377]"), S("\200"), 0},
    {"high-13", S("[\177-\200]"), S("a"), 1},
    {"high-14", S("[\177-\200]"), S("\300"), 1},
    {"high-15", S("[^\200]"), S("\200"), 0},
    {"high-16", S("[^\200]"), S("\201"), 1},
    {"high-17", S("*\377"), S("ab\377"), 1},
    {"high-18", S("*\377"), S("ab\376"), 0},
    {"nul-1", S("a\000b"), S("a\000b"), 1},
    {"nul-2", S("a\000b"), S("a"), 0},
    {"nul-3", S("a?b"), S("a\000b"), 1},
    {"nul-4", S("*"), S("\000"), 1},
    {"nul-5", S("[\000]"), S("\000"), 1},
    {"combo-1", S("*[ab]"), S("xxb"), 1},
    {"combo-2", S("*[ab]"), S("xxc"), 0},
    {"combo-3", S("*[^a]*"), S("aaba"), 1},
    {"combo-4", S("*[^a]*"), S("aaaa"), 0},
    {"combo-5", S("?[a-c]*\\*"), S("xb*"), 1},
    {"combo-6", S("?[a-c]*\\*"), S("xbzz*"), 1},
    {"combo-7", S("?[a-c]*\\*"), S("xd*"), 0},
    {"combo-8", S("[*]"), S("*"), 1},
    {"combo-9", S("[*]"), S("a"), 0},
    {"combo-10", S("[?]"), S("?"), 1},
    {"combo-11", S("[?]"), S("a"), 0},
    {"combo-12", S("*\\[*"), S("a[b"), 1},
    {"combo-13", S("*\\[*"), S("ab"), 0},
};

static void test_table(void) {
    int bad = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const glob_case *c = &cases[i];
        bool got = match_exact(c->pattern, c->pattern_len, c->str, c->str_len,
                               false);
        if (got != (c->expected != 0)) {
            TEST_FAIL_AT("case %s: got %d, Redis says %d", c->id, got,
                         c->expected);
            test_print_escaped("pattern", c->pattern, c->pattern_len);
            test_print_escaped("string", c->str, c->str_len);
            bad++;
        }
    }
    TEST_EQ_INT(bad, 0);
    TEST_TRUE(sizeof(cases) / sizeof(cases[0]) >= 120);
}

/* Case-insensitive matching, verified with CONFIG GET <pattern> (a pattern
 * with a glob character) listing "maxclients" or not. */
static const glob_case nocase_cases[] = {
    {"nocase-1", S("MAXCLIENT?"), S("maxclients"), 1},
    {"nocase-2", S("[M]axclients"), S("maxclients"), 1},
    {"nocase-3", S("[\\M]axclient?"), S("maxclients"), 0},
    {"nocase-4", S("[\\m]axclient?"), S("maxclients"), 1},
    {"nocase-5", S("[Z-a]axclients"), S("maxclients"), 0},
    {"nocase-6", S("[Z-n]axclients"), S("maxclients"), 0},
    {"nocase-7", S("[A-n]axclients"), S("maxclients"), 1},
    {"nocase-8", S("[M-m]axclients"), S("maxclients"), 1},
    {"nocase-9", S("[m-M]axclients"), S("maxclients"), 1},
    {"nocase-10", S("[^M]axclients"), S("maxclients"), 0},
    {"nocase-11", S("[^m]axclients"), S("maxclients"), 0},
    {"nocase-12", S("\\Maxclient?"), S("maxclients"), 1},
    {"nocase-13", S("m\\Axclient?"), S("maxclients"), 1},
    {"nocase-14", S("m[A-Z]xclients"), S("maxclients"), 1},
    {"nocase-15", S("m[^A]xclients"), S("maxclients"), 0},
    {"nocase-16", S("[^\\M]axclient?"), S("maxclients"), 1},
    {"nocase-17", S("[\\A-Z]axclient?"), S("maxclients"), 0},
};

static void test_table_nocase(void) {
    for (size_t i = 0; i < sizeof(nocase_cases) / sizeof(nocase_cases[0]);
         i++) {
        const glob_case *c = &nocase_cases[i];
        bool got = match_exact(c->pattern, c->pattern_len, c->str, c->str_len,
                               true);
        if (got != (c->expected != 0)) {
            TEST_FAIL_AT("case %s: got %d, Redis says %d", c->id, got,
                         c->expected);
            return;
        }
    }
    /* The case-sensitive matcher must not fold. */
    TEST_TRUE(!glob_match(S("MAXCLIENT?"), S("maxclients")));
    TEST_TRUE(glob_match_nocase(S("*"), S("x")));
    TEST_TRUE(!glob_match_nocase(S("*"), S("")));
}

/* ------------------------------------------------------------------------
 * Nesting limit: Redis fails once matching reaches the 1001st star group
 * with bytes left, unless that group ends the pattern.
 * pattern = pre + unit * n + post, string = sunit * m + spost.
 * --------------------------------------------------------------------- */

typedef struct nest_case {
    const char *id;
    const char *pre, *unit;
    size_t n;
    const char *post, *sunit;
    size_t m;
    const char *spost;
    int expected;
} nest_case;

static const nest_case nest_cases[] = {
    {"nest-1", "", "*a", 1000, "", "a", 1000, "", 1},
    {"nest-2", "", "*a", 1000, "", "a", 5000, "", 1},
    {"nest-3", "", "*a", 1001, "", "a", 1001, "", 0},
    {"nest-4", "", "*a", 1001, "", "a", 5000, "", 0},
    {"nest-5", "", "*a", 1001, "", "b", 10, "", 0},
    {"nest-6", "", "*a", 1000, "*", "a", 1000, "", 1},
    {"nest-7", "", "*a", 1001, "*", "a", 1001, "", 0},
    {"nest-8", "*", "a*", 1000, "", "a", 1000, "", 1},
    {"nest-9", "*", "a*", 1001, "", "a", 1001, "", 0},
    {"nest-10", "", "a*", 1001, "", "a", 1001, "", 1},
    {"nest-11", "", "a*", 1002, "", "a", 1002, "", 0},
    {"nest-12", "", "a*", 1002, "", "a", 1001, "", 0},
    {"nest-13", "", "**a", 1000, "", "a", 1000, "", 1},
    {"nest-14", "", "**a", 1001, "", "a", 1001, "", 0},
    {"nest-15", "", "*?", 1000, "", "x", 1000, "", 1},
    {"nest-16", "", "*?", 1001, "", "x", 1001, "", 0},
    {"nest-17", "", "*[a-z]", 1000, "", "q", 1000, "", 1},
    {"nest-18", "", "*[a-z]", 1001, "", "q", 2000, "", 0},
    {"nest-19", "", "*a", 1000, "*b", "a", 1000, "b", 0},
    {"nest-20", "", "*", 5000, "", "a", 1, "", 1},
    {"nest-21", "", "*", 5000, "a", "a", 3, "", 1},
    {"nest-22", "", "a*", 999, "b", "a", 1000, "b", 1},
    {"nest-23", "", "a*", 1000, "b", "a", 1000, "b", 1},
    {"nest-24", "", "a*", 1001, "b", "a", 1001, "b", 0},
    {"nest-25", "", "a", 10000, "", "a", 10000, "", 1},
    {"nest-26", "", "a", 10000, "", "a", 9999, "", 0},
    {"nest-27", "", "[ab]", 3000, "", "b", 3000, "", 1},
    {"nest-28", "", "\\*", 3000, "", "*", 3000, "", 1},
};

static void test_nesting_limit(void) {
    for (size_t i = 0; i < sizeof(nest_cases) / sizeof(nest_cases[0]); i++) {
        const nest_case *c = &nest_cases[i];
        size_t plen, slen;
        char *p = repeat(c->pre, c->unit, c->n, c->post, &plen);
        char *s = repeat("", c->sunit, c->m, c->spost, &slen);
        bool got = match_exact(p, plen, s, slen, false);
        mem_free(p);
        mem_free(s);
        if (got != (c->expected != 0)) {
            TEST_FAIL_AT("case %s: got %d, Redis says %d", c->id, got,
                         c->expected);
            return;
        }
    }
    TEST_EQ_INT(GLOB_MAX_STAR_GROUPS, 1000);
}

/* ------------------------------------------------------------------------
 * Random comparison with a reference matcher
 *
 * The reference states the semantics as directly as possible: recursion over
 * every split of the string at a star, and a class decoded into a 256-entry
 * membership set before testing the byte. Exponential, so short inputs only;
 * it has no nesting limit (patterns here have at most a few stars).
 * --------------------------------------------------------------------- */

static int signed_order(unsigned char c) {
    return c < 128 ? c : c - 256; /* Redis orders range ends as signed char. */
}

static unsigned char ref_fold(unsigned char c, bool nocase) {
    return (nocase && c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* Decodes the class starting after its `[` into in[]; returns the index
 * after the class (the pattern's end if unterminated). */
static size_t ref_class(const unsigned char *p, size_t len, size_t i,
                        bool nocase, bool in[256]) {
    bool negate = i < len && p[i] == '^';
    if (negate) i++;
    memset(in, 0, 256 * sizeof(bool));
    while (i < len && p[i] != ']') {
        if (p[i] == '\\' && i + 1 < len) {
            in[p[i + 1]] = true; /* Escaped: never folded. */
            i += 2;
        } else if (i + 2 < len && p[i + 1] == '-') {
            int lo = signed_order(p[i]), hi = signed_order(p[i + 2]);
            if (lo > hi) {
                int t = lo;
                lo = hi;
                hi = t;
            }
            if (nocase) {
                lo = signed_order(ref_fold((unsigned char)lo, true));
                hi = signed_order(ref_fold((unsigned char)hi, true));
            }
            for (int b = 0; b < 256; b++) {
                int k = signed_order(ref_fold((unsigned char)b, nocase));
                if (k >= lo && k <= hi) in[b] = true;
            }
            i += 3;
        } else {
            for (int b = 0; b < 256; b++)
                if (ref_fold((unsigned char)b, nocase) == ref_fold(p[i], nocase))
                    in[b] = true;
            i++;
        }
    }
    if (i < len) i++; /* The closing `]`. */
    if (negate)
        for (int b = 0; b < 256; b++) in[b] = !in[b];
    return i;
}

static bool ref_rest(const unsigned char *p, size_t plen,
                     const unsigned char *s, size_t slen, bool nocase) {
    if (plen == 0) return slen == 0;
    if (p[0] == '*') {
        for (size_t k = 0; k <= slen; k++)
            if (ref_rest(p + 1, plen - 1, s + k, slen - k, nocase)) return true;
        return false;
    }
    if (slen == 0) return false;
    size_t next = 1;
    bool ok;
    if (p[0] == '?') {
        ok = true;
    } else if (p[0] == '[') {
        bool in[256];
        next = ref_class(p, plen, 1, nocase, in);
        ok = in[s[0]];
    } else {
        size_t at = (p[0] == '\\' && plen > 1) ? 1 : 0;
        next = at + 1;
        ok = ref_fold(p[at], nocase) == ref_fold(s[0], nocase);
    }
    return ok && ref_rest(p + next, plen - next, s + 1, slen - 1, nocase);
}

static bool ref_match(const char *p, size_t plen, const char *s, size_t slen,
                      bool nocase) {
    if (slen == 0) return plen == 0; /* Redis: "*" does not match "". */
    return ref_rest((const unsigned char *)p, plen,
                    (const unsigned char *)s, slen, nocase);
}

static void random_vs_reference(bool nocase, int rounds, uint64_t seed) {
    static const char pat_alpha[] = "ab*?[]^-\\cA\xff";
    static const char str_alpha[] = "ab-]^\\cA\xff";
    char p[16], s[16];
    rng_state = seed;
    for (int r = 0; r < rounds; r++) {
        size_t plen = rng_fill(p, 12, pat_alpha, sizeof(pat_alpha) - 1);
        size_t slen = rng_fill(s, 10, str_alpha, sizeof(str_alpha) - 1);
        bool want = ref_match(p, plen, s, slen, nocase);
        bool got = nocase ? glob_match_nocase(p, plen, s, slen)
                          : glob_match(p, plen, s, slen);
        if (got != want) {
            TEST_FAIL_AT("round %d: glob %d, reference %d", r, got, want);
            test_print_escaped("pattern", p, plen);
            test_print_escaped("string", s, slen);
            return;
        }
    }
}

static void test_random_vs_reference(void) {
    random_vs_reference(false, 200000, 0x9E3779B97F4A7C15ULL);
}

static void test_random_vs_reference_nocase(void) {
    random_vs_reference(true, 50000, 0xD1B54A32D192ED03ULL);
}

/* ------------------------------------------------------------------------
 * Pathological patterns: each must finish well under the bound, because a
 * PUBLISH runs the matcher inside the event loop.
 * --------------------------------------------------------------------- */

#define SLOW_LIMIT_US 50000

static void test_pathological_time(void) {
    static const struct {
        const char *pre, *unit;
        size_t n;
        const char *post, *sunit;
        size_t m;
        const char *spost;
        int expected;
    } slow[] = {
        {"", "a*", 16, "b", "a", 100000, "", 0},
        {"", "*a", 16, "*b", "a", 100000, "", 0},
        {"", "*", 1000, "b", "a", 100000, "", 0},
        {"", "*?", 900, "b", "a", 100000, "", 0},
        {"", "*a", 999, "b", "a", 100000, "", 0},
        {"", "*a", 999, "b", "a", 100000, "b", 1},
        {"*", "a", 16, "b", "a", 100000, "", 0},
        {"*", "[a-z]", 20, "*[^a]", "a", 100000, "", 0},
        {"", "*[ab][ab]", 30, "c", "ab", 50000, "", 0},
        {"", "*[^b]", 50, "*b", "a", 100000, "b", 1},
        {"", "a", 100000, "", "a", 100000, "", 1},
        {"", "?", 100000, "*", "x", 100000, "", 1},
        {"", "[", 1, "a", "a", 100000, "", 0},
        {"", "*\\", 500, "x", "\\", 100000, "", 0},
    };
    for (size_t i = 0; i < sizeof(slow) / sizeof(slow[0]); i++) {
        size_t plen, slen;
        char *p = repeat(slow[i].pre, slow[i].unit, slow[i].n, slow[i].post,
                         &plen);
        char *s = repeat("", slow[i].sunit, slow[i].m, slow[i].spost, &slen);
        /* The best of three runs: a busy machine can stall one, while an
         * exponential matcher would be far over the limit every time. */
        long long took = LLONG_MAX;
        bool got = false;
        for (int run = 0; run < 3 && took > SLOW_LIMIT_US; run++) {
            long long start = util_monotonic_us();
            got = glob_match(p, plen, s, slen);
            long long t = util_monotonic_us() - start;
            if (t < took) took = t;
        }
        mem_free(p);
        mem_free(s);
        if (took > SLOW_LIMIT_US || got != (slow[i].expected != 0)) {
            TEST_FAIL_AT("slow case %zu: got %d want %d in %lld us", i, got,
                         slow[i].expected, took);
            return;
        }
    }
}

/* ------------------------------------------------------------------------
 * Literal prefix and literal patterns
 * --------------------------------------------------------------------- */

/* The tail after the last star group, which publish checks against the
 * channel's last bytes before the full match: classes, escapes and stars
 * inside classes must be tokens, not stars ("[]" is an empty class, so
 * "[]]" is two tokens). */
static void test_star_tail(void) {
    static const struct {
        const char *pattern;
        bool star;
        size_t start, bytes;
    } tails[] = {
        {"abc", false, 0, 0},        {"a*b", true, 2, 1},
        {"a*a*a*7*b", true, 8, 1},   {"*?a*?b12", true, 4, 4},
        {"news.*", true, 6, 0},      {"a**[xy]z", true, 3, 2},
        {"a*[*]b", true, 2, 2},      {"a*\\*b", true, 2, 2},
        {"*[ab", true, 1, 1},        {"*b\\", true, 1, 2},
        {"*[]]x", true, 1, 3},       {"a\\*b", false, 0, 0},
        {"a\\\\*b", true, 4, 1},
    };
    for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        size_t start = 99, bytes = 99;
        bool star = glob_star_tail(tails[i].pattern, strlen(tails[i].pattern), &start, &bytes);
        if (star != tails[i].star || (star && (start != tails[i].start || bytes != tails[i].bytes))) {
            TEST_FAIL_AT("case %zu %s: got star=%d start=%zu bytes=%zu", i, tails[i].pattern, star, start,
                         bytes);
            return;
        }
    }
}

static void test_literal_prefix(void) {
    static const struct {
        const char *pattern;
        size_t pattern_len;
        const char *prefix;
        size_t prefix_len;
        bool literal;
    } lits[] = {
        {S(""), S(""), true},
        {S("abc"), S("abc"), true},
        {S("news.*"), S("news."), false},
        {S("a?c"), S("a"), false},
        {S("ab[c]"), S("ab"), false},
        {S("*abc"), S(""), false},
        {S("\\*x"), S("*x"), true},
        {S("a\\[b*"), S("a[b"), false},
        {S("a\\\\*"), S("a\\"), false},
        {S("a\\"), S("a\\"), true},
        {S("\\"), S("\\"), true},
        {S("\\\\"), S("\\"), true},
        {S("]^-!"), S("]^-!"), true},
        {S("a]b[c"), S("a]b"), false},
        {S("\x80\0z?"), S("\x80\0z"), false},
        {S("x\\?\\[\\*"), S("x?[*"), true},
    };
    for (size_t i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
        char out[32];
        char *p = exact_copy(lits[i].pattern, lits[i].pattern_len);
        size_t n = glob_literal_prefix(p, lits[i].pattern_len, out);
        bool literal = glob_is_literal(p, lits[i].pattern_len);
        mem_free(p);
        TEST_EQ_MEM(out, n, lits[i].prefix, lits[i].prefix_len);
        TEST_EQ_INT(literal, lits[i].literal);
    }
}

/* A match implies the string starts with the literal prefix; a literal
 * pattern matches exactly its prefix. */
static void test_literal_prefix_property(void) {
    static const char pat_alpha[] = "aab*?[]\\-b";
    static const char str_alpha[] = "aab-]\\";
    char p[16], s[16], prefix[16];
    int matched = 0;
    rng_state = 0x0123456789ABCDEFULL;
    for (int r = 0; r < 100000; r++) {
        size_t plen = rng_fill(p, 10, pat_alpha, sizeof(pat_alpha) - 1);
        size_t slen = rng_fill(s, 8, str_alpha, sizeof(str_alpha) - 1);
        size_t n = glob_literal_prefix(p, plen, prefix);
        TEST_TRUE(n <= plen);
        bool m = glob_match(p, plen, s, slen);
        if (m) {
            matched++;
            if (slen < n || memcmp(s, prefix, n) != 0) {
                TEST_FAIL_AT("round %d: match without the prefix", r);
                test_print_escaped("pattern", p, plen);
                test_print_escaped("string", s, slen);
                return;
            }
        }
        if (glob_is_literal(p, plen)) {
            bool equal = slen == n && memcmp(s, prefix, n) == 0;
            TEST_EQ_INT(m, equal);
            TEST_TRUE(glob_match(p, plen, prefix, n));
        }
    }
    TEST_TRUE(matched > 1000); /* The alphabets must produce matches. */
}

/* ------------------------------------------------------------------------
 * The shared case file, tests/assets/glob-cases.txt
 *
 * Each line is PATTERN <TAB> STRING <TAB> 0|1; `\xHH` stands for a byte and
 * any other backslash is literal; lines starting with # are comments. The
 * file must exist: a missing file fails the test.
 * --------------------------------------------------------------------- */

#define GLOB_CASES_PATH "tests/assets/glob-cases.txt"

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes the field [f, end) in place; returns its decoded length. */
static size_t unescape_field(char *f, const char *end) {
    size_t n = 0;
    for (const char *r = f; r < end; r++) {
        if (r[0] == '\\' && end - r >= 4 && r[1] == 'x' &&
            hex_digit(r[2]) >= 0 && hex_digit(r[3]) >= 0) {
            f[n++] = (char)(hex_digit(r[2]) * 16 + hex_digit(r[3]));
            r += 3;
        } else {
            f[n++] = *r;
        }
    }
    return n;
}

static void test_assets_cases(void) {
    static char line[65536];
    FILE *fp = fopen(GLOB_CASES_PATH, "r");
    int lineno = 0, checked = 0, bad = 0;
    if (!fp) {
        TEST_FAIL_AT("cannot open %s (run from the repository root)",
                     GLOB_CASES_PATH);
        return;
    }
    while (fgets(line, sizeof(line), fp)) {
        size_t len = strlen(line);
        lineno++;
        if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
            TEST_FAIL_AT("%s:%d: line too long", GLOB_CASES_PATH, lineno);
            bad++;
            break;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#') continue;
        char *tab1 = memchr(line, '\t', len);
        char *tab2 = NULL;
        if (tab1) tab2 = memchr(tab1 + 1, '\t', len - (size_t)(tab1 + 1 - line));
        char *want = tab2 ? tab2 + 1 : NULL;
        if (!want || (strcmp(want, "0") != 0 && strcmp(want, "1") != 0)) {
            TEST_FAIL_AT("%s:%d: malformed line", GLOB_CASES_PATH, lineno);
            bad++;
            continue;
        }
        size_t plen = unescape_field(line, tab1);
        size_t slen = unescape_field(tab1 + 1, tab2);
        bool got = match_exact(line, plen, tab1 + 1, slen, false);
        checked++;
        if (got != (want[0] == '1')) {
            TEST_FAIL_AT("%s:%d: got %d, file says %s", GLOB_CASES_PATH,
                         lineno, got, want);
            test_print_escaped("pattern", line, plen);
            test_print_escaped("string", tab1 + 1, slen);
            bad++;
        }
    }
    fclose(fp);
    TEST_EQ_INT(bad, 0);
    TEST_TRUE(checked > 0);
}

const test_case glob_tests[] = {
    {"table", test_table},
    {"table_nocase", test_table_nocase},
    {"nesting_limit", test_nesting_limit},
    {"random_vs_reference", test_random_vs_reference},
    {"random_vs_reference_nocase", test_random_vs_reference_nocase},
    {"pathological_time", test_pathological_time},
    {"star_tail", test_star_tail},
    {"literal_prefix", test_literal_prefix},
    {"literal_prefix_property", test_literal_prefix_property},
    {"assets_cases", test_assets_cases},
    {NULL, NULL},
};
