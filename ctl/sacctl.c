/*
 * sacctl — the administration, officer and auditor command line of sac.
 *
 *   sacctl [--db CONNINFO] [--format text|json|csv] COMMAND …
 *
 * main parses the global options, finds the command in the table below and
 * runs it.  The caller acts as its own database role: the database, not
 * sacctl, decides what the caller may do.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "ctl.h"
#include "daemon.h"

static const struct ctl_command commands[] = {
	{"db", "migrate", cmd_db_migrate, "", "apply sql/ (idempotent)"},
	{"site", "add", cmd_site_add, "NAME", "add a site; prints its id"},
	{"site", "drill-confirm", cmd_site_drill_confirm, "NAME --required yes|no",
	 "whether a drill's names wait for a second officer's confirmation"},
	{"reader", "add", cmd_reader_add, "ID --site SITE --direction in|out|muster [--zone ZONE]",
	 "add a badge reader"},
	{"reader", "disable", cmd_reader_disable, "ID", "disable a reader (its connection closes)"},
	{"reader", "enable", cmd_reader_enable, "ID", "enable a disabled reader again"},
	{"reader", "list", cmd_reader_list, "", "readers, online/offline and last seen"},
	{"reader", "denials", cmd_reader_denials, "[--since TIME]",
	 "denied taps per reader and hour (counts only)"},
	{"person", "add", cmd_person_add,
	 "--name NAME --category staff|contractor|consultant|visitor|delegate [--org ORG]",
	 "add a person; prints the person id"},
	{"badge", "enroll", cmd_badge_enroll,
	 "--person ID|--pool --uid HEX|- [--key FILE] [--valid-until TIME]",
	 "enroll a badge (the UID is never stored or printed); prints the badge id"},
	{"badge", "revoke", cmd_badge_revoke, "--uid HEX|- [--key FILE]",
	 "revoke a badge; prints the badge id"},
	{"officer", "certify", cmd_officer_certify, "ROLE --site SITE --expires TIME",
	 "certify a role as a security officer of a site (a certifier)"},
	{"officer", "revoke", cmd_officer_revoke, "ROLE --site SITE",
	 "revoke an officer's certification for a site (a certifier)"},
	{"officer", "acknowledge", cmd_officer_acknowledge, "[--yes]",
	 "show the rules (paragraph 27); with --yes, record that you acknowledge them"},
	{"emergency", "declare", cmd_emergency_declare,
	 "--site SITE --kind drill|emergency --reason TEXT",
	 "declare an emergency or drill and take the muster roll; prints its id.\n"
	 "      The reason is written to the audit log and kept: never put a person's name in it"},
	{"emergency", "close", cmd_emergency_close, "ID", "close an emergency or drill"},
	{"emergency", "confirm", cmd_emergency_confirm, "ID",
	 "confirm another officer's drill, so that its names are shown (where required)"},
	{"headcount", NULL, cmd_headcount, "--site SITE",
	 "who is on the premises (certified officer, open emergency)"},
	{"muster", "status", cmd_muster_status, "--emergency ID [--watch]",
	 "the muster roll: accounted, left, unaccounted (certified officer)"},
	{"audit", "verify", cmd_audit_verify, "[--video-dir DIR] [--anchor LINE]",
	 "is retention enforced? exit 0 compliant, 1 not (auditor)"},
	{"audit", "log", cmd_audit_log, "[--since TIME]", "print the audit log (auditor)"},
	{"audit", "anchor", cmd_audit_anchor, "",
	 "print the audit chain's head as one line to keep off the host (auditor)"},
	{"retention", "show", cmd_retention_show, "", "the retention limits in force"},
	{"retention", "set", cmd_retention_set, "[--access-max-age D] [--purge-interval D]",
	 "set the limits: 1h-24h, 10s-30m (sac_admin; audited)"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fputs("usage: sacctl [--db CONNINFO] [--format text|json|csv] COMMAND …\n\n"
	      "  --db CONNINFO   libpq connection string (default: PGHOST, PGDATABASE, PGUSER…)\n"
	      "  --format F      text (default), json or csv\n\ncommands:\n",
	      f);
	for (i = 0; i < NCOMMANDS; i++) {
		const struct ctl_command *c = &commands[i];

		fprintf(f, "  %s%s%s%s%s\n      %s\n", c->word1, c->word2 != NULL ? " " : "",
			c->word2 != NULL ? c->word2 : "", c->usage[0] != '\0' ? " " : "", c->usage,
			c->summary);
	}
}

/* True if word is the first word of some command. */
static bool known_word(const char *word)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].word1, word) == 0)
			return true;
	return false;
}

/* The command named by argv[0] (and argv[1]); *words = how many it used. */
static const struct ctl_command *find_command(int argc, char **argv, int *words)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++) {
		const struct ctl_command *c = &commands[i];

		if (strcmp(argv[0], c->word1) != 0)
			continue;
		if (c->word2 == NULL) {
			*words = 1;
			return c;
		}
		if (argc > 1 && strcmp(argv[1], c->word2) == 0) {
			*words = 2;
			return c;
		}
	}
	return NULL;
}

/* Global options before the command: --db, --format, --help, --version.
 * *first = the index of the command word, or -1 when help or the version
 * was printed. */
static int parse_globals(struct ctl *ctl, int argc, char **argv, int *first)
{
	int k;

	for (k = 1; k < argc && argv[k][0] == '-'; k++) {
		const char *arg = argv[k];
		const char *value = NULL;

		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			usage(stdout);
			*first = -1;
			return CTL_EXIT_OK;
		}
		if (strcmp(arg, "--version") == 0) {
			printf("sacctl %s\n", SAC_VERSION);
			*first = -1;
			return CTL_EXIT_OK;
		}
		if (strncmp(arg, "--db=", 5) == 0 || strncmp(arg, "--format=", 9) == 0) {
			value = strchr(arg, '=') + 1;
		} else if (strcmp(arg, "--db") == 0 || strcmp(arg, "--format") == 0) {
			if (k + 1 >= argc) {
				usage(stderr);
				return ctl_fail(CTL_EXIT_USAGE, "%s needs a value", arg);
			}
			value = argv[++k];
		} else {
			usage(stderr);
			return ctl_fail(CTL_EXIT_USAGE, "unknown option '%s'", arg);
		}
		if (strncmp(arg, "--db", 4) == 0)
			ctl->conninfo = value;
		else if (ctl_set_format(ctl, value) != 0)
			return CTL_EXIT_USAGE;
	}
	*first = k;
	return CTL_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct ctl ctl = {.conninfo = "", .format = OUT_TEXT, .conn = NULL, .command = NULL};
	int first = argc, words = 0, status;

	/* Credentials and keys pass through this process: no core dumps. */
	if (daemon_harden() != 0)
		return ctl_fail(CTL_EXIT_ENV, "cannot keep secrets out of core dumps: %s",
				strerror(errno));
	status = parse_globals(&ctl, argc, argv, &first);
	if (status != CTL_EXIT_OK)
		return status;
	if (first == -1)
		return CTL_EXIT_OK;
	if (first >= argc) {
		usage(stderr);
		return ctl_fail(CTL_EXIT_USAGE, "no command given");
	}
	ctl.command = find_command(argc - first, argv + first, &words);
	if (ctl.command == NULL) {
		usage(stderr);
		/* Only known words are echoed: a misplaced argument may be a badge UID. */
		if (known_word(argv[first]))
			return ctl_fail(CTL_EXIT_USAGE,
					"unknown command: '%s' needs one of the words "
					"listed above",
					argv[first]);
		return ctl_fail(CTL_EXIT_USAGE, "unknown command");
	}
	status = ctl.command->run(&ctl, argc - first - words + 1, argv + first + words - 1);
	PQfinish(ctl.conn);
	return status;
}
