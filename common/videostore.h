/*
 * videostore — the video retention walk: finds, and optionally removes, the
 * entries under a video directory whose own modification time (lstat) is
 * older than a cut-off.  Shared by sac-purge (removes) and `sacctl audit
 * verify --video-dir` (only looks).
 *
 * It never follows a symbolic link: every step is openat/fstatat/unlinkat
 * relative to a directory descriptor, with O_NOFOLLOW and
 * AT_SYMLINK_NOFOLLOW, so a link is judged by its own time and removing it
 * removes only the link, and nothing outside the directory is reached.
 * Names may hold any bytes.  Directories themselves are never removed, not
 * even empty ones: they hold no video, and the recorder that owns the tree
 * may be about to write into one (removing it would race with that).  The
 * top directory is opened as named (the operator chose it, link or not).
 *
 * Only the entry whose age was judged is ever removed: it is first renamed
 * (atomically, never over another name) to a private name in its
 * directory, its device and inode are compared with the judged ones there,
 * and only then is it unlinked; an entry that took the name after it was
 * judged is renamed back untouched.  An entry whose modification time lies
 * in the future (beyond VIDEOSTORE_FUTURE_SKEW_S) has an age that cannot be
 * proven: it is counted, never removed.
 */
#ifndef SAC_VIDEOSTORE_H
#define SAC_VIDEOSTORE_H

#include <stddef.h>
#include <stdint.h>

/* Directories nested deeper than this below the top are not entered (each
 * is counted as a failure): bounds the descriptors the walk holds open. */
#define VIDEOSTORE_MAX_DEPTH 32

/* A modification time this far ahead of the clock is allowed for clock
 * skew between the recorder and this host; beyond it, a file is counted in
 * files_future. */
#define VIDEOSTORE_FUTURE_SKEW_S 300

enum videostore_mode {
	VIDEOSTORE_SCAN,   /* count only */
	VIDEOSTORE_REMOVE, /* unlink every entry older than the cut-off */
};

struct videostore_stats {
	uint64_t files_seen;	/* entries other than directories */
	uint64_t files_expired; /* of those, older than the cut-off */
	uint64_t files_removed;
	uint64_t bytes_removed;	 /* sum of the removed entries' lstat sizes */
	uint64_t files_future;	 /* mtime more than VIDEOSTORE_FUTURE_SKEW_S ahead: age unknown */
	uint64_t files_replaced; /* replaced by another entry after being judged: kept */
	uint64_t failures;	 /* entries that could not be read, entered or removed */
	int64_t oldest_mtime;	 /* oldest mtime (Unix s) of an entry that is still there,
				   INT64_MAX when there is none */
};

/* Walks dir.  An entry other than a directory is expired when its lstat
 * mtime, in whole seconds, is earlier than cutoff (Unix seconds); in
 * VIDEOSTORE_REMOVE mode it is removed (see above).  An entry whose mtime is
 * later than now + VIDEOSTORE_FUTURE_SKEW_S is counted in files_future and
 * left alone.  The walk goes on past any entry it
 * cannot handle (logged with its escaped name, counted in failures).
 * Returns 0 when the walk ran (stats filled), -1 when dir itself cannot be
 * opened as a directory (errno set; stats zeroed). */
int videostore_walk(const char *dir, int64_t cutoff, enum videostore_mode mode,
		    struct videostore_stats *stats) __attribute__((warn_unused_result));

/* Writes the len bytes of name as printable ASCII for a log line: bytes
 * 0x20..0x7e except backslash as themselves, everything else as \xHH.  The
 * result is NUL-terminated and cut with "..." when it does not fit out_size
 * (out_size >= 4). */
void videostore_escape_name(const char *name, size_t len, char *out, size_t out_size);

#endif
