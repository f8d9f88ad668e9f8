/**
 * The wait before try `failures + 1` while a backend fails: 100 ms doubling, at most `maxMs`
 * (the exponent is capped so the doubling cannot overflow however long the outage lasts).
 */
export function backoffMs(failures: number, maxMs: number): number {
  return Math.min(maxMs, 100 * 2 ** Math.min(Math.max(0, failures), 10));
}
