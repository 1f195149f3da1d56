/*
 * desfire — see desfire.h.  Layouts follow the MIFARE DESFire EV2 data
 * sheet and NXP AN12196 / AN12343 (EV2 secure messaging).
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
	d->authenticated = false;
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

static void desfire_rotl(const uint8_t in[16], uint8_t out[16])
{
	memcpy(out, in + 1, 15);
	out[15] = in[0];
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

/* One command in the session's secure messaging: header in clear, data per
 * cmd_comm, answer per answer_comm (its plain data into out). */
static int desfire_transact(struct desfire *d, const char *what, uint8_t cmd, const uint8_t *hdr,
			    size_t hdr_len, const uint8_t *data, size_t data_len,
			    enum desfire_comm cmd_comm, enum desfire_comm answer_comm, uint8_t *out,
			    size_t out_size, size_t *out_len)
{
	uint8_t body[DESFIRE_APDU_MAX], rx[DESFIRE_ANSWER_MAX], mact[DESFIRE_MACT_LEN];
	size_t blen = 0, dlen = 0, plain;
	uint16_t next;
	int n, rc;

	*out_len = 0;
	if (hdr_len + data_len > DESFIRE_DATA_MAX)
		return desfire_fail(d, DESFIRE_INTERNAL, what, "command too long");
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
			      DESFIRE_AID_LEN, NULL, 0, DESFIRE_COMM_PLAIN, DESFIRE_COMM_PLAIN, out, 0,
			      &n);
	return rc;
}

int desfire_authenticate(struct desfire *d, uint8_t key_no, const uint8_t key[DESFIRE_KEY_LEN])
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
				      DESFIRE_COMM_MAC, DESFIRE_COMM_FULL, out, sizeof(out), &n);
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
			      DESFIRE_COMM_MAC, DESFIRE_COMM_FULL, buf, sizeof(buf), &n);
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
				DESFIRE_COMM_FULL, DESFIRE_COMM_MAC, out, sizeof(out), &n);
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
				sizeof(body), NULL, 0, DESFIRE_COMM_MAC, DESFIRE_COMM_MAC, out,
				sizeof(out), &n);
}

int desfire_delete_application(struct desfire *d, const uint8_t aid[DESFIRE_AID_LEN])
{
	uint8_t out[DESFIRE_DATA_MAX];
	size_t n;

	return desfire_transact(d, "DeleteApplication", DESFIRE_CMD_DELETE_APPLICATION, aid,
				DESFIRE_AID_LEN, NULL, 0, DESFIRE_COMM_MAC, DESFIRE_COMM_MAC, out,
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
				sizeof(body), NULL, 0, DESFIRE_COMM_MAC, DESFIRE_COMM_MAC, out,
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
			      DESFIRE_COMM_FULL, own ? DESFIRE_COMM_PLAIN : DESFIRE_COMM_MAC, out,
			      sizeof(out), &n);
	if (rc == DESFIRE_OK && own)
		desfire_clear(d);
	explicit_bzero(data, sizeof(data));
	return rc;
}
