/*
 * webdb — see webdb.h.
 */
#include "webdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

/* The first line of a sacctl message without its "sacctl: " and "refused: "
 * prefixes, in place. */
static const char *webdb_message(char *text)
{
	char *p = text;

	if (p == NULL)
		return "the request failed";
	p[strcspn(p, "\n")] = '\0';
	if (strncmp(p, "sacctl: ", 8) == 0)
		p += 8;
	if (strncmp(p, "refused: ", 9) == 0)
		p += 9;
	return p[0] != '\0' ? p : "the request failed";
}

void webdb_ctl(PGconn *conn, ctl_run_fn fn, int argc, char **argv, bool printed_is_answer,
	       bool no_content, struct web_reply *reply)
{
	struct ctl ctl = {.conninfo = "", .format = OUT_JSON, .conn = conn, .command = NULL};
	char *out = NULL, *err = NULL;
	size_t out_len = 0, err_len = 0;
	FILE *out_f = open_memstream(&out, &out_len);
	FILE *err_f = open_memstream(&err, &err_len);
	int status;

	if (out_f == NULL || err_f == NULL) {
		if (out_f != NULL)
			fclose(out_f);
		if (err_f != NULL)
			fclose(err_f);
		free(out);
		free(err);
		api_error(reply, 500, "out of memory");
		return;
	}
	ctl_redirect(out_f, err_f);
	status = fn(&ctl, argc, argv);
	ctl_redirect(NULL, NULL);
	if (fclose(out_f) != 0 || fclose(err_f) != 0)
		status = CTL_EXIT_ENV;
	if (status == CTL_EXIT_OK ||
	    (status == CTL_EXIT_REFUSED && printed_is_answer && out != NULL && out_len > 0)) {
		if (no_content) {
			reply->status = 204;
		} else {
			reply->status = 200;
			reply->body = out;
			reply->body_len = out_len;
			out = NULL;
		}
	} else if (status == CTL_EXIT_REFUSED) {
		api_error(reply, 403, webdb_message(err));
	} else if (status == CTL_EXIT_USAGE) {
		api_error(reply, 400, webdb_message(err));
	} else {
		api_error(reply, 503, webdb_message(err));
	}
	free(out);
	free(err);
}

char *webdb_json(PGconn *conn, const char *sql, int nparams, const char *const *values,
		 const char *what, struct web_reply *reply)
{
	PGresult *res = PQexecParams(conn, sql, nparams, NULL, values, NULL, NULL, 0);
	const char *state = db_sqlstate(res);
	char message[300];
	char *text = NULL;

	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    PQnfields(res) == 1 && !PQgetisnull(res, 0, 0)) {
		text = strdup(PQgetvalue(res, 0, 0));
		if (text == NULL)
			api_error(reply, 500, "out of memory");
		else
			reply->status = 200;
	} else if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK) {
		api_error(reply, 503, "unexpected answer from the database");
	} else if (db_is_privilege_error(state)) {
		snprintf(message, sizeof(message), "role '%s' may not %s", PQuser(conn), what);
		api_error(reply, 403, message);
	} else if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0) {
		const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

		snprintf(message, sizeof(message), "cannot %s: bad input: %s", what,
			 primary != NULL ? primary : "invalid value");
		api_error(reply, 400, message);
	} else {
		snprintf(message, sizeof(message), "cannot %s: the database failed (SQLSTATE %s)", what,
			 state[0] != '\0' ? state : "none");
		api_error(reply, 503, message);
	}
	PQclear(res);
	return text;
}

bool webdb_conn_lost(PGconn *conn)
{
	return conn == NULL || PQstatus(conn) != CONNECTION_OK;
}
