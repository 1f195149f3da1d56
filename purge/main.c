/*
 * sac-purge — enforces retention (paragraph 27(c)): every interval, one
 * purge pass over the database and the video store (purge_run), each pass
 * audited.  This file is the daemon around it: options, configuration,
 * signals, systemd notification and the schedule.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "log.h"
#include "config_keys.h"
#include "purge_run.h"

#define PURGE_DEFAULT_CONFIG "/etc/sac/sac-purge.conf"

static void purge_usage(FILE *f)
{
	fprintf(f, "usage: sac-purge [-c FILE] [--once] [--check-config] [--version] [--help]\n"
		   "  -c, --config FILE  configuration file (default " PURGE_DEFAULT_CONFIG ")\n"
		   "      --once         run one purge pass and exit with its status\n"
		   "                     (0 done, 1 refused or failed, 3 database unreachable)\n"
		   "      --check-config validate the configuration, print every problem, exit 0 or 2\n"
		   "      --version      print the version\n"
		   "      --help         print this help\n");
}

/* Loads path into *cfg, printing problems.  Returns 0, 2 or 3. */
static int purge_load(const char *path, struct purge_config *cfg)
{
	struct config_problems problems = {0};
	enum config_status status = config_load(&config_purge, path, cfg, &problems);

	config_problems_print(&problems);
	config_problems_free(&problems);
	return (int)status;
}

/* Sleeps until the monotonic deadline (ms), waking for signals and to feed
 * the watchdog.  Returns early when a signal flag is set. */
static void purge_sleep_until(int64_t deadline_ms)
{
	uint64_t watchdog_usec = daemon_watchdog_interval_usec();
	int64_t slice_ms = watchdog_usec > 0 ? (int64_t)(watchdog_usec / 1000) : 1000;

	if (slice_ms < 1 || slice_ms > 1000)
		slice_ms = 1000;
	while (!daemon_terminate && !daemon_reload) {
		int64_t left = deadline_ms - daemon_monotonic_ms();
		struct timespec ts;

		if (left <= 0)
			break;
		if (left > slice_ms)
			left = slice_ms;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		(void)nanosleep(&ts, NULL); /* EINTR: a signal, checked above */
		if (watchdog_usec > 0)
			daemon_notify_watchdog();
	}
}

/* SIGHUP: every key of [purge] applies from the next pass. */
static void purge_reload(const char *path, struct purge_config *cfg, struct purge_run *run)
{
	struct purge_config fresh;

	daemon_notify_reloading();
	if (config_reload(&config_purge, path, &fresh) == CONFIG_OK) {
		if (!config_same(&config_purge, "database", cfg, &fresh))
			purge_run_disconnect(run);
		(void)config_commit(&config_purge, path, cfg, &fresh);
		config_free(&config_purge, cfg);
		*cfg = fresh;
	}
	daemon_notify_ready("reloaded");
}

static int purge_loop(const char *path, struct purge_config *cfg)
{
	struct purge_run run;
	int64_t next_ms;

	purge_run_init(&run);
	daemon_notify_ready("purging");
	log_notice("started: limits and interval from the database%s%s",
		   cfg->video_dir != NULL ? ", video in " : "",
		   cfg->video_dir != NULL ? cfg->video_dir : "");
	next_ms = daemon_monotonic_ms();
	while (!daemon_terminate) {
		if (daemon_reload) {
			daemon_reload = 0;
			purge_reload(path, cfg, &run);
		}
		if (daemon_monotonic_ms() >= next_ms) {
			int64_t started_ms = next_ms;

			/* Passes start on a fixed schedule, so one slow pass does not
			 * push every later one back; the interval is the one the
			 * database gave for this pass. */
			(void)purge_run_pass(&run, cfg);
			next_ms = started_ms + purge_run_interval_s(&run) * 1000;
			if (next_ms <= daemon_monotonic_ms())
				next_ms = daemon_monotonic_ms() + purge_run_interval_s(&run) * 1000;
			daemon_notify_watchdog();
		}
		purge_sleep_until(next_ms);
	}
	daemon_notify_stopping();
	log_notice("stopping");
	purge_run_close(&run);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'}, {"once", no_argument, NULL, 'o'},
		{"check-config", no_argument, NULL, 'k'}, {"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},	  {NULL, 0, NULL, 0},
	};
	const char *path = PURGE_DEFAULT_CONFIG;
	struct purge_config cfg;
	bool once = false, check_only = false;
	int opt, status;

	log_init("sac-purge", LOG_LEVEL_INFO);
	if (daemon_harden() != 0) {
		log_err("cannot keep secrets out of core dumps");
		return 3;
	}
	while ((opt = getopt_long(argc, argv, "c:", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'o':
			once = true;
			break;
		case 'k':
			check_only = true;
			break;
		case 'V':
			printf("sac-purge %s\n", SAC_VERSION);
			return 0;
		case 'h':
			purge_usage(stdout);
			return 0;
		default:
			purge_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		purge_usage(stderr);
		return 2;
	}
	status = purge_load(path, &cfg);
	if (check_only) {
		if (status == 0)
			printf("%s: configuration OK\n", path);
		config_free(&config_purge, &cfg);
		return status;
	}
	if (status != 0) {
		config_free(&config_purge, &cfg);
		return status;
	}
	if (daemon_signals_install() != 0) {
		log_err("cannot install signal handlers");
		config_free(&config_purge, &cfg);
		return 3;
	}
	if (once) {
		struct purge_run run;

		purge_run_init(&run);
		status = (int)purge_run_pass(&run, &cfg);
		purge_run_close(&run);
	} else {
		status = purge_loop(path, &cfg);
	}
	config_free(&config_purge, &cfg);
	return status;
}
