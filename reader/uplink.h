/*
 * uplink — the reader's connection to a controller (sac/1 over mutual TLS
 * 1.3, SPEC §3): connects along the controllers list in order (failover),
 * with backoff after a full round; says HELLO; sends the spool's pending
 * events pipelined (at most UPLINK_WINDOW unacknowledged on the wire);
 * settles each event in the spool when its ACK arrives and logs the verdict;
 * PINGs when the controller has said nothing for 15 s and drops the
 * connection when the PING is not answered within 10 s.  After a
 * reconnect every event still pending is sent again (the controller stores a
 * redelivery once).
 *
 * Non-blocking: the main loop polls uplink_pollfd and calls uplink_run.
 * It never sees a badge UID.
 */
#ifndef SAC_UPLINK_H
#define SAC_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backoff.h"
#include "proto.h"
#include "spool.h"
#include "tls.h"

#define UPLINK_MAX_CONTROLLERS 8
#define UPLINK_WINDOW 64	       /* events sent and not yet acknowledged */
#define UPLINK_CONNECT_TIMEOUT_MS 5000 /* TCP + TLS + WELCOME */
#define UPLINK_PING_IDLE_MS 15000      /* PING after this long without a line from the controller */
#define UPLINK_SILENCE_MS 10000	       /* dead when a PING gets no answer this long */
#define UPLINK_BACKOFF_MIN_MS 250
#define UPLINK_BACKOFF_MAX_MS 5000
#define UPLINK_CLOCK_SKEW_WARN_MS 5000

enum uplink_state {
	UPLINK_IDLE,	   /* not connected; next attempt at retry_at_ms */
	UPLINK_CONNECTING, /* TCP connect in progress */
	UPLINK_HANDSHAKE,  /* TLS handshake */
	UPLINK_HELLO,	   /* HELLO sent, waiting for WELCOME */
	UPLINK_READY,
};

struct uplink {
	char reader_id[PROTO_READER_ID_MAX + 1];
	char *host[UPLINK_MAX_CONTROLLERS];
	int port[UPLINK_MAX_CONTROLLERS];
	int count;
	struct tls_context *tls; /* borrowed */

	enum uplink_state state;
	int current; /* index of the controller in use or being tried */
	int fd;
	struct tls_conn *conn;
	bool want_read, want_write;
	int64_t retry_at_ms;
	struct backoff backoff;
	int64_t deadline_ms; /* for connecting, or for an answer to PING */
	int64_t last_io_ms;  /* last line received: sending proves nothing about the peer */
	bool ping_outstanding;
	unsigned failures;	    /* attempts in a row that did not reach READY */
	uint64_t conn_no;	    /* numbers READY connections, from 1 */
	struct spool_cursor cursor; /* the next spooled event to consider sending */
	size_t in_flight;
	char rbuf[PROTO_LINE_MAX * 2];
	size_t rlen;
	char wbuf[PROTO_LINE_MAX * (UPLINK_WINDOW + 8)];
	size_t wlen;
	/* counters for the log and the tests */
	uint64_t acked, sent;
};

/* Sets up u with copies of the id and endpoints; tls is borrowed and must
 * outlive u (or be replaced with uplink_reconfigure).  Returns 0 or -1. */
int uplink_init(struct uplink *u, const char *reader_id, char *const *hosts, const int *ports,
		int count, struct tls_context *tls) __attribute__((warn_unused_result));

/* Closes any connection and frees what init allocated.  Accepts a zeroed u. */
void uplink_destroy(struct uplink *u);

/* New endpoints and TLS context (after SIGHUP): drops the connection and
 * reconnects from the first controller.  Returns 0 or -1 (u unchanged). */
int uplink_reconfigure(struct uplink *u, char *const *hosts, const int *ports, int count,
		       struct tls_context *tls) __attribute__((warn_unused_result));

/* The descriptor and poll events the main loop should wait for (fd -1 when
 * only time matters), and the milliseconds until uplink_run has something to
 * do on its own. */
int uplink_pollfd(const struct uplink *u, short *events);
int64_t uplink_timeout_ms(const struct uplink *u, int64_t now_ms);

/* Makes progress: connects, handshakes, reads and handles lines, sends
 * pending events of sp, pings, notices timeouts.  Never blocks. */
void uplink_run(struct uplink *u, struct spool *sp, int64_t now_ms);

/* True while connected with events sent and not yet acknowledged. */
bool uplink_awaiting_acks(const struct uplink *u);

/* Sends close_notify and closes the connection. */
void uplink_close(struct uplink *u);

#endif
