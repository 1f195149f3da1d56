/*
 * ratelimit — counts failed sign-ins per key (a source address, a role name)
 * in a sliding window, so that password guessing is slow whichever role or
 * source it targets.  Keys live only in memory, hashed with a per-process
 * random key; nothing is logged.
 */
#ifndef SAC_WEB_RATELIMIT_H
#define SAC_WEB_RATELIMIT_H

#include <stdbool.h>

/* Failures allowed per key within RATELIMIT_WINDOW_S seconds. */
#define RATELIMIT_FAILURES 5
#define RATELIMIT_WINDOW_S 60

/* Prepares the hash key.  Returns 0 or -1. */
int ratelimit_init(void) __attribute__((warn_unused_result));

/* True when key may try again (fewer than RATELIMIT_FAILURES recent failures). */
bool ratelimit_allowed(const char *kind, const char *key);

/* Records one failure for key. */
void ratelimit_fail(const char *kind, const char *key);

#endif
