import { z } from "zod";
import type { Clock } from "../internal/clock.ts";
import { ErrorContinue, ErrorFinish, WarningContinue, WarningFinish } from "./control-flow.ts";
import { INTERNAL_ERROR, type JobDocument, NO_RESULT } from "./document.ts";
import type { JobWriter } from "./document-writer.ts";
import type { JobCodeOp } from "./job-op.ts";
import type { RetentionPolicy } from "./retention-policy.ts";
import type { RetryPolicy } from "./retry-policy.ts";
import * as t from "./transitions.ts";

/** A zod schema for a job's params: an object schema in practice. */
export type ParamsSchema = z.ZodType<Record<string, unknown>, Record<string, unknown>>;

/** What the worker gives a job instance; users never build one. */
export interface JobContext {
  writer: JobWriter;
  /** The document's params as the class's schema parsed them (defaults applied): `this.params`. */
  params: Record<string, unknown>;
  /** Fires when the job is killed, fenced off, or the worker shuts down. */
  signal: AbortSignal;
  clock: Clock;
}

/** Smallest `tick()` progress worth a write: below it increments only accumulate. */
const TICK_PERSIST_THRESHOLD = 0.01;

/**
 * Subclass this to define a job: set `static jobType` and `static schema`, implement `run()`.
 * Every method that changes the job persists through the datastore (coalesced).
 */
export abstract class BaseJob<S extends ParamsSchema = ParamsSchema> {
  /** The name used in `POST /job/{jobType}`; letters, digits, `_`, `-`, `.`. */
  static jobType: string;
  /** Params schema: validated on create, defaults applied, typed `params`. */
  static schema: ParamsSchema = z.object({});
  static description = "";
  /**
   * Discovery: the branch this job type is listed under (`"examples"`, nested `"media/images"`):
   * `GET /{branch}/leaves` lists it and `POST /{branch}/{jobType}/job` creates it. Segments of
   * letters, digits, `_`, `-`, `.`. null: in no branch (still served at `POST /job/{jobType}`).
   */
  static branch: string | null = null;
  /** Discovery's display name; null: the class's own name. (`static name` is the class name in JavaScript.) */
  static displayName: string | null = null;
  /** Errors after which the default `continueRunning()` finishes the job with 500. */
  static maxErrors = 3;
  /**
   * The wait before another run after an error (base delay, fixed or exponential, a maximum,
   * jitter). null: the worker's `errorRetryDelaySeconds` (30 s by default) every time.
   */
  static retry: RetryPolicy | null = null;
  /**
   * How long this type's finished documents are kept: `finishedAfterSeconds` (succeeded),
   * `failedAfterSeconds` (failed or killed), `maxFinished` (succeeded ones kept at most). Fields
   * left out take the server's defaults (7 days, 30 days, no limit). null: the defaults.
   */
  static retention: RetentionPolicy | null = null;
  /** Version of this job type's document layout, stored on each document. */
  static schemaVersion = 1;
  /**
   * A cron expression (5 fields, or 6 with seconds first): servers with workers create one job of
   * this type per tick, exactly once across every server sharing the backend. null: not scheduled.
   */
  static schedule: string | null = null;
  /** Params of the scheduled jobs; checked against `schema` at registration. */
  static scheduleParams: Record<string, unknown> = {};
  /** IANA time zone `schedule` is read in. */
  static scheduleTimezone = "UTC";

  readonly params: z.output<S>;
  readonly uuid: string;
  readonly jobType: string;
  /** Fires when the job should stop: killed, superseded, or the worker is shutting down. */
  readonly signal: AbortSignal;
  readonly #ctx: JobContext;
  #tickAccumulated = 0;
  #ticks = 0;

  constructor(ctx: JobContext) {
    this.#ctx = ctx;
    const doc = ctx.writer.doc;
    this.uuid = doc.uuid;
    this.jobType = doc.jobType;
    // The worker parsed them with this class's schema, so they are its output type.
    this.params = ctx.params as z.output<S>;
    this.signal = ctx.signal;
  }

  /** Does the work. Return a result code, `[code, delaySeconds]`, `NO_RESULT` to be requeued, or nothing (200). */
  abstract run(): unknown;

  /** The persisted document as this run sees it (read-only). */
  get document(): Readonly<JobDocument> {
    return this.#ctx.writer.doc;
  }
  get completeness(): number {
    return this.#ctx.writer.doc.completeness;
  }
  get errorCount(): number {
    return this.#ctx.writer.doc.errorCount;
  }
  get resultCode(): number {
    return this.#ctx.writer.doc.resultCode;
  }
  /** The class's `maxErrors`, read through the instance so subclasses' statics apply. */
  get maxErrors(): number {
    return (this.constructor as typeof BaseJob).maxErrors;
  }

  async setCompleteness(x: number): Promise<void> {
    this.#change(t.setCompleteness(x));
  }
  /** Adds to completeness (clamped to 0..1). */
  async addToCompleteness(delta: number): Promise<void> {
    this.#change(t.addToCompleteness(delta));
  }
  async setTickValue(v: number): Promise<void> {
    this.#change(t.setTickValue(v));
  }
  /** Adds the tick value to completeness; small increments accumulate until they reach 0.01. */
  async tick(): Promise<void> {
    this.#tickAccumulated += this.#ctx.writer.doc.tickval;
    this.#ticks += 1;
    if (this.#tickAccumulated >= TICK_PERSIST_THRESHOLD) this.flushTicks();
  }
  /** Persists ticks not yet written; the worker calls it when a run ends. */
  flushTicks(): void {
    if (this.#ticks === 0) return;
    this.#change(t.addToCompleteness(this.#tickAccumulated, this.#ticks));
    this.#tickAccumulated = 0;
    this.#ticks = 0;
  }

  async logInfo(msg: string): Promise<void> {
    this.#change(t.addEvent(msg, this.#now()));
  }
  async logWarning(msg: string): Promise<void> {
    this.#change(t.addWarning(msg, this.#now()));
  }
  /** Records an error (counts towards `maxErrors`) without stopping the run. */
  async logError(code: number, msg: string): Promise<void> {
    this.#change(t.addError(code, msg, this.#now()));
  }

  /** Records a warning and ends the job with `code`. */
  async raiseWarningFinish(code: number, msg: string): Promise<never> {
    await this.logWarning(msg);
    throw new WarningFinish(code, msg);
  }
  /** Records a warning and stops this run; `continueRunning()` decides whether it runs again. */
  async raiseWarningContinue(code: number, msg: string): Promise<never> {
    await this.logWarning(msg);
    throw new WarningContinue(code, msg);
  }
  /** Records an error and ends the job with `code`. */
  async raiseErrorFinish(code: number, msg: string): Promise<never> {
    await this.logError(code, msg);
    throw new ErrorFinish(code, msg);
  }
  /** Records an error and stops this run; `continueRunning()` decides whether it runs again. */
  async raiseErrorContinue(code: number, msg: string): Promise<never> {
    await this.logError(code, msg);
    throw new ErrorContinue(code, msg);
  }

  /** Stores the job's output; `getData()` returns it by default, in any process. */
  async setData(data: unknown): Promise<void> {
    this.#change(t.setData(data));
  }
  /** What `GET /data/{uuid}` returns. Override to derive output; the default is what `setData` stored. */
  getData(): unknown {
    return this.#ctx.writer.doc.data;
  }

  /** After an error: `NO_RESULT` to run again, or the result code to finish with. */
  continueRunning(): number {
    return this.errorCount >= this.maxErrors ? INTERNAL_ERROR : NO_RESULT;
  }

  #change(op: JobCodeOp): void {
    this.#ctx.writer.mutate(op);
  }
  #now(): string {
    return new Date(this.#ctx.clock.now()).toISOString();
  }
}

/** A class usable as a job: what the registry accepts (plain JavaScript classes included). */
export interface JobClass {
  new (ctx: JobContext): BaseJob;
  jobType: string;
  schema: ParamsSchema;
  description: string;
  maxErrors: number;
  schemaVersion: number;
  /** See BaseJob.schedule; optional so plain classes built without BaseJob's statics still type. */
  schedule?: string | null;
  scheduleParams?: Record<string, unknown>;
  scheduleTimezone?: string;
  /** See BaseJob.retry (optional for the same reason). */
  retry?: RetryPolicy | null;
  /** See BaseJob.retention (optional for the same reason). */
  retention?: RetentionPolicy | null;
  /** See BaseJob.branch and BaseJob.displayName (optional for the same reason). */
  branch?: string | null;
  displayName?: string | null;
}
