import { isDeepStrictEqual } from "node:util";
import { FencedError, isZeroGError, JobNotFoundError } from "../errors.ts";
import type { Clock } from "../internal/clock.ts";
import type { JobDocument } from "./document.ts";
import type { Cas, DocumentStore } from "./document-store.ts";
import { applyOp, type JobOp } from "./job-op.ts";

/** What a job instance writes through: the worker's DocumentWriter, or a child process's link to it. */
export interface JobWriter {
  /** The document as this run sees it, every op applied. */
  readonly doc: JobDocument;
  /** Applies `op` now and has it persisted; throws once this run has been superseded or stopped. */
  mutate(op: JobOp): void;
}

/** How a write reaches the store: the datastore's `replace`, or a backend call that does more in the same transaction. */
export type DocumentWrite = (doc: JobDocument, cas: Cas) => Promise<Cas>;

export interface DocumentWriterOptions {
  /** The run this writer speaks for; a document whose attempt differs refuses its writes. */
  attempt: number;
  clock: Clock;
  /**
   * Coalesce progress and log writes: at most one write per this many ms per job; 0 writes
   * each change at once (on the next turn of the event loop); null writes only on `flush` or
   * `commit` (the worker's own writers, which always commit).
   */
  flushIntervalMs: number | null;
  /** Reload-and-retry rounds on CAS mismatch before giving up; a bound so a hot document cannot spin a worker. */
  maxCasRetries?: number;
  /**
   * Checked on a fresh copy after a CAS conflict: a reason to give up (the write becomes a
   * FencedError) even though the attempt is still ours, e.g. a claim that finds the job killed.
   */
  refuseIf?: (fresh: JobDocument) => string | null;
  /** Called once when this run is fenced off (a newer attempt owns the job). */
  onFenced?: (err: FencedError) => void;
  /** Called when a background flush fails for another reason (the backend is down); it is retried. */
  onFlushError?: (err: unknown) => void;
}

/**
 * The one place a job's document is written: applies ops locally at once, persists them
 * through CAS (coalesced), and on a stale version reloads, checks the fence and re-applies.
 */
export class DocumentWriter implements JobWriter {
  readonly #store: DocumentStore;
  readonly #opts: DocumentWriterOptions;
  #doc: JobDocument;
  #cas: Cas;
  /** Ops applied locally but not yet confirmed written. */
  #unsaved: JobOp[] = [];
  #timer: NodeJS.Timeout | null = null;
  #inflight: Promise<void> | null = null;
  #fenced: FencedError | null = null;
  /**
   * The document as sent by a write that failed without an answer (the connection dropped): it
   * may have landed all the same. If the store then holds exactly this, it did, and must not be
   * written again on top of itself (log entries would be recorded twice).
   */
  #unanswered: unknown = null;

  constructor(store: DocumentStore, doc: JobDocument, cas: Cas, opts: DocumentWriterOptions) {
    this.#store = store;
    this.#doc = doc;
    this.#cas = cas;
    this.#opts = opts;
  }

  /** The local copy, with every op applied; change it only through `mutate`. */
  get doc(): JobDocument {
    return this.#doc;
  }

  get cas(): Cas {
    return this.#cas;
  }

  get attempt(): number {
    return this.#opts.attempt;
  }

  get fenced(): FencedError | null {
    return this.#fenced;
  }

  /** Applies `op` now and schedules its write; throws FencedError once this run has been superseded. */
  mutate(op: JobOp): void {
    if (this.#fenced) throw this.#fenced;
    applyOp(this.#doc, op);
    this.#unsaved.push(op);
    if (this.#opts.flushIntervalMs === null) return;
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      this.flush().catch((err: unknown) => {
        if (!isZeroGError(err, "ZEROG_FENCED")) this.#opts.onFlushError?.(err);
      });
    }, this.#opts.flushIntervalMs);
  }

  /** Applies `op` and writes everything unsaved before resolving (through `write` when given). */
  async commit(op: JobOp, write?: DocumentWrite): Promise<void> {
    this.mutate(op);
    await this.flush(write);
  }

  /** Writes every unsaved op; one write at a time per job. */
  async flush(write?: DocumentWrite): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    while (this.#inflight) await this.#inflight;
    if (this.#fenced) throw this.#fenced;
    if (this.#unsaved.length === 0 && !write) return;
    this.#inflight = this.#write(write).finally(() => {
      this.#inflight = null;
    });
    await this.#inflight;
  }

  /** Replaces the local copy with what is stored (e.g. after another process ran the job). */
  async reload(): Promise<void> {
    const fresh = await this.#store.read(this.#doc.uuid);
    if (!fresh) throw new JobNotFoundError(this.#doc.uuid);
    this.#doc = fresh.value;
    this.#cas = fresh.cas;
    this.#unsaved = [];
  }

  async #write(write?: DocumentWrite): Promise<void> {
    const maxRetries = this.#opts.maxCasRetries ?? 10;
    for (let round = 0; ; round++) {
      const sent = this.#unsaved.length;
      this.#doc.updatedAt = new Date(this.#opts.clock.now()).toISOString();
      try {
        this.#cas = await (write ? write(this.#doc, this.#cas) : this.#store.replace(this.#doc, this.#cas));
        this.#unsaved.splice(0, sent);
        this.#unanswered = null;
        return;
      } catch (err) {
        if (!isZeroGError(err, "ZEROG_CAS_MISMATCH")) {
          // As the store would give it back: JSON, without undefined fields.
          this.#unanswered = JSON.parse(JSON.stringify(this.#doc));
          throw err;
        }
        if (round >= maxRetries) throw err;
      }
      if (await this.#rebase()) {
        this.#unsaved.splice(0, sent);
        return;
      }
    }
  }

  /**
   * Someone else wrote the document: take theirs, check we still own the job, re-apply ours.
   * True when "someone else" was our own unanswered write, which landed: nothing to re-apply.
   */
  async #rebase(): Promise<boolean> {
    const fresh = await this.#store.read(this.#doc.uuid);
    if (!fresh) throw new JobNotFoundError(this.#doc.uuid);
    const landed = this.#unanswered !== null && isDeepStrictEqual(fresh.value, this.#unanswered);
    this.#unanswered = null;
    if (landed) {
      this.#doc = fresh.value;
      this.#cas = fresh.cas;
      return true;
    }
    const refusal = this.#opts.refuseIf?.(fresh.value) ?? null;
    if (fresh.value.attempt !== this.#opts.attempt || refusal !== null) {
      this.#fenced = new FencedError(this.#doc.uuid, this.#opts.attempt, fresh.value.attempt, refusal);
      this.#opts.onFenced?.(this.#fenced);
      throw this.#fenced;
    }
    this.#doc = fresh.value;
    this.#cas = fresh.cas;
    for (const op of this.#unsaved) applyOp(this.#doc, op);
    return false;
  }
}
