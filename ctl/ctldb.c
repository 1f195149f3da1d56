/*
 * ctldb — see ctldb.h.
 */
#include "ctldb.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"

/* Type OIDs from pg_type.h (server headers are not installed with libpq). */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700
#define OID_TIMESTAMPTZ 1184

/* The packages' connection service: /etc/sac/pg_service.conf, section [sac]. */
#define CTLDB_SERVICE_DIR "/etc/sac"
#define CTLDB_SERVICE "sac"

/* Without --db, PGSERVICE, PGDATABASE or PGHOST, sacctl connects through
 * libpq's service "sac"; a service file of the caller (~/.pg_service.conf,
 * PGSERVICEFILE) comes first, /etc/sac/pg_service.conf after it. */
static void ctldb_default_service(struct ctl *ctl)
{
	const char *service = getenv("PGSERVICE");

	if (ctl->conninfo[0] != '\0')
		return;
	if (service == NULL) {
		if (getenv("PGDATABASE") != NULL || getenv("PGHOST") != NULL ||
		    getenv("PGHOSTADDR") != NULL ||
		    access(CTLDB_SERVICE_DIR "/pg_service.conf", R_OK) != 0)
			return;
		ctl->conninfo = "service=" CTLDB_SERVICE;
	} else if (strcmp(service, CTLDB_SERVICE) != 0) {
		return;
	}
	if (getenv("PGSYSCONFDIR") == NULL && access(CTLDB_SERVICE_DIR "/pg_service.conf", R_OK) == 0)
		setenv("PGSYSCONFDIR", CTLDB_SERVICE_DIR, 0);
}

/* The login role a connection with ctl->conninfo asks for (libpq's rules:
 * the conninfo's user, else PGUSER, else the operating-system user). */
static void ctldb_login_role(const struct ctl *ctl, char *out, size_t out_size)
{
	PQconninfoOption *opts = PQconninfoParse(ctl->conninfo, NULL);
	PQconninfoOption *o;
	const char *user = NULL;
	const struct passwd *pw;

	for (o = opts; o != NULL && o->keyword != NULL; o++)
		if (strcmp(o->keyword, "user") == 0 && o->val != NULL && o->val[0] != '\0')
			user = o->val;
	if (user == NULL)
		user = getenv("PGUSER");
	if (user == NULL && (pw = getpwuid(geteuid())) != NULL)
		user = pw->pw_name;
	snprintf(out, out_size, "%s", user != NULL ? user : "?");
	PQconninfoFree(opts);
}

int ctldb_connect(struct ctl *ctl, const struct ctldb_purpose *purpose)
{
	char err[512], role[128];

	if (ctl->conn != NULL)
		return CTL_EXIT_OK;
	ctldb_default_service(ctl);
	ctl->conn = db_connect(ctl->conninfo, "sacctl", err, sizeof(err));
	if (ctl->conn == NULL && db_connect_refused(err)) {
		/* Only the sac group roles may connect: a refusal like any other. */
		ctldb_login_role(ctl, role, sizeof(role));
		return ctl_fail(CTL_EXIT_REFUSED,
				"role '%s' may not %s (needs %s): the database refuses the "
				"connection to a role in no sac group role",
				role, purpose->action, purpose->needs);
	}
	if (ctl->conn == NULL)
		return ctl_fail(CTL_EXIT_ENV, "cannot connect to the database: %s", err);
	return CTL_EXIT_OK;
}

/* The server's primary message, first line only. */
static void ctldb_primary(const PGresult *res, PGconn *conn, char *out, size_t out_size)
{
	const char *msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	size_t len;

	if (msg == NULL && conn != NULL)
		msg = PQerrorMessage(conn);
	snprintf(out, out_size, "%s", msg != NULL && msg[0] != '\0' ? msg : "unknown error");
	len = strcspn(out, "\n");
	out[len] = '\0';
}

int ctldb_failure(struct ctl *ctl, const struct ctldb_purpose *purpose, const PGresult *res)
{
	const char *state = db_sqlstate(res);
	const char *role = ctl->conn != NULL ? PQuser(ctl->conn) : "?";
	char msg[512];

	ctldb_primary(res, ctl->conn, msg, sizeof(msg));
	/* The exit status follows the SQLSTATE alone; the server's message,
	 * whatever its wording, is passed on as it is. */
	if (db_is_privilege_error(state))
		return ctl_fail(CTL_EXIT_REFUSED, "role '%s' may not %s (needs %s): %s", role,
				purpose->action, purpose->needs, msg);
	if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0 || strcmp(state, "P0002") == 0)
		return ctl_fail(CTL_EXIT_USAGE, "cannot %s: bad input: %s", purpose->action, msg);
	if (db_is_connection_error(ctl->conn, res))
		return ctl_fail(CTL_EXIT_ENV, "cannot %s: database connection failed: %s",
				purpose->action, msg);
	return ctl_fail(CTL_EXIT_ENV, "cannot %s: %s%s%s", purpose->action, msg,
			state[0] != '\0' ? " (SQLSTATE " : "", state[0] != '\0' ? ")" : "");
}

static int ctldb_result(struct ctl *ctl, const struct ctldb_purpose *purpose, PGresult *r,
			PGresult **res)
{
	ExecStatusType st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	int status;

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
		*res = r;
		return CTL_EXIT_OK;
	}
	status = ctldb_failure(ctl, purpose, r);
	PQclear(r);
	return status;
}

int ctldb_call_params(struct ctl *ctl, const struct ctldb_purpose *purpose, const char *sql,
		      int nparams, const char *const *values, const int *lengths, const int *formats,
		      PGresult **res)
{
	int status;

	*res = NULL;
	status = ctldb_connect(ctl, purpose);
	if (status != CTL_EXIT_OK)
		return status;
	return ctldb_result(ctl, purpose,
			    PQexecParams(ctl->conn, sql, nparams, NULL, values, lengths, formats, 0),
			    res);
}

int ctldb_call(struct ctl *ctl, const struct ctldb_purpose *purpose, const char *sql, int nparams,
	       const char *const *values, PGresult **res)
{
	return ctldb_call_params(ctl, purpose, sql, nparams, values, NULL, NULL, res);
}

int ctldb_exec_script(struct ctl *ctl, const struct ctldb_purpose *purpose, const char *text,
		      PGresult **res)
{
	int status;

	*res = NULL;
	status = ctldb_connect(ctl, purpose);
	if (status != CTL_EXIT_OK)
		return status;
	return ctldb_result(ctl, purpose, PQexec(ctl->conn, text), res);
}

static enum out_type ctldb_type(Oid oid)
{
	switch (oid) {
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_NUMERIC:
		return OUT_NUMBER;
	case OID_BOOL:
		return OUT_BOOL;
	case OID_TIMESTAMPTZ:
		return OUT_TIME;
	default:
		return OUT_STRING;
	}
}

int ctldb_table_append(struct out_table *t, const PGresult *res)
{
	int r, c;

	for (r = 0; r < PQntuples(res); r++) {
		if (out_row(t) != 0)
			return -1;
		for (c = 0; c < PQnfields(res); c++)
			if (out_cell(t, PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c)) != 0)
				return -1;
	}
	return 0;
}

struct out_table *ctldb_table(const PGresult *res)
{
	struct out_table *t = out_table_new();
	int c;

	if (t == NULL)
		return NULL;
	for (c = 0; c < PQnfields(res); c++)
		if (out_column(t, PQfname(res, c), ctldb_type(PQftype(res, c))) != 0)
			goto fail;
	if (ctldb_table_append(t, res) != 0)
		goto fail;
	return t;
fail:
	out_table_free(t);
	return NULL;
}

int ctldb_print(const struct ctl *ctl, const PGresult *res, bool as_record)
{
	struct out_table *t;
	int status;

	if (as_record && PQntuples(res) != 1)
		return ctl_fail(CTL_EXIT_ENV, "unexpected answer from the database: %d rows",
				PQntuples(res));
	t = ctldb_table(res);
	if (t == NULL)
		return ctl_fail(CTL_EXIT_ENV, "out of memory");
	status = as_record ? ctl_print_record(ctl, t) : ctl_print_list(ctl, t);
	out_table_free(t);
	return status;
}

const char *ctldb_single_value(const PGresult *res)
{
	if (PQntuples(res) != 1 || PQnfields(res) != 1 || PQgetisnull(res, 0, 0)) {
		ctl_fail(CTL_EXIT_ENV, "unexpected answer from the database");
		return NULL;
	}
	return PQgetvalue(res, 0, 0);
}
