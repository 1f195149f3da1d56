/*
 * credential — the badge credential: HMAC-SHA256(credential key, UID bytes).
 * The raw UID never leaves the process that read it; only this value does.
 */
#ifndef SAC_CREDENTIAL_H
#define SAC_CREDENTIAL_H

#include <stddef.h>
#include <stdint.h>

#define CREDENTIAL_KEY_LEN 32
#define CREDENTIAL_LEN 32
#define CREDENTIAL_HEX_LEN 64
#define CREDENTIAL_UID_MAX 10 /* ISO 14443-A UIDs are 4, 7 or 10 bytes */

#define CREDENTIAL_HEX_KEY_MAX 64

/* Loads a key file of exactly key_len (1..CREDENTIAL_HEX_KEY_MAX) bytes
 * written as 2 * key_len hex digits, optionally followed by one newline, not
 * accessible by group or others.  Returns 0, or -1 with a message naming
 * the file and the problem in err.  Used for the credential key and card
 * keys. */
int credential_hex_key_load(const char *path, uint8_t *key, size_t key_len, char *err, size_t err_size)
	__attribute__((warn_unused_result));

/* Loads a key file: exactly 64 hex digits, optionally followed by one newline,
 * not readable or writable by group or others (like ssh refuses private
 * keys).  Returns 0, or -1 with a message naming the problem in err. */
int credential_key_load(const char *path, uint8_t key[CREDENTIAL_KEY_LEN], char *err, size_t err_size)
	__attribute__((warn_unused_result));

/* credential = HMAC-SHA256(key, uid).  uid_len must be 1..CREDENTIAL_UID_MAX.
 * Returns 0, or -1. */
int credential_compute(const uint8_t key[CREDENTIAL_KEY_LEN], const uint8_t *uid, size_t uid_len,
		       uint8_t out[CREDENTIAL_LEN]) __attribute__((warn_unused_result));

/* The same as 64 lowercase hex digits and a NUL in out[65]. */
int credential_compute_hex(const uint8_t key[CREDENTIAL_KEY_LEN], const uint8_t *uid, size_t uid_len,
			   char out[CREDENTIAL_HEX_LEN + 1]) __attribute__((warn_unused_result));

#endif
