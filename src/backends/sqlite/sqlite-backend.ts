import { type Backend, type EntrySettlement, queueBodyOf } from "../../contracts/backend.ts";
import type { Cas } from "../../contracts/datastore.ts";
import type { PutOptions, QueueEntryId, Reserved } from "../../contracts/queue.ts";
import type { JobDocument } from "../../job/document.ts";
import type { SqliteStore } from "./sqlite-store.ts";

/** Datastore, queue and fleet in one SQLite file: a job's document and queue entry are created in one transaction. */
export class SqliteBackend implements Backend {
  readonly store: SqliteStore;

  constructor(store: SqliteStore) {
    this.store = store;
  }

  get datastore() {
    return this.store.datastore;
  }
  get queue() {
    return this.store.queue;
  }
  get fleet() {
    return this.store.fleet;
  }

  /** Both rows in one savepoint of one group-commit transaction: never a document without its entry, nor the reverse. */
  async createJob(doc: JobDocument, put: PutOptions): Promise<QueueEntryId> {
    const { datastore, queue, connection } = this.store;
    const entryId = await connection.write(() => {
      const id = queue.insertSync(doc.queueName, queueBodyOf(doc.uuid), put);
      datastore.insertSync({ ...doc, queueJobId: id });
      return id;
    });
    if (!((put.delaySeconds ?? 0) > 0)) queue.notifyReady(doc.queueName);
    return entryId;
  }

  /** The document's CAS replace and the new entry in one savepoint: a stale cas rolls the entry back with it. */
  async requeueJob(doc: JobDocument, cas: Cas, put: PutOptions): Promise<QueueEntryId> {
    const { datastore, queue, connection } = this.store;
    const entryId = await connection.write(() => {
      const id = queue.insertSync(doc.queueName, queueBodyOf(doc.uuid), put);
      datastore.replaceSync({ ...doc, queueJobId: id }, cas);
      return id;
    });
    if (!((put.delaySeconds ?? 0) > 0)) queue.notifyReady(doc.queueName);
    return entryId;
  }

  /** The outcome and its entry's delete or release in one savepoint: no window where one is done and not the other. */
  async settle(doc: JobDocument, cas: Cas, entry: Reserved, settlement: EntrySettlement): Promise<Cas> {
    const { datastore, queue, connection } = this.store;
    const written = await connection.write(() => {
      const c = datastore.replaceSync(doc, cas);
      queue.settleSync(entry, settlement);
      return c;
    });
    queue.afterSettle(entry, settlement);
    return written;
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
