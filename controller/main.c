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
#include "daemon.h"
#include "log.h"
#include "server.h"
#include "settings.h"

#define DEFAULT_CONFIG "/etc/sac/sac-controller.conf"

static void usage(FILE *out)
{
	fprintf(out, "usage: sac-controller [-c FILE] [--check-config] [--version] [--help]\n"
		     "\n"
		     "Serves sac readers over mutual TLS 1.3 and stores their events in\n"
		     "PostgreSQL.  Configuration: the [controller] section of FILE\n"
		     "(default " DEFAULT_CONFIG "): listen, certificate, private_key,\n"
		     "reader_ca, database.\n"
		     "\n"
		     "  -c FILE         configuration file\n"
		     "  --check-config  check the configuration and the files it names, then exit\n"
		     "  --version       print the version\n"
		     "  --help          this text\n"
		     "\n"
		     "Signals: SIGTERM stores and acknowledges events in flight, then exits;\n"
		     "SIGHUP reloads certificate, key and CA for new connections.\n"
		     "Exit status: 0 success, 2 bad usage or configuration, 3 environment failed.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"check-config", no_argument, NULL, 'k'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = DEFAULT_CONFIG;
	bool check_only = false;
	struct config_problems problems = {0};
	struct settings *settings = NULL;
	int opt, status;

	log_init("sac-controller", LOG_LEVEL_INFO);
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
	if (settings_load(path, &settings, &problems) != CONFIG_READ_OK) {
		config_problems_print(&problems);
		status = 3;
		goto out;
	}
	/* Only load the TLS files when they exist; a missing one is already a
	 * problem with its line. */
	if (problems.count == 0 && server_tls_check(settings) != 0)
		config_problem(&problems, path, 0, "certificate, private_key or reader_ca unusable");
	if (problems.count > 0) {
		config_problems_print(&problems);
		status = 2;
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
	status = server_run(settings);
out:
	config_problems_free(&problems);
	settings_free(settings);
	return status;
}
