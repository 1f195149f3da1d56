/*
 * Unit tests for common/videostore: the retention walk over a real
 * temporary tree (old, new, nested, oddly named, symlinked entries, an
 * unremovable entry, a deep tree) and the escaping of names for log lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "videostore.h"

#define DAY 86400

struct tree {
	char root[64];	  /* the video directory */
	char outside[64]; /* a directory next to it */
	int64_t now;
};

/* Creates root/rel with size bytes and mtime now - age_s. */
static void make_file(const struct tree *t, const char *base, const char *rel, size_t size,
		      int64_t age_s)
{
	char path[PATH_MAX];
	struct timespec times[2];
	char buf[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	memset(buf, 'v', sizeof(buf));
	while (size > 0) {
		size_t n = size < sizeof(buf) ? size : sizeof(buf);

		assert_int_equal(write(fd, buf, n), (ssize_t)n);
		size -= n;
	}
	close(fd);
	times[0].tv_sec = times[1].tv_sec = (time_t)(t->now - age_s);
	times[0].tv_nsec = times[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW), 0);
}

static void make_dir(const char *base, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	assert_int_equal(mkdir(path, 0700), 0);
}

/* A symbolic link root/rel -> target with its own mtime now - age_s. */
static void make_link(const struct tree *t, const char *rel, const char *target, int64_t age_s)
{
	char path[PATH_MAX];
	struct timespec times[2];

	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	assert_int_equal(symlink(target, path), 0);
	times[0].tv_sec = times[1].tv_sec = (time_t)(t->now - age_s);
	times[0].tv_nsec = times[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW), 0);
}

static bool exists(const char *base, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	return lstat(path, &st) == 0;
}

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	char base[] = "/tmp/sac-videostore.XXXXXX";

	if (t == NULL || mkdtemp(base) == NULL) {
		free(t);
		return -1;
	}
	snprintf(t->root, sizeof(t->root), "%s/video", base);
	snprintf(t->outside, sizeof(t->outside), "%s/outside", base);
	if (mkdir(t->root, 0700) != 0 || mkdir(t->outside, 0700) != 0) {
		free(t);
		return -1;
	}
	t->now = (int64_t)time(NULL);
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;
	char cmd[256];

	/* The tree's parent is ours alone (mkdtemp). */
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%.*s' && rm -rf '%.*s'", 40, t->root, 40, t->root);
	if (system(cmd) != 0)
		return -1;
	*strrchr(t->outside, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->outside);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static void test_walk_removes_only_old_entries(void **state)
{
	struct tree *t = *state;
	struct videostore_stats s;
	char odd[64];

	make_file(t, t->root, "old.mp4", 1000, 31 * DAY);
	make_file(t, t->root, "new.mp4", 700, 1 * DAY);
	make_dir(t->root, "cam1");
	make_dir(t->root, "cam1/2026");
	make_file(t, t->root, "cam1/2026/deep-old.mp4", 300, 40 * DAY);
	make_file(t, t->root, "cam1/2026/deep-new.mp4", 300, 29 * DAY);
	snprintf(odd, sizeof(odd), "cam1/line\nbreak\xff\xfe.mp4");
	make_file(t, t->root, odd, 50, 35 * DAY);
	/* An old file outside, reached by a new link and an old link. */
	make_file(t, t->outside, "victim.mp4", 10, 90 * DAY);
	make_link(t, "new-link", "../outside/victim.mp4", 1 * DAY);
	make_link(t, "old-link", "../outside/victim.mp4", 31 * DAY);
	make_link(t, "old-dir-link", "../outside", 31 * DAY);

	assert_int_equal(videostore_walk(t->root, t->now - 30 * DAY, VIDEOSTORE_REMOVE, &s), 0);
	assert_false(exists(t->root, "old.mp4"));
	assert_true(exists(t->root, "new.mp4"));
	assert_false(exists(t->root, "cam1/2026/deep-old.mp4"));
	assert_true(exists(t->root, "cam1/2026/deep-new.mp4"));
	assert_false(exists(t->root, odd));
	assert_true(exists(t->root, "new-link"));
	assert_false(exists(t->root, "old-link"));
	assert_false(exists(t->root, "old-dir-link"));
	/* Links are never followed: the old target outside survives. */
	assert_true(exists(t->outside, "victim.mp4"));
	/* Directories are never removed. */
	assert_true(exists(t->root, "cam1/2026"));
	assert_int_equal(s.files_seen, 8);
	assert_int_equal(s.files_expired, 5);
	assert_int_equal(s.files_removed, 5);
	assert_true(s.bytes_removed >= 1000 + 300 + 50);
	assert_int_equal(s.failures, 0);
	assert_int_equal(s.oldest_mtime, t->now - 29 * DAY);
}

static void test_scan_changes_nothing(void **state)
{
	struct tree *t = *state;
	struct videostore_stats s;

	make_file(t, t->root, "old.mp4", 10, 31 * DAY);
	make_file(t, t->root, "new.mp4", 10, 2 * DAY);
	assert_int_equal(videostore_walk(t->root, t->now - 30 * DAY, VIDEOSTORE_SCAN, &s), 0);
	assert_true(exists(t->root, "old.mp4"));
	assert_int_equal(s.files_seen, 2);
	assert_int_equal(s.files_expired, 1);
	assert_int_equal(s.files_removed, 0);
	assert_int_equal(s.oldest_mtime, t->now - 31 * DAY);
}

static void test_walk_goes_on_past_failures(void **state)
{
	struct tree *t = *state;
	struct videostore_stats s;
	char path[PATH_MAX];

	if (geteuid() == 0)
		skip(); /* root may remove anything: permissions cannot make it fail */
	make_dir(t->root, "locked");
	make_file(t, t->root, "locked/old.mp4", 10, 31 * DAY);
	make_file(t, t->root, "z-old.mp4", 10, 31 * DAY);
	snprintf(path, sizeof(path), "%s/locked", t->root);
	assert_int_equal(chmod(path, 0500), 0); /* readable, entries not removable */
	assert_int_equal(videostore_walk(t->root, t->now - 30 * DAY, VIDEOSTORE_REMOVE, &s), 0);
	assert_int_equal(s.failures, 1);
	assert_int_equal(s.files_removed, 1);
	assert_false(exists(t->root, "z-old.mp4"));
	assert_true(exists(t->root, "locked/old.mp4"));
	assert_int_equal(s.oldest_mtime, t->now - 31 * DAY);
}

static void test_walk_depth_is_bounded(void **state)
{
	struct tree *t = *state;
	struct videostore_stats s;
	char rel[PATH_MAX] = "";
	int i;

	for (i = 0; i < VIDEOSTORE_MAX_DEPTH + 2; i++) {
		strcat(rel, i == 0 ? "d" : "/d");
		make_dir(t->root, rel);
	}
	make_file(t, t->root, "old.mp4", 10, 31 * DAY);
	/* The walk counts the directory it would not enter and goes on. */
	assert_int_equal(videostore_walk(t->root, t->now - 30 * DAY, VIDEOSTORE_REMOVE, &s), 0);
	assert_int_equal(s.failures, 1);
	assert_int_equal(s.files_removed, 1);
	assert_false(exists(t->root, "old.mp4"));
}

static void test_walk_missing_dir(void **state)
{
	struct tree *t = *state;
	struct videostore_stats s;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/nowhere", t->root);
	assert_int_equal(videostore_walk(path, 0, VIDEOSTORE_SCAN, &s), -1);
	make_file(t, t->root, "plain", 1, 0);
	snprintf(path, sizeof(path), "%s/plain", t->root);
	assert_int_equal(videostore_walk(path, 0, VIDEOSTORE_SCAN, &s), -1);
}

static void test_escape_name(void **state)
{
	char out[32];

	(void)state;
	videostore_escape_name("cam1.mp4", 8, out, sizeof(out));
	assert_string_equal(out, "cam1.mp4");
	videostore_escape_name("a\nb\xff\\", 5, out, sizeof(out));
	assert_string_equal(out, "a\\x0ab\\xff\\x5c");
	videostore_escape_name("0123456789abcdefghijklmnopqrstuvwxyz", 36, out, 12);
	assert_string_equal(out, "01234567...");
	videostore_escape_name("\x01\x02\x03", 3, out, 13);
	assert_string_equal(out, "\\x01\\x02\\x03");
	videostore_escape_name("\x01\x02\x03", 3, out, 12);
	assert_string_equal(out, "\\x01\\x02...");
	videostore_escape_name("", 0, out, 4);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_walk_removes_only_old_entries, tree_setup,
						tree_teardown),
		cmocka_unit_test_setup_teardown(test_scan_changes_nothing, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_walk_goes_on_past_failures, tree_setup,
						tree_teardown),
		cmocka_unit_test_setup_teardown(test_walk_depth_is_bounded, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_walk_missing_dir, tree_setup, tree_teardown),
		cmocka_unit_test(test_escape_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
