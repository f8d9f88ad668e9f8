import type {
  Cas,
  Datastore,
  DeleteFinishedQuery,
  IdempotencyClaim,
  ListJobsQuery,
  Versioned,
} from "../../contracts/datastore.ts";
import { compareFinished, deletionBound, type FinishedPosition } from "../../contracts/finished-order.ts";
import { AlreadyExistsError, CasMismatchError, ClosedError, JobNotFoundError } from "../../errors.ts";
import type { JobDocument } from "../../job/document.ts";
import { statusOf } from "../../job/job-status.ts";
import { type Answer, type CallPolicy, callCouchbase, unexpected } from "./couchbase-call.ts";
import type { CallKind, CouchbaseErrorClasses } from "./couchbase-errors.ts";
import { finishedStatements, listStatement } from "./statements.ts";

/** A Couchbase CAS as the SDK hands it out; `toString()` is its decimal value. */
export interface CasValue {
  toString(): string;
}

/**
 * The few SDK calls the datastore makes, on one collection, with the durability and scan
 * consistency already chosen (see open-couchbase.ts, which builds it from the real SDK). Keeping
 * them this narrow keeps the adapter thin, and lets its logic be tested without a server.
 */
export interface CouchbaseCollectionPort {
  get(key: string): Promise<{ content: unknown; cas: CasValue }>;
  insert(key: string, doc: JobDocument): Promise<{ cas: CasValue }>;
  /** With `cas` null, whatever the stored CAS. */
  replace(key: string, doc: JobDocument, cas: string | null): Promise<{ cas: CasValue }>;
  remove(key: string): Promise<unknown>;
  /** Inserts a small record that is not a job (an idempotency key); Couchbase removes it after `expirySeconds`. */
  insertRecord(key: string, value: IdempotencyRecord, expirySeconds: number): Promise<{ cas: CasValue }>;
  /** Removes `key` if its CAS is still `cas`. */
  removeIf(key: string, cas: string): Promise<unknown>;
  /** The rows of a SQL++ statement, with request_plus scan consistency. */
  query(statement: string, parameters: Record<string, string | number>): Promise<unknown[]>;
  close(): Promise<void>;
}

export interface CouchbaseDatastoreOptions {
  /** The collection as SQL++ names it (`keyspaceOf`). */
  keyspace: string;
  /** The SDK's error classes, for the error mapping. */
  errors: CouchbaseErrorClasses;
  /** Retries of a call that timed out (only where sending it again is safe). @defaultValue 3 */
  timeoutRetries?: number;
  /** Wait before the first retry; doubled for each next one. @defaultValue 100 */
  retryBackoffMs?: number;
}

export const COUCHBASE_DEFAULTS = {
  // Each try already waited the SDK's own timeout (2.5 s for key-value calls), so 3 retries
  // bound a call at about 10 s before the API answers 503.
  timeoutRetries: 3,
  // A timeout usually means a node is failing over or rebalancing: give it a moment, 100-200-400 ms.
  retryBackoffMs: 100,
} as const satisfies Required<Pick<CouchbaseDatastoreOptions, "timeoutRetries" | "retryBackoffMs">>;

/**
 * Rounds of the upsert's replace-then-insert: each round ends only because another writer
 * deleted or created the document in between, so 3 rounds fail only under a storm of both.
 */
const UPSERT_ROUNDS = 3;

/** An idempotency key's document (Datastore.claimIdempotencyKey), keyed `zerog-idem:{key}`. */
export interface IdempotencyRecord {
  type: "zerog-idempotency";
  uuid: string;
  expiresAtMs: number;
}

/** Rounds of insert-or-read in a claim: a round fails only when the record expired between the two. */
const CLAIM_ROUNDS = 3;

const idempotencyKeyOf = (key: string) => `zerog-idem:${key}`;

/** A CAS token the SDK can parse: a decimal uint64, and not 0 (which Couchbase reads as "no CAS check"). */
const CAS_TOKEN = /^[1-9][0-9]{0,19}$/;
const MAX_CAS = 2n ** 64n - 1n;

export function isCasToken(cas: Cas): boolean {
  return CAS_TOKEN.test(cas) && BigInt(cas) <= MAX_CAS;
}

/**
 * Job documents in one Couchbase collection, each keyed by its uuid; the CAS token is Couchbase's
 * CAS as a decimal string. Listing is a SQL++ query on the indexes of indexes.n1ql.
 */
export class CouchbaseDatastore implements Datastore {
  readonly kind = "couchbase";
  readonly capabilities = { multiProcess: true } as const;
  readonly keyspace: string;
  /** The retries and error mapping of every call; a fleet on the same cluster shares them. */
  readonly policy: CallPolicy;
  readonly #port: CouchbaseCollectionPort;
  #closed = false;

  constructor(port: CouchbaseCollectionPort, opts: CouchbaseDatastoreOptions) {
    this.#port = port;
    this.keyspace = opts.keyspace;
    this.policy = {
      errors: opts.errors,
      timeoutRetries: opts.timeoutRetries ?? COUCHBASE_DEFAULTS.timeoutRetries,
      retryBackoffMs: opts.retryBackoffMs ?? COUCHBASE_DEFAULTS.retryBackoffMs,
    };
  }

  async create(doc: JobDocument): Promise<Cas> {
    const a = await this.#call("write", () => this.#port.insert(doc.uuid, doc));
    if (a.ok) return String(a.value.cas);
    if (a.reason === "exists") throw new AlreadyExistsError(doc.uuid);
    throw unexpected("insert", a.reason);
  }

  async read(uuid: string): Promise<Versioned<JobDocument> | null> {
    const a = await this.#call("read", () => this.#port.get(uuid));
    if (a.ok) return { value: a.value.content as JobDocument, cas: String(a.value.cas) };
    if (a.reason === "not-found") return null;
    throw unexpected("get", a.reason);
  }

  async replace(doc: JobDocument, cas: Cas): Promise<Cas> {
    if (!isCasToken(cas)) {
      // No CAS of Couchbase's looks like this one, so it cannot match; say why as a mismatch would.
      if ((await this.read(doc.uuid)) === null) throw new JobNotFoundError(doc.uuid);
      throw new CasMismatchError(doc.uuid);
    }
    const a = await this.#call("write", () => this.#port.replace(doc.uuid, doc, cas));
    if (a.ok) return String(a.value.cas);
    if (a.reason === "not-found") throw new JobNotFoundError(doc.uuid);
    throw new CasMismatchError(doc.uuid);
  }

  /**
   * Replace without a CAS, or insert when the key is missing, and again
   * when another writer created it in between. (Couchbase's own upsert would do the same in one call.)
   */
  async upsert(doc: JobDocument): Promise<Cas> {
    for (let round = 0; round < UPSERT_ROUNDS; round++) {
      const replaced = await this.#call("write", () => this.#port.replace(doc.uuid, doc, null));
      if (replaced.ok) return String(replaced.value.cas);
      if (replaced.reason !== "not-found") throw unexpected("replace", replaced.reason);
      const inserted = await this.#call("write", () => this.#port.insert(doc.uuid, doc));
      if (inserted.ok) return String(inserted.value.cas);
      if (inserted.reason !== "exists") throw unexpected("insert", inserted.reason);
      // Another writer created it between our replace and insert: replace again.
    }
    throw new CasMismatchError(doc.uuid);
  }

  async delete(uuid: string): Promise<boolean> {
    const a = await this.#call("write", () => this.#port.remove(uuid));
    if (a.ok) return true;
    if (a.reason === "not-found") return false;
    throw unexpected("remove", a.reason);
  }

  /** Newest first, from an index of indexes.n1ql; request_plus, so every write acknowledged before the call is seen. */
  async list(query: ListJobsQuery): Promise<JobDocument[]> {
    const { statement, parameters } = listStatement(this.keyspace, query);
    const a = await this.#call("read", () => this.#port.query(statement, parameters));
    if (a.ok) return a.value as JobDocument[];
    throw unexpected("query", a.reason);
  }

  /**
   * The bound, then one batch of uuids before it (SQL++ on zerog_jobs_by_finished), each removed
   * by a key-value `remove` with the CAS of a `get` that found it still finished with that type,
   * status and an old enough `finishedAt`: a job written meanwhile (set back to queued) fails
   * the CAS, or the check, and stays. Idempotency records are left to their Couchbase expiry.
   */
  async deleteFinished(query: DeleteFinishedQuery): Promise<number> {
    const statements = finishedStatements(this.keyspace, query);
    let kept: FinishedPosition | null = null;
    if (query.keepNewest !== undefined) {
      const [row] = await this.#rows<FinishedPosition>(statements.oldestKept(query.keepNewest));
      kept = row ?? null;
    }
    const bound = deletionBound(query, kept);
    if (bound === null) return 0;
    const uuids = await this.#rows<string>(statements.picked(bound, query.limit));
    const removed = await Promise.all(uuids.map((uuid) => this.#removeFinished(uuid, query, bound)));
    return removed.filter(Boolean).length;
  }

  async #removeFinished(uuid: string, query: DeleteFinishedQuery, bound: FinishedPosition): Promise<boolean> {
    const held = await this.#call("read", () => this.#port.get(uuid));
    if (!held.ok) return false;
    const doc = held.value.content as Partial<JobDocument> | null;
    const { finishedAt } = doc ?? {};
    if (doc?.state !== "finished" || doc.jobType !== query.jobType || typeof finishedAt !== "string") return false;
    if (statusOf(doc as JobDocument) !== query.status || compareFinished({ finishedAt, uuid }, bound) >= 0)
      return false;
    const a = await this.#call("write", () => this.#port.removeIf(uuid, String(held.value.cas)));
    return a.ok;
  }

  async #rows<T>(q: { statement: string; parameters: Record<string, string | number> }): Promise<T[]> {
    const a = await this.#call("read", () => this.#port.query(q.statement, q.parameters));
    if (a.ok) return a.value as T[];
    throw unexpected("query", a.reason);
  }

  /** An insert (which fails on a live key) or a read of the holder; Couchbase expires the record. */
  async claimIdempotencyKey(claim: IdempotencyClaim): Promise<string> {
    const key = idempotencyKeyOf(claim.key);
    const record: IdempotencyRecord = { type: "zerog-idempotency", uuid: claim.uuid, expiresAtMs: claim.expiresAtMs };
    const expirySeconds = Math.max(1, Math.ceil((claim.expiresAtMs - claim.nowMs) / 1000));
    for (let round = 0; round < CLAIM_ROUNDS; round++) {
      const a = await this.#call("write", () => this.#port.insertRecord(key, record, expirySeconds));
      if (a.ok) return claim.uuid;
      if (a.reason !== "exists") throw unexpected("insert", a.reason);
      const held = await this.#call("read", () => this.#port.get(key));
      if (held.ok) return (held.value.content as IdempotencyRecord).uuid;
      if (held.reason !== "not-found") throw unexpected("get", held.reason);
      // It expired between the insert and the read: insert again.
    }
    throw new CasMismatchError(key);
  }

  /** Removes the record with a CAS check, so a record another job took over meanwhile stays. */
  async releaseIdempotencyKey(key: string, uuid: string): Promise<void> {
    const id = idempotencyKeyOf(key);
    const held = await this.#call("read", () => this.#port.get(id));
    if (!held.ok || (held.value.content as IdempotencyRecord).uuid !== uuid) return;
    await this.#call("write", () => this.#port.removeIf(id, String(held.value.cas)));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#port.close();
  }

  /** One SDK call through the shared retries and error mapping (couchbase-call.ts). */
  #call<T>(kind: Exclude<CallKind, "connect">, call: () => Promise<T>): Promise<Answer<T>> {
    if (this.#closed) return Promise.reject(new ClosedError("couchbase datastore"));
    return callCouchbase(this.policy, kind, call);
  }
}
