/*
 * sac-controller — accepts sac/1 connections from readers over mutual TLS
 * 1.3 and stores their events in PostgreSQL (SPEC §2, §3).  This file only
 * parses the command line and the configuration; server.c serves, ingest.c
 * stores.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_keys.h"
#include "daemon.h"
#include "log.h"
#include "server.h"

#define DEFAULT_CONFIG "/etc/sac/sac-controller.conf"

static void usage(FILE *out)
{
	fprintf(out, "usage: sac-controller [-c FILE] [--check-config] [--version] [--help]\n"
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
		     "Exit status: 0 success, 2 bad usage or configuration, 3 environment failed.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 'k'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = DEFAULT_CONFIG;
	bool check_only = false;
	struct config_problems problems = {0};
	struct settings settings;
	enum config_status loaded;
	int opt, status;

	log_init("sac-controller", LOG_LEVEL_INFO);
	if (daemon_harden() != 0) {
		log_err("cannot keep secrets out of core dumps");
		return 3;
	}
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'k':
			check_only = true;
			break;
		case 'V':
			printf("sac-controller %s\n", SAC_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	loaded = config_load(&config_controller, path, &settings, &problems);
	/* Only load the TLS files when they exist; a missing one is already a
	 * problem with its line. */
	if (loaded == CONFIG_OK && server_tls_check(path, &settings) != 0) {
		config_problem(&problems, path, 0,
			       "certificate, private_key, reader_ca or crl unusable");
		loaded = CONFIG_INVALID;
	}
	if (loaded != CONFIG_OK) {
		config_problems_print(&problems);
		status = (int)loaded;
		goto out;
	}
	if (check_only) {
		printf("%s: configuration OK\n", path);
		status = 0;
		goto out;
	}
	if (daemon_signals_install() != 0) {
		log_err("installing signal handlers");
		status = 3;
		goto out;
	}
	status = server_run(path, &settings);
out:
	config_problems_free(&problems);
	config_free(&config_controller, &settings);
	return status;
}
