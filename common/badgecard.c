/*
 * badgecard — see badgecard.h.
 */
#include "badgecard.h"

#include <stdio.h>
#include <string.h>

#include "cardcrypto.h"
#include "credential.h"

/* AID 0xF5AC01 (least significant byte first, as sent). */
const uint8_t badgecard_aid[DESFIRE_AID_LEN] = {0x01, 0xAC, 0xF5};
static const uint8_t badgecard_picc_aid[DESFIRE_AID_LEN] = {0x00, 0x00, 0x00};

/* KeySett1 0x09: the master key may be changed, configuration changeable,
 * creating/deleting files and listing need the master key; keys are changed
 * with the master key. */
#define BADGECARD_KEY_SETTINGS 0x09
#define BADGECARD_NKEYS 3
/* Access rights: ReadWrite 0 and Change 0 | Read 1, Write 0. */
static const uint8_t badgecard_access[2] = {0x00, 0x10};
#define BADGECARD_COMM_FULL 0x03

int badgecard_key_load(const char *path, uint8_t key[BADGECARD_KEY_LEN], char *err, size_t err_size)
{
	char why[480];
	int rc = credential_hex_key_load(path, key, BADGECARD_KEY_LEN, why, sizeof(why));

	if (rc != 0)
		snprintf(err, err_size, "card %s", why);
	return rc;
}

int badgecard_derive(const uint8_t card_key[BADGECARD_KEY_LEN], enum badgecard_key which, bool ev1,
		     const uint8_t *uid, size_t uid_len, uint8_t out[BADGECARD_KEY_LEN])
{
	static const char *const labels[] = {"sac/app-master", "sac/read", "sac/card-uid-key",
					     "sac/picc"};
	static const char *const labels_ev1[] = {"sac/ev1/app-master", "sac/ev1/read",
						 "sac/ev1/card-uid-key", "sac/ev1/picc"};
	uint8_t m[CARDCRYPTO_DIV_INPUT_MAX];
	const char *label = ev1 ? labels_ev1[which] : labels[which];
	size_t n = 0;
	int rc;

	if (which != BADGECARD_KEY_UID) {
		if (uid_len == 0 || uid_len > DESFIRE_UID_MAX)
			return -1;
		memcpy(m, uid, uid_len);
		n = uid_len;
	}
	memcpy(m + n, which == BADGECARD_KEY_PICC ? badgecard_picc_aid : badgecard_aid,
	       DESFIRE_AID_LEN);
	n += DESFIRE_AID_LEN;
	memcpy(m + n, label, strlen(label));
	n += strlen(label);
	rc = cardcrypto_diversify(card_key, m, n, out);
	explicit_bzero(m, sizeof(m));
	return rc;
}

bool badgecard_uid_is_random(const uint8_t *uid, size_t uid_len)
{
	return uid_len == 4 && uid[0] == 0x08;
}

static int badgecard_internal(struct desfire *d, const char *why)
{
	snprintf(d->why, sizeof(d->why), "%s", why);
	desfire_clear(d);
	return DESFIRE_INTERNAL;
}

/* Authenticates with the card's key `which` (as key number key_no) of its
 * family: the EV2 key for AuthenticateEV2First, the EV1 key for the
 * AuthenticateAES an EV1 card gets instead. */
static int badgecard_authenticate(struct desfire *d, const uint8_t card_key[BADGECARD_KEY_LEN],
				  enum badgecard_key which, uint8_t key_no, const uint8_t *uid,
				  size_t uid_len)
{
	uint8_t key[BADGECARD_KEY_LEN], key_ev1[BADGECARD_KEY_LEN];
	int rc;

	if (badgecard_derive(card_key, which, false, uid, uid_len, key) != 0 ||
	    badgecard_derive(card_key, which, true, uid, uid_len, key_ev1) != 0)
		rc = badgecard_internal(d, "cannot derive a card key");
	else
		rc = desfire_authenticate(d, key_no, key, key_ev1);
	explicit_bzero(key, sizeof(key));
	explicit_bzero(key_ev1, sizeof(key_ev1));
	return rc;
}

/* The real UID: the anticollision one, or after authenticating with the UID
 * key, GetCardUID.  The application must be selected. */
static int badgecard_real_uid(struct desfire *d, const uint8_t card_key[BADGECARD_KEY_LEN],
			      const uint8_t *ac_uid, size_t ac_uid_len, uint8_t uid[DESFIRE_UID_MAX],
			      size_t *uid_len)
{
	int rc;

	if (!badgecard_uid_is_random(ac_uid, ac_uid_len)) {
		if (ac_uid_len == 0 || ac_uid_len > DESFIRE_UID_MAX)
			return badgecard_internal(d, "UID of a wrong length");
		memcpy(uid, ac_uid, ac_uid_len);
		*uid_len = ac_uid_len;
		return DESFIRE_OK;
	}
	rc = badgecard_authenticate(d, card_key, BADGECARD_KEY_UID, BADGECARD_KEY_UID, NULL, 0);
	if (rc == DESFIRE_OK)
		rc = desfire_get_card_uid(d, uid, uid_len);
	return rc;
}

int badgecard_read(struct desfire *d, const uint8_t card_key[BADGECARD_KEY_LEN], const uint8_t *ac_uid,
		   size_t ac_uid_len, uint8_t number[BADGECARD_NUMBER_LEN])
{
	uint8_t uid[DESFIRE_UID_MAX];
	size_t uid_len = 0;
	int rc;

	rc = desfire_select(d, badgecard_aid);
	if (rc == DESFIRE_OK)
		rc = badgecard_real_uid(d, card_key, ac_uid, ac_uid_len, uid, &uid_len);
	if (rc == DESFIRE_OK)
		rc = badgecard_authenticate(d, card_key, BADGECARD_KEY_READ, BADGECARD_KEY_READ, uid,
					    uid_len);
	if (rc == DESFIRE_OK)
		rc = desfire_read_full(d, BADGECARD_FILE, 0, number, BADGECARD_NUMBER_LEN);
	explicit_bzero(uid, sizeof(uid));
	desfire_clear(d);
	return rc;
}

/* At card level, authenticated with its master key: make the application
 * with its keys and file holding number.  Ends unauthenticated. */
static int badgecard_personalise(struct desfire *d, const uint8_t card_key[BADGECARD_KEY_LEN],
				 const uint8_t *uid, size_t uid_len,
				 const uint8_t number[BADGECARD_NUMBER_LEN])
{
	static const uint8_t zero[BADGECARD_KEY_LEN];
	uint8_t key[BADGECARD_KEY_LEN];
	int rc;

	rc = desfire_create_application(d, badgecard_aid, BADGECARD_KEY_SETTINGS, BADGECARD_NKEYS);
	if (rc == DESFIRE_OK)
		rc = desfire_select(d, badgecard_aid);
	/* A new application's keys are AES zeros. */
	if (rc == DESFIRE_OK)
		rc = desfire_authenticate(d, BADGECARD_KEY_APP_MASTER, zero, zero);
	if (rc == DESFIRE_OK)
		rc = desfire_create_std_file(d, BADGECARD_FILE, BADGECARD_COMM_FULL, badgecard_access,
					     BADGECARD_NUMBER_LEN);
	if (rc == DESFIRE_OK)
		rc = desfire_write_full(d, BADGECARD_FILE, 0, number, BADGECARD_NUMBER_LEN);
	if (rc == DESFIRE_OK &&
	    badgecard_derive(card_key, BADGECARD_KEY_READ, d->card_ev1, uid, uid_len, key) != 0)
		rc = badgecard_internal(d, "cannot derive the read key");
	if (rc == DESFIRE_OK)
		rc = desfire_change_key(d, BADGECARD_KEY_READ, key, zero, 1);
	if (rc == DESFIRE_OK &&
	    badgecard_derive(card_key, BADGECARD_KEY_UID, d->card_ev1, NULL, 0, key) != 0)
		rc = badgecard_internal(d, "cannot derive the UID key");
	if (rc == DESFIRE_OK)
		rc = desfire_change_key(d, BADGECARD_KEY_UID, key, zero, 1);
	if (rc == DESFIRE_OK &&
	    badgecard_derive(card_key, BADGECARD_KEY_APP_MASTER, d->card_ev1, uid, uid_len, key) != 0)
		rc = badgecard_internal(d, "cannot derive the application master key");
	if (rc == DESFIRE_OK)
		rc = desfire_change_key(d, BADGECARD_KEY_APP_MASTER, key, NULL, 1);
	explicit_bzero(key, sizeof(key));
	return rc;
}

/* At card level, unauthenticated: a card master key of type DES (the
 * factory state of real DESFire EV1/EV2/EV3 cards) that is still the
 * factory default (zeros) becomes the AES default (zeros), from which the
 * ordinary issue goes on.  *found says whether a DES key was there; an AES
 * key, or settings that cannot be read, are left for the AES path.  A DES
 * key that is not the default, or a 3K3DES key, is refused: not a blank card. */
static int badgecard_from_des_factory(struct desfire *d, bool *found)
{
	static const uint8_t zero[BADGECARD_KEY_LEN];
	uint8_t settings = 0, nkeys = 0;
	int rc;

	*found = false;
	rc = desfire_get_key_settings(d, &settings, &nkeys);
	if (rc == DESFIRE_REFUSED)
		return DESFIRE_OK; /* the settings are not told: try AES */
	if (rc != DESFIRE_OK || (nkeys & 0xC0) == 0x80)
		return rc;
	if ((nkeys & 0xC0) != 0x00)
		return badgecard_internal(d, "the card master key is a 3K3DES key: not a blank card");
	*found = true;
	rc = desfire_authenticate_ev1(d, 0, zero, DESFIRE_CIPHER_2K3DES);
	if (rc == DESFIRE_REFUSED && d->status == DESFIRE_ST_AUTHENTICATION_ERROR) {
		snprintf(
			d->why, sizeof(d->why),
			"the card master key is a DES key but not the factory default: not a blank card");
		return rc;
	}
	/* Key 0 with the AES flag, version 0: the AES factory default. */
	if (rc == DESFIRE_OK)
		rc = desfire_change_key(d, 0x80, zero, NULL, 0);
	if (rc == DESFIRE_OK)
		rc = desfire_select(d, badgecard_picc_aid);
	return rc;
}

int badgecard_issue(struct desfire *d, const uint8_t card_key[BADGECARD_KEY_LEN],
		    const uint8_t *old_card_key, const uint8_t *ac_uid, size_t ac_uid_len,
		    uint8_t number[BADGECARD_NUMBER_LEN], uint8_t old_number[BADGECARD_NUMBER_LEN],
		    bool *had_old)
{
	static const uint8_t zero[BADGECARD_KEY_LEN];
	uint8_t uid[DESFIRE_UID_MAX], picc[BADGECARD_KEY_LEN], new_picc[BADGECARD_KEY_LEN];
	uint8_t check[BADGECARD_NUMBER_LEN];
	const uint8_t *old_key = old_card_key != NULL ? old_card_key : card_key;
	size_t uid_len = 0;
	bool factory = false, des = false;
	int rc;

	*had_old = false;
	memset(picc, 0, sizeof(picc));
	if (cardcrypto_random(number, BADGECARD_NUMBER_LEN) != 0)
		return badgecard_internal(d, "no random bytes for the card number");
	rc = desfire_select(d, badgecard_picc_aid);
	if (rc == DESFIRE_OK)
		rc = badgecard_from_des_factory(d, &des);
	if (rc == DESFIRE_OK) {
		rc = desfire_authenticate(d, 0, zero, zero);
		factory = rc == DESFIRE_OK;
		if (rc == DESFIRE_REFUSED && d->status == DESFIRE_ST_AUTHENTICATION_ERROR && !des)
			rc = DESFIRE_OK; /* not a factory card: perhaps one of ours */
	}
	if (rc == DESFIRE_OK && factory) {
		rc = desfire_get_card_uid(d, uid, &uid_len);
	} else if (rc == DESFIRE_OK) {
		/* Issued before: keep its old number (to revoke it), then delete
		 * the application as the card master. */
		rc = badgecard_read(d, old_key, ac_uid, ac_uid_len, old_number);
		if (rc == DESFIRE_OK)
			*had_old = true;
		if (rc == DESFIRE_OK)
			rc = desfire_select(d, badgecard_aid);
		if (rc == DESFIRE_OK)
			rc = badgecard_real_uid(d, old_key, ac_uid, ac_uid_len, uid, &uid_len);
		if (rc == DESFIRE_OK &&
		    badgecard_derive(old_key, BADGECARD_KEY_PICC, d->card_ev1, uid, uid_len, picc) != 0)
			rc = badgecard_internal(d, "cannot derive the card master key");
		if (rc == DESFIRE_OK)
			rc = desfire_select(d, badgecard_picc_aid);
		if (rc == DESFIRE_OK)
			rc = desfire_authenticate(d, 0, picc, picc);
		if (rc == DESFIRE_OK)
			rc = desfire_delete_application(d, badgecard_aid);
	}
	if (rc == DESFIRE_OK)
		rc = badgecard_personalise(d, card_key, uid, uid_len, number);
	if (rc == DESFIRE_OK &&
	    badgecard_derive(card_key, BADGECARD_KEY_PICC, d->card_ev1, uid, uid_len, new_picc) != 0)
		rc = badgecard_internal(d, "cannot derive the card master key");
	if (rc == DESFIRE_OK && memcmp(picc, new_picc, sizeof(picc)) != 0) {
		/* Last: the card master key away from the factory default (or
		 * from the old card key's). */
		rc = desfire_select(d, badgecard_picc_aid);
		if (rc == DESFIRE_OK)
			rc = desfire_authenticate(d, 0, picc, picc);
		if (rc == DESFIRE_OK)
			rc = desfire_change_key(d, 0x80, new_picc, NULL, 1);
	}
	if (rc == DESFIRE_OK)
		rc = badgecard_read(d, card_key, ac_uid, ac_uid_len, check);
	if (rc == DESFIRE_OK && memcmp(check, number, BADGECARD_NUMBER_LEN) != 0)
		rc = badgecard_internal(d, "the card number read back differs from the one written");
	explicit_bzero(uid, sizeof(uid));
	explicit_bzero(picc, sizeof(picc));
	explicit_bzero(new_picc, sizeof(new_picc));
	explicit_bzero(check, sizeof(check));
	desfire_clear(d);
	return rc;
}
