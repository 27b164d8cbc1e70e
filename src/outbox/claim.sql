-- Claims up to $1 due messages of the channels $3 for $2 seconds: pending ones whose next attempt
-- is due, and ones being sent whose lease ran out (their consumer died). SKIP LOCKED: consumers
-- never wait for each other, and no two hold one message.
WITH due AS (
    SELECT id FROM auth.outbox
     WHERE status IN ('pending', 'sending') AND channel = ANY ($3)
       AND ((status = 'pending' AND next_attempt_at <= now())
         OR (status = 'sending' AND lease_until < now()))
     ORDER BY next_attempt_at, id
     LIMIT $1
       FOR UPDATE SKIP LOCKED),
claimed AS (
    UPDATE auth.outbox o
       SET status = 'sending', attempts = o.attempts + 1,
           lease_until = now() + make_interval(secs => $2)
      FROM due WHERE o.id = due.id
    RETURNING o.id, o.channel, o.action, o.recipient, o.payload, o.attempts)
SELECT coalesce(jsonb_agg(jsonb_build_object(
           'id', id, 'channel', channel, 'action', action, 'to', recipient,
           'payload', payload, 'attempts', attempts) ORDER BY id), '[]')
  FROM claimed
