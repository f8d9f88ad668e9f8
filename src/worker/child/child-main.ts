/**
 * A job process: loads the worker's job modules once, then runs one job at a time for it,
 * sending every change the job makes back over IPC. Started by JobProcess (job-process.ts).
 */
import { systemClock } from "../../internal/clock.ts";
import type { BaseJob, JobClass } from "../../job/base-job.ts";
import { describeThrown } from "../../job/control-flow.ts";
import { loadJobModule } from "../../job/load-job-module.ts";
import { JobRegistry } from "../../job/registry.ts";
import type { FromChild, RunResult, ToChild } from "./protocol.ts";
import { RemoteWriter } from "./remote-writer.ts";

const send = (msg: FromChild): void => {
  process.send?.(msg);
};

let registry: JobRegistry | null = null;
let current: { runId: number; abort: AbortController } | null = null;

process.on("message", (msg: ToChild) => {
  switch (msg.t) {
    case "init":
      init(msg.modules).then(
        (types) => send({ t: "ready", jobTypes: types, rss: process.memoryUsage.rss() }),
        (err: unknown) => send({ t: "failed", message: err instanceof Error ? err.message : String(err) }),
      );
      return;
    case "run":
      void run(msg.runId, msg.doc, msg.params);
      return;
    case "abort":
      if (current?.runId === msg.runId) current.abort.abort(new Error(msg.reason));
      return;
    case "exit":
      process.disconnect?.();
      return;
  }
});
// The worker went away (it died or let this process go): nothing left to do.
process.on("disconnect", () => process.exit(0));

// An error thrown in a timer or callback of the job: report it as the run's, then exit, since
// this process's state can no longer be trusted. Outside a run, Node's default (exit 1) stands.
process.on("uncaughtException", (err) => {
  if (!current) {
    console.error(err);
    process.exit(1);
  }
  const { runId } = current;
  current = null;
  const error = describeThrown(err);
  error.message = `uncaught in the job's process: ${error.message}`;
  process.send?.({ t: "done", runId, result: { ok: false, error }, rss: 0 } satisfies FromChild, () => process.exit(1));
});

async function init(modules: string[]): Promise<string[]> {
  const classes = (await Promise.all(modules.map(loadJobModule))).flat();
  registry = new JobRegistry(classes);
  return registry.types();
}

async function run(runId: number, doc: RemoteWriter["doc"], params: Record<string, unknown>): Promise<void> {
  const abort = new AbortController();
  current = { runId, abort };
  const writer = new RemoteWriter(doc, (ops) => send({ t: "ops", runId, ops }));
  let result: RunResult;
  let job: BaseJob | undefined;
  try {
    const jobClass: JobClass | undefined = registry?.get(doc.jobType);
    if (!jobClass) throw new Error(`job type '${doc.jobType}' is not in this process's job modules`);
    job = new jobClass({ writer, params, signal: abort.signal, clock: systemClock });
    result = { ok: true, value: cloneable(await job.run()) };
  } catch (error) {
    result = { ok: false, error: describeThrown(error) };
  }
  try {
    job?.flushTicks();
  } catch {
    // A change that cannot be sent is lost with the run's other unsent state; the result still goes.
  }
  writer.flush();
  current = null;
  send({ t: "done", runId, result, rss: process.memoryUsage.rss() });
}

/** run()'s value if IPC can carry it; anything else counts as "nothing specific" (200), as in process. */
function cloneable(v: unknown): unknown {
  try {
    return structuredClone(v);
  } catch {
    return undefined;
  }
}
