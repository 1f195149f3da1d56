/*
 * purge_run — one purge pass: the steps of the pass in the database
 * (sac.purge_ledger, which begins the pass, sac.purge_presence,
 * sac.purge_muster, each its own short transaction), the video store walk,
 * then sac.purge_finish, which writes the pass's audit record from what the
 * steps did and the video counts, and returns the audit chain's head, which
 * is logged.  It also remembers passes that failed (database unreachable,
 * refused, or any other error) and has them audited as failed, with what the
 * video walk did meanwhile, as soon as the database answers again.
 *
 * It holds the database connection between passes and reconnects when it is
 * lost.  It decides nothing about retention: the limits are database
 * settings (sacctl retention set) and the cut-offs are computed by the
 * database; only video_max_age is its own.
 */
#ifndef SAC_PURGE_RUN_H
#define SAC_PURGE_RUN_H

#include <libpq-fe.h>
#include <stdint.h>

#include "config_keys.h"
#include "videostore.h"

enum purge_status {
	PURGE_OK = 0,
	PURGE_FAILED = 1,      /* the database refused or failed the pass */
	PURGE_UNREACHABLE = 3, /* the database (or the video directory) could not be reached */
};

struct purge_run {
	PGconn *conn;
	/* Failed passes not yet written to the audit log. */
	int64_t failed_passes;
	int64_t first_failed_ms;
	int64_t last_failed_ms;
	char last_reason[32]; /* a fixed word: unreachable, refused, error */
	char last_sqlstate[6];
	char last_failed_step[16]; /* the step of the last failed pass, a fixed word */
	char last_step[16];	   /* the step running or last run: connect, ledger, ... */
	int64_t interval_s;	   /* the purge interval the database last gave; 0: none yet */
	struct videostore_stats failed_video; /* video work done during those passes */
};

/* Until the database answered once: the SPEC's default interval. */
#define PURGE_DEFAULT_INTERVAL_S 60

/* A run with no connection yet and no pending failure. */
void purge_run_init(struct purge_run *run);

/* Runs one pass with cfg.  Failures are logged and kept for the audit log;
 * the result says what happened to this pass. */
enum purge_status purge_run_pass(struct purge_run *run, const struct purge_config *cfg);

/* The interval to wait before the next pass: the database's setting as of
 * the last pass that reached it, else PURGE_DEFAULT_INTERVAL_S. */
int64_t purge_run_interval_s(const struct purge_run *run);

/* Drops the connection (the next pass reconnects), e.g. after a reload. */
void purge_run_disconnect(struct purge_run *run);

/* Closes the connection; pending failures are lost (they are in the log). */
void purge_run_close(struct purge_run *run);

#endif
