-- 001_foundation: roles, schemas, tables and the hash-chained audit log.
--
-- The access policy lives here.  Every table belongs to sac_owner, which
-- cannot log in; no other role has any privilege on a table.  Each group role
-- reaches data only through SECURITY DEFINER functions granted to it alone
-- (sql/0*_*.sql), each of which pins its search_path.
--
-- Personal access data (schema access) holds no credential at all: a badge is
-- referred to by badge id, and the credential lives only in sac.badges
-- (enrollment data).  See docs/architecture.md.

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['sac_owner', 'sac_ingest', 'sac_purge', 'sac_admin',
                             'sac_certifier', 'sac_officer', 'sac_auditor'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
    EXECUTE format('GRANT CREATE ON DATABASE %I TO sac_owner', current_database());
    -- Only the sac group roles may connect: a login role in no group cannot
    -- even read the server's statistics views (SPEC §4).
    EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO sac_ingest, sac_purge, sac_admin, '
                   'sac_certifier, sac_officer, sac_auditor', current_database());
END
$$;

SET LOCAL ROLE sac_owner;

-- Functions created by the owner are not executable by PUBLIC; each file
-- grants what each group role needs.
ALTER DEFAULT PRIVILEGES FOR ROLE sac_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

CREATE SCHEMA sac;
CREATE SCHEMA access;
CREATE SCHEMA audit;
REVOKE ALL ON SCHEMA access, audit FROM PUBLIC;
GRANT USAGE ON SCHEMA sac TO sac_ingest, sac_purge, sac_admin, sac_certifier, sac_officer,
    sac_auditor;

-- Names an operator types: sites, readers, zones.
CREATE DOMAIN sac.ident AS text
    CHECK (VALUE ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$');

-- The limits in force: one row, changed only by sac.retention_set (sac_admin,
-- audited).  No daemon, file or function argument chooses them.
--   access_max_age     no access record is older (paragraph 27: at most 24 h)
--   purge_interval     between the starts of two purge passes
--   certification_max  the longest an officer's certification may run
CREATE TABLE sac.settings (
    singleton         boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    access_max_age    interval NOT NULL DEFAULT '24 hours'
                      CHECK (access_max_age BETWEEN interval '1 hour' AND interval '24 hours'),
    purge_interval    interval NOT NULL DEFAULT '60 seconds'
                      CHECK (purge_interval BETWEEN interval '10 seconds' AND interval '30 minutes'),
    certification_max interval NOT NULL DEFAULT '1 year'
                      CHECK (certification_max BETWEEN interval '1 day' AND interval '1 year'),
    changed_at        timestamptz NOT NULL DEFAULT now(),
    changed_by        name NOT NULL DEFAULT current_user
);
INSERT INTO sac.settings DEFAULT VALUES;

CREATE TABLE sac.sites (
    id             integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           sac.ident NOT NULL UNIQUE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    -- A drill's names are shown only after a second certified officer of
    -- the site confirmed it (emergencies never wait).
    drill_confirm  boolean NOT NULL DEFAULT false
);

CREATE TABLE sac.readers (
    id              sac.ident PRIMARY KEY,
    site_id         integer NOT NULL REFERENCES sac.sites,
    direction       text NOT NULL CHECK (direction IN ('in', 'out', 'muster')),
    zone            sac.ident,
    enabled         boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_seen       timestamptz,          -- updated by the controller every few seconds
    last_controller text
);

CREATE TABLE sac.persons (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    category    text NOT NULL
                CHECK (category IN ('staff', 'contractor', 'consultant', 'visitor', 'delegate')),
    org         text CHECK (length(org) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- A badge: the credential (HMAC of the UID) and, unless it is a pool badge,
-- the person it belongs to.  Enrollment data, not access data.
CREATE TABLE sac.badges (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    credential  bytea NOT NULL UNIQUE CHECK (length(credential) = 32),
    person_id   bigint REFERENCES sac.persons ON DELETE CASCADE,
    valid_until timestamptz,
    enrolled_at timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
ALTER TABLE sac.badges ALTER COLUMN credential SET STATISTICS 0;
CREATE INDEX ON sac.badges (person_id);

-- Officers: a database role certified for a site until an expiry.
CREATE TABLE sac.certifications (
    role_name    name NOT NULL,
    site_id      integer NOT NULL REFERENCES sac.sites,
    certified_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    certified_by name NOT NULL,
    PRIMARY KEY (role_name, site_id)
);

-- The rules an officer must acknowledge (paragraph 27 in plain words).
CREATE TABLE sac.rules (
    version      integer PRIMARY KEY,
    body         text NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sac.acknowledgements (
    role_name       name NOT NULL,
    rules_version   integer NOT NULL REFERENCES sac.rules,
    acknowledged_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (role_name, rules_version, acknowledged_at)
);

CREATE TABLE sac.emergencies (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id     integer NOT NULL REFERENCES sac.sites,
    kind        text NOT NULL CHECK (kind IN ('drill', 'emergency')),
    reason      text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    declared_at timestamptz NOT NULL DEFAULT now(),
    declared_by name NOT NULL,
    closed_at   timestamptz,
    closed_by   name,
    confirmed_at timestamptz,   -- a drill confirmed by a second officer
    confirmed_by name
);
CREATE UNIQUE INDEX emergencies_one_open_per_site ON sac.emergencies (site_id)
    WHERE closed_at IS NULL;

-- --- access: personal access data, deleted on the legal schedule ----------

-- The event ledger: one row per event a reader reported, for exactly-once
-- storage (redeliveries) and denial counts.  It carries no credential and no
-- badge: what links a person to the premises is only access.presence.
-- Hourly partitions, so that retention drops whole files.
--   occurred_at: the reader's time, or the arrival time when the reader's
--   clock was ahead by more than the allowed skew; retention is measured
--   from it (and it is never more than the skew later than the arrival).
CREATE TABLE access.events (
    occurred_at timestamptz NOT NULL,
    reader_id   text NOT NULL,
    event_id    uuid NOT NULL,
    received_at timestamptz NOT NULL,
    verdict     "char" NOT NULL CHECK (verdict IN ('G', 'D')),
    site_id     integer NOT NULL,
    direction   "char" NOT NULL CHECK (direction IN ('i', 'o', 'm')),
    zone        text,
    PRIMARY KEY (reader_id, event_id, occurred_at)
) PARTITION BY RANGE (occurred_at);

-- No column of an access table keeps planner statistics (pg_statistic would
-- keep sampled values: times, readers, zones, badges): every column's
-- statistics target is 0, so ANALYZE and autovacuum record none.  Applied
-- to each table below and to each new partition of the ledger.  Plans do
-- not need them: the access functions pin their join methods.
CREATE FUNCTION access.no_statistics(p_table regclass) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a name;
BEGIN
    FOR a IN SELECT attname FROM pg_attribute
             WHERE attrelid = p_table AND attnum > 0 AND NOT attisdropped LOOP
        EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET STATISTICS 0', p_table, a);
    END LOOP;
END
$$;

-- The partition of access.events for the UTC hour holding ts, created if
-- missing: access.events_YYYYMMDDHH.  Used by ingest (on demand) and purge
-- (ahead of time).  Internal: never granted to a group role.
CREATE FUNCTION access.ensure_partition(ts timestamptz) RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h timestamptz := date_trunc('hour', ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    rel text := 'events_' || to_char(ts AT TIME ZONE 'UTC', 'YYYYMMDDHH24');
BEGIN
    IF to_regclass('access.' || rel) IS NOT NULL THEN
        RETURN;
    END IF;
    -- Two sessions (two controllers, or two of a controller's connections)
    -- may race to create the same hour: serialise on it.  The loser's
    -- catalog view may predate the winner's commit (an advisory lock does
    -- not refresh it), so "already exists" is the other way to learn that
    -- the hour is there.
    PERFORM pg_advisory_xact_lock(7302, extract(epoch FROM h)::integer);
    IF to_regclass('access.' || rel) IS NULL THEN
        BEGIN
            EXECUTE format('CREATE TABLE access.%I PARTITION OF access.events '
                           'FOR VALUES FROM (%L) TO (%L)', rel, h, h + interval '1 hour');
            PERFORM access.no_statistics(('access.' || rel)::regclass);
        EXCEPTION WHEN duplicate_table THEN
            NULL;
        END;
    END IF;
END
$$;

-- One row per badge on the premises: the open read-in/read-out cycle.  The
-- read-out deletes it; sac-purge rewrites the table so the bytes go too.
-- Split by badge into 16 partitions that a purge pass rewrites one at a
-- time, each in its own short transaction: ingest waits, if at all, for
-- the rewrite of one sixteenth of the table.
CREATE TABLE access.presence (
    badge_id    bigint PRIMARY KEY,
    person_id   bigint,                 -- NULL: a pool badge (unidentified)
    site_id     integer NOT NULL,
    zone        text,
    since       timestamptz NOT NULL,   -- the read-in; retention is measured from it
    last_seen   timestamptz NOT NULL,
    last_reader text NOT NULL
) PARTITION BY HASH (badge_id);
CREATE INDEX presence_site ON access.presence (site_id);

-- The latest read-out of each badge that left, for as long as a read-in
-- older than it could still be stored: a read-in delivered late (spooled on
-- an offline reader) that is older than the badge's last read-out must not
-- make it present again.  Badge and time only; removed once left_at is past
-- the retention cut-off (no older read-in is stored then) and rewritten by
-- every purge pass with the presence partition of the same number.
CREATE TABLE access.departures (
    badge_id    bigint PRIMARY KEY,
    left_at     timestamptz NOT NULL
) PARTITION BY HASH (badge_id);

-- The number of partitions of access.presence and access.departures.
CREATE FUNCTION access.presence_parts() RETURNS integer
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog
AS $$ SELECT 16 $$;

DO $$
DECLARE
    t text;
    i integer;
BEGIN
    FOREACH t IN ARRAY ARRAY['presence', 'departures'] LOOP
        FOR i IN 0 .. access.presence_parts() - 1 LOOP
            EXECUTE format('CREATE TABLE access.%I PARTITION OF access.%I '
                           'FOR VALUES WITH (MODULUS %s, REMAINDER %s)',
                           t || '_' || lpad(i::text, 2, '0'), t, access.presence_parts(), i);
        END LOOP;
    END LOOP;
END
$$;

-- The muster roll of an emergency: who was present when it was declared,
-- and who has since reached a muster point or left the site.
CREATE TABLE access.muster_roll (
    emergency_id  bigint NOT NULL,
    badge_id      bigint NOT NULL,
    person_id     bigint,
    zone          text,
    last_seen     timestamptz,
    state         "char" NOT NULL DEFAULT 'u' CHECK (state IN ('u', 'a', 'l')),
    muster_reader text,
    changed_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (emergency_id, badge_id)
);

-- Presences removed by the 24-hour limit (badged in, never out): counts only.
CREATE TABLE access.presence_expiries (
    site_id    integer NOT NULL,
    removed_at timestamptz NOT NULL DEFAULT now(),
    removed    integer NOT NULL CHECK (removed > 0)
);

SELECT access.no_statistics(c.oid)
FROM pg_class c WHERE c.relnamespace = 'access'::regnamespace AND c.relkind IN ('r', 'p');

-- --- audit: append-only, hash-chained --------------------------------------
--
-- A record is appended by audit.record inside the caller's transaction, and
-- takes no lock that another session could wait on: it is numbered from a
-- sequence and listed in audit.unchained.  The hash chain is computed
-- afterwards, by one writer at a time (audit.chain_pending): it links the
-- committed records in the order it finds them, each link the SHA-256 of
-- the previous link and the record.  Every audit.record call chains what is
-- pending when no other session is chaining (it never waits for one), and
-- sac-purge and the auditor's calls chain too, so a record is normally
-- chained by the transaction that wrote it.  A caller that keeps its
-- transaction open delays only the chaining of records, never a call.

CREATE TABLE audit.log (
    id           bigint PRIMARY KEY,
    at           timestamptz NOT NULL,
    role         name NOT NULL,
    action       text NOT NULL CHECK (action ~ '^[a-z_]{1,40}$'),
    site         text,
    emergency_id bigint,
    outcome      text NOT NULL CHECK (outcome IN ('allowed', 'refused', 'failed')),
    count        bigint,
    detail       text
);
CREATE SEQUENCE audit.log_id_seq;

-- The chain: position seq links record log_id.
CREATE TABLE audit.chain (
    seq        bigint PRIMARY KEY,
    log_id     bigint NOT NULL UNIQUE,
    chained_at timestamptz NOT NULL,
    link       bytea NOT NULL
);

-- Records written but not chained yet.
CREATE TABLE audit.unchained (
    log_id bigint PRIMARY KEY
);

-- The link of position p_seq: the canonical content (a JSON array of the
-- fields) hashed after the previous link.
CREATE FUNCTION audit.row_hash(p_prev bytea, p_seq bigint, p_id bigint, p_at timestamptz,
                               p_role name, p_action text, p_site text, p_emergency bigint,
                               p_outcome text, p_count bigint, p_detail text)
RETURNS bytea
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT sha256(p_prev || convert_to(jsonb_build_array(
        p_seq, p_id, to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        p_role, p_action, p_site, p_emergency, p_outcome, p_count, p_detail)::text, 'UTF8'))
$$;

-- Numbers the row and stamps time and acting role: callers cannot choose
-- them.  No lock.
CREATE FUNCTION audit.log_stamp() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    NEW.id := nextval('audit.log_id_seq');
    NEW.at := clock_timestamp();
    NEW.role := session_user;
    RETURN NEW;
END
$$;

CREATE FUNCTION audit.refuse_change() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER log_stamp BEFORE INSERT ON audit.log
    FOR EACH ROW EXECUTE FUNCTION audit.log_stamp();
CREATE TRIGGER log_no_update_delete BEFORE UPDATE OR DELETE ON audit.log
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER log_no_truncate BEFORE TRUNCATE ON audit.log
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER chain_no_update_delete BEFORE UPDATE OR DELETE ON audit.chain
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER chain_no_truncate BEFORE TRUNCATE ON audit.chain
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();

-- Chains every committed record still pending, unless another session is
-- chaining right now (then it returns NULL at once: it never waits).  Only
-- under READ COMMITTED, where each statement sees what the previous
-- chainer committed.  Returns how many records it chained.
CREATE FUNCTION audit.chain_pending() RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    v_seq bigint;
    v_link bytea;
    r audit.log;
    n bigint := 0;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed'
       OR NOT pg_try_advisory_xact_lock(7301, 1) THEN
        RETURN NULL;
    END IF;
    SELECT c.seq, c.link INTO v_seq, v_link FROM audit.chain c ORDER BY c.seq DESC LIMIT 1;
    v_seq := coalesce(v_seq, 0);
    v_link := coalesce(v_link, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
    FOR r IN SELECT l.* FROM audit.unchained u JOIN audit.log l ON l.id = u.log_id
             ORDER BY l.id LOOP
        v_seq := v_seq + 1;
        v_link := audit.row_hash(v_link, v_seq, r.id, r.at, r.role, r.action, r.site,
                                 r.emergency_id, r.outcome, r.count, r.detail);
        INSERT INTO audit.chain (seq, log_id, chained_at, link)
        VALUES (v_seq, r.id, clock_timestamp(), v_link);
        DELETE FROM audit.unchained WHERE log_id = r.id;
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

-- Appends one audit record; called by the SECURITY DEFINER functions, never
-- granted to a group role.  Never pass personal data or a caller's free
-- text: ids, counts, fixed words, and typed values under fixed keys.
CREATE FUNCTION audit.record(p_action text, p_outcome text, p_site text DEFAULT NULL,
                             p_emergency bigint DEFAULT NULL, p_count bigint DEFAULT NULL,
                             p_detail text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
    v_id bigint;
BEGIN
    INSERT INTO audit.log (id, at, role, action, site, emergency_id, outcome, count, detail)
    VALUES (0, now(), session_user, p_action, p_site, p_emergency, p_outcome, p_count, p_detail)
    RETURNING id INTO v_id;
    INSERT INTO audit.unchained (log_id) VALUES (v_id);
    PERFORM audit.chain_pending();
    RETURN v_id;
END
$$;

-- The id of the first record that does not verify: a chain position whose
-- link does not match its record (altered), whose record is gone (removed),
-- or that does not follow the one before (position removed), or a record
-- that is neither chained nor pending (inserted behind the functions' back);
-- NULL when the whole log verifies.
CREATE FUNCTION audit.first_broken_row() RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT min(b.id) FROM (
        SELECT c.log_id AS id
        FROM (SELECT x.seq, x.log_id, x.link,
                     lag(x.link) OVER (ORDER BY x.seq) AS prev,
                     row_number() OVER (ORDER BY x.seq) AS n
              FROM audit.chain x) c
        LEFT JOIN audit.log l ON l.id = c.log_id
        WHERE l.id IS NULL OR c.seq <> c.n
           OR c.link IS DISTINCT FROM audit.row_hash(
                  coalesce(c.prev, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea),
                  c.seq, l.id, l.at, l.role, l.action, l.site, l.emergency_id, l.outcome,
                  l.count, l.detail)
        UNION ALL
        SELECT l.id FROM audit.log l
        WHERE NOT EXISTS (SELECT 1 FROM audit.chain c WHERE c.log_id = l.id)
          AND NOT EXISTS (SELECT 1 FROM audit.unchained u WHERE u.log_id = l.id)
        UNION ALL
        SELECT u.log_id FROM audit.unchained u
        WHERE NOT EXISTS (SELECT 1 FROM audit.log l WHERE l.id = u.log_id)
    ) b
$$;

-- The head of the chain: its last position and link (NULLs when empty).
CREATE FUNCTION audit.chain_head(OUT seq bigint, OUT link bytea, OUT chained_at timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT c.seq, c.link, c.chained_at FROM audit.chain c ORDER BY c.seq DESC LIMIT 1
$$;

RESET ROLE;
