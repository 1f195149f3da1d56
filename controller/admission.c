/*
 * admission — see admission.h.  The list is short (at most the global cap)
 * and is walked on each decision: counting one source's entries needs no
 * second index.
 */
#include "admission.h"

#include <string.h>

void admission_init(struct admission *a, size_t nofile)
{
	size_t cap = nofile / 4;

	memset(a, 0, sizeof(*a));
	if (cap < 16)
		cap = 16;
	if (cap > 4096)
		cap = 4096;
	a->pending_max = cap;
	a->per_source_max = cap / 4 < 8 ? 8 : cap / 4;
}

static void admission_unlink(struct admission *a, struct admission_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		a->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		a->tail = e->prev;
	e->prev = e->next = NULL;
}

static void admission_append(struct admission *a, struct admission_entry *e)
{
	e->prev = a->tail;
	e->next = NULL;
	if (a->tail != NULL)
		a->tail->next = e;
	else
		a->head = e;
	a->tail = e;
}

/* Whether e is a better choice for eviction than best (NULL: none yet). */
static bool admission_prefer(const struct admission_entry *e, const struct admission_entry *best)
{
	if (!e->evictable)
		return false;
	/* The list is in LRU order: the first of each kind is its oldest. */
	return best == NULL || (best->heard && !e->heard);
}

struct admission_entry *admission_oldest(const struct admission *a)
{
	struct admission_entry *e, *best = NULL;

	for (e = a->head; e != NULL; e = e->next) {
		if (admission_prefer(e, best))
			best = e;
		if (best != NULL && !best->heard)
			break;
	}
	return best;
}

enum admission_verdict admission_decide(struct admission *a, const uint8_t source[ADMISSION_SOURCE_LEN],
					struct admission_entry **evict)
{
	struct admission_entry *e, *oldest_here = NULL;
	size_t here = 0;

	*evict = NULL;
	for (e = a->head; e != NULL; e = e->next) {
		if (memcmp(e->source, source, ADMISSION_SOURCE_LEN) != 0)
			continue;
		here++;
		if (admission_prefer(e, oldest_here))
			oldest_here = e;
	}
	if (here >= a->per_source_max)
		*evict = oldest_here;
	else if (a->pending >= a->pending_max)
		*evict = admission_oldest(a);
	else
		return ADMISSION_ADMIT;
	if (*evict == NULL) {
		a->refused++;
		return ADMISSION_REFUSE;
	}
	a->evicted++;
	return ADMISSION_EVICT_FIRST;
}

void admission_add(struct admission *a, struct admission_entry *e,
		   const uint8_t source[ADMISSION_SOURCE_LEN])
{
	memcpy(e->source, source, ADMISSION_SOURCE_LEN);
	e->evictable = true;
	e->heard = false;
	e->listed = true;
	admission_append(a, e);
	a->pending++;
}

void admission_touch(struct admission *a, struct admission_entry *e)
{
	e->heard = true;
	if (!e->listed || a->tail == e)
		return;
	admission_unlink(a, e);
	admission_append(a, e);
}

void admission_verified(struct admission *a, struct admission_entry *e)
{
	(void)a;
	e->evictable = false;
}

void admission_remove(struct admission *a, struct admission_entry *e)
{
	if (!e->listed)
		return;
	admission_unlink(a, e);
	e->listed = false;
	e->evictable = false;
	a->pending--;
}

int64_t admission_handshake_ms(const struct admission *a)
{
	size_t quarter = a->pending_max / 4, half = a->pending_max / 2;
	int64_t span = ADMISSION_HANDSHAKE_MS - ADMISSION_HANDSHAKE_MIN_MS;

	if (a->pending <= quarter)
		return ADMISSION_HANDSHAKE_MS;
	if (a->pending >= half)
		return ADMISSION_HANDSHAKE_MIN_MS;
	return ADMISSION_HANDSHAKE_MS -
	       span * (int64_t)(a->pending - quarter) / (int64_t)(half - quarter);
}
