/*
 * fuzz_videostore_name — the escaping of video file names (any bytes) for
 * log lines: the output must be NUL-terminated printable ASCII within the
 * given size, for every input and every output size.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "videostore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[300];
	size_t out_size, i, len;

	if (size == 0)
		return 0;
	/* The first byte picks the output size: 0 .. 299. */
	out_size = (size_t)data[0] * sizeof(out) / 256;
	memset(out, 'X', sizeof(out));
	videostore_escape_name((const char *)data + 1, size - 1, out, out_size);
	if (out_size == 0)
		return 0;
	len = strnlen(out, out_size);
	if (len >= out_size)
		abort();
	for (i = 0; i < len; i++)
		if (out[i] < 0x20 || out[i] > 0x7e)
			abort();
	return 0;
}
