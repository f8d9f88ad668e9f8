import type { JobDocument } from "../job/document.ts";
import type { Cas } from "../job/document-store.ts";
import type { FinishedStatus, JobStatus } from "../job/job-status.ts";

/** Opaque version token of a stored document (a counter, or Couchbase's CAS); defined beside the `DocumentStore` port. */
export type { Cas };

export interface Versioned<T> {
  value: T;
  cas: Cas;
}

/**
 * A position in a listing: jobs sort newest first by `createdAt`, then by `uuid` (descending) among
 * jobs created in the same millisecond, so every job has one place and paging neither repeats nor
 * skips one.
 */
export interface ListCursor {
  createdAt: string;
  uuid: string;
}

export interface ListJobsQuery {
  jobType?: string;
  /** The job's status (src/job/job-status.ts): its stored state, `finished` split into finished / failed / killed. */
  state?: JobStatus;
  /** Only jobs after this one in listing order (strictly older, or as old with a smaller uuid). */
  before?: ListCursor;
  /** @defaultValue 50 */
  limit?: number;
}

/**
 * One batch of retention (src/backends/sweeper.ts): finished documents of one job type and status
 * that have had their time. A document goes when its `finishedAt` is before `finishedBefore`, or
 * when it is not among the `keepNewest` newest of its type and status (by `finishedAt`, then
 * `uuid`); with neither set, nothing goes. A finished document without a `finishedAt` never goes.
 */
export interface DeleteFinishedQuery {
  jobType: string;
  status: FinishedStatus;
  /** An ISO-8601 time, as documents store `finishedAt`. */
  finishedBefore?: string;
  /** A whole number of at least 1. */
  keepNewest?: number;
  /** Most documents one call deletes. */
  limit: number;
}

/**
 * Records that an idempotency key stands for a job: `claimIdempotencyKey` stores `key → uuid`
 * unless a live record of `key` exists. Records live until `expiresAtMs` (`nowMs` is the caller's
 * clock; Redis and Couchbase expire them by the server's clock after `expiresAtMs - nowMs`).
 */
export interface IdempotencyClaim {
  key: string;
  uuid: string;
  nowMs: number;
  expiresAtMs: number;
}

export interface DatastoreCapabilities {
  /** Several processes may share this datastore (false for the in-memory one). */
  readonly multiProcess: boolean;
}

/**
 * Stores job documents with optimistic concurrency; owns its connections.
 * Must pass test/contract/datastore.suite.ts against the real service.
 */
export interface Datastore {
  readonly kind: string;
  readonly capabilities: DatastoreCapabilities;
  /** Inserts a new document; AlreadyExistsError if the uuid is taken. */
  create(doc: JobDocument): Promise<Cas>;
  /** The document and its version, or null when there is none. */
  read(uuid: string): Promise<Versioned<JobDocument> | null>;
  /** Writes over the document if its version is still `cas`; CasMismatchError otherwise, JobNotFoundError if gone. */
  replace(doc: JobDocument, cas: Cas): Promise<Cas>;
  /** Writes the document whatever its version, creating it when missing. */
  upsert(doc: JobDocument): Promise<Cas>;
  /** Removes the document; false when there was none. */
  delete(uuid: string): Promise<boolean>;
  /** Jobs newest first (createdAt, then uuid, descending), filtered by type and/or status, from an index. */
  list(query: ListJobsQuery): Promise<JobDocument[]>;
  /**
   * Deletes up to `query.limit` of the documents `query` names, from an index (a batch costs the
   * same however many documents the store holds), with their listing-index entries and the
   * idempotency records that name them where the store can find those by uuid (the others expire
   * with their window); resolves with how many it deleted. The delete itself checks the stored
   * state: a document that is no longer finished with that status (set back to queued meanwhile)
   * is never deleted. Which of the named documents a batch takes is the store's choice.
   */
  deleteFinished(query: DeleteFinishedQuery): Promise<number>;
  /**
   * Atomically records `claim.key → claim.uuid` unless a live record of the key exists; resolves with
   * the uuid the key stands for now: `claim.uuid` when this call recorded it, the other one on a repeat.
   * Atomic across processes: of concurrent claims of one key, exactly one records its uuid.
   */
  claimIdempotencyKey(claim: IdempotencyClaim): Promise<string>;
  /** Removes the record of `key` if it still stands for `uuid` (a job whose create failed). */
  releaseIdempotencyKey(key: string, uuid: string): Promise<void>;
  close(): Promise<void>;
}
