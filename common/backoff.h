/*
 * backoff — the one retry schedule of sac's daemons: after each failure in
 * a row wait twice as long as after the previous one, from min_ms up to
 * max_ms; a success starts over.  Used by the reader (controller
 * connections, the NFC device) and the controller (the database).  Holds
 * no time itself: callers add the delay to their own clock.
 */
#ifndef SAC_COMMON_BACKOFF_H
#define SAC_COMMON_BACKOFF_H

#include <stdint.h>

struct backoff {
	int64_t min_ms, max_ms;
	int64_t next_ms; /* the delay the next failure gets */
};

void backoff_init(struct backoff *b, int64_t min_ms, int64_t max_ms);

/* A failure: returns the delay to wait now and doubles the next one. */
int64_t backoff_failed(struct backoff *b);

/* A success: the next failure waits min_ms again. */
void backoff_reset(struct backoff *b);

#endif
