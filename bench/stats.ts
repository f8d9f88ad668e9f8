import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";

/** The q-quantile (0..1) of `values`, by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

export const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** One JSON line per figure: what the CI log and the closing note quote. */
export function report(fields: Record<string, unknown>): void {
  console.log(JSON.stringify(fields));
}

/** p50 / p90 / p99 / max of latencies in ms, rounded to 0.01 ms. */
export function latencySummary(ms: readonly number[]): { p50: number; p90: number; p99: number; max: number } {
  const q = (p: number): number => round(quantile(ms, p), 2);
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: q(1) };
}

/**
 * Calls `send` `count` times at a steady `ratePerSec` (the i-th call at t0 + i/rate, whatever the
 * earlier ones are doing); resolves with the id each call answers and the time it was made.
 */
export async function steadily(
  count: number,
  ratePerSec: number,
  send: (i: number) => Promise<string>,
): Promise<Map<string, number>> {
  const sentAt = new Map<string, number>();
  const t0 = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const wait = t0 + (i * 1000) / ratePerSec - performance.now();
    if (wait > 0) await sleep(wait);
    const at = performance.now();
    inflight.push(send(i).then((id) => void sentAt.set(id, at)));
  }
  await Promise.all(inflight);
  return sentAt;
}
