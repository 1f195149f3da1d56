/*
 * fuzz_config — the configuration reader and every program's key table
 * on arbitrary file contents: every byte sequence must yield a parse with
 * problems recorded, never a crash, leak or overread.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "config_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {"database", "interval", "listen", NULL};
	struct config_problems problems = {0};
	struct config_file *cf = NULL;
	char path[] = "/tmp/sac-fuzz-config.XXXXXX";
	int64_t seconds;
	char *hosts[4];
	int ports[4], n;
	int fd = mkstemp(path);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	if (config_read(path, "purge", keys, &cf, &problems) == CONFIG_READ_OK) {
		(void)config_get_string(cf, "database", true, &problems);
		(void)config_get_duration(cf, "interval", 60, 86400, &seconds, &problems);
		n = config_get_endpoints(cf, "listen", false, hosts, ports, 4, &problems);
		while (n > 0)
			free(hosts[--n]);
	}
	config_file_free(cf);
	config_problems_free(&problems);
	/* The table layer: the same bytes as each program's file. */
	{
		static const struct config_schema *const schemas[] = {&config_controller,
								      &config_reader, &config_purge};
		union {
			struct settings controller;
			struct reader_config reader;
			struct purge_config purge;
		} cfg;
		size_t i, loaded = 0;

		for (i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++) {
			if (config_load(schemas[i], path, &cfg, &problems) == CONFIG_OK)
				loaded++;
			config_free(schemas[i], &cfg);
			config_problems_free(&problems);
		}
		(void)loaded;
	}
	unlink(path);
	return 0;
}
