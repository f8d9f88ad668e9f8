import type { Backend } from "../contracts/backend.ts";
import { JobNotFoundError, JobNotPurgeableError } from "../errors.ts";
import { entryHoldsJob, isEntryId } from "./requeuer.ts";

/**
 * Removes a finished job (any result) from the datastore: its document, and with it its listing
 * index entries (rows, index keys or index items that every datastore deletes with the document).
 * An idempotency key that named the job is not looked for (no datastore indexes keys by job):
 * until its window ends, a repeat of that POST still answers the purged uuid and creates nothing.
 *
 * Refused with JobNotPurgeableError (409) for a job that has not finished (cancel it first), and
 * for one whose queue entry is still on the queue (a job cancelled while it waited, whose entry no
 * worker has reserved and dropped yet): without its document that entry could not be loaded, and
 * would be retried and buried. JobNotFoundError (404) for an unknown uuid.
 */
export async function purgeJob(backend: Backend, uuid: string): Promise<void> {
  const read = await backend.datastore.read(uuid);
  if (!read) throw new JobNotFoundError(uuid);
  const doc = read.value;
  if (doc.state !== "finished") {
    // Not finished, so its state is its status (queued, delayed or running).
    throw new JobNotPurgeableError(uuid, `it is ${doc.state}; only a finished job can be purged (cancel it first)`);
  }
  if (isEntryId(doc.queueJobId) && (await entryHoldsJob(backend.queue, doc.queueJobId, doc))) {
    throw new JobNotPurgeableError(
      uuid,
      "its queue entry is still waiting; a worker drops it when it next reserves it (for a delayed job, once its delay has passed), then purge again",
    );
  }
  await backend.datastore.delete(uuid);
}
