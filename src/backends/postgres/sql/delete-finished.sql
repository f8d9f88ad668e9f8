-- delete-finished: one batch of retention, finished jobs of one type and status before a position.
-- $1 text job type, $2 text status ('finished', 'failed' or 'killed'), $3 text finished_at and
-- $4 text uuid of the position (rows strictly before it, in (finished_at, uuid) order, go),
-- $5 int the batch's size → one row: n, the jobs deleted.
-- Atomic: one statement. The rows are locked as they are picked (FOR UPDATE); a row updated since
-- the statement began is checked again on its newest version first, so a job set back to queued
-- meanwhile no longer matches and stays, and the DELETE repeats the check on the row it removes.
-- Rows another transaction is writing are skipped (SKIP LOCKED): the next batch finds them. The
-- idempotency rows that name the deleted jobs go in the same statement; their uuid column has the
-- database's collation, hence COLLATE "default", which lets zerog_idempotency_by_uuid serve it.
-- `= ANY (ARRAY(…))`: one index lookup per picked uuid, whatever the planner thinks of a join.
WITH picked AS (
  SELECT uuid FROM zerog_jobs
  WHERE job_type = $1 AND status = $2 AND finished_at IS NOT NULL AND (finished_at, uuid) < ($3, $4)
  ORDER BY finished_at, uuid
  LIMIT $5
  FOR UPDATE SKIP LOCKED
), gone AS (
  DELETE FROM zerog_jobs
  WHERE uuid = ANY (ARRAY(SELECT uuid FROM picked)) AND state = 'finished' AND status = $2
  RETURNING uuid
), keys AS (
  DELETE FROM zerog_idempotency WHERE uuid = ANY (ARRAY(SELECT uuid COLLATE "default" FROM gone))
)
SELECT count(*)::int AS n FROM gone
