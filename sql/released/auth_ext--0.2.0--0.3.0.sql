-- auth_ext 0.2.0 -> 0.3.0
--
-- auth._user_json(auth.users) is gone: the user object is now an expression inside each
-- statement that returns it (a SQL function with a subquery is never inlined, so every call
-- parsed and planned its body again). It was private (no grants) and only the extension's own
-- statements called it.
DROP FUNCTION auth._user_json(auth.users);

-- Indexes only for the queries auth_ext runs: every row has the same instance_id, and nothing
-- looks refresh tokens up by parent, while each index cost every refresh one or two writes.
DROP INDEX IF EXISTS auth.users_instance_id_idx;
DROP INDEX IF EXISTS auth.refresh_tokens_instance_id_idx;
DROP INDEX IF EXISTS auth.refresh_tokens_instance_id_user_id_idx;
DROP INDEX IF EXISTS auth.refresh_tokens_parent_idx;
DROP INDEX IF EXISTS auth.audit_logs_instance_id_idx;
