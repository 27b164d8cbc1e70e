-- Audit entries older than audit_log_retention_days ($2, at least 1: the caller skips this for
-- 0, keep forever). At most $1 rows, oldest first (audit_log_entries_created_at_idx); rows a
-- concurrent run holds are skipped.
DELETE FROM auth.audit_log_entries WHERE id = ANY (ARRAY(
    SELECT a.id FROM auth.audit_log_entries a
     WHERE a.created_at < now() - make_interval(days => $2)
     ORDER BY a.created_at LIMIT $1 FOR UPDATE SKIP LOCKED))
