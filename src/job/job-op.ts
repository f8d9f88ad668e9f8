import { type JobDocument, KILLED_BY_USER, NO_RESULT } from "./document.ts";

/**
 * Every change to a job document, as plain data: the one form a change takes. Job code's ops
 * can cross a process boundary (a job process sends them to its worker), and a writer that
 * loses a CAS race re-applies the same ops to the fresh document. Log entries carry their
 * timestamp from creation, so re-applying one records the same entry.
 */
export type JobOp = JobCodeOp | WorkerOp;

/** The changes job code makes (progress, logs, output): all a job process may send. */
export type JobCodeOp =
  | { op: "addEvent"; msg: string; at: string }
  | { op: "addWarning"; msg: string; at: string }
  | { op: "addError"; errorCode: number; msg: string; at: string }
  | { op: "setCompleteness"; x: number }
  | { op: "addToCompleteness"; delta: number; ticks: number }
  | { op: "setTickValue"; v: number }
  | { op: "setData"; data: unknown };

/** The changes only a worker or a client makes: a run's start and end, kills, and a user's retry. */
export type WorkerOp =
  | { op: "startRun"; attempt: number; workerId: string; at: string }
  | { op: "finish"; resultCode: number; at: string }
  | { op: "requeue"; nextAttemptAt: string | null }
  | { op: "requestKill" }
  | { op: "killedByUser"; at: string }
  | { op: "retryByUser"; at: string };

const clamp01 = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);

/**
 * What a new run sets besides `attempt`; a backend that claims in its reserve statement
 * (Backend.reserveJob) writes exactly these, so the two ways of starting a run cannot drift.
 */
export function startRunFields(workerId: string, at: string) {
  return { running: true, state: "running", workerId, startedAt: at } as const satisfies Partial<JobDocument>;
}

/** Applies `op` to `doc` in place. */
export function applyOp(doc: JobDocument, op: JobOp): void {
  switch (op.op) {
    case "addEvent":
      doc.events.push({ timeStamp: op.at, msg: op.msg });
      return;
    case "addWarning":
      doc.warnings.push({ timeStamp: op.at, msg: op.msg });
      return;
    case "addError":
      doc.errors.push({ timeStamp: op.at, msg: op.msg, errorCode: op.errorCode });
      doc.errorCount += 1;
      return;
    case "setCompleteness":
      doc.completeness = clamp01(op.x);
      return;
    case "addToCompleteness":
      doc.completeness = clamp01(doc.completeness + op.delta);
      doc.tickcount += op.ticks;
      return;
    case "setTickValue":
      doc.tickval = op.v;
      return;
    case "setData":
      doc.data = op.data;
      return;
    case "startRun":
      Object.assign(doc, startRunFields(op.workerId, op.at));
      doc.attempt = op.attempt;
      return;
    case "finish":
      finish(doc, op.resultCode, op.at);
      return;
    case "requeue":
      doc.running = false;
      doc.state = op.nextAttemptAt ? "delayed" : "queued";
      doc.nextAttemptAt = op.nextAttemptAt;
      return;
    case "requestKill":
      doc.killRequested = true;
      return;
    case "killedByUser":
      applyOp(doc, { op: "addError", errorCode: KILLED_BY_USER, msg: "Killed by user", at: op.at });
      finish(doc, KILLED_BY_USER, op.at);
      return;
    case "retryByUser":
      retryByUser(doc, op.at);
      return;
  }
}

/**
 * A failed or killed job waits to run again, its logs and data kept. `errorCount` starts over so
 * the default `continueRunning()` gives the new runs the class's `maxErrors` again; the attempt is
 * bumped so a writer still holding the finished attempt is fenced off.
 */
function retryByUser(doc: JobDocument, at: string): void {
  doc.events.push({ timeStamp: at, msg: "Retried by user" });
  doc.attempt += 1;
  doc.errorCount = 0;
  doc.state = "queued";
  doc.running = false;
  doc.resultCode = NO_RESULT;
  doc.killRequested = false;
  doc.finishedAt = null;
  doc.completeness = 0;
  doc.nextAttemptAt = null;
  delete doc.completenessAtEnd;
}

function finish(doc: JobDocument, resultCode: number, at: string): void {
  doc.running = false;
  doc.state = "finished";
  doc.resultCode = resultCode;
  doc.completenessAtEnd = doc.completeness;
  doc.completeness = 1;
  doc.finishedAt = at;
}

const isString = (v: unknown): v is string => typeof v === "string";
const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/**
 * True when `value` is an op job code may make, well formed. What a job process sends is
 * checked with it: a job cannot finish, restart or un-kill itself by writing to its IPC channel.
 */
export function isJobCodeOp(value: unknown): value is JobCodeOp {
  if (typeof value !== "object" || value === null) return false;
  const o = value as Record<string, unknown>;
  switch (o.op) {
    case "addEvent":
    case "addWarning":
      return isString(o.msg) && isString(o.at);
    case "addError":
      return isNumber(o.errorCode) && isString(o.msg) && isString(o.at);
    case "setCompleteness":
      return isNumber(o.x);
    case "addToCompleteness":
      return isNumber(o.delta) && isNumber(o.ticks);
    case "setTickValue":
      return isNumber(o.v);
    case "setData":
      return "data" in o;
    default:
      return false;
  }
}
