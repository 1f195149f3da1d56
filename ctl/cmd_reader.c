/*
 * cmd_reader — `sacctl reader add|disable|enable|list|denials`: the badge readers
 * of a site, whether the controller hears from them, and how many taps they
 * denied per hour (counts only: a denial stores no credential).
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "ctldb.h"
#include "timearg.h"

int cmd_reader_add(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctldb_purpose purpose = {"add readers", "sac_admin"};
	const char *id = NULL, *site = NULL, *direction = NULL, *zone = NULL;
	const struct ctl_arg args[] = {
		{.name = "ID", .positional = true, .required = true, .value = &id},
		{.name = "site", .required = true, .value = &site},
		{.name = "direction", .required = true, .value = &direction},
		{.name = "zone", .value = &zone},
		{0},
	};
	PGresult *res = NULL;
	int status;

	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	if (strcmp(direction, "in") != 0 && strcmp(direction, "out") != 0 &&
	    strcmp(direction, "muster") != 0)
		return ctl_usage_error(ctl, "--direction must be in, out or muster");
	{
		const char *values[] = {id, site, direction, zone};

		status = ctldb_call(ctl, &purpose, "SELECT * FROM sac.reader_add($1, $2, $3, $4)", 4,
				    values, &res);
	}
	if (status != CTL_EXIT_OK)
		return status;
	status = ctldb_print(ctl, res, true);
	PQclear(res);
	return status;
}

int cmd_reader_disable(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctldb_purpose purpose = {"disable readers", "sac_admin"};
	const char *id = NULL;
	const struct ctl_arg args[] = {
		{.name = "ID", .positional = true, .required = true, .value = &id},
		{0},
	};
	PGresult *res = NULL;
	int status;

	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	status = ctldb_call(ctl, &purpose, "SELECT * FROM sac.reader_disable($1)", 1, &id, &res);
	if (status != CTL_EXIT_OK)
		return status;
	status = ctldb_print(ctl, res, true);
	PQclear(res);
	return status;
}

int cmd_reader_enable(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctldb_purpose purpose = {"enable readers", "sac_admin"};
	const char *id;
	const struct ctl_arg args[] = {
		{.name = "ID", .positional = true, .required = true, .value = &id},
		{0},
	};
	PGresult *res = NULL;
	int status;

	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	status = ctldb_call(ctl, &purpose, "SELECT * FROM sac.reader_enable($1)", 1, &id, &res);
	if (status != CTL_EXIT_OK)
		return status;
	status = ctldb_print(ctl, res, true);
	PQclear(res);
	return status;
}

int cmd_reader_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctldb_purpose purpose = {"list readers", "sac_admin"};
	const struct ctl_arg args[] = {{0}};
	PGresult *res = NULL;
	int status;

	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	status = ctldb_call(ctl, &purpose,
			    "SELECT id, site, direction, zone, enabled, online, last_seen "
			    "FROM sac.reader_list()",
			    0, NULL, &res);
	if (status != CTL_EXIT_OK)
		return status;
	status = ctldb_print(ctl, res, false);
	PQclear(res);
	return status;
}

int cmd_reader_denials(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctldb_purpose purpose = {"read denial counts", "sac_admin or sac_auditor"};
	const char *since = NULL;
	int row, suppressed = 0;
	const struct ctl_arg args[] = {
		{.name = "since", .value = &since},
		{0},
	};
	PGresult *res = NULL;
	int status;

	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	if (since != NULL && !timearg_is_iso8601(since))
		return ctl_usage_error(ctl, "--since must be an ISO-8601 date or date-time, "
					    "e.g. 2026-12-31 or 2026-12-31T18:00:00Z");
	status = ctldb_call(ctl, &purpose,
			    "SELECT reader, site, hour, denials, suppressed FROM sac.denial_counts($1)",
			    1, &since, &res);
	if (status != CTL_EXIT_OK)
		return status;
	status = ctldb_print(ctl, res, false);
	for (row = 0; row < PQntuples(res); row++)
		suppressed += strcmp(PQgetvalue(res, row, 4), "t") == 0;
	if (status == CTL_EXIT_OK && suppressed > 0 && ctl->format == OUT_TEXT &&
	    printf("note: %d reader-hour(s) had fewer than 3 denials; their counts are suppressed "
		   "(an administrator sees no count that could single out one person; auditors "
		   "see exact counts)\n",
		   suppressed) < 0)
		status = CTL_EXIT_ENV;
	PQclear(res);
	return status;
}
