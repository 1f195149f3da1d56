/*
 * Unit tests for ctl/output.c: the same table as text, JSON and CSV —
 * typing, escaping, quoting, time normalisation, records with lists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/output.h"

/* Prints t and returns what was printed (caller frees). */
static char *render(const struct out_table *t, enum out_format format, bool record)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	if (record)
		assert_int_equal(out_print_record(f, format, t), 0);
	else
		assert_int_equal(out_print_list(f, format, t), 0);
	fclose(f);
	return buf;
}

static struct out_table *sample(void)
{
	struct out_table *t = out_table_new();

	assert_non_null(t);
	assert_int_equal(out_column(t, "id", OUT_STRING), 0);
	assert_int_equal(out_column(t, "n", OUT_NUMBER), 0);
	assert_int_equal(out_column(t, "ok", OUT_BOOL), 0);
	assert_int_equal(out_column(t, "at", OUT_TIME), 0);
	assert_int_equal(out_row(t), 0);
	assert_int_equal(out_cell(t, "a \"q\" \\ é\n\x01"), 0);
	assert_int_equal(out_cell(t, "42"), 0);
	assert_int_equal(out_cell(t, "t"), 0);
	assert_int_equal(out_cell(t, "2026-11-23 10:00:00.123456+00"), 0);
	assert_int_equal(out_row(t), 0);
	assert_int_equal(out_cell(t, "b,c"), 0);
	assert_int_equal(out_cell(t, "not a number"), 0);
	assert_int_equal(out_cell(t, "f"), 0);
	/* the last cell is left out: null */
	return t;
}

static void test_json_list(void **state)
{
	struct out_table *t = sample();
	char *s = render(t, OUT_JSON, false);

	(void)state;
	assert_string_equal(
		s, "[{\"id\": \"a \\\"q\\\" \\\\ é\\n\\u0001\", \"n\": 42, \"ok\": true, "
		   "\"at\": \"2026-11-23T10:00:00Z\"},\n"
		   " {\"id\": \"b,c\", \"n\": \"not a number\", \"ok\": false, \"at\": null}]\n");
	free(s);
	out_table_free(t);
}

static void test_json_empty_list(void **state)
{
	struct out_table *t = out_table_new();
	char *s;

	(void)state;
	assert_int_equal(out_column(t, "id", OUT_STRING), 0);
	s = render(t, OUT_JSON, false);
	assert_string_equal(s, "[]\n");
	free(s);
	out_table_free(t);
}

static void test_json_record_with_lists(void **state)
{
	struct out_table *t = out_table_new();
	struct out_table *child = out_table_new();
	struct out_table *empty = out_table_new();
	char *s;

	(void)state;
	assert_int_equal(out_column(t, "site", OUT_STRING), 0);
	assert_int_equal(out_column(t, "present", OUT_NUMBER), 0);
	assert_int_equal(out_row(t), 0);
	assert_int_equal(out_cell(t, "hq"), 0);
	assert_int_equal(out_cell(t, "2"), 0);
	assert_int_equal(out_column(child, "zone", OUT_STRING), 0);
	assert_int_equal(out_row(child), 0);
	assert_int_equal(out_cell(child, "lobby"), 0);
	assert_int_equal(out_column(empty, "x", OUT_STRING), 0);
	assert_int_equal(out_attach(t, "persons", child), 0);
	assert_int_equal(out_attach(t, "others", empty), 0);
	s = render(t, OUT_JSON, true);
	assert_string_equal(s,
			    "{\"site\": \"hq\", \"present\": 2, \"persons\": [{\"zone\": \"lobby\"}], "
			    "\"others\": []}\n");
	free(s);
	s = render(t, OUT_TEXT, true);
	assert_string_equal(s, "site:    hq\npresent: 2\npersons:\n  zone\n  lobby\nothers: none\n");
	free(s);
	out_table_free(t);
}

static void test_csv(void **state)
{
	struct out_table *t = sample();
	char *s = render(t, OUT_CSV, false);

	(void)state;
	assert_string_equal(s, "id,n,ok,at\r\n"
			       "\"a \"\"q\"\" \\ é\n\x01\",42,true,2026-11-23T10:00:00Z\r\n"
			       "\"b,c\",not a number,false,\r\n");
	free(s);
	out_table_free(t);
}

static void test_text(void **state)
{
	struct out_table *t = sample();
	char *s = render(t, OUT_TEXT, false);

	(void)state;
	/* Aligned by characters (é is one), control characters shown as '?'. */
	assert_string_equal(s, "id           n             ok     at\n"
			       "a \"q\" \\ é??  42            true   2026-11-23T10:00:00Z\n"
			       "b,c          not a number  false  -\n");
	free(s);
	out_set_header(t, false);
	s = render(t, OUT_TEXT, false);
	assert_true(strncmp(s, "a \"q\"", 5) == 0);
	free(s);
	out_table_free(t);
}

static void test_misuse(void **state)
{
	struct out_table *t = out_table_new();
	enum out_format f;
	char *buf = NULL;
	size_t size = 0;
	FILE *mem;

	(void)state;
	assert_int_equal(out_cell(t, "x"), -1); /* no row yet */
	assert_int_equal(out_column(t, "a", OUT_STRING), 0);
	mem = open_memstream(&buf, &size);
	assert_int_equal(out_print_record(mem, OUT_JSON, t), -1); /* no row */
	fclose(mem);
	free(buf);
	assert_int_equal(out_row(t), 0);
	assert_int_equal(out_cell(t, "x"), 0);
	assert_int_equal(out_cell(t, "y"), -1);		      /* more cells than columns */
	assert_int_equal(out_column(t, "b", OUT_STRING), -1); /* after the first row */
	assert_int_equal(out_format_parse("json", &f), 0);
	assert_int_equal(f, OUT_JSON);
	assert_int_equal(out_format_parse("xml", &f), -1);
	out_table_free(t);
	out_table_free(NULL);
}

static void test_time_kept_when_not_utc(void **state)
{
	struct out_table *t = out_table_new();
	char *s;

	(void)state;
	assert_int_equal(out_column(t, "at", OUT_TIME), 0);
	assert_int_equal(out_row(t), 0);
	assert_int_equal(out_cell(t, "infinity"), 0);
	assert_int_equal(out_row(t), 0);
	assert_int_equal(out_cell(t, "2026-11-23 10:00:00+03"), 0);
	assert_int_equal(out_row(t), 0);
	assert_int_equal(out_cell(t, "2026-11-23 10:00:59+00"), 0);
	s = render(t, OUT_JSON, false);
	assert_string_equal(s, "[{\"at\": \"infinity\"},\n {\"at\": \"2026-11-23 10:00:00+03\"},\n"
			       " {\"at\": \"2026-11-23T10:00:59Z\"}]\n");
	free(s);
	out_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_list),
		cmocka_unit_test(test_json_empty_list),
		cmocka_unit_test(test_json_record_with_lists),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_time_kept_when_not_utc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
