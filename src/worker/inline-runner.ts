import type { Datastore } from "../datastore/contract.ts";
import { isZeroGError } from "../errors.ts";
import type { Clock } from "../internal/clock.ts";
import { describeThrown } from "../job/control-flow.ts";
import { DocumentWriter } from "../job/document-writer.ts";
import type { JobRunner, RunReport, RunRequest } from "./runner.ts";

export interface InlineRunnerOptions {
  datastore: Datastore;
  clock: Clock;
  progressFlushMs: number;
  onFlushError?: (err: unknown) => void;
}

/** Runs jobs in this process: fastest, but a job that blocks the event loop blocks the worker. */
export class InlineRunner implements JobRunner {
  readonly #opts: InlineRunnerOptions;

  constructor(opts: InlineRunnerOptions) {
    this.#opts = opts;
  }

  async run(req: RunRequest): Promise<RunReport> {
    const signal = req.abort.signal;
    const writer = new DocumentWriter(this.#opts.datastore, req.doc, req.cas, {
      attempt: req.attempt,
      clock: this.#opts.clock,
      flushIntervalMs: this.#opts.progressFlushMs,
      onFenced: (err) => req.abort.abort(err),
      ...(this.#opts.onFlushError ? { onFlushError: this.#opts.onFlushError } : {}),
    });
    let result: { ok: true; value: unknown } | { ok: false; error: unknown };
    let job: InstanceType<RunRequest["jobClass"]> | undefined;
    try {
      job = new req.jobClass({ writer, signal, clock: this.#opts.clock });
      result = { ok: true, value: await job.run() };
    } catch (error) {
      result = { ok: false, error };
    }
    try {
      job?.flushTicks();
      await writer.flush();
    } catch (err) {
      // Backend trouble is left to the outcome write, which sends the whole document again.
      if (!isZeroGError(err, "ZEROG_FENCED")) this.#opts.onFlushError?.(err);
    }
    if (writer.fenced) return { kind: "fenced", message: writer.fenced.message };
    return result.ok
      ? { kind: "returned", value: result.value, doc: writer.doc, cas: writer.cas }
      : { kind: "threw", error: describeThrown(result.error), doc: writer.doc, cas: writer.cas };
  }

  async close(): Promise<void> {}
}
