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
  /** The worker's slots: at most this many runs at once. */
  slots: number;
  /**
   * Runs one job process takes at once; the runner keeps `ceil(slots / jobsPerProcess)` warm
   * processes. 1 (the default here): a process per slot, so a job that crashes its process
   * takes no other job with it. @defaultValue 1
   */
  jobsPerProcess?: number;
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
 * Runs jobs in warm child processes, so a job that crashes, leaks, calls `process.exit` or
 * blocks its event loop cannot take the worker down: the worker's own event loop keeps the
 * queue entry alive and enforces kills and time limits. Each process takes up to
 * `jobsPerProcess` runs at once (the least busy first). Processes are reused for
 * `recycleAfterJobs` jobs or until they grow past `recycleMemoryMb`, then take no new run and
 * retire once their runs end; the replacement starts in the background so the next job does not
 * wait for Node to start.
 */
export class ProcessRunner implements JobRunner {
  readonly #opts: ProcessRunnerOptions;
  readonly #perProcess: number;
  /** Processes starting, not yet taking runs. */
  readonly #starting = new Set<Promise<JobProcess>>();
  /** Processes taking runs, with the runs each has been given (counted before the run is sent). */
  readonly #open = new Map<JobProcess, number>();
  /** Processes that take no new run (worn out, too big) but still finish theirs. */
  readonly #draining = new Set<JobProcess>();
  /** Processes whose replacement has been started. */
  readonly #replaced = new WeakSet<JobProcess>();
  readonly #live = new Set<JobProcess>();
  #closed = false;

  constructor(opts: ProcessRunnerOptions) {
    this.#opts = opts;
    this.#perProcess = Math.max(1, Math.floor(opts.jobsPerProcess ?? 1));
  }

  /** How many processes the slots need. */
  get #poolSize(): number {
    return Math.max(1, Math.ceil(this.#opts.slots / this.#perProcess));
  }

  /** Starts the warm processes; rejects (with the child's reason) when the job modules cannot load. */
  async start(): Promise<void> {
    const first = this.#spawn();
    try {
      await first;
    } catch (err) {
      if (isZeroGError(err)) throw err;
      throw new InvalidConfigError(`job processes cannot start: ${(err as Error).message}`);
    }
    for (let i = 1; i < this.#poolSize; i++) this.#spawn();
  }

  async run(req: RunRequest): Promise<RunReport> {
    let proc: JobProcess;
    try {
      proc = await this.#acquire();
    } catch (err) {
      return { kind: "died", reason: `no job process: ${(err as Error).message}`, doc: req.doc, cas: req.cas };
    }
    const writer = runWriter(this.#opts, req);
    this.#countRun(proc);
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
    this.#release(proc);
    await flushRun(writer, this.#opts);
    if (writer.fenced) return { kind: "fenced", message: writer.fenced.message };
    const at = { doc: writer.doc, cas: writer.cas };
    if (end.kind === "died") {
      return end.bystander
        ? { kind: "died", reason: `${end.reason} (because of another job running in it)`, bystander: true, ...at }
        : { kind: "died", reason: end.reason, ...at };
    }
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
    const settled = await Promise.allSettled([...this.#starting]);
    const started = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    const procs = new Set([...started, ...this.#open.keys(), ...this.#draining]);
    this.#open.clear();
    const ends: Promise<void>[] = [];
    for (const p of procs) {
      if (p.running > 0) {
        p.kill();
        ends.push(p.exited);
      } else ends.push(p.retire());
    }
    await Promise.all(ends);
  }

  /** Passes the run's signal on; kills the process when the job ignores it or runs past its limit. */
  async #runIn(proc: JobProcess, req: RunRequest, onOps: Parameters<JobProcess["run"]>[2]): Promise<ProcessRunEnd> {
    const o = this.#opts;
    const run = proc.run(req.doc, req.params, onOps);
    const timers: NodeJS.Timeout[] = [];
    const onAbort = (): void => {
      const reason = req.abort.signal.reason;
      run.abort(reason instanceof Error ? reason.message : String(reason));
      timers.push(setTimeout(() => proc.kill(run.runId), o.killGraceMs));
    };
    if (req.abort.signal.aborted) onAbort();
    else req.abort.signal.addEventListener("abort", onAbort, { once: true });
    let timedOut = false;
    if (o.jobTimeoutSeconds > 0) {
      timers.push(
        setTimeout(() => {
          timedOut = true;
          proc.kill(run.runId);
        }, o.jobTimeoutSeconds * 1000),
      );
    }
    try {
      const end = await run.ended;
      if (end.kind === "died" && timedOut) {
        return {
          kind: "died",
          reason: `it ran past its time limit of ${o.jobTimeoutSeconds} s and was killed`,
          bystander: false,
        };
      }
      return end;
    } finally {
      for (const t of timers) clearTimeout(t);
      req.abort.signal.removeEventListener("abort", onAbort);
    }
  }

  /** The least busy process with room for a run, waiting for one that is starting, or a new one. */
  async #acquire(): Promise<JobProcess> {
    for (;;) {
      const proc = this.#leastBusy();
      if (proc) {
        this.#open.set(proc, (this.#open.get(proc) ?? 0) + 1);
        return proc;
      }
      // Every open process is full (or none is open yet): wait for one starting, else start one.
      const starting = this.#starting.values().next().value ?? this.#spawn();
      await starting;
    }
  }

  #leastBusy(): JobProcess | null {
    let best: JobProcess | null = null;
    let bestLoad = this.#perProcess;
    for (const [p, load] of this.#open) {
      if (!p.alive) {
        this.#open.delete(p);
        this.#replace(p);
        continue;
      }
      if (load < bestLoad) {
        best = p;
        bestLoad = load;
      }
    }
    return best;
  }

  /** A run ended: its room back, or the process replaced when it is worn out, too big or dead. */
  #release(proc: JobProcess): void {
    const o = this.#opts;
    const load = this.#open.get(proc);
    if (load !== undefined) {
      this.#open.set(proc, load - 1);
      if (!proc.alive || proc.rss > o.recycleMemoryMb * 1024 * 1024) this.#stopTaking(proc);
    }
    if (this.#draining.has(proc) && proc.running === 0) {
      this.#draining.delete(proc);
      void proc.retire();
    }
  }

  /**
   * Recycling by job count. The replacement starts a tenth of the jobs before the last one, so it
   * is warm when this process stops taking runs: with one process per worker, runs would
   * otherwise wait for Node to start (~150 ms) at every recycle.
   */
  #countRun(proc: JobProcess): void {
    const limit = this.#opts.recycleAfterJobs;
    const n = proc.jobsRun + 1;
    if (n >= Math.max(1, limit - Math.ceil(limit / 10))) this.#replace(proc);
    if (n >= limit) this.#stopTaking(proc);
  }

  /** No new runs for `proc`; a replacement starts (unless closing); it retires once its runs end. */
  #stopTaking(proc: JobProcess): void {
    if (!this.#open.delete(proc)) return;
    this.#draining.add(proc);
    this.#replace(proc);
  }

  /** Starts the process that takes `proc`'s place, once (again if that one failed to start). */
  #replace(proc: JobProcess): void {
    if (this.#closed || this.#replaced.has(proc)) return;
    this.#replaced.add(proc);
    this.#spawn().catch(() => this.#replaced.delete(proc));
  }

  /** Starts a process; it takes runs once ready. */
  #spawn(): Promise<JobProcess> {
    const o = this.#opts;
    const entry = childEntry(o.memoryLimitMb);
    const started = JobProcess.start({
      ...entry,
      modules: o.modules,
      startTimeoutMs: o.startTimeoutMs ?? 30_000,
    });
    this.#starting.add(started);
    started.then(
      (p) => {
        this.#starting.delete(started);
        this.#live.add(p);
        void p.exited.then(() => {
          this.#live.delete(p);
          this.#draining.delete(p);
        });
        if (this.#closed) void p.retire();
        else this.#open.set(p, 0);
      },
      // Awaited by whoever takes it; until then a failure must not count as unhandled.
      () => this.#starting.delete(started),
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
