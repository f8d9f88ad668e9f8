import { EventEmitter, setMaxListeners } from "node:events";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { openBackend } from "../backends/open-backend.ts";
import type { Backend, ClaimRequest, ReservedJob } from "../contracts/backend.ts";
import type { ControlMessage, RunningJob, WorkerState } from "../contracts/fleet.ts";
import { checkJobQueueNames, jobQueueName, reserveQueues } from "../contracts/job-queues.ts";
import type { ReserveOptions } from "../contracts/queue.ts";
import { InvalidConfigError, isBackendUnavailable, WorkerRetiredError } from "../errors.ts";
import { backoffMs } from "../internal/backoff.ts";
import { type Clock, systemClock } from "../internal/clock.ts";
import { defaultLogger, type Logger } from "../internal/logger.ts";
import { JobRegistry } from "../job/registry.ts";
import { BackendWait } from "./backend-wait.ts";
import { ProcessRunner } from "./child/process-runner.ts";
import type { WorkerEventMap } from "./events.ts";
import { FleetMember, type WorkerSnapshot } from "./fleet-member.ts";
import { type EntryContext, handleEntry } from "./handle-entry.ts";
import { InlineRunner } from "./inline-runner.ts";
import { KilledByUserError } from "./kill-watch.ts";
import { type ResolvedWorkerOptions, resolveWorkerOptions, type WorkerOptions } from "./options.ts";
import { Rescuer } from "./rescuer.ts";
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
  /**
   * Where jobs run: "process" — in warm child processes, so a job that crashes, leaks or blocks
   * cannot take the worker down (needs `jobModules`); "inline" — in this process, fastest.
   * @defaultValue "process" when `jobModules` is given, else "inline"
   */
  isolation?: "process" | "inline";
  /** Paths of the modules exporting the job classes, which job processes load. */
  jobModules?: readonly string[];
  /** How jobs are executed; overrides `isolation`. */
  runner?: JobRunner;
}

/** A run in progress, as the worker tracks it for its fleet record and for killJob. */
interface ActiveRun extends RunningJob {
  abort: AbortController;
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
  readonly #runs = new Map<string, ActiveRun>();
  #member: FleetMember | null = null;
  #rescuer: Rescuer | null = null;
  /** Where slots wait while the backend is unavailable (one probe for all of them). */
  #outage: BackendWait | null = null;
  readonly #startedAt = new Date().toISOString();
  #jobsStarted = 0;
  #jobsEnded = 0;
  /** Drained (by a control message or `drain()`), retired (never undone), or shutting down. */
  #drained = false;
  #retiring = false;
  #down = false;
  /** Aborted whenever slots must stop reserving (drain, retire, stop); replaced on undrain. */
  #gate = new AbortController();
  #resumed: Promise<void> = Promise.resolve();
  #resume: () => void = () => undefined;
  /** Slots waiting for `#resumed`; the last one to stop says so ("worker:drained"). */
  #stoppedSlots = 0;
  /** The served job types seen paused in the fleet store (sorted); null until first read. */
  #pausedHere: string[] | null = null;
  /** What slots reserve from: the queues of the served types that are not paused, and the base queue. */
  #queues: string[];
  /** Resolves once the paused types have been read (or the worker stops): no slot reserves before. */
  readonly #pausedKnown: Promise<void>;
  #knowPaused: () => void = () => undefined;

  constructor(config: WorkerConfig) {
    this.#config = config;
    this.options = resolveWorkerOptions(config);
    this.id = makeWorkerId(this.options.name, this.options.hostName);
    this.registry = config.jobs instanceof JobRegistry ? config.jobs : new JobRegistry(config.jobs);
    this.#clock = config.clock ?? systemClock;
    this.#logger = (config.logger ?? defaultLogger()).child({ workerId: this.id });
    this.#backend = config.backend ?? null;
    this.#queues = reserveQueues(this.options.queueName, this.registry.types(), new Set());
    this.#pausedKnown = new Promise((resolve) => {
      this.#knowPaused = resolve;
    });
    // Every running job and every slot listens on these: one listener each, not a leak.
    setMaxListeners(0, this.#stopping.signal, this.#shutdown.signal, this.#gate.signal);
    // An unhandled 'worker:error' must never crash the process; log it.
    this.events.on("worker:error", ({ error }) => this.#logger.error({ err: error }, "worker error"));
    this.#logJobs();
  }

  /** Jobs running right now. */
  get busy(): number {
    return this.#busy;
  }

  /** The worker's fleet state (docs/capacity.md), from the drain/retire flags and whether jobs run. */
  get state(): WorkerState {
    if (this.#down) return "drainingDown";
    if (this.#retiring && this.#busy > 0) return "retiring";
    if (this.#drained || this.#retiring) return this.#busy > 0 ? "drainingRunning" : "drainingIdle";
    return this.#busy > 0 ? "activeRunning" : "activeIdle";
  }

  get retiring(): boolean {
    return this.#retiring;
  }

  /** The jobs running now. */
  running(): RunningJob[] {
    return [...this.#runs.values()].map(({ uuid, jobType, startedAt }) => ({ uuid, jobType, startedAt }));
  }

  /** Stops taking jobs; running ones finish. Undone by `undrain()`. */
  drain(): void {
    this.#drained = true;
    this.#pauseSlots();
  }

  /** Takes jobs again after a drain; WorkerRetiredError once retired. */
  undrain(): void {
    if (this.#retiring) throw new WorkerRetiredError(this.id);
    this.#drained = false;
    if (!this.#down) this.#resumeSlots();
    this.#member?.changed();
  }

  /** An irreversible drain: running jobs finish, no job is taken again. */
  retire(): void {
    this.#retiring = true;
    this.#pauseSlots();
  }

  /** Stops the run of `uuid` now (error 410 "Killed by user"); false when this worker is not running it. */
  killJob(uuid: string): boolean {
    const run = this.#runs.get(uuid);
    if (!run) return false;
    run.abort.abort(new KilledByUserError(uuid));
    return true;
  }

  /** What the worker announces to the fleet. */
  snapshot(): WorkerSnapshot {
    const running = this.running();
    const [host = "", service = this.options.name] = this.id.split(":");
    return {
      workerId: this.id,
      host,
      service,
      pid: process.pid,
      state: this.state,
      retiring: this.#retiring,
      uuid: running[0]?.uuid ?? null,
      running,
      slots: this.options.concurrency,
      memUsed: process.memoryUsage.rss() + (this.#runner?.memoryUsed?.() ?? 0),
      jobsStarted: this.#jobsStarted,
      jobsEnded: this.#jobsEnded,
      queueName: this.options.queueName,
      pausedTypes: this.#pausedHere ?? [],
      startedAt: this.#startedAt,
    };
  }

  /** The job types this worker serves and leaves waiting because they are paused (FleetStore.setPaused). */
  get pausedTypes(): readonly string[] {
    return this.#pausedHere ?? [];
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
    try {
      checkJobQueueNames(backend.queue, this.options.queueName, this.registry.types());
    } catch (err) {
      if (this.#ownsBackend) await backend.close();
      this.#backend = this.#config.backend ?? null;
      throw err;
    }
    this.#runner = this.#config.runner ?? this.#makeRunner(backend);
    await this.#runner.start?.();
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
      track: (run) => this.#track(run),
    };
    this.#member = new FleetMember({
      fleet: backend.fleet,
      clock: this.#clock,
      controlPollMs: this.options.controlPollMs,
      announceIntervalMs: this.options.announceIntervalMs,
      workerTtlMs: this.options.workerTtlMs,
      snapshot: () => this.snapshot(),
      onControl: (msg) => this.#onControl(msg),
      onPaused: (types) => this.#applyPaused(types),
      onError: (error) => this.events.emit("worker:error", { error }),
    });
    await this.#member.start();
    this.#logger.info({ concurrency: this.options.concurrency, queue: this.options.queueName }, "worker started");
    this.#slots = Array.from({ length: this.options.concurrency }, () => this.#slot(ctx));
    this.#rescuer = new Rescuer({
      backend,
      workerId: this.id,
      clock: this.#clock,
      // About once a second, and a few times per worker TTL, so a dead worker's jobs wait little past it.
      intervalMs: Math.min(1000, this.options.workerTtlMs / 4),
      onRescued: (r) => {
        this.#logger.warn(r, "job of a dead worker given back to the queue");
        this.events.emit("job:rescued", r);
      },
      onError: (error) => this.events.emit("worker:error", { error }),
    });
    this.#rescuer.start();
  }

  /**
   * Stops taking jobs, lets running ones finish for `shutdownGraceMs`, then aborts their signal
   * and waits for them to return. A job that ignores its signal is left to its queue TTR.
   */
  async stop(): Promise<void> {
    this.#down = true;
    this.#member?.changed();
    this.#stopping.abort();
    this.#pauseSlots();
    this.#resume();
    this.#knowPaused();
    const all = Promise.all(this.#slots);
    const grace = sleep(this.options.shutdownGraceMs, "grace", { ref: false });
    if ((await Promise.race([all, grace])) === "grace") {
      this.#logger.warn({ busy: this.#busy }, "shutdown grace passed; asking running jobs to stop");
      this.#shutdown.abort(new Error("worker is shutting down"));
      // Job processes that ignore the signal are killed after killGraceMs; their hand-back is written after that.
      const second = this.options.shutdownGraceMs + this.options.killGraceMs;
      await Promise.race([all, sleep(second, undefined, { ref: false })]);
    }
    await this.#rescuer?.stop();
    await this.#runner?.close();
    await this.#member?.stop();
    if (this.#ownsBackend) await this.#backend?.close();
    this.#logger.info("worker stopped");
  }

  /** One JSON line per job event, with its uuid and type: starts at debug, ends at info. */
  #logJobs(): void {
    const log = this.#logger;
    if (log.isLevelEnabled("debug")) {
      this.events.on("job:started", (e) =>
        log.debug({ uuid: e.uuid, jobType: e.jobType, attempt: e.attempt }, "job started"),
      );
    }
    if (!log.isLevelEnabled("info")) return;
    this.events.on("job:finished", (e) =>
      log.info({ uuid: e.uuid, jobType: e.jobType, resultCode: e.resultCode }, "job finished"),
    );
    this.events.on("job:requeued", (e) =>
      log.info({ uuid: e.uuid, jobType: e.jobType, delaySeconds: e.delaySeconds }, "job requeued"),
    );
  }

  #makeRunner(backend: Backend): JobRunner {
    const c = this.#config;
    const o = this.options;
    const common = {
      datastore: backend.datastore,
      clock: this.#clock,
      progressFlushMs: o.progressFlushMs,
      onFlushError: (error: unknown) => this.events.emit("worker:error", { error }),
    };
    const isolation = c.isolation ?? (c.jobModules?.length ? "process" : "inline");
    if (isolation === "inline") return new InlineRunner(common);
    if (!c.jobModules?.length) {
      throw new InvalidConfigError(
        'isolation "process" needs jobModules: the paths of the modules exporting the job classes',
      );
    }
    return new ProcessRunner({
      ...common,
      modules: c.jobModules.map((m) => resolve(m)),
      slots: o.concurrency,
      jobsPerProcess: o.jobsPerProcess,
      recycleAfterJobs: o.recycleAfterJobs,
      recycleMemoryMb: o.recycleMemoryMb,
      memoryLimitMb: o.memoryLimitMb,
      jobTimeoutSeconds: o.jobTimeoutSeconds,
      killGraceMs: o.killGraceMs,
    });
  }

  /** Registers a run for the fleet record and killJob; returns its removal. */
  #track(run: Omit<ActiveRun, "startedAt">): () => void {
    this.#runs.set(run.uuid, { ...run, startedAt: new Date(this.#clock.now()).toISOString() });
    this.#jobsStarted++;
    this.#member?.changed();
    return () => {
      this.#runs.delete(run.uuid);
      this.#jobsEnded++;
      this.#member?.changed();
    };
  }

  #onControl(msg: ControlMessage): void {
    this.#logger.info({ control: msg }, "control message");
    try {
      if (msg.kind === "drain") this.drain();
      else if (msg.kind === "undrain") this.undrain();
      else if (msg.kind === "retire") this.retire();
      else if (msg.kind === "killJob") this.killJob(msg.uuid);
      // requestInfo needs nothing more: the member announces after every message.
    } catch (error) {
      this.events.emit("worker:error", { error });
    }
  }

  /**
   * The fleet store's paused types, read every control poll: when the served ones change, the
   * slots' queue list changes and parked reserves start again with it.
   */
  #applyPaused(types: readonly string[]): void {
    const paused = new Set(types);
    const mine = this.registry
      .types()
      .filter((t) => paused.has(t))
      .sort();
    const before = this.#pausedHere;
    if (before !== null && before.length === mine.length && before.every((t, i) => t === mine[i])) return;
    this.#pausedHere = mine;
    this.#queues = reserveQueues(this.options.queueName, this.registry.types(), paused);
    this.#member?.changed();
    if (before !== null || mine.length > 0) this.#logger.info({ pausedTypes: mine }, "paused job types changed");
    this.events.emit("worker:paused", { pausedTypes: mine });
    if (before === null) this.#knowPaused();
    else this.#renewReserves();
  }

  /**
   * Ends the reserves parked on the old queue list so they start again on `#queues`: the gate's
   * abort, as a drain does, but with a new gate at once (slots do not wait). An entry a reserve
   * took as the gate fired is still returned, and runs: it was taken before the change.
   */
  #renewReserves(): void {
    if (this.#gate.signal.aborted) return; // drained or stopping: slots take the new list when they resume
    const old = this.#gate;
    this.#gate = new AbortController();
    setMaxListeners(0, this.#gate.signal);
    old.abort();
  }

  /** Slots stop reserving: waits in progress end now, and slots wait for `#resumeSlots`. */
  #pauseSlots(): void {
    this.#member?.changed();
    if (this.#gate.signal.aborted) return;
    this.#resumed = new Promise((r) => {
      this.#resume = r;
    });
    this.#gate.abort();
  }

  #resumeSlots(): void {
    if (!this.#gate.signal.aborted) return;
    this.#gate = new AbortController();
    setMaxListeners(0, this.#gate.signal);
    this.#resume();
  }

  async #slot(ctx: EntryContext): Promise<void> {
    let failures = 0;
    const claim: ClaimRequest = { workerId: this.id, jobTypes: this.registry.types() };
    this.#outage ??= new BackendWait({
      backend: ctx.backend,
      queueNames: [
        this.options.queueName,
        ...this.registry.types().map((t) => jobQueueName(this.options.queueName, t)),
      ],
      maxBackoffMs: this.options.maxBackoffMs,
      signal: this.#stopping.signal,
      logger: this.#logger,
    });
    const outage = this.#outage;
    // Nothing is reserved before the paused types are known: a restarted server must not start a paused job.
    await this.#pausedKnown;
    while (!this.#stopping.signal.aborted) {
      if (this.#drained || this.#retiring) {
        if (++this.#stoppedSlots === this.options.concurrency)
          this.events.emit("worker:drained", { slots: this.#stoppedSlots });
        await this.#resumed;
        this.#stoppedSlots--;
        continue;
      }
      const gate = this.#gate.signal;
      try {
        // A reserve that returns just as a drain or a pause lands still runs: the job was taken before.
        const taken = await reserveJob(
          ctx.backend,
          this.#queues,
          { timeoutMs: this.options.reserveTimeoutMs, signal: gate },
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
        if (gate.aborted) continue;
        this.events.emit("worker:error", { error });
        if (isBackendUnavailable(error)) {
          // Down or stalled: no reserve until a probe answers (a reserve sent to a stalled server may still lease entries).
          await outage.untilAnswers();
          continue;
        }
        failures++;
        // Back off while the backend fails: 100 ms doubling to maxBackoffMs. The entry, if any, returns after its TTR.
        const backoff = backoffMs(failures, this.options.maxBackoffMs);
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
