/**
 * A job process: loads the worker's job modules once, then runs jobs for it (one or several at a
 * time), sending every change each job makes back over IPC. Started by JobProcess (job-process.ts).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { systemClock } from "../../internal/clock.ts";
import type { BaseJob, JobClass } from "../../job/base-job.ts";
import { describeThrown } from "../../job/control-flow.ts";
import { loadJobModule } from "../../job/load-job-module.ts";
import { JobRegistry } from "../../job/registry.ts";
import type { FromChild, RunResult, ToChild } from "./protocol.ts";
import { RemoteWriter } from "./remote-writer.ts";

/** What this turn of the event loop has to tell the worker: one IPC message (protocol.ts). */
let outbox: FromChild[] = [];
const send = (msg: FromChild): void => {
  if (outbox.length === 0) setImmediate(() => flush());
  outbox.push(msg);
};
function flush(done?: () => void): void {
  const batch = outbox;
  outbox = [];
  if (batch.length === 0 || !process.connected) {
    done?.();
    return;
  }
  // The memory the worker recycles on, read once per message rather than once per run.
  const rss = process.memoryUsage.rss();
  for (const msg of batch) if (msg.t === "done") msg.rss = rss;
  process.send?.(batch, () => done?.());
}

let registry: JobRegistry | null = null;
const runs = new Map<number, AbortController>();
/** The run whose code is executing: an error thrown in its timers is its own, not its neighbours'. */
const runContext = new AsyncLocalStorage<number>();

// A job that calls process.exit takes the runs beside it down: say which runs those are first, so
// they are requeued without an error counted against them. The message is small and is written
// before the process ends; were it lost, they would count the death as their own, as with any
// death whose cause this process cannot tell (out of memory, a signal from outside).
const exitProcess = process.exit.bind(process);
process.exit = ((code?: number | string | null) => {
  const owner = runContext.getStore();
  if (owner !== undefined && runs.has(owner)) {
    abandonAllBut([owner]);
    flush();
  }
  return exitProcess(code);
}) as typeof process.exit;

/** The process is about to exit because of `faulty`: every other run is told it dies as a bystander. */
function abandonAllBut(faulty: readonly number[]): void {
  const others = [...runs.keys()].filter((id) => !faulty.includes(id));
  runs.clear();
  if (others.length > 0) outbox.push({ t: "abandoned", runIds: others });
}

process.on("message", (batch: ToChild[]) => {
  for (const msg of batch) receive(msg);
});

function receive(msg: ToChild): void {
  switch (msg.t) {
    case "init":
      init(msg.modules).then(
        (types) => send({ t: "ready", jobTypes: types, rss: process.memoryUsage.rss() }),
        (err: unknown) => send({ t: "failed", message: err instanceof Error ? err.message : String(err) }),
      );
      return;
    case "run":
      runContext.run(msg.runId, () => void run(msg.runId, msg.doc, msg.params));
      return;
    case "abort":
      runs.get(msg.runId)?.abort(new Error(msg.reason));
      return;
    case "exit":
      flush(() => {
        if (process.connected) process.disconnect?.();
      });
      return;
  }
}
// The worker went away (it died or let this process go): nothing left to do.
process.on("disconnect", () => process.exit(0));

// An error thrown in a timer or callback of a job: report it as that run's, then exit, since this
// process's state can no longer be trusted. The runs beside it die through no fault of their own.
// Outside a run, Node's default (exit 1) stands.
process.on("uncaughtException", (err) => {
  const owner = runContext.getStore();
  if (runs.size === 0) {
    console.error(err);
    process.exit(1);
  }
  const error = describeThrown(err);
  error.message = `uncaught in the job's process: ${error.message}`;
  const faulty = owner !== undefined && runs.has(owner) ? [owner] : [...runs.keys()];
  for (const runId of faulty) outbox.push({ t: "done", runId, result: { ok: false, error }, rss: 0 });
  abandonAllBut(faulty);
  flush(() => exitProcess(1));
});

async function init(modules: string[]): Promise<string[]> {
  const classes = (await Promise.all(modules.map(loadJobModule))).flat();
  registry = new JobRegistry(classes);
  return registry.types();
}

async function run(runId: number, doc: RemoteWriter["doc"], params: Record<string, unknown>): Promise<void> {
  const abort = new AbortController();
  runs.set(runId, abort);
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
  // Reported already by the uncaught-exception handler (this process is exiting).
  if (!runs.has(runId)) return;
  try {
    job?.flushTicks();
  } catch {
    // A change that cannot be sent is lost with the run's other unsent state; the result still goes.
  }
  writer.flush();
  runs.delete(runId);
  send({ t: "done", runId, result, rss: 0 });
}

/** run()'s value if IPC can carry it; anything else counts as "nothing specific" (200), as in process. */
function cloneable(v: unknown): unknown {
  try {
    return structuredClone(v);
  } catch {
    return undefined;
  }
}
