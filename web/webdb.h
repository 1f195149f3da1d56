/*
 * webdb — sac-web's two ways of asking the database, on a signed-in
 * person's own connection, and of turning the answer into an HTTP reply:
 *   - running one of sacctl's commands (ctl/) with --format json and
 *     capturing what it prints, so the JSON is sacctl's own;
 *   - calling one function of sql/060_web.sql that returns one JSON value.
 * Exit status / SQLSTATE -> HTTP status: refused -> 403, bad input -> 400,
 * the database unreachable -> 503.  Parameters are never logged.
 */
#ifndef SAC_WEB_WEBDB_H
#define SAC_WEB_WEBDB_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "../ctl/ctl.h"
#include "api.h"

/* Runs fn(argc, argv) as sacctl would, as the connection's role, printing
 * JSON.  Exit 0 -> 200 and the JSON (or 204 when no_content); 1 -> 403
 * {"error": why}, unless printed_is_answer and the command printed a
 * document (audit verify prints its verdict and exits 1 when not
 * compliant: that is still the answer); 2 -> 400; 3 -> 503. */
void webdb_ctl(PGconn *conn, ctl_run_fn fn, int argc, char **argv, bool printed_is_answer,
	       bool no_content, struct web_reply *reply);

/* Runs sql (one function call; parameters $1..$n as text) whose single
 * value is JSON.  Returns that text (malloc'd) and sets reply's status to
 * 200, or returns NULL after filling reply with the error.  what names the
 * call in a refusal ("read the deletion report"). */
char *webdb_json(PGconn *conn, const char *sql, int nparams, const char *const *values,
		 const char *what, struct web_reply *reply);

/* True when conn can no longer be used (the session must end). */
bool webdb_conn_lost(PGconn *conn);

#endif
