/*
 * daemon — see daemon.h.
 */
#include "daemon.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#include "log.h"

/* The common options plus a program's own. */
#define DAEMON_MAX_OPTIONS 16

volatile sig_atomic_t daemon_terminate;
volatile sig_atomic_t daemon_reload;

int daemon_harden(void)
{
	struct rlimit none = {0, 0}, now;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return -1;
	if (setrlimit(RLIMIT_CORE, &none) == 0)
		return 0;
	/* A system call filter may forbid setrlimit; a limit of 0 set by the
	 * service manager (LimitCORE=0) is as good. */
	if (getrlimit(RLIMIT_CORE, &now) == 0 && now.rlim_cur == 0 && now.rlim_max == 0)
		return 0;
	return -1;
}

static void daemon_on_signal(int signo)
{
	if (signo == SIGHUP)
		daemon_reload = 1;
	else
		daemon_terminate = 1;
}

int daemon_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = daemon_on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGHUP, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		return -1;
	return 0;
}

int64_t daemon_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t daemon_unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Builds the short and long option lists of program; -1 when its own
 * options do not fit (a programming error). */
static int daemon_options(const struct daemon_program *program, char *shortopts, size_t shortlen,
			  struct option *longopts)
{
	static const struct option common[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 'k'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
	};
	const struct option *extra = program->extra_long;
	size_t n = 0, i;

	if (snprintf(shortopts, shortlen, "c:%s",
		     program->extra_short != NULL ? program->extra_short : "") >= (int)shortlen)
		return -1;
	for (i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		longopts[n++] = common[i];
	for (; extra != NULL && extra->name != NULL; extra++) {
		if (n + 1 >= DAEMON_MAX_OPTIONS)
			return -1;
		longopts[n++] = *extra;
	}
	memset(&longopts[n], 0, sizeof(longopts[n]));
	return 0;
}

/* Loads path into cfg and runs the program's own check.  Every problem is
 * printed; returns the configuration's status. */
static enum config_status daemon_load(const struct daemon_program *program, const char *path, void *cfg,
				      void *ctx)
{
	struct config_problems problems = {0};
	enum config_status status = config_load(program->schema, path, cfg, &problems);

	if (status == CONFIG_OK && program->check != NULL)
		status = program->check(ctx, path, cfg, &problems);
	config_problems_print(&problems);
	config_problems_free(&problems);
	return status;
}

int daemon_start(const struct daemon_program *program, void *cfg, void *ctx, int argc, char **argv)
{
	struct option longopts[DAEMON_MAX_OPTIONS];
	char shortopts[32];
	const char *path = program->default_config;
	bool check_only = false;
	int opt, status;

	/* Zeroed, so that config_free may run on every path below. */
	memset(cfg, 0, program->schema->size);
	log_init(program->name, LOG_LEVEL_INFO);
	if (daemon_harden() != 0) {
		log_err("cannot keep secrets out of core dumps");
		return 3;
	}
	if (daemon_options(program, shortopts, sizeof(shortopts), longopts) != 0) {
		log_error("too many options");
		return 3;
	}
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'k':
			check_only = true;
			break;
		case 'V':
			printf("%s %s\n", program->name, SAC_VERSION);
			return 0;
		case 'h':
			fputs(program->usage, stdout);
			return 0;
		default:
			if (opt == '?' || program->option == NULL) {
				fputs(program->usage, stderr);
				return 2;
			}
			program->option(ctx, opt, optarg);
			break;
		}
	}
	if (optind != argc) {
		fputs(program->usage, stderr);
		return 2;
	}
	status = (int)daemon_load(program, path, cfg, ctx);
	if (status != CONFIG_OK)
		goto out;
	if (check_only) {
		printf("%s: configuration OK\n", path);
		goto out;
	}
	if (daemon_signals_install() != 0) {
		log_err("cannot install signal handlers");
		status = 3;
		goto out;
	}
	status = program->run(ctx, path, cfg);
out:
	config_free(program->schema, cfg);
	return status;
}
