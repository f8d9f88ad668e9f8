import { uuidOfQueueBody } from "../contracts/backend.ts";
import type { Cas, Datastore, Versioned } from "../contracts/datastore.ts";
import type { JobClass } from "../job/base-job.ts";
import type { JobDocument } from "../job/document.ts";
import type { JobRegistry } from "../job/registry.ts";

export type LoadedJob =
  /** `params`: the stored params as the class's schema parses them now, what the job gets. */
  | { kind: "loaded"; jobClass: JobClass; doc: JobDocument; cas: Cas; params: Record<string, unknown> }
  /**
   * `stored` is set when a readable document exists (unknown type, params that no longer validate);
   * `missing` (the uuid) when the entry names a job that has no document.
   */
  | { kind: "unloadable"; reason: string; stored?: { doc: JobDocument; cas: Cas }; missing?: string };

/**
 * The job a queue entry names, or why it cannot be run (row 1 of the outcome table in
 * docs/job-states.md): no document,
 * an unknown type, or a document that is corrupt. Backend failures are thrown, not reported
 * as unloadable: the entry is then left to its TTR rather than counted against the job.
 * `prefetched` is the document when the backend read it with the reserve (Backend.reserveJob).
 */
export async function loadJob(
  body: string,
  datastore: Datastore,
  registry: JobRegistry,
  prefetched?: Versioned<JobDocument>,
): Promise<LoadedJob> {
  const uuid = uuidOfQueueBody(body);
  if (uuid === null) return { kind: "unloadable", reason: "the queue entry's body is not a job uuid" };
  let read: Versioned<JobDocument> | null;
  try {
    read = prefetched?.value.uuid === uuid ? prefetched : await datastore.read(uuid);
  } catch (err) {
    if (err instanceof SyntaxError)
      return { kind: "unloadable", reason: `job ${uuid}: corrupt document (${err.message})` };
    throw err;
  }
  if (!read) return { kind: "unloadable", reason: `job ${uuid}: no document`, missing: uuid };
  const doc = read.value;
  if (!isDocumentShape(doc)) return { kind: "unloadable", reason: `job ${uuid}: corrupt document` };
  const jobClass = registry.get(doc.jobType);
  if (!jobClass) {
    return {
      kind: "unloadable",
      reason: `job ${uuid}: unknown job type '${doc.jobType}'`,
      stored: { doc, cas: read.cas },
    };
  }
  const params = jobClass.schema.safeParse(doc.params);
  if (!params.success) {
    const reason = `job ${uuid}: params no longer match the schema (${params.error.message})`;
    return { kind: "unloadable", reason, stored: { doc, cas: read.cas } };
  }
  return { kind: "loaded", jobClass, doc, cas: read.cas, params: params.data };
}

function isDocumentShape(doc: unknown): doc is JobDocument {
  const d = doc as Partial<JobDocument> | null;
  return (
    typeof d === "object" &&
    d !== null &&
    typeof d.uuid === "string" &&
    typeof d.jobType === "string" &&
    typeof d.attempt === "number" &&
    typeof d.running === "boolean" &&
    typeof d.errorCount === "number" &&
    Array.isArray(d.events) &&
    Array.isArray(d.errors) &&
    Array.isArray(d.warnings) &&
    typeof d.params === "object"
  );
}
