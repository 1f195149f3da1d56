/*
 * card_nfc — see card_nfc.h.
 */
#include "card_nfc.h"

#include <nfc/nfc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "desfire.h"

#define CARD_NFC_APDU_TIMEOUT_MS 500
#define CARD_NFC_POLL_MS 100

static int card_nfc_xfer(void *io, const uint8_t *tx, size_t tx_len, uint8_t *rx, size_t rx_size,
			 size_t *rx_len)
{
	int n = nfc_initiator_transceive_bytes(io, tx, tx_len, rx, rx_size, CARD_NFC_APDU_TIMEOUT_MS);

	if (n < 0)
		return -1;
	*rx_len = (size_t)n;
	return 0;
}

static void card_nfc_sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

int card_nfc_issue(const char *connstring, const uint8_t card_key[BADGECARD_KEY_LEN],
		   const uint8_t *old_card_key, uint8_t number[BADGECARD_NUMBER_LEN],
		   uint8_t old_number[BADGECARD_NUMBER_LEN], bool *had_old, char *err, size_t err_size)
{
	const nfc_modulation mod = {.nmt = NMT_ISO14443A, .nbr = NBR_106};
	nfc_context *ctx = NULL;
	nfc_device *dev = NULL;
	nfc_target target;
	struct desfire d;
	int rc = CARD_NFC_DEVICE, sel = 0, waited;

	memset(&target, 0, sizeof(target));
	desfire_init(&d, card_nfc_xfer, NULL);
	*had_old = false;
	if (setenv("LIBNFC_LOG_LEVEL", "1", 1) != 0 || strlen(connstring) >= NFC_BUFSIZE_CONNSTRING) {
		snprintf(err, err_size, "cannot set up libnfc for %s", connstring);
		goto out;
	}
	nfc_init(&ctx);
	if (ctx == NULL) {
		snprintf(err, err_size, "cannot initialise libnfc");
		goto out;
	}
	dev = nfc_open(ctx, connstring);
	if (dev == NULL) {
		snprintf(err, err_size, "%s: cannot open the NFC reader", connstring);
		goto out;
	}
	if (nfc_initiator_init(dev) < 0 ||
	    nfc_device_set_property_bool(dev, NP_INFINITE_SELECT, false) < 0) {
		snprintf(err, err_size, "%s: %s", connstring, nfc_strerror(dev));
		goto out;
	}
	for (waited = 0; waited < CARD_NFC_WAIT_MS; waited += CARD_NFC_POLL_MS) {
		sel = nfc_initiator_select_passive_target(dev, mod, NULL, 0, &target);
		if (sel > 0 || (sel < 0 && sel != NFC_ETIMEOUT))
			break;
		card_nfc_sleep_ms(CARD_NFC_POLL_MS);
	}
	if (sel <= 0) {
		snprintf(err, err_size, "%s: %s", connstring,
			 sel == 0 || sel == NFC_ETIMEOUT ? "no card in the field" : nfc_strerror(dev));
		goto out;
	}
	rc = CARD_NFC_CARD;
	if ((target.nti.nai.btSak & 0x20) == 0) {
		snprintf(err, err_size, "the card is not an ISO 14443-4 card, so not a DESFire card");
		goto out;
	}
	d.io = dev;
	if (badgecard_issue(&d, card_key, old_card_key, target.nti.nai.abtUid, target.nti.nai.szUidLen,
			    number, old_number, had_old) != DESFIRE_OK) {
		snprintf(err, err_size, "%s", d.why);
		goto out;
	}
	rc = CARD_NFC_OK;
out:
	desfire_clear(&d);
	explicit_bzero(&target, sizeof(target));
	if (dev != NULL) {
		(void)nfc_initiator_deselect_target(dev);
		nfc_close(dev);
	}
	if (ctx != NULL)
		nfc_exit(ctx);
	return rc;
}
