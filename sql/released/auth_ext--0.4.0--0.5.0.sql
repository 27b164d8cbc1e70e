-- auth_ext 0.4.0 -> 0.5.0
--
-- The email and phone flows (issue 12): one-time tokens, PKCE flow states and the outbox (new
-- tables), the functions of the flows, and new signatures for sign_up and sign_in_with_password
-- (phone, redirect and PKCE parameters, all with defaults: existing calls keep working; until
-- this update runs, the old declarations call entry points kept for them).
-- New settings take their defaults; the ones set stay as they are.

-- One-time tokens (Supabase's table): the hash of each code or link a user was sent, one per
-- user and kind. `token_hash` has GoTrue's shape (56 hex digits of SHA-224 over email_or_phone
-- + code, prefixed `pkce_` in the PKCE flow) but is keyed with the one-time-code key, so it
-- cannot be computed from an address and a guessed code (core/src/otp.rs); the code itself is never stored. `created_at` is UTC, as GoTrue writes it.
-- `failed_attempts` is auth_ext's: wrong codes counted apart from the failing call
-- (src/one_time/), the token dying at `otp_max_attempts`.
CREATE TYPE auth.one_time_token_type AS ENUM (
    'confirmation_token', 'reauthentication_token', 'recovery_token',
    'email_change_token_new', 'email_change_token_current', 'phone_change_token');
CREATE TABLE auth.one_time_tokens (
    id uuid NOT NULL PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    token_type auth.one_time_token_type NOT NULL,
    token_hash text NOT NULL CHECK (char_length(token_hash) > 0),
    relates_to text NOT NULL,
    created_at timestamp without time zone NOT NULL DEFAULT now(),
    updated_at timestamp without time zone NOT NULL DEFAULT now(),
    failed_attempts integer NOT NULL DEFAULT 0
);
CREATE INDEX one_time_tokens_token_hash_hash_idx ON auth.one_time_tokens USING hash (token_hash);
CREATE INDEX one_time_tokens_relates_to_hash_idx ON auth.one_time_tokens USING hash (relates_to);
CREATE UNIQUE INDEX one_time_tokens_user_id_token_type_key ON auth.one_time_tokens (user_id, token_type);

-- PKCE flow states (Supabase's shape). `auth_code` holds the hex SHA-256 of the code handed to
-- the client, never the code; a state lives 300 s from the code's issue (or its creation).
CREATE TYPE auth.code_challenge_method AS ENUM ('s256', 'plain');
CREATE TABLE auth.flow_state (
    id uuid NOT NULL PRIMARY KEY,
    user_id uuid,
    auth_code text NOT NULL,
    code_challenge_method auth.code_challenge_method NOT NULL,
    code_challenge text NOT NULL,
    provider_type text NOT NULL,
    provider_access_token text,
    provider_refresh_token text,
    created_at timestamptz,
    updated_at timestamptz,
    authentication_method text NOT NULL,
    auth_code_issued_at timestamptz
);
CREATE INDEX idx_auth_code ON auth.flow_state (auth_code);
CREATE INDEX idx_user_id_auth_method ON auth.flow_state (user_id, authentication_method);
CREATE INDEX flow_state_created_at_idx ON auth.flow_state (created_at DESC);

-- Private: the transactional outbox. A message is queued in the transaction that issued its
-- code (a rolled-back call sends nothing; a committed one is never lost), with GoTrue's
-- send-email / send-SMS hook input as `payload`; consumers claim rows through
-- auth.outbox_claim() (README, "The outbox"). Codes are wiped from `payload` once sent.
CREATE TABLE auth.outbox (
    id bigserial PRIMARY KEY,
    channel text NOT NULL CHECK (channel IN ('email', 'sms')),
    action text NOT NULL,
    recipient text NOT NULL,
    user_id uuid,
    payload jsonb NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_until timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);
CREATE INDEX outbox_due_idx ON auth.outbox (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_channel_created_at_idx ON auth.outbox (channel, created_at);

-- Whoever drains the outbox (the shim, another worker): granted by the owner to its login role
-- (GRANT auth_outbox_consumer TO shim_login). Cluster-wide, like the API roles.
DO $consumer$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'auth_outbox_consumer') THEN
        CREATE ROLE auth_outbox_consumer NOLOGIN NOINHERIT;
    END IF;
END
$consumer$;

ALTER TABLE auth.one_time_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.flow_state ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.outbox ENABLE ROW LEVEL SECURITY;
SELECT pg_catalog.pg_extension_config_dump('auth.one_time_tokens', '');
SELECT pg_catalog.pg_extension_config_dump('auth.flow_state', '');
SELECT pg_catalog.pg_extension_config_dump('auth.outbox', '');
SELECT pg_catalog.pg_extension_config_dump('auth.outbox_id_seq', '');
REVOKE ALL ON auth.one_time_tokens, auth.flow_state, auth.outbox FROM PUBLIC;
REVOKE ALL ON SEQUENCE auth.outbox_id_seq FROM PUBLIC;
GRANT USAGE ON SCHEMA auth TO auth_outbox_consumer;

-- sign_up and sign_in_with_password take more parameters.
DROP FUNCTION auth_api.sign_up(text, text, jsonb);
DROP FUNCTION auth.sign_up(text, text, jsonb);
DROP FUNCTION auth_api.sign_in_with_password(text, text);
DROP FUNCTION auth.sign_in_with_password(text, text);

CREATE  FUNCTION auth."sign_up"(
	"email" TEXT DEFAULT NULL, /* Option < & str > */
	"password" TEXT DEFAULT NULL, /* Option < & str > */
	"data" jsonb DEFAULT '{}', /* Option < JsonbArg > */
	"phone" TEXT DEFAULT NULL, /* Option < & str > */
	"channel" TEXT DEFAULT 'sms', /* Option < & str > */
	"redirect_to" TEXT DEFAULT NULL, /* Option < & str > */
	"code_challenge" TEXT DEFAULT NULL, /* Option < & str > */
	"code_challenge_method" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sign_up_user_wrapper';

-- sign_up: anyone may try (SECURITY DEFINER, search_path pinned); the PostgREST wrapper in
-- auth_api is SECURITY INVOKER, so its rights are those of auth.sign_up.
REVOKE ALL ON FUNCTION auth.sign_up(text, text, jsonb, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.sign_up(text, text, jsonb, text, text, text, text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.sign_up(email text DEFAULT NULL, password text DEFAULT NULL, data jsonb DEFAULT '{}',
                                 phone text DEFAULT NULL, channel text DEFAULT 'sms',
                                 redirect_to text DEFAULT NULL, code_challenge text DEFAULT NULL,
                                 code_challenge_method text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.sign_up(email, password, data, phone, channel, redirect_to, code_challenge, code_challenge_method) $$;
REVOKE ALL ON FUNCTION auth_api.sign_up(text, text, jsonb, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.sign_up(text, text, jsonb, text, text, text, text, text) TO anon, authenticated, service_role;

-- It receives a password: when it fails, the server log must not repeat the statement (it may
-- hold it as a literal). Errors auth_ext raises already set this (src/error.rs); the clause also
-- covers errors from below (a cancel, a timeout).
ALTER FUNCTION auth.sign_up(text, text, jsonb, text, text, text, text, text) SET log_min_error_statement = panic;

CREATE  FUNCTION auth."sign_in_with_password"(
	"email" TEXT DEFAULT NULL, /* Option < & str > */
	"password" TEXT DEFAULT NULL, /* Option < & str > */
	"phone" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sign_in_with_password_or_phone_wrapper';

-- sign_in_with_password: anyone may try; the auth_api wrapper has the rights of the function.
REVOKE ALL ON FUNCTION auth.sign_in_with_password(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.sign_in_with_password(text, text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.sign_in_with_password(email text DEFAULT NULL, password text DEFAULT NULL,
                                               phone text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.sign_in_with_password(email, password, phone) $$;
REVOKE ALL ON FUNCTION auth_api.sign_in_with_password(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.sign_in_with_password(text, text, text) TO anon, authenticated, service_role;

-- It receives a password: a failure must not log the statement (see src/signup/api.sql).
ALTER FUNCTION auth.sign_in_with_password(text, text, text) SET log_min_error_statement = panic;

CREATE  FUNCTION auth."outbox_claim"(
	"max_messages" INT DEFAULT 10, /* Option < i32 > */
	"lease_seconds" INT DEFAULT 60, /* Option < i32 > */
	"channels" TEXT[] DEFAULT '{email,sms}' /* :: std :: option :: Option < Vec < Option < String > > > */
) RETURNS SETOF jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'outbox_claim_wrapper';

CREATE  FUNCTION auth."outbox_sent"(
	"id" bigint /* i64 */
) RETURNS void
STRICT SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'outbox_sent_wrapper';

CREATE  FUNCTION auth."outbox_failed"(
	"id" bigint, /* Option < i64 > */
	"error" TEXT /* Option < & str > */
) RETURNS void
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'outbox_failed_wrapper';

-- The outbox's consumer API: only for the role that drains it (never PostgREST's roles).
REVOKE ALL ON FUNCTION auth.outbox_claim(integer, integer, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.outbox_claim(integer, integer, text[]) TO auth_outbox_consumer;
REVOKE ALL ON FUNCTION auth.outbox_sent(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.outbox_sent(bigint) TO auth_outbox_consumer;
REVOKE ALL ON FUNCTION auth.outbox_failed(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.outbox_failed(bigint, text) TO auth_outbox_consumer;

-- A claimed message carries its codes: a failure must not log the statement's result, and
-- nothing here takes a secret as an argument.

CREATE  FUNCTION auth."exchange_code_for_session"(
	"auth_code" TEXT, /* Option < & str > */
	"code_verifier" TEXT /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'exchange_code_for_session_wrapper';

-- exchange_code_for_session: anyone holding an auth code and its verifier.
REVOKE ALL ON FUNCTION auth.exchange_code_for_session(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.exchange_code_for_session(text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.exchange_code_for_session(auth_code text, code_verifier text)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.exchange_code_for_session(auth_code, code_verifier) $$;
REVOKE ALL ON FUNCTION auth_api.exchange_code_for_session(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.exchange_code_for_session(text, text) TO anon, authenticated, service_role;

-- It receives secrets: a failure must not log the statement.
ALTER FUNCTION auth.exchange_code_for_session(text, text) SET log_min_error_statement = panic;

CREATE  FUNCTION auth."reset_password_for_email"(
	"email" TEXT, /* Option < & str > */
	"redirect_to" TEXT DEFAULT NULL, /* Option < & str > */
	"code_challenge" TEXT DEFAULT NULL, /* Option < & str > */
	"code_challenge_method" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'reset_password_for_email_wrapper';

-- reset_password_for_email: anyone may ask; the answer is the same for every address.
REVOKE ALL ON FUNCTION auth.reset_password_for_email(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.reset_password_for_email(text, text, text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.reset_password_for_email(email text, redirect_to text DEFAULT NULL,
                                                  code_challenge text DEFAULT NULL,
                                                  code_challenge_method text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.reset_password_for_email(email, redirect_to, code_challenge, code_challenge_method) $$;
REVOKE ALL ON FUNCTION auth_api.reset_password_for_email(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.reset_password_for_email(text, text, text, text) TO anon, authenticated, service_role;

CREATE  FUNCTION auth."_verify_otp"(
	"otp_type" TEXT, /* Option < & str > */
	"token" TEXT DEFAULT NULL, /* Option < & str > */
	"token_hash" TEXT DEFAULT NULL, /* Option < & str > */
	"email" TEXT DEFAULT NULL, /* Option < & str > */
	"phone" TEXT DEFAULT NULL, /* Option < & str > */
	"redirect_to" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', '_verify_otp_wrapper';

CREATE  FUNCTION auth."_verify_link"(
	"token" TEXT, /* Option < & str > */
	"otp_type" TEXT, /* Option < & str > */
	"redirect_to" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', '_verify_link_wrapper';

CREATE  FUNCTION auth."redirect_target"(
	"redirect_to" TEXT /* Option < & str > */
) RETURNS TEXT /* String */
STABLE SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'redirect_target_wrapper';

-- verify_otp / verify_link / redirect_target: anyone holding a code or a link. GoTrue's
-- parameter `type` is a Rust keyword, so the Rust functions are _verify_otp and _verify_link and
-- the functions callers use are declared here over them.
REVOKE ALL ON FUNCTION auth._verify_otp(text, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth._verify_otp(text, text, text, text, text, text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth._verify_link(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth._verify_link(text, text, text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.redirect_target(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.redirect_target(text) TO anon, authenticated, service_role;

CREATE FUNCTION auth.verify_otp(type text, token text DEFAULT NULL, token_hash text DEFAULT NULL,
                                email text DEFAULT NULL, phone text DEFAULT NULL,
                                redirect_to text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth._verify_otp(type, token, token_hash, email, phone, redirect_to) $$;
REVOKE ALL ON FUNCTION auth.verify_otp(text, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.verify_otp(text, text, text, text, text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth.verify_link(token text, type text, redirect_to text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth._verify_link(token, type, redirect_to) $$;
REVOKE ALL ON FUNCTION auth.verify_link(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.verify_link(text, text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.verify_otp(type text, token text DEFAULT NULL, token_hash text DEFAULT NULL,
                                    email text DEFAULT NULL, phone text DEFAULT NULL,
                                    redirect_to text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth._verify_otp(type, token, token_hash, email, phone, redirect_to) $$;
REVOKE ALL ON FUNCTION auth_api.verify_otp(text, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.verify_otp(text, text, text, text, text, text) TO anon, authenticated, service_role;

-- Codes and hashes are secrets: failures must not log the statement. (Only on the SECURITY
-- DEFINER functions: the setting is a superuser's, and an invoker's wrapper that set it would
-- refuse every caller but a superuser with 42501.)
ALTER FUNCTION auth._verify_otp(text, text, text, text, text, text) SET log_min_error_statement = panic;
ALTER FUNCTION auth._verify_link(text, text, text) SET log_min_error_statement = panic;

CREATE  FUNCTION auth."sign_in_with_otp"(
	"email" TEXT DEFAULT NULL, /* Option < & str > */
	"phone" TEXT DEFAULT NULL, /* Option < & str > */
	"create_user" bool DEFAULT true, /* Option < bool > */
	"data" jsonb DEFAULT '{}', /* Option < JsonbArg > */
	"channel" TEXT DEFAULT 'sms', /* Option < & str > */
	"redirect_to" TEXT DEFAULT NULL, /* Option < & str > */
	"code_challenge" TEXT DEFAULT NULL, /* Option < & str > */
	"code_challenge_method" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sign_in_with_otp_wrapper';

CREATE  FUNCTION auth."_resend"(
	"otp_type" TEXT, /* Option < & str > */
	"email" TEXT DEFAULT NULL, /* Option < & str > */
	"phone" TEXT DEFAULT NULL, /* Option < & str > */
	"redirect_to" TEXT DEFAULT NULL, /* Option < & str > */
	"code_challenge" TEXT DEFAULT NULL, /* Option < & str > */
	"code_challenge_method" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', '_resend_wrapper';

-- sign_in_with_otp / resend: anyone may ask for a code. GoTrue's `type` parameter is a Rust
-- keyword: auth.resend is declared here over auth._resend.
REVOKE ALL ON FUNCTION auth.sign_in_with_otp(text, text, boolean, jsonb, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.sign_in_with_otp(text, text, boolean, jsonb, text, text, text, text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth._resend(text, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth._resend(text, text, text, text, text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth.resend(type text, email text DEFAULT NULL, phone text DEFAULT NULL,
                            redirect_to text DEFAULT NULL, code_challenge text DEFAULT NULL,
                            code_challenge_method text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth._resend(type, email, phone, redirect_to, code_challenge, code_challenge_method) $$;
REVOKE ALL ON FUNCTION auth.resend(text, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.resend(text, text, text, text, text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.sign_in_with_otp(email text DEFAULT NULL, phone text DEFAULT NULL,
                                          create_user boolean DEFAULT true, data jsonb DEFAULT '{}',
                                          channel text DEFAULT 'sms', redirect_to text DEFAULT NULL,
                                          code_challenge text DEFAULT NULL,
                                          code_challenge_method text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.sign_in_with_otp(email, phone, create_user, data, channel, redirect_to, code_challenge, code_challenge_method) $$;
REVOKE ALL ON FUNCTION auth_api.sign_in_with_otp(text, text, boolean, jsonb, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.sign_in_with_otp(text, text, boolean, jsonb, text, text, text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.resend(type text, email text DEFAULT NULL, phone text DEFAULT NULL,
                                redirect_to text DEFAULT NULL, code_challenge text DEFAULT NULL,
                                code_challenge_method text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth._resend(type, email, phone, redirect_to, code_challenge, code_challenge_method) $$;
REVOKE ALL ON FUNCTION auth_api.resend(text, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.resend(text, text, text, text, text, text) TO anon, authenticated, service_role;

CREATE  FUNCTION auth."reauthenticate"() RETURNS jsonb /* JsonB */
STRICT SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'reauthenticate_wrapper';

-- reauthenticate: a signed-in user asks for a nonce (to their email, else phone).
REVOKE ALL ON FUNCTION auth.reauthenticate() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.reauthenticate() TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.reauthenticate()
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.reauthenticate() $$;
REVOKE ALL ON FUNCTION auth_api.reauthenticate() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.reauthenticate() TO authenticated, service_role;

