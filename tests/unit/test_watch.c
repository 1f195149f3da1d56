/*
 * Unit tests for reader/watch.c with a fake device: one tap per
 * presentation, a card held is not a stream, a brief miss does not end a
 * presentation, device faults close and reopen with growing backoff.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "reader/spool.h"
#include "reader/watch.h"

/* The fake device: a script of poll results, one per call. */
struct fake {
	int opens, closes, open_failures_left;
	const char *script; /* per poll: 'A' card A, 'B' card B, '-' none, 'X' failure */
	size_t pos;
};

static int fake_handle;

static void *fake_open(void *ctx, const char *connstring, char *err, size_t err_size)
{
	struct fake *f = ctx;

	(void)connstring;
	if (f->open_failures_left > 0) {
		f->open_failures_left--;
		snprintf(err, err_size, "no such device");
		return NULL;
	}
	f->opens++;
	return &fake_handle;
}

static struct fake *fake_current;

static enum device_poll fake_poll(void *handle, uint8_t uid[DEVICE_UID_MAX], size_t *uid_len, char *err,
				  size_t err_size)
{
	struct fake *f = fake_current;
	char c = f->script[f->pos] != '\0' ? f->script[f->pos++] : '-';

	assert_ptr_equal(handle, &fake_handle);
	switch (c) {
	case 'A':
		memcpy(uid, "\x04\xa1\xb2\xc3", 4);
		*uid_len = 4;
		return DEVICE_CARD;
	case 'B':
		memcpy(uid, "\x04\x11\x22\x33\x44\x55\x66", 7);
		*uid_len = 7;
		return DEVICE_CARD;
	case 'X':
		snprintf(err, err_size, "input/output error");
		return DEVICE_FAILED;
	default:
		return DEVICE_NO_CARD;
	}
}

static void fake_close(void *handle)
{
	assert_ptr_equal(handle, &fake_handle);
	fake_current->closes++;
}

static const struct device_ops fake_ops = {
	.open = fake_open,
	.poll = fake_poll,
	.close = fake_close,
};

static const uint8_t key[CREDENTIAL_KEY_LEN] = {1, 2, 3};

/* Runs the script to its end; returns the taps as a string of 'A'/'B'. */
static void run(struct fake *f, char *taps, size_t taps_size)
{
	struct watch w;
	uint8_t cred[CREDENTIAL_LEN], cred_a[CREDENTIAL_LEN], cred_b[CREDENTIAL_LEN];
	int64_t now = 0, delay;
	size_t n = 0;
	int guard = 0;

	assert_int_equal(credential_compute(key, (const uint8_t *)"\x04\xa1\xb2\xc3", 4, cred_a), 0);
	assert_int_equal(
		credential_compute(key, (const uint8_t *)"\x04\x11\x22\x33\x44\x55\x66", 7, cred_b), 0);
	fake_current = f;
	assert_int_equal(watch_init(&w, &fake_ops, f, "fake:0", key), 0);
	while (f->script[f->pos] != '\0' && guard++ < 1000) {
		if (watch_step(&w, now, cred, &delay) == WATCH_TAP) {
			assert_true(n + 1 < taps_size);
			taps[n++] = memcmp(cred, cred_a, CREDENTIAL_LEN) == 0	? 'A'
				    : memcmp(cred, cred_b, CREDENTIAL_LEN) == 0 ? 'B'
										: '?';
		}
		assert_true(delay > 0);
		now += delay;
	}
	taps[n] = '\0';
	watch_destroy(&w);
}

static void test_one_tap_per_presentation(void **state)
{
	struct fake f = {.script = "--AAAAAA-A---AA"};
	char taps[16];

	(void)state;
	run(&f, taps, sizeof(taps));
	/* A held card is one tap; one empty poll is not a removal; two are. */
	assert_string_equal(taps, "AA");
	assert_int_equal(f.opens, 1);
}

static void test_single_miss_keeps_presentation(void **state)
{
	struct fake f = {.script = "AAA-AAA-AA"};
	char taps[16];

	(void)state;
	run(&f, taps, sizeof(taps));
	assert_string_equal(taps, "A");
}

static void test_card_swap_is_new_tap(void **state)
{
	struct fake f = {.script = "AABBAA"};
	char taps[16];

	(void)state;
	run(&f, taps, sizeof(taps));
	assert_string_equal(taps, "ABA");
}

static void test_fault_reopens(void **state)
{
	struct fake f = {.script = "AAXAA--X-A"};
	char taps[16];

	(void)state;
	run(&f, taps, sizeof(taps));
	/* After a fault the card in the field counts again: a reopened device
	 * cannot know whether it was held all along. */
	assert_string_equal(taps, "AAA");
	assert_int_equal(f.opens, 3);
	assert_int_equal(f.closes, 3); /* two faults, then watch_destroy */
}

static void test_open_backoff_grows_and_caps(void **state)
{
	struct fake f = {.open_failures_left = 8};
	struct watch w;
	uint8_t cred[CREDENTIAL_LEN];
	int64_t now = 0, delay, last = 0;
	int i;

	(void)state;
	f.script = "";
	fake_current = &f;
	assert_int_equal(watch_init(&w, &fake_ops, &f, "fake:0", key), 0);
	for (i = 0; i < 8; i++) {
		assert_int_equal(watch_step(&w, now, cred, &delay), WATCH_NOTHING);
		assert_true(delay >= last || delay == WATCH_BACKOFF_MAX_MS);
		assert_true(delay <= WATCH_BACKOFF_MAX_MS);
		last = delay;
		/* Calling early does not retry. */
		assert_int_equal(watch_step(&w, now + 1, cred, &delay), WATCH_NOTHING);
		assert_int_equal(delay, last - 1);
		now += last;
	}
	assert_int_equal(last, WATCH_BACKOFF_MAX_MS);
	assert_int_equal(f.opens, 0);
	assert_int_equal(watch_step(&w, now, cred, &delay), WATCH_NOTHING);
	assert_int_equal(f.opens, 1);
	assert_int_equal(delay, WATCH_POLL_MS);
	watch_destroy(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_tap_per_presentation),
		cmocka_unit_test(test_single_miss_keeps_presentation),
		cmocka_unit_test(test_card_swap_is_new_tap),
		cmocka_unit_test(test_fault_reopens),
		cmocka_unit_test(test_open_backoff_grows_and_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
