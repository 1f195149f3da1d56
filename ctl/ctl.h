/*
 * ctl — what every sacctl command shares: the invocation context (global
 * options, the database connection), exit statuses, error messages and the
 * parsing of a command's own arguments.  It knows no command in particular.
 */
#ifndef SAC_CTL_CTL_H
#define SAC_CTL_CTL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>

#include "output.h"

/* Exit statuses (SPEC §2). */
enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_REFUSED = 1, /* refused by policy / not compliant */
	CTL_EXIT_USAGE = 2,   /* bad usage or bad input */
	CTL_EXIT_ENV = 3,     /* database unreachable, file unreadable, … */
};

struct ctl_command;

/* The invocation: filled by main, handed to each command. */
struct ctl {
	const char *conninfo;		   /* --db; "" = libpq environment */
	enum out_format format;		   /* --format */
	PGconn *conn;			   /* opened by ctldb_connect, closed by main */
	const struct ctl_command *command; /* the command being run */
};

/* A command returns its exit status. */
typedef int (*ctl_run_fn)(struct ctl *ctl, int argc, char **argv);

/* One row of the command table (ctl/sacctl.c): `sacctl WORD1 [WORD2] …`. */
struct ctl_command {
	const char *word1;
	const char *word2; /* NULL for one-word commands such as `headcount` */
	ctl_run_fn run;	   /* gets argv[0] = the last command word, then its arguments */
	const char *usage; /* the arguments after the words, e.g. "ID --site SITE" */
	const char *summary;
};

/* Sends what commands print (results, then messages) to out and err instead
 * of stdout and stderr, for the calling thread only; NULL restores the
 * standard stream.  A program that runs commands on behalf of several people
 * at once (sac-web) captures each call's answer this way. */
void ctl_redirect(FILE *out, FILE *err);

/* Prints "sacctl: MESSAGE" to stderr and returns status. */
int ctl_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the message and the command's usage line; returns CTL_EXIT_USAGE. */
int ctl_usage_error(const struct ctl *ctl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One argument a command accepts: the long option --name, or, when
 * positional, the next positional argument (in table order; name is then
 * its placeholder, e.g. "ID").  Exactly one of value (an option taking a
 * value, or a positional) and flag is set. */
struct ctl_arg {
	const char *name;
	bool positional;
	bool required;
	const char **value;
	bool *flag;
};

/* Parses argv[1..argc) against args (terminated by an entry with neither
 * value nor flag).  Accepts --opt VALUE, --opt=VALUE, "--" ending options,
 * and also the global --db and --format, so that they may follow the command.
 * --help/-h prints the usage.  Returns true to go on; false when the command
 * must return *status at once (usage printed, or help shown). */
bool ctl_args_parse(struct ctl *ctl, int argc, char **argv, const struct ctl_arg *args, int *status)
	__attribute__((warn_unused_result));

/* Prints t through output in ctl->format, as a list or as one record.
 * Returns the exit status (CTL_EXIT_ENV on a write error). */
int ctl_print_list(const struct ctl *ctl, const struct out_table *t);
int ctl_print_record(const struct ctl *ctl, const struct out_table *t);

/* Prints one id a command created: text = the bare value (for scripts:
 * id=$(sacctl person add …)), JSON = {"key": value}, CSV = header and value.
 * Returns the exit status. */
int ctl_print_id(const struct ctl *ctl, const char *key, const char *value);

/* Sets the global options; returns 0, or -1 after printing why. */
int ctl_set_format(struct ctl *ctl, const char *name) __attribute__((warn_unused_result));

#endif
