import { probeDatastore, probeQueue } from "../backends/probe.ts";
import type { Backend } from "../contracts/backend.ts";
import { BackendStalledError } from "../errors.ts";

/**
 * One dependency's answer to the probe: `up`; `stalled` when it did not answer in time (its own
 * time limit, `timeoutMs` in its URL, or /health's); `down` when it failed (refused, dropped,
 * or an error).
 */
export type DependencyState = "up" | "stalled" | "down";

export interface DependencyHealth {
  state: DependencyState;
  /** Why it is not up. */
  error?: string;
  tookMs: number;
}

export interface HealthReport {
  status: "ok" | "down";
  /** What answered: a document read and the queue's stats, each within the time limit. */
  backend: "up" | "down";
  /** Why the backend counts as down: each failing dependency, its state and its error. */
  error?: string;
  tookMs: number;
  /** The datastore's probe, a document read (absent when the app was built without a backend check). */
  datastore?: DependencyHealth;
  /** The queue's probe, its stats (of the base queue and every job type's). */
  queue?: DependencyHealth;
}

/**
 * Reads the datastore and the queue once each, side by side; down when either fails or takes
 * longer than `timeoutMs`, saying which and whether it stalled or failed.
 */
export async function checkHealth(
  backend: Backend,
  queueNames: readonly string[],
  timeoutMs: number,
): Promise<HealthReport> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), timeoutMs);
  });
  try {
    const [datastore, queue] = await Promise.all([
      probe(() => probeDatastore(backend), late, t0, timeoutMs),
      probe(() => probeQueue(backend, queueNames), late, t0, timeoutMs),
    ]);
    const tookMs = elapsedMs(t0);
    const failing = Object.entries({ datastore, queue }).filter(([, d]) => d.state !== "up");
    if (failing.length === 0) return { status: "ok", backend: "up", tookMs, datastore, queue };
    const error = failing.map(([name, d]) => `${name} ${d.state}: ${d.error}`).join("; ");
    return { status: "down", backend: "down", error, tookMs, datastore, queue };
  } finally {
    clearTimeout(timer);
  }
}

async function probe(
  call: () => Promise<unknown>,
  late: Promise<"late">,
  t0: number,
  timeoutMs: number,
): Promise<DependencyHealth> {
  try {
    if ((await Promise.race([call(), late])) === "late") {
      return { state: "stalled", error: `it did not answer within ${timeoutMs} ms`, tookMs: elapsedMs(t0) };
    }
    return { state: "up", tookMs: elapsedMs(t0) };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return { state: err instanceof BackendStalledError ? "stalled" : "down", error, tookMs: elapsedMs(t0) };
  }
}

function elapsedMs(t0: number): number {
  return Math.round(performance.now() - t0);
}
