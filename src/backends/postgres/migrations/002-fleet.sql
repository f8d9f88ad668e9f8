-- 002-fleet: the fleet's tables (src/contracts/fleet.ts) in the current schema (search_path,
-- set by migrate.ts, as for 001-init.sql).
-- Inputs: none. Outputs: tables zerog_fleet_workers and zerog_fleet_inbox with their indexes.
-- Atomic: run by migrate.ts in one transaction under the schema's advisory lock, with the
-- zerog_migrations row that records it, so a schema made by 001 alone gains them exactly once.

-- Each worker's latest announcement: `record` is the whole WorkerRecord; `expires_at_ms` copies
-- its expiresAtMs (ms since the epoch, the worker's clock), so listings never look inside JSON.
-- COLLATE "C": listings sort by worker id byte by byte, whatever the database's locale.
CREATE TABLE zerog_fleet_workers (
  worker_id     text COLLATE "C" PRIMARY KEY,
  record        jsonb NOT NULL,
  expires_at_ms bigint NOT NULL
);
-- Listing filters on expiry, and deletes records dead for a minute: both range seeks.
CREATE INDEX zerog_fleet_workers_by_expiry ON zerog_fleet_workers (expires_at_ms);

-- Control messages waiting for a worker (one row each, a ControlMessage). bigserial: ids grow,
-- so id order is send order; a worker need not be known to be sent a message.
CREATE TABLE zerog_fleet_inbox (
  id        bigserial PRIMARY KEY,
  worker_id text COLLATE "C" NOT NULL,
  message   jsonb NOT NULL
);
CREATE INDEX zerog_fleet_inbox_by_worker ON zerog_fleet_inbox (worker_id, id);
