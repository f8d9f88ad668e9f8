import type { JobDocument } from "./document.ts";

/** Opaque version token of a stored document (a counter, or Couchbase's CAS). */
export type Cas = string;

/**
 * What a `DocumentWriter` needs of the store: read a document with its version, and replace it
 * if the version still matches. Every `Datastore` (src/contracts/datastore.ts) is one; the port
 * lives here so that `job/` does not import the contracts above it.
 */
export interface DocumentStore {
  read(uuid: string): Promise<{ value: JobDocument; cas: Cas } | null>;
  replace(doc: JobDocument, cas: Cas): Promise<Cas>;
}
