import { type JobDocument, type JobState, KILLED_BY_USER } from "./document.ts";

/**
 * Where a job stands as the API lists it (`GET /jobs?state=`): the stored {@link JobState}, with
 * `finished` split by result. The six values partition jobs: each job has exactly one.
 * - `finished` — finished with a success code, 200–299;
 * - `killed`   — finished with 410 (a user cancelled or killed it);
 * - `failed`   — finished with any other code (500 after too many errors, a job's own 4xx, …).
 * The same rule is written in each datastore's index (src/backends/sqlite/schema.sql,
 * src/backends/postgres/migrations/003-listing.sql, src/backends/couchbase/indexes.n1ql; Redis and memory
 * call this function), so a listing by status reads one index range.
 */
export type JobStatus = JobState | "failed" | "killed";

export const JOB_STATUSES: readonly JobStatus[] = ["queued", "delayed", "running", "finished", "failed", "killed"];

/** The statuses of a finished job: what retention removes (src/job/retention-policy.ts). */
export type FinishedStatus = Extract<JobStatus, "finished" | "failed" | "killed">;

export const FINISHED_STATUSES: readonly FinishedStatus[] = ["finished", "failed", "killed"];

/** Lowest and highest result codes that count as success. */
export const SUCCESS_MIN = 200;
export const SUCCESS_MAX = 299;

export function isJobStatus(s: string): s is JobStatus {
  return (JOB_STATUSES as readonly string[]).includes(s);
}

/** The status of a stored state and result code (see {@link JobStatus}). */
export function statusOf(doc: Pick<JobDocument, "state" | "resultCode">): JobStatus {
  if (doc.state !== "finished") return doc.state;
  if (doc.resultCode === KILLED_BY_USER) return "killed";
  return doc.resultCode >= SUCCESS_MIN && doc.resultCode <= SUCCESS_MAX ? "finished" : "failed";
}
