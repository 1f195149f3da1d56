/*
 * admission — which connections the controller keeps while it is flooded by
 * connections that do not authenticate.
 *
 * A connection is "pending" from accept until its reader is welcomed (TLS
 * handshake, HELLO, the database's answer).  Pending connections are capped
 * globally and per source address, so that the descriptors beyond the cap
 * stay free for authenticated readers.  When a new connection would exceed a
 * cap, a pending connection that has not yet completed its TLS handshake
 * makes room: one that never sent a byte first, else the one quiet longest
 * (least recently active).  A reader in the middle of its handshake keeps
 * talking and is not the one chosen; an idle or stalled socket is.  A connection past its TLS handshake
 * (its certificate verified) is never evicted, and a welcomed reader is not
 * pending at all: nothing here ever drops an authenticated reader.  The TLS
 * handshake deadline shortens as the pending count grows.
 *
 * The module keeps an intrusive list of entries embedded in the caller's
 * connection objects; it does no I/O and closes nothing itself.
 */
#ifndef SAC_CONTROLLER_ADMISSION_H
#define SAC_CONTROLLER_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADMISSION_SOURCE_LEN 16 /* an IPv6 address, or an IPv4-mapped one */
#define ADMISSION_HANDSHAKE_MS 10000
#define ADMISSION_HANDSHAKE_MIN_MS 1000

struct admission_entry {
	struct admission_entry *prev, *next; /* least recently active first */
	uint8_t source[ADMISSION_SOURCE_LEN];
	bool evictable; /* still in its TLS handshake */
	bool heard;	/* it sent something */
	bool listed;
};

struct admission {
	struct admission_entry *head, *tail;
	size_t pending;
	size_t pending_max;    /* global cap on pending connections */
	size_t per_source_max; /* cap on pending connections from one address */
	uint64_t evicted, refused;
};

enum admission_verdict {
	ADMISSION_ADMIT,       /* take it */
	ADMISSION_EVICT_FIRST, /* take it once *evict is closed (and removed) */
	ADMISSION_REFUSE,      /* over a cap and nothing may be evicted: close it */
};

/* Sets the caps for a process allowed nofile descriptors: a quarter of
 * them (at least 16, at most 4096) for pending connections, a quarter of
 * that (at least 8) per source address. */
void admission_init(struct admission *a, size_t nofile);

/* What to do with a new connection from source.  *evict is set for
 * ADMISSION_EVICT_FIRST. */
enum admission_verdict admission_decide(struct admission *a, const uint8_t source[ADMISSION_SOURCE_LEN],
					struct admission_entry **evict);

/* The entry to evict from any source, or NULL: what makes room when the
 * process ran out of descriptors. */
struct admission_entry *admission_oldest(const struct admission *a);

/* A new pending connection from source (the most recently active). */
void admission_add(struct admission *a, struct admission_entry *e,
		   const uint8_t source[ADMISSION_SOURCE_LEN]);

/* The connection made progress (bytes of its handshake arrived). */
void admission_touch(struct admission *a, struct admission_entry *e);

/* Its TLS handshake completed: still pending, never evicted. */
void admission_verified(struct admission *a, struct admission_entry *e);

/* Welcomed or closed: no longer pending.  Accepts an entry not listed. */
void admission_remove(struct admission *a, struct admission_entry *e);

/* The TLS handshake deadline for the current pressure: 10 s up to a
 * quarter of the cap, falling to 1 s at half of it and beyond. */
int64_t admission_handshake_ms(const struct admission *a);

#endif
