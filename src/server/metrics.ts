import type { EventEmitter } from "node:events";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { WorkerState } from "../contracts/fleet.ts";
import type { WorkerManager } from "../fleet/worker-manager.ts";
import { KILLED_BY_USER } from "../job/document.ts";
import type { WorkerEventMap } from "../worker/events.ts";

const WORKER_STATES: readonly WorkerState[] = [
  "activeIdle",
  "activeRunning",
  "drainingIdle",
  "drainingRunning",
  "drainingDown",
  "retiring",
];

const ENTRY_STATES = ["ready", "delayed", "reserved", "buried"] as const;

/** How a finished job ended, for labels: 2xx success, 410 killed, anything else failed. */
export function outcomeOfResult(resultCode: number): "success" | "failed" | "killed" {
  if (resultCode === KILLED_BY_USER) return "killed";
  return resultCode >= 200 && resultCode < 300 ? "success" : "failed";
}

/**
 * Prometheus metrics for one server, in a registry of its own (so several servers in a process
 * do not collide): what this process created and ran, and, read at scrape time from the
 * backend, the queues' depth per state (all of them summed, and per job type), the paused job
 * types and the fleet's workers per state.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly #created: Counter<"job_type">;
  readonly #finished: Counter<"job_type" | "outcome">;
  readonly #failed: Counter<"job_type">;
  readonly #runSeconds: Histogram<"job_type">;
  readonly #retentionDeleted: Counter<"job_type" | "status">;
  readonly #started = new Map<string, number>();
  readonly #readBackend: () => Promise<void>;

  /** `jobTypes`: the registered types, whose queue depth and paused state are read at each scrape. */
  constructor(src: { manager: WorkerManager; jobTypes: readonly string[] }) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "zerog_" });
    this.#created = new Counter({
      name: "zerog_jobs_created_total",
      help: "Jobs created through this server",
      labelNames: ["job_type"],
      registers,
    });
    this.#finished = new Counter({
      name: "zerog_jobs_finished_total",
      help: "Jobs this server's worker finished, by outcome (success: 2xx, killed: 410, failed: any other)",
      labelNames: ["job_type", "outcome"],
      registers,
    });
    this.#failed = new Counter({
      name: "zerog_jobs_failed_total",
      help: "Jobs this server's worker finished with a result that is neither 2xx nor 410",
      labelNames: ["job_type"],
      registers,
    });
    this.#runSeconds = new Histogram({
      name: "zerog_job_run_seconds",
      help: "Run time of each run (one attempt) on this server's worker",
      labelNames: ["job_type"],
      buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120, 600, 3600],
      registers,
    });
    this.#retentionDeleted = new Counter({
      name: "zerog_retention_deleted_total",
      help: "Finished job documents this server's sweeper deleted, by job type and status (finished, failed, killed)",
      labelNames: ["job_type", "status"],
      registers,
    });
    const depth = new Gauge({
      name: "zerog_queue_depth",
      help: "Queue entries per state: the base queue's and every job type's queue's, summed",
      labelNames: ["queue", "state"],
      registers,
    });
    const typeDepth = new Gauge({
      name: "zerog_job_type_queue_depth",
      help: "Queue entries per state of one job type's queue (entries put before per-type queues are in zerog_queue_depth only)",
      labelNames: ["job_type", "state"],
      registers,
    });
    const paused = new Gauge({
      name: "zerog_job_type_paused",
      help: "1 while the job type is paused (no worker starts its jobs), else 0",
      labelNames: ["job_type"],
      registers,
    });
    const workers = new Gauge({
      name: "zerog_workers",
      help: "Live workers in the fleet, by state",
      labelNames: ["state"],
      registers,
    });
    const up = new Gauge({
      name: "zerog_backend_up",
      help: "1 when this scrape could read the queues' depth, the paused types and the fleet from the backend, else 0",
      registers,
    });
    // Read once per scrape, before the registry serializes (it reads every metric at once).
    this.#readBackend = async () => {
      try {
        const [q, pausedTypes, fleet] = await Promise.all([
          src.manager.queueDepths(),
          src.manager.pausedTypes(),
          src.manager.workers(),
        ]);
        for (const state of ENTRY_STATES) {
          depth.set({ queue: q.total.queue, state }, q.total[state]);
          for (const [jobType, s] of q.byType) typeDepth.set({ job_type: jobType, state }, s[state]);
        }
        for (const jobType of src.jobTypes) paused.set({ job_type: jobType }, pausedTypes.includes(jobType) ? 1 : 0);
        for (const state of WORKER_STATES) workers.set({ state }, fleet.filter((w) => w.state === state).length);
        up.set(1);
      } catch {
        // A backend that is down leaves the gauges as they were, and says so.
        up.set(0);
      }
    };
  }

  jobCreated(jobType: string): void {
    this.#created.inc({ job_type: jobType });
  }

  /** Counts what retention deleted (src/backends/sweeper.ts), one batch at a time. */
  retentionDeleted(jobType: string, status: string, n: number): void {
    this.#retentionDeleted.inc({ job_type: jobType, status }, n);
  }

  /** Counts what a worker runs; its events say when each run starts and how it ends. */
  follow(events: EventEmitter<WorkerEventMap>): void {
    const ended = (uuid: string, jobType: string): void => {
      const t0 = this.#started.get(uuid);
      this.#started.delete(uuid);
      if (t0 !== undefined) this.#runSeconds.observe({ job_type: jobType }, (performance.now() - t0) / 1000);
    };
    events.on("job:started", ({ uuid }) => this.#started.set(uuid, performance.now()));
    events.on("job:finished", ({ uuid, jobType, resultCode }) => {
      ended(uuid, jobType);
      const outcome = outcomeOfResult(resultCode);
      this.#finished.inc({ job_type: jobType, outcome });
      if (outcome === "failed") this.#failed.inc({ job_type: jobType });
    });
    events.on("job:requeued", ({ uuid, jobType }) => ended(uuid, jobType));
    events.on("job:fenced", ({ uuid }) => this.#started.delete(uuid));
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    await this.#readBackend();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
