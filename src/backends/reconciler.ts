import { randomUUID } from "node:crypto";
import type { Datastore, ListCursor } from "../contracts/datastore.ts";
import type { Queue, QueueInstance } from "../contracts/queue.ts";
import type { Clock } from "../internal/clock.ts";
import type { JobDocument } from "../job/document.ts";
import { claimIntervalLease, slotOf } from "./interval-lease.ts";
import { entryHoldsJob, isEntryId, type Requeuer } from "./requeuer.ts";

export const RECONCILER_DEFAULTS = {
  /**
   * One pass per interval across every process on the datastore (the one that claims the
   * interval's lease runs it). A queue server that came back empty is noticed at the first
   * interval after it answers again: 10 s keeps the documented bound (30 s from the loss to the
   * job's new entry) with room for one missed interval, at one lease write per process per interval.
   */
  intervalMs: 10_000,
  /** Waiting documents read per list query, whose entries are then looked up together (pipelined). */
  pageSize: 500,
  /**
   * A job marked not enqueued ("-1") that was written less than this ago may still be on its way
   * to the queue, put by the process that created it: it is left alone until it is older. Also how
   * long a queue server must have been up for a pass to vouch for it (see `pass`).
   */
  inFlightGraceMs: 10_000,
  /**
   * While the queue server is the same run (same `Queue.instance` id), passes skip the lookups,
   * except once per this interval, which catches entries lost another way (deleted by hand) and
   * jobs left unenqueued by a process that died.
   */
  fullPassEveryMs: 300_000,
} as const;

type ReconcilerTimings = Record<keyof typeof RECONCILER_DEFAULTS, number>;

export type ReconcilerOptions = Partial<ReconcilerTimings> & {
  /** After each pass this process ran. */
  onPass?: (report: PassReport) => void;
  /** A pass that failed (a side was down): the next interval tries again. */
  onError?: (err: unknown) => void;
};

/** What one pass found. */
export interface PassReport {
  /**
   * `full`: every waiting job was read and its entry looked up. `unchanged`: the queue server is
   * the run a recent full pass of this process checked, so nothing was read.
   */
  kind: "full" | "unchanged";
  /** Waiting (queued or delayed) documents read. */
  listed: number;
  /** Entries looked up. */
  checked: number;
  /** Jobs whose entry was gone, or held another job, handed to the requeuer to be put back. */
  lost: string[];
  /** Jobs never enqueued ("-1"), or whose re-enqueue a dead process left half done, handed to the requeuer. */
  unenqueued: string[];
  /** How long the pass took, in ms of the clock. */
  durationMs: number;
}

/** What one interval's turn came to in this process. */
export type SlotOutcome =
  | ({ ran: true } & PassReport)
  /** Another process holds this interval's lease (or this one already ran it, or is still running one). */
  | { ran: false };

/** The lease of one interval: an idempotency record, so that one process of the fleet wins it. */
const LEASE_PREFIX = "zerog-reconcile@";

/**
 * Finds jobs that wait in the datastore but whose queue entry is gone, and has the Requeuer put
 * them back. For a datastore and a queue in two stores, where one can lose what the other keeps:
 * a Beanstalkd without a binlog restarts empty, while the documents still say `queued` or `delayed`.
 *
 * - **Once across servers.** Each interval has a lease, claimed through the datastore's atomic
 *   idempotency record (`claimIdempotencyKey`, key `zerog-reconcile@<interval start>`): every
 *   process tries, one wins and runs the pass. A winner that dies costs one interval.
 * - **Cheap when nothing is lost.** A queue that reports its server's run (`Queue.instance`)
 *   lets a pass stop at that one call while the server has not restarted since this process's
 *   last full pass (and that pass is younger than `fullPassEveryMs`).
 * - **Bounded batches.** A full pass reads `pageSize` documents at a time, state by state, and
 *   looks up that page's entries together.
 * - **Never twice.** A job is put back through `Requeuer.recover`, which reads the document,
 *   looks the entry up again, and claims the job by CAS against that read: two passes racing, or
 *   an entry that is there after all, put nothing more.
 */
export class Reconciler {
  readonly #datastore: Datastore;
  readonly #queue: Queue;
  readonly #requeuer: Requeuer;
  readonly #clock: Clock;
  readonly #opts: ReconcilerTimings;
  readonly #onPass: (report: PassReport) => void;
  readonly #onError: (err: unknown) => void;
  /** This process's name in lease records. */
  readonly #holder = randomUUID();
  /**
   * The queue server run that this process's last full pass checked throughout (null: the queue
   * cannot say which run answers), and when that pass started.
   */
  #vouched: { id: string | null; atMs: number } | null = null;
  #lastSlotMs = Number.NEGATIVE_INFINITY;
  #running: Promise<unknown> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(datastore: Datastore, queue: Queue, requeuer: Requeuer, clock: Clock, opts: ReconcilerOptions = {}) {
    this.#datastore = datastore;
    this.#queue = queue;
    this.#requeuer = requeuer;
    this.#clock = clock;
    const { onPass, onError, ...rest } = opts;
    this.#opts = { ...RECONCILER_DEFAULTS, ...rest };
    this.#onPass = onPass ?? (() => undefined);
    this.#onError = onError ?? (() => undefined);
  }

  /** Takes a turn at the start of every interval until `stop`. */
  start(): void {
    if (this.#stopped || this.#timer) return;
    this.#arm();
  }

  /** Stops taking turns, and waits for a pass under way to end (it stops at its next page). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /**
   * This process's turn for the interval that holds `nowMs`: claims the interval's lease, and
   * runs a pass when it won. Resolves `{ ran: false }` when another process holds the lease,
   * or this one already took this interval or is still running a pass.
   */
  async takeTurn(nowMs = this.#clock.now()): Promise<SlotOutcome> {
    const slotMs = slotOf(nowMs, this.#opts.intervalMs);
    if (this.#running || slotMs <= this.#lastSlotMs) return { ran: false };
    this.#lastSlotMs = slotMs;
    const turn = this.#turn(slotMs, nowMs);
    this.#running = turn;
    try {
      return await turn;
    } finally {
      this.#running = undefined;
    }
  }

  /**
   * One pass now, lease or not. Unless the queue server is a run this process vouched for, reads
   * every queued and delayed job, looks up the entries named by their `queueJobId`, and hands to
   * the requeuer each job whose entry is gone (or holds another job: ids start again after a
   * restart), and each job left unenqueued. The pass vouches for the server's run when the run
   * was the same at its start and end and had been up for `inFlightGraceMs` when it started: a
   * put the previous run answered has then had that long to be recorded in its document. A
   * queue without `instance` cannot say whether it restarted: its full passes come once per
   * `fullPassEveryMs`, which spares stores that rarely lose entries a lookup per job per interval.
   */
  async pass(): Promise<PassReport> {
    const startedMs = this.#clock.now();
    const before = await this.#instance();
    const vouched = this.#vouched;
    if (vouched && vouched.id === (before?.id ?? null) && startedMs - vouched.atMs < this.#opts.fullPassEveryMs) {
      const durationMs = this.#clock.now() - startedMs;
      return { kind: "unchanged", listed: 0, checked: 0, lost: [], unenqueued: [], durationMs };
    }
    const report: PassReport = { kind: "full", listed: 0, checked: 0, lost: [], unenqueued: [], durationMs: 0 };
    for (const state of ["queued", "delayed"] as const) await this.#scanState(state, report);
    const after = await this.#instance();
    if (before === null) this.#vouched = { id: null, atMs: startedMs };
    else {
      const steady = after?.id === before.id && before.uptimeSeconds * 1000 >= this.#opts.inFlightGraceMs;
      this.#vouched = steady ? { id: before.id, atMs: startedMs } : null;
    }
    report.durationMs = this.#clock.now() - startedMs;
    return report;
  }

  async #turn(slotMs: number, nowMs: number): Promise<SlotOutcome> {
    const lease = { prefix: LEASE_PREFIX, holder: this.#holder, intervalMs: this.#opts.intervalMs, slotMs, nowMs };
    if (!(await claimIntervalLease(this.#datastore, lease))) return { ran: false };
    return { ran: true, ...(await this.pass()) };
  }

  async #scanState(state: "queued" | "delayed", report: PassReport): Promise<void> {
    const { pageSize, inFlightGraceMs } = this.#opts;
    let before: ListCursor | undefined;
    for (;;) {
      if (this.#stopped) return;
      const page = await this.#datastore.list({ state, limit: pageSize, ...(before === undefined ? {} : { before }) });
      report.listed += page.length;
      const withEntry: (JobDocument & { queueJobId: string })[] = [];
      for (const doc of page) {
        if (doc.state !== state) continue;
        if (this.#requeuer.isUnenqueued(doc, inFlightGraceMs)) {
          this.#requeuer.track(doc.uuid);
          report.unenqueued.push(doc.uuid);
        } else if (isEntryId(doc.queueJobId)) withEntry.push({ ...doc, queueJobId: doc.queueJobId });
      }
      const held = await Promise.all(withEntry.map((doc) => entryHoldsJob(this.#queue, doc.queueJobId, doc)));
      report.checked += withEntry.length;
      withEntry.forEach((doc, i) => {
        if (held[i]) return;
        this.#requeuer.recover(doc.uuid, doc.queueJobId);
        report.lost.push(doc.uuid);
      });
      const last = page.at(-1);
      if (!last || page.length < pageSize) return;
      before = { createdAt: last.createdAt, uuid: last.uuid };
    }
  }

  #instance(): Promise<QueueInstance | null> {
    return this.#queue.instance ? this.#queue.instance() : Promise.resolve(null);
  }

  /** Wakes at the start of the next interval (by the clock), takes a turn, and arms again. */
  #arm(): void {
    const interval = this.#opts.intervalMs;
    const waitMs = interval - (this.#clock.now() % interval);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#stopped) return;
      this.takeTurn()
        .then((outcome) => {
          if (outcome.ran) this.#onPass(outcome);
        })
        .catch((err: unknown) => this.#onError(err))
        .finally(() => {
          if (!this.#stopped) this.#arm();
        });
    }, waitMs);
    this.#timer.unref();
  }
}
