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
#include <string.h>
#include <time.h>

#include "api.h"
#include "daemon.h"
#include "log.h"
#include "ratelimit.h"
#include "server.h"
#include "session.h"
#include "web_config.h"

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
static int web_load(const char *path, struct web_config *cfg, bool to_log)
{
	struct config_problems problems = {0};
	int status = web_config_load(path, cfg, &problems);
	int i;

	if (to_log) {
		for (i = 0; i < problems.count; i++)
			log_error("%s", problems.items[i]);
	} else {
		config_problems_print(&problems);
	}
	config_problems_free(&problems);
	return status;
}

/* SIGHUP: the idle limit takes effect at once; listen addresses, the
 * certificate and the database need a restart. */
static void web_reload(const char *path, struct web_config *cfg)
{
	struct web_config fresh;

	daemon_notify_reloading();
	if (web_load(path, &fresh, true) != 0) {
		log_error("reload: %s has problems; keeping the running configuration", path);
	} else {
		cfg->session_idle_s = fresh.session_idle_s;
		session_init(cfg->session_idle_s);
		log_notice("reloaded %s: session_idle %llds (listen, certificate, private_key and "
			   "database take effect at the next start)",
			   path, (long long)cfg->session_idle_s);
	}
	web_config_free(&fresh);
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

	session_init(cfg->session_idle_s);
	api_init(cfg->database, (long)cfg->session_idle_s);
	if (ratelimit_init() != 0) {
		log_err("cannot read random bytes");
		return 3;
	}
	web_block_signals(true);
	srv = server_start(cfg);
	web_block_signals(false);
	if (srv == NULL)
		return 3;
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
	status = web_load(path, &cfg, false);
	if (check_only) {
		if (status == 0)
			printf("%s: configuration OK\n", path);
		web_config_free(&cfg);
		return status;
	}
	if (status != 0) {
		web_config_free(&cfg);
		return status;
	}
	if (daemon_signals_install() != 0) {
		log_err("cannot install signal handlers");
		web_config_free(&cfg);
		return 3;
	}
	status = web_run(path, &cfg);
	web_config_free(&cfg);
	return status;
}
