-- ZeroG's embedded store: job documents, queue entries and the fleet in one SQLite file.
-- Run by src/backends/sqlite/connection.ts on every open inside one BEGIN IMMEDIATE transaction, so
-- several processes opening the same file at once create it exactly once (IF NOT EXISTS), and
-- a file made by an older version gets the tables added since (new tables only: no migrations).
-- Times are integer milliseconds since the epoch, taken from the injected clock, never SQL now().

-- One row per job; `doc` is the whole JobDocument as JSON. The other columns copy the fields
-- the API filters and sorts on, so listings never parse JSON. `version` is the CAS token:
-- every write bumps it and a replace matches it (UPDATE … WHERE uuid = ? AND version = ?).
CREATE TABLE IF NOT EXISTS zerog_jobs (
  uuid       TEXT PRIMARY KEY,
  job_type   TEXT NOT NULL,
  state      TEXT NOT NULL,
  created_at TEXT NOT NULL, -- ISO-8601 UTC, so text order is time order
  version    INTEGER NOT NULL,
  doc        TEXT NOT NULL
);
-- Listings are newest first, then by uuid among jobs of one millisecond (the cursor is both:
-- src/contracts/list-order.ts), optionally by type and/or status (ListJobsQuery). The status
-- (src/job/job-status.ts) is an expression of state and the doc's resultCode; the listing queries
-- repeat it word for word (SQLite uses an expression index only for the same expression;
-- src/backends/sqlite/sqlite-datastore.ts STATUS_SQL, checked by a unit test).
-- Three indexes and no more: each one costs every insert and state change (a fourth, by type and
-- status, took POST /job from ~18k to ~13k req/s). A listing by type and status walks the type's
-- index newest first and tests the status on the way: a range read, never the whole table.
-- Older files' indexes that these replace are dropped.
DROP INDEX IF EXISTS zerog_jobs_by_created;
DROP INDEX IF EXISTS zerog_jobs_by_type;
DROP INDEX IF EXISTS zerog_jobs_by_state;
DROP INDEX IF EXISTS zerog_jobs_by_type_status;
CREATE INDEX IF NOT EXISTS zerog_jobs_by_created_uuid ON zerog_jobs (created_at, uuid);
CREATE INDEX IF NOT EXISTS zerog_jobs_by_type_created ON zerog_jobs (job_type, created_at, uuid);
CREATE INDEX IF NOT EXISTS zerog_jobs_by_status ON zerog_jobs ((CASE WHEN state <> 'finished' THEN state WHEN json_extract(doc, '$.resultCode') = 410 THEN 'killed' WHEN json_extract(doc, '$.resultCode') BETWEEN 200 AND 299 THEN 'finished' ELSE 'failed' END), created_at, uuid);
-- Retention (Datastore.deleteFinished): finished rows of one type and status, oldest finishedAt
-- first, so a batch is a range read however large the table is. Partial: a job enters it once,
-- when it finishes; queued, delayed and running rows (every progress write) never touch it. The
-- expressions are repeated word for word by sqlite-datastore.ts (STATUS_SQL, FINISHED_AT_SQL), and
-- an older file gains the index on its next open.
CREATE INDEX IF NOT EXISTS zerog_jobs_by_finished ON zerog_jobs (job_type, (CASE WHEN state <> 'finished' THEN state WHEN json_extract(doc, '$.resultCode') = 410 THEN 'killed' WHEN json_extract(doc, '$.resultCode') BETWEEN 200 AND 299 THEN 'finished' ELSE 'failed' END), json_extract(doc, '$.finishedAt'), uuid) WHERE state = 'finished';

-- Idempotency keys of POST /job (Datastore.claimIdempotencyKey): `key` is the job type and the
-- client's key; a row stands until `expires_at_ms`, after which a claim of the key overwrites it.
CREATE TABLE IF NOT EXISTS zerog_idempotency (
  key           TEXT PRIMARY KEY,
  uuid          TEXT NOT NULL,
  expires_at_ms INTEGER NOT NULL
);
-- Claims purge expired rows a few at a time: a range seek.
CREATE INDEX IF NOT EXISTS zerog_idempotency_by_expiry ON zerog_idempotency (expires_at_ms);
-- Retention deletes the keys that name the jobs it removes.
CREATE INDEX IF NOT EXISTS zerog_idempotency_by_uuid ON zerog_idempotency (uuid);

-- Beanstalkd's model. `due_at` means, by state:
--   ready    → when it became ready (put, release or kick time)
--   delayed  → when it becomes ready
--   reserved → when the lease expires (reserve or touch time + ttr_ms)
--   buried   → when it was buried (unused)
-- A reserve first moves due 'delayed' rows to 'ready', then takes the most urgent of
-- (the first 'ready' row, the first 'reserved' row whose lease passed), ORDER BY priority, id.
-- An expired lease stays 'reserved' until someone else reserves it (timeouts + 1), so a slow
-- holder can still finish when nobody took over; its handle checks `reserves` to know.
-- AUTOINCREMENT: an id is never reused, so a stale handle can never match a newer entry.
CREATE TABLE IF NOT EXISTS zerog_queue (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  queue    TEXT NOT NULL,
  body     TEXT NOT NULL,
  priority INTEGER NOT NULL, -- lower is more urgent
  ttr_ms   INTEGER NOT NULL,
  state    TEXT NOT NULL CHECK (state IN ('ready', 'delayed', 'reserved', 'buried')),
  due_at   INTEGER NOT NULL,
  reserves INTEGER NOT NULL DEFAULT 0,
  timeouts INTEGER NOT NULL DEFAULT 0,
  releases INTEGER NOT NULL DEFAULT 0,
  buries   INTEGER NOT NULL DEFAULT 0,
  kicks    INTEGER NOT NULL DEFAULT 0
);
-- "Most urgent ready entry of queue Q" is the first row of this index: O(log n), however
-- many delayed, reserved or buried rows there are.
CREATE INDEX IF NOT EXISTS zerog_queue_ready ON zerog_queue (queue, priority, id) WHERE state = 'ready';
-- Rows that turn reservable with time (due delays, expired leases): a range seek up to now.
-- Queries repeat the literal `state IN ('delayed', 'reserved')`: SQLite uses a partial index
-- only when the query's WHERE visibly implies the index's.
CREATE INDEX IF NOT EXISTS zerog_queue_timed ON zerog_queue (queue, state, due_at) WHERE state IN ('delayed', 'reserved');
-- Kick takes buried rows oldest first.
CREATE INDEX IF NOT EXISTS zerog_queue_buried ON zerog_queue (queue, id) WHERE state = 'buried';

-- The fleet (src/contracts/fleet.ts): each worker's latest announcement. `record` is the whole
-- WorkerRecord as JSON; `expires_at_ms` copies its expiresAtMs, so listings never parse JSON.
CREATE TABLE IF NOT EXISTS zerog_fleet_workers (
  worker_id     TEXT PRIMARY KEY,
  record        TEXT NOT NULL,
  expires_at_ms INTEGER NOT NULL
);
-- Listing filters on expiry, and deletes records dead for a minute: both range seeks.
CREATE INDEX IF NOT EXISTS zerog_fleet_workers_by_expiry ON zerog_fleet_workers (expires_at_ms);
-- Control messages waiting for a worker; `message` is a ControlMessage as JSON. A plain rowid is
-- enough for send order: a new row's id is above every row present, so a take (which removes all
-- of a worker's rows at once) always sorts its rows in the order they were sent.
CREATE TABLE IF NOT EXISTS zerog_fleet_inbox (
  id        INTEGER PRIMARY KEY,
  worker_id TEXT NOT NULL,
  message   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS zerog_fleet_inbox_by_worker ON zerog_fleet_inbox (worker_id, id);

-- Paused job types (FleetStore.setPaused): one row per type, present while it is paused. Workers
-- read the whole table every control poll, so it stays as small as the number of paused types.
CREATE TABLE IF NOT EXISTS zerog_paused_types (
  job_type TEXT PRIMARY KEY
);
