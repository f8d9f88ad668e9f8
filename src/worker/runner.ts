import type { Cas } from "../datastore/contract.ts";
import type { JobClass } from "../job/base-job.ts";
import type { ThrownError } from "../job/control-flow.ts";
import type { JobDocument } from "../job/document.ts";

export interface RunRequest {
  jobClass: JobClass;
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
  /** A newer attempt owns the job: this run must record nothing more. */
  | { kind: "fenced"; message: string };

/** Executes one run of a job: in this process now; in child processes later, behind the same interface. */
export interface JobRunner {
  run(req: RunRequest): Promise<RunReport>;
  close(): Promise<void>;
}
