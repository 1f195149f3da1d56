-- 010_admin: what sac_admin may do — sites, readers, persons, badges, and
-- the per-reader, per-hour denial counts.  Never any read of personal access
-- data: the ledger rows counted by sac.denial_counts carry no credential,
-- badge or person.
--
-- Every change is written to the audit log with ids, never names of persons
-- or credentials.  Bad input raises a data error (22023 invalid_parameter_value,
-- 23505 unique_violation, P0002 no_data_found) with a message that names the
-- argument but never echoes a person's name or a credential, because the
-- server log keeps error messages.  A credential is never compared in a way
-- that could raise a unique violation (whose DETAIL would carry it).

SET LOCAL ROLE sac_owner;

-- The value as a sac.ident, or invalid_parameter_value naming what it is.
-- Internal: called by the functions below, executable by no group role.
CREATE FUNCTION sac.require_ident(p_what text, p_value text) RETURNS sac.ident
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_value IS NULL THEN
        RAISE EXCEPTION '% is missing', p_what USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN p_value::sac.ident;
EXCEPTION WHEN check_violation THEN
    RAISE EXCEPTION 'invalid %: use 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit',
        p_what USING ERRCODE = 'invalid_parameter_value';
END
$$;
REVOKE ALL ON FUNCTION sac.require_ident(text, text) FROM PUBLIC;

-- --- sites -----------------------------------------------------------------

CREATE FUNCTION sac.site_add(p_name text) RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    v_name sac.ident := sac.require_ident('site name', p_name);
    v_id integer;
BEGIN
    INSERT INTO sac.sites (name) VALUES (v_name)
        ON CONFLICT (name) DO NOTHING
        RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        RAISE EXCEPTION 'site % already exists', v_name USING ERRCODE = 'unique_violation';
    END IF;
    PERFORM audit.record('site_add', 'allowed', v_name, NULL, NULL, 'site ' || v_id);
    RETURN v_id;
END
$$;
REVOKE ALL ON FUNCTION sac.site_add(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sac.site_add(text) TO sac_admin;

-- --- readers ---------------------------------------------------------------

CREATE FUNCTION sac.reader_add(p_id text, p_site text, p_direction text, p_zone text DEFAULT NULL)
RETURNS TABLE (id text, site text, direction text, zone text, enabled boolean)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    v_id sac.ident := sac.require_ident('reader id', p_id);
    v_site sac.ident := sac.require_ident('site name', p_site);
    v_zone sac.ident;
    v_site_id integer;
    v_added text;
BEGIN
    IF p_zone IS NOT NULL THEN
        v_zone := sac.require_ident('zone', p_zone);
    END IF;
    IF p_direction IS NULL OR p_direction NOT IN ('in', 'out', 'muster') THEN
        RAISE EXCEPTION 'invalid direction: use in, out or muster'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT s.id INTO v_site_id FROM sac.sites s WHERE s.name = v_site;
    IF v_site_id IS NULL THEN
        RAISE EXCEPTION 'unknown site %', v_site USING ERRCODE = 'no_data_found';
    END IF;
    INSERT INTO sac.readers (id, site_id, direction, zone)
        VALUES (v_id, v_site_id, p_direction, v_zone)
        ON CONFLICT ON CONSTRAINT readers_pkey DO NOTHING
        RETURNING readers.id INTO v_added;
    IF v_added IS NULL THEN
        RAISE EXCEPTION 'reader % already exists', v_id USING ERRCODE = 'unique_violation';
    END IF;
    PERFORM audit.record('reader_add', 'allowed', v_site, NULL, NULL,
                         'reader ' || v_id || ' direction ' || p_direction);
    RETURN QUERY SELECT v_id::text, v_site::text, p_direction, v_zone::text, true;
END
$$;
REVOKE ALL ON FUNCTION sac.reader_add(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sac.reader_add(text, text, text, text) TO sac_admin;

-- Sets a reader's enabled flag and audits it as ACTION; the two functions
-- below are the callers.  Owner only: it runs inside their SECURITY DEFINER.
CREATE FUNCTION sac.reader_set_enabled(p_id text, p_enabled boolean, p_action text)
RETURNS TABLE (id text, site text, direction text, zone text, enabled boolean)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id sac.ident := sac.require_ident('reader id', p_id);
    v_site text;
BEGIN
    UPDATE sac.readers r SET enabled = p_enabled
        FROM sac.sites s
        WHERE r.id = v_id AND s.id = r.site_id
        RETURNING s.name INTO v_site;
    IF v_site IS NULL THEN
        RAISE EXCEPTION 'unknown reader %', v_id USING ERRCODE = 'no_data_found';
    END IF;
    IF NOT p_enabled THEN
        PERFORM pg_notify('sac_reader_disabled', v_id);
    END IF;
    PERFORM audit.record(p_action, 'allowed', v_site, NULL, NULL, 'reader ' || v_id);
    RETURN QUERY
        SELECT r.id::text, s.name::text, r.direction, r.zone::text, r.enabled
        FROM sac.readers r JOIN sac.sites s ON s.id = r.site_id
        WHERE r.id = v_id;
END
$$;
REVOKE ALL ON FUNCTION sac.reader_set_enabled(text, boolean, text) FROM PUBLIC;

-- Disables a reader: the controller refuses it from its next connection and
-- closes a live one (it polls sac.readers; the notification lets it act at
-- once).  Disabling a disabled reader changes nothing and succeeds.
CREATE FUNCTION sac.reader_disable(p_id text)
RETURNS TABLE (id text, site text, direction text, zone text, enabled boolean)
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$ SELECT * FROM sac.reader_set_enabled(p_id, false, 'reader_disable') $$;
REVOKE ALL ON FUNCTION sac.reader_disable(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sac.reader_disable(text) TO sac_admin;

-- Enables a reader again: the controller accepts it from its next
-- connection.  Enabling an enabled reader changes nothing and succeeds.
CREATE FUNCTION sac.reader_enable(p_id text)
RETURNS TABLE (id text, site text, direction text, zone text, enabled boolean)
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$ SELECT * FROM sac.reader_set_enabled(p_id, true, 'reader_enable') $$;
REVOKE ALL ON FUNCTION sac.reader_enable(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sac.reader_enable(text) TO sac_admin;

-- Every reader; online = enabled, and the controller reported it within 30
-- seconds (a disabled reader is refused, so it is offline at once).
CREATE FUNCTION sac.reader_list()
RETURNS TABLE (id text, site text, direction text, zone text, enabled boolean, online boolean,
               last_seen timestamptz)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
    SELECT r.id::text, s.name::text, r.direction, r.zone::text, r.enabled,
           r.enabled AND coalesce(r.last_seen > now() - interval '30 seconds', false), r.last_seen
    FROM sac.readers r JOIN sac.sites s ON s.id = r.site_id
    ORDER BY s.name, r.id
$$;
REVOKE ALL ON FUNCTION sac.reader_list() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sac.reader_list() TO sac_admin;

-- Denials per reader and UTC hour since p_since (default: the last 24 hours,
-- which is all the ledger keeps).  Counts only: a denial stores no
-- credential.  An administrator sees no count that could single out one
-- person: a reader-hour with fewer than 3 denials has denials NULL and
-- suppressed true (sacctl prints "<3").  An auditor sees exact counts.
CREATE FUNCTION sac.denial_counts(p_since timestamptz DEFAULT NULL)
RETURNS TABLE (reader text, site text, hour timestamptz, denials bigint, suppressed boolean)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    v_since timestamptz := coalesce(p_since, now() - interval '24 hours');
    v_exact boolean := pg_catalog.pg_has_role(session_user, 'sac_auditor', 'MEMBER');
    v_rows bigint;
BEGIN
    RETURN QUERY
        SELECT c.reader_id, c.site, c.hour,
               CASE WHEN v_exact OR c.n >= 3 THEN c.n END, NOT v_exact AND c.n < 3
        FROM (SELECT e.reader_id, s.name::text AS site,
                     date_trunc('hour', e.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour,
                     count(*) AS n
              FROM access.events e LEFT JOIN sac.sites s ON s.id = e.site_id
              WHERE e.verdict = 'D' AND e.occurred_at >= v_since
              GROUP BY 1, 2, 3) c
        ORDER BY 3, 1;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    PERFORM audit.record('denial_counts', 'allowed', NULL, NULL, v_rows,
                         jsonb_build_object('since', to_char(v_since AT TIME ZONE 'UTC',
                                                             'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                            'exact', v_exact)::text);
END
$$;
REVOKE ALL ON FUNCTION sac.denial_counts(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sac.denial_counts(timestamptz) TO sac_admin, sac_auditor;

-- --- retention settings -------------------------------------------------------

-- The limits in force (sac.settings), in seconds.  Not personal data: any
-- sac role may read them, and sac-purge reads them at every pass.
CREATE FUNCTION sac.retention_show()
RETURNS TABLE (access_max_age_s bigint, purge_interval_s bigint, certification_max_s bigint,
               changed_at timestamptz, changed_by name)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
    SELECT extract(epoch FROM s.access_max_age)::bigint, extract(epoch FROM s.purge_interval)::bigint,
           extract(epoch FROM s.certification_max)::bigint, s.changed_at, s.changed_by
    FROM sac.settings s
$$;
REVOKE ALL ON FUNCTION sac.retention_show() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sac.retention_show()
    TO sac_ingest, sac_purge, sac_admin, sac_certifier, sac_officer, sac_auditor;

-- sac_admin sets the access-data limit (1 h to 24 h) and the purge interval
-- (10 s to 30 min); NULL keeps a value.  Audited with the old and new
-- values.  The next purge pass uses them.
CREATE FUNCTION sac.retention_set(p_access_max_age interval, p_purge_interval interval)
RETURNS TABLE (access_max_age_s bigint, purge_interval_s bigint, certification_max_s bigint,
               changed_at timestamptz, changed_by name)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    old sac.settings;
BEGIN
    IF p_access_max_age IS NOT NULL
       AND p_access_max_age NOT BETWEEN interval '1 hour' AND interval '24 hours' THEN
        RAISE EXCEPTION 'access-max-age must be between 1h and 24h'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_purge_interval IS NOT NULL
       AND p_purge_interval NOT BETWEEN interval '10 seconds' AND interval '30 minutes' THEN
        RAISE EXCEPTION 'purge-interval must be between 10s and 30m'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO old FROM sac.settings FOR UPDATE;
    UPDATE sac.settings s
    SET access_max_age = coalesce(p_access_max_age, s.access_max_age),
        purge_interval = coalesce(p_purge_interval, s.purge_interval),
        changed_at = now(), changed_by = session_user;
    PERFORM audit.record('retention_set', 'allowed', NULL, NULL, NULL, jsonb_build_object(
        'access_max_age_s', extract(epoch FROM coalesce(p_access_max_age, old.access_max_age))::bigint,
        'purge_interval_s', extract(epoch FROM coalesce(p_purge_interval, old.purge_interval))::bigint,
        'was_access_max_age_s', extract(epoch FROM old.access_max_age)::bigint,
        'was_purge_interval_s', extract(epoch FROM old.purge_interval)::bigint)::text);
    RETURN QUERY SELECT * FROM sac.retention_show();
END
$$;
REVOKE ALL ON FUNCTION sac.retention_set(interval, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sac.retention_set(interval, interval) TO sac_admin;

-- --- persons ---------------------------------------------------------------

CREATE FUNCTION sac.person_add(p_name text, p_category text, p_org text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    v_id bigint;
BEGIN
    -- The messages never repeat the name: it is personal data.
    IF p_name IS NULL OR length(btrim(p_name)) = 0 OR length(p_name) > 200 THEN
        RAISE EXCEPTION 'invalid name: give 1 to 200 characters'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_org IS NOT NULL AND (length(btrim(p_org)) = 0 OR length(p_org) > 200) THEN
        RAISE EXCEPTION 'invalid organisation: give 1 to 200 characters'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_category IS NULL
       OR p_category NOT IN ('staff', 'contractor', 'consultant', 'visitor', 'delegate') THEN
        RAISE EXCEPTION 'invalid category: use staff, contractor, consultant, visitor or delegate'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO sac.persons (name, category, org) VALUES (p_name, p_category, p_org)
        RETURNING id INTO v_id;
    PERFORM audit.record('person_add', 'allowed', NULL, NULL, NULL,
                         'person ' || v_id || ' category ' || p_category);
    RETURN v_id;
END
$$;
REVOKE ALL ON FUNCTION sac.person_add(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sac.person_add(text, text, text) TO sac_admin;

-- --- badges ----------------------------------------------------------------

-- Enrolls a credential (HMAC-SHA256 of the badge UID, computed by sacctl)
-- for a person, or as a pool badge when p_person is NULL.  A credential that
-- is enrolled and not revoked is refused; a revoked one is enrolled again
-- (same badge id, new holder and validity).  Returns the badge id.
CREATE FUNCTION sac.badge_enroll(p_credential bytea, p_person bigint,
                                 p_valid_until timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    v_id bigint;
    v_revoked timestamptz;
BEGIN
    IF p_credential IS NULL OR length(p_credential) <> 32 THEN
        RAISE EXCEPTION 'invalid credential: 32 bytes expected'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_person IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sac.persons WHERE id = p_person) THEN
        RAISE EXCEPTION 'unknown person %', p_person USING ERRCODE = 'no_data_found';
    END IF;
    IF p_valid_until IS NOT NULL AND p_valid_until <= now() THEN
        RAISE EXCEPTION 'invalid valid-until: it is not in the future'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Serialise enrollments of one credential: check, then insert, without
    -- ever provoking a unique violation (its DETAIL would log the credential).
    PERFORM pg_advisory_xact_lock(7303, hashtext(encode(p_credential, 'hex')));
    SELECT b.id, b.revoked_at INTO v_id, v_revoked
        FROM sac.badges b WHERE b.credential = p_credential;
    IF v_id IS NOT NULL AND v_revoked IS NULL THEN
        RAISE EXCEPTION 'this badge is already enrolled (badge %)', v_id
            USING ERRCODE = 'unique_violation';
    END IF;
    IF v_id IS NOT NULL THEN
        UPDATE sac.badges
            SET person_id = p_person, valid_until = p_valid_until, enrolled_at = now(),
                revoked_at = NULL
            WHERE id = v_id;
    ELSE
        INSERT INTO sac.badges (credential, person_id, valid_until)
            VALUES (p_credential, p_person, p_valid_until)
            ON CONFLICT (credential) DO NOTHING
            RETURNING id INTO v_id;
        IF v_id IS NULL THEN
            RAISE EXCEPTION 'this badge is already enrolled' USING ERRCODE = 'unique_violation';
        END IF;
    END IF;
    PERFORM audit.record('badge_enroll', 'allowed', NULL, NULL, NULL,
                         'badge ' || v_id || CASE WHEN p_person IS NULL THEN ' pool'
                                                  ELSE ' person ' || p_person END);
    RETURN v_id;
END
$$;
REVOKE ALL ON FUNCTION sac.badge_enroll(bytea, bigint, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sac.badge_enroll(bytea, bigint, timestamptz) TO sac_admin;

-- Revokes an enrolled badge: denied from the next event on.  Returns the
-- badge id.
CREATE FUNCTION sac.badge_revoke(p_credential bytea) RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    v_id bigint;
BEGIN
    UPDATE sac.badges SET revoked_at = now()
        WHERE credential = p_credential AND revoked_at IS NULL
        RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        RAISE EXCEPTION 'no enrolled badge has this UID (with this key)'
            USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM audit.record('badge_revoke', 'allowed', NULL, NULL, NULL, 'badge ' || v_id);
    RETURN v_id;
END
$$;
REVOKE ALL ON FUNCTION sac.badge_revoke(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sac.badge_revoke(bytea) TO sac_admin;

RESET ROLE;
