import { uuidv7 } from "../internal/uuid7.ts";
import { type JobDocument, NO_RESULT, type QueueKwargs, SCHEMA_VERSION } from "./document.ts";

export interface NewJobInput {
  jobType: string;
  params: Record<string, unknown>;
  queueName: string;
  queueKwargs: QueueKwargs;
  /** Milliseconds since the epoch. */
  nowMs: number;
  uuid?: string;
  /** @defaultValue 0 */
  delaySeconds?: number;
}

/** The document of a job that has just been accepted and not yet enqueued. */
export function newJobDocument(input: NewJobInput): JobDocument {
  const uuid = input.uuid ?? uuidv7(input.nowMs);
  const now = new Date(input.nowMs).toISOString();
  const delayMs = (input.delaySeconds ?? 0) * 1000;
  const doc: JobDocument = {
    uuid,
    jobType: input.jobType,
    schemaVersion: SCHEMA_VERSION,
    // The random tail: a v7 uuid starts with the time, which many jobs share.
    logId: uuid.slice(-8),
    createdAt: now,
    updatedAt: now,
    params: input.params,
    queueName: input.queueName,
    queueKwargs: input.queueKwargs,
    queueJobId: null,
    events: [],
    warnings: [],
    errors: [],
    running: false,
    errorCount: 0,
    completeness: 0,
    tickcount: 0,
    tickval: 0,
    resultCode: NO_RESULT,
    data: {},
    state: delayMs > 0 ? "delayed" : "queued",
    attempt: 0,
    killRequested: false,
    workerId: null,
    startedAt: null,
    finishedAt: null,
  };
  if (delayMs > 0) doc.nextAttemptAt = new Date(input.nowMs + delayMs).toISOString();
  return doc;
}
