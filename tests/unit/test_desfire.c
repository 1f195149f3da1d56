/*
 * Unit tests for common/cardcrypto and common/desfire against NXP's
 * published examples:
 *   - AN10922 "Symmetric key diversifications" Rev 2.0, §2.2.1 (AES-128);
 *   - AN12196 "NTAG 424 DNA and NTAG 424 DNA TagTamper features and hints"
 *     Rev 2.0: Table 14 (AuthenticateEV2First with key 0), Table 18
 *     (ChangeFileSettings in full mode), Tables 26 and 27 (ChangeKey of
 *     another key and of the session's key).  NTAG 424 DNA uses the same
 *     EV2 secure messaging as MIFARE DESFire EV2.
 * plus the limits of the answer parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "cardcrypto.h"
#include "desfire.h"
#include "hex.h"

static size_t unhex(const char *text, uint8_t *out, size_t size)
{
	size_t n = strlen(text) / 2;

	assert_true(n <= size);
	assert_int_equal(hex_decode(text, strlen(text), out, n), (int)n);
	return n;
}

#define assert_hex(bytes, len, text)                                  \
	do {                                                          \
		uint8_t want_[256];                                   \
		size_t want_len_ = unhex(text, want_, sizeof(want_)); \
		assert_int_equal((len), want_len_);                   \
		assert_memory_equal((bytes), want_, want_len_);       \
	} while (0)

static void test_an10922_aes128(void **state)
{
	uint8_t master[16], m[32], out[16];
	size_t m_len;

	(void)state;
	unhex("00112233445566778899AABBCCDDEEFF", master, sizeof(master));
	/* UID 04782E21801D80, AID 3042F5, system identifier "NXP Abu". */
	m_len = unhex("04782E21801D803042F54E585020416275", m, sizeof(m));
	assert_int_equal(cardcrypto_diversify(master, m, m_len, out), 0);
	assert_hex(out, 16, "A8DD63A3B89D54B37CA802473FDA9175");
	/* Outside the lengths where CMAC equals the note's padding: refused. */
	assert_int_equal(cardcrypto_diversify(master, m, 14, out), -1);
	assert_int_equal(cardcrypto_diversify(master, m, 32, out), -1);
}

static void test_an12196_authenticate_ev2_first(void **state)
{
	uint8_t key[16] = {0}, ek_rndb[16], rnda[16], rndb[16], step2[32], answer[32];
	struct desfire d;

	(void)state;
	desfire_init(&d, NULL, NULL);
	unhex("A04C124213C186F22399D33AC2A30215", ek_rndb, sizeof(ek_rndb));
	unhex("13C5DB8A5930439FC3DEF9A4C675360F", rnda, sizeof(rnda));
	assert_int_equal(desfire_auth_step2(key, ek_rndb, rnda, rndb, step2), 0);
	assert_hex(rndb, 16, "B9E2FC789B64BF237CCCAA20EC7E6E48");
	assert_hex(step2, 32, "35C3E05A752E0144BAC0DE51C1F22C56B34408A23D8AEA266CAB947EA8E0118D");
	unhex("3FA64DB5446D1F34CD6EA311167F5E4985B89690C04A05F17FA7AB2F08120663", answer,
	      sizeof(answer));
	assert_int_equal(desfire_auth_finish(&d, key, rnda, rndb, answer), DESFIRE_OK);
	assert_true(d.authenticated);
	assert_int_equal(d.cmd_ctr, 0);
	assert_hex(d.ti, 4, "9D00C4DF");
	assert_hex(d.ses_enc, 16, "1309C877509E5A215007FF0ED19CA564");
	assert_hex(d.ses_mac, 16, "4C6626F5E72EA694202139295C7A7FC7");

	/* A card that does not return our challenge (it lacks the key) fails. */
	desfire_clear(&d);
	answer[5] ^= 0x01;
	assert_int_equal(desfire_auth_finish(&d, key, rnda, rndb, answer), DESFIRE_INTEGRITY);
	assert_false(d.authenticated);
}

static void test_an12196_secure_messaging(void **state)
{
	uint8_t enc[16], mac[16], ti[4], data[15], block[16], ct[32], mact[8], hdr_ct[17], plain[32];
	int n;

	(void)state;
	unhex("1309C877509E5A215007FF0ED19CA564", enc, sizeof(enc));
	unhex("4C6626F5E72EA694202139295C7A7FC7", mac, sizeof(mac));
	unhex("9D00C4DF", ti, sizeof(ti));
	unhex("4000E0C1F121200000430000430000", data, sizeof(data));
	/* ChangeFileSettings, file 2, CmdCtr 1. */
	n = desfire_sm_encrypt(enc, ti, 1, false, data, sizeof(data), ct, sizeof(ct));
	assert_int_equal(n, 16);
	assert_hex(ct, 16, "61B6D97903566E84C3AE5274467E89EA");
	hdr_ct[0] = 0x02;
	memcpy(hdr_ct + 1, ct, 16);
	assert_int_equal(desfire_sm_mact(mac, 0x5F, 1, ti, hdr_ct, 17, NULL, 0, mact), 0);
	assert_hex(mact, 8, "D799B7C1A0EF7A04");
	/* The card's answer: status 00, no data, MAC under CmdCtr 2. */
	assert_int_equal(desfire_sm_mact(mac, 0x00, 2, ti, NULL, 0, NULL, 0, mact), 0);
	assert_hex(mact, 8, "57BFF87B1241E93D");
	/* Our own round trip, and a padding that is not method 2 refused. */
	assert_int_equal(desfire_sm_decrypt(enc, ti, 1, false, ct, 16, plain, sizeof(plain)), 15);
	assert_memory_equal(plain, data, 15);
	assert_int_equal(desfire_sm_decrypt(enc, ti, 2, false, ct, 16, plain, sizeof(plain)), -1);
	assert_int_equal(desfire_sm_decrypt(enc, ti, 1, false, ct, 15, plain, sizeof(plain)), -1);
	memcpy(block, data, sizeof(data));
	block[15] = 0x80; /* ends like padding: must not be taken for it */
	n = desfire_sm_encrypt(enc, ti, 7, true, block, 16, ct, sizeof(ct));
	assert_int_equal(n, 32); /* a full block of padding after 16 bytes */
	assert_int_equal(desfire_sm_decrypt(enc, ti, 7, true, ct, 32, plain, sizeof(plain)), 16);
	assert_memory_equal(plain, block, 16);
}

/* A fake card link: records the last APDU, answers with a fixed reply. */
struct fake_link {
	uint8_t sent[DESFIRE_APDU_MAX + 8];
	size_t sent_len;
	uint8_t reply[DESFIRE_ANSWER_MAX + 8];
	size_t reply_len;
	bool mute;
};

static int fake_xfer(void *io, const uint8_t *tx, size_t tx_len, uint8_t *rx, size_t rx_size,
		     size_t *rx_len)
{
	struct fake_link *f = io;

	memcpy(f->sent, tx, tx_len);
	f->sent_len = tx_len;
	if (f->mute)
		return -1;
	if (f->reply_len > rx_size)
		return -1;
	memcpy(rx, f->reply, f->reply_len);
	*rx_len = f->reply_len;
	return 0;
}

static void session(struct desfire *d, struct fake_link *f, uint16_t ctr)
{
	desfire_init(d, fake_xfer, f);
	unhex("4CF3CB41A22583A61E89B158D252FC53", d->ses_enc, 16);
	unhex("5529860B2FC5FB6154B7F28361D30BF9", d->ses_mac, 16);
	unhex("7614281A", d->ti, 4);
	d->cmd_ctr = ctr;
	d->key_no = 0;
	d->authenticated = true;
}

static void test_an12196_change_key(void **state)
{
	uint8_t new2[16], new0[16], old[16] = {0};
	struct fake_link f;
	struct desfire d;

	(void)state;
	memset(&f, 0, sizeof(f));
	unhex("F3847D627727ED3BC9C4CC050489B966", new2, sizeof(new2));
	unhex("5004BF991F408672B1EF00F08F9E8647", new0, sizeof(new0));
	/* Table 26: key 2 (not the session's), CmdCtr 2.  The fake answers
	 * with a MAC that cannot be right: refused as an integrity failure. */
	session(&d, &f, 2);
	unhex("00112233445566779100", f.reply, sizeof(f.reply));
	f.reply_len = 10;
	assert_int_equal(desfire_change_key(&d, 0x02, new2, old, 0x01), DESFIRE_INTEGRITY);
	assert_hex(f.sent, f.sent_len,
		   "90C4000029022CF362B7BF4311FF3BE1DAA295E8C68DE09050560D19B9E16C2393AE9CD1FAC75D"
		   "0CE20BCD1D06E600");
	assert_false(d.authenticated);
	/* Table 27: key 0, the session's own key, CmdCtr 3; the answer has no MAC. */
	session(&d, &f, 3);
	unhex("9100", f.reply, sizeof(f.reply));
	f.reply_len = 2;
	assert_int_equal(desfire_change_key(&d, 0x00, new0, NULL, 0x01), DESFIRE_OK);
	assert_hex(f.sent, f.sent_len,
		   "90C400002900C0EB4DEEFEDDF0B513A03A95A75491818580503190D4D05053FF75668A01D6FDA6"
		   "610234BDED643200");
	assert_false(d.authenticated);
}

static void test_answers_refused(void **state)
{
	uint8_t out[16], status;
	size_t n;
	struct fake_link f;
	struct desfire d;

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(desfire_answer_parse((const uint8_t *)"\x91", 1, &status, &n), -1);
	assert_int_equal(desfire_answer_parse((const uint8_t *)"\x90\x00", 2, &status, &n), -1);
	assert_int_equal(desfire_answer_parse((const uint8_t *)"\x91\xA0", 2, &status, &n), 0);
	assert_int_equal(status, 0xA0);
	/* No answer: the card is gone. */
	session(&d, &f, 0);
	f.mute = true;
	assert_int_equal(desfire_read_full(&d, 1, 0, out, 16), DESFIRE_GONE);
	assert_non_null(strstr(d.why, "no answer"));
	/* An error status: refused, named, and the session is over. */
	session(&d, &f, 0);
	f.mute = false;
	unhex("91AE", f.reply, sizeof(f.reply));
	f.reply_len = 2;
	assert_int_equal(desfire_read_full(&d, 1, 0, out, 16), DESFIRE_REFUSED);
	assert_non_null(strstr(d.why, "AE"));
	assert_false(d.authenticated);
	/* Too short to carry a MAC. */
	session(&d, &f, 0);
	unhex("01029100", f.reply, sizeof(f.reply));
	f.reply_len = 4;
	assert_int_equal(desfire_read_full(&d, 1, 0, out, 16), DESFIRE_MALFORMED);
	/* Without authentication nothing is read. */
	desfire_init(&d, fake_xfer, &f);
	assert_int_equal(desfire_read_full(&d, 1, 0, out, 16), DESFIRE_INTERNAL);
}

static void test_crc32(void **state)
{
	uint8_t crc[4];

	(void)state;
	/* CRC-32/JAMCRC check value of "123456789": 0x340BC6D9. */
	desfire_crc32((const uint8_t *)"123456789", 9, crc);
	assert_hex(crc, 4, "D9C60B34");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_an10922_aes128),
		cmocka_unit_test(test_an12196_authenticate_ev2_first),
		cmocka_unit_test(test_an12196_secure_messaging),
		cmocka_unit_test(test_an12196_change_key),
		cmocka_unit_test(test_answers_refused),
		cmocka_unit_test(test_crc32),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
