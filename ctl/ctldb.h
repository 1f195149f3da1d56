/*
 * ctldb — sacctl's use of the database: connecting once per invocation,
 * calling one SQL function with $n parameters, and turning a failure into
 * the exit status and a message a person can act on, decided by SQLSTATE:
 *   connection refused for privilege   -> 1  (the role may not connect)
 *   connection failure                 -> 3
 *   42501 / class 28 (privilege)       -> 1  "role 'bob' may not add readers (needs sac_admin)"
 *   class 22, class 23, P0002 (input)  -> 2  the server's primary message
 *   anything else                      -> 3
 * Messages never carry parameters (which may hold a credential), and never
 * the server's DETAIL.
 */
#ifndef SAC_CTL_CTLDB_H
#define SAC_CTL_CTLDB_H

#include <libpq-fe.h>

#include "ctl.h"
#include "output.h"

/* What a call is for, to explain a refusal: "role 'R' may not <action>
 * (needs <needs>)". */
struct ctldb_purpose {
	const char *action; /* e.g. "add readers" */
	const char *needs;  /* e.g. "sac_admin" */
};

/* Opens ctl->conn unless open, for purpose.  Returns CTL_EXIT_OK;
 * CTL_EXIT_REFUSED after printing why when the database refuses the login
 * role (it lacks CONNECT: it is in no sac group role); CTL_EXIT_ENV after
 * printing why when it cannot be reached. */
int ctldb_connect(struct ctl *ctl, const struct ctldb_purpose *purpose)
	__attribute__((warn_unused_result));

/* Runs sql (one statement, parameters $1..$n as text; values[i] NULL = SQL
 * NULL).  On success returns CTL_EXIT_OK and *res holds the result (the
 * caller PQclears it); otherwise *res is NULL, the message is printed and
 * the exit status returned. */
int ctldb_call(struct ctl *ctl, const struct ctldb_purpose *purpose, const char *sql, int nparams,
	       const char *const *values, PGresult **res) __attribute__((warn_unused_result));

/* The same with per-parameter lengths and formats (1 = binary, e.g. bytea). */
int ctldb_call_params(struct ctl *ctl, const struct ctldb_purpose *purpose, const char *sql,
		      int nparams, const char *const *values, const int *lengths, const int *formats,
		      PGresult **res) __attribute__((warn_unused_result));

/* Runs text (one or more statements from our own SQL files, no parameters)
 * with PQexec.  Same contract as ctldb_call. */
int ctldb_exec_script(struct ctl *ctl, const struct ctldb_purpose *purpose, const char *text,
		      PGresult **res) __attribute__((warn_unused_result));

/* Exit status and message for a failed result (res may be NULL).  Prints. */
int ctldb_failure(struct ctl *ctl, const struct ctldb_purpose *purpose, const PGresult *res);

/* A table with one column per result field (typed from the field's type:
 * integers and numeric -> number, boolean -> bool, timestamptz -> time,
 * everything else -> string) and every row.  NULL when out of memory. */
struct out_table *ctldb_table(const PGresult *res);

/* Appends res's rows to t, whose columns must match res's fields. */
int ctldb_table_append(struct out_table *t, const PGresult *res) __attribute__((warn_unused_result));

/* Prints every row of res (as_record: exactly one row, as one record)
 * through output in ctl->format.  Returns the exit status. */
int ctldb_print(const struct ctl *ctl, const PGresult *res, bool as_record);

/* The single value of a one-row, one-column, non-NULL result, or NULL (after
 * printing an error) when res has another shape. */
const char *ctldb_single_value(const PGresult *res);

#endif
