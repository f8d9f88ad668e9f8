-- 004-paused-types: the paused job types (FleetStore.setPaused) in the current schema.
-- Inputs: none. Outputs: table zerog_paused_types.
-- Atomic: migrate.ts runs it in one transaction under the schema's advisory lock, with its
-- zerog_migrations row, so a schema made by 001-003 gains it exactly once.

-- One row per paused type, present while it is paused. Every worker reads the whole table once per
-- control poll, so it holds no more rows than there are paused types.
-- COLLATE "C": listed in byte order, whatever the database's locale.
CREATE TABLE zerog_paused_types (
  job_type text COLLATE "C" PRIMARY KEY
);
