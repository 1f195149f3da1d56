/*
 * listener — see listener.h.
 */
#include "listener.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "daemon.h"
#include "log.h"

/* --- accepting ------------------------------------------------------------- */

static struct conn *listener_conn_of(struct admission_entry *e)
{
	return (struct conn *)(void *)((char *)e - offsetof(struct conn, adm));
}

/* The source address as admission compares it: IPv4 as IPv4-mapped IPv6. */
static void listener_source_key(const struct sockaddr_storage *addr, uint8_t key[ADMISSION_SOURCE_LEN])
{
	memset(key, 0, ADMISSION_SOURCE_LEN);
	if (addr->ss_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)(const void *)addr)->sin6_addr, 16);
	} else if (addr->ss_family == AF_INET) {
		key[10] = key[11] = 0xFF;
		memcpy(key + 12, &((const struct sockaddr_in *)(const void *)addr)->sin_addr, 4);
	}
}

/* At most one line per 10 s while connections are evicted or refused. */
static void listener_log_flood(struct server *sv)
{
	int64_t now = daemon_monotonic_ms();

	if (now < sv->next_flood_log_ms || (sv->adm.evicted == sv->flood_logged_evicted &&
					    sv->adm.refused == sv->flood_logged_refused))
		return;
	log_warning("connection flood: %zu connections not yet authenticated (cap %zu, %zu per "
		    "address); %llu of them closed to make room, %llu refused; handshake deadline "
		    "%lld ms",
		    sv->adm.pending, sv->adm.pending_max, sv->adm.per_source_max,
		    (unsigned long long)(sv->adm.evicted - sv->flood_logged_evicted),
		    (unsigned long long)(sv->adm.refused - sv->flood_logged_refused),
		    (long long)admission_handshake_ms(&sv->adm));
	sv->flood_logged_evicted = sv->adm.evicted;
	sv->flood_logged_refused = sv->adm.refused;
	sv->next_flood_log_ms = now + 10000;
}

/* Out of descriptors: closes the least active unauthenticated connection.
 * Returns false when there is none (every descriptor serves a reader). */
static bool listener_make_room(struct server *sv)
{
	struct admission_entry *e = admission_oldest(&sv->adm);

	if (e == NULL)
		return false;
	sv->adm.evicted++;
	conn_close(sv, listener_conn_of(e));
	return true;
}

/* Sets up an accepted descriptor as a pending connection; closes it on
 * failure. */
static void listener_add_conn(struct server *sv, int fd, const struct sockaddr_storage *addr,
			      socklen_t alen, const uint8_t source[ADMISSION_SOURCE_LEN])
{
	struct conn *c;
	struct epoll_event ev;
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->serial = ++sv->next_serial;
	c->state = CONN_HANDSHAKE;
	c->accepted_ms = daemon_monotonic_ms();
	c->deadline_ms = c->accepted_ms + admission_handshake_ms(&sv->adm);
	if (getnameinfo((const struct sockaddr *)addr, alen, host, sizeof(host), serv, sizeof(serv),
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
		return;
	}
	c->epoll_mask = EPOLLIN;
	sv->conns[fd] = c;
	sv->conn_count++;
	if ((size_t)fd >= sv->conns_end)
		sv->conns_end = (size_t)fd + 1;
	admission_add(&sv->adm, &c->adm, source);
}

void listener_accept(struct server *sv, int lfd)
{
	int i;

	/* A bounded number per wake-up: established connections get their turn. */
	for (i = 0; i < 64; i++) {
		struct sockaddr_storage addr;
		socklen_t alen = sizeof(addr);
		int fd = accept4(lfd, (struct sockaddr *)&addr, &alen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		uint8_t source[ADMISSION_SOURCE_LEN];
		struct admission_entry *evict;

		if (fd < 0) {
			if ((errno == EMFILE || errno == ENFILE) && listener_make_room(sv))
				continue;
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
			break;
		}
		if ((size_t)fd >= sv->conns_cap) {
			close(fd);
			continue;
		}
		listener_source_key(&addr, source);
		switch (admission_decide(&sv->adm, source, &evict)) {
		case ADMISSION_REFUSE:
			close(fd);
			continue;
		case ADMISSION_EVICT_FIRST:
			conn_close(sv, listener_conn_of(evict));
			break;
		case ADMISSION_ADMIT:
			break;
		}
		listener_add_conn(sv, fd, &addr, alen, source);
	}
	listener_log_flood(sv);
}

void listener_resume(struct server *sv)
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

int listener_open(struct server *sv)
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

bool listener_is(const struct server *sv, int fd)
{
	int i;

	for (i = 0; i < sv->listen_count; i++)
		if (sv->listen_fds[i] == fd)
			return true;
	return false;
}

void listener_close(struct server *sv)
{
	int i;

	for (i = 0; i < sv->listen_count; i++)
		close(sv->listen_fds[i]);
	sv->listen_count = 0;
	sv->accepting = false;
}
