import type { Backend } from "../contracts/backend.ts";
import type { ListCursor } from "../contracts/datastore.ts";
import { isZeroGError, JobNotFoundError, JobNotRetryableError, ZeroGError } from "../errors.ts";
import type { Clock } from "../internal/clock.ts";
import type { JobDocument } from "../job/document.ts";
import { applyOp } from "../job/job-op.ts";
import { statusOf } from "../job/job-status.ts";
import { retryByUser } from "../job/transitions.ts";

/** The statuses a user may retry: a job that failed, or one a user killed. */
export type RetryableStatus = "failed" | "killed";

/** Which jobs `JobClient.retryMany` retries (POST /jobs/retry). */
export interface RetryManyQuery {
  /** Only jobs of this type. */
  jobType?: string;
  state: RetryableStatus;
  /** Only jobs created strictly before this time (ISO-8601). */
  createdBefore?: string;
  /** Most jobs to retry in this call. @defaultValue RETRY_MANY_LIMITS.maxJobs */
  limit?: number;
}

export const RETRY_MANY_LIMITS = {
  /** Jobs read per page of the listing index: one bounded read, and as many retries, at a time. */
  pageSize: 100,
  /** Most jobs one call retries: enough for an outage's failures, small enough to answer within a request's time. */
  maxJobs: 10_000,
  /** Retries in flight at once within a page: far faster than one by one, without crowding out the API's own writes. */
  concurrency: 16,
} as const;

/** Rounds of read-and-retry when the document changes between the read and the requeue. */
const RETRY_CAS_ROUNDS = 3;

/**
 * Runs a failed or killed job again (docs/job-states.md, "Retried by a user"): the `retryByUser`
 * op on its document and a new queue entry, through the backend's `requeueJob` (CAS, one
 * transaction where one store holds both). JobNotFoundError for an unknown uuid;
 * JobNotRetryableError for a job that is waiting, running or succeeded.
 */
export async function retryJob(backend: Backend, clock: Clock, uuid: string): Promise<void> {
  for (let round = 0; ; round++) {
    const read = await backend.datastore.read(uuid);
    if (!read) throw new JobNotFoundError(uuid);
    const status = statusOf(read.value);
    if (status !== "failed" && status !== "killed") throw new JobNotRetryableError(uuid, status);
    try {
      await requeue(backend, clock, read.value, read.cas);
      return;
    } catch (err) {
      // Written meanwhile (a straggling write, another user's retry): look again.
      if (!isZeroGError(err, "ZEROG_CAS_MISMATCH") || round + 1 >= RETRY_CAS_ROUNDS) throw err;
    }
  }
}

/**
 * Retries the jobs of one status (and type), newest first, walking the datastore's listing index
 * a page at a time; each job goes through the same CAS path as `retryJob`, and one that changed
 * since it was listed (retried, purged, written) is skipped. Resolves with how many were retried.
 * The walk follows listing positions, so a retried job that fails again (and re-enters the index
 * at its old place, behind the cursor) is not retried twice in one call.
 */
export async function retryJobs(backend: Backend, clock: Clock, query: RetryManyQuery): Promise<number> {
  const limit = checkedLimit(query.limit);
  let before: ListCursor | undefined =
    query.createdBefore === undefined ? undefined : cursorBefore(query.createdBefore);
  let retried = 0;
  while (retried < limit) {
    const page = await backend.datastore.list({
      state: query.state,
      limit: RETRY_MANY_LIMITS.pageSize,
      ...(query.jobType === undefined ? {} : { jobType: query.jobType }),
      ...(before === undefined ? {} : { before }),
    });
    const todo = page.slice(0, limit - retried);
    for (let i = 0; i < todo.length; i += RETRY_MANY_LIMITS.concurrency) {
      const batch = todo.slice(i, i + RETRY_MANY_LIMITS.concurrency);
      const done = await Promise.all(batch.map((listed) => retryListed(backend, clock, listed, query.state)));
      retried += done.filter(Boolean).length;
    }
    const last = page.at(-1);
    if (!last || page.length < RETRY_MANY_LIMITS.pageSize) break;
    before = { createdAt: last.createdAt, uuid: last.uuid };
  }
  return retried;
}

/** One listed job, read again for its cas: false (skipped) when it is gone or no longer has `state`. */
async function retryListed(backend: Backend, clock: Clock, listed: JobDocument, state: RetryableStatus) {
  const read = await backend.datastore.read(listed.uuid);
  if (!read || statusOf(read.value) !== state) return false;
  try {
    await requeue(backend, clock, read.value, read.cas);
    return true;
  } catch (err) {
    if (isZeroGError(err, "ZEROG_CAS_MISMATCH") || isZeroGError(err, "ZEROG_JOB_NOT_FOUND")) return false;
    throw err;
  }
}

/** The retry op on `doc` and a new entry with the job's own priority and TTR, ready at once. */
async function requeue(backend: Backend, clock: Clock, doc: JobDocument, cas: string): Promise<void> {
  const at = new Date(clock.now()).toISOString();
  applyOp(doc, retryByUser(at));
  doc.updatedAt = at;
  await backend.requeueJob(doc, cas, {
    priority: doc.queueKwargs.priority,
    ttrSeconds: doc.queueKwargs.ttrSeconds,
  });
}

function checkedLimit(limit: number | undefined): number {
  if (limit === undefined) return RETRY_MANY_LIMITS.maxJobs;
  if (!(Number.isInteger(limit) && limit >= 1 && limit <= RETRY_MANY_LIMITS.maxJobs))
    throw new ZeroGError(
      "ZEROG_BAD_REQUEST",
      `limit must be a whole number from 1 to ${RETRY_MANY_LIMITS.maxJobs}, got ${limit}`,
    );
  return limit;
}

/**
 * The listing position just after every job created at `createdBefore` or later: listings compare
 * (createdAt, uuid), and every uuid sorts after "", so this keeps exactly the older jobs.
 */
function cursorBefore(createdBefore: string): ListCursor {
  const ms = Date.parse(createdBefore);
  if (!Number.isFinite(ms)) throw new ZeroGError("ZEROG_BAD_REQUEST", `createdBefore '${createdBefore}' is not a time`);
  return { createdAt: new Date(ms).toISOString(), uuid: "" };
}
