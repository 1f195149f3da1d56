/*
 * Unit tests for controller/admission.c: the caps follow the descriptor
 * limit, a connection that never sent a byte is evicted before one that
 * did, the least recently active before the others, a connection past its
 * TLS handshake never, and the handshake deadline shortens with pressure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "controller/admission.h"

static const uint8_t SRC_A[ADMISSION_SOURCE_LEN] = {[15] = 1};
static const uint8_t SRC_B[ADMISSION_SOURCE_LEN] = {[15] = 2};

static void test_caps_follow_nofile(void **state)
{
	struct admission a;

	(void)state;
	admission_init(&a, 4096);
	assert_int_equal(a.pending_max, 1024);
	assert_int_equal(a.per_source_max, 256);
	admission_init(&a, 20);
	assert_int_equal(a.pending_max, 16);
	assert_int_equal(a.per_source_max, 8);
	admission_init(&a, 1 << 20);
	assert_int_equal(a.pending_max, 4096);
}

static void test_per_source_cap_evicts_silent_first(void **state)
{
	struct admission a;
	struct admission_entry e[8], *evict;
	int i;

	(void)state;
	memset(e, 0, sizeof(e));
	admission_init(&a, 20); /* 16 pending, 8 per source */
	for (i = 0; i < 8; i++)
		admission_add(&a, &e[i], SRC_A);
	admission_touch(&a, &e[0]);    /* the oldest spoke: not the first choice */
	admission_verified(&a, &e[1]); /* past TLS: never evicted */
	assert_int_equal(admission_decide(&a, SRC_A, &evict), ADMISSION_EVICT_FIRST);
	assert_ptr_equal(evict, &e[2]);
	/* Another address is under its own cap. */
	assert_int_equal(admission_decide(&a, SRC_B, &evict), ADMISSION_ADMIT);
	/* All silent ones gone: the least recently active of the rest. */
	for (i = 2; i < 8; i++)
		admission_remove(&a, &e[i]);
	for (i = 2; i < 8; i++) {
		admission_add(&a, &e[i], SRC_A);
		admission_touch(&a, &e[i]);
	}
	assert_int_equal(admission_decide(&a, SRC_A, &evict), ADMISSION_EVICT_FIRST);
	assert_ptr_equal(evict, &e[0]);
	admission_touch(&a, &e[0]);
	assert_int_equal(admission_decide(&a, SRC_A, &evict), ADMISSION_EVICT_FIRST);
	assert_ptr_equal(evict, &e[2]);
}

static void test_verified_never_evicted(void **state)
{
	struct admission a;
	struct admission_entry e[8], *evict;
	int i;

	(void)state;
	memset(e, 0, sizeof(e));
	admission_init(&a, 20);
	for (i = 0; i < 8; i++) {
		admission_add(&a, &e[i], SRC_A);
		admission_verified(&a, &e[i]);
	}
	assert_int_equal(admission_decide(&a, SRC_A, &evict), ADMISSION_REFUSE);
	assert_null(evict);
	assert_null(admission_oldest(&a));
	admission_remove(&a, &e[3]);
	admission_remove(&a, &e[3]); /* not listed any more: no effect */
	assert_int_equal(a.pending, 7);
	assert_int_equal(admission_decide(&a, SRC_A, &evict), ADMISSION_ADMIT);
}

static void test_handshake_deadline_shortens(void **state)
{
	struct admission a;
	struct admission_entry e[1024];
	int i;

	(void)state;
	memset(e, 0, sizeof(e));
	admission_init(&a, 4096); /* 1024 pending */
	assert_int_equal(admission_handshake_ms(&a), ADMISSION_HANDSHAKE_MS);
	for (i = 0; i < 256; i++)
		admission_add(&a, &e[i], (const uint8_t[ADMISSION_SOURCE_LEN]){[0] = (uint8_t)i});
	assert_int_equal(admission_handshake_ms(&a), ADMISSION_HANDSHAKE_MS);
	for (; i < 384; i++)
		admission_add(&a, &e[i], (const uint8_t[ADMISSION_SOURCE_LEN]){[0] = (uint8_t)i});
	assert_true(admission_handshake_ms(&a) < ADMISSION_HANDSHAKE_MS);
	assert_true(admission_handshake_ms(&a) > ADMISSION_HANDSHAKE_MIN_MS);
	for (; i < 512; i++)
		admission_add(&a, &e[i], (const uint8_t[ADMISSION_SOURCE_LEN]){[0] = (uint8_t)i});
	assert_int_equal(admission_handshake_ms(&a), ADMISSION_HANDSHAKE_MIN_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps_follow_nofile),
		cmocka_unit_test(test_per_source_cap_evicts_silent_first),
		cmocka_unit_test(test_verified_never_evicted),
		cmocka_unit_test(test_handshake_deadline_shortens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
