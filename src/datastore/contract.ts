import type { JobDocument, JobState } from "../job/document.ts";

/** Opaque version token of a stored document (a counter, or Couchbase's CAS). */
export type Cas = string;

export interface Versioned<T> {
  value: T;
  cas: Cas;
}

export interface ListJobsQuery {
  jobType?: string;
  state?: JobState;
  /** Only jobs created strictly before this ISO time (paging, newest first). */
  createdBefore?: string;
  /** @defaultValue 50 */
  limit?: number;
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
  /** Jobs newest first, filtered by type and/or state. */
  list(query: ListJobsQuery): Promise<JobDocument[]>;
  close(): Promise<void>;
}
