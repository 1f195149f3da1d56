/*
 * settings — the [controller] section of the configuration file, read and
 * validated in one place (SPEC §2).  It checks that the referenced files are
 * readable; whether they are a usable certificate, key and CA is checked by
 * loading them (server_tls_load) in --check-config and at start.
 */
#ifndef SAC_CONTROLLER_SETTINGS_H
#define SAC_CONTROLLER_SETTINGS_H

#include "config.h"

#define SETTINGS_LISTEN_MAX 16

struct settings {
	char *path;
	char *listen_hosts[SETTINGS_LISTEN_MAX];
	int listen_ports[SETTINGS_LISTEN_MAX];
	int listen_count;
	char *certificate;
	char *private_key;
	char *reader_ca;
	char *database;
};

/* Reads path into *out, recording every problem.  Returns CONFIG_READ_OK
 * (check problems->count) or CONFIG_READ_UNREADABLE.  The caller frees *out
 * with settings_free, also on failure. */
enum config_read_result settings_load(const char *path, struct settings **out,
				      struct config_problems *problems)
	__attribute__((warn_unused_result));

void settings_free(struct settings *s); /* accepts NULL */

#endif
