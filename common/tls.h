/*
 * tls — every OpenSSL call of sac lives in tls.c: the HMAC behind credentials,
 * random bytes for event ids, and TLS 1.3 with mutual certificate
 * authentication for the reader <-> controller link.
 *
 * Each failing step is logged with what it was doing and OpenSSL's error
 * queue is drained into the log, so that one failure never shows up as the
 * cause of the next.  There is no fallback to weaker verification.
 */
#ifndef SAC_TLS_H
#define SAC_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_HMAC_SHA256_LEN 32

/* HMAC-SHA256(key, data) into out[32].  Returns 0, or -1 (logged). */
int tls_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t data_len,
		    uint8_t out[TLS_HMAC_SHA256_LEN]) __attribute__((warn_unused_result));

/* Cryptographically strong random bytes.  Returns 0, or -1 (logged). */
int tls_random_bytes(uint8_t *out, size_t len) __attribute__((warn_unused_result));

/* --- TLS 1.3, mutual authentication ------------------------------------ */

struct tls_context; /* certificate, key and trusted CA for one side */
struct tls_conn;    /* one TLS connection over a non-blocking socket */

enum tls_io {
	TLS_IO_OK = 0,
	TLS_IO_WANT_READ,  /* call again when the socket is readable */
	TLS_IO_WANT_WRITE, /* call again when the socket is writable */
	TLS_IO_CLOSED,	   /* the peer closed the connection cleanly */
	TLS_IO_ERROR,	   /* failed; tls_conn_error() says why */
};

/* A server context: TLS 1.3 only, client certificate required and verified
 * against ca_file.  With crl_file (PEM, may be NULL), every handshake also
 * checks the peer's certificate against that revocation list; a CRL that
 * is not signed by the CA of ca_file or has passed its next update is
 * refused here.  NULL on failure, with the failing step in err. */
struct tls_context *tls_server_context_new(const char *cert_file, const char *key_file,
					   const char *ca_file, const char *crl_file, char *err,
					   size_t err_size);

/* A client context: TLS 1.3 only, presents cert/key, verifies the server
 * against ca_file (and crl_file, as above).  NULL on failure, with the
 * failing step in err. */
struct tls_context *tls_client_context_new(const char *cert_file, const char *key_file,
					   const char *ca_file, const char *crl_file, char *err,
					   size_t err_size);

void tls_context_free(struct tls_context *ctx); /* accepts NULL */

/* Wraps a connected socket.  server_name: for a client, the name to send as
 * SNI (may be NULL).  The caller keeps owning fd.  NULL on failure. */
struct tls_conn *tls_conn_new(struct tls_context *ctx, int fd, const char *server_name);
void tls_conn_free(struct tls_conn *conn); /* accepts NULL; does not close fd */

enum tls_io tls_conn_handshake(struct tls_conn *conn);
/* Reads up to len bytes; *done is set to the count on TLS_IO_OK. */
enum tls_io tls_conn_read(struct tls_conn *conn, void *buf, size_t len, size_t *done);
/* Writes up to len bytes; *done is set to the count on TLS_IO_OK. */
enum tls_io tls_conn_write(struct tls_conn *conn, const void *buf, size_t len, size_t *done);
/* Sends close_notify (best effort, never blocks). */
void tls_conn_shutdown(struct tls_conn *conn);

/* The verified peer certificate's subject CN into out.  Returns 0, or -1 if
 * there is no verified certificate or the CN is missing or does not fit. */
int tls_conn_peer_cn(struct tls_conn *conn, char *out, size_t out_size)
	__attribute__((warn_unused_result));

/* Why the last call on conn failed (static text, never NULL). */
const char *tls_conn_error(const struct tls_conn *conn);

#endif
