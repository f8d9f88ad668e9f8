import type { EntryState } from "./queue.ts";

/**
 * The state Beanstalkd would report for a stored entry: a delayed entry whose time has come, and
 * a reservation whose TTR has passed, both count as ready — whether or not the store has moved
 * them yet. One rule for every queue implementation, so their stats agree.
 */
export function reportedState(stored: EntryState, dueMs: number, nowMs: number): EntryState {
  return (stored === "delayed" || stored === "reserved") && dueMs <= nowMs ? "ready" : stored;
}
