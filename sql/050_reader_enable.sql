-- 050_reader_enable: `sacctl reader enable` (a disabled reader comes back),
-- `reader list` counts a disabled reader as offline at once (its last report
-- may be less than 30 seconds old), and the refusal that asks an officer to
-- acknowledge the rules names the command that records it (`--yes`).

SET LOCAL ROLE sac_owner;

-- Enables a reader: the controller accepts it from its next connection.
-- Enabling an enabled reader changes nothing and succeeds.
CREATE FUNCTION sac.reader_enable(p_id text)
RETURNS TABLE (id text, site text, direction text, zone text, enabled boolean)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id sac.ident := sac.require_ident('reader id', p_id);
    v_site text;
BEGIN
    UPDATE sac.readers r SET enabled = true
        FROM sac.sites s
        WHERE r.id = v_id AND s.id = r.site_id
        RETURNING s.name INTO v_site;
    IF v_site IS NULL THEN
        RAISE EXCEPTION 'unknown reader %', v_id USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM audit.record('reader_enable', 'allowed', v_site, NULL, NULL, 'reader ' || v_id);
    RETURN QUERY
        SELECT r.id::text, s.name::text, r.direction, r.zone::text, r.enabled
        FROM sac.readers r JOIN sac.sites s ON s.id = r.site_id
        WHERE r.id = v_id;
END
$$;
REVOKE ALL ON FUNCTION sac.reader_enable(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sac.reader_enable(text) TO sac_admin;

-- Every reader; online = enabled, and the controller reported it within 30
-- seconds (the controller refuses a disabled reader, so it is offline from
-- the moment it is disabled).
CREATE OR REPLACE FUNCTION sac.reader_list()
RETURNS TABLE (id text, site text, direction text, zone text, enabled boolean, online boolean,
               last_seen timestamptz)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.id::text, s.name::text, r.direction, r.zone::text, r.enabled,
           r.enabled AND coalesce(r.last_seen > now() - interval '30 seconds', false), r.last_seen
    FROM sac.readers r JOIN sac.sites s ON s.id = r.site_id
    ORDER BY s.name, r.id
$$;

-- As in 040_emergency, with the hint naming `sacctl officer acknowledge --yes`.
CREATE OR REPLACE FUNCTION sac.officer_standing(p_site_id integer, p_site text,
                                     OUT code text, OUT message text)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c sac.certifications;
    current_version integer;
    acked_version integer;
BEGIN
    IF NOT pg_catalog.pg_has_role(session_user, 'sac_officer', 'MEMBER') THEN
        code := 'not_officer';
        message := format('role %s is not a security officer (not a member of sac_officer)',
                          session_user);
        RETURN;
    END IF;
    IF p_site_id IS NULL THEN
        code := 'unknown_site';
        message := format('unknown site %s', coalesce(sac.audit_site_text(p_site), '(invalid name)'));
        RETURN;
    END IF;
    SELECT * INTO c FROM sac.certifications
    WHERE certifications.role_name = session_user AND certifications.site_id = p_site_id;
    IF NOT FOUND THEN
        code := 'not_certified';
        message := format('role %s is not certified as an officer for site %s', session_user, p_site);
        RETURN;
    END IF;
    IF c.revoked_at IS NOT NULL THEN
        code := 'revoked';
        message := format('the certification of role %s for site %s was revoked at %s',
                          session_user, p_site,
                          to_char(c.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
        RETURN;
    END IF;
    IF c.expires_at <= now() THEN
        code := 'expired';
        message := format('the certification of role %s for site %s expired at %s',
                          session_user, p_site,
                          to_char(c.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
        RETURN;
    END IF;
    SELECT max(r.version) INTO current_version FROM sac.rules r;
    SELECT max(a.rules_version) INTO acked_version FROM sac.acknowledgements a
    WHERE a.role_name = session_user AND a.acknowledged_at > c.certified_at;
    IF acked_version IS NULL THEN
        code := 'not_acknowledged';
        message := format('role %s has not acknowledged the rules since its certification for '
                          'site %s: run "sacctl officer acknowledge --yes"', session_user, p_site);
        RETURN;
    END IF;
    IF acked_version < current_version THEN
        code := 'old_rules';
        message := format('role %s acknowledged version %s of the rules, the current version is '
                          '%s: run "sacctl officer acknowledge --yes"',
                          session_user, acked_version, current_version);
        RETURN;
    END IF;
END
$$;

RESET ROLE;
