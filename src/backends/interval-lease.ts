import type { Datastore } from "../contracts/datastore.ts";

/** One process's claim on one interval of a periodic task that must run once across servers. */
export interface IntervalLease {
  /** What the task's lease keys start with (`zerog-sweep@`): one task's leases never meet another's. */
  prefix: string;
  /** This process's name in the lease records. */
  holder: string;
  intervalMs: number;
  /** The start of the interval (a multiple of `intervalMs` on the clock). */
  slotMs: number;
  nowMs: number;
}

/** The start of the interval that holds `nowMs`. */
export function slotOf(nowMs: number, intervalMs: number): number {
  return nowMs - (nowMs % intervalMs);
}

/**
 * Claims the interval through the datastore's atomic idempotency record (key `<prefix><slotMs>`):
 * of every process that tries, exactly one gets true. The record outlives the interval, so a
 * process whose clock lags cannot take the same interval again; expired ones are purged by later
 * claims (SQLite, PostgreSQL) or expire by themselves (Redis, Couchbase).
 */
export async function claimIntervalLease(datastore: Datastore, lease: IntervalLease): Promise<boolean> {
  const held = await datastore.claimIdempotencyKey({
    key: `${lease.prefix}${lease.slotMs}`,
    uuid: lease.holder,
    nowMs: lease.nowMs,
    expiresAtMs: lease.slotMs + 2 * lease.intervalMs,
  });
  return held === lease.holder;
}
