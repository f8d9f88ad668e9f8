/**
 * The fleet: what every worker announces about itself, and the control messages sent to it.
 * Carried by the configured backend (every datastore has a FleetStore), so capacity management
 * works whichever backend a deployment uses.
 */

/** A worker's states (the table in docs/capacity.md). */
export type WorkerState =
  /** Taking jobs, none running. */
  | "activeIdle"
  /** Taking jobs, some running. */
  | "activeRunning"
  /** Drained: takes no new jobs and runs none (safe to terminate). */
  | "drainingIdle"
  /** Drained, but jobs taken before the drain still run. */
  | "drainingRunning"
  /** Shutting down: takes no jobs, hands running ones back, then leaves the fleet. */
  | "drainingDown"
  /** Retired (an irreversible drain) while jobs taken before still run; then `drainingIdle`, `retiring` true. */
  | "retiring";

/** One job a worker is running. */
export interface RunningJob {
  uuid: string;
  jobType: string;
  startedAt: string;
}

/** What a worker announces to the fleet, refreshed every few seconds and on every change. */
export interface WorkerRecord {
  /** host:service:pid */
  workerId: string;
  host: string;
  service: string;
  pid: number;
  state: WorkerState;
  /** Retired: will never take jobs again. */
  retiring: boolean;
  /** The uuid of a job it runs (the first, when several slots are busy), or null; `running` lists them all. */
  uuid: string | null;
  running: RunningJob[];
  /** Worker slots. */
  slots: number;
  /** Bytes: the host's available memory, and what this worker (with its job processes) uses. */
  mem: { available: number; used: number };
  /** Jobs started and finished (or requeued) since the worker started. */
  jobsStarted: number;
  jobsEnded: number;
  queueName: string;
  /** The job types this worker has seen paused and leaves waiting (absent from workers older than pausing). */
  pausedTypes?: string[];
  startedAt: string;
  /** When the worker last announced itself (its clock, ISO). */
  seenAt: string;
  /** Epoch ms after which the record counts as dead, unless announced again. */
  expiresAtMs: number;
}

/** The control messages a manager sends a worker (docs/capacity.md). */
export type ControlMessage =
  | { kind: "requestInfo" }
  | { kind: "drain" }
  | { kind: "undrain" }
  | { kind: "retire" }
  | { kind: "killJob"; uuid: string };

export const CONTROL_KINDS = ["requestInfo", "drain", "undrain", "retire", "killJob"] as const;

/**
 * Worker records and control-message inboxes in a backend. Implementations are shared by every
 * process on the backend; must pass test/contract/fleet.suite.ts against the real service.
 */
export interface FleetStore {
  /** Writes (creates or replaces) a worker's record. */
  announce(record: WorkerRecord): Promise<void>;
  /**
   * Records whose `expiresAtMs` is after `nowMs`, sorted by workerId. Records that expired
   * more than a minute before `nowMs` are deleted, with their inboxes.
   */
  listWorkers(nowMs: number): Promise<WorkerRecord[]>;
  /** A worker's record (expired or not), or null. */
  getWorker(workerId: string): Promise<WorkerRecord | null>;
  /** Removes a worker's record and its inbox (a clean shutdown); false when there was none. */
  removeWorker(workerId: string): Promise<boolean>;
  /** Appends a message to a worker's inbox (whether or not the worker is known). */
  sendControl(workerId: string, msg: ControlMessage): Promise<void>;
  /** Removes and returns the messages waiting for a worker, oldest first; each is taken once. */
  takeControl(workerId: string): Promise<ControlMessage[]>;
  /**
   * Pauses (`true`) or resumes a job type for every worker on the backend: workers start no job of
   * a paused type until it is resumed. Idempotent; kept until changed, whoever wrote it.
   */
  setPaused(jobType: string, paused: boolean): Promise<void>;
  /** The paused job types, sorted. */
  pausedTypes(): Promise<string[]>;
}
