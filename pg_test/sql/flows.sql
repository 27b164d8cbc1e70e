-- Email and phone flows (src/one_time, src/verify, src/otp, src/recovery, src/pkce, src/outbox):
-- confirmation, codes and links, recovery, PKCE, resend, email and phone change; every message
-- goes through the outbox in the caller's transaction, codes are stored only as GoTrue's hash.
\set VERBOSITY verbose
\set SHOW_CONTEXT never
SELECT auth.configure('{"mailer_autoconfirm": false, "external_phone_enabled": true,
                        "smtp_max_frequency": 0, "sms_max_frequency": 0,
                        "site_url": "https://app.example.com",
                        "uri_allow_list": "https://app.example.com/**,http://localhost:3000/*",
                        "api_external_url": "https://auth.example.com/auth/v1"}') IS NOT NULL AS configured;

-- sign-up with confirmations on: the user, no session; a confirmation in the outbox
BEGIN;
SELECT auth.sign_up('Conf@Example.com', 'a-good-password', '{"name": "Conf"}',
                    redirect_to => 'https://app.example.com/welcome') AS u \gset
SELECT :'u'::jsonb ? 'access_token' AS has_session, :'u'::jsonb->>'email' AS email,
       :'u'::jsonb->'email_confirmed_at' IS NULL AS unconfirmed,
       :'u'::jsonb->'confirmation_sent_at' IS NOT NULL AS sent_at_shown,
       jsonb_array_length(:'u'::jsonb->'identities') AS identities;
SELECT channel, action, recipient, status, attempts,
       payload->'email_data'->>'email_action_type' AS action_type,
       payload->'email_data'->>'redirect_to' AS redirect_to,
       length(payload->'email_data'->>'token') AS code_length,
       payload->'email_data'->>'token_hash' ~ '^[0-9a-f]{56}$' AS gotrues_shape,
       -- keyed: not GoTrue's plain sha224(address || code), which anyone could compute
       payload->'email_data'->>'token_hash' <> encode(sha224(convert_to('conf@example.com' || (payload->'email_data'->>'token'), 'UTF8')), 'hex') AS keyed,
       payload->'user'->>'email' AS user_email
  FROM auth.outbox ORDER BY id DESC LIMIT 1;
-- the code is stored only as its hash
SELECT token_type, relates_to, failed_attempts,
       token_hash = (SELECT payload->'email_data'->>'token_hash' FROM auth.outbox ORDER BY id DESC LIMIT 1) AS hash_stored,
       (SELECT count(*) FROM auth.one_time_tokens t2
         WHERE t2.token_hash = (SELECT payload->'email_data'->>'token' FROM auth.outbox ORDER BY id DESC LIMIT 1)) AS code_stored
  FROM auth.one_time_tokens;
-- a password sign-in before confirming: email_not_confirmed
SAVEPOINT s;
SELECT auth.sign_in_with_password('conf@example.com', 'a-good-password');
ROLLBACK TO s;
-- the same address again: an obfuscated user (no identities), no second account
SELECT x->>'email' AS email, jsonb_array_length(x->'identities') AS identities, x->>'id' <> :'u'::jsonb->>'id' AS other_id
  FROM auth.sign_up('conf@example.com', 'another-password') x;
SELECT count(*) AS users FROM auth.users WHERE email = 'conf@example.com';
-- verify by email and code: a session with amr otp; the email is confirmed; the token is gone
SELECT s->'user'->'email_confirmed_at' IS NOT NULL AS confirmed, s->>'token_type' AS token_type,
       auth.verify_jwt(s->>'access_token')->'amr'->0->>'method' AS amr
  FROM auth.verify_otp('email', (SELECT payload->'email_data'->>'token' FROM auth.outbox ORDER BY id DESC LIMIT 1),
                       email => 'CONF@example.com') s;
SELECT count(*) AS tokens_left FROM auth.one_time_tokens;
-- used once
SAVEPOINT s;
SELECT auth.verify_otp('email', (SELECT payload->'email_data'->>'token' FROM auth.outbox ORDER BY id DESC LIMIT 1),
                       email => 'conf@example.com');
ROLLBACK TO s;
ROLLBACK;

-- verify by token_hash, and the /verify link (implicit flow: the session in the fragment)
BEGIN;
SELECT auth.sign_up('hash@example.com', 'a-good-password') IS NOT NULL AS signed_up;
SELECT s->'user'->>'email' AS email, s ? 'refresh_token' AS session
  FROM auth.verify_otp('signup', token_hash => (SELECT payload->'email_data'->>'token_hash' FROM auth.outbox ORDER BY id DESC LIMIT 1)) s;
SELECT auth.sign_up('link@example.com', 'a-good-password', redirect_to => 'https://evil.example.net/') IS NOT NULL AS signed_up;
SELECT split_part(l->>'location', '#', 1) AS location,
       split_part(l->>'location', '#', 2) ~ '^access_token=[^&]+&expires_at=\d+&expires_in=3600&refresh_token=[^&]+&token_type=bearer&type=signup$' AS fragment
  FROM auth.verify_link((SELECT payload->'email_data'->>'token_hash' FROM auth.outbox ORDER BY id DESC LIMIT 1), 'signup',
                        'https://evil.example.net/') l;
-- redirect targets: the allow list or site_url
SELECT t, auth.redirect_target(t) AS target
  FROM unnest(ARRAY['https://app.example.com/a/b', 'http://localhost:3000/x', 'https://evil.example.net',
                    'https://app.example.com.evil.net/', 'javascript:alert(1)', NULL]) t;
ROLLBACK;

-- passwordless: a magic link for a confirmed user; create_user false for an unknown address
BEGIN;
SELECT auth.configure('{"mailer_autoconfirm": true}') IS NOT NULL AS autoconfirm;
SELECT auth.sign_up('magic@example.com', 'a-good-password') IS NOT NULL AS signed_up;
SELECT auth.sign_in_with_otp('magic@example.com') AS answer;
SELECT action, payload->'email_data'->>'email_action_type' AS action_type FROM auth.outbox ORDER BY id DESC LIMIT 1;
SELECT auth.verify_jwt(s->>'access_token')->'amr'->0->>'method' AS amr
  FROM auth.verify_otp('magiclink', (SELECT payload->'email_data'->>'token' FROM auth.outbox ORDER BY id DESC LIMIT 1),
                       email => 'magic@example.com') s;
SAVEPOINT s;
SELECT auth.sign_in_with_otp('nobody@example.com', create_user => false);
ROLLBACK TO s;
-- an unknown address with create_user (the default): a new unconfirmed user and a code
SELECT auth.sign_in_with_otp('newbie@example.com', data => '{"via": "otp"}') AS answer;
SELECT email, email_confirmed_at IS NULL AS unconfirmed, raw_user_meta_data, encrypted_password = '' AS no_password
  FROM auth.users WHERE email = 'newbie@example.com';
SELECT s->'user'->>'email' AS email, s->'user'->'email_confirmed_at' IS NOT NULL AS confirmed
  FROM auth.verify_otp('email', (SELECT payload->'email_data'->>'token' FROM auth.outbox ORDER BY id DESC LIMIT 1),
                       email => 'newbie@example.com') s;
ROLLBACK;

-- recovery: the same answer for a known and an unknown address; the session's amr is recovery
BEGIN;
SELECT auth.configure('{"mailer_autoconfirm": true}') IS NOT NULL AS autoconfirm;
SELECT auth.sign_up('lost@example.com', 'a-good-password') IS NOT NULL AS signed_up;
SELECT count(*) AS outbox_before FROM auth.outbox \gset
SELECT auth.reset_password_for_email('lost@example.com') AS known, auth.reset_password_for_email('ghost@example.com') AS unknown;
SELECT count(*) - :outbox_before AS queued FROM auth.outbox;
SELECT payload->>'action' AS action, payload->>'actor_username' AS actor FROM auth.audit_log_entries
 WHERE payload->>'action' = 'user_recovery_requested' ORDER BY 2;
SELECT s->>'access_token' AS rat FROM auth.verify_otp('recovery',
       (SELECT payload->'email_data'->>'token' FROM auth.outbox ORDER BY id DESC LIMIT 1), email => 'lost@example.com') s \gset
SELECT auth.verify_jwt(:'rat')->'amr'->0->>'method' AS amr;
ROLLBACK;

-- PKCE: a challenge on sign-up; the link gives ?code=; the code and its verifier give a session once
BEGIN;
-- verifier 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk' (RFC 7636 appendix B)
SELECT auth.sign_up('pkce@example.com', 'a-good-password',
                    code_challenge => 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method => 's256') IS NOT NULL AS signed_up;
SELECT token_hash LIKE 'pkce\_%' AS pkce_prefixed FROM auth.one_time_tokens;
SELECT code_challenge_method, provider_type, authentication_method, auth_code_issued_at IS NULL AS waiting FROM auth.flow_state;
SELECT l->>'location' AS location FROM auth.verify_link(
       (SELECT payload->'email_data'->>'token_hash' FROM auth.outbox ORDER BY id DESC LIMIT 1),
       'signup', 'https://app.example.com/cb') l \gset
SELECT :'location' ~ '^https://app\.example\.com/cb\?code=[0-9a-f-]{36}$' AS code_redirect;
SELECT substring(:'location' FROM 'code=(.*)$') AS code \gset
SELECT count(*) AS plaintext_codes FROM auth.flow_state WHERE auth_code = :'code';
SAVEPOINT s;
SELECT auth.exchange_code_for_session(:'code', 'not-the-verifier-not-the-verifier-not-the-verifier');
ROLLBACK TO s;
-- a user banned after the code was issued gets no session from it
SAVEPOINT s;
UPDATE auth.users SET banned_until = now() + interval '1 day' WHERE email = 'pkce@example.com';
SELECT auth.exchange_code_for_session(:'code', 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
ROLLBACK TO s;
SELECT s->'user'->>'email' AS email, s ? 'refresh_token' AS session
  FROM auth.exchange_code_for_session(:'code', 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk') s;
SAVEPOINT s;
SELECT auth.exchange_code_for_session(:'code', 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
ROLLBACK TO s;
SAVEPOINT s;
SELECT auth.sign_up('half@example.com', 'a-good-password', code_challenge => 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
ROLLBACK TO s;
ROLLBACK;

-- resend: the frequency limit per user, then the code changes; unknown addresses answer alike
BEGIN;
SELECT auth.configure('{"smtp_max_frequency": 60}') IS NOT NULL AS frequency;
SELECT auth.sign_up('again@example.com', 'a-good-password') IS NOT NULL AS signed_up;
SAVEPOINT s;
SELECT auth.resend('signup', 'again@example.com');
ROLLBACK TO s;
UPDATE auth.users SET confirmation_sent_at = now() - interval '61 seconds' WHERE email = 'again@example.com';
SELECT auth.resend('signup', 'again@example.com') AS answer, auth.resend('signup', 'unknown@example.com') AS unknown;
SELECT count(*) AS messages FROM auth.outbox WHERE recipient = 'again@example.com';
SAVEPOINT s;
SELECT auth.resend('recovery', 'again@example.com');
ROLLBACK TO s;
-- the hourly limit counts what was queued
SELECT auth.configure('{"smtp_max_frequency": 0, "rate_limit_email_sent": 1}') IS NOT NULL AS hourly;
SAVEPOINT s;
SELECT auth.sign_up('one.too.many@example.com', 'a-good-password');
ROLLBACK TO s;
ROLLBACK;

-- email change (secure: both addresses confirm), phone sign-up and change
BEGIN;
SELECT auth.configure('{"mailer_autoconfirm": true}') IS NOT NULL AS autoconfirm;
SELECT auth.sign_up('old@example.com', 'a-good-password') AS s \gset
SELECT set_config('request.jwt.claims', auth.verify_jwt(:'s'::jsonb->>'access_token')::text, true) IS NOT NULL AS claims;
SELECT u->>'email' AS email, u->>'new_email' AS new_email FROM auth.update_user('{"email": "New@Example.com"}') u;
SELECT action, recipient FROM auth.outbox ORDER BY id DESC LIMIT 2;
SELECT r->>'msg' AS first FROM auth.verify_otp('email_change',
       (SELECT payload->'email_data'->>'token' FROM auth.outbox WHERE action = 'email_change_current' ORDER BY id DESC LIMIT 1),
       email => 'old@example.com') r;
SELECT s->'user'->>'email' AS email, s->'user'->>'new_email' AS new_email FROM auth.verify_otp('email_change',
       (SELECT payload->'email_data'->>'token_new' FROM auth.outbox WHERE action = 'email_change_new' ORDER BY id DESC LIMIT 1),
       email => 'new@example.com') s;
SELECT identity_data->>'email' AS identity_email FROM auth.identities WHERE user_id = (:'s'::jsonb->'user'->>'id')::uuid;
ROLLBACK;

BEGIN;
SELECT x->>'phone' AS phone, x ? 'access_token' AS session FROM auth.sign_up(phone => '+1 555 010 0001', password => 'a-good-password') x;
SELECT channel, action, recipient, payload->'sms'->>'phone' AS sms_phone, length(payload->'sms'->>'otp') AS code_length
  FROM auth.outbox ORDER BY id DESC LIMIT 1;
SAVEPOINT s;
SELECT auth.sign_in_with_password(phone => '15550100001', password => 'a-good-password');
ROLLBACK TO s;
SELECT s->'user'->>'phone' AS phone, s->'user'->'phone_confirmed_at' IS NOT NULL AS confirmed
  FROM auth.verify_otp('sms', (SELECT payload->'sms'->>'otp' FROM auth.outbox ORDER BY id DESC LIMIT 1), phone => '+15550100001') s;
SELECT s->'user'->>'phone' AS phone FROM auth.sign_in_with_password(phone => '+15550100001', password => 'a-good-password') s;
ROLLBACK;

-- the outbox consumer API: claim, sent (codes wiped), failed (backoff)
BEGIN;
SELECT auth.sign_up('mail@example.com', 'a-good-password') IS NOT NULL AS signed_up;
SELECT m->>'channel' AS channel, m->>'to' AS to, m->>'from' AS from, m->>'subject' AS subject,
       m->>'html' LIKE '%https://auth.example.com/auth/v1/verify?token=%type=signup%' AS link_in_body,
       position(m->'payload'->'email_data'->>'token' IN m->>'html') > 0 AS code_in_body
  FROM auth.outbox_claim(10, 60) m;
SELECT count(*) AS claimed_again FROM auth.outbox_claim(10, 60);
SELECT auth.outbox_sent(id) FROM auth.outbox WHERE recipient = 'mail@example.com';
SELECT status, payload->'email_data' ? 'token' AS code_kept, payload->'email_data' ? 'token_hash' AS hash_kept
  FROM auth.outbox WHERE recipient = 'mail@example.com';
ROLLBACK;

-- bad input: clean errors
SELECT auth.verify_otp('signup', '123456');
SELECT auth.verify_otp('nonsense', '123456', email => 'a@example.com');
SELECT auth.verify_otp(NULL, '123456', email => 'a@example.com');
SELECT auth.verify_otp('signup', token_hash => 'not-a-hash');
SELECT auth.verify_otp('sms', '123456', phone => '12');
SELECT auth.sign_up('both@example.com', 'a-good-password', phone => '15550100002');
SELECT auth.sign_in_with_otp();
SELECT auth.exchange_code_for_session('', '');
SELECT auth.exchange_code_for_session('unknown', 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
SELECT auth.sign_up('x@example.com', 'a-good-password', code_challenge => 'short', code_challenge_method => 's256');
SELECT auth.resend('nonsense', 'x@example.com');

-- wrong codes are counted apart from the failing call (committed by the trace writer, which
-- the call waits for); the token dies at otp_max_attempts, and then even the right code fails
SELECT auth.configure('{"otp_max_attempts": 3}') IS NOT NULL AS three_attempts;
SELECT auth.sign_up('guess@example.com', 'a-good-password') IS NOT NULL AS signed_up;
SELECT payload->'email_data'->>'token' AS code,
       lpad(((payload->'email_data'->>'token')::bigint + 1)::text, 6, '0') AS wrong
  FROM auth.outbox WHERE recipient = 'guess@example.com' \gset
SELECT auth.verify_otp('email', :'wrong', email => 'guess@example.com');
BEGIN;
SELECT auth.verify_otp('email', :'wrong', email => 'guess@example.com');
ROLLBACK;
SELECT failed_attempts FROM auth.one_time_tokens WHERE relates_to = 'guess@example.com';
SELECT auth.verify_otp('email', :'wrong', email => 'guess@example.com');
SELECT count(*) AS tokens_left FROM auth.one_time_tokens WHERE relates_to = 'guess@example.com';
SELECT auth.verify_otp('email', :'code', email => 'guess@example.com');
DELETE FROM auth.outbox WHERE recipient = 'guess@example.com';
DELETE FROM auth.users WHERE email = 'guess@example.com';
DELETE FROM auth.audit_log_entries WHERE payload->>'actor_username' = 'guess@example.com';

-- a secure email change whose half dies of wrong codes is cancelled whole: the other half alone
-- must not complete it (else whoever holds the session and the new address could kill the
-- current address's half and change the email without its owner)
SELECT auth.configure('{"mailer_autoconfirm": true}') IS NOT NULL AS autoconfirm;
SELECT auth.sign_up('half@example.com', 'a-good-password') AS hs \gset
BEGIN;
SELECT set_config('request.jwt.claims', auth.verify_jwt(:'hs'::jsonb->>'access_token')::text, true) IS NOT NULL AS claims;
SELECT u->>'new_email' AS new_email FROM auth.update_user('{"email": "half-new@example.com"}') u;
COMMIT;
SELECT payload->'email_data'->>'token' AS current_code,
       lpad(((payload->'email_data'->>'token')::bigint + 1)::text, 6, '0') AS wrong
  FROM auth.outbox WHERE action = 'email_change_current' AND recipient = 'half@example.com' \gset
SELECT payload->'email_data'->>'token_new' AS new_code
  FROM auth.outbox WHERE action = 'email_change_new' AND recipient = 'half-new@example.com' \gset
SELECT auth.verify_otp('email_change', :'wrong', email => 'half@example.com');
SELECT auth.verify_otp('email_change', :'wrong', email => 'half@example.com');
SELECT auth.verify_otp('email_change', :'wrong', email => 'half@example.com');
SELECT count(*) AS change_tokens_left FROM auth.one_time_tokens
 WHERE user_id = (:'hs'::jsonb->'user'->>'id')::uuid;
SELECT auth.verify_otp('email_change', :'new_code', email => 'half-new@example.com');
SELECT email FROM auth.users WHERE id = (:'hs'::jsonb->'user'->>'id')::uuid;
DELETE FROM auth.outbox WHERE recipient IN ('half@example.com', 'half-new@example.com');
DELETE FROM auth.users WHERE id = (:'hs'::jsonb->'user'->>'id')::uuid;

-- pre-account takeover: a stranger signs up someone's address with a password of their own; the
-- owner later signs in by code, which confirms the address. The stranger's password, metadata
-- and sessions do not survive that first confirmation (separate transactions, as in life: the
-- sign-up's own confirmation, issued with the account, keeps them, as the first section shows)
SELECT auth.configure('{"mailer_autoconfirm": false, "allow_unverified_email_sign_ins": true}') IS NOT NULL AS unverified_sign_ins;
SELECT auth.sign_up('owner@example.com', 'strangers-password', '{"name": "stranger"}') IS NOT NULL AS squatted;
SELECT auth.sign_in_with_password('owner@example.com', 'strangers-password') AS ss \gset
SELECT :'ss'::jsonb ? 'refresh_token' AS stranger_has_session;
-- the stranger also attaches a phone of their own, confirmed
BEGIN;
SELECT set_config('request.jwt.claims', auth.verify_jwt(:'ss'::jsonb->>'access_token')::text, true) IS NOT NULL AS claims;
SELECT u->>'new_phone' AS new_phone FROM auth.update_user('{"phone": "+15550109999"}') u;
COMMIT;
SELECT s->'user'->>'phone' AS strangers_phone
  FROM auth.verify_otp('phone_change', (SELECT payload->'sms'->>'otp' FROM auth.outbox
                                         WHERE recipient = '15550109999' ORDER BY id DESC LIMIT 1),
                       phone => '15550109999') s;
SELECT auth.sign_in_with_otp('owner@example.com') AS code_requested;
SELECT s->'user'->'user_metadata' AS metadata, s->'user'->'email_confirmed_at' IS NOT NULL AS confirmed
  FROM auth.verify_otp('email', (SELECT payload->'email_data'->>'token' FROM auth.outbox
                                  WHERE recipient = 'owner@example.com' ORDER BY id DESC LIMIT 1),
                       email => 'owner@example.com') s;
SELECT encrypted_password = '' AS password_dropped, phone IS NULL AS phone_dropped,
       (SELECT count(*) FROM auth.sessions s WHERE s.user_id = u.id) AS sessions,
       (SELECT string_agg(provider, ',') FROM auth.identities i WHERE i.user_id = u.id) AS identities,
       raw_app_meta_data->'providers' AS providers
  FROM auth.users u WHERE email = 'owner@example.com';
SELECT auth.sign_in_with_password('owner@example.com', 'strangers-password');
SELECT auth.refresh_session(:'ss'::jsonb->>'refresh_token');
SELECT auth.sign_in_with_password(phone => '15550109999', password => 'strangers-password');
DELETE FROM auth.outbox WHERE recipient IN ('owner@example.com', '15550109999');
DELETE FROM auth.users WHERE email = 'owner@example.com';
DELETE FROM auth.audit_log_entries WHERE payload->>'actor_username' = 'owner@example.com';

-- the sign-up's confirmation sent again by resend keeps the sign-up's password (the lineage of
-- the pending token): "resend the confirmation" is the everyday case, not a stranger's
SELECT auth.sign_up('resent@example.com', 'own-password-1', '{"name": "me"}') IS NOT NULL AS signed_up;
SELECT auth.resend('signup', 'resent@example.com') AS resent;
SELECT count(*) AS mails FROM auth.outbox WHERE recipient = 'resent@example.com';
SELECT s->'user'->'user_metadata'->>'name' AS name
  FROM auth.verify_otp('signup', (SELECT payload->'email_data'->>'token' FROM auth.outbox
                                   WHERE recipient = 'resent@example.com' ORDER BY id DESC LIMIT 1),
                       email => 'resent@example.com') s;
SELECT auth.sign_in_with_password('resent@example.com', 'own-password-1') ? 'refresh_token' AS password_kept;
DELETE FROM auth.outbox WHERE recipient = 'resent@example.com';
DELETE FROM auth.users WHERE email = 'resent@example.com';
DELETE FROM auth.audit_log_entries WHERE payload->>'actor_username' = 'resent@example.com';
-- the cost of that rule: a second sign-up of a still unconfirmed address sends a confirmation
-- that is not the first sign-up's, so it confirms without the password (set one again)
SELECT auth.sign_up('twice@example.com', 'first-password-1') IS NOT NULL AS signed_up;
SELECT auth.sign_up('twice@example.com', 'second-password-2')->'identities' AS obfuscated_identities;
SELECT s ? 'refresh_token' AS confirmed_with_session
  FROM auth.verify_otp('signup', (SELECT payload->'email_data'->>'token' FROM auth.outbox
                                   WHERE recipient = 'twice@example.com' ORDER BY id DESC LIMIT 1),
                       email => 'twice@example.com') s;
SELECT encrypted_password = '' AS password_dropped FROM auth.users WHERE email = 'twice@example.com';
DELETE FROM auth.outbox WHERE recipient = 'twice@example.com';
DELETE FROM auth.users WHERE email = 'twice@example.com';
DELETE FROM auth.audit_log_entries WHERE payload->>'actor_username' = 'twice@example.com';

SELECT auth.configure('{"mailer_autoconfirm": true, "otp_max_attempts": 5, "external_phone_enabled": false, "allow_unverified_email_sign_ins": false, "smtp_max_frequency": 60,
                        "sms_max_frequency": 60, "site_url": "http://localhost:3000", "uri_allow_list": "",
                        "api_external_url": "http://localhost:9999", "rate_limit_email_sent": 30}') IS NOT NULL AS restored;
