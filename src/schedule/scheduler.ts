import type { Backend } from "../contracts/backend.ts";
import { jobQueueName } from "../contracts/job-queues.ts";
import { isZeroGError } from "../errors.ts";
import { type Clock, systemClock } from "../internal/clock.ts";
import type { Logger } from "../internal/logger.ts";
import type { JobClass } from "../job/base-job.ts";
import { type CronSchedule, scheduleOf } from "../job/cron-schedule.ts";
import { newJobDocument } from "../job/new-document.ts";
import type { JobRegistry } from "../job/registry.ts";
import { scheduledJobUuid } from "./tick-uuid.ts";

export interface SchedulerOptions {
  backend: Backend;
  registry: JobRegistry;
  /** The base queue: a scheduled job of type T is put on `${queueName}/${T}`, as the API's are. */
  queueName: string;
  /** TTR of their queue entries. */
  ttrSeconds: number;
  /** @defaultValue 1024 (the API's default) */
  priority?: number;
  /**
   * Longest sleep between checks. The scheduler wakes at each next tick anyway; this bounds how
   * long a clock jump (or a ManualClock advanced in a test) goes unnoticed. @defaultValue 1000
   */
  maxSleepMs?: number;
  clock?: Clock;
  logger?: Logger;
}

export const SCHEDULER_DEFAULTS = { priority: 1024, maxSleepMs: 1000 } as const satisfies Partial<SchedulerOptions>;

/** What one check did for one scheduled job type. */
export interface TickOutcome {
  jobType: string;
  tickMs: number;
  uuid: string;
  /** created: this server claimed the tick; taken: another server (or an earlier check) had. */
  result: "created" | "taken";
}

interface Entry {
  cls: JobClass;
  schedule: CronSchedule;
  params: Record<string, unknown>;
  /** Ticks at or before this are done (or were missed before start-up: never backfilled). */
  doneMs: number;
}

/**
 * Creates the jobs of classes that declare `static schedule`, exactly once per tick across every
 * server sharing the backend: each tick's job has a uuid derived from (jobType, tick), so all
 * servers try to create the same document and the datastore lets one win (AlreadyExistsError
 * for the others). Ticks missed while no server ran are not backfilled; a server that falls
 * behind (a blocked event loop) creates only the latest due tick.
 */
export class Scheduler {
  readonly #opts: SchedulerOptions & { priority: number; maxSleepMs: number };
  readonly #clock: Clock;
  readonly #entries: Entry[] = [];
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<unknown> | null = null;
  #stopped = true;

  constructor(opts: SchedulerOptions) {
    this.#opts = { ...SCHEDULER_DEFAULTS, ...opts };
    this.#clock = opts.clock ?? systemClock;
    const now = this.#clock.now();
    for (const cls of opts.registry.classes()) {
      const schedule = scheduleOf(cls);
      if (!schedule) continue;
      // Validated by the registry too; parsing again keeps the defaults applied here.
      const params = opts.registry.validate(cls.jobType, cls.scheduleParams ?? {});
      this.#entries.push({ cls, schedule, params, doneMs: now });
    }
  }

  /** Job types this scheduler creates. */
  get jobTypes(): string[] {
    return this.#entries.map((e) => e.cls.jobType);
  }

  /** Starts checking in the background; does nothing when no class declares a schedule. */
  start(): void {
    if (!this.#stopped || this.#entries.length === 0) return;
    this.#stopped = false;
    this.#arm();
  }

  /** Stops checking and waits for a check in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  /**
   * Creates the job of every schedule's latest due tick not yet done; what the background loop
   * runs. Public so tests with a ManualClock need not wait.
   */
  async runDue(): Promise<TickOutcome[]> {
    const now = this.#clock.now();
    const out = await Promise.all(this.#entries.map((e) => this.#runEntry(e, now)));
    return out.filter((o): o is TickOutcome => o !== null);
  }

  async #runEntry(e: Entry, now: number): Promise<TickOutcome | null> {
    const tick = e.schedule.latestAtOrBefore(now);
    if (tick === null || tick <= e.doneMs) return null;
    const jobType = e.cls.jobType;
    const uuid = scheduledJobUuid(jobType, tick);
    const doc = newJobDocument({
      uuid,
      jobType,
      params: e.params,
      queueName: jobQueueName(this.#opts.queueName, jobType),
      queueKwargs: { priority: this.#opts.priority, ttrSeconds: this.#opts.ttrSeconds },
      nowMs: now,
    });
    const tickIso = new Date(tick).toISOString();
    doc.events.push({ timeStamp: doc.createdAt, msg: `scheduled: tick ${tickIso} of '${e.schedule.expression}'` });
    try {
      await this.#opts.backend.createJob(doc, { priority: this.#opts.priority, ttrSeconds: this.#opts.ttrSeconds });
      e.doneMs = tick;
      this.#opts.logger?.info({ uuid, jobType, tick: tickIso }, "scheduled job created");
      return { jobType, tickMs: tick, uuid, result: "created" };
    } catch (err) {
      if (isZeroGError(err, "ZEROG_ALREADY_EXISTS")) {
        e.doneMs = tick;
        return { jobType, tickMs: tick, uuid, result: "taken" };
      }
      // Left not done: the next check tries this tick again, unless a newer one is due by then.
      this.#opts.logger?.warn({ err, uuid, jobType, tick: tickIso }, "scheduled job not created; retrying");
      return null;
    }
  }

  #arm(): void {
    if (this.#stopped) return;
    const now = this.#clock.now();
    const next = Math.min(...this.#entries.map((e) => e.schedule.nextAfter(Math.max(now, e.doneMs))));
    // +1 ms: wake just after the tick, so latestAtOrBefore(now) is that tick.
    const delay = Math.max(1, Math.min(this.#opts.maxSleepMs, next - now + 1));
    this.#timer = setTimeout(() => {
      this.#timer = null;
      const run = this.runDue().catch((err: unknown) => this.#opts.logger?.error({ err }, "scheduler check failed"));
      this.#running = run;
      void run.finally(() => this.#arm());
    }, delay);
    this.#timer.unref?.();
  }
}
