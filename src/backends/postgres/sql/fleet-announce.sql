-- fleet-announce: writes (creates or replaces) a worker's record.
-- $1 worker_id, $2 record (jsonb), $3 expires_at_ms → no rows.
-- One statement: an upsert, so a worker's first announcement and every later one are the same call.
INSERT INTO zerog_fleet_workers (worker_id, record, expires_at_ms)
VALUES ($1, $2, $3)
ON CONFLICT (worker_id) DO UPDATE SET record = excluded.record, expires_at_ms = excluded.expires_at_ms;
