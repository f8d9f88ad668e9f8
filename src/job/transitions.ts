import { type JobCodeOp, type JobOp, startRunFields } from "./job-op.ts";

/**
 * Every change to a job document, named: each returns the op, applied by `applyOp` (and
 * persisted by a DocumentWriter). Log entries take their timestamp here, once.
 */

export function addEvent(msg: string, at: string): JobCodeOp {
  return { op: "addEvent", msg, at };
}

export function addWarning(msg: string, at: string): JobCodeOp {
  return { op: "addWarning", msg, at };
}

/** Records an error; errors count towards `maxErrors`. */
export function addError(errorCode: number, msg: string, at: string): JobCodeOp {
  return { op: "addError", errorCode, msg, at };
}

/** Sets completeness, clamped to 0..1. */
export function setCompleteness(x: number): JobCodeOp {
  return { op: "setCompleteness", x };
}

/** Adds to completeness (clamped to 0..1) and counts `ticks`. */
export function addToCompleteness(delta: number, ticks = 0): JobCodeOp {
  return { op: "addToCompleteness", delta, ticks };
}

export function setTickValue(v: number): JobCodeOp {
  return { op: "setTickValue", v };
}

export function setData(data: unknown): JobCodeOp {
  return { op: "setData", data };
}

/**
 * The fields a backend writes when it starts a run in its reserve (besides the next attempt,
 * which it derives from the stored one): `startRunFields` and the write time.
 */
export function reserveStartFields(workerId: string, nowMs: number) {
  const at = new Date(nowMs).toISOString();
  return { ...startRunFields(workerId, at), updatedAt: at };
}

/** A worker takes the job: a new attempt begins, and `running` says so until the run ends. */
export function startRun(attempt: number, workerId: string, at: string): JobOp {
  return { op: "startRun", attempt, workerId, at };
}

/** The job is done for good with `resultCode`. */
export function finish(resultCode: number, at: string): JobOp {
  return { op: "finish", resultCode, at };
}

/** The job goes back to its queue to run again after `delaySeconds`, counted from `at`. */
export function requeue(delaySeconds: number, at: string): JobOp {
  const due = delaySeconds > 0 ? new Date(Date.parse(at) + delaySeconds * 1000).toISOString() : null;
  return { op: "requeue", nextAttemptAt: due };
}

/** A user asks to kill the job; a running one is stopped by its worker, which then records `killedByUser`. */
export function requestKill(): JobOp {
  return { op: "requestKill" };
}

/** Row 8 of the outcome table (docs/job-states.md): error 410 "Killed by user", finished with result 410. */
export function killedByUser(at: string): JobOp {
  return { op: "killedByUser", at };
}

/**
 * A user runs a failed or killed job again: event "Retried by user", a new attempt (fencing the
 * finished one), `errorCount` 0, queued with no result, progress 0; logs and data are kept.
 */
export function retryByUser(at: string): JobOp {
  return { op: "retryByUser", at };
}
