import type { Backend } from "../contracts/backend.ts";

/** A uuid no job has: reading it proves the datastore answers without touching any job. */
const PROBE_UUID = "00000000-0000-4000-8000-000000000000";

/** Asks the datastore something that changes nothing: a read of a document that never exists. */
export function probeDatastore(backend: Backend): Promise<unknown> {
  return backend.datastore.read(PROBE_UUID);
}

/** Asks the queue something that changes nothing: its stats for each of `queueNames` (a base queue and its job types' queues). */
export function probeQueue(backend: Backend, queueNames: readonly string[]): Promise<unknown> {
  return Promise.all(queueNames.map((q) => backend.queue.stats(q)));
}
