import type { Cas } from "../contracts/datastore.ts";
import type { JobClass } from "../job/base-job.ts";
import type { ThrownError } from "../job/control-flow.ts";
import type { JobDocument } from "../job/document.ts";

export interface RunRequest {
  jobClass: JobClass;
  /** The params as `jobClass.schema` parsed them for this run; the job's `this.params`. */
  params: Record<string, unknown>;
  /** The document as claimed for this run (`running` true, `attempt` this run's). */
  doc: JobDocument;
  cas: Cas;
  attempt: number;
  /** The job's signal; the runner aborts it too when the run is fenced off. */
  abort: AbortController;
}

/**
 * How a run ended, with the document as the run left it (its writes flushed where the
 * backend allowed) so the worker can record the outcome on top.
 */
export type RunReport =
  | { kind: "returned"; value: unknown; doc: JobDocument; cas: Cas }
  | { kind: "threw"; error: ThrownError; doc: JobDocument; cas: Cas }
  /**
   * The run's process died (a crash, `process.exit`, out of memory) or was killed (time limit,
   * a kill or shutdown it ignored) before it answered; `reason` says how. `bystander`: another
   * job sharing its process caused it (`jobsPerProcess` above 1), so this run is not at fault.
   */
  | { kind: "died"; reason: string; bystander?: boolean; doc: JobDocument; cas: Cas }
  /** A newer attempt owns the job: this run must record nothing more. */
  | { kind: "fenced"; message: string };

/** Executes one run of a job: in this process (InlineRunner) or in a child process (ProcessRunner). */
export interface JobRunner {
  /** Gets ready before the first job (e.g. starts warm processes); rejects when jobs cannot run at all. */
  start?(): Promise<void>;
  run(req: RunRequest): Promise<RunReport>;
  /** Bytes of memory used by the processes this runner started (0 for in-process). */
  memoryUsed?(): number;
  close(): Promise<void>;
}
