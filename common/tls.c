/*
 * tls — see tls.h.  The only file of sac that includes OpenSSL headers.
 */
#include "tls.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "log.h"

/* Logs every queued OpenSSL error under the step that failed, emptying the queue. */
static void tls_log_errors(const char *step)
{
	unsigned long e;
	char buf[256];
	bool any = false;

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_error("%s: %s", step, buf);
		any = true;
	}
	if (!any)
		log_error("%s failed", step);
}

int tls_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t data_len,
		    uint8_t out[TLS_HMAC_SHA256_LEN])
{
	unsigned int out_len = 0;

	if (HMAC(EVP_sha256(), key, (int)key_len, data, data_len, out, &out_len) == NULL ||
	    out_len != TLS_HMAC_SHA256_LEN) {
		tls_log_errors("HMAC-SHA256");
		return -1;
	}
	return 0;
}

int tls_random_bytes(uint8_t *out, size_t len)
{
	if (len > (size_t)INT32_MAX || RAND_bytes(out, (int)len) != 1) {
		tls_log_errors("RAND_bytes");
		return -1;
	}
	return 0;
}
