/*
 * desfire_card — see desfire_card.h.
 */
#include "desfire_card.h"

#include <string.h>

#include "cardcrypto.h"
#include "desfire.h"

int desfire_card_new(struct desfire_card *card, const uint8_t *uid, size_t uid_len, bool random_id)
{
	memset(card, 0, sizeof(*card));
	if (uid_len != 7 && uid_len != 10)
		return -1;
	memcpy(card->uid, uid, uid_len);
	card->uid_len = uid_len;
	card->random_id = random_id;
	card->app = -1;
	return 0;
}

static void card_logout(struct desfire_card *card)
{
	card->pending = 0;
	card->authenticated = false;
	card->session = DESFIRE_SESSION_NONE;
	explicit_bzero(card->ses_enc, sizeof(card->ses_enc));
	explicit_bzero(card->ses_mac, sizeof(card->ses_mac));
	explicit_bzero(card->key, sizeof(card->key));
	explicit_bzero(card->iv, sizeof(card->iv));
	card->ctr = 0;
}

static enum desfire_cipher card_cipher(const struct desfire_card *card)
{
	return card->session == DESFIRE_SESSION_EV1_DES ? DESFIRE_CIPHER_2K3DES : DESFIRE_CIPHER_AES;
}

void desfire_card_reset(struct desfire_card *card)
{
	card_logout(card);
	card->app = -1;
}

/* An error answer: status only; it ends any session. */
static int card_error(struct desfire_card *card, uint8_t *out, uint8_t status)
{
	card_logout(card);
	out[0] = 0x91;
	out[1] = status;
	return 2;
}

/* A successful answer with data (plain, MACed or encrypted per comm), after
 * the command counter moved on. */
static int card_ok(struct desfire_card *card, uint8_t *out, size_t out_size, const uint8_t *data,
		   size_t len, enum desfire_comm comm)
{
	size_t n = 0;
	int c;

	if (!card->authenticated || comm == DESFIRE_COMM_PLAIN) {
		if (len + 2 > out_size)
			return -1;
		if (len > 0)
			memcpy(out, data, len);
		n = len;
	} else if (card->session == DESFIRE_SESSION_EV1_AES) {
		uint8_t plain[DESFIRE_CARD_FILE_MAX + 5], st = DESFIRE_ST_OK;

		if (len + 4 + 16 + 2 > out_size || len > DESFIRE_CARD_FILE_MAX)
			return -1;
		if (comm == DESFIRE_COMM_FULL) {
			/* data || CRC32(data || status) || zeros, over the IV */
			if (len > 0)
				memcpy(plain, data, len);
			plain[len] = st;
			desfire_crc32(plain, len + 1, plain + len);
			c = desfire_ev1_encrypt(DESFIRE_CIPHER_AES, card->ses_enc, card->iv, plain,
						len + 4, out, out_size - 2);
			explicit_bzero(plain, sizeof(plain));
			if (c < 0)
				return -1;
			n = (size_t)c;
		} else {
			if (len > 0)
				memcpy(out, data, len);
			if (desfire_ev1_cmac(card->ses_enc, card->iv, data, len, &st, 1, out + len) !=
			    0)
				return -1;
			n = len + DESFIRE_MACT_LEN;
		}
	} else {
		if (comm == DESFIRE_COMM_FULL) {
			c = desfire_sm_encrypt(card->ses_enc, card->ti, card->ctr, true, data, len, out,
					       out_size - 10);
			if (c < 0)
				return -1;
			n = (size_t)c;
		} else {
			if (len + 10 > out_size)
				return -1;
			if (len > 0)
				memcpy(out, data, len);
			n = len;
		}
		if (desfire_sm_mact(card->ses_mac, DESFIRE_ST_OK, card->ctr, card->ti, out, n, NULL, 0,
				    out + n) != 0)
			return -1;
		n += DESFIRE_MACT_LEN;
	}
	out[n++] = 0x91;
	out[n++] = DESFIRE_ST_OK;
	return (int)n;
}

static struct desfire_card_app *card_app(struct desfire_card *card)
{
	return card->app >= 0 ? &card->apps[card->app] : NULL;
}

static struct desfire_card_file *card_file(struct desfire_card_app *app, uint8_t no)
{
	int i;

	for (i = 0; i < DESFIRE_CARD_FILES; i++)
		if (app->files[i].used && app->files[i].no == no)
			return &app->files[i];
	return NULL;
}

static uint8_t *card_key_slot(struct desfire_card *card, uint8_t key_no)
{
	struct desfire_card_app *app = card_app(card);

	if (app == NULL)
		return key_no == 0 ? card->picc_key : NULL;
	return key_no < app->nkeys ? app->keys[key_no] : NULL;
}

static int card_select(struct desfire_card *card, const uint8_t *p, size_t n, uint8_t *out,
		       size_t out_size)
{
	int i;

	card_logout(card);
	if (n != 3)
		return card_error(card, out, DESFIRE_ST_LENGTH_ERROR);
	if (p[0] == 0 && p[1] == 0 && p[2] == 0) {
		card->app = -1;
		return card_ok(card, out, out_size, NULL, 0, DESFIRE_COMM_PLAIN);
	}
	for (i = 0; i < DESFIRE_CARD_APPS; i++)
		if (card->apps[i].used && memcmp(card->apps[i].aid, p, 3) == 0) {
			card->app = i;
			return card_ok(card, out, out_size, NULL, 0, DESFIRE_COMM_PLAIN);
		}
	card->app = -1;
	return card_error(card, out, DESFIRE_ST_APPLICATION_NOT_FOUND);
}

static int card_auth_first(struct desfire_card *card, const uint8_t *p, size_t n, uint8_t *out,
			   size_t out_size)
{
	static const uint8_t zero_iv[16];
	const uint8_t *key;

	card_logout(card);
	if (card->ev1_only)
		return card_error(card, out, DESFIRE_ST_ILLEGAL_COMMAND);
	if (n < 2 || n != (size_t)2 + p[1] || out_size < 18)
		return card_error(card, out, DESFIRE_ST_LENGTH_ERROR);
	key = card_key_slot(card, p[0]);
	if (key == NULL)
		return card_error(card, out, DESFIRE_ST_NO_SUCH_KEY);
	if (card->app < 0 && card->picc_des)
		return card_error(card, out, DESFIRE_ST_AUTHENTICATION_ERROR); /* not an AES key */
	if (cardcrypto_random(card->rndb, 16) != 0 ||
	    cardcrypto_cbc(key, zero_iv, true, card->rndb, 16, out) != 0)
		return card_error(card, out, DESFIRE_ST_COMMAND_ABORTED);
	memcpy(card->key, key, 16);
	card->key_no = p[0];
	card->pending = DESFIRE_CMD_AUTH_EV2_FIRST;
	out[16] = 0x91;
	out[17] = DESFIRE_ST_ADDITIONAL_FRAME;
	return 18;
}

static int card_auth_second(struct desfire_card *card, const uint8_t *p, size_t n, uint8_t *out,
			    size_t out_size)
{
	static const uint8_t zero_iv[16];
	uint8_t plain[32], reply[32];
	int rc;

	card->pending = 0;
	if (n != 32 || out_size < 34)
		return card_error(card, out, DESFIRE_ST_LENGTH_ERROR);
	if (cardcrypto_cbc(card->key, zero_iv, false, p, 32, plain) != 0)
		return card_error(card, out, DESFIRE_ST_COMMAND_ABORTED);
	/* RndB rotated left by one byte, or the reader lacks the key. */
	if (memcmp(plain + 16, card->rndb + 1, 15) != 0 || plain[31] != card->rndb[0]) {
		explicit_bzero(plain, sizeof(plain));
		return card_error(card, out, DESFIRE_ST_AUTHENTICATION_ERROR);
	}
	memset(reply, 0, sizeof(reply));
	if (cardcrypto_random(card->ti, 4) != 0)
		return card_error(card, out, DESFIRE_ST_COMMAND_ABORTED);
	memcpy(reply, card->ti, 4);
	memcpy(reply + 4, plain + 1, 15);
	reply[19] = plain[0];
	rc = cardcrypto_cbc(card->key, zero_iv, true, reply, 32, out) == 0 &&
			     desfire_session_keys(card->key, plain, card->rndb, card->ses_enc,
						  card->ses_mac) == 0
		     ? 0
		     : -1;
	explicit_bzero(plain, sizeof(plain));
	explicit_bzero(reply, sizeof(reply));
	if (rc != 0)
		return card_error(card, out, DESFIRE_ST_COMMAND_ABORTED);
	card->authenticated = true;
	card->session = DESFIRE_SESSION_EV2;
	card->ctr = 0;
	out[32] = 0x91;
	out[33] = DESFIRE_ST_OK;
	return 34;
}

/* AuthenticateAES (AES keys) and AuthenticateISO (the DES card master key),
 * part 1: E(K, RndB), starting the authentication's CBC chain from zero. */
static int card_auth_ev1_first(struct desfire_card *card, uint8_t cmd, const uint8_t *p, size_t n,
			       uint8_t *out, size_t out_size)
{
	enum desfire_cipher cipher = cmd == DESFIRE_CMD_AUTH_AES ? DESFIRE_CIPHER_AES
								 : DESFIRE_CIPHER_2K3DES;
	size_t bs = cipher == DESFIRE_CIPHER_AES ? 16 : 8;
	bool des_key;
	const uint8_t *key;

	card_logout(card);
	if (n != 1 || out_size < bs + 2)
		return card_error(card, out, DESFIRE_ST_LENGTH_ERROR);
	key = card_key_slot(card, p[0]);
	if (key == NULL)
		return card_error(card, out, DESFIRE_ST_NO_SUCH_KEY);
	des_key = card->app < 0 && card->picc_des;
	if (des_key != (cipher == DESFIRE_CIPHER_2K3DES))
		return card_error(card, out, DESFIRE_ST_AUTHENTICATION_ERROR);
	memset(card->iv, 0, sizeof(card->iv));
	if (cardcrypto_random(card->rndb, bs) != 0 ||
	    desfire_ev1_cbc(cipher, key, card->iv, true, card->rndb, bs, out) != 0)
		return card_error(card, out, DESFIRE_ST_COMMAND_ABORTED);
	memcpy(card->key, key, 16);
	card->key_no = p[0];
	card->pending = cmd;
	out[bs] = 0x91;
	out[bs + 1] = DESFIRE_ST_ADDITIONAL_FRAME;
	return (int)bs + 2;
}

/* Part 2: checks RndB<<<8 in E(K, RndA || RndB<<<8), answers E(K, RndA<<<8),
 * all on the same CBC chain; then the EV1 session with a zero IV. */
static int card_auth_ev1_second(struct desfire_card *card, const uint8_t *p, size_t n, uint8_t *out,
				size_t out_size)
{
	enum desfire_cipher cipher = card->pending == DESFIRE_CMD_AUTH_AES ? DESFIRE_CIPHER_AES
									   : DESFIRE_CIPHER_2K3DES;
	size_t bs = cipher == DESFIRE_CIPHER_AES ? 16 : 8;
	uint8_t plain[32], rot[16];
	bool ok;

	card->pending = 0;
	if (n != 2 * bs || out_size < bs + 2)
		return card_error(card, out, DESFIRE_ST_LENGTH_ERROR);
	if (desfire_ev1_cbc(cipher, card->key, card->iv, false, p, n, plain) != 0)
		return card_error(card, out, DESFIRE_ST_COMMAND_ABORTED);
	ok = memcmp(plain + bs, card->rndb + 1, bs - 1) == 0 && plain[2 * bs - 1] == card->rndb[0];
	if (!ok) {
		explicit_bzero(plain, sizeof(plain));
		return card_error(card, out, DESFIRE_ST_AUTHENTICATION_ERROR);
	}
	memcpy(rot, plain + 1, bs - 1);
	rot[bs - 1] = plain[0];
	ok = desfire_ev1_cbc(cipher, card->key, card->iv, true, rot, bs, out) == 0;
	desfire_ev1_session_key(cipher, card->key, plain, card->rndb, card->ses_enc);
	explicit_bzero(plain, sizeof(plain));
	explicit_bzero(rot, sizeof(rot));
	if (!ok)
		return card_error(card, out, DESFIRE_ST_COMMAND_ABORTED);
	memset(card->iv, 0, sizeof(card->iv));
	card->authenticated = true;
	card->session = cipher == DESFIRE_CIPHER_AES ? DESFIRE_SESSION_EV1_AES
						     : DESFIRE_SESSION_EV1_DES;
	out[bs] = 0x91;
	out[bs + 1] = DESFIRE_ST_OK;
	return (int)bs + 2;
}

/* GetKeySettings: KeySett1 and the key count, at card level with the
 * master key's type in bits 7..6 (00 DES, 10 AES). */
static int card_get_key_settings(struct desfire_card *card, uint8_t *out, size_t out_size)
{
	struct desfire_card_app *app = card_app(card);
	uint8_t v[2];

	if (app == NULL) {
		v[0] = 0x0F;
		v[1] = card->picc_des ? 0x01 : 0x81;
	} else {
		v[0] = app->key_settings;
		v[1] = (uint8_t)(0x80 | app->nkeys);
	}
	return card_ok(card, out, out_size, v, 2, DESFIRE_COMM_MAC);
}

/* Checks the command MAC of an authenticated command (body = hdr || data
 * || MACt) and moves the counter on.  Returns the body length without the
 * MAC, or -1 (MAC wrong or missing). */
static int card_check_mac(struct desfire_card *card, uint8_t cmd, const uint8_t *p, size_t n)
{
	uint8_t mact[DESFIRE_MACT_LEN];

	if (n < DESFIRE_MACT_LEN)
		return -1;
	n -= DESFIRE_MACT_LEN;
	if (desfire_sm_mact(card->ses_mac, cmd, card->ctr, card->ti, p, n, NULL, 0, mact) != 0 ||
	    memcmp(mact, p + n, DESFIRE_MACT_LEN) != 0)
		return -1;
	card->ctr++;
	return (int)n;
}

/* EV1 ChangeKey: CBC over the IV of new (or new ^ old) || version ||
 * CRC32(C4 || key byte || …) [|| CRC32(new)] || zeros. */
static int card_change_key_ev1(struct desfire_card *card, const uint8_t *p, size_t n, uint8_t *slot,
			       uint8_t *out, size_t out_size)
{
	enum desfire_cipher cipher = card_cipher(card);
	uint8_t plain[48], crc_in[19], crc[4];
	bool own = (p[0] & 0x3F) == card->key_no;
	size_t used = own ? 21 : 25, bs = cipher == DESFIRE_CIPHER_AES ? 16 : 8, i;
	bool ok;

	if (card->session == DESFIRE_SESSION_EV1_DES && !own)
		return card_error(card, out, DESFIRE_ST_PERMISSION_DENIED);
	if (n - 1 != (used + bs - 1) / bs * bs ||
	    desfire_ev1_cbc(cipher, card->ses_enc, card->iv, false, p + 1, n - 1, plain) != 0)
		return card_error(card, out, DESFIRE_ST_INTEGRITY_ERROR);
	crc_in[0] = DESFIRE_CMD_CHANGE_KEY;
	crc_in[1] = p[0];
	memcpy(crc_in + 2, plain, 17);
	desfire_crc32(crc_in, sizeof(crc_in), crc);
	ok = memcmp(crc, plain + 17, 4) == 0;
	for (i = used; i < n - 1; i++)
		ok = ok && plain[i] == 0;
	if (!own) {
		for (i = 0; i < 16; i++)
			plain[i] ^= slot[i];
		desfire_crc32(plain, 16, crc);
		ok = ok && memcmp(crc, plain + 21, 4) == 0;
	}
	if (!ok) {
		explicit_bzero(plain, sizeof(plain));
		return card_error(card, out, DESFIRE_ST_INTEGRITY_ERROR);
	}
	memcpy(slot, plain, 16);
	explicit_bzero(plain, sizeof(plain));
	explicit_bzero(crc_in, sizeof(crc_in));
	if (card->app < 0)
		card->picc_des = false;
	if (own) {
		/* The session's key changed: the session ends, no MAC. */
		card_logout(card);
		out[0] = 0x91;
		out[1] = DESFIRE_ST_OK;
		return 2;
	}
	return card_ok(card, out, out_size, NULL, 0, DESFIRE_COMM_MAC);
}

static int card_change_key(struct desfire_card *card, const uint8_t *p, size_t n, uint8_t *out,
			   size_t out_size)
{
	uint8_t plain[48], crc[4], *slot;
	uint8_t key_no;
	int len, i, rc;

	if (n < 1 + 16)
		return card_error(card, out, DESFIRE_ST_LENGTH_ERROR);
	key_no = p[0] & 0x3F;
	slot = card_key_slot(card, key_no);
	if (slot == NULL)
		return card_error(card, out, DESFIRE_ST_NO_SUCH_KEY);
	/* Only the master key of the level may change keys here. */
	if (card->key_no != 0)
		return card_error(card, out, DESFIRE_ST_PERMISSION_DENIED);
	/* The new key is an AES key (at card level flagged 0x80). */
	if (card->app < 0 && (p[0] & 0xC0) != 0x80)
		return card_error(card, out, DESFIRE_ST_PARAMETER_ERROR);
	if (card->session != DESFIRE_SESSION_EV2)
		return card_change_key_ev1(card, p, n, slot, out, out_size);
	/* The counter already moved: decrypt with the command's value. */
	len = desfire_sm_decrypt(card->ses_enc, card->ti, (uint16_t)(card->ctr - 1), false, p + 1,
				 n - 1, plain, sizeof(plain));
	if (key_no == card->key_no) {
		if (len != 17)
			return card_error(card, out, DESFIRE_ST_INTEGRITY_ERROR);
		memcpy(slot, plain, 16);
		explicit_bzero(plain, sizeof(plain));
		if (card->app < 0)
			card->picc_des = false;
		/* The session's key changed: the session ends, no MAC. */
		card_logout(card);
		out[0] = 0x91;
		out[1] = DESFIRE_ST_OK;
		return 2;
	}
	if (len != 21)
		return card_error(card, out, DESFIRE_ST_INTEGRITY_ERROR);
	for (i = 0; i < 16; i++)
		plain[i] ^= slot[i];
	desfire_crc32(plain, 16, crc);
	if (memcmp(crc, plain + 17, 4) != 0) {
		explicit_bzero(plain, sizeof(plain));
		return card_error(card, out, DESFIRE_ST_INTEGRITY_ERROR);
	}
	memcpy(slot, plain, 16);
	explicit_bzero(plain, sizeof(plain));
	rc = card_ok(card, out, out_size, NULL, 0, DESFIRE_COMM_MAC);
	return rc;
}

static uint32_t card_u24(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

/* Read or write access for the session's key: rights nibble 0xE is free,
 * 0xF never; otherwise that key number, or the ReadWrite key. */
static bool card_may(const struct desfire_card *card, const struct desfire_card_file *f, bool write)
{
	uint8_t rw = f->access[0] >> 4;
	uint8_t own = write ? (f->access[1] & 0x0F) : (f->access[1] >> 4);

	if (own == 0x0E || rw == 0x0E)
		return true;
	if (!card->authenticated)
		return false;
	return own == card->key_no || rw == card->key_no;
}

static int card_read(struct desfire_card *card, const uint8_t *p, size_t n, uint8_t *out,
		     size_t out_size)
{
	struct desfire_card_app *app = card_app(card);
	struct desfire_card_file *f;
	uint32_t off, len;

	if (n != 7)
		return card_error(card, out, DESFIRE_ST_LENGTH_ERROR);
	if (app == NULL || (f = card_file(app, p[0])) == NULL)
		return card_error(card, out, DESFIRE_ST_FILE_NOT_FOUND);
	if (!card_may(card, f, false))
		return card_error(card, out, DESFIRE_ST_PERMISSION_DENIED);
	off = card_u24(p + 1);
	len = card_u24(p + 4);
	if (len == 0)
		len = f->size - (off < f->size ? off : f->size);
	if (off > f->size || len > f->size - off || len > 48)
		return card_error(card, out, DESFIRE_ST_BOUNDARY_ERROR);
	return card_ok(card, out, out_size, f->data + off, len,
		       f->comm == 3 ? DESFIRE_COMM_FULL : DESFIRE_COMM_MAC);
}

/* EV1 WriteData in full mode: hdr(7) || CBC(data || CRC32(3D || hdr ||
 * data) || zeros).  Returns the data length, or -1. */
static int card_write_ev1_plain(struct desfire_card *card, const uint8_t *p, size_t n, uint32_t len,
				uint8_t *plain, size_t plain_size)
{
	uint8_t buf[96], crc_in[8 + 64], crc[4];
	size_t i;

	if (n - 7 == 0 || n - 7 > sizeof(buf) || len + 4 > n - 7 || n - 7 - (len + 4) >= 16 ||
	    len > plain_size || len > 64 ||
	    desfire_ev1_cbc(DESFIRE_CIPHER_AES, card->ses_enc, card->iv, false, p + 7, n - 7, buf) != 0)
		return -1;
	crc_in[0] = DESFIRE_CMD_WRITE_DATA;
	memcpy(crc_in + 1, p, 7);
	memcpy(crc_in + 8, buf, len);
	desfire_crc32(crc_in, 8 + len, crc);
	for (i = len + 4; i < n - 7; i++)
		if (buf[i] != 0)
			return -1;
	if (memcmp(crc, buf + len, 4) != 0)
		return -1;
	memcpy(plain, buf, len);
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(crc_in, sizeof(crc_in));
	return (int)len;
}

static int card_write(struct desfire_card *card, const uint8_t *p, size_t n, uint8_t *out,
		      size_t out_size)
{
	struct desfire_card_app *app = card_app(card);
	struct desfire_card_file *f;
	uint8_t plain[64];
	uint32_t off, len;
	int c;

	if (n < 7)
		return card_error(card, out, DESFIRE_ST_LENGTH_ERROR);
	if (app == NULL || (f = card_file(app, p[0])) == NULL)
		return card_error(card, out, DESFIRE_ST_FILE_NOT_FOUND);
	if (!card_may(card, f, true))
		return card_error(card, out, DESFIRE_ST_PERMISSION_DENIED);
	off = card_u24(p + 1);
	len = card_u24(p + 4);
	if (f->comm != 3 || !card->authenticated)
		return card_error(card, out, DESFIRE_ST_PERMISSION_DENIED);
	if (card->session == DESFIRE_SESSION_EV1_AES)
		c = card_write_ev1_plain(card, p, n, len, plain, sizeof(plain));
	else
		c = desfire_sm_decrypt(card->ses_enc, card->ti, (uint16_t)(card->ctr - 1), false, p + 7,
				       n - 7, plain, sizeof(plain));
	if (c < 0 || (uint32_t)c != len)
		return card_error(card, out, DESFIRE_ST_INTEGRITY_ERROR);
	if (off > f->size || len > f->size - off)
		return card_error(card, out, DESFIRE_ST_BOUNDARY_ERROR);
	memcpy(f->data + off, plain, len);
	explicit_bzero(plain, sizeof(plain));
	return card_ok(card, out, out_size, NULL, 0, DESFIRE_COMM_MAC);
}

static int card_create_app(struct desfire_card *card, const uint8_t *p, size_t n, uint8_t *out,
			   size_t out_size)
{
	int i, free_slot = -1;

	if (card->app >= 0)
		return card_error(card, out, DESFIRE_ST_PERMISSION_DENIED);
	if (n != 5 || (p[4] & 0xC0) != 0x80 || (p[4] & 0x0F) == 0 || (p[4] & 0x0F) > 14)
		return card_error(card, out, DESFIRE_ST_PARAMETER_ERROR);
	for (i = 0; i < DESFIRE_CARD_APPS; i++) {
		if (card->apps[i].used && memcmp(card->apps[i].aid, p, 3) == 0)
			return card_error(card, out, DESFIRE_ST_DUPLICATE_ERROR);
		if (!card->apps[i].used && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return card_error(card, out, DESFIRE_ST_OUT_OF_MEMORY);
	memset(&card->apps[free_slot], 0, sizeof(card->apps[free_slot]));
	card->apps[free_slot].used = true;
	memcpy(card->apps[free_slot].aid, p, 3);
	card->apps[free_slot].key_settings = p[3];
	card->apps[free_slot].nkeys = p[4] & 0x0F;
	return card_ok(card, out, out_size, NULL, 0, DESFIRE_COMM_MAC);
}

static int card_delete_app(struct desfire_card *card, const uint8_t *p, size_t n, uint8_t *out,
			   size_t out_size)
{
	int i;

	if (card->app >= 0)
		return card_error(card, out, DESFIRE_ST_PERMISSION_DENIED);
	if (n != 3)
		return card_error(card, out, DESFIRE_ST_LENGTH_ERROR);
	for (i = 0; i < DESFIRE_CARD_APPS; i++)
		if (card->apps[i].used && memcmp(card->apps[i].aid, p, 3) == 0) {
			explicit_bzero(&card->apps[i], sizeof(card->apps[i]));
			return card_ok(card, out, out_size, NULL, 0, DESFIRE_COMM_MAC);
		}
	return card_error(card, out, DESFIRE_ST_APPLICATION_NOT_FOUND);
}

static int card_create_file(struct desfire_card *card, const uint8_t *p, size_t n, uint8_t *out,
			    size_t out_size)
{
	struct desfire_card_app *app = card_app(card);
	uint32_t size;
	int i;

	if (app == NULL || card->key_no != 0)
		return card_error(card, out, DESFIRE_ST_PERMISSION_DENIED);
	if (n != 7)
		return card_error(card, out, DESFIRE_ST_LENGTH_ERROR);
	size = card_u24(p + 4);
	if (size == 0 || size > DESFIRE_CARD_FILE_MAX || (p[1] != 0 && p[1] != 1 && p[1] != 3))
		return card_error(card, out, DESFIRE_ST_PARAMETER_ERROR);
	if (card_file(app, p[0]) != NULL)
		return card_error(card, out, DESFIRE_ST_DUPLICATE_ERROR);
	for (i = 0; i < DESFIRE_CARD_FILES; i++)
		if (!app->files[i].used) {
			app->files[i].used = true;
			app->files[i].no = p[0];
			app->files[i].comm = p[1];
			memcpy(app->files[i].access, p + 2, 2);
			app->files[i].size = size;
			memset(app->files[i].data, 0, sizeof(app->files[i].data));
			return card_ok(card, out, out_size, NULL, 0, DESFIRE_COMM_MAC);
		}
	return card_error(card, out, DESFIRE_ST_OUT_OF_MEMORY);
}

int desfire_card_apdu(struct desfire_card *card, const uint8_t *in, size_t len, uint8_t *out,
		      size_t out_size)
{
	const uint8_t *p = NULL;
	size_t n = 0;
	uint8_t cmd, pending;
	int body;

	if (out_size < 64)
		return -1;
	/* 90 CMD 00 00 [Lc data] 00 */
	if (len < 5 || in[0] != 0x90 || in[2] != 0 || in[3] != 0) {
		out[0] = 0x6E; /* class not supported */
		out[1] = 0x00;
		return 2;
	}
	if (len > 5) {
		n = in[4];
		p = in + 5;
		if (len != n + 6 || n == 0) {
			out[0] = 0x67; /* wrong length */
			out[1] = 0x00;
			return 2;
		}
	}
	cmd = in[1];
	pending = card->pending;
	if (cmd != DESFIRE_CMD_ADDITIONAL_FRAME)
		card->pending = 0;
	switch (cmd) {
	case DESFIRE_CMD_SELECT_APPLICATION:
		return card_select(card, p, n, out, out_size);
	case DESFIRE_CMD_AUTH_EV2_FIRST:
		return card_auth_first(card, p, n, out, out_size);
	case DESFIRE_CMD_AUTH_AES:
	case DESFIRE_CMD_AUTH_ISO:
		return card_auth_ev1_first(card, cmd, p, n, out, out_size);
	case DESFIRE_CMD_ADDITIONAL_FRAME:
		if (pending == DESFIRE_CMD_AUTH_EV2_FIRST)
			return card_auth_second(card, p, n, out, out_size);
		if (pending == DESFIRE_CMD_AUTH_AES || pending == DESFIRE_CMD_AUTH_ISO)
			return card_auth_ev1_second(card, p, n, out, out_size);
		return card_error(card, out, DESFIRE_ST_ILLEGAL_COMMAND);
	case DESFIRE_CMD_GET_KEY_SETTINGS:
		if (!card->authenticated)
			return n == 0 ? card_get_key_settings(card, out, out_size)
				      : card_error(card, out, DESFIRE_ST_LENGTH_ERROR);
		break;
	case DESFIRE_CMD_GET_CARD_UID:
	case DESFIRE_CMD_READ_DATA:
	case DESFIRE_CMD_WRITE_DATA:
	case DESFIRE_CMD_CREATE_APPLICATION:
	case DESFIRE_CMD_DELETE_APPLICATION:
	case DESFIRE_CMD_CREATE_STD_DATA_FILE:
	case DESFIRE_CMD_CHANGE_KEY:
		break;
	default:
		return card_error(card, out, DESFIRE_ST_ILLEGAL_COMMAND);
	}
	/* Everything else sac sends needs a session: EV2 with its MAC on the
	 * command; EV1 whose CMAC of a command in clear only moves the IV on
	 * (full-mode commands carry their CRC inside); a DES session only
	 * changes its key. */
	if (!card->authenticated)
		return card_error(card, out, DESFIRE_ST_AUTHENTICATION_ERROR);
	if (card->session == DESFIRE_SESSION_EV2) {
		body = card_check_mac(card, cmd, p, n);
		if (body < 0)
			return card_error(card, out, DESFIRE_ST_INTEGRITY_ERROR);
	} else if (card->session == DESFIRE_SESSION_EV1_DES && cmd != DESFIRE_CMD_CHANGE_KEY) {
		return card_error(card, out, DESFIRE_ST_PERMISSION_DENIED);
	} else {
		body = (int)n;
		if (card->session == DESFIRE_SESSION_EV1_AES && cmd != DESFIRE_CMD_WRITE_DATA &&
		    cmd != DESFIRE_CMD_CHANGE_KEY &&
		    desfire_ev1_cmac(card->ses_enc, card->iv, &cmd, 1, p, n, NULL) != 0)
			return card_error(card, out, DESFIRE_ST_COMMAND_ABORTED);
	}
	switch (cmd) {
	case DESFIRE_CMD_GET_KEY_SETTINGS:
		if (body != 0)
			return card_error(card, out, DESFIRE_ST_LENGTH_ERROR);
		return card_get_key_settings(card, out, out_size);
	case DESFIRE_CMD_GET_CARD_UID:
		if (body != 0)
			return card_error(card, out, DESFIRE_ST_LENGTH_ERROR);
		return card_ok(card, out, out_size, card->uid, card->uid_len, DESFIRE_COMM_FULL);
	case DESFIRE_CMD_READ_DATA:
		return card_read(card, p, (size_t)body, out, out_size);
	case DESFIRE_CMD_WRITE_DATA:
		return card_write(card, p, (size_t)body, out, out_size);
	case DESFIRE_CMD_CREATE_APPLICATION:
		return card_create_app(card, p, (size_t)body, out, out_size);
	case DESFIRE_CMD_DELETE_APPLICATION:
		return card_delete_app(card, p, (size_t)body, out, out_size);
	case DESFIRE_CMD_CREATE_STD_DATA_FILE:
		return card_create_file(card, p, (size_t)body, out, out_size);
	default:
		return card_change_key(card, p, (size_t)body, out, out_size);
	}
}
