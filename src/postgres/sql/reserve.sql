-- reserve: leases up to $3 of the most urgent reservable entries of the queues in $1.
-- $1 text[] queues, $2 now (ms), $3 how many → 0..$3 rows: id, queue, body, reserves, priority
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
)
UPDATE zerog_queue AS e
SET state = 'reserved', due_ms = $2 + e.ttr_ms, reserves = e.reserves + 1,
    timeouts = e.timeouts + (e.state = 'reserved')::integer
-- = ANY (ARRAY(…)), not a join: keeps the plan a primary-key lookup per row even when generic.
WHERE e.id = ANY (ARRAY (SELECT id FROM candidate))
RETURNING e.id, e.queue, e.body, e.reserves, e.priority;
