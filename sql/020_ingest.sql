-- 020_ingest: what sac-controller may do, as sac_ingest, and nothing more:
-- greet a reader, store a batch of events with their effects on presence and
-- on an open muster roll, and mark readers as seen.
--
-- A batch is one call and one transaction (group commit): set-based SQL over
-- the unnested arrays, no per-event round trip, no audit record per event
-- (the ledger is the record), and no credential ever in an error or in
-- access.*: the credential is resolved to a badge here and dropped.

SET LOCAL ROLE sac_owner;

-- 'ok', 'unknown' or 'disabled': whether reader p_reader may connect.
CREATE FUNCTION sac.reader_hello(p_reader text) RETURNS text
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce((SELECT CASE WHEN r.enabled THEN 'ok' ELSE 'disabled' END
                     FROM sac.readers r WHERE r.id::text = p_reader), 'unknown')
$$;

-- Stores one batch.  Element i of the four arrays is one event; the result
-- has one row per element (ord = i, 1-based) with GRANT, DENY or EXPIRED.
--
--  * occurred_at = reader time, or the arrival time (now()) when the reader
--    time is more than 5 s ahead.  EXPIRED (nothing stored) when the earlier
--    of the two is more than 24 h old.  An event before the retention
--    horizon (access.retention_horizon(), sql/030: already due for deletion
--    by the next purge pass) gets its verdict but nothing of it is stored.
--  * The ledger row is inserted with ON CONFLICT DO NOTHING on (reader,
--    event id, occurred_at): a redelivery is stored once and answered with
--    the stored verdict.  A clamped event has a new arrival time on each
--    delivery, so it is looked up by (reader, event id) in every partition
--    before it is inserted.
--  * Effects of the newly stored GRANTs, reduced to the latest event per
--    badge (a batch may hold one badge several times and an ON CONFLICT row
--    must not be touched twice): in/muster readers upsert access.presence,
--    out readers delete it, never undoing a newer presence change; with an
--    open emergency at the site, a muster reader marks the badge accounted
--    ('a') on the roll and an out reader marks it left ('l').
--
-- Two paths with the same results.  A batch of new events (the common case)
-- runs a few simple statements whose plans are cached: judge the batch into
-- arrays, insert the ledger rows with a plain INSERT, then presence only for
-- stored GRANTs and the roll only when an open emergency is at a site of a
-- muster/out GRANT.  A batch holding a key already stored (the plain insert
-- raises unique_violation, caught and undone) takes the general path: one
-- statement with ON CONFLICT and the effects of what it newly stored.
CREATE FUNCTION sac.ingest(p_readers text[], p_event_ids uuid[], p_reader_ms bigint[],
                           p_credentials bytea[])
RETURNS TABLE(ord integer, verdict text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_now timestamptz := now();
    v_n integer := cardinality(p_readers);
    v_horizon timestamptz := access.retention_horizon();
    v_plan_mode text;
    -- The batch as judged, one element per event (ord = index).
    j_reader text[];
    j_event uuid[];
    j_at timestamptz[];
    j_clamped boolean[];
    j_expired boolean[];
    j_store boolean[];
    j_verdict "char"[];
    j_prior "char"[];
    j_site integer[];
    j_dir "char"[];
    j_zone text[];
    j_badge bigint[];
    j_person bigint[];
    j_ord integer[];
    v_grants integer;
    v_roll boolean;
BEGIN
    IF v_n IS NULL OR cardinality(p_event_ids) IS DISTINCT FROM v_n
       OR cardinality(p_reader_ms) IS DISTINCT FROM v_n
       OR cardinality(p_credentials) IS DISTINCT FROM v_n THEN
        RAISE EXCEPTION 'sac.ingest: the four arrays must have the same length'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    PERFORM access.ensure_partition(h.hour)
    FROM (SELECT DISTINCT date_trunc('hour', CASE WHEN t.reader_at > v_now + interval '5 seconds'
                                                  THEN v_now ELSE t.reader_at END) AS hour
          FROM (SELECT to_timestamp(m::float8 / 1000) AS reader_at
                FROM unnest(p_reader_ms) AS m) t
          WHERE least(t.reader_at, v_now) >= v_horizon) h;

    -- Fast path, for a batch of new events (the common case): simple
    -- statements with cached plans, each over the batch once.  Judge every
    -- event (reader, badge, times) into arrays.
    -- Element order is whatever the plan produced (an ORDER BY per
    -- aggregate would sort the batch once per array): j_ord says which.
    SELECT array_agg(j.ord), array_agg(j.reader_id), array_agg(j.event_id),
           array_agg(j.occurred_at), array_agg(j.clamped), array_agg(j.expired),
           array_agg(j.known AND NOT j.due AND j.prior IS NULL), array_agg(j.verdict),
           array_agg(j.prior), array_agg(j.site_id), array_agg(j.direction),
           array_agg(j.zone), array_agg(j.badge_id), array_agg(j.person_id),
           count(*) FILTER (WHERE j.known AND NOT j.due AND j.prior IS NULL AND j.verdict = 'G'),
           bool_or(j.known AND NOT j.due AND j.prior IS NULL AND j.verdict = 'G'
                   AND j.direction IN ('m', 'o'))
    INTO j_ord, j_reader, j_event, j_at, j_clamped, j_expired, j_store, j_verdict, j_prior,
         j_site, j_dir, j_zone, j_badge, j_person, v_grants, v_roll
    FROM (
        SELECT t.ord, t.reader_id, t.event_id, t.occurred_at, t.clamped, t.expired, t.due,
               r.id IS NOT NULL AS known, r.site_id, r.zone,
               CASE r.direction WHEN 'in' THEN 'i' WHEN 'out' THEN 'o' ELSE 'm' END::"char"
                   AS direction,
               b.id AS badge_id, b.person_id,
               CASE WHEN r.enabled AND b.id IS NOT NULL THEN 'G' ELSE 'D' END::"char" AS verdict,
               CASE WHEN t.clamped AND NOT t.expired THEN
                   (SELECT e.verdict FROM access.events e
                    WHERE e.reader_id = t.reader_id AND e.event_id = t.event_id LIMIT 1)
               END AS prior
        FROM (SELECT u.ord::integer AS ord, u.reader_id, u.event_id, u.credential,
                     u.reader_at > v_now + interval '5 seconds' AS clamped,
                     CASE WHEN u.reader_at > v_now + interval '5 seconds' THEN v_now
                          ELSE u.reader_at END AS occurred_at,
                     least(u.reader_at, v_now) < v_now - interval '24 hours' AS expired,
                     least(u.reader_at, v_now) < v_horizon AS due
              FROM (SELECT x.*, to_timestamp(x.ms::float8 / 1000) AS reader_at
                    FROM unnest(p_readers, p_event_ids, p_reader_ms, p_credentials)
                         WITH ORDINALITY AS x(reader_id, event_id, ms, credential, ord)) u) t
        LEFT JOIN sac.readers r ON r.id::text = t.reader_id
        LEFT JOIN LATERAL (
            SELECT b.id, b.person_id FROM sac.badges b
            WHERE b.credential = t.credential AND b.revoked_at IS NULL
              AND (b.valid_until IS NULL OR b.valid_until > t.occurred_at)
            LIMIT 1) b ON true) j;

    -- A plain insert: a key already stored (a redelivery, or one event twice
    -- in the batch) raises, undoes this block only, and sends the batch down
    -- the general path.  Without ON CONFLICT, each row costs one index
    -- descent and no speculative-insertion lock.
    BEGIN
        INSERT INTO access.events (occurred_at, reader_id, event_id, received_at, verdict,
                                   site_id, direction, zone)
        SELECT x.occurred_at, x.reader_id, x.event_id, v_now, x.verdict, x.site_id,
               x.direction, x.zone
        FROM unnest(j_at, j_reader, j_event, j_verdict, j_site, j_dir, j_zone, j_store)
             AS x(occurred_at, reader_id, event_id, verdict, site_id, direction, zone, store)
        WHERE x.store;
    EXCEPTION WHEN unique_violation THEN
        v_grants := NULL;
    END;

    IF v_grants IS NULL THEN
        -- The general path: the ledger insert with ON CONFLICT, its effects
        -- and the answers in one statement, planned for this batch (a
        -- generic plan of it is several times slower).
        v_plan_mode := current_setting('plan_cache_mode');
        PERFORM set_config('plan_cache_mode', 'force_custom_plan', true);
        RETURN QUERY
        WITH input AS (
            SELECT u.ord::integer AS ord, u.reader_id, u.event_id, u.credential,
                   to_timestamp(u.ms::float8 / 1000) AS reader_at
            FROM unnest(p_readers, p_event_ids, p_reader_ms, p_credentials)
                 WITH ORDINALITY AS u(reader_id, event_id, ms, credential, ord)
        ),
        timed AS (
            SELECT i.*, i.reader_at > v_now + interval '5 seconds' AS clamped,
                   CASE WHEN i.reader_at > v_now + interval '5 seconds' THEN v_now
                        ELSE i.reader_at END AS occurred_at,
                   least(i.reader_at, v_now) < v_now - interval '24 hours' AS expired,
                   least(i.reader_at, v_now) < v_horizon AS due
            FROM input i
        ),
        judged AS (
            SELECT t.ord, t.reader_id, t.event_id, t.occurred_at, t.clamped, t.expired, t.due,
                   r.id IS NOT NULL AS known, r.site_id, r.zone,
                   CASE r.direction WHEN 'in' THEN 'i' WHEN 'out' THEN 'o' ELSE 'm' END::"char"
                       AS direction,
                   b.id AS badge_id, b.person_id,
                   CASE WHEN r.enabled AND b.id IS NOT NULL THEN 'G' ELSE 'D' END::"char" AS verdict,
                   -- Scalar subqueries (not joins) so that each is an index probe,
                   -- run only for the rows that need it.
                   CASE WHEN t.clamped AND NOT t.expired THEN
                       (SELECT e.verdict FROM access.events e
                        WHERE e.reader_id = t.reader_id AND e.event_id = t.event_id LIMIT 1)
                   END AS clamped_prior
            FROM timed t
            LEFT JOIN sac.readers r ON r.id::text = t.reader_id
            LEFT JOIN LATERAL (
                SELECT b.id, b.person_id FROM sac.badges b
                WHERE b.credential = t.credential AND b.revoked_at IS NULL
                  AND (b.valid_until IS NULL OR b.valid_until > t.occurred_at)
                LIMIT 1) b ON true
        ),
        inserted AS (
            INSERT INTO access.events (occurred_at, reader_id, event_id, received_at, verdict,
                                       site_id, direction, zone)
            SELECT j.occurred_at, j.reader_id, j.event_id, v_now, j.verdict, j.site_id,
                   j.direction, j.zone
            FROM judged j
            WHERE j.known AND NOT j.due AND j.clamped_prior IS NULL
            ON CONFLICT DO NOTHING
            RETURNING access.events.reader_id, access.events.event_id, access.events.occurred_at
        ),
        -- Newly stored GRANTs only: a redelivery has no effect.
        fresh AS (
            SELECT DISTINCT ON (j.reader_id, j.event_id) j.*
            FROM judged j
            JOIN inserted n ON n.reader_id = j.reader_id AND n.event_id = j.event_id
                           AND n.occurred_at = j.occurred_at
            WHERE j.verdict = 'G'
        ),
        per_badge AS (
            SELECT DISTINCT ON (f.badge_id) f.*,
                   max(f.occurred_at) FILTER (WHERE f.direction = 'i')
                       OVER (PARTITION BY f.badge_id) AS last_in,
                   max(f.occurred_at) FILTER (WHERE f.direction = 'o')
                       OVER (PARTITION BY f.badge_id) AS last_out
            FROM fresh f
            ORDER BY f.badge_id, f.occurred_at DESC, f.ord DESC
        ),
        entering AS (
            SELECT pb.badge_id, pb.person_id, pb.site_id, pb.zone, pb.occurred_at, pb.reader_id,
                   CASE
                       WHEN pb.direction = 'i' THEN pb.occurred_at
                       -- Muster: keep the read-in time, from this batch or the table.
                       WHEN pb.last_in IS NOT NULL AND pb.last_in > coalesce(pb.last_out, '-infinity')
                           THEN pb.last_in
                       WHEN pb.last_out IS NULL AND p.since IS NOT NULL THEN p.since
                       ELSE pb.occurred_at
                   END AS since
            FROM per_badge pb
            LEFT JOIN access.presence p ON p.badge_id = pb.badge_id
            WHERE pb.direction IN ('i', 'm')
        ),
        upserted AS (
            INSERT INTO access.presence AS p (badge_id, person_id, site_id, zone, since, last_seen,
                                              last_reader)
            SELECT e.badge_id, e.person_id, e.site_id, e.zone, e.since, e.occurred_at, e.reader_id
            FROM entering e
            ON CONFLICT (badge_id) DO UPDATE
                SET person_id = EXCLUDED.person_id, site_id = EXCLUDED.site_id,
                    zone = EXCLUDED.zone, since = EXCLUDED.since,
                    last_seen = EXCLUDED.last_seen, last_reader = EXCLUDED.last_reader
                WHERE p.last_seen <= EXCLUDED.last_seen
            RETURNING p.badge_id
        ),
        leaving AS (
            DELETE FROM access.presence p
            USING per_badge pb
            WHERE pb.direction = 'o' AND p.badge_id = pb.badge_id AND p.last_seen <= pb.occurred_at
            RETURNING p.badge_id
        ),
        -- The roll of an open emergency at the reader's site, from its declaration on.
        roll_change AS (
            SELECT DISTINCT ON (em.id, f.badge_id) em.id AS emergency_id, f.badge_id, f.person_id,
                   f.zone, f.occurred_at, f.reader_id,
                   CASE f.direction WHEN 'm' THEN 'a' ELSE 'l' END::"char" AS state
            FROM fresh f
            JOIN sac.emergencies em ON em.site_id = f.site_id AND em.closed_at IS NULL
                                    AND f.occurred_at >= em.declared_at
            WHERE f.direction IN ('m', 'o')
            ORDER BY em.id, f.badge_id, f.occurred_at DESC, f.ord DESC
        ),
        rolled AS (
            INSERT INTO access.muster_roll AS m (emergency_id, badge_id, person_id, zone, last_seen,
                                                 state, muster_reader, changed_at, created_at)
            SELECT rc.emergency_id, rc.badge_id, rc.person_id, rc.zone, rc.occurred_at, rc.state,
                   CASE WHEN rc.state = 'a' THEN rc.reader_id END, rc.occurred_at, v_now
            FROM roll_change rc
            WHERE rc.state = 'a'
               OR EXISTS (SELECT 1 FROM access.muster_roll x
                          WHERE x.emergency_id = rc.emergency_id AND x.badge_id = rc.badge_id)
            ON CONFLICT (emergency_id, badge_id) DO UPDATE
                SET state = EXCLUDED.state,
                    muster_reader = coalesce(EXCLUDED.muster_reader, m.muster_reader),
                    changed_at = EXCLUDED.changed_at,
                    last_seen = greatest(m.last_seen, EXCLUDED.last_seen),
                    zone = CASE WHEN EXCLUDED.state = 'a' THEN EXCLUDED.zone ELSE m.zone END
                WHERE m.changed_at IS NULL OR m.changed_at <= EXCLUDED.changed_at
            RETURNING m.badge_id
        ),
        -- Forces the effect CTEs to run (an unreferenced data-modifying CTE
        -- runs anyway; counting them keeps the plan honest and cheap).
        effects AS (
            SELECT (SELECT count(*) FROM upserted) + (SELECT count(*) FROM leaving)
                   + (SELECT count(*) FROM rolled) AS n
        )
        SELECT j.ord,
               CASE
                   WHEN j.expired THEN 'EXPIRED'
                   WHEN coalesce(j.clamped_prior,
                                 CASE WHEN n.event_id IS NULL AND NOT j.clamped THEN
                                     (SELECT e.verdict FROM access.events e
                                      WHERE e.reader_id = j.reader_id AND e.event_id = j.event_id
                                        AND e.occurred_at = j.occurred_at)
                                 END,
                                 j.verdict) = 'G' THEN 'GRANT'
                   ELSE 'DENY'
               END
        FROM judged j
        CROSS JOIN effects
        LEFT JOIN inserted n ON n.reader_id = j.reader_id AND n.event_id = j.event_id
                            AND n.occurred_at = j.occurred_at
        ORDER BY j.ord;
        PERFORM set_config('plan_cache_mode', v_plan_mode, true);
        RETURN;
    END IF;

    -- Every stored event is new: the effects are those of the stored GRANTs,
    -- reduced to the latest event per badge; none, no statement.
    IF v_grants > 0 THEN
        WITH per_badge AS (
            SELECT DISTINCT ON (f.badge_id) f.*,
                   max(f.occurred_at) FILTER (WHERE f.direction = 'i')
                       OVER (PARTITION BY f.badge_id) AS last_in,
                   max(f.occurred_at) FILTER (WHERE f.direction = 'o')
                       OVER (PARTITION BY f.badge_id) AS last_out
            FROM unnest(j_badge, j_person, j_site, j_zone, j_at, j_reader, j_dir, j_verdict,
                        j_store, j_ord)
                 AS f(badge_id, person_id, site_id, zone, occurred_at, reader_id, direction,
                      verdict, store, ord)
            WHERE f.store AND f.verdict = 'G'
            ORDER BY f.badge_id, f.occurred_at DESC, f.ord DESC
        ),
        upserted AS (
            INSERT INTO access.presence AS p (badge_id, person_id, site_id, zone, since,
                                              last_seen, last_reader)
            SELECT pb.badge_id, pb.person_id, pb.site_id, pb.zone,
                   CASE
                       WHEN pb.direction = 'i' THEN pb.occurred_at
                       -- Muster: keep the read-in time, from this batch or the table.
                       WHEN pb.last_in IS NOT NULL
                            AND pb.last_in > coalesce(pb.last_out, '-infinity') THEN pb.last_in
                       WHEN pb.last_out IS NULL THEN
                           coalesce((SELECT p0.since FROM access.presence p0
                                     WHERE p0.badge_id = pb.badge_id), pb.occurred_at)
                       ELSE pb.occurred_at
                   END,
                   pb.occurred_at, pb.reader_id
            FROM per_badge pb
            WHERE pb.direction IN ('i', 'm')
            ON CONFLICT (badge_id) DO UPDATE
                SET person_id = EXCLUDED.person_id, site_id = EXCLUDED.site_id,
                    zone = EXCLUDED.zone, since = EXCLUDED.since,
                    last_seen = EXCLUDED.last_seen, last_reader = EXCLUDED.last_reader
                WHERE p.last_seen <= EXCLUDED.last_seen
        )
        DELETE FROM access.presence p
        USING per_badge pb
        WHERE pb.direction = 'o' AND p.badge_id = pb.badge_id AND p.last_seen <= pb.occurred_at;
    END IF;

    -- The roll of an open emergency at the reader's site, from its
    -- declaration on: only when a muster or out reader granted something at
    -- a site with an open emergency.
    IF v_roll
       AND EXISTS (SELECT 1 FROM sac.emergencies em
                   WHERE em.closed_at IS NULL AND em.site_id = ANY (j_site)) THEN
        WITH roll_change AS (
            SELECT DISTINCT ON (em.id, f.badge_id) em.id AS emergency_id, f.badge_id,
                   f.person_id, f.zone, f.occurred_at, f.reader_id,
                   CASE f.direction WHEN 'm' THEN 'a' ELSE 'l' END::"char" AS state
            FROM unnest(j_badge, j_person, j_site, j_zone, j_at, j_reader, j_dir, j_verdict,
                        j_store, j_ord)
                 AS f(badge_id, person_id, site_id, zone, occurred_at, reader_id, direction,
                      verdict, store, ord)
            JOIN sac.emergencies em ON em.site_id = f.site_id AND em.closed_at IS NULL
                                    AND f.occurred_at >= em.declared_at
            WHERE f.store AND f.verdict = 'G' AND f.direction IN ('m', 'o')
            ORDER BY em.id, f.badge_id, f.occurred_at DESC, f.ord DESC
        )
        INSERT INTO access.muster_roll AS m (emergency_id, badge_id, person_id, zone, last_seen,
                                             state, muster_reader, changed_at, created_at)
        SELECT rc.emergency_id, rc.badge_id, rc.person_id, rc.zone, rc.occurred_at, rc.state,
               CASE WHEN rc.state = 'a' THEN rc.reader_id END, rc.occurred_at, v_now
        FROM roll_change rc
        WHERE rc.state = 'a'
           OR EXISTS (SELECT 1 FROM access.muster_roll x
                      WHERE x.emergency_id = rc.emergency_id AND x.badge_id = rc.badge_id)
        ON CONFLICT (emergency_id, badge_id) DO UPDATE
            SET state = EXCLUDED.state,
                muster_reader = coalesce(EXCLUDED.muster_reader, m.muster_reader),
                changed_at = EXCLUDED.changed_at,
                last_seen = greatest(m.last_seen, EXCLUDED.last_seen),
                zone = CASE WHEN EXCLUDED.state = 'a' THEN EXCLUDED.zone ELSE m.zone END
            WHERE m.changed_at IS NULL OR m.changed_at <= EXCLUDED.changed_at;
    END IF;

    -- A stored event answers its own verdict; one not stored (unknown
    -- reader, due, or a clamped redelivery) the stored one if there is one.
    RETURN QUERY
    SELECT x.ord::integer,
           CASE
               WHEN x.expired THEN 'EXPIRED'
               WHEN coalesce(x.prior,
                             CASE WHEN NOT x.store AND NOT x.clamped THEN
                                 (SELECT e.verdict FROM access.events e
                                  WHERE e.reader_id = x.reader_id AND e.event_id = x.event_id
                                    AND e.occurred_at = x.occurred_at)
                             END,
                             x.verdict) = 'G' THEN 'GRANT'
               ELSE 'DENY'
           END
    FROM unnest(j_expired, j_prior, j_store, j_clamped, j_reader, j_event, j_at, j_verdict,
                j_ord)
         AS x(expired, prior, store, clamped, reader_id, event_id, occurred_at, verdict, ord)
    ORDER BY x.ord;
END
$$;

-- Marks the readers connected to controller p_controller as seen now and
-- returns whether each is still enabled (the controller closes a disabled
-- reader's connection).  Unknown ids are left out of the result.
CREATE FUNCTION sac.readers_seen(p_readers text[], p_controller text)
RETURNS TABLE(reader_id text, enabled boolean)
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    UPDATE sac.readers r
    SET last_seen = now(), last_controller = left(p_controller, 200)
    WHERE r.id::text = ANY (p_readers)
    RETURNING r.id::text, r.enabled
$$;

REVOKE ALL ON FUNCTION sac.reader_hello(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION sac.ingest(text[], uuid[], bigint[], bytea[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION sac.readers_seen(text[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sac.reader_hello(text) TO sac_ingest;
GRANT EXECUTE ON FUNCTION sac.ingest(text[], uuid[], bigint[], bytea[]) TO sac_ingest;
GRANT EXECUTE ON FUNCTION sac.readers_seen(text[], text) TO sac_ingest;

RESET ROLE;
