-- replace-jobs: replace-job.sql for a batch: each document is written if its version still matches.
-- $1 jsonb array of {uuid, state, version, doc}, distinct uuids
-- → one row per element, in order: n (1-based position), version (the new one; null when the
--   expected version did not match), found (the uuid exists).
-- One statement, one transaction and one WAL flush for the whole batch (group commit). Each
-- element succeeds or fails on its own: a stale version matches nothing and writes nothing.
-- Two batches locking the same rows in opposite orders can deadlock (only when two processes
-- write one job at the same moment); PostgreSQL then aborts one with 40P01 and the caller
-- retries its elements one by one (src/backends/postgres/batches.ts).
WITH input AS (
  SELECT t.n, t.e ->> 'uuid' AS uuid, t.e ->> 'state' AS state, (t.e ->> 'version')::bigint AS version,
         t.e -> 'doc' AS doc
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t (e, n)
), written AS (
  UPDATE zerog_jobs j SET state = i.state, doc = i.doc, version = j.version + 1
  FROM input i
  WHERE j.uuid = i.uuid AND j.version = i.version
  RETURNING j.uuid, j.version
)
SELECT i.n, w.version, (w.version IS NOT NULL OR EXISTS (SELECT FROM zerog_jobs WHERE uuid = i.uuid)) AS found
FROM input i LEFT JOIN written w ON w.uuid = i.uuid
ORDER BY i.n;
