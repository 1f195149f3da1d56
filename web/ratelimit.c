/*
 * ratelimit — see ratelimit.h.  A fixed table of slots indexed by a keyed
 * hash (SipHash would do; a keyed FNV-1a is enough here because the table
 * only slows guessing down and a collision only makes it stricter).  Each
 * slot keeps the times of the last RATELIMIT_FAILURES failures.
 */
#include "ratelimit.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include "daemon.h"

#define RATELIMIT_SLOTS 4096

struct ratelimit_slot {
	uint64_t hash;
	int64_t failures_ms[RATELIMIT_FAILURES]; /* ring; 0 = unused */
	int next;
};

static pthread_mutex_t ratelimit_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ratelimit_slot slots[RATELIMIT_SLOTS];
static uint64_t hash_key;

int ratelimit_init(void)
{
	return getrandom(&hash_key, sizeof(hash_key), 0) == (ssize_t)sizeof(hash_key) ? 0 : -1;
}

static uint64_t ratelimit_hash(const char *kind, const char *key)
{
	uint64_t h = 1469598103934665603ULL ^ hash_key;
	const char *parts[] = {kind, "\x1f", key};
	size_t i;

	for (i = 0; i < 3; i++)
		for (const unsigned char *p = (const unsigned char *)parts[i]; *p != '\0'; p++) {
			h ^= *p;
			h *= 1099511628211ULL;
		}
	return h | 1; /* never 0: 0 marks an unused slot */
}

/* Failures of the slot within the window. */
static int ratelimit_recent(const struct ratelimit_slot *s, int64_t now)
{
	int i, n = 0;

	for (i = 0; i < RATELIMIT_FAILURES; i++)
		if (s->failures_ms[i] != 0 && now - s->failures_ms[i] < RATELIMIT_WINDOW_S * 1000)
			n++;
	return n;
}

bool ratelimit_allowed(const char *kind, const char *key)
{
	struct ratelimit_slot *s = &slots[ratelimit_hash(kind, key) % RATELIMIT_SLOTS];
	bool allowed;

	pthread_mutex_lock(&ratelimit_lock);
	/* A slot shared with another key counts that key's failures too. */
	allowed = ratelimit_recent(s, daemon_monotonic_ms()) < RATELIMIT_FAILURES;
	pthread_mutex_unlock(&ratelimit_lock);
	return allowed;
}

void ratelimit_fail(const char *kind, const char *key)
{
	uint64_t h = ratelimit_hash(kind, key);
	struct ratelimit_slot *s = &slots[h % RATELIMIT_SLOTS];
	int64_t now = daemon_monotonic_ms();

	pthread_mutex_lock(&ratelimit_lock);
	/* A slot taken by another key is reused once that key is quiet. */
	if (s->hash != h && ratelimit_recent(s, now) == 0) {
		memset(s, 0, sizeof(*s));
		s->hash = h;
	}
	s->failures_ms[s->next] = now;
	s->next = (s->next + 1) % RATELIMIT_FAILURES;
	pthread_mutex_unlock(&ratelimit_lock);
}
