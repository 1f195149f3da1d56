/*
 * cmd_site — `sacctl site add NAME`: a duty station's premises.
 */
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
