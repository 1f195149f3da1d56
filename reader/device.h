/*
 * device — the NFC reader hardware behind a small table of functions, so that
 * the poll loop (watch) can be tested with a fake.  device_libnfc.c is the
 * real one: libnfc, ISO 14443-A at 106 kbps.
 *
 * What poll gives out is the card's identity, from which the credential is
 * computed: in UID mode the anticollision UID, in DESFire mode the card
 * number read from the authenticated card (badgecard.h).  It is the
 * caller's to wipe after use.
 */
#ifndef SAC_DEVICE_H
#define SAC_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#define DEVICE_UID_MAX 16 /* a 4-, 7- or 10-byte UID, or a 16-byte card number */
#define DEVICE_CARD_KEY_LEN 16

enum device_poll {
	DEVICE_NO_CARD = 0, /* nothing in the field (or it did not answer in time) */
	DEVICE_CARD = 1,    /* a card answered: its identity in uid[0..uid_len) */
	DEVICE_REFUSED = 2, /* a card is there but failed authentication: why in err
			     * (never card data) */
	DEVICE_FAILED = -1, /* the device failed: close it and open it again later */
};

/* How cards are identified ([reader] card = uid|desfire). */
enum device_card_mode {
	DEVICE_CARD_UID,
	DEVICE_CARD_DESFIRE,
};

struct device_card {
	enum device_card_mode mode;
	uint8_t key[DEVICE_CARD_KEY_LEN]; /* DESFire: the card key (card_key) */
};

struct device_ops {
	/* Opens the device named by connstring.  Returns a handle, or NULL
	 * with the reason in err. */
	void *(*open)(void *ctx, const char *connstring, char *err, size_t err_size);
	/* One activation attempt: which card, if any, is in the field now. */
	enum device_poll (*poll)(void *handle, uint8_t uid[DEVICE_UID_MAX], size_t *uid_len, char *err,
				 size_t err_size);
	/* Closes a handle from open; accepts NULL. */
	void (*close)(void *handle);
};

/* The libnfc implementation.  device_libnfc_context_new initialises libnfc
 * (NULL on failure) with a copy of card; pass the result as ctx to open.
 * device_libnfc_set_card changes the card mode of devices opened later. */
extern const struct device_ops device_libnfc_ops;
void *device_libnfc_context_new(const struct device_card *card);
void device_libnfc_set_card(void *ctx, const struct device_card *card);
void device_libnfc_context_free(void *ctx); /* accepts NULL */

#endif
