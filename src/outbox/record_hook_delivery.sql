-- A message a send_email / send_sms hook delivered in the caller's transaction: kept as sent,
-- without its payload (no code is stored), so that the hourly limits count it as they count
-- the outbox's own. $1 channel, $2 action, $3 recipient, $4 user id.
INSERT INTO auth.outbox (channel, action, recipient, user_id, payload, status, sent_at, last_error)
VALUES ($1, $2, $3, $4, '{}', 'sent', now(), 'delivered by the send hook')
RETURNING to_jsonb(id)
