-- reserve: leases up to $3 of the most urgent reservable entries of the queues in $1.
-- $1 text[] queues, $2 now (ms), $3 how many, $4 also read each entry's job document (true when
-- this schema's zerog_jobs is the worker's datastore), $5 null, or (with $4) the fields that
-- start a run (transitions.ts reserveStartFields) to write into each claimable document,
-- $6 text[] the job types the claiming worker can run (others are only read)
-- → 0..$3 rows: id, queue, body, reserves, priority, doc_version and doc (null when not read or
-- not found; the caller then reads it), claimed (the run was started here), undo (when claimed:
-- the claimed fields as they were, to put back if the worker cannot load the job after all)
-- (unordered: RETURNING has no order; the caller sorts by priority, id).
-- Reservable: a 'ready' row, or a 'delayed' / 'reserved' row whose due time passed (a due
-- delay, an expired lease). Per queue, each kind is one index walk (zerog_queue_ready in
-- priority order; zerog_queue_timed up to now) under FOR UPDATE SKIP LOCKED: rows another
-- reserver is taking are stepped over, never waited on, and a row changed since our snapshot is
-- re-checked, so no entry is leased twice. The lease is one UPDATE in the same statement.
-- Taking over an expired lease counts a timeout (SET reads the row's old state).
-- Each arm may lock a row the final LIMIT then drops; it is unlocked when the statement ends, but
-- a reserver that skipped it meanwhile may find nothing and park until the next wake-up or poll.
WITH candidate AS (
  SELECT c.id, c.priority
  FROM unnest($1::text[]) AS q (name)
  CROSS JOIN LATERAL (
    SELECT * FROM (
      SELECT id, priority FROM zerog_queue
      WHERE queue = q.name AND state = 'ready'
      ORDER BY priority, id LIMIT $3 FOR UPDATE SKIP LOCKED
    ) ready
    UNION ALL
    SELECT * FROM (
      SELECT id, priority FROM zerog_queue
      WHERE queue = q.name AND state IN ('delayed', 'reserved') AND due_ms <= $2
      ORDER BY priority, id LIMIT $3 FOR UPDATE SKIP LOCKED
    ) timed
  ) c
  ORDER BY c.priority, c.id
  LIMIT $3
), leased AS (
  UPDATE zerog_queue AS e
  SET state = 'reserved', due_ms = $2 + e.ttr_ms, reserves = e.reserves + 1,
      timeouts = e.timeouts + (e.state = 'reserved')::integer
  -- = ANY (ARRAY(…)), not a join: keeps the plan a primary-key lookup per row even when generic.
  WHERE e.id = ANY (ARRAY (SELECT id FROM candidate))
  RETURNING e.id, e.queue, e.body, e.reserves, e.priority
), claimed AS (
  -- The worker's next steps are reading the job a body names (its uuid as JSON) and starting a
  -- run; done here, in the lease's transaction, they save two round trips per job. Only a job in
  -- the plain case (queued or delayed, not running, not killed, a type the worker has) is
  -- claimed; every other one is returned as read, for the worker's outcome table. A job written concurrently is re-checked
  -- on its new version (and then returned unclaimed, with the old version: the worker's CAS
  -- write sees the change).
  UPDATE zerog_jobs j
  SET state = $5::jsonb ->> 'state', version = j.version + 1,
      doc = j.doc || $5::jsonb || jsonb_build_object('attempt', (j.doc ->> 'attempt')::integer + 1)
  -- = ANY (ARRAY(…)) again, and the other tests on the document rather than on the indexed
  -- state / job_type columns: a primary-key lookup per leased body, whatever the statistics say.
  WHERE $5::jsonb IS NOT NULL AND j.uuid = ANY (ARRAY (SELECT btrim(body, '"') FROM leased))
    AND j.doc ->> 'state' IN ('queued', 'delayed') AND j.doc ->> 'jobType' = ANY ($6::text[])
    AND j.doc @> '{"running": false, "killRequested": false}'
  RETURNING j.uuid, j.version, j.doc
)
-- A body that is not a uuid as JSON finds nothing and is read by the worker as usual.
SELECT l.id, l.queue, l.body, l.reserves, l.priority,
       coalesce(c.version, j.version) AS doc_version, coalesce(c.doc, j.doc) AS doc, c.uuid IS NOT NULL AS claimed,
       -- j is the statement's snapshot: the document as it was before the claim.
       CASE WHEN c.uuid IS NOT NULL THEN
         (SELECT jsonb_object_agg(k, j.doc -> k) FROM jsonb_object_keys($5::jsonb || '{"attempt": 0}') AS k)
       END AS undo
FROM leased l
LEFT JOIN zerog_jobs j ON $4 AND j.uuid = btrim(l.body, '"')
LEFT JOIN claimed c ON c.uuid = j.uuid;
