/*
 * spool — see spool.h.
 */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "testbreak.h"

#define SPOOL_MAGIC0 'S'
#define SPOOL_MAGIC1 'P'
#define SPOOL_VERSION 1
#define SPOOL_PENDING 'P'
#define SPOOL_SETTLED 'S'
#define SPOOL_BODY_LEN 56
#define SPOOL_CRC_OFFSET 62
/* Never read more than this from a spool file (a day at SPOOL_MAX_RECORDS
 * plus room for noise); anything beyond is left alone and logged. */
#define SPOOL_MAX_FILE_BYTES ((size_t)SPOOL_MAX_RECORDS * SPOOL_RECORD_LEN * 2)

struct spool {
	char *path;
	int fd;
	uint64_t size; /* where the next record goes */
	struct spool_entry *entries;
	size_t count;
	size_t capacity;
	size_t pending;
	size_t first_pending; /* entries before it are all settled */
	uint64_t generation;  /* counts compactions: cursors from before start over */
};

uint32_t spool_crc32(const uint8_t *data, size_t len)
{
	uint32_t crc = 0xFFFFFFFFu;
	size_t i;
	int bit;

	for (i = 0; i < len; i++) {
		crc ^= data[i];
		for (bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static void spool_put_u64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t spool_get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

void spool_record_encode(const struct spool_event *ev, bool settled, uint8_t *rec)
{
	uint32_t crc;

	rec[0] = SPOOL_MAGIC0;
	rec[1] = SPOOL_MAGIC1;
	rec[2] = SPOOL_VERSION;
	rec[3] = settled ? SPOOL_SETTLED : SPOOL_PENDING;
	rec[4] = SPOOL_BODY_LEN;
	rec[5] = 0;
	if (settled) {
		/* A settled record keeps nothing of the event: no id, no time,
		 * no credential. */
		memset(rec + 6, 0, SPOOL_BODY_LEN);
	} else {
		memcpy(rec + 6, ev->id, SPOOL_ID_LEN);
		spool_put_u64(rec + 22, (uint64_t)ev->unix_ms);
		memcpy(rec + 30, ev->credential, SPOOL_CREDENTIAL_LEN);
	}
	crc = spool_crc32(rec, SPOOL_CRC_OFFSET);
	rec[62] = (uint8_t)crc;
	rec[63] = (uint8_t)(crc >> 8);
	rec[64] = (uint8_t)(crc >> 16);
	rec[65] = (uint8_t)(crc >> 24);
}

int spool_record_decode(const uint8_t *rec, struct spool_event *ev, bool *settled)
{
	uint32_t crc;

	if (rec[0] != SPOOL_MAGIC0 || rec[1] != SPOOL_MAGIC1 || rec[2] != SPOOL_VERSION ||
	    (rec[3] != SPOOL_PENDING && rec[3] != SPOOL_SETTLED) || rec[4] != SPOOL_BODY_LEN ||
	    rec[5] != 0)
		return -1;
	crc = (uint32_t)rec[62] | (uint32_t)rec[63] << 8 | (uint32_t)rec[64] << 16 |
	      (uint32_t)rec[65] << 24;
	if (crc != spool_crc32(rec, SPOOL_CRC_OFFSET))
		return -1;
	memcpy(ev->id, rec + 6, SPOOL_ID_LEN);
	ev->unix_ms = (int64_t)spool_get_u64(rec + 22);
	memcpy(ev->credential, rec + 30, SPOOL_CREDENTIAL_LEN);
	*settled = rec[3] == SPOOL_SETTLED;
	return 0;
}

static int spool_reserve(struct spool *sp, size_t n)
{
	struct spool_entry *grown;
	size_t cap;

	if (n <= sp->capacity)
		return 0;
	cap = sp->capacity == 0 ? 64 : sp->capacity;
	while (cap < n)
		cap *= 2;
	grown = realloc(sp->entries, cap * sizeof(*grown));
	if (grown == NULL)
		return -1;
	sp->entries = grown;
	sp->capacity = cap;
	return 0;
}

/* fsync of the directory holding path, so a created or renamed entry stays. */
static int spool_sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd = -1, rc = -1;

	if (copy == NULL)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && fsync(fd) == 0)
		rc = 0;
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

static int spool_write_all(int fd, const uint8_t *buf, size_t len, uint64_t offset)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, (off_t)offset);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return 0;
}

static void spool_advance_first_pending(struct spool *sp)
{
	while (sp->first_pending < sp->count && sp->entries[sp->first_pending].settled)
		sp->first_pending++;
}

/* Reads the whole file (up to the limit) into a buffer the caller frees. */
static int spool_slurp(struct spool *sp, uint8_t **data, size_t *len)
{
	struct stat st;
	size_t size, got = 0;
	uint8_t *buf;

	*data = NULL;
	*len = 0;
	if (fstat(sp->fd, &st) != 0)
		return -1;
	size = (size_t)st.st_size;
	if (size > SPOOL_MAX_FILE_BYTES) {
		log_error(
			"spool %s: %zu bytes, more than the %zu a spool may hold; reading the first %zu",
			sp->path, size, SPOOL_MAX_FILE_BYTES, SPOOL_MAX_FILE_BYTES);
		size = SPOOL_MAX_FILE_BYTES;
	}
	buf = malloc(size + 1);
	if (buf == NULL)
		return -1;
	while (got < size) {
		ssize_t n = pread(sp->fd, buf + got, size - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	*data = buf;
	*len = got;
	return 0;
}

/* Loads every intact record of the file; returns the number of corrupt
 * stretches skipped, or -1. */
static long spool_load(struct spool *sp, struct spool_stats *stats)
{
	uint8_t *data = NULL;
	size_t len, pos = 0, bad_start = 0;
	bool in_bad = false;
	long corrupt = 0;

	if (spool_slurp(sp, &data, &len) != 0)
		return -1;
	while (pos + SPOOL_RECORD_LEN <= len) {
		struct spool_entry e;

		memset(&e, 0, sizeof(e));
		if (spool_record_decode(data + pos, &e.event, &e.settled) != 0) {
			if (!in_bad) {
				in_bad = true;
				bad_start = pos;
			}
			pos++;
			continue;
		}
		if (in_bad) {
			log_warning("spool %s: skipped %zu corrupt bytes at offset %zu", sp->path,
				    pos - bad_start, bad_start);
			corrupt++;
			in_bad = false;
		}
		if (sp->count >= SPOOL_MAX_RECORDS || spool_reserve(sp, sp->count + 1) != 0) {
			log_error("spool %s: more than %d records; the rest is ignored", sp->path,
				  SPOOL_MAX_RECORDS);
			break;
		}
		e.offset = pos;
		if (e.settled) {
			stats->settled_loaded++;
		} else {
			sp->pending++;
			stats->loaded++;
		}
		sp->entries[sp->count++] = e;
		pos += SPOOL_RECORD_LEN;
	}
	if (in_bad || pos < len) {
		size_t from = in_bad ? bad_start : pos;

		log_warning("spool %s: skipped %zu torn or corrupt bytes at offset %zu", sp->path,
			    len - from, from);
		corrupt++;
	}
	stats->corrupt = (size_t)corrupt;
	sp->size = len;
	spool_advance_first_pending(sp);
	explicit_bzero(data, len);
	free(data);
	return corrupt;
}

int spool_open(const char *path, struct spool **out, struct spool_stats *stats)
{
	struct spool *sp = NULL;
	struct stat st;
	bool created = false;
	long corrupt;

	*out = NULL;
	memset(stats, 0, sizeof(*stats));
	sp = calloc(1, sizeof(*sp));
	if (sp == NULL)
		goto fail;
	sp->fd = -1;
	sp->path = strdup(path);
	if (sp->path == NULL)
		goto fail;
	sp->fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (sp->fd < 0 && errno == ENOENT) {
		sp->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		created = true;
	}
	if (sp->fd < 0 || fstat(sp->fd, &st) != 0) {
		log_err("spool %s: cannot open", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		log_error("spool %s: not a regular file", path);
		goto fail;
	}
	if ((st.st_mode & 077) != 0) {
		log_warning("spool %s: mode %04o was too open; set to 0600", path,
			    (unsigned)(st.st_mode & 07777));
		if (fchmod(sp->fd, 0600) != 0) {
			log_err("spool %s: chmod", path);
			goto fail;
		}
	}
	if (created && spool_sync_dir(path) != 0) {
		log_err("spool %s: cannot sync its directory", path);
		goto fail;
	}
	corrupt = spool_load(sp, stats);
	if (corrupt < 0) {
		log_err("spool %s: cannot read", path);
		goto fail;
	}
	/* Rewrite now, so that appends never land behind a torn record and
	 * the corrupt bytes are gone. */
	if (corrupt > 0 && spool_compact(sp) != 0)
		goto fail;
	*out = sp;
	return 0;
fail:
	spool_close(sp);
	return -1;
}

void spool_close(struct spool *sp)
{
	if (sp == NULL)
		return;
	if (sp->fd >= 0)
		close(sp->fd);
	if (sp->entries != NULL)
		explicit_bzero(sp->entries, sp->capacity * sizeof(*sp->entries));
	free(sp->entries);
	free(sp->path);
	free(sp);
}

int spool_append(struct spool *sp, const struct spool_event *ev)
{
	uint8_t rec[SPOOL_RECORD_LEN];
	struct spool_entry *e;
	int rc = -1;

	if (sp->count >= SPOOL_MAX_RECORDS) {
		log_error("spool %s: full (%d records); event not stored", sp->path, SPOOL_MAX_RECORDS);
		return -1;
	}
	if (spool_reserve(sp, sp->count + 1) != 0) {
		log_error("spool %s: out of memory", sp->path);
		return -1;
	}
	spool_record_encode(ev, false, rec);
	if (spool_write_all(sp->fd, rec, sizeof(rec), sp->size) != 0 ||
	    (!SAC_BROKEN(spool_no_fsync) && fdatasync(sp->fd) != 0)) {
		log_err("spool %s: cannot write an event", sp->path);
		/* Do not leave half a record for the next append to follow. */
		if (ftruncate(sp->fd, (off_t)sp->size) != 0)
			log_err("spool %s: cannot truncate a failed append", sp->path);
		goto out;
	}
	e = &sp->entries[sp->count++];
	memset(e, 0, sizeof(*e));
	e->event = *ev;
	e->offset = sp->size;
	sp->size += SPOOL_RECORD_LEN;
	sp->pending++;
	rc = 0;
out:
	explicit_bzero(rec, sizeof(rec));
	return rc;
}

/* Marks entry e settled in memory and rewrites its record in place. */
static int spool_settle_entry(struct spool *sp, struct spool_entry *e)
{
	uint8_t rec[SPOOL_RECORD_LEN];

	e->settled = true;
	explicit_bzero(e->event.credential, sizeof(e->event.credential));
	sp->pending--;
	spool_record_encode(&e->event, true, rec);
	/* No fsync here (compaction syncs before it shortens the file): if the
	 * settled mark is lost, the event is sent again and the controller
	 * acknowledges the duplicate without storing it. */
	if (spool_write_all(sp->fd, rec, sizeof(rec), e->offset) != 0) {
		log_err("spool %s: cannot mark an event settled", sp->path);
		return -1;
	}
	return 0;
}

int spool_settle(struct spool *sp, const uint8_t id[SPOOL_ID_LEN], uint64_t *sent_on)
{
	size_t i;
	int rc;

	for (i = sp->first_pending; i < sp->count; i++) {
		struct spool_entry *e = &sp->entries[i];

		if (!e->settled && memcmp(e->event.id, id, SPOOL_ID_LEN) == 0) {
			if (sent_on != NULL)
				*sent_on = e->sent_on;
			rc = spool_settle_entry(sp, e) == 0 ? 1 : -1;
			spool_advance_first_pending(sp);
			return rc;
		}
	}
	return 0;
}

size_t spool_expire(struct spool *sp, int64_t now_ms, int64_t max_age_ms)
{
	size_t i, n = 0;

	for (i = 0; i < sp->count; i++) {
		struct spool_entry *e = &sp->entries[i];

		if (!e->settled && e->event.unix_ms < now_ms - max_age_ms) {
			(void)spool_settle_entry(sp, e);
			n++;
		}
	}
	spool_advance_first_pending(sp);
	/* An expired record may not wait for the next compaction to be gone
	 * from the disk. */
	if (n > 0 && fdatasync(sp->fd) != 0)
		log_err("spool %s: cannot sync expired records", sp->path);
	return n;
}

struct spool_entry *spool_entries(struct spool *sp, size_t *count)
{
	*count = sp->count;
	return sp->entries;
}

size_t spool_pending_count(const struct spool *sp)
{
	return sp->pending;
}

size_t spool_first_pending(const struct spool *sp)
{
	return sp->first_pending;
}

void spool_cursor_rewind(struct spool_cursor *cur)
{
	cur->index = 0;
	cur->generation = 0;
}

bool spool_next_unsent(struct spool *sp, struct spool_cursor *cur, uint64_t conn_no,
		       struct spool_event *ev)
{
	if (cur->generation != sp->generation || cur->index < sp->first_pending) {
		cur->index = sp->first_pending;
		cur->generation = sp->generation;
	}
	for (; cur->index < sp->count; cur->index++) {
		const struct spool_entry *e = &sp->entries[cur->index];

		if (!e->settled && e->sent_on != conn_no) {
			*ev = e->event;
			return true;
		}
	}
	return false;
}

void spool_sent(struct spool *sp, struct spool_cursor *cur, uint64_t conn_no)
{
	if (cur->generation == sp->generation && cur->index < sp->count)
		sp->entries[cur->index++].sent_on = conn_no;
}

bool spool_wants_compaction(const struct spool *sp)
{
	size_t settled = sp->count - sp->pending;

	return settled > 0 && settled >= sp->pending;
}

/* Overwrites [from, to) of the file with zeros. */
static int spool_zero_range(int fd, uint64_t from, uint64_t to)
{
	static const uint8_t zeros[4096];

	while (from < to) {
		size_t n = to - from < sizeof(zeros) ? (size_t)(to - from) : sizeof(zeros);

		if (spool_write_all(fd, zeros, n, from) != 0)
			return -1;
		from += n;
	}
	return 0;
}

/* Compaction happens in place, never by writing a new file and renaming it
 * over the old one: the old file's blocks would be freed with their
 * records still in them, readable on the raw device.  Pending records move
 * to the front, everything behind them is overwritten with zeros, and that
 * is made durable (fdatasync) before the file is shortened.
 *
 * A crash part-way leaves every pending record intact at its old or its new
 * place (a record moves forward only over settled ones or over a copy
 * already moved); a record found twice is sent twice and the controller
 * acknowledges the second without storing it. */
int spool_compact(struct spool *sp)
{
	uint8_t rec[SPOOL_RECORD_LEN];
	struct stat st;
	size_t i, kept = 0;
	uint64_t end, offset = 0;
	int rc = -1;

	if (fstat(sp->fd, &st) != 0) {
		log_err("spool %s: cannot compact", sp->path);
		return -1;
	}
	end = (uint64_t)st.st_size > sp->size ? (uint64_t)st.st_size : sp->size;
	for (i = 0; i < sp->count; i++) {
		struct spool_entry *e = &sp->entries[i];

		if (e->settled)
			continue;
		if (e->offset != offset) {
			spool_record_encode(&e->event, false, rec);
			if (spool_write_all(sp->fd, rec, sizeof(rec), offset) != 0) {
				log_err("spool %s: cannot compact", sp->path);
				goto out;
			}
		}
		offset += SPOOL_RECORD_LEN;
	}
	if (spool_zero_range(sp->fd, offset, end) != 0 || fdatasync(sp->fd) != 0) {
		log_err("spool %s: cannot overwrite settled records", sp->path);
		goto out;
	}
	if (ftruncate(sp->fd, (off_t)offset) != 0 || fsync(sp->fd) != 0) {
		log_err("spool %s: cannot truncate", sp->path);
		goto out;
	}
	for (i = 0; i < sp->count; i++) {
		if (sp->entries[i].settled)
			continue;
		sp->entries[kept] = sp->entries[i];
		sp->entries[kept].offset = (uint64_t)kept * SPOOL_RECORD_LEN;
		kept++;
	}
	if (sp->count > kept)
		explicit_bzero(sp->entries + kept, (sp->count - kept) * sizeof(*sp->entries));
	sp->count = kept;
	sp->size = offset;
	sp->first_pending = 0;
	sp->generation++;
	rc = 0;
out:
	explicit_bzero(rec, sizeof(rec));
	return rc;
}
