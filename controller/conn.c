/*
 * conn — see conn.h.
 */
#include "conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

/* --- helpers --------------------------------------------------------------- */

static struct ingest_peer conn_peer(const struct conn *c)
{
	struct ingest_peer p = {c->fd, c->serial};

	return p;
}

struct conn *conn_lookup(struct server *sv, struct ingest_peer p)
{
	struct conn *c;

	if (p.fd < 0 || (size_t)p.fd >= sv->conns_cap)
		return NULL;
	c = sv->conns[p.fd];
	return c != NULL && c->serial == p.serial ? c : NULL;
}

void conn_mark_dirty(struct server *sv, struct conn *c)
{
	if (c->dirty)
		return;
	if (sv->dirty_count == sv->dirty_cap) {
		size_t cap = sv->dirty_cap > 0 ? sv->dirty_cap * 2 : 256;
		int *d = realloc(sv->dirty, cap * sizeof(*d));

		if (d == NULL)
			return; /* flushed on the next readiness event instead */
		sv->dirty = d;
		sv->dirty_cap = cap;
	}
	sv->dirty[sv->dirty_count++] = c->fd;
	c->dirty = true;
}

static void conn_set_mask(struct server *sv, struct conn *c, uint32_t mask)
{
	struct epoll_event ev;

	if (c->epoll_mask == mask)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = mask;
	ev.data.fd = c->fd;
	if (epoll_ctl(sv->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->epoll_mask = mask;
	else
		log_warn("%s: epoll_ctl", c->peer);
}

void conn_close(struct server *sv, struct conn *c)
{
	admission_remove(&sv->adm, &c->adm);
	tls_conn_free(c->tls);
	close(c->fd);
	sv->conns[c->fd] = NULL;
	sv->conn_count--;
	free(c->in);
	free(c->out);
	free(c);
}

static int conn_append(struct conn *c, const char *s, size_t n)
{
	if (c->out_off > 0 && c->out_off == c->out_len) {
		c->out_off = 0;
		c->out_len = 0;
	}
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap > 0 ? c->out_cap : 1024;
		char *p;

		if (c->out_off > 0) {
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		while (c->out_len + n > cap)
			cap *= 2;
		if (cap != c->out_cap) {
			p = realloc(c->out, cap);
			if (p == NULL)
				return -1;
			c->out = p;
			c->out_cap = cap;
		}
	}
	memcpy(c->out + c->out_len, s, n);
	c->out_len += n;
	return 0;
}

void conn_send(struct server *sv, struct conn *c, const struct proto_msg *m)
{
	char line[PROTO_LINE_MAX + 1];
	int n = proto_format(m, line, sizeof(line));

	if (n < 0 || conn_append(c, line, (size_t)n) != 0) {
		log_error("%s: cannot queue a reply", c->peer);
		return;
	}
	conn_mark_dirty(sv, c);
}

/* Sends ERR code text and closes once it is flushed (or after 2 s). */
void conn_fail(struct server *sv, struct conn *c, const char *code, const char *text)
{
	struct proto_msg m;

	if (c->state == CONN_CLOSING)
		return;
	memset(&m, 0, sizeof(m));
	m.verb = PROTO_ERR;
	snprintf(m.err_code, sizeof(m.err_code), "%s", code);
	snprintf(m.err_text, sizeof(m.err_text), "%s", text);
	log_notice("%s%s%s: closing: %s (ERR %s)", c->peer, c->reader_id[0] ? " reader " : "",
		   c->reader_id, text, code);
	c->state = CONN_CLOSING;
	c->deadline_ms = daemon_monotonic_ms() + SERVER_CLOSING_MS;
	c->in_len = 0;
	conn_send(sv, c, &m);
}

/* --- output ---------------------------------------------------------------- */

/* Writes what is queued.  Returns -1 when the connection was closed. */
int conn_flush(struct server *sv, struct conn *c)
{
	while (c->out_off < c->out_len) {
		size_t done = 0;
		enum tls_io r =
			tls_conn_write(c->tls, c->out + c->out_off, c->out_len - c->out_off, &done);

		if (r == TLS_IO_OK) {
			c->out_off += done;
			continue;
		}
		if (r == TLS_IO_WANT_WRITE || r == TLS_IO_WANT_READ)
			return 0;
		if (c->state != CONN_CLOSING)
			log_info("%s: write: %s", c->peer, tls_conn_error(c->tls));
		conn_close(sv, c);
		return -1;
	}
	c->out_off = c->out_len = 0;
	if (c->out_cap > 4096) {
		/* Idle connections keep no large buffer. */
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
	if (c->state == CONN_CLOSING || (c->eof && c->inflight == 0)) {
		tls_conn_shutdown(c->tls);
		conn_close(sv, c);
		return -1;
	}
	return 0;
}

/* --- input ----------------------------------------------------------------- */

bool conn_paused(const struct conn *c)
{
	return c->state == CONN_HELLO_PENDING || c->state == CONN_CLOSING ||
	       c->inflight >= SERVER_INFLIGHT_MAX || c->out_len - c->out_off >= SERVER_OUT_MAX;
}

/* Level-triggered interest that cannot spin: input only while we will read
 * it, output only while some is queued. */
void conn_update_mask(struct server *sv, struct conn *c)
{
	uint32_t mask = 0;

	if (c->state == CONN_HANDSHAKE)
		return;
	if (!conn_paused(c) && !c->eof && !sv->draining)
		mask |= EPOLLIN;
	if (c->out_off < c->out_len || c->read_wants_write)
		mask |= EPOLLOUT;
	conn_set_mask(sv, c, mask);
}

static void conn_line(struct server *sv, struct conn *c, const char *line, size_t len)
{
	struct proto_msg m;
	const char *why = NULL;

	if (proto_parse(line, len, &m, &why) != 0) {
		conn_fail(sv, c, "protocol", why);
		return;
	}
	c->deadline_ms = daemon_monotonic_ms() + SERVER_IDLE_MS;
	if (c->state == CONN_AWAIT_HELLO) {
		if (m.verb != PROTO_HELLO) {
			conn_fail(sv, c, "protocol", "expected HELLO");
			return;
		}
		if (strcmp(m.reader_id, c->cn) != 0) {
			conn_fail(sv, c, "identity", "HELLO id differs from the certificate CN");
			return;
		}
		memcpy(c->reader_id, m.reader_id, sizeof(c->reader_id));
		if (ingest_queue_hello(sv->ingest, conn_peer(c), c->reader_id) != 0) {
			conn_fail(sv, c, "unavailable", "controller out of memory");
			return;
		}
		c->state = CONN_HELLO_PENDING;
		c->deadline_ms = daemon_monotonic_ms() + SERVER_HELLO_MS;
		return;
	}
	switch (m.verb) {
	case PROTO_EVENT:
		if (m.unix_ms > daemon_unix_ms() + SERVER_CLOCK_SKEW_MS && !c->clock_warned) {
			log_warning("%s reader %s: clock %lld s ahead of the controller; its event "
				    "times are clamped to their arrival",
				    c->peer, c->reader_id,
				    (long long)((m.unix_ms - daemon_unix_ms()) / 1000));
			c->clock_warned = true;
		}
		if (ingest_queue_event(sv->ingest, conn_peer(c), c->reader_id, &m) != 0) {
			conn_fail(sv, c, "unavailable", "controller out of memory");
			return;
		}
		c->inflight++;
		return;
	case PROTO_PING: {
		struct proto_msg pong;

		memset(&pong, 0, sizeof(pong));
		pong.verb = PROTO_PONG;
		pong.unix_ms = daemon_unix_ms();
		conn_send(sv, c, &pong);
		return;
	}
	case PROTO_HELLO:
		conn_fail(sv, c, "protocol", "second HELLO");
		return;
	default:
		conn_fail(sv, c, "protocol", "unexpected verb from a reader");
		return;
	}
}

/* Processes the complete lines buffered in c->in while not paused. */
void conn_process(struct server *sv, struct conn *c)
{
	size_t start = 0;

	while (start < c->in_len && !conn_paused(c)) {
		const char *line;
		size_t len;
		enum proto_frame f = proto_next_line(c->in, c->in_len, &start, &line, &len);

		if (f == PROTO_FRAME_NONE)
			break;
		if (f == PROTO_FRAME_TOO_LONG) {
			conn_fail(sv, c, "protocol", "line too long");
			return;
		}
		conn_line(sv, c, line, len);
	}
	if (c->state == CONN_CLOSING)
		return;
	if (start > 0) {
		memmove(c->in, c->in + start, c->in_len - start);
		c->in_len -= start;
	}
	if (c->in_len == 0) {
		free(c->in);
		c->in = NULL;
	}
}

/* Reads and processes until the socket is drained or the connection is
 * paused.  Returns -1 when the connection was closed. */
int conn_read(struct server *sv, struct conn *c)
{
	while (!conn_paused(c) && !c->eof) {
		size_t done = 0;
		enum tls_io r;

		if (c->in == NULL) {
			c->in = malloc(SERVER_IN_MAX);
			if (c->in == NULL) {
				log_error("%s: out of memory", c->peer);
				conn_close(sv, c);
				return -1;
			}
		}
		r = tls_conn_read(c->tls, c->in + c->in_len, SERVER_IN_MAX - c->in_len, &done);
		if (r == TLS_IO_OK) {
			c->in_len += done;
			conn_process(sv, c);
			continue;
		}
		if (c->in_len == 0) {
			free(c->in);
			c->in = NULL;
		}
		c->read_wants_write = r == TLS_IO_WANT_WRITE;
		if (r == TLS_IO_WANT_READ || r == TLS_IO_WANT_WRITE)
			return 0;
		if (r == TLS_IO_CLOSED) {
			/* Events already queued are still stored; their ACKs go
			 * out if the peer still reads (it half-closed). */
			c->eof = true;
			if (c->inflight == 0 || c->state != CONN_READY) {
				conn_close(sv, c);
				return -1;
			}
			return 0;
		}
		log_info("%s: read: %s", c->peer, tls_conn_error(c->tls));
		conn_close(sv, c);
		return -1;
	}
	return 0;
}

static void conn_handshake(struct server *sv, struct conn *c)
{
	enum tls_io r = tls_conn_handshake(c->tls);

	admission_touch(&sv->adm, &c->adm);
	if (r == TLS_IO_WANT_READ) {
		conn_set_mask(sv, c, EPOLLIN);
		return;
	}
	if (r == TLS_IO_WANT_WRITE) {
		conn_set_mask(sv, c, EPOLLIN | EPOLLOUT);
		return;
	}
	if (r != TLS_IO_OK) {
		log_info("%s: TLS handshake failed: %s", c->peer, tls_conn_error(c->tls));
		conn_close(sv, c);
		return;
	}
	if (tls_conn_peer_cn(c->tls, c->cn, sizeof(c->cn)) != 0) {
		log_info("%s: the certificate has no usable CN", c->peer);
		conn_close(sv, c);
		return;
	}
	c->state = CONN_AWAIT_HELLO;
	c->deadline_ms = daemon_monotonic_ms() + SERVER_HELLO_MS;
	admission_verified(&sv->adm, &c->adm);
	if (conn_read(sv, c) == 0)
		conn_update_mask(sv, c);
}

void conn_ready_io(struct server *sv, struct conn *c, uint32_t events)
{
	if (c->state == CONN_HANDSHAKE) {
		conn_handshake(sv, c);
		return;
	}
	if (c->out_off < c->out_len && conn_flush(sv, c) != 0)
		return;
	if (conn_read(sv, c) != 0)
		return;
	if (events & (EPOLLHUP | EPOLLERR)) {
		/* Gone both ways: nothing more can be delivered. */
		conn_close(sv, c);
		return;
	}
	if (c->out_off < c->out_len)
		conn_mark_dirty(sv, c);
	conn_update_mask(sv, c);
}
