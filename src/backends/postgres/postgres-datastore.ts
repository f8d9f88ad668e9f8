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
import { outcomeOf, TickBatcher } from "../../internal/tick-batcher.ts";
import type { JobDocument } from "../../job/document.ts";
import { elementWithDoc, jsonArray, runBatch } from "./batches.ts";
import { migrate } from "./migrate.ts";
import { PgPool, type PgPoolOptions, type Queryable } from "./pool.ts";
import { sqlFile, sqlText } from "./sql.ts";

const LIST_DEFAULT_LIMIT = 50;
/** Sorts after every ISO-8601 time (created_at is COLLATE "C"), so "no cursor" is a cursor past the end. */
const NO_CURSOR = { createdAt: "\uffff", uuid: "" };
/** Expired idempotency rows a claim deletes at most, so a claim stays short however many have expired. */
const IDEMPOTENCY_PURGE_BATCH = 100;
/**
 * Rounds of insert-or-read in a claim: a round fails only when the row it found expired or was
 * released between the insert and the read, so 3 rounds fail only under a storm of both.
 */
const CLAIM_ROUNDS = 3;
const COLUMNS = "uuid, job_type, state, created_at, version, doc";

interface DocRow {
  version: number;
  doc: JobDocument;
}

/** What a CAS write answers (src/backends/postgres/sql/replace-job.sql, settle.sql). */
export interface CasRow {
  /** The new version; null when the expected one did not match. */
  version: number | null;
  /** Whether the job exists at all. */
  found: boolean;
}

/** One batched replace: the document and the version it expects. */
interface Replace {
  doc: JobDocument;
  version: number;
}

/** The new CAS token of a CAS write, or the error telling a stale version from a missing job. */
export function casOf(uuid: string, row: CasRow | undefined): Cas {
  if (row?.version != null) return String(row.version);
  throw row?.found ? new CasMismatchError(uuid) : new JobNotFoundError(uuid);
}

/** A CAS token as the version it stands for; null for one no version can match. */
export function versionOf(cas: Cas): number | null {
  const v = Number(cas);
  return Number.isSafeInteger(v) ? v : null;
}

// `status` is the generated column of migration 003; the row comparison is a range of each index.
const list = (name: string, where: string) =>
  sqlText(
    `list_${name}`,
    `SELECT version, doc FROM zerog_jobs WHERE ${where} (created_at, uuid) < ($1, $2)
     ORDER BY created_at DESC, uuid DESC LIMIT $3`,
  );

const SQL = {
  insert: sqlText(
    "insert_job",
    `INSERT INTO zerog_jobs (${COLUMNS}) VALUES ($1, $2, $3, $4, 1, $5) ON CONFLICT (uuid) DO NOTHING RETURNING version`,
  ),
  read: sqlText("read_job", "SELECT version, doc FROM zerog_jobs WHERE uuid = $1"),
  replace: sqlFile("replace-job"),
  replaceMany: sqlFile("replace-jobs"),
  upsert: sqlText(
    "upsert_job",
    `INSERT INTO zerog_jobs (${COLUMNS}) VALUES ($1, $2, $3, $4, 1, $5)
     ON CONFLICT (uuid) DO UPDATE SET job_type = excluded.job_type, state = excluded.state,
       created_at = excluded.created_at, doc = excluded.doc, version = zerog_jobs.version + 1
     RETURNING version`,
  ),
  delete: sqlText("delete_job", "DELETE FROM zerog_jobs WHERE uuid = $1 RETURNING uuid"),
  // One statement per filter combination (the cursor is always $1 $2, the limit $3), so each uses its index.
  listAll: list("all", ""),
  listByType: list("by_type", "job_type = $4 AND"),
  listByState: list("by_status", "status = $4 AND"),
  listByTypeAndState: list("by_type_status", "job_type = $4 AND status = $5 AND"),
  // A live row is left alone (RETURNING nothing: then it is read); an expired one is taken over.
  claimKey: sqlText(
    "claim_idempotency_key",
    `WITH purged AS (
       DELETE FROM zerog_idempotency WHERE key IN
         (SELECT key FROM zerog_idempotency WHERE expires_ms <= $4 AND key <> $1 ORDER BY expires_ms LIMIT $5)
     )
     INSERT INTO zerog_idempotency (key, uuid, expires_ms) VALUES ($1, $2, $3)
     ON CONFLICT (key) DO UPDATE SET uuid = excluded.uuid, expires_ms = excluded.expires_ms
     WHERE zerog_idempotency.expires_ms <= $4 RETURNING uuid`,
  ),
  readKey: sqlText("read_idempotency_key", "SELECT uuid FROM zerog_idempotency WHERE key = $1 AND expires_ms > $2"),
  releaseKey: sqlText("release_idempotency_key", "DELETE FROM zerog_idempotency WHERE key = $1 AND uuid = $2"),
  // finished_at and its index: migration 005. The keepNewest-th newest row, walking the index backwards.
  oldestKept: sqlText(
    "oldest_kept",
    `SELECT finished_at AS "finishedAt", uuid FROM zerog_jobs
     WHERE job_type = $1 AND status = $2 AND finished_at IS NOT NULL
     ORDER BY finished_at DESC, uuid DESC OFFSET $3 LIMIT 1`,
  ),
  deleteFinished: sqlFile("delete-finished"),
} as const;

/**
 * Job documents in the `zerog_jobs` table (src/backends/postgres/migrations/001-init.sql) as JSONB;
 * the CAS token is the row's version counter.
 */
export class PostgresDatastore implements Datastore {
  readonly kind = "postgres";
  readonly capabilities = { multiProcess: true } as const;
  readonly #db: PgPool;
  /** Replaces asked for in one tick share one statement and one commit (replace-jobs.sql). */
  readonly #replaces = new TickBatcher<Replace, Cas>({
    keyOf: (r) => r.doc.uuid,
    run: (items) =>
      runBatch(items, {
        single: (r) => this.#replaceOne(r),
        many: async (rs) => {
          const json = jsonArray(
            rs.map((r) => elementWithDoc({ uuid: r.doc.uuid, state: r.doc.state, version: r.version }, r.doc)),
          );
          const rows = await this.#db.run<CasRow & { n: number }>(SQL.replaceMany, [json]);
          return Promise.all(rs.map((r, i) => outcomeOf(() => casOf(r.doc.uuid, rows[i]))));
        },
      }),
  });
  #closed = false;

  /** Uses `db` (counted as one of its users, so closing the last user ends it). */
  constructor(db: PgPool) {
    this.#db = db;
    db.retain();
  }

  create(doc: JobDocument): Promise<Cas> {
    return this.insertWith(this.#db.pool, doc);
  }

  async read(uuid: string): Promise<Versioned<JobDocument> | null> {
    this.#open();
    const [row] = await this.#db.run<DocRow>(SQL.read, [uuid]);
    return row ? { value: row.doc, cas: String(row.version) } : null;
  }

  /** CAS write; concurrent replaces (a worker's slots claiming at once) are batched into one statement. */
  async replace(doc: JobDocument, cas: Cas): Promise<Cas> {
    this.#open();
    const version = versionOf(cas);
    if (version === null) return this.replaceWith(this.#db.pool, doc, cas);
    return this.#replaces.add({ doc, version });
  }

  async #replaceOne({ doc, version }: Replace): Promise<Cas> {
    const [row] = await this.#db.run<CasRow>(SQL.replace, [doc.uuid, doc.state, JSON.stringify(doc), version]);
    return casOf(doc.uuid, row);
  }

  /** `create` on `client` (e.g. inside a caller's transaction); AlreadyExistsError if the uuid is taken. */
  async insertWith(client: Queryable, doc: JobDocument): Promise<Cas> {
    this.#open();
    const values = [doc.uuid, doc.jobType, doc.state, doc.createdAt, JSON.stringify(doc)];
    const [row] = await this.#db.run<{ version: number }>(SQL.insert, values, client);
    if (!row) throw new AlreadyExistsError(doc.uuid);
    return String(row.version);
  }

  /** `replace` on `client` (e.g. inside a caller's transaction): one statement, CAS on the version. */
  async replaceWith(client: Queryable, doc: JobDocument, cas: Cas): Promise<Cas> {
    this.#open();
    const version = versionOf(cas);
    if (version === null) {
      const exists = await this.read(doc.uuid);
      throw exists ? new CasMismatchError(doc.uuid) : new JobNotFoundError(doc.uuid);
    }
    const values = [doc.uuid, doc.state, JSON.stringify(doc), version];
    const [row] = await this.#db.run<CasRow>(SQL.replace, values, client);
    return casOf(doc.uuid, row);
  }

  async upsert(doc: JobDocument): Promise<Cas> {
    this.#open();
    const values = [doc.uuid, doc.jobType, doc.state, doc.createdAt, JSON.stringify(doc)];
    const [row] = await this.#db.run<{ version: number }>(SQL.upsert, values);
    return String(row?.version);
  }

  async delete(uuid: string): Promise<boolean> {
    this.#open();
    return (await this.#db.run(SQL.delete, [uuid])).length > 0;
  }

  async list(query: ListJobsQuery): Promise<JobDocument[]> {
    this.#open();
    const { createdAt, uuid } = query.before ?? NO_CURSOR;
    const page = [createdAt, uuid, query.limit ?? LIST_DEFAULT_LIMIT];
    const { jobType, state } = query;
    let rows: DocRow[];
    if (jobType !== undefined && state !== undefined)
      rows = await this.#db.run<DocRow>(SQL.listByTypeAndState, [...page, jobType, state]);
    else if (jobType !== undefined) rows = await this.#db.run<DocRow>(SQL.listByType, [...page, jobType]);
    else if (state !== undefined) rows = await this.#db.run<DocRow>(SQL.listByState, [...page, state]);
    else rows = await this.#db.run<DocRow>(SQL.listAll, page);
    return rows.map((r) => r.doc);
  }

  /** Two statements: the bound (when `keepNewest` asks for one), then one batch before it (delete-finished.sql). */
  async deleteFinished(query: DeleteFinishedQuery): Promise<number> {
    this.#open();
    const { jobType, status, keepNewest } = query;
    let kept: FinishedPosition | null = null;
    if (keepNewest !== undefined) {
      [kept = null] = await this.#db.run<FinishedPosition>(SQL.oldestKept, [jobType, status, keepNewest - 1]);
    }
    const bound = deletionBound(query, kept);
    if (bound === null) return 0;
    const values = [jobType, status, bound.finishedAt, bound.uuid, query.limit];
    const [row] = await this.#db.run<{ n: number }>(SQL.deleteFinished, values);
    return row?.n ?? 0;
  }

  /**
   * INSERT … ON CONFLICT waits for a concurrent claim of the same key to commit, then does nothing
   * (a live row): the read that follows, a new statement, sees the winner's row.
   */
  async claimIdempotencyKey(claim: IdempotencyClaim): Promise<string> {
    this.#open();
    for (let round = 0; round < CLAIM_ROUNDS; round++) {
      const values = [claim.key, claim.uuid, claim.expiresAtMs, claim.nowMs, IDEMPOTENCY_PURGE_BATCH];
      const [mine] = await this.#db.run<{ uuid: string }>(SQL.claimKey, values);
      if (mine) return mine.uuid;
      const [held] = await this.#db.run<{ uuid: string }>(SQL.readKey, [claim.key, claim.nowMs]);
      if (held) return held.uuid;
    }
    throw new CasMismatchError(`idempotency key ${claim.key}`);
  }

  async releaseIdempotencyKey(key: string, uuid: string): Promise<void> {
    this.#open();
    await this.#db.run(SQL.releaseKey, [key, uuid]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#db.release();
  }

  #open(): void {
    if (this.#closed) throw new ClosedError("postgres datastore");
  }
}

/** A datastore with its own pool on `opts.url`; migrates the schema first. */
export async function createPostgresDatastore(opts: PgPoolOptions): Promise<PostgresDatastore> {
  const db = new PgPool(opts);
  const datastore = new PostgresDatastore(db);
  try {
    await migrate(db.pool, db.schema);
  } catch (err) {
    await datastore.close();
    throw err;
  }
  return datastore;
}
