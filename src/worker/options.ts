import { availableParallelism, hostname } from "node:os";
import { InvalidConfigError } from "../errors.ts";

export interface WorkerOptions {
  /** Service name: part of the worker id and of the default queue name. @defaultValue "zerog" */
  name?: string;
  /**
   * The base queue: a job of type T is put on `${queueName}/${T}`, and the worker reserves from the
   * queues of its types that are not paused, and from this one. @defaultValue `${name}_jobs`
   */
  queueName?: string;
  /** Worker slots: jobs run at once by this worker. @defaultValue 1 */
  concurrency?: number;
  /**
   * Queue TTR of new jobs: a reservation not touched for this long returns the job to the queue.
   * The worker touches every ttrSeconds/3 while a job runs, so only a dead process lets it pass. @defaultValue 60
   */
  ttrSeconds?: number;
  /** Delay of a requeue when run() returns NO_RESULT without a delay. @defaultValue 10 */
  requeueDelaySeconds?: number;
  /** Delay before a job that raised an error runs again. @defaultValue 30 */
  errorRetryDelaySeconds?: number;
  /** Delay before an entry whose job could not be loaded is tried again. @defaultValue 30 */
  unloadableRetryDelaySeconds?: number;
  /** An unloadable entry is buried after more than this many reserves. @defaultValue 3 */
  maxUnloadableReserves?: number;
  /** An unloadable entry is buried after more than this many TTR time-outs. @defaultValue 2 */
  maxUnloadableTimeouts?: number;
  /** Longest single reserve wait; bounds how long a stop request waits for an idle slot. @defaultValue 1000 */
  reserveTimeoutMs?: number;
  /** Progress and log writes of a running job are coalesced to one per this interval; 0 writes each at once. @defaultValue 100 */
  progressFlushMs?: number;
  /** How often a running job's document is checked for a user's kill request. @defaultValue 1000 */
  killPollMs?: number;
  /** On stop, how long running jobs may take to finish before their signal aborts. @defaultValue 10000 */
  shutdownGraceMs?: number;
  /** Longest back-off between reserve attempts while the backend is failing. @defaultValue 5000 */
  maxBackoffMs?: number;
  /** Host name in the worker id (host:service:pid), and what the fleet view groups by. @defaultValue os.hostname() */
  hostName?: string;
  /**
   * Job processes (isolation "process"): how many jobs one process runs at once. The worker keeps
   * `ceil(concurrency / jobsPerProcess)` processes. The default sizes the pool to the machine's
   * cores, which is several times faster than a process per slot; the price is that a job that
   * crashes its process (`process.exit`, out of memory, killed for ignoring its signal) takes the
   * jobs beside it down too (they are requeued without an error counted). 1: a process per slot.
   * @defaultValue ceil(concurrency / os.availableParallelism())
   */
  jobsPerProcess?: number;
  /**
   * Job processes (isolation "process"): one is replaced after running this many jobs (its
   * replacement starts a tenth of them earlier, so no job waits for it); 1 gives every job a
   * fresh process.
   * @defaultValue 10000
   */
  recycleAfterJobs?: number;
  /** Job processes: one whose memory (RSS) after a job is above this many MB is replaced. @defaultValue 512 */
  recycleMemoryMb?: number;
  /** Job processes: V8 heap limit in MB; a job that allocates past it dies alone. 0: Node's default. @defaultValue 0 */
  memoryLimitMb?: number;
  /** Job processes: a run still going after this many seconds is killed (error 500, then `continueRunning()`). 0: no limit. @defaultValue 0 */
  jobTimeoutSeconds?: number;
  /** Job processes: after a run is told to stop (killed, shutdown), how long it may take before its process is killed. @defaultValue 1000 */
  killGraceMs?: number;
  /** How often the worker looks for control messages (drain, kill, …) and refreshes its announcement when it changed. @defaultValue 500, or workerTtlMs / 8 when smaller */
  controlPollMs?: number;
  /** The worker re-announces itself at least this often. @defaultValue 2000, or workerTtlMs / 4 when smaller */
  announceIntervalMs?: number;
  /**
   * A worker not heard from for this long counts as dead: it drops out of the fleet view, and the
   * jobs it was running go back to the queue to run elsewhere (within about a second more).
   * @defaultValue 10000
   */
  workerTtlMs?: number;
}

export const WORKER_DEFAULTS = {
  name: "zerog",
  queueName: "",
  concurrency: 1,
  ttrSeconds: 60,
  requeueDelaySeconds: 10,
  errorRetryDelaySeconds: 30,
  unloadableRetryDelaySeconds: 30,
  maxUnloadableReserves: 3,
  maxUnloadableTimeouts: 2,
  reserveTimeoutMs: 1000,
  progressFlushMs: 100,
  killPollMs: 1000,
  shutdownGraceMs: 10_000,
  maxBackoffMs: 5000,
  hostName: "",
  /** 0: decided from the concurrency and the cores when the options are resolved. */
  jobsPerProcess: 0,
  recycleAfterJobs: 10_000,
  recycleMemoryMb: 512,
  memoryLimitMb: 0,
  jobTimeoutSeconds: 0,
  killGraceMs: 1000,
  controlPollMs: 500,
  announceIntervalMs: 2000,
  workerTtlMs: 10_000,
} as const satisfies Required<WorkerOptions>;

export type ResolvedWorkerOptions = {
  -readonly [K in keyof typeof WORKER_DEFAULTS]: (typeof WORKER_DEFAULTS)[K] extends string ? string : number;
};

/** Defaults applied and every value checked once, with a message a user can act on. */
export function resolveWorkerOptions(opts: WorkerOptions = {}): ResolvedWorkerOptions {
  const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  const o: ResolvedWorkerOptions = { ...WORKER_DEFAULTS, ...defined };
  // A short TTL (quick takeover of a dead worker's jobs) needs announcements well within it.
  if (opts.announceIntervalMs === undefined) o.announceIntervalMs = Math.min(o.announceIntervalMs, o.workerTtlMs / 4);
  if (opts.controlPollMs === undefined) o.controlPollMs = Math.min(o.controlPollMs, o.workerTtlMs / 8);
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(o.name)) {
    throw new InvalidConfigError(`name '${o.name}' must be 1-100 letters, digits, '_', '-' or '.'`);
  }
  if (o.queueName === "") o.queueName = `${o.name}_jobs`;
  if (opts.jobsPerProcess === undefined) o.jobsPerProcess = Math.ceil(o.concurrency / availableParallelism());
  if (o.hostName === "") o.hostName = hostname();
  if (!/^[^\s/:]{1,255}$/.test(o.hostName)) {
    throw new InvalidConfigError(`hostName '${o.hostName}' must be 1-255 characters without spaces, '/' or ':'`);
  }
  const positive = [
    "concurrency",
    "ttrSeconds",
    "reserveTimeoutMs",
    "killPollMs",
    "recycleAfterJobs",
    "recycleMemoryMb",
    "jobsPerProcess",
    "controlPollMs",
    "announceIntervalMs",
    "workerTtlMs",
  ] as const;
  for (const k of positive) {
    if (!Number.isFinite(o[k]) || o[k] <= 0)
      throw new InvalidConfigError(`${k} must be a positive number, got ${o[k]}`);
  }
  if (!Number.isInteger(o.concurrency))
    throw new InvalidConfigError(`concurrency must be a whole number, got ${o.concurrency}`);
  if (!Number.isInteger(o.jobsPerProcess))
    throw new InvalidConfigError(`jobsPerProcess must be a whole number, got ${o.jobsPerProcess}`);
  if (o.workerTtlMs <= o.announceIntervalMs + o.controlPollMs) {
    throw new InvalidConfigError(
      `workerTtlMs (${o.workerTtlMs}) must be longer than announceIntervalMs + controlPollMs (${o.announceIntervalMs + o.controlPollMs}), or live workers would drop out`,
    );
  }
  const nonNegative = [
    "requeueDelaySeconds",
    "errorRetryDelaySeconds",
    "unloadableRetryDelaySeconds",
    "maxUnloadableReserves",
    "maxUnloadableTimeouts",
    "progressFlushMs",
    "shutdownGraceMs",
    "maxBackoffMs",
    "memoryLimitMb",
    "jobTimeoutSeconds",
    "killGraceMs",
  ] as const;
  for (const k of nonNegative) {
    if (!Number.isFinite(o[k]) || o[k] < 0) throw new InvalidConfigError(`${k} must be 0 or more, got ${o[k]}`);
  }
  return o;
}
