import {
  type EntryState,
  type EntryStats,
  PUT_DEFAULTS,
  type PutOptions,
  type Queue,
  type QueueEntryId,
  type QueueStats,
  type Reserved,
  type ReserveOptions,
} from "../../contracts/queue.ts";
import { reportedState } from "../../contracts/reported-state.ts";
import { reserveLoop } from "../../contracts/reserve-loop.ts";
import { TakeGroups } from "../../contracts/take-groups.ts";
import { ClosedError, EntryLostError } from "../../errors.ts";
import { type Clock, systemClock } from "../../internal/clock.ts";
import { Notifier } from "../../internal/notifier.ts";
import { CommitWatch } from "./commit-watch.ts";
import { openSqliteConnection, type SqliteConnection } from "./connection.ts";
import {
  type EntryRow,
  type Owner,
  prepareQueueStatements,
  type QueueStatements,
  type ReservedRow,
} from "./queue-statements.ts";

export interface SqliteQueueOptions {
  /** Source of every stored time (due times, leases). @defaultValue systemClock */
  clock?: Clock;
  /**
   * How often waiting reserves look for entries this process was not told about: delays that
   * ran out, expired leases, and puts by other processes where the database file cannot be
   * watched. One cheap read per interval per process. In-process puts wake reservers at once,
   * and so do other processes' commits where the file can be watched (see CommitWatch).
   * @defaultValue 50
   */
  pollMs?: number;
}

/** See #promote: a few ms of lateness on a delay, for one statement per batch instead of one per reserve. */
const PROMOTE_EVERY_MS = 5;

export const SQLITE_QUEUE_DEFAULTS = { pollMs: 50 } as const satisfies Omit<Required<SqliteQueueOptions>, "clock">;

/**
 * Beanstalkd's model in the `zerog_queue` table (src/backends/sqlite/schema.sql). Reserves go through
 * the connection's group commit, so many worker slots reserving in one tick share one
 * transaction, and SQLite's write lock keeps two processes from taking the same entry.
 */
export class SqliteQueue implements Queue {
  readonly kind = "sqlite";
  readonly capabilities = { multiProcess: true } as const;
  readonly #conn: SqliteConnection;
  readonly #sql: QueueStatements;
  readonly #clock: Clock;
  readonly #pollMs: number;
  readonly #notifier = new Notifier();
  /** Each handle this queue gave out, with the reservation it owns. */
  readonly #owners = new WeakMap<Reserved, Owner>();
  /** Reservers of each queue waiting for this tick's grouped lease (see #takeGrouped). */
  readonly #groups = new TakeGroups<ReservedRow>();
  /** When each queue's due delayed entries were last promoted (clock ms). */
  readonly #promotedAt = new Map<string, number>();
  #poller: NodeJS.Timeout | undefined;
  /** While anyone waits: another process's commit wakes them, without waiting for the poll. */
  readonly #commits: CommitWatch;
  #closed = false;

  /** Uses `conn` (counted as one of its users, so closing the last user closes it). */
  constructor(conn: SqliteConnection, opts: SqliteQueueOptions = {}) {
    this.#conn = conn;
    conn.retain();
    this.#sql = prepareQueueStatements(conn.db);
    this.#clock = opts.clock ?? systemClock;
    this.#pollMs = opts.pollMs ?? SQLITE_QUEUE_DEFAULTS.pollMs;
    this.#commits = new CommitWatch(conn.db, () => this.#wakeForFound());
  }

  async put(queue: string, body: string, opts: PutOptions = {}): Promise<QueueEntryId> {
    const id = await this.#write(() => this.insertSync(queue, body, opts));
    if (!((opts.delaySeconds ?? 0) > 0)) this.notifyReady(queue);
    return id;
  }

  async reserve(queues: readonly string[], opts: ReserveOptions): Promise<Reserved | null> {
    this.#open();
    const distinct = [...new Set(queues)];
    const group = distinct.join("\u0000");
    return reserveLoop({
      queues,
      opts,
      notifier: this.#notifier,
      isClosed: () => this.#closed,
      take: async () => {
        const row = await this.#takeGrouped(group, distinct);
        return row ? this.#handle(row) : undefined;
      },
      beforePark: () => this.#startPolling(),
    });
  }

  async kick(queue: string, bound: number): Promise<number> {
    const kicked = await this.#write(() => this.#sql.kick.run({ queue, now: this.#clock.now(), bound }).changes);
    if (kicked > 0) this.notifyReady(queue, kicked);
    return kicked;
  }

  async expire(id: QueueEntryId): Promise<boolean> {
    const n = Number(id);
    if (!Number.isSafeInteger(n)) return false;
    // Other processes' reservers find it at their next poll; this process's are woken now.
    const queue = await this.#write(() => {
      const row = this.#sql.entry.get(n);
      return row && this.#sql.expire.run({ id: n, now: this.#clock.now() }).changes > 0 ? row.queue : null;
    });
    if (queue !== null) this.notifyReady(queue);
    return queue !== null;
  }

  async entryStats(id: QueueEntryId): Promise<EntryStats | null> {
    this.#open();
    const row = this.#sql.entry.get(Number(id));
    return row ? this.#statsOf(row) : null;
  }

  async stats(queue: string): Promise<QueueStats> {
    this.#open();
    const counts = this.#sql.stats.get({ queue, now: this.#clock.now() });
    return { queue, ready: 0, delayed: 0, reserved: 0, buried: 0, ...counts };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#poller);
    this.#commits.stop();
    this.#notifier.wakeAll();
    await this.#conn.release();
  }

  /**
   * Inserts an entry and returns its id. Synchronous, for use inside a `SqliteConnection.write`
   * op that does more in the same savepoint (atomic create + put); call `notifyReady` after it commits.
   */
  insertSync(queue: string, body: string, opts: PutOptions = {}): QueueEntryId {
    const o = { ...PUT_DEFAULTS, ...opts };
    const delayed = o.delaySeconds > 0;
    const now = this.#clock.now();
    const dueAt = delayed ? now + Math.round(o.delaySeconds * 1000) : now;
    const ttrMs = Math.round(o.ttrSeconds * 1000);
    const info = this.#sql.insert.run(queue, body, o.priority, ttrMs, delayed ? "delayed" : "ready", dueAt);
    return String(info.lastInsertRowid);
  }

  /** Wakes up to `count` reservers of `queue` waiting in this process (after a put has committed). */
  notifyReady(queue: string, count = 1): void {
    this.#notifier.notify(queue, count);
  }

  /**
   * Joins this tick's group of reservers of `queues` (`group` names the list): the group's first
   * member queues one group-commit op that leases as many entries as the group has members, in
   * one statement, and hands them out most urgent first (50 idle slots cost one UPDATE, not 50).
   */
  #takeGrouped(group: string, queues: readonly string[]): Promise<ReservedRow | undefined> {
    return this.#groups.join(group, (close) =>
      this.#write(() => {
        const limit = close();
        if (this.#closed || queues.length === 0) return [];
        const now = this.#clock.now();
        for (const queue of queues) this.#promote(queue, now);
        // A statement over several queues costs about 1.6 times one over a single queue; the others
        // (the base queue, idle job types) are usually empty, and probing one costs a few µs.
        const live = queues.filter((queue, i) => i === 0 || this.#sql.hasReservable.get({ queue, now })?.found);
        const [only] = live;
        if (live.length === 1 && only !== undefined) return this.#sql.reserveMany.all({ queue: only, now, limit });
        const named = Object.fromEntries(live.map((q, i) => [`q${i}`, q]));
        return this.#sql.reserveAcross(live.length).all({ ...named, now, limit });
      }),
    );
  }

  /**
   * Moves due delayed entries to ready, at most once per PROMOTE_EVERY_MS per queue: 50 slots
   * reserving in one batch need one promote, not 50. A delay may so end up to that much late.
   */
  #promote(queue: string, now: number): void {
    const last = this.#promotedAt.get(queue);
    if (last !== undefined && now >= last && now - last < PROMOTE_EVERY_MS) return;
    this.#sql.promote.run({ queue, now });
    this.#promotedAt.set(queue, now);
  }

  #handle(row: ReservedRow): Reserved {
    const id = String(row.id);
    const owner = { id: row.id, token: row.reserves };
    /** Runs a statement that matches only while we own the reservation. */
    const owned = (run: () => boolean): Promise<void> =>
      this.#write(() => {
        if (!run()) throw new EntryLostError(id);
      });
    const handle: Reserved = {
      id,
      queue: row.queue,
      body: row.body,
      delete: () => owned(() => this.#deleteOwned(owner)),
      release: async ({ delaySeconds, priority }) => {
        await owned(() => this.#releaseOwned(owner, delaySeconds, priority));
        if (delaySeconds <= 0) this.notifyReady(row.queue);
      },
      touch: () => owned(() => this.#sql.touch.run({ ...owner, now: this.#clock.now() }).changes > 0),
      bury: () => owned(() => this.#sql.bury.run({ ...owner, now: this.#clock.now() }).changes > 0),
      stats: async () => {
        const s = await this.entryStats(id);
        if (!s) throw new EntryLostError(id);
        return s;
      },
    };
    this.#owners.set(handle, owner);
    return handle;
  }

  /**
   * Deletes or releases `entry` inside a `SqliteConnection.write` op that does more in the same
   * savepoint (an outcome and its entry settle together). False when the entry is no longer
   * ours: another worker holds it and will find the recorded outcome. Call `afterSettle` once committed.
   */
  settleSync(entry: Reserved, action: { kind: "delete" } | { kind: "release"; delaySeconds: number }): boolean {
    const owner = this.#owners.get(entry);
    if (!owner) throw new EntryLostError(entry.id);
    return action.kind === "delete" ? this.#deleteOwned(owner) : this.#releaseOwned(owner, action.delaySeconds);
  }

  /** Wakes a reserver for an entry that `settleSync` released without delay. */
  afterSettle(entry: Reserved, action: { kind: "delete" } | { kind: "release"; delaySeconds: number }): void {
    if (action.kind === "release" && action.delaySeconds <= 0) this.notifyReady(entry.queue);
  }

  #deleteOwned(owner: Owner): boolean {
    return this.#sql.delete.run(owner).changes > 0;
  }

  #releaseOwned(owner: Owner, delaySeconds: number, priority?: number): boolean {
    const delayed = delaySeconds > 0;
    const state: EntryState = delayed ? "delayed" : "ready";
    const dueAt = this.#clock.now() + (delayed ? Math.round(delaySeconds * 1000) : 0);
    return this.#sql.release.run({ ...owner, state, dueAt, priority: priority ?? null }).changes > 0;
  }

  /** One timer (and one file watch) per queue while anyone waits; both stop when nobody does. */
  #startPolling(): void {
    this.#commits.start();
    if (this.#poller) return;
    this.#poller = setInterval(() => {
      if (this.#closed || this.#notifier.idle) {
        clearInterval(this.#poller);
        this.#poller = undefined;
        this.#commits.stop();
        return;
      }
      this.#wakeForFound();
    }, this.#pollMs);
    this.#poller.unref();
  }

  /** A read (no lock) per waited queue, waking as many reservers as it finds entries. */
  #wakeForFound(): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    for (const [queue, parked] of [...this.#notifier.parkedCounts()]) {
      const { n } = this.#sql.countReservable.get({ queue, now, limit: parked }) ?? { n: 0 };
      if (n > 0) this.#notifier.notify(queue, n);
    }
  }

  /** The state Beanstalkd would report: due delays and expired leases count as ready. */
  #statsOf(row: EntryRow): EntryStats {
    return {
      id: String(row.id),
      queue: row.queue,
      state: reportedState(row.state, row.due_at, this.#clock.now()),
      priority: row.priority,
      ttrSeconds: row.ttr_ms / 1000,
      reserves: row.reserves,
      timeouts: row.timeouts,
      releases: row.releases,
      buries: row.buries,
      kicks: row.kicks,
    };
  }

  /**
   * Every queue op changes one row set with one statement (a reserve may first promote due
   * delayed entries, which is harmless to keep if the lease then fails), so none needs a savepoint.
   */
  #write<T>(op: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new ClosedError("sqlite queue"));
    return this.#conn.writeStatement(op);
  }

  #open(): void {
    if (this.#closed) throw new ClosedError("sqlite queue");
  }
}

/** A queue on its own connection to the database file at `path` (or ":memory:"). */
export function createSqliteQueue(opts: { path: string } & SqliteQueueOptions): SqliteQueue {
  return new SqliteQueue(openSqliteConnection({ path: opts.path }), opts);
}
