-- create-job: a new job's document and its queue entry, both or neither.
-- $1 uuid, $2 job_type, $3 state, $4 created_at, $5 doc (jsonb; its queueJobId is set here to
-- the new entry's id), $6 queue, $7 body, $8 priority, $9 ttr_ms, $10 entry state
-- ('ready' | 'delayed'), $11 due_ms → one row: id (the entry), version.
-- One statement, one implicit transaction: a taken uuid raises 23505 (no ON CONFLICT on
-- purpose) and aborts it whole, the entry included. The caller announces a ready entry after
-- the commit.
WITH entry AS (
  INSERT INTO zerog_queue (queue, body, priority, ttr_ms, state, due_ms)
  VALUES ($6, $7, $8, $9, $10, $11)
  RETURNING id
), job AS (
  INSERT INTO zerog_jobs (uuid, job_type, state, created_at, version, doc)
  SELECT $1, $2, $3, $4, 1, jsonb_set($5::jsonb, '{queueJobId}', to_jsonb(entry.id::text))
  FROM entry
  RETURNING version
)
SELECT entry.id, job.version FROM entry, job;
