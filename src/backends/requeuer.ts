import { queueBodyOf, uuidOfQueueBody } from "../contracts/backend.ts";
import type { Datastore, ListCursor, Versioned } from "../contracts/datastore.ts";
import type { Queue } from "../contracts/queue.ts";
import { isZeroGError } from "../errors.ts";
import type { Clock } from "../internal/clock.ts";
import type { JobDocument } from "../job/document.ts";

/** `queueJobId` of a job whose enqueue failed: it waits in the datastore for the queue. */
export const NOT_ENQUEUED = "-1";
/** `queueJobId` while one process re-enqueues the job: `enqueuing@<ms>`; another may take over once it is stale. */
const ENQUEUING = "enqueuing@";

export const REQUEUER_DEFAULTS = {
  /** First retry after a failed enqueue; doubles up to maxRetryMs. */
  retryMs: 500,
  maxRetryMs: 10_000,
  /** A claim older than this was left by a process that died mid-enqueue. */
  staleClaimMs: 60_000,
  /** Documents read per page when scanning for leftovers. */
  pageSize: 200,
  /**
   * Jobs enqueued at the same time in one round: enough to put thousands of lost jobs back within
   * seconds, few enough not to crowd out the API's own writes.
   */
  concurrency: 32,
} as const;

type RequeuerTimings = Record<keyof typeof REQUEUER_DEFAULTS, number>;

export type RequeuerOptions = Partial<RequeuerTimings> & {
  /** A job that cannot be enqueued for a reason other than an outage (it stays in the datastore; a scan finds it again). */
  onError?: (err: unknown) => void;
};

/**
 * Puts jobs whose enqueue failed (the queue was down) on their queue once it is back, so an
 * accepted job is never lost: `track` retries this process's own, and `scan` finds those left by
 * a process that died before it could. `recover` puts back a job whose entry the queue lost (a
 * Beanstalkd restart without a binlog), once it has checked that the entry is still gone. Each
 * re-enqueue first claims the job by CAS on its document, so two processes never enqueue one job
 * twice.
 */
export class Requeuer {
  readonly #datastore: Datastore;
  readonly #queue: Queue;
  readonly #clock: Clock;
  readonly #opts: RequeuerTimings;
  readonly #onError: (err: unknown) => void;
  /** Jobs to enqueue: uuid → the id of the entry the queue lost, or null for a job never enqueued. */
  readonly #pending = new Map<string, string | null>();
  /** Puts that landed but whose entry id is not written yet (the datastore failed): only the record is retried. */
  readonly #unrecorded = new Map<string, { claim: string; entryId: string }>();
  #timer: NodeJS.Timeout | undefined;
  #waitMs: number;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(datastore: Datastore, queue: Queue, clock: Clock, opts: RequeuerOptions = {}) {
    this.#datastore = datastore;
    this.#queue = queue;
    this.#clock = clock;
    const { onError, ...rest } = opts;
    this.#opts = { ...REQUEUER_DEFAULTS, ...rest };
    this.#onError = onError ?? (() => undefined);
    this.#waitMs = this.#opts.retryMs;
  }

  /** Jobs waiting to be enqueued by this process. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Enqueues `uuid` as soon as the queue answers (retrying with back-off). */
  track(uuid: string): void {
    if (this.#closed) return;
    if (!this.#pending.has(uuid)) this.#pending.set(uuid, null);
    this.#schedule();
  }

  /**
   * Enqueues `uuid` again if the queue lost its entry `entryId`: after reading the document, the
   * entry is looked up once more, and the job is claimed (by CAS against that read) only if it
   * still waits with `queueJobId` `entryId` and the entry is gone or holds another job. So an
   * entry that reappeared, a job that a worker took meanwhile, or one that another process put
   * back first, is left alone.
   */
  recover(uuid: string, entryId: string): void {
    if (this.#closed) return;
    this.#pending.set(uuid, entryId);
    this.#schedule();
  }

  /**
   * Whether `doc` waits with no entry: not enqueued ("-1") and last written at least `minAgeMs`
   * ago (a younger one may still be on its way to the queue, put by the process that created
   * it), or claimed by a process that died mid-enqueue.
   */
  isUnenqueued(doc: JobDocument, minAgeMs = 0): boolean {
    if (!this.#needsEnqueue(doc)) return false;
    if (doc.queueJobId !== NOT_ENQUEUED || minAgeMs <= 0) return true;
    return this.#clock.now() - Date.parse(doc.updatedAt) >= minAgeMs;
  }

  /** Finds queued or delayed jobs left with no entry (or a stale claim) and tracks them; resolves with how many. */
  async scan(): Promise<number> {
    let found = 0;
    for (const state of ["queued", "delayed"] as const) {
      let before: ListCursor | undefined;
      for (;;) {
        const page = await this.#datastore.list({
          state,
          limit: this.#opts.pageSize,
          ...(before === undefined ? {} : { before }),
        });
        for (const doc of page) {
          if (this.#needsEnqueue(doc)) {
            this.track(doc.uuid);
            found++;
          }
        }
        const last = page.at(-1);
        if (!last || page.length < this.#opts.pageSize) break;
        before = { createdAt: last.createdAt, uuid: last.uuid };
      }
    }
    return found;
  }

  /** Stops retrying; jobs still pending are found by the next process's scan. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(): void {
    if (this.#timer || this.#running || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#retryAll().finally(() => {
        this.#running = undefined;
        if (this.#pending.size > 0) this.#schedule();
      });
    }, this.#waitMs);
    this.#timer.unref();
  }

  /** Enqueues the pending jobs, `concurrency` at a time; stops at the first sign that a side is down. */
  async #retryAll(): Promise<void> {
    const jobs = [...this.#pending];
    for (let i = 0; i < jobs.length; i += this.#opts.concurrency) {
      if (this.#closed) return;
      const batch = jobs.slice(i, i + this.#opts.concurrency);
      const results = await Promise.allSettled(batch.map(([uuid, lost]) => this.#enqueue(uuid, lost)));
      let down = false;
      results.forEach((result, k) => {
        const [uuid, lost] = batch[k] ?? ["", null];
        if (result.status === "fulfilled") {
          // Unless a newer loss of the same job was reported meanwhile.
          if (this.#pending.get(uuid) === lost) this.#pending.delete(uuid);
          return;
        }
        const err: unknown = result.reason;
        if (err instanceof RetryLater) return;
        if (isZeroGError(err, "ZEROG_BACKEND_DOWN")) {
          down = true;
          return;
        }
        this.#pending.delete(uuid);
        this.#onError(err);
      });
      if (down) {
        // Still down: wait longer before the next round.
        this.#waitMs = Math.min(this.#waitMs * 2, this.#opts.maxRetryMs);
        return;
      }
      this.#waitMs = this.#opts.retryMs;
    }
  }

  /** Claims the job, puts it, records the entry id; nothing when the job no longer needs it. */
  async #enqueue(uuid: string, lost: string | null): Promise<void> {
    const put = this.#unrecorded.get(uuid);
    if (put) {
      await recordEntryId(this.#datastore, uuid, put.claim, put.entryId);
      this.#unrecorded.delete(uuid);
      return;
    }
    const read = await this.#datastore.read(uuid);
    if (!read) return;
    // The entry is looked up after the read: the claim below fails if anyone wrote the job since.
    const needed = lost === null ? this.#needsEnqueue(read.value) : await this.#entryLost(read.value, lost);
    if (!needed) return;
    const claim = `${ENQUEUING}${this.#clock.now()}`;
    let claimed: Versioned<JobDocument>;
    try {
      const doc = { ...read.value, queueJobId: claim };
      claimed = { value: doc, cas: await this.#datastore.replace(doc, read.cas) };
    } catch (err) {
      // Someone else changed it first (another process claimed it, a user killed it): look again next round.
      if (isZeroGError(err, "ZEROG_CAS_MISMATCH")) throw new RetryLater(uuid);
      throw err;
    }
    let entryId: string;
    try {
      entryId = await this.#queue.put(claimed.value.queueName, queueBodyOf(uuid), this.#putOptions(claimed.value));
    } catch (err) {
      // Give the job back to whoever looks next (this process's next round, or a scan): it is
      // now one that was never enqueued.
      await this.#datastore.replace({ ...claimed.value, queueJobId: NOT_ENQUEUED }, claimed.cas).catch(() => undefined);
      if (this.#pending.has(uuid)) this.#pending.set(uuid, null);
      throw err;
    }
    this.#unrecorded.set(uuid, { claim, entryId });
    await recordEntryId(this.#datastore, uuid, claim, entryId);
    this.#unrecorded.delete(uuid);
  }

  /** The job still waits on entry `entryId`, and the queue no longer holds that entry for it. */
  async #entryLost(doc: JobDocument, entryId: string): Promise<boolean> {
    if (doc.state !== "queued" && doc.state !== "delayed") return false;
    if (doc.queueJobId !== entryId) return false;
    return !(await entryHoldsJob(this.#queue, entryId, doc));
  }

  #needsEnqueue(doc: JobDocument): boolean {
    if (doc.state !== "queued" && doc.state !== "delayed") return false;
    if (doc.queueJobId === NOT_ENQUEUED) return true;
    const since = doc.queueJobId?.startsWith(ENQUEUING) ? Number(doc.queueJobId.slice(ENQUEUING.length)) : Number.NaN;
    return Number.isFinite(since) && this.#clock.now() - since > this.#opts.staleClaimMs;
  }

  /** The job's own put options; a delay counts from the job's creation, so a late enqueue does not add to it. */
  #putOptions(doc: JobDocument): { priority: number; ttrSeconds: number; delaySeconds: number } {
    const dueMs = Date.parse(doc.createdAt) + (doc.queueKwargs.delaySeconds ?? 0) * 1000;
    const delaySeconds = doc.state === "delayed" ? Math.max(0, (dueMs - this.#clock.now()) / 1000) : 0;
    return { priority: doc.queueKwargs.priority, ttrSeconds: doc.queueKwargs.ttrSeconds, delaySeconds };
  }
}

/**
 * Whether the queue's entry `entryId` is this job's: it exists and its body is the job's uuid.
 * A queue without `peek` is asked for the entry's stats instead, which cannot tell an id that a
 * restarted server gave to another job: such an entry passes for the job's.
 */
export async function entryHoldsJob(
  queue: Queue,
  entryId: string,
  doc: Pick<JobDocument, "uuid" | "queueName">,
): Promise<boolean> {
  if (queue.peek) {
    const body = await queue.peek(entryId);
    return body !== null && uuidOfQueueBody(body) === doc.uuid;
  }
  const stats = await queue.entryStats(entryId);
  return stats !== null && stats.queue === doc.queueName;
}

/** Whether `queueJobId` names a queue entry (not "-1", not a claim in progress, not unset). */
export function isEntryId(queueJobId: string | null): queueJobId is string {
  return queueJobId !== null && queueJobId !== NOT_ENQUEUED && !queueJobId.startsWith(ENQUEUING);
}

/**
 * Writes `entryId` into the job's `queueJobId` where it still says `expected`, re-reading when a
 * worker wrote the document first (its copy carries `expected` along): a job left marked as not
 * enqueued would be enqueued a second time by a later scan.
 */
export async function recordEntryId(
  datastore: Datastore,
  uuid: string,
  expected: string,
  entryId: string,
  known?: Versioned<JobDocument>,
): Promise<void> {
  let read = known ?? (await datastore.read(uuid));
  for (let round = 0; round < 10; round++) {
    if (!read || read.value.queueJobId !== expected) return;
    try {
      await datastore.replace({ ...read.value, queueJobId: entryId }, read.cas);
      return;
    } catch (err) {
      if (!isZeroGError(err, "ZEROG_CAS_MISMATCH")) throw err;
    }
    read = await datastore.read(uuid);
  }
}

/** A claim lost to another writer: not an outage, the job stays pending for the next round. */
class RetryLater extends Error {
  constructor(uuid: string) {
    super(`job ${uuid} changed while being re-enqueued`);
  }
}
