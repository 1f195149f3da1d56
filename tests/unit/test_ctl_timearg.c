/*
 * Unit tests for ctl/timearg.c: which TIME arguments sacctl accepts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ctl/timearg.h"

static void test_accepts(void **state)
{
	static const char *const good[] = {
		"2026-12-31",
		"2026-12-31T18:00",
		"2026-12-31T18:00:00",
		"2026-12-31T18:00:00Z",
		"2026-12-31 18:00:00",
		"2026-12-31T18:00:00.5Z",
		"2026-12-31T18:00:00+03:00",
		"2026-12-31T18:00:00-0130",
		"2026-12-31T18:00+03",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(timearg_is_iso8601(good[i]));
}

static void test_refuses(void **state)
{
	static const char *const bad[] = {
		"",
		"tomorrow",
		"now",
		"2026-1-31",
		"26-12-31",
		"2026-12-31T",
		"2026-12-31T18",
		"2026-12-31T18:00:00ZZ",
		"2026-12-31T18:00:00+3",
		"2026-12-31T18:00:00+03:0",
		"2026-12-31T18:00:00.Z",
		"2026-12-31T18:00:00 UTC",
		"2026-12-31'; DROP TABLE x; --",
		"2026-12-31T18:00:00.000000000000000000000000000000Z",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(timearg_is_iso8601(bad[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
