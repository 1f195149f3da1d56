/*
 * backoff — see backoff.h.
 */
#include "backoff.h"

void backoff_init(struct backoff *b, int64_t min_ms, int64_t max_ms)
{
	b->min_ms = min_ms;
	b->max_ms = max_ms > min_ms ? max_ms : min_ms;
	b->next_ms = min_ms;
}

int64_t backoff_failed(struct backoff *b)
{
	int64_t now = b->next_ms;

	b->next_ms = b->next_ms > b->max_ms / 2 ? b->max_ms : b->next_ms * 2;
	return now;
}

void backoff_reset(struct backoff *b)
{
	b->next_ms = b->min_ms;
}
