-- 030_purge: retention enforcement (sac_purge) and what an auditor may see
-- of it (sac_auditor).
--
-- A purge pass erases access data before it reaches access_max_age (a
-- database setting, sac.settings, set by sac_admin with sacctl retention
-- set): it drops whole hourly partitions of the ledger, removes presences,
-- departures and muster rolls past the limit, and rewrites the tables that
-- held personal rows so that no deleted tuple survives in a table or index
-- file (a plain VACUUM would leave the bytes in place).  Those tables are
-- small (one row per person present, one per person on a roll), so they
-- are rewritten on every pass.
--
-- The purge role decides nothing: it can only ask for a pass now.  The
-- database takes the limits from sac.settings, computes the cut-off, and
-- records what each step actually did in the pass's row of
-- audit.purge_runs, in the transaction that did it; the pass's audit record
-- is built from that row.  A step that deletes runs only inside a pass
-- begun by sac.purge_ledger, within one interval of its start; a pass that
-- never finished is recorded as failed, with what its steps did, by the
-- next pass.
--
-- The auditor gets ages, counts and the audit log, never personal data.

SET LOCAL ROLE sac_owner;

-- One row per purge pass: the limits it used, its cut-off and what it did.
-- ok is NULL while the pass runs.  presence_changes is access.presence's
-- cumulative delete+update counter as it stood when the pass rewrote the
-- table: a larger counter later means rows were deleted or updated since,
-- i.e. bytes the next rewrite still has to erase.
CREATE TABLE audit.purge_runs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    role             name NOT NULL DEFAULT session_user,
    started_at       timestamptz NOT NULL,
    finished_at      timestamptz,
    ok               boolean,
    access_max_age   interval,
    purge_interval   interval,
    cutoff           timestamptz,
    counts           jsonb NOT NULL DEFAULT '{}',
    presence_changes bigint
);
CREATE INDEX purge_runs_ok_finished ON audit.purge_runs (ok, finished_at);

-- How much later than the true time an occurred_at may be (the controller's
-- clamp, docs/architecture.md), plus slack for a late or slow pass.  A row
-- is removed by the last pass that runs before it could reach the limit.
CREATE FUNCTION sac.purge_margin() RETURNS interval
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog
AS $$ SELECT interval '5 seconds' + interval '30 seconds' $$;

-- The cut-off of a pass started at p_start with limit p_max_age: everything
-- before it is removed now, the next pass (one interval later, within the
-- margin) would be too late for it.
--
-- This and access.retention_horizon are plpgsql, not SQL, functions: a SQL
-- function with a FROM clause is never inlined, and PostgreSQL 15 plans its
-- body again at every call (0.1 ms, on every ingest batch); plpgsql keeps
-- the plan.
CREATE FUNCTION sac.purge_cutoff(p_start timestamptz, p_max_age interval) RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT p_start + s.purge_interval + sac.purge_margin() - p_max_age FROM sac.settings s);
END
$$;

-- The ingest horizon: an event that happened before it is already due for
-- deletion by the next pass.  Ingest answers such an event but stores
-- nothing of it: stored, it would recreate an hour the last pass dropped
-- and outlive the limit by up to one interval.
CREATE FUNCTION access.retention_horizon() RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT greatest(now() - interval '24 hours', sac.purge_cutoff(now(), s.access_max_age))
            FROM sac.settings s);
END
$$;

-- Cumulative count of deleted and updated tuples of access.presence (of
-- one partition, or of all when p_part is NULL), including the current
-- transaction's own.
CREATE FUNCTION access.presence_change_counter(p_part regclass DEFAULT NULL) RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT coalesce(sum(pg_stat_get_tuples_deleted(i.inhrelid) + pg_stat_get_tuples_updated(i.inhrelid)
                        + pg_stat_get_xact_tuples_deleted(i.inhrelid)
                        + pg_stat_get_xact_tuples_updated(i.inhrelid)), 0)::bigint
    FROM pg_inherits i
    WHERE i.inhparent = 'access.presence'::regclass AND (p_part IS NULL OR i.inhrelid = p_part)
$$;

-- The partitions of access.events with the lower bound of their hour, read
-- from the name access.ensure_partition gives them (events_YYYYMMDDHH, UTC):
-- parsing each partition's bound expression costs far more.  NULL for a
-- partition named otherwise (e.g. a default partition made by hand).
CREATE FUNCTION access.event_partitions()
RETURNS TABLE (rel regclass, lower_bound timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT c.oid::regclass,
           CASE WHEN c.relname ~ '^events_[0-9]{10}$' THEN
               make_timestamptz(substr(c.relname, 8, 4)::int, substr(c.relname, 12, 2)::int,
                                substr(c.relname, 14, 2)::int, substr(c.relname, 16, 2)::int,
                                0, 0, 'UTC')
           END
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'access.events'::regclass
    ORDER BY 2 NULLS FIRST
$$;

-- False only when the table's files are as a fresh TRUNCATE leaves them: an
-- empty heap and TOAST heap, and each index a bare metapage.  Anything else
-- may hold bytes of deleted rows (VACUUM can shrink a heap to nothing while
-- its indexes keep the keys).
CREATE FUNCTION access.holds_bytes(p_table regclass) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT pg_total_relation_size(p_table) > current_setting('block_size')::bigint * (
        SELECT count(*) FROM pg_index i
        WHERE i.indrelid = p_table
           OR i.indrelid = (SELECT c.reltoastrelid FROM pg_class c WHERE c.oid = p_table))
$$;

-- Rewrites p_table (a table or a partition, whose rows have the type of
-- p_rows, a NULL array of it) keeping the rows p_keep (a WHERE clause over alias t) selects: the kept
-- rows are copied out (into memory), the table truncated (new, empty
-- table and index files; the old ones are truncated at commit) and the
-- kept rows written back.  This erases every deleted row and every
-- superseded row version.  A rewrite in place (CLUSTER) would not do: it
-- must keep rows deleted by its own transaction, and rows that an older
-- snapshot may still see.  The rows to keep cannot be picked before the
-- lock (ingest changes them meanwhile), so the lock is taken first; files
-- as a rewrite of an empty table left them hold nothing to erase and are
-- left alone.  Returns the rows removed, or NULL when nothing was rewritten.
CREATE FUNCTION access.rewrite(p_table regclass, p_keep text, p_rows anyarray) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_keep p_rows%TYPE;
    v_removed bigint;
BEGIN
    EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', p_table);
    IF NOT access.holds_bytes(p_table) THEN
        RETURN NULL;
    END IF;
    -- A partition's rows, as rows of the type p_rows holds.
    EXECUTE format('SELECT array_agg(ROW(t.*)::%3$s) FILTER (WHERE %2$s), '
                   'count(*) FILTER (WHERE NOT (%2$s)) FROM %1$s t',
                   p_table, p_keep,
                   (SELECT y.typelem::regtype::text FROM pg_type y WHERE y.oid = pg_typeof(p_rows)))
        INTO v_keep, v_removed;
    EXECUTE format('TRUNCATE %s', p_table);
    EXECUTE format('INSERT INTO %s SELECT * FROM unnest($1)', p_table) USING v_keep;
    RETURN v_removed;
END
$$;

-- A pass is four short steps, each its own transaction when sac-purge runs
-- them, each holding at most one lock that ingest waits on and committing
-- at once:
--   sac.purge_ledger    begins the pass; drops due hours of access.events,
--   sac.purge_presence  rewrites access.presence and access.departures,
--                       one partition of each per call,
--   sac.purge_muster    rewrites access.muster_roll, removes closed
--                       emergencies past the limit,
--   sac.purge_finish    closes the pass: one audit record from its row,
--                       and the audit chain brought up to date.
-- Ingest locks events, then presence, then the roll in one statement; a
-- step holds one of them only, so the order of the steps cannot deadlock
-- with it.  Every step waits at most one second for a lock (a step that
-- cannot get it fails the pass, which is recorded; the next pass repeats
-- all steps).  sac.purge_pass runs the four in one transaction: one call
-- for tests and manual use, at the price of holding every lock until its
-- commit.

-- The pass p_pass, if a step may still run in it: begun by this role, not
-- finished, begun within one interval, and p_step not done yet (each step
-- notes <step>_ms in the counts).  Raises otherwise.
CREATE FUNCTION sac.purge_pass_open(p_pass bigint, p_step text) RETURNS audit.purge_runs
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r audit.purge_runs;
BEGIN
    SELECT * INTO r FROM audit.purge_runs WHERE id = p_pass FOR UPDATE;
    IF NOT FOUND OR r.role <> session_user THEN
        RAISE EXCEPTION 'no purge pass % of this role', p_pass
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF r.ok IS NOT NULL THEN
        RAISE EXCEPTION 'purge pass % is over', p_pass USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF r.started_at < now() - r.purge_interval THEN
        RAISE EXCEPTION 'purge pass % began more than one interval ago', p_pass
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF r.counts ? (p_step || '_ms') THEN
        RAISE EXCEPTION 'purge pass % has done its % step', p_pass, p_step
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN r;
END
$$;

-- Notes what a step did in its pass's row (same transaction as the work).
CREATE FUNCTION sac.purge_note(p_pass bigint, p_step text, p_started timestamptz, p_counts jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    UPDATE audit.purge_runs
    SET counts = counts || p_counts || jsonb_build_object(p_step || '_ms',
                     round(extract(epoch FROM clock_timestamp() - p_started) * 1000, 1))
    WHERE id = p_pass
$$;

-- Records a pass that ended without finishing (its steps' work is in its
-- row) as failed.
CREATE FUNCTION sac.purge_abandon(p_run audit.purge_runs) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE audit.purge_runs SET ok = false, finished_at = clock_timestamp() WHERE id = p_run.id;
    PERFORM audit.record('purge_pass', 'failed', NULL, NULL, NULL,
        (p_run.counts || jsonb_build_object('pass', p_run.id, 'reason', 'unfinished',
                                            'started_at', to_char(p_run.started_at AT TIME ZONE 'UTC',
                                                                  'YYYY-MM-DD"T"HH24:MI:SS"Z"')))::text);
END
$$;

-- Step 1: begins a pass with the limits in force, and the ledger.  Creates
-- the current hour and the next three, so ingest never has to create one,
-- and drops every hourly partition [H, H+1h) whose oldest possible row is
-- past the cut-off: whole files go, nothing is deleted row by row.  Also
-- deletes the expiry counts past the cut-off (no lock ingest needs).  Every
-- count is taken before the first lock on access.events: creating or
-- dropping a partition locks the parent (ingest waits) until commit, so no
-- scan may run after it.  Passes of this role left unfinished for more than
-- one interval are recorded as failed first.  Returns the pass and the
-- interval (for sac-purge's schedule and video cut-off).
CREATE FUNCTION sac.purge_ledger(OUT pass bigint, OUT purge_interval_s bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    v_started timestamptz := clock_timestamp();
    v_set sac.settings;
    v_cutoff timestamptz;
    v_due text[];
    v_ahead timestamptz[];
    v_rel text;
    v_rows bigint;
    v_dropped_rows bigint := 0;
    v_expiries bigint;
    v_at timestamptz;
    v_stale audit.purge_runs;
BEGIN
    FOR v_stale IN SELECT * FROM audit.purge_runs r
                   WHERE r.ok IS NULL AND r.started_at < now() - r.purge_interval
                   FOR UPDATE SKIP LOCKED LOOP
        PERFORM sac.purge_abandon(v_stale);
    END LOOP;
    SELECT * INTO v_set FROM sac.settings;
    v_cutoff := sac.purge_cutoff(now(), v_set.access_max_age);
    INSERT INTO audit.purge_runs (started_at, access_max_age, purge_interval, cutoff, counts)
    VALUES (now(), v_set.access_max_age, v_set.purge_interval, v_cutoff,
            jsonb_build_object('access_max_age_s', extract(epoch FROM v_set.access_max_age)::bigint,
                               'interval_s', extract(epoch FROM v_set.purge_interval)::bigint,
                               'cutoff', to_char(v_cutoff AT TIME ZONE 'UTC',
                                                 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))
    RETURNING id INTO pass;
    purge_interval_s := extract(epoch FROM v_set.purge_interval)::bigint;

    v_due := ARRAY(SELECT p.rel::text FROM access.event_partitions() p
                   WHERE p.lower_bound IS NOT NULL AND p.lower_bound <= v_cutoff
                   ORDER BY p.lower_bound);
    FOREACH v_rel IN ARRAY v_due LOOP
        EXECUTE format('SELECT count(*) FROM %s', v_rel) INTO v_rows;
        v_dropped_rows := v_dropped_rows + v_rows;
    END LOOP;
    v_ahead := ARRAY(SELECT now() + h * interval '1 hour' FROM generate_series(0, 3) h
                     WHERE to_regclass('access.events_' || to_char((now() + h * interval '1 hour')
                                       AT TIME ZONE 'UTC', 'YYYYMMDDHH24')) IS NULL);

    DELETE FROM access.presence_expiries WHERE removed_at < v_cutoff;
    GET DIAGNOSTICS v_expiries = ROW_COUNT;

    FOREACH v_at IN ARRAY v_ahead LOOP
        PERFORM access.ensure_partition(v_at);
    END LOOP;
    FOREACH v_rel IN ARRAY v_due LOOP
        EXECUTE format('DROP TABLE %s', v_rel);
    END LOOP;

    PERFORM sac.purge_note(pass, 'ledger', v_started, jsonb_build_object(
        'partitions_created', cardinality(v_ahead),
        'partitions_dropped', cardinality(v_due),
        'events_removed', v_dropped_rows,
        'expiry_rows_removed', v_expiries));
END
$$;

-- Step 2: presence and departures, one partition of each per call (each
-- call its own transaction when sac-purge runs it, so that ingest waits
-- for one sixteenth of the table at most); returns true while partitions
-- remain.  Rows whose read-in passed the cut-off are counted per site (for
-- the headcount) and removed; departures past it are no longer needed (no
-- older read-in is stored) and removed.  Both partitions are rewritten
-- (access.rewrite), which also erases every completed cycle (the read-out
-- deleted its row) and every superseded row version.  The partition's
-- change counter as of its rewrite is added to the pass's
-- presence_changes.
CREATE FUNCTION sac.purge_presence(p_pass bigint) RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    v_started timestamptz := clock_timestamp();
    r audit.purge_runs := sac.purge_pass_open(p_pass, 'presence');
    v_part integer := coalesce((r.counts ->> 'presence_parts')::integer, 0);
    v_presence regclass := ('access.presence_' || lpad(v_part::text, 2, '0'))::regclass;
    v_departures regclass := ('access.departures_' || lpad(v_part::text, 2, '0'))::regclass;
    v_expired bigint;
    v_removed bigint;
    v_rewritten integer := 0;
    v_counts jsonb;
BEGIN
    -- This transaction's commit need not wait for the disk: lost in a crash,
    -- the rewrite and its note in the pass's row are lost together, the old
    -- files stay, and the next pass rewrites them (the pass's audit record,
    -- in sac.purge_finish, is committed durably).
    PERFORM set_config('synchronous_commit', 'off', true);
    EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', v_presence);
    EXECUTE format('WITH ins AS ('
                   '  INSERT INTO access.presence_expiries (site_id, removed_at, removed)'
                   '  SELECT p.site_id, now(), count(*) FROM %s p'
                   '  WHERE p.since < $1 GROUP BY p.site_id RETURNING removed) '
                   'SELECT coalesce(sum(ins.removed), 0) FROM ins', v_presence)
        USING r.cutoff INTO v_expired;
    IF access.rewrite(v_presence, format('t.since >= %L', r.cutoff),
                      NULL::access.presence[]) IS NOT NULL THEN
        v_rewritten := v_rewritten + 1;
    END IF;
    v_removed := access.rewrite(v_departures, format('t.left_at >= %L', r.cutoff),
                                NULL::access.departures[]);
    IF v_removed IS NOT NULL THEN
        v_rewritten := v_rewritten + 1;
    END IF;
    v_counts := jsonb_build_object(
        'presence_parts', v_part + 1,
        'presence_expired', coalesce((r.counts ->> 'presence_expired')::bigint, 0) + v_expired,
        'departures_removed', coalesce((r.counts ->> 'departures_removed')::bigint, 0)
                              + coalesce(v_removed, 0),
        'presence_rewritten', coalesce((r.counts ->> 'presence_rewritten')::integer, 0) + v_rewritten,
        'presence_parts_ms', coalesce((r.counts ->> 'presence_parts_ms')::numeric, 0)
                             + round(extract(epoch FROM clock_timestamp() - v_started) * 1000, 1));
    UPDATE audit.purge_runs
    SET presence_changes = coalesce(presence_changes, 0) + access.presence_change_counter(v_presence),
        counts = counts || v_counts
    WHERE id = p_pass;
    IF v_part + 1 < access.presence_parts() THEN
        RETURN true;
    END IF;
    -- The last partition: the step is done.
    UPDATE audit.purge_runs
    SET counts = (counts - 'presence_parts_ms')
                 || jsonb_build_object('presence_ms', v_counts -> 'presence_parts_ms')
    WHERE id = p_pass;
    RETURN false;
END
$$;

-- Step 3: the muster roll likewise: besides expired rolls, updates of the
-- roll (who reached a muster point) leave old row versions.  The roll of an
-- open emergency is kept until it closes, up to the 24-hour cap; a closed
-- emergency's roll is access data like any other.  A closed emergency's row
-- (its reason, who declared and closed it: the audit log keeps them) goes
-- once it was closed before the cut-off, i.e. with the last of its roll.
CREATE FUNCTION sac.purge_muster(p_pass bigint) RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    v_started timestamptz := clock_timestamp();
    r audit.purge_runs := sac.purge_pass_open(p_pass, 'muster');
    v_cap timestamptz := sac.purge_cutoff(r.started_at, interval '24 hours');
    v_removed bigint;
    v_emergencies bigint;
BEGIN
    v_removed := access.rewrite('access.muster_roll', format(
        'NOT (t.created_at < %L OR (t.created_at < %L AND NOT EXISTS ('
        'SELECT 1 FROM sac.emergencies e WHERE e.id = t.emergency_id AND e.closed_at IS NULL)))',
        v_cap, r.cutoff), NULL::access.muster_roll[]);
    DELETE FROM sac.emergencies e WHERE e.closed_at < r.cutoff;
    GET DIAGNOSTICS v_emergencies = ROW_COUNT;
    PERFORM sac.purge_note(p_pass, 'muster', v_started, jsonb_build_object(
        'muster_rows_removed', coalesce(v_removed, 0),
        'muster_rewritten', CASE WHEN v_removed IS NULL THEN 0 ELSE 1 END,
        'emergencies_removed', v_emergencies));
END
$$;

-- Step 4: closes pass p_pass, which must have done its three steps, with
-- what sac-purge did in the video store (typed counts: the database builds
-- the record), writes its one audit record and brings the audit chain up to
-- date.  Returns the pass's counts and the chain's head (sac-purge logs
-- both, so the journal carries the head too).
CREATE FUNCTION sac.purge_finish(p_pass bigint, p_video_max_age interval DEFAULT NULL,
                                 p_video_dir_readable boolean DEFAULT NULL,
                                 p_video_files_removed bigint DEFAULT NULL,
                                 p_video_bytes_removed bigint DEFAULT NULL,
                                 p_video_failures bigint DEFAULT NULL,
                                 p_video_files_future bigint DEFAULT NULL,
                                 p_video_files_replaced bigint DEFAULT NULL,
                                 OUT counts jsonb, OUT head_seq bigint, OUT head_hash text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    r audit.purge_runs := sac.purge_pass_open(p_pass, 'finish');
BEGIN
    IF NOT (r.counts ? 'ledger_ms' AND r.counts ? 'presence_ms' AND r.counts ? 'muster_ms') THEN
        RAISE EXCEPTION 'purge pass % has not done all its steps', p_pass
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    counts := r.counts || jsonb_build_object(
        'pass', r.id,
        'tables_rewritten', (r.counts ->> 'presence_rewritten')::integer
                            + (r.counts ->> 'muster_rewritten')::integer,
        'duration_ms', round(extract(epoch FROM clock_timestamp() - r.started_at) * 1000, 1));
    IF p_video_max_age IS NOT NULL THEN
        IF p_video_max_age NOT BETWEEN interval '1 second' AND interval '30 days'
           OR p_video_dir_readable IS NULL OR p_video_files_removed < 0
           OR p_video_bytes_removed < 0 OR p_video_failures < 0
           OR p_video_files_future < 0 OR p_video_files_replaced < 0 THEN
            RAISE EXCEPTION 'invalid video counts' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        counts := counts || jsonb_build_object('video', jsonb_build_object(
            'dir_readable', p_video_dir_readable,
            'max_age_s', extract(epoch FROM p_video_max_age)::bigint,
            'cutoff', to_char((r.started_at + r.purge_interval + sac.purge_margin()
                               - p_video_max_age) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
            'files_removed', coalesce(p_video_files_removed, 0),
            'bytes_removed', coalesce(p_video_bytes_removed, 0),
            'failures', coalesce(p_video_failures, 0),
            -- a modification time in the future: the file's age cannot be
            -- proven, so it was neither removed nor trusted
            'files_future', coalesce(p_video_files_future, 0),
            -- took the name of an expired file after it was judged: kept
            'files_replaced', coalesce(p_video_files_replaced, 0)));
    END IF;
    UPDATE audit.purge_runs SET ok = true, finished_at = clock_timestamp(), counts = purge_finish.counts
    WHERE id = p_pass;
    PERFORM audit.record('purge_pass', 'allowed', NULL, NULL,
                         (counts ->> 'events_removed')::bigint
                         + (counts ->> 'presence_expired')::bigint
                         + (counts ->> 'muster_rows_removed')::bigint
                         + (counts ->> 'expiry_rows_removed')::bigint, counts::text);
    SELECT h.seq, encode(h.link, 'hex') INTO head_seq, head_hash FROM audit.chain_head() h;
END
$$;

-- One whole pass in one transaction (tests, manual use): the four steps in
-- their order.  sac-purge runs them as separate transactions instead.
CREATE FUNCTION sac.purge_pass() RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    v_pass bigint;
BEGIN
    SELECT l.pass INTO v_pass FROM sac.purge_ledger() l;
    WHILE sac.purge_presence(v_pass) LOOP
    END LOOP;
    PERFORM sac.purge_muster(v_pass);
    RETURN (SELECT f.counts FROM sac.purge_finish(v_pass) f);
END
$$;

-- Records passes that failed while the database could not be reached (or
-- refused them), as sac-purge counted them: typed values only, the database
-- builds the record.  p_reason and p_step are fixed words.
CREATE FUNCTION sac.purge_failed(p_failed_passes bigint, p_first_failed_at timestamptz,
                                 p_last_failed_at timestamptz, p_reason text, p_step text,
                                 p_sqlstate text, p_video_files_removed bigint DEFAULT 0,
                                 p_video_bytes_removed bigint DEFAULT 0,
                                 p_video_failures bigint DEFAULT 0)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    v_detail jsonb;
BEGIN
    IF p_failed_passes IS NULL OR p_failed_passes < 1
       OR p_first_failed_at IS NULL OR p_last_failed_at IS NULL
       OR p_first_failed_at > p_last_failed_at OR p_last_failed_at > now() + interval '1 minute'
       OR p_reason IS NULL OR p_reason NOT IN ('unreachable', 'refused', 'error')
       OR p_step IS NULL OR p_step NOT IN ('connect', 'settings', 'ledger', 'presence', 'muster',
                                           'video', 'finish')
       OR (p_sqlstate IS NOT NULL AND p_sqlstate !~ '^([0-9A-Z]{5})?$')
       OR coalesce(p_video_files_removed, 0) < 0 OR coalesce(p_video_bytes_removed, 0) < 0
       OR coalesce(p_video_failures, 0) < 0 THEN
        RAISE EXCEPTION 'invalid failed-pass report' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_detail := jsonb_build_object(
        'failed_passes', p_failed_passes,
        'first_failed_at', to_char(p_first_failed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'last_failed_at', to_char(p_last_failed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'reason', p_reason, 'step', p_step, 'sqlstate', coalesce(p_sqlstate, ''),
        'video', jsonb_build_object('files_removed', coalesce(p_video_files_removed, 0),
                                    'bytes_removed', coalesce(p_video_bytes_removed, 0),
                                    'failures', coalesce(p_video_failures, 0)));
    INSERT INTO audit.purge_runs (started_at, finished_at, ok, counts)
    VALUES (now(), clock_timestamp(), false, v_detail);
    PERFORM audit.record('purge_pass', 'failed', NULL, NULL, p_failed_passes, v_detail::text);
END
$$;

-- Retention status for auditors: ages (seconds, as of checked_at) and
-- counts, never personal data.  Each call is itself audited, and brings the
-- audit chain up to date first (unless another session is chaining).
--   presence_unerased_changes: deletions and updates of access.presence
--   (completed cycles, moves) since the last rewrite, whose old row versions
--   are still in the table file until the next pass.
--   last_purge_max_age_s, last_purge_interval_s: the limits in force
--   (sac.settings), which the rules are judged by.
--   unchained_audit_rows, oldest_unchained_age_s: records not yet chained.
--   anchor: with p_anchor_seq and p_anchor_hash (a head an auditor kept,
--   from sac.audit_anchor), 'held' when the chain still holds that head at
--   that position and verifies up to it, 'gone' otherwise.
CREATE FUNCTION sac.retention_status(p_anchor_seq bigint DEFAULT NULL,
                                     p_anchor_hash text DEFAULT NULL)
RETURNS TABLE (
    checked_at                 timestamptz,
    oldest_access_record_age_s bigint,
    oldest_event_age_s         bigint,
    oldest_presence_age_s      bigint,
    oldest_muster_age_s        bigint,
    event_partitions           integer,
    presence_rows              bigint,
    muster_rows                bigint,
    presence_unerased_changes  bigint,
    last_purge_at              timestamptz,
    last_purge_age_s           bigint,
    last_purge_max_age_s       bigint,
    last_purge_interval_s      bigint,
    last_failed_purge_at       timestamptz,
    first_broken_audit_row     bigint,
    unchained_audit_rows       bigint,
    oldest_unchained_age_s     bigint,
    chain_head_seq             bigint,
    chain_head_hash            text,
    anchor                     text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    v_part record;
    v_min timestamptz;
    v_event timestamptz;
    v_presence timestamptz;
    v_muster timestamptz;
    v_expiry timestamptz;
    v_departure timestamptz;
    v_mark bigint;
    v_counter bigint;
    v_link bytea;
BEGIN
    IF (p_anchor_seq IS NULL) <> (p_anchor_hash IS NULL)
       OR (p_anchor_hash IS NOT NULL AND p_anchor_hash !~ '^[0-9a-f]{64}$') THEN
        RAISE EXCEPTION 'an anchor is a position and a 64-digit hex hash'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM audit.record('audit_verify', 'allowed', NULL, NULL, p_anchor_seq,
                         CASE WHEN p_anchor_seq IS NOT NULL
                              THEN jsonb_build_object('anchor_seq', p_anchor_seq)::text END);
    checked_at := now();
    -- The real oldest row of the ledger: the first non-empty partition in
    -- range order (a partition without a range bound is always scanned).
    event_partitions := 0;
    FOR v_part IN SELECT p.rel, p.lower_bound FROM access.event_partitions() p LOOP
        event_partitions := event_partitions + 1;
        IF v_event IS NULL OR v_part.lower_bound IS NULL THEN
            EXECUTE format('SELECT min(occurred_at) FROM %s', v_part.rel) INTO v_min;
            v_event := least(v_event, v_min);
        END IF;
    END LOOP;
    SELECT min(p.since), count(*) INTO v_presence, presence_rows FROM access.presence p;
    SELECT min(m.created_at), count(*) INTO v_muster, muster_rows FROM access.muster_roll m;
    SELECT min(e.removed_at) INTO v_expiry FROM access.presence_expiries e;
    SELECT min(d.left_at) INTO v_departure FROM access.departures d;
    oldest_event_age_s := floor(extract(epoch FROM checked_at - v_event));
    oldest_presence_age_s := floor(extract(epoch FROM checked_at - v_presence));
    oldest_muster_age_s := floor(extract(epoch FROM checked_at - v_muster));
    oldest_access_record_age_s := floor(extract(epoch FROM checked_at
                                        - least(v_event, v_presence, v_muster, v_expiry,
                                                v_departure)));

    SELECT extract(epoch FROM s.access_max_age)::bigint, extract(epoch FROM s.purge_interval)::bigint
    INTO last_purge_max_age_s, last_purge_interval_s FROM sac.settings s;
    SELECT r.finished_at, r.presence_changes INTO last_purge_at, v_mark
    FROM audit.purge_runs r WHERE r.ok ORDER BY r.finished_at DESC LIMIT 1;
    last_purge_age_s := floor(extract(epoch FROM checked_at - last_purge_at));
    v_counter := access.presence_change_counter();
    presence_unerased_changes := CASE
        WHEN v_mark IS NULL THEN v_counter
        -- Statistics were reset since the rewrite: nothing can be said.
        WHEN v_counter < v_mark THEN 1
        ELSE v_counter - v_mark END;
    SELECT max(r.finished_at) INTO last_failed_purge_at FROM audit.purge_runs r WHERE NOT r.ok;

    first_broken_audit_row := audit.first_broken_row();
    SELECT count(*), floor(extract(epoch FROM checked_at - min(l.at)))
    INTO unchained_audit_rows, oldest_unchained_age_s
    FROM audit.unchained u JOIN audit.log l ON l.id = u.log_id;
    SELECT h.seq, encode(h.link, 'hex') INTO chain_head_seq, chain_head_hash FROM audit.chain_head() h;
    IF p_anchor_seq IS NOT NULL THEN
        SELECT c.link INTO v_link FROM audit.chain c WHERE c.seq = p_anchor_seq;
        anchor := CASE WHEN v_link IS NOT NULL AND encode(v_link, 'hex') = p_anchor_hash
                       THEN 'held' ELSE 'gone' END;
    END IF;
    RETURN NEXT;
END
$$;

-- The head of the audit chain as one line an auditor keeps off the host:
-- sac-anchor:SEQ:HASH (the chain brought up to date first).  Audited.
CREATE FUNCTION sac.audit_anchor(OUT anchor text, OUT seq bigint, OUT chained_at timestamptz)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    h record;
BEGIN
    PERFORM audit.record('audit_anchor', 'allowed');
    SELECT * INTO h FROM audit.chain_head();
    seq := h.seq;
    chained_at := h.chained_at;
    anchor := 'sac-anchor:' || h.seq || ':' || encode(h.link, 'hex');
END
$$;

-- The audit log from p_since on (all of it when NULL), oldest first, with
-- each record's chain position and link (NULL while not chained yet).  The
-- rows hold no personal data by construction (audit.record's contract).
CREATE FUNCTION sac.audit_log(p_since timestamptz DEFAULT NULL)
RETURNS TABLE (id bigint, at timestamptz, role name, action text, site text,
               emergency_id bigint, outcome text, count bigint, detail text, seq bigint,
               hash text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    v_rows bigint;
BEGIN
    SELECT count(*) INTO v_rows FROM audit.log l WHERE p_since IS NULL OR l.at >= p_since;
    PERFORM audit.record('audit_log', 'allowed', NULL, NULL, v_rows,
                         CASE WHEN p_since IS NOT NULL
                              THEN jsonb_build_object('since', to_char(p_since AT TIME ZONE 'UTC',
                                   'YYYY-MM-DD"T"HH24:MI:SS"Z"'))::text END);
    RETURN QUERY
        SELECT l.id, l.at, l.role, l.action, l.site, l.emergency_id, l.outcome, l.count,
               l.detail, c.seq, encode(c.link, 'hex')
        FROM audit.log l LEFT JOIN audit.chain c ON c.log_id = l.id
        WHERE p_since IS NULL OR l.at >= p_since
        ORDER BY l.id;
END
$$;

GRANT EXECUTE ON FUNCTION sac.purge_pass(), sac.purge_ledger(), sac.purge_presence(bigint),
    sac.purge_muster(bigint),
    sac.purge_finish(bigint, interval, boolean, bigint, bigint, bigint, bigint, bigint),
    sac.purge_failed(bigint, timestamptz, timestamptz, text, text, text, bigint, bigint, bigint)
    TO sac_purge;
GRANT EXECUTE ON FUNCTION sac.retention_status(bigint, text), sac.audit_log(timestamptz),
    sac.audit_anchor() TO sac_auditor;

RESET ROLE;
