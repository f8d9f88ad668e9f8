import { describeThrown } from "../job/control-flow.ts";
import { flushRun, type RunWriterOptions, runWriter } from "./run-writer.ts";
import type { JobRunner, RunReport, RunRequest } from "./runner.ts";

export type InlineRunnerOptions = RunWriterOptions;

/** Runs jobs in this process: fastest, but a job that blocks the event loop blocks the worker. */
export class InlineRunner implements JobRunner {
  readonly #opts: InlineRunnerOptions;

  constructor(opts: InlineRunnerOptions) {
    this.#opts = opts;
  }

  async run(req: RunRequest): Promise<RunReport> {
    const signal = req.abort.signal;
    const writer = runWriter(this.#opts, req);
    let result: { ok: true; value: unknown } | { ok: false; error: unknown };
    let job: InstanceType<RunRequest["jobClass"]> | undefined;
    try {
      job = new req.jobClass({ writer, params: req.params, signal, clock: this.#opts.clock });
      result = { ok: true, value: await job.run() };
    } catch (error) {
      result = { ok: false, error };
    }
    try {
      job?.flushTicks();
    } catch {
      // Fenced off: nothing more of this run is recorded.
    }
    await flushRun(writer, this.#opts);
    if (writer.fenced) return { kind: "fenced", message: writer.fenced.message };
    return result.ok
      ? { kind: "returned", value: result.value, doc: writer.doc, cas: writer.cas }
      : { kind: "threw", error: describeThrown(result.error), doc: writer.doc, cas: writer.cas };
  }

  async close(): Promise<void> {}
}
