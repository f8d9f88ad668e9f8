import type { Cas } from "../datastore/contract.ts";
import { type CasRow, casOf, PostgresDatastore, versionOf } from "../datastore/postgres/postgres-datastore.ts";
import { AlreadyExistsError, CasMismatchError, JobNotFoundError } from "../errors.ts";
import type { Clock } from "../internal/clock.ts";
import type { JobDocument } from "../job/document.ts";
import { migrate } from "../postgres/migrate.ts";
import { PG_POOL_DEFAULTS, PgPool } from "../postgres/pool.ts";
import { sqlFile } from "../postgres/sql.ts";
import type { PutOptions, QueueEntryId, Reserved } from "../queue/contract.ts";
import { PostgresQueue } from "../queue/postgres/postgres-queue.ts";
import { releasedAt } from "../queue/postgres/queue-statements.ts";
import { type Backend, type EntrySettlement, queueBodyOf } from "./contract.ts";

const SQL = { createJob: sqlFile("create-job"), settle: sqlFile("settle") } as const;

/** SQLSTATE unique_violation: on create-job, the uuid is taken. */
const UNIQUE_VIOLATION = "23505";

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
 * Datastore and queue in one PostgreSQL schema over one pool: creating a job and settling a run
 * are each one statement (src/postgres/sql/create-job.sql, settle.sql), so one transaction.
 */
export class PostgresBackend implements Backend {
  readonly datastore: PostgresDatastore;
  readonly queue: PostgresQueue;
  readonly #db: PgPool;

  constructor(db: PgPool, queue: PostgresQueue) {
    this.#db = db;
    this.datastore = new PostgresDatastore(db);
    this.queue = queue;
  }

  /** Document and entry in one statement: never one without the other; a taken uuid creates neither. */
  async createJob(doc: JobDocument, put: PutOptions): Promise<QueueEntryId> {
    const e = this.queue.newEntry(put);
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
    let rows: { id: number }[];
    try {
      rows = await this.#db.run<{ id: number }>(SQL.createJob, values);
    } catch (err) {
      if ((err as { code?: unknown }).code === UNIQUE_VIOLATION) throw new AlreadyExistsError(doc.uuid);
      throw err;
    }
    if (e.state === "ready") this.queue.announce(doc.queueName);
    return String(rows[0]?.id);
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
    const [row] = await this.#db.run<CasRow & { settled: number }>(SQL.settle, [
      doc.uuid,
      doc.state,
      JSON.stringify(doc),
      version,
      owner.id,
      owner.token,
      settlement.kind,
      to.state,
      to.dueMs,
    ]);
    const written = casOf(doc.uuid, row);
    if (row?.settled && to.state === "ready" && settlement.kind === "release") this.queue.announce(entry.queue);
    return written;
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
