/*
 * sac-web — the HTTPS console: officers' muster board, auditors' deletion
 * report, admins' reader status (SPEC §6).  This file is the daemon around
 * server.c (daemon_start does the options, the configuration and the
 * signals): reload, systemd notification and the idle-session sweep.
 */
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

static const char web_usage[] =
	"usage: sac-web [-c FILE] [--check-config] [--version] [--help]\n"
	"  -c, --config FILE  configuration file (default " WEB_DEFAULT_CONFIG ")\n"
	"      --check-config validate the configuration, print every problem, exit 0 or 2\n"
	"      --version      print the version\n"
	"      --help         print this help\n";

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

static int web_run(void *ctx, const char *path, void *config)
{
	struct web_config *cfg = config;
	struct server *srv;
	uint64_t watchdog_usec = daemon_watchdog_interval_usec();
	/* Sign-in keeps using the database it started with (a reload may free
	 * cfg's copy). */
	char *database = strdup(cfg->database);

	(void)ctx;
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
	static const struct daemon_program web = {
		.name = "sac-web",
		.default_config = WEB_DEFAULT_CONFIG,
		.usage = web_usage,
		.schema = &config_web,
		.run = web_run,
	};
	struct web_config cfg;

	return daemon_start(&web, &cfg, NULL, argc, argv);
}
