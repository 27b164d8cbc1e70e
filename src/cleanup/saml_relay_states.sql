-- SSO sign-ins (src/sso/) begun more than $2 seconds ago (the relay state's validity and an
-- hour): abandoned at the IdP, or spent by a response that was refused. At most $1 rows,
-- oldest first.
DELETE FROM auth.saml_relay_states WHERE id = ANY (ARRAY(
    SELECT r.id FROM auth.saml_relay_states r
     WHERE r.created_at < now() - make_interval(secs => $2)
     ORDER BY r.created_at LIMIT $1 FOR UPDATE SKIP LOCKED))
