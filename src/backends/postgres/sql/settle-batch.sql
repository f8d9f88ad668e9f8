-- settle-batch: settle.sql for a batch: each run's outcome (CAS replace) and its entry's delete
-- or release, element by element, all in one statement.
-- $1 jsonb array of {uuid, state, version, doc, entry, token, kind ('delete' | 'release'),
--    to ('ready' | 'delayed'), due}, distinct uuids and entries
-- → one row per element, in order: n (1-based position), version (null: CAS failed and nothing
--   of this element changed), found (the job exists), settled (the entry was still ours and was
--   deleted or released).
-- One statement, one transaction and one WAL flush for the whole batch (group commit). An
-- element's entry changes only when its document was written; an entry no longer ours is left
-- alone (its new holder reads the recorded outcome). Deadlocks: see replace-jobs.sql.
WITH input AS (
  SELECT t.n, t.e ->> 'uuid' AS uuid, t.e ->> 'state' AS state, (t.e ->> 'version')::bigint AS version,
         t.e -> 'doc' AS doc, (t.e ->> 'entry')::bigint AS entry_id, (t.e ->> 'token')::integer AS token,
         t.e ->> 'kind' AS kind, t.e ->> 'to' AS to_state, (t.e ->> 'due')::bigint AS due_ms
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t (e, n)
), written AS (
  UPDATE zerog_jobs j SET state = i.state, doc = i.doc, version = j.version + 1
  FROM input i
  WHERE j.uuid = i.uuid AND j.version = i.version
  RETURNING j.uuid, j.version
), ours AS (
  SELECT i.* FROM input i JOIN written w ON w.uuid = i.uuid
), deleted AS (
  DELETE FROM zerog_queue q USING ours o
  WHERE o.kind = 'delete' AND q.id = o.entry_id AND q.state = 'reserved' AND q.reserves = o.token
  RETURNING q.id
), released AS (
  UPDATE zerog_queue q SET state = o.to_state, due_ms = o.due_ms, releases = q.releases + 1
  FROM ours o
  WHERE o.kind = 'release' AND q.id = o.entry_id AND q.state = 'reserved' AND q.reserves = o.token
  RETURNING q.id
)
SELECT i.n, w.version,
       (w.version IS NOT NULL OR EXISTS (SELECT FROM zerog_jobs WHERE uuid = i.uuid)) AS found,
       (i.entry_id IN (SELECT id FROM deleted UNION ALL SELECT id FROM released)) AS settled
FROM input i LEFT JOIN written w ON w.uuid = i.uuid
ORDER BY i.n;
