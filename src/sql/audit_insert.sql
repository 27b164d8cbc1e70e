-- One audit entry: the payload in $1, the IP address in $2. Run on its own by audit::record and
-- the revocation worker, and spliced into the flows' statements (fragments.rs).
INSERT INTO auth.audit_log_entries (instance_id, id, payload, created_at, ip_address)
VALUES ({{instance_id}}, gen_random_uuid(), $1::json, now(), $2)
