import type { Notifier } from "../internal/notifier.ts";
import type { ReserveOptions } from "./queue.ts";

/** What one queue implementation brings to the shared reserve wait. */
export interface ReserveAttempts<T> {
  queues: readonly string[];
  opts: ReserveOptions;
  notifier: Notifier;
  isClosed(): boolean;
  /** One attempt: a reserved entry, or undefined when none is reservable now. */
  take(): Promise<T | undefined> | T | undefined;
  /** Runs before each attempt (e.g. subscribing to wake-ups), so a put after the attempt is heard. */
  beforeAttempt?(): Promise<void>;
  /** Runs before parking: whatever finds entries no put announces (due delays, expired leases). */
  beforePark?(): void;
  /** Longest single park; a queue that cannot be told about due entries polls this often. */
  maxParkMs?: number;
}

/**
 * The wait every queue's `reserve` shares: try, park until a wake-up, a poll, the timeout or the
 * signal, try again. The notifier's mark is taken before each attempt so a put landing between a
 * failed attempt and the park is not missed. An entry taken is returned even if the signal fired
 * meanwhile: dropping it would strand it until its TTR.
 */
export async function reserveLoop<T>(a: ReserveAttempts<T>): Promise<T | null> {
  // Waiting is real time (the caller's patience); stored times come from the queue's clock.
  const deadline = Date.now() + a.opts.timeoutMs;
  for (;;) {
    if (a.isClosed() || a.opts.signal?.aborted) return null;
    await a.beforeAttempt?.();
    if (a.isClosed()) return null;
    const mark = a.notifier.mark(a.queues);
    const taken = await a.take();
    if (taken !== undefined) return taken;
    const left = deadline - Date.now();
    if (left <= 0 || a.isClosed()) return null;
    a.beforePark?.();
    a.opts.onWait?.();
    await a.notifier.park(a.queues, Math.min(left, a.maxParkMs ?? left), mark, a.opts.signal);
  }
}
