/*
 * uplink — see uplink.h.
 */
#include "uplink.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backoff.h"
#include "daemon.h"
#include "hex.h"
#include "log.h"

static void uplink_free_endpoints(struct uplink *u)
{
	int i;

	for (i = 0; i < u->count; i++) {
		free(u->host[i]);
		u->host[i] = NULL;
	}
	u->count = 0;
}

static int uplink_set_endpoints(struct uplink *u, char *const *hosts, const int *ports, int count)
{
	char *copy[UPLINK_MAX_CONTROLLERS];
	int i;

	if (count < 1 || count > UPLINK_MAX_CONTROLLERS)
		return -1;
	for (i = 0; i < count; i++) {
		copy[i] = strdup(hosts[i]);
		if (copy[i] == NULL) {
			while (i > 0)
				free(copy[--i]);
			return -1;
		}
	}
	uplink_free_endpoints(u);
	for (i = 0; i < count; i++) {
		u->host[i] = copy[i];
		u->port[i] = ports[i];
	}
	u->count = count;
	return 0;
}

int uplink_init(struct uplink *u, const char *reader_id, char *const *hosts, const int *ports,
		int count, struct tls_context *tls)
{
	memset(u, 0, sizeof(*u));
	u->fd = -1;
	u->state = UPLINK_IDLE;
	backoff_init(&u->backoff, UPLINK_BACKOFF_MIN_MS, UPLINK_BACKOFF_MAX_MS);
	u->tls = tls;
	if (strlen(reader_id) > PROTO_READER_ID_MAX)
		return -1;
	strcpy(u->reader_id, reader_id);
	return uplink_set_endpoints(u, hosts, ports, count);
}

/* Drops the connection without ceremony. */
static void uplink_disconnect(struct uplink *u)
{
	tls_conn_free(u->conn);
	u->conn = NULL;
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
	u->state = UPLINK_IDLE;
	u->want_read = u->want_write = false;
	u->rlen = 0;
	explicit_bzero(u->wbuf, u->wlen);
	u->wlen = 0;
	u->in_flight = 0;
	u->ping_outstanding = false;
}

void uplink_close(struct uplink *u)
{
	if (u->conn != NULL && u->state >= UPLINK_HELLO)
		tls_conn_shutdown(u->conn);
	uplink_disconnect(u);
}

void uplink_destroy(struct uplink *u)
{
	uplink_close(u);
	uplink_free_endpoints(u);
}

int uplink_reconfigure(struct uplink *u, char *const *hosts, const int *ports, int count,
		       struct tls_context *tls)
{
	if (uplink_set_endpoints(u, hosts, ports, count) != 0)
		return -1;
	uplink_close(u);
	u->tls = tls;
	u->current = 0;
	u->retry_at_ms = 0;
	backoff_reset(&u->backoff);
	return 0;
}

/* A failed attempt or a dropped connection: move along the list; after a
 * full round, wait with growing backoff.  A READY connection that dropped
 * starts over at the first (preferred) controller. */
static void uplink_fail(struct uplink *u, int64_t now_ms, const char *why)
{
	bool was_ready = u->state == UPLINK_READY;

	/* Each controller's first failure in a row is a warning; while they
	 * stay down, only every 20th round is. */
	u->failures = was_ready ? 0 : u->failures + 1;
	if (was_ready || u->failures <= (unsigned)u->count ||
	    u->failures % (20 * (unsigned)u->count) == 0)
		log_warning("controller %s:%d: %s", u->host[u->current], u->port[u->current], why);
	else
		log_debug("controller %s:%d: %s", u->host[u->current], u->port[u->current], why);
	uplink_disconnect(u);
	if (was_ready) {
		u->current = 0;
		backoff_reset(&u->backoff);
		u->retry_at_ms = now_ms + UPLINK_BACKOFF_MIN_MS;
		return;
	}
	u->current++;
	if (u->current < u->count) {
		u->retry_at_ms = now_ms;
		return;
	}
	u->current = 0;
	u->retry_at_ms = now_ms + backoff_failed(&u->backoff);
}

static void uplink_start_connect(struct uplink *u, int64_t now_ms)
{
	struct addrinfo hints, *res = NULL;
	char port[8];
	char why[300];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", u->port[u->current]);
	rc = getaddrinfo(u->host[u->current], port, &hints, &res);
	if (rc != 0 || res == NULL) {
		snprintf(why, sizeof(why), "cannot resolve: %s", gai_strerror(rc));
		if (res != NULL)
			freeaddrinfo(res);
		uplink_fail(u, now_ms, why);
		return;
	}
	u->fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       res->ai_protocol);
	if (u->fd < 0) {
		freeaddrinfo(res);
		snprintf(why, sizeof(why), "socket: %s", strerror(errno));
		uplink_fail(u, now_ms, why);
		return;
	}
	rc = connect(u->fd, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (rc != 0 && errno != EINPROGRESS) {
		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		uplink_fail(u, now_ms, why);
		return;
	}
	u->state = UPLINK_CONNECTING;
	u->want_write = true;
	u->want_read = false;
	u->deadline_ms = now_ms + UPLINK_CONNECT_TIMEOUT_MS;
}

/* Queues one line.  Returns 0, or -1 when the buffer is full. */
static int uplink_queue(struct uplink *u, const struct proto_msg *msg)
{
	char line[PROTO_LINE_MAX + 1];
	int n = proto_format(msg, line, sizeof(line));

	if (n < 0 || (size_t)n > sizeof(u->wbuf) - u->wlen) {
		explicit_bzero(line, sizeof(line));
		return -1;
	}
	memcpy(u->wbuf + u->wlen, line, (size_t)n);
	u->wlen += (size_t)n;
	explicit_bzero(line, sizeof(line));
	return 0;
}

/* Writes what is queued.  Returns 0, or -1 after uplink_fail. */
static int uplink_flush(struct uplink *u, int64_t now_ms)
{
	while (u->wlen > 0) {
		size_t done = 0;
		enum tls_io io = tls_conn_write(u->conn, u->wbuf, u->wlen, &done);

		switch (io) {
		case TLS_IO_OK:
			memmove(u->wbuf, u->wbuf + done, u->wlen - done);
			u->wlen -= done;
			explicit_bzero(u->wbuf + u->wlen, done);
			break;
		case TLS_IO_WANT_WRITE:
			u->want_write = true;
			return 0;
		case TLS_IO_WANT_READ:
			u->want_read = true;
			return 0;
		case TLS_IO_CLOSED:
			uplink_fail(u, now_ms, "connection closed while sending");
			return -1;
		case TLS_IO_ERROR:
			uplink_fail(u, now_ms, tls_conn_error(u->conn));
			return -1;
		}
	}
	u->want_write = false;
	return 0;
}

static void uplink_send_pending(struct uplink *u, struct spool *sp)
{
	struct spool_event ev;
	struct proto_msg msg;

	memset(&msg, 0, sizeof(msg));
	msg.verb = PROTO_EVENT;
	while (u->in_flight < UPLINK_WINDOW && spool_next_unsent(sp, &u->cursor, u->conn_no, &ev)) {
		msg.unix_ms = ev.unix_ms;
		if (hex_encode(ev.id, SPOOL_ID_LEN, msg.event_id, sizeof(msg.event_id)) != 0 ||
		    hex_encode(ev.credential, SPOOL_CREDENTIAL_LEN, msg.credential,
			       sizeof(msg.credential)) != 0 ||
		    uplink_queue(u, &msg) != 0)
			break; /* buffer full: the rest goes after the next flush */
		spool_sent(sp, &u->cursor, u->conn_no);
		u->in_flight++;
		u->sent++;
	}
	explicit_bzero(&ev, sizeof(ev));
	explicit_bzero(&msg, sizeof(msg));
}

static void uplink_on_ack(struct uplink *u, struct spool *sp, const struct proto_msg *msg)
{
	uint8_t id[SPOOL_ID_LEN];
	uint64_t sent_on = 0;
	int rc;

	if (hex_decode(msg->event_id, PROTO_EVENT_ID_HEX, id, sizeof(id)) != SPOOL_ID_LEN)
		return;
	rc = spool_settle(sp, id, &sent_on);
	if (rc == 0) {
		log_debug("event %s: %s again (already settled)", msg->event_id,
			  proto_verdict_name(msg->verdict));
		return;
	}
	if (sent_on == u->conn_no && u->in_flight > 0)
		u->in_flight--;
	u->acked++;
	/* Per-event lines are access data (who-badge-when by gate): debug only. */
	if (msg->verdict == PROTO_EXPIRED)
		log_notice("an event older than 24 h was refused by the controller (not stored)");
	log_debug("event %s: %s", msg->event_id, proto_verdict_name(msg->verdict));
}

static void uplink_on_welcome(struct uplink *u, const struct proto_msg *msg, int64_t now_ms)
{
	int64_t skew = msg->unix_ms - daemon_unix_ms();

	if (skew > UPLINK_CLOCK_SKEW_WARN_MS || skew < -UPLINK_CLOCK_SKEW_WARN_MS)
		log_warning("clock: the controller's time differs from ours by %lld ms; event "
			    "times come from this reader's clock, fix its time source",
			    (long long)skew);
	u->state = UPLINK_READY;
	u->failures = 0;
	u->conn_no++;
	spool_cursor_rewind(&u->cursor);
	u->in_flight = 0;
	backoff_reset(&u->backoff);
	u->last_io_ms = now_ms;
	log_info("connected to controller %s:%d", u->host[u->current], u->port[u->current]);
}

/* Handles one received line.  Returns 0, or -1 after uplink_fail. */
static int uplink_on_line(struct uplink *u, struct spool *sp, const char *line, size_t len,
			  int64_t now_ms)
{
	struct proto_msg msg;
	const char *why = NULL;
	char text[PROTO_ERR_TEXT_MAX + 64];

	if (proto_parse(line, len, &msg, &why) != 0) {
		snprintf(text, sizeof(text), "protocol error from the controller: %s", why);
		uplink_fail(u, now_ms, text);
		return -1;
	}
	u->ping_outstanding = false;
	u->last_io_ms = now_ms;
	if (msg.verb == PROTO_ERR) {
		snprintf(text, sizeof(text), "refused: ERR %s %s", msg.err_code, msg.err_text);
		uplink_fail(u, now_ms, text);
		return -1;
	}
	if (u->state == UPLINK_HELLO) {
		if (msg.verb != PROTO_WELCOME) {
			uplink_fail(u, now_ms, "expected WELCOME");
			return -1;
		}
		uplink_on_welcome(u, &msg, now_ms);
		return 0;
	}
	switch (msg.verb) {
	case PROTO_ACK:
		uplink_on_ack(u, sp, &msg);
		return 0;
	case PROTO_PONG:
		return 0;
	default:
		uplink_fail(u, now_ms, "unexpected message from the controller");
		return -1;
	}
}

/* Reads and handles every complete line.  Returns 0, or -1 after uplink_fail. */
static int uplink_read(struct uplink *u, struct spool *sp, int64_t now_ms)
{
	for (;;) {
		size_t done = 0, start = 0, len;
		const char *line;
		enum proto_frame f;
		enum tls_io io =
			tls_conn_read(u->conn, u->rbuf + u->rlen, sizeof(u->rbuf) - u->rlen, &done);

		switch (io) {
		case TLS_IO_OK:
			break;
		case TLS_IO_WANT_READ:
			u->want_read = true;
			return 0;
		case TLS_IO_WANT_WRITE:
			u->want_write = true;
			return 0;
		case TLS_IO_CLOSED:
			uplink_fail(u, now_ms, "the controller closed the connection");
			return -1;
		case TLS_IO_ERROR:
			uplink_fail(u, now_ms, tls_conn_error(u->conn));
			return -1;
		}
		u->rlen += done;
		while ((f = proto_next_line(u->rbuf, u->rlen, &start, &line, &len)) == PROTO_FRAME_LINE)
			if (uplink_on_line(u, sp, line, len, now_ms) != 0)
				return -1;
		if (f == PROTO_FRAME_TOO_LONG) {
			uplink_fail(u, now_ms, "protocol error from the controller: line too long");
			return -1;
		}
		memmove(u->rbuf, u->rbuf + start, u->rlen - start);
		u->rlen -= start;
	}
}

static void uplink_handshake(struct uplink *u, int64_t now_ms)
{
	struct proto_msg hello;

	switch (tls_conn_handshake(u->conn)) {
	case TLS_IO_OK:
		break;
	case TLS_IO_WANT_READ:
		u->want_read = true;
		u->want_write = false;
		return;
	case TLS_IO_WANT_WRITE:
		u->want_write = true;
		u->want_read = false;
		return;
	case TLS_IO_CLOSED:
		uplink_fail(u, now_ms, "TLS handshake: connection closed");
		return;
	case TLS_IO_ERROR:
		uplink_fail(u, now_ms, tls_conn_error(u->conn));
		return;
	}
	memset(&hello, 0, sizeof(hello));
	hello.verb = PROTO_HELLO;
	strcpy(hello.reader_id, u->reader_id);
	u->state = UPLINK_HELLO;
	u->want_read = true;
	if (uplink_queue(u, &hello) != 0)
		uplink_fail(u, now_ms, "cannot format HELLO");
}

static void uplink_connected(struct uplink *u, int64_t now_ms)
{
	int err = 0;
	socklen_t len = sizeof(err);
	char why[300];

	if (getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err == EINPROGRESS)
		return;
	if (err != 0) {
		snprintf(why, sizeof(why), "connect: %s", strerror(err));
		uplink_fail(u, now_ms, why);
		return;
	}
	u->conn = tls_conn_new(u->tls, u->fd, u->host[u->current]);
	if (u->conn == NULL) {
		uplink_fail(u, now_ms, "cannot set up TLS");
		return;
	}
	u->state = UPLINK_HANDSHAKE;
	uplink_handshake(u, now_ms);
}

void uplink_run(struct uplink *u, struct spool *sp, int64_t now_ms)
{
	struct proto_msg ping;

	if (u->state == UPLINK_IDLE) {
		if (now_ms < u->retry_at_ms)
			return;
		uplink_start_connect(u, now_ms);
		if (u->state == UPLINK_IDLE)
			return;
	}
	if (u->state != UPLINK_READY && now_ms >= u->deadline_ms) {
		uplink_fail(u, now_ms, "no connection and WELCOME within the time limit");
		return;
	}
	if (u->state == UPLINK_CONNECTING) {
		uplink_connected(u, now_ms);
		if (u->state == UPLINK_CONNECTING || u->state == UPLINK_IDLE)
			return;
	}
	if (u->state == UPLINK_HANDSHAKE) {
		uplink_handshake(u, now_ms);
		if (u->state != UPLINK_HELLO)
			return;
	}
	u->want_read = true;
	if (uplink_read(u, sp, now_ms) != 0)
		return;
	if (u->state == UPLINK_READY) {
		if (u->ping_outstanding && now_ms >= u->deadline_ms) {
			uplink_fail(u, now_ms, "no answer to PING: connection presumed dead");
			return;
		}
		if (!u->ping_outstanding && now_ms - u->last_io_ms >= UPLINK_PING_IDLE_MS) {
			memset(&ping, 0, sizeof(ping));
			ping.verb = PROTO_PING;
			if (uplink_queue(u, &ping) == 0) {
				u->ping_outstanding = true;
				u->deadline_ms = now_ms + UPLINK_SILENCE_MS;
			}
		}
		uplink_send_pending(u, sp);
	}
	(void)uplink_flush(u, now_ms);
}

bool uplink_awaiting_acks(const struct uplink *u)
{
	return u->state == UPLINK_READY && u->in_flight > 0;
}

int uplink_pollfd(const struct uplink *u, short *events)
{
	*events = 0;
	if (u->fd < 0)
		return -1;
	if (u->want_read)
		*events |= POLLIN;
	if (u->want_write || u->wlen > 0)
		*events |= POLLOUT;
	return u->fd;
}

int64_t uplink_timeout_ms(const struct uplink *u, int64_t now_ms)
{
	int64_t t;

	switch (u->state) {
	case UPLINK_IDLE:
		t = u->retry_at_ms - now_ms;
		break;
	case UPLINK_READY:
		t = u->ping_outstanding ? u->deadline_ms - now_ms
					: u->last_io_ms + UPLINK_PING_IDLE_MS - now_ms;
		break;
	default:
		t = u->deadline_ms - now_ms;
		break;
	}
	return t < 0 ? 0 : t;
}
