/*
 * cmd_audit — `sacctl audit verify|log|anchor`, for auditors (sac_auditor):
 * whether retention is being enforced (paragraph 27(c)), the audit log
 * itself, and its chain's head as one line to keep off the host
 * (sac-anchor:SEQ:HASH), which `audit verify --anchor LINE` checks the
 * chain still holds: a chain cut at its tail keeps verifying on its own.  The database gives ages and counts only (sac.retention_status);
 * the compliance rules are applied here, where the video store can be
 * checked too.  Nothing here ever sees personal data.
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "ctldb.h"
#include "timearg.h"
#include "videostore.h"

/* The legal limits, used should the database not report the limits in force. */
#define AUDIT_ACCESS_MAX_AGE_S ((int64_t)24 * 3600)
#define AUDIT_VIDEO_MAX_AGE_S ((int64_t)30 * 86400)
#define AUDIT_DEFAULT_INTERVAL_S ((int64_t)60)

/* The retention status as read from sac.retention_status(); -1 = NULL. */
struct audit_status {
	int64_t oldest_access_age_s;
	int64_t presence_unerased;
	int64_t last_purge_age_s;
	int64_t max_age_s;
	int64_t interval_s;
	int64_t first_broken_row;
	const char *last_purge_at; /* NULL when never */
	const char *checked_at;
	int64_t unchained;		/* records not chained yet */
	int64_t oldest_unchained_age_s; /* -1 when none */
	const char *head_seq;		/* NULL when the chain is empty */
	const char *head_hash;
	const char *anchor; /* NULL: no anchor given; "held" or "gone" */
};

struct audit_video {
	const char *dir; /* NULL: not checked */
	struct videostore_stats stats;
	int64_t oldest_age_s; /* -1 when no file */
};

static const char *audit_field(const PGresult *res, const char *name)
{
	int col = PQfnumber(res, name);

	if (col < 0 || PQgetisnull(res, 0, col))
		return NULL;
	return PQgetvalue(res, 0, col);
}

static int64_t audit_int(const PGresult *res, const char *name)
{
	const char *v = audit_field(res, name);

	return v != NULL ? strtoll(v, NULL, 10) : -1;
}

static void audit_status_read(const PGresult *res, struct audit_status *st)
{
	st->oldest_access_age_s = audit_int(res, "oldest_access_record_age_s");
	st->presence_unerased = audit_int(res, "presence_unerased_changes");
	st->last_purge_age_s = audit_int(res, "last_purge_age_s");
	st->max_age_s = audit_int(res, "last_purge_max_age_s");
	st->interval_s = audit_int(res, "last_purge_interval_s");
	st->first_broken_row = audit_int(res, "first_broken_audit_row");
	st->last_purge_at = audit_field(res, "last_purge_at");
	st->checked_at = audit_field(res, "checked_at");
	st->unchained = audit_int(res, "unchained_audit_rows");
	st->oldest_unchained_age_s = audit_int(res, "oldest_unchained_age_s");
	st->head_seq = audit_field(res, "chain_head_seq");
	st->head_hash = audit_field(res, "chain_head_hash");
	st->anchor = audit_field(res, "anchor");
	if (st->max_age_s <= 0)
		st->max_age_s = AUDIT_ACCESS_MAX_AGE_S;
	if (st->interval_s <= 0)
		st->interval_s = AUDIT_DEFAULT_INTERVAL_S;
}

static int audit_violation(struct out_table *v, const char *rule, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), warn_unused_result));

static int audit_violation(struct out_table *v, const char *rule, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (out_row(v) != 0 || out_cell(v, rule) != 0 || out_cell(v, detail) != 0)
		return -1;
	return 0;
}

/* Applies the rules of SPEC §2 and adds one violation per failed rule. */
static int audit_judge(const struct audit_status *st, const struct audit_video *video,
		       struct out_table *v)
{
	int64_t stale = 2 * st->interval_s;
	int rc = 0;

	if (st->oldest_access_age_s > st->max_age_s)
		rc |= audit_violation(v, "access_max_age",
				      "the oldest access record is %" PRId64
				      " s old, older than the limit of %" PRId64 " s",
				      st->oldest_access_age_s, st->max_age_s);
	if (st->presence_unerased > 0 && (st->last_purge_age_s < 0 || st->last_purge_age_s > stale))
		rc |= audit_violation(v, "completed_cycle",
				      "%" PRId64 " completed cycles or presence changes are still in "
				      "the presence table files: no rewrite for more than two purge "
				      "intervals (%" PRId64 " s)",
				      st->presence_unerased, stale);
	if (st->oldest_access_age_s >= 0 &&
	    (st->last_purge_age_s < 0 || st->last_purge_age_s > stale)) {
		if (st->last_purge_age_s < 0)
			rc |= audit_violation(
				v, "purge_stale",
				"access data exists but no purge pass has ever succeeded");
		else
			rc |= audit_violation(v, "purge_stale",
					      "access data exists but the last successful purge pass "
					      "was %" PRId64 " s ago, more than two intervals (%" PRId64
					      " s)",
					      st->last_purge_age_s, stale);
	}
	if (st->first_broken_row >= 0)
		rc |= audit_violation(v, "audit_chain",
				      "the audit log's hash chain does not verify from row %" PRId64
				      ": a record was altered, removed or inserted",
				      st->first_broken_row);
	if (st->anchor != NULL && strcmp(st->anchor, "held") != 0)
		rc |= audit_violation(v, "audit_anchor",
				      "the audit chain no longer holds the anchor given: records at or "
				      "before it were removed or altered (the chain was cut)");
	if (st->oldest_unchained_age_s > stale)
		rc |= audit_violation(
			v, "audit_unchained",
			"%" PRId64 " audit record(s) are not chained after %" PRId64
			" s, more than two intervals: a session is keeping the chain busy",
			st->unchained, st->oldest_unchained_age_s);
	if (video->dir != NULL && video->stats.files_expired > 0)
		rc |= audit_violation(v, "video_max_age",
				      "%" PRIu64 " file(s) in the video store are older than 30 days "
				      "(the oldest is %" PRId64 " days old)",
				      video->stats.files_expired, video->oldest_age_s / 86400);
	if (video->dir != NULL && video->stats.files_future > 0)
		rc |= audit_violation(v, "video_future_mtime",
				      "%" PRIu64 " file(s) in the video store have a modification time "
				      "in the future: their age cannot be proven",
				      video->stats.files_future);
	if (video->dir != NULL && video->stats.failures > 0)
		rc |= audit_violation(v, "video_unreadable",
				      "%" PRIu64 " entries of the video store could not be examined",
				      video->stats.failures);
	return rc;
}

static int audit_column_set(struct out_table *t)
{
	static const struct {
		const char *name;
		enum out_type type;
	} columns[] = {
		{"compliant", OUT_BOOL},
		{"checked_at", OUT_TIME},
		{"oldest_access_record_age_s", OUT_NUMBER},
		{"access_max_age_s", OUT_NUMBER},
		{"last_purge_at", OUT_TIME},
		{"purge_interval_s", OUT_NUMBER},
		{"presence_unerased_changes", OUT_NUMBER},
		{"audit_chain", OUT_STRING},
		{"first_broken_audit_row", OUT_NUMBER},
		{"audit_head", OUT_STRING},
		{"unchained_audit_rows", OUT_NUMBER},
		{"anchor", OUT_STRING},
		{"video_dir", OUT_STRING},
		{"video_files", OUT_NUMBER},
		{"video_files_over_limit", OUT_NUMBER},
		{"oldest_video_age_s", OUT_NUMBER},
		{"video_files_in_future", OUT_NUMBER},
	};
	size_t i;

	for (i = 0; i < sizeof(columns) / sizeof(columns[0]); i++)
		if (out_column(t, columns[i].name, columns[i].type) != 0)
			return -1;
	return 0;
}

static int audit_cell_int(struct out_table *t, int64_t value, bool present)
{
	char text[32];

	if (!present)
		return out_cell(t, NULL);
	snprintf(text, sizeof(text), "%" PRId64, value);
	return out_cell(t, text);
}

static int audit_report_row(struct out_table *t, bool compliant, const struct audit_status *st,
			    const struct audit_video *video)
{
	bool checked = video->dir != NULL;
	char head[128] = "";

	if (st->head_seq != NULL && st->head_hash != NULL)
		snprintf(head, sizeof(head), "sac-anchor:%s:%s", st->head_seq, st->head_hash);
	if (out_row(t) != 0 || out_cell(t, compliant ? "true" : "false") != 0 ||
	    out_cell(t, st->checked_at) != 0 ||
	    audit_cell_int(t, st->oldest_access_age_s, st->oldest_access_age_s >= 0) != 0 ||
	    audit_cell_int(t, st->max_age_s, true) != 0 || out_cell(t, st->last_purge_at) != 0 ||
	    audit_cell_int(t, st->interval_s, true) != 0 ||
	    audit_cell_int(t, st->presence_unerased, st->presence_unerased >= 0) != 0 ||
	    out_cell(t, st->first_broken_row >= 0 ? "broken" : "intact") != 0 ||
	    audit_cell_int(t, st->first_broken_row, st->first_broken_row >= 0) != 0 ||
	    out_cell(t, st->head_seq != NULL ? head : NULL) != 0 ||
	    audit_cell_int(t, st->unchained, st->unchained >= 0) != 0 || out_cell(t, st->anchor) != 0 ||
	    out_cell(t, video->dir) != 0 ||
	    audit_cell_int(t, (int64_t)video->stats.files_seen, checked) != 0 ||
	    audit_cell_int(t, (int64_t)video->stats.files_expired, checked) != 0 ||
	    audit_cell_int(t, video->oldest_age_s, checked && video->oldest_age_s >= 0) != 0 ||
	    audit_cell_int(t, (int64_t)video->stats.files_future, checked) != 0)
		return -1;
	return 0;
}

/* "sac-anchor:SEQ:HASH" (SEQ 1 to 18 digits, HASH 64 lower-case hex digits)
 * into its parts.  Returns 0, or -1 for anything else. */
static int audit_anchor_parse(const char *line, char *seq, size_t seq_size, char *hash)
{
	static const char prefix[] = "sac-anchor:";
	const char *p = line + sizeof(prefix) - 1;
	size_t digits, i;

	if (strncmp(line, prefix, sizeof(prefix) - 1) != 0)
		return -1;
	digits = strspn(p, "0123456789");
	if (digits == 0 || digits > 18 || digits >= seq_size || p[digits] != ':')
		return -1;
	memcpy(seq, p, digits);
	seq[digits] = '\0';
	p += digits + 1;
	if (strlen(p) != 64)
		return -1;
	for (i = 0; i < 64; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return -1;
	memcpy(hash, p, 65);
	return 0;
}

int cmd_audit_verify(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctldb_purpose purpose = {"read the retention status", "sac_auditor"};
	const char *video_dir = NULL, *anchor = NULL;
	const struct ctl_arg args[] = {
		{.name = "video-dir", .value = &video_dir},
		{.name = "anchor", .value = &anchor},
		{0},
	};
	char anchor_seq[24], anchor_hash[65];
	const char *anchor_params[2] = {NULL, NULL};
	struct audit_status st;
	struct audit_video video;
	struct out_table *report = NULL, *violations = NULL;
	PGresult *res = NULL;
	int status;

	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	if (anchor != NULL) {
		if (audit_anchor_parse(anchor, anchor_seq, sizeof(anchor_seq), anchor_hash) != 0)
			return ctl_usage_error(ctl, "--anchor must be a line printed by "
						    "'sacctl audit anchor' (sac-anchor:SEQ:HASH)");
		anchor_params[0] = anchor_seq;
		anchor_params[1] = anchor_hash;
	}
	memset(&video, 0, sizeof(video));
	video.oldest_age_s = -1;
	if (video_dir != NULL) {
		int64_t now = (int64_t)time(NULL);

		/* lstat times only, nothing followed, nothing removed. */
		if (videostore_walk(video_dir, now - AUDIT_VIDEO_MAX_AGE_S, VIDEOSTORE_SCAN,
				    &video.stats) != 0)
			return ctl_fail(CTL_EXIT_ENV, "cannot read the video directory %s: %s",
					video_dir, strerror(errno));
		video.dir = video_dir;
		if (video.stats.oldest_mtime != INT64_MAX)
			video.oldest_age_s = now - video.stats.oldest_mtime;
	}
	status = ctldb_call(ctl, &purpose, "SELECT * FROM sac.retention_status($1::bigint, $2)", 2,
			    anchor_params, &res);
	if (status != CTL_EXIT_OK)
		return status;
	if (PQntuples(res) != 1) {
		status = ctl_fail(CTL_EXIT_ENV, "unexpected answer from sac.retention_status()");
		goto out;
	}
	audit_status_read(res, &st);
	report = out_table_new();
	violations = out_table_new();
	if (report == NULL || violations == NULL || audit_column_set(report) != 0 ||
	    out_column(violations, "rule", OUT_STRING) != 0 ||
	    out_column(violations, "detail", OUT_STRING) != 0 ||
	    audit_judge(&st, &video, violations) != 0 ||
	    audit_report_row(report, out_rows(violations) == 0, &st, &video) != 0) {
		status = ctl_fail(CTL_EXIT_ENV, "out of memory");
		goto out;
	}
	status = out_rows(violations) == 0 ? CTL_EXIT_OK : CTL_EXIT_REFUSED;
	if (out_attach(report, "violations", violations) != 0) {
		violations = NULL;
		status = ctl_fail(CTL_EXIT_ENV, "out of memory");
		goto out;
	}
	violations = NULL;
	if (ctl_print_record(ctl, report) != CTL_EXIT_OK)
		status = CTL_EXIT_ENV;
out:
	out_table_free(violations);
	out_table_free(report);
	PQclear(res);
	return status;
}

int cmd_audit_log(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctldb_purpose purpose = {"read the audit log", "sac_auditor"};
	const char *since = NULL;
	const struct ctl_arg args[] = {
		{.name = "since", .value = &since},
		{0},
	};
	PGresult *res = NULL;
	int status;

	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	if (since != NULL && !timearg_is_iso8601(since))
		return ctl_usage_error(ctl, "--since must be an ISO-8601 date or date-time, "
					    "e.g. 2026-12-31 or 2026-12-31T18:00:00Z");
	status = ctldb_call(ctl, &purpose,
			    "SELECT id, at, role, action, site, emergency_id, outcome, count, detail, "
			    "hash FROM sac.audit_log($1::timestamptz)",
			    1, &since, &res);
	if (status != CTL_EXIT_OK)
		return status;
	status = ctldb_print(ctl, res, false);
	PQclear(res);
	return status;
}

int cmd_audit_anchor(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctldb_purpose purpose = {"read the audit chain's head", "sac_auditor"};
	const struct ctl_arg args[] = {{0}};
	PGresult *res = NULL;
	int status;

	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	status = ctldb_call(ctl, &purpose, "SELECT anchor, seq, chained_at FROM sac.audit_anchor()", 0,
			    NULL, &res);
	if (status != CTL_EXIT_OK)
		return status;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		status = ctl_fail(CTL_EXIT_ENV, "the audit chain is empty");
	} else if (ctl->format == OUT_TEXT) {
		/* The bare line, to be kept off the host. */
		status = printf("%s\n", PQgetvalue(res, 0, 0)) < 0 ? CTL_EXIT_ENV : CTL_EXIT_OK;
	} else {
		status = ctldb_print(ctl, res, true);
	}
	PQclear(res);
	return status;
}
