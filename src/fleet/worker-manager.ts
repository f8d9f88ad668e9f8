import type { Backend } from "../contracts/backend.ts";
import type { ControlMessage, WorkerRecord, WorkerState } from "../contracts/fleet.ts";
import { type JobQueueStats, jobQueueStats } from "../contracts/job-queues.ts";
import type { QueueStats } from "../contracts/queue.ts";
import { HostNotFoundError, WorkerNotFoundError, WorkerRetiredError } from "../errors.ts";
import { type Clock, systemClock } from "../internal/clock.ts";
import { type FleetUpdate, type FleetWatchOptions, watchFleet } from "./fleet-watch.ts";

/** A host's workers, summed up for an autoscaler. */
export interface HostSummary {
  host: string;
  workers: WorkerRecord[];
  /** Jobs running on the host now. */
  running: number;
  /**
   * Every worker on the host takes no jobs and runs none: the host is safe to terminate
   * (nothing is lost; a job would be handed back all the same, but would start over).
   */
  drained: boolean;
}

/** GET /workers: the fleet, per host, the queue's depth per entry state, and the paused job types. */
export interface FleetOverview {
  workers: WorkerRecord[];
  hosts: HostSummary[];
  /** Every job that waits: the base queue's entries and each job type's, summed. */
  queue: QueueStats;
  /** The job types no worker starts until they are resumed, sorted. */
  pausedTypes: string[];
}

/** What a drain/undrain/retire request reached. */
export interface ControlResult {
  sent: ControlMessage["kind"];
  workers: string[];
}

/** Workers that run no job and take none. */
const DRAINED_STATES: ReadonlySet<WorkerState> = new Set(["drainingIdle", "drainingDown"]);

/** The worker runs no job and takes none: safe to stop. */
export function isWorkerDrained(w: Pick<WorkerRecord, "state">): boolean {
  return DRAINED_STATES.has(w.state);
}

/**
 * The fleet's manager (docs/capacity.md): reads the fleet that workers announce in the backend, and sends them
 * control messages there. Any process on the backend can be a manager; it needs no worker of
 * its own. Workers apply a message within their `controlPollMs` and announce the result.
 */
export class WorkerManager {
  readonly #backend: Backend;
  readonly #queueName: string;
  readonly #jobTypes: readonly string[];
  readonly #clock: Clock;

  /** `queueName` is the base queue; `jobTypes` the types whose queues (`${queueName}/${type}`) the depth counts too. */
  constructor(backend: Backend, opts: { queueName: string; jobTypes?: readonly string[]; clock?: Clock }) {
    this.#backend = backend;
    this.#queueName = opts.queueName;
    this.#jobTypes = opts.jobTypes ?? [];
    this.#clock = opts.clock ?? systemClock;
  }

  /** Live workers (dead ones — not announced for their TTL — drop out), by id. */
  workers(): Promise<WorkerRecord[]> {
    return this.#backend.fleet.listWorkers(this.#clock.now());
  }

  /** A live worker's record; WorkerNotFoundError otherwise. */
  async worker(workerId: string): Promise<WorkerRecord> {
    const found = (await this.workers()).find((w) => w.workerId === workerId);
    if (!found) throw new WorkerNotFoundError(workerId);
    return found;
  }

  async hosts(): Promise<HostSummary[]> {
    return groupByHost(await this.workers());
  }

  /** One host's summary; HostNotFoundError when no live worker runs there. */
  async host(host: string): Promise<HostSummary> {
    const found = (await this.hosts()).find((h) => h.host === host);
    if (!found) throw new HostNotFoundError(host);
    return found;
  }

  /** True when every worker on `host` is drained: safe to terminate. */
  async isHostDrained(host: string): Promise<boolean> {
    return (await this.host(host)).drained;
  }

  /** Running jobs per host. */
  async runningByHost(): Promise<Record<string, number>> {
    return Object.fromEntries((await this.hosts()).map((h) => [h.host, h.running]));
  }

  /** Queue depth per entry state (ready, delayed, reserved, buried) of the jobs' queues: the base queue and each type's, summed. */
  async queueDepth(): Promise<QueueStats> {
    return (await this.queueDepths()).total;
  }

  /** The depth of the base queue and of each job type's queue, and their sum. */
  queueDepths(): Promise<JobQueueStats> {
    return jobQueueStats(this.#backend.queue, this.#queueName, this.#jobTypes);
  }

  /** The paused job types (FleetStore.pausedTypes), sorted. */
  pausedTypes(): Promise<string[]> {
    return this.#backend.fleet.pausedTypes();
  }

  /** Everything an autoscaler polls, in one call. */
  async overview(): Promise<FleetOverview> {
    const [workers, queue, pausedTypes] = await Promise.all([this.workers(), this.queueDepth(), this.pausedTypes()]);
    return { workers, hosts: groupByHost(workers), queue, pausedTypes };
  }

  /**
   * Watches the fleet: calls `onUpdate` for each worker that joins or leaves (or dies), changes
   * state, or starts or ends a job, as the fleet's records show them; `stop()` ends the watch.
   */
  watch(onUpdate: (u: FleetUpdate) => void, opts?: FleetWatchOptions): { stop(): void } {
    return watchFleet(() => this.workers(), onUpdate, opts);
  }

  drain(workerId: string): Promise<ControlResult> {
    return this.#toWorker(workerId, { kind: "drain" });
  }
  /** WorkerRetiredError for a retired worker: retiring cannot be undone. */
  undrain(workerId: string): Promise<ControlResult> {
    return this.#toWorker(workerId, { kind: "undrain" });
  }
  retire(workerId: string): Promise<ControlResult> {
    return this.#toWorker(workerId, { kind: "retire" });
  }
  /** Asks a worker to announce itself now; its record is fresh within its `controlPollMs`. */
  requestInfo(workerId: string): Promise<ControlResult> {
    return this.#toWorker(workerId, { kind: "requestInfo" });
  }
  /** Tells a worker to stop the run of `uuid` (error 410); see JobClient.kill, which also marks the document. */
  killJob(workerId: string, uuid: string): Promise<void> {
    return this.#backend.fleet.sendControl(workerId, { kind: "killJob", uuid });
  }

  drainHost(host: string): Promise<ControlResult> {
    return this.#toHost(host, { kind: "drain" });
  }
  /** Undrains the host's workers that are not retired; WorkerRetiredError when all are. */
  undrainHost(host: string): Promise<ControlResult> {
    return this.#toHost(host, { kind: "undrain" });
  }
  retireHost(host: string): Promise<ControlResult> {
    return this.#toHost(host, { kind: "retire" });
  }

  /**
   * Waits until `host` is drained (true) or `timeoutMs` passes (false): what an autoscaler
   * calls between draining a host and terminating it.
   */
  async waitForHostDrained(host: string, timeoutMs: number, pollMs = 250): Promise<boolean> {
    const deadline = this.#clock.now() + timeoutMs;
    for (;;) {
      if (await this.isHostDrained(host)) return true;
      if (this.#clock.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  async #toWorker(workerId: string, msg: ControlMessage): Promise<ControlResult> {
    const w = await this.worker(workerId);
    if (msg.kind === "undrain" && w.retiring) throw new WorkerRetiredError(workerId);
    await this.#backend.fleet.sendControl(workerId, msg);
    return { sent: msg.kind, workers: [workerId] };
  }

  async #toHost(host: string, msg: ControlMessage): Promise<ControlResult> {
    const { workers } = await this.host(host);
    const targets = msg.kind === "undrain" ? workers.filter((w) => !w.retiring) : workers;
    if (targets.length === 0) {
      throw new WorkerRetiredError(host, `every worker on host '${host}' is retired and cannot be undrained`);
    }
    await Promise.all(targets.map((w) => this.#backend.fleet.sendControl(w.workerId, msg)));
    return { sent: msg.kind, workers: targets.map((w) => w.workerId) };
  }
}

function groupByHost(workers: WorkerRecord[]): HostSummary[] {
  const byHost = new Map<string, WorkerRecord[]>();
  for (const w of workers) byHost.set(w.host, [...(byHost.get(w.host) ?? []), w]);
  return [...byHost.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([host, ws]) => ({
      host,
      workers: ws,
      running: ws.reduce((n, w) => n + w.running.length, 0),
      drained: ws.every(isWorkerDrained),
    }));
}
