/*
 * reader_config — see reader_config.h.
 */
#include "reader_config.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Connstrings longer than libnfc's buffer (NFC_BUFSIZE_CONNSTRING) are refused. */
#define READER_DEVICE_MAX 1023

static const char *const reader_keys[] = {
	"id",	       "device",	"controllers",	  "certificate",
	"private_key", "controller_ca", "credential_key", "spool",
	NULL,
};

/* The same rule as the database's sac.ident, so a reader id that the
 * database refuses is caught here. */
static bool reader_id_valid(const char *id)
{
	size_t i, len = strlen(id);

	if (len == 0 || len > 64)
		return false;
	for (i = 0; i < len; i++) {
		char c = id[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

static char *reader_dup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* The spool's directory must exist and be writable (the file is created). */
static void reader_check_spool(const struct config_file *cf, const char *spool,
			       struct config_problems *problems)
{
	const struct config_entry *e = config_find(cf, "spool");
	char *copy = strdup(spool);
	const char *dir;
	struct stat st;

	if (copy == NULL)
		return;
	dir = dirname(copy);
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		config_problem(problems, cf->path, e->line, "'spool': directory %s does not exist",
			       dir);
	else if (access(dir, W_OK | X_OK) != 0)
		config_problem(problems, cf->path, e->line, "'spool': cannot write in %s: %s", dir,
			       strerror(errno));
	else if (lstat(spool, &st) == 0 && !S_ISREG(st.st_mode))
		config_problem(problems, cf->path, e->line, "'spool': %s is not a regular file", spool);
	free(copy);
}

enum config_read_result reader_config_load(const char *path, struct reader_config *cfg,
					   struct config_problems *problems)
{
	struct config_file *cf = NULL;
	const char *v;
	char err[512];
	int n;

	memset(cfg, 0, sizeof(*cfg));
	if (config_read(path, "reader", reader_keys, &cf, problems) != CONFIG_READ_OK) {
		config_file_free(cf);
		return CONFIG_READ_UNREADABLE;
	}
	v = config_get_string(cf, "id", true, problems);
	if (v != NULL && !reader_id_valid(v))
		config_problem(problems, path, config_find(cf, "id")->line,
			       "'id' must be 1-64 letters, digits, '.', '_' or '-' starting with a "
			       "letter or digit, not '%s'",
			       v);
	cfg->id = reader_dup(v);
	v = config_get_string(cf, "device", true, problems);
	if (v != NULL && strlen(v) > READER_DEVICE_MAX)
		config_problem(problems, path, config_find(cf, "device")->line,
			       "'device' is longer than %d characters", READER_DEVICE_MAX);
	cfg->device = reader_dup(v);
	n = config_get_endpoints(cf, "controllers", true, cfg->controller_host, cfg->controller_port,
				 READER_CONTROLLERS_MAX, problems);
	cfg->controller_count = n > 0 ? n : 0;
	cfg->certificate = reader_dup(config_get_file(cf, "certificate", true, problems));
	cfg->private_key = reader_dup(config_get_file(cf, "private_key", true, problems));
	cfg->controller_ca = reader_dup(config_get_file(cf, "controller_ca", true, problems));
	v = config_get_string(cf, "credential_key", true, problems);
	if (v != NULL && credential_key_load(v, cfg->credential_key, err, sizeof(err)) != 0)
		config_problem(problems, path, config_find(cf, "credential_key")->line, "%s", err);
	cfg->credential_key_file = reader_dup(v);
	v = config_get_string(cf, "spool", true, problems);
	if (v != NULL)
		reader_check_spool(cf, v, problems);
	cfg->spool = reader_dup(v);
	config_file_free(cf);
	return CONFIG_READ_OK;
}

void reader_config_free(struct reader_config *cfg)
{
	int i;

	free(cfg->id);
	free(cfg->device);
	for (i = 0; i < cfg->controller_count; i++)
		free(cfg->controller_host[i]);
	free(cfg->certificate);
	free(cfg->private_key);
	free(cfg->controller_ca);
	free(cfg->credential_key_file);
	free(cfg->spool);
	explicit_bzero(cfg, sizeof(*cfg));
}
