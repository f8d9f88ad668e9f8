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
  /** The process died (or was killed) before answering; `reason` says how, with its last stderr lines. */
  | { kind: "died"; reason: string };

/** Bytes of a child's stderr kept to explain its death (the tail of an OOM report or a stack). */
const STDERR_TAIL_BYTES = 2048;

/**
 * One warm child process that runs jobs one at a time. Its stdout goes to the worker's stdout;
 * its stderr too, with the tail kept so a crash can say why.
 */
export class JobProcess {
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  #stderrTail = "";
  #fatal: string | null = null;
  #runId = 0;
  #onMessage: ((msg: FromChild) => void) | null = null;
  #onExit: (() => void) | null = null;
  /** Jobs run so far, and the child's RSS after the last one. */
  jobsRun = 0;
  rss = 0;

  private constructor(child: ChildProcess) {
    this.#child = child;
    // "close", not "exit": stderr is read to its end first, so the death can be explained.
    this.#exited = once(child, "close").then(([code, signal]) => {
      this.#exit = { code: code as number | null, signal: signal as NodeJS.Signals | null };
      this.#onExit?.();
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
    child.on("message", (msg: FromChild) => this.#onMessage?.(msg));
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
      proc.#onMessage = (msg) => {
        if (msg.t === "ready") {
          proc.rss = msg.rss;
          resolve();
        } else if (msg.t === "failed") {
          reject(new InvalidConfigError(`job process could not load the job modules: ${msg.message}`));
        }
      };
      proc.#onExit = () => reject(new Error(`job process ${proc.#describeExit()} while starting`));
      setTimeout(
        () => reject(new Error(`job process not ready after ${opts.startTimeoutMs} ms`)),
        opts.startTimeoutMs,
      ).unref();
    });
    proc.#send({ t: "init", modules: opts.modules });
    try {
      await ready;
    } catch (err) {
      proc.kill();
      throw err;
    } finally {
      proc.#onMessage = null;
      proc.#onExit = null;
    }
    return proc;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get alive(): boolean {
    return this.#exit === null;
  }

  /**
   * Runs one job; `onOps` gets the job's changes as they come. Resolves when the child answers
   * or dies; `abort(reason)` passes the job's signal on.
   */
  run(
    doc: JobDocument,
    params: Record<string, unknown>,
    onOps: (ops: JobCodeOp[]) => void,
  ): { ended: Promise<ProcessRunEnd>; abort(reason: string): void } {
    const runId = ++this.#runId;
    this.jobsRun++;
    const ended = new Promise<ProcessRunEnd>((resolve) => {
      this.#onMessage = (msg) => {
        if (msg.t === "ops" && msg.runId === runId) onOps(msg.ops);
        else if (msg.t === "done" && msg.runId === runId) {
          this.rss = msg.rss;
          resolve({ kind: "done", result: msg.result });
        }
      };
      this.#onExit = () => resolve({ kind: "died", reason: `its process ${this.#describeExit()}` });
      if (!this.alive) this.#onExit();
      const unsent = this.#send({ t: "run", runId, doc, params });
      if (unsent) resolve({ kind: "done", result: { ok: false, error: describeThrown(unsent) } });
    }).finally(() => {
      this.#onMessage = null;
      this.#onExit = null;
    });
    return { ended, abort: (reason) => this.#send({ t: "abort", runId, reason }) };
  }

  /** Asks the child to exit once idle (recycling); it is killed if it has not after `graceMs`. */
  async retire(graceMs = 5000): Promise<void> {
    if (!this.alive) return;
    this.#send({ t: "exit" });
    const timer = setTimeout(() => this.kill(), graceMs);
    timer.unref();
    await this.#exited;
    clearTimeout(timer);
  }

  /** SIGKILL: for a job that ignores its signal, runs past its time limit, or at shutdown. */
  kill(): void {
    if (this.alive) this.#child.kill("SIGKILL");
  }

  get exited(): Promise<void> {
    return this.#exited;
  }

  /** Sends `msg`; returns why not when it cannot be serialized (params a job process cannot receive). */
  #send(msg: ToChild): Error | null {
    if (!this.alive || !this.#child.connected) return null;
    // A child that is dying can still look connected: the write then fails (EPIPE), synchronously
    // or in the callback. Nothing is lost by dropping the message: its exit is recorded by the exit
    // handler, as for any child that dies.
    try {
      this.#child.send(msg, () => undefined);
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
