import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { BaseJob, NO_RESULT, z } from "zerog";

/** Returns whatever `ret` says: covers every return shape of the outcome table. */
export class ReturnJob extends BaseJob<typeof ReturnJob.schema> {
  static override jobType = "return_value";
  static override schema = z.object({ ret: z.unknown().optional() });
  run() {
    return this.params.ret;
  }
}

/** Asks to be requeued (NO_RESULT) until its `runs`-th run, then finishes. */
export class ContinuationJob extends BaseJob<typeof ContinuationJob.schema> {
  static override jobType = "continuation";
  static override schema = z.object({ runs: z.number().int().min(1), delay: z.number().min(0).default(0) });
  async run() {
    await this.addToCompleteness(1 / this.params.runs);
    await this.logInfo(`run ${this.document.attempt}`);
    return this.document.attempt < this.params.runs ? [NO_RESULT, this.params.delay] : 200;
  }
}

/** Raises the control-flow error `kind`; the continue kinds succeed from `succeedOnRun` on. */
export class RaiseJob extends BaseJob<typeof RaiseJob.schema> {
  static override jobType = "raise";
  static override schema = z.object({
    kind: z.enum(["errorFinish", "warningFinish", "errorContinue", "warningContinue", "throw", "throwString"]),
    code: z.number().int().default(422),
    succeedOnRun: z.number().int().default(1_000_000),
  });
  async run() {
    const { kind, code, succeedOnRun } = this.params;
    if (this.document.attempt >= succeedOnRun) return 200;
    const msg = `${kind} on run ${this.document.attempt}`;
    switch (kind) {
      case "errorFinish":
        return this.raiseErrorFinish(code, msg);
      case "warningFinish":
        return this.raiseWarningFinish(code, msg);
      case "errorContinue":
        return this.raiseErrorContinue(code, msg);
      case "warningContinue":
        return this.raiseWarningContinue(code, msg);
      case "throw":
        throw new TypeError(msg);
      case "throwString":
        throw msg;
    }
  }
}

/** Like RaiseJob's "throw", but its class allows one error only. */
export class FragileJob extends BaseJob {
  static override jobType = "fragile";
  static override maxErrors = 1;
  run(): never {
    throw new Error("fragile broke");
  }
}

/** Reports progress every way the API allows and stores output. */
export class ProgressJob extends BaseJob<typeof ProgressJob.schema> {
  static override jobType = "progress";
  static override schema = z.object({ ticks: z.number().int().min(0).default(200) });
  async run() {
    await this.setCompleteness(0.1);
    await this.setTickValue(0.8 / this.params.ticks);
    for (let i = 0; i < this.params.ticks; i++) await this.tick();
    await this.logInfo("ticked");
    await this.logWarning("careful");
    await this.logError(12, "recoverable");
    await this.setData({ answer: 42 });
    return 201;
  }
  override getData() {
    return { ...(super.getData() as object), doubled: 84 };
  }
}

/** Runs for `ms` (or until aborted); on runs after `slowRuns` it finishes at once. */
export class SlowJob extends BaseJob<typeof SlowJob.schema> {
  static override jobType = "slow";
  static override schema = z.object({ ms: z.number().int().min(0), slowRuns: z.number().int().default(1_000_000) });
  async run() {
    if (this.document.attempt > this.params.slowRuns) return 200;
    await this.logInfo("started sleeping");
    await sleep(this.params.ms, undefined, { signal: this.signal }).catch(() => undefined);
    await this.setCompleteness(1);
    return this.signal.aborted ? 499 : 200;
  }
}

/** Sleeps on its signal without catching the abort: what most jobs do when told to stop. */
export class AbortableJob extends BaseJob<typeof AbortableJob.schema> {
  static override jobType = "abortable";
  static override schema = z.object({ ms: z.number().int().min(0) });
  async run() {
    await this.logInfo("sleeping");
    await sleep(this.params.ms, undefined, { signal: this.signal });
    return 200;
  }
}

/** Throws on every run; its class retries with exponential back-off: 0.05 s, 0.1 s, then 0.15 s (the cap). */
export class BackoffJob extends BaseJob {
  static override jobType = "backoff";
  static override maxErrors = 4;
  static override retry = { delaySeconds: 0.05, backoff: "exponential", maxDelaySeconds: 0.15 } as const;
  run(): never {
    throw new Error(`failed run ${this.document.attempt}`);
  }
}

/**
 * Returns `ret`, after sleeping `ms` on its signal. Kept an hour once finished, failed or killed,
 * and at most its two newest successes: what the retention tests sweep.
 */
export class ShortLivedJob extends BaseJob<typeof ShortLivedJob.schema> {
  static override jobType = "short_lived";
  static override schema = z.object({ ret: z.number().int().default(200), ms: z.number().int().min(0).default(0) });
  static override retention = { finishedAfterSeconds: 3600, failedAfterSeconds: 3600, maxFinished: 2 };
  async run() {
    if (this.params.ms > 0) await sleep(this.params.ms, undefined, { signal: this.signal });
    return this.params.ret;
  }
}

export const TEST_JOBS = [
  ReturnJob,
  ContinuationJob,
  RaiseJob,
  FragileJob,
  ProgressJob,
  SlowJob,
  AbortableJob,
  BackoffJob,
  ShortLivedJob,
];

/** This module's path, for job processes (isolation "process") to load the same classes. */
export const TEST_JOBS_MODULE = fileURLToPath(import.meta.url);
