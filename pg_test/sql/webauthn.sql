-- WebAuthn (src/mfa/webauthn.rs, src/passkeys, core/src/mfa/webauthn.rs): MFA webauthn factors
-- and passkeys as GoTrue's /factors and /passkeys have them, both off by default. A real
-- authenticator's answers are made in the browser suite (shim/acceptance/webauthn) and the
-- core's unit tests; here: the options, the switches, the rules and every refusal.
\set VERBOSITY terse
\set SHOW_CONTEXT never
BEGIN;
SELECT auth.configure('{"argon2_memory_kib": 1024, "argon2_iterations": 1, "mailer_autoconfirm": true}') IS NOT NULL AS configured;
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
CREATE FUNCTION pg_temp.as_user(token text) RETURNS boolean LANGUAGE sql AS $$
    SELECT set_config('request.jwt.claims', auth.verify_jwt(token)::text, true) IS NOT NULL $$;
-- base64url (unpadded) of bytes, as WebAuthn's JSON carries them
CREATE FUNCTION pg_temp.b64url(b bytea) RETURNS text LANGUAGE sql AS $$
    SELECT translate(rtrim(replace(encode(b, 'base64'), E'\n', ''), '='), '+/', '-_') $$;
CREATE FUNCTION pg_temp.unb64url(t text) RETURNS bytea LANGUAGE sql AS $$
    SELECT decode(rpad(translate(t, '-_', '+/'), (length(t) + 3) / 4 * 4, '='), 'base64') $$;

SELECT s->>'access_token' AS lea_token FROM auth.sign_up('lea@example.com', 'a long password 1') s \gset
SELECT pg_temp.as_user(:'lea_token') AS as_lea;

-- Off by default: MFA enrolment, and every /passkeys call (404 passkey_disabled)
SELECT pg_temp.attempt($$SELECT auth.mfa_enroll('webauthn', 'Lea''s key')$$) AS mfa_off,
       pg_temp.attempt($$SELECT auth.passkey_registration_options()$$) AS passkeys_off,
       pg_temp.attempt($$SELECT auth.passkey_authentication_options()$$) AS sign_in_off,
       pg_temp.attempt($$SELECT auth.passkeys_list()$$) AS list_off;
-- On without a relying party: the owner sees what is missing
SELECT auth.configure('{"mfa_webauthn_enroll_enabled": true, "mfa_webauthn_verify_enabled": true,
                        "passkey_enabled": true}') IS NOT NULL AS switched_on;
SELECT pg_temp.attempt($$SELECT auth.passkey_authentication_options()$$) AS no_relying_party;
SELECT pg_temp.attempt($$SELECT auth.configure('{"webauthn_rp_origins": 42}')$$) AS origins_not_text;
SELECT auth.configure('{"webauthn_rp_id": "app.example.com", "webauthn_rp_display_name": "Example",
                        "webauthn_rp_origins": "https://app.example.com, https://admin.example.com"}') IS NOT NULL AS relying_party;

-- MFA: enrol, then the first challenge registers a credential (`create`)
SELECT auth.mfa_enroll('webauthn', 'Lea''s key') AS enrolled \gset
SELECT (:'enrolled'::jsonb) - 'id' AS answer;
SELECT (:'enrolled'::jsonb)->>'id' AS factor \gset
SELECT auth.mfa_challenge(:'factor') AS challenge \gset
SELECT (:'challenge'::jsonb)->>'type' AS type, (:'challenge'::jsonb)#>>'{webauthn,type}' AS ceremony,
       (:'challenge'::jsonb)#>'{webauthn,credential_options,publicKey,rp}' AS rp,
       (:'challenge'::jsonb)#>>'{webauthn,credential_options,publicKey,user,name}' AS user_name,
       convert_from(pg_temp.unb64url((:'challenge'::jsonb)#>>'{webauthn,credential_options,publicKey,user,id}'), 'UTF8')
           = (auth.verify_jwt(:'lea_token'))->>'sub' AS user_handle_is_id,
       length(pg_temp.unb64url((:'challenge'::jsonb)#>>'{webauthn,credential_options,publicKey,challenge}')) AS challenge_bytes,
       (:'challenge'::jsonb)#>'{webauthn,credential_options,publicKey,pubKeyCredParams}' AS algorithms,
       ((:'challenge'::jsonb)->>'expires_at')::bigint - extract(epoch FROM now())::bigint BETWEEN 299 AND 300 AS expires_in_300s;
SELECT (:'challenge'::jsonb)->>'id' AS challenge_id \gset
-- its state waits with the challenge; the API roles cannot read it
SELECT web_authn_session_data IS NOT NULL AS state_kept FROM auth.mfa_challenges WHERE id = :'challenge_id';
-- verify: GoTrue's checks of the body first, then of the credential
SELECT pg_temp.attempt(format($$SELECT auth.mfa_verify(%L, %L)$$, :'factor', :'challenge_id')) AS no_webauthn,
       pg_temp.attempt(format($$SELECT auth.mfa_verify(%L, %L, webauthn => '{"type": "get"}')$$, :'factor', :'challenge_id')) AS bad_type,
       pg_temp.attempt(format($$SELECT auth.mfa_verify(%L, %L, webauthn => '{"type": "create"}')$$, :'factor', :'challenge_id')) AS no_response;
SELECT pg_temp.attempt(format($$SELECT auth.mfa_verify(%L, %L, webauthn => '{"type": "create", "credential_response": "garbage"}')$$, :'factor', :'challenge_id')) AS garbage,
       pg_temp.attempt(format($$SELECT auth.mfa_verify(%L, %L, webauthn => %L)$$, :'factor', :'challenge_id',
           jsonb_build_object('type', 'create', 'credential_response', jsonb_build_object(
               'id', 'AAAA', 'rawId', 'AAAA', 'type', 'public-key',
               'response', jsonb_build_object('clientDataJSON', pg_temp.b64url('{"type":"webauthn.create","challenge":"AAAA","origin":"https://evil.example"}'),
                                              'attestationObject', 'oWNmbXRkbm9uZQ'))))) AS forged,
       pg_temp.attempt(format($$SELECT auth.mfa_verify(%L, %L, webauthn => '{"type": "request", "credential_response": {}}')$$, :'factor', :'challenge_id')) AS request_for_unverified;
-- nothing was verified by all that
SELECT status, web_authn_credential IS NULL AS no_credential FROM auth.mfa_factors WHERE id = :'factor';
-- verification off: challenges refused, and verify with GoTrue's code
SELECT auth.configure('{"mfa_webauthn_verify_enabled": false}') IS NOT NULL AS verify_off;
SELECT pg_temp.attempt(format($$SELECT auth.mfa_challenge(%L)$$, :'factor')) AS challenge_off,
       pg_temp.attempt(format($$SELECT auth.mfa_verify(%L, %L, webauthn => '{}')$$, :'factor', :'challenge_id')) AS verify_off;
SELECT auth.configure('{"mfa_webauthn_verify_enabled": true}') IS NOT NULL AS verify_on;

-- Passkeys: registration options for Lea (a discoverable credential, her name and handle)
SELECT auth.passkey_registration_options() AS reg \gset
SELECT (:'reg'::jsonb)->'options'->'rp' AS rp, (:'reg'::jsonb)->'options'->'user'->>'name' AS name,
       (:'reg'::jsonb)->'options'->'authenticatorSelection' AS selection,
       (:'reg'::jsonb)->'options'->>'attestation' AS attestation,
       ((:'reg'::jsonb)->>'expires_at')::bigint - extract(epoch FROM now())::bigint BETWEEN 299 AND 300 AS expires_in_300s;
SELECT (:'reg'::jsonb)->>'challenge_id' AS reg_challenge \gset
SELECT challenge_type, user_id = ((auth.verify_jwt(:'lea_token'))->>'sub')::uuid AS hers
  FROM auth.webauthn_challenges WHERE id = :'reg_challenge';
-- verify's refusals; a failed one leaves the challenge (the error rolls back its taking)
SELECT pg_temp.attempt($$SELECT auth.passkey_registration_verify(NULL, '{}')$$) AS no_challenge,
       pg_temp.attempt($$SELECT auth.passkey_registration_verify('nope', '{}')$$) AS not_a_uuid,
       pg_temp.attempt(format($$SELECT auth.passkey_registration_verify(%L)$$, :'reg_challenge')) AS no_credential,
       pg_temp.attempt(format($$SELECT auth.passkey_registration_verify(%L, '"garbage"')$$, :'reg_challenge')) AS garbage,
       pg_temp.attempt($$SELECT auth.passkey_registration_verify(gen_random_uuid()::text, '{}')$$) AS unknown_challenge;
-- a sign-in's challenge does not register, and an expired one is refused
SELECT (auth.passkey_authentication_options())->>'challenge_id' AS auth_challenge \gset
SELECT pg_temp.attempt(format($$SELECT auth.passkey_registration_verify(%L, '{}')$$, :'auth_challenge')) AS sign_in_challenge;
UPDATE auth.webauthn_challenges SET expires_at = now() - interval '1 second' WHERE id = :'reg_challenge';
SELECT pg_temp.attempt(format($$SELECT auth.passkey_registration_verify(%L, '{}')$$, :'reg_challenge')) AS expired;

-- Sign-in options: discoverable (no allowCredentials), for anyone
SELECT set_config('request.jwt.claims', '', true) IS NOT NULL AS signed_out;
SELECT auth.passkey_authentication_options() AS signin \gset
SELECT (:'signin'::jsonb)->'options' ? 'allowCredentials' AS lists_credentials,
       (:'signin'::jsonb)->'options'->>'rpId' AS rp_id, (:'signin'::jsonb)->'options'->>'userVerification' AS uv;
SELECT (:'signin'::jsonb)->>'challenge_id' AS signin_challenge \gset
-- an answer naming nobody, or a user without passkeys: one refusal for both
SELECT pg_temp.attempt(format($$SELECT auth.passkey_authentication_verify(%L, %L)$$, :'signin_challenge',
           jsonb_build_object('id', 'AAAA', 'rawId', 'AAAA', 'type', 'public-key', 'response',
               jsonb_build_object('clientDataJSON', 'e30', 'authenticatorData', pg_temp.b64url(decode(repeat('00', 37), 'hex')), 'signature', 'AAAA',
                                  'userHandle', pg_temp.b64url(convert_to(gen_random_uuid()::text, 'UTF8')))))) AS unknown_user,
       pg_temp.attempt(format($$SELECT auth.passkey_authentication_verify(%L, %L)$$, :'signin_challenge',
           jsonb_build_object('id', 'AAAA', 'rawId', 'AAAA', 'type', 'public-key', 'response',
               jsonb_build_object('clientDataJSON', 'e30', 'authenticatorData', pg_temp.b64url(decode(repeat('00', 37), 'hex')), 'signature', 'AAAA',
                                  'userHandle', pg_temp.b64url(convert_to((auth.verify_jwt(:'lea_token'))->>'sub', 'UTF8')))))) AS no_passkeys,
       pg_temp.attempt(format($$SELECT auth.passkey_authentication_verify(%L, '{"id": 1}')$$, :'signin_challenge')) AS malformed;

-- Management (a passkey row made here as a registration would)
SELECT pg_temp.as_user(:'lea_token') AS as_lea_again;
INSERT INTO auth.webauthn_credentials (id, user_id, credential_id, public_key, aaguid)
VALUES ('00000000-0000-4000-8000-00000000aaaa', ((auth.verify_jwt(:'lea_token'))->>'sub')::uuid,
        '\x0102030405', '\xa5', '00000000-0000-0000-0000-000000000000');
SELECT jsonb_array_length(auth.passkeys_list()) AS passkeys,
       (auth.passkeys_list())->0 ? 'friendly_name' AS named;
SELECT (auth.passkey_update('00000000-0000-4000-8000-00000000aaaa', ' Laptop '))->>'friendly_name' AS renamed,
       pg_temp.attempt($$SELECT auth.passkey_update('00000000-0000-4000-8000-00000000aaaa', '')$$) AS blank,
       pg_temp.attempt($$SELECT auth.passkey_update('00000000-0000-4000-8000-00000000aaaa', repeat('x', 121))$$) AS too_long,
       pg_temp.attempt($$SELECT auth.passkey_update(gen_random_uuid()::text, 'x')$$) AS not_hers;
-- registration excludes her passkeys
SELECT (auth.passkey_registration_options())->'options'->'excludeCredentials'->0->>'id' = pg_temp.b64url('\x0102030405') AS excluded;
-- the limit: passkey_max_passkeys_per_user
SELECT auth.configure('{"passkey_max_passkeys_per_user": 1}') IS NOT NULL AS one_passkey;
SELECT pg_temp.attempt($$SELECT auth.passkey_registration_options()$$) AS over_limit;
SELECT auth.configure('{"passkey_max_passkeys_per_user": 10}') IS NOT NULL AS ten_passkeys;
-- someone else cannot see or remove hers
SELECT (auth.sign_up('max@example.com', 'a long password 2'))->>'access_token' AS max_token \gset
SELECT pg_temp.as_user(:'max_token') AS as_max;
SELECT auth.passkeys_list() AS max_sees,
       pg_temp.attempt($$SELECT auth.passkey_delete('00000000-0000-4000-8000-00000000aaaa')$$) AS max_deletes;
-- an admin (here the owner over SQL) lists and removes them
SELECT set_config('request.jwt.claims', '', true) IS NOT NULL AS owner_again;
SELECT jsonb_array_length(auth.admin_list_passkeys((auth.verify_jwt(:'lea_token'))->>'sub')) AS admin_sees;
SELECT auth.admin_delete_passkey((auth.verify_jwt(:'lea_token'))->>'sub', '00000000-0000-4000-8000-00000000aaaa') AS admin_deleted;
SELECT count(*) AS left_after FROM auth.webauthn_credentials;
SELECT payload->>'action' AS action, payload->>'log_type' AS log_type FROM auth.audit_log_entries
 WHERE (payload->>'action' LIKE 'passkey%' OR payload->>'action' = 'factor_in_progress') AND created_at = now() ORDER BY 1;

-- With a verified factor, an aal1 session may not manage passkeys
SELECT pg_temp.as_user(:'lea_token') AS as_lea_aal1;
UPDATE auth.mfa_factors SET status = 'verified' WHERE id = :'factor';
SELECT pg_temp.attempt($$SELECT auth.passkey_registration_options()$$) AS register_aal1;

-- An anonymous user has nothing for a second factor or a passkey to protect (GoTrue's rule)
SELECT auth.configure('{"external_anonymous_users_enabled": true}') IS NOT NULL AS anonymous_on;
SELECT pg_temp.as_user((auth.sign_in_anonymously())->>'access_token') AS as_anonymous;
SELECT pg_temp.attempt($$SELECT auth.mfa_enroll('totp')$$) AS anonymous_enroll,
       pg_temp.attempt($$SELECT auth.passkey_registration_options()$$) AS anonymous_passkey;

-- Privileges: sign-in for anyone; the rest for signed-in users; the tables private
SELECT r.rolname, f.fn, has_function_privilege(r.rolname, f.fn, 'EXECUTE') AS can_execute
  FROM (VALUES ('anon'), ('authenticated')) r(rolname)
 CROSS JOIN (VALUES ('auth.passkey_registration_options()'), ('auth.passkey_registration_verify(text,jsonb)'),
                    ('auth.passkey_authentication_options()'), ('auth.passkey_authentication_verify(text,jsonb)'),
                    ('auth.passkeys_list()'), ('auth.passkey_update(text,text)'), ('auth.passkey_delete(text)')) f(fn)
 ORDER BY f.fn, r.rolname;
SELECT r.rolname, bool_or(has_table_privilege(r.rolname, t, 'SELECT')) AS reads_any
  FROM (VALUES ('anon'), ('authenticated'), ('service_role')) r(rolname)
 CROSS JOIN unnest(ARRAY['auth.webauthn_credentials', 'auth.webauthn_challenges']) t
 GROUP BY r.rolname ORDER BY 1;
ROLLBACK;
