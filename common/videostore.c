/*
 * videostore — see videostore.h.
 */
#include "videostore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Longest relative path kept for log lines; deeper names are logged by their
 * last component only. */
#define VIDEOSTORE_PATH_MAX 4096

struct videostore_walk {
	int64_t cutoff;
	int64_t future;	     /* mtimes after this are in the future */
	unsigned long holds; /* private names handed out */
	enum videostore_mode mode;
	struct videostore_stats *stats;
	char path[VIDEOSTORE_PATH_MAX]; /* relative path of the current directory, raw bytes */
	size_t path_len;
};

static size_t videostore_escaped_len(unsigned char c)
{
	return (c >= 0x20 && c <= 0x7e && c != '\\') ? 1 : 4;
}

void videostore_escape_name(const char *name, size_t len, char *out, size_t out_size)
{
	static const char digits[] = "0123456789abcdef";
	size_t total = 0, limit, o = 0, i;

	if (out_size < 4) {
		if (out_size > 0)
			out[0] = '\0';
		return;
	}
	for (i = 0; i < len; i++)
		total += videostore_escaped_len((unsigned char)name[i]);
	/* All of it, or as much as leaves room for "..." and the NUL. */
	limit = total < out_size ? total : out_size - 4;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (o + videostore_escaped_len(c) > limit)
			break;
		if (videostore_escaped_len(c) == 1) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = digits[c >> 4];
			out[o++] = digits[c & 0xf];
		}
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static void videostore_log_failure(const struct videostore_walk *w, const char *name, const char *what,
				   int err)
{
	char dir[256], base[256];

	videostore_escape_name(w->path, w->path_len, dir, sizeof(dir));
	videostore_escape_name(name, strlen(name), base, sizeof(base));
	log_warning("video store: cannot %s %s%s%s%s%s", what, dir, w->path_len > 0 ? "/" : "", base,
		    err != 0 ? ": " : "", err != 0 ? strerror(err) : "");
}

/* Appends /name to the relative path; returns the old length to restore. */
static size_t videostore_path_push(struct videostore_walk *w, const char *name)
{
	size_t old = w->path_len, n = strlen(name);
	size_t sep = old > 0 ? 1 : 0;

	if (old + sep + n < sizeof(w->path)) {
		if (sep)
			w->path[old] = '/';
		memcpy(w->path + old + sep, name, n);
		w->path_len = old + sep + n;
		w->path[w->path_len] = '\0';
	}
	return old;
}

static void videostore_path_pop(struct videostore_walk *w, size_t old)
{
	w->path_len = old;
	w->path[old] = '\0';
}

static void videostore_walk_dir(struct videostore_walk *w, int dfd, int depth);

static void videostore_enter(struct videostore_walk *w, int dfd, const char *name,
			     const struct stat *st, int depth)
{
	struct stat now;
	size_t old;
	int fd;

	if (depth >= VIDEOSTORE_MAX_DEPTH) {
		w->stats->failures++;
		videostore_log_failure(w, name, "enter (nested too deep)", 0);
		return;
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		w->stats->failures++;
		videostore_log_failure(w, name, "enter", errno);
		return;
	}
	/* The name may have been replaced between lstat and open. */
	if (fstat(fd, &now) != 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino) {
		w->stats->failures++;
		videostore_log_failure(w, name, "enter (replaced while walking)", 0);
		close(fd);
		return;
	}
	old = videostore_path_push(w, name);
	videostore_walk_dir(w, fd, depth + 1); /* closes fd */
	videostore_path_pop(w, old);
}

/* Removes name from dfd only if it is still the entry judged (st): renames
 * it to a private name (never over an existing one), compares device and
 * inode there, and unlinks it.  Returns 1 when removed, 0 when another
 * entry had taken the name (it is put back), -1 on an error (errno set). */
static int videostore_remove(struct videostore_walk *w, int dfd, const char *name,
			     const struct stat *st)
{
	char hold[64];
	struct stat now;
	int err;

	snprintf(hold, sizeof(hold), ".sac-purge-%ld-%lu", (long)getpid(), ++w->holds);
	if (renameat2(dfd, name, dfd, hold, RENAME_NOREPLACE) != 0)
		return errno == ENOENT ? 0 : -1;
	if (fstatat(dfd, hold, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_dev == st->st_dev &&
	    now.st_ino == st->st_ino) {
		if (unlinkat(dfd, hold, 0) == 0)
			return 1;
		err = errno;
	} else {
		err = 0;
	}
	/* Not the judged entry, or it cannot be unlinked: back to its name. */
	if (renameat2(dfd, hold, dfd, name, RENAME_NOREPLACE) != 0) {
		w->stats->failures++;
		videostore_log_failure(w, name, "put back (it is left under a private name)", errno);
		videostore_log_failure(w, hold, "put back: private name", 0);
	}
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

static void videostore_judge(struct videostore_walk *w, int dfd, const char *name,
			     const struct stat *st)
{
	int64_t mtime = (int64_t)st->st_mtim.tv_sec;
	int r;

	w->stats->files_seen++;
	if (mtime > w->future) {
		/* Its age cannot be proven: neither removed nor taken as the
		 * newest; counted, so that the audit sees it. */
		w->stats->files_future++;
		videostore_log_failure(w, name, "judge (modification time in the future)", 0);
		return;
	}
	if (mtime < w->cutoff) {
		w->stats->files_expired++;
		if (w->mode == VIDEOSTORE_REMOVE) {
			r = videostore_remove(w, dfd, name, st);
			if (r == 1) {
				w->stats->files_removed++;
				w->stats->bytes_removed += st->st_size > 0 ? (uint64_t)st->st_size : 0;
				return;
			}
			if (r == 0) {
				w->stats->files_replaced++;
				videostore_log_failure(
					w, name, "remove (replaced after it was judged; kept)", 0);
				return;
			}
			w->stats->failures++;
			videostore_log_failure(w, name, "remove", errno);
		}
	}
	if (mtime < w->stats->oldest_mtime)
		w->stats->oldest_mtime = mtime;
}

/* Walks the directory open on dfd and closes it. */
static void videostore_walk_dir(struct videostore_walk *w, int dfd, int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;

	if (d == NULL) {
		w->stats->failures++;
		videostore_log_failure(w, ".", "read directory", errno);
		close(dfd);
		return;
	}
	for (;;) {
		struct stat st;

		errno = 0;
		e = readdir(d);
		if (e == NULL) {
			if (errno != 0) {
				w->stats->failures++;
				videostore_log_failure(w, ".", "read directory", errno);
			}
			break;
		}
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno != ENOENT) { /* gone meanwhile: nothing to do */
				w->stats->failures++;
				videostore_log_failure(w, e->d_name, "examine", errno);
			}
			continue;
		}
		if (S_ISDIR(st.st_mode))
			videostore_enter(w, dirfd(d), e->d_name, &st, depth);
		else
			videostore_judge(w, dirfd(d), e->d_name, &st);
	}
	closedir(d);
}

int videostore_walk(const char *dir, int64_t cutoff, enum videostore_mode mode,
		    struct videostore_stats *stats)
{
	struct videostore_walk w;
	int fd;

	memset(stats, 0, sizeof(*stats));
	stats->oldest_mtime = INT64_MAX;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	memset(&w, 0, sizeof(w));
	w.cutoff = cutoff;
	w.future = (int64_t)time(NULL) + VIDEOSTORE_FUTURE_SKEW_S;
	w.mode = mode;
	w.stats = stats;
	videostore_walk_dir(&w, fd, 0);
	return 0;
}
