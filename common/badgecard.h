/*
 * badgecard — the sac application on a MIFARE DESFire EV2/EV3 badge: where
 * it lives (a fixed AID), its three AES keys and their derivation from the
 * station's card key (NXP AN10922, input UID || AID || purpose), the
 * credential file (a random 16-byte card number, full encryption), how a
 * reader reads it and how sacctl personalises a card.
 *
 *   key 0  application master   UID || AID || "sac/app-master"  (changes keys, writes)
 *   key 1  read                 UID || AID || "sac/read"        (reads the number)
 *   key 2  UID                  AID || "sac/card-uid-key"       (GetCardUID of random-ID cards)
 *   card master (AID 000000)    UID || 000000 || "sac/picc"
 *
 * An EV1 card (one that answers "illegal command" to AuthenticateEV2First)
 * gets the same keys with "sac/ev1/" instead of "sac/": the card's
 * family is bound into its keys, so an EV2 card made to look like an EV1
 * card (a forced downgrade) cannot authenticate over EV1 at all.
 *
 * The UID in these inputs is the card's real UID (GetCardUID), never a
 * random anticollision one.  Nothing here logs or returns the UID; the card
 * number goes only to the caller.
 */
#ifndef SAC_BADGECARD_H
#define SAC_BADGECARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "desfire.h"

#define BADGECARD_KEY_LEN 16
#define BADGECARD_NUMBER_LEN 16
#define BADGECARD_FILE 0x01

extern const uint8_t badgecard_aid[DESFIRE_AID_LEN];

enum badgecard_key {
	BADGECARD_KEY_APP_MASTER = 0,
	BADGECARD_KEY_READ = 1,
	BADGECARD_KEY_UID = 2,
	BADGECARD_KEY_PICC = 3,
};

/* Loads a card key file: 32 hex digits, mode 0600 (credential_key_load's
 * rules).  Returns 0, or -1 with the problem in err. */
int badgecard_key_load(const char *path, uint8_t key[BADGECARD_KEY_LEN], char *err, size_t err_size)
	__attribute__((warn_unused_result));

/* The key `which` of the card with real UID uid, of the EV1 family or the
 * EV2 one.  Returns 0 or -1. */
int badgecard_derive(const uint8_t card_key[BADGECARD_KEY_LEN], enum badgecard_key which, bool ev1,
		     const uint8_t *uid, size_t uid_len, uint8_t out[BADGECARD_KEY_LEN])
	__attribute__((warn_unused_result));

/* True when an anticollision UID is a random one (4 bytes starting 08). */
bool badgecard_uid_is_random(const uint8_t *uid, size_t uid_len);

/* Reads the card number of the card in the field, whose anticollision UID
 * is ac_uid: select the application, authenticate with the diversified read
 * key (first with the UID key and GetCardUID when the UID is random), read
 * the file in full encryption.  Returns a desfire_result; d->why says what
 * failed. */
int badgecard_read(struct desfire *d, const uint8_t card_key[BADGECARD_KEY_LEN], const uint8_t *ac_uid,
		   size_t ac_uid_len, uint8_t number[BADGECARD_NUMBER_LEN])
	__attribute__((warn_unused_result));

/* Personalises the card in the field with a new random card number (into
 * number): a factory card (card master key AES zeros, or DES zeros — which
 * is first changed to AES zeros with AuthenticateISO and ChangeKey — on an
 * EV2/EV3 card or, through the EV1 fallback, an EV1 card) gets the application,
 * its keys, the file, and a diversified card master key; a card this
 * system issued before (under old_card_key, or card_key when that is NULL)
 * has its application deleted and made again under card_key, and its
 * previous number goes to old_number with *had_old set.  Verifies by reading
 * the number back.  Returns a desfire_result; d->why says what failed. */
int badgecard_issue(struct desfire *d, const uint8_t card_key[BADGECARD_KEY_LEN],
		    const uint8_t *old_card_key, const uint8_t *ac_uid, size_t ac_uid_len,
		    uint8_t number[BADGECARD_NUMBER_LEN], uint8_t old_number[BADGECARD_NUMBER_LEN],
		    bool *had_old) __attribute__((warn_unused_result));

#endif
