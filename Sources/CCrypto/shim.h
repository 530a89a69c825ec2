#ifndef RESIDENCY_CCRYPTO_SHIM_H
#define RESIDENCY_CCRYPTO_SHIM_H
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/rand.h>
#include <openssl/hmac.h>
#include <string.h>

/* SHA-256 through OpenSSL's low-level calls, for the ledger's millions of short messages (a leaf: 0x00 and an
 * entry of about 200 bytes; a node: 0x01 and two hashes). The EVP interface dispatches through the provider
 * on every init and final, about 100 ns a hash here, as much as hashing a 65-byte node; these run the same
 * implementation without it. OpenSSL 3 marks them deprecated in favour of EVP; the warning is silenced here
 * only, and only for these two wrappers. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
/* SHA-256(message) into out[32]: the bearer token of every API call is hashed to find its holder, and EVP_Digest
 * allocated, initialised and freed a context for each (measured with callgrind: about 5,500 instructions a
 * placement request, against about 2,000 for the two blocks of hashing itself). */
static inline void residency_sha256(const void *message, size_t length, unsigned char *out) {
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, message, length);
    SHA256_Final(out, &context);
}

/* SHA-256(prefix || message) into out[32]. A message of up to 511 bytes (every ledger entry but the rarest) is
 * hashed from one contiguous copy, one update instead of two: the single prefix byte left in OpenSSL's block
 * buffer made it copy each entry's first 63 bytes in there before hashing the rest in place. */
static inline void residency_sha256_prefixed(unsigned char prefix, const void *message, size_t length,
                                             unsigned char *out) {
    SHA256_CTX context;
    SHA256_Init(&context);
    if (length < 512) {
        unsigned char whole[512];
        whole[0] = prefix;
        if (length > 0) memcpy(whole + 1, message, length);
        SHA256_Update(&context, whole, length + 1);
    } else {
        SHA256_Update(&context, &prefix, 1);
        SHA256_Update(&context, message, length);
    }
    SHA256_Final(out, &context);
}

/* The RFC 6962 node hash SHA-256(0x01 || left || right) into out[32], from one 65-byte buffer: one update, where
 * three small ones each went through OpenSSL's buffering (the node hash runs about once per leaf). */
static inline void residency_sha256_node(const void *left, const void *right, unsigned char *out) {
    SHA256_CTX context;
    unsigned char block[65];
    block[0] = 1;
    memcpy(block + 1, left, 32);
    memcpy(block + 33, right, 32);
    SHA256_Init(&context);
    SHA256_Update(&context, block, sizeof block);
    SHA256_Final(out, &context);
}
#pragma GCC diagnostic pop
#endif
