import type { RunningJob, WorkerRecord, WorkerState } from "../contracts/fleet.ts";

/** What changed in the fleet, as a manager sees it between two looks at the fleet's records. */
export type FleetUpdate =
  | { kind: "joined"; worker: WorkerRecord }
  /** The worker left cleanly, or stopped announcing (died) and dropped out. */
  | { kind: "left"; workerId: string }
  | { kind: "state"; worker: WorkerRecord; from: WorkerState }
  | { kind: "jobStarted"; workerId: string; job: RunningJob }
  | { kind: "jobEnded"; workerId: string; uuid: string };

/** What changed from `prev` to `next` (both lists of live workers), in a stable order. */
export function diffFleet(prev: readonly WorkerRecord[], next: readonly WorkerRecord[]): FleetUpdate[] {
  const before = new Map(prev.map((w) => [w.workerId, w]));
  const after = new Map(next.map((w) => [w.workerId, w]));
  const out: FleetUpdate[] = [];
  for (const w of next) {
    const old = before.get(w.workerId);
    if (!old) {
      out.push({ kind: "joined", worker: w });
      for (const job of w.running) out.push({ kind: "jobStarted", workerId: w.workerId, job });
      continue;
    }
    const oldJobs = new Set(old.running.map((j) => j.uuid));
    const newJobs = new Set(w.running.map((j) => j.uuid));
    for (const uuid of oldJobs) if (!newJobs.has(uuid)) out.push({ kind: "jobEnded", workerId: w.workerId, uuid });
    for (const job of w.running) {
      if (!oldJobs.has(job.uuid)) out.push({ kind: "jobStarted", workerId: w.workerId, job });
    }
    if (old.state !== w.state || old.retiring !== w.retiring) out.push({ kind: "state", worker: w, from: old.state });
  }
  for (const w of prev) if (!after.has(w.workerId)) out.push({ kind: "left", workerId: w.workerId });
  return out;
}

export interface FleetWatchOptions {
  /** How often the fleet is read. @defaultValue 500 */
  intervalMs?: number;
  /** Called when a read fails (the backend is down); the watch goes on. */
  onError?: (err: unknown) => void;
}

/**
 * Reads the fleet every `intervalMs` and calls `onUpdate` with each change; the first read
 * reports every live worker as joined. Updates are as fine as the workers' announcements: a job
 * that starts and ends between two announcements is not seen here (its document has it all).
 */
export function watchFleet(
  list: () => Promise<WorkerRecord[]>,
  onUpdate: (u: FleetUpdate) => void,
  opts: FleetWatchOptions = {},
): { stop(): void } {
  let last: WorkerRecord[] = [];
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const tick = async (): Promise<void> => {
    try {
      const next = await list();
      if (stopped) return;
      for (const u of diffFleet(last, next)) onUpdate(u);
      last = next;
    } catch (err) {
      opts.onError?.(err);
    }
    if (!stopped) timer = setTimeout(tick, opts.intervalMs ?? 500);
  };
  void tick();
  return {
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
