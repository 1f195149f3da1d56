/*
 * signin — see signin.h.
 */
#include "signin.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ratelimit.h"
#include "session.h"

#define SIGNIN_FAILED "sign-in failed: wrong role or password, or the role may not use sac"
#define SIGNIN_LIMITED "too many failed sign-ins: wait a minute and try again"
#define SIGNIN_MAX_ROLE 63
#define SIGNIN_MAX_PASSWORD 1024

static const char *signin_database = "";

void signin_init(const char *database)
{
	signin_database = database;
}

/* A string member of obj without NUL bytes, 1..max bytes long, or NULL. */
static const char *signin_member(json_t *obj, const char *key, size_t max)
{
	json_t *v = json_object_get(obj, key);
	const char *s;

	if (!json_is_string(v))
		return NULL;
	s = json_string_value(v);
	if (json_string_length(v) != strlen(s) || s[0] == '\0' || strlen(s) > max)
		return NULL;
	return s;
}

/* The sac groups role is a member of (0 when none). */
static unsigned signin_groups(PGconn *conn)
{
	static const struct {
		const char *name;
		unsigned bit;
	} groups[] = {
		{"sac_officer", SESSION_OFFICER}, {"sac_auditor", SESSION_AUDITOR},
		{"sac_admin", SESSION_ADMIN},	  {"sac_certifier", SESSION_CERTIFIER},
		{"sac_ingest", SESSION_INGEST},	  {"sac_purge", SESSION_PURGE},
	};
	unsigned result = 0;
	size_t i;

	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		const char *values[] = {groups[i].name};
		PGresult *res =
			PQexecParams(conn,
				     "SELECT pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER') "
				     "FROM pg_catalog.pg_roles r WHERE r.rolname = $1",
				     1, NULL, values, NULL, NULL, 0);

		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		    strcmp(PQgetvalue(res, 0, 0), "t") == 0)
			result |= groups[i].bit;
		PQclear(res);
	}
	return result;
}

/* Opens a connection as role with password.  Returns it with *groups set,
 * or NULL for any failure (the reason is never shown to the person). */
static PGconn *signin_connect(const char *role, const char *password, unsigned *groups)
{
	/* Later keywords override the conninfo's; no passfile and no GSSAPI, so
	 * that nothing of sac-web's own environment can stand in for the
	 * password. */
	const char *keys[] = {"dbname",	 "user",       "password",	  "application_name",
			      "options", "gssencmode", "connect_timeout", NULL};
	const char *values[] = {signin_database,   role,      password, "sac-web",
				"-c TimeZone=UTC", "disable", "10",	NULL};
	PGconn *conn = PQconnectdbParams(keys, values, 1);

	if (conn == NULL)
		return NULL;
	if (PQstatus(conn) != CONNECTION_OK)
		goto fail;
	if (!PQconnectionUsedPassword(conn)) {
		log_warning("sign-in refused: the database accepted a connection without asking "
			    "for a password; pg_hba.conf must require scram-sha-256 for sac-web");
		goto fail;
	}
	*groups = signin_groups(conn);
	if (*groups == 0)
		goto fail;
	return conn;
fail:
	PQfinish(conn);
	return NULL;
}

void signin_handle(const struct web_request *req, struct web_reply *reply)
{
	json_t *body = NULL, *answer = NULL;
	const char *role, *password;
	const char *source = req->source != NULL ? req->source : "";
	char id[SESSION_TOKEN_SIZE], csrf[SESSION_TOKEN_SIZE];
	unsigned groups = 0;
	PGconn *conn;
	char *text;

	body = json_loadb(req->body != NULL ? req->body : "", req->body_len, JSON_REJECT_DUPLICATES,
			  NULL);
	role = json_is_object(body) ? signin_member(body, "user", SIGNIN_MAX_ROLE) : NULL;
	password = json_is_object(body) ? signin_member(body, "password", SIGNIN_MAX_PASSWORD) : NULL;
	if (role == NULL || password == NULL) {
		api_error(reply, 400,
			  "the body must be the JSON object {\"user\": ROLE, \"password\": PASSWORD}");
		goto out;
	}
	if (!ratelimit_allowed("source", source) || !ratelimit_allowed("role", role)) {
		log_notice("sign-in refused: too many recent failures");
		api_error(reply, 429, SIGNIN_LIMITED);
		goto out;
	}
	conn = signin_connect(role, password, &groups);
	if (conn == NULL) {
		ratelimit_fail("source", source);
		ratelimit_fail("role", role);
		log_notice("sign-in refused");
		api_error(reply, 401, SIGNIN_FAILED);
		goto out;
	}
	answer = json_pack("{s:s, s:s}", "role", PQuser(conn), "csrf_token", "");
	if (answer == NULL || session_create(conn, PQuser(conn), groups, id, csrf) != 0) {
		if (answer == NULL)
			PQfinish(conn);
		log_error("sign-in failed: no room for another session (%d open)", session_count());
		api_error(reply, 503, "sac-web cannot open another session now");
		goto out;
	}
	/* The role name is read from the connection before it was handed over. */
	json_object_set_new(answer, "csrf_token", json_string(csrf));
	text = json_dumps(answer, JSON_COMPACT);
	explicit_bzero(csrf, sizeof(csrf));
	if (text == NULL) {
		session_end(id);
		api_error(reply, 500, "out of memory");
		goto out;
	}
	reply->status = 200;
	reply->body = text;
	reply->body_len = strlen(text);
	snprintf(reply->set_cookie, sizeof(reply->set_cookie),
		 API_SESSION_COOKIE "=%s; Path=/; Secure; HttpOnly; SameSite=Strict", id);
	explicit_bzero(id, sizeof(id));
	log_info("session started (%d open)", session_count());
out:
	json_decref(answer);
	/* The password is wiped with the parsed body. */
	if (password != NULL)
		explicit_bzero((char *)password, strlen(password));
	json_decref(body);
}
