import type { ThrownError } from "../../job/control-flow.ts";
import type { JobDocument } from "../../job/document.ts";
import type { JobCodeOp } from "../../job/job-op.ts";

/**
 * Messages between a worker and its job processes (Node IPC, structured clone). One run at a
 * time per process; `runId` ties late messages to the run they belong to.
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
  | { t: "done"; runId: number; result: RunResult; rss: number };

/** What `run()` did: the value it returned (made cloneable), or what it threw. */
export type RunResult = { ok: true; value: unknown } | { ok: false; error: ThrownError };
