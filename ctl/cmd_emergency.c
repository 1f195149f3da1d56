/*
 * cmd_emergency — the officers' commands: `officer certify|revoke|acknowledge`,
 * `emergency declare|close`, `headcount` and `muster status [--watch]`.
 *
 * The database decides (sql/040_emergency.sql): each command is one call of
 * one function, which audits it and returns a policy refusal as data (a
 * refusal column), never as an error, so that the refusal stays in the audit
 * log.  This file turns a refusal into exit status 1 and its message, and
 * formats what was allowed.  Sorting and time formatting happen here, not in
 * the server, to keep the per-row work of a 100,000-person headcount small.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "ctldb.h"
#include "daemon.h"
#include "timearg.h"

/* Seconds between two refreshes of `muster status --watch`. */
#define MUSTER_WATCH_INTERVAL_S 3

/* Unix seconds as libpq's text -> ISO-8601 UTC in out.  Returns 0, or -1
 * when secs is not a number of seconds. */
static int iso_from_unix(const char *secs, char out[TIMEARG_ISO_SIZE])
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(secs, &end, 10);
	if (errno != 0 || end == secs || *end != '\0')
		return -1;
	return timearg_iso_utc((int64_t)v, out);
}

/* The value of a column, NULL for SQL NULL. */
static const char *field(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* Adds one cell holding the ISO form of a Unix-seconds column (NULL stays
 * NULL).  Returns 0 or -1. */
static int cell_time(struct out_table *t, const char *secs)
{
	char iso[TIMEARG_ISO_SIZE];

	if (secs == NULL)
		return out_cell(t, NULL);
	if (iso_from_unix(secs, iso) != 0)
		return -1;
	return out_cell(t, iso);
}

/* A column of an output table; lists of them end with a NULL name. */
struct column_spec {
	const char *name;
	enum out_type type;
};

/* Adds the columns of spec to t.  Returns 0 or -1. */
static int add_columns(struct out_table *t, const struct column_spec *spec)
{
	for (; spec->name != NULL; spec++)
		if (out_column(t, spec->name, spec->type) != 0)
			return -1;
	return 0;
}

/* NULLs first, then byte order: predictable whatever the database's locale. */
static int compare_nullable(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

/* Decimal ids of any length compare by length, then digits. */
static int compare_ids(const char *a, const char *b)
{
	size_t la, lb;

	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	la = strlen(a);
	lb = strlen(b);
	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

/* Columns of a person row to sort by: zone, then name, then person id. */
struct person_order {
	const PGresult *res;
	int zone, name, id;
};

static int compare_persons(const void *pa, const void *pb, void *arg)
{
	const struct person_order *o = arg;
	int a = *(const int *)pa, b = *(const int *)pb;
	int c = compare_nullable(field(o->res, a, o->zone), field(o->res, b, o->zone));

	if (c == 0)
		c = compare_nullable(field(o->res, a, o->name), field(o->res, b, o->name));
	if (c == 0)
		c = compare_ids(field(o->res, a, o->id), field(o->res, b, o->id));
	return c;
}

/* Sorts rows[0..n) of res as persons.  */
static void sort_persons(int *rows, size_t n, const struct person_order *order)
{
	qsort_r(rows, n, sizeof(*rows), compare_persons, (void *)order);
}

/* A refusal (exit 1) if the row carries one. */
static bool refused(const PGresult *res, int row, int col, int *status)
{
	const char *why = field(res, row, col);

	if (why == NULL)
		return false;
	*status = ctl_fail(CTL_EXIT_REFUSED, "refused: %s", why);
	return true;
}

/* Checks the shape of a function's answer: at least one row, ncols columns. */
static bool shape_ok(const PGresult *res, int ncols, int *status)
{
	if (PQntuples(res) >= 1 && PQnfields(res) == ncols)
		return true;
	*status = ctl_fail(CTL_EXIT_ENV, "unexpected answer from the database: %d rows, %d columns",
			   PQntuples(res), PQnfields(res));
	return false;
}

/* --- officer ------------------------------------------------------------- */

/* The answer of officer certify/revoke (refusal, time): a refusal is exit 1,
 * otherwise one record role, site, time.  Frees res. */
static int print_certification(const struct ctl *ctl, PGresult *res, const struct column_spec *columns,
			       const char *role, const char *site)
{
	struct out_table *t = NULL;
	int status;

	if (!shape_ok(res, 2, &status) || refused(res, 0, 0, &status))
		goto out;
	t = out_table_new();
	if (t == NULL || add_columns(t, columns) != 0 || out_row(t) != 0 || out_cell(t, role) != 0 ||
	    out_cell(t, site) != 0 || out_cell(t, field(res, 0, 1)) != 0) {
		status = ctl_fail(CTL_EXIT_ENV, "out of memory");
		goto out;
	}
	status = ctl_print_record(ctl, t);
out:
	out_table_free(t);
	PQclear(res);
	return status;
}

int cmd_officer_certify(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctldb_purpose purpose = {"certify officers", "sac_certifier"};
	static const struct column_spec columns[] = {
		{"role", OUT_STRING}, {"site", OUT_STRING}, {"expires_at", OUT_TIME}, {NULL, 0}};
	const char *role = NULL, *site = NULL, *expires = NULL;
	const struct ctl_arg args[] = {
		{.name = "ROLE", .positional = true, .required = true, .value = &role},
		{.name = "site", .required = true, .value = &site},
		{.name = "expires", .required = true, .value = &expires},
		{0},
	};
	PGresult *res = NULL;
	int status;

	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	if (!timearg_is_iso8601(expires))
		return ctl_usage_error(ctl, "--expires must be an ISO-8601 date or date-time, "
					    "e.g. 2026-12-31 or 2026-12-31T18:00:00Z");
	{
		const char *values[] = {role, site, expires};

		status = ctldb_call(ctl, &purpose,
				    "SELECT refusal, expires_at FROM sac.officer_certify($1, $2, $3)",
				    3, values, &res);
	}
	if (status != CTL_EXIT_OK)
		return status;
	return print_certification(ctl, res, columns, role, site);
}

int cmd_officer_revoke(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctldb_purpose purpose = {"revoke officers", "sac_certifier"};
	static const struct column_spec columns[] = {
		{"role", OUT_STRING}, {"site", OUT_STRING}, {"revoked_at", OUT_TIME}, {NULL, 0}};
	const char *role = NULL, *site = NULL;
	const struct ctl_arg args[] = {
		{.name = "ROLE", .positional = true, .required = true, .value = &role},
		{.name = "site", .required = true, .value = &site},
		{0},
	};
	PGresult *res = NULL;
	int status;

	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	{
		const char *values[] = {role, site};

		status = ctldb_call(ctl, &purpose,
				    "SELECT refusal, revoked_at FROM sac.officer_revoke($1, $2)", 2,
				    values, &res);
	}
	if (status != CTL_EXIT_OK)
		return status;
	return print_certification(ctl, res, columns, role, site);
}

/* Prints the rules and whether this call recorded an acknowledgement. */
static int print_rules(const struct ctl *ctl, const char *version, const char *body, bool acknowledged)
{
	static const struct column_spec columns[] = {{"rules_version", OUT_NUMBER},
						     {"rules", OUT_STRING},
						     {"acknowledged", OUT_BOOL},
						     {NULL, 0}};
	struct out_table *t;
	int status;

	if (ctl->format == OUT_TEXT) {
		/* The text is meant to be read: printed as written, not as a field. */
		printf("Rules, version %s\n\n%s\n", version, body);
		if (acknowledged)
			printf("Acknowledged: version %s of the rules is recorded for role %s.\n",
			       version, PQuser(ctl->conn));
		else
			printf("Nothing was recorded. To acknowledge these rules, run: "
			       "sacctl officer acknowledge --yes\n");
		return fflush(stdout) == 0 && !ferror(stdout)
			       ? CTL_EXIT_OK
			       : ctl_fail(CTL_EXIT_ENV, "cannot write to standard output");
	}
	t = out_table_new();
	if (t == NULL || add_columns(t, columns) != 0 || out_row(t) != 0 || out_cell(t, version) != 0 ||
	    out_cell(t, body) != 0 || out_cell(t, acknowledged ? "true" : "false") != 0) {
		out_table_free(t);
		return ctl_fail(CTL_EXIT_ENV, "out of memory");
	}
	status = ctl_print_record(ctl, t);
	out_table_free(t);
	return status;
}

int cmd_officer_acknowledge(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctldb_purpose purpose = {"acknowledge the rules", "sac_officer"};
	bool yes = false;
	const struct ctl_arg args[] = {
		{.name = "yes", .flag = &yes},
		{0},
	};
	PGresult *rules = NULL, *res = NULL;
	const char *version, *body;
	int status;

	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	status = ctldb_call(ctl, &purpose, "SELECT version, body FROM sac.rules_current()", 0, NULL,
			    &rules);
	if (status != CTL_EXIT_OK)
		return status;
	if (!shape_ok(rules, 2, &status))
		goto out;
	if (PQgetisnull(rules, 0, 0) || PQgetisnull(rules, 0, 1)) {
		status = ctl_fail(CTL_EXIT_ENV, "no rules are published in this database");
		goto out;
	}
	version = PQgetvalue(rules, 0, 0);
	body = PQgetvalue(rules, 0, 1);
	if (yes) {
		status = ctldb_call(ctl, &purpose, "SELECT refusal FROM sac.officer_acknowledge($1)", 1,
				    &version, &res);
		if (status != CTL_EXIT_OK)
			goto out;
		if (!shape_ok(res, 1, &status) || refused(res, 0, 0, &status))
			goto out;
	}
	status = print_rules(ctl, version, body, yes);
out:
	PQclear(res);
	PQclear(rules);
	return status;
}

/* --- emergency ------------------------------------------------------------ */

int cmd_emergency_declare(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctldb_purpose purpose = {"declare emergencies",
						     "a certified officer of the site"};
	const char *site = NULL, *kind = NULL, *reason = NULL;
	const struct ctl_arg args[] = {
		{.name = "site", .required = true, .value = &site},
		{.name = "kind", .required = true, .value = &kind},
		{.name = "reason", .required = true, .value = &reason},
		{0},
	};
	PGresult *res = NULL;
	int status;

	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	if (strcmp(kind, "drill") != 0 && strcmp(kind, "emergency") != 0)
		return ctl_usage_error(ctl, "--kind must be drill or emergency");
	if (reason[0] == '\0' || strlen(reason) > 500)
		return ctl_usage_error(ctl, "--reason must be 1 to 500 characters");
	{
		const char *values[] = {site, kind, reason};

		status = ctldb_call(
			ctl, &purpose,
			"SELECT refusal, emergency_id FROM sac.emergency_declare($1, $2, $3)", 3,
			values, &res);
	}
	if (status != CTL_EXIT_OK)
		return status;
	if (shape_ok(res, 2, &status) && !refused(res, 0, 0, &status))
		status = ctl_print_id(ctl, "emergency_id", PQgetvalue(res, 0, 1));
	PQclear(res);
	return status;
}

/* An emergency id: digits only, so that a typo is bad usage, not a refusal.
 * what names the argument in the message ("ID", "--emergency").  Returns
 * true, or false with *status set to the usage error. */
static bool id_ok(const struct ctl *ctl, const char *id, const char *what, int *status)
{
	size_t n = strspn(id, "0123456789");

	if (n > 0 && n <= 18 && id[n] == '\0')
		return true;
	*status = ctl_usage_error(ctl, "%s must be an emergency id (a number)", what);
	return false;
}

/* A command that acts on one emergency named by its ID and prints a record
 * of what it did. */
struct emergency_call {
	struct ctldb_purpose purpose;
	/* One call with $1 = the id; its answer is (refusal, then the columns
	 * after the first two of the record). */
	const char *sql;
	/* The record: emergency_id, the done flag (always true: a refusal is
	 * exit 1), then the answer's columns after the refusal. */
	const struct column_spec *columns;
};

/* Runs call for the positional ID of argv.  Returns the exit status. */
static int emergency_call(struct ctl *ctl, int argc, char **argv, const struct emergency_call *call)
{
	const char *id = NULL;
	const struct ctl_arg args[] = {
		{.name = "ID", .positional = true, .required = true, .value = &id},
		{0},
	};
	PGresult *res = NULL;
	struct out_table *t = NULL;
	int status, ncols = 0, c;

	if (!ctl_args_parse(ctl, argc, argv, args, &status) || !id_ok(ctl, id, "ID", &status))
		return status;
	status = ctldb_call(ctl, &call->purpose, call->sql, 1, &id, &res);
	if (status != CTL_EXIT_OK)
		return status;
	while (call->columns[ncols].name != NULL)
		ncols++;
	/* The answer has the refusal where the record has id and flag. */
	if (!shape_ok(res, ncols - 1, &status) || refused(res, 0, 0, &status))
		goto out;
	t = out_table_new();
	if (t == NULL || add_columns(t, call->columns) != 0 || out_row(t) != 0 ||
	    out_cell(t, id) != 0 || out_cell(t, "true") != 0)
		goto oom;
	for (c = 1; c < ncols - 1; c++)
		if (out_cell(t, field(res, 0, c)) != 0)
			goto oom;
	status = ctl_print_record(ctl, t);
	goto out;
oom:
	status = ctl_fail(CTL_EXIT_ENV, "out of memory");
out:
	out_table_free(t);
	PQclear(res);
	return status;
}

int cmd_emergency_close(struct ctl *ctl, int argc, char **argv)
{
	static const struct column_spec columns[] = {{"emergency_id", OUT_NUMBER},
						     {"closed", OUT_BOOL},
						     {"unaccounted", OUT_NUMBER},
						     {NULL, 0}};
	static const struct emergency_call call = {
		{"close emergencies", "a certified officer of the site"},
		"SELECT refusal, unaccounted FROM sac.emergency_close($1)",
		columns,
	};

	return emergency_call(ctl, argc, argv, &call);
}

int cmd_emergency_confirm(struct ctl *ctl, int argc, char **argv)
{
	static const struct column_spec columns[] = {
		{"emergency_id", OUT_NUMBER}, {"confirmed", OUT_BOOL}, {NULL, 0}};
	static const struct emergency_call call = {
		{"confirm drills", "a second certified officer of the site"},
		"SELECT refusal FROM sac.emergency_confirm($1)",
		columns,
	};

	return emergency_call(ctl, argc, argv, &call);
}

/* --- headcount ------------------------------------------------------------- */

/* The columns of sac.headcount, in this order. */
enum {
	HC_PERSON_ID,
	HC_NAME,
	HC_CATEGORY,
	HC_ZONE,
	HC_SINCE,
	HC_REFUSAL,
	HC_SITE,
	HC_EMERGENCY_ID,
	HC_AS_OF,
	HC_PRESENT,
	HC_UNIDENTIFIED,
	HC_EXPIRED_PRESENCE,
	HC_NCOLUMNS
};

/* The persons of a headcount (every row but the last), sorted. */
static struct out_table *headcount_persons(const PGresult *res)
{
	static const struct column_spec columns[] = {{"person_id", OUT_NUMBER}, {"name", OUT_STRING},
						     {"category", OUT_STRING},	{"zone", OUT_STRING},
						     {"since", OUT_STRING},	{NULL, 0}};
	const struct person_order order = {res, HC_ZONE, HC_NAME, HC_PERSON_ID};
	size_t n = (size_t)PQntuples(res) - 1, i;
	struct out_table *t = out_table_new();
	int *rows = malloc((n > 0 ? n : 1) * sizeof(*rows));

	if (t == NULL || rows == NULL || add_columns(t, columns) != 0)
		goto fail;
	for (i = 0; i < n; i++)
		rows[i] = (int)i;
	sort_persons(rows, n, &order);
	for (i = 0; i < n; i++) {
		int r = rows[i];

		if (out_row(t) != 0 || out_cell(t, field(res, r, HC_PERSON_ID)) != 0 ||
		    out_cell(t, field(res, r, HC_NAME)) != 0 ||
		    out_cell(t, field(res, r, HC_CATEGORY)) != 0 ||
		    out_cell(t, field(res, r, HC_ZONE)) != 0 ||
		    cell_time(t, field(res, r, HC_SINCE)) != 0)
			goto fail;
	}
	free(rows);
	return t;
fail:
	free(rows);
	out_table_free(t);
	return NULL;
}

int cmd_headcount(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctldb_purpose purpose = {"run a headcount",
						     "a certified officer of the site"};
	static const struct column_spec columns[] = {{"site", OUT_STRING},
						     {"emergency_id", OUT_NUMBER},
						     {"as_of", OUT_STRING},
						     {"present", OUT_NUMBER},
						     {"unidentified", OUT_NUMBER},
						     {"expired_presence", OUT_NUMBER},
						     {NULL, 0}};
	const char *site = NULL;
	const struct ctl_arg args[] = {
		{.name = "site", .required = true, .value = &site},
		{0},
	};
	PGresult *res = NULL;
	struct out_table *t = NULL, *persons;
	int status, last;

	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	status = ctldb_call(ctl, &purpose, "SELECT * FROM sac.headcount($1)", 1, &site, &res);
	if (status != CTL_EXIT_OK)
		return status;
	if (!shape_ok(res, HC_NCOLUMNS, &status))
		goto out;
	last = PQntuples(res) - 1; /* the summary */
	if (refused(res, last, HC_REFUSAL, &status))
		goto out;
	t = out_table_new();
	if (t == NULL || add_columns(t, columns) != 0 || out_row(t) != 0 ||
	    out_cell(t, field(res, last, HC_SITE)) != 0 ||
	    out_cell(t, field(res, last, HC_EMERGENCY_ID)) != 0 ||
	    cell_time(t, field(res, last, HC_AS_OF)) != 0 ||
	    out_cell(t, field(res, last, HC_PRESENT)) != 0 ||
	    out_cell(t, field(res, last, HC_UNIDENTIFIED)) != 0 ||
	    out_cell(t, field(res, last, HC_EXPIRED_PRESENCE)) != 0)
		goto oom;
	persons = headcount_persons(res);
	if (persons == NULL || out_attach(t, "persons", persons) != 0)
		goto oom;
	/* The list is printed; the result is no longer needed. */
	PQclear(res);
	res = NULL;
	status = ctl_print_record(ctl, t);
	goto out;
oom:
	status = ctl_fail(CTL_EXIT_ENV, "out of memory or a malformed answer from the database");
out:
	out_table_free(t);
	PQclear(res);
	return status;
}

/* --- muster status ----------------------------------------------------------- */

/* The columns selected from sac.muster_status, in this order. */
enum {
	MS_PART,
	MS_REFUSAL,
	MS_EMERGENCY_ID,
	MS_SITE,
	MS_KIND,
	MS_DECLARED_AT,
	MS_CLOSED_AT,
	MS_ON_ROLL,
	MS_ACCOUNTED,
	MS_LEFT,
	MS_UNACCOUNTED,
	MS_READER,
	MS_READER_ZONE,
	MS_READER_ACCOUNTED,
	MS_PERSON_ID,
	MS_NAME,
	MS_CATEGORY,
	MS_ZONE,
	MS_LAST_SEEN,
	MS_NCOLUMNS
};

static int compare_points(const void *pa, const void *pb, void *arg)
{
	const PGresult *res = arg;

	return compare_nullable(field(res, *(const int *)pa, MS_READER),
				field(res, *(const int *)pb, MS_READER));
}

/* Builds the muster record from res; *closed tells whether the emergency is
 * closed.  Returns the table, or NULL when out of memory or malformed. */
static struct out_table *muster_table(const PGresult *res, int summary, bool *closed)
{
	static const struct column_spec columns[] = {
		{"emergency_id", OUT_NUMBER}, {"site", OUT_STRING},
		{"kind", OUT_STRING},	      {"declared_at", OUT_STRING},
		{"closed_at", OUT_STRING},    {"on_roll", OUT_NUMBER},
		{"accounted", OUT_NUMBER},    {"left", OUT_NUMBER},
		{"unaccounted", OUT_NUMBER},  {NULL, 0}};
	static const struct column_spec point_columns[] = {
		{"reader", OUT_STRING}, {"zone", OUT_STRING}, {"accounted", OUT_NUMBER}, {NULL, 0}};
	static const struct column_spec person_columns[] = {
		{"person_id", OUT_NUMBER}, {"name", OUT_STRING},      {"category", OUT_STRING},
		{"zone", OUT_STRING},	   {"last_seen", OUT_STRING}, {NULL, 0}};
	const struct person_order order = {res, MS_ZONE, MS_NAME, MS_PERSON_ID};
	size_t nrows = (size_t)PQntuples(res), npoints = 0, npersons = 0, i;
	int *points = malloc(nrows * sizeof(*points));
	int *persons = malloc(nrows * sizeof(*persons));
	struct out_table *t = out_table_new(), *pt, *ps;
	int c;

	if (points == NULL || persons == NULL || t == NULL)
		goto fail;
	for (i = 0; i < nrows; i++) {
		const char *part = field(res, (int)i, MS_PART);

		if (part != NULL && strcmp(part, "point") == 0)
			points[npoints++] = (int)i;
		else if (part != NULL && strcmp(part, "person") == 0)
			persons[npersons++] = (int)i;
	}
	qsort_r(points, npoints, sizeof(*points), compare_points, (void *)res);
	sort_persons(persons, npersons, &order);

	if (add_columns(t, columns) != 0 || out_row(t) != 0)
		goto fail;
	for (c = MS_EMERGENCY_ID; c <= MS_UNACCOUNTED; c++) {
		int rc = c == MS_DECLARED_AT || c == MS_CLOSED_AT ? cell_time(t, field(res, summary, c))
								  : out_cell(t, field(res, summary, c));

		if (rc != 0)
			goto fail;
	}
	*closed = field(res, summary, MS_CLOSED_AT) != NULL;

	/* Attached at once: t owns them from here on, also on failure. */
	pt = out_table_new();
	if (pt == NULL || out_attach(t, "muster_points", pt) != 0 ||
	    add_columns(pt, point_columns) != 0)
		goto fail;
	for (i = 0; i < npoints; i++)
		if (out_row(pt) != 0 || out_cell(pt, field(res, points[i], MS_READER)) != 0 ||
		    out_cell(pt, field(res, points[i], MS_READER_ZONE)) != 0 ||
		    out_cell(pt, field(res, points[i], MS_READER_ACCOUNTED)) != 0)
			goto fail;
	ps = out_table_new();
	if (ps == NULL || out_attach(t, "unaccounted_persons", ps) != 0 ||
	    add_columns(ps, person_columns) != 0)
		goto fail;
	for (i = 0; i < npersons; i++) {
		int r = persons[i];

		if (out_row(ps) != 0 || out_cell(ps, field(res, r, MS_PERSON_ID)) != 0 ||
		    out_cell(ps, field(res, r, MS_NAME)) != 0 ||
		    out_cell(ps, field(res, r, MS_CATEGORY)) != 0 ||
		    out_cell(ps, field(res, r, MS_ZONE)) != 0 ||
		    cell_time(ps, field(res, r, MS_LAST_SEEN)) != 0)
			goto fail;
	}
	free(points);
	free(persons);
	return t;
fail:
	free(points);
	free(persons);
	out_table_free(t);
	return NULL;
}

/* One muster status: fetch, print.  *closed tells whether the emergency is
 * closed (a watch then stops).  Returns the exit status. */
static int muster_once(struct ctl *ctl, const char *id, bool clear, bool *closed)
{
	static const struct ctldb_purpose purpose = {"read a muster status",
						     "a certified officer of the site"};
	PGresult *res = NULL;
	struct out_table *t = NULL;
	int status, summary = -1, i;

	status = ctldb_call(ctl, &purpose,
			    "SELECT part, refusal, emergency_id, site, kind, declared_at, closed_at, "
			    "on_roll, accounted, left_site, unaccounted, reader, reader_zone, "
			    "reader_accounted, person_id, name, category, zone, last_seen "
			    "FROM sac.muster_status($1)",
			    1, &id, &res);
	if (status != CTL_EXIT_OK)
		return status;
	if (!shape_ok(res, MS_NCOLUMNS, &status))
		goto out;
	for (i = 0; i < PQntuples(res) && summary < 0; i++)
		if (strcmp(PQgetvalue(res, i, MS_PART), "summary") == 0)
			summary = i;
	if (summary < 0) {
		status = ctl_fail(CTL_EXIT_ENV, "unexpected answer from the database: no summary");
		goto out;
	}
	if (refused(res, summary, MS_REFUSAL, &status))
		goto out;
	t = muster_table(res, summary, closed);
	if (t == NULL) {
		status =
			ctl_fail(CTL_EXIT_ENV, "out of memory or a malformed answer from the database");
		goto out;
	}
	PQclear(res);
	res = NULL;
	if (clear)
		fputs("\033[H\033[2J", stdout);
	status = ctl_print_record(ctl, t);
out:
	out_table_free(t);
	PQclear(res);
	return status;
}

int cmd_muster_status(struct ctl *ctl, int argc, char **argv)
{
	const char *id = NULL;
	bool watch = false, closed = false;
	const struct ctl_arg args[] = {
		{.name = "emergency", .required = true, .value = &id},
		{.name = "watch", .flag = &watch},
		{0},
	};
	int status;

	if (!ctl_args_parse(ctl, argc, argv, args, &status) || !id_ok(ctl, id, "--emergency", &status))
		return status;
	if (!watch)
		return muster_once(ctl, id, false, &closed);
	if (daemon_signals_install() != 0)
		return ctl_fail(CTL_EXIT_ENV, "cannot install signal handlers");
	/* Text redraws the screen in place; JSON and CSV print one document
	 * per refresh, for a program to read. */
	while (!daemon_terminate) {
		int64_t until;

		status = muster_once(ctl, id, ctl->format == OUT_TEXT, &closed);
		if (status != CTL_EXIT_OK || closed)
			return status;
		until = daemon_monotonic_ms() + MUSTER_WATCH_INTERVAL_S * 1000;
		while (!daemon_terminate && daemon_monotonic_ms() < until) {
			struct timespec step = {0, 100 * 1000 * 1000};

			nanosleep(&step, NULL);
		}
	}
	return CTL_EXIT_OK;
}
