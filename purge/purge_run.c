/*
 * purge_run — see purge_run.h.
 */
#include "purge_run.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "db.h"
#include "log.h"

/* The database's own margin (sac.purge_margin(): clock skew plus slack for a
 * late pass), applied to video the same way. */
#define PURGE_VIDEO_MARGIN_S 35

void purge_run_init(struct purge_run *run)
{
	memset(run, 0, sizeof(*run));
}

static void purge_iso_time(int64_t unix_s, char *out, size_t out_size)
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, out_size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, out_size, "1970-01-01T00:00:00Z");
}

/* The video part of the audit record: counts and the cut-off only. */
static void purge_video_json(const struct videostore_stats *v, bool dir_ok, int64_t cutoff,
			     int64_t max_age_s, char *out, size_t out_size)
{
	char when[32];

	purge_iso_time(cutoff, when, sizeof(when));
	snprintf(out, out_size,
		 "{\"dir_readable\": %s, \"cutoff\": \"%s\", \"max_age_s\": %" PRId64
		 ", \"files_removed\": %" PRIu64 ", \"bytes_removed\": %" PRIu64
		 ", \"failures\": %" PRIu64 "}",
		 dir_ok ? "true" : "false", when, max_age_s, v->files_removed, v->bytes_removed,
		 v->failures);
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

static int purge_run_connect(struct purge_run *run, const struct purge_config *cfg)
{
	char err[512];

	if (run->conn != NULL && PQstatus(run->conn) == CONNECTION_OK)
		return 0;
	purge_run_disconnect(run);
	run->conn = db_connect(cfg->database, "sac-purge", err, sizeof(err));
	if (run->conn == NULL) {
		log_error("database unreachable: %s", err);
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

/* Writes the pending failed passes to the audit log.  Returns 0 when there
 * were none or they are now recorded, -1 otherwise (they stay pending). */
static int purge_run_report_failures(struct purge_run *run)
{
	char detail[1024], first[32], last[32];
	const char *params[1];
	PGresult *res;
	const char *reason;
	int rc = -1;

	if (run->failed_passes == 0)
		return 0;
	purge_iso_time(run->first_failed_ms / 1000, first, sizeof(first));
	purge_iso_time(run->last_failed_ms / 1000, last, sizeof(last));
	snprintf(detail, sizeof(detail),
		 "{\"failed_passes\": %" PRId64 ", \"first_failed_at\": \"%s\", "
		 "\"last_failed_at\": \"%s\", \"reason\": \"%s\", \"step\": \"%s\", "
		 "\"sqlstate\": \"%s\", "
		 "\"video\": {\"files_removed\": %" PRIu64 ", \"bytes_removed\": %" PRIu64
		 ", \"failures\": %" PRIu64 "}}",
		 run->failed_passes, first, last, run->last_reason, run->last_failed_step,
		 run->last_sqlstate, run->failed_video.files_removed, run->failed_video.bytes_removed,
		 run->failed_video.failures);
	params[0] = detail;
	res = PQexecParams(run->conn, "SELECT sac.purge_failed($1)", 1, NULL, params, NULL, NULL, 0);
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

/* The database part of a pass: the four steps of sql/030_purge.sql, each
 * committed on its own so that ingest waits for one short lock at a time,
 * all with the cut-off of the pass start the first step returns. */
static enum purge_status purge_run_database(struct purge_run *run, const struct purge_config *cfg,
					    const char *video_json,
					    const struct videostore_stats *video)
{
	char max_age[32], interval[32], sqlstate[6] = "";
	const char *params[7];
	const char *reason = "unreachable";
	PGresult *ledger = NULL, *presence = NULL, *muster = NULL, *finish = NULL;
	enum purge_status status = PURGE_UNREACHABLE;

	snprintf(run->last_step, sizeof(run->last_step), "connect");
	if (purge_run_connect(run, cfg) != 0)
		goto failed;
	/* Earlier failures first, so the log keeps their order. */
	(void)purge_run_report_failures(run);
	if (run->conn == NULL)
		goto failed;
	snprintf(max_age, sizeof(max_age), "%" PRId64 " seconds", cfg->access_max_age_s);
	snprintf(interval, sizeof(interval), "%" PRId64 " seconds", cfg->interval_s);
	params[0] = max_age;
	params[1] = interval;
	status = purge_run_step(
		run, "ledger",
		"SELECT pass_start, counts FROM sac.purge_ledger($1::interval, $2::interval)", 2,
		params, 2, &ledger, &reason, sqlstate);
	if (status != PURGE_OK)
		goto failed;
	params[2] = PQgetvalue(ledger, 0, 0); /* the pass start, for every later step */
	status =
		purge_run_step(run, "presence",
			       "SELECT sac.purge_presence($1::interval, $2::interval, $3::timestamptz)",
			       3, params, 1, &presence, &reason, sqlstate);
	if (status != PURGE_OK)
		goto failed;
	status = purge_run_step(run, "muster",
				"SELECT sac.purge_muster($1::interval, $2::interval, $3::timestamptz)",
				3, params, 1, &muster, &reason, sqlstate);
	if (status != PURGE_OK)
		goto failed;
	params[3] = PQgetvalue(ledger, 0, 1);
	params[4] = PQgetvalue(presence, 0, 0);
	params[5] = PQgetvalue(muster, 0, 0);
	params[6] = video_json;
	status = purge_run_step(run, "finish",
				"SELECT sac.purge_finish($1::interval, $2::interval, $3::timestamptz, "
				"$4::jsonb, $5::jsonb, $6::jsonb, $7::jsonb)",
				7, params, 1, &finish, &reason, sqlstate);
	if (status != PURGE_OK)
		goto failed;
	log_info("purge pass: %s", PQgetvalue(finish, 0, 0));
	goto out;

failed:
	purge_run_note_failure(run, reason, sqlstate, video);
	/* Refused or failed but reachable: audit the failure right away. */
	if (run->conn != NULL)
		(void)purge_run_report_failures(run);
out:
	PQclear(ledger);
	PQclear(presence);
	PQclear(muster);
	PQclear(finish);
	return status;
}

enum purge_status purge_run_pass(struct purge_run *run, const struct purge_config *cfg)
{
	struct videostore_stats video;
	char video_json[512];
	const char *video_param = NULL;
	enum purge_status status;
	bool dir_ok = true;

	memset(&video, 0, sizeof(video));
	if (cfg->video_dir != NULL) {
		int64_t now = daemon_unix_ms() / 1000;
		int64_t cutoff = now + cfg->interval_s + PURGE_VIDEO_MARGIN_S - cfg->video_max_age_s;

		if (videostore_walk(cfg->video_dir, cutoff, VIDEOSTORE_REMOVE, &video) != 0) {
			log_err("video store %s", cfg->video_dir);
			video.failures++;
			dir_ok = false;
		} else if (video.failures > 0) {
			log_warning("video store: %" PRIu64 " entries could not be handled",
				    video.failures);
		}
		purge_video_json(&video, dir_ok, cutoff, cfg->video_max_age_s, video_json,
				 sizeof(video_json));
		video_param = video_json;
	}
	status = purge_run_database(run, cfg, video_param, &video);
	if (status == PURGE_OK && !dir_ok)
		status = PURGE_UNREACHABLE;
	return status;
}
