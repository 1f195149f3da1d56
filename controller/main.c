/*
 * sac-controller — accepts sac/1 connections from readers over mutual TLS
 * 1.3 and stores their events in PostgreSQL (SPEC §2, §3).  This file only
 * describes the daemon to daemon_start (options, configuration, the TLS
 * check); server.c serves, ingest.c stores.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_keys.h"
#include "daemon.h"
#include "log.h"
#include "server.h"

#define DEFAULT_CONFIG "/etc/sac/sac-controller.conf"

static const char controller_usage[] =
	"usage: sac-controller [-c FILE] [--check-config] [--version] [--help]\n"
	"\n"
	"Serves sac readers over mutual TLS 1.3 and stores their events in\n"
	"PostgreSQL.  Configuration: the [controller] section of FILE\n"
	"(default " DEFAULT_CONFIG "): listen, certificate, private_key,\n"
	"reader_ca, crl, database.\n"
	"\n"
	"  -c, --config FILE  configuration file\n"
	"  --check-config  check the configuration and the files it names, then exit\n"
	"  --version       print the version\n"
	"  --help          this text\n"
	"\n"
	"Signals: SIGTERM stores and acknowledges events in flight, then exits;\n"
	"SIGHUP rereads FILE: certificate, private_key, reader_ca and crl apply to\n"
	"new connections, listen and database after a restart; a file with any\n"
	"problem is refused and the running configuration kept.\n"
	"Exit status: 0 success, 2 bad usage or configuration, 3 environment failed.\n";

/* Builds a TLS context from the files the configuration names, so that
 * --check-config refuses what the first handshake would.  Only runs when
 * they exist: a missing one is already a problem with its line. */
static enum config_status controller_check(void *ctx, const char *path, void *cfg,
					   struct config_problems *problems)
{
	(void)ctx;
	if (server_tls_check(path, cfg) == 0)
		return CONFIG_OK;
	config_problem(problems, path, 0, "certificate, private_key, reader_ca or crl unusable");
	return CONFIG_INVALID;
}

static int controller_run(void *ctx, const char *path, void *cfg)
{
	(void)ctx;
	return server_run(path, cfg);
}

int main(int argc, char **argv)
{
	static const struct daemon_program controller = {
		.name = "sac-controller",
		.default_config = DEFAULT_CONFIG,
		.usage = controller_usage,
		.schema = &config_controller,
		.extra_short = "h", /* -h: --help, as always accepted */
		.check = controller_check,
		.run = controller_run,
	};
	struct settings settings;

	return daemon_start(&controller, &settings, NULL, argc, argv);
}
