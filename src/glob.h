/* glob.h -- Glob matching with the semantics of Redis 7.0 PSUBSCRIBE, PUBSUB
 * CHANNELS (case-sensitive) and CONFIG GET (case-insensitive).
 *
 * Syntax: `*` any run of bytes, `?` exactly one byte, `[...]` one byte from a
 * class (`[^...]` negated, `a-z` ranges), `\x` the byte x. Patterns and
 * strings are binary-safe counted byte strings. Every rule below was checked
 * against redis-server 7.0.15 on amd64 (tests/c/test_glob.c holds the table):
 *
 * - The empty string matches only the empty pattern: "*" does not match "".
 * - A trailing `\` (nothing left to escape) is a literal backslash.
 * - `[` opens a class; `]` right after `[` or `[^` closes it, so `[]` never
 *   matches and `[^]` matches any one byte. `^` elsewhere is a literal.
 * - An unterminated class runs to the end of the pattern: "[ab" is "[ab]",
 *   "[^" is any byte, and "[" alone never matches.
 * - In a class, `\x` is the literal x (so `[\]]` is "]"); a `\` with nothing
 *   after it is a literal backslash.
 * - `a-b` is a range whenever three bytes remain, even if the third is `]`
 *   or `\`: "[a-]" is the class of bytes between ']' and 'a' (unterminated),
 *   "[a-\]" is the range '\'..'a'. A `-` that cannot start a range is literal,
 *   so "[-a]" is {'-', 'a'}.
 * - Reversed ranges are swapped: "[z-a]" is "[a-z]".
 * - Range ends compare as signed char, as Redis does on amd64: bytes >= 0x80
 *   sort before 0x00, so "[\x00-\xff]" is {0xff, 0x00} and "[\x7f-\x80]" is
 *   every byte. Equality never depends on sign.
 * - Nesting limit: Redis recurses once per `*` group (a run of stars), and a
 *   recursion deeper than 1000 fails. So once matching reaches the 1001st star
 *   group of a pattern with the string not yet consumed, the match fails,
 *   unless that group ends the pattern (a trailing `*` matches at once).
 * - Case folding (nocase only): ASCII A-Z only. Class literals and range ends
 *   fold, but range ends are swapped before folding ("[Z-a]" is then empty)
 *   and an escaped byte inside a class compares exactly ("[\M]" != "m").
 *
 * Work is O(pattern_len * str_len) at most, without recursion. */
#ifndef GLOB_H
#define GLOB_H

#include <stdbool.h>
#include <stddef.h>

/* Star groups a pattern may use before a match fails (Redis's nesting limit). */
#define GLOB_MAX_STAR_GROUPS 1000

/* Returns true if the str_len bytes at str match the pattern, case-sensitively
 * (PSUBSCRIBE, PUBSUB CHANNELS). Both buffers are borrowed and need no NUL. */
bool glob_match(const char *pattern, size_t pattern_len, const char *str,
                size_t str_len);
/* As glob_match, but ASCII letters match either case (CONFIG GET names). */
bool glob_match_nocase(const char *pattern, size_t pattern_len,
                       const char *str, size_t str_len);

/* For a pattern with a star: sets *tail_start to the index of the first
 * token after its last star group and *tail_bytes to the bytes of string
 * those tokens consume (one each), and returns true; false without a star.
 * Every match then ends with tail_bytes bytes that match the tail pattern
 * alone, which rejects most strings in O(tail) before the full matcher. */
bool glob_star_tail(const char *pattern, size_t len, size_t *tail_start, size_t *tail_bytes);

/* Writes to out (room for len bytes) the literal bytes that every string
 * matched by glob_match must start with: the pattern up to its first `*`,
 * `?` or `[`, escapes resolved. Returns the number of bytes written. */
size_t glob_literal_prefix(const char *pattern, size_t len, char *out);
/* Returns true if the pattern has no `*`, `?` or `[` outside escapes; then
 * glob_match(pattern, s) holds exactly when s equals its literal prefix. */
bool glob_is_literal(const char *pattern, size_t len);

#endif
