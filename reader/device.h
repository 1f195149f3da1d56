/*
 * device — the NFC reader hardware behind a small table of functions, so that
 * the poll loop (watch) can be tested with a fake.  device_libnfc.c is the
 * real one: libnfc, ISO 14443-A at 106 kbps.
 *
 * A UID given out by poll is the caller's to wipe after use.
 */
#ifndef SAC_DEVICE_H
#define SAC_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#define DEVICE_UID_MAX 10

enum device_poll {
	DEVICE_NO_CARD = 0, /* nothing in the field (or it did not answer in time) */
	DEVICE_CARD = 1,    /* a card answered: uid[0..uid_len) */
	DEVICE_FAILED = -1, /* the device failed: close it and open it again later */
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
 * (NULL on failure); pass the result as ctx to open. */
extern const struct device_ops device_libnfc_ops;
void *device_libnfc_context_new(void);
void device_libnfc_context_free(void *ctx); /* accepts NULL */

#endif
