#ifndef RESIDENCY_CSSL_SHIM_H
#define RESIDENCY_CSSL_SHIM_H
// OpenSSL's libssl: TLS 1.3 for the controller's API and, later, mutual TLS between the controller and the
// regional services. Functions for what OpenSSL spells as macros, which Swift cannot call.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/x509.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/evp.h>
#include <openssl/bn.h>

static inline int residency_ssl_ctx_set_min_tls13(SSL_CTX *context) {
    return (int)SSL_CTX_set_min_proto_version(context, TLS1_3_VERSION);
}

static inline long residency_bio_set_mem_eof_return(BIO *bio, int value) {
    return BIO_set_mem_eof_return(bio, value);
}

static inline long residency_bio_pending(BIO *bio) { return (long)BIO_pending(bio); }

static inline long residency_ssl_ctx_set_mode_release_buffers(SSL_CTX *context) {
    return SSL_CTX_set_mode(context, SSL_MODE_RELEASE_BUFFERS);
}

static inline int residency_ssl_ctx_set_app_data(SSL_CTX *context, void *data) {
    return SSL_CTX_set_app_data(context, data);
}

static inline void *residency_ssl_ctx_get_app_data(const SSL_CTX *context) {
    return SSL_CTX_get_app_data(context);
}
#endif
