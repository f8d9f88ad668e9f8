-- replace-job: writes a job document over the stored one if its version is still $4 (CAS).
-- $1 uuid, $2 state, $3 doc (jsonb), $4 expected version
-- → one row: version (the new one; null when nothing matched), found (the uuid exists).
-- One statement: `found` tells a stale version (CasMismatchError) from a missing job
-- (JobNotFoundError) without a second round trip. A concurrent writer that commits first makes
-- the UPDATE re-check `version` on the new row and match nothing.
-- job_type and created_at never change after create: leaving them out spares index updates.
WITH written AS (
  UPDATE zerog_jobs SET state = $2, doc = $3, version = version + 1
  WHERE uuid = $1 AND version = $4
  RETURNING version
)
SELECT (SELECT version FROM written) AS version,
       EXISTS (SELECT FROM zerog_jobs WHERE uuid = $1) AS found;
