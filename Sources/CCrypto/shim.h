#ifndef RESIDENCY_CCRYPTO_SHIM_H
#define RESIDENCY_CCRYPTO_SHIM_H
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/rand.h>
#endif
