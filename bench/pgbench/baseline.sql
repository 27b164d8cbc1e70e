-- The baseline: one indexed UPDATE and one INSERT per transaction, on copies of auth.sessions and
-- auth.refresh_tokens with the same rows and indexes.
BEGIN;
UPDATE base_sessions SET refreshed_at = now(), updated_at = now() WHERE n = :client_id + 1;
INSERT INTO base_tokens (token, user_id, revoked, session_id, parent, created_at, updated_at)
VALUES (md5(random()::text) || md5(random()::text), 'u', false, NULL, NULL, now(), now());
COMMIT;
