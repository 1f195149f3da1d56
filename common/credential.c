/*
 * credential — see credential.h.
 */
#include "credential.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hex.h"
#include "secret.h"
#include "tls.h"

int credential_hex_key_load(const char *path, uint8_t *key, size_t key_len, char *err, size_t err_size)
{
	char text[CREDENTIAL_HEX_KEY_MAX * 2 + 3];
	struct stat st;
	ssize_t n;
	size_t len;
	int fd = -1;
	int rc = -1;

	if (key_len == 0 || key_len > CREDENTIAL_HEX_KEY_MAX) {
		snprintf(err, err_size, "key %s: unsupported key length %zu", path, key_len);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, err_size, "key %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, err_size, "key %s: not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, err_size,
			 "key %s: permissions %04o are too open; it must not be "
			 "accessible by group or others (chmod 600)",
			 path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	n = read(fd, text, key_len * 2 + 2);
	if (n < 0) {
		snprintf(err, err_size, "key %s: %s", path, strerror(errno));
		goto out;
	}
	len = (size_t)n;
	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len != key_len * 2 || hex_decode(text, len, key, key_len) != (int)key_len) {
		snprintf(err, err_size, "key %s: must hold exactly %zu hexadecimal digits (%zu bytes)",
			 path, key_len * 2, key_len);
		goto out;
	}
	rc = 0;
out:
	secret_wipe(text, sizeof(text));
	if (fd >= 0)
		close(fd);
	return rc;
}

int credential_key_load(const char *path, uint8_t key[CREDENTIAL_KEY_LEN], char *err, size_t err_size)
{
	char inner[512];

	if (credential_hex_key_load(path, key, CREDENTIAL_KEY_LEN, inner, sizeof(inner)) == 0)
		return 0;
	snprintf(err, err_size, "credential %s", inner);
	return -1;
}

int credential_compute(const uint8_t key[CREDENTIAL_KEY_LEN], const uint8_t *uid, size_t uid_len,
		       uint8_t out[CREDENTIAL_LEN])
{
	if (uid_len == 0 || uid_len > CREDENTIAL_UID_MAX)
		return -1;
	return tls_hmac_sha256(key, CREDENTIAL_KEY_LEN, uid, uid_len, out);
}

int credential_compute_hex(const uint8_t key[CREDENTIAL_KEY_LEN], const uint8_t *uid, size_t uid_len,
			   char out[CREDENTIAL_HEX_LEN + 1])
{
	uint8_t raw[CREDENTIAL_LEN];
	int rc;

	if (credential_compute(key, uid, uid_len, raw) != 0)
		return -1;
	rc = hex_encode(raw, sizeof(raw), out, CREDENTIAL_HEX_LEN + 1);
	secret_wipe(raw, sizeof(raw));
	return rc;
}
