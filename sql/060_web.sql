-- 060_web: what the web console (sac-web) reads besides sacctl's functions.
--
-- sac-web signs each person in as their own role, so these functions decide
-- from session_user exactly as the others do, and return one JSON value each
-- (built here by PostgreSQL's JSON functions, never by string pasting).
--
--   sac.web_officer_sites()       the caller's certifications: no personal data
--   sac.web_acknowledge(version)  sac.officer_acknowledge with a JSON answer
--   sac.muster_board(emergency)   the live muster board: the JSON shape of
--                                 `sacctl muster status`, audited once per
--                                 minute of live board per officer and
--                                 emergency (the board refreshes every
--                                 second; one record per refresh would bury
--                                 the log), names only while it is open
--   sac.deletion_report(from, to) for auditors: the purge passes of a period
--                                 from the audit log, and the chain's head

SET LOCAL ROLE sac_owner;

-- A time as sacctl prints it: whole seconds (rounded as sacctl's Unix
-- seconds are), UTC, ISO-8601.
CREATE FUNCTION sac.web_iso(p timestamptz) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT to_char(to_timestamp(date_part('epoch', p)::bigint) AT TIME ZONE 'UTC',
                   'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- --- officers' sites --------------------------------------------------------

-- The sites the caller holds an unrevoked certification for, with what the
-- caller may do there now (standing: 'ready' or the refusal code of
-- sac.officer_standing, and its message) and the open emergency if any.
CREATE FUNCTION sac.web_officer_sites() RETURNS json
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(json_agg(json_build_object(
               'site', s.name::text,
               'expires_at', sac.web_iso(c.expires_at),
               'standing', coalesce(o.code, 'ready'),
               'message', o.message,
               'emergency_id', e.id,
               'kind', e.kind,
               'declared_at', sac.web_iso(e.declared_at),
               'unconfirmed', CASE WHEN e.id IS NOT NULL THEN sac.drill_unconfirmed(e.id) END,
               'declared_by_you', CASE WHEN e.id IS NOT NULL THEN e.declared_by = session_user END)
           ORDER BY s.name COLLATE "C"), '[]'::json)
    FROM sac.certifications c
    JOIN sac.sites s ON s.id = c.site_id
    CROSS JOIN LATERAL sac.officer_standing(s.id, s.name) o
    LEFT JOIN sac.emergencies e ON e.site_id = s.id AND e.closed_at IS NULL
    WHERE c.role_name = session_user AND c.revoked_at IS NULL
$$;

-- --- the rules --------------------------------------------------------------

-- Acknowledges version p_version, the one the page showed (refused when the
-- rules changed since).  Runs as the caller: sac.officer_acknowledge audits.
CREATE FUNCTION sac.web_acknowledge(p_version integer) RETURNS json
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT json_build_object('rules_version', p_version, 'acknowledged', a.refusal IS NULL,
                             'refusal', a.refusal)
    FROM sac.officer_acknowledge(p_version) a
$$;

-- --- the live muster board ----------------------------------------------------

-- When each officer's live board of each emergency was last audited.  Role
-- names and emergency ids only; rows older than a day are dropped.
CREATE TABLE sac.board_audits (
    role_name    name NOT NULL,
    emergency_id bigint NOT NULL,
    audited_at   timestamptz NOT NULL,
    PRIMARY KEY (role_name, emergency_id)
);

-- The muster board of p_emergency: {"emergency_id", "site", "kind",
-- "declared_at", "closed_at", "on_roll", "accounted", "left", "unaccounted",
-- "muster_points": [{"reader", "zone", "accounted"}], "unaccounted_persons":
-- [{"person_id", "name", "category", "zone", "last_seen"}], "names_withheld"},
-- sorted as sacctl sorts (points by reader; persons by zone, name, id, NULLs
-- first, byte order), or {"refusal": why}.  Who may read it is
-- sac.muster_status's rule (sac.emergency_standing).  Names are listed only
-- when sac.muster_status would list them: not once the emergency is closed
-- ("names_withheld": "closed"), not for a drill still waiting for a second
-- officer's confirmation ("unconfirmed_drill"); the counts are shown then.
-- One statement reads the roll, so counts and list agree.
CREATE FUNCTION sac.muster_board(p_emergency bigint) RETURNS json
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_hashjoin = off
SET enable_mergejoin = off
SET max_parallel_workers_per_gather = 0
SET work_mem = '64MB'
AS $$
DECLARE
    st record;
    e sac.emergencies;
    board json;
    n_persons bigint;
    due boolean;
    withheld text;
BEGIN
    SELECT * INTO st FROM sac.emergency_standing(p_emergency);
    IF st.code IS NOT NULL THEN
        PERFORM audit.record('muster_board', 'refused', st.site_name, p_emergency, NULL, st.code);
        RETURN json_build_object('refusal', st.message);
    END IF;
    SELECT * INTO e FROM sac.emergencies x WHERE x.id = p_emergency;
    withheld := CASE WHEN e.closed_at IS NOT NULL THEN 'closed'
                     WHEN sac.drill_unconfirmed(e.id) THEN 'unconfirmed_drill' END;

    WITH r AS MATERIALIZED (
        SELECT m.person_id, m.zone, m.last_seen, m.state, m.muster_reader
        FROM access.muster_roll m WHERE m.emergency_id = e.id
    ), points AS (
        SELECT d.id::text AS reader, d.zone::text AS zone,
               (SELECT count(*) FROM r WHERE r.state = 'a' AND r.muster_reader = d.id) AS n
        FROM sac.readers d
        WHERE d.site_id = e.site_id AND d.direction = 'muster'
    ), persons AS (
        SELECT r.person_id, ps.name, ps.category, r.zone::text AS zone, r.last_seen
        FROM r LEFT JOIN sac.persons ps ON ps.id = r.person_id
        WHERE r.state = 'u' AND withheld IS NULL
    )
    SELECT json_build_object(
               'emergency_id', e.id,
               'site', st.site_name::text,
               'kind', e.kind,
               'declared_at', sac.web_iso(e.declared_at),
               'closed_at', sac.web_iso(e.closed_at),
               'on_roll', (SELECT count(*) FROM r),
               'accounted', (SELECT count(*) FROM r WHERE r.state = 'a'),
               'left', (SELECT count(*) FROM r WHERE r.state = 'l'),
               'unaccounted', (SELECT count(*) FROM r WHERE r.state = 'u'),
               'muster_points', (SELECT coalesce(json_agg(json_build_object(
                                     'reader', p.reader, 'zone', p.zone, 'accounted', p.n)
                                     ORDER BY p.reader COLLATE "C"), '[]'::json) FROM points p),
               'unaccounted_persons', (SELECT coalesce(json_agg(json_build_object(
                                     'person_id', q.person_id, 'name', q.name,
                                     'category', q.category, 'zone', q.zone,
                                     'last_seen', sac.web_iso(q.last_seen))
                                     ORDER BY q.zone COLLATE "C" NULLS FIRST,
                                              q.name COLLATE "C" NULLS FIRST,
                                              q.person_id NULLS FIRST), '[]'::json)
                                       FROM persons q),
               'names_withheld', withheld),
           (SELECT count(*) FROM persons)
    INTO board, n_persons;

    -- One audit record per minute of live board: the first read, then the
    -- first read after each minute.
    INSERT INTO sac.board_audits AS b (role_name, emergency_id, audited_at)
    VALUES (session_user, e.id, now())
    ON CONFLICT (role_name, emergency_id) DO UPDATE SET audited_at = excluded.audited_at
        WHERE b.audited_at <= now() - interval '1 minute'
    RETURNING true INTO due;
    IF due THEN
        PERFORM audit.record('muster_board', 'allowed', st.site_name, e.id, n_persons, withheld);
        DELETE FROM sac.board_audits b WHERE b.audited_at < now() - interval '1 day';
    END IF;
    RETURN board;
END
$$;

-- --- the deletion report --------------------------------------------------------

-- jsonb of a text, or NULL when it is not JSON.
CREATE FUNCTION sac.web_jsonb(p text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN p::jsonb;
EXCEPTION WHEN invalid_text_representation THEN
    RETURN NULL;
END
$$;

-- For auditors: the purge passes recorded in the audit log from p_from to
-- p_to (default: the 24 hours before now; at most 31 days), and what they
-- prove.  For each pass: its time, outcome, duration, cut-off (nothing
-- older is left after it), age_after_s = time - cut-off, and age_before_s =
-- time - the previous successful pass's cut-off: the most an access record
-- can have aged just before this pass.  The age_before/age_after pairs are
-- the sawtooth that must stay under access_max_age.  gap_s is the time
-- since the previous pass record.  anchor is the audit chain's head at the
-- report's end (sac-anchor:SEQ:HASH, as `sacctl audit anchor` prints it).  Counts and times only, never personal data.
CREATE FUNCTION sac.deletion_report(p_from timestamptz DEFAULT NULL,
                                    p_to timestamptz DEFAULT NULL) RETURNS json
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_to timestamptz := coalesce(p_to, now());
    v_from timestamptz := coalesce(p_from, coalesce(p_to, now()) - interval '24 hours');
    v_passes json;
    n_passes bigint;
    n_failures bigint;
    v_max_age bigint;
    v_max_gap bigint;
    v_limit bigint;
    v_interval bigint;
    v_anchor json;
BEGIN
    IF v_from >= v_to OR v_to - v_from > interval '31 days' THEN
        RAISE EXCEPTION 'the period must start before it ends and span at most 31 days'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WITH raw AS (
        SELECT l.id, l.at, l.outcome, sac.web_jsonb(l.detail) AS d
        FROM audit.log l
        WHERE l.action = 'purge_pass' AND l.at <= v_to
          AND l.at >= v_from - interval '1 day'
    ), typed AS (
        SELECT raw.id, raw.at, raw.outcome,
               CASE WHEN raw.outcome = 'allowed' AND raw.d ->> 'cutoff' ~ '^\d{4}-\d\d-\d\dT'
                    THEN (raw.d ->> 'cutoff')::timestamptz END AS cutoff,
               CASE WHEN jsonb_typeof(raw.d -> 'duration_ms') = 'number'
                    THEN (raw.d ->> 'duration_ms')::numeric END AS duration_ms,
               CASE WHEN jsonb_typeof(raw.d -> 'access_max_age_s') = 'number'
                    THEN (raw.d ->> 'access_max_age_s')::numeric::bigint END AS max_age_s,
               CASE WHEN jsonb_typeof(raw.d -> 'interval_s') = 'number'
                    THEN (raw.d ->> 'interval_s')::numeric::bigint END AS interval_s
        FROM raw
    ), seq AS (
        SELECT t.*,
               lag(t.at) OVER (ORDER BY t.id) AS prev_at,
               (SELECT t2.cutoff FROM typed t2
                WHERE t2.id < t.id AND t2.cutoff IS NOT NULL
                ORDER BY t2.id DESC LIMIT 1) AS prev_cutoff
        FROM typed t
    ), period AS (
        SELECT * FROM seq WHERE seq.at >= v_from
    )
    SELECT coalesce(json_agg(json_build_object(
               'at', to_char(p.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
               'outcome', p.outcome,
               'duration_ms', p.duration_ms,
               'cutoff', sac.web_iso(p.cutoff),
               'age_after_s', floor(extract(epoch FROM p.at - p.cutoff))::bigint,
               'age_before_s', floor(extract(epoch FROM p.at - p.prev_cutoff))::bigint,
               'gap_s', floor(extract(epoch FROM p.at - p.prev_at))::bigint)
           ORDER BY p.id), '[]'::json),
           count(*),
           count(*) FILTER (WHERE p.outcome <> 'allowed'),
           max(floor(extract(epoch FROM p.at - p.prev_cutoff)))::bigint,
           max(floor(extract(epoch FROM p.at - p.prev_at)))::bigint,
           max(p.max_age_s),
           max(p.interval_s)
    INTO v_passes, n_passes, n_failures, v_max_age, v_max_gap, v_limit, v_interval
    FROM period p;

    -- The anchor in the form of `sacctl audit anchor`, for `audit verify --anchor`.
    SELECT json_build_object('anchor', 'sac-anchor:' || c.seq || ':' || encode(c.link, 'hex'),
                             'seq', c.seq,
                             'chained_at', to_char(c.chained_at AT TIME ZONE 'UTC',
                                                   'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
    INTO v_anchor
    FROM audit.chain c WHERE c.chained_at <= v_to ORDER BY c.seq DESC LIMIT 1;

    PERFORM audit.record('deletion_report', 'allowed', NULL, NULL, n_passes,
                         jsonb_build_object(
                             'from', to_char(v_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                             'to', to_char(v_to AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))::text);
    RETURN json_build_object(
        'from', to_char(v_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'to', to_char(v_to AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'access_max_age_s', coalesce(v_limit, 86400),
        'interval_s', v_interval,
        'passes_total', n_passes,
        'failures', n_failures,
        'max_age_s', v_max_age,
        'max_gap_s', v_max_gap,
        'passes', v_passes,
        'anchor', v_anchor);
END
$$;

REVOKE ALL ON FUNCTION sac.web_iso(timestamptz), sac.web_officer_sites(),
    sac.web_acknowledge(integer), sac.muster_board(bigint), sac.web_jsonb(text),
    sac.deletion_report(timestamptz, timestamptz) FROM PUBLIC;
-- Like sac.muster_status, the board is callable by every group role so that
-- an attempt by a non-officer leaves a refused record in the audit log.
GRANT EXECUTE ON FUNCTION sac.web_officer_sites(), sac.web_acknowledge(integer),
    sac.muster_board(bigint)
    TO sac_ingest, sac_purge, sac_admin, sac_certifier, sac_officer, sac_auditor;
GRANT EXECUTE ON FUNCTION sac.deletion_report(timestamptz, timestamptz) TO sac_auditor;

RESET ROLE;
