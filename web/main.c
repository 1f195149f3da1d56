/*
 * sac-web — the HTTPS console: officers' muster board, auditors' deletion
 * report, admins' reader status (SPEC §6).  This file is the daemon around
 * server.c: options, configuration, signals, systemd notification and the
 * idle-session sweep.
 */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "config_keys.h"
#include "daemon.h"
#include "log.h"
#include "ratelimit.h"
#include "server.h"
#include "session.h"

#define WEB_DEFAULT_CONFIG "/etc/sac/sac-web.conf"

static void web_usage(FILE *f)
{
	fprintf(f, "usage: sac-web [-c FILE] [--check-config] [--version] [--help]\n"
		   "  -c, --config FILE  configuration file (default " WEB_DEFAULT_CONFIG ")\n"
		   "      --check-config validate the configuration, print every problem, exit 0 or 2\n"
		   "      --version      print the version\n"
		   "      --help         print this help\n");
}

/* Loads path into *cfg, printing problems.  Returns 0, 2 or 3. */
static int web_load(const char *path, struct web_config *cfg)
{
	struct config_problems problems = {0};
	enum config_status status = config_load(&config_web, path, cfg, &problems);

	config_problems_print(&problems);
	config_problems_free(&problems);
	return (int)status;
}

/* SIGHUP: the idle limit takes effect at once; listen addresses, the
 * certificate and the database need a restart (config_commit says so). */
static void web_reload(const char *path, struct web_config *cfg)
{
	struct web_config fresh;

	daemon_notify_reloading();
	if (config_reload(&config_web, path, &fresh) == CONFIG_OK) {
		(void)config_commit(&config_web, path, cfg, &fresh);
		config_free(&config_web, cfg);
		*cfg = fresh;
		session_init(cfg->session_idle_s);
	}
	daemon_notify_ready("reloaded");
}

/* Blocks the signals the main thread handles, so that the server's threads
 * (which inherit the mask) never take them. */
static void web_block_signals(bool block)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

static int web_run(const char *path, struct web_config *cfg)
{
	struct server *srv;
	uint64_t watchdog_usec = daemon_watchdog_interval_usec();
	/* Sign-in keeps using the database it started with (a reload may free
	 * cfg's copy). */
	char *database = strdup(cfg->database);

	if (database == NULL || ratelimit_init() != 0) {
		log_err("cannot start");
		free(database);
		return 3;
	}
	session_init(cfg->session_idle_s);
	api_init(database, (long)cfg->session_idle_s);
	web_block_signals(true);
	srv = server_start(cfg);
	web_block_signals(false);
	if (srv == NULL) {
		free(database);
		return 3;
	}
	daemon_notify_ready("serving");
	log_notice("started: sessions end after %llds idle", (long long)cfg->session_idle_s);
	while (!daemon_terminate) {
		struct timespec step = {0, 250 * 1000 * 1000};
		int n;

		if (daemon_reload) {
			daemon_reload = 0;
			web_reload(path, cfg);
		}
		n = session_expire_idle();
		if (n > 0)
			log_info("%d idle session%s ended (%d open)", n, n == 1 ? "" : "s",
				 session_count());
		if (watchdog_usec > 0)
			daemon_notify_watchdog();
		(void)nanosleep(&step, NULL); /* EINTR: a signal, checked above */
	}
	daemon_notify_stopping();
	log_notice("stopping");
	server_stop(srv);
	session_end_all();
	free(database);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 'k'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = WEB_DEFAULT_CONFIG;
	struct web_config cfg;
	bool check_only = false;
	int opt, status;

	log_init("sac-web", LOG_LEVEL_INFO);
	if (daemon_harden() != 0) {
		log_err("cannot keep secrets out of core dumps");
		return 3;
	}
	while ((opt = getopt_long(argc, argv, "c:", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'k':
			check_only = true;
			break;
		case 'V':
			printf("sac-web %s\n", SAC_VERSION);
			return 0;
		case 'h':
			web_usage(stdout);
			return 0;
		default:
			web_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		web_usage(stderr);
		return 2;
	}
	status = web_load(path, &cfg);
	if (check_only) {
		if (status == 0)
			printf("%s: configuration OK\n", path);
		config_free(&config_web, &cfg);
		return status;
	}
	if (status != 0) {
		config_free(&config_web, &cfg);
		return status;
	}
	if (daemon_signals_install() != 0) {
		log_err("cannot install signal handlers");
		config_free(&config_web, &cfg);
		return 3;
	}
	status = web_run(path, &cfg);
	config_free(&config_web, &cfg);
	return status;
}
