import type { Cas, Datastore } from "../datastore/contract.ts";
import type { JobDocument } from "../job/document.ts";
import type { PutOptions, Queue, QueueEntryId, Reserved } from "../queue/contract.ts";

/** What becomes of a job's queue entry once its document records the outcome. */
export type EntrySettlement = { kind: "delete" } | { kind: "release"; delaySeconds: number };

/** A datastore and a queue used together, plus what needs both at once. */
export interface Backend {
  readonly datastore: Datastore;
  readonly queue: Queue;
  /**
   * Stores a new job's document and puts its uuid on `doc.queueName`; one transaction where
   * datastore and queue share a store. Resolves with the queue entry's id (also stored as `queueJobId`).
   */
  createJob(doc: JobDocument, put: PutOptions): Promise<QueueEntryId>;
  /**
   * Writes a run's outcome (`replace` with `cas`) and then deletes or releases its entry; one
   * transaction where datastore and queue share a store. A CAS mismatch fails the whole call.
   * An entry that is no longer ours is left alone: its new holder reads the recorded outcome.
   */
  settle(doc: JobDocument, cas: Cas, entry: Reserved, settlement: EntrySettlement): Promise<Cas>;
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
