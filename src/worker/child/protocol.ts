import type { ThrownError } from "../../job/control-flow.ts";
import type { JobDocument } from "../../job/document.ts";
import type { JobCodeOp } from "../../job/job-op.ts";

/**
 * Messages between a worker and its job processes (Node IPC, structured clone). Each IPC message
 * is an array of these: what one side had to say in one turn of its event loop travels together,
 * so runs started together (one group commit's claims) cost one write. A process may run several
 * jobs at once (`jobsPerProcess`); `runId` ties each message to its run.
 */
export type ToChild =
  /** Load these job modules; answered with `ready` or `failed`. */
  | { t: "init"; modules: string[] }
  /** `params`: the document's params as the worker's schema parsed them. */
  | { t: "run"; runId: number; doc: JobDocument; params: Record<string, unknown> }
  /** The run's signal fires (kill, fencing, shutdown); the process is killed if it does not stop. */
  | { t: "abort"; runId: number; reason: string }
  /** Finish up and exit (recycling). */
  | { t: "exit" };

export type FromChild =
  | { t: "ready"; jobTypes: string[]; rss: number }
  | { t: "failed"; message: string }
  /** Changes job code made, in order. */
  | { t: "ops"; runId: number; ops: JobCodeOp[] }
  | { t: "done"; runId: number; result: RunResult; rss: number }
  /**
   * The process is about to exit because of another run (an error thrown in that run's timer):
   * these runs die through no fault of their own.
   */
  | { t: "abandoned"; runIds: number[] };

/** What `run()` did: the value it returned (made cloneable), or what it threw. */
export type RunResult = { ok: true; value: unknown } | { ok: false; error: ThrownError };
