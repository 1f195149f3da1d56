/*
 * fuzz_config — the configuration reader on arbitrary file contents: every
 * byte sequence must yield a parse with problems recorded, never a crash,
 * leak or overread.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"

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
	unlink(path);
	return 0;
}
