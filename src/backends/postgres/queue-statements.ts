import type { EntryState } from "../../contracts/queue.ts";
import type { JobDocument } from "../../job/document.ts";
import { sqlFile, sqlText } from "./sql.ts";

/** A `zerog_queue` row as stored (src/backends/postgres/migrations/001-init.sql). */
export interface EntryRow {
  id: number;
  queue: string;
  body: string;
  priority: number;
  ttr_ms: number;
  state: EntryState;
  due_ms: number;
  reserves: number;
  timeouts: number;
  releases: number;
  buries: number;
  kicks: number;
}

/**
 * What a reserve returns: enough to build the handle, `reserves` as its ownership token, and the
 * job document its body names when asked for and found (src/backends/postgres/sql/reserve.sql).
 */
export type ReservedRow = Pick<EntryRow, "id" | "queue" | "body" | "reserves" | "priority"> & {
  doc_version: number | null;
  doc: JobDocument | null;
  claimed: boolean;
  undo: Partial<JobDocument> | null;
};

/** A reserved entry's owner: the row is still 'reserved' with the reserve count it was handed with. */
export interface Owner {
  id: number;
  token: number;
}

/** $1 id, $2 token: the row is still leased by the handle that holds this token. */
const OWNED = "id = $1 AND state = 'reserved' AND reserves = $2";

/** Every statement the Postgres queue runs; each is prepared once per connection. */
export const QUEUE_SQL = {
  put: sqlFile("put"),
  reserve: sqlFile("reserve"),
  /** $1 id → the row. */
  entry: sqlText("entry", "SELECT * FROM zerog_queue WHERE id = $1"),
  /** $1 id, $2 token → one row per deleted entry. */
  delete: sqlText("delete", `DELETE FROM zerog_queue WHERE ${OWNED} RETURNING id`),
  /** $3 state, $4 due_ms, $5 priority or null (keep). */
  release: sqlText(
    "release",
    `UPDATE zerog_queue SET state = $3, due_ms = $4, priority = coalesce($5::integer, priority),
       releases = releases + 1
     WHERE ${OWNED} RETURNING id`,
  ),
  /** $3 now: the lease runs another ttr_ms from now. */
  touch: sqlText("touch", `UPDATE zerog_queue SET due_ms = $3 + ttr_ms WHERE ${OWNED} RETURNING id`),
  /** $1 id, $2 now → the entry's queue when a live lease was ended (whoever held it): reservable as it stands. */
  expire: sqlText(
    "expire",
    "UPDATE zerog_queue SET due_ms = $2 WHERE id = $1 AND state = 'reserved' AND due_ms > $2 RETURNING queue",
  ),
  bury: sqlText(
    "bury",
    `UPDATE zerog_queue SET state = 'buried', due_ms = $3, buries = buries + 1 WHERE ${OWNED} RETURNING id`,
  ),
  /** $1 queue, $2 now, $3 bound → n, how many became ready. */
  kick: sqlText(
    "kick",
    `WITH kicked AS (
       UPDATE zerog_queue SET state = 'ready', due_ms = $2, kicks = kicks + 1
       WHERE id IN (SELECT id FROM zerog_queue WHERE queue = $1 AND state = 'buried'
                    ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING id)
     SELECT count(*) AS n FROM kicked`,
  ),
  /** $1 queue, $2 now → counts by reported state: due delays and expired leases report 'ready'. */
  stats: sqlText(
    "stats",
    `SELECT count(*) FILTER (WHERE state = 'ready' OR (state IN ('delayed', 'reserved') AND due_ms <= $2)) AS ready,
            count(*) FILTER (WHERE state = 'delayed' AND due_ms > $2) AS delayed,
            count(*) FILTER (WHERE state = 'reserved' AND due_ms > $2) AS reserved,
            count(*) FILTER (WHERE state = 'buried') AS buried
     FROM zerog_queue WHERE queue = $1`,
  ),
  /** $1 text[] queues, $2 now, $3 limit → per queue, how many entries are reservable (at most 2 × limit). */
  countReservable: sqlText(
    "count_reservable",
    `SELECT q.name AS queue,
            (SELECT count(*) FROM (SELECT FROM zerog_queue
               WHERE queue = q.name AND state = 'ready' LIMIT $3) r)
          + (SELECT count(*) FROM (SELECT FROM zerog_queue
               WHERE queue = q.name AND state IN ('delayed', 'reserved') AND due_ms <= $2 LIMIT $3) t) AS n
     FROM unnest($1::text[]) AS q (name)`,
  ),
} as const;

/** Columns of a new entry: ready now, or delayed until its due time. */
export interface NewEntry {
  priority: number;
  ttrMs: number;
  state: "ready" | "delayed";
  dueMs: number;
}

/** Where a released entry goes: ready now, or delayed by `delaySeconds`. */
export function releasedAt(nowMs: number, delaySeconds: number): { state: "ready" | "delayed"; dueMs: number } {
  const delayed = delaySeconds > 0;
  return { state: delayed ? "delayed" : "ready", dueMs: nowMs + (delayed ? Math.round(delaySeconds * 1000) : 0) };
}

/** Parses a NOTIFY payload "<count>:<queue>"; null when it is not one. */
export function parseReadyPayload(payload: string | undefined): { queue: string; count: number } | null {
  const colon = payload?.indexOf(":") ?? -1;
  if (payload === undefined || colon < 1) return null;
  const count = Number(payload.slice(0, colon));
  return Number.isSafeInteger(count) && count > 0 ? { queue: payload.slice(colon + 1), count } : null;
}
