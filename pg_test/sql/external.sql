-- Social login (src/external, core/src/external): the owner's provider settings, the flow's
-- state, the broker's two callback calls with the provider's answer passed in as arguments (no
-- network here), GoTrue's account-linking rules, and unlinking. The broker functions are called
-- as the superuser, the way the shim (auth_provider_broker) calls them.
\set VERBOSITY terse
\set SHOW_CONTEXT never
BEGIN;
SELECT auth.configure('{"argon2_memory_kib": 1024, "argon2_iterations": 1, "mailer_autoconfirm": true,
                        "uri_allow_list": "https://app.example.com/**"}') IS NOT NULL AS configured;
-- What a call answers: ok, or its SQLSTATE, GoTrue's code (the DETAIL) and message.
CREATE FUNCTION pg_temp.attempt(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE state text; code text; msg text;
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, code = PG_EXCEPTION_DETAIL, msg = MESSAGE_TEXT;
    RETURN state || ' ' || coalesce(nullif(code, ''), '-') || ': '
        || regexp_replace(msg, '[0-9a-f]{8}-[0-9a-f-]{27}', '<uuid>', 'g');
END $$;
-- The state a flow's authorization URL carries (what the browser brings back to /callback).
CREATE FUNCTION pg_temp.state_of(answer jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT substring(answer->>'url' FROM 'state=([^&]+)') $$;
-- The stored flow of an authorization answer (found by the state's hash).
CREATE FUNCTION pg_temp.flow(answer jsonb) RETURNS SETOF auth.oauth_states LANGUAGE sql AS $$
    SELECT * FROM auth.oauth_states
     WHERE state_hash = encode(sha256(convert_to(pg_temp.state_of(answer), 'UTF8')), 'hex') $$;
-- A URL with its random or time-dependent values masked.
CREATE FUNCTION pg_temp.masked(url text) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(url, '(state|code_challenge|access_token|refresh_token|expires_at)=[^&]+',
                          '\1=<…>', 'g') $$;
-- A whole GitHub sign-in as the shim runs it: authorize, take the state, finish with what
-- GitHub's user API and emails API answered.
CREATE FUNCTION pg_temp.github(userinfo jsonb, emails jsonb, redirect_to text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE state text := pg_temp.state_of(auth.oauth_authorize('github', redirect_to));
BEGIN
    PERFORM auth.oauth_callback_take(state);
    RETURN auth.oauth_callback_finish(state, userinfo => userinfo, emails => emails,
                                      provider_access_token => 'gho_x');
END $$;
-- A user as the tests show them: no ids, no timestamps.
CREATE FUNCTION pg_temp.user_row(address text)
RETURNS TABLE (email text, confirmed boolean, has_password boolean, app_metadata jsonb, user_metadata jsonb)
LANGUAGE sql AS $$
    SELECT u.email, u.email_confirmed_at IS NOT NULL, u.encrypted_password IS NOT NULL,
           u.raw_app_meta_data, u.raw_user_meta_data
      FROM auth.users u WHERE u.email = address $$;
CREATE FUNCTION pg_temp.identities_of(user_id uuid)
RETURNS TABLE (provider text, provider_id text, email text, identity_data jsonb)
LANGUAGE sql AS $$
    SELECT i.provider, CASE WHEN i.provider_id = i.user_id::text THEN '<user id>' ELSE i.provider_id END,
           i.email, i.identity_data - 'sub'
      FROM auth.identities i WHERE i.user_id = identities_of.user_id ORDER BY i.provider, i.provider_id $$;

-- Provider configuration (the owner's)

-- GitHub, pointed at a local address (GitHub Enterprise's `url`); the answer never repeats the secret
SELECT auth.configure_provider('github', '{"enabled": true, "client_id": "gh", "secret": "s3cret",
                                           "url": "http://127.0.0.1:1"}') AS configured;
-- a configuration is checked whole: unknown members (a typo never leaves a default in
-- place), URLs that are not http(s) or carry credentials, a custom OpenID provider without its
-- issuer, an enabled provider without a client id, a name auth_ext does not know
SELECT pg_temp.attempt($$SELECT auth.configure_provider('github', '{"enabled": true, "client_id": "gh", "scopez": "repo"}')$$) AS unknown_member;
SELECT pg_temp.attempt($$SELECT auth.configure_provider('github', '{"client_id": "gh", "url": "javascript:alert(1)"}')$$) AS bad_url;
SELECT pg_temp.attempt($$SELECT auth.configure_provider('github', '{"client_id": "gh", "token_url": "https://u:p@github.example/token"}')$$) AS url_with_credentials;
SELECT pg_temp.attempt($$SELECT auth.configure_provider('custom:acme', '{"enabled": true, "client_id": "acme"}')$$) AS custom_without_issuer;
SELECT pg_temp.attempt($$SELECT auth.configure_provider('github', '{"enabled": true}')$$) AS no_client_id;
SELECT pg_temp.attempt($$SELECT auth.configure_provider('facebookk', '{"client_id": "x"}')$$) AS unknown_provider;
-- a custom OpenID provider with its issuer is accepted; its endpoints come from discovery
SELECT auth.configure_provider('custom:acme', '{"enabled": true, "client_id": "acme", "secret": "acme-secret",
                                                "issuer": "https://idp.acme.example"}') AS configured;
-- a disabled provider may be configured ahead of time
SELECT auth.configure_provider('gitlab', '{"enabled": false, "client_id": "gl", "secret": "gl-secret"}') AS configured;
-- the owner's view: the settings, whether there is a secret, the endpoints a flow will use
SELECT jsonb_pretty(auth.providers()) AS providers;
-- the secret is in no member of it, nor in the stored config: only in its own column
SELECT position('s3cret' IN auth.providers()::text) = 0 AS not_in_providers,
       bool_and(position('secret' IN config::text) = 0) AS not_in_config,
       count(*) FILTER (WHERE secret IS NOT NULL) AS with_secret
  FROM auth.identity_providers;
-- configured again without a secret, the stored one stays
SELECT auth.configure_provider('github', '{"enabled": true, "client_id": "gh", "url": "http://127.0.0.1:1"}') IS NOT NULL AS reconfigured;
SELECT secret = 's3cret' AS secret_kept FROM auth.identity_providers WHERE name = 'github';
-- the API roles read neither the table nor, through the functions, the secret
\set VERBOSITY default
SAVEPOINT r;
SET LOCAL ROLE anon;
SELECT * FROM auth.identity_providers;
ROLLBACK TO r;
SET LOCAL ROLE authenticated;
SELECT * FROM auth.identity_providers;
ROLLBACK TO r;
SET LOCAL ROLE service_role;
SELECT * FROM auth.identity_providers;
ROLLBACK TO r;
SET LOCAL ROLE service_role;
SELECT auth.providers();
ROLLBACK TO r;
\set VERBOSITY terse

-- Starting a flow: auth.oauth_authorize (GET /authorize, signInWithOAuth)

-- the provider's URL: client id, the callback registered with the provider, GitHub's default
-- scope and the caller's, a random state, PKCE towards the provider; reserved parameters a
-- caller passes are dropped, others go through
SELECT pg_temp.masked(a->>'url') AS url
  FROM auth.oauth_authorize('github', scopes => 'read:org',
                            params => '{"login": "octo", "state": "forced", "client_id": "evil"}') a;
SELECT auth.oauth_authorize('GitHub') AS a \gset
SELECT pg_temp.state_of(:'a') AS state \gset
SELECT length(:'state') AS state_length;
-- the state is stored only as its SHA-256: a read of the table cannot replay a flow
SELECT count(*) FILTER (WHERE state_hash = :'state') AS stored_in_clear,
       count(*) FILTER (WHERE state_hash = encode(sha256(convert_to(:'state', 'UTF8')), 'hex')) AS stored_hashed
  FROM auth.oauth_states;
SELECT provider, redirect_to, code_challenge IS NULL AS no_app_pkce, provider_code_verifier IS NOT NULL AS pkce_with_github,
       nonce IS NULL AS no_nonce, link_user_id IS NULL AS not_a_link, taken_at IS NULL AS not_taken
  FROM pg_temp.flow(:'a');
-- redirect_to: an allowed URL is kept, any other falls back to site_url
SELECT redirect_to FROM pg_temp.flow(auth.oauth_authorize('github', 'https://app.example.com/welcome'));
SELECT redirect_to FROM pg_temp.flow(auth.oauth_authorize('github', 'https://evil.example/steal'));
SELECT redirect_to FROM pg_temp.flow(auth.oauth_authorize('github'));
-- refused: an unknown or unconfigured provider, a disabled one, none at all
SELECT pg_temp.attempt($$SELECT auth.oauth_authorize('facebookk')$$) AS unknown,
       pg_temp.attempt($$SELECT auth.oauth_authorize('discord')$$) AS not_configured;
SELECT pg_temp.attempt($$SELECT auth.oauth_authorize('gitlab')$$) AS disabled;
SELECT pg_temp.attempt($$SELECT auth.oauth_authorize(NULL)$$) AS no_provider;
-- a custom provider not yet discovered: the broker is asked to fetch its discovery document
SELECT auth.oauth_authorize('custom:acme') AS answer;

-- The callback: the broker takes the state, exchanges the code, then finishes

-- finishing a state that was never taken is refused
SELECT pg_temp.attempt(format($$SELECT auth.oauth_callback_finish(%L, userinfo => '{"id": 1}')$$, :'state')) AS finish_before_take;
-- take: what the token exchange needs, the client secret among it (hence the broker's only)
SELECT t - 'code_verifier' AS taken, length(t->>'code_verifier') AS code_verifier_length
  FROM auth.oauth_callback_take(:'state') t;
-- once: a replayed state, an unknown one, none
SELECT pg_temp.attempt(format($$SELECT auth.oauth_callback_take(%L)$$, :'state')) AS taken_twice,
       pg_temp.attempt($$SELECT auth.oauth_callback_take('not-a-state')$$) AS unknown,
       pg_temp.attempt($$SELECT auth.oauth_callback_take('')$$) AS empty;
-- finish with GitHub's answer: a new user, signed in; the session (and GitHub's token) in the
-- fragment of site_url
SELECT pg_temp.masked(f->>'location') AS location
  FROM auth.oauth_callback_finish(:'state',
         userinfo => '{"id": 42, "login": "octo", "name": "Octo", "avatar_url": "https://avatars.example/42"}',
         emails => '[{"email": "old@example.com", "primary": false, "verified": true},
                     {"email": "Octo@Example.com", "primary": true, "verified": true}]',
         provider_access_token => 'gho_x') f;
-- the state is gone: finishing twice is refused
SELECT pg_temp.attempt(format($$SELECT auth.oauth_callback_finish(%L, userinfo => '{"id": 42}')$$, :'state')) AS finished_twice;
-- (1) create: the primary verified address, confirmed; app_metadata names github; GitHub's
-- profile in GoTrue's claim names as user_metadata and as the identity's data
SELECT * FROM pg_temp.user_row('octo@example.com');
SELECT id AS octo FROM auth.users WHERE email = 'octo@example.com' \gset
SELECT * FROM pg_temp.identities_of(:'octo');
SELECT count(*) AS sessions FROM auth.sessions WHERE user_id = :'octo';
-- (2) a returning identity signs in as the same user; its data is what GitHub says now
SELECT pg_temp.masked(pg_temp.github('{"id": 42, "login": "octo", "name": "Octo Cat"}',
       '[{"email": "octo@example.com", "primary": true, "verified": true}]')->>'location') AS location;
SELECT count(*) AS octo_users, count(*) FILTER (WHERE id = :'octo') AS same_user
  FROM auth.users WHERE raw_user_meta_data->>'user_name' = 'octo';
SELECT count(*) AS identities, max(identity_data->>'full_name') AS full_name FROM auth.identities WHERE user_id = :'octo';
SELECT count(*) AS sessions FROM auth.sessions WHERE user_id = :'octo';
-- the app's redirect_to, when allowed, receives the session
SELECT pg_temp.masked(pg_temp.github('{"id": 42, "login": "octo"}',
       '[{"email": "octo@example.com", "primary": true, "verified": true}]',
       'https://app.example.com/welcome')->>'location') AS location;
-- the app's PKCE flow (code_challenge given to /authorize): the callback sends an auth code,
-- GitHub's tokens wait in the flow state, and the exchange gives them out once with the session
SELECT repeat('verifier-', 6) AS verifier \gset
SELECT rtrim(translate(encode(sha256(convert_to(:'verifier', 'UTF8')), 'base64'), '+/', '-_'), '=') AS challenge \gset
SELECT pg_temp.state_of(auth.oauth_authorize('github', code_challenge => :'challenge', code_challenge_method => 's256')) AS state \gset
SELECT auth.oauth_callback_take(:'state') IS NOT NULL AS taken;
SELECT auth.oauth_callback_finish(:'state', userinfo => '{"id": 42, "login": "octo"}',
       emails => '[{"email": "octo@example.com", "primary": true, "verified": true}]',
       provider_access_token => 'gho_x', provider_refresh_token => 'ghr_y')->>'location' AS location \gset
SELECT regexp_replace(:'location', '[0-9a-f]{8}-[0-9a-f-]{27}', '<uuid>') AS location;
SELECT provider_type, provider_access_token, provider_refresh_token, authentication_method, code_challenge_method
  FROM auth.flow_state WHERE user_id = :'octo';
SELECT s->>'provider_token' AS provider_token, s->>'provider_refresh_token' AS provider_refresh_token,
       s->'user'->>'email' AS email, auth.verify_jwt(s->>'access_token')->'amr'->0->>'method' AS amr
  FROM auth.exchange_code_for_session(substring(:'location' FROM 'code=([^&]+)'), :'verifier') s;
SELECT count(*) AS flow_states_left FROM auth.flow_state WHERE user_id = :'octo';
-- a state lives 10 minutes
SELECT pg_temp.state_of(auth.oauth_authorize('github')) AS state \gset
UPDATE auth.oauth_states SET created_at = now() - interval '11 minutes' WHERE state_hash = encode(sha256(convert_to(:'state', 'UTF8')), 'hex');
SELECT pg_temp.attempt(format($$SELECT auth.oauth_callback_take(%L)$$, :'state')) AS expired;
-- a provider answer without any address is refused (email_optional is off)
SELECT pg_temp.attempt($$SELECT pg_temp.github('{"id": 99, "login": "nomail"}', '[]')$$) AS no_email;
-- nor without a user id
SELECT pg_temp.attempt($$SELECT pg_temp.github('{"login": "noid"}', '[{"email": "noid@example.com", "primary": true, "verified": true}]')$$) AS no_id;

-- (3) link by verified address: an email/password user (signed up yesterday) gets the GitHub
-- identity when GitHub says it verified the same address; it signs in as them
SELECT (auth.sign_up('ada@example.com', 'ada-password-1')->'user'->>'id') AS ada \gset
UPDATE auth.identities SET created_at = now() - interval '1 day' WHERE user_id = :'ada';
SELECT pg_temp.masked(pg_temp.github('{"id": 1815, "login": "ada", "name": "Ada"}',
       '[{"email": "ADA@example.com", "primary": true, "verified": true}]')->>'location') AS location;
SELECT * FROM pg_temp.user_row('ada@example.com');
SELECT * FROM pg_temp.identities_of(:'ada');
SELECT count(*) AS users_with_the_address FROM auth.users WHERE email = 'ada@example.com';
SELECT payload->>'action' AS action, payload->'traits'->>'provider' AS provider
  FROM auth.audit_log_entries WHERE payload->>'actor_id' = :'ada' ORDER BY created_at, payload->>'action';

-- With mailer_autoconfirm off, an address counts as GoTrue's only when the provider verified it
SELECT auth.configure('{"mailer_autoconfirm": false}') IS NOT NULL AS autoconfirm_off;
-- (4) no link by an unverified address: another GitHub user whose only address is Ada's,
-- unverified, is refused (GoTrue's provider_email_needs_verification): not linked to Ada, and no
-- address-less user made that could never sign in
SELECT pg_temp.attempt($$SELECT pg_temp.github('{"id": 666, "login": "mallory", "email": "ada@example.com"}',
       '[{"email": "ada@example.com", "primary": true, "verified": false}]')$$) AS mallory;
SELECT count(*) AS mallory_identities FROM auth.identities WHERE provider = 'github' AND provider_id = '666';
SELECT count(*) AS ada_identities FROM auth.identities WHERE user_id = :'ada';
-- an unverified address no one holds (GitHub's public profile address; unverified entries of
-- the emails list are not used): the user is kept, a confirmation mail goes out, and there is
-- no session until the address is confirmed (GoTrue's provider_email_needs_verification)
SELECT pg_temp.github('{"id": 7, "login": "newbie", "email": "newbie@example.com"}',
       '[{"email": "newbie@example.com", "primary": true, "verified": false}]') AS answer;
SELECT * FROM pg_temp.user_row('newbie@example.com');
SELECT action, recipient FROM auth.outbox ORDER BY id DESC LIMIT 1;
SELECT count(*) AS sessions FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id WHERE u.email = 'newbie@example.com';
-- (5) the takeover guard: Bob signed up with a password but never confirmed; GitHub verifies
-- the address for its user. The identity is linked, the password (whoever set it never proved
-- the address) and the email identity are removed, and the account is confirmed.
-- (without a session, sign_up answers with the user itself)
SELECT (auth.sign_up('bob@example.com', 'maybe-not-bob')->>'id') AS bob \gset
SELECT * FROM pg_temp.user_row('bob@example.com');
SELECT pg_temp.masked(pg_temp.github('{"id": 2024, "login": "bob", "name": "Bob"}',
       '[{"email": "bob@example.com", "primary": true, "verified": true}]')->>'location') AS location;
SELECT * FROM pg_temp.user_row('bob@example.com');
SELECT * FROM pg_temp.identities_of(:'bob');
SELECT pg_temp.attempt($$SELECT auth.sign_in_with_password('bob@example.com', 'maybe-not-bob')$$) AS old_password;

-- (6) Unlinking (DELETE /user/identities/{id}, unlinkIdentity)
SELECT id AS ada_github FROM auth.identities WHERE user_id = :'ada' AND provider = 'github' \gset
SELECT id AS ada_email FROM auth.identities WHERE user_id = :'ada' AND provider = 'email' \gset
-- as Ada, with a token of her GitHub sign-in
SELECT substring(pg_temp.github('{"id": 1815, "login": "ada"}',
       '[{"email": "ada@example.com", "primary": true, "verified": true}]')->>'location'
       FROM 'access_token=([^&]+)') AS ada_token \gset
SELECT set_config('request.jwt.claims', auth.verify_jwt(:'ada_token')::text, true) IS NOT NULL AS as_ada;
SELECT auth.uid() = :'ada' AS is_ada;
-- manual linking is off by default: refused before anything else
SELECT pg_temp.attempt(format($$SELECT auth.unlink_identity(%L)$$, :'ada_github')) AS linking_off;
SELECT auth.configure('{"security_manual_linking_enabled": true}') IS NOT NULL AS linking_on;
-- an identity that is not the caller's (Octo's), an unknown id, not a uuid
SELECT pg_temp.attempt(format($$SELECT auth.unlink_identity(%L)$$, (SELECT id FROM auth.identities WHERE user_id = :'octo'))) AS someone_elses,
       pg_temp.attempt($$SELECT auth.unlink_identity(gen_random_uuid()::text)$$) AS unknown,
       pg_temp.attempt($$SELECT auth.unlink_identity('1815')$$) AS not_a_uuid;
-- the GitHub identity goes; the address stays (the email identity holds it)
SELECT auth.unlink_identity(:'ada_github') AS unlinked;
SELECT * FROM pg_temp.user_row('ada@example.com');
SELECT * FROM pg_temp.identities_of(:'ada');
-- the last one cannot go
SELECT pg_temp.attempt(format($$SELECT auth.unlink_identity(%L)$$, :'ada_email')) AS last_identity;
SELECT payload->>'action' AS action, payload->'traits'->>'provider' AS provider
  FROM auth.audit_log_entries WHERE payload->>'action' = 'identity_unlinked';
-- without claims: no caller
SELECT set_config('request.jwt.claims', '', true) IS NOT NULL AS claims_cleared;
SELECT pg_temp.attempt(format($$SELECT auth.unlink_identity(%L)$$, :'ada_email')) AS no_caller;

-- linkIdentity (GET /user/identities/authorize): Octo, signed in, adds a GitLab identity. The
-- flow remembers whose it is; the browser's callback then carries no claims.
SELECT auth.configure_provider('gitlab', '{"enabled": true, "client_id": "gl", "url": "http://127.0.0.1:2"}') IS NOT NULL AS gitlab_enabled;
UPDATE auth.identities SET created_at = now() - interval '1 day' WHERE user_id = :'octo';
SELECT substring(pg_temp.github('{"id": 42, "login": "octo"}',
       '[{"email": "octo@example.com", "primary": true, "verified": true}]')->>'location'
       FROM 'access_token=([^&]+)') AS octo_token \gset
SELECT set_config('request.jwt.claims', auth.verify_jwt(:'octo_token')::text, true) IS NOT NULL AS as_octo;
SELECT auth.oauth_authorize('gitlab', link => true) AS a \gset
SELECT link_user_id = :'octo' AS for_octo FROM pg_temp.flow(:'a');
SELECT set_config('request.jwt.claims', '', true) IS NOT NULL AS callback_without_claims;
SELECT pg_temp.state_of(:'a') AS state \gset
SELECT auth.oauth_callback_take(:'state')->>'token_url' AS token_url;
SELECT pg_temp.masked(auth.oauth_callback_finish(:'state',
       userinfo => '{"id": 5, "username": "octo-gl", "email": "Octo@GitLab.example", "confirmed_at": "2020-01-01T00:00:00Z"}')->>'location') AS location;
SELECT * FROM pg_temp.user_row('octo@example.com');
SELECT * FROM pg_temp.identities_of(:'octo');
-- an identity another user holds (Bob's GitHub), or one Octo already has, cannot be linked
SELECT set_config('request.jwt.claims', auth.verify_jwt(:'octo_token')::text, true) IS NOT NULL AS as_octo;
SELECT auth.oauth_authorize('github', link => true) AS a1 \gset
SELECT auth.oauth_authorize('github', link => true) AS a2 \gset
SELECT pg_temp.state_of(:'a1') AS s1, pg_temp.state_of(:'a2') AS s2 \gset
SELECT auth.oauth_callback_take(:'s1') IS NOT NULL AS taken, auth.oauth_callback_take(:'s2') IS NOT NULL AS taken;
SELECT pg_temp.attempt(format($$SELECT auth.oauth_callback_finish(%L, userinfo => '{"id": 2024}', emails => '[{"email": "bob@example.com", "primary": true, "verified": true}]')$$, :'s1')) AS bobs_identity,
       pg_temp.attempt(format($$SELECT auth.oauth_callback_finish(%L, userinfo => '{"id": 42}', emails => '[{"email": "octo@example.com", "primary": true, "verified": true}]')$$, :'s2')) AS octos_own;
-- unlinking the identity that holds the user's address: the address follows the remaining
-- identity's (GitLab confirmed it, so it stays confirmed)
SELECT auth.unlink_identity((SELECT id::text FROM auth.identities WHERE provider = 'github' AND provider_id = '42')) AS unlinked;
SELECT u.email, u.email_confirmed_at IS NOT NULL AS confirmed, u.raw_app_meta_data AS app_metadata
  FROM auth.users u WHERE u.id = :'octo';
-- An address a provider did not verify never becomes the account's, so it cannot be confirmed
-- for the attacker later: Mallory links a GitLab identity naming the victim's address (GitLab did
-- not confirm it) and unlinks her GitHub; her account keeps no address, and the victim's verified
-- sign-in makes a user of its own (an unverified identity's address pulls no one in)
SELECT set_config('request.jwt.claims', '', true) IS NOT NULL AS claims_cleared;
SELECT substring(pg_temp.github('{"id": 100, "login": "mallory"}',
       '[{"email": "mallory@evil.example", "primary": true, "verified": true}]')->>'location'
       FROM 'access_token=([^&]+)') AS mallory_token \gset
SELECT set_config('request.jwt.claims', auth.verify_jwt(:'mallory_token')::text, true) IS NOT NULL AS as_mallory;
SELECT auth.oauth_authorize('gitlab', link => true) AS a \gset
SELECT set_config('request.jwt.claims', '', true) IS NOT NULL AS callback_without_claims;
SELECT pg_temp.state_of(:'a') AS state \gset
SELECT auth.oauth_callback_take(:'state') IS NOT NULL AS taken;
SELECT auth.oauth_callback_finish(:'state', userinfo => '{"id": 200, "username": "m", "email": "target@corp.example"}') ? 'location' AS linked;
SELECT set_config('request.jwt.claims', auth.verify_jwt(:'mallory_token')::text, true) IS NOT NULL AS as_mallory;
SELECT auth.unlink_identity((SELECT id::text FROM auth.identities WHERE provider = 'github' AND provider_id = '100')) AS unlinked;
SELECT u.email IS NULL AS no_address, u.email_confirmed_at IS NULL AS unconfirmed
  FROM auth.users u JOIN auth.identities i ON i.user_id = u.id WHERE i.provider = 'gitlab' AND i.provider_id = '200';
SELECT set_config('request.jwt.claims', '', true) IS NOT NULL AS claims_cleared;
SELECT pg_temp.masked(pg_temp.github('{"id": 300, "login": "target"}',
       '[{"email": "target@corp.example", "primary": true, "verified": true}]')->>'location') AS victim_location;
SELECT count(DISTINCT user_id) AS distinct_users FROM auth.identities
 WHERE (provider = 'gitlab' AND provider_id = '200') OR (provider = 'github' AND provider_id = '300');
-- a link flow finishes only while the session that asked for it is in force
SELECT set_config('request.jwt.claims', auth.verify_jwt(:'octo_token')::text, true) IS NOT NULL AS as_octo;
SELECT auth.oauth_authorize('gitlab', link => true) AS a \gset
SELECT set_config('request.jwt.claims', '', true) IS NOT NULL AS callback_without_claims;
SELECT pg_temp.state_of(:'a') AS state \gset
UPDATE auth.sessions SET not_after = now() - interval '1 second'
 WHERE id = (auth.verify_jwt(:'octo_token')->>'session_id')::uuid;
SELECT auth.oauth_callback_take(:'state') IS NOT NULL AS taken;
SELECT pg_temp.attempt(format($$SELECT auth.oauth_callback_finish(%L, userinfo => '{"id": 201, "username": "o2", "email": "o2@gitlab.example", "confirmed_at": "2020-01-01"}')$$, :'state')) AS session_ended;
-- linking needs a signed-in caller and manual linking on
SELECT set_config('request.jwt.claims', '', true) IS NOT NULL AS claims_cleared;
SELECT pg_temp.attempt($$SELECT auth.oauth_authorize('github', link => true)$$) AS no_caller;
SELECT auth.configure('{"security_manual_linking_enabled": false}') IS NOT NULL AS linking_off;
SELECT pg_temp.attempt($$SELECT auth.oauth_authorize('github', link => true)$$) AS linking_disabled;

-- Who may call what: the API roles start flows and sign in with ID tokens; only the broker
-- takes states, finishes callbacks and stores provider documents; only the owner configures
SELECT r.rolname, f.fn,
       has_function_privilege(r.rolname, f.fn, 'EXECUTE') AS may_execute
  FROM (VALUES ('anon'), ('authenticated'), ('service_role')) r(rolname)
 CROSS JOIN (VALUES ('auth.oauth_authorize(text,text,text,text,text,jsonb,boolean)'),
                    ('auth.sign_in_with_id_token(text,text,text,text,boolean)'),
                    ('auth.unlink_identity(text)'),
                    ('auth.oauth_callback_take(text)'),
                    ('auth.oauth_callback_finish(text,text,jsonb,jsonb,text,text)'),
                    ('auth.provider_document_store(text,text,jsonb,bigint)'),
                    ('auth.configure_provider(text,jsonb)'),
                    ('auth.remove_provider(text)'),
                    ('auth.providers()')) f(fn)
 ORDER BY f.fn, r.rolname;
SELECT rolname, has_function_privilege('auth_provider_broker', 'auth.oauth_callback_take(text)', 'EXECUTE') AS broker_takes,
       has_function_privilege('auth_provider_broker', 'auth.configure_provider(text,jsonb)', 'EXECUTE') AS broker_configures
  FROM pg_roles WHERE rolname = 'auth_provider_broker';
-- and as each role, actually: permission denied (42501), or the function's own answer
CREATE FUNCTION pg_temp.as_role(role text, statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE answer text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', role);
    answer := pg_temp.attempt(statement);
    RESET ROLE;
    RETURN answer;
END $$;
SELECT r.rolname,
       pg_temp.as_role(r.rolname, $$SELECT auth.oauth_callback_take('x')$$) AS take,
       pg_temp.as_role(r.rolname, $$SELECT auth.oauth_callback_finish('x')$$) AS finish,
       pg_temp.as_role(r.rolname, $$SELECT auth.provider_document_store('github', 'jwks', '{}')$$) AS document_store,
       pg_temp.as_role(r.rolname, $$SELECT auth.configure_provider('github', '{}')$$) AS configure_provider
  FROM (VALUES ('anon'), ('authenticated'), ('service_role')) r(rolname) ORDER BY 1;
SELECT r.rolname,
       pg_temp.as_role(r.rolname, $$SELECT auth.oauth_authorize('github')$$) AS oauth_authorize,
       pg_temp.as_role(r.rolname, $$SELECT auth.sign_in_with_id_token('github', 'x.y.z')$$) AS sign_in_with_id_token
  FROM (VALUES ('anon'), ('authenticated'), ('service_role')) r(rolname) ORDER BY 1;

-- Removing a provider ends its flows in progress; its users' identities stay
SELECT count(*) > 0 AS flows_in_progress FROM auth.oauth_states WHERE provider = 'github';
SELECT auth.remove_provider('github') AS removed, auth.remove_provider('github') AS removed_again;
SELECT count(*) AS flows_left FROM auth.oauth_states WHERE provider = 'github';
SELECT count(*) AS github_identities FROM auth.identities WHERE provider = 'github';
SELECT pg_temp.attempt($$SELECT auth.oauth_authorize('github')$$) AS after_removal;
ROLLBACK;
