-- 040_emergency: officers, the rules they acknowledge, emergencies, and the
-- two reads of personal access data that paragraph 27(a) allows: the
-- headcount of a site and the muster status of an emergency.
--
-- Who may read: a database role in sac_officer that a certifier certified for
-- the site (not expired, not revoked) and that acknowledged the current rules
-- after that certification; and only while an emergency or drill is open at
-- the site (a closed emergency's roll stays readable by the same officers
-- until sac-purge removes it, for the recovery that 27(a) also names).
--
-- Every call is audited, allowed or refused.  A refusal is returned as data
-- (a non-NULL refusal column) instead of raised: an exception would roll the
-- audit record back.  Bad input (an unknown kind, an empty reason) raises
-- 22023 and is not a policy decision.
--
-- The audited functions are granted to every sac group role, not to
-- sac_officer alone, on purpose: an administrator's or an auditor's attempt
-- to read who is on the premises must leave a refused record, not only a
-- permission error that the audit log never sees.  The functions themselves
-- decide, from session_user, who is an officer.

SET LOCAL ROLE sac_owner;

INSERT INTO sac.rules (version, body) VALUES (1,
$rules$Rules for access data in sac (paragraph 27 of General Assembly resolution 61/263)

1. Sole purpose.  The record of who badged in and out exists only to establish
   who is present on, or absent from, the premises during an emergency or an
   emergency drill, and during the recovery from it.  You may look at it for
   that purpose and for no other: not to check attendance, working hours,
   visits, movements or conduct, and not for any investigation.

2. Who may see it.  Only security officers formally certified for this site,
   who have read and acknowledged these rules, may see the data, and only
   while an emergency or drill is declared at the site.  You must not show,
   pass on, copy or describe the data to anyone, inside or outside the
   Organization, unless the emergency operation itself requires it (for
   example, telling rescuers how many people are still in a zone).

3. Deletion.  The data is deleted automatically once a person has badged
   out, and never kept longer than 24 hours (digital video: 30 days).  Do not
   keep your own copies: no screenshots, printouts, exports or notes that
   outlive the emergency.

4. Accountability.  Every headcount, muster view, declaration and refusal is
   written, with your database role, to a tamper-evident audit log that
   auditors review.  The reason you give when you declare an emergency or a
   drill is written there too, word for word, and kept: never put a
   person's name in it.  Once an emergency or drill is closed, no one sees
   names from it any more, only counts.  Breaking any of these rules is serious misconduct under
   staff regulation 10.2.
$rules$)
ON CONFLICT (version) DO NOTHING;

-- --- internal helpers (never granted) --------------------------------------

-- A site name as given by a caller, fit for the audit log: only a
-- well-formed identifier is recorded, so that free text typed in the wrong
-- place (a person's name, say) never reaches the log.
CREATE FUNCTION sac.audit_site_text(p_site text) RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN p_site ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' THEN p_site END
$$;

-- Why session_user may not act as an officer at a site, or NULLs when it
-- may: code is a fixed word for the audit log, message the sentence sacctl
-- shows.  p_site_id NULL means the site is unknown.
CREATE FUNCTION sac.officer_standing(p_site_id integer, p_site text,
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

-- --- the rules --------------------------------------------------------------

-- The current rules text and its version.  Not personal data.
CREATE FUNCTION sac.rules_current(OUT version integer, OUT body text)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.version, r.body FROM sac.rules r ORDER BY r.version DESC LIMIT 1
$$;

-- session_user acknowledges version p_version of the rules, the one it was
-- shown.  Refused when the caller is no officer, when the rules changed
-- since they were shown, or when the caller holds no valid certification
-- (an acknowledgement counts only after a certification).
CREATE FUNCTION sac.officer_acknowledge(p_version integer)
RETURNS TABLE (refusal text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    current_version integer;
    code text;
BEGIN
    SELECT max(r.version) INTO current_version FROM sac.rules r;
    IF NOT pg_catalog.pg_has_role(session_user, 'sac_officer', 'MEMBER') THEN
        code := 'not_officer';
        refusal := format('role %s is not a security officer (not a member of sac_officer)',
                          session_user);
    ELSIF p_version IS DISTINCT FROM current_version THEN
        code := 'rules_changed';
        refusal := format('the current rules are version %s, not %s: read them again',
                          current_version, p_version);
    ELSIF NOT EXISTS (SELECT 1 FROM sac.certifications c
                      WHERE c.role_name = session_user AND c.revoked_at IS NULL
                        AND c.expires_at > now()) THEN
        code := 'not_certified';
        refusal := format('role %s holds no valid certification; an acknowledgement counts only '
                          'after a certification', session_user);
    END IF;
    IF code IS NOT NULL THEN
        PERFORM audit.record('officer_acknowledge', 'refused', NULL, NULL, NULL,
                             code || ' rules_version=' || coalesce(p_version::text, 'null'));
        RETURN NEXT;
        RETURN;
    END IF;
    INSERT INTO sac.acknowledgements (role_name, rules_version) VALUES (session_user, p_version);
    PERFORM audit.record('officer_acknowledge', 'allowed', NULL, NULL, NULL,
                         'rules_version=' || p_version);
    RETURN NEXT;
END
$$;

-- --- certification ----------------------------------------------------------

-- The opening shared by officer_certify and officer_revoke: why
-- session_user may not certify or revoke p_role at p_site (code, refusal),
-- or NULLs; the site's id; and whether p_role is well-formed enough to be
-- named in the audit log.
CREATE FUNCTION sac.certifier_standing(p_role text, p_site text, OUT site_id integer,
                                       OUT code text, OUT refusal text, OUT role_ok boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT s.id INTO site_id FROM sac.sites s WHERE s.name = p_site;
    role_ok := p_role IS NOT NULL AND p_role ~ '^[A-Za-z0-9_.@-]{1,63}$';
    IF NOT pg_catalog.pg_has_role(session_user, 'sac_certifier', 'MEMBER') THEN
        code := 'not_certifier';
        refusal := format('role %s is not a certifier (not a member of sac_certifier)', session_user);
    ELSIF site_id IS NULL THEN
        code := 'unknown_site';
        refusal := format('unknown site %s', coalesce(sac.audit_site_text(p_site), '(invalid name)'));
    ELSIF NOT role_ok THEN
        code := 'unknown_role';
        refusal := 'no such database role';
    END IF;
END
$$;

-- A certifier certifies p_role as an officer of p_site until p_expires, at
-- most the certification_max setting (sac.settings, default 1 year) from
-- now.  Certifying again replaces the expiry, lifts a revocation and
-- restarts the certification: the officer must acknowledge the rules again.
CREATE FUNCTION sac.officer_certify(p_role text, p_site text, p_expires timestamptz)
RETURNS TABLE (refusal text, expires_at timestamptz)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    st record;
    code text;
    v_max interval := (SELECT s.certification_max FROM sac.settings s);
BEGIN
    SELECT * INTO st FROM sac.certifier_standing(p_role, p_site);
    code := st.code;
    refusal := st.refusal;
    IF code IS NOT NULL THEN
        NULL;
    ELSIF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = p_role) THEN
        code := 'unknown_role';
        refusal := 'no such database role';
        st.role_ok := false;
    ELSIF NOT pg_catalog.pg_has_role(p_role, 'sac_officer', 'MEMBER') THEN
        code := 'not_officer_role';
        refusal := format('role %s is not a member of sac_officer', p_role);
    ELSIF p_role = session_user THEN
        code := 'self_certification';
        refusal := 'a certifier may not certify its own role';
    ELSIF p_expires IS NULL OR p_expires <= now() THEN
        code := 'expiry_past';
        refusal := 'the expiry must be in the future';
    ELSIF p_expires > now() + v_max THEN
        code := 'expiry_too_far';
        refusal := format('a certification may run at most %s (until %s)', v_max,
                          to_char((now() + v_max) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
    END IF;
    IF code IS NOT NULL THEN
        PERFORM audit.record('officer_certify', 'refused', sac.audit_site_text(p_site), NULL, NULL,
                             code || CASE WHEN st.role_ok THEN ' role=' || p_role ELSE '' END);
        RETURN NEXT;
        RETURN;
    END IF;
    INSERT INTO sac.certifications AS c (role_name, site_id, certified_at, expires_at,
                                         revoked_at, certified_by)
    VALUES (p_role, st.site_id, now(), p_expires, NULL, session_user)
    ON CONFLICT (role_name, site_id) DO UPDATE
        SET certified_at = excluded.certified_at, expires_at = excluded.expires_at,
            revoked_at = NULL, certified_by = excluded.certified_by;
    PERFORM audit.record('officer_certify', 'allowed', p_site, NULL, NULL,
                         format('role=%s expires=%s', p_role,
                                to_char(p_expires AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')));
    expires_at := p_expires;
    RETURN NEXT;
END
$$;

-- A certifier revokes p_role's certification for p_site, at once: the next
-- headcount or muster call of that role is refused.
CREATE FUNCTION sac.officer_revoke(p_role text, p_site text)
RETURNS TABLE (refusal text, revoked_at timestamptz)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    st record;
    code text;
BEGIN
    SELECT * INTO st FROM sac.certifier_standing(p_role, p_site);
    code := st.code;
    refusal := st.refusal;
    IF code IS NULL THEN
        UPDATE sac.certifications c SET revoked_at = now()
        WHERE c.role_name = p_role AND c.site_id = st.site_id AND c.revoked_at IS NULL
        RETURNING c.revoked_at INTO officer_revoke.revoked_at;
        IF NOT FOUND THEN
            code := 'not_certified';
            refusal := format('role %s holds no unrevoked certification for site %s', p_role, p_site);
        END IF;
    END IF;
    IF code IS NOT NULL THEN
        PERFORM audit.record('officer_revoke', 'refused', sac.audit_site_text(p_site), NULL, NULL,
                             code || CASE WHEN st.role_ok THEN ' role=' || p_role ELSE '' END);
        RETURN NEXT;
        RETURN;
    END IF;
    PERFORM audit.record('officer_revoke', 'allowed', p_site, NULL, NULL, 'role=' || p_role);
    RETURN NEXT;
END
$$;

-- --- emergencies ------------------------------------------------------------

-- A certified, acknowledged officer of p_site declares an emergency or a
-- drill there.  The muster roll is the snapshot of access.presence at the
-- site at that moment, every badge 'u' (unaccounted); the controller then
-- marks badges 'a' at muster readers and 'l' at out readers while it is open.
-- Returns the emergency id and the size of the roll, or a refusal.
CREATE FUNCTION sac.emergency_declare(p_site text, p_kind text, p_reason text)
RETURNS TABLE (refusal text, emergency_id bigint, on_roll bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    v_site_id integer;
    v_confirm boolean;
    v_open bigint;
    code text;
    message text;
BEGIN
    IF p_kind IS NULL OR p_kind NOT IN ('drill', 'emergency') THEN
        RAISE EXCEPTION 'kind must be drill or emergency' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_reason IS NULL OR length(p_reason) NOT BETWEEN 1 AND 500 THEN
        RAISE EXCEPTION 'reason must be 1 to 500 characters' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Locking the site serialises declarations there, so a second one sees
    -- the first instead of failing on the one-open-per-site index.
    SELECT s.id, s.drill_confirm INTO v_site_id, v_confirm
    FROM sac.sites s WHERE s.name = p_site FOR UPDATE;
    SELECT o.code, o.message INTO code, message FROM sac.officer_standing(v_site_id, p_site) o;
    IF code IS NULL THEN
        SELECT e.id INTO v_open FROM sac.emergencies e
        WHERE e.site_id = v_site_id AND e.closed_at IS NULL;
        IF FOUND THEN
            code := 'already_open';
            message := format('emergency %s is already open at site %s: close it first',
                              v_open, p_site);
        END IF;
    END IF;
    IF code IS NOT NULL THEN
        PERFORM audit.record('emergency_declare', 'refused', sac.audit_site_text(p_site), v_open,
                             NULL, code || ' kind=' || p_kind);
        refusal := message;
        RETURN NEXT;
        RETURN;
    END IF;
    INSERT INTO sac.emergencies (site_id, kind, reason, declared_by)
    VALUES (v_site_id, p_kind, p_reason, session_user)
    RETURNING id INTO emergency_id;
    INSERT INTO access.muster_roll (emergency_id, badge_id, person_id, zone, last_seen, state)
    SELECT emergency_declare.emergency_id, p.badge_id, p.person_id, p.zone, p.last_seen, 'u'
    FROM access.presence p WHERE p.site_id = v_site_id;
    GET DIAGNOSTICS on_roll = ROW_COUNT;
    -- The reason is part of the declaration's record: a typed value under
    -- a fixed key (the officer was told it is kept and must name no one).
    PERFORM audit.record('emergency_declare', 'allowed', p_site, emergency_id, on_roll,
                         jsonb_build_object('kind', p_kind, 'reason', p_reason,
                                            'confirmation_required',
                                            p_kind = 'drill' AND v_confirm)::text);
    RETURN NEXT;
END
$$;

-- Why session_user may not read or close emergency p_emergency (code and
-- message NULL when it may), with the emergency's site name for the audit
-- log.  Not an officer comes first, so that a non-officer learns nothing
-- about which emergencies exist.
CREATE FUNCTION sac.emergency_standing(p_emergency bigint, OUT code text, OUT message text,
                                       OUT site_name text, OUT closed_at timestamptz)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_site_id integer;
BEGIN
    SELECT e.site_id, e.closed_at INTO v_site_id, closed_at
    FROM sac.emergencies e WHERE e.id = p_emergency;
    IF FOUND THEN
        SELECT s.name INTO site_name FROM sac.sites s WHERE s.id = v_site_id;
    END IF;
    IF NOT pg_catalog.pg_has_role(session_user, 'sac_officer', 'MEMBER') OR v_site_id IS NOT NULL THEN
        SELECT o.code, o.message INTO code, message
        FROM sac.officer_standing(coalesce(v_site_id, 0), site_name) o;
    ELSE
        code := 'unknown_emergency';
        message := format('no emergency %s', p_emergency);
    END IF;
END
$$;

-- A certified, acknowledged officer of the emergency's site closes it.  The
-- roll stays until sac-purge removes it (at most 24 h after it was taken).
CREATE FUNCTION sac.emergency_close(p_emergency bigint)
RETURNS TABLE (refusal text, unaccounted bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    st record;
    v_kind text;
BEGIN
    PERFORM 1 FROM sac.emergencies e WHERE e.id = p_emergency FOR UPDATE;
    SELECT * INTO st FROM sac.emergency_standing(p_emergency);
    IF st.code IS NULL AND st.closed_at IS NOT NULL THEN
        st.code := 'closed';
        st.message := format('emergency %s was already closed at %s', p_emergency,
                             to_char(st.closed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
    END IF;
    IF st.code IS NOT NULL THEN
        PERFORM audit.record('emergency_close', 'refused', st.site_name, p_emergency, NULL,
                             st.code);
        refusal := st.message;
        RETURN NEXT;
        RETURN;
    END IF;
    UPDATE sac.emergencies e SET closed_at = now(), closed_by = session_user
    WHERE e.id = p_emergency
    RETURNING e.kind INTO v_kind;
    SELECT count(*) INTO unaccounted FROM access.muster_roll m
    WHERE m.emergency_id = p_emergency AND m.state = 'u';
    PERFORM audit.record('emergency_close', 'allowed', st.site_name, p_emergency, NULL,
                         'kind=' || v_kind || ' unaccounted=' || unaccounted);
    RETURN NEXT;
END
$$;

-- A drill whose names wait for a second officer: at a site with
-- drill_confirm set, a drill shows names only once a certified officer of
-- the site other than the declarer confirmed it.  Emergencies never wait.
CREATE FUNCTION sac.drill_unconfirmed(p_emergency bigint) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce((SELECT e.kind = 'drill' AND s.drill_confirm AND e.confirmed_at IS NULL
                     FROM sac.emergencies e JOIN sac.sites s ON s.id = e.site_id
                     WHERE e.id = p_emergency), false)
$$;

-- sac_admin sets whether drills at p_site need a second officer's
-- confirmation before names are shown.  Audited.
CREATE FUNCTION sac.site_drill_confirm(p_site text, p_required boolean)
RETURNS TABLE (site text, drill_confirm boolean)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    v_site sac.ident := sac.require_ident('site name', p_site);
BEGIN
    IF p_required IS NULL THEN
        RAISE EXCEPTION 'say whether drills need confirmation' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE sac.sites s SET drill_confirm = p_required WHERE s.name = v_site;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown site %', v_site USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM audit.record('site_drill_confirm', 'allowed', v_site, NULL, NULL,
                         jsonb_build_object('drill_confirm', p_required)::text);
    RETURN QUERY SELECT v_site::text, p_required;
END
$$;

-- A second certified, acknowledged officer of the site confirms open drill
-- p_emergency (the declarer may not), so that its names are shown.
CREATE FUNCTION sac.emergency_confirm(p_emergency bigint)
RETURNS TABLE (refusal text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    st record;
    e sac.emergencies;
BEGIN
    SELECT * INTO e FROM sac.emergencies x WHERE x.id = p_emergency FOR UPDATE;
    SELECT * INTO st FROM sac.emergency_standing(p_emergency);
    IF st.code IS NULL THEN
        IF e.closed_at IS NOT NULL THEN
            st.code := 'closed';
            st.message := format('emergency %s is closed', p_emergency);
        ELSIF e.kind <> 'drill' THEN
            st.code := 'not_drill';
            st.message := format('emergency %s is no drill: emergencies need no confirmation',
                                 p_emergency);
        ELSIF e.confirmed_at IS NOT NULL THEN
            st.code := 'confirmed';
            st.message := format('drill %s was already confirmed', p_emergency);
        ELSIF e.declared_by = session_user THEN
            st.code := 'own_drill';
            st.message := 'the officer who declared a drill may not confirm it';
        END IF;
    END IF;
    IF st.code IS NOT NULL THEN
        PERFORM audit.record('emergency_confirm', 'refused', st.site_name, p_emergency, NULL,
                             st.code);
        refusal := st.message;
        RETURN NEXT;
        RETURN;
    END IF;
    UPDATE sac.emergencies x SET confirmed_at = now(), confirmed_by = session_user
    WHERE x.id = p_emergency;
    PERFORM audit.record('emergency_confirm', 'allowed', st.site_name, p_emergency);
    RETURN NEXT;
END
$$;

-- --- the two reads ----------------------------------------------------------

-- Who is on the premises of p_site now.  Rows:
--   one per badge present: person_id, name, category (all three NULL for a
--   pool badge: someone is there, in that zone, and nobody knows who; name
--   NULL alone for a person deleted since), zone, since;
--   then, last, the summary: refusal, or site, emergency_id, as_of and the
--   counts (its person columns NULL; site is never NULL on it).
-- A refusal is the summary alone.  Times are Unix seconds (sacctl prints
-- them as ISO-8601 UTC).  The rows come unsorted: sorting is the client's.
-- present and unidentified count exactly the rows listed.
--
-- Speed (docs/perf/headcount.md): persons are fetched by primary key in a
-- nested loop (the planner, without statistics on person_id, would otherwise
-- pick a merge join over the whole persons index), no sort, no text
-- formatting per row, and enough work_mem to keep 100,000 rows in memory.
CREATE FUNCTION sac.headcount(p_site text)
RETURNS TABLE (person_id bigint, name text, category text, zone text, since bigint,
               refusal text, site text, emergency_id bigint, as_of bigint, present bigint,
               unidentified bigint, expired_presence bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
SET enable_hashjoin = off
SET enable_mergejoin = off
SET max_parallel_workers_per_gather = 0
SET work_mem = '64MB'
AS $$
DECLARE
    v_site_id integer;
    v_emergency bigint;
    code text;
    message text;
    n_pool bigint;
    n_named bigint;
BEGIN
    SELECT s.id INTO v_site_id FROM sac.sites s WHERE s.name = p_site;
    SELECT o.code, o.message INTO code, message FROM sac.officer_standing(v_site_id, p_site) o;
    IF code IS NULL THEN
        SELECT e.id INTO v_emergency FROM sac.emergencies e
        WHERE e.site_id = v_site_id AND e.closed_at IS NULL;
        IF NOT FOUND THEN
            code := 'no_emergency';
            message := format('no emergency or drill is open at site %s', p_site);
        ELSIF sac.drill_unconfirmed(v_emergency) THEN
            code := 'unconfirmed_drill';
            message := format('drill %s at site %s shows names only after a second officer '
                              'confirmed it (sacctl emergency confirm %s)', v_emergency, p_site,
                              v_emergency);
        END IF;
    END IF;
    IF code IS NOT NULL THEN
        PERFORM audit.record('headcount', 'refused', sac.audit_site_text(p_site), NULL, NULL,
                             code);
        refusal := message;
        RETURN NEXT;
        RETURN;
    END IF;

    RETURN QUERY
    SELECT NULL::bigint, NULL::text, NULL::text, pr.zone, date_part('epoch', pr.since)::bigint,
           NULL::text, NULL::text, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint,
           NULL::bigint
    FROM access.presence pr
    WHERE pr.site_id = v_site_id AND pr.person_id IS NULL;
    GET DIAGNOSTICS n_pool = ROW_COUNT;
    RETURN QUERY
    SELECT pr.person_id, ps.name, ps.category, pr.zone, date_part('epoch', pr.since)::bigint,
           NULL::text, NULL::text, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint,
           NULL::bigint
    FROM access.presence pr LEFT JOIN sac.persons ps ON ps.id = pr.person_id
    WHERE pr.site_id = v_site_id AND pr.person_id IS NOT NULL;
    GET DIAGNOSTICS n_named = ROW_COUNT;

    person_id := NULL; name := NULL; category := NULL; zone := NULL; since := NULL;
    site := p_site;
    emergency_id := v_emergency;
    as_of := date_part('epoch', now())::bigint;
    present := n_pool + n_named;
    unidentified := n_pool;
    SELECT coalesce(sum(x.removed), 0) INTO expired_presence FROM access.presence_expiries x
    WHERE x.site_id = v_site_id AND x.removed_at > now() - interval '24 hours';
    RETURN NEXT;
    PERFORM audit.record('headcount', 'allowed', p_site, v_emergency, present, NULL);
END
$$;

-- The muster status of emergency p_emergency.  Rows, told apart by part
-- (in no particular order: sorting is the client's):
--   'summary'  exactly one: refusal, or the emergency and its roll's counts;
--   'point'    one muster reader of the site (enabled or not) and how many
--              badges were accounted for there;
--   'person'   one unaccounted badge: person (NULL for a pool badge), zone
--              and last_seen as of the roll.
-- One statement reads the roll once, so the counts and the list agree.
-- Times are Unix seconds.  Readable while the emergency is open; after it
-- was closed, counts only (no 'person' rows; closed_at says so) until
-- sac-purge removes its roll.
CREATE FUNCTION sac.muster_status(p_emergency bigint)
RETURNS TABLE (part text, refusal text, emergency_id bigint, site text, kind text,
               declared_at bigint, closed_at bigint, on_roll bigint, accounted bigint,
               left_site bigint, unaccounted bigint,
               reader text, reader_zone text, reader_accounted bigint,
               person_id bigint, name text, category text, zone text, last_seen bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
SET enable_hashjoin = off
SET enable_mergejoin = off
SET max_parallel_workers_per_gather = 0
SET work_mem = '64MB'
AS $$
DECLARE
    st record;
    e sac.emergencies;
    n_points bigint;
    n_rows bigint;
BEGIN
    SELECT * INTO st FROM sac.emergency_standing(p_emergency);
    IF st.code IS NULL AND st.closed_at IS NULL AND sac.drill_unconfirmed(p_emergency) THEN
        st.code := 'unconfirmed_drill';
        st.message := format('drill %s shows names only after a second officer confirmed it '
                             '(sacctl emergency confirm %s)', p_emergency, p_emergency);
    END IF;
    IF st.code IS NOT NULL THEN
        PERFORM audit.record('muster_status', 'refused', st.site_name, p_emergency, NULL, st.code);
        part := 'summary';
        refusal := st.message;
        RETURN NEXT;
        RETURN;
    END IF;
    SELECT * INTO e FROM sac.emergencies x WHERE x.id = p_emergency;
    -- Readers are never deleted, and a new muster reader appearing during
    -- this call would only make the audited count one short.
    SELECT count(*) INTO n_points FROM sac.readers d
    WHERE d.site_id = e.site_id AND d.direction = 'muster';

    RETURN QUERY
    WITH r AS MATERIALIZED (
        SELECT m.person_id, m.zone, m.last_seen, m.state, m.muster_reader
        FROM access.muster_roll m WHERE m.emergency_id = e.id
    ), acc AS (
        SELECT r.muster_reader AS reader, count(*) AS n FROM r
        WHERE r.state = 'a' AND r.muster_reader IS NOT NULL
        GROUP BY r.muster_reader
    )
    SELECT 'summary'::text, NULL::text, e.id, st.site_name::text, e.kind,
           date_part('epoch', e.declared_at)::bigint, date_part('epoch', e.closed_at)::bigint,
           count(*), count(*) FILTER (WHERE r.state = 'a'), count(*) FILTER (WHERE r.state = 'l'),
           count(*) FILTER (WHERE r.state = 'u'),
           NULL::text, NULL::text, NULL::bigint,
           NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::bigint
    FROM r
    UNION ALL
    SELECT 'point', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           d.id::text, d.zone::text, coalesce(acc.n, 0),
           NULL, NULL, NULL, NULL, NULL
    FROM sac.readers d LEFT JOIN acc ON acc.reader = d.id
    WHERE d.site_id = e.site_id AND d.direction = 'muster'
    UNION ALL
    SELECT 'person', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, NULL, NULL,
           r.person_id, ps.name, ps.category, r.zone, date_part('epoch', r.last_seen)::bigint
    FROM r LEFT JOIN sac.persons ps ON ps.id = r.person_id
    -- After the close, counts only: no one reads names from it any more.
    WHERE r.state = 'u' AND e.closed_at IS NULL;
    -- The persons returned: every row but the summary and the points.
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    PERFORM audit.record('muster_status', 'allowed', st.site_name, e.id, n_rows - 1 - n_points,
                         CASE WHEN e.closed_at IS NOT NULL THEN 'closed' END);
END
$$;

REVOKE ALL ON FUNCTION sac.audit_site_text(text), sac.officer_standing(integer, text),
    sac.emergency_standing(bigint),
    sac.rules_current(), sac.officer_acknowledge(integer),
    sac.officer_certify(text, text, timestamptz), sac.officer_revoke(text, text),
    sac.emergency_declare(text, text, text), sac.emergency_close(bigint),
    sac.headcount(text), sac.muster_status(bigint), sac.emergency_confirm(bigint),
    sac.certifier_standing(text, text), sac.drill_unconfirmed(bigint),
    sac.site_drill_confirm(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sac.site_drill_confirm(text, boolean) TO sac_admin;

-- See the head of this file for why every group role may call these.
GRANT EXECUTE ON FUNCTION sac.rules_current(), sac.officer_acknowledge(integer),
    sac.officer_certify(text, text, timestamptz), sac.officer_revoke(text, text),
    sac.emergency_declare(text, text, text), sac.emergency_close(bigint),
    sac.headcount(text), sac.muster_status(bigint), sac.emergency_confirm(bigint)
    TO sac_ingest, sac_purge, sac_admin, sac_certifier, sac_officer, sac_auditor;

RESET ROLE;
