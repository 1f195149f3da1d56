/*
 * Unit tests for ctl/badgeuid.c: the UID forms `badge enroll --uid` takes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ctl/badgeuid.h"

static void test_forms(void **state)
{
	static const uint8_t want[] = {0x04, 0xa2, 0x1b, 0x7c, 0x11, 0x22, 0x33};
	uint8_t uid[CREDENTIAL_UID_MAX];
	size_t len;

	(void)state;
	assert_int_equal(badgeuid_parse("04A21B7C112233", uid, &len), 0);
	assert_int_equal(len, 7);
	assert_memory_equal(uid, want, 7);
	assert_int_equal(badgeuid_parse("04:a2:1b:7c:11:22:33", uid, &len), 0);
	assert_int_equal(len, 7);
	assert_memory_equal(uid, want, 7);
	assert_int_equal(badgeuid_parse("deadbeef", uid, &len), 0);
	assert_int_equal(len, 4);
	assert_int_equal(badgeuid_parse("00112233445566778899", uid, &len), 0);
	assert_int_equal(len, 10);
}

static void test_refuses(void **state)
{
	static const char *const bad[] = {
		"",
		"04",
		"04a21b",
		"04a21b7c11",
		"04a21b7c1",
		"04:a2:1b:7c:",
		":04:a2:1b:7c",
		"04::a2:1b:7c",
		"0g:a2:1b:7c",
		"04 a2 1b 7c",
		"04-a2-1b-7c",
		"0102030405060708090a0b",
		"04a21b7c\n",
		"0:4a:21:b7:c",
		"00:11:22:33:44:55:66:77:88:99:aa",
	};
	uint8_t uid[CREDENTIAL_UID_MAX];
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(badgeuid_parse(bad[i], uid, &len), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
