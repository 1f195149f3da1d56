/*
 * purge_config — sac-purge's configuration: the [purge] section, read and
 * validated in one place.  A video_max_age over 30 days is a configuration
 * error naming file and line, never silently capped.  The access-data limit
 * and the purge interval are not here: they are database settings (sacctl
 * retention set), read by the database at every pass.
 */
#ifndef SAC_PURGE_CONFIG_H
#define SAC_PURGE_CONFIG_H

#include <stdint.h>

#include "config.h"

#define PURGE_VIDEO_MAX_AGE_LIMIT ((int64_t)30 * 86400)
/* The longest purge interval the database accepts (sac.settings): the video
 * cut-off assumes it until the database has given the interval in force. */
#define PURGE_INTERVAL_LIMIT ((int64_t)30 * 60)

struct purge_config {
	char *database;	 /* libpq conninfo; "" means libpq's environment */
	char *video_dir; /* NULL when there is no video store */
	int64_t video_max_age_s;
};

/* Reads [purge] from path into *cfg (which the caller frees with
 * purge_config_free, also on failure).  Returns 0 when the configuration is
 * usable, 2 when problems were recorded, 3 when the file cannot be read. */
int purge_config_load(const char *path, struct purge_config *cfg, struct config_problems *problems)
	__attribute__((warn_unused_result));

void purge_config_free(struct purge_config *cfg);

#endif
