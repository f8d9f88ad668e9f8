import { type Backend, type EntrySettlement, queueBodyOf } from "../contracts/backend.ts";
import type { Cas, Datastore } from "../contracts/datastore.ts";
import type { FleetStore } from "../contracts/fleet.ts";
import type { PutOptions, Queue, QueueEntryId, Reserved } from "../contracts/queue.ts";
import { CasMismatchError, isZeroGError, JobNotFoundError } from "../errors.ts";
import { type Clock, systemClock } from "../internal/clock.ts";
import type { JobDocument } from "../job/document.ts";
import { Reconciler, type ReconcilerOptions } from "./reconciler.ts";
import { NOT_ENQUEUED, Requeuer, type RequeuerOptions, recordEntryId } from "./requeuer.ts";

export interface SeparateBackendOptions {
  /**
   * The fleet, from the datastore's side (the queue may be one that stores nothing else, such as
   * Beanstalkd). Required: a default in-memory one would silently split a multi-process fleet.
   */
  fleet: FleetStore;
  /** Replaces closing the two halves, for halves borrowed from backends that own more. */
  close?: () => Promise<void>;
  clock?: Clock;
  requeuer?: RequeuerOptions;
  /** The periodic search for jobs whose queue entry was lost; it runs once `startReconciler` is called. */
  reconciler?: ReconcilerOptions;
}

/**
 * A datastore and a queue that share nothing: the document is written first (marked not yet
 * enqueued, `queueJobId` "-1"), then the uuid is enqueued, then the entry id is recorded. If the
 * queue is down, the job is still accepted: it waits in the datastore and a Requeuer puts it on
 * the queue once the queue answers again; a job left marked by a process that died before its
 * enqueue is found by `recover`. Any other enqueue failure removes the document again, so a
 * refused create leaves nothing behind. Entries the queue loses on its own (a Beanstalkd restart
 * without a binlog) are found by the `reconciler`, once `startReconciler` was called.
 */
export class SeparateBackend implements Backend {
  readonly datastore: Datastore;
  readonly queue: Queue;
  readonly fleet: FleetStore;
  readonly requeuer: Requeuer;
  readonly reconciler: Reconciler;
  readonly #close: () => Promise<void>;
  #closed = false;

  /** `close` replaces closing the two halves, for halves borrowed from backends that own more. */
  constructor(datastore: Datastore, queue: Queue, opts: SeparateBackendOptions) {
    this.datastore = datastore;
    this.queue = queue;
    this.fleet = opts.fleet;
    const clock = opts.clock ?? systemClock;
    this.requeuer = new Requeuer(datastore, queue, clock, opts.requeuer);
    this.reconciler = new Reconciler(datastore, queue, this.requeuer, clock, opts.reconciler);
    const close =
      opts.close ??
      (async () => {
        await Promise.allSettled([datastore.close(), queue.close()]);
      });
    this.#close = async () => {
      this.#closed = true;
      await this.reconciler.stop();
      await this.requeuer.close();
      await close();
    };
  }

  async createJob(doc: JobDocument, put: PutOptions): Promise<QueueEntryId> {
    const marked = { ...doc, queueJobId: NOT_ENQUEUED };
    const created = await this.datastore.create(marked);
    let entryId: string;
    try {
      entryId = await this.queue.put(doc.queueName, queueBodyOf(doc.uuid), put);
    } catch (err) {
      if (isZeroGError(err, "ZEROG_BACKEND_DOWN")) {
        // Accepted all the same: the document is stored, and it is enqueued once the queue is back.
        this.requeuer.track(doc.uuid);
        return NOT_ENQUEUED;
      }
      await this.datastore.delete(doc.uuid).catch(() => undefined);
      throw err;
    }
    await recordEntryId(this.datastore, doc.uuid, NOT_ENQUEUED, entryId, { value: marked, cas: created });
    return entryId;
  }

  /**
   * `createJob`'s order over an existing document: replaced first (CAS, marked not enqueued), then
   * put, then the entry's id recorded. A queue that is down leaves the job to the requeuer, and a
   * crash between the replace and the put to the next scan (`recover`, the reconciler), as for a
   * create. Any other put failure writes the document back as it was, so a refused requeue leaves
   * the job as it found it; that is why the document is read first.
   */
  async requeueJob(doc: JobDocument, cas: Cas, put: PutOptions): Promise<QueueEntryId> {
    const before = await this.datastore.read(doc.uuid);
    if (!before) throw new JobNotFoundError(doc.uuid);
    if (before.cas !== cas) throw new CasMismatchError(doc.uuid);
    const marked = { ...doc, queueJobId: NOT_ENQUEUED };
    const written = await this.datastore.replace(marked, cas);
    let entryId: string;
    try {
      entryId = await this.queue.put(doc.queueName, queueBodyOf(doc.uuid), put);
    } catch (err) {
      if (isZeroGError(err, "ZEROG_BACKEND_DOWN")) {
        this.requeuer.track(doc.uuid);
        return NOT_ENQUEUED;
      }
      await this.datastore.replace(before.value, written).catch(() => undefined);
      throw err;
    }
    await recordEntryId(this.datastore, doc.uuid, NOT_ENQUEUED, entryId, { value: marked, cas: written });
    return entryId;
  }

  /**
   * Finds jobs a process left stored but not enqueued (it died between the two) and enqueues
   * them, retrying while a side is down; runs in the background from openBackend.
   */
  async recover(): Promise<number> {
    return this.requeuer.scan();
  }

  /** `recover` in the background: retried every few seconds while it fails, until it has run once or the backend closes. */
  recoverInBackground(retryMs = 5000): void {
    const attempt = (): void => {
      if (this.#closed) return;
      this.recover().catch(() => {
        if (this.#closed) return;
        setTimeout(attempt, retryMs).unref();
      });
    };
    attempt();
  }

  /**
   * Looks, once per interval across every process on the datastore, for waiting jobs whose
   * entry the queue lost, and puts them back (see Reconciler). openBackend starts it.
   */
  startReconciler(): void {
    if (!this.#closed) this.reconciler.start();
  }

  /**
   * Document first, then the entry: a crash in between redelivers a finished job, which is then
   * just dropped. A release that fails because the entry is no longer ours, or because the queue
   * is down, may have left a requeued job with no entry at all (the queue restarted empty): the
   * requeuer looks the entry up once the queue answers and puts the job back if it is gone.
   */
  async settle(doc: JobDocument, cas: Cas, entry: Reserved, settlement: EntrySettlement): Promise<Cas> {
    const written = await this.datastore.replace(doc, cas);
    try {
      if (settlement.kind === "delete") await entry.delete();
      else await entry.release({ delaySeconds: settlement.delaySeconds });
    } catch (err) {
      const lost = isZeroGError(err, "ZEROG_ENTRY_LOST");
      if (settlement.kind === "release" && (lost || isZeroGError(err, "ZEROG_BACKEND_DOWN"))) {
        this.requeuer.recover(doc.uuid, entry.id);
      }
      if (!lost) throw err;
    }
    return written;
  }

  close(): Promise<void> {
    return this.#close();
  }
}
