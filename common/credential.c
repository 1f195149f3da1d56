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
#include "tls.h"

int credential_key_load(const char *path, uint8_t key[CREDENTIAL_KEY_LEN], char *err, size_t err_size)
{
	char text[CREDENTIAL_KEY_LEN * 2 + 3];
	struct stat st;
	ssize_t n;
	size_t len;
	int fd = -1;
	int rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, err_size, "credential key %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, err_size, "credential key %s: not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, err_size,
			 "credential key %s: permissions %04o are too open; it must not be "
			 "accessible by group or others (chmod 600)",
			 path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	n = read(fd, text, sizeof(text));
	if (n < 0) {
		snprintf(err, err_size, "credential key %s: %s", path, strerror(errno));
		goto out;
	}
	len = (size_t)n;
	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len != CREDENTIAL_KEY_LEN * 2 ||
	    hex_decode(text, len, key, CREDENTIAL_KEY_LEN) != CREDENTIAL_KEY_LEN) {
		snprintf(err, err_size,
			 "credential key %s: must hold exactly 64 hexadecimal digits (32 bytes)", path);
		goto out;
	}
	rc = 0;
out:
	explicit_bzero(text, sizeof(text));
	if (fd >= 0)
		close(fd);
	return rc;
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
	explicit_bzero(raw, sizeof(raw));
	return rc;
}
