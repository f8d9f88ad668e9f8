import { EventEmitter, setMaxListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { Backend, ClaimRequest, ReservedJob } from "../backend/contract.ts";
import { openBackend } from "../backend/open-backend.ts";
import { type Clock, systemClock } from "../internal/clock.ts";
import { defaultLogger, type Logger } from "../internal/logger.ts";
import { JobRegistry } from "../job/registry.ts";
import type { ReserveOptions } from "../queue/contract.ts";
import type { WorkerEventMap } from "./events.ts";
import { type EntryContext, handleEntry } from "./handle-entry.ts";
import { InlineRunner } from "./inline-runner.ts";
import { type ResolvedWorkerOptions, resolveWorkerOptions, type WorkerOptions } from "./options.ts";
import type { JobRunner } from "./runner.ts";
import { makeWorkerId } from "./worker-id.ts";

export interface WorkerConfig extends WorkerOptions {
  /** The job classes this worker runs (or a registry of them). */
  jobs: Iterable<unknown> | JobRegistry;
  /** An open backend to share (the worker does not close it). Without one, `datastore`/`queue` URLs are opened. */
  backend?: Backend;
  /** @defaultValue "sqlite:./zerog.db" */
  datastore?: string;
  /** @defaultValue "sqlite:./zerog.db" */
  queue?: string;
  clock?: Clock;
  logger?: Logger;
  /** How jobs are executed. @defaultValue an in-process runner */
  runner?: JobRunner;
}

/**
 * Reserves job uuids from the queue and runs them in `concurrency` slots. Survives anything a
 * job throws; backs off while the backend fails.
 */
export class Worker {
  readonly id: string;
  readonly events = new EventEmitter<WorkerEventMap>();
  readonly options: ResolvedWorkerOptions;
  readonly registry: JobRegistry;
  readonly #config: WorkerConfig;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #stopping = new AbortController();
  readonly #shutdown = new AbortController();
  #backend: Backend | null;
  #ownsBackend = false;
  #runner: JobRunner | null = null;
  #slots: Promise<void>[] = [];
  #busy = 0;

  constructor(config: WorkerConfig) {
    this.#config = config;
    this.options = resolveWorkerOptions(config);
    this.id = makeWorkerId(this.options.name);
    this.registry = config.jobs instanceof JobRegistry ? config.jobs : new JobRegistry(config.jobs);
    this.#clock = config.clock ?? systemClock;
    this.#logger = (config.logger ?? defaultLogger()).child({ workerId: this.id });
    this.#backend = config.backend ?? null;
    // Every running job and every slot listens on these: one listener each, not a leak.
    setMaxListeners(0, this.#stopping.signal, this.#shutdown.signal);
    // An unhandled 'worker:error' must never crash the process; log it.
    this.events.on("worker:error", ({ error }) => this.#logger.error({ err: error }, "worker error"));
  }

  /** Jobs running right now. */
  get busy(): number {
    return this.#busy;
  }

  /** Opens the backend if given URLs, then starts the slots. */
  async start(): Promise<void> {
    if (this.#slots.length > 0) return;
    if (!this.#backend) {
      this.#backend = await openBackend(
        {
          ...(this.#config.datastore ? { datastore: this.#config.datastore } : {}),
          ...(this.#config.queue ? { queue: this.#config.queue } : {}),
        },
        { clock: this.#clock },
      );
      this.#ownsBackend = true;
    }
    const backend = this.#backend;
    this.#runner =
      this.#config.runner ??
      new InlineRunner({
        datastore: backend.datastore,
        clock: this.#clock,
        progressFlushMs: this.options.progressFlushMs,
        onFlushError: (error) => this.events.emit("worker:error", { error }),
      });
    const ctx: EntryContext = {
      backend,
      registry: this.registry,
      runner: this.#runner,
      clock: this.#clock,
      logger: this.#logger,
      workerId: this.id,
      options: this.options,
      events: this.events,
      shutdownSignal: this.#shutdown.signal,
    };
    this.#logger.info({ concurrency: this.options.concurrency, queue: this.options.queueName }, "worker started");
    this.#slots = Array.from({ length: this.options.concurrency }, () => this.#slot(ctx));
  }

  /**
   * Stops taking jobs, lets running ones finish for `shutdownGraceMs`, then aborts their signal
   * and waits for them to return. A job that ignores its signal is left to its queue TTR.
   */
  async stop(): Promise<void> {
    this.#stopping.abort();
    const all = Promise.all(this.#slots);
    const grace = sleep(this.options.shutdownGraceMs, "grace", { ref: false });
    if ((await Promise.race([all, grace])) === "grace") {
      this.#logger.warn({ busy: this.#busy }, "shutdown grace passed; asking running jobs to stop");
      this.#shutdown.abort(new Error("worker is shutting down"));
      await Promise.race([all, sleep(this.options.shutdownGraceMs, undefined, { ref: false })]);
    }
    await this.#runner?.close();
    if (this.#ownsBackend) await this.#backend?.close();
    this.#logger.info("worker stopped");
  }

  async #slot(ctx: EntryContext): Promise<void> {
    let failures = 0;
    const claim: ClaimRequest = { workerId: this.id, jobTypes: this.registry.types() };
    while (!this.#stopping.signal.aborted) {
      try {
        const taken = await reserveJob(
          ctx.backend,
          [this.options.queueName],
          { timeoutMs: this.options.reserveTimeoutMs, signal: this.#stopping.signal },
          claim,
        );
        if (!taken) continue;
        this.#busy++;
        try {
          await handleEntry(taken.entry, ctx, taken);
        } finally {
          this.#busy--;
        }
        failures = 0;
      } catch (error) {
        if (this.#stopping.signal.aborted) break;
        failures++;
        this.events.emit("worker:error", { error });
        // Back off while the backend fails: 100 ms doubling to maxBackoffMs. The entry, if any, returns after its TTR.
        const backoff = Math.min(this.options.maxBackoffMs, 100 * 2 ** Math.min(failures, 10));
        this.#logger.warn({ backoffMs: backoff }, "backing off");
        await sleep(backoff, undefined, { signal: this.#stopping.signal }).catch(() => undefined);
      }
    }
  }
}

/** The backend's reserve-with-document when it has one, else a plain reserve (the document is read after). */
async function reserveJob(
  backend: Backend,
  queues: readonly string[],
  opts: ReserveOptions,
  claim: ClaimRequest,
): Promise<ReservedJob | null> {
  if (backend.reserveJob) return backend.reserveJob(queues, opts, claim);
  const entry = await backend.queue.reserve(queues, opts);
  return entry ? { entry } : null;
}
