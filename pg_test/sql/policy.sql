-- The password policy (required characters, the breached list), sessions_single_per_user and
-- auth.cleanup().
\set VERBOSITY verbose
\set SHOW_CONTEXT never

-- required characters: GoTrue's usual sets, a colon escaped among the symbols
BEGIN;
SELECT auth.configure(jsonb_build_object('password_required_characters',
       'abcdefghijklmnopqrstuvwxyz:ABCDEFGHIJKLMNOPQRSTUVWXYZ:0123456789:!@#$%^&*()_+-=[]{};''\:"|<>?,./`~'))
       ->>'password_required_characters' AS required_characters;
SAVEPOINT s;
-- too short alone, a set missing alone, both (the reasons and sentences in GoTrue's order)
SELECT auth.sign_up('rita@example.com', 'Aa1!');
ROLLBACK TO s;
SELECT auth.sign_up('rita@example.com', 'no-capitals-1');
ROLLBACK TO s;
SELECT auth.sign_up('rita@example.com', 'short');
ROLLBACK TO s;
-- the escaped colon is a symbol
SELECT s->>'access_token' AS a FROM auth.sign_up('rita@example.com', 'Colon:Counts1') s \gset
SELECT set_config('request.jwt.claims', auth.verify_jwt(:'a')::text, true) IS NOT NULL AS as_rita;
SAVEPOINT s;
SELECT auth.update_user('{"password": "Aa1!"}');
ROLLBACK TO s;
SELECT auth.update_user('{"password": "no-capitals-1"}');
ROLLBACK TO s;
SELECT auth.update_user('{"password": "short"}');
ROLLBACK TO s;
SELECT u->>'email' AS password_changed_for FROM auth.update_user('{"password": "Another:Pass2"}') u;
ROLLBACK;

-- the breached list, loaded as docs/passwords.md says (HIBP's SHA-1 lines; P@ssw0rd, password)
BEGIN;
CREATE TEMP TABLE hibp (hash text, prevalence bigint) ON COMMIT DROP;
COPY hibp FROM STDIN WITH (FORMAT text, DELIMITER ':');
21BD12DC183F740EE76F27B78EB39C8AD972A757:1234
5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:9545824
\.
INSERT INTO auth.breached_passwords (hash) SELECT decode(hash, 'hex') FROM hibp ON CONFLICT DO NOTHING;
SELECT count(*) AS breached_hashes FROM auth.breached_passwords;
SAVEPOINT s;
-- off by default: a listed password is taken
SELECT auth.sign_up('pat@example.com', 'P@ssw0rd') ? 'access_token' AS accepted_while_off;
ROLLBACK TO s;
SELECT auth.configure('{"password_breached_check": true}')->'password_breached_check' AS breached_check;
SAVEPOINT checking;
SELECT auth.sign_up('pat@example.com', 'P@ssw0rd');
ROLLBACK TO checking;
-- all three reasons at once
SELECT auth.configure('{"password_min_length": 10, "password_required_characters": "abc:0123456789"}') IS NOT NULL AS stricter;
SELECT auth.sign_up('pat@example.com', 'password');
ROLLBACK TO checking;
-- the admin API and update_user refuse it too
SELECT auth.admin_create_user('{"email": "pat@example.com", "password": "P@ssw0rd"}');
ROLLBACK TO checking;
SELECT auth.admin_generate_link('signup', 'pat@example.com', 'P@ssw0rd');
ROLLBACK TO checking;
SELECT s->>'access_token' AS a FROM auth.sign_up('pat@example.com', 'not-in-the-list') s \gset
SELECT set_config('request.jwt.claims', auth.verify_jwt(:'a')::text, true) IS NOT NULL AS as_pat;
SELECT auth.update_user('{"password": "P@ssw0rd"}');
ROLLBACK TO checking;
-- nobody but the owner reads the list
\set VERBOSITY default
SET LOCAL ROLE service_role;
SELECT count(*) FROM auth.breached_passwords;
\set VERBOSITY verbose
ROLLBACK;

-- sessions_single_per_user: a sign-in ends the user's other sessions
BEGIN;
SELECT auth.configure('{"sessions_single_per_user": true}')->'sessions_single_per_user' AS single_per_user;
SELECT s->>'refresh_token' AS r1, s->>'access_token' AS a1 FROM auth.sign_up('sam@example.com', 'sams-password') s \gset
-- the first session began a minute ago (a transaction has one now())
UPDATE auth.sessions SET created_at = now() - interval '1 minute'
 WHERE user_id = (SELECT id FROM auth.users WHERE email = 'sam@example.com');
SELECT s->>'refresh_token' AS r2 FROM auth.sign_in_with_password('sam@example.com', 'sams-password') s \gset
SELECT count(*) AS sessions, count(*) FILTER (WHERE not_after IS NULL) AS in_force,
       bool_and(not_after IS NULL OR not_after = now()) AS others_ended_now
  FROM auth.sessions WHERE user_id = (SELECT id FROM auth.users WHERE email = 'sam@example.com');
SAVEPOINT s;
SELECT auth.refresh_session(:'r1');
ROLLBACK TO s;
SELECT auth.refresh_session(:'r2') ? 'access_token' AS newest_refreshes;
ROLLBACK;

-- sessions that began before the setting was on: only the newest refreshes
BEGIN;
SELECT s->>'refresh_token' AS r1 FROM auth.sign_up('sue@example.com', 'sues-password') s \gset
UPDATE auth.sessions SET created_at = now() - interval '1 minute'
 WHERE user_id = (SELECT id FROM auth.users WHERE email = 'sue@example.com');
SELECT s->>'refresh_token' AS r2 FROM auth.sign_in_with_password('sue@example.com', 'sues-password') s \gset
SELECT count(*) FILTER (WHERE not_after IS NULL) AS in_force_while_off
  FROM auth.sessions WHERE user_id = (SELECT id FROM auth.users WHERE email = 'sue@example.com');
SELECT auth.configure('{"sessions_single_per_user": true}')->'sessions_single_per_user' AS single_per_user;
SAVEPOINT s;
SELECT auth.refresh_session(:'r1');
ROLLBACK TO s;
SELECT auth.refresh_session(:'r2') ? 'access_token' AS newest_refreshes;
ROLLBACK;

-- auth.cleanup(): expired rows go in batches of max_rows, fresh ones stay
BEGIN;
-- a known start: only the rows made here
DELETE FROM auth.users;
DELETE FROM auth.refresh_tokens;
DELETE FROM auth.flow_state;
DELETE FROM auth.audit_log_entries;
SELECT auth.configure('{"sessions_timebox": 3600}')->'sessions_timebox' AS timebox;
SELECT s->>'refresh_token' AS ra FROM auth.sign_up('ended-long-ago@example.com', 'a-good-password') s \gset
SELECT s->>'refresh_token' AS rb FROM auth.sign_up('ended-lately@example.com', 'a-good-password') s \gset
SELECT s->>'refresh_token' AS rc FROM auth.sign_up('live@example.com', 'a-good-password') s \gset
SELECT s->>'refresh_token' AS rd FROM auth.sign_up('timeboxed@example.com', 'a-good-password') s \gset
CREATE TEMP VIEW who AS
SELECT u.email, u.id AS user_id, s.id AS session_id FROM auth.users u LEFT JOIN auth.sessions s ON s.user_id = u.id;
-- sessions: past not_after by a day (goes), by an hour (stays), in force (stays), past the
-- timebox by a day (goes)
UPDATE auth.sessions SET not_after = now() - interval '25 hours'
 WHERE id = (SELECT session_id FROM who WHERE email = 'ended-long-ago@example.com');
SELECT auth.refresh_session(:'rb') IS NOT NULL AS b_refreshed, auth.refresh_session(:'rc') IS NOT NULL AS c_refreshed;
UPDATE auth.sessions SET not_after = now() - interval '1 hour'
 WHERE id = (SELECT session_id FROM who WHERE email = 'ended-lately@example.com');
UPDATE auth.sessions SET created_at = now() - interval '26 hours'
 WHERE id = (SELECT session_id FROM who WHERE email = 'timeboxed@example.com');
-- refresh tokens revoked a day ago: the ended session's (goes), one without a session (goes),
-- the live session's (stays: a replay of it is reuse)
UPDATE auth.refresh_tokens SET updated_at = now() - interval '25 hours' WHERE revoked;
INSERT INTO auth.refresh_tokens (token, user_id, revoked, updated_at, session_id)
VALUES ('no-session', 'nobody', true, now() - interval '25 hours', NULL);
-- one-time tokens (the longest lifetime is mailer_otp_exp's hour, plus an hour): an expired
-- code (goes), a fresh one (stays), a secure email change expired whole (goes), and one whose
-- other half is still live (the expired half stays, or the live one would complete it alone)
INSERT INTO auth.one_time_tokens (id, user_id, token_type, token_hash, relates_to, created_at, updated_at)
SELECT gen_random_uuid(), w.user_id, t.token_type::auth.one_time_token_type, 'h', w.email,
       timezone('UTC', now()) - t.age, timezone('UTC', now()) - t.age
  FROM (VALUES ('ended-long-ago@example.com', 'recovery_token', interval '3 hours'),
               ('live@example.com', 'recovery_token', interval '1 hour'),
               ('ended-lately@example.com', 'email_change_token_new', interval '3 hours'),
               ('ended-lately@example.com', 'email_change_token_current', interval '3 hours'),
               ('timeboxed@example.com', 'email_change_token_new', interval '3 hours'),
               ('timeboxed@example.com', 'email_change_token_current', interval '10 minutes')) t(email, token_type, age)
  JOIN who w ON w.email = t.email;
-- flow states: two a day old (go), one fresh (stays)
INSERT INTO auth.flow_state (id, auth_code, code_challenge_method, code_challenge, provider_type,
                             created_at, updated_at, authentication_method)
SELECT gen_random_uuid(), 'c', 's256', 'x', 'email', now() - a, now() - a, 'otp'
  FROM (VALUES (interval '25 hours'), (interval '30 hours'), (interval '1 hour')) t(a);
-- social-login states: two begun hours ago (go), one begun now (stays: a flow lives 10 minutes)
INSERT INTO auth.identity_providers (name, config, secret) VALUES ('github', '{"enabled": true, "client_id": "c"}', 's');
INSERT INTO auth.oauth_states (state_hash, provider, redirect_to, created_at)
SELECT 'hash-' || a, 'github', 'http://localhost:3000', now() - a
  FROM (VALUES (interval '2 hours'), (interval '3 hours'), (interval '0 hours')) t(a);
-- outbox: sent two days ago (goes), sent now (stays), failed eight days ago (goes), failed
-- yesterday (stays: the owner may still look at why), pending (stays)
DELETE FROM auth.outbox;
INSERT INTO auth.outbox (channel, action, recipient, payload, status, created_at)
SELECT 'email', 'signup', 'x@example.com', '{}', st, now() - a
  FROM (VALUES ('sent', interval '2 days'), ('sent', interval '0 days'), ('failed', interval '8 days'),
               ('failed', interval '1 day'), ('pending', interval '3 days')) t(st, a);
-- audit entries: two past the 90 days (go), one inside them and those of the sign-ups (stay)
INSERT INTO auth.audit_log_entries (id, payload, created_at)
SELECT gen_random_uuid(), '{}', now() - a
  FROM (VALUES (interval '91 days'), (interval '100 days'), (interval '89 days')) t(a);
SELECT (SELECT count(*) FROM auth.sessions) AS sessions, (SELECT count(*) FROM auth.refresh_tokens) AS refresh_tokens,
       (SELECT count(*) FROM auth.one_time_tokens) AS one_time_tokens, (SELECT count(*) FROM auth.flow_state) AS flow_state,
       (SELECT count(*) FROM auth.audit_log_entries) AS audit_log_entries;
-- one row per table at most, then the rest, then nothing
SELECT auth.cleanup(1);
SELECT auth.cleanup();
SELECT auth.cleanup();
-- what stays
SELECT status, round(extract(epoch FROM now() - created_at) / 86400) AS days_old FROM auth.outbox ORDER BY 1, 2;
SELECT w.email, s.not_after IS NOT NULL AS ended FROM who w JOIN auth.sessions s ON s.id = w.session_id ORDER BY 1;
SELECT w.email, t.revoked FROM auth.refresh_tokens t JOIN who w ON w.session_id = t.session_id ORDER BY 1, 2;
SELECT w.email, t.token_type FROM auth.one_time_tokens t JOIN who w ON w.user_id = t.user_id ORDER BY 1, 2;
SELECT count(*) AS fresh_flow_states FROM auth.flow_state;
SELECT count(*) FILTER (WHERE created_at < now() - interval '1 day') AS audit_entries_kept_from_the_past,
       count(*) AS audit_entries FROM auth.audit_log_entries;
-- a retention of 0 keeps the audit log forever
SELECT auth.configure('{"audit_log_retention_days": 0}')->'audit_log_retention_days' AS retention_days;
INSERT INTO auth.audit_log_entries (id, payload, created_at) VALUES (gen_random_uuid(), '{}', now() - interval '10 years');
SELECT auth.cleanup()->'audit_log_entries' AS audit_entries_deleted;
-- bounds, and who may run it
SAVEPOINT s;
SELECT auth.cleanup(0);
ROLLBACK TO s;
SELECT auth.cleanup(NULL);
ROLLBACK TO s;
SET LOCAL ROLE service_role;
SELECT auth.cleanup() IS NOT NULL AS service_role_may;
RESET ROLE;
\set VERBOSITY default
SET LOCAL ROLE authenticated;
SELECT auth.cleanup();
ROLLBACK TO s;
SET LOCAL ROLE anon;
SELECT auth.cleanup();
\set VERBOSITY verbose
ROLLBACK;
