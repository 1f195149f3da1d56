/*
 * fuzz_spool — the spool loader on arbitrary file contents: any bytes must
 * load (corrupt stretches skipped) without a crash, leak or overread, and
 * what loads must survive compaction and a second load unchanged.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reader/spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dir[] = "/tmp/sac-fuzz-spool.XXXXXX";
	char path[64], tmp[80];
	struct spool *sp = NULL;
	struct spool_stats st, st2;
	size_t pending;
	FILE *fp;

	if (mkdtemp(dir) == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s/s", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fp = fopen(path, "wb");
	if (fp == NULL || fwrite(data, 1, size, fp) != size) {
		if (fp != NULL)
			fclose(fp);
		goto out;
	}
	fclose(fp);
	if (spool_open(path, &sp, &st) != 0)
		goto out;
	pending = spool_pending_count(sp);
	if (spool_compact(sp) != 0)
		abort();
	spool_close(sp);
	sp = NULL;
	if (spool_open(path, &sp, &st2) != 0 || st2.corrupt != 0 || st2.loaded != pending)
		abort();
	spool_close(sp);
out:
	unlink(path);
	unlink(tmp);
	rmdir(dir);
	return 0;
}
