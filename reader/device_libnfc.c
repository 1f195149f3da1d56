/*
 * device_libnfc — the device interface (device.h) on libnfc.
 *
 * libnfc's own logging is capped at errors: its debug output would carry
 * UIDs.  A serial port is flock'ed while open, so that two readers
 * configured with the same port (which would corrupt each other's frames)
 * cannot both use it.  Each poll switches the RF field off and on before selecting, so that a
 * card left in the field (activated by the previous poll, and therefore deaf
 * to the next REQA) is reset and answers again: a card that stays is seen on
 * every poll, a card that left is not.  Infinite select is off, so a poll
 * without a card returns at once instead of waiting for one.
 *
 * In DESFire mode a selected card must speak ISO 14443-4 and prove the sac
 * keys (badgecard_read; EV2 secure messaging, or EV1 for a card that answers
 * "illegal command" to AuthenticateEV2First, with keys bound to that
 * family): its identity is then the card number, read under full encryption.  Its APDUs go through InDataExchange, each bounded by
 * DEVICE_APDU_TIMEOUT_MS, so a card pulled away mid-exchange ends the poll
 * instead of hanging it.
 */
#include "device.h"

#include "badgecard.h"
#include "desfire.h"

#include <errno.h>
#include <fcntl.h>
#include <nfc/nfc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define DEVICE_UART_PREFIX "pn532_uart:"
#define DEVICE_APDU_TIMEOUT_MS 300

struct device_libnfc_context {
	nfc_context *nfc;
	struct device_card card;
};

/* An open device, and the lock that keeps a second reader off its port. */
struct device_libnfc {
	nfc_device *dev;
	int lock_fd;
	struct device_card card;
};

void *device_libnfc_context_new(const struct device_card *card)
{
	struct device_libnfc_context *ctx;

	/* libnfc's info and debug levels print every frame in hex, UIDs
	 * included; errors only.  The variable overrides libnfc.conf. */
	if (setenv("LIBNFC_LOG_LEVEL", "1", 1) != 0)
		return NULL;
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return NULL;
	nfc_init(&ctx->nfc);
	if (ctx->nfc == NULL) {
		free(ctx);
		return NULL;
	}
	ctx->card = *card;
	return ctx;
}

void device_libnfc_set_card(void *ctx, const struct device_card *card)
{
	struct device_libnfc_context *c = ctx;

	explicit_bzero(&c->card, sizeof(c->card));
	c->card = *card;
}

void device_libnfc_context_free(void *ctx)
{
	struct device_libnfc_context *c = ctx;

	if (c == NULL)
		return;
	nfc_exit(c->nfc);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

static void device_libnfc_close(void *handle)
{
	struct device_libnfc *d = handle;

	if (d == NULL)
		return;
	if (d->dev != NULL)
		nfc_close(d->dev);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	explicit_bzero(&d->card, sizeof(d->card));
	free(d);
}

/* Locks the serial port of a "pn532_uart:PATH[:SPEED]" connstring.  Returns
 * 0 (also for other drivers, which have no port to lock), or -1 with err. */
static int device_libnfc_lock(struct device_libnfc *d, const char *connstring, char *err,
			      size_t err_size)
{
	char path[NFC_BUFSIZE_CONNSTRING];
	const char *p;
	size_t len;

	if (strncmp(connstring, DEVICE_UART_PREFIX, strlen(DEVICE_UART_PREFIX)) != 0)
		return 0;
	p = connstring + strlen(DEVICE_UART_PREFIX);
	len = strcspn(p, ":");
	if (len == 0 || len >= sizeof(path))
		return 0;
	memcpy(path, p, len);
	path[len] = '\0';
	d->lock_fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (d->lock_fd < 0) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, err_size, "%s is in use by another reader", path);
		return -1;
	}
	return 0;
}

static bool device_libnfc_supports_iso14443a(nfc_device *dev)
{
	const nfc_modulation_type *types = NULL;
	const nfc_baud_rate *rates = NULL;
	size_t i;

	if (nfc_device_get_supported_modulation(dev, N_INITIATOR, &types) < 0 || types == NULL)
		return false;
	for (i = 0; types[i] != 0; i++)
		if (types[i] == NMT_ISO14443A)
			break;
	if (types[i] != NMT_ISO14443A)
		return false;
	if (nfc_device_get_supported_baud_rate(dev, NMT_ISO14443A, &rates) < 0 || rates == NULL)
		return false;
	for (i = 0; rates[i] != 0; i++)
		if (rates[i] == NBR_106)
			return true;
	return false;
}

static void *device_libnfc_open(void *context, const char *connstring, char *err, size_t err_size)
{
	struct device_libnfc_context *ctx = context;
	struct device_libnfc *d;

	if (ctx == NULL || strlen(connstring) >= NFC_BUFSIZE_CONNSTRING) {
		snprintf(err, err_size, "libnfc is not initialised or the connstring is too long");
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	d->lock_fd = -1;
	d->card = ctx->card;
	if (device_libnfc_lock(d, connstring, err, err_size) != 0)
		goto fail;
	d->dev = nfc_open(ctx->nfc, connstring);
	if (d->dev == NULL) {
		snprintf(err, err_size, "nfc_open failed (no answer from the chip)");
		goto fail;
	}
	if (nfc_initiator_init(d->dev) < 0 ||
	    nfc_device_set_property_bool(d->dev, NP_INFINITE_SELECT, false) < 0) {
		snprintf(err, err_size, "initiator setup: %s", nfc_strerror(d->dev));
		goto fail;
	}
	/* A garbled answer while opening can leave libnfc without a chip type, and
	 * then its select asserts on the missing modulation list and aborts the
	 * process.  Treat that as a failed open: the caller retries. */
	if (!device_libnfc_supports_iso14443a(d->dev)) {
		snprintf(err, err_size, "the chip did not identify itself as an ISO 14443-A reader");
		goto fail;
	}
	return d;
fail:
	device_libnfc_close(d);
	return NULL;
}

/* desfire_xfer_fn over InDataExchange. */
static int device_libnfc_xfer(void *io, const uint8_t *tx, size_t tx_len, uint8_t *rx, size_t rx_size,
			      size_t *rx_len)
{
	int n = nfc_initiator_transceive_bytes(io, tx, tx_len, rx, rx_size, DEVICE_APDU_TIMEOUT_MS);

	if (n < 0)
		return -1;
	*rx_len = (size_t)n;
	return 0;
}

/* DESFire mode: the card number of the selected target, or why not. */
static enum device_poll device_libnfc_desfire(struct device_libnfc *d, const nfc_target *target,
					      uint8_t number[DEVICE_UID_MAX], size_t *len, char *err,
					      size_t err_size)
{
	struct desfire df;
	int rc;

	if ((target->nti.nai.btSak & 0x20) == 0) {
		snprintf(err, err_size, "not an ISO 14443-4 card (SAK %02x), so not a DESFire badge",
			 target->nti.nai.btSak);
		return DEVICE_REFUSED;
	}
	desfire_init(&df, device_libnfc_xfer, d->dev);
	rc = badgecard_read(&df, d->card.key, target->nti.nai.abtUid, target->nti.nai.szUidLen, number);
	if (rc != DESFIRE_OK) {
		snprintf(err, err_size, "%s", df.why);
		desfire_clear(&df);
		return DEVICE_REFUSED;
	}
	desfire_clear(&df);
	*len = BADGECARD_NUMBER_LEN;
	return DEVICE_CARD;
}

static enum device_poll device_libnfc_poll(void *handle, uint8_t uid[DEVICE_UID_MAX], size_t *uid_len,
					   char *err, size_t err_size)
{
	const nfc_modulation mod = {.nmt = NMT_ISO14443A, .nbr = NBR_106};
	struct device_libnfc *d = handle;
	nfc_device *dev = d->dev;
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
	if (d->card.mode == DEVICE_CARD_DESFIRE) {
		result = device_libnfc_desfire(d, &target, uid, uid_len, err, err_size);
	} else {
		memcpy(uid, target.nti.nai.abtUid, target.nti.nai.szUidLen);
		*uid_len = target.nti.nai.szUidLen;
		result = DEVICE_CARD;
	}
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
