#ifndef RESIDENCY_CCRYPTO_SHIM_H
#define RESIDENCY_CCRYPTO_SHIM_H
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/rand.h>
#include <openssl/hmac.h>

/* SHA-256 through OpenSSL's low-level calls, for the ledger's millions of short messages (a leaf: 0x00 and an
 * entry of about 200 bytes; a node: 0x01 and two hashes). The EVP interface dispatches through the provider
 * on every init and final, about 100 ns a hash here, as much as hashing a 65-byte node; these run the same
 * implementation without it. OpenSSL 3 marks them deprecated in favour of EVP; the warning is silenced here
 * only, and only for these two wrappers. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
/* SHA-256(prefix || message) into out[32]. */
static inline void residency_sha256_prefixed(unsigned char prefix, const void *message, size_t length,
                                             unsigned char *out) {
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, &prefix, 1);
    if (length > 0) SHA256_Update(&context, message, length);
    SHA256_Final(out, &context);
}

/* The RFC 6962 node hash SHA-256(0x01 || left || right) into out[32]. */
static inline void residency_sha256_node(const void *left, const void *right, unsigned char *out) {
    SHA256_CTX context;
    unsigned char prefix = 1;
    SHA256_Init(&context);
    SHA256_Update(&context, &prefix, 1);
    SHA256_Update(&context, left, 32);
    SHA256_Update(&context, right, 32);
    SHA256_Final(out, &context);
}
#pragma GCC diagnostic pop
#endif
