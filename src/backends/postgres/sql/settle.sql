-- settle: records a run's outcome (CAS replace of the document) and deletes or releases its
-- queue entry, both or neither.
-- $1 uuid, $2 state, $3 doc (jsonb), $4 expected version, $5 entry id, $6 the handle's
-- `reserves` token, $7 'delete' | 'release', $8 released state ('ready' | 'delayed'),
-- $9 released due_ms
-- → one row: version (null: CAS failed, nothing changed), found (the job exists),
--   settled (1 when the entry was still ours and was deleted or released, else 0).
-- One statement, one implicit transaction: the entry CTEs act only when `written` has a row,
-- so a CAS mismatch leaves the entry as it was. An entry no longer ours (leased again, or
-- gone) matches nothing and is left alone: its new holder will read the recorded outcome.
WITH written AS (
  UPDATE zerog_jobs SET state = $2, doc = $3, version = version + 1
  WHERE uuid = $1 AND version = $4
  RETURNING version
), deleted AS (
  DELETE FROM zerog_queue
  WHERE $7 = 'delete' AND id = $5 AND state = 'reserved' AND reserves = $6 AND EXISTS (SELECT FROM written)
  RETURNING id
), released AS (
  UPDATE zerog_queue SET state = $8, due_ms = $9, releases = releases + 1
  WHERE $7 = 'release' AND id = $5 AND state = 'reserved' AND reserves = $6 AND EXISTS (SELECT FROM written)
  RETURNING id
)
SELECT (SELECT version FROM written) AS version,
       EXISTS (SELECT FROM zerog_jobs WHERE uuid = $1) AS found,
       (SELECT count(*) FROM deleted) + (SELECT count(*) FROM released) AS settled;
