/*
 * commands — every sacctl command, one function each, grouped in
 * ctl/cmd_<area>.c.  A command gets argv[0] = its last command word, then its
 * own arguments; it parses them with ctl_args_parse, talks to the database
 * through ctldb, prints through output, and returns the exit status.
 * To add a command: declare it here, define it in a cmd_*.c file, and add a
 * row to the table in ctl/sacctl.c.
 */
#ifndef SAC_CTL_COMMANDS_H
#define SAC_CTL_COMMANDS_H

#include "ctl.h"

/* cmd_db.c */
int cmd_db_migrate(struct ctl *ctl, int argc, char **argv);

/* cmd_site.c */
int cmd_site_add(struct ctl *ctl, int argc, char **argv);
int cmd_site_drill_confirm(struct ctl *ctl, int argc, char **argv);

/* cmd_reader.c */
int cmd_reader_add(struct ctl *ctl, int argc, char **argv);
int cmd_reader_disable(struct ctl *ctl, int argc, char **argv);
int cmd_reader_enable(struct ctl *ctl, int argc, char **argv);
int cmd_reader_list(struct ctl *ctl, int argc, char **argv);
int cmd_reader_denials(struct ctl *ctl, int argc, char **argv);

/* cmd_person.c */
int cmd_person_add(struct ctl *ctl, int argc, char **argv);

/* cmd_badge.c */
int cmd_badge_enroll(struct ctl *ctl, int argc, char **argv);
int cmd_badge_revoke(struct ctl *ctl, int argc, char **argv);

/* cmd_emergency.c */
int cmd_officer_certify(struct ctl *ctl, int argc, char **argv);
int cmd_officer_revoke(struct ctl *ctl, int argc, char **argv);
int cmd_officer_acknowledge(struct ctl *ctl, int argc, char **argv);
int cmd_emergency_declare(struct ctl *ctl, int argc, char **argv);
int cmd_emergency_close(struct ctl *ctl, int argc, char **argv);
int cmd_emergency_confirm(struct ctl *ctl, int argc, char **argv);
int cmd_headcount(struct ctl *ctl, int argc, char **argv);
int cmd_muster_status(struct ctl *ctl, int argc, char **argv);
/* cmd_audit.c */
int cmd_audit_verify(struct ctl *ctl, int argc, char **argv);
int cmd_audit_log(struct ctl *ctl, int argc, char **argv);
int cmd_audit_anchor(struct ctl *ctl, int argc, char **argv);

/* cmd_retention.c */
int cmd_retention_show(struct ctl *ctl, int argc, char **argv);
int cmd_retention_set(struct ctl *ctl, int argc, char **argv);

#endif
