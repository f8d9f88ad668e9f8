import type { WorkerRecord } from "./fleet.ts";

/**
 * How long a dead worker's record outlives its `expiresAtMs` (the contract's minute): long
 * enough that `getWorker` can still tell what a vanished worker was doing, short enough that
 * crashed workers and their unread inboxes do not pile up.
 */
export const FLEET_PURGE_AFTER_MS = 60_000;

/** Records whose `expiresAtMs` is below this are deleted (with their inboxes) by `listWorkers(nowMs)`. */
export function purgeCutoff(nowMs: number): number {
  return nowMs - FLEET_PURGE_AFTER_MS;
}

/** The order `listWorkers` answers in: by workerId, code unit by code unit (no locale). */
export function byWorkerId(a: WorkerRecord, b: WorkerRecord): number {
  return a.workerId < b.workerId ? -1 : a.workerId > b.workerId ? 1 : 0;
}
