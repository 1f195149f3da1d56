/*
 * session — see session.h.  A fixed table under one mutex finds sessions;
 * each session has its own mutex for its connection and a reference count,
 * so that ending a session while a request is using it closes the
 * connection only when that request is done.
 */
#include "session.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "daemon.h"

struct session {
	char id[SESSION_TOKEN_SIZE];
	char csrf[SESSION_TOKEN_SIZE];
	char role[64];
	unsigned groups;
	PGconn *conn;
	int64_t last_used_ms;
	int refs;	      /* the table's reference plus one per request; under table_lock */
	bool ended;	      /* removed from the table; under table_lock */
	pthread_mutex_t lock; /* held by the request using conn */
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct session *table[SESSION_MAX];
static int64_t idle_limit_ms = 600 * 1000;

void session_init(int64_t idle_s)
{
	idle_limit_ms = idle_s * 1000;
}

int session_random_hex(char *out, size_t size)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char buf[64];
	size_t i, got = 0;

	if (size > sizeof(buf))
		return -1;
	while (got < size) {
		ssize_t n = getrandom(buf + got, size - got, 0);

		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	for (i = 0; i < size; i++) {
		out[2 * i] = digits[buf[i] >> 4];
		out[2 * i + 1] = digits[buf[i] & 15];
	}
	out[2 * size] = '\0';
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

/* Constant-time comparison of two tokens of SESSION_TOKEN_SIZE - 1 hex digits. */
static bool token_equal(const char *a, const char *b)
{
	unsigned char diff = 0;
	size_t i;

	if (b == NULL || strlen(b) != SESSION_TOKEN_SIZE - 1)
		return false;
	for (i = 0; i < SESSION_TOKEN_SIZE - 1; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

/* Drops one reference; the last one closes the connection.  Under table_lock. */
static void session_unref_locked(struct session *s)
{
	if (--s->refs > 0)
		return;
	PQfinish(s->conn);
	pthread_mutex_destroy(&s->lock);
	explicit_bzero(s, sizeof(*s));
	free(s);
}

/* Removes table[i] from the table.  Under table_lock. */
static void session_remove_locked(int i)
{
	struct session *s = table[i];

	table[i] = NULL;
	s->ended = true;
	session_unref_locked(s);
}

int session_create(PGconn *conn, const char *role, unsigned groups, char id[SESSION_TOKEN_SIZE],
		   char csrf[SESSION_TOKEN_SIZE])
{
	struct session *s = calloc(1, sizeof(*s));
	int i, slot = -1;

	if (s == NULL || session_random_hex(s->id, 32) != 0 || session_random_hex(s->csrf, 32) != 0 ||
	    pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		PQfinish(conn);
		return -1;
	}
	snprintf(s->role, sizeof(s->role), "%s", role);
	s->groups = groups;
	s->conn = conn;
	s->refs = 1;
	s->last_used_ms = daemon_monotonic_ms();
	pthread_mutex_lock(&table_lock);
	for (i = 0; i < SESSION_MAX && slot < 0; i++)
		if (table[i] == NULL)
			slot = i;
	if (slot >= 0)
		table[slot] = s;
	pthread_mutex_unlock(&table_lock);
	if (slot < 0) {
		pthread_mutex_destroy(&s->lock);
		free(s);
		PQfinish(conn);
		return -1;
	}
	memcpy(id, s->id, SESSION_TOKEN_SIZE);
	memcpy(csrf, s->csrf, SESSION_TOKEN_SIZE);
	return 0;
}

/* The index of the live session with this id, or -1.  Under table_lock. */
static int session_find_locked(const char *id)
{
	int i, found = -1;

	if (id == NULL || strlen(id) != SESSION_TOKEN_SIZE - 1)
		return -1;
	/* Every slot is compared, so the time taken does not depend on which matched. */
	for (i = 0; i < SESSION_MAX; i++)
		if (table[i] != NULL && token_equal(table[i]->id, id))
			found = i;
	return found;
}

struct session *session_acquire(const char *id, bool touch)
{
	struct session *s = NULL;
	int64_t now = daemon_monotonic_ms();
	int i;

	pthread_mutex_lock(&table_lock);
	i = session_find_locked(id);
	if (i >= 0 && now - table[i]->last_used_ms > idle_limit_ms) {
		session_remove_locked(i);
		i = -1;
	}
	if (i >= 0) {
		s = table[i];
		s->refs++;
		if (touch)
			s->last_used_ms = now;
	}
	pthread_mutex_unlock(&table_lock);
	if (s == NULL)
		return NULL;
	pthread_mutex_lock(&s->lock);
	/* Ended while this request waited for the previous one. */
	pthread_mutex_lock(&table_lock);
	if (s->ended) {
		pthread_mutex_unlock(&s->lock);
		session_unref_locked(s);
		s = NULL;
	}
	pthread_mutex_unlock(&table_lock);
	return s;
}

void session_release(struct session *s)
{
	if (s == NULL)
		return;
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_lock(&table_lock);
	session_unref_locked(s);
	pthread_mutex_unlock(&table_lock);
}

PGconn *session_conn(struct session *s)
{
	return s->conn;
}

const char *session_role(const struct session *s)
{
	return s->role;
}

unsigned session_groups(const struct session *s)
{
	return s->groups;
}

void session_csrf_copy(const struct session *s, char out[SESSION_TOKEN_SIZE])
{
	memcpy(out, s->csrf, SESSION_TOKEN_SIZE);
}

bool session_csrf_ok(const struct session *s, const char *token)
{
	return token_equal(s->csrf, token);
}

bool session_end(const char *id)
{
	int i;

	pthread_mutex_lock(&table_lock);
	i = session_find_locked(id);
	if (i >= 0)
		session_remove_locked(i);
	pthread_mutex_unlock(&table_lock);
	return i >= 0;
}

int session_expire_idle(void)
{
	int64_t now = daemon_monotonic_ms();
	int i, n = 0;

	pthread_mutex_lock(&table_lock);
	for (i = 0; i < SESSION_MAX; i++)
		if (table[i] != NULL && now - table[i]->last_used_ms > idle_limit_ms) {
			session_remove_locked(i);
			n++;
		}
	pthread_mutex_unlock(&table_lock);
	return n;
}

void session_end_all(void)
{
	int i;

	pthread_mutex_lock(&table_lock);
	for (i = 0; i < SESSION_MAX; i++)
		if (table[i] != NULL)
			session_remove_locked(i);
	pthread_mutex_unlock(&table_lock);
}

int session_count(void)
{
	int i, n = 0;

	pthread_mutex_lock(&table_lock);
	for (i = 0; i < SESSION_MAX; i++)
		n += table[i] != NULL;
	pthread_mutex_unlock(&table_lock);
	return n;
}
