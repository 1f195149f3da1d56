/*
 * Unit tests for reader/spool.c: durability round trips, settling erases the
 * credential from the file, corrupt and torn records are skipped without
 * hiding the records after them, expiry, compaction and file mode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reader/spool.h"

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/sac-test-spool.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/reader.spool", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char tmp[160];

	unlink(f->path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
	unlink(tmp);
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct spool_event make_event(int n, int64_t ms)
{
	struct spool_event ev;

	memset(&ev, 0, sizeof(ev));
	memset(ev.id, 0x10 + n, sizeof(ev.id));
	ev.unix_ms = ms;
	memset(ev.credential, 0xA0 + n, sizeof(ev.credential));
	return ev;
}

static size_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (size_t)st.st_size;
}

/* True when the file contains the 32-byte pattern byte repeated. */
static bool file_has_credential(const char *path, uint8_t byte)
{
	uint8_t buf[8192], want[SPOOL_CREDENTIAL_LEN];
	FILE *fp = fopen(path, "rb");
	size_t n, i;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	memset(want, byte, sizeof(want));
	for (i = 0; i + sizeof(want) <= n; i++)
		if (memcmp(buf + i, want, sizeof(want)) == 0)
			return true;
	return false;
}

static void append_n(const char *path, int n)
{
	struct spool *sp = NULL;
	struct spool_stats st;
	int i;

	assert_int_equal(spool_open(path, &sp, &st), 0);
	for (i = 0; i < n; i++) {
		struct spool_event ev = make_event(i, 1000 + i);

		assert_int_equal(spool_append(sp, &ev), 0);
	}
	spool_close(sp);
}

static void test_roundtrip_and_mode(void **state)
{
	struct fixture *f = *state;
	struct spool *sp = NULL;
	struct spool_stats st;
	struct spool_entry *e;
	struct stat sb;
	size_t count;
	int i;

	append_n(f->path, 3);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(file_size(f->path), 3 * SPOOL_RECORD_LEN);
	assert_int_equal(spool_open(f->path, &sp, &st), 0);
	assert_int_equal(st.loaded, 3);
	assert_int_equal(st.corrupt, 0);
	e = spool_entries(sp, &count);
	assert_int_equal(count, 3);
	for (i = 0; i < 3; i++) {
		struct spool_event want = make_event(i, 1000 + i);

		assert_false(e[i].settled);
		assert_memory_equal(&e[i].event, &want, sizeof(want));
	}
	spool_close(sp);
}

static void test_wide_mode_is_tightened(void **state)
{
	struct fixture *f = *state;
	struct spool *sp = NULL;
	struct spool_stats st;
	struct stat sb;

	append_n(f->path, 1);
	assert_int_equal(chmod(f->path, 0644), 0);
	assert_int_equal(spool_open(f->path, &sp, &st), 0);
	spool_close(sp);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
}

static void test_settle_erases_credential(void **state)
{
	struct fixture *f = *state;
	struct spool *sp = NULL;
	struct spool_stats st;
	struct spool_event ev1 = make_event(1, 0);

	append_n(f->path, 3);
	assert_true(file_has_credential(f->path, 0xA1));
	assert_int_equal(spool_open(f->path, &sp, &st), 0);
	assert_int_equal(spool_settle(sp, ev1.id, NULL), 1);
	assert_int_equal(spool_settle(sp, ev1.id, NULL), 0); /* a repeated ACK */
	assert_int_equal(spool_pending_count(sp), 2);
	spool_close(sp);
	assert_false(file_has_credential(f->path, 0xA1));
	assert_true(file_has_credential(f->path, 0xA0));
	assert_int_equal(spool_open(f->path, &sp, &st), 0);
	assert_int_equal(st.loaded, 2);
	assert_int_equal(st.settled_loaded, 1);
	spool_close(sp);
}

static void test_corrupt_record_skipped(void **state)
{
	struct fixture *f = *state;
	struct spool *sp = NULL;
	struct spool_stats st;
	struct spool_entry *e;
	size_t count;
	int fd;
	uint8_t byte;

	append_n(f->path, 4);
	/* Flip one byte inside the credential of the second record. */
	fd = open(f->path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &byte, 1, SPOOL_RECORD_LEN + 40), 1);
	byte ^= 0x01;
	assert_int_equal(pwrite(fd, &byte, 1, SPOOL_RECORD_LEN + 40), 1);
	close(fd);
	assert_int_equal(spool_open(f->path, &sp, &st), 0);
	assert_int_equal(st.loaded, 3);
	assert_int_equal(st.corrupt, 1);
	e = spool_entries(sp, &count);
	assert_int_equal(count, 3);
	assert_int_equal(e[0].event.unix_ms, 1000);
	assert_int_equal(e[1].event.unix_ms, 1002);
	assert_int_equal(e[2].event.unix_ms, 1003);
	spool_close(sp);
	/* Compacted at open: the corrupt bytes are gone. */
	assert_int_equal(file_size(f->path), 3 * SPOOL_RECORD_LEN);
}

static void test_garbage_between_records(void **state)
{
	struct fixture *f = *state;
	struct spool *sp = NULL;
	struct spool_stats st;
	uint8_t rec[SPOOL_RECORD_LEN], noise[] = "SP\x01Pnoise and more noise";
	struct spool_event ev = make_event(7, 7000);
	FILE *fp;

	append_n(f->path, 1);
	spool_record_encode(&ev, false, rec);
	fp = fopen(f->path, "ab");
	assert_non_null(fp);
	assert_int_equal(fwrite(noise, 1, sizeof(noise), fp), sizeof(noise));
	assert_int_equal(fwrite(rec, 1, sizeof(rec), fp), sizeof(rec));
	fclose(fp);
	assert_int_equal(spool_open(f->path, &sp, &st), 0);
	assert_int_equal(st.loaded, 2);
	assert_int_equal(st.corrupt, 1);
	spool_close(sp);
}

static void test_torn_tail(void **state)
{
	struct fixture *f = *state;
	struct spool *sp = NULL;
	struct spool_stats st;
	struct spool_event ev = make_event(9, 9000);

	append_n(f->path, 3);
	assert_int_equal(truncate(f->path, 2 * SPOOL_RECORD_LEN + 30), 0);
	assert_int_equal(spool_open(f->path, &sp, &st), 0);
	assert_int_equal(st.loaded, 2);
	assert_int_equal(st.corrupt, 1);
	/* An append lands after the good records, not behind the torn one. */
	assert_int_equal(spool_append(sp, &ev), 0);
	spool_close(sp);
	assert_int_equal(spool_open(f->path, &sp, &st), 0);
	assert_int_equal(st.loaded, 3);
	assert_int_equal(st.corrupt, 0);
	spool_close(sp);
}

static void test_expire(void **state)
{
	struct fixture *f = *state;
	struct spool *sp = NULL;
	struct spool_stats st;
	struct spool_event old = make_event(1, 1000), fresh = make_event(2, 90000000);

	assert_int_equal(spool_open(f->path, &sp, &st), 0);
	assert_int_equal(spool_append(sp, &old), 0);
	assert_int_equal(spool_append(sp, &fresh), 0);
	assert_int_equal(spool_expire(sp, 86400000 + 2000, 86400000), 1);
	assert_int_equal(spool_pending_count(sp), 1);
	assert_int_equal(spool_expire(sp, 86400000 + 2000, 86400000), 0);
	spool_close(sp);
	assert_false(file_has_credential(f->path, 0xA1));
}

static void test_compaction(void **state)
{
	struct fixture *f = *state;
	struct spool *sp = NULL;
	struct spool_stats st;
	struct spool_entry *e;
	size_t count;
	int i;

	append_n(f->path, 6);
	assert_int_equal(spool_open(f->path, &sp, &st), 0);
	assert_false(spool_wants_compaction(sp));
	for (i = 0; i < 4; i++) {
		struct spool_event ev = make_event(i, 0);

		assert_int_equal(spool_settle(sp, ev.id, NULL), 1);
	}
	assert_true(spool_wants_compaction(sp));
	assert_int_equal(spool_compact(sp), 0);
	assert_int_equal(file_size(f->path), 2 * SPOOL_RECORD_LEN);
	e = spool_entries(sp, &count);
	assert_int_equal(count, 2);
	assert_int_equal(e[0].event.unix_ms, 1004);
	assert_int_equal(e[1].offset, SPOOL_RECORD_LEN);
	/* The compacted spool still takes appends and settles in place. */
	{
		struct spool_event ev = make_event(8, 8000), first = e[0].event;

		assert_int_equal(spool_append(sp, &ev), 0);
		assert_int_equal(spool_settle(sp, first.id, NULL), 1);
	}
	spool_close(sp);
	assert_int_equal(spool_open(f->path, &sp, &st), 0);
	assert_int_equal(st.loaded, 2);
	assert_int_equal(st.settled_loaded, 1);
	for (i = 4; i < 6; i++) {
		struct spool_event ev = make_event(i, 0);

		(void)spool_settle(sp, ev.id, NULL);
	}
	{
		struct spool_event ev = make_event(8, 0);

		assert_int_equal(spool_settle(sp, ev.id, NULL), 1);
	}
	assert_int_equal(spool_compact(sp), 0);
	spool_close(sp);
	assert_int_equal(file_size(f->path), 0);
}

/* The sender's cursor: each pending event once per connection, in order;
 * a new connection sees them all again; compaction moves the entries and
 * the cursor follows without being told. */
static void test_cursor(void **state)
{
	struct fixture *f = *state;
	struct spool *sp = NULL;
	struct spool_stats st;
	struct spool_cursor cur;
	struct spool_event ev;
	uint64_t sent_on = 0;
	int i;

	append_n(f->path, 6);
	assert_int_equal(spool_open(f->path, &sp, &st), 0);
	spool_cursor_rewind(&cur);
	for (i = 0; i < 3; i++) {
		assert_true(spool_next_unsent(sp, &cur, 1, &ev));
		assert_int_equal(ev.unix_ms, 1000 + i);
		spool_sent(sp, &cur, 1);
	}
	/* Not marked sent: offered again. */
	assert_true(spool_next_unsent(sp, &cur, 1, &ev));
	assert_true(spool_next_unsent(sp, &cur, 1, &ev));
	assert_int_equal(ev.unix_ms, 1003);
	for (i = 0; i < 4; i++) {
		ev = make_event(i, 0);
		assert_int_equal(spool_settle(sp, ev.id, &sent_on), 1);
		assert_int_equal(sent_on, i < 3 ? 1 : 0);
	}
	assert_int_equal(spool_compact(sp), 0);
	/* Entries moved: the cursor starts over at the first pending event. */
	assert_true(spool_next_unsent(sp, &cur, 1, &ev));
	assert_int_equal(ev.unix_ms, 1004);
	spool_sent(sp, &cur, 1);
	assert_true(spool_next_unsent(sp, &cur, 1, &ev));
	spool_sent(sp, &cur, 1);
	assert_false(spool_next_unsent(sp, &cur, 1, &ev));
	/* Connection 2 gets both again. */
	spool_cursor_rewind(&cur);
	assert_true(spool_next_unsent(sp, &cur, 2, &ev));
	assert_int_equal(ev.unix_ms, 1004);
	explicit_bzero(&ev, sizeof(ev));
	spool_close(sp);
}

static void test_crc32_vector(void **state)
{
	(void)state;
	/* The standard check value of CRC-32/ISO-HDLC. */
	assert_int_equal(spool_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32_vector),
		cmocka_unit_test_setup_teardown(test_cursor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip_and_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wide_mode_is_tightened, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settle_erases_credential, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_record_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_between_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compaction, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
