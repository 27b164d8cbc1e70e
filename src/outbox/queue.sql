-- Queues one message; consumers LISTENing on auth_outbox hear of it when this commits.
-- $1 channel, $2 action, $3 recipient, $4 user id, $5 payload.
WITH m AS (
    INSERT INTO auth.outbox (channel, action, recipient, user_id, payload)
    VALUES ($1, $2, $3, $4, $5)
    RETURNING id)
SELECT to_jsonb(m.id) FROM m, LATERAL (SELECT pg_notify('auth_outbox', m.id::text)) n
