/*
 * ingest — a sac/1 client for the controller's benchmark and system tests.
 *
 *   ingest send  -s HOST:PORT --cert F --key F --ca F [--expect N] [--timeout S]
 *       Sends stdin verbatim over one TLS connection and prints every line the
 *       controller answers, until N lines came, the controller closed, or the
 *       timeout (default 10 s).  Malformed input is sent as is: the tests use it.
 *
 *   ingest load  -s HOST:PORT --cert F --key F --ca F --reader ID --conns N
 *                [--rate EV_PER_S] [--duration S] [--window W] [--creds FILE]
 *       N pipelined connections (HELLO ID each), EVENTs with random ids and
 *       credentials from FILE (one 64-hex per line; random ones otherwise), at
 *       a fixed total rate or (rate 0) as fast as ACKs return.  Prints sent,
 *       acknowledged, events/s, tap-to-ACK latency p50/p99 and the longest
 *       time from opening a connection to its WELCOME.  With --retry a
 *       connection lost before its WELCOME is opened again after 200 ms, as
 *       a reader does (the WELCOME time then counts from the first try).
 *
 *   ingest idle  ... --reader ID --conns N [--duration S]
 *       Opens N connections, greets, and holds them (PING every 30 s);
 *       prints "connected N" once all are up, then sleeps.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "hex.h"
#include "log.h"
#include "proto.h"
#include "tls.h"

struct options {
	const char *mode;
	char host[256];
	int port;
	const char *cert, *key, *ca;
	const char *reader;
	const char *creds_file;
	int conns;
	double rate;
	double duration;
	int window;
	int expect;
	double timeout;
	bool retry;
};

struct client {
	int fd;
	struct tls_conn *tls;
	int state; /* 0 handshake, 1 await WELCOME, 2 running, 3 dead, 4 waiting to retry */
	char in[4096];
	size_t in_len;
	char *out;
	size_t out_len, out_cap;
	uint64_t prefix;
	uint64_t seq;
	int outstanding;
	int64_t *sent_us; /* by seq % window */
	int64_t last_ping_ms;
	int64_t connect_us; /* when its first TCP connection was opened */
	int64_t retry_us;   /* --retry: when to connect again (state 4) */
	bool epoll_out;
};

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int tcp_connect(const struct options *o)
{
	struct addrinfo hints, *res = NULL;
	char port[16];
	int fd = -1, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", o->port);
	if (getaddrinfo(o->host, port, &hints, &res) != 0)
		return -1;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0) {
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		(void)fcntl(fd, F_SETFL, O_NONBLOCK);
	}
	return fd;
}

static bool wait_fd(int fd, enum tls_io r, int ms)
{
	struct pollfd p = {fd, r == TLS_IO_WANT_WRITE ? POLLOUT : POLLIN, 0};

	return poll(&p, 1, ms) > 0;
}

/* --- send mode ------------------------------------------------------------- */

static int run_send(const struct options *o, struct tls_context *ctx)
{
	char *input = NULL, buf[4096], line[4096];
	size_t in_len = 0, in_cap = 0, off = 0, line_len = 0;
	int64_t deadline = daemon_monotonic_ms() + (int64_t)(o->timeout * 1000);
	int fd, got = 0;
	struct tls_conn *tls;
	enum tls_io r;
	ssize_t n;

	do {
		if (in_len == in_cap) {
			char *grown;

			in_cap = in_cap ? in_cap * 2 : 65536;
			grown = realloc(input, in_cap);
			if (grown == NULL) {
				free(input);
				return 3;
			}
			input = grown;
		}
		n = read(STDIN_FILENO, input + in_len, in_cap - in_len);
		if (n > 0)
			in_len += (size_t)n;
	} while (n > 0);
	fd = tcp_connect(o);
	if (fd < 0) {
		fprintf(stderr, "connect failed\n");
		free(input);
		return 3;
	}
	tls = tls_conn_new(ctx, fd, o->host);
	while ((r = tls_conn_handshake(tls)) == TLS_IO_WANT_READ || r == TLS_IO_WANT_WRITE)
		if (!wait_fd(fd, r, (int)(deadline - daemon_monotonic_ms())))
			break;
	if (r != TLS_IO_OK) {
		printf("TLS-FAILED %s\n", tls_conn_error(tls));
		tls_conn_free(tls);
		close(fd);
		free(input);
		return 1;
	}
	while (off < in_len) {
		size_t done = 0;

		r = tls_conn_write(tls, input + off, in_len - off, &done);
		if (r == TLS_IO_OK)
			off += done;
		else if (r == TLS_IO_WANT_READ || r == TLS_IO_WANT_WRITE)
			(void)wait_fd(fd, r, 100);
		else
			break;
	}
	while (o->expect == 0 || got < o->expect) {
		size_t done = 0, i;
		int64_t left = deadline - daemon_monotonic_ms();

		if (left <= 0)
			break;
		r = tls_conn_read(tls, buf, sizeof(buf), &done);
		if (r == TLS_IO_WANT_READ || r == TLS_IO_WANT_WRITE) {
			(void)wait_fd(fd, r, (int)left);
			continue;
		}
		if (r != TLS_IO_OK) {
			printf("CLOSED\n");
			break;
		}
		for (i = 0; i < done; i++) {
			if (buf[i] == '\n' || line_len == sizeof(line) - 1) {
				printf("%.*s\n", (int)line_len, line);
				line_len = 0;
				got++;
			} else {
				line[line_len++] = buf[i];
			}
		}
		fflush(stdout);
	}
	tls_conn_shutdown(tls);
	tls_conn_free(tls);
	close(fd);
	free(input);
	return 0;
}

/* --- load and idle modes ---------------------------------------------------- */

static char (*creds)[PROTO_CREDENTIAL_HEX + 1];
static size_t creds_count;

static int load_creds(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	size_t cap = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strlen(line) < PROTO_CREDENTIAL_HEX)
			continue;
		if (creds_count == cap) {
			void *grown;

			cap = cap ? cap * 2 : 64;
			grown = realloc(creds, cap * sizeof(*creds));
			if (grown == NULL) {
				fclose(f);
				return -1;
			}
			creds = grown;
		}
		memcpy(creds[creds_count], line, PROTO_CREDENTIAL_HEX);
		creds[creds_count][PROTO_CREDENTIAL_HEX] = '\0';
		creds_count++;
	}
	fclose(f);
	return 0;
}

static void client_queue(struct client *c, const char *s, size_t n)
{
	if (c->out_len + n > c->out_cap) {
		c->out_cap = (c->out_len + n) * 2;
		c->out = realloc(c->out, c->out_cap);
		if (c->out == NULL)
			abort();
	}
	memcpy(c->out + c->out_len, s, n);
	c->out_len += n;
}

static void client_flush(struct client *c)
{
	size_t off = 0;

	while (off < c->out_len) {
		size_t done = 0;
		enum tls_io r = tls_conn_write(c->tls, c->out + off, c->out_len - off, &done);

		if (r == TLS_IO_OK) {
			off += done;
			continue;
		}
		if (r != TLS_IO_WANT_READ && r != TLS_IO_WANT_WRITE)
			c->state = 3;
		break;
	}
	memmove(c->out, c->out + off, c->out_len - off);
	c->out_len -= off;
}

static void client_event(struct client *c, const struct options *o, uint64_t *rng)
{
	struct proto_msg m;
	char line[PROTO_LINE_MAX + 1];
	int n;

	memset(&m, 0, sizeof(m));
	m.verb = PROTO_EVENT;
	snprintf(m.event_id, sizeof(m.event_id), "%016llx%016llx", (unsigned long long)c->prefix,
		 (unsigned long long)c->seq);
	m.unix_ms = daemon_unix_ms();
	if (creds_count > 0) {
		memcpy(m.credential, creds[*rng % creds_count], sizeof(m.credential));
	} else {
		uint8_t raw[32];

		for (int i = 0; i < 32; i++) {
			*rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
			raw[i] = (uint8_t)(*rng >> 56);
		}
		if (hex_encode(raw, sizeof(raw), m.credential, sizeof(m.credential)) != 0)
			abort();
	}
	*rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
	n = proto_format(&m, line, sizeof(line));
	if (n < 0)
		abort();
	c->sent_us[c->seq % (uint64_t)o->window] = now_us();
	c->seq++;
	c->outstanding++;
	client_queue(c, line, (size_t)n);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Opens c's connection and registers it; -1 when connect failed. */
static int client_open(struct client *c, const struct options *o, struct tls_context *ctx, int epfd,
		       uint32_t index)
{
	struct epoll_event ev;

	c->fd = tcp_connect(o);
	if (c->fd < 0)
		return -1;
	c->tls = tls_conn_new(ctx, c->fd, o->host);
	c->state = 0;
	c->in_len = 0;
	c->out_len = 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.u32 = index;
	epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
	c->epoll_out = true;
	return 0;
}

static int run_load(const struct options *o, struct tls_context *ctx, bool idle)
{
	struct client *cs = calloc((size_t)o->conns, sizeof(*cs));
	int epfd = epoll_create1(0);
	int i, up = 0, dead = 0, opened = 0;
	uint64_t rng = (uint64_t)now_us() ^ (uint64_t)getpid() << 32;
	int64_t start_us = 0, sent_total = 0, acked = 0, lat_n = 0, lat_cap = 1 << 20;
	int64_t *lat = malloc((size_t)lat_cap * sizeof(*lat));
	int64_t end_us = 0, welcome_max_us = 0, retries = 0;
	char hello[PROTO_LINE_MAX + 1];
	bool reported = false;
	int rr = 0;

	if (cs == NULL || lat == NULL || epfd < 0)
		return 3;
	snprintf(hello, sizeof(hello), "HELLO sac/1 %s\n", o->reader);
	for (;;) {
		struct epoll_event evs[256];
		int n;
		int64_t t;

		/* Ramp up: a bounded number of handshakes at a time, so that
		 * none waits past the controller's handshake deadline. */
		while (opened < o->conns && opened - up - dead < 64) {
			struct client *c = &cs[opened];

			c->connect_us = now_us();
			if (client_open(c, o, ctx, epfd, (uint32_t)opened) != 0) {
				fprintf(stderr, "connect %d failed: %s\n", opened, strerror(errno));
				return 3;
			}
			c->sent_us = calloc((size_t)o->window, sizeof(int64_t));
			c->prefix = rng ^ ((uint64_t)opened << 20);
			rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
			opened++;
		}
		/* --retry: a connection lost before its WELCOME is opened again,
		 * as a reader would; its WELCOME time counts from the first try. */
		for (i = 0; i < opened; i++) {
			struct client *c = &cs[i];

			if (c->state == 4 && now_us() >= c->retry_us) {
				retries++;
				if (client_open(c, o, ctx, epfd, (uint32_t)i) != 0)
					c->retry_us = now_us() + 200000;
			}
		}
		n = epoll_wait(epfd, evs, 256, 1);
		t = now_us();

		for (int k = 0; k < n; k++) {
			struct client *c = &cs[evs[k].data.u32];

			if (c->state >= 3)
				continue;
			if (c->state == 0) {
				enum tls_io r = tls_conn_handshake(c->tls);

				if (r == TLS_IO_OK) {
					c->state = 1;
					client_queue(c, hello, strlen(hello));
					client_flush(c);
				} else if (r != TLS_IO_WANT_READ && r != TLS_IO_WANT_WRITE) {
					fprintf(stderr, "handshake: %s\n", tls_conn_error(c->tls));
					c->state = 3;
				}
				continue;
			}
			for (;;) {
				size_t done = 0;
				enum tls_io r = tls_conn_read(c->tls, c->in + c->in_len,
							      sizeof(c->in) - c->in_len, &done);
				char *p, *nl;

				if (r != TLS_IO_OK) {
					if (r != TLS_IO_WANT_READ && r != TLS_IO_WANT_WRITE) {
						fprintf(stderr, "connection %u closed: %s\n",
							evs[k].data.u32, tls_conn_error(c->tls));
						c->state = 3;
					}
					break;
				}
				c->in_len += done;
				p = c->in;
				while ((nl = memchr(p, '\n', c->in_len - (size_t)(p - c->in))) !=
				       NULL) {
					*nl = '\0';
					if (strncmp(p, "WELCOME ", 8) == 0) {
						c->state = 2;
						up++;
						if (t - c->connect_us > welcome_max_us)
							welcome_max_us = t - c->connect_us;
						c->last_ping_ms = daemon_monotonic_ms();
					} else if (strncmp(p, "ACK ", 4) == 0 && strlen(p) > 36) {
						uint64_t seq;
						char tmp = p[4 + 32];

						p[4 + 32] = '\0';
						seq = strtoull(p + 4 + 16, NULL, 16);
						p[4 + 32] = tmp;
						c->outstanding--;
						acked++;
						if (lat_n < lat_cap && start_us > 0)
							lat[lat_n++] =
								t -
								c->sent_us[seq % (uint64_t)o->window];
					} else if (strncmp(p, "ERR ", 4) == 0) {
						fprintf(stderr, "%s\n", p);
					}
					p = nl + 1;
				}
				memmove(c->in, p, c->in_len - (size_t)(p - c->in));
				c->in_len -= (size_t)(p - c->in);
			}
			if (c->out_len > 0)
				client_flush(c);
		}
		for (i = 0; i < opened; i++) {
			struct client *c = &cs[i];
			bool want = c->state == 0 || c->out_len > 0;

			if (c->state == 3 && c->fd >= 0) {
				epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				c->fd = -1;
				if (o->retry && c->last_ping_ms == 0) {
					/* Never welcomed: try again in 200 ms. */
					tls_conn_free(c->tls);
					c->tls = NULL;
					c->state = 4;
					c->retry_us = now_us() + 200000;
					continue;
				}
				dead++;
				continue;
			}
			if (c->state == 4)
				continue;
			if (c->state != 3 && want != c->epoll_out) {
				struct epoll_event ev;

				memset(&ev, 0, sizeof(ev));
				ev.events = EPOLLIN | (want ? EPOLLOUT : 0);
				ev.data.u32 = (uint32_t)i;
				epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
				c->epoll_out = want;
			}
		}
		if (up + dead < o->conns)
			continue;
		if (!reported) {
			reported = true;
			printf("connected %d\n", up);
			fflush(stdout);
			start_us = now_us();
			end_us = start_us + (int64_t)(o->duration * 1e6);
		}
		if (up == 0)
			break;
		if (idle) {
			int64_t ms = daemon_monotonic_ms();

			if (t >= end_us)
				break;
			for (i = 0; i < o->conns; i++)
				if (cs[i].state == 2 && ms - cs[i].last_ping_ms > 30000) {
					client_queue(&cs[i], "PING\n", 5);
					client_flush(&cs[i]);
					cs[i].last_ping_ms = ms;
				}
			continue;
		}
		if (t < end_us) {
			int64_t due = o->rate > 0 ? (int64_t)((double)(t - start_us) * o->rate / 1e6)
						  : INT64_MAX;
			int tries = 0;

			/* Round-robin over connections with room in their window. */
			while (sent_total < due && tries < o->conns) {
				struct client *c = &cs[rr];

				rr = (rr + 1) % o->conns;
				if (c->state != 2 || c->outstanding >= o->window) {
					tries++;
					continue;
				}
				tries = 0;
				client_event(c, o, &rng);
				sent_total++;
				if (o->rate > 0 || c->outstanding >= o->window)
					client_flush(c);
			}
			for (i = 0; i < o->conns; i++)
				if (cs[i].out_len > 0)
					client_flush(&cs[i]);
		} else {
			bool waiting = false;

			for (i = 0; i < o->conns; i++)
				if (cs[i].state == 2 && cs[i].outstanding > 0)
					waiting = true;
			if (!waiting || t > end_us + 30000000)
				break;
		}
	}
	if (!idle) {
		double secs = (double)(now_us() - start_us) / 1e6;

		qsort(lat, (size_t)lat_n, sizeof(*lat), cmp_i64);
		printf("sent %lld acked %lld seconds %.2f events_per_s %.0f p50_ms %.3f p99_ms %.3f "
		       "welcome_max_ms %.1f retries %lld\n",
		       (long long)sent_total, (long long)acked, secs, (double)acked / secs,
		       lat_n ? (double)lat[lat_n / 2] / 1000.0 : 0.0,
		       lat_n ? (double)lat[(lat_n * 99) / 100] / 1000.0 : 0.0,
		       (double)welcome_max_us / 1000.0, (long long)retries);
	}
	for (i = 0; i < opened; i++) {
		tls_conn_free(cs[i].tls);
		if (cs[i].fd >= 0)
			close(cs[i].fd);
		free(cs[i].out);
		free(cs[i].sent_us);
	}
	free(cs);
	free(lat);
	close(epfd);
	return dead > 0 && !idle ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"server", required_argument, NULL, 's'}, {"cert", required_argument, NULL, 'C'},
		{"key", required_argument, NULL, 'K'},	  {"ca", required_argument, NULL, 'A'},
		{"reader", required_argument, NULL, 'r'}, {"conns", required_argument, NULL, 'n'},
		{"rate", required_argument, NULL, 'R'},	  {"duration", required_argument, NULL, 'd'},
		{"window", required_argument, NULL, 'w'}, {"creds", required_argument, NULL, 'f'},
		{"expect", required_argument, NULL, 'e'}, {"timeout", required_argument, NULL, 't'},
		{"retry", no_argument, NULL, 'Y'},	  {NULL, 0, NULL, 0},
	};
	struct options o;
	struct tls_context *ctx;
	char err[256], *colon;
	struct rlimit rl;
	int opt, status;

	memset(&o, 0, sizeof(o));
	o.conns = 1;
	o.duration = 5;
	o.window = 64;
	o.timeout = 10;
	log_init("ingest", LOG_LEVEL_WARNING);
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		fprintf(stderr,
			"usage: ingest send|load|idle -s HOST:PORT --cert F --key F --ca F ...\n");
		return 2;
	}
	o.mode = argv[1];
	optind = 2;
	while ((opt = getopt_long(argc, argv, "s:", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			snprintf(o.host, sizeof(o.host), "%s", optarg);
			colon = strrchr(o.host, ':');
			if (colon == NULL)
				return 2;
			*colon = '\0';
			o.port = atoi(colon + 1);
			break;
		case 'C':
			o.cert = optarg;
			break;
		case 'K':
			o.key = optarg;
			break;
		case 'A':
			o.ca = optarg;
			break;
		case 'r':
			o.reader = optarg;
			break;
		case 'n':
			o.conns = atoi(optarg);
			break;
		case 'R':
			o.rate = atof(optarg);
			break;
		case 'd':
			o.duration = atof(optarg);
			break;
		case 'w':
			o.window = atoi(optarg);
			break;
		case 'f':
			o.creds_file = optarg;
			break;
		case 'e':
			o.expect = atoi(optarg);
			break;
		case 'Y':
			o.retry = true;
			break;
		case 't':
			o.timeout = atof(optarg);
			break;
		default:
			return 2;
		}
	}
	if (o.port == 0 || o.cert == NULL || o.key == NULL || o.ca == NULL || o.conns < 1 ||
	    o.window < 1)
		return 2;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (o.creds_file != NULL && load_creds(o.creds_file) != 0) {
		fprintf(stderr, "cannot read %s\n", o.creds_file);
		return 2;
	}
	ctx = tls_client_context_new(o.cert, o.key, o.ca, NULL, err, sizeof(err));
	if (ctx == NULL) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (strcmp(o.mode, "send") == 0)
		status = run_send(&o, ctx);
	else if ((strcmp(o.mode, "load") == 0 || strcmp(o.mode, "idle") == 0) && o.reader != NULL)
		status = run_load(&o, ctx, strcmp(o.mode, "idle") == 0);
	else
		status = 2;
	tls_context_free(ctx);
	free(creds);
	return status;
}
