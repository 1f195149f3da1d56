/*
 * server — see server.h.  The event loop: connections (conn.c), listening
 * sockets (listener.c), the database thread's results, timeouts every
 * second, SIGHUP, and the drain at SIGTERM.
 */
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "conn.h"
#include "daemon.h"
#include "listener.h"
#include "log.h"
#include "server_state.h"

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

			for (fd = 0; fd < sv->conns_end; fd++) {
				c = sv->conns[fd];
				if (c != NULL && c->state == CONN_READY &&
				    strcmp(c->reader_id, r->reader_id) == 0)
					conn_fail(sv, c, "disabled", "reader disabled");
			}
			continue;
		}
		c = conn_lookup(sv, r->peer);
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
			conn_mark_dirty(sv, c);
			break;
		case INGEST_RESULT_HELLO:
			if (c->state != CONN_HELLO_PENDING)
				break;
			if (r->hello == INGEST_HELLO_OK) {
				c->state = CONN_READY;
				admission_remove(&sv->adm, &c->adm);
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
	int64_t handshake_ms = admission_handshake_ms(&sv->adm);
	size_t fd;

	for (fd = 0; fd < sv->conns_end; fd++) {
		struct conn *c = sv->conns[fd];

		if (c == NULL)
			continue;
		/* Under pressure a pending handshake gets less time than it was given. */
		if (c->state == CONN_HANDSHAKE && c->accepted_ms + handshake_ms < c->deadline_ms)
			c->deadline_ms = c->accepted_ms + handshake_ms;
		if (now < c->deadline_ms)
			continue;
		switch (c->state) {
		case CONN_HANDSHAKE:
			/* Under a flood the summary line says it; one each would flood the log. */
			if (sv->adm.pending <= sv->adm.pending_max / 4)
				log_info("%s: TLS handshake timed out", c->peer);
			else
				log_debug("%s: TLS handshake timed out", c->peer);
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
	for (fd = 0; fd < sv->conns_end && n < sv->conn_count; fd++) {
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

/* Everything server_run needs before the loop: descriptors, TLS, epoll,
 * listeners, the database thread.  Returns 0, or -1 (logged). */
static int server_start(struct server *sv, const char *config_path, struct settings *s)
{
	char err[256], hostname[128], name[200];
	struct epoll_event ev;

	sv->settings = s;
	sv->config_path = config_path;
	sv->conns_cap = server_raise_nofile();
	admission_init(&sv->adm, sv->conns_cap);
	sv->conns = calloc(sv->conns_cap, sizeof(*sv->conns));
	if (sv->conns == NULL) {
		log_error("out of memory");
		return -1;
	}
	sv->tls = tls_server_context_new(s->certificate, s->private_key, s->reader_ca, s->crl, err,
					 sizeof(err));
	if (sv->tls == NULL) {
		log_error("TLS setup: %s", err);
		return -1;
	}
	sv->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sv->epfd < 0) {
		log_err("epoll_create1");
		return -1;
	}
	if (listener_open(sv) != 0)
		return -1;
	if (gethostname(hostname, sizeof(hostname)) != 0)
		snprintf(hostname, sizeof(hostname), "localhost");
	hostname[sizeof(hostname) - 1] = '\0';
	snprintf(name, sizeof(name), "%s:%d", hostname, (int)getpid());
	sv->ingest = ingest_start(s->database, name);
	if (sv->ingest == NULL)
		return -1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = ingest_wakeup_fd(sv->ingest);
	if (epoll_ctl(sv->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) != 0) {
		log_err("epoll_ctl");
		return -1;
	}
	return 0;
}

/* SIGTERM: no new connections, none that is not welcomed; the welcomed
 * ones get the ACKs of what they sent. */
static void server_begin_drain(struct server *sv)
{
	size_t fd;

	daemon_notify_stopping();
	log_notice("stopping: storing and acknowledging events in flight");
	sv->draining = true;
	listener_close(sv);
	for (fd = 0; fd < sv->conns_end; fd++) {
		struct conn *c = sv->conns[fd];

		if (c != NULL && c->state != CONN_READY)
			conn_close(sv, c);
		else if (c != NULL)
			conn_update_mask(sv, c);
	}
}

/* The drain is over when every event is stored and every ACK written. */
static bool server_drained(const struct server *sv)
{
	size_t fd;

	if (ingest_backlog(sv->ingest) > 0)
		return false;
	for (fd = 0; fd < sv->conns_end; fd++)
		if (sv->conns[fd] != NULL && sv->conns[fd]->out_off < sv->conns[fd]->out_len)
			return false;
	return true;
}

/* One readiness event.  While draining, connections only write. */
static void server_dispatch(struct server *sv, const struct epoll_event *ev)
{
	int efd = ev->data.fd;
	struct conn *c;

	if (efd == ingest_wakeup_fd(sv->ingest)) {
		server_results(sv);
		return;
	}
	if (listener_is(sv, efd)) {
		listener_accept(sv, efd);
		return;
	}
	if ((size_t)efd >= sv->conns_cap || sv->conns[efd] == NULL)
		return;
	c = sv->conns[efd];
	if (!sv->draining) {
		conn_ready_io(sv, c, ev->events);
		return;
	}
	if (ev->events & (EPOLLHUP | EPOLLERR))
		conn_close(sv, c);
	else if (c->out_off < c->out_len && conn_flush(sv, c) == 0)
		conn_update_mask(sv, c);
	else if (sv->conns[efd] == c)
		conn_update_mask(sv, c);
}

/* Closes everything server_start opened; accepts a partial start. */
static void server_finish(struct server *sv)
{
	size_t fd;

	ingest_stop(sv->ingest, 0);
	sv->ingest = NULL;
	if (sv->conns != NULL) {
		for (fd = 0; fd < sv->conns_end; fd++)
			if (sv->conns[fd] != NULL) {
				tls_conn_shutdown(sv->conns[fd]->tls);
				conn_close(sv, sv->conns[fd]);
			}
	}
	listener_close(sv);
	free(sv->conns);
	free(sv->dirty);
	tls_context_free(sv->tls);
	if (sv->epfd >= 0)
		close(sv->epfd);
}

int server_run(const char *config_path, struct settings *s)
{
	struct server sv;
	struct epoll_event evs[SERVER_EVENTS_MAX];
	int status = 3;
	int64_t next_sweep, next_publish, next_watchdog = 0, drain_deadline = 0;
	uint64_t watchdog_usec = daemon_watchdog_interval_usec();

	memset(&sv, 0, sizeof(sv));
	sv.epfd = -1;
	if (server_start(&sv, config_path, s) != 0)
		goto out;
	daemon_notify_ready("serving");
	log_notice("sac-controller %s ready (up to %zu connections, %zu of them not yet "
		   "authenticated, %zu per address)",
		   SAC_VERSION, sv.conns_cap, sv.adm.pending_max, sv.adm.per_source_max);
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
			server_begin_drain(&sv);
			drain_deadline = daemon_monotonic_ms() + SERVER_DRAIN_MS;
		}
		if (sv.draining && (server_drained(&sv) || daemon_monotonic_ms() >= drain_deadline))
			break;

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
		/* Connections first, new ones after: under a flood of new
		 * connections, those already accepted still get their turn. */
		for (i = 0; i < n; i++)
			if (!listener_is(&sv, evs[i].data.fd))
				server_dispatch(&sv, &evs[i]);
		for (i = 0; i < n; i++)
			if (listener_is(&sv, evs[i].data.fd))
				server_dispatch(&sv, &evs[i]);
		server_flush_dirty(&sv);

		now = daemon_monotonic_ms();
		if (now >= next_sweep) {
			server_sweep(&sv, now);
			if (!sv.accepting && !sv.draining && now >= sv.accept_resume_ms)
				listener_resume(&sv);
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
	server_finish(&sv);
	return status;
}
