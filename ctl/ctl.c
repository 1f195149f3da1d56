/*
 * ctl — see ctl.h.
 */
#include "ctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Entries in one command's argument table. */
#define CTL_MAX_ARGS 32

/* Set by ctl_redirect for the calling thread; NULL means stdout / stderr. */
static __thread FILE *ctl_out_stream;
static __thread FILE *ctl_err_stream;

void ctl_redirect(FILE *out, FILE *err)
{
	ctl_out_stream = out;
	ctl_err_stream = err;
}

static FILE *ctl_out(void)
{
	return ctl_out_stream != NULL ? ctl_out_stream : stdout;
}

static FILE *ctl_err(void)
{
	return ctl_err_stream != NULL ? ctl_err_stream : stderr;
}

static void ctl_vmessage(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static void ctl_vmessage(const char *fmt, va_list ap)
{
	FILE *err = ctl_err();

	fputs("sacctl: ", err);
	vfprintf(err, fmt, ap);
	fputc('\n', err);
}

int ctl_fail(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_vmessage(fmt, ap);
	va_end(ap);
	return status;
}

static void ctl_print_usage(FILE *f, const struct ctl_command *cmd)
{
	fprintf(f, "usage: sacctl [--db CONNINFO] [--format text|json|csv] %s%s%s%s%s\n", cmd->word1,
		cmd->word2 != NULL ? " " : "", cmd->word2 != NULL ? cmd->word2 : "",
		cmd->usage[0] != '\0' ? " " : "", cmd->usage);
}

int ctl_usage_error(const struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_vmessage(fmt, ap);
	va_end(ap);
	if (ctl->command != NULL)
		ctl_print_usage(ctl_err(), ctl->command);
	return CTL_EXIT_USAGE;
}

int ctl_set_format(struct ctl *ctl, const char *name)
{
	if (out_format_parse(name, &ctl->format) != 0) {
		ctl_fail(CTL_EXIT_USAGE, "--format must be text, json or csv, not '%s'", name);
		return -1;
	}
	return 0;
}

static const struct ctl_arg *ctl_find_option(const struct ctl_arg *args, const char *name, size_t len)
{
	for (; args->value != NULL || args->flag != NULL; args++)
		if (!args->positional && strlen(args->name) == len &&
		    strncmp(args->name, name, len) == 0)
			return args;
	return NULL;
}

/* One parse of a command line against an argument table. */
struct ctl_args_state {
	struct ctl *ctl;
	const struct ctl_arg *args;
	int argc;
	char **argv;
	int k; /* the argument being read */
	bool seen[CTL_MAX_ARGS];
	size_t npositional;
};

/* Every value NULL, every flag false; false when the table is too long. */
static bool ctl_args_reset(const struct ctl_arg *args)
{
	const struct ctl_arg *a;
	size_t i = 0;

	for (a = args; a->value != NULL || a->flag != NULL; a++) {
		if (i++ == CTL_MAX_ARGS) {
			ctl_fail(CTL_EXIT_USAGE, "a command may declare at most %d arguments",
				 CTL_MAX_ARGS);
			return false;
		}
		if (a->value != NULL)
			*a->value = NULL;
		if (a->flag != NULL)
			*a->flag = false;
	}
	return true;
}

/* A positional argument: the next positional entry in table order. */
static bool ctl_args_positional(struct ctl_args_state *st, const char *arg)
{
	const struct ctl_arg *a;
	size_t n = 0;

	for (a = st->args; a->value != NULL || a->flag != NULL; a++)
		if (a->positional && n++ == st->npositional)
			break;
	if (a->value == NULL && a->flag == NULL) {
		/* Not echoed: a misplaced value may be a badge UID. */
		ctl_usage_error(st->ctl, "unexpected argument (number %d)", st->k);
		return false;
	}
	*a->value = arg;
	st->seen[a - st->args] = true;
	st->npositional++;
	return true;
}

/* The value of an option: after '=' or the next argument. */
static const char *ctl_args_value(struct ctl_args_state *st, const char *value, const char *name,
				  size_t len)
{
	if (value != NULL)
		return value;
	if (st->k + 1 >= st->argc) {
		ctl_usage_error(st->ctl, "--%.*s needs a value", (int)len, name);
		return NULL;
	}
	return st->argv[++st->k];
}

/* A long option, "--name", "--name=value" or "--name value". */
static bool ctl_args_option(struct ctl_args_state *st, const char *arg)
{
	const char *name = arg + 2, *eq = strchr(name, '='), *value = NULL;
	size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
	const struct ctl_arg *a;

	if (eq != NULL)
		value = eq + 1;
	a = ctl_find_option(st->args, name, len);
	if (a == NULL && ((len == 2 && strncmp(name, "db", 2) == 0) ||
			  (len == 6 && strncmp(name, "format", 6) == 0))) {
		/* The global options are also taken after the command. */
		value = ctl_args_value(st, value, name, len);
		if (value == NULL)
			return false;
		if (len == 2)
			st->ctl->conninfo = value;
		else if (ctl_set_format(st->ctl, value) != 0)
			return false;
		return true;
	}
	if (a == NULL) {
		ctl_usage_error(st->ctl, "unknown option '--%.*s'", (int)len, name);
		return false;
	}
	if (st->seen[a - st->args]) {
		ctl_usage_error(st->ctl, "--%s given twice", a->name);
		return false;
	}
	if (a->flag != NULL) {
		if (value != NULL) {
			ctl_usage_error(st->ctl, "--%s takes no value", a->name);
			return false;
		}
		*a->flag = true;
	} else {
		value = ctl_args_value(st, value, a->name, strlen(a->name));
		if (value == NULL)
			return false;
		*a->value = value;
	}
	st->seen[a - st->args] = true;
	return true;
}

/* Every required argument was given. */
static bool ctl_args_complete(const struct ctl_args_state *st)
{
	const struct ctl_arg *a;

	for (a = st->args; a->value != NULL || a->flag != NULL; a++) {
		if (!a->required || st->seen[a - st->args])
			continue;
		if (a->positional)
			ctl_usage_error(st->ctl, "missing %s", a->name);
		else
			ctl_usage_error(st->ctl, "missing --%s", a->name);
		return false;
	}
	return true;
}

bool ctl_args_parse(struct ctl *ctl, int argc, char **argv, const struct ctl_arg *args, int *status)
{
	struct ctl_args_state st;
	bool options_done = false;

	*status = CTL_EXIT_USAGE;
	if (!ctl_args_reset(args))
		return false;
	memset(&st, 0, sizeof(st));
	st.ctl = ctl;
	st.args = args;
	st.argc = argc;
	st.argv = argv;
	for (st.k = 1; st.k < argc; st.k++) {
		const char *arg = argv[st.k];

		if (options_done || arg[0] != '-' || arg[1] == '\0') {
			if (!ctl_args_positional(&st, arg))
				return false;
		} else if (strcmp(arg, "--") == 0) {
			options_done = true;
		} else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			if (ctl->command != NULL) {
				ctl_print_usage(ctl_out(), ctl->command);
				fprintf(ctl_out(), "  %s\n", ctl->command->summary);
			}
			*status = CTL_EXIT_OK;
			return false;
		} else if (arg[1] != '-') {
			ctl_usage_error(ctl, "unknown option '%s'", arg);
			return false;
		} else if (!ctl_args_option(&st, arg)) {
			return false;
		}
	}
	if (!ctl_args_complete(&st))
		return false;
	*status = CTL_EXIT_OK;
	return true;
}

int ctl_print_list(const struct ctl *ctl, const struct out_table *t)
{
	if (out_print_list(ctl_out(), ctl->format, t) != 0)
		return ctl_fail(CTL_EXIT_ENV, "cannot write the output");
	return CTL_EXIT_OK;
}

int ctl_print_record(const struct ctl *ctl, const struct out_table *t)
{
	if (out_print_record(ctl_out(), ctl->format, t) != 0)
		return ctl_fail(CTL_EXIT_ENV, "cannot write the output");
	return CTL_EXIT_OK;
}

int ctl_print_id(const struct ctl *ctl, const char *key, const char *value)
{
	struct out_table *t = out_table_new();
	int status;

	if (t == NULL || out_column(t, key, OUT_NUMBER) != 0 || out_row(t) != 0 ||
	    out_cell(t, value) != 0) {
		out_table_free(t);
		return ctl_fail(CTL_EXIT_ENV, "out of memory");
	}
	out_set_header(t, false);
	status = ctl->format == OUT_JSON ? ctl_print_record(ctl, t) : ctl_print_list(ctl, t);
	out_table_free(t);
	return status;
}
