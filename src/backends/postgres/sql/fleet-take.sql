-- fleet-take: removes and returns every control message waiting for a worker, oldest first.
-- $1 worker_id → rows: message, in send (id) order.
-- One DELETE, so each message is taken once: of two takers at once, the second waits on the
-- rows the first locked and, once it commits, skips them as deleted. RETURNING has no order of
-- its own, hence the outer ORDER BY.
WITH taken AS (
  DELETE FROM zerog_fleet_inbox WHERE worker_id = $1
  RETURNING id, message
)
SELECT message FROM taken ORDER BY id;
