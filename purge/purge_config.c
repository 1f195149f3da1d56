/*
 * purge_config — see purge_config.h.
 */
#include "purge_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The access-data limit and the purge interval are database settings
 * (sacctl retention set): "interval" and "access_max_age" are unknown keys. */
static const char *const purge_config_keys[] = {"database", "video_dir", "video_max_age", NULL};

static int purge_config_video_dir(const struct config_file *cf, struct purge_config *cfg,
				  struct config_problems *problems)
{
	const char *dir = config_get_string(cf, "video_dir", false, problems);
	const struct config_entry *e = config_find(cf, "video_dir");
	struct stat st;

	if (dir == NULL)
		return 0;
	if (dir[0] != '/') {
		config_problem(problems, cf->path, e->line, "'video_dir' must be an absolute path");
		return -1;
	}
	if (stat(dir, &st) != 0) {
		config_problem(problems, cf->path, e->line, "'video_dir': cannot use %s: %s", dir,
			       strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		config_problem(problems, cf->path, e->line, "'video_dir': %s is not a directory", dir);
		return -1;
	}
	cfg->video_dir = strdup(dir);
	return cfg->video_dir != NULL ? 0 : -1;
}

int purge_config_load(const char *path, struct purge_config *cfg, struct config_problems *problems)
{
	struct config_file *cf = NULL;
	const char *database;
	int before;
	int status = 2;

	memset(cfg, 0, sizeof(*cfg));
	before = problems->count + problems->dropped;
	if (config_read(path, "purge", purge_config_keys, &cf, problems) != CONFIG_READ_OK) {
		status = 3;
		goto out;
	}
	database = config_get_string(cf, "database", false, problems);
	cfg->database = strdup(database != NULL ? database : "");
	if (cfg->database == NULL)
		config_problem(problems, path, 0, "out of memory");
	(void)config_get_duration(cf, "video_max_age", PURGE_VIDEO_MAX_AGE_LIMIT,
				  PURGE_VIDEO_MAX_AGE_LIMIT, &cfg->video_max_age_s, problems);
	(void)purge_config_video_dir(cf, cfg, problems);
	if (problems->count + problems->dropped == before)
		status = 0;
out:
	config_file_free(cf);
	return status;
}

void purge_config_free(struct purge_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->database);
	free(cfg->video_dir);
	cfg->database = NULL;
	cfg->video_dir = NULL;
}
