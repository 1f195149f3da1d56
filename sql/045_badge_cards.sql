-- 045_badge_cards: revoking DESFire badges.  A DESFire badge's credential is
-- HMAC-SHA256 of a random card number that is stored nowhere but on the
-- card, so a lost card cannot be revoked by its credential: it is revoked
-- by the badge id that `sacctl badge issue` printed.  Re-issuing a card
-- retires the credential it held before, if that is still enrolled.

SET LOCAL ROLE sac_owner;

-- Revokes badge p_badge: denied from the next event on.  Returns its id.
CREATE FUNCTION sac.badge_revoke_id(p_badge bigint) RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id bigint;
BEGIN
    UPDATE sac.badges SET revoked_at = now()
        WHERE id = p_badge AND revoked_at IS NULL
        RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        RAISE EXCEPTION 'no enrolled badge has id %', p_badge USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM audit.record('badge_revoke', 'allowed', NULL, NULL, NULL, 'badge ' || v_id);
    RETURN v_id;
END
$$;
REVOKE ALL ON FUNCTION sac.badge_revoke_id(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sac.badge_revoke_id(bigint) TO sac_admin;

-- Revokes the badge of p_credential if it is enrolled and not revoked;
-- returns its id, or NULL (nothing to retire).  Never raises for an
-- unknown credential: a re-issued card's old badge may be revoked already.
CREATE FUNCTION sac.badge_retire(p_credential bytea) RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id bigint;
BEGIN
    UPDATE sac.badges SET revoked_at = now()
        WHERE credential = p_credential AND revoked_at IS NULL
        RETURNING id INTO v_id;
    IF v_id IS NOT NULL THEN
        PERFORM audit.record('badge_revoke', 'allowed', NULL, NULL, NULL,
                             'badge ' || v_id || ' re-issued');
    END IF;
    RETURN v_id;
END
$$;
REVOKE ALL ON FUNCTION sac.badge_retire(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sac.badge_retire(bytea) TO sac_admin;

RESET ROLE;
