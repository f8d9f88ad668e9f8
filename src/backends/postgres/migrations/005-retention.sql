-- 005-retention: what retention (Datastore.deleteFinished, src/backends/sweeper.ts) reads.
-- Inputs: none. Outputs: zerog_jobs.finished_at and the index zerog_jobs_by_finished; the index
-- zerog_idempotency_by_uuid.
-- Atomic: migrate.ts runs it in one transaction under the schema's advisory lock, with its
-- zerog_migrations row. Adding a STORED column rewrites zerog_jobs once (a lock for as long).

-- A finished job's finishedAt, NULL in every other state. Generated, so every writer keeps it
-- right without knowing it. A column, not an index on `doc ->> 'finishedAt'`: an index on an
-- expression of `doc` would make every progress write of a running job a non-HOT update (a new
-- entry in every index), while this column stays NULL until the job finishes and so leaves those
-- updates as they were. COLLATE "C": ISO times sort as times whatever the database's locale.
ALTER TABLE zerog_jobs ADD COLUMN finished_at text COLLATE "C" GENERATED ALWAYS AS (
  CASE WHEN state = 'finished' THEN doc ->> 'finishedAt' END
) STORED;

-- Finished jobs of one type and status, oldest first: a batch of retention is a range read that
-- stops after LIMIT rows, however large the table is. Partial: a job enters it once, when it
-- finishes.
CREATE INDEX zerog_jobs_by_finished ON zerog_jobs (job_type, status, finished_at, uuid) WHERE finished_at IS NOT NULL;

-- Retention deletes the idempotency keys that name the jobs it removes.
CREATE INDEX zerog_idempotency_by_uuid ON zerog_idempotency (uuid);
