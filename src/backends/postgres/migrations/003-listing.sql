-- 003-listing: what GET /jobs and POST /job's Idempotency-Key need (issue 6).
-- Inputs: none. Outputs: zerog_jobs.status and the listing indexes; table zerog_idempotency.
-- Atomic: migrate.ts runs it in one transaction under the schema's advisory lock, with its
-- zerog_migrations row. Adding a STORED column rewrites zerog_jobs once (a lock for as long).

-- A job's status as the API lists it (src/job/job-status.ts): the stored state, `finished` split
-- by result — 410 is 'killed', 200-299 'finished', any other code 'failed'. Generated, so every
-- writer (create, replace, settle, reserve, the batched ones) keeps it right without knowing it.
-- jsonb comparison orders numbers numerically and every non-number apart from them, so a
-- resultCode that is not a number is never a success and never raises.
ALTER TABLE zerog_jobs ADD COLUMN status text COLLATE "C" GENERATED ALWAYS AS (
  CASE
    WHEN state <> 'finished' THEN state
    WHEN doc -> 'resultCode' = '410'::jsonb THEN 'killed'
    WHEN doc -> 'resultCode' >= '200'::jsonb AND doc -> 'resultCode' <= '299'::jsonb THEN 'finished'
    ELSE 'failed'
  END
) STORED;

-- Listings are newest first, then by uuid among jobs of one millisecond (the cursor is both:
-- src/contracts/list-order.ts); each a range read that stops after LIMIT rows for
-- `(created_at, uuid) < ($1, $2) ORDER BY created_at DESC, uuid DESC`. Three indexes, as 001 had:
-- every index costs each job's state changes (a fourth and fifth cost ~10% of jobs/s). A listing
-- by type and status reads one of them newest first and tests the other condition on the way.
-- 001's three are replaced (zerog_jobs_by_state by the status).
DROP INDEX zerog_jobs_by_created;
DROP INDEX zerog_jobs_by_type;
DROP INDEX zerog_jobs_by_state;
CREATE INDEX zerog_jobs_by_created ON zerog_jobs (created_at DESC, uuid DESC);
CREATE INDEX zerog_jobs_by_type ON zerog_jobs (job_type, created_at DESC, uuid DESC);
CREATE INDEX zerog_jobs_by_status ON zerog_jobs (status, created_at DESC, uuid DESC);

-- Idempotency keys of POST /job (Datastore.claimIdempotencyKey): `key` is the job type and the
-- client's key; a row stands until `expires_ms`, after which a claim of the key takes it over.
CREATE TABLE zerog_idempotency (
  key        text COLLATE "C" PRIMARY KEY,
  uuid       text NOT NULL,
  expires_ms bigint NOT NULL
);
-- Claims purge expired rows a few at a time: a range seek.
CREATE INDEX zerog_idempotency_by_expiry ON zerog_idempotency (expires_ms);
