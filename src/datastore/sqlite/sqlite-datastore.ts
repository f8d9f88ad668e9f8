import type Database from "better-sqlite3";
import { AlreadyExistsError, CasMismatchError, ClosedError, JobNotFoundError } from "../../errors.ts";
import type { JobDocument, JobState } from "../../job/document.ts";
import { openSqliteConnection, type SqliteConnection } from "../../sqlite/connection.ts";
import type { Cas, Datastore, ListJobsQuery, Versioned } from "../contract.ts";

const LIST_DEFAULT_LIMIT = 50;
/** Sorts after every ISO-8601 time, so "no cursor" is just a cursor past the end. */
const NO_CURSOR = "\uffff";
const COLUMNS = "uuid, job_type, state, created_at, version, doc";

interface DocRow {
  version: number;
  doc: string;
}

/** Listing statements, one per filter combination, so each one can use its index. */
interface ListStatements {
  all: Database.Statement<[string, number], DocRow>;
  byType: Database.Statement<[string, string, number], DocRow>;
  byState: Database.Statement<[JobState, string, number], DocRow>;
  byTypeAndState: Database.Statement<[string, JobState, string, number], DocRow>;
}

/**
 * Job documents in the `zerog_jobs` table (src/sqlite/schema.sql); the CAS token is the row's
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
    const list = <P extends unknown[]>(where: string) =>
      db.prepare<P, DocRow>(
        `SELECT version, doc FROM zerog_jobs WHERE ${where} created_at < ? ORDER BY created_at DESC LIMIT ?`,
      );
    this.#list = {
      all: list(""),
      byType: list("job_type = ? AND"),
      byState: list("state = ? AND"),
      byTypeAndState: list("job_type = ? AND state = ? AND"),
    };
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
    const before = query.createdBefore ?? NO_CURSOR;
    const limit = query.limit ?? LIST_DEFAULT_LIMIT;
    const { jobType, state } = query;
    let rows: DocRow[];
    if (jobType !== undefined && state !== undefined)
      rows = this.#list.byTypeAndState.all(jobType, state, before, limit);
    else if (jobType !== undefined) rows = this.#list.byType.all(jobType, before, limit);
    else if (state !== undefined) rows = this.#list.byState.all(state, before, limit);
    else rows = this.#list.all.all(before, limit);
    return rows.map((r) => JSON.parse(r.doc) as JobDocument);
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
