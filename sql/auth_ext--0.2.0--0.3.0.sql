-- auth_ext 0.2.0 -> 0.3.0
--
-- auth._user_json(auth.users) is gone: the user object is now an expression inside each
-- statement that returns it (a SQL function with a subquery is never inlined, so every call
-- parsed and planned its body again). It was private (no grants) and only the extension's own
-- statements called it.
DROP FUNCTION auth._user_json(auth.users);
