import { InvalidConfigError } from "../errors.ts";
import type { Queue, QueueStats } from "./queue.ts";

/**
 * One queue per job type: a job of type `resize` on base queue `zerog_jobs` waits in
 * `zerog_jobs/resize`. A worker then reserves only from the queues of the types it serves and
 * that are not paused, so a paused type's jobs, or those of a type it does not know, stay put
 * instead of being reserved and given back. `/` is legal in every backend's queue names
 * (Beanstalkd's tubes included), and job types hold only letters, digits, `_`, `-` and `.`.
 */
export function jobQueueName(base: string, jobType: string): string {
  return `${base}/${jobType}`;
}

/**
 * What a worker serving `jobTypes` reserves from: each type's queue that is not paused, then the
 * base queue itself, where jobs created before per-type queues still wait (a pause does not hold those).
 */
export function reserveQueues(base: string, jobTypes: readonly string[], paused: ReadonlySet<string>): string[] {
  return [...jobTypes.filter((t) => !paused.has(t)).map((t) => jobQueueName(base, t)), base];
}

/** The base queue's and every type's queue depth, and their sum (named after the base queue). */
export interface JobQueueStats {
  total: QueueStats;
  byType: ReadonlyMap<string, QueueStats>;
}

/** Reads the base queue and each type's queue once, side by side: what counts every job that waits. */
export async function jobQueueStats(queue: Queue, base: string, jobTypes: readonly string[]): Promise<JobQueueStats> {
  const [own, ...perType] = await Promise.all(
    [base, ...jobTypes.map((t) => jobQueueName(base, t))].map((q) => queue.stats(q)),
  );
  const total: QueueStats = { queue: base, ready: 0, delayed: 0, reserved: 0, buried: 0 };
  const byType = new Map<string, QueueStats>();
  for (const [i, s] of [own, ...perType].entries()) {
    if (!s) continue;
    for (const state of ["ready", "delayed", "reserved", "buried"] as const) total[state] += s[state];
    const jobType = i > 0 ? jobTypes[i - 1] : undefined;
    if (jobType !== undefined) byType.set(jobType, s);
  }
  return { total, byType };
}

/**
 * Refuses, at start-up, a job type whose queue name the queue cannot hold (Beanstalkd: 200 bytes),
 * rather than failing each create of that type later.
 */
export function checkJobQueueNames(queue: Queue, base: string, jobTypes: readonly string[]): void {
  const max = queue.capabilities.maxQueueNameBytes;
  if (max === undefined) return;
  for (const jobType of jobTypes) {
    const name = jobQueueName(base, jobType);
    const bytes = Buffer.byteLength(name, "utf8");
    if (bytes > max) {
      throw new InvalidConfigError(
        `job type '${jobType}' would wait in queue '${name}', ${bytes} bytes, but a ${queue.kind} queue name holds at most ${max}: shorten the queue name (queueName, or --name) or the job type`,
      );
    }
  }
}
