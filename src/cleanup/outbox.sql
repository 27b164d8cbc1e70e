-- Outbox messages done with: sent more than a day ago (the hourly limits count the last hour;
-- their codes were wiped when they were sent), failed for good more than a week ago (kept that
-- long for the owner to see why). At most $1 rows, oldest first (by id, which follows the order
-- they were queued in: the index stops at the batch); rows a sender holds are skipped.
DELETE FROM auth.outbox WHERE id = ANY (ARRAY(
    SELECT o.id FROM auth.outbox o
     WHERE (o.status = 'sent' AND o.created_at < now() - interval '24 hours')
        OR (o.status = 'failed' AND o.created_at < now() - interval '7 days')
     ORDER BY o.id LIMIT $1 FOR UPDATE SKIP LOCKED))
