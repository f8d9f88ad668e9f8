import {
  type Backend,
  type ClaimRequest,
  type EntrySettlement,
  queueBodyOf,
  type ReservedJob,
} from "../../contracts/backend.ts";
import type { Cas } from "../../contracts/datastore.ts";
import type { PutOptions, QueueEntryId, Reserved, ReserveOptions } from "../../contracts/queue.ts";
import { AlreadyExistsError, CasMismatchError, JobNotFoundError } from "../../errors.ts";
import type { Clock } from "../../internal/clock.ts";
import { type BatchOutcome, TickBatcher } from "../../internal/tick-batcher.ts";
import type { JobDocument } from "../../job/document.ts";
import { elementWithDoc, jsonArray, runBatch, UNIQUE_VIOLATION } from "./batches.ts";
import { migrate } from "./migrate.ts";
import { PG_POOL_DEFAULTS, PgPool } from "./pool.ts";
import { type CasRow, casOf, PostgresDatastore, versionOf } from "./postgres-datastore.ts";
import { PostgresFleetStore } from "./postgres-fleet.ts";
import { PostgresQueue } from "./postgres-queue.ts";
import { type NewEntry, type Owner, releasedAt } from "./queue-statements.ts";
import { sqlFile } from "./sql.ts";

const SQL = {
  createJob: sqlFile("create-job"),
  createJobs: sqlFile("create-jobs"),
  requeueJob: sqlFile("requeue-job"),
  settle: sqlFile("settle"),
  settleBatch: sqlFile("settle-batch"),
} as const;

/** One job to create: the document and its entry's columns. */
interface Create {
  doc: JobDocument;
  entry: NewEntry;
}

/** One run to settle: the outcome, the version it replaces, and what becomes of the entry it owns. */
interface Settle {
  doc: JobDocument;
  version: number;
  owner: Owner;
  kind: EntrySettlement["kind"];
  to: { state: "ready" | "delayed"; dueMs: number };
}

type SettleRow = CasRow & { settled: boolean | number };

export interface OpenPostgresOptions {
  /** postgres://user@host:port/db */
  url: string;
  /** Schema for ZeroG's tables, created when missing. @defaultValue "zerog" */
  schema?: string;
  /** Source of every stored queue time. @defaultValue systemClock */
  clock?: Clock;
  /** See PostgresQueueOptions.pollMs. @defaultValue 250 */
  pollMs?: number;
  /** Most pooled connections (the LISTEN connection comes on top). @defaultValue 10 */
  poolSize?: number;
}

/**
 * Datastore, queue and fleet in one PostgreSQL schema over one pool: creating a job and settling
 * a run are each one statement (src/backends/postgres/sql/create-job.sql, settle.sql), so one transaction.
 */
export class PostgresBackend implements Backend {
  readonly datastore: PostgresDatastore;
  readonly queue: PostgresQueue;
  readonly fleet: PostgresFleetStore;
  readonly #db: PgPool;
  /** Creates of one tick (a burst of POSTs) share one statement and one commit. */
  readonly #creates = new TickBatcher<Create, QueueEntryId>({
    keyOf: (c) => c.doc.uuid,
    run: (items) =>
      runBatch(items, {
        single: (c) => this.#createOne(c),
        many: (cs) => this.#createMany(cs),
        // A taken uuid aborts the whole batch: each then runs alone, so only its own create fails.
        retryAloneOn: [UNIQUE_VIOLATION],
      }),
  });
  /** Settles of one tick (a worker's slots finishing together) share one statement and one commit. */
  readonly #settles = new TickBatcher<Settle, SettleRow | undefined>({
    keyOf: (s) => s.doc.uuid,
    run: (items) => runBatch(items, { single: (s) => this.#settleOne(s), many: (ss) => this.#settleMany(ss) }),
  });

  constructor(db: PgPool, queue: PostgresQueue) {
    this.#db = db;
    this.datastore = new PostgresDatastore(db);
    this.queue = queue;
    this.fleet = new PostgresFleetStore(db);
  }

  /** Document and entry in one statement: never one without the other; a taken uuid creates neither. */
  async createJob(doc: JobDocument, put: PutOptions): Promise<QueueEntryId> {
    const entry = this.queue.newEntry(put);
    const id = await this.#creates.add({ doc, entry });
    if (entry.state === "ready") this.queue.announce(doc.queueName);
    return id;
  }

  async #createOne({ doc, entry: e }: Create): Promise<QueueEntryId> {
    const values = [
      doc.uuid,
      doc.jobType,
      doc.state,
      doc.createdAt,
      JSON.stringify(doc),
      doc.queueName,
      queueBodyOf(doc.uuid),
      e.priority,
      e.ttrMs,
      e.state,
      e.dueMs,
    ];
    try {
      const [row] = await this.#db.run<{ id: number }>(SQL.createJob, values);
      return String(row?.id);
    } catch (err) {
      if ((err as { code?: unknown }).code === UNIQUE_VIOLATION) throw new AlreadyExistsError(doc.uuid);
      throw err;
    }
  }

  async #createMany(cs: Create[]): Promise<BatchOutcome<QueueEntryId>[]> {
    const json = jsonArray(
      cs.map(({ doc, entry: e }) =>
        elementWithDoc(
          {
            uuid: doc.uuid,
            type: doc.jobType,
            state: doc.state,
            created: doc.createdAt,
            queue: doc.queueName,
            body: queueBodyOf(doc.uuid),
            priority: e.priority,
            ttr: e.ttrMs,
            entryState: e.state,
            due: e.dueMs,
          },
          doc,
        ),
      ),
    );
    const rows = await this.#db.run<{ n: number; id: number }>(SQL.createJobs, [json]);
    return cs.map((_, i) => {
      const row = rows[i];
      return row ? { ok: true, value: String(row.id) } : { ok: false, error: new Error("create-jobs: missing row") };
    });
  }

  /**
   * The document's CAS replace and its new entry in one statement (requeue-job.sql): a stale
   * version changes neither, so no entry is ever put for a retry that lost a race.
   */
  async requeueJob(doc: JobDocument, cas: Cas, put: PutOptions): Promise<QueueEntryId> {
    const version = versionOf(cas);
    if (version === null) {
      throw (await this.datastore.read(doc.uuid)) ? new CasMismatchError(doc.uuid) : new JobNotFoundError(doc.uuid);
    }
    const e = this.queue.newEntry(put);
    const [row] = await this.#db.run<CasRow & { id: number | null }>(SQL.requeueJob, [
      doc.uuid,
      doc.state,
      JSON.stringify(doc),
      version,
      doc.queueName,
      queueBodyOf(doc.uuid),
      e.priority,
      e.ttrMs,
      e.state,
      e.dueMs,
    ]);
    casOf(doc.uuid, row);
    if (e.state === "ready") this.queue.announce(doc.queueName);
    return String(row?.id);
  }

  /**
   * The outcome's CAS replace and the entry's delete or release in one statement. A CAS
   * mismatch changes neither; an entry no longer ours is left alone and is not an error.
   */
  async settle(doc: JobDocument, cas: Cas, entry: Reserved, settlement: EntrySettlement): Promise<Cas> {
    const owner = this.queue.ownerOf(entry);
    const version = versionOf(cas);
    if (version === null) {
      throw (await this.datastore.read(doc.uuid)) ? new CasMismatchError(doc.uuid) : new JobNotFoundError(doc.uuid);
    }
    const to = releasedAt(this.queue.clock.now(), settlement.kind === "release" ? settlement.delaySeconds : 0);
    const row = await this.#settles.add({ doc, version, owner, kind: settlement.kind, to });
    const written = casOf(doc.uuid, row);
    if (row?.settled && to.state === "ready" && settlement.kind === "release") this.queue.announce(entry.queue);
    return written;
  }

  /** Reserves with each entry's document read (and its run started) in the same statement. */
  reserveJob(queues: readonly string[], opts: ReserveOptions, claim?: ClaimRequest): Promise<ReservedJob | null> {
    return this.queue.reserveJob(queues, opts, claim);
  }

  async #settleOne(s: Settle): Promise<SettleRow | undefined> {
    const [row] = await this.#db.run<SettleRow>(SQL.settle, [
      s.doc.uuid,
      s.doc.state,
      JSON.stringify(s.doc),
      s.version,
      s.owner.id,
      s.owner.token,
      s.kind,
      s.to.state,
      s.to.dueMs,
    ]);
    return row;
  }

  async #settleMany(ss: Settle[]): Promise<BatchOutcome<SettleRow | undefined>[]> {
    const json = jsonArray(
      ss.map((s) =>
        elementWithDoc(
          {
            uuid: s.doc.uuid,
            state: s.doc.state,
            version: s.version,
            entry: s.owner.id,
            token: s.owner.token,
            kind: s.kind,
            to: s.to.state,
            due: s.to.dueMs,
          },
          s.doc,
        ),
      ),
    );
    const rows = await this.#db.run<SettleRow>(SQL.settleBatch, [json]);
    return ss.map((_, i) => ({ ok: true, value: rows[i] }));
  }

  /** Ends pending reserves, then the LISTEN connection and the pool. */
  async close(): Promise<void> {
    await Promise.allSettled([this.queue.close(), this.datastore.close()]);
  }
}

/** Connects to `opts.url`, brings the schema up to date (safe when servers start together), and listens for puts. */
export async function openPostgresBackend(opts: OpenPostgresOptions): Promise<PostgresBackend> {
  const db = new PgPool({
    url: opts.url,
    schema: opts.schema ?? PG_POOL_DEFAULTS.schema,
    poolSize: opts.poolSize ?? PG_POOL_DEFAULTS.poolSize,
  });
  const queue = new PostgresQueue(db, {
    ...(opts.clock === undefined ? {} : { clock: opts.clock }),
    ...(opts.pollMs === undefined ? {} : { pollMs: opts.pollMs }),
  });
  const backend = new PostgresBackend(db, queue);
  try {
    await migrate(db.pool, db.schema);
    await queue.start();
  } catch (err) {
    await backend.close();
    throw err;
  }
  return backend;
}
