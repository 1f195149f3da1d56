/*
 * fuzz_proto — the sac/1 line parser on arbitrary bytes: it must never read
 * past the line, and whatever it accepts must format back to the same line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_msg msg;
	const char *why = NULL;
	char *line;
	char out[PROTO_LINE_MAX + 1];
	int n;

	/* An exact-size copy so that ASan catches any read past the line. */
	line = malloc(size > 0 ? size : 1);
	if (line == NULL)
		return 0;
	memcpy(line, data, size);
	if (proto_parse(line, size, &msg, &why) == 0) {
		n = proto_format(&msg, out, sizeof(out));
		if (n < 0 || (size_t)n != size + 1 || memcmp(out, line, size) != 0 || out[size] != '\n')
			abort();
	} else if (why == NULL) {
		abort();
	}
	free(line);
	return 0;
}
