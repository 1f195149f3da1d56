/*
 * db — libpq conventions shared by the controller, purge and sacctl:
 * connecting from a conninfo string, and reading SQLSTATEs (never message
 * text).  All SQL lives in sql/ as functions; callers pass parameters only.
 */
#ifndef SAC_DB_H
#define SAC_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

/* Connects with conninfo (a libpq connection string or URI; empty means the
 * libpq environment), setting application_name and TimeZone=UTC.  Returns the
 * connection, or NULL with libpq's reason in err. */
PGconn *db_connect(const char *conninfo, const char *application_name, char *err, size_t err_size);

/* True when err, db_connect's reason, says the server refused the login
 * role the database (42501 "permission denied for database": it lacks
 * CONNECT, i.e. it is in no sac group role).  libpq reports no SQLSTATE
 * for a failed connection, so this reads the server's (untranslated,
 * lc_messages is the server's) primary message. */
bool db_connect_refused(const char *err);

/* The SQLSTATE of res ("" when none). */
const char *db_sqlstate(const PGresult *res);

/* True when the SQLSTATE means the caller lacks a privilege (42501) or was
 * refused by the access policy (class 28, or sac's own P0001-style refusals
 * raised as 42501). */
bool db_is_privilege_error(const char *sqlstate);

/* True when the failure is about the connection or server availability
 * (class 08, 57P01..57P03, 53xxx) rather than the statement. */
bool db_is_connection_error(PGconn *conn, const PGresult *res);

#endif
