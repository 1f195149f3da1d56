/*
 * session — the signed-in people of sac-web.  A session is one database
 * connection opened as the person's own role, a random session id (the
 * cookie) and a random CSRF token.  The database decides everything else.
 *
 * A session ends — and its connection with it — on sign-out, after
 * session_idle without a request, or when sac-web stops.  Requests of one
 * session are serialised (a libpq connection serves one query at a time);
 * requests of different sessions run in parallel.  The table holds no name,
 * no address and no password: only the role the database accepted.
 */
#ifndef SAC_WEB_SESSION_H
#define SAC_WEB_SESSION_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

/* 32 random bytes as hex, and the terminating NUL. */
#define SESSION_TOKEN_SIZE 65
#define SESSION_MAX 256

/* The sac group roles a signed-in role is a member of. */
enum session_group {
	SESSION_OFFICER = 1 << 0,
	SESSION_AUDITOR = 1 << 1,
	SESSION_ADMIN = 1 << 2,
	SESSION_CERTIFIER = 1 << 3,
	SESSION_INGEST = 1 << 4,
	SESSION_PURGE = 1 << 5,
};

struct session;

/* Sets the idle limit (seconds) for every session. */
void session_init(int64_t idle_s);

/* Takes ownership of conn and makes a session for it.  On success returns 0
 * and copies the new session id and CSRF token out; on failure (table full,
 * no randomness) the connection is closed and -1 returned. */
int session_create(PGconn *conn, const char *role, unsigned groups, char id[SESSION_TOKEN_SIZE],
		   char csrf[SESSION_TOKEN_SIZE]) __attribute__((warn_unused_result));

/* The live session with this id, locked for the caller's exclusive use and
 * its idle clock restarted when touch is true; NULL when there is none (or
 * it has expired, which ends it now).  Release with session_release. */
struct session *session_acquire(const char *id, bool touch);
void session_release(struct session *s);

/* The locked session's connection, role, groups and CSRF token. */
PGconn *session_conn(struct session *s);
const char *session_role(const struct session *s);
unsigned session_groups(const struct session *s);
/* Copies the session's CSRF token to out. */
void session_csrf_copy(const struct session *s, char out[SESSION_TOKEN_SIZE]);
/* True when token equals the session's CSRF token (constant time). */
bool session_csrf_ok(const struct session *s, const char *token);

/* Ends the session with this id (sign-out).  Returns true when one ended. */
bool session_end(const char *id);

/* Ends every session idle for longer than the limit.  Returns how many. */
int session_expire_idle(void);

/* Ends every session (shutdown). */
void session_end_all(void);

/* Number of live sessions. */
int session_count(void);

/* Fills out with size random bytes as hex (2*size+1 bytes).  Returns 0 or -1. */
int session_random_hex(char *out, size_t size) __attribute__((warn_unused_result));

#endif
