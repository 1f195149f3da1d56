/*
 * fuzz_sacctl_input — what sacctl parses from its command line and what it
 * prints from the database, on arbitrary bytes: the badge UID and TIME
 * parsers must never read past the text, and every output format must stay
 * well-formed (JSON: no raw control character; text: none either).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/badgeuid.h"
#include "ctl/output.h"
#include "ctl/timearg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Prints t in format and aborts if a control character other than the
 * line ends of the format appears. */
static void fuzz_print(const struct out_table *t, enum out_format format, bool record)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return;
	if (record)
		(void)!out_print_record(f, format, t);
	else
		(void)!out_print_list(f, format, t);
	fclose(f);
	for (i = 0; format != OUT_CSV && i < len; i++)
		if ((unsigned char)buf[i] < 0x20 && buf[i] != '\n')
			abort();
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t uid[CREDENTIAL_UID_MAX];
	struct out_table *t;
	size_t uid_len;
	char *text;

	/* An exact-size copy plus the NUL, so that ASan catches over-reads. */
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (badgeuid_parse(text, uid, &uid_len) == 0 &&
	    !(uid_len == 4 || uid_len == 7 || uid_len == 10))
		abort();
	(void)timearg_is_iso8601(text);

	t = out_table_new();
	if (t != NULL && out_column(t, "s", OUT_STRING) == 0 && out_column(t, "n", OUT_NUMBER) == 0 &&
	    out_column(t, "t", OUT_TIME) == 0 && out_row(t) == 0 && out_cell(t, text) == 0 &&
	    out_cell(t, text) == 0 && out_cell(t, text) == 0) {
		fuzz_print(t, OUT_JSON, false);
		fuzz_print(t, OUT_JSON, true);
		fuzz_print(t, OUT_TEXT, false);
		fuzz_print(t, OUT_TEXT, true);
		fuzz_print(t, OUT_CSV, false);
	}
	out_table_free(t);
	free(text);
	return 0;
}
