/*
 * device_libnfc — the device interface (device.h) on libnfc.
 *
 * libnfc's own logging is capped at errors: its debug output would carry
 * UIDs.  Each poll switches the RF field off and on before selecting, so that a
 * card left in the field (activated by the previous poll, and therefore deaf
 * to the next REQA) is reset and answers again: a card that stays is seen on
 * every poll, a card that left is not.  Infinite select is off, so a poll
 * without a card returns at once instead of waiting for one.
 */
#include "device.h"

#include <nfc/nfc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *device_libnfc_context_new(void)
{
	nfc_context *ctx = NULL;

	/* libnfc's info and debug levels print every frame in hex, UIDs
	 * included; errors only.  The variable overrides libnfc.conf. */
	if (setenv("LIBNFC_LOG_LEVEL", "1", 1) != 0)
		return NULL;
	nfc_init(&ctx);
	return ctx;
}

void device_libnfc_context_free(void *ctx)
{
	if (ctx != NULL)
		nfc_exit(ctx);
}

static void device_libnfc_close(void *handle)
{
	if (handle != NULL)
		nfc_close(handle);
}

static void *device_libnfc_open(void *ctx, const char *connstring, char *err, size_t err_size)
{
	nfc_device *dev;

	if (ctx == NULL || strlen(connstring) >= NFC_BUFSIZE_CONNSTRING) {
		snprintf(err, err_size, "libnfc is not initialised or the connstring is too long");
		return NULL;
	}
	dev = nfc_open(ctx, connstring);
	if (dev == NULL) {
		snprintf(err, err_size, "nfc_open failed (no answer from the chip)");
		return NULL;
	}
	if (nfc_initiator_init(dev) < 0 ||
	    nfc_device_set_property_bool(dev, NP_INFINITE_SELECT, false) < 0) {
		snprintf(err, err_size, "initiator setup: %s", nfc_strerror(dev));
		nfc_close(dev);
		return NULL;
	}
	return dev;
}

static enum device_poll device_libnfc_poll(void *handle, uint8_t uid[DEVICE_UID_MAX],
					   size_t *uid_len, char *err, size_t err_size)
{
	const nfc_modulation mod = {.nmt = NMT_ISO14443A, .nbr = NBR_106};
	nfc_device *dev = handle;
	nfc_target target;
	enum device_poll result = DEVICE_FAILED;
	int rc;

	*uid_len = 0;
	memset(&target, 0, sizeof(target));
	if (nfc_device_set_property_bool(dev, NP_ACTIVATE_FIELD, false) < 0 ||
	    nfc_device_set_property_bool(dev, NP_ACTIVATE_FIELD, true) < 0) {
		snprintf(err, err_size, "RF field: %s", nfc_strerror(dev));
		goto out;
	}
	rc = nfc_initiator_select_passive_target(dev, mod, NULL, 0, &target);
	if (rc == 0 || rc == NFC_ETIMEOUT) {
		/* A real chip times out when no card answers; the emulator says
		 * "no target" at once.  Both mean an empty field. */
		result = DEVICE_NO_CARD;
		goto out;
	}
	if (rc < 0) {
		snprintf(err, err_size, "select: %s", nfc_strerror(dev));
		goto out;
	}
	if (target.nm.nmt != NMT_ISO14443A || target.nti.nai.szUidLen == 0 ||
	    target.nti.nai.szUidLen > DEVICE_UID_MAX) {
		/* Not a card we can identify: treat as noise, not as a fault. */
		result = DEVICE_NO_CARD;
		goto out;
	}
	memcpy(uid, target.nti.nai.abtUid, target.nti.nai.szUidLen);
	*uid_len = target.nti.nai.szUidLen;
	result = DEVICE_CARD;
	/* Leave the card alone until the next poll; failure here is harmless
	 * since the next poll resets the field anyway. */
	(void)nfc_initiator_deselect_target(dev);
out:
	explicit_bzero(&target, sizeof(target));
	return result;
}

const struct device_ops device_libnfc_ops = {
	.open = device_libnfc_open,
	.poll = device_libnfc_poll,
	.close = device_libnfc_close,
};
