import { InvalidConfigError, isZeroGError } from "../../errors.ts";
import { isJobCodeOp } from "../../job/job-op.ts";
import * as t from "../../job/transitions.ts";
import { flushRun, type RunWriterOptions, runWriter } from "../run-writer.ts";
import type { JobRunner, RunReport, RunRequest } from "../runner.ts";
import { childEntry } from "./child-entry.ts";
import { JobProcess, type ProcessRunEnd } from "./job-process.ts";

export interface ProcessRunnerOptions extends RunWriterOptions {
  /** Absolute paths of the modules exporting the job classes; each job process loads them. */
  modules: string[];
  /** Warm processes kept ready: one per worker slot. */
  slots: number;
  /** A process is replaced after this many jobs (1: a fresh process per job). */
  recycleAfterJobs: number;
  /** A process whose RSS after a job is above this many MB is replaced. */
  recycleMemoryMb: number;
  /** V8 heap limit of each job process in MB (`--max-old-space-size`); 0 leaves Node's default. */
  memoryLimitMb: number;
  /** A run still going after this many seconds has its process killed; 0: no limit. */
  jobTimeoutSeconds: number;
  /** After a run's signal fires (kill, shutdown), how long its process may take to stop before SIGKILL. */
  killGraceMs: number;
  /** Longest wait for a new process to load the job modules. @defaultValue 30000 */
  startTimeoutMs?: number;
}

/**
 * Runs each job in a warm child process, so a job that crashes, leaks, calls `process.exit` or
 * blocks its event loop cannot take the worker down: the worker's own event loop keeps the
 * queue entry alive and enforces kills and time limits. Processes are reused for
 * `recycleAfterJobs` jobs or until they grow past `recycleMemoryMb`, and replaced in the
 * background so the next job does not wait for Node to start.
 */
export class ProcessRunner implements JobRunner {
  readonly #opts: ProcessRunnerOptions;
  /** Ready (or starting) processes, first come first served. */
  readonly #warm: Promise<JobProcess>[] = [];
  readonly #busy = new Set<JobProcess>();
  readonly #live = new Set<JobProcess>();
  #closed = false;

  constructor(opts: ProcessRunnerOptions) {
    this.#opts = opts;
  }

  /** Starts the warm processes; rejects (with the child's reason) when the job modules cannot load. */
  async start(): Promise<void> {
    const first = this.#spawn();
    this.#warm.push(first);
    try {
      await first;
    } catch (err) {
      if (isZeroGError(err)) throw err;
      throw new InvalidConfigError(`job processes cannot start: ${(err as Error).message}`);
    }
    for (let i = 1; i < this.#opts.slots; i++) this.#warm.push(this.#spawn());
  }

  async run(req: RunRequest): Promise<RunReport> {
    let proc: JobProcess;
    try {
      proc = await this.#acquire();
    } catch (err) {
      return { kind: "died", reason: `no job process: ${(err as Error).message}`, doc: req.doc, cas: req.cas };
    }
    const writer = runWriter(this.#opts, req);
    // Its last job: start the replacement now, so it is warm when this run ends.
    if (proc.jobsRun + 1 >= this.#opts.recycleAfterJobs && !this.#closed) this.#warm.push(this.#spawn());
    this.#busy.add(proc);
    const end = await this.#runIn(proc, req, (ops) => {
      for (const op of ops) {
        try {
          // The job's own code speaks on this channel: only the changes job code may make get through.
          writer.mutate(isJobCodeOp(op) ? op : refused(op, this.#opts));
        } catch {
          // Fenced off: the run has been told to stop, and nothing more of it is recorded.
        }
      }
    });
    this.#busy.delete(proc);
    this.#release(proc);
    await flushRun(writer, this.#opts);
    if (writer.fenced) return { kind: "fenced", message: writer.fenced.message };
    const at = { doc: writer.doc, cas: writer.cas };
    if (end.kind === "died") return { kind: "died", reason: end.reason, ...at };
    return end.result.ok
      ? { kind: "returned", value: end.result.value, ...at }
      : { kind: "threw", error: end.result.error, ...at };
  }

  /** The RSS of every live job process, as each last reported it (when ready, and after each job). */
  memoryUsed(): number {
    let bytes = 0;
    for (const p of this.#live) bytes += p.rss;
    return bytes;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const warm = this.#warm.splice(0);
    const settled = await Promise.allSettled(warm);
    const procs = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    for (const p of this.#busy) p.kill();
    await Promise.all([...procs.map((p) => p.retire()), ...[...this.#busy].map((p) => p.exited)]);
  }

  /** Passes the run's signal on; kills the process when the job ignores it or runs past its limit. */
  async #runIn(proc: JobProcess, req: RunRequest, onOps: Parameters<JobProcess["run"]>[2]): Promise<ProcessRunEnd> {
    const o = this.#opts;
    const run = proc.run(req.doc, req.params, onOps);
    const timers: NodeJS.Timeout[] = [];
    const onAbort = (): void => {
      const reason = req.abort.signal.reason;
      run.abort(reason instanceof Error ? reason.message : String(reason));
      timers.push(setTimeout(() => proc.kill(), o.killGraceMs));
    };
    if (req.abort.signal.aborted) onAbort();
    else req.abort.signal.addEventListener("abort", onAbort, { once: true });
    let timedOut = false;
    if (o.jobTimeoutSeconds > 0) {
      timers.push(
        setTimeout(() => {
          timedOut = true;
          proc.kill();
        }, o.jobTimeoutSeconds * 1000),
      );
    }
    try {
      const end = await run.ended;
      if (end.kind === "died" && timedOut) {
        return { kind: "died", reason: `it ran past its time limit of ${o.jobTimeoutSeconds} s and was killed` };
      }
      return end;
    } finally {
      for (const t of timers) clearTimeout(t);
      req.abort.signal.removeEventListener("abort", onAbort);
    }
  }

  /** A warm process, or a new one when none is ready (or the ready one died meanwhile). */
  async #acquire(): Promise<JobProcess> {
    const next = this.#warm.shift();
    if (next) {
      const proc = await next.catch(() => null);
      if (proc?.alive) return proc;
    }
    return this.#spawn();
  }

  /** Back to the pool, or replaced by a fresh process (started now, so it is warm for the next job). */
  #release(proc: JobProcess): void {
    const o = this.#opts;
    if (this.#closed) {
      void proc.retire();
      return;
    }
    // Worn out by its job count: its replacement was started with its last job.
    if (proc.jobsRun >= o.recycleAfterJobs) {
      void proc.retire();
      return;
    }
    if (proc.alive && proc.rss <= o.recycleMemoryMb * 1024 * 1024) {
      this.#warm.push(Promise.resolve(proc));
      return;
    }
    void proc.retire();
    this.#warm.push(this.#spawn());
  }

  #spawn(): Promise<JobProcess> {
    const o = this.#opts;
    const entry = childEntry(o.memoryLimitMb);
    const started = JobProcess.start({
      ...entry,
      modules: o.modules,
      startTimeoutMs: o.startTimeoutMs ?? 30_000,
    });
    started.then(
      (p) => {
        this.#live.add(p);
        void p.exited.then(() => this.#live.delete(p));
      },
      // Awaited by whoever takes it; until then a failure must not count as unhandled.
      () => undefined,
    );
    return started;
  }
}

/** What is recorded instead of a change a job process may not make (a finish, a new attempt, garbage). */
function refused(op: unknown, o: RunWriterOptions): ReturnType<typeof t.addWarning> {
  const name = typeof op === "object" && op !== null && "op" in op ? String(op.op).slice(0, 40) : typeof op;
  return t.addWarning(
    `a job process sent a change it may not make (${name}); ignored`,
    new Date(o.clock.now()).toISOString(),
  );
}
