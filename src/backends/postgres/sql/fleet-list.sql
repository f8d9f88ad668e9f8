-- fleet-list: the live workers' records, after deleting the records (and inboxes) of workers
-- dead for more than a minute.
-- $1 now (ms), $2 purge cutoff (ms: records that expired before it go) → rows: record,
-- those expiring after $1, by worker_id.
-- One statement, one transaction: a record never goes without its inbox. A worker announcing at
-- the same moment holds its row; the DELETE waits for it and re-checks the new expiry, so a
-- worker back from the dead is kept. The SELECT reads the snapshot from before the deletes,
-- but purged rows (expired before $2, itself before $1) never pass its filter anyway.
WITH dead AS (
  DELETE FROM zerog_fleet_workers WHERE expires_at_ms < $2
  RETURNING worker_id
), dead_inboxes AS (
  DELETE FROM zerog_fleet_inbox WHERE worker_id IN (SELECT worker_id FROM dead)
)
SELECT record FROM zerog_fleet_workers WHERE expires_at_ms > $1 ORDER BY worker_id;
