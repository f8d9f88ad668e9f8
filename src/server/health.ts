import type { Backend } from "../backend/contract.ts";

export interface HealthReport {
  status: "ok" | "down";
  /** What answered: a document read and the queue's stats, each within the time limit. */
  backend: "up" | "down";
  /** Why the backend counts as down. */
  error?: string;
  tookMs: number;
}

/** A uuid no job has: reading it proves the datastore answers without touching any job. */
const PROBE_UUID = "00000000-0000-4000-8000-000000000000";

/** Reads the datastore and the queue once each; down when either fails or takes longer than `timeoutMs`. */
export async function checkHealth(backend: Backend, queueName: string, timeoutMs: number): Promise<HealthReport> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the backend did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([Promise.all([backend.datastore.read(PROBE_UUID), backend.queue.stats(queueName)]), timeout]);
    return { status: "ok", backend: "up", tookMs: Math.round(performance.now() - t0) };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return { status: "down", backend: "down", error, tookMs: Math.round(performance.now() - t0) };
  } finally {
    clearTimeout(timer);
  }
}
