import type { Datastore, ListCursor, Versioned } from "../datastore/contract.ts";
import { isZeroGError } from "../errors.ts";
import type { Clock } from "../internal/clock.ts";
import type { JobDocument } from "../job/document.ts";
import type { Queue } from "../queue/contract.ts";
import { queueBodyOf } from "./contract.ts";

/** `queueJobId` of a job whose enqueue failed: it waits in the datastore for the queue (the seed's -1). */
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
} as const;

type RequeuerTimings = Record<keyof typeof REQUEUER_DEFAULTS, number>;

export type RequeuerOptions = Partial<RequeuerTimings> & {
  /** A job that cannot be enqueued for a reason other than an outage (it stays in the datastore; a scan finds it again). */
  onError?: (err: unknown) => void;
};

/**
 * Puts jobs whose enqueue failed (the queue was down) on their queue once it is back, so an
 * accepted job is never lost: `track` retries this process's own, and `scan` finds those left by
 * a process that died before it could. Each re-enqueue first claims the job by CAS on its
 * `queueJobId`, so two processes never enqueue one job twice.
 */
export class Requeuer {
  readonly #datastore: Datastore;
  readonly #queue: Queue;
  readonly #clock: Clock;
  readonly #opts: RequeuerTimings;
  readonly #onError: (err: unknown) => void;
  readonly #pending = new Set<string>();
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
    this.#pending.add(uuid);
    this.#schedule();
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

  async #retryAll(): Promise<void> {
    for (const uuid of [...this.#pending]) {
      if (this.#closed) return;
      try {
        await this.#enqueue(uuid);
        this.#pending.delete(uuid);
        this.#waitMs = this.#opts.retryMs;
      } catch (err) {
        if (err instanceof RetryLater) continue;
        if (!isZeroGError(err, "ZEROG_BACKEND_DOWN")) {
          this.#pending.delete(uuid);
          this.#onError(err);
          continue;
        }
        // Still down: wait longer before the next round.
        this.#waitMs = Math.min(this.#waitMs * 2, this.#opts.maxRetryMs);
        return;
      }
    }
  }

  /** Claims the job, puts it, records the entry id; nothing when the job no longer needs it. */
  async #enqueue(uuid: string): Promise<void> {
    const put = this.#unrecorded.get(uuid);
    if (put) {
      await recordEntryId(this.#datastore, uuid, put.claim, put.entryId);
      this.#unrecorded.delete(uuid);
      return;
    }
    const read = await this.#datastore.read(uuid);
    if (!read || !this.#needsEnqueue(read.value)) return;
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
      // Give the job back to whoever looks next (this process's next round, or a scan).
      await this.#datastore.replace({ ...claimed.value, queueJobId: NOT_ENQUEUED }, claimed.cas).catch(() => undefined);
      throw err;
    }
    this.#unrecorded.set(uuid, { claim, entryId });
    await recordEntryId(this.#datastore, uuid, claim, entryId);
    this.#unrecorded.delete(uuid);
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
