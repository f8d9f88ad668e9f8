-- put: adds one entry to a queue.
-- $1 queue, $2 body, $3 priority, $4 ttr_ms, $5 state ('ready' | 'delayed'), $6 due_ms → one row: id.
-- One statement, one implicit transaction. The caller announces a ready entry after the commit
-- (see src/backends/postgres/ready-channel.ts for why the NOTIFY is not sent from here).
INSERT INTO zerog_queue (queue, body, priority, ttr_ms, state, due_ms)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id;
