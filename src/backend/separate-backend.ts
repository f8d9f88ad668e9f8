import type { Cas, Datastore } from "../datastore/contract.ts";
import { isZeroGError } from "../errors.ts";
import type { JobDocument } from "../job/document.ts";
import type { PutOptions, Queue, QueueEntryId, Reserved } from "../queue/contract.ts";
import { type Backend, type EntrySettlement, queueBodyOf } from "./contract.ts";

/**
 * A datastore and a queue that share nothing: the document is written first, then the uuid is
 * enqueued, then the entry id is recorded. If the enqueue fails the document is removed again,
 * so a refused create leaves nothing behind.
 */
export class SeparateBackend implements Backend {
  readonly datastore: Datastore;
  readonly queue: Queue;
  readonly #close: () => Promise<void>;

  /** `close` replaces closing the two halves, for halves borrowed from backends that own more. */
  constructor(datastore: Datastore, queue: Queue, close?: () => Promise<void>) {
    this.datastore = datastore;
    this.queue = queue;
    this.#close =
      close ??
      (async () => {
        await Promise.allSettled([datastore.close(), queue.close()]);
      });
  }

  async createJob(doc: JobDocument, put: PutOptions): Promise<QueueEntryId> {
    const created = await this.datastore.create(doc);
    let entryId: string;
    try {
      entryId = await this.queue.put(doc.queueName, queueBodyOf(doc.uuid), put);
    } catch (err) {
      await this.datastore.delete(doc.uuid).catch(() => undefined);
      throw err;
    }
    try {
      await this.datastore.replace({ ...doc, queueJobId: entryId }, created);
    } catch (err) {
      // A worker took the job first and wrote it; the entry id is only informative.
      if (!isZeroGError(err, "ZEROG_CAS_MISMATCH")) throw err;
    }
    return entryId;
  }

  /** Document first, then the entry: a crash in between redelivers a finished job, which is then just dropped. */
  async settle(doc: JobDocument, cas: Cas, entry: Reserved, settlement: EntrySettlement): Promise<Cas> {
    const written = await this.datastore.replace(doc, cas);
    try {
      if (settlement.kind === "delete") await entry.delete();
      else await entry.release({ delaySeconds: settlement.delaySeconds });
    } catch (err) {
      if (!isZeroGError(err, "ZEROG_ENTRY_LOST")) throw err;
    }
    return written;
  }

  close(): Promise<void> {
    return this.#close();
  }
}
