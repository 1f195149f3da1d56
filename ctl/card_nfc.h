/*
 * card_nfc — sacctl's one-shot use of an NFC reader for `badge issue`: open
 * the libnfc device, wait for one ISO 14443-4 card, personalise it
 * (badgecard_issue), close.  libnfc's logging is capped at errors, since its
 * debug output would carry the UID.  Neither the UID nor the card number is
 * printed; the number goes to the caller only.
 */
#ifndef SAC_CTL_CARD_NFC_H
#define SAC_CTL_CARD_NFC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "badgecard.h"

#define CARD_NFC_WAIT_MS 10000 /* how long to wait for a card in the field */

enum card_nfc_result {
	CARD_NFC_OK = 0,
	CARD_NFC_DEVICE = -1, /* the reader cannot be opened or failed, or no card came */
	CARD_NFC_CARD = -2,   /* the card refused, failed or is not a DESFire card */
};

/* Personalises the card presented on connstring; see badgecard_issue.
 * On failure err says what failed. */
int card_nfc_issue(const char *connstring, const uint8_t card_key[BADGECARD_KEY_LEN],
		   const uint8_t *old_card_key, uint8_t number[BADGECARD_NUMBER_LEN],
		   uint8_t old_number[BADGECARD_NUMBER_LEN], bool *had_old, char *err, size_t err_size)
	__attribute__((warn_unused_result));

#endif
