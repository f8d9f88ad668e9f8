import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Datastore, DeleteFinishedQuery } from "../contracts/datastore.ts";
import { type Clock, systemClock } from "../internal/clock.ts";
import type { FinishedStatus } from "../job/job-status.ts";
import { claimIntervalLease, slotOf } from "./interval-lease.ts";

/** What retention removes for one job type and finished status. */
export interface SweepTarget {
  jobType: string;
  status: FinishedStatus;
  /** Documents whose `finishedAt` is older than this go; absent: no age limit. */
  maxAgeMs?: number;
  /** The newest this many (by `finishedAt`) stay, older ones go; absent: no count limit. */
  keepNewest?: number;
}

export const SWEEPER_DEFAULTS = {
  /**
   * One pass per interval across every server on the datastore. Retention is counted in days, so
   * a minute late costs nothing, and a minute's worth of finished jobs is a few batches even at
   * thousands of jobs a second. One lease write per server per interval.
   */
  intervalMs: 60_000,
  /**
   * Documents one `deleteFinished` call removes at most: small enough that one batch holds the
   * store's write lock (SQLite) or a Lua script (Redis) for a few milliseconds, so running jobs'
   * writes never wait long behind it.
   */
  batchSize: 500,
  /**
   * A pass starts no new batch after this long (its first batch always runs); what is left waits
   * for the next interval. Bounds what a backlog (retention just turned on over a large store)
   * takes from the backend at a time.
   */
  passBudgetMs: 5_000,
} as const;

export type SweeperTimings = Record<keyof typeof SWEEPER_DEFAULTS, number>;

export type SweeperOptions = Partial<SweeperTimings> & {
  clock?: Clock;
  /** After each batch that deleted something (this process's counts: the metrics). */
  onDeleted?: (target: SweepTarget, deleted: number) => void;
  /** After each pass this process ran. */
  onPass?: (report: SweepReport) => void;
  /** A pass that failed (the datastore was down): the next interval tries again. */
  onError?: (err: unknown) => void;
};

/** What one pass deleted. */
export interface SweepReport {
  /** Per target that lost documents in this pass. */
  deleted: { jobType: string; status: FinishedStatus; count: number }[];
  total: number;
  /** `deleteFinished` calls made. */
  batches: number;
  /** False when the budget or a stop ended the pass with documents perhaps left to delete. */
  complete: boolean;
  /** Real time the pass took. */
  durationMs: number;
}

/** What one interval's turn came to in this process. */
export type SweepTurn =
  | ({ ran: true } & SweepReport)
  /** Another process holds this interval's lease (or this one already took it, or still runs a pass). */
  | { ran: false };

/** The lease of one interval: an idempotency record, so one server of the fleet sweeps it. */
const LEASE_PREFIX = "zerog-sweep@";

/**
 * Retention: deletes finished job documents that have had their time (src/job/retention-policy.ts),
 * through `Datastore.deleteFinished`.
 *
 * - **Once across servers.** Each interval has a lease (`claimIdempotencyKey`, key
 *   `zerog-sweep@<interval start>`), as the Reconciler's: every process tries, one wins and runs
 *   the pass. A winner that dies costs one interval.
 * - **Bounded batches.** A pass deletes `batchSize` documents per call, one call per target in
 *   turn (so no type waits behind another's backlog), until every target is done, the pass has
 *   run `passBudgetMs`, or `stop` is called.
 * - **Never a waiting job.** Each datastore's delete checks the stored state itself, so a job set
 *   back to queued between the index read and the delete stays.
 */
export class Sweeper {
  readonly targets: readonly SweepTarget[];
  readonly #datastore: Datastore;
  readonly #clock: Clock;
  readonly #opts: SweeperTimings;
  readonly #onDeleted: NonNullable<SweeperOptions["onDeleted"]>;
  readonly #onPass: NonNullable<SweeperOptions["onPass"]>;
  readonly #onError: NonNullable<SweeperOptions["onError"]>;
  /** This process's name in lease records. */
  readonly #holder = randomUUID();
  #lastSlotMs = Number.NEGATIVE_INFINITY;
  #running: Promise<unknown> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(datastore: Datastore, targets: readonly SweepTarget[], opts: SweeperOptions = {}) {
    this.#datastore = datastore;
    this.targets = targets.filter((t) => t.maxAgeMs !== undefined || t.keepNewest !== undefined);
    const { clock, onDeleted, onPass, onError, ...rest } = opts;
    this.#clock = clock ?? systemClock;
    this.#opts = { ...SWEEPER_DEFAULTS, ...rest };
    this.#onDeleted = onDeleted ?? (() => undefined);
    this.#onPass = onPass ?? (() => undefined);
    this.#onError = onError ?? (() => undefined);
  }

  /** Takes a turn at the start of every interval until `stop`. */
  start(): void {
    if (this.#stopped || this.#timer || this.targets.length === 0) return;
    this.#arm();
  }

  /** Stops taking turns, and waits for a pass under way to end (it stops before its next batch). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
  }

  /**
   * This process's turn for the interval that holds `nowMs`: claims the interval's lease, and
   * runs a pass when it won. `{ ran: false }` when another process holds the lease, or this one
   * already took this interval or is still running a pass.
   */
  async takeTurn(nowMs = this.#clock.now()): Promise<SweepTurn> {
    const intervalMs = this.#opts.intervalMs;
    const slotMs = slotOf(nowMs, intervalMs);
    if (this.#running || slotMs <= this.#lastSlotMs) return { ran: false };
    this.#lastSlotMs = slotMs;
    const turn = (async (): Promise<SweepTurn> => {
      const lease = { prefix: LEASE_PREFIX, holder: this.#holder, intervalMs, slotMs, nowMs };
      if (!(await claimIntervalLease(this.#datastore, lease))) return { ran: false };
      return { ran: true, ...(await this.pass(nowMs)) };
    })();
    this.#running = turn;
    try {
      return await turn;
    } finally {
      this.#running = undefined;
    }
  }

  /** One pass now, lease or not: each target's documents older than its rules allow, in batches. */
  async pass(nowMs = this.#clock.now()): Promise<SweepReport> {
    const t0 = performance.now();
    const { batchSize, passBudgetMs } = this.#opts;
    const counts = this.targets.map((target) => ({ target, query: queryOf(target, nowMs, batchSize), count: 0 }));
    let pending = counts;
    let batches = 0;
    let complete = true;
    while (pending.length > 0 && complete) {
      const more: typeof pending = [];
      for (const c of pending) {
        if (this.#stopped || (batches > 0 && performance.now() - t0 >= passBudgetMs)) {
          complete = false;
          break;
        }
        const n = await this.#datastore.deleteFinished(c.query);
        batches += 1;
        c.count += n;
        if (n > 0) this.#onDeleted(c.target, n);
        if (n >= batchSize) more.push(c);
      }
      pending = more;
    }
    const deleted = counts
      .filter((c) => c.count > 0)
      .map((c) => ({ jobType: c.target.jobType, status: c.target.status, count: c.count }));
    const total = deleted.reduce((sum, d) => sum + d.count, 0);
    return { deleted, total, batches, complete, durationMs: performance.now() - t0 };
  }

  /** Wakes at the start of the next interval (by the clock), takes a turn, and arms again. */
  #arm(): void {
    const intervalMs = this.#opts.intervalMs;
    const waitMs = intervalMs - (this.#clock.now() % intervalMs);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#stopped) return;
      this.takeTurn()
        .then((turn) => {
          if (turn.ran) this.#onPass(turn);
        })
        .catch((err: unknown) => this.#onError(err))
        .finally(() => {
          if (!this.#stopped) this.#arm();
        });
    }, waitMs);
    this.#timer.unref();
  }
}

function queryOf(target: SweepTarget, nowMs: number, limit: number): DeleteFinishedQuery {
  return {
    jobType: target.jobType,
    status: target.status,
    limit,
    ...(target.maxAgeMs === undefined ? {} : { finishedBefore: new Date(nowMs - target.maxAgeMs).toISOString() }),
    ...(target.keepNewest === undefined ? {} : { keepNewest: target.keepNewest }),
  };
}
