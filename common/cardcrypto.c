/*
 * cardcrypto — see cardcrypto.h.  OpenSSL 3 EVP interfaces only.
 */
#include "cardcrypto.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <string.h>

static int cardcrypto_cipher(const EVP_CIPHER *cipher, size_t block, const uint8_t *key,
			     const uint8_t *iv, bool encrypt, const uint8_t *in, size_t len,
			     uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = NULL;
	int n = 0, fin = 0, rc = -1;

	if (cipher == NULL || len == 0 || len % block != 0 || len > (size_t)1 << 20)
		goto out;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL || EVP_CipherInit_ex(ctx, cipher, NULL, key, iv, encrypt ? 1 : 0) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1 ||
	    EVP_CipherFinal_ex(ctx, out + n, &fin) != 1 || (size_t)(n + fin) != len)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

int cardcrypto_cbc(const uint8_t key[CARDCRYPTO_KEY_LEN], const uint8_t iv[CARDCRYPTO_BLOCK],
		   bool encrypt, const uint8_t *in, size_t len, uint8_t *out)
{
	return cardcrypto_cipher(EVP_aes_128_cbc(), CARDCRYPTO_BLOCK, key, iv, encrypt, in, len, out);
}

int cardcrypto_des_cbc(const uint8_t key[CARDCRYPTO_KEY_LEN], const uint8_t iv[CARDCRYPTO_DES_BLOCK],
		       bool encrypt, const uint8_t *in, size_t len, uint8_t *out)
{
	return cardcrypto_cipher(EVP_des_ede_cbc(), CARDCRYPTO_DES_BLOCK, key, iv, encrypt, in, len,
				 out);
}

int cardcrypto_cmac(const uint8_t key[CARDCRYPTO_KEY_LEN], const uint8_t *msg, size_t len,
		    uint8_t mac[CARDCRYPTO_BLOCK])
{
	static const uint8_t empty[1];
	char cipher[] = "AES-128-CBC";
	OSSL_PARAM params[2];
	EVP_MAC *alg = NULL;
	EVP_MAC_CTX *ctx = NULL;
	size_t out_len = 0;
	int rc = -1;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0);
	params[1] = OSSL_PARAM_construct_end();
	alg = EVP_MAC_fetch(NULL, "CMAC", NULL);
	if (alg == NULL)
		goto out;
	ctx = EVP_MAC_CTX_new(alg);
	if (ctx == NULL || EVP_MAC_init(ctx, key, CARDCRYPTO_KEY_LEN, params) != 1 ||
	    EVP_MAC_update(ctx, len > 0 ? msg : empty, len) != 1 ||
	    EVP_MAC_final(ctx, mac, &out_len, CARDCRYPTO_BLOCK) != 1 || out_len != CARDCRYPTO_BLOCK)
		goto out;
	rc = 0;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(alg);
	ERR_clear_error();
	return rc;
}

int cardcrypto_cmac_iv(const uint8_t key[CARDCRYPTO_KEY_LEN], const uint8_t iv[CARDCRYPTO_BLOCK],
		       const uint8_t *msg, size_t len, uint8_t mac[CARDCRYPTO_BLOCK])
{
	static const uint8_t zero[CARDCRYPTO_BLOCK];
	uint8_t buf[CARDCRYPTO_BLOCK + 512];
	int rc = -1;

	if (len == 0 || len > sizeof(buf) - CARDCRYPTO_BLOCK)
		return -1;
	/* CMAC's first step is X1 = E(K, X0 ^ M1) with X0 = 0.  A leading
	 * block D(K, iv) gives X1 = iv, so OpenSSL's CMAC then continues
	 * exactly as if it had started from iv (the message after it is not
	 * empty, so that block is never the last one, which alone gets a
	 * subkey). */
	if (cardcrypto_cbc(key, zero, false, iv, CARDCRYPTO_BLOCK, buf) != 0)
		goto out;
	memcpy(buf + CARDCRYPTO_BLOCK, msg, len);
	rc = cardcrypto_cmac(key, buf, CARDCRYPTO_BLOCK + len, mac);
out:
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

int cardcrypto_diversify(const uint8_t master[CARDCRYPTO_KEY_LEN], const uint8_t *m, size_t m_len,
			 uint8_t out[CARDCRYPTO_KEY_LEN])
{
	uint8_t d[1 + CARDCRYPTO_DIV_INPUT_MAX];
	int rc;

	if (m_len < CARDCRYPTO_DIV_INPUT_MIN || m_len > CARDCRYPTO_DIV_INPUT_MAX)
		return -1;
	/* AN10922: D = 0x01 || M, padded (0x80 0x00…) to 32 bytes with the
	 * CMAC subkey K2 when padded, K1 otherwise — which is exactly what
	 * CMAC does by itself on 16 < |D| <= 32. */
	d[0] = 0x01;
	memcpy(d + 1, m, m_len);
	rc = cardcrypto_cmac(master, d, 1 + m_len, out);
	explicit_bzero(d, sizeof(d));
	return rc;
}

int cardcrypto_random(uint8_t *buf, size_t len)
{
	if (len > (size_t)1 << 20 || RAND_bytes(buf, (int)len) != 1) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}
