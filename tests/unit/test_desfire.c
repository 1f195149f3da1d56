/*
 * Unit tests for common/cardcrypto and common/desfire against NXP's
 * published examples:
 *   - AN10922 "Symmetric key diversifications" Rev 2.0, §2.2.1 (AES-128);
 *   - AN12196 "NTAG 424 DNA and NTAG 424 DNA TagTamper features and hints"
 *     Rev 2.0: Table 14 (AuthenticateEV2First with key 0), Table 18
 *     (ChangeFileSettings in full mode), Tables 26 and 27 (ChangeKey of
 *     another key and of the session's key).  NTAG 424 DNA uses the same
 *     EV2 secure messaging as MIFARE DESFire EV2;
 *   - NIST SP 800-38B, AES-CMAC examples 1-3 (and the subkeys K1, K2 they
 *     imply), for the running-IV CMAC of EV1;
 *   - "DESFire EV1 Communication Examples" (traces of a real EV1 card, after
 *     ridrix's blog, published with github.com/sotechcllc/RFDoorLock):
 *     AuthenticateAES and AuthenticateISO (DES), their session keys, CMACs
 *     chained over the IV, ChangeKey of the session's key and of another key;
 * plus the limits of the answer parsers and the EV2 → EV1 fallback rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
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

static void test_nist_cmac_and_subkeys(void **state)
{
	static const uint8_t zero[16];
	uint8_t key[16], msg[64], mac[16], block[16];
	size_t n;
	int i;

	(void)state;
	unhex("2B7E151628AED2A6ABF7158809CF4F3C", key, sizeof(key));
	/* Example 1, the empty message: E(K, 80 00… ^ K2). */
	assert_int_equal(cardcrypto_cmac(key, msg, 0, mac), 0);
	assert_hex(mac, 16, "BB1D6929E95937287FA37D129B756746");
	assert_int_equal(cardcrypto_cbc(key, zero, false, mac, 16, block), 0);
	block[0] ^= 0x80;
	assert_hex(block, 16, "F7DDAC306AE266CCF90BC11EE46D513B"); /* K2 */
	/* Example 2, one full block: E(K, M ^ K1). */
	n = unhex("6BC1BEE22E409F96E93D7E117393172A", msg, sizeof(msg));
	assert_int_equal(cardcrypto_cmac_iv(key, zero, msg, n, mac), 0);
	assert_hex(mac, 16, "070A16B46B4D4144F79BDD9DD04A287C");
	assert_int_equal(cardcrypto_cbc(key, zero, false, mac, 16, block), 0);
	for (i = 0; i < 16; i++)
		block[i] ^= msg[i];
	assert_hex(block, 16, "FBEED618357133667C85E08F7236A8DE"); /* K1 */
	/* Example 3, 40 bytes. */
	n = unhex("6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E5130C81C46A35CE411",
		  msg, sizeof(msg));
	assert_int_equal(cardcrypto_cmac_iv(key, zero, msg, n, mac), 0);
	assert_hex(mac, 16, "DFA66747DE9AE63030CA32611497C827");
	assert_int_equal(cardcrypto_cmac_iv(key, zero, msg, 0, mac), -1);
}

static void test_ev1_aes_authenticate(void **state)
{
	uint8_t key[16] = {0}, ek_rndb[16], rnda[16], rndb[16], step2[32], answer[16], iv[16];
	uint8_t ses[16];

	(void)state;
	unhex("B969FDFE56FD91FC9DE6F6F213B8FD1E", ek_rndb, sizeof(ek_rndb));
	unhex("F44B26F5686F3A391CD38EBD10772281", rnda, sizeof(rnda));
	assert_int_equal(
		desfire_ev1_auth_step2(DESFIRE_CIPHER_AES, key, ek_rndb, rnda, rndb, step2, iv), 0);
	assert_hex(rndb, 16, "C05DDD714FD788A6B7B754F3C4D066E8");
	assert_hex(step2, 32, "36AAD7DF6E436BA08D18613830A70D5AD43E3D3F4A8D47541EEE623A934E4774");
	unhex("800DB680BC146BD121D6578F2D2E2059", answer, sizeof(answer));
	assert_int_equal(desfire_ev1_auth_check(DESFIRE_CIPHER_AES, key, answer, rnda, iv), DESFIRE_OK);
	desfire_ev1_session_key(DESFIRE_CIPHER_AES, key, rnda, rndb, ses);
	assert_hex(ses, 16, "F44B26F5C05DDD7110772281C4D066E8");
	/* A card that does not return RndA (it lacks the key) fails. */
	assert_int_equal(
		desfire_ev1_auth_step2(DESFIRE_CIPHER_AES, key, ek_rndb, rnda, rndb, step2, iv), 0);
	answer[3] ^= 0x10;
	assert_int_equal(desfire_ev1_auth_check(DESFIRE_CIPHER_AES, key, answer, rnda, iv),
			 DESFIRE_INTEGRITY);
}

static void test_ev1_iso_des_authenticate(void **state)
{
	uint8_t key[16] = {0}, ek_rndb[8], rnda[8], rndb[8], step2[16], answer[8], iv[16], ses[16];
	uint8_t newkey[16], ct[32];
	int i;

	(void)state;
	unhex("5D994CE085F24089", ek_rndb, sizeof(ek_rndb));
	unhex("849B36C5F8BF4A09", rnda, sizeof(rnda));
	assert_int_equal(
		desfire_ev1_auth_step2(DESFIRE_CIPHER_2K3DES, key, ek_rndb, rnda, rndb, step2, iv), 0);
	assert_hex(rndb, 8, "4FD1B75942A8B8E1");
	assert_hex(step2, 16, "21D0AD5F2FD97454A746CC80567F1B1C");
	unhex("913C6DED84221C41", answer, sizeof(answer));
	assert_int_equal(desfire_ev1_auth_check(DESFIRE_CIPHER_2K3DES, key, answer, rnda, iv),
			 DESFIRE_OK);
	desfire_ev1_session_key(DESFIRE_CIPHER_2K3DES, key, rnda, rndb, ses);
	/* The trace prints the key with its parity bits (ignored by DES) cleared. */
	for (i = 0; i < 16; i++)
		ses[i] &= 0xFE;
	assert_hex(ses, 16, "849A36C44ED0B658849A36C44ED0B658");
	/* ChangeKey of the session's key (0) in a DES session, to a 2K3DES key
	 * (no version byte), IV zero after the authentication. */
	unhex("C86CE25E4C647E56C86CE25E4C647E56", ses, sizeof(ses));
	unhex("00102031405060708090A0B0B0A09080", newkey, sizeof(newkey));
	memset(iv, 0, sizeof(iv));
	assert_int_equal(desfire_ev1_key_cryptogram(DESFIRE_CIPHER_2K3DES, ses, iv, 0x00, newkey, NULL,
						    -1, ct, sizeof(ct)),
			 24);
	assert_hex(ct, 24, "BEDE0FC6ED347DCF0D51C717DF75D97D2C5A2BA6CAC7479D");
}

static void test_ev1_aes_cmac_chain_and_change_key(void **state)
{
	uint8_t ses[16], iv[16] = {0}, mac[8], newkey[16], zero[16] = {0}, ct[32];
	uint8_t cmd[2] = {0x64, 0x00}, answer[2] = {0x10, 0x00};

	(void)state;
	/* GetKeyVersion(0): the command's CMAC from IV zero, the answer's
	 * (data || status) from there; each becomes the IV. */
	unhex("90F7A20191036845EC63DECD544B9931", ses, sizeof(ses));
	assert_int_equal(desfire_ev1_cmac(ses, iv, cmd, 2, NULL, 0, mac), 0);
	assert_hex(iv, 16, "257FC538618A944A3A20967B6F314348");
	assert_int_equal(desfire_ev1_cmac(ses, iv, answer, 1, answer + 1, 1, mac), 0);
	assert_hex(mac, 8, "8A8FA36F55CD210D");
	assert_hex(iv, 16, "8A8FA36F55CD210DD8054658AC70D99A");
	/* Then ChangeKey of the session's key to zeros, version 0, over that IV. */
	assert_int_equal(desfire_ev1_key_cryptogram(DESFIRE_CIPHER_AES, ses, iv, 0x00, zero, NULL, 0,
						    ct, sizeof(ct)),
			 32);
	assert_hex(ct, 32, "635375E4919F8AF2E9E86B1C1BA55B0C0807EAF484D7A7EF6E0C3084160F5A61");
	/* ChangeKey of the session's key right after authenticating, version 0x10. */
	unhex("F44B26F5C05DDD7110772281C4D066E8", ses, sizeof(ses));
	unhex("00102030405060708090A0B0B0A09080", newkey, sizeof(newkey));
	memset(iv, 0, sizeof(iv));
	assert_int_equal(desfire_ev1_key_cryptogram(DESFIRE_CIPHER_AES, ses, iv, 0x00, newkey, NULL,
						    0x10, ct, sizeof(ct)),
			 32);
	assert_hex(ct, 32, "E9F85E219496C2B58C1090DC3935FAE9E840CF61B383D9531946256B1F110C10");
}

/* A fake card link answering from a script, recording each command code. */
struct script_link {
	const char *replies[8];
	size_t next;
	uint8_t cmds[8];
	uint8_t last[DESFIRE_APDU_MAX + 8];
	size_t last_len;
};

static int script_xfer(void *io, const uint8_t *tx, size_t tx_len, uint8_t *rx, size_t rx_size,
		       size_t *rx_len)
{
	struct script_link *s = io;
	size_t n;

	if (s->next >= 8 || s->replies[s->next] == NULL)
		return -1;
	s->cmds[s->next] = tx[1];
	memcpy(s->last, tx, tx_len);
	s->last_len = tx_len;
	n = unhex(s->replies[s->next++], rx, rx_size);
	*rx_len = n;
	return 0;
}

static void test_ev1_change_other_key_through_the_card(void **state)
{
	uint8_t newkey[16], zero[16] = {0};
	struct script_link s = {.replies = {"2128D3CD9C9ACFFF9100"}};
	struct desfire d;

	(void)state;
	/* A real card's exchange: ChangeKey(1) in an AES session, IV zero; the
	 * card's answer carries the CMAC over its status. */
	desfire_init(&d, script_xfer, &s);
	unhex("C2A1E47BD8100044FE6D00A74D7AB17C", d.ses_enc, 16);
	d.session = DESFIRE_SESSION_EV1_AES;
	d.authenticated = true;
	d.key_no = 0;
	unhex("00102030405060708090A0B0B0A09080", newkey, sizeof(newkey));
	assert_int_equal(desfire_change_key(&d, 0x01, newkey, zero, 0x10), DESFIRE_OK);
	assert_hex(s.last, s.last_len,
		   "90C4000021"
		   "01E7ECCB6BD1CA64BC161A12B1C024F71430337408C8A87EACAB7A1FF18951FCA3"
		   "00");
	assert_hex(d.iv, 16, "2128D3CD9C9ACFFFF6EB9546ADF35E17");
	assert_true(d.authenticated);
	/* The same answer once more cannot be right under the new IV. */
	s.next = 0;
	assert_int_equal(desfire_change_key(&d, 0x01, newkey, zero, 0x10), DESFIRE_INTEGRITY);
	assert_false(d.authenticated);
	assert_non_null(strstr(d.why, "MAC is wrong"));
}

static void test_ev1_full_mode_answer(void **state)
{
	uint8_t ses[16], iv_card[16] = {0}, iv_pcd[16] = {0}, plain[32], ct[48], out[32];
	uint8_t uid[7] = {0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66};
	int n;

	(void)state;
	unhex("F44B26F5C05DDD7110772281C4D066E8", ses, sizeof(ses));
	/* The card's side: data || CRC32(data || status) || zeros. */
	memcpy(plain, uid, 7);
	plain[7] = 0x00;
	desfire_crc32(plain, 8, plain + 7);
	n = desfire_ev1_encrypt(DESFIRE_CIPHER_AES, ses, iv_card, plain, 11, ct, sizeof(ct));
	assert_int_equal(n, 16);
	assert_int_equal(desfire_ev1_decrypt_answer(DESFIRE_CIPHER_AES, ses, iv_pcd, ct, 16, 0x00, 0,
						    out, sizeof(out)),
			 7);
	assert_memory_equal(out, uid, 7);
	assert_memory_equal(iv_pcd, iv_card, 16);
	/* Wrong length wanted, wrong status, a flipped bit, a wrong IV: refused. */
	memset(iv_pcd, 0, 16);
	assert_int_equal(desfire_ev1_decrypt_answer(DESFIRE_CIPHER_AES, ses, iv_pcd, ct, 16, 0x00, 8,
						    out, sizeof(out)),
			 -1);
	memset(iv_pcd, 0, 16);
	assert_int_equal(desfire_ev1_decrypt_answer(DESFIRE_CIPHER_AES, ses, iv_pcd, ct, 16, 0x0C, 0,
						    out, sizeof(out)),
			 -1);
	memset(iv_pcd, 0, 16);
	ct[5] ^= 0x01;
	assert_int_equal(desfire_ev1_decrypt_answer(DESFIRE_CIPHER_AES, ses, iv_pcd, ct, 16, 0x00, 0,
						    out, sizeof(out)),
			 -1);
	ct[5] ^= 0x01;
	assert_int_equal(desfire_ev1_decrypt_answer(DESFIRE_CIPHER_AES, ses, iv_card, ct, 16, 0x00, 0,
						    out, sizeof(out)),
			 -1);
	assert_int_equal(desfire_ev1_decrypt_answer(DESFIRE_CIPHER_AES, ses, iv_pcd, ct, 15, 0x00, 0,
						    out, sizeof(out)),
			 -1);
}

static void test_ev1_mac_checked(void **state)
{
	static const uint8_t access[2] = {0x00, 0x10};
	uint8_t iv[16] = {0}, mac[8], status = 0x00;
	char reply[64];
	struct script_link s = {.replies = {reply}};
	struct desfire d;
	int i;

	(void)state;
	/* CreateStdDataFile in an EV1 session: the answer's MAC is checked,
	 * over the IV the command's CMAC left. */
	desfire_init(&d, script_xfer, &s);
	unhex("90F7A20191036845EC63DECD544B9931", d.ses_enc, 16);
	d.session = DESFIRE_SESSION_EV1_AES;
	d.authenticated = true;
	{
		uint8_t cmd[8] = {0xCD, 0x01, 0x03, 0x00, 0x10, 0x10, 0x00, 0x00};

		assert_int_equal(desfire_ev1_cmac(d.ses_enc, iv, cmd, 8, NULL, 0, NULL), 0);
		assert_int_equal(desfire_ev1_cmac(d.ses_enc, iv, &status, 1, NULL, 0, mac), 0);
	}
	for (i = 0; i < 8; i++)
		snprintf(reply + 2 * i, 3, "%02X", mac[i]);
	snprintf(reply + 16, sizeof(reply) - 16, "9100");
	assert_int_equal(desfire_create_std_file(&d, 0x01, 0x03, access, 16), DESFIRE_OK);
	assert_memory_equal(d.iv, iv, 16);
	/* One bit of the MAC wrong: refused as an integrity failure. */
	desfire_init(&d, script_xfer, &s);
	unhex("90F7A20191036845EC63DECD544B9931", d.ses_enc, 16);
	d.session = DESFIRE_SESSION_EV1_AES;
	d.authenticated = true;
	s.next = 0;
	reply[15] = reply[15] == '0' ? '1' : '0';
	assert_int_equal(desfire_create_std_file(&d, 0x01, 0x03, access, 16), DESFIRE_INTEGRITY);
	assert_false(d.authenticated);
}

static void test_ev2_to_ev1_fallback_rule(void **state)
{
	uint8_t key[16] = {0};
	struct script_link s = {.replies = {"91AE"}};
	struct desfire d;

	(void)state;
	/* An authentication error is a refused card: no second try with EV1. */
	desfire_init(&d, script_xfer, &s);
	assert_int_equal(desfire_authenticate(&d, 1, key, key), DESFIRE_REFUSED);
	assert_int_equal(s.next, 1);
	assert_int_equal(s.cmds[0], DESFIRE_CMD_AUTH_EV2_FIRST);
	assert_false(d.card_ev1);
	/* Neither is a malformed answer, nor silence. */
	s = (struct script_link){.replies = {"1C"}};
	desfire_init(&d, script_xfer, &s);
	assert_int_equal(desfire_authenticate(&d, 1, key, key), DESFIRE_MALFORMED);
	assert_int_equal(s.next, 1);
	/* "Illegal command": an EV1 card, asked with AuthenticateAES, and from
	 * then on directly. */
	s = (struct script_link){.replies = {"911C", "91AE", "91AE"}};
	desfire_init(&d, script_xfer, &s);
	assert_int_equal(desfire_authenticate(&d, 1, key, key), DESFIRE_REFUSED);
	assert_int_equal(s.next, 2);
	assert_int_equal(s.cmds[1], DESFIRE_CMD_AUTH_AES);
	assert_true(d.card_ev1);
	assert_non_null(strstr(d.why, "AuthenticateAES"));
	assert_int_equal(desfire_authenticate(&d, 1, key, key), DESFIRE_REFUSED);
	assert_int_equal(s.cmds[2], DESFIRE_CMD_AUTH_AES);
	/* A challenge of the wrong size for AES. */
	s = (struct script_link){.replies = {"911C", "0102030405060708"
						     "91AF"}};
	desfire_init(&d, script_xfer, &s);
	assert_int_equal(desfire_authenticate(&d, 1, key, key), DESFIRE_MALFORMED);
	/* A DES session changes only its own key. */
	desfire_init(&d, script_xfer, &s);
	d.session = DESFIRE_SESSION_EV1_DES;
	d.authenticated = true;
	assert_int_equal(desfire_change_key(&d, 0x01, key, key, 0), DESFIRE_INTERNAL);
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
		cmocka_unit_test(test_nist_cmac_and_subkeys),
		cmocka_unit_test(test_ev1_aes_authenticate),
		cmocka_unit_test(test_ev1_iso_des_authenticate),
		cmocka_unit_test(test_ev1_aes_cmac_chain_and_change_key),
		cmocka_unit_test(test_ev1_change_other_key_through_the_card),
		cmocka_unit_test(test_ev1_full_mode_answer),
		cmocka_unit_test(test_ev1_mac_checked),
		cmocka_unit_test(test_ev2_to_ev1_fallback_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
