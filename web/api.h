/*
 * api — sac-web's answers: the JSON API of SPEC §6 and the few reads the
 * pages need besides (the officer's sites, the rules, reader status, the
 * deletion report), each one call of the database as the signed-in role.
 * The answers of the calls sacctl also makes are produced by sacctl's own
 * command code (ctl/), so their JSON is the same by construction.
 *
 * It knows nothing of HTTP framing (server.c does that) and never logs a
 * request's parameters.
 */
#ifndef SAC_WEB_API_H
#define SAC_WEB_API_H

#include <stdbool.h>
#include <stddef.h>

struct board_stream;

/* One request, as server.c parsed it.  Strings may be NULL when absent. */
struct web_request {
	const char *method;
	const char *path; /* without the query string */
	const char *body;
	size_t body_len;
	const char *session_id;	  /* the session cookie */
	const char *csrf_token;	  /* X-CSRF-Token */
	const char *content_type; /* Content-Type */
	const char *source;	  /* the client's address, for rate limiting only */
	/* A query-string argument, or NULL. */
	const char *(*query)(void *cls, const char *key);
	void *query_cls;
};

/* The answer.  Exactly one of body (JSON unless content_type says
 * otherwise) and stream (Server-Sent Events) is set, or neither (204). */
struct web_reply {
	unsigned status;
	char *body; /* malloc'd; freed by api_reply_free */
	size_t body_len;
	const char *content_type;
	char set_cookie[160]; /* a Set-Cookie value, or "" */
	struct board_stream *stream;
};

/* The session cookie's name: __Host- binds it to this origin, over HTTPS, path /. */
#define API_SESSION_COOKIE "__Host-sac_session"

/* Sets what the API needs from the configuration: the database conninfo
 * (without user) and the idle limit that /api/me reports. */
void api_init(const char *database, long session_idle_s);

/* Answers req.  Always fills reply (500 when out of memory). */
void api_handle(const struct web_request *req, struct web_reply *reply);

/* {"error": message} with status, built by a JSON library (never by hand). */
void api_error(struct web_reply *reply, unsigned status, const char *message);

void api_reply_free(struct web_reply *reply);

#endif
