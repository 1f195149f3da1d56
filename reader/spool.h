/*
 * spool — the reader's durable queue of events not yet acknowledged by a
 * controller.  An event is appended and fdatasync'd before it may be sent;
 * an acknowledged (or expired) event is settled: its record is overwritten
 * in place with id, time and credential erased, and settled records are
 * dropped from the file by compaction in place: pending records move to the
 * front, the rest is overwritten with zeros and synced before the file is
 * shortened, so no freed block of the file system keeps a record.
 *
 * It never holds a badge UID: only event id, time and credential.  It does
 * no networking and no logging of credentials.
 *
 * Record (SPOOL_RECORD_LEN bytes, little-endian):
 *   0  'S' 'P'          magic
 *   2  1                version
 *   3  'P' | 'S'        pending | settled
 *   4  u16 = 56         body length
 *   6  id[16] unix_ms[8] credential[32]   (all zero when settled)
 *  62  CRC-32 (IEEE) of bytes 0..61
 * A record whose magic, version, state, length or CRC is wrong is skipped:
 * the reader resynchronises on the next magic, so one torn or corrupt record
 * never hides the records after it.
 */
#ifndef SAC_SPOOL_H
#define SAC_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPOOL_ID_LEN 16
#define SPOOL_CREDENTIAL_LEN 32
#define SPOOL_RECORD_LEN 66
/* A full day of taps at a busy gate is far below this; beyond it appends
 * are refused rather than letting the file grow without bound. */
#define SPOOL_MAX_RECORDS 500000

struct spool_event {
	uint8_t id[SPOOL_ID_LEN];
	int64_t unix_ms; /* when the card was presented, reader clock */
	uint8_t credential[SPOOL_CREDENTIAL_LEN];
};

struct spool_entry {
	struct spool_event event;
	uint64_t offset;  /* of its record in the file */
	bool settled;	  /* acknowledged or expired; credential erased */
	uint64_t sent_on; /* connection number it was last sent on (owned by the caller), 0 never */
};

struct spool_stats {
	size_t loaded;	       /* pending records found at open */
	size_t corrupt;	       /* corrupt or torn records skipped at open */
	size_t settled_loaded; /* settled records found at open */
};

struct spool;

/* Opens path, creating it with mode 0600 (and tightening a wider mode),
 * and loads its records.  Corrupt records are skipped and logged, and the
 * file is then compacted.  Returns 0 and *out, or -1 (logged). */
int spool_open(const char *path, struct spool **out, struct spool_stats *stats)
	__attribute__((warn_unused_result));

/* Closes the file and wipes the in-memory credentials.  Accepts NULL. */
void spool_close(struct spool *sp);

/* Appends ev and waits until it is on disk (fdatasync).  Returns 0, or -1
 * (logged) when it is not durable: the caller must not send it. */
int spool_append(struct spool *sp, const struct spool_event *ev) __attribute__((warn_unused_result));

/* Settles the pending event with this id: erases its credential in memory
 * and in the file, and sets *sent_on (may be NULL) to its sent_on.  Returns 1
 * when it was pending, 0 when there is no such pending event (a repeated
 * ACK), -1 on a write error (logged; the event is settled in memory anyway).
 * Fast when events are settled roughly in the order they were appended. */
int spool_settle(struct spool *sp, const uint8_t id[SPOOL_ID_LEN], uint64_t *sent_on);

/* Settles every pending event older than max_age_ms at now_ms (the 24-hour
 * rule: an event that old is never sent).  Returns how many. */
size_t spool_expire(struct spool *sp, int64_t now_ms, int64_t max_age_ms);

/* Every record in file order; pending ones have settled == false.  The
 * pointer is valid until the next spool_append or spool_compact.  Entries
 * before spool_first_pending are all settled. */
struct spool_entry *spool_entries(struct spool *sp, size_t *count);

size_t spool_pending_count(const struct spool *sp);

/* Where a sender is in the spool.  A cursor outlives compaction (which
 * moves the entries): it then starts over at the first pending event. */
struct spool_cursor {
	size_t index;
	uint64_t generation;
};

/* Moves the cursor back to the first pending event. */
void spool_cursor_rewind(struct spool_cursor *cur);

/* The next pending event at or after the cursor not yet sent on connection
 * conn_no (a nonzero number the sender counts): moves the cursor to it and
 * copies it to *ev (the caller wipes *ev: it holds the credential).
 * Returns false when there is none. */
bool spool_next_unsent(struct spool *sp, struct spool_cursor *cur, uint64_t conn_no,
		       struct spool_event *ev);

/* The event spool_next_unsent returned went out on conn_no: recorded (for
 * spool_settle's *sent_on), and the cursor moves past it. */
void spool_sent(struct spool *sp, struct spool_cursor *cur, uint64_t conn_no);
size_t spool_first_pending(const struct spool *sp);

/* True when compaction is worth it: there are settled records and they are
 * at least as many as the pending ones. */
bool spool_wants_compaction(const struct spool *sp);

/* Keeps only the pending records: moves them to the front of the file,
 * overwrites everything behind them with zeros, syncs, then truncates.
 * Returns 0, or -1 (logged; every pending record is still in the file). */
int spool_compact(struct spool *sp) __attribute__((warn_unused_result));

/* CRC-32 (IEEE 802.3, as zlib) of len bytes. */
uint32_t spool_crc32(const uint8_t *data, size_t len);

/* Writes ev as one record of SPOOL_RECORD_LEN bytes into rec (settled: with
 * the credential erased and the settled flag set). */
void spool_record_encode(const struct spool_event *ev, bool settled, uint8_t *rec);

/* Parses one record of SPOOL_RECORD_LEN bytes.  Returns 0 and fills *ev and
 * *settled, or -1 when it is not an intact record. */
int spool_record_decode(const uint8_t *rec, struct spool_event *ev, bool *settled)
	__attribute__((warn_unused_result));

#endif
