import type {
  Cas,
  Datastore,
  DeleteFinishedQuery,
  IdempotencyClaim,
  ListJobsQuery,
  Versioned,
} from "../../contracts/datastore.ts";
import { compareFinished, deletionBound, type FinishedPosition } from "../../contracts/finished-order.ts";
import { compareListOrder } from "../../contracts/list-order.ts";
import { AlreadyExistsError, CasMismatchError, ClosedError, JobNotFoundError } from "../../errors.ts";
import type { JobDocument } from "../../job/document.ts";
import { type JobStatus, statusOf } from "../../job/job-status.ts";

interface Stored {
  json: string;
  version: number;
  /** Copied from the document at each write, so retention needs no parse. */
  jobType: string;
  status: JobStatus;
  finishedAt: string | null;
}

/**
 * Keeps documents in this process's memory, as JSON so callers never share objects with it.
 * For tests and single-process experiments; nothing survives a restart.
 */
export class MemoryDatastore implements Datastore {
  readonly kind = "memory";
  readonly capabilities = { multiProcess: false } as const;
  readonly #docs = new Map<string, Stored>();
  readonly #idempotency = new Map<string, { uuid: string; expiresAtMs: number }>();
  #closed = false;

  async create(doc: JobDocument): Promise<Cas> {
    this.#open();
    if (this.#docs.has(doc.uuid)) throw new AlreadyExistsError(doc.uuid);
    return this.#put(doc, 1);
  }

  async read(uuid: string): Promise<Versioned<JobDocument> | null> {
    this.#open();
    const s = this.#docs.get(uuid);
    return s ? { value: JSON.parse(s.json) as JobDocument, cas: String(s.version) } : null;
  }

  async replace(doc: JobDocument, cas: Cas): Promise<Cas> {
    this.#open();
    const s = this.#docs.get(doc.uuid);
    if (!s) throw new JobNotFoundError(doc.uuid);
    if (String(s.version) !== cas) throw new CasMismatchError(doc.uuid);
    return this.#put(doc, s.version + 1);
  }

  async upsert(doc: JobDocument): Promise<Cas> {
    this.#open();
    return this.#put(doc, (this.#docs.get(doc.uuid)?.version ?? 0) + 1);
  }

  async delete(uuid: string): Promise<boolean> {
    this.#open();
    return this.#docs.delete(uuid);
  }

  /** A scan: this store is for tests and experiments, where a sort of every document is cheap enough. */
  async list(query: ListJobsQuery): Promise<JobDocument[]> {
    this.#open();
    const docs = [...this.#docs.values()].map((s) => JSON.parse(s.json) as JobDocument);
    const { before } = query;
    return docs
      .filter(
        (d) =>
          (query.jobType === undefined || d.jobType === query.jobType) &&
          (query.state === undefined || statusOf(d) === query.state) &&
          (before === undefined || compareListOrder(d, before) > 0),
      )
      .sort(compareListOrder)
      .slice(0, query.limit ?? 50);
  }

  /** A scan, as `list` is: retention on a store for tests and experiments. */
  async deleteFinished(query: DeleteFinishedQuery): Promise<number> {
    this.#open();
    const named: FinishedPosition[] = [];
    for (const [uuid, s] of this.#docs) {
      if (s.jobType === query.jobType && s.status === query.status && s.finishedAt !== null)
        named.push({ finishedAt: s.finishedAt, uuid });
    }
    named.sort(compareFinished);
    const k = query.keepNewest;
    const bound = deletionBound(query, k !== undefined && named.length > k ? (named[named.length - k] ?? null) : null);
    if (bound === null) return 0;
    const gone = new Set<string>();
    for (const p of named) {
      if (gone.size >= query.limit || compareFinished(p, bound) >= 0) break;
      this.#docs.delete(p.uuid);
      gone.add(p.uuid);
    }
    for (const [key, held] of this.#idempotency) if (gone.has(held.uuid)) this.#idempotency.delete(key);
    return gone.size;
  }

  async claimIdempotencyKey(claim: IdempotencyClaim): Promise<string> {
    this.#open();
    const held = this.#idempotency.get(claim.key);
    if (held && held.expiresAtMs > claim.nowMs) return held.uuid;
    this.#idempotency.set(claim.key, { uuid: claim.uuid, expiresAtMs: claim.expiresAtMs });
    return claim.uuid;
  }

  async releaseIdempotencyKey(key: string, uuid: string): Promise<void> {
    this.#open();
    if (this.#idempotency.get(key)?.uuid === uuid) this.#idempotency.delete(key);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #put(doc: JobDocument, version: number): Cas {
    const status = statusOf(doc);
    const finishedAt = doc.state === "finished" && typeof doc.finishedAt === "string" ? doc.finishedAt : null;
    this.#docs.set(doc.uuid, { json: JSON.stringify(doc), version, jobType: doc.jobType, status, finishedAt });
    return String(version);
  }

  #open(): void {
    if (this.#closed) throw new ClosedError("memory datastore");
  }
}
