/*
 * web_config — sac-web's configuration: the [web] section, read and validated
 * in one place.  `database` names the server and database only: each person
 * signs in as their own role, so a `user` (or a password) in it is an error.
 */
#ifndef SAC_WEB_CONFIG_H
#define SAC_WEB_CONFIG_H

#include <stdint.h>

#include "config.h"

#define WEB_MAX_LISTEN 4
#define WEB_SESSION_IDLE_DEFAULT_S ((int64_t)600)
/* An idle session may not outlive a working day. */
#define WEB_SESSION_IDLE_LIMIT_S ((int64_t)8 * 3600)

struct web_config {
	char *listen_host[WEB_MAX_LISTEN]; /* "0.0.0.0", "::1", "localhost" … */
	int listen_port[WEB_MAX_LISTEN];
	int listen_count;
	char *certificate; /* PEM file paths */
	char *private_key;
	char *database; /* libpq conninfo without user or password */
	int64_t session_idle_s;
};

/* Reads [web] from path into *cfg (which the caller frees with
 * web_config_free, also on failure).  Returns 0 when the configuration is
 * usable, 2 when problems were recorded, 3 when the file cannot be read. */
int web_config_load(const char *path, struct web_config *cfg, struct config_problems *problems)
	__attribute__((warn_unused_result));

void web_config_free(struct web_config *cfg);

#endif
