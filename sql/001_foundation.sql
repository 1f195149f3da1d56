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

CREATE TABLE sac.sites (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        sac.ident NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
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
    closed_by   name
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
    -- Two sessions may race to create the same hour: serialise on it.
    PERFORM pg_advisory_xact_lock(7302, extract(epoch FROM h)::integer);
    IF to_regclass('access.' || rel) IS NULL THEN
        EXECUTE format('CREATE TABLE access.%I PARTITION OF access.events '
                       'FOR VALUES FROM (%L) TO (%L)', rel, h, h + interval '1 hour');
    END IF;
END
$$;

-- One row per badge on the premises: the open read-in/read-out cycle.  The
-- read-out deletes it; sac-purge rewrites the table so the bytes go too.
CREATE TABLE access.presence (
    badge_id    bigint PRIMARY KEY,
    person_id   bigint,                 -- NULL: a pool badge (unidentified)
    site_id     integer NOT NULL,
    zone        text,
    since       timestamptz NOT NULL,   -- the read-in; retention is measured from it
    last_seen   timestamptz NOT NULL,
    last_reader text NOT NULL
);
CREATE INDEX presence_site ON access.presence (site_id);
ALTER TABLE access.presence ALTER COLUMN badge_id SET STATISTICS 0;
ALTER TABLE access.presence ALTER COLUMN person_id SET STATISTICS 0;

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
ALTER TABLE access.muster_roll ALTER COLUMN badge_id SET STATISTICS 0;
ALTER TABLE access.muster_roll ALTER COLUMN person_id SET STATISTICS 0;

-- Presences removed by the 24-hour limit (badged in, never out): counts only.
CREATE TABLE access.presence_expiries (
    site_id    integer NOT NULL,
    removed_at timestamptz NOT NULL DEFAULT now(),
    removed    integer NOT NULL CHECK (removed > 0)
);

-- --- audit: append-only, hash-chained --------------------------------------

CREATE TABLE audit.log (
    id           bigint PRIMARY KEY,
    at           timestamptz NOT NULL,
    role         name NOT NULL,
    action       text NOT NULL CHECK (action ~ '^[a-z_]{1,40}$'),
    site         text,
    emergency_id bigint,
    outcome      text NOT NULL CHECK (outcome IN ('allowed', 'refused', 'failed')),
    count        bigint,
    detail       text,
    prev_hash    bytea NOT NULL,
    hash         bytea NOT NULL
);
CREATE SEQUENCE audit.log_id_seq;

-- The canonical content hashed into the chain: a JSON array of the fields.
CREATE FUNCTION audit.row_hash(p_prev bytea, p_id bigint, p_at timestamptz, p_role name,
                               p_action text, p_site text, p_emergency bigint,
                               p_outcome text, p_count bigint, p_detail text)
RETURNS bytea
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT sha256(p_prev || convert_to(jsonb_build_array(
        p_id, to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        p_role, p_action, p_site, p_emergency, p_outcome, p_count, p_detail)::text, 'UTF8'))
$$;

-- Serialises writers, numbers the row after taking the lock (so id order is
-- chain order), and stamps time and acting role: callers cannot choose them.
CREATE FUNCTION audit.log_chain() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    prev bytea;
BEGIN
    PERFORM pg_advisory_xact_lock(7301, 1);
    NEW.id := nextval('audit.log_id_seq');
    NEW.at := clock_timestamp();
    NEW.role := session_user;
    SELECT l.hash INTO prev FROM audit.log l ORDER BY l.id DESC LIMIT 1;
    NEW.prev_hash := coalesce(prev, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
    NEW.hash := audit.row_hash(NEW.prev_hash, NEW.id, NEW.at, NEW.role, NEW.action, NEW.site,
                               NEW.emergency_id, NEW.outcome, NEW.count, NEW.detail);
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

CREATE TRIGGER log_chain BEFORE INSERT ON audit.log
    FOR EACH ROW EXECUTE FUNCTION audit.log_chain();
CREATE TRIGGER log_no_update_delete BEFORE UPDATE OR DELETE ON audit.log
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER log_no_truncate BEFORE TRUNCATE ON audit.log
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();

-- Appends one audit record; called by the SECURITY DEFINER functions, never
-- granted to a group role.  Never pass personal data: ids, counts, words.
CREATE FUNCTION audit.record(p_action text, p_outcome text, p_site text DEFAULT NULL,
                             p_emergency bigint DEFAULT NULL, p_count bigint DEFAULT NULL,
                             p_detail text DEFAULT NULL)
RETURNS bigint
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
    INSERT INTO audit.log (id, at, role, action, site, emergency_id, outcome, count, detail,
                           prev_hash, hash)
    VALUES (0, now(), session_user, p_action, p_site, p_emergency, p_outcome, p_count, p_detail,
            '\x', '\x')
    RETURNING id
$$;

-- Walks the chain: the id of the first row whose hash or link does not
-- verify, or NULL when the whole log is intact.
CREATE FUNCTION audit.first_broken_row() RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT min(id) FROM (
        SELECT l.id, l.hash, l.prev_hash,
               lag(l.hash) OVER (ORDER BY l.id) AS expected_prev,
               row_number() OVER (ORDER BY l.id) AS n,
               audit.row_hash(l.prev_hash, l.id, l.at, l.role, l.action, l.site,
                              l.emergency_id, l.outcome, l.count, l.detail) AS recomputed
        FROM audit.log l
    ) c
    WHERE c.hash IS DISTINCT FROM c.recomputed
       OR (c.n = 1 AND c.prev_hash <> '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
       OR (c.n > 1 AND c.prev_hash IS DISTINCT FROM c.expected_prev)
$$;

RESET ROLE;
