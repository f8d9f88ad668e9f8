import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { InvalidConfigError } from "../../errors.ts";
import { describeThrown } from "../../job/control-flow.ts";
import type { JobDocument } from "../../job/document.ts";
import type { JobCodeOp } from "../../job/job-op.ts";
import type { FromChild, RunResult, ToChild } from "./protocol.ts";

export interface JobProcessOptions {
  /** The child entry (child-main) and the Node flags to run it with. */
  entry: string;
  execArgv: string[];
  /** Absolute paths of the job modules the child loads. */
  modules: string[];
  /** Longest wait for the child to load its modules. */
  startTimeoutMs: number;
}

/** How a run in a job process ended. */
export type ProcessRunEnd =
  | { kind: "done"; result: RunResult }
  /**
   * The process died (or was killed) before answering; `reason` says how, with its last stderr
   * lines. `bystander`: another run in the same process is known to have caused it.
   */
  | { kind: "died"; reason: string; bystander: boolean };

/** Bytes of a child's stderr kept to explain its death (the tail of an OOM report or a stack). */
const STDERR_TAIL_BYTES = 2048;

interface ActiveRun {
  onOps: (ops: JobCodeOp[]) => void;
  resolve: (end: ProcessRunEnd) => void;
}

/**
 * One warm child process that runs jobs, one or several at a time. Its stdout goes to the
 * worker's stdout; its stderr too, with the tail kept so a crash can say why. Messages to it are
 * sent once per turn of the event loop, together (protocol.ts).
 */
export class JobProcess {
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  #stderrTail = "";
  #fatal: string | null = null;
  #runId = 0;
  readonly #runs = new Map<number, ActiveRun>();
  /** Runs that die through another's fault: the run this process was killed for spares the rest. */
  readonly #bystanders = new Set<number>();
  #blamed: number | null = null;
  #outbox: ToChild[] = [];
  #flushing = false;
  #onStart: ((msg: FromChild) => void) | null = null;
  #onStartExit: (() => void) | null = null;
  /** Jobs run so far, and the child's RSS after the last one. */
  jobsRun = 0;
  rss = 0;

  private constructor(child: ChildProcess) {
    this.#child = child;
    // "close", not "exit": stderr is read to its end first, so the death can be explained.
    this.#exited = once(child, "close").then(([code, signal]) => {
      this.#exit = { code: code as number | null, signal: signal as NodeJS.Signals | null };
      this.#onStartExit?.();
      const reason = `its process ${this.#describeExit()}`;
      for (const [runId, run] of this.#runs) {
        const bystander = this.#bystanders.has(runId) || (this.#blamed !== null && this.#blamed !== runId);
        run.resolve({ kind: "died", reason, bystander });
      }
      this.#runs.clear();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      process.stderr.write(chunk);
      const text = chunk.toString("utf8");
      // V8's fatal error line comes before a long native stack trace: keep it apart from the tail.
      this.#fatal ??= /FATAL ERROR:[^\n]*/.exec(text)?.[0] ?? null;
      const tail = this.#stderrTail + text;
      // Cut at a line start, so the tail never begins mid-line.
      this.#stderrTail =
        tail.length <= STDERR_TAIL_BYTES ? tail : tail.slice(tail.indexOf("\n", tail.length - STDERR_TAIL_BYTES) + 1);
    });
    // An array from child-main; a single message is what job code writing to the channel itself sends.
    child.on("message", (batch: FromChild[] | FromChild) => {
      for (const msg of Array.isArray(batch) ? batch : [batch]) {
        if (typeof msg === "object" && msg !== null) this.#receive(msg);
      }
    });
    // A send to a child that just died fails with EPIPE; its exit is what counts.
    child.on("error", () => undefined);
  }

  /** Forks a child and waits until it has loaded the job modules; rejects with the reason when it cannot. */
  static async start(opts: JobProcessOptions): Promise<JobProcess> {
    const child = fork(opts.entry, [], {
      execArgv: opts.execArgv,
      stdio: ["ignore", "inherit", "pipe", "ipc"],
      serialization: "advanced",
    });
    const proc = new JobProcess(child);
    const ready = new Promise<void>((resolve, reject) => {
      proc.#onStart = (msg) => {
        if (msg.t === "ready") {
          proc.rss = msg.rss;
          resolve();
        } else if (msg.t === "failed") {
          reject(new InvalidConfigError(`job process could not load the job modules: ${msg.message}`));
        }
      };
      proc.#onStartExit = () => reject(new Error(`job process ${proc.#describeExit()} while starting`));
      setTimeout(
        () => reject(new Error(`job process not ready after ${opts.startTimeoutMs} ms`)),
        opts.startTimeoutMs,
      ).unref();
    });
    proc.#post({ t: "init", modules: opts.modules });
    try {
      await ready;
    } catch (err) {
      proc.kill();
      throw err;
    } finally {
      proc.#onStart = null;
      proc.#onStartExit = null;
    }
    return proc;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get alive(): boolean {
    return this.#exit === null;
  }

  /** Runs under way in this process. */
  get running(): number {
    return this.#runs.size;
  }

  /**
   * Runs one job; `onOps` gets the job's changes as they come. `ended` resolves when the child
   * answers or dies; `abort(reason)` passes the job's signal on; `runId` is what `kill` blames.
   */
  run(
    doc: JobDocument,
    params: Record<string, unknown>,
    onOps: (ops: JobCodeOp[]) => void,
  ): { runId: number; ended: Promise<ProcessRunEnd>; abort(reason: string): void } {
    const runId = ++this.#runId;
    this.jobsRun++;
    const ended = new Promise<ProcessRunEnd>((resolve) => {
      if (!this.alive) {
        resolve({ kind: "died", reason: `its process ${this.#describeExit()}`, bystander: false });
        return;
      }
      this.#runs.set(runId, { onOps, resolve });
      this.#post({ t: "run", runId, doc, params });
    });
    return { runId, ended, abort: (reason) => this.#post({ t: "abort", runId, reason }) };
  }

  /** Asks the child to exit once idle (recycling); it is killed if it has not after `graceMs`. */
  async retire(graceMs = 5000): Promise<void> {
    if (!this.alive) return;
    this.#post({ t: "exit" });
    const timer = setTimeout(() => this.kill(), graceMs);
    timer.unref();
    await this.#exited;
    clearTimeout(timer);
  }

  /**
   * SIGKILL: for a job that ignores its signal, runs past its time limit, or at shutdown. `blame`:
   * the run it is killed for; the other runs in the process die as bystanders.
   */
  kill(blame?: number): void {
    if (!this.alive) return;
    if (blame !== undefined) this.#blamed ??= blame;
    this.#child.kill("SIGKILL");
  }

  get exited(): Promise<void> {
    return this.#exited;
  }

  #receive(msg: FromChild): void {
    switch (msg.t) {
      case "ready":
      case "failed":
        this.#onStart?.(msg);
        return;
      case "ops":
        this.#runs.get(msg.runId)?.onOps(msg.ops);
        return;
      case "done": {
        const run = this.#runs.get(msg.runId);
        if (!run) return;
        this.#runs.delete(msg.runId);
        this.rss = msg.rss;
        run.resolve({ kind: "done", result: msg.result });
        return;
      }
      case "abandoned":
        for (const id of msg.runIds) this.#bystanders.add(id);
        return;
    }
  }

  /** Queues `msg` for this turn's write. */
  #post(msg: ToChild): void {
    this.#outbox.push(msg);
    if (this.#flushing) return;
    this.#flushing = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushing = false;
    const batch = this.#outbox;
    this.#outbox = [];
    if (batch.length === 0) return;
    if (this.#send(batch) === null) return;
    // A value in the batch cannot be cloned: send each alone, so only its run fails.
    for (const msg of batch) {
      const unsent = this.#send([msg]);
      if (unsent && msg.t === "run") this.#settleUnsent(msg.runId, unsent);
    }
  }

  #settleUnsent(runId: number, err: Error): void {
    const run = this.#runs.get(runId);
    if (!run) return;
    this.#runs.delete(runId);
    run.resolve({ kind: "done", result: { ok: false, error: describeThrown(err) } });
  }

  /** Sends `batch`; returns why not when it cannot be serialized (params a job process cannot receive). */
  #send(batch: ToChild[]): Error | null {
    if (!this.alive || !this.#child.connected) return null;
    // A child that is dying can still look connected: the write then fails (EPIPE), synchronously
    // or in the callback. Nothing is lost by dropping the message: its exit is recorded by the exit
    // handler, as for any child that dies.
    try {
      this.#child.send(batch, () => undefined);
    } catch (err) {
      // A channel that is gone fails with a code (EPIPE, ERR_IPC_CHANNEL_CLOSED): as above. A value
      // that cannot be serialized ("could not be cloned") fails without one.
      if (err instanceof Error && !("code" in err))
        return new Error(`the params as the schema parsed them cannot be sent to a job process: ${err.message}`);
    }
    return null;
  }

  #describeExit(): string {
    const e = this.#exit;
    const how = !e ? "exited" : e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
    const tail = this.#fatal ?? explain(this.#stderrTail);
    return tail ? `${how}: ${tail}` : how;
  }
}

/** The last few lines of a dead process's stderr that are not native stack frames. */
function explain(stderr: string): string {
  return stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !/^\d+: 0x[0-9a-f]+/.test(l) && !/^(<---|-----)/.test(l))
    .slice(-3)
    .join(" | ");
}
