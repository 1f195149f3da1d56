/*
 * tls — see tls.h.  The only file of sac that includes OpenSSL headers.
 */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
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

/* --- TLS 1.3, mutual authentication ------------------------------------ */

struct tls_context {
	SSL_CTX *ssl_ctx;
	bool server;
};

struct tls_conn {
	SSL *ssl;
	char error[256];
};

/* Drains the OpenSSL queue into the log under step and keeps the first
 * (outermost cause) in err. */
static void tls_fail(const char *step, char *err, size_t err_size)
{
	unsigned long e;
	char buf[256];
	bool first = true;

	snprintf(err, err_size, "%s failed", step);
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_error("%s: %s", step, buf);
		if (first)
			snprintf(err, err_size, "%s: %.200s", step,
				 ERR_reason_error_string(e) != NULL ? ERR_reason_error_string(e) : buf);
		first = false;
	}
	if (first)
		log_error("%s failed", step);
}

/* Loads every CRL of crl_file (PEM) into sc's store and turns on
 * revocation checking of the peer's certificate for every handshake.  Each
 * CRL must be signed by the CA of ca_file and not be past its next update:
 * an expired list would make every handshake fail, so it is refused here
 * with a message saying so. */
static int tls_load_crl(SSL_CTX *sc, const char *ca_file, const char *crl_file, char *err,
			size_t err_size)
{
	X509_STORE *store = SSL_CTX_get_cert_store(sc);
	X509 *ca = NULL;
	X509_CRL *crl = NULL;
	BIO *bio = NULL;
	int count = 0, rc = -1;

	bio = BIO_new_file(ca_file, "r");
	if (bio == NULL || (ca = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		tls_fail("reading the CA certificate for the CRL", err, err_size);
		goto out;
	}
	BIO_free(bio);
	bio = BIO_new_file(crl_file, "r");
	if (bio == NULL) {
		tls_fail("opening the CRL", err, err_size);
		goto out;
	}
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
		const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
		EVP_PKEY *ca_key = X509_get0_pubkey(ca);

		if (ca_key == NULL ||
		    X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca)) != 0 ||
		    X509_CRL_verify(crl, ca_key) != 1) {
			ERR_clear_error();
			snprintf(err, err_size, "CRL %s is not signed by the CA of %s", crl_file,
				 ca_file);
			goto out;
		}
		if (next == NULL || X509_cmp_current_time(next) <= 0) {
			snprintf(err, err_size,
				 "CRL %s has expired (past its next update): issue a new one "
				 "(sac-pki crl)",
				 crl_file);
			goto out;
		}
		if (X509_STORE_add_crl(store, crl) != 1) {
			tls_fail("adding the CRL", err, err_size);
			goto out;
		}
		X509_CRL_free(crl);
		crl = NULL;
		count++;
	}
	ERR_clear_error(); /* the end of the file */
	if (count == 0) {
		snprintf(err, err_size, "CRL %s holds no PEM certificate revocation list", crl_file);
		goto out;
	}
	if (X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK) != 1) {
		tls_fail("enabling CRL checks", err, err_size);
		goto out;
	}
	rc = 0;
out:
	X509_CRL_free(crl);
	X509_free(ca);
	BIO_free(bio);
	return rc;
}

static struct tls_context *tls_context_new(bool server, const char *cert_file, const char *key_file,
					   const char *ca_file, const char *crl_file, char *err,
					   size_t err_size)
{
	struct tls_context *ctx = NULL;
	SSL_CTX *sc = NULL;
	STACK_OF(X509_NAME) *ca_names = NULL;

	ERR_clear_error();
	sc = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (sc == NULL) {
		tls_fail("SSL_CTX_new", err, err_size);
		goto fail;
	}
	if (SSL_CTX_set_min_proto_version(sc, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(sc, TLS1_3_VERSION) != 1) {
		tls_fail("restricting to TLS 1.3", err, err_size);
		goto fail;
	}
	/* Nothing outlives a connection: no tickets, no session cache, no
	 * early data, no renegotiation.  Idle connections give their buffers
	 * back (thousands of readers sit idle most of the time). */
	SSL_CTX_set_options(sc,
			    SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(sc, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
				     SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_set_max_early_data(sc, 0) != 1 || (server && SSL_CTX_set_num_tickets(sc, 0) != 1)) {
		tls_fail("disabling early data and tickets", err, err_size);
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(sc, cert_file) != 1) {
		tls_fail("loading the certificate", err, err_size);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(sc, key_file, SSL_FILETYPE_PEM) != 1) {
		tls_fail("loading the private key", err, err_size);
		goto fail;
	}
	if (SSL_CTX_check_private_key(sc) != 1) {
		tls_fail("matching the private key to the certificate", err, err_size);
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(sc, ca_file, NULL) != 1) {
		tls_fail("loading the CA certificate", err, err_size);
		goto fail;
	}
	if (crl_file != NULL && tls_load_crl(sc, ca_file, crl_file, err, err_size) != 0)
		goto fail;
	if (server) {
		ca_names = SSL_load_client_CA_file(ca_file);
		if (ca_names == NULL) {
			tls_fail("reading the CA names", err, err_size);
			goto fail;
		}
		SSL_CTX_set_client_CA_list(sc, ca_names);
		SSL_CTX_set_verify(sc, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	} else {
		SSL_CTX_set_verify(sc, SSL_VERIFY_PEER, NULL);
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		snprintf(err, err_size, "out of memory");
		goto fail;
	}
	ctx->ssl_ctx = sc;
	ctx->server = server;
	return ctx;

fail:
	SSL_CTX_free(sc);
	ERR_clear_error();
	return NULL;
}

struct tls_context *tls_server_context_new(const char *cert_file, const char *key_file,
					   const char *ca_file, const char *crl_file, char *err,
					   size_t err_size)
{
	return tls_context_new(true, cert_file, key_file, ca_file, crl_file, err, err_size);
}

struct tls_context *tls_client_context_new(const char *cert_file, const char *key_file,
					   const char *ca_file, const char *crl_file, char *err,
					   size_t err_size)
{
	return tls_context_new(false, cert_file, key_file, ca_file, crl_file, err, err_size);
}

void tls_context_free(struct tls_context *ctx)
{
	if (ctx == NULL)
		return;
	/* Connections hold their own reference to the SSL_CTX. */
	SSL_CTX_free(ctx->ssl_ctx);
	free(ctx);
}

struct tls_conn *tls_conn_new(struct tls_context *ctx, int fd, const char *server_name)
{
	struct tls_conn *conn = calloc(1, sizeof(*conn));
	char err[256];

	if (conn == NULL)
		return NULL;
	ERR_clear_error();
	conn->ssl = SSL_new(ctx->ssl_ctx);
	if (conn->ssl == NULL) {
		tls_fail("SSL_new", err, sizeof(err));
		goto fail;
	}
	if (SSL_set_fd(conn->ssl, fd) != 1) {
		tls_fail("SSL_set_fd", err, sizeof(err));
		goto fail;
	}
	if (ctx->server) {
		SSL_set_accept_state(conn->ssl);
	} else {
		SSL_set_connect_state(conn->ssl);
		if (server_name != NULL && server_name[0] != '\0') {
			unsigned char addr[16];
			bool is_ip = inet_pton(AF_INET, server_name, addr) == 1 ||
				     inet_pton(AF_INET6, server_name, addr) == 1;

			/* The server must prove this name (or address); SNI is
			 * sent for names only, as RFC 6066 requires. */
			if (is_ip) {
				if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(conn->ssl),
								  server_name) != 1) {
					tls_fail("setting the expected server address", err,
						 sizeof(err));
					goto fail;
				}
			} else if (SSL_set1_host(conn->ssl, server_name) != 1 ||
				   SSL_set_tlsext_host_name(conn->ssl, server_name) != 1) {
				tls_fail("setting the expected server name", err, sizeof(err));
				goto fail;
			}
		}
	}
	snprintf(conn->error, sizeof(conn->error), "no error");
	return conn;

fail:
	tls_conn_free(conn);
	return NULL;
}

void tls_conn_free(struct tls_conn *conn)
{
	if (conn == NULL)
		return;
	SSL_free(conn->ssl);
	free(conn);
}

/* Maps the result of an SSL_* I/O call; on failure records why in conn and
 * logs the drained queue under step. */
static enum tls_io tls_conn_result(struct tls_conn *conn, int ret, const char *step)
{
	int saved_errno = errno;
	int code = SSL_get_error(conn->ssl, ret);
	unsigned long e;
	char buf[256];
	bool first = true;

	switch (code) {
	case SSL_ERROR_NONE:
		return TLS_IO_OK;
	case SSL_ERROR_WANT_READ:
		return TLS_IO_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_IO_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		snprintf(conn->error, sizeof(conn->error), "closed by peer");
		return TLS_IO_CLOSED;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			if (saved_errno == 0) {
				snprintf(conn->error, sizeof(conn->error), "closed by peer");
				return TLS_IO_CLOSED;
			}
			snprintf(conn->error, sizeof(conn->error), "%s: %.200s", step,
				 strerror(saved_errno));
			return TLS_IO_ERROR;
		}
		break;
	default:
		break;
	}
	snprintf(conn->error, sizeof(conn->error), "%s failed", step);
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_debug("%s: %s", step, buf);
		if (first) {
			const char *reason = ERR_reason_error_string(e);

			snprintf(conn->error, sizeof(conn->error), "%s: %.200s", step,
				 reason != NULL ? reason : buf);
		}
		first = false;
	}
	{
		long verify = SSL_get_verify_result(conn->ssl);

		if (verify != X509_V_OK)
			snprintf(conn->error, sizeof(conn->error), "%s: certificate: %s", step,
				 X509_verify_cert_error_string(verify));
	}
	return TLS_IO_ERROR;
}

enum tls_io tls_conn_handshake(struct tls_conn *conn)
{
	ERR_clear_error();
	errno = 0;
	return tls_conn_result(conn, SSL_do_handshake(conn->ssl), "TLS handshake");
}

enum tls_io tls_conn_read(struct tls_conn *conn, void *buf, size_t len, size_t *done)
{
	ERR_clear_error();
	errno = 0;
	*done = 0;
	return tls_conn_result(conn, SSL_read_ex(conn->ssl, buf, len, done), "TLS read");
}

enum tls_io tls_conn_write(struct tls_conn *conn, const void *buf, size_t len, size_t *done)
{
	ERR_clear_error();
	errno = 0;
	*done = 0;
	return tls_conn_result(conn, SSL_write_ex(conn->ssl, buf, len, done), "TLS write");
}

void tls_conn_shutdown(struct tls_conn *conn)
{
	if (conn == NULL || !SSL_is_init_finished(conn->ssl))
		return;
	ERR_clear_error();
	(void)SSL_shutdown(conn->ssl);
	ERR_clear_error();
}

int tls_conn_peer_cn(struct tls_conn *conn, char *out, size_t out_size)
{
	X509 *cert;
	X509_NAME *subject;
	X509_NAME_ENTRY *entry;
	unsigned char *utf8 = NULL;
	int idx, len, ret = -1;

	if (SSL_get_verify_result(conn->ssl) != X509_V_OK)
		return -1;
	cert = SSL_get0_peer_certificate(conn->ssl);
	if (cert == NULL)
		return -1;
	subject = X509_get_subject_name(cert);
	idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
	/* Exactly one CN: an identity must not be ambiguous. */
	if (idx < 0 || X509_NAME_get_index_by_NID(subject, NID_commonName, idx) >= 0)
		return -1;
	entry = X509_NAME_get_entry(subject, idx);
	len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
	if (len <= 0 || (size_t)len >= out_size || memchr(utf8, '\0', (size_t)len) != NULL)
		goto out;
	memcpy(out, utf8, (size_t)len);
	out[len] = '\0';
	ret = 0;
out:
	OPENSSL_free(utf8);
	ERR_clear_error();
	return ret;
}

const char *tls_conn_error(const struct tls_conn *conn)
{
	return conn != NULL ? conn->error : "no connection";
}
