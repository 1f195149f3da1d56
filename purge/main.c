/*
 * sac-purge — enforces retention (paragraph 27(c)): every interval, one
 * purge pass over the database and the video store (purge_run), each pass
 * audited.  This file is the daemon around it (daemon_start does the
 * options, the configuration and the signals): --once, reload, systemd
 * notification and the schedule.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "log.h"
#include "config_keys.h"
#include "purge_run.h"

#define PURGE_DEFAULT_CONFIG "/etc/sac/sac-purge.conf"

static const char purge_usage[] =
	"usage: sac-purge [-c FILE] [--once] [--check-config] [--version] [--help]\n"
	"  -c, --config FILE  configuration file (default " PURGE_DEFAULT_CONFIG ")\n"
	"      --once         run one purge pass and exit with its status\n"
	"                     (0 done, 1 refused or failed, 3 database unreachable)\n"
	"      --check-config validate the configuration, print every problem, exit 0 or 2\n"
	"      --version      print the version\n"
	"      --help         print this help\n";

/* What the command line asked for besides the common options. */
struct purge_options {
	bool once;
};

static void purge_option(void *ctx, int opt, const char *arg)
{
	struct purge_options *o = ctx;

	(void)arg;
	if (opt == 'o')
		o->once = true;
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

static int purge_main(void *ctx, const char *path, void *config)
{
	const struct purge_options *o = ctx;
	struct purge_config *cfg = config;
	struct purge_run run;
	int status;

	if (!o->once)
		return purge_loop(path, cfg);
	purge_run_init(&run);
	status = (int)purge_run_pass(&run, cfg);
	purge_run_close(&run);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option once[] = {
		{"once", no_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	static const struct daemon_program purge = {
		.name = "sac-purge",
		.default_config = PURGE_DEFAULT_CONFIG,
		.usage = purge_usage,
		.schema = &config_purge,
		.extra_long = once,
		.option = purge_option,
		.run = purge_main,
	};
	struct purge_options options = {.once = false};
	struct purge_config cfg;

	return daemon_start(&purge, &cfg, &options, argc, argv);
}
