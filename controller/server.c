/*
 * server — see server.h.
 *
 * Connection life: HANDSHAKE (TLS, 10 s deadline) -> AWAIT_HELLO (HELLO id
 * must equal the certificate CN) -> HELLO_PENDING (the database says whether
 * the reader is known and enabled) -> READY (EVENT, PING) -> CLOSING (an ERR
 * being flushed, 2 s at most).  A connection that completes no line for
 * SERVER_IDLE_MS is closed, so a byte-a-second sender cannot hold a slot.
 *
 * Backpressure instead of buffering without bound: a connection is not read
 * while it has SERVER_INFLIGHT_MAX unanswered events or SERVER_OUT_MAX bytes
 * of unsent output; the peer's own TCP window then slows it down.
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "ingest.h"
#include "log.h"
#include "proto.h"
#include "tls.h"

#define SERVER_HANDSHAKE_MS 10000
#define SERVER_CLOCK_SKEW_MS 5000 /* as in sac.ingest */
#define SERVER_IDLE_MS 120000
#define SERVER_CLOSING_MS 2000
#define SERVER_DRAIN_MS 10000
#define SERVER_INFLIGHT_MAX 1024
#define SERVER_OUT_MAX 65536
#define SERVER_READ_CHUNK 16384
#define SERVER_IN_MAX (SERVER_READ_CHUNK + PROTO_LINE_MAX)
#define SERVER_EVENTS_MAX 256
#define SERVER_LISTEN_MAX_FDS 64
#define SERVER_CN_MAX 256

enum conn_state {
	CONN_HANDSHAKE,
	CONN_AWAIT_HELLO,
	CONN_HELLO_PENDING,
	CONN_READY,
	CONN_CLOSING,
};

struct conn {
	int fd;
	uint64_t serial;
	enum conn_state state;
	struct tls_conn *tls;
	char peer[64];
	char cn[SERVER_CN_MAX];
	char reader_id[PROTO_READER_ID_MAX + 1];
	int64_t deadline_ms;
	uint32_t epoll_mask;
	bool dirty; /* on the server's dirty list: flush and maybe resume reading */
	bool eof;   /* the peer closed its side */
	bool read_wants_write;
	bool clock_warned; /* the reader's clock ahead: logged once per connection */
	size_t inflight;
	char *in; /* unprocessed input, SERVER_IN_MAX bytes, allocated while needed */
	size_t in_len;
	char *out;
	size_t out_len, out_off, out_cap;
};

struct server {
	struct settings *settings;
	const char *config_path;
	int epfd;
	int listen_fds[SERVER_LISTEN_MAX_FDS];
	int listen_count;
	bool accepting;
	int64_t accept_resume_ms;
	struct tls_context *tls;
	struct ingest *ingest;
	struct conn **conns; /* indexed by fd */
	size_t conns_cap;
	size_t conn_count;
	uint64_t next_serial;
	int *dirty; /* fds */
	size_t dirty_count, dirty_cap;
	bool draining;
};

/* --- helpers --------------------------------------------------------------- */

static struct ingest_peer conn_peer(const struct conn *c)
{
	struct ingest_peer p = {c->fd, c->serial};

	return p;
}

static struct conn *server_lookup(struct server *sv, struct ingest_peer p)
{
	struct conn *c;

	if (p.fd < 0 || (size_t)p.fd >= sv->conns_cap)
		return NULL;
	c = sv->conns[p.fd];
	return c != NULL && c->serial == p.serial ? c : NULL;
}

static void server_mark_dirty(struct server *sv, struct conn *c)
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

static void conn_close(struct server *sv, struct conn *c)
{
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

static void conn_send(struct server *sv, struct conn *c, const struct proto_msg *m)
{
	char line[PROTO_LINE_MAX + 1];
	int n = proto_format(m, line, sizeof(line));

	if (n < 0 || conn_append(c, line, (size_t)n) != 0) {
		log_error("%s: cannot queue a reply", c->peer);
		return;
	}
	server_mark_dirty(sv, c);
}

/* Sends ERR code text and closes once it is flushed (or after 2 s). */
static void conn_fail(struct server *sv, struct conn *c, const char *code, const char *text)
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
static int conn_flush(struct server *sv, struct conn *c)
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

static bool conn_paused(const struct conn *c)
{
	return c->state == CONN_HELLO_PENDING || c->state == CONN_CLOSING ||
	       c->inflight >= SERVER_INFLIGHT_MAX || c->out_len - c->out_off >= SERVER_OUT_MAX;
}

/* Level-triggered interest that cannot spin: input only while we will read
 * it, output only while some is queued. */
static void conn_update_mask(struct server *sv, struct conn *c)
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
		c->deadline_ms = daemon_monotonic_ms() + SERVER_HANDSHAKE_MS;
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
static void conn_process(struct server *sv, struct conn *c)
{
	size_t start = 0;

	while (start < c->in_len && !conn_paused(c)) {
		char *nl = memchr(c->in + start, '\n', c->in_len - start);
		size_t len;

		if (nl == NULL) {
			if (c->in_len - start >= PROTO_LINE_MAX) {
				conn_fail(sv, c, "protocol", "line too long");
				return;
			}
			break;
		}
		len = (size_t)(nl - (c->in + start));
		if (len + 1 > PROTO_LINE_MAX) {
			conn_fail(sv, c, "protocol", "line too long");
			return;
		}
		conn_line(sv, c, c->in + start, len);
		start += len + 1;
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
static int conn_read(struct server *sv, struct conn *c)
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
	if (conn_read(sv, c) == 0)
		conn_update_mask(sv, c);
}

static void conn_ready_io(struct server *sv, struct conn *c, uint32_t events)
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
		server_mark_dirty(sv, c);
	conn_update_mask(sv, c);
}

/* --- accepting ------------------------------------------------------------- */

static void server_accept(struct server *sv, int lfd)
{
	int i;

	/* A bounded number per wake-up: established connections get their turn. */
	for (i = 0; i < 64; i++) {
		struct sockaddr_storage addr;
		socklen_t alen = sizeof(addr);
		int fd = accept4(lfd, (struct sockaddr *)&addr, &alen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;
		struct epoll_event ev;
		char host[NI_MAXHOST], serv[NI_MAXSERV];
		int one = 1;

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				log_warn("accept: pausing new connections for 1 s");
				sv->accepting = false;
				sv->accept_resume_ms = daemon_monotonic_ms() + 1000;
				for (int k = 0; k < sv->listen_count; k++)
					(void)epoll_ctl(sv->epfd, EPOLL_CTL_DEL, sv->listen_fds[k],
							NULL);
			} else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
				log_warn("accept");
			}
			return;
		}
		if ((size_t)fd >= sv->conns_cap) {
			close(fd);
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->serial = ++sv->next_serial;
		c->state = CONN_HANDSHAKE;
		c->deadline_ms = daemon_monotonic_ms() + SERVER_HANDSHAKE_MS;
		if (getnameinfo((struct sockaddr *)&addr, alen, host, sizeof(host), serv, sizeof(serv),
				NI_NUMERICHOST | NI_NUMERICSERV) == 0)
			snprintf(c->peer, sizeof(c->peer), "%.46s:%.8s", host, serv);
		else
			snprintf(c->peer, sizeof(c->peer), "fd %d", fd);
		c->tls = tls_conn_new(sv->tls, fd, NULL);
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		if (c->tls == NULL || epoll_ctl(sv->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			log_error("%s: cannot set up the connection", c->peer);
			tls_conn_free(c->tls);
			close(fd);
			free(c);
			continue;
		}
		c->epoll_mask = EPOLLIN;
		sv->conns[fd] = c;
		sv->conn_count++;
	}
}

static void server_accept_resume(struct server *sv)
{
	int k;

	for (k = 0; k < sv->listen_count; k++) {
		struct epoll_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.fd = sv->listen_fds[k];
		(void)epoll_ctl(sv->epfd, EPOLL_CTL_ADD, sv->listen_fds[k], &ev);
	}
	sv->accepting = true;
}

static int server_listen(struct server *sv)
{
	const struct settings *s = sv->settings;
	int i;

	for (i = 0; i < s->listen.count; i++) {
		struct addrinfo hints, *res = NULL, *ai;
		char port[16];
		int rc;

		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
		snprintf(port, sizeof(port), "%d", s->listen.port[i]);
		rc = getaddrinfo(s->listen.host[i], port, &hints, &res);
		if (rc != 0) {
			log_error("listen %s:%s: %s", s->listen.host[i], port, gai_strerror(rc));
			return -1;
		}
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			int fd, one = 1;
			struct epoll_event ev;

			if (sv->listen_count >= SERVER_LISTEN_MAX_FDS)
				break;
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				    ai->ai_protocol);
			if (fd < 0) {
				log_err("listen %s:%s: socket", s->listen.host[i], port);
				freeaddrinfo(res);
				return -1;
			}
			(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (ai->ai_family == AF_INET6)
				(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 4096) != 0) {
				log_err("listen %s:%s", s->listen.host[i], port);
				close(fd);
				freeaddrinfo(res);
				return -1;
			}
			memset(&ev, 0, sizeof(ev));
			ev.events = EPOLLIN;
			ev.data.fd = fd;
			if (epoll_ctl(sv->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
				log_err("epoll_ctl");
				close(fd);
				freeaddrinfo(res);
				return -1;
			}
			sv->listen_fds[sv->listen_count++] = fd;
			log_info("listening on %s:%s", s->listen.host[i], port);
		}
		freeaddrinfo(res);
	}
	sv->accepting = true;
	return 0;
}

static bool server_is_listener(const struct server *sv, int fd)
{
	int i;

	for (i = 0; i < sv->listen_count; i++)
		if (sv->listen_fds[i] == fd)
			return true;
	return false;
}

static void server_stop_listening(struct server *sv)
{
	int i;

	for (i = 0; i < sv->listen_count; i++)
		close(sv->listen_fds[i]);
	sv->listen_count = 0;
	sv->accepting = false;
}

/* --- results from the database thread ------------------------------------ */

static void server_results(struct server *sv)
{
	struct ingest_result *rs = NULL;
	size_t n = ingest_take_results(sv->ingest, &rs), i;

	for (i = 0; i < n; i++) {
		struct ingest_result *r = &rs[i];
		struct conn *c;
		struct proto_msg m;

		if (r->kind == INGEST_RESULT_DISABLED) {
			size_t fd;

			for (fd = 0; fd < sv->conns_cap; fd++) {
				c = sv->conns[fd];
				if (c != NULL && c->state == CONN_READY &&
				    strcmp(c->reader_id, r->reader_id) == 0)
					conn_fail(sv, c, "disabled", "reader disabled");
			}
			continue;
		}
		c = server_lookup(sv, r->peer);
		if (c == NULL)
			continue;
		memset(&m, 0, sizeof(m));
		switch (r->kind) {
		case INGEST_RESULT_ACK:
			c->inflight--;
			if (c->state == CONN_CLOSING)
				break;
			m.verb = PROTO_ACK;
			memcpy(m.event_id, r->event_id, sizeof(m.event_id));
			m.verdict = r->verdict;
			conn_send(sv, c, &m);
			break;
		case INGEST_RESULT_DROPPED:
			c->inflight--;
			server_mark_dirty(sv, c);
			break;
		case INGEST_RESULT_HELLO:
			if (c->state != CONN_HELLO_PENDING)
				break;
			if (r->hello == INGEST_HELLO_OK) {
				c->state = CONN_READY;
				c->deadline_ms = daemon_monotonic_ms() + SERVER_IDLE_MS;
				m.verb = PROTO_WELCOME;
				m.unix_ms = daemon_unix_ms();
				conn_send(sv, c, &m);
				log_info("%s: reader %s connected", c->peer, c->reader_id);
			} else if (r->hello == INGEST_HELLO_DISABLED) {
				conn_fail(sv, c, "disabled", "reader disabled");
			} else if (r->hello == INGEST_HELLO_UNKNOWN) {
				conn_fail(sv, c, "unknown-reader", "reader not known");
			} else {
				conn_fail(sv, c, "unavailable", "database unavailable, retry later");
			}
			break;
		default:
			break;
		}
	}
	free(rs);
}

/* Flushes output and resumes reading of every connection marked dirty. */
static void server_flush_dirty(struct server *sv)
{
	size_t i;

	for (i = 0; i < sv->dirty_count; i++) {
		int fd = sv->dirty[i];
		struct conn *c = sv->conns[fd];

		if (c == NULL || !c->dirty)
			continue;
		c->dirty = false;
		if (c->out_off < c->out_len && conn_flush(sv, c) != 0)
			continue;
		if (c->out_off == c->out_len && c->eof && c->inflight == 0) {
			conn_close(sv, c);
			continue;
		}
		if (!sv->draining && c->state != CONN_HANDSHAKE && !conn_paused(c)) {
			/* Lines that waited for the pause to lift, then the socket. */
			if (c->in_len > 0)
				conn_process(sv, c);
			if (sv->conns[fd] == c && c->state != CONN_CLOSING)
				(void)conn_read(sv, c);
		}
		if (sv->conns[fd] == c && c->out_off < c->out_len && !c->dirty &&
		    conn_flush(sv, c) != 0)
			continue;
		if (sv->conns[fd] == c)
			conn_update_mask(sv, c);
	}
	sv->dirty_count = 0;
}

static void server_sweep(struct server *sv, int64_t now)
{
	size_t fd;

	for (fd = 0; fd < sv->conns_cap; fd++) {
		struct conn *c = sv->conns[fd];

		if (c == NULL || now < c->deadline_ms)
			continue;
		switch (c->state) {
		case CONN_HANDSHAKE:
			log_info("%s: TLS handshake timed out", c->peer);
			conn_close(sv, c);
			break;
		case CONN_CLOSING:
			conn_close(sv, c);
			break;
		case CONN_AWAIT_HELLO:
		case CONN_HELLO_PENDING:
			conn_fail(sv, c, "timeout", "no HELLO in time");
			break;
		case CONN_READY:
			if (c->inflight > 0) {
				/* Waiting for the database, not idle. */
				c->deadline_ms = now + SERVER_IDLE_MS;
				break;
			}
			conn_fail(sv, c, "timeout", "idle connection");
			break;
		}
	}
}

static void server_publish_connected(struct server *sv)
{
	const char **ids = calloc(sv->conn_count > 0 ? sv->conn_count : 1, sizeof(*ids));
	size_t fd, n = 0;

	if (ids == NULL)
		return;
	for (fd = 0; fd < sv->conns_cap && n < sv->conn_count; fd++) {
		struct conn *c = sv->conns[fd];

		if (c != NULL && c->state == CONN_READY)
			ids[n++] = c->reader_id;
	}
	ingest_set_connected(sv->ingest, ids, n);
	free(ids);
}

/* SIGHUP: rereads the configuration file.  certificate, private_key,
 * reader_ca and crl apply to new connections (live ones keep the context
 * they started with); listen and database need a restart.  A file with any
 * problem, or TLS files that do not make a context, change nothing. */
static void server_reload(struct server *sv)
{
	char err[256];
	struct settings fresh;
	struct tls_context *ctx;

	daemon_notify_reloading();
	if (config_reload(&config_controller, sv->config_path, &fresh) != CONFIG_OK)
		goto out;
	ctx = tls_server_context_new(fresh.certificate, fresh.private_key, fresh.reader_ca, fresh.crl,
				     err, sizeof(err));
	if (ctx == NULL) {
		log_error("reload refused: keeping the running configuration: %s", err);
		config_free(&config_controller, &fresh);
		goto out;
	}
	(void)config_commit(&config_controller, sv->config_path, sv->settings, &fresh);
	config_free(&config_controller, sv->settings);
	*sv->settings = fresh;
	/* Live connections keep a reference to the old context. */
	tls_context_free(sv->tls);
	sv->tls = ctx;
out:
	daemon_notify_ready("serving");
}

int server_tls_check(const char *path, const struct settings *s)
{
	char err[256];
	struct tls_context *ctx = tls_server_context_new(s->certificate, s->private_key, s->reader_ca,
							 s->crl, err, sizeof(err));

	if (ctx == NULL) {
		fprintf(stderr, "%s: %s (certificate %s, private_key %s, reader_ca %s, crl %s)\n", path,
			err, s->certificate, s->private_key, s->reader_ca,
			s->crl != NULL ? s->crl : "none");
		return -1;
	}
	tls_context_free(ctx);
	return 0;
}

/* Raises the open-file limit to its hard maximum: each reader is one fd. */
static size_t server_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1u << 20))
		return 1u << 20;
	return (size_t)rl.rlim_cur;
}

int server_run(const char *config_path, struct settings *s)
{
	struct server sv;
	struct epoll_event evs[SERVER_EVENTS_MAX];
	char err[256], hostname[128], name[200];
	int status = 3;
	int64_t next_sweep, next_publish, next_watchdog = 0, drain_deadline = 0;
	uint64_t watchdog_usec = daemon_watchdog_interval_usec();
	size_t fd;

	memset(&sv, 0, sizeof(sv));
	sv.settings = s;
	sv.config_path = config_path;
	sv.epfd = -1;
	sv.conns_cap = server_raise_nofile();
	sv.conns = calloc(sv.conns_cap, sizeof(*sv.conns));
	if (sv.conns == NULL) {
		log_error("out of memory");
		goto out;
	}
	sv.tls = tls_server_context_new(s->certificate, s->private_key, s->reader_ca, s->crl, err,
					sizeof(err));
	if (sv.tls == NULL) {
		log_error("TLS setup: %s", err);
		goto out;
	}
	sv.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sv.epfd < 0) {
		log_err("epoll_create1");
		goto out;
	}
	if (server_listen(&sv) != 0)
		goto out;
	if (gethostname(hostname, sizeof(hostname)) != 0)
		snprintf(hostname, sizeof(hostname), "localhost");
	hostname[sizeof(hostname) - 1] = '\0';
	snprintf(name, sizeof(name), "%s:%d", hostname, (int)getpid());
	sv.ingest = ingest_start(s->database, name);
	if (sv.ingest == NULL)
		goto out;
	{
		struct epoll_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.fd = ingest_wakeup_fd(sv.ingest);
		if (epoll_ctl(sv.epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) != 0) {
			log_err("epoll_ctl");
			goto out;
		}
	}
	daemon_notify_ready("serving");
	log_notice("sac-controller %s ready (up to %zu connections)", SAC_VERSION, sv.conns_cap);
	next_sweep = daemon_monotonic_ms() + 1000;
	next_publish = daemon_monotonic_ms() + 1000;

	for (;;) {
		int n, i, timeout;
		int64_t now;

		if (daemon_reload) {
			daemon_reload = 0;
			server_reload(&sv);
		}
		if (daemon_terminate && !sv.draining) {
			daemon_notify_stopping();
			log_notice("stopping: storing and acknowledging events in flight");
			sv.draining = true;
			drain_deadline = daemon_monotonic_ms() + SERVER_DRAIN_MS;
			server_stop_listening(&sv);
			for (fd = 0; fd < sv.conns_cap; fd++) {
				struct conn *c = sv.conns[fd];

				if (c != NULL && c->state != CONN_READY)
					conn_close(&sv, c);
				else if (c != NULL)
					conn_update_mask(&sv, c);
			}
		}
		if (sv.draining) {
			bool unsent = false;

			for (fd = 0; fd < sv.conns_cap && !unsent; fd++)
				if (sv.conns[fd] != NULL &&
				    sv.conns[fd]->out_off < sv.conns[fd]->out_len)
					unsent = true;
			if ((ingest_backlog(sv.ingest) == 0 && !unsent) ||
			    daemon_monotonic_ms() >= drain_deadline)
				break;
		}

		now = daemon_monotonic_ms();
		timeout = (int)(next_sweep - now);
		if (timeout < 0)
			timeout = 0;
		if (sv.draining && timeout > 100)
			timeout = 100;
		n = epoll_wait(sv.epfd, evs, SERVER_EVENTS_MAX, timeout);
		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait");
			goto out;
		}
		for (i = 0; i < n; i++) {
			int efd = evs[i].data.fd;

			if (efd == ingest_wakeup_fd(sv.ingest)) {
				server_results(&sv);
			} else if (server_is_listener(&sv, efd)) {
				server_accept(&sv, efd);
			} else if ((size_t)efd < sv.conns_cap && sv.conns[efd] != NULL) {
				struct conn *c = sv.conns[efd];

				if (sv.draining) {
					if (evs[i].events & (EPOLLHUP | EPOLLERR))
						conn_close(&sv, c);
					else if (c->out_off < c->out_len && conn_flush(&sv, c) == 0)
						conn_update_mask(&sv, c);
					else if (sv.conns[efd] == c)
						conn_update_mask(&sv, c);
					continue;
				}
				conn_ready_io(&sv, c, evs[i].events);
			}
		}
		server_flush_dirty(&sv);

		now = daemon_monotonic_ms();
		if (now >= next_sweep) {
			server_sweep(&sv, now);
			if (!sv.accepting && !sv.draining && now >= sv.accept_resume_ms)
				server_accept_resume(&sv);
			next_sweep = now + 1000;
			server_flush_dirty(&sv);
		}
		if (now >= next_publish) {
			server_publish_connected(&sv);
			next_publish = now + 2000;
		}
		if (watchdog_usec > 0 && now >= next_watchdog) {
			daemon_notify_watchdog();
			next_watchdog = now + (int64_t)(watchdog_usec / 1000);
		}
	}
	status = 0;
	log_notice("stopped");
out:
	ingest_stop(sv.ingest, 0);
	sv.ingest = NULL;
	if (sv.conns != NULL) {
		for (fd = 0; fd < sv.conns_cap; fd++)
			if (sv.conns[fd] != NULL) {
				tls_conn_shutdown(sv.conns[fd]->tls);
				conn_close(&sv, sv.conns[fd]);
			}
	}
	server_stop_listening(&sv);
	free(sv.conns);
	free(sv.dirty);
	tls_context_free(sv.tls);
	if (sv.epfd >= 0)
		close(sv.epfd);
	return status;
}
