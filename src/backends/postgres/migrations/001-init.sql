-- 001-init: ZeroG's tables in the current schema (search_path, set by migrate.ts).
-- Inputs: none. Outputs: tables zerog_jobs and zerog_queue with their indexes.
-- Atomic: migrate.ts runs it inside one transaction holding the schema's advisory lock, with
-- the zerog_migrations row that records it, so it runs exactly once however many servers start.
-- Times are bigint milliseconds since the epoch from ZeroG's injected clock, never SQL now().

-- One row per job; `doc` is the whole JobDocument. The other columns copy the fields the API
-- filters and sorts on. `version` is the CAS token: every write bumps it and a replace
-- matches it (UPDATE … WHERE uuid = $1 AND version = $n).
CREATE TABLE zerog_jobs (
  -- COLLATE "C" on the text keys: byte order (ISO times sort as times whatever the database's
  -- locale) and cheaper comparisons. text, not uuid: a malformed id reads as "not found".
  uuid       text COLLATE "C" PRIMARY KEY,
  job_type   text NOT NULL,
  state      text NOT NULL,
  created_at text COLLATE "C" NOT NULL, -- ISO-8601 UTC, so text order is time order (as in SQLite)
  version    bigint NOT NULL,
  doc        jsonb NOT NULL
);
-- Listings are newest first, optionally by type and/or state (ListJobsQuery).
CREATE INDEX zerog_jobs_by_created ON zerog_jobs (created_at DESC);
CREATE INDEX zerog_jobs_by_type ON zerog_jobs (job_type, created_at DESC);
CREATE INDEX zerog_jobs_by_state ON zerog_jobs (state, created_at DESC);

-- Beanstalkd's model, as in src/backends/sqlite/schema.sql. `due_ms` means, by state:
--   ready    → when it became ready (put, release or kick time)
--   delayed  → when it becomes ready
--   reserved → when the lease expires (reserve or touch time + ttr_ms)
--   buried   → when it was buried (unused)
-- A due 'delayed' row and an expired 'reserved' row are reservable as they stand; an expired
-- lease stays 'reserved' until someone else reserves it (timeouts + 1), so a slow holder can
-- still finish when nobody took over; its handle checks `reserves` to know.
-- bigserial: an id is never reused, so a stale handle can never match a newer entry.
CREATE TABLE zerog_queue (
  id       bigserial PRIMARY KEY,
  queue    text COLLATE "C" NOT NULL,
  body     text NOT NULL,
  priority integer NOT NULL, -- lower is more urgent
  ttr_ms   bigint NOT NULL,
  state    text NOT NULL CHECK (state IN ('ready', 'delayed', 'reserved', 'buried')),
  due_ms   bigint NOT NULL,
  reserves integer NOT NULL DEFAULT 0,
  timeouts integer NOT NULL DEFAULT 0,
  releases integer NOT NULL DEFAULT 0,
  buries   integer NOT NULL DEFAULT 0,
  kicks    integer NOT NULL DEFAULT 0
);
-- "Most urgent ready entry of queue Q" walks this index from its start; SKIP LOCKED steps over
-- rows other reservers are taking, so concurrent reserves neither block nor collide.
CREATE INDEX zerog_queue_ready ON zerog_queue (queue, priority, id) WHERE state = 'ready';
-- Rows that turn reservable with time (due delays, expired leases): a range seek up to now.
CREATE INDEX zerog_queue_timed ON zerog_queue (queue, due_ms) WHERE state IN ('delayed', 'reserved');
-- Kick takes buried rows oldest first.
CREATE INDEX zerog_queue_buried ON zerog_queue (queue, id) WHERE state = 'buried';
-- Every job inserts, updates and deletes a queue row: vacuum after 1% dead rows rather than
-- the default 20%, so the ready index does not fill with dead entries that reserves step over.
ALTER TABLE zerog_queue SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000);
