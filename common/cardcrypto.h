/*
 * cardcrypto — the primitives a MIFARE DESFire card session needs, all from
 * OpenSSL (EVP AES-128-CBC, EVP 2-key triple DES CBC, EVP_MAC CMAC,
 * RAND_bytes): no hand-written cipher.  On top of them only two things of
 * its own: NXP AN10922's AES-128 key diversification, which is one CMAC, and
 * the CMAC with a running IV that DESFire EV1 secure messaging uses, which is
 * OpenSSL's CMAC over one extra leading block (see cardcrypto_cmac_iv).
 *
 * Triple DES is here only for the DES keys factory-fresh cards carry (2-key
 * 3DES, or single DES as 2-key with K1 = K2); both are in OpenSSL 3's default
 * provider, so the legacy provider is not needed.
 *
 * It knows nothing of card commands (desfire.h does).  Keys are the caller's
 * to wipe.
 */
#ifndef SAC_CARDCRYPTO_H
#define SAC_CARDCRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CARDCRYPTO_KEY_LEN 16
#define CARDCRYPTO_BLOCK 16
/* AN10922 input M (UID, AID, system identifier): 15 to 31 bytes, the range
 * in which the note's padded 32-byte CMAC input equals CMAC over 0x01 || M. */
#define CARDCRYPTO_DIV_INPUT_MIN 15
#define CARDCRYPTO_DIV_INPUT_MAX 31

/* AES-128-CBC without padding: len must be a non-zero multiple of 16.  out
 * may not overlap in.  Returns 0, or -1. */
int cardcrypto_cbc(const uint8_t key[CARDCRYPTO_KEY_LEN], const uint8_t iv[CARDCRYPTO_BLOCK],
		   bool encrypt, const uint8_t *in, size_t len, uint8_t *out)
	__attribute__((warn_unused_result));

/* AES-128 CMAC (NIST SP 800-38B) of msg (any length, also 0).  Returns 0, or -1. */
int cardcrypto_cmac(const uint8_t key[CARDCRYPTO_KEY_LEN], const uint8_t *msg, size_t len,
		    uint8_t mac[CARDCRYPTO_BLOCK]) __attribute__((warn_unused_result));

/* AES-128 CMAC whose chaining starts from iv instead of zero, as DESFire EV1
 * computes its MACs (the IV being the session's previous CMAC or cipher
 * block).  msg must not be empty.  Equals cardcrypto_cmac when iv is zero.
 * Returns 0, or -1. */
int cardcrypto_cmac_iv(const uint8_t key[CARDCRYPTO_KEY_LEN], const uint8_t iv[CARDCRYPTO_BLOCK],
		       const uint8_t *msg, size_t len, uint8_t mac[CARDCRYPTO_BLOCK])
	__attribute__((warn_unused_result));

#define CARDCRYPTO_DES_BLOCK 8
/* 2-key triple DES CBC without padding (key = K1 || K2; K1 = K2 is single
 * DES): len must be a non-zero multiple of 8.  out may not overlap in.
 * Returns 0, or -1. */
int cardcrypto_des_cbc(const uint8_t key[CARDCRYPTO_KEY_LEN], const uint8_t iv[CARDCRYPTO_DES_BLOCK],
		       bool encrypt, const uint8_t *in, size_t len, uint8_t *out)
	__attribute__((warn_unused_result));

/* AN10922 §2.2 AES-128 diversification: out = CMAC(master, 0x01 || m) with
 * m_len in [CARDCRYPTO_DIV_INPUT_MIN, CARDCRYPTO_DIV_INPUT_MAX].  Returns 0,
 * or -1 (also for an input length outside that range). */
int cardcrypto_diversify(const uint8_t master[CARDCRYPTO_KEY_LEN], const uint8_t *m, size_t m_len,
			 uint8_t out[CARDCRYPTO_KEY_LEN]) __attribute__((warn_unused_result));

/* Cryptographically strong random bytes.  Returns 0, or -1. */
int cardcrypto_random(uint8_t *buf, size_t len) __attribute__((warn_unused_result));

#endif
