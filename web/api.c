/*
 * api — see api.h.  One table of routes; each handler runs with the
 * session locked, after the CSRF check for anything that changes state.
 */
#include "api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ctl/commands.h"
#include "board.h"
#include "log.h"
#include "session.h"
#include "signin.h"
#include "webdb.h"

static long api_session_idle_s = 600;

void api_init(const char *database, long session_idle_s)
{
	signin_init(database);
	api_session_idle_s = session_idle_s;
}

void api_reply_free(struct web_reply *reply)
{
	free(reply->body);
	reply->body = NULL;
	reply->body_len = 0;
}

/* Replaces reply's body with text (taken over). */
static void api_json(struct web_reply *reply, unsigned status, char *text)
{
	api_reply_free(reply);
	if (text == NULL) {
		reply->status = 500;
		reply->body = strdup("{\"error\":\"out of memory\"}");
		reply->body_len = reply->body != NULL ? strlen(reply->body) : 0;
		return;
	}
	reply->status = status;
	reply->body = text;
	reply->body_len = strlen(text);
}

void api_error(struct web_reply *reply, unsigned status, const char *message)
{
	json_t *o = json_pack("{s:s}", "error", message);

	api_json(reply, status, o != NULL ? json_dumps(o, JSON_COMPACT) : NULL);
	json_decref(o);
}

/* A decimal id of 1 to 18 digits. */
static bool api_id_ok(const char *id)
{
	size_t n = id != NULL ? strspn(id, "0123456789") : 0;

	return n > 0 && n <= 18 && id[n] == '\0';
}

/* The request body as a JSON object, or NULL after answering 400/415. */
static json_t *api_body(const struct web_request *req, struct web_reply *reply)
{
	json_t *body;

	if (req->content_type == NULL || strncmp(req->content_type, "application/json", 16) != 0) {
		api_error(reply, 415, "the body must be JSON (Content-Type: application/json)");
		return NULL;
	}
	body = json_loadb(req->body != NULL ? req->body : "", req->body_len, JSON_REJECT_DUPLICATES,
			  NULL);
	if (!json_is_object(body)) {
		json_decref(body);
		api_error(reply, 400, "the body must be a JSON object");
		return NULL;
	}
	return body;
}

/* A string member without NUL bytes, or NULL. */
static const char *api_string(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v) || json_string_length(v) != strlen(json_string_value(v)))
		return NULL;
	return json_string_value(v);
}

/* --- handlers: the session is locked ----------------------------------------- */

struct api_call {
	const struct web_request *req;
	struct web_reply *reply;
	struct session *session;
	const char *arg; /* the id in the path, for /api/emergencies/N/close */
};

static void api_me(struct api_call *c)
{
	static const struct {
		unsigned bit;
		const char *name;
	} groups[] = {
		{SESSION_OFFICER, "sac_officer"}, {SESSION_AUDITOR, "sac_auditor"},
		{SESSION_ADMIN, "sac_admin"},	  {SESSION_CERTIFIER, "sac_certifier"},
		{SESSION_INGEST, "sac_ingest"},	  {SESSION_PURGE, "sac_purge"},
	};
	json_t *list = json_array();
	json_t *o;
	size_t i;

	for (i = 0; list != NULL && i < sizeof(groups) / sizeof(groups[0]); i++)
		if (session_groups(c->session) & groups[i].bit)
			json_array_append_new(list, json_string(groups[i].name));
	/* The CSRF token is readable by this origin's scripts only (same-origin
	 * policy; no CORS), so that a reloaded page can go on. */
	o = json_pack("{s:s, s:o, s:s, s:I}", "role", session_role(c->session), "groups", list,
		      "csrf_token", "", "session_idle_s", (json_int_t)api_session_idle_s);
	if (o != NULL) {
		char token[SESSION_TOKEN_SIZE];

		session_csrf_copy(c->session, token);
		json_object_set_new(o, "csrf_token", json_string(token));
		explicit_bzero(token, sizeof(token));
	}
	api_json(c->reply, 200, o != NULL ? json_dumps(o, JSON_COMPACT) : NULL);
	json_decref(o);
}

static void api_signout(struct api_call *c)
{
	/* Ended after the handler releases the session: server.c does it. */
	c->reply->status = 204;
	snprintf(c->reply->set_cookie, sizeof(c->reply->set_cookie),
		 API_SESSION_COOKIE "=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict");
}

static void api_headcount(struct api_call *c)
{
	const char *site = c->req->query(c->req->query_cls, "site");
	char *argv[] = {"headcount", "--site", (char *)site, NULL};

	if (site == NULL || site[0] == '\0') {
		api_error(c->reply, 400, "missing ?site=SITE");
		return;
	}
	webdb_ctl(session_conn(c->session), cmd_headcount, 3, argv, false, false, c->reply);
}

static void api_muster(struct api_call *c)
{
	const char *id = c->req->query(c->req->query_cls, "emergency");
	char *argv[] = {"status", "--emergency", (char *)id, NULL};

	if (!api_id_ok(id)) {
		api_error(c->reply, 400, "?emergency= must be an emergency id (a number)");
		return;
	}
	webdb_ctl(session_conn(c->session), cmd_muster_status, 3, argv, false, false, c->reply);
}

static void api_muster_stream(struct api_call *c)
{
	const char *id = c->req->query(c->req->query_cls, "emergency");

	if (!api_id_ok(id)) {
		api_error(c->reply, 400, "?emergency= must be an emergency id (a number)");
		return;
	}
	c->reply->stream = board_stream_new(c->req->session_id, id);
	if (c->reply->stream == NULL) {
		api_error(c->reply, 500, "out of memory");
		return;
	}
	c->reply->status = 200;
	c->reply->content_type = "text/event-stream";
}

static void api_declare(struct api_call *c)
{
	json_t *body = api_body(c->req, c->reply);
	const char *site, *kind, *reason;

	if (body == NULL)
		return;
	site = api_string(body, "site");
	kind = api_string(body, "kind");
	reason = api_string(body, "reason");
	if (site == NULL || kind == NULL || reason == NULL) {
		api_error(c->reply, 400,
			  "the body must be {\"site\": SITE, \"kind\": \"drill\"|\"emergency\", "
			  "\"reason\": TEXT}");
	} else {
		char *argv[] = {"declare",    "--site",	  (char *)site,	  "--kind",
				(char *)kind, "--reason", (char *)reason, NULL};

		webdb_ctl(session_conn(c->session), cmd_emergency_declare, 7, argv, false, false,
			  c->reply);
	}
	json_decref(body);
}

static void api_close(struct api_call *c)
{
	char *argv[] = {"close", (char *)c->arg, NULL};

	webdb_ctl(session_conn(c->session), cmd_emergency_close, 2, argv, false, true, c->reply);
}

static void api_confirm(struct api_call *c)
{
	char *argv[] = {"confirm", (char *)c->arg, NULL};

	webdb_ctl(session_conn(c->session), cmd_emergency_confirm, 2, argv, false, false, c->reply);
}

static void api_audit_verify(struct api_call *c)
{
	char *argv[] = {"verify", NULL};

	webdb_ctl(session_conn(c->session), cmd_audit_verify, 1, argv, true, false, c->reply);
}

static void api_rules(struct api_call *c)
{
	char *argv[] = {"acknowledge", NULL};

	webdb_ctl(session_conn(c->session), cmd_officer_acknowledge, 1, argv, false, false, c->reply);
}

static void api_acknowledge(struct api_call *c)
{
	json_t *body = api_body(c->req, c->reply), *doc = NULL;
	json_t *version;
	char number[24], *text = NULL;
	const char *values[] = {number};

	if (body == NULL)
		return;
	version = json_object_get(body, "rules_version");
	if (!json_is_integer(version) || json_integer_value(version) < 1 ||
	    json_integer_value(version) > 1000000000) {
		api_error(c->reply, 400, "the body must be {\"rules_version\": N}, the version shown");
		goto out;
	}
	snprintf(number, sizeof(number), "%" JSON_INTEGER_FORMAT, json_integer_value(version));
	text = webdb_json(session_conn(c->session), "SELECT sac.web_acknowledge($1::integer)", 1,
			  values, "acknowledge the rules", c->reply);
	if (text == NULL)
		goto out;
	doc = json_loads(text, 0, NULL);
	if (json_is_string(json_object_get(doc, "refusal")))
		api_error(c->reply, 403, json_string_value(json_object_get(doc, "refusal")));
	else if (doc == NULL)
		api_error(c->reply, 503, "unexpected answer from the database");
	else
		api_json(c->reply, 200, text), text = NULL;
out:
	free(text);
	json_decref(doc);
	json_decref(body);
}

/* GET handlers answering one JSON value of a 060_web.sql function. */
static void api_sql_json(struct api_call *c, const char *sql, int n, const char *const *values,
			 const char *what)
{
	char *text = webdb_json(session_conn(c->session), sql, n, values, what, c->reply);

	if (text != NULL)
		api_json(c->reply, 200, text);
}

static void api_sites(struct api_call *c)
{
	api_sql_json(c, "SELECT sac.web_officer_sites()", 0, NULL, "list its officer sites");
}

static void api_report(struct api_call *c)
{
	const char *values[] = {c->req->query(c->req->query_cls, "from"),
				c->req->query(c->req->query_cls, "to")};

	api_sql_json(c, "SELECT sac.deletion_report($1::timestamptz, $2::timestamptz)", 2, values,
		     "read the deletion report");
}

static void api_readers(struct api_call *c)
{
	char *argv[] = {"list", NULL};

	webdb_ctl(session_conn(c->session), cmd_reader_list, 1, argv, false, false, c->reply);
}

static void api_denials(struct api_call *c)
{
	char *argv[] = {"denials", NULL};

	webdb_ctl(session_conn(c->session), cmd_reader_denials, 1, argv, false, false, c->reply);
}

/* --- routing --------------------------------------------------------------- */

struct api_route {
	const char *method;
	const char *path; /* "*" stands for one id segment */
	void (*handle)(struct api_call *c);
	bool touch; /* a request by the person (not the live board) */
};

static const struct api_route api_routes[] = {
	{"GET", "/api/me", api_me, true},
	{"DELETE", "/api/session", api_signout, true},
	{"GET", "/api/headcount", api_headcount, true},
	{"GET", "/api/muster", api_muster, true},
	{"GET", "/api/muster/stream", api_muster_stream, true},
	{"POST", "/api/emergencies", api_declare, true},
	{"POST", "/api/emergencies/*/close", api_close, true},
	{"POST", "/api/emergencies/*/confirm", api_confirm, true},
	{"GET", "/api/audit/verify", api_audit_verify, true},
	{"GET", "/api/audit/report", api_report, true},
	{"GET", "/api/sites", api_sites, true},
	{"GET", "/api/rules", api_rules, true},
	{"POST", "/api/rules/acknowledge", api_acknowledge, true},
	{"GET", "/api/readers", api_readers, true},
	{"GET", "/api/readers/denials", api_denials, true},
	{NULL, NULL, NULL, false},
};

/* Matches path against pattern; *arg gets the text of a "*" segment
 * (copied into arg_buf).  Returns true on a match. */
static bool api_match(const char *pattern, const char *path, char *arg_buf, size_t arg_size,
		      const char **arg)
{
	const char *star = strchr(pattern, '*');
	size_t head, len;

	if (star == NULL)
		return strcmp(pattern, path) == 0;
	head = (size_t)(star - pattern);
	if (strncmp(pattern, path, head) != 0)
		return false;
	len = strcspn(path + head, "/");
	if (len == 0 || len >= arg_size || strcmp(path + head + len, star + 1) != 0)
		return false;
	memcpy(arg_buf, path + head, len);
	arg_buf[len] = '\0';
	*arg = arg_buf;
	return true;
}

void api_handle(const struct web_request *req, struct web_reply *reply)
{
	const struct api_route *r, *found = NULL;
	bool path_known = false;
	struct api_call c = {.req = req, .reply = reply};
	char arg_buf[32];

	memset(reply, 0, sizeof(*reply));
	reply->content_type = "application/json";
	if (strcmp(req->path, "/api/session") == 0 && strcmp(req->method, "POST") == 0) {
		signin_handle(req, reply);
		return;
	}
	for (r = api_routes; r->method != NULL && found == NULL; r++)
		if (api_match(r->path, req->path, arg_buf, sizeof(arg_buf), &c.arg)) {
			path_known = true;
			if (strcmp(r->method, req->method) == 0)
				found = r;
		}
	if (found == NULL && strcmp(req->path, "/api/session") == 0)
		path_known = true;
	if (found == NULL) {
		api_error(reply, path_known ? 405 : 404,
			  path_known ? "method not allowed" : "no such resource");
		return;
	}
	c.session = session_acquire(req->session_id, found->touch);
	if (c.session == NULL) {
		api_error(reply, 401, "not signed in, or the session has ended: sign in");
		return;
	}
	if (strcmp(req->method, "GET") != 0 && !session_csrf_ok(c.session, req->csrf_token)) {
		session_release(c.session);
		api_error(reply, 403, "missing or wrong X-CSRF-Token header");
		return;
	}
	if (c.arg != NULL && !api_id_ok(c.arg)) {
		session_release(c.session);
		api_error(reply, 400, "the emergency id in the path must be a number");
		return;
	}
	found->handle(&c);
	/* A connection the server dropped is of no further use: the person
	 * signs in again. */
	bool lost = webdb_conn_lost(session_conn(c.session));
	session_release(c.session);
	if (found->handle == api_signout || lost) {
		session_end(req->session_id);
		log_info("session ended: %s (%d open)", lost ? "database connection lost" : "sign-out",
			 session_count());
	}
}
