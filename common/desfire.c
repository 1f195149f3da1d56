/*
 * desfire — see desfire.h.  Layouts follow the MIFARE DESFire EV2 data
 * sheet and NXP AN12196 / AN12343 (EV2 secure messaging); the EV1 family
 * follows the EV1 data sheet's AuthenticateAES / AuthenticateISO and its
 * CMAC and CRC32 rules (checked against published traces of real EV1 cards
 * in tests/unit/test_desfire.c).
 */
#include "desfire.h"

#include <stdio.h>
#include <string.h>

#include "cardcrypto.h"

void desfire_init(struct desfire *d, desfire_xfer_fn xfer, void *io)
{
	memset(d, 0, sizeof(*d));
	d->xfer = xfer;
	d->io = io;
}

void desfire_clear(struct desfire *d)
{
	explicit_bzero(d->ses_enc, sizeof(d->ses_enc));
	explicit_bzero(d->ses_mac, sizeof(d->ses_mac));
	explicit_bzero(d->ti, sizeof(d->ti));
	explicit_bzero(d->iv, sizeof(d->iv));
	d->authenticated = false;
	d->session = DESFIRE_SESSION_NONE;
	d->cmd_ctr = 0;
}

static const char *desfire_status_name(uint8_t status)
{
	switch (status) {
	case DESFIRE_ST_NO_CHANGES:
		return "no changes";
	case DESFIRE_ST_OUT_OF_MEMORY:
		return "out of memory";
	case DESFIRE_ST_ILLEGAL_COMMAND:
		return "illegal command";
	case DESFIRE_ST_INTEGRITY_ERROR:
		return "integrity error (CRC or MAC)";
	case DESFIRE_ST_NO_SUCH_KEY:
		return "no such key";
	case DESFIRE_ST_LENGTH_ERROR:
		return "length error";
	case DESFIRE_ST_PERMISSION_DENIED:
		return "permission denied";
	case DESFIRE_ST_PARAMETER_ERROR:
		return "parameter error";
	case DESFIRE_ST_APPLICATION_NOT_FOUND:
		return "application not found";
	case DESFIRE_ST_AUTHENTICATION_ERROR:
		return "authentication error (wrong key)";
	case DESFIRE_ST_ADDITIONAL_FRAME:
		return "additional frame expected";
	case DESFIRE_ST_BOUNDARY_ERROR:
		return "boundary error";
	case DESFIRE_ST_COMMAND_ABORTED:
		return "command aborted";
	case DESFIRE_ST_DUPLICATE_ERROR:
		return "duplicate (already exists)";
	case DESFIRE_ST_FILE_NOT_FOUND:
		return "file not found";
	default:
		return "unknown error";
	}
}

static int desfire_fail(struct desfire *d, int result, const char *what, const char *detail)
{
	if (result == DESFIRE_REFUSED)
		snprintf(d->why, sizeof(d->why), "%s: the card answered %02X (%s)", what, d->status,
			 desfire_status_name(d->status));
	else
		snprintf(d->why, sizeof(d->why), "%s: %s", what, detail);
	/* Any failure ends an EV2 session on the card too. */
	desfire_clear(d);
	return result;
}

int desfire_answer_parse(const uint8_t *rx, size_t rx_len, uint8_t *status, size_t *data_len)
{
	if (rx_len < 2 || rx_len > DESFIRE_ANSWER_MAX || rx[rx_len - 2] != 0x91)
		return -1;
	*status = rx[rx_len - 1];
	*data_len = rx_len - 2;
	return 0;
}

int desfire_apdu(uint8_t cmd, const uint8_t *body, size_t body_len, uint8_t *out, size_t out_size)
{
	size_t n = 0;

	if (body_len > 255 || out_size < body_len + 6)
		return -1;
	out[n++] = 0x90;
	out[n++] = cmd;
	out[n++] = 0x00;
	out[n++] = 0x00;
	if (body_len > 0) {
		out[n++] = (uint8_t)body_len;
		memcpy(out + n, body, body_len);
		n += body_len;
	}
	out[n++] = 0x00;
	return (int)n;
}

static void desfire_rotl_n(const uint8_t *in, uint8_t *out, size_t n)
{
	memcpy(out, in + 1, n - 1);
	out[n - 1] = in[0];
}

static void desfire_rotl(const uint8_t in[16], uint8_t out[16])
{
	desfire_rotl_n(in, out, 16);
}

int desfire_session_keys(const uint8_t key[DESFIRE_KEY_LEN], const uint8_t rnda[16],
			 const uint8_t rndb[16], uint8_t enc[DESFIRE_KEY_LEN],
			 uint8_t mac[DESFIRE_KEY_LEN])
{
	uint8_t sv[32];
	int i, rc = -1;

	/* SV = label(2) 00 01 00 80 || RndA[15..14] || (RndA[13..8] ^ RndB[15..10])
	 *      || RndB[9..0] || RndA[7..0], byte 15 being the first sent. */
	sv[2] = 0x00;
	sv[3] = 0x01;
	sv[4] = 0x00;
	sv[5] = 0x80;
	memcpy(sv + 6, rnda, 2);
	for (i = 0; i < 6; i++)
		sv[8 + i] = rnda[2 + i] ^ rndb[i];
	memcpy(sv + 14, rndb + 6, 10);
	memcpy(sv + 24, rnda + 8, 8);
	sv[0] = 0xA5;
	sv[1] = 0x5A;
	if (cardcrypto_cmac(key, sv, sizeof(sv), enc) != 0)
		goto out;
	sv[0] = 0x5A;
	sv[1] = 0xA5;
	if (cardcrypto_cmac(key, sv, sizeof(sv), mac) != 0)
		goto out;
	rc = 0;
out:
	explicit_bzero(sv, sizeof(sv));
	return rc;
}

int desfire_auth_step2(const uint8_t key[DESFIRE_KEY_LEN], const uint8_t ek_rndb[16],
		       const uint8_t rnda[16], uint8_t rndb[16], uint8_t out[32])
{
	static const uint8_t zero_iv[16];
	uint8_t plain[32];
	int rc = -1;

	if (cardcrypto_cbc(key, zero_iv, false, ek_rndb, 16, rndb) != 0)
		goto out;
	memcpy(plain, rnda, 16);
	desfire_rotl(rndb, plain + 16);
	if (cardcrypto_cbc(key, zero_iv, true, plain, 32, out) != 0)
		goto out;
	rc = 0;
out:
	explicit_bzero(plain, sizeof(plain));
	return rc;
}

int desfire_auth_finish(struct desfire *d, const uint8_t key[DESFIRE_KEY_LEN], const uint8_t rnda[16],
			const uint8_t rndb[16], const uint8_t answer[32])
{
	static const uint8_t zero_iv[16];
	uint8_t plain[32], rnda_rot[16];
	int rc = DESFIRE_INTERNAL;

	if (cardcrypto_cbc(key, zero_iv, false, answer, 32, plain) != 0)
		goto out;
	desfire_rotl(rnda, rnda_rot);
	/* A card without our key cannot return our challenge. */
	if (memcmp(plain + 4, rnda_rot, 16) != 0) {
		rc = DESFIRE_INTEGRITY;
		goto out;
	}
	if (desfire_session_keys(key, rnda, rndb, d->ses_enc, d->ses_mac) != 0)
		goto out;
	memcpy(d->ti, plain, DESFIRE_TI_LEN);
	d->cmd_ctr = 0;
	d->authenticated = true;
	d->session = DESFIRE_SESSION_EV2;
	rc = DESFIRE_OK;
out:
	explicit_bzero(plain, sizeof(plain));
	explicit_bzero(rnda_rot, sizeof(rnda_rot));
	return rc;
}

int desfire_sm_mact(const uint8_t ses_mac[DESFIRE_KEY_LEN], uint8_t code, uint16_t ctr,
		    const uint8_t ti[DESFIRE_TI_LEN], const uint8_t *a, size_t a_len, const uint8_t *b,
		    size_t b_len, uint8_t mact[DESFIRE_MACT_LEN])
{
	uint8_t msg[7 + 2 * DESFIRE_APDU_MAX], mac[16];
	size_t n = 0;
	int i;

	if (a_len + b_len > 2 * DESFIRE_APDU_MAX)
		return -1;
	msg[n++] = code;
	msg[n++] = (uint8_t)(ctr & 0xFF);
	msg[n++] = (uint8_t)(ctr >> 8);
	memcpy(msg + n, ti, DESFIRE_TI_LEN);
	n += DESFIRE_TI_LEN;
	if (a_len > 0)
		memcpy(msg + n, a, a_len);
	n += a_len;
	if (b_len > 0)
		memcpy(msg + n, b, b_len);
	n += b_len;
	if (cardcrypto_cmac(ses_mac, msg, n, mac) != 0)
		return -1;
	for (i = 0; i < DESFIRE_MACT_LEN; i++)
		mact[i] = mac[2 * i + 1];
	explicit_bzero(mac, sizeof(mac));
	return 0;
}

static int desfire_sm_iv(const uint8_t ses_enc[DESFIRE_KEY_LEN], const uint8_t ti[DESFIRE_TI_LEN],
			 uint16_t ctr, bool answer, uint8_t iv[16])
{
	static const uint8_t zero_iv[16];
	uint8_t in[16];

	memset(in, 0, sizeof(in));
	in[0] = answer ? 0x5A : 0xA5;
	in[1] = answer ? 0xA5 : 0x5A;
	memcpy(in + 2, ti, DESFIRE_TI_LEN);
	in[6] = (uint8_t)(ctr & 0xFF);
	in[7] = (uint8_t)(ctr >> 8);
	return cardcrypto_cbc(ses_enc, zero_iv, true, in, 16, iv);
}

int desfire_sm_encrypt(const uint8_t ses_enc[DESFIRE_KEY_LEN], const uint8_t ti[DESFIRE_TI_LEN],
		       uint16_t ctr, bool answer, const uint8_t *in, size_t len, uint8_t *out,
		       size_t out_size)
{
	uint8_t padded[DESFIRE_DATA_MAX + 16], iv[16];
	size_t n = (len / 16 + 1) * 16;
	int rc = -1;

	if (len > DESFIRE_DATA_MAX || n > out_size)
		return -1;
	memset(padded, 0, sizeof(padded));
	if (len > 0)
		memcpy(padded, in, len);
	padded[len] = 0x80;
	if (desfire_sm_iv(ses_enc, ti, ctr, answer, iv) == 0 &&
	    cardcrypto_cbc(ses_enc, iv, true, padded, n, out) == 0)
		rc = (int)n;
	explicit_bzero(padded, sizeof(padded));
	return rc;
}

int desfire_sm_decrypt(const uint8_t ses_enc[DESFIRE_KEY_LEN], const uint8_t ti[DESFIRE_TI_LEN],
		       uint16_t ctr, bool answer, const uint8_t *in, size_t len, uint8_t *out,
		       size_t out_size)
{
	uint8_t plain[DESFIRE_DATA_MAX + 16], iv[16];
	size_t n;
	int rc = -1;

	if (len == 0 || len % 16 != 0 || len > sizeof(plain))
		return -1;
	if (desfire_sm_iv(ses_enc, ti, ctr, answer, iv) != 0 ||
	    cardcrypto_cbc(ses_enc, iv, false, in, len, plain) != 0)
		goto out;
	/* Padding method 2, always present: zeros back to one 0x80 within
	 * the last block. */
	n = len;
	while (n > len - 16 && plain[n - 1] == 0x00)
		n--;
	if (n == len - 16 || plain[n - 1] != 0x80)
		goto out;
	n--;
	if (n > out_size)
		goto out;
	memcpy(out, plain, n);
	rc = (int)n;
out:
	explicit_bzero(plain, sizeof(plain));
	return rc;
}

/* --- EV1 ------------------------------------------------------------------ */

static size_t desfire_block(enum desfire_cipher cipher)
{
	return cipher == DESFIRE_CIPHER_AES ? 16 : 8;
}

int desfire_ev1_cbc(enum desfire_cipher cipher, const uint8_t key[DESFIRE_KEY_LEN], uint8_t iv[16],
		    bool encrypt, const uint8_t *in, size_t len, uint8_t *out)
{
	size_t bs = desfire_block(cipher);
	uint8_t next[16];
	int rc;

	if (len == 0 || len % bs != 0)
		return -1;
	if (!encrypt)
		memcpy(next, in + len - bs, bs);
	rc = cipher == DESFIRE_CIPHER_AES ? cardcrypto_cbc(key, iv, encrypt, in, len, out)
					  : cardcrypto_des_cbc(key, iv, encrypt, in, len, out);
	if (rc == 0)
		memcpy(iv, encrypt ? out + len - bs : next, bs);
	return rc;
}

int desfire_ev1_cmac(const uint8_t ses[DESFIRE_KEY_LEN], uint8_t iv[16], const uint8_t *a, size_t a_len,
		     const uint8_t *b, size_t b_len, uint8_t *mac)
{
	uint8_t msg[2 * DESFIRE_APDU_MAX], full[16];

	if (a_len + b_len == 0 || a_len + b_len > sizeof(msg))
		return -1;
	if (a_len > 0)
		memcpy(msg, a, a_len);
	if (b_len > 0)
		memcpy(msg + a_len, b, b_len);
	if (cardcrypto_cmac_iv(ses, iv, msg, a_len + b_len, full) != 0)
		return -1;
	memcpy(iv, full, 16);
	if (mac != NULL)
		memcpy(mac, full, DESFIRE_MACT_LEN);
	return 0;
}

int desfire_ev1_auth_step2(enum desfire_cipher cipher, const uint8_t key[DESFIRE_KEY_LEN],
			   const uint8_t *ek_rndb, const uint8_t *rnda, uint8_t *rndb, uint8_t *out,
			   uint8_t iv[16])
{
	size_t bs = desfire_block(cipher);
	uint8_t plain[32];
	int rc = -1;

	/* One CBC chain over the whole authentication, from a zero IV. */
	memset(iv, 0, 16);
	if (desfire_ev1_cbc(cipher, key, iv, false, ek_rndb, bs, rndb) != 0)
		goto out;
	memcpy(plain, rnda, bs);
	desfire_rotl_n(rndb, plain + bs, bs);
	if (desfire_ev1_cbc(cipher, key, iv, true, plain, 2 * bs, out) != 0)
		goto out;
	rc = 0;
out:
	explicit_bzero(plain, sizeof(plain));
	return rc;
}

int desfire_ev1_auth_check(enum desfire_cipher cipher, const uint8_t key[DESFIRE_KEY_LEN],
			   const uint8_t *answer, const uint8_t *rnda, uint8_t iv[16])
{
	size_t bs = desfire_block(cipher);
	uint8_t plain[16], rot[16];
	int rc = DESFIRE_INTERNAL;

	if (desfire_ev1_cbc(cipher, key, iv, false, answer, bs, plain) != 0)
		goto out;
	desfire_rotl_n(rnda, rot, bs);
	/* A card without our key cannot return our challenge. */
	rc = memcmp(plain, rot, bs) == 0 ? DESFIRE_OK : DESFIRE_INTEGRITY;
out:
	explicit_bzero(plain, sizeof(plain));
	explicit_bzero(rot, sizeof(rot));
	return rc;
}

void desfire_ev1_session_key(enum desfire_cipher cipher, const uint8_t key[DESFIRE_KEY_LEN],
			     const uint8_t *rnda, const uint8_t *rndb, uint8_t ses[DESFIRE_KEY_LEN])
{
	memcpy(ses, rnda, 4);
	memcpy(ses + 4, rndb, 4);
	if (cipher == DESFIRE_CIPHER_AES) {
		memcpy(ses + 8, rnda + 12, 4);
		memcpy(ses + 12, rndb + 12, 4);
	} else if (memcmp(key, key + 8, 8) == 0) {
		memcpy(ses + 8, ses, 8); /* a single DES key: a single DES session */
	} else {
		memcpy(ses + 8, rnda + 4, 4);
		memcpy(ses + 12, rndb + 4, 4);
	}
}

int desfire_ev1_encrypt(enum desfire_cipher cipher, const uint8_t ses[DESFIRE_KEY_LEN], uint8_t iv[16],
			const uint8_t *in, size_t len, uint8_t *out, size_t out_size)
{
	size_t bs = desfire_block(cipher), n = (len + bs - 1) / bs * bs;
	uint8_t padded[DESFIRE_APDU_MAX];
	int rc = -1;

	if (len == 0 || n > sizeof(padded) || n > out_size)
		return -1;
	memset(padded, 0, sizeof(padded));
	memcpy(padded, in, len);
	if (desfire_ev1_cbc(cipher, ses, iv, true, padded, n, out) == 0)
		rc = (int)n;
	explicit_bzero(padded, sizeof(padded));
	return rc;
}

/* Does plain[0..len) hold data of exactly want bytes, its CRC32 over data
 * || status, and zeros to the end of the last block? */
static bool desfire_ev1_fits(const uint8_t *plain, size_t len, size_t bs, uint8_t status, size_t want)
{
	uint8_t tmp[DESFIRE_ANSWER_MAX + 1], crc[4];
	size_t i;

	if (want + 4 > len || len - (want + 4) >= bs)
		return false;
	for (i = want + 4; i < len; i++)
		if (plain[i] != 0)
			return false;
	memcpy(tmp, plain, want);
	tmp[want] = status;
	desfire_crc32(tmp, want + 1, crc);
	explicit_bzero(tmp, sizeof(tmp));
	return memcmp(crc, plain + want, 4) == 0;
}

int desfire_ev1_decrypt_answer(enum desfire_cipher cipher, const uint8_t ses[DESFIRE_KEY_LEN],
			       uint8_t iv[16], const uint8_t *in, size_t len, uint8_t status,
			       size_t want, uint8_t *out, size_t out_size)
{
	static const size_t uid_lens[] = {7, 10, 4};
	uint8_t plain[DESFIRE_ANSWER_MAX];
	size_t bs = desfire_block(cipher), i, n = 0;
	int rc = -1;

	if (len == 0 || len % bs != 0 || len > sizeof(plain))
		return -1;
	if (desfire_ev1_cbc(cipher, ses, iv, false, in, len, plain) != 0)
		goto out;
	for (i = 0; i < (want > 0 ? 1 : sizeof(uid_lens) / sizeof(uid_lens[0])); i++) {
		n = want > 0 ? want : uid_lens[i];
		if (desfire_ev1_fits(plain, len, bs, status, n))
			break;
	}
	if (i == (want > 0 ? 1 : sizeof(uid_lens) / sizeof(uid_lens[0])) || n > out_size)
		goto out;
	memcpy(out, plain, n);
	rc = (int)n;
out:
	explicit_bzero(plain, sizeof(plain));
	return rc;
}

int desfire_ev1_key_cryptogram(enum desfire_cipher cipher, const uint8_t ses[DESFIRE_KEY_LEN],
			       uint8_t iv[16], uint8_t key_byte, const uint8_t new_key[DESFIRE_KEY_LEN],
			       const uint8_t *old_key, int version, uint8_t *out, size_t out_size)
{
	uint8_t plain[DESFIRE_KEY_LEN + 9], crc_in[2 + DESFIRE_KEY_LEN + 1];
	size_t n = DESFIRE_KEY_LEN;
	int i, rc;

	for (i = 0; i < DESFIRE_KEY_LEN; i++)
		plain[i] = (uint8_t)(new_key[i] ^ (old_key != NULL ? old_key[i] : 0));
	if (version >= 0)
		plain[n++] = (uint8_t)version;
	crc_in[0] = DESFIRE_CMD_CHANGE_KEY;
	crc_in[1] = key_byte;
	memcpy(crc_in + 2, plain, n);
	desfire_crc32(crc_in, 2 + n, plain + n);
	n += 4;
	if (old_key != NULL) {
		desfire_crc32(new_key, DESFIRE_KEY_LEN, plain + n);
		n += 4;
	}
	rc = desfire_ev1_encrypt(cipher, ses, iv, plain, n, out, out_size);
	explicit_bzero(plain, sizeof(plain));
	explicit_bzero(crc_in, sizeof(crc_in));
	return rc;
}

void desfire_crc32(const uint8_t *p, size_t len, uint8_t out[4])
{
	uint32_t crc = 0xFFFFFFFFu;
	size_t i;
	int b;

	for (i = 0; i < len; i++) {
		crc ^= p[i];
		for (b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	out[0] = (uint8_t)crc;
	out[1] = (uint8_t)(crc >> 8);
	out[2] = (uint8_t)(crc >> 16);
	out[3] = (uint8_t)(crc >> 24);
}

/* One APDU out, one answer back, framing checked.  Returns DESFIRE_OK with
 * d->status and the answer's data in rx[0..*data_len). */
static int desfire_exchange(struct desfire *d, const char *what, uint8_t cmd, const uint8_t *body,
			    size_t body_len, uint8_t rx[DESFIRE_ANSWER_MAX], size_t *data_len)
{
	uint8_t apdu[DESFIRE_APDU_MAX + 8];
	size_t rx_len = 0;
	int n;

	n = desfire_apdu(cmd, body, body_len, apdu, sizeof(apdu));
	if (n < 0)
		return desfire_fail(d, DESFIRE_INTERNAL, what, "command too long");
	if (d->xfer(d->io, apdu, (size_t)n, rx, DESFIRE_ANSWER_MAX, &rx_len) != 0)
		return desfire_fail(d, DESFIRE_GONE, what, "no answer (card removed?)");
	if (desfire_answer_parse(rx, rx_len, &d->status, data_len) != 0)
		return desfire_fail(d, DESFIRE_MALFORMED, what, "malformed answer");
	return DESFIRE_OK;
}

static enum desfire_cipher desfire_session_cipher(const struct desfire *d)
{
	return d->session == DESFIRE_SESSION_EV1_DES ? DESFIRE_CIPHER_2K3DES : DESFIRE_CIPHER_AES;
}

/* EV1: sends body (already wrapped) and checks the answer per answer_comm:
 * PLAIN as is (a session that just ended), MAC its CMAC over data ||
 * status, FULL its CRC32 inside the encryption (want: see
 * desfire_ev1_decrypt_answer). */
static int desfire_ev1_finish(struct desfire *d, const char *what, uint8_t cmd, const uint8_t *body,
			      size_t blen, enum desfire_comm answer_comm, size_t want, uint8_t *out,
			      size_t out_size, size_t *out_len)
{
	uint8_t rx[DESFIRE_ANSWER_MAX], mac[DESFIRE_MACT_LEN];
	size_t dlen = 0;
	int n, rc;

	rc = desfire_exchange(d, what, cmd, body, blen, rx, &dlen);
	if (rc != DESFIRE_OK)
		return rc;
	if (d->status != DESFIRE_ST_OK)
		return desfire_fail(d, DESFIRE_REFUSED, what, NULL);
	if (answer_comm == DESFIRE_COMM_FULL) {
		n = desfire_ev1_decrypt_answer(desfire_session_cipher(d), d->ses_enc, d->iv, rx, dlen,
					       d->status, want, out, out_size);
		if (n < 0)
			return desfire_fail(d, DESFIRE_INTEGRITY, what,
					    "the encrypted answer's CRC, length or padding is wrong");
		*out_len = (size_t)n;
		return DESFIRE_OK;
	}
	if (answer_comm == DESFIRE_COMM_MAC) {
		if (dlen < DESFIRE_MACT_LEN)
			return desfire_fail(d, DESFIRE_MALFORMED, what, "answer without its MAC");
		dlen -= DESFIRE_MACT_LEN;
		if (desfire_ev1_cmac(d->ses_enc, d->iv, rx, dlen, &d->status, 1, mac) != 0)
			return desfire_fail(d, DESFIRE_INTERNAL, what, "cannot compute the MAC");
		if (memcmp(mac, rx + dlen, DESFIRE_MACT_LEN) != 0)
			return desfire_fail(d, DESFIRE_INTEGRITY, what, "the answer's MAC is wrong");
	}
	if (dlen > out_size)
		return desfire_fail(d, DESFIRE_MALFORMED, what, "answer too long");
	if (dlen > 0)
		memcpy(out, rx, dlen);
	*out_len = dlen;
	return DESFIRE_OK;
}

/* EV1: a command in full mode is CBC over data || CRC32(cmd || hdr || data)
 * and zeros; any other goes in clear, its CMAC only moving the IV on (sac
 * sends no data in MAC mode). */
static int desfire_ev1_transact(struct desfire *d, const char *what, uint8_t cmd, const uint8_t *hdr,
				size_t hdr_len, const uint8_t *data, size_t data_len,
				enum desfire_comm cmd_comm, enum desfire_comm answer_comm, size_t want,
				uint8_t *out, size_t out_size, size_t *out_len)
{
	uint8_t body[DESFIRE_APDU_MAX], plain[1 + 2 * DESFIRE_DATA_MAX + 4];
	size_t blen = hdr_len;
	int n, rc;

	if (d->session == DESFIRE_SESSION_EV1_DES)
		return desfire_fail(d, DESFIRE_INTERNAL, what,
				    "a DES session is only used to change the card master key");
	if (hdr_len > 0)
		memcpy(body, hdr, hdr_len);
	if (cmd_comm == DESFIRE_COMM_FULL && data_len > 0) {
		plain[0] = cmd;
		if (hdr_len > 0)
			memcpy(plain + 1, hdr, hdr_len);
		memcpy(plain + 1 + hdr_len, data, data_len);
		desfire_crc32(plain, 1 + hdr_len + data_len, plain + 1 + hdr_len + data_len);
		n = desfire_ev1_encrypt(DESFIRE_CIPHER_AES, d->ses_enc, d->iv, plain + 1 + hdr_len,
					data_len + 4, body + blen, sizeof(body) - blen);
		explicit_bzero(plain, sizeof(plain));
		if (n < 0)
			return desfire_fail(d, DESFIRE_INTERNAL, what, "cannot encrypt");
		blen += (size_t)n;
	} else {
		if (data_len > 0)
			memcpy(body + blen, data, data_len);
		blen += data_len;
		if (desfire_ev1_cmac(d->ses_enc, d->iv, &cmd, 1, body, blen, NULL) != 0)
			return desfire_fail(d, DESFIRE_INTERNAL, what, "cannot compute the MAC");
	}
	rc = desfire_ev1_finish(d, what, cmd, body, blen, answer_comm, want, out, out_size, out_len);
	explicit_bzero(body, sizeof(body));
	return rc;
}

/* One command in the session's secure messaging: header in clear, data per
 * cmd_comm, answer per answer_comm (its plain data into out; want: the
 * length of an EV1 full-mode answer, 0 for a UID). */
static int desfire_transact(struct desfire *d, const char *what, uint8_t cmd, const uint8_t *hdr,
			    size_t hdr_len, const uint8_t *data, size_t data_len,
			    enum desfire_comm cmd_comm, enum desfire_comm answer_comm, size_t want,
			    uint8_t *out, size_t out_size, size_t *out_len)
{
	uint8_t body[DESFIRE_APDU_MAX], rx[DESFIRE_ANSWER_MAX], mact[DESFIRE_MACT_LEN];
	size_t blen = 0, dlen = 0, plain;
	uint16_t next;
	int n, rc;

	*out_len = 0;
	if (hdr_len + data_len > DESFIRE_DATA_MAX)
		return desfire_fail(d, DESFIRE_INTERNAL, what, "command too long");
	if (d->authenticated &&
	    (d->session == DESFIRE_SESSION_EV1_AES || d->session == DESFIRE_SESSION_EV1_DES))
		return desfire_ev1_transact(d, what, cmd, hdr, hdr_len, data, data_len, cmd_comm,
					    answer_comm, want, out, out_size, out_len);
	if (d->authenticated && d->cmd_ctr == 0xFFFF)
		return desfire_fail(d, DESFIRE_INTERNAL, what, "command counter exhausted");
	if (hdr_len > 0)
		memcpy(body, hdr, hdr_len);
	blen = hdr_len;
	if (d->authenticated && cmd_comm == DESFIRE_COMM_FULL && data_len > 0) {
		n = desfire_sm_encrypt(d->ses_enc, d->ti, d->cmd_ctr, false, data, data_len,
				       body + blen, sizeof(body) - blen - DESFIRE_MACT_LEN);
		if (n < 0)
			return desfire_fail(d, DESFIRE_INTERNAL, what, "cannot encrypt");
		blen += (size_t)n;
	} else if (data_len > 0) {
		memcpy(body + blen, data, data_len);
		blen += data_len;
	}
	if (d->authenticated && cmd_comm != DESFIRE_COMM_PLAIN) {
		if (desfire_sm_mact(d->ses_mac, cmd, d->cmd_ctr, d->ti, body, blen, NULL, 0,
				    body + blen) != 0)
			return desfire_fail(d, DESFIRE_INTERNAL, what, "cannot compute the MAC");
		blen += DESFIRE_MACT_LEN;
	}
	rc = desfire_exchange(d, what, cmd, body, blen, rx, &dlen);
	if (rc != DESFIRE_OK)
		return rc;
	if (d->status != DESFIRE_ST_OK)
		return desfire_fail(d, DESFIRE_REFUSED, what, NULL);
	if (!d->authenticated || answer_comm == DESFIRE_COMM_PLAIN) {
		if (dlen > out_size)
			return desfire_fail(d, DESFIRE_MALFORMED, what, "answer too long");
		if (dlen > 0)
			memcpy(out, rx, dlen);
		*out_len = dlen;
		if (d->authenticated)
			d->cmd_ctr++;
		return DESFIRE_OK;
	}
	next = (uint16_t)(d->cmd_ctr + 1);
	if (dlen < DESFIRE_MACT_LEN)
		return desfire_fail(d, DESFIRE_MALFORMED, what, "answer without its MAC");
	dlen -= DESFIRE_MACT_LEN;
	if (desfire_sm_mact(d->ses_mac, d->status, next, d->ti, rx, dlen, NULL, 0, mact) != 0)
		return desfire_fail(d, DESFIRE_INTERNAL, what, "cannot compute the MAC");
	if (memcmp(mact, rx + dlen, DESFIRE_MACT_LEN) != 0)
		return desfire_fail(d, DESFIRE_INTEGRITY, what, "the answer's MAC is wrong");
	if (answer_comm == DESFIRE_COMM_FULL) {
		n = desfire_sm_decrypt(d->ses_enc, d->ti, next, true, rx, dlen, out, out_size);
		if (n < 0)
			return desfire_fail(d, DESFIRE_MALFORMED, what,
					    "encrypted answer of a wrong length or padding");
		plain = (size_t)n;
	} else {
		if (dlen > out_size)
			return desfire_fail(d, DESFIRE_MALFORMED, what, "answer too long");
		if (dlen > 0)
			memcpy(out, rx, dlen);
		plain = dlen;
	}
	*out_len = plain;
	d->cmd_ctr = next;
	return DESFIRE_OK;
}

int desfire_select(struct desfire *d, const uint8_t aid[DESFIRE_AID_LEN])
{
	uint8_t out[1];
	size_t n;
	int rc;

	desfire_clear(d);
	rc = desfire_transact(d, "SelectApplication", DESFIRE_CMD_SELECT_APPLICATION, aid,
			      DESFIRE_AID_LEN, NULL, 0, DESFIRE_COMM_PLAIN, DESFIRE_COMM_PLAIN, 0, out,
			      0, &n);
	return rc;
}

int desfire_authenticate_ev2(struct desfire *d, uint8_t key_no, const uint8_t key[DESFIRE_KEY_LEN])
{
	static const char what[] = "AuthenticateEV2First";
	uint8_t body[2] = {key_no, 0x00}; /* KeyNo, LenCap 0 */
	uint8_t rx[DESFIRE_ANSWER_MAX], rnda[16], rndb[16], step2[32];
	size_t dlen = 0;
	int rc;

	desfire_clear(d);
	rc = desfire_exchange(d, what, DESFIRE_CMD_AUTH_EV2_FIRST, body, sizeof(body), rx, &dlen);
	if (rc != DESFIRE_OK)
		goto out;
	if (d->status != DESFIRE_ST_ADDITIONAL_FRAME) {
		rc = desfire_fail(d, DESFIRE_REFUSED, what, NULL);
		goto out;
	}
	if (dlen != 16) {
		rc = desfire_fail(d, DESFIRE_MALFORMED, what, "challenge of a wrong length");
		goto out;
	}
	if (cardcrypto_random(rnda, sizeof(rnda)) != 0 ||
	    desfire_auth_step2(key, rx, rnda, rndb, step2) != 0) {
		rc = desfire_fail(d, DESFIRE_INTERNAL, what, "crypto failure");
		goto out;
	}
	rc = desfire_exchange(d, what, DESFIRE_CMD_ADDITIONAL_FRAME, step2, sizeof(step2), rx, &dlen);
	if (rc != DESFIRE_OK)
		goto out;
	if (d->status != DESFIRE_ST_OK) {
		rc = desfire_fail(d, DESFIRE_REFUSED, what, NULL);
		goto out;
	}
	if (dlen != 32) {
		rc = desfire_fail(d, DESFIRE_MALFORMED, what, "answer of a wrong length");
		goto out;
	}
	rc = desfire_auth_finish(d, key, rnda, rndb, rx);
	if (rc != DESFIRE_OK) {
		rc = desfire_fail(d, rc, what, "the card did not prove the key");
		goto out;
	}
	d->key_no = key_no;
out:
	explicit_bzero(rnda, sizeof(rnda));
	explicit_bzero(rndb, sizeof(rndb));
	explicit_bzero(rx, sizeof(rx));
	return rc;
}

int desfire_authenticate_ev1(struct desfire *d, uint8_t key_no, const uint8_t key[DESFIRE_KEY_LEN],
			     enum desfire_cipher cipher)
{
	const char *what = cipher == DESFIRE_CIPHER_AES ? "AuthenticateAES" : "AuthenticateISO";
	size_t bs = desfire_block(cipher), dlen = 0;
	uint8_t rx[DESFIRE_ANSWER_MAX], rnda[16], rndb[16], step2[32], iv[16];
	int rc;

	desfire_clear(d);
	rc = desfire_exchange(
		d, what, cipher == DESFIRE_CIPHER_AES ? DESFIRE_CMD_AUTH_AES : DESFIRE_CMD_AUTH_ISO,
		&key_no, 1, rx, &dlen);
	if (rc != DESFIRE_OK)
		goto out;
	if (d->status != DESFIRE_ST_ADDITIONAL_FRAME) {
		rc = desfire_fail(d, DESFIRE_REFUSED, what, NULL);
		goto out;
	}
	if (dlen != bs) {
		rc = desfire_fail(d, DESFIRE_MALFORMED, what, "challenge of a wrong length");
		goto out;
	}
	if (cardcrypto_random(rnda, bs) != 0 ||
	    desfire_ev1_auth_step2(cipher, key, rx, rnda, rndb, step2, iv) != 0) {
		rc = desfire_fail(d, DESFIRE_INTERNAL, what, "crypto failure");
		goto out;
	}
	rc = desfire_exchange(d, what, DESFIRE_CMD_ADDITIONAL_FRAME, step2, 2 * bs, rx, &dlen);
	if (rc != DESFIRE_OK)
		goto out;
	if (d->status != DESFIRE_ST_OK) {
		rc = desfire_fail(d, DESFIRE_REFUSED, what, NULL);
		goto out;
	}
	if (dlen != bs) {
		rc = desfire_fail(d, DESFIRE_MALFORMED, what, "answer of a wrong length");
		goto out;
	}
	rc = desfire_ev1_auth_check(cipher, key, rx, rnda, iv);
	if (rc != DESFIRE_OK) {
		rc = desfire_fail(d, rc, what, "the card did not prove the key");
		goto out;
	}
	desfire_ev1_session_key(cipher, key, rnda, rndb, d->ses_enc);
	memset(d->iv, 0, sizeof(d->iv));
	d->session = cipher == DESFIRE_CIPHER_AES ? DESFIRE_SESSION_EV1_AES : DESFIRE_SESSION_EV1_DES;
	d->authenticated = true;
	d->key_no = key_no;
out:
	explicit_bzero(rnda, sizeof(rnda));
	explicit_bzero(rndb, sizeof(rndb));
	explicit_bzero(iv, sizeof(iv));
	explicit_bzero(rx, sizeof(rx));
	return rc;
}

int desfire_authenticate(struct desfire *d, uint8_t key_no, const uint8_t key[DESFIRE_KEY_LEN],
			 const uint8_t key_ev1[DESFIRE_KEY_LEN])
{
	int rc;

	if (!d->card_ev1) {
		rc = desfire_authenticate_ev2(d, key_no, key);
		/* Only "this command does not exist" makes an EV1 card; an
		 * authentication error or anything else stands. */
		if (rc != DESFIRE_REFUSED || d->status != DESFIRE_ST_ILLEGAL_COMMAND)
			return rc;
		d->card_ev1 = true;
	}
	return desfire_authenticate_ev1(d, key_no, key_ev1, DESFIRE_CIPHER_AES);
}

int desfire_get_key_settings(struct desfire *d, uint8_t *settings, uint8_t *nkeys)
{
	static const char what[] = "GetKeySettings";
	uint8_t out[DESFIRE_DATA_MAX];
	size_t n = 0;
	int rc;

	rc = desfire_transact(d, what, DESFIRE_CMD_GET_KEY_SETTINGS, NULL, 0, NULL, 0, DESFIRE_COMM_MAC,
			      DESFIRE_COMM_MAC, 0, out, sizeof(out), &n);
	if (rc == DESFIRE_OK && n != 2)
		rc = desfire_fail(d, DESFIRE_MALFORMED, what, "answer of a wrong length");
	if (rc == DESFIRE_OK) {
		*settings = out[0];
		*nkeys = out[1];
	}
	return rc;
}

static int desfire_need_auth(struct desfire *d, const char *what)
{
	if (d->authenticated)
		return DESFIRE_OK;
	return desfire_fail(d, DESFIRE_INTERNAL, what, "not authenticated");
}

int desfire_get_card_uid(struct desfire *d, uint8_t uid[DESFIRE_UID_MAX], size_t *uid_len)
{
	static const char what[] = "GetCardUID";
	uint8_t out[DESFIRE_DATA_MAX];
	size_t n = 0;
	int rc = desfire_need_auth(d, what);

	if (rc == DESFIRE_OK)
		rc = desfire_transact(d, what, DESFIRE_CMD_GET_CARD_UID, NULL, 0, NULL, 0,
				      DESFIRE_COMM_MAC, DESFIRE_COMM_FULL, 0, out, sizeof(out), &n);
	if (rc == DESFIRE_OK && n != 4 && n != 7 && n != 10)
		rc = desfire_fail(d, DESFIRE_MALFORMED, what, "UID of a wrong length");
	if (rc == DESFIRE_OK) {
		memcpy(uid, out, n);
		*uid_len = n;
	}
	explicit_bzero(out, sizeof(out));
	return rc;
}

static void desfire_file_header(uint8_t hdr[7], uint8_t file, uint32_t offset, size_t len)
{
	hdr[0] = file;
	hdr[1] = (uint8_t)offset;
	hdr[2] = (uint8_t)(offset >> 8);
	hdr[3] = (uint8_t)(offset >> 16);
	hdr[4] = (uint8_t)len;
	hdr[5] = (uint8_t)(len >> 8);
	hdr[6] = (uint8_t)(len >> 16);
}

int desfire_read_full(struct desfire *d, uint8_t file, uint32_t offset, uint8_t *out, size_t len)
{
	static const char what[] = "ReadData";
	uint8_t hdr[7], buf[DESFIRE_DATA_MAX];
	size_t n = 0;
	int rc = desfire_need_auth(d, what);

	if (rc != DESFIRE_OK)
		return rc;
	if (len == 0 || len >= DESFIRE_DATA_MAX || offset > 0xFFFFFF)
		return desfire_fail(d, DESFIRE_INTERNAL, what, "bad length");
	desfire_file_header(hdr, file, offset, len);
	rc = desfire_transact(d, what, DESFIRE_CMD_READ_DATA, hdr, sizeof(hdr), NULL, 0,
			      DESFIRE_COMM_MAC, DESFIRE_COMM_FULL, len, buf, sizeof(buf), &n);
	if (rc == DESFIRE_OK && n != len)
		rc = desfire_fail(d, DESFIRE_MALFORMED, what, "answer of a wrong length");
	if (rc == DESFIRE_OK)
		memcpy(out, buf, len);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

int desfire_write_full(struct desfire *d, uint8_t file, uint32_t offset, const uint8_t *data,
		       size_t len)
{
	static const char what[] = "WriteData";
	uint8_t hdr[7], out[DESFIRE_DATA_MAX];
	size_t n;
	int rc = desfire_need_auth(d, what);

	if (rc != DESFIRE_OK)
		return rc;
	if (len == 0 || len + sizeof(hdr) > DESFIRE_DATA_MAX - 16 || offset > 0xFFFFFF)
		return desfire_fail(d, DESFIRE_INTERNAL, what, "bad length");
	desfire_file_header(hdr, file, offset, len);
	return desfire_transact(d, what, DESFIRE_CMD_WRITE_DATA, hdr, sizeof(hdr), data, len,
				DESFIRE_COMM_FULL, DESFIRE_COMM_MAC, 0, out, sizeof(out), &n);
}

int desfire_create_application(struct desfire *d, const uint8_t aid[DESFIRE_AID_LEN],
			       uint8_t key_settings, uint8_t nkeys)
{
	uint8_t body[5], out[DESFIRE_DATA_MAX];
	size_t n;

	if (nkeys < 1 || nkeys > 14)
		return desfire_fail(d, DESFIRE_INTERNAL, "CreateApplication", "bad key count");
	memcpy(body, aid, DESFIRE_AID_LEN);
	body[3] = key_settings;
	body[4] = (uint8_t)(0x80 | nkeys); /* AES keys */
	return desfire_transact(d, "CreateApplication", DESFIRE_CMD_CREATE_APPLICATION, body,
				sizeof(body), NULL, 0, DESFIRE_COMM_MAC, DESFIRE_COMM_MAC, 0, out,
				sizeof(out), &n);
}

int desfire_delete_application(struct desfire *d, const uint8_t aid[DESFIRE_AID_LEN])
{
	uint8_t out[DESFIRE_DATA_MAX];
	size_t n;

	return desfire_transact(d, "DeleteApplication", DESFIRE_CMD_DELETE_APPLICATION, aid,
				DESFIRE_AID_LEN, NULL, 0, DESFIRE_COMM_MAC, DESFIRE_COMM_MAC, 0, out,
				sizeof(out), &n);
}

int desfire_create_std_file(struct desfire *d, uint8_t file, uint8_t comm, const uint8_t access[2],
			    uint32_t size)
{
	uint8_t body[7], out[DESFIRE_DATA_MAX];
	size_t n;

	body[0] = file;
	body[1] = comm;
	body[2] = access[0];
	body[3] = access[1];
	body[4] = (uint8_t)size;
	body[5] = (uint8_t)(size >> 8);
	body[6] = (uint8_t)(size >> 16);
	return desfire_transact(d, "CreateStdDataFile", DESFIRE_CMD_CREATE_STD_DATA_FILE, body,
				sizeof(body), NULL, 0, DESFIRE_COMM_MAC, DESFIRE_COMM_MAC, 0, out,
				sizeof(out), &n);
}

int desfire_change_key(struct desfire *d, uint8_t key_byte, const uint8_t new_key[DESFIRE_KEY_LEN],
		       const uint8_t *old_key, uint8_t version)
{
	static const char what[] = "ChangeKey";
	uint8_t data[DESFIRE_KEY_LEN + 5], out[DESFIRE_DATA_MAX];
	size_t len, n;
	bool own = false;
	int rc = desfire_need_auth(d, what), i;

	if (rc != DESFIRE_OK)
		return rc;
	own = (key_byte & 0x3F) == d->key_no;
	if (d->session == DESFIRE_SESSION_EV1_AES || d->session == DESFIRE_SESSION_EV1_DES) {
		uint8_t body[1 + 32];
		int c;

		if (d->session == DESFIRE_SESSION_EV1_DES && !own)
			return desfire_fail(d, DESFIRE_INTERNAL, what,
					    "a DES session only changes its own key");
		if (!own && old_key == NULL)
			return desfire_fail(d, DESFIRE_INTERNAL, what, "the old key is needed");
		body[0] = key_byte;
		/* The new keys are AES keys: with their version byte. */
		c = desfire_ev1_key_cryptogram(desfire_session_cipher(d), d->ses_enc, d->iv, key_byte,
					       new_key, own ? NULL : old_key, version, body + 1,
					       sizeof(body) - 1);
		if (c < 0)
			return desfire_fail(d, DESFIRE_INTERNAL, what, "cannot encrypt");
		rc = desfire_ev1_finish(d, what, DESFIRE_CMD_CHANGE_KEY, body, 1 + (size_t)c,
					own ? DESFIRE_COMM_PLAIN : DESFIRE_COMM_MAC, 0, out,
					sizeof(out), &n);
		if (rc == DESFIRE_OK && own)
			desfire_clear(d);
		explicit_bzero(body, sizeof(body));
		return rc;
	}
	if (own) {
		/* The session's own key: new key and version. */
		memcpy(data, new_key, DESFIRE_KEY_LEN);
		data[DESFIRE_KEY_LEN] = version;
		len = DESFIRE_KEY_LEN + 1;
	} else {
		/* Another key: (new ^ old), version, CRC32 of the new key. */
		if (old_key == NULL)
			return desfire_fail(d, DESFIRE_INTERNAL, what, "the old key is needed");
		for (i = 0; i < DESFIRE_KEY_LEN; i++)
			data[i] = new_key[i] ^ old_key[i];
		data[DESFIRE_KEY_LEN] = version;
		desfire_crc32(new_key, DESFIRE_KEY_LEN, data + DESFIRE_KEY_LEN + 1);
		len = DESFIRE_KEY_LEN + 5;
	}
	/* Changing the session's key ends the session: that answer has no MAC. */
	rc = desfire_transact(d, what, DESFIRE_CMD_CHANGE_KEY, &key_byte, 1, data, len,
			      DESFIRE_COMM_FULL, own ? DESFIRE_COMM_PLAIN : DESFIRE_COMM_MAC, 0, out,
			      sizeof(out), &n);
	if (rc == DESFIRE_OK && own)
		desfire_clear(d);
	explicit_bzero(data, sizeof(data));
	return rc;
}
