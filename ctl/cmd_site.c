/*
 * cmd_site — `sacctl site add NAME`: a duty station's premises;
 * `sacctl site drill-confirm NAME --required yes|no`: whether a drill there
 * shows names only after a second officer confirmed it.
 */
#include <string.h>

#include "commands.h"
#include "ctldb.h"

int cmd_site_add(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctldb_purpose purpose = {"add sites", "sac_admin"};
	const char *name = NULL;
	const struct ctl_arg args[] = {
		{.name = "NAME", .positional = true, .required = true, .value = &name},
		{0},
	};
	PGresult *res = NULL;
	const char *id;
	int status;

	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	status = ctldb_call(ctl, &purpose, "SELECT sac.site_add($1)", 1, &name, &res);
	if (status != CTL_EXIT_OK)
		return status;
	id = ctldb_single_value(res);
	status = id != NULL ? ctl_print_id(ctl, "site_id", id) : CTL_EXIT_ENV;
	PQclear(res);
	return status;
}

int cmd_site_drill_confirm(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctldb_purpose purpose = {"change site settings", "sac_admin"};
	const char *name = NULL, *required = NULL;
	const struct ctl_arg args[] = {
		{.name = "NAME", .positional = true, .required = true, .value = &name},
		{.name = "required", .required = true, .value = &required},
		{0},
	};
	const char *values[2];
	PGresult *res = NULL;
	int status;

	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	if (strcmp(required, "yes") != 0 && strcmp(required, "no") != 0)
		return ctl_usage_error(ctl, "--required must be yes or no");
	values[0] = name;
	values[1] = strcmp(required, "yes") == 0 ? "true" : "false";
	status = ctldb_call(ctl, &purpose,
			    "SELECT site, drill_confirm FROM sac.site_drill_confirm($1, $2::boolean)",
			    2, values, &res);
	if (status != CTL_EXIT_OK)
		return status;
	status = ctldb_print(ctl, res, true);
	PQclear(res);
	return status;
}
