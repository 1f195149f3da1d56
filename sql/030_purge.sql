-- 030_purge: retention enforcement (sac_purge) and what an auditor may see
-- of it (sac_auditor).
--
-- A purge pass erases access data before it reaches access_max_age: it
-- drops whole hourly partitions of the ledger, removes presences and muster
-- rolls past the limit, and rewrites the tables that held personal rows so
-- that no deleted tuple survives in a table or index file (a plain VACUUM
-- would leave the bytes in place).  Those tables are small (one row per
-- person present, one per person on a roll), so they are rewritten on every
-- pass.  sac-purge runs a pass as short steps (sac.purge_ledger, _presence,
-- _muster, _finish), each its own transaction, so that ingest waits for one
-- short lock at a time; sac.purge_pass runs them all in one call.  Every
-- pass, and every failed pass, leaves one audit record with counts and
-- cut-offs only.
--
-- The auditor gets ages, counts and the audit log, never personal data.

SET LOCAL ROLE sac_owner;

-- One row per purge pass, successful or failed: configuration and counts,
-- never personal data.  presence_changes is access.presence's cumulative
-- delete+update counter as it stood when the pass rewrote the table: a
-- larger counter later means rows were deleted or updated since, i.e. bytes
-- the next rewrite still has to erase.
CREATE TABLE audit.purge_runs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at       timestamptz NOT NULL,
    finished_at      timestamptz NOT NULL,
    ok               boolean NOT NULL,
    access_max_age   interval,
    purge_interval   interval,
    counts           jsonb NOT NULL,
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

-- The ingest horizon: an event that happened before it is already due for
-- deletion by the next pass (the cut-off that pass will use, with the
-- schedule of the last successful pass).  Ingest answers such an event but
-- stores nothing of it: stored, it would recreate an hour the last pass
-- dropped and outlive the limit by up to one interval.  With no pass yet,
-- only the 24-hour rule applies.
CREATE FUNCTION access.retention_horizon() RETURNS timestamptz
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT greatest(
        now() - interval '24 hours',
        (SELECT now() + r.purge_interval + sac.purge_margin() - r.access_max_age
         FROM audit.purge_runs r
         WHERE r.ok AND r.purge_interval IS NOT NULL AND r.access_max_age IS NOT NULL
         ORDER BY r.finished_at DESC LIMIT 1))
$$;

-- Cumulative count of deleted and updated tuples of access.presence,
-- including the current transaction's own.
CREATE FUNCTION access.presence_change_counter() RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT pg_stat_get_tuples_deleted(c) + pg_stat_get_tuples_updated(c)
         + pg_stat_get_xact_tuples_deleted(c) + pg_stat_get_xact_tuples_updated(c)
    FROM (SELECT 'access.presence'::regclass::oid AS c) r
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

-- A purge pass is four short steps, each its own transaction when sac-purge
-- runs them, each holding at most one lock that ingest waits on and
-- committing at once:
--   sac.purge_ledger    drops due hours of access.events (locks the parent),
--   sac.purge_presence  rewrites access.presence,
--   sac.purge_muster    rewrites access.muster_roll,
--   sac.purge_finish    writes the pass's purge_runs row and audit record.
-- Ingest locks events, then presence, then the roll in one statement; a step
-- holds one of them only, so the order of the steps cannot deadlock with it.
-- All steps of a pass use the cut-off of the pass's start (pass_start, the
-- time purge_ledger ran), so they delete by one rule.  A step that fails
-- makes the pass a failed pass (sac-purge records it with sac.purge_failed);
-- steps already committed stay done, and the next pass repeats all of them.
-- sac.purge_pass runs the four in one transaction: one call for tests and
-- manual use, at the price of holding every lock until its commit.

-- The cut-off of a pass started at p_pass_start, after checking the limits
-- (the same checks as sac-purge's configuration) and that the pass is
-- current: a pass_start older than one interval would cut off less than
-- the next pass must find already gone.
CREATE FUNCTION sac.purge_cutoff(p_access_max_age interval, p_interval interval,
                                 p_pass_start timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_access_max_age IS NULL OR p_access_max_age <= interval '0'
       OR p_access_max_age > interval '24 hours' THEN
        RAISE EXCEPTION 'access_max_age must be positive and at most 24 hours'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_interval IS NULL OR p_interval <= interval '0' OR p_interval >= p_access_max_age THEN
        RAISE EXCEPTION 'the purge interval must be positive and shorter than access_max_age'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_pass_start IS NULL OR p_pass_start > now() OR p_pass_start < now() - p_interval THEN
        RAISE EXCEPTION 'the pass start must lie within the last purge interval'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Everything that happened before the cut-off is removed now: the next
    -- pass (p_interval later, within the margin) would be too late for it.
    RETURN p_pass_start + p_interval + sac.purge_margin() - p_access_max_age;
END
$$;

-- Step 1: the ledger.  Starts the pass: pass_start is this transaction's
-- time, to be handed to the other steps.  Creates the current hour and the
-- next three, so ingest never has to create one, and drops every hourly
-- partition [H, H+1h) whose oldest possible row is past the cut-off: whole
-- files go, nothing is deleted row by row.  Also deletes the expiry counts
-- past the cut-off (no lock ingest needs).
-- Every count is taken before the first lock on access.events: creating or
-- dropping a partition locks the parent (ingest waits) until commit, so no
-- scan may run after it.
CREATE FUNCTION sac.purge_ledger(p_access_max_age interval, p_interval interval,
                                 OUT pass_start timestamptz, OUT counts jsonb)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '10s'
AS $$
DECLARE
    v_started timestamptz := clock_timestamp();
    v_cutoff timestamptz;
    v_due text[];
    v_ahead timestamptz[];
    v_rel text;
    v_rows bigint;
    v_dropped_rows bigint := 0;
    v_expiries bigint;
    v_at timestamptz;
BEGIN
    pass_start := now();
    v_cutoff := sac.purge_cutoff(p_access_max_age, p_interval, pass_start);
    v_due := ARRAY(SELECT p.rel::text FROM access.event_partitions() p
                   WHERE p.lower_bound IS NOT NULL AND p.lower_bound <= v_cutoff
                   ORDER BY p.lower_bound);
    FOREACH v_rel IN ARRAY v_due LOOP
        EXECUTE format('SELECT count(*) FROM %s', v_rel) INTO v_rows;
        v_dropped_rows := v_dropped_rows + v_rows;
    END LOOP;
    v_ahead := ARRAY(SELECT pass_start + h * interval '1 hour' FROM generate_series(0, 3) h
                     WHERE to_regclass('access.events_' || to_char((pass_start + h * interval '1 hour')
                                       AT TIME ZONE 'UTC', 'YYYYMMDDHH24')) IS NULL);

    DELETE FROM access.presence_expiries WHERE removed_at < v_cutoff;
    GET DIAGNOSTICS v_expiries = ROW_COUNT;

    FOREACH v_at IN ARRAY v_ahead LOOP
        PERFORM access.ensure_partition(v_at);
    END LOOP;
    FOREACH v_rel IN ARRAY v_due LOOP
        EXECUTE format('DROP TABLE %s', v_rel);
    END LOOP;

    counts := jsonb_build_object(
        'partitions_created', cardinality(v_ahead),
        'partitions_dropped', cardinality(v_due),
        'events_removed', v_dropped_rows,
        'expiry_rows_removed', v_expiries,
        'ledger_ms', round(extract(epoch FROM clock_timestamp() - v_started) * 1000, 1));
END
$$;

-- Step 2: presence.  Rows whose read-in passed the cut-off are counted per
-- site (for the headcount) and left behind; the rest is copied out, the
-- table truncated (new, empty table and index files; the old ones are
-- truncated at commit) and the kept rows written back.  This erases every
-- completed cycle (the read-out deleted its row), every expired read-in and
-- every superseded row version.  A rewrite in place (CLUSTER) would not do:
-- it must keep rows deleted by its own transaction, and rows that an older
-- snapshot may still see.  The rows to keep cannot be picked before the
-- lock (ingest changes them meanwhile), so the lock is taken first and the
-- transaction holds nothing else.
CREATE FUNCTION sac.purge_presence(p_access_max_age interval, p_interval interval,
                                   p_pass_start timestamptz)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '10s'
AS $$
DECLARE
    v_started timestamptz := clock_timestamp();
    v_cutoff timestamptz := sac.purge_cutoff(p_access_max_age, p_interval, p_pass_start);
    v_expired bigint;
    v_keep access.presence[];
    v_rewritten integer := 0;
BEGIN
    LOCK TABLE access.presence IN ACCESS EXCLUSIVE MODE;
    WITH ins AS (
        INSERT INTO access.presence_expiries (site_id, removed_at, removed)
        SELECT p.site_id, now(), count(*) FROM access.presence p
        WHERE p.since < v_cutoff GROUP BY p.site_id
        RETURNING removed)
    SELECT coalesce(sum(ins.removed), 0) INTO v_expired FROM ins;
    -- Files as a rewrite of an empty table left them hold nothing to erase.
    IF access.holds_bytes('access.presence') THEN
        SELECT array_agg(p) INTO v_keep FROM access.presence p WHERE p.since >= v_cutoff;
        TRUNCATE access.presence;
        INSERT INTO access.presence SELECT * FROM unnest(v_keep);
        v_rewritten := 1;
    END IF;
    RETURN jsonb_build_object(
        'presence_expired', v_expired,
        'presence_rewritten', v_rewritten,
        'presence_changes', access.presence_change_counter(),
        'presence_ms', round(extract(epoch FROM clock_timestamp() - v_started) * 1000, 1));
END
$$;

-- Step 3: the muster roll likewise: besides expired rolls, updates of the
-- roll (who reached a muster point) leave old row versions.
CREATE FUNCTION sac.purge_muster(p_access_max_age interval, p_interval interval,
                                 p_pass_start timestamptz)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '10s'
AS $$
DECLARE
    v_started timestamptz := clock_timestamp();
    v_cutoff timestamptz := sac.purge_cutoff(p_access_max_age, p_interval, p_pass_start);
    v_removed bigint := 0;
    v_keep access.muster_roll[];
    v_rewritten integer := 0;
BEGIN
    LOCK TABLE access.muster_roll IN ACCESS EXCLUSIVE MODE;
    IF access.holds_bytes('access.muster_roll') THEN
        SELECT count(*) FILTER (WHERE m.created_at < v_cutoff),
               array_agg(m) FILTER (WHERE m.created_at >= v_cutoff)
        INTO v_removed, v_keep FROM access.muster_roll m;
        TRUNCATE access.muster_roll;
        INSERT INTO access.muster_roll SELECT * FROM unnest(v_keep);
        v_rewritten := 1;
    END IF;
    RETURN jsonb_build_object(
        'muster_rows_removed', v_removed,
        'muster_rewritten', v_rewritten,
        'muster_ms', round(extract(epoch FROM clock_timestamp() - v_started) * 1000, 1));
END
$$;

-- A count of a step's result, which must be a non-negative number.
CREATE FUNCTION sac.purge_step_count(p_step jsonb, p_key text) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF jsonb_typeof(p_step -> p_key) IS DISTINCT FROM 'number'
       OR (p_step ->> p_key)::numeric < 0 THEN
        RAISE EXCEPTION 'the step result lacks the count %', p_key
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN (p_step ->> p_key)::numeric;
END
$$;

-- Step 4: the pass's one purge_runs row and one audit record, from the
-- results of the three steps as they returned them (only their known
-- counts are taken over) and p_video, what sac-purge did in the video store
-- (counts and cut-off).  Returns the counts written to the audit record;
-- duration_ms runs from pass_start, so it covers every step.
CREATE FUNCTION sac.purge_finish(p_access_max_age interval, p_interval interval,
                                 p_pass_start timestamptz, p_ledger jsonb, p_presence jsonb,
                                 p_muster jsonb, p_video jsonb DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_cutoff timestamptz := sac.purge_cutoff(p_access_max_age, p_interval, p_pass_start);
    v_counts jsonb;
BEGIN
    v_counts := jsonb_build_object(
        'access_max_age_s', extract(epoch FROM p_access_max_age)::bigint,
        'interval_s', extract(epoch FROM p_interval)::bigint,
        'cutoff', to_char(v_cutoff AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'partitions_created', sac.purge_step_count(p_ledger, 'partitions_created'),
        'partitions_dropped', sac.purge_step_count(p_ledger, 'partitions_dropped'),
        'events_removed', sac.purge_step_count(p_ledger, 'events_removed'),
        'presence_expired', sac.purge_step_count(p_presence, 'presence_expired'),
        'muster_rows_removed', sac.purge_step_count(p_muster, 'muster_rows_removed'),
        'expiry_rows_removed', sac.purge_step_count(p_ledger, 'expiry_rows_removed'),
        'tables_rewritten', sac.purge_step_count(p_presence, 'presence_rewritten')
                            + sac.purge_step_count(p_muster, 'muster_rewritten'),
        'ledger_ms', sac.purge_step_count(p_ledger, 'ledger_ms'),
        'presence_ms', sac.purge_step_count(p_presence, 'presence_ms'),
        'muster_ms', sac.purge_step_count(p_muster, 'muster_ms'),
        'duration_ms', round(extract(epoch FROM clock_timestamp() - p_pass_start) * 1000, 1));
    IF p_video IS NOT NULL THEN
        v_counts := v_counts || jsonb_build_object('video', p_video);
    END IF;

    INSERT INTO audit.purge_runs (started_at, finished_at, ok, access_max_age, purge_interval,
                                  counts, presence_changes)
    VALUES (p_pass_start, clock_timestamp(), true, p_access_max_age, p_interval, v_counts,
            sac.purge_step_count(p_presence, 'presence_changes')::bigint);
    PERFORM audit.record('purge_pass', 'allowed', NULL, NULL,
                         (v_counts ->> 'events_removed')::bigint
                         + (v_counts ->> 'presence_expired')::bigint
                         + (v_counts ->> 'muster_rows_removed')::bigint
                         + (v_counts ->> 'expiry_rows_removed')::bigint, v_counts::text);
    RETURN v_counts;
END
$$;

-- One whole pass in one transaction (tests, manual use): the four steps in
-- their order.  sac-purge runs them as separate transactions instead.
CREATE FUNCTION sac.purge_pass(p_access_max_age interval, p_interval interval,
                               p_video jsonb DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '10s'
AS $$
DECLARE
    v_ledger record;
    v_presence jsonb;
    v_muster jsonb;
BEGIN
    SELECT * INTO v_ledger FROM sac.purge_ledger(p_access_max_age, p_interval);
    v_presence := sac.purge_presence(p_access_max_age, p_interval, v_ledger.pass_start);
    v_muster := sac.purge_muster(p_access_max_age, p_interval, v_ledger.pass_start);
    RETURN sac.purge_finish(p_access_max_age, p_interval, v_ledger.pass_start, v_ledger.counts,
                            v_presence, v_muster, p_video);
END
$$;

-- Records passes that failed while the database could not be reached (or
-- refused them): p_detail is sac-purge's JSON summary (times, reason code,
-- video counts), never personal data.
CREATE FUNCTION sac.purge_failed(p_detail text) RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_detail jsonb;
    v_failures bigint;
BEGIN
    IF p_detail IS NULL OR length(p_detail) > 4000 THEN
        RAISE EXCEPTION 'the failure detail must be a JSON object of at most 4000 characters'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    BEGIN
        v_detail := p_detail::jsonb;
    EXCEPTION WHEN invalid_text_representation THEN
        RAISE EXCEPTION 'the failure detail is not JSON' USING ERRCODE = 'invalid_parameter_value';
    END;
    IF jsonb_typeof(v_detail) <> 'object' THEN
        RAISE EXCEPTION 'the failure detail must be a JSON object'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_failures := CASE WHEN jsonb_typeof(v_detail -> 'failed_passes') = 'number'
                       THEN (v_detail ->> 'failed_passes')::numeric::bigint END;
    INSERT INTO audit.purge_runs (started_at, finished_at, ok, counts)
    VALUES (now(), clock_timestamp(), false, v_detail);
    PERFORM audit.record('purge_pass', 'failed', NULL, NULL, v_failures, v_detail::text);
END
$$;

-- Retention status for auditors: ages (seconds, as of checked_at) and
-- counts, never personal data.  Each call is itself audited.
--   presence_unerased_changes: deletions and updates of access.presence
--   (completed cycles, moves) since the last rewrite, whose old row versions
--   are still in the table file until the next pass.
CREATE FUNCTION sac.retention_status()
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
    first_broken_audit_row     bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_part record;
    v_min timestamptz;
    v_event timestamptz;
    v_presence timestamptz;
    v_muster timestamptz;
    v_expiry timestamptz;
    v_mark bigint;
    v_counter bigint;
BEGIN
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
    oldest_event_age_s := floor(extract(epoch FROM checked_at - v_event));
    oldest_presence_age_s := floor(extract(epoch FROM checked_at - v_presence));
    oldest_muster_age_s := floor(extract(epoch FROM checked_at - v_muster));
    oldest_access_record_age_s := floor(extract(epoch FROM checked_at
                                        - least(v_event, v_presence, v_muster, v_expiry)));

    SELECT r.finished_at, extract(epoch FROM r.access_max_age)::bigint,
           extract(epoch FROM r.purge_interval)::bigint, r.presence_changes
    INTO last_purge_at, last_purge_max_age_s, last_purge_interval_s, v_mark
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

    PERFORM audit.record('audit_verify', 'allowed');
    RETURN NEXT;
END
$$;

-- The audit log from p_since on (all of it when NULL), oldest first.  The
-- rows hold no personal data by construction (audit.record's contract).
CREATE FUNCTION sac.audit_log(p_since timestamptz DEFAULT NULL)
RETURNS TABLE (id bigint, at timestamptz, role name, action text, site text,
               emergency_id bigint, outcome text, count bigint, detail text, hash text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
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
               l.detail, encode(l.hash, 'hex')
        FROM audit.log l
        WHERE p_since IS NULL OR l.at >= p_since
        ORDER BY l.id;
END
$$;

REVOKE ALL ON FUNCTION sac.purge_pass(interval, interval, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION sac.purge_cutoff(interval, interval, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION sac.purge_ledger(interval, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION sac.purge_presence(interval, interval, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION sac.purge_muster(interval, interval, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION sac.purge_step_count(jsonb, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION sac.purge_finish(interval, interval, timestamptz, jsonb, jsonb, jsonb, jsonb)
    FROM PUBLIC;
REVOKE ALL ON FUNCTION sac.purge_failed(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION sac.retention_status() FROM PUBLIC;
REVOKE ALL ON FUNCTION sac.audit_log(timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION sac.purge_margin() FROM PUBLIC;
REVOKE ALL ON FUNCTION access.presence_change_counter() FROM PUBLIC;
REVOKE ALL ON FUNCTION access.event_partitions() FROM PUBLIC;
REVOKE ALL ON FUNCTION access.holds_bytes(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sac.purge_pass(interval, interval, jsonb) TO sac_purge;
GRANT EXECUTE ON FUNCTION sac.purge_ledger(interval, interval) TO sac_purge;
GRANT EXECUTE ON FUNCTION sac.purge_presence(interval, interval, timestamptz) TO sac_purge;
GRANT EXECUTE ON FUNCTION sac.purge_muster(interval, interval, timestamptz) TO sac_purge;
GRANT EXECUTE ON FUNCTION sac.purge_finish(interval, interval, timestamptz, jsonb, jsonb, jsonb, jsonb)
    TO sac_purge;
GRANT EXECUTE ON FUNCTION sac.purge_failed(text) TO sac_purge;
GRANT EXECUTE ON FUNCTION sac.retention_status() TO sac_auditor;
GRANT EXECUTE ON FUNCTION sac.audit_log(timestamptz) TO sac_auditor;

RESET ROLE;
