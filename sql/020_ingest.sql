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
--  * The ledger row is stored once per (reader, event id, occurred_at): a
--    redelivery is answered with the stored verdict.  A clamped event has a
--    new arrival time on each delivery, so it is looked up by (reader, event
--    id) in every partition before it is inserted.
--  * Effects of the newly stored GRANTs, reduced to the latest event per
--    badge (a batch may hold one badge several times): in/muster readers
--    upsert access.presence, out readers delete it and note the read-out in
--    access.departures, never undoing a newer change: a read-in older than
--    the badge's last read-out (delivered late from a reader's spool) makes
--    no one present.  With an open emergency at the site, a muster reader
--    marks the badge accounted ('a') on the roll and an out reader marks it
--    left ('l').
--
-- Each piece is written once: the batch is judged into arrays; the ledger
-- rows are inserted with a plain INSERT (the common case: one index descent
-- per row, no speculative insertion), or, when the batch holds a key
-- already stored (the plain insert raises unique_violation, caught and
-- undone), with ON CONFLICT DO NOTHING, which says which elements are new;
-- then the effects of the new GRANTs and the answers, from the arrays.
CREATE FUNCTION sac.ingest(p_readers text[], p_event_ids uuid[], p_reader_ms bigint[],
                           p_credentials bytea[])
RETURNS TABLE(ord integer, verdict text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- Every statement below is planned once per session, not at every call:
-- the custom plans PostgreSQL would otherwise try first cost more to make
-- (half a millisecond a batch) than they save on arrays of a few events.
-- None of the plans depends on the arrays' contents (index probes by key).
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_now timestamptz := now();
    v_n integer := cardinality(p_readers);
    v_horizon timestamptz := access.retention_horizon();
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
    v_arrive boolean;   -- a stored GRANT at an in or muster reader
    v_leave boolean;    -- a stored GRANT at an out reader
    v_roll boolean;
    v_clamped boolean;  -- a clamped event not expired: look up its earlier delivery
    v_lookup boolean;   -- an event not stored now, to be answered its stored verdict
    v_changed boolean := false; -- j_store changed after judging
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

    -- Judge every event (reader, badge, times) into arrays, each over the
    -- batch once.  Element order is whatever the plan produced (an ORDER BY
    -- per aggregate would sort the batch once per array): j_ord says which.
    SELECT array_agg(j.ord), array_agg(j.reader_id), array_agg(j.event_id),
           array_agg(j.occurred_at), array_agg(j.clamped), array_agg(j.expired),
           array_agg(j.known AND NOT j.due), array_agg(j.verdict),
           array_agg(j.site_id), array_agg(j.direction),
           array_agg(j.zone), array_agg(j.badge_id), array_agg(j.person_id),
           coalesce(bool_or(j.known AND NOT j.due AND j.verdict = 'G'
                            AND j.direction IN ('i', 'm')), false),
           coalesce(bool_or(j.known AND NOT j.due AND j.verdict = 'G' AND j.direction = 'o'),
                    false),
           coalesce(bool_or(j.clamped AND NOT j.expired), false),
           coalesce(bool_or(NOT (j.known AND NOT j.due) AND NOT j.clamped AND NOT j.expired),
                    false)
    INTO j_ord, j_reader, j_event, j_at, j_clamped, j_expired, j_store, j_verdict,
         j_site, j_dir, j_zone, j_badge, j_person, v_arrive, v_leave, v_clamped, v_lookup
    FROM (
        SELECT t.ord, t.reader_id, t.event_id, t.occurred_at, t.clamped, t.expired, t.due,
               r.id IS NOT NULL AS known, r.site_id, r.zone,
               CASE r.direction WHEN 'in' THEN 'i' WHEN 'out' THEN 'o' ELSE 'm' END::"char"
                   AS direction,
               b.id AS badge_id, b.person_id,
               CASE WHEN r.enabled AND b.id IS NOT NULL THEN 'G' ELSE 'D' END::"char" AS verdict
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

    -- Lookups in the ledger run only for the batches that need them, as
    -- statements of their own: a probe by (reader, event id) visits every
    -- hour's partition, and merely preparing it costs each batch one index
    -- scan set-up per hour.
    --
    -- A clamped event has a new arrival time at each delivery: it is looked
    -- up by (reader, event id) in every hour before it is stored again.
    IF v_clamped THEN
        SELECT array_agg(CASE WHEN x.clamped AND NOT x.expired THEN
                             (SELECT e.verdict FROM access.events e
                              WHERE e.reader_id = x.reader_id AND e.event_id = x.event_id
                              LIMIT 1)
                         END ORDER BY x.i)
        INTO j_prior
        FROM unnest(j_clamped, j_expired, j_reader, j_event) WITH ORDINALITY
             AS x(clamped, expired, reader_id, event_id, i);
        SELECT array_agg(x.store AND x.prior IS NULL ORDER BY x.i)
        INTO j_store
        FROM unnest(j_store, j_prior) WITH ORDINALITY AS x(store, prior, i);
        v_changed := true;
    END IF;

    -- The ledger.  A key already stored (a redelivery, or one event twice in
    -- the batch) makes the plain insert raise and undoes this block only.
    BEGIN
        INSERT INTO access.events (occurred_at, reader_id, event_id, received_at, verdict,
                                   site_id, direction, zone)
        SELECT x.occurred_at, x.reader_id, x.event_id, v_now, x.verdict, x.site_id,
               x.direction, x.zone
        FROM unnest(j_at, j_reader, j_event, j_verdict, j_site, j_dir, j_zone, j_store)
             AS x(occurred_at, reader_id, event_id, verdict, site_id, direction, zone, store)
        WHERE x.store;
    EXCEPTION WHEN unique_violation THEN
        -- Insert what is new; only it is stored now and has effects.
        WITH inserted AS (
            INSERT INTO access.events (occurred_at, reader_id, event_id, received_at, verdict,
                                       site_id, direction, zone)
            SELECT x.occurred_at, x.reader_id, x.event_id, v_now, x.verdict, x.site_id,
                   x.direction, x.zone
            FROM unnest(j_at, j_reader, j_event, j_verdict, j_site, j_dir, j_zone, j_store)
                 AS x(occurred_at, reader_id, event_id, verdict, site_id, direction, zone, store)
            WHERE x.store
            ON CONFLICT DO NOTHING
            RETURNING access.events.reader_id, access.events.event_id, access.events.occurred_at
        )
        SELECT array_agg(x.store AND EXISTS (
                   SELECT 1 FROM inserted n
                   WHERE n.reader_id = x.reader_id AND n.event_id = x.event_id
                     AND n.occurred_at = x.occurred_at) ORDER BY x.i)
        INTO j_store
        FROM unnest(j_store, j_reader, j_event, j_at) WITH ORDINALITY
             AS x(store, reader_id, event_id, occurred_at, i);
        v_changed := true;
        v_lookup := true;
    END;
    IF v_changed THEN
        SELECT coalesce(bool_or(x.store AND x.verdict = 'G' AND x.direction IN ('i', 'm')), false),
               coalesce(bool_or(x.store AND x.verdict = 'G' AND x.direction = 'o'), false)
        INTO v_arrive, v_leave
        FROM unnest(j_store, j_verdict, j_dir) AS x(store, verdict, direction);
    END IF;
    v_roll := v_leave OR (v_arrive AND 'm' = ANY (j_dir));

    -- The effects of the stored GRANTs, reduced to the latest event per
    -- badge (per_badge; the same in both statements).  Arrivals and
    -- departures touch disjoint badges, each in its own statement that runs
    -- only when the batch has such a GRANT: a batch from in readers never
    -- opens access.departures' sixteen partitions for writing.
    IF v_arrive THEN
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
        )
        INSERT INTO access.presence AS p (badge_id, person_id, site_id, zone, since, last_seen,
                                          last_reader)
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
          -- Not before the badge's last read-out.
          AND NOT EXISTS (SELECT 1 FROM access.departures d
                          WHERE d.badge_id = pb.badge_id AND d.left_at >= pb.occurred_at)
        ON CONFLICT (badge_id) DO UPDATE
            SET person_id = EXCLUDED.person_id, site_id = EXCLUDED.site_id,
                zone = EXCLUDED.zone, since = EXCLUDED.since,
                last_seen = EXCLUDED.last_seen, last_reader = EXCLUDED.last_reader
            WHERE p.last_seen <= EXCLUDED.last_seen;
    END IF;
    IF v_leave THEN
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
        departed AS (
            INSERT INTO access.departures AS d (badge_id, left_at)
            SELECT pb.badge_id, pb.occurred_at FROM per_badge pb WHERE pb.direction = 'o'
            ON CONFLICT (badge_id) DO UPDATE SET left_at = EXCLUDED.left_at
                WHERE d.left_at < EXCLUDED.left_at
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
    -- reader, due, or a redelivery) the stored one if there is one.
    IF v_lookup THEN
        SELECT array_agg(coalesce(x.prior,
                                  CASE WHEN NOT x.store AND NOT x.clamped AND NOT x.expired THEN
                                      (SELECT e.verdict FROM access.events e
                                       WHERE e.reader_id = x.reader_id
                                         AND e.event_id = x.event_id
                                         AND e.occurred_at = x.occurred_at)
                                  END) ORDER BY x.i)
        INTO j_prior
        FROM unnest(j_prior, j_store, j_clamped, j_expired, j_reader, j_event, j_at)
             WITH ORDINALITY AS x(prior, store, clamped, expired, reader_id, event_id, occurred_at, i);
    END IF;
    RETURN QUERY
    SELECT x.ord::integer,
           CASE
               WHEN x.expired THEN 'EXPIRED'
               WHEN coalesce(x.prior, x.verdict) = 'G' THEN 'GRANT'
               ELSE 'DENY'
           END
    FROM unnest(j_expired, j_prior, j_verdict, j_ord) AS x(expired, prior, verdict, ord)
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
