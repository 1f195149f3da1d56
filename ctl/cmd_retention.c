/*
 * cmd_retention — `sacctl retention show|set`: the access-data limit, the
 * purge interval and the longest certification, as the database holds them
 * (sac.settings).  Any sac role may read them; only sac_admin may set the
 * first two, within the legal bounds the database checks (audited).  No
 * daemon or configuration file chooses them.
 */
#include <inttypes.h>
#include <stdio.h>

#include "commands.h"
#include "ctldb.h"
#include "duration.h"

#define RETENTION_COLUMNS \
	"access_max_age_s, purge_interval_s, certification_max_s, changed_at, changed_by"

int cmd_retention_show(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctldb_purpose purpose = {"read the retention settings", "a sac group role"};
	const struct ctl_arg args[] = {{0}};
	PGresult *res = NULL;
	int status;

	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	status = ctldb_call(ctl, &purpose, "SELECT " RETENTION_COLUMNS " FROM sac.retention_show()", 0,
			    NULL, &res);
	if (status != CTL_EXIT_OK)
		return status;
	status = ctldb_print(ctl, res, true);
	PQclear(res);
	return status;
}

/* A duration argument as an SQL interval in seconds, or a usage error. */
static int retention_duration(struct ctl *ctl, const char *option, const char *text, char *out,
			      size_t out_size)
{
	int64_t seconds;

	if (text == NULL)
		return CTL_EXIT_OK;
	if (duration_parse(text, &seconds) != 0)
		return ctl_usage_error(ctl, "--%s must be a duration such as 90s, 15m or 24h", option);
	snprintf(out, out_size, "%" PRId64 " seconds", seconds);
	return CTL_EXIT_OK;
}

int cmd_retention_set(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctldb_purpose purpose = {"set the retention limits", "sac_admin"};
	const char *max_age = NULL, *interval = NULL;
	const struct ctl_arg args[] = {
		{.name = "access-max-age", .value = &max_age},
		{.name = "purge-interval", .value = &interval},
		{0},
	};
	char max_age_sql[40], interval_sql[40];
	const char *values[2];
	PGresult *res = NULL;
	int status;

	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	if (max_age == NULL && interval == NULL)
		return ctl_usage_error(ctl, "give --access-max-age, --purge-interval or both");
	status = retention_duration(ctl, "access-max-age", max_age, max_age_sql, sizeof(max_age_sql));
	if (status == CTL_EXIT_OK)
		status = retention_duration(ctl, "purge-interval", interval, interval_sql,
					    sizeof(interval_sql));
	if (status != CTL_EXIT_OK)
		return status;
	values[0] = max_age != NULL ? max_age_sql : NULL;
	values[1] = interval != NULL ? interval_sql : NULL;
	status = ctldb_call(ctl, &purpose,
			    "SELECT " RETENTION_COLUMNS
			    " FROM sac.retention_set($1::interval, $2::interval)",
			    2, values, &res);
	if (status != CTL_EXIT_OK)
		return status;
	status = ctldb_print(ctl, res, true);
	PQclear(res);
	return status;
}
