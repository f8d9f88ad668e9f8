import type { JobDocument } from "../job/document.ts";
import type { Cas, Datastore, Versioned } from "./datastore.ts";
import type { FleetStore } from "./fleet.ts";
import type { PutOptions, Queue, QueueEntryId, Reserved, ReserveOptions } from "./queue.ts";

/** What becomes of a job's queue entry once its document records the outcome. */
export type EntrySettlement = { kind: "delete" } | { kind: "release"; delaySeconds: number };

/** A reserved entry and, when the backend read it in the same round trip, its job's document. */
export interface ReservedJob {
  entry: Reserved;
  /** The document of the job the entry's body names; absent when not read with the reserve (the worker reads it). */
  document?: Versioned<JobDocument>;
  /**
   * Set when the backend also started the run in the same transaction: `document` is already
   * written with `startRun(attempt + 1, claim.workerId, now)` applied (its cas is the new
   * version). Backends do it only for a job that is queued or delayed, not running and not
   * killed; every other case is left to the worker's outcome table. `undo` holds the changed
   * fields as they were, for a worker that then finds it cannot load the job (its params no
   * longer match the schema) and must leave the document as if never claimed.
   */
  claimed?: { undo: Partial<JobDocument> };
}

/** Asks `reserveJob` to start the run too, for this worker, of a job of one of these types. */
export interface ClaimRequest {
  workerId: string;
  jobTypes: readonly string[];
}

/** A datastore and a queue used together, plus what needs both at once, and the fleet. */
export interface Backend {
  readonly datastore: Datastore;
  readonly queue: Queue;
  /**
   * Worker records and control inboxes, kept by the datastore's store, so every process that
   * shares the datastore shares the fleet. Closed with the backend.
   */
  readonly fleet: FleetStore;
  /**
   * Stores a new job's document and puts its uuid on `doc.queueName`; one transaction where
   * datastore and queue share a store. Resolves with the queue entry's id (also stored as `queueJobId`).
   */
  createJob(doc: JobDocument, put: PutOptions): Promise<QueueEntryId>;
  /**
   * Replaces an existing job's document (`replace` with `cas`) and puts its uuid on
   * `doc.queueName` again, recording the new entry's id as `queueJobId`: a finished job that runs
   * once more (a user's retry). One transaction where datastore and queue share a store. A stale
   * `cas` is CasMismatchError (a missing job JobNotFoundError), and nothing is put. Resolves with
   * the entry's id; "-1" when the queue is down and the entry follows once it is back (SeparateBackend).
   */
  requeueJob(doc: JobDocument, cas: Cas, put: PutOptions): Promise<QueueEntryId>;
  /**
   * Writes a run's outcome (`replace` with `cas`) and then deletes or releases its entry; one
   * transaction where datastore and queue share a store. A CAS mismatch fails the whole call.
   * An entry that is no longer ours is left alone: its new holder reads the recorded outcome.
   */
  settle(doc: JobDocument, cas: Cas, entry: Reserved, settlement: EntrySettlement): Promise<Cas>;
  /**
   * Optional fast path for workers: `queue.reserve`, plus the entry's job document read in the
   * same round trip where datastore and queue share a store. Same waiting rules as `reserve`.
   */
  reserveJob?(queues: readonly string[], opts: ReserveOptions, claim?: ClaimRequest): Promise<ReservedJob | null>;
  close(): Promise<void>;
}

/** The queue body for a job: its uuid as a JSON string. */
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
