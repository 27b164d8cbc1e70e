-- The password policy of new passwords (required characters, the breached list) and
-- sessions_single_per_user.
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
