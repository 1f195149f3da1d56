/*
 * ingest — the controller's database side: INGEST_WORKERS threads, each
 * owning one libpq connection, turn everything the network side queues into
 * SQL calls of sql/020_ingest.sql.
 *
 * An event goes to the worker its credential hashes to: one badge's events
 * are stored by one worker, in the order they came, while another worker's
 * batch is in flight — an event seldom waits for a commit that is not its
 * own, and the database's group commit takes both transactions' WAL in one
 * flush.  Group commit per worker: events queued while its batch is in
 * flight form its next batch, one sac.ingest call (= one transaction) of at
 * most INGEST_BATCH_MAX events.  A verdict is handed back only after the
 * call returned, i.e. after COMMIT.  When the database is unreachable or a
 * batch fails with a connection error, the events stay queued and are sent
 * again after a reconnect (with backoff; one outage for all workers, logged
 * once): the ledger's primary key makes the retry idempotent.  Reader
 * greetings and the periodic "readers seen" update go through worker 0.  A
 * further thread LISTENs on its own connection for sac_reader_disabled, so
 * that a reader disabled with sacctl is closed at once (the periodic update
 * is the fallback when a notification is missed).
 *
 * It does no network I/O towards readers and never logs a credential.
 * Results are collected by the network thread with ingest_take_results()
 * after the eventfd (ingest_wakeup_fd) became readable.
 */
#ifndef SAC_CONTROLLER_INGEST_H
#define SAC_CONTROLLER_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define INGEST_BATCH_MAX 4096
#define INGEST_WORKERS 2

/* Identifies a connection across fd reuse: the fd and a serial number. */
struct ingest_peer {
	int fd;
	uint64_t serial;
};

enum ingest_hello_answer {
	INGEST_HELLO_OK,
	INGEST_HELLO_UNKNOWN,
	INGEST_HELLO_DISABLED,
	INGEST_HELLO_UNAVAILABLE, /* the database could not be asked */
};

struct ingest_result {
	enum {
		INGEST_RESULT_ACK,	/* the event is committed: send ACK */
		INGEST_RESULT_DROPPED,	/* the batch was refused: no ACK, the reader resends */
		INGEST_RESULT_HELLO,	/* the answer to a greeting */
		INGEST_RESULT_DISABLED, /* close every connection of reader_id */
	} kind;
	struct ingest_peer peer;
	char event_id[PROTO_EVENT_ID_HEX + 1];	 /* ACK */
	enum proto_verdict verdict;		 /* ACK */
	enum ingest_hello_answer hello;		 /* HELLO */
	char reader_id[PROTO_READER_ID_MAX + 1]; /* DISABLED: close this reader */
};

struct ingest;

/* Starts the database threads for conninfo; it connects in the background.
 * controller_name is recorded as readers' last_controller.  NULL on failure
 * to start (logged). */
struct ingest *ingest_start(const char *conninfo, const char *controller_name);

/* Asks the threads to finish: every event queued so far is committed first
 * (or, while the database stays unreachable, given up after grace_ms), then
 * the threads exit and all memory is freed.  Accepts NULL. */
void ingest_stop(struct ingest *ig, int64_t grace_ms);

/* An fd that becomes readable when results are waiting. */
int ingest_wakeup_fd(const struct ingest *ig);

/* Queues one event / one greeting.  Returns 0, or -1 when out of memory. */
int ingest_queue_event(struct ingest *ig, struct ingest_peer peer, const char *reader_id,
		       const struct proto_msg *event) __attribute__((warn_unused_result));
int ingest_queue_hello(struct ingest *ig, struct ingest_peer peer, const char *reader_id)
	__attribute__((warn_unused_result));

/* Replaces the list of connected readers that the thread marks as seen every
 * few seconds; readers found disabled come back as INGEST_RESULT_DISABLED.
 * ids is copied. */
void ingest_set_connected(struct ingest *ig, const char *const *ids, size_t count);

/* Moves all waiting results into *out (malloc'd array the caller frees) and
 * returns their number; clears the eventfd. */
size_t ingest_take_results(struct ingest *ig, struct ingest_result **out);

/* Events queued or in flight, not yet answered. */
size_t ingest_backlog(struct ingest *ig);

#endif
