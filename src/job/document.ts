/** The persisted state of one job: one JSON document keyed by its uuid. */

/** Where a job stands; derived from the outcome table, written only by named transitions. */
export type JobState = "queued" | "delayed" | "running" | "finished";

export const JOB_STATES: readonly JobState[] = ["queued", "delayed", "running", "finished"];

export interface LogEntry {
  timeStamp: string;
  msg: string;
}

export interface ErrorEntry extends LogEntry {
  errorCode: number;
}

/** Options the job's queue entry was put with, kept so a requeue uses the same ones. */
export interface QueueKwargs {
  priority: number;
  ttrSeconds: number;
  /** The delay asked for at creation (absent: none); a late enqueue counts it from `createdAt`. */
  delaySeconds?: number;
}

export interface JobDocument {
  uuid: string;
  jobType: string;
  schemaVersion: number;
  /** Correlates log lines of every run of this job. */
  logId: string;
  createdAt: string;
  updatedAt: string;
  params: Record<string, unknown>;
  queueName: string;
  queueKwargs: QueueKwargs;
  /**
   * The queue entry's id; "-1" while the enqueue has failed and waits for the queue to come back
   * (src/backends/requeuer.ts), "enqueuing@<ms>" while a process re-enqueues it.
   */
  queueJobId: string | null;
  events: LogEntry[];
  warnings: LogEntry[];
  errors: ErrorEntry[];
  running: boolean;
  errorCount: number;
  completeness: number;
  tickcount: number;
  tickval: number;
  /** -1 (NO_RESULT) until the job finishes. */
  resultCode: number;
  /** The job's output, returned by GET /data. */
  data: unknown;
  state: JobState;
  /** Bumped each time a run starts; a write from an older attempt is refused (fencing). */
  attempt: number;
  /** A user asked to kill the job; the worker running it stops it and records 410. */
  killRequested: boolean;
  workerId: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /**
   * The completeness the job had reached when it finished: `completeness` then reads 1 whatever
   * the outcome, so a job that failed at 36 % keeps 0.36 here. Absent until the job finishes.
   */
  completenessAtEnd?: number;
  /** When the next attempt of a `delayed` job is due (ISO time); meaningless in other states. */
  nextAttemptAt?: string | null;
}

/** Result code of a job that has not finished, and the `run()` return that asks for a requeue. */
export const NO_RESULT = -1;
/** Result code of a job finished by an unhandled error. */
export const INTERNAL_ERROR = 500;
/** Result code of a successful job when `run()` returns nothing specific. */
export const SUCCESS = 200;
/** Result code of a job killed by a user. */
export const KILLED_BY_USER = 410;

export const SCHEMA_VERSION = 1;
