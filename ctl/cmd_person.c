/*
 * cmd_person — `sacctl person add`: a person who may hold a badge.  Prints
 * the person id, which `badge enroll --person` takes.
 */
#include "commands.h"
#include "ctldb.h"

int cmd_person_add(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctldb_purpose purpose = {"add persons", "sac_admin"};
	const char *name = NULL, *category = NULL, *org = NULL;
	const struct ctl_arg args[] = {
		{.name = "name", .required = true, .value = &name},
		{.name = "category", .required = true, .value = &category},
		{.name = "org", .value = &org},
		{0},
	};
	PGresult *res = NULL;
	const char *id;
	int status;

	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	{
		const char *values[] = {name, category, org};

		status =
			ctldb_call(ctl, &purpose, "SELECT sac.person_add($1, $2, $3)", 3, values, &res);
	}
	if (status != CTL_EXIT_OK)
		return status;
	id = ctldb_single_value(res);
	status = id != NULL ? ctl_print_id(ctl, "person_id", id) : CTL_EXIT_ENV;
	PQclear(res);
	return status;
}
