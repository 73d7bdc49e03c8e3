/* sha256.h -- SHA-256 (FIPS 180-4), for ACL password hashes. */
#ifndef SHA256_H
#define SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32   /* bytes */
#define SHA256_HEX_LEN 64      /* characters of the lower-case hex form */

/* Streaming state; zero it with sha256_init() before use. */
typedef struct sha256_ctx {
    uint32_t state[8];
    uint64_t total_len;        /* bytes fed so far */
    unsigned char block[64];   /* pending partial block */
    size_t block_len;          /* bytes used in block */
} sha256_ctx;

void sha256_init(sha256_ctx *ctx);
/* Feeds len bytes at p (borrowed); any number of calls. */
void sha256_update(sha256_ctx *ctx, const void *p, size_t len);
/* Writes the digest; ctx must be initialised again before reuse. */
void sha256_final(sha256_ctx *ctx, unsigned char out[SHA256_DIGEST_LEN]);

/* One-shot: the digest of len bytes at p as 64 lower-case hex characters
 * followed by a NUL (out needs SHA256_HEX_LEN + 1 bytes). */
void sha256_hex(const void *p, size_t len, char out[SHA256_HEX_LEN + 1]);

#endif
