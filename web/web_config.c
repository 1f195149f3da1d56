/*
 * web_config — see web_config.h.
 */
#include "web_config.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const web_config_keys[] = {"listen",	  "certificate",  "private_key",
					      "database", "session_idle", NULL};

/* The private key must be readable by its owner only, like every key of sac. */
static void web_config_key_mode(const struct config_file *cf, const char *key_file,
				struct config_problems *problems)
{
	const struct config_entry *e = config_find(cf, "private_key");
	struct stat st;

	if (key_file == NULL || stat(key_file, &st) != 0)
		return;
	if ((st.st_mode & 077) != 0)
		config_problem(problems, cf->path, e != NULL ? e->line : 0,
			       "'private_key': %s is accessible to its group or others (mode %03o): "
			       "chmod 600 it",
			       key_file, (unsigned)(st.st_mode & 0777));
}

/* conninfo must parse and carry no user or password: sac-web has no role of
 * its own. */
static void web_config_database(const struct config_file *cf, const char *conninfo,
				struct config_problems *problems)
{
	const struct config_entry *e = config_find(cf, "database");
	int line = e != NULL ? e->line : 0;
	PQconninfoOption *opts, *o;
	char *err = NULL;

	opts = PQconninfoParse(conninfo, &err);
	if (opts == NULL) {
		config_problem(problems, cf->path, line,
			       "'database' is not a libpq connection string%s%s",
			       err != NULL ? ": " : "", err != NULL ? strtok(err, "\n") : "");
		PQfreemem(err);
		return;
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		if (strcmp(o->keyword, "user") == 0 || strcmp(o->keyword, "password") == 0 ||
		    strcmp(o->keyword, "passfile") == 0)
			config_problem(problems, cf->path, line,
				       "'database' must not name a %s: each person signs in as their "
				       "own role",
				       o->keyword);
	}
	PQconninfoFree(opts);
}

int web_config_load(const char *path, struct web_config *cfg, struct config_problems *problems)
{
	struct config_file *cf = NULL;
	const char *value;
	int before, n, status = 2;

	memset(cfg, 0, sizeof(*cfg));
	before = problems->count + problems->dropped;
	if (config_read(path, "web", web_config_keys, &cf, problems) != CONFIG_READ_OK) {
		status = 3;
		goto out;
	}
	n = config_get_endpoints(cf, "listen", true, cfg->listen_host, cfg->listen_port, WEB_MAX_LISTEN,
				 problems);
	cfg->listen_count = n > 0 ? n : 0;
	value = config_get_file(cf, "certificate", true, problems);
	cfg->certificate = value != NULL ? strdup(value) : NULL;
	value = config_get_file(cf, "private_key", true, problems);
	cfg->private_key = value != NULL ? strdup(value) : NULL;
	web_config_key_mode(cf, cfg->private_key, problems);
	value = config_get_string(cf, "database", true, problems);
	if (value != NULL) {
		web_config_database(cf, value, problems);
		cfg->database = strdup(value);
	}
	(void)config_get_duration(cf, "session_idle", WEB_SESSION_IDLE_DEFAULT_S,
				  WEB_SESSION_IDLE_LIMIT_S, &cfg->session_idle_s, problems);
	if (problems->count + problems->dropped == before)
		status = 0;
out:
	config_file_free(cf);
	return status;
}

void web_config_free(struct web_config *cfg)
{
	int i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->listen_count; i++)
		free(cfg->listen_host[i]);
	free(cfg->certificate);
	free(cfg->private_key);
	free(cfg->database);
	memset(cfg, 0, sizeof(*cfg));
}
