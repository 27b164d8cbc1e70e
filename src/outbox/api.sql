-- The outbox's consumer API: only for the role that drains it (never PostgREST's roles).
REVOKE ALL ON FUNCTION auth.outbox_claim(integer, integer, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.outbox_claim(integer, integer, text[]) TO auth_outbox_consumer;
REVOKE ALL ON FUNCTION auth.outbox_sent(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.outbox_sent(bigint) TO auth_outbox_consumer;
REVOKE ALL ON FUNCTION auth.outbox_failed(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.outbox_failed(bigint, text) TO auth_outbox_consumer;

-- A claimed message carries its codes: a failure must not log the statement's result, and
-- nothing here takes a secret as an argument.
