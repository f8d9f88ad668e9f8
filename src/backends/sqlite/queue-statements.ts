import type Database from "better-sqlite3";
import type { EntryState } from "../../contracts/queue.ts";

/** A `zerog_queue` row as stored (src/backends/sqlite/schema.sql). */
export interface EntryRow {
  id: number;
  queue: string;
  body: string;
  priority: number;
  ttr_ms: number;
  state: EntryState;
  due_at: number;
  reserves: number;
  timeouts: number;
  releases: number;
  buries: number;
  kicks: number;
}

/** What a reserve returns: enough to build the handle, and `reserves` as its ownership token. */
export type ReservedRow = Pick<EntryRow, "id" | "queue" | "body" | "reserves" | "priority">;

/** A reserved entry's owner: the row is still 'reserved' with the reserve count it was handed with. */
export interface Owner {
  id: number;
  token: number;
}

// The two places a reservable entry can be: the first 'ready' row (index zerog_queue_ready) and
// the first 'reserved' row whose lease passed (index zerog_queue_timed). Due 'delayed' rows are
// moved to 'ready' just before, by `promote`.
const CANDIDATES = `
  SELECT * FROM (SELECT id, priority FROM zerog_queue
                 WHERE queue = @queue AND state = 'ready' ORDER BY priority, id LIMIT @limit)
  UNION ALL
  SELECT * FROM (SELECT id, priority FROM zerog_queue
                 WHERE queue = @queue AND state IN ('delayed', 'reserved') AND state = 'reserved' AND due_at <= @now
                 ORDER BY priority, id LIMIT @limit)`;

// An expired lease taken over counts a timeout (SET reads the row's old state).
const LEASE = `state = 'reserved', due_at = @now + ttr_ms, reserves = reserves + 1, timeouts = timeouts + (state = 'reserved')`;
const OWNED = "id = @id AND state = 'reserved' AND reserves = @token";

type QueueAt = { queue: string; now: number };
/** A reserve across queues names them @q0, @q1, …: one statement per queue count. */
export type AcrossParams = Record<`q${number}`, string> & { now: number; limit: number };
type Stmt<P extends unknown[] | object, R = unknown> = Database.Statement<P, R>;

/** Every statement the SQLite queue runs (spelled out: declaration files cannot name better-sqlite3's inferred types). */
export interface QueueStatements {
  insert: Stmt<[string, string, number, number, EntryState, number]>;
  promote: Stmt<QueueAt>;
  reserveMany: Stmt<QueueAt & { limit: number }, ReservedRow>;
  /** `reserveMany` across `queues` queues, prepared on first use for each count. */
  reserveAcross(queues: number): Stmt<AcrossParams, ReservedRow>;
  countReservable: Stmt<QueueAt & { limit: number }, { n: number }>;
  hasReservable: Stmt<QueueAt, { found: number }>;
  delete: Stmt<Owner>;
  release: Stmt<Owner & { state: EntryState; dueAt: number; priority: number | null }>;
  touch: Stmt<Owner & { now: number }>;
  expire: Stmt<{ id: number; now: number }>;
  bury: Stmt<Owner & { now: number }>;
  kick: Stmt<QueueAt & { bound: number }>;
  entry: Stmt<[number], EntryRow>;
  stats: Stmt<QueueAt, { ready: number; delayed: number; reserved: number; buried: number }>;
}

/** Prepares every statement the SQLite queue runs, once per connection. */
export function prepareQueueStatements(db: Database.Database): QueueStatements {
  const across = new Map<number, Stmt<AcrossParams, ReservedRow>>();
  return {
    insert: db.prepare<[string, string, number, number, EntryState, number]>(
      "INSERT INTO zerog_queue (queue, body, priority, ttr_ms, state, due_at) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    /** Due delayed entries of a queue become plain ready ones, so the ready index orders them. */
    promote: db.prepare<{ queue: string; now: number }>(
      `UPDATE zerog_queue SET state = 'ready'
       WHERE queue = @queue AND state IN ('delayed', 'reserved') AND state = 'delayed' AND due_at <= @now`,
    ),
    /**
     * Single-queue fast path: pick and lease the `limit` most urgent entries in one statement
     * (every reserver of a queue waiting in one group-commit batch). RETURNING has no order: sort.
     */
    reserveMany: db.prepare<QueueAt & { limit: number }, ReservedRow>(
      `UPDATE zerog_queue SET ${LEASE}
       WHERE id IN (SELECT id FROM (${CANDIDATES}) ORDER BY priority, id LIMIT @limit)
       RETURNING id, queue, body, reserves, priority`,
    ),
    /**
     * Several queues (a worker's job types, and the base queue): each queue's candidates are index
     * walks of their own, as in `reserveMany`, and the `limit` most urgent of them all are leased in
     * the same one statement, so a worker's slots still share one UPDATE per batch.
     */
    reserveAcross(queues: number): Stmt<AcrossParams, ReservedRow> {
      let stmt = across.get(queues);
      if (!stmt) {
        const arms = Array.from(
          { length: queues },
          (_, i) => `SELECT * FROM (${CANDIDATES.replaceAll("@queue", `@q${i}`)})`,
        );
        stmt = db.prepare<AcrossParams, ReservedRow>(
          `UPDATE zerog_queue SET ${LEASE}
           WHERE id IN (SELECT id FROM (${arms.join(" UNION ALL ")}) ORDER BY priority, id LIMIT @limit)
           RETURNING id, queue, body, reserves, priority`,
        );
        across.set(queues, stmt);
      }
      return stmt;
    },
    /** How many entries of a queue are reservable now, counting no further than `limit`. */
    countReservable: db.prepare<{ queue: string; now: number; limit: number }, { n: number }>(
      `SELECT (SELECT count(*) FROM (SELECT 1 FROM zerog_queue
                WHERE queue = @queue AND state = 'ready' LIMIT @limit))
            + (SELECT count(*) FROM (SELECT 1 FROM zerog_queue
                WHERE queue = @queue AND state IN ('delayed', 'reserved') AND due_at <= @now LIMIT @limit)) AS n`,
    ),
    /** Whether a queue has an entry to reserve now: two index probes, a few µs (a reserve across queues skips the empty ones). */
    hasReservable: db.prepare<QueueAt, { found: number }>(
      `SELECT EXISTS (SELECT 1 FROM zerog_queue WHERE queue = @queue AND state = 'ready')
           OR EXISTS (SELECT 1 FROM zerog_queue
                      WHERE queue = @queue AND state IN ('delayed', 'reserved') AND due_at <= @now) AS found`,
    ),
    delete: db.prepare<Owner>(`DELETE FROM zerog_queue WHERE ${OWNED}`),
    release: db.prepare<Owner & { state: EntryState; dueAt: number; priority: number | null }>(
      `UPDATE zerog_queue SET state = @state, due_at = @dueAt, priority = coalesce(@priority, priority),
         releases = releases + 1
       WHERE ${OWNED}`,
    ),
    touch: db.prepare<Owner & { now: number }>(`UPDATE zerog_queue SET due_at = @now + ttr_ms WHERE ${OWNED}`),
    /** Whoever holds it: an expired lease is reservable as it stands (and its next reserve counts a timeout). */
    expire: db.prepare<{ id: number; now: number }>(
      "UPDATE zerog_queue SET due_at = @now WHERE id = @id AND state = 'reserved' AND due_at > @now",
    ),
    bury: db.prepare<Owner & { now: number }>(
      `UPDATE zerog_queue SET state = 'buried', due_at = @now, buries = buries + 1 WHERE ${OWNED}`,
    ),
    kick: db.prepare<{ queue: string; now: number; bound: number }>(
      `UPDATE zerog_queue SET state = 'ready', due_at = @now, kicks = kicks + 1
       WHERE id IN (SELECT id FROM zerog_queue WHERE queue = @queue AND state = 'buried' ORDER BY id LIMIT @bound)`,
    ),
    entry: db.prepare<[number], EntryRow>("SELECT * FROM zerog_queue WHERE id = ?"),
    /** Counts by reported state: due delays and expired leases report 'ready'. */
    stats: db.prepare<
      { queue: string; now: number },
      { ready: number; delayed: number; reserved: number; buried: number }
    >(
      `SELECT
         (SELECT count(*) FROM zerog_queue WHERE queue = @queue AND state = 'ready')
           + (SELECT count(*) FROM zerog_queue
              WHERE queue = @queue AND state IN ('delayed', 'reserved') AND due_at <= @now) AS ready,
         (SELECT count(*) FROM zerog_queue
          WHERE queue = @queue AND state IN ('delayed', 'reserved') AND state = 'delayed' AND due_at > @now) AS delayed,
         (SELECT count(*) FROM zerog_queue
          WHERE queue = @queue AND state IN ('delayed', 'reserved') AND state = 'reserved' AND due_at > @now) AS reserved,
         (SELECT count(*) FROM zerog_queue WHERE queue = @queue AND state = 'buried') AS buried`,
    ),
  };
}
