import type { Cas, Datastore, IdempotencyClaim, ListJobsQuery, Versioned } from "../../contracts/datastore.ts";
import { compareListOrder } from "../../contracts/list-order.ts";
import { AlreadyExistsError, CasMismatchError, ClosedError, JobNotFoundError } from "../../errors.ts";
import type { JobDocument } from "../../job/document.ts";
import { statusOf } from "../../job/job-status.ts";

interface Stored {
  json: string;
  version: number;
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
    this.#docs.set(doc.uuid, { json: JSON.stringify(doc), version: 1 });
    return "1";
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
    this.#docs.set(doc.uuid, { json: JSON.stringify(doc), version });
    return String(version);
  }

  #open(): void {
    if (this.#closed) throw new ClosedError("memory datastore");
  }
}
