import type Database from "better-sqlite3";
import type {
  Cas,
  Datastore,
  DeleteFinishedQuery,
  IdempotencyClaim,
  ListJobsQuery,
  Versioned,
} from "../../contracts/datastore.ts";
import { deletionBound, type FinishedPosition } from "../../contracts/finished-order.ts";
import { AlreadyExistsError, CasMismatchError, ClosedError, JobNotFoundError } from "../../errors.ts";
import type { JobDocument, JobState } from "../../job/document.ts";
import type { FinishedStatus, JobStatus } from "../../job/job-status.ts";
import { openSqliteConnection, type SqliteConnection } from "./connection.ts";

const LIST_DEFAULT_LIMIT = 50;
/** Sorts after every ISO-8601 time, so "no cursor" is just a cursor past the end. */
const NO_CURSOR = { createdAt: "\uffff", uuid: "" };
/**
 * A job's status (src/job/job-status.ts) in SQL: exactly the expression of the index
 * zerog_jobs_by_status in src/backends/sqlite/schema.sql, which SQLite uses
 * only for a query that repeats it (a unit test checks they agree). The doc is parsed only for
 * finished rows.
 */
export const STATUS_SQL =
  "(CASE WHEN state <> 'finished' THEN state WHEN json_extract(doc, '$.resultCode') = 410 THEN 'killed' WHEN json_extract(doc, '$.resultCode') BETWEEN 200 AND 299 THEN 'finished' ELSE 'failed' END)";
/**
 * A finished job's `finishedAt` in SQL: the third key of the index zerog_jobs_by_finished in
 * src/backends/sqlite/schema.sql, repeated word for word so SQLite uses it.
 */
export const FINISHED_AT_SQL = "json_extract(doc, '$.finishedAt')";
/** The rows of one type and status that retention reads; `state = 'finished'` is the index's own condition. */
const FINISHED_ROWS = `state = 'finished' AND job_type = ? AND ${STATUS_SQL} = ?`;
/** Retention's statements, each a range of zerog_jobs_by_finished (a unit test checks their plans). */
export const RETENTION_SQL = {
  /** The keepNewest-th newest row (OFFSET keepNewest - 1), walking the index backwards from its end. */
  oldestKept: `SELECT ${FINISHED_AT_SQL} AS finishedAt, uuid FROM zerog_jobs
    WHERE ${FINISHED_ROWS} AND ${FINISHED_AT_SQL} IS NOT NULL
    ORDER BY ${FINISHED_AT_SQL} DESC, uuid DESC LIMIT 1 OFFSET ?`,
  /**
   * One batch before a position: `<= ?` bounds the index range (SQLite does not use a row value
   * over an expression as one), the row value sorts out the ties. One statement: the rows it
   * picks are deleted as they stand (SQLite runs one writer at a time), and the outer condition
   * repeats the check on the row it deletes.
   */
  deleteBatch: `DELETE FROM zerog_jobs WHERE state = 'finished' AND uuid IN (
      SELECT uuid FROM zerog_jobs
      WHERE ${FINISHED_ROWS} AND ${FINISHED_AT_SQL} <= ? AND (${FINISHED_AT_SQL}, uuid) < (?, ?)
      ORDER BY ${FINISHED_AT_SQL}, uuid LIMIT ?)
    RETURNING uuid`,
} as const;
/** Expired idempotency rows a claim deletes at most, so a claim stays short however many have expired. */
const IDEMPOTENCY_PURGE_BATCH = 100;
const COLUMNS = "uuid, job_type, state, created_at, version, doc";

interface DocRow {
  version: number;
  doc: string;
}

/** Listing statements, one per filter combination, so each one can use its index. */
interface ListStatements {
  all: Database.Statement<[string, string, number], DocRow>;
  byType: Database.Statement<[string, string, string, number], DocRow>;
  byState: Database.Statement<[JobStatus, string, string, number], DocRow>;
  byTypeAndState: Database.Statement<[string, JobStatus, string, string, number], DocRow>;
}

/**
 * Job documents in the `zerog_jobs` table (src/backends/sqlite/schema.sql); the CAS token is the row's
 * version counter. Every write goes through the connection's group commit.
 */
export class SqliteDatastore implements Datastore {
  readonly kind = "sqlite";
  readonly capabilities = { multiProcess: true } as const;
  readonly #conn: SqliteConnection;
  readonly #insert: Database.Statement<[string, string, JobState, string, string]>;
  readonly #read: Database.Statement<[string], DocRow>;
  readonly #exists: Database.Statement<[string], { one: number }>;
  readonly #replace: Database.Statement<[JobState, string, string, number], { version: number }>;
  readonly #upsert: Database.Statement<[string, string, JobState, string, string], { version: number }>;
  readonly #delete: Database.Statement<[string]>;
  readonly #list: ListStatements;
  readonly #claim: Database.Statement<[string, string, number, number], { uuid: string }>;
  readonly #claimed: Database.Statement<[string], { uuid: string }>;
  readonly #purgeKeys: Database.Statement<[number, number]>;
  readonly #release: Database.Statement<[string, string]>;
  readonly #oldestKept: Database.Statement<[string, FinishedStatus, number], FinishedPosition>;
  readonly #deleteFinished: Database.Statement<
    [string, FinishedStatus, string, string, string, number],
    { uuid: string }
  >;
  readonly #deleteKeysOf: Database.Statement<[string]>;
  #closed = false;

  /** Uses `conn` (counted as one of its users, so closing the last user closes it). */
  constructor(conn: SqliteConnection) {
    this.#conn = conn;
    conn.retain();
    const db = conn.db;
    this.#insert = db.prepare<[string, string, JobState, string, string]>(
      `INSERT INTO zerog_jobs (${COLUMNS}) VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT (uuid) DO NOTHING`,
    );
    this.#read = db.prepare<[string], DocRow>("SELECT version, doc FROM zerog_jobs WHERE uuid = ?");
    this.#exists = db.prepare<[string], { one: number }>("SELECT 1 AS one FROM zerog_jobs WHERE uuid = ?");
    // job_type and created_at never change after create; leaving them out of SET spares two index updates per write.
    this.#replace = db.prepare<[JobState, string, string, number], { version: number }>(
      `UPDATE zerog_jobs SET state = ?, doc = ?, version = version + 1
       WHERE uuid = ? AND version = ? RETURNING version`,
    );
    this.#upsert = db.prepare<[string, string, JobState, string, string], { version: number }>(
      `INSERT INTO zerog_jobs (${COLUMNS}) VALUES (?, ?, ?, ?, 1, ?)
       ON CONFLICT (uuid) DO UPDATE SET job_type = excluded.job_type, state = excluded.state,
         created_at = excluded.created_at, doc = excluded.doc, version = version + 1
       RETURNING version`,
    );
    this.#delete = db.prepare<[string]>("DELETE FROM zerog_jobs WHERE uuid = ?");
    // (created_at, uuid) < (?, ?): a row-value comparison, which SQLite turns into a range of each index.
    const list = <P extends unknown[]>(where: string) =>
      db.prepare<P, DocRow>(
        `SELECT version, doc FROM zerog_jobs WHERE ${where} (created_at, uuid) < (?, ?)
         ORDER BY created_at DESC, uuid DESC LIMIT ?`,
      );
    this.#list = {
      all: list(""),
      byType: list("job_type = ? AND"),
      byState: list(`${STATUS_SQL} = ? AND`),
      byTypeAndState: list(`job_type = ? AND ${STATUS_SQL} = ? AND`),
    };
    // A live row is left alone (RETURNING nothing); an expired one is taken over.
    this.#claim = db.prepare<[string, string, number, number], { uuid: string }>(
      `INSERT INTO zerog_idempotency (key, uuid, expires_at_ms) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET uuid = excluded.uuid, expires_at_ms = excluded.expires_at_ms
       WHERE zerog_idempotency.expires_at_ms <= ? RETURNING uuid`,
    );
    this.#claimed = db.prepare<[string], { uuid: string }>("SELECT uuid FROM zerog_idempotency WHERE key = ?");
    this.#purgeKeys = db.prepare<[number, number]>(
      `DELETE FROM zerog_idempotency WHERE key IN
         (SELECT key FROM zerog_idempotency WHERE expires_at_ms <= ? ORDER BY expires_at_ms LIMIT ?)`,
    );
    this.#release = db.prepare<[string, string]>("DELETE FROM zerog_idempotency WHERE key = ? AND uuid = ?");
    this.#oldestKept = db.prepare<[string, FinishedStatus, number], FinishedPosition>(RETENTION_SQL.oldestKept);
    this.#deleteFinished = db.prepare<[string, FinishedStatus, string, string, string, number], { uuid: string }>(
      RETENTION_SQL.deleteBatch,
    );
    this.#deleteKeysOf = db.prepare<[string]>(
      "DELETE FROM zerog_idempotency WHERE uuid IN (SELECT value FROM json_each(?))",
    );
  }

  async create(doc: JobDocument): Promise<Cas> {
    return this.#write(() => this.insertSync(doc));
  }

  async read(uuid: string): Promise<Versioned<JobDocument> | null> {
    this.#open();
    const row = this.#read.get(uuid);
    return row ? { value: JSON.parse(row.doc) as JobDocument, cas: String(row.version) } : null;
  }

  async replace(doc: JobDocument, cas: Cas): Promise<Cas> {
    return this.#write(() => this.replaceSync(doc, cas));
  }

  /**
   * `replace`, synchronously, for use inside a `SqliteConnection.write` op that does more in the
   * same savepoint (recording an outcome and settling its queue entry together).
   */
  replaceSync(doc: JobDocument, cas: Cas): Cas {
    const version = Number(cas);
    const row = Number.isSafeInteger(version)
      ? this.#replace.get(doc.state, JSON.stringify(doc), doc.uuid, version)
      : undefined;
    if (row) return String(row.version);
    if (this.#exists.get(doc.uuid)) throw new CasMismatchError(doc.uuid);
    throw new JobNotFoundError(doc.uuid);
  }

  async upsert(doc: JobDocument): Promise<Cas> {
    return this.#write(() => {
      const row = this.#upsert.get(doc.uuid, doc.jobType, doc.state, doc.createdAt, JSON.stringify(doc));
      return String(row?.version);
    });
  }

  async delete(uuid: string): Promise<boolean> {
    return this.#write(() => this.#delete.run(uuid).changes > 0);
  }

  async list(query: ListJobsQuery): Promise<JobDocument[]> {
    this.#open();
    const { createdAt, uuid } = query.before ?? NO_CURSOR;
    const limit = query.limit ?? LIST_DEFAULT_LIMIT;
    const { jobType, state } = query;
    let rows: DocRow[];
    if (jobType !== undefined && state !== undefined)
      rows = this.#list.byTypeAndState.all(jobType, state, createdAt, uuid, limit);
    else if (jobType !== undefined) rows = this.#list.byType.all(jobType, createdAt, uuid, limit);
    else if (state !== undefined) rows = this.#list.byState.all(state, createdAt, uuid, limit);
    else rows = this.#list.all.all(createdAt, uuid, limit);
    return rows.map((r) => JSON.parse(r.doc) as JobDocument);
  }

  /** One savepoint of the group commit: find the bound, delete a batch before it, then the keys naming them. */
  async deleteFinished(query: DeleteFinishedQuery): Promise<number> {
    if (this.#closed) return Promise.reject(new ClosedError("sqlite datastore"));
    const { jobType, status, keepNewest } = query;
    return this.#conn.write(() => {
      const kept = keepNewest === undefined ? null : (this.#oldestKept.get(jobType, status, keepNewest - 1) ?? null);
      const bound = deletionBound(query, kept);
      if (bound === null) return 0;
      const { finishedAt, uuid } = bound;
      const gone = this.#deleteFinished.all(jobType, status, finishedAt, finishedAt, uuid, query.limit);
      if (gone.length > 0) this.#deleteKeysOf.run(JSON.stringify(gone.map((r) => r.uuid)));
      return gone.length;
    });
  }

  /** One savepoint of the group commit: purge a few expired keys, then insert or take over, then read. */
  async claimIdempotencyKey(claim: IdempotencyClaim): Promise<string> {
    if (this.#closed) return Promise.reject(new ClosedError("sqlite datastore"));
    return this.#conn.write(() => {
      this.#purgeKeys.run(claim.nowMs, IDEMPOTENCY_PURGE_BATCH);
      const row = this.#claim.get(claim.key, claim.uuid, claim.expiresAtMs, claim.nowMs);
      return row?.uuid ?? this.#claimed.get(claim.key)?.uuid ?? claim.uuid;
    });
  }

  async releaseIdempotencyKey(key: string, uuid: string): Promise<void> {
    await this.#write(() => this.#release.run(key, uuid));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#conn.release();
  }

  /**
   * Inserts `doc` at version 1; AlreadyExistsError if its uuid is taken. Synchronous, for use
   * inside a `SqliteConnection.write` op that does more in the same savepoint (atomic create + put).
   */
  insertSync(doc: JobDocument): Cas {
    const { changes } = this.#insert.run(doc.uuid, doc.jobType, doc.state, doc.createdAt, JSON.stringify(doc));
    if (changes === 0) throw new AlreadyExistsError(doc.uuid);
    return "1";
  }

  /** Every datastore op changes the database with one statement at most: no savepoint needed. */
  #write<T>(op: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new ClosedError("sqlite datastore"));
    return this.#conn.writeStatement(op);
  }

  #open(): void {
    if (this.#closed) throw new ClosedError("sqlite datastore");
  }
}

/** A datastore on its own connection to the database file at `path` (or ":memory:"). */
export function createSqliteDatastore(opts: { path: string }): SqliteDatastore {
  return new SqliteDatastore(openSqliteConnection({ path: opts.path }));
}
