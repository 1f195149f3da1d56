/*
 * watch — watches the NFC device for card presentations.  One presentation
 * (a card entering the field and staying there) is one tap, however long it
 * is held; the same card again after it left is a new tap.  A device that
 * fails is closed and opened again with backoff: a device fault never ends
 * the reader.
 *
 * The UID is turned into the credential (HMAC-SHA256 with the credential
 * key) as soon as it is read and wiped; watch remembers only the credential
 * of the card in the field.  watch_step is the loop body (testable with a
 * fake device); watch_start runs it on its own thread and writes each tap as
 * a struct spool_event to a pipe.
 */
#ifndef SAC_WATCH_H
#define SAC_WATCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "backoff.h"
#include "credential.h"
#include "device.h"

#define WATCH_POLL_MS 40	 /* between polls */
#define WATCH_REMOVE_MISSES 2	 /* empty polls in a row before a card counts as gone */
#define WATCH_BACKOFF_MIN_MS 200 /* first retry after a device fault */
#define WATCH_BACKOFF_MAX_MS 5000

struct watch {
	const struct device_ops *ops;
	void *ctx;
	char *connstring;
	uint8_t key[CREDENTIAL_KEY_LEN];

	void *handle;	      /* open device, or NULL */
	int64_t next_open_ms; /* when to try opening again */
	struct backoff backoff;
	unsigned failures; /* in a row */
	bool card_in_field;
	uint8_t card_credential[CREDENTIAL_LEN];
	int misses;

	/* the thread */
	pthread_t thread;
	bool running;
	atomic_bool stop;
	int wake[2];  /* pipe: a byte wakes the thread to stop */
	int event_fd; /* taps go here */
};

enum watch_result {
	WATCH_NOTHING,
	WATCH_TAP, /* a new presentation: its credential was written */
};

/* Sets up w (no device opened yet).  connstring is copied.  Returns 0 or -1. */
int watch_init(struct watch *w, const struct device_ops *ops, void *ctx, const char *connstring,
	       const uint8_t key[CREDENTIAL_KEY_LEN]) __attribute__((warn_unused_result));

/* Closes the device and wipes keys and credentials.  w must have been set
 * up by watch_init (successful or not) and its thread stopped. */
void watch_destroy(struct watch *w);

/* One step at monotonic time now_ms: opens the device when due, polls it
 * once.  On WATCH_TAP credential holds the new presentation's credential.
 * *delay_ms says when to call again. */
enum watch_result watch_step(struct watch *w, int64_t now_ms, uint8_t credential[CREDENTIAL_LEN],
			     int64_t *delay_ms);

/* Runs watch_step on a new thread (signals blocked there) and writes one
 * struct spool_event per tap to event_fd, with a random id and the wall
 * clock time of the tap.  Returns 0 or -1. */
int watch_start(struct watch *w, int event_fd) __attribute__((warn_unused_result));

/* Asks the thread to stop and waits up to timeout_ms for it.  Returns 0 when
 * it stopped, -1 when it is still inside a device call (the caller may exit
 * anyway; w must not be destroyed then). */
int watch_stop(struct watch *w, int timeout_ms);

/* True when watch_stop gave up on the thread (still inside a device call):
 * its memory must then be left alone. */
bool watch_abandoned(const struct watch *w);

#endif
