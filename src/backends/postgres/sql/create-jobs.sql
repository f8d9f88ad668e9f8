-- create-jobs: create-job.sql for a batch: new jobs' documents and their queue entries.
-- $1 jsonb array of {uuid, type, state, created, doc, queue, body, priority, ttr, entryState,
--    due}, distinct uuids (so distinct bodies: a body is the uuid as JSON)
-- → one row per element, in order: n (1-based position), id (its entry).
-- One statement, one transaction and one WAL flush for the whole batch (group commit); all or
-- nothing: a taken uuid raises 23505 and aborts the batch, and the caller then creates its
-- elements one by one so only that one fails (src/backends/postgres/batches.ts). Entries are matched
-- to their jobs by body, which RETURNING can give back (it cannot return the input position).
WITH input AS (
  SELECT t.n, t.e ->> 'uuid' AS uuid, t.e ->> 'type' AS job_type, t.e ->> 'state' AS state,
         t.e ->> 'created' AS created_at, t.e -> 'doc' AS doc, t.e ->> 'queue' AS queue,
         t.e ->> 'body' AS body, (t.e ->> 'priority')::integer AS priority,
         (t.e ->> 'ttr')::bigint AS ttr_ms, t.e ->> 'entryState' AS entry_state, (t.e ->> 'due')::bigint AS due_ms
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t (e, n)
), entry AS (
  INSERT INTO zerog_queue (queue, body, priority, ttr_ms, state, due_ms)
  SELECT queue, body, priority, ttr_ms, entry_state, due_ms FROM input ORDER BY n
  RETURNING id, body
), job AS (
  INSERT INTO zerog_jobs (uuid, job_type, state, created_at, version, doc)
  SELECT i.uuid, i.job_type, i.state, i.created_at, 1, jsonb_set(i.doc, '{queueJobId}', to_jsonb(e.id::text))
  FROM input i JOIN entry e ON e.body = i.body
)
SELECT i.n, e.id FROM input i JOIN entry e ON e.body = i.body ORDER BY i.n;
