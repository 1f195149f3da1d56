/*
 * db — see db.h.
 */
#include "db.h"

#include <stdio.h>
#include <string.h>

PGconn *db_connect(const char *conninfo, const char *application_name, char *err, size_t err_size)
{
	const char *keys[] = {"dbname", "application_name", "options", NULL};
	const char *values[] = {conninfo, application_name, "-c TimeZone=UTC", NULL};
	PGconn *conn;

	conn = PQconnectdbParams(keys, values, 1);
	if (conn == NULL) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		const char *msg = PQerrorMessage(conn);
		size_t len;

		snprintf(err, err_size, "%s", msg);
		len = strlen(err);
		while (len > 0 && (err[len - 1] == '\n' || err[len - 1] == ' '))
			err[--len] = '\0';
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

bool db_connect_refused(const char *err)
{
	return strstr(err, "permission denied for database") != NULL;
}

const char *db_sqlstate(const PGresult *res)
{
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return state != NULL ? state : "";
}

bool db_is_privilege_error(const char *sqlstate)
{
	return strcmp(sqlstate, "42501") == 0 || strncmp(sqlstate, "28", 2) == 0;
}

bool db_is_connection_error(PGconn *conn, const PGresult *res)
{
	const char *state = db_sqlstate(res);

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		return true;
	return strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
	       strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0 ||
	       strncmp(state, "53", 2) == 0 || state[0] == '\0';
}
