-- requeue-job: writes a finished job's document over the stored one if its version is still $4
-- (CAS) and puts a new queue entry for it, both or neither (a user's retry).
-- $1 uuid, $2 state, $3 doc (jsonb; its queueJobId is set here to the new entry's id),
-- $4 expected version, $5 queue, $6 body, $7 priority, $8 ttr_ms, $9 entry state
-- ('ready' | 'delayed'), $10 due_ms
-- → one row: id (the new entry; null when the CAS failed and nothing changed), version (the
--   document's new one, null likewise), found (the job exists).
-- One statement, one implicit transaction. `current` locks the row at the expected version
-- (a concurrent writer that commits first makes FOR UPDATE re-check the version and match
-- nothing), and the entry is inserted only from that row, so a stale version puts nothing. The
-- caller announces a ready entry after the commit.
WITH current AS (
  SELECT uuid FROM zerog_jobs WHERE uuid = $1 AND version = $4 FOR UPDATE
), entry AS (
  INSERT INTO zerog_queue (queue, body, priority, ttr_ms, state, due_ms)
  SELECT $5, $6, $7, $8, $9, $10 FROM current
  RETURNING id
), written AS (
  UPDATE zerog_jobs
  SET state = $2, doc = jsonb_set($3::jsonb, '{queueJobId}', to_jsonb(entry.id::text)), version = version + 1
  FROM entry
  WHERE zerog_jobs.uuid = $1 AND zerog_jobs.version = $4
  RETURNING zerog_jobs.version
)
SELECT (SELECT id FROM entry) AS id,
       (SELECT version FROM written) AS version,
       EXISTS (SELECT FROM zerog_jobs WHERE uuid = $1) AS found;
