/*
 * purge_run — see purge_run.h.
 */
#include "purge_run.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "db.h"
#include "log.h"

/* The database's own margin (sac.purge_margin(): clock skew plus slack for a
 * late pass), applied to video the same way. */
#define PURGE_VIDEO_MARGIN_S 35

/* sac.purge_presence rewrites one of access.presence_parts() partitions per
 * call; more calls than this mean something is wrong. */
#define PURGE_MAX_PRESENCE_CALLS 256

void purge_run_init(struct purge_run *run)
{
	memset(run, 0, sizeof(*run));
}

int64_t purge_run_interval_s(const struct purge_run *run)
{
	return run->interval_s > 0 ? run->interval_s : PURGE_DEFAULT_INTERVAL_S;
}

static void purge_run_note_failure(struct purge_run *run, const char *reason, const char *sqlstate,
				   const struct videostore_stats *video)
{
	int64_t now = daemon_unix_ms();

	if (run->failed_passes == 0)
		run->first_failed_ms = now;
	run->failed_passes++;
	run->last_failed_ms = now;
	snprintf(run->last_reason, sizeof(run->last_reason), "%s", reason);
	snprintf(run->last_failed_step, sizeof(run->last_failed_step), "%s", run->last_step);
	snprintf(run->last_sqlstate, sizeof(run->last_sqlstate), "%s", sqlstate);
	run->failed_video.files_removed += video->files_removed;
	run->failed_video.bytes_removed += video->bytes_removed;
	run->failed_video.failures += video->failures;
}

void purge_run_disconnect(struct purge_run *run)
{
	PQfinish(run->conn);
	run->conn = NULL;
}

void purge_run_close(struct purge_run *run)
{
	if (run == NULL)
		return;
	purge_run_disconnect(run);
}

static int purge_run_connect(struct purge_run *run, const struct purge_config *cfg, const char **reason)
{
	char err[512];

	if (run->conn != NULL && PQstatus(run->conn) == CONNECTION_OK)
		return 0;
	purge_run_disconnect(run);
	run->conn = db_connect(cfg->database, "sac-purge", err, sizeof(err));
	if (run->conn == NULL) {
		*reason = db_connect_refused(err) ? "refused" : "unreachable";
		log_error("database %s: %s", *reason, err);
		return -1;
	}
	return 0;
}

/* What a failed statement means for this pass; drops a broken connection. */
static enum purge_status purge_run_classify(struct purge_run *run, const PGresult *res,
					    const char **reason)
{
	const char *state = db_sqlstate(res);

	if (db_is_connection_error(run->conn, res)) {
		*reason = "unreachable";
		purge_run_disconnect(run);
		return PURGE_UNREACHABLE;
	}
	*reason = db_is_privilege_error(state) ? "refused" : "error";
	return PURGE_FAILED;
}

/* Text of an int64 for a query parameter. */
static void purge_param_int(char *out, size_t out_size, int64_t value)
{
	snprintf(out, out_size, "%" PRId64, value);
}

/* Writes the pending failed passes to the audit log (typed values: the
 * database builds the record).  Returns 0 when there were none or they are
 * now recorded, -1 otherwise (they stay pending). */
static int purge_run_report_failures(struct purge_run *run)
{
	char count[24], first[24], last[24], files[24], bytes[24], failures[24];
	const char *params[9];
	PGresult *res;
	const char *reason;
	int rc = -1;

	if (run->failed_passes == 0)
		return 0;
	purge_param_int(count, sizeof(count), run->failed_passes);
	purge_param_int(first, sizeof(first), run->first_failed_ms);
	purge_param_int(last, sizeof(last), run->last_failed_ms);
	purge_param_int(files, sizeof(files), (int64_t)run->failed_video.files_removed);
	purge_param_int(bytes, sizeof(bytes), (int64_t)run->failed_video.bytes_removed);
	purge_param_int(failures, sizeof(failures), (int64_t)run->failed_video.failures);
	params[0] = count;
	params[1] = first;
	params[2] = last;
	params[3] = run->last_reason;
	params[4] = run->last_failed_step;
	params[5] = run->last_sqlstate;
	params[6] = files;
	params[7] = bytes;
	params[8] = failures;
	res = PQexecParams(run->conn,
			   "SELECT sac.purge_failed($1::bigint, to_timestamp($2::float8 / 1000), "
			   "to_timestamp($3::float8 / 1000), $4, $5, $6, $7::bigint, $8::bigint, "
			   "$9::bigint)",
			   9, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		(void)purge_run_classify(run, res, &reason);
		log_error("cannot audit %" PRId64 " failed purge pass(es): SQLSTATE %s",
			  run->failed_passes, db_sqlstate(res));
		goto out;
	}
	log_notice("audited %" PRId64 " failed purge pass(es) (%s)", run->failed_passes,
		   run->last_reason);
	run->failed_passes = 0;
	memset(&run->failed_video, 0, sizeof(run->failed_video));
	rc = 0;
out:
	PQclear(res);
	return rc;
}

/* Runs one step of the pass (one statement, its own transaction) and checks
 * that it returned one row of ncols columns.  Returns PURGE_OK with *out set
 * (the caller clears it), or the failure with *reason and sqlstate set. */
static enum purge_status purge_run_step(struct purge_run *run, const char *step, const char *sql,
					int nparams, const char *const *params, int ncols,
					PGresult **out, const char **reason, char *sqlstate)
{
	PGresult *res = PQexecParams(run->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	enum purge_status status;

	*out = NULL;
	snprintf(run->last_step, sizeof(run->last_step), "%s", step);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(sqlstate, 6, "%s", db_sqlstate(res));
		status = purge_run_classify(run, res, reason);
		log_error("purge pass failed in step %s (%s): SQLSTATE %s", step, *reason, sqlstate);
		PQclear(res);
		return status;
	}
	if (PQntuples(res) != 1 || PQnfields(res) != ncols) {
		*reason = "error";
		log_error("purge pass: step %s returned an unexpected result shape", step);
		PQclear(res);
		return PURGE_FAILED;
	}
	*out = res;
	return PURGE_OK;
}

/* The first three steps of sql/030_purge.sql, each committed on its own so
 * that ingest waits for one short lock at a time (the presence step is one
 * call per partition).  The ledger step begins
 * the pass in the database (limits and cut-off are the database's) and
 * says the interval; pass receives the pass's id. */
static enum purge_status purge_run_steps(struct purge_run *run, const struct purge_config *cfg,
					 char *pass, size_t pass_size, const char **reason,
					 char *sqlstate)
{
	const char *params[1];
	PGresult *ledger = NULL, *presence = NULL, *muster = NULL;
	enum purge_status status = PURGE_UNREACHABLE;
	int i;

	snprintf(run->last_step, sizeof(run->last_step), "connect");
	if (purge_run_connect(run, cfg, reason) != 0) {
		if (strcmp(*reason, "refused") == 0)
			status = PURGE_FAILED;
		goto out;
	}
	/* Earlier failures first, so the log keeps their order. */
	(void)purge_run_report_failures(run);
	if (run->conn == NULL) {
		*reason = "unreachable";
		goto out;
	}
	status = purge_run_step(run, "ledger", "SELECT pass, purge_interval_s FROM sac.purge_ledger()",
				0, NULL, 2, &ledger, reason, sqlstate);
	if (status != PURGE_OK)
		goto out;
	snprintf(pass, pass_size, "%s", PQgetvalue(ledger, 0, 0));
	run->interval_s = strtoll(PQgetvalue(ledger, 0, 1), NULL, 10);
	params[0] = pass;
	/* One partition per call, each its own transaction, until the database
	 * says none is left (bounded, in case it never did). */
	for (i = 0; i < PURGE_MAX_PRESENCE_CALLS; i++) {
		PQclear(presence);
		status = purge_run_step(run, "presence", "SELECT sac.purge_presence($1::bigint)", 1,
					params, 1, &presence, reason, sqlstate);
		if (status != PURGE_OK)
			goto out;
		if (strcmp(PQgetvalue(presence, 0, 0), "t") != 0)
			break;
	}
	if (i == PURGE_MAX_PRESENCE_CALLS) {
		*reason = "error";
		log_error("purge pass: the presence step did not end after %d calls", i);
		status = PURGE_FAILED;
		goto out;
	}
	status = purge_run_step(run, "muster", "SELECT sac.purge_muster($1::bigint)", 1, params, 1,
				&muster, reason, sqlstate);
out:
	PQclear(ledger);
	PQclear(presence);
	PQclear(muster);
	return status;
}

/* The video store, with the interval the database gave (or, before it ever
 * answered, the longest one allowed: deleting early is allowed, late not). */
static void purge_run_video(const struct purge_run *run, const struct purge_config *cfg,
			    struct videostore_stats *video, bool *dir_ok)
{
	int64_t interval_s = run->interval_s > 0 ? run->interval_s : PURGE_INTERVAL_LIMIT;
	int64_t cutoff =
		daemon_unix_ms() / 1000 + interval_s + PURGE_VIDEO_MARGIN_S - cfg->video_max_age_s;

	*dir_ok = true;
	if (videostore_walk(cfg->video_dir, cutoff, VIDEOSTORE_REMOVE, video) != 0) {
		log_err("video store %s", cfg->video_dir);
		video->failures++;
		*dir_ok = false;
	} else if (video->failures > 0) {
		log_warning("video store: %" PRIu64 " entries could not be handled", video->failures);
	}
	if (video->files_future > 0)
		log_warning("video store: %" PRIu64 " files have a modification time in the future; "
			    "their age cannot be proven (sacctl audit verify --video-dir reports them)",
			    video->files_future);
}

/* The last step: the pass's audit record, built by the database from what
 * the steps did and the video counts.  Logs the counts and the audit
 * chain's head. */
static enum purge_status purge_run_finish(struct purge_run *run, const struct purge_config *cfg,
					  const char *pass, const struct videostore_stats *video,
					  bool dir_ok, const char **reason, char *sqlstate)
{
	char max_age[32], files[24], bytes[24], failures[24], future[24], replaced[24];
	const char *params[8];
	PGresult *res = NULL;
	enum purge_status status;
	bool with_video = cfg->video_dir != NULL;

	snprintf(max_age, sizeof(max_age), "%" PRId64 " seconds", cfg->video_max_age_s);
	purge_param_int(files, sizeof(files), (int64_t)video->files_removed);
	purge_param_int(bytes, sizeof(bytes), (int64_t)video->bytes_removed);
	purge_param_int(failures, sizeof(failures), (int64_t)video->failures);
	purge_param_int(future, sizeof(future), (int64_t)video->files_future);
	purge_param_int(replaced, sizeof(replaced), (int64_t)video->files_replaced);
	params[0] = pass;
	params[1] = with_video ? max_age : NULL;
	params[2] = with_video ? (dir_ok ? "true" : "false") : NULL;
	params[3] = with_video ? files : NULL;
	params[4] = with_video ? bytes : NULL;
	params[5] = with_video ? failures : NULL;
	params[6] = with_video ? future : NULL;
	params[7] = with_video ? replaced : NULL;
	status = purge_run_step(run, "finish",
				"SELECT counts, head_seq, head_hash FROM sac.purge_finish($1::bigint, "
				"$2::interval, $3::boolean, $4::bigint, $5::bigint, $6::bigint, "
				"$7::bigint, $8::bigint)",
				8, params, 3, &res, reason, sqlstate);
	if (status != PURGE_OK)
		return status;
	log_info("purge pass: %s", PQgetvalue(res, 0, 0));
	log_notice("audit chain head: sac-anchor:%s:%s", PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	PQclear(res);
	return PURGE_OK;
}

enum purge_status purge_run_pass(struct purge_run *run, const struct purge_config *cfg)
{
	struct videostore_stats video;
	char pass[24] = "", sqlstate[6] = "";
	const char *reason = "unreachable";
	enum purge_status status;
	bool dir_ok = true;

	memset(&video, 0, sizeof(video));
	status = purge_run_steps(run, cfg, pass, sizeof(pass), &reason, sqlstate);
	if (cfg->video_dir != NULL)
		purge_run_video(run, cfg, &video, &dir_ok);
	if (status == PURGE_OK)
		status = purge_run_finish(run, cfg, pass, &video, dir_ok, &reason, sqlstate);
	if (status != PURGE_OK) {
		purge_run_note_failure(run, reason, sqlstate, &video);
		/* Refused or failed but reachable: audit the failure right away. */
		if (run->conn != NULL)
			(void)purge_run_report_failures(run);
	}
	if (status == PURGE_OK && !dir_ok)
		status = PURGE_UNREACHABLE;
	return status;
}
