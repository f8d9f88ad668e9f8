import { type JobDocument, KILLED_BY_USER } from "./document.ts";
import type { Mutation } from "./document-writer.ts";
import type { JobOp } from "./job-ops.ts";

/**
 * Every change to a job document, named. Log entries carry their timestamp from creation so
 * re-applying a mutation after a CAS conflict records the same entry.
 */

const clamp01 = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);

/** A mutation job code may make, carrying its op so it can be sent from a child process. */
function withOp(op: JobOp, apply: (doc: JobDocument) => void): Mutation {
  return Object.assign(apply, { op });
}

export function addEvent(msg: string, at: string): Mutation {
  const entry = { timeStamp: at, msg };
  return withOp({ op: "addEvent", msg, at }, (d) => {
    d.events.push(entry);
  });
}

export function addWarning(msg: string, at: string): Mutation {
  const entry = { timeStamp: at, msg };
  return withOp({ op: "addWarning", msg, at }, (d) => {
    d.warnings.push(entry);
  });
}

/** Records an error; errors count towards `maxErrors`. */
export function addError(errorCode: number, msg: string, at: string): Mutation {
  const entry = { timeStamp: at, msg, errorCode };
  return withOp({ op: "addError", errorCode, msg, at }, (d) => {
    d.errors.push(entry);
    d.errorCount += 1;
  });
}

export function setCompleteness(x: number): Mutation {
  const v = clamp01(x);
  return withOp({ op: "setCompleteness", x: v }, (d) => {
    d.completeness = v;
  });
}

export function addToCompleteness(delta: number, ticks = 0): Mutation {
  return withOp({ op: "addToCompleteness", delta, ticks }, (d) => {
    d.completeness = clamp01(d.completeness + delta);
    d.tickcount += ticks;
  });
}

export function setTickValue(v: number): Mutation {
  return withOp({ op: "setTickValue", v }, (d) => {
    d.tickval = v;
  });
}

export function setData(data: unknown): Mutation {
  return withOp({ op: "setData", data }, (d) => {
    d.data = data;
  });
}

/**
 * What a new run sets besides `attempt`; a backend that claims in its reserve statement
 * (Backend.reserveJob) writes exactly these, so the two ways of starting a run cannot drift.
 */
export function startRunFields(workerId: string, at: string) {
  return { running: true, state: "running", workerId, startedAt: at } as const satisfies Partial<JobDocument>;
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
export function startRun(attempt: number, workerId: string, at: string): Mutation {
  const fields = startRunFields(workerId, at);
  return (d) => {
    Object.assign(d, fields);
    d.attempt = attempt;
  };
}

/** The job is done for good with `resultCode`. */
export function finish(resultCode: number, at: string): Mutation {
  return (d) => {
    d.running = false;
    d.state = "finished";
    d.resultCode = resultCode;
    d.completenessAtEnd = d.completeness;
    d.completeness = 1;
    d.finishedAt = at;
  };
}

/** The job goes back to its queue to run again after `delaySeconds`, counted from `at`. */
export function requeue(delaySeconds: number, at: string): Mutation {
  const due = delaySeconds > 0 ? new Date(Date.parse(at) + delaySeconds * 1000).toISOString() : null;
  return (d) => {
    d.running = false;
    d.state = due ? "delayed" : "queued";
    d.nextAttemptAt = due;
  };
}

/** A user asks to kill the job; a running one is stopped by its worker, which then records `killedByUser`. */
export function requestKill(): Mutation {
  return (d) => {
    d.killRequested = true;
  };
}

/** Row 8 of the outcome table (docs/job-states.md): error 410 "Killed by user", finished with result 410. */
export function killedByUser(at: string): Mutation {
  const error = addError(KILLED_BY_USER, "Killed by user", at);
  const done = finish(KILLED_BY_USER, at);
  return (d) => {
    error(d);
    done(d);
  };
}
