import type { ClaimRequest, ReservedJob } from "../../contracts/backend.ts";
import {
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
import { reserveStartFields } from "../../job/transitions.ts";
import { migrate } from "./migrate.ts";
import { clientConfig, PgPool, type PgPoolOptions } from "./pool.ts";
import {
  type EntryRow,
  type NewEntry,
  type Owner,
  QUEUE_SQL,
  type ReservedRow,
  releasedAt,
} from "./queue-statements.ts";
import { ReadyChannel } from "./ready-channel.ts";

export interface PostgresQueueOptions {
  /** Source of every stored time (due times, leases). @defaultValue systemClock */
  clock?: Clock;
  /**
   * How often waiting reserves look for entries no NOTIFY announced: delays that ran out,
   * expired leases, and puts missed while the LISTEN connection was down. One cheap read per
   * interval per process, and only while someone waits; ready puts wake reservers at once
   * through LISTEN/NOTIFY, so this only bounds how late a delay ends. @defaultValue 250
   */
  pollMs?: number;
}

/** What a reserve also does: read each entry's document, and start its run for a worker. */
interface ReserveHow {
  withDocuments: boolean;
  claim?: ClaimRequest;
}

export const POSTGRES_QUEUE_DEFAULTS = { pollMs: 250 } as const satisfies Omit<Required<PostgresQueueOptions>, "clock">;

/**
 * Beanstalkd's model in the `zerog_queue` table (src/backends/postgres/migrations/001-init.sql). Every
 * transition is one statement; reserves use FOR UPDATE SKIP LOCKED, so any number of
 * processes reserve concurrently without blocking or double-leasing. Ready entries are announced
 * on a per-schema NOTIFY channel that one LISTEN connection per queue turns into wake-ups of
 * parked reservers (src/backends/postgres/ready-channel.ts).
 */
export class PostgresQueue implements Queue {
  readonly kind = "postgres";
  readonly capabilities = { multiProcess: true } as const;
  readonly clock: Clock;
  readonly #db: PgPool;
  readonly #pollMs: number;
  readonly #notifier = new Notifier();
  /** Reservers waiting for this tick's grouped lease, by queue list (see #takeGrouped). */
  readonly #groups = new TakeGroups<ReservedRow>();
  readonly #claimKeys = new WeakMap<ClaimRequest, string>();
  readonly #channel: ReadyChannel;
  /** Each handle this queue gave out, with the reservation it owns. */
  readonly #owners = new WeakMap<Reserved, Owner>();
  #poller: NodeJS.Timeout | undefined;
  #closed = false;

  /** Uses `db` (counted as one of its users); call `start()` before use so NOTIFYs are heard. */
  constructor(db: PgPool, opts: PostgresQueueOptions = {}) {
    this.#db = db;
    db.retain();
    this.clock = opts.clock ?? systemClock;
    this.#pollMs = opts.pollMs ?? POSTGRES_QUEUE_DEFAULTS.pollMs;
    this.#channel = new ReadyChannel(
      { ...clientConfig(db.url, db.schema), application_name: `zerog-listen:${db.schema}` },
      db.channel,
      {
        ready: (queue, count) => this.#notifier.notify(queue, count),
        reconnected: () => this.#notifier.wakeAll(),
      },
    );
  }

  /** Opens the LISTEN connection. */
  async start(): Promise<void> {
    await this.#channel.start();
  }

  async put(queue: string, body: string, opts: PutOptions = {}): Promise<QueueEntryId> {
    const e = this.newEntry(opts);
    const [row] = await this.#db.run<{ id: number }>(QUEUE_SQL.put, [
      queue,
      body,
      e.priority,
      e.ttrMs,
      e.state,
      e.dueMs,
    ]);
    if (e.state === "ready") this.announce(queue);
    return String(row?.id);
  }

  async reserve(queues: readonly string[], opts: ReserveOptions): Promise<Reserved | null> {
    return (await this.#reserve(queues, opts, { withDocuments: false }))?.entry ?? null;
  }

  /**
   * `reserve`, plus each entry's job document from this schema's zerog_jobs, read (and, with
   * `claim`, the run started) in the same statement: for PostgresBackend, whose datastore that
   * table is. See Backend.reserveJob.
   */
  async reserveJob(queues: readonly string[], opts: ReserveOptions, claim?: ClaimRequest): Promise<ReservedJob | null> {
    const taken = await this.#reserve(queues, opts, { withDocuments: true, ...(claim ? { claim } : {}) });
    if (!taken) return null;
    const { entry, row } = taken;
    if (!row.doc || row.doc_version === null) return { entry };
    const document = { value: row.doc, cas: String(row.doc_version) };
    return row.claimed && row.undo ? { entry, document, claimed: { undo: row.undo } } : { entry, document };
  }

  async #reserve(
    queues: readonly string[],
    opts: ReserveOptions,
    how: ReserveHow,
  ): Promise<{ entry: Reserved; row: ReservedRow } | null> {
    this.#open();
    return reserveLoop({
      queues,
      opts,
      notifier: this.#notifier,
      isClosed: () => this.#closed,
      take: async () => {
        const row = await this.#takeGrouped(queues, how);
        return row ? { entry: this.#handle(row), row } : undefined;
      },
      beforePark: () => this.#startPolling(),
    });
  }

  /** A claim's part of a group key, worked out once per ClaimRequest (a worker makes one per slot). */
  #claimKey(claim: ClaimRequest | undefined): string {
    if (!claim) return "";
    let key = this.#claimKeys.get(claim);
    if (key === undefined) {
      key = JSON.stringify([claim.workerId, claim.jobTypes]);
      this.#claimKeys.set(claim, key);
    }
    return key;
  }

  /**
   * Joins this tick's group of reservers of the same queues: one statement leases as many
   * entries as the group has members (one round trip and one commit instead of one each) and
   * hands them out most urgent first.
   */
  #takeGrouped(queues: readonly string[], how: ReserveHow): Promise<ReservedRow | undefined> {
    // Reservers asking for the same thing share a statement (one worker's slots, in practice).
    const key = `${this.#claimKey(how.claim)}\u0000${how.withDocuments}\u0000${queues.join("\u0000")}`;
    return this.#groups.join(
      key,
      (close) =>
        // setImmediate: every reserver that asks in this turn of the event loop joins the group.
        new Promise<ReservedRow[]>((resolve, reject) =>
          setImmediate(() => {
            const now = this.clock.now();
            const claim = how.claim ? JSON.stringify(reserveStartFields(how.claim.workerId, now)) : null;
            this.#db
              .run<ReservedRow>(QUEUE_SQL.reserve, [
                queues,
                now,
                close(),
                how.withDocuments,
                claim,
                how.claim?.jobTypes ?? [],
              ])
              .then(resolve, reject);
          }),
        ),
    );
  }

  async kick(queue: string, bound: number): Promise<number> {
    const [row] = await this.#db.run<{ n: number }>(QUEUE_SQL.kick, [queue, this.clock.now(), bound]);
    const kicked = row?.n ?? 0;
    if (kicked > 0) this.announce(queue, kicked);
    return kicked;
  }

  async expire(id: QueueEntryId): Promise<boolean> {
    this.#open();
    const n = Number(id);
    if (!Number.isSafeInteger(n)) return false;
    const [row] = await this.#db.run<{ queue: string }>(QUEUE_SQL.expire, [n, this.clock.now()]);
    if (row) this.announce(row.queue);
    return row !== undefined;
  }

  async entryStats(id: QueueEntryId): Promise<EntryStats | null> {
    this.#open();
    const n = Number(id);
    if (!Number.isSafeInteger(n)) return null;
    const [row] = await this.#db.run<EntryRow>(QUEUE_SQL.entry, [n]);
    return row ? this.#statsOf(row) : null;
  }

  async stats(queue: string): Promise<QueueStats> {
    this.#open();
    const [counts] = await this.#db.run<Omit<QueueStats, "queue">>(QUEUE_SQL.stats, [queue, this.clock.now()]);
    return { queue, ready: 0, delayed: 0, reserved: 0, buried: 0, ...counts };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#poller);
    this.#notifier.wakeAll();
    await this.#channel.close();
    await this.#db.release();
  }

  /** Reserves parked waiting for an entry, counted once per queue they wait on (metrics, tests). */
  get waitingReserves(): number {
    let n = 0;
    for (const [, parked] of this.#notifier.parkedCounts()) n += parked;
    return n;
  }

  /** The columns of a new entry put with `opts`, timed by this queue's clock (also for the backend's create-job). */
  newEntry(opts: PutOptions): NewEntry {
    const o = { ...PUT_DEFAULTS, ...opts };
    const delayed = o.delaySeconds > 0;
    const now = this.clock.now();
    return {
      priority: o.priority,
      ttrMs: Math.round(o.ttrSeconds * 1000),
      state: delayed ? "delayed" : "ready",
      dueMs: delayed ? now + Math.round(o.delaySeconds * 1000) : now,
    };
  }

  /** Wakes reservers of `queue` in every process: `count` entries became ready (call after the commit). */
  announce(queue: string, count = 1): void {
    this.#channel.announce(queue, count);
  }

  /** The reservation a handle from this queue owns (for the backend's one-statement settle). */
  ownerOf(entry: Reserved): Owner {
    const owner = this.#owners.get(entry);
    if (!owner) throw new EntryLostError(entry.id);
    return owner;
  }

  #handle(row: ReservedRow): Reserved {
    const id = String(row.id);
    const owner: Owner = { id: row.id, token: row.reserves };
    /** Runs a statement that matches only while we own the reservation. */
    const owned = async (stmt: (typeof QUEUE_SQL)["delete"], extra: unknown[] = []): Promise<void> => {
      const rows = await this.#db.run(stmt, [owner.id, owner.token, ...extra]);
      if (rows.length === 0) throw new EntryLostError(id);
    };
    const handle: Reserved = {
      id,
      queue: row.queue,
      body: row.body,
      delete: () => owned(QUEUE_SQL.delete),
      release: async ({ delaySeconds, priority }) => {
        const to = releasedAt(this.clock.now(), delaySeconds);
        await owned(QUEUE_SQL.release, [to.state, to.dueMs, priority ?? null]);
        if (to.state === "ready") this.announce(row.queue);
      },
      touch: () => owned(QUEUE_SQL.touch, [this.clock.now()]),
      bury: () => owned(QUEUE_SQL.bury, [this.clock.now()]),
      stats: async () => {
        const s = await this.entryStats(id);
        if (!s) throw new EntryLostError(id);
        return s;
      },
    };
    this.#owners.set(handle, owner);
    return handle;
  }

  /** One timer while anyone waits: one read per interval for all waited queues, waking as many as it finds. */
  #startPolling(): void {
    if (this.#poller) return;
    this.#poller = setInterval(() => {
      if (this.#closed || this.#notifier.idle) {
        clearInterval(this.#poller);
        this.#poller = undefined;
        return;
      }
      const parked = [...this.#notifier.parkedCounts()];
      const limit = Math.max(...parked.map(([, n]) => n));
      this.#db
        .run<{ queue: string; n: number }>(QUEUE_SQL.countReservable, [parked.map(([q]) => q), this.clock.now(), limit])
        .then(
          (rows) => {
            for (const r of rows) if (r.n > 0) this.#notifier.notify(r.queue, r.n);
          },
          // The server is away: parked reserves keep waiting (their own timeouts still run).
          () => undefined,
        );
    }, this.#pollMs);
    this.#poller.unref();
  }

  /** The state Beanstalkd would report: due delays and expired leases count as ready. */
  #statsOf(row: EntryRow): EntryStats {
    return {
      id: String(row.id),
      queue: row.queue,
      state: reportedState(row.state, row.due_ms, this.clock.now()),
      priority: row.priority,
      ttrSeconds: row.ttr_ms / 1000,
      reserves: row.reserves,
      timeouts: row.timeouts,
      releases: row.releases,
      buries: row.buries,
      kicks: row.kicks,
    };
  }

  #open(): void {
    if (this.#closed) throw new ClosedError("postgres queue");
  }
}

/** A queue with its own pool on `opts.url`: migrates the schema, then starts listening. */
export async function createPostgresQueue(opts: PgPoolOptions & PostgresQueueOptions): Promise<PostgresQueue> {
  const { clock, pollMs, ...poolOpts } = opts;
  const db = new PgPool(poolOpts);
  const queue = new PostgresQueue(db, {
    ...(clock === undefined ? {} : { clock }),
    ...(pollMs === undefined ? {} : { pollMs }),
  });
  try {
    await migrate(db.pool, db.schema);
    await queue.start();
  } catch (err) {
    await queue.close();
    throw err;
  }
  return queue;
}
