/*
 * settings — see settings.h.
 */
#include "settings.h"

#include <stdlib.h>
#include <string.h>

static const char *const settings_keys[] = {"listen",	 "certificate", "private_key",
					    "reader_ca", "database",	NULL};

static char *settings_dup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

enum config_read_result settings_load(const char *path, struct settings **out,
				      struct config_problems *problems)
{
	struct config_file *cf = NULL;
	struct settings *s = calloc(1, sizeof(*s));
	enum config_read_result r;
	int n;

	*out = s;
	if (s == NULL) {
		config_problem(problems, path, 0, "out of memory");
		return CONFIG_READ_OK;
	}
	s->path = strdup(path);
	r = config_read(path, "controller", settings_keys, &cf, problems);
	if (r != CONFIG_READ_OK) {
		config_file_free(cf);
		return r;
	}
	n = config_get_endpoints(cf, "listen", true, s->listen_hosts, s->listen_ports,
				 SETTINGS_LISTEN_MAX, problems);
	s->listen_count = n > 0 ? n : 0;
	s->certificate = settings_dup(config_get_file(cf, "certificate", true, problems));
	s->private_key = settings_dup(config_get_file(cf, "private_key", true, problems));
	s->reader_ca = settings_dup(config_get_file(cf, "reader_ca", true, problems));
	s->database = settings_dup(config_get_string(cf, "database", true, problems));
	config_file_free(cf);
	return CONFIG_READ_OK;
}

void settings_free(struct settings *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < s->listen_count; i++)
		free(s->listen_hosts[i]);
	free(s->path);
	free(s->certificate);
	free(s->private_key);
	free(s->reader_ca);
	free(s->database);
	free(s);
}
