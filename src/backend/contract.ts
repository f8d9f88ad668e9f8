import type { Datastore } from "../datastore/contract.ts";
import type { JobDocument } from "../job/document.ts";
import type { PutOptions, Queue, QueueEntryId } from "../queue/contract.ts";

/** A datastore and a queue used together, plus what needs both at once. */
export interface Backend {
  readonly datastore: Datastore;
  readonly queue: Queue;
  /**
   * Stores a new job's document and puts its uuid on `doc.queueName`; one transaction where
   * datastore and queue share a store. Resolves with the queue entry's id (also stored as `queueJobId`).
   */
  createJob(doc: JobDocument, put: PutOptions): Promise<QueueEntryId>;
  close(): Promise<void>;
}

/** The queue body for a job: its uuid as JSON, as the seed wrote it. */
export function queueBodyOf(uuid: string): string {
  return JSON.stringify(uuid);
}

/** The uuid in a queue body, or null when the body is not one. */
export function uuidOfQueueBody(body: string): string | null {
  try {
    const v: unknown = JSON.parse(body);
    return typeof v === "string" ? v : null;
  } catch {
    return null;
  }
}
