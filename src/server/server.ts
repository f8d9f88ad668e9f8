import type { FastifyInstance } from "fastify";
import { openBackend } from "../backends/open-backend.ts";
import { Sweeper } from "../backends/sweeper.ts";
import { JobClient } from "../client/job-client.ts";
import type { Backend } from "../contracts/backend.ts";
import { checkJobQueueNames, jobQueueName } from "../contracts/job-queues.ts";
import { ClosedError } from "../errors.ts";
import { WorkerManager } from "../fleet/worker-manager.ts";
import { type Clock, systemClock } from "../internal/clock.ts";
import { defaultLogger, type Logger } from "../internal/logger.ts";
import { JobRegistry } from "../job/registry.ts";
import { Scheduler } from "../schedule/scheduler.ts";
import { resolveWorkerOptions, type WorkerOptions } from "../worker/options.ts";
import type { JobRunner } from "../worker/runner.ts";
import { Worker } from "../worker/worker.ts";
import { APP_DEFAULTS, createApp } from "./app.ts";
import { checkHealth } from "./health.ts";
import { ServerMetrics } from "./metrics.ts";
import { type ResolvedRetention, type RetentionOptions, resolveRetention, sweepTargets } from "./retention.ts";
import type { JobEventsOptions } from "./routes/job-events.ts";

export interface ServerConfig extends Omit<WorkerOptions, "concurrency"> {
  /** The job classes served (or a registry of them). */
  jobs: Iterable<unknown> | JobRegistry;
  /** An open backend to share (not closed by the server). Without one, `datastore`/`queue` URLs are opened. */
  backend?: Backend;
  /** @defaultValue "sqlite:./zerog.db" */
  datastore?: string;
  /** @defaultValue "sqlite:./zerog.db" */
  queue?: string;
  /** Worker slots in this process; 0 serves the API only. @defaultValue 1 */
  concurrency?: number;
  /** @defaultValue 8888 */
  port?: number;
  /** @defaultValue "127.0.0.1" (set "0.0.0.0" to serve other hosts) */
  host?: string;
  /** @defaultValue 1 MiB */
  bodyLimitBytes?: number;
  /** @defaultValue "*" */
  corsOrigin?: string | string[];
  /** How long POST /job's Idempotency-Key answers the first job's uuid. @defaultValue 86400 (24 h) */
  idempotencyWindowSeconds?: number;
  /** Deepest nesting a request body may have. @defaultValue 32 */
  maxParamsDepth?: number;
  /**
   * API token: when set, every mutating and management endpoint (and, with `protectReads`,
   * every read but /health) needs `Authorization: Bearer <token>`. The CLI reads ZEROG_API_TOKEN.
   */
  apiToken?: string;
  /** With `apiToken`: guard the read-only job endpoints too. @defaultValue false */
  protectReads?: boolean;
  /** Serve GET /metrics (Prometheus). @defaultValue true */
  metrics?: boolean;
  /** GET /health counts the backend as down when it takes longer than this. @defaultValue 2000 */
  healthTimeoutMs?: number;
  /** GET /events/{uuid}: how often watched jobs are read (`pollMs`, 250), heartbeat (`heartbeatMs`, 15000). */
  events?: JobEventsOptions;
  /**
   * Create the jobs of classes with `static schedule` (needs workers: `concurrency` > 0). Every
   * server may run it: each tick's job is created once across all servers on the backend. @defaultValue true
   */
  scheduler?: boolean;
  /**
   * Retention: servers with workers delete finished jobs that have had their time, one server of
   * those sharing the backend per `sweepIntervalMs`. These are the defaults of classes without a
   * `static retention` (7 days for succeeded jobs, 30 for failed and killed ones, no count limit);
   * 0 keeps jobs forever. `false`: this server never sweeps. @defaultValue {}
   */
  retention?: RetentionOptions | false;
  clock?: Clock;
  logger?: Logger;
  /** See WorkerConfig.isolation. @defaultValue "process" when `jobModules` is given, else "inline" */
  isolation?: "process" | "inline";
  /** Paths of the modules exporting the job classes, for job processes. */
  jobModules?: readonly string[];
  runner?: JobRunner;
}

export const SERVER_DEFAULTS = { port: 8888, host: "127.0.0.1", concurrency: 1 } as const;

/** A ZeroG service: the REST API and, unless `concurrency` is 0, workers, on one backend. */
export class Server {
  readonly registry: JobRegistry;
  readonly #config: ServerConfig;
  readonly #logger: Logger;
  #backend: Backend | null = null;
  #ownsBackend = false;
  #client: JobClient | null = null;
  #manager: WorkerManager | null = null;
  #metrics: ServerMetrics | null = null;
  #app: FastifyInstance | null = null;
  #worker: Worker | null = null;
  #scheduler: Scheduler | null = null;
  #sweeper: Sweeper | null = null;
  readonly #retention: ResolvedRetention | null;

  constructor(config: ServerConfig) {
    this.#config = config;
    this.registry = config.jobs instanceof JobRegistry ? config.jobs : new JobRegistry(config.jobs);
    this.#logger = config.logger ?? defaultLogger();
    resolveWorkerOptions({ ...config, concurrency: config.concurrency || 1 }); // fail fast on bad options
    this.#retention = resolveRetention(config.retention);
  }

  get app(): FastifyInstance {
    if (!this.#app) throw new ClosedError("server (call start() first)");
    return this.#app;
  }
  get client(): JobClient {
    if (!this.#client) throw new ClosedError("server (call start() first)");
    return this.#client;
  }
  /** The fleet's manager: every worker on this backend, not only this server's. */
  get manager(): WorkerManager {
    if (!this.#manager) throw new ClosedError("server (call start() first)");
    return this.#manager;
  }
  /** The in-process worker, or null when `concurrency` is 0. */
  get worker(): Worker | null {
    return this.#worker;
  }
  /** Creates the scheduled (cron) jobs; null without workers, with `scheduler: false`, or when no class has a schedule. */
  get scheduler(): Scheduler | null {
    return this.#scheduler;
  }
  /** Deletes finished jobs that have had their time; null without workers, with `retention: false`, or when every job is kept forever. */
  get sweeper(): Sweeper | null {
    return this.#sweeper;
  }
  get backend(): Backend {
    if (!this.#backend) throw new ClosedError("server (call start() first)");
    return this.#backend;
  }

  /** Opens the backend, builds the API and starts the workers; does not listen. */
  async start(): Promise<void> {
    await this.#open();
    await this.#startWorkers();
  }

  /** Opens the backend and builds the API (once). */
  async #open(): Promise<void> {
    if (this.#app) return;
    const c = this.#config;
    const clock = c.clock ?? systemClock;
    const options = resolveWorkerOptions({ ...c, concurrency: c.concurrency || 1 });
    this.#backend = c.backend ?? (await openBackend({ ...pick(c, "datastore"), ...pick(c, "queue") }, { clock }));
    this.#ownsBackend = !c.backend;
    const backend = this.#backend;
    const jobTypes = this.registry.types();
    try {
      checkJobQueueNames(backend.queue, options.queueName, jobTypes);
    } catch (err) {
      if (this.#ownsBackend) await backend.close();
      this.#backend = null;
      throw err;
    }
    this.#manager = new WorkerManager(backend, { queueName: options.queueName, jobTypes, clock });
    const metrics = c.metrics === false ? null : new ServerMetrics({ manager: this.#manager, jobTypes });
    this.#metrics = metrics;
    const queueNames = [options.queueName, ...jobTypes.map((t) => jobQueueName(options.queueName, t))];
    this.#client = new JobClient(backend, this.registry, {
      queueName: options.queueName,
      ttrSeconds: options.ttrSeconds,
      clock,
      ...(c.idempotencyWindowSeconds === undefined ? {} : { idempotencyWindowSeconds: c.idempotencyWindowSeconds }),
      ...(metrics ? { onCreated: (jobType: string) => metrics.jobCreated(jobType) } : {}),
    });
    this.#app = createApp({
      client: this.#client,
      manager: this.#manager,
      logger: this.#logger,
      bodyLimitBytes: c.bodyLimitBytes ?? APP_DEFAULTS.bodyLimitBytes,
      corsOrigin: c.corsOrigin ?? APP_DEFAULTS.corsOrigin,
      maxParamsDepth: c.maxParamsDepth ?? APP_DEFAULTS.maxParamsDepth,
      ...(c.apiToken ? { auth: { token: c.apiToken, protectReads: c.protectReads ?? false } } : {}),
      health: () => checkHealth(backend, queueNames, c.healthTimeoutMs ?? 2000),
      ...(metrics ? { metrics } : {}),
      ...(c.events ? { events: c.events } : {}),
    });
    await this.#app.ready();
  }

  /** Starts the workers and the scheduler (once), on the open backend. */
  async #startWorkers(): Promise<void> {
    if (this.#worker) return;
    const c = this.#config;
    const backend = this.backend;
    const clock = c.clock ?? systemClock;
    const options = resolveWorkerOptions({ ...c, concurrency: c.concurrency || 1 });
    const concurrency = c.concurrency ?? SERVER_DEFAULTS.concurrency;
    if (concurrency > 0) {
      this.#worker = new Worker({
        ...c,
        concurrency,
        jobs: this.registry,
        backend,
        clock,
        logger: this.#logger,
      });
      this.#metrics?.follow(this.#worker.events);
      await this.#worker.start();
      this.#startScheduler(backend, options.queueName, options.ttrSeconds, clock);
      this.#startSweeper(backend, clock);
    }
  }

  #startSweeper(backend: Backend, clock: Clock): void {
    if (!this.#retention) return;
    const metrics = this.#metrics;
    const logger = this.#logger;
    const sweeper = new Sweeper(backend.datastore, sweepTargets(this.registry, this.#retention.defaults), {
      ...this.#retention.sweeper,
      clock,
      ...(metrics ? { onDeleted: (t, n) => metrics.retentionDeleted(t.jobType, t.status, n) } : {}),
      onPass: (r) => {
        if (r.total === 0) return;
        const deleted = Object.fromEntries(r.deleted.map((d) => [`${d.jobType}/${d.status}`, d.count]));
        logger.info(
          { deleted, total: r.total, batches: r.batches, complete: r.complete, durationMs: Math.round(r.durationMs) },
          "retention: deleted finished jobs",
        );
      },
      onError: (err) => logger.warn({ err }, "retention pass failed; the next interval tries again"),
    });
    if (sweeper.targets.length === 0) return;
    this.#sweeper = sweeper;
    sweeper.start();
  }

  #startScheduler(backend: Backend, queueName: string, ttrSeconds: number, clock: Clock): void {
    if (this.#config.scheduler === false) return;
    const scheduler = new Scheduler({
      backend,
      registry: this.registry,
      queueName,
      ttrSeconds,
      clock,
      logger: this.#logger,
    });
    if (scheduler.jobTypes.length === 0) return;
    this.#scheduler = scheduler;
    scheduler.start();
  }

  /**
   * Starts (if needed) and listens; resolves with the URL it listens on. It listens before the
   * workers start, so that a port in use fails before any job is taken; on any failure the
   * server is closed again and the error rethrown.
   */
  async listen(opts: { port?: number; host?: string } = {}): Promise<string> {
    try {
      await this.#open();
      const url = await this.app.listen({
        port: opts.port ?? this.#config.port ?? SERVER_DEFAULTS.port,
        host: opts.host ?? this.#config.host ?? SERVER_DEFAULTS.host,
      });
      await this.#startWorkers();
      return url;
    } catch (err) {
      await this.close().catch(() => undefined);
      throw err;
    }
  }

  /** Stops taking requests and jobs, lets running jobs finish (see `shutdownGraceMs`), closes the backend. */
  async close(): Promise<void> {
    await this.#scheduler?.stop();
    this.#scheduler = null;
    await this.#sweeper?.stop();
    this.#sweeper = null;
    await this.#app?.close();
    await this.#worker?.stop();
    if (this.#ownsBackend) await this.#backend?.close();
    this.#app = null;
    this.#worker = null;
  }
}

function pick<K extends "datastore" | "queue">(c: ServerConfig, key: K): Partial<Record<K, string>> {
  const v = c[key];
  return v === undefined ? {} : ({ [key]: v } as Record<K, string>);
}
