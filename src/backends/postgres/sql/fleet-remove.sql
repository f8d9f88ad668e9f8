-- fleet-remove: removes a worker's record and its inbox (a clean shutdown).
-- $1 worker_id → one row: removed (whether there was a record).
-- One statement, one transaction: record and inbox go together. Data-changing CTEs run whether
-- or not the final SELECT reads them.
WITH gone AS (
  DELETE FROM zerog_fleet_workers WHERE worker_id = $1
  RETURNING worker_id
), inbox AS (
  DELETE FROM zerog_fleet_inbox WHERE worker_id = $1
)
SELECT EXISTS (SELECT FROM gone) AS removed;
