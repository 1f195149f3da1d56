/*
 * fuzz_desfire — the card-answer side of sac-reader's DESFire mode on
 * arbitrary answers: the input is the card's side of one presentation,
 * answers as [length byte][bytes]…, fed to badgecard_read (select,
 * AuthenticateEV2First, GetCardUID for random UIDs, ReadData) until they run
 * out (a card pulled away).  Every path must end in a result without a
 * crash, overread or hang, and nothing but DESFIRE_OK may yield a card
 * number.  Bit 1 of the first byte starts the card as a known EV1 card
 * (AuthenticateAES at once; the script may also answer 1C to
 * AuthenticateEV2First).  The same answers then drive badgecard_issue
 * (GetKeySettings, AuthenticateISO with the DES factory key, EV1 ChangeKey,
 * the AES paths), and the bytes go through the answer parser and the
 * decryption of an established EV2 and EV1 session.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "badgecard.h"
#include "desfire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct script {
	const uint8_t *data;
	size_t size, pos;
	unsigned exchanges;
};

static int script_xfer(void *io, const uint8_t *tx, size_t tx_len, uint8_t *rx, size_t rx_size,
		       size_t *rx_len)
{
	struct script *s = io;
	size_t n;

	(void)tx;
	if (tx_len == 0 || s->pos >= s->size || ++s->exchanges > 64)
		return -1;
	n = s->data[s->pos++];
	if (n > s->size - s->pos)
		n = s->size - s->pos;
	if (n > rx_size)
		return -1;
	memcpy(rx, s->data + s->pos, n);
	s->pos += n;
	*rx_len = n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t card_key[BADGECARD_KEY_LEN] = {0x5a, 0xc0};
	static const uint8_t uid7[7] = {0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66};
	static const uint8_t uid_random[4] = {0x08, 0x01, 0x02, 0x03};
	uint8_t number[BADGECARD_NUMBER_LEN], old[BADGECARD_NUMBER_LEN], out[DESFIRE_DATA_MAX], status;
	bool had_old = false;
	struct script s = {.data = data, .size = size};
	struct desfire d;
	size_t len;
	int rc;

	if (size == 0)
		return 0;
	/* First byte: which anticollision UID the card showed. */
	s.pos = 1;
	memset(number, 0xEE, sizeof(number));
	desfire_init(&d, script_xfer, &s);
	d.card_ev1 = (data[0] & 2) != 0;
	rc = badgecard_read(&d, card_key, (data[0] & 1) ? uid_random : uid7,
			    (data[0] & 1) ? sizeof(uid_random) : sizeof(uid7), number);
	/* Answers cannot forge the keyed proofs: never a number. */
	if (rc == DESFIRE_OK || d.authenticated || d.why[sizeof(d.why) - 1] != '\0')
		abort();
	if (desfire_answer_parse(data, size, &status, &len) == 0 && len + 2 != size)
		abort();
	memset(&d, 0, sizeof(d));
	d.ti[0] = 0x9D;
	rc = desfire_sm_decrypt(d.ses_enc, d.ti, 1, true, data, size, out, sizeof(out));
	if (rc > (int)sizeof(out))
		abort();
	/* EV1 full-mode answers: for a UID (any of three lengths) and for a
	 * 16-byte read. */
	rc = desfire_ev1_decrypt_answer(DESFIRE_CIPHER_AES, d.ses_enc, d.iv, data, size, data[0], 0,
					out, sizeof(out));
	if (rc > (int)sizeof(out) || (rc >= 0 && rc != 4 && rc != 7 && rc != 10))
		abort();
	rc = desfire_ev1_decrypt_answer(DESFIRE_CIPHER_2K3DES, d.ses_enc, d.iv, data, size, 0x00, 16,
					out, sizeof(out));
	if (rc >= 0 && rc != 16)
		abort();
	/* Issuing from the same answers: without the keys' proofs (fresh RndA
	 * every time) it cannot succeed. */
	s.pos = 1;
	s.exchanges = 0;
	desfire_init(&d, script_xfer, &s);
	d.card_ev1 = (data[0] & 2) != 0;
	rc = badgecard_issue(&d, card_key, NULL, uid7, sizeof(uid7), number, old, &had_old);
	if (rc == DESFIRE_OK || had_old || d.authenticated || d.why[sizeof(d.why) - 1] != '\0')
		abort();
	/* An established EV1 session reading a 16-byte file from the answers. */
	s.pos = 1;
	s.exchanges = 0;
	desfire_init(&d, script_xfer, &s);
	d.session = DESFIRE_SESSION_EV1_AES;
	d.authenticated = true;
	rc = desfire_read_full(&d, BADGECARD_FILE, 0, number, BADGECARD_NUMBER_LEN);
	if (rc != DESFIRE_OK && d.authenticated)
		abort();
	return 0;
}
