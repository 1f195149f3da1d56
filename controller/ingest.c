/*
 * ingest — see ingest.h.  The network thread appends to queues under one
 * mutex; each worker thread takes a batch from its own queue, calls
 * sac.ingest with four array parameters (text form, built from validated
 * protocol fields only) on its own connection, and posts one result per
 * event.  An event goes to the worker its credential hashes to, so that
 * one badge's events are stored in the order they came, by one worker.
 */
#include "ingest.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "daemon.h"
#include "db.h"
#include "log.h"
#include "secret.h"
#include "testbreak.h"

#define INGEST_SEEN_INTERVAL_MS 5000
#define INGEST_BACKOFF_MIN_MS 250
/* One attempt a second at most while the database is away: after a failover
 * the new primary takes writes within about a second of being promoted, at
 * the cost of one refused connection a second per controller meanwhile. */
#define INGEST_BACKOFF_MAX_MS 1000

struct ingest_event {
	struct ingest_peer peer;
	char reader_id[PROTO_READER_ID_MAX + 1];
	char event_id[PROTO_EVENT_ID_HEX + 1];
	char credential[PROTO_CREDENTIAL_HEX + 1];
	int64_t unix_ms;
};

struct ingest_hello {
	struct ingest_peer peer;
	char reader_id[PROTO_READER_ID_MAX + 1];
};

/* A growable array; used as a queue with a head index. */
struct ingest_vec {
	void *items;
	size_t head, count, cap, size;
};

struct buf {
	char *p;
	size_t len, cap;
	bool failed;
};

struct ingest;

/* One database connection and the thread that owns it.  Worker 0 also
 * greets readers and marks them seen. */
struct ingest_worker {
	struct ingest *ig;
	unsigned index;
	pthread_t thread;
	bool started;
	pthread_cond_t wake;
	struct ingest_vec events; /* struct ingest_event; under ig->lock */

	/* Owned by the worker thread. */
	PGconn *db;
	bool prepared;		/* INGEST_STATEMENT is prepared on db */
	unsigned db_generation; /* ig->generation when db was connected */
	int64_t next_seen_ms;	/* worker 0 */
};

struct ingest {
	pthread_mutex_t lock;
	int event_fd;
	char *conninfo;
	char *controller_name;
	struct ingest_worker workers[INGEST_WORKERS];

	/* Under lock. */
	struct ingest_vec hellos;  /* struct ingest_hello (worker 0) */
	struct ingest_vec results; /* struct ingest_result */
	char **connected;
	size_t connected_count;
	size_t in_flight;
	bool stop;
	int64_t stop_deadline_ms;
	/* One outage for all workers: logged once, one connection attempt at a
	 * time after backoff.  generation counts outages: a connection made
	 * before the last one began is stale and replaced without a word. */
	bool outage;
	int64_t outage_since_ms;
	unsigned generation;
	struct backoff backoff;
	int64_t next_connect_ms;

	/* The listener thread: its own connection, LISTEN sac_reader_disabled. */
	pthread_t listener;
	bool listener_started;
};

static int ingest_vec_push(struct ingest_vec *v, const void *item)
{
	if (v->head > 0 && v->head + v->count == v->cap) {
		memmove(v->items, (char *)v->items + v->head * v->size, v->count * v->size);
		v->head = 0;
	}
	if (v->head + v->count == v->cap) {
		size_t cap = v->cap > 0 ? v->cap * 2 : 256;
		void *items = realloc(v->items, cap * v->size);

		if (items == NULL)
			return -1;
		v->items = items;
		v->cap = cap;
	}
	memcpy((char *)v->items + (v->head + v->count) * v->size, item, v->size);
	v->count++;
	return 0;
}

static void *ingest_vec_at(struct ingest_vec *v, size_t i)
{
	return (char *)v->items + (v->head + i) * v->size;
}

static void ingest_vec_drop_front(struct ingest_vec *v, size_t n)
{
	v->head += n;
	v->count -= n;
	if (v->count == 0)
		v->head = 0;
}

static void ingest_vec_free(struct ingest_vec *v)
{
	free(v->items);
	memset(v, 0, sizeof(*v));
}

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap > 0 ? b->cap : 4096;
		char *p;

		while (b->len + n + 1 > cap)
			cap *= 2;
		p = realloc(b->p, cap);
		if (p == NULL) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Posts results and wakes the network thread; called with the lock held. */
static void ingest_post_locked(struct ingest *ig, const struct ingest_result *r)
{
	uint64_t one = 1;

	if (ingest_vec_push(&ig->results, r) != 0) {
		log_error("out of memory posting a result; the reader will resend");
		return;
	}
	if (write(ig->event_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("eventfd write");
}

static void ingest_drop_connection(struct ingest_worker *w)
{
	PQfinish(w->db);
	w->db = NULL;
	w->prepared = false;
}

/* Called when w could not connect, or its connection failed under a
 * statement.  A connection older than the last outage was expected to fail
 * and is replaced at once; anything else starts an outage, logged once for
 * all workers, and schedules the next attempt after backoff. */
static void ingest_note_outage(struct ingest_worker *w, const char *why)
{
	struct ingest *ig = w->ig;
	int64_t now = daemon_monotonic_ms();
	bool stale = w->db != NULL && w->db_generation != ig->generation;

	ingest_drop_connection(w);
	pthread_mutex_lock(&ig->lock);
	if (!stale && !ig->outage) {
		char clean[300];
		size_t len;

		snprintf(clean, sizeof(clean), "%s", why);
		len = strlen(clean);
		while (len > 0 && (clean[len - 1] == '\n' || clean[len - 1] == ' '))
			clean[--len] = '\0';
		for (char *p = clean; *p != '\0'; p++)
			if (*p == '\n')
				*p = ' ';
		log_error("database unavailable, holding events until it returns: %s", clean);
		ig->outage = true;
		ig->outage_since_ms = now;
		ig->generation++;
		backoff_reset(&ig->backoff);
	}
	if (!stale)
		ig->next_connect_ms = now + backoff_failed(&ig->backoff);
	pthread_mutex_unlock(&ig->lock);
}

/* Connects if needed and due.  Returns true when a connection is usable. */
static bool ingest_connect(struct ingest_worker *w)
{
	struct ingest *ig = w->ig;
	char err[512];
	unsigned generation;

	pthread_mutex_lock(&ig->lock);
	generation = ig->generation;
	pthread_mutex_unlock(&ig->lock);
	if (w->db != NULL && w->db_generation != generation)
		ingest_drop_connection(w); /* made before the last outage */
	if (w->db != NULL)
		return true;
	pthread_mutex_lock(&ig->lock);
	if (ig->outage && daemon_monotonic_ms() < ig->next_connect_ms) {
		pthread_mutex_unlock(&ig->lock);
		return false;
	}
	pthread_mutex_unlock(&ig->lock);
	w->db = db_connect(ig->conninfo, "sac-controller", err, sizeof(err));
	if (w->db == NULL) {
		ingest_note_outage(w, err);
		return false;
	}
	pthread_mutex_lock(&ig->lock);
	w->db_generation = ig->generation;
	if (ig->outage) {
		log_notice("database reachable again after %lld s",
			   (long long)((daemon_monotonic_ms() - ig->outage_since_ms) / 1000));
		ig->outage = false;
	} else if (w->index == 0) {
		log_info("connected to the database");
	}
	pthread_mutex_unlock(&ig->lock);
	return true;
}

/* Classifies a failed result: true when the connection (not the statement)
 * failed, in which case the connection is dropped for a reconnect. */
static bool ingest_failed(struct ingest_worker *w, PGresult *res, const char *what)
{
	const char *state = db_sqlstate(res);

	if (db_is_connection_error(w->db, res)) {
		char why[300];

		snprintf(why, sizeof(why), "%s: %s", what, PQerrorMessage(w->db));
		ingest_note_outage(w, why);
		return true;
	}
	{
		const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

		log_error("%s failed: SQLSTATE %s: %s", what, state, msg != NULL ? msg : "");
	}
	return false;
}

static enum proto_verdict ingest_parse_verdict(const char *s, bool *ok)
{
	*ok = true;
	if (strcmp(s, "GRANT") == 0)
		return PROTO_GRANT;
	if (strcmp(s, "DENY") == 0)
		return PROTO_DENY;
	if (strcmp(s, "EXPIRED") == 0)
		return PROTO_EXPIRED;
	*ok = false;
	return PROTO_DENY;
}

#if SAC_BROKEN(redelivery_twice)
/* Test build only (common/testbreak.h): an event id seen before is stored
 * under another id, as if the ledger did not recognise a redelivery. */
static const char *ingest_broken_id(const char *id)
{
	static __thread char seen[1 << 16][PROTO_EVENT_ID_HEX + 1];
	static __thread char other[PROTO_EVENT_ID_HEX + 1];
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; id[i] != '\0'; i++)
		h = (h ^ (uint8_t)id[i]) * 16777619u;
	for (h &= 0xFFFF; seen[h][0] != '\0'; h = (h + 1) & 0xFFFF) {
		if (strcmp(seen[h], id) == 0) {
			memcpy(other, id, sizeof(other));
			other[PROTO_EVENT_ID_HEX - 1] = id[PROTO_EVENT_ID_HEX - 1] == '0' ? '1' : '0';
			return other;
		}
	}
	snprintf(seen[h], sizeof(seen[h]), "%s", id);
	return id;
}
#endif

/* The batch statement, prepared once per connection: parsed and planned
 * once, not at every batch. */
#define INGEST_STATEMENT "sac_ingest"
#define INGEST_SQL \
	"SELECT ord, verdict FROM sac.ingest($1::text[], $2::uuid[], $3::bigint[], $4::bytea[])"

/* Prepares INGEST_STATEMENT on a new connection.  Returns 0, or as
 * ingest_batch does: 1 to retry (the connection failed), -1 when refused. */
static int ingest_prepare(struct ingest_worker *w)
{
	PGresult *res;
	int ret = 0;

	if (w->prepared)
		return 0;
	res = PQprepare(w->db, INGEST_STATEMENT, INGEST_SQL, 4, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		ret = ingest_failed(w, res, "preparing the batch statement") ? 1 : -1;
	else
		w->prepared = true;
	PQclear(res);
	return ret;
}

#if SAC_BROKEN(ack_before_commit)
/* Test build only (common/testbreak.h): every event of the batch is
 * acknowledged, and only then, a while later, stored. */
static void ingest_broken_ack_early(struct ingest *ig, const struct ingest_event *batch, size_t n)
{
	struct ingest_result r;
	size_t i;

	pthread_mutex_lock(&ig->lock);
	for (i = 0; i < n; i++) {
		memset(&r, 0, sizeof(r));
		r.kind = INGEST_RESULT_ACK;
		r.peer = batch[i].peer;
		memcpy(r.event_id, batch[i].event_id, sizeof(r.event_id));
		r.verdict = PROTO_GRANT;
		ingest_post_locked(ig, &r);
	}
	pthread_mutex_unlock(&ig->lock);
	usleep(200 * 1000);
}
#endif

/* Runs one sac.ingest call for batch[0..n).  Returns 0 when committed and
 * answered, 1 when it must be retried (connection or transient failure),
 * -1 when the batch was refused (dropped without ACK, logged). */
static int ingest_batch(struct ingest_worker *w, const struct ingest_event *batch, size_t n)
{
	struct ingest *ig = w->ig;
	struct buf readers = {0}, ids = {0}, times = {0}, creds = {0};
	const char *values[4];
	PGresult *res = NULL;
	struct ingest_result *out = NULL;
	char num[32];
	size_t i;
	int ret = -1;
	int64_t started;

	for (i = 0; i < n; i++) {
		const char *sep = i == 0 ? "{" : ",";

		buf_adds(&readers, sep);
		buf_adds(&readers, batch[i].reader_id);
		buf_adds(&ids, sep);
#if SAC_BROKEN(redelivery_twice)
		buf_adds(&ids, ingest_broken_id(batch[i].event_id));
#else
		buf_adds(&ids, batch[i].event_id);
#endif
		buf_adds(&times, sep);
		snprintf(num, sizeof(num), "%lld", (long long)batch[i].unix_ms);
		buf_adds(&times, num);
		buf_adds(&creds, sep);
		buf_adds(&creds, "\"\\\\x");
		buf_adds(&creds, batch[i].credential);
		buf_adds(&creds, "\"");
	}
	buf_adds(&readers, "}");
	buf_adds(&ids, "}");
	buf_adds(&times, "}");
	buf_adds(&creds, "}");
	if (readers.failed || ids.failed || times.failed || creds.failed) {
		log_error("out of memory building a batch of %zu events", n);
		ret = 1;
		goto out;
	}
#if SAC_BROKEN(ack_before_commit)
	ingest_broken_ack_early(ig, batch, n);
#endif
	started = daemon_monotonic_ms();
	ret = ingest_prepare(w);
	if (ret != 0)
		goto out;
	ret = -1;
	values[0] = readers.p;
	values[1] = ids.p;
	values[2] = times.p;
	values[3] = creds.p;
	res = PQexecPrepared(w->db, INGEST_STATEMENT, 4, values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *state = db_sqlstate(res);

		if (ingest_failed(w, res, "storing a batch") || strncmp(state, "40", 2) == 0)
			ret = 1;
		goto out;
	}
	if ((size_t)PQntuples(res) != n || PQnfields(res) != 2) {
		log_error("sac.ingest returned %d rows for %zu events", PQntuples(res), n);
		goto out;
	}
	out = calloc(n, sizeof(*out));
	if (out == NULL) {
		log_error("out of memory reading a batch result");
		goto out;
	}
	for (i = 0; i < n; i++) {
		long ord = strtol(PQgetvalue(res, (int)i, 0), NULL, 10);
		bool ok;

		if (ord < 1 || (size_t)ord > n) {
			log_error("sac.ingest returned an out-of-range ordinal");
			goto out;
		}
		out[i].kind = INGEST_RESULT_ACK;
		out[i].peer = batch[ord - 1].peer;
		memcpy(out[i].event_id, batch[ord - 1].event_id, sizeof(out[i].event_id));
		out[i].verdict = ingest_parse_verdict(PQgetvalue(res, (int)i, 1), &ok);
		if (!ok) {
			log_error("sac.ingest returned an unknown verdict");
			goto out;
		}
	}
	pthread_mutex_lock(&ig->lock);
	for (i = 0; i < n && !SAC_BROKEN(ack_before_commit); i++)
		ingest_post_locked(ig, &out[i]);
	pthread_mutex_unlock(&ig->lock);
	log_debug("stored a batch of %zu events in %lld ms", n,
		  (long long)(daemon_monotonic_ms() - started));
	ret = 0;
out:
	PQclear(res);
	free(out);
	free(readers.p);
	free(ids.p);
	free(times.p);
	secret_wipe(creds.p, creds.cap);
	free(creds.p);
	return ret;
}

static void ingest_hellos(struct ingest_worker *w, const struct ingest_hello *hellos, size_t n)
{
	struct ingest *ig = w->ig;
	size_t i;

	for (i = 0; i < n; i++) {
		struct ingest_result r;
		const char *values[1] = {hellos[i].reader_id};
		PGresult *res = NULL;

		memset(&r, 0, sizeof(r));
		r.kind = INGEST_RESULT_HELLO;
		r.peer = hellos[i].peer;
		r.hello = INGEST_HELLO_UNAVAILABLE;
		if (ingest_connect(w)) {
			res = PQexecParams(w->db, "SELECT sac.reader_hello($1)", 1, NULL, values, NULL,
					   NULL, 0);
			if (PQresultStatus(res) != PGRES_TUPLES_OK) {
				(void)ingest_failed(w, res, "greeting a reader");
			} else if (PQntuples(res) == 1 && PQnfields(res) == 1) {
				const char *a = PQgetvalue(res, 0, 0);

				r.hello = strcmp(a, "ok") == 0	       ? INGEST_HELLO_OK
					  : strcmp(a, "disabled") == 0 ? INGEST_HELLO_DISABLED
								       : INGEST_HELLO_UNKNOWN;
			}
			PQclear(res);
		}
		pthread_mutex_lock(&ig->lock);
		ingest_post_locked(ig, &r);
		pthread_mutex_unlock(&ig->lock);
	}
}

static void ingest_readers_seen(struct ingest_worker *w)
{
	struct ingest *ig = w->ig;
	struct buf ids = {0};
	const char *values[2];
	PGresult *res = NULL;
	size_t i;
	int row;

	pthread_mutex_lock(&ig->lock);
	for (i = 0; i < ig->connected_count; i++) {
		buf_adds(&ids, i == 0 ? "{" : ",");
		buf_adds(&ids, ig->connected[i]);
	}
	pthread_mutex_unlock(&ig->lock);
	if (ids.len == 0 || ids.failed)
		goto out;
	buf_adds(&ids, "}");
	values[0] = ids.p;
	values[1] = ig->controller_name;
	res = PQexecParams(w->db, "SELECT reader_id, enabled FROM sac.readers_seen($1::text[], $2)", 2,
			   NULL, values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		(void)ingest_failed(w, res, "marking readers seen");
		goto out;
	}
	if (PQnfields(res) != 2)
		goto out;
	pthread_mutex_lock(&ig->lock);
	for (row = 0; row < PQntuples(res); row++) {
		struct ingest_result r;

		if (strcmp(PQgetvalue(res, row, 1), "t") == 0)
			continue;
		memset(&r, 0, sizeof(r));
		r.kind = INGEST_RESULT_DISABLED;
		snprintf(r.reader_id, sizeof(r.reader_id), "%s", PQgetvalue(res, row, 0));
		ingest_post_locked(ig, &r);
	}
	pthread_mutex_unlock(&ig->lock);
out:
	PQclear(res);
	free(ids.p);
}

static void ingest_wait_locked(struct ingest_worker *w, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&w->wake, &w->ig->lock, &ts);
}

/* Stores batch[0..n): true when it is done with (committed and answered,
 * or refused and dropped), false when it must be tried again. */
static bool ingest_store(struct ingest_worker *w, const struct ingest_event *batch, size_t n)
{
	struct ingest *ig = w->ig;
	int r = ingest_batch(w, batch, n);
	size_t i;

	if (r > 0)
		return false;
	pthread_mutex_lock(&ig->lock);
	for (i = 0; r < 0 && i < n; i++) {
		struct ingest_result d;

		memset(&d, 0, sizeof(d));
		d.kind = INGEST_RESULT_DROPPED;
		d.peer = batch[i].peer;
		ingest_post_locked(ig, &d);
	}
	ig->in_flight -= n;
	pthread_mutex_unlock(&ig->lock);
	return true;
}

/* True when worker w has something to do now (called with the lock held). */
static bool ingest_has_work_locked(const struct ingest_worker *w, size_t batch_n, int64_t now)
{
	const struct ingest *ig = w->ig;

	if (ig->stop || batch_n > 0 || w->events.count > 0)
		return true;
	return w->index == 0 && (ig->hellos.count > 0 || now >= w->next_seen_ms);
}

/* How long worker w may sleep with nothing to do. */
static int64_t ingest_idle_ms(const struct ingest_worker *w, int64_t now)
{
	return w->index == 0 ? w->next_seen_ms - now : INGEST_SEEN_INTERVAL_MS;
}

static void *ingest_main(void *arg)
{
	struct ingest_worker *w = arg;
	struct ingest *ig = w->ig;
	struct ingest_event *batch = calloc(INGEST_BATCH_MAX, sizeof(*batch));
	size_t batch_n = 0;

	if (batch == NULL) {
		log_error("out of memory starting a database thread");
		return NULL;
	}
	w->next_seen_ms = daemon_monotonic_ms() + INGEST_SEEN_INTERVAL_MS;
	/* Connect now, so that a wrong conninfo shows in the log at start. */
	(void)ingest_connect(w);
	for (;;) {
		struct ingest_hello *hellos = NULL;
		size_t hello_n = 0;
		int64_t now = daemon_monotonic_ms();
		size_t left;
		bool give_up;

		pthread_mutex_lock(&ig->lock);
		while (!ingest_has_work_locked(w, batch_n, now)) {
			ingest_wait_locked(w, ingest_idle_ms(w, now));
			now = daemon_monotonic_ms();
		}
		give_up = ig->stop &&
			  (now >= ig->stop_deadline_ms || (batch_n == 0 && w->events.count == 0));
		if (batch_n == 0 && !give_up) {
			batch_n = w->events.count < INGEST_BATCH_MAX ? w->events.count
								     : INGEST_BATCH_MAX;
			if (batch_n > 0) {
				memcpy(batch, ingest_vec_at(&w->events, 0), batch_n * sizeof(*batch));
				ingest_vec_drop_front(&w->events, batch_n);
			}
		}
		if (w->index == 0 && ig->hellos.count > 0) {
			hello_n = ig->hellos.count;
			hellos = malloc(hello_n * sizeof(*hellos));
			if (hellos != NULL) {
				memcpy(hellos, ingest_vec_at(&ig->hellos, 0),
				       hello_n * sizeof(*hellos));
				ingest_vec_drop_front(&ig->hellos, hello_n);
			} else {
				hello_n = 0;
			}
		}
		left = batch_n + w->events.count;
		pthread_mutex_unlock(&ig->lock);
		if (give_up) {
			if (left > 0)
				log_warning("stopping with %zu events not stored (not acknowledged: "
					    "the readers keep and resend them)",
					    left);
			free(hellos);
			break;
		}

		ingest_hellos(w, hellos, hello_n);
		free(hellos);

		if (batch_n > 0 && ingest_connect(w) && ingest_store(w, batch, batch_n)) {
			/* Done with these credentials. */
			secret_wipe(batch, batch_n * sizeof(*batch));
			batch_n = 0;
		}
		if (w->index == 0 && daemon_monotonic_ms() >= w->next_seen_ms) {
			if (ingest_connect(w))
				ingest_readers_seen(w);
			w->next_seen_ms = daemon_monotonic_ms() + INGEST_SEEN_INTERVAL_MS;
		}
		/* Down: wait for the next attempt rather than spin on the batch. */
		if (w->db == NULL && batch_n > 0) {
			pthread_mutex_lock(&ig->lock);
			if (!ig->stop || daemon_monotonic_ms() < ig->stop_deadline_ms) {
				int64_t wait = ig->next_connect_ms - daemon_monotonic_ms();

				if (wait > 0)
					ingest_wait_locked(w, wait);
			}
			pthread_mutex_unlock(&ig->lock);
		}
	}
	free(batch);
	ingest_drop_connection(w);
	return NULL;
}

/* Posts one reader the database named in a sac_reader_disabled
 * notification (sql/010_admin.sql): its connections are closed at once. */
static void ingest_notified(struct ingest *ig, const PGnotify *n)
{
	struct ingest_result r;

	if (n->extra == NULL || n->extra[0] == '\0' || strlen(n->extra) > PROTO_READER_ID_MAX)
		return;
	log_info("reader %s disabled (notified by the database): closing its connections", n->extra);
	memset(&r, 0, sizeof(r));
	r.kind = INGEST_RESULT_DISABLED;
	snprintf(r.reader_id, sizeof(r.reader_id), "%s", n->extra);
	pthread_mutex_lock(&ig->lock);
	ingest_post_locked(ig, &r);
	pthread_mutex_unlock(&ig->lock);
}

static bool ingest_stopping(struct ingest *ig)
{
	bool stop;

	pthread_mutex_lock(&ig->lock);
	stop = ig->stop;
	pthread_mutex_unlock(&ig->lock);
	return stop;
}

/* Connects and LISTENs.  Returns the connection, or NULL (logged at debug
 * level: the database thread already reports an outage). */
static PGconn *ingest_listen_connect(struct ingest *ig)
{
	char err[512];
	PGconn *db = db_connect(ig->conninfo, "sac-controller listener", err, sizeof(err));
	PGresult *res;

	if (db == NULL) {
		log_debug("listener: %s", err);
		return NULL;
	}
	res = PQexec(db, "LISTEN sac_reader_disabled");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		log_debug("listener: LISTEN: %s", PQerrorMessage(db));
		PQclear(res);
		PQfinish(db);
		return NULL;
	}
	PQclear(res);
	return db;
}

/* The listener thread: waits for notifications on its own connection and
 * reconnects with backoff.  Readers found disabled are also caught by the
 * periodic readers_seen call, so a lost notification delays, never loses,
 * the closing. */
static void *ingest_listen_main(void *arg)
{
	struct ingest *ig = arg;
	struct backoff retry;
	PGconn *db = NULL;
	int64_t next_try = 0;

	backoff_init(&retry, INGEST_BACKOFF_MIN_MS, INGEST_BACKOFF_MAX_MS);
	while (!ingest_stopping(ig)) {
		struct pollfd pfd;
		PGnotify *n;

		if (db == NULL) {
			if (daemon_monotonic_ms() < next_try) {
				(void)poll(NULL, 0, 100);
				continue;
			}
			db = ingest_listen_connect(ig);
			if (db == NULL) {
				next_try = daemon_monotonic_ms() + backoff_failed(&retry);
				continue;
			}
			backoff_reset(&retry);
		}
		pfd.fd = PQsocket(db);
		if (pfd.fd < 0 || PQstatus(db) != CONNECTION_OK) {
			PQfinish(db);
			db = NULL;
			next_try = daemon_monotonic_ms() + backoff_failed(&retry);
			continue;
		}
		pfd.events = POLLIN;
		pfd.revents = 0;
		/* Short waits: ingest_stop must not wait long for this thread. */
		if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
			log_warn("listener: poll");
		if (pfd.revents == 0)
			continue;
		if (PQconsumeInput(db) == 0) {
			log_debug("listener: %s", PQerrorMessage(db));
			PQfinish(db);
			db = NULL;
			next_try = daemon_monotonic_ms() + backoff_failed(&retry);
			continue;
		}
		while ((n = PQnotifies(db)) != NULL) {
			ingest_notified(ig, n);
			PQfreemem(n);
		}
	}
	PQfinish(db);
	return NULL;
}

struct ingest *ingest_start(const char *conninfo, const char *controller_name)
{
	struct ingest *ig = calloc(1, sizeof(*ig));
	pthread_condattr_t attr;
	unsigned i;

	if (ig == NULL)
		return NULL;
	ig->event_fd = -1;
	backoff_init(&ig->backoff, INGEST_BACKOFF_MIN_MS, INGEST_BACKOFF_MAX_MS);
	pthread_mutex_init(&ig->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	for (i = 0; i < INGEST_WORKERS; i++) {
		struct ingest_worker *w = &ig->workers[i];

		w->ig = ig;
		w->index = i;
		w->events.size = sizeof(struct ingest_event);
		pthread_cond_init(&w->wake, &attr);
	}
	pthread_condattr_destroy(&attr);
	ig->hellos.size = sizeof(struct ingest_hello);
	ig->results.size = sizeof(struct ingest_result);
	ig->conninfo = strdup(conninfo);
	ig->controller_name = strdup(controller_name);
	ig->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ig->conninfo == NULL || ig->controller_name == NULL || ig->event_fd < 0) {
		log_err("starting the database threads");
		goto fail;
	}
	for (i = 0; i < INGEST_WORKERS; i++) {
		struct ingest_worker *w = &ig->workers[i];

		if (pthread_create(&w->thread, NULL, ingest_main, w) != 0) {
			log_error("cannot start a database thread");
			goto fail;
		}
		w->started = true;
	}
	if (pthread_create(&ig->listener, NULL, ingest_listen_main, ig) != 0) {
		log_error("cannot start the database listener thread");
		goto fail;
	}
	ig->listener_started = true;
	return ig;
fail:
	ingest_stop(ig, 0);
	return NULL;
}

void ingest_stop(struct ingest *ig, int64_t grace_ms)
{
	size_t i;

	if (ig == NULL)
		return;
	pthread_mutex_lock(&ig->lock);
	ig->stop = true;
	ig->stop_deadline_ms = daemon_monotonic_ms() + grace_ms;
	for (i = 0; i < INGEST_WORKERS; i++)
		pthread_cond_signal(&ig->workers[i].wake);
	pthread_mutex_unlock(&ig->lock);
	for (i = 0; i < INGEST_WORKERS; i++)
		if (ig->workers[i].started)
			pthread_join(ig->workers[i].thread, NULL);
	if (ig->listener_started)
		pthread_join(ig->listener, NULL);
	for (i = 0; i < INGEST_WORKERS; i++) {
		ingest_vec_free(&ig->workers[i].events);
		pthread_cond_destroy(&ig->workers[i].wake);
	}
	ingest_vec_free(&ig->hellos);
	ingest_vec_free(&ig->results);
	for (i = 0; i < ig->connected_count; i++)
		free(ig->connected[i]);
	free(ig->connected);
	if (ig->event_fd >= 0)
		close(ig->event_fd);
	pthread_mutex_destroy(&ig->lock);
	free(ig->conninfo);
	free(ig->controller_name);
	free(ig);
}

int ingest_wakeup_fd(const struct ingest *ig)
{
	return ig->event_fd;
}

/* The worker for a credential (hex of an HMAC: its first byte is uniform). */
static unsigned ingest_shard(const char *credential_hex)
{
	unsigned byte = 0;
	int k;

	for (k = 0; k < 2; k++) {
		char c = credential_hex[k];

		byte = byte * 16 + (unsigned)(c >= 'a'	 ? c - 'a' + 10
					      : c >= 'A' ? c - 'A' + 10
							 : c - '0');
	}
	return byte % INGEST_WORKERS;
}

int ingest_queue_event(struct ingest *ig, struct ingest_peer peer, const char *reader_id,
		       const struct proto_msg *event)
{
	struct ingest_worker *w;
	struct ingest_event e;
	int ret;

	memset(&e, 0, sizeof(e));
	e.peer = peer;
	snprintf(e.reader_id, sizeof(e.reader_id), "%s", reader_id);
	memcpy(e.event_id, event->event_id, sizeof(e.event_id));
	memcpy(e.credential, event->credential, sizeof(e.credential));
	e.unix_ms = event->unix_ms;
	w = &ig->workers[ingest_shard(e.credential)];
	pthread_mutex_lock(&ig->lock);
	ret = ingest_vec_push(&w->events, &e);
	if (ret == 0) {
		ig->in_flight++;
		/* Wake the worker only when it is idle; otherwise it picks the
		 * event up with its next batch. */
		if (w->events.count == 1)
			pthread_cond_signal(&w->wake);
	}
	pthread_mutex_unlock(&ig->lock);
	secret_wipe(e.credential, sizeof(e.credential));
	return ret;
}

int ingest_queue_hello(struct ingest *ig, struct ingest_peer peer, const char *reader_id)
{
	struct ingest_hello h;
	int ret;

	memset(&h, 0, sizeof(h));
	h.peer = peer;
	snprintf(h.reader_id, sizeof(h.reader_id), "%s", reader_id);
	pthread_mutex_lock(&ig->lock);
	ret = ingest_vec_push(&ig->hellos, &h);
	if (ret == 0)
		pthread_cond_signal(&ig->workers[0].wake);
	pthread_mutex_unlock(&ig->lock);
	return ret;
}

void ingest_set_connected(struct ingest *ig, const char *const *ids, size_t count)
{
	char **copy = calloc(count > 0 ? count : 1, sizeof(*copy));
	size_t i, n = 0;

	if (copy == NULL)
		return;
	for (i = 0; i < count; i++) {
		copy[n] = strdup(ids[i]);
		if (copy[n] != NULL)
			n++;
	}
	pthread_mutex_lock(&ig->lock);
	for (i = 0; i < ig->connected_count; i++)
		free(ig->connected[i]);
	free(ig->connected);
	ig->connected = copy;
	ig->connected_count = n;
	pthread_mutex_unlock(&ig->lock);
}

size_t ingest_take_results(struct ingest *ig, struct ingest_result **out)
{
	uint64_t value;
	size_t n;

	*out = NULL;
	if (read(ig->event_fd, &value, sizeof(value)) < 0 && errno != EAGAIN)
		log_warn("eventfd read");
	pthread_mutex_lock(&ig->lock);
	n = ig->results.count;
	if (n > 0) {
		*out = malloc(n * sizeof(**out));
		if (*out != NULL) {
			memcpy(*out, ingest_vec_at(&ig->results, 0), n * sizeof(**out));
			ingest_vec_drop_front(&ig->results, n);
		} else {
			n = 0;
		}
	}
	pthread_mutex_unlock(&ig->lock);
	return n;
}

size_t ingest_backlog(struct ingest *ig)
{
	size_t n;

	pthread_mutex_lock(&ig->lock);
	n = ig->in_flight;
	pthread_mutex_unlock(&ig->lock);
	return n;
}
