import type { JobDocument } from "../../job/document.ts";

/** Reads one job's document; null when there is none. */
export type ReadDocument = (uuid: string) => Promise<JobDocument | null>;

/** Called with each fresh read of a watched job (null: the document is gone). */
export type DocumentListener = (doc: JobDocument | null) => void;

export interface JobWatcherOptions {
  /**
   * How often each watched job's document is read. Reads go to the datastore, so a job run by
   * another server (another process or machine) is seen too, on every backend. @defaultValue 250
   */
  pollMs?: number;
}

export const JOB_WATCHER_DEFAULTS = { pollMs: 250 } as const satisfies Required<JobWatcherOptions>;

/**
 * One poller per server for every live stream: each watched uuid is read once per `pollMs`
 * however many clients watch it, and nothing is read while nobody watches. The next round is
 * timed from the end of the previous one, so a slow datastore is never asked twice at once.
 */
export class JobWatcher {
  readonly #read: ReadDocument;
  readonly #pollMs: number;
  readonly #listeners = new Map<string, Set<DocumentListener>>();
  #timer: NodeJS.Timeout | null = null;
  #polling = false;
  #closed = false;
  #reads = 0;

  constructor(read: ReadDocument, opts: JobWatcherOptions = {}) {
    this.#read = read;
    this.#pollMs = opts.pollMs ?? JOB_WATCHER_DEFAULTS.pollMs;
  }

  /** Datastore reads made so far (for tests and metrics). */
  get reads(): number {
    return this.#reads;
  }

  /** Jobs being watched now. */
  get watching(): number {
    return this.#listeners.size;
  }

  /** No round armed or running: nothing is read until the next `watch` (for tests). */
  get idle(): boolean {
    return this.#timer === null && !this.#polling;
  }

  /** Calls `listener` with the document after each read; returns the function that stops it. */
  watch(uuid: string, listener: DocumentListener): () => void {
    let set = this.#listeners.get(uuid);
    if (!set) {
      set = new Set();
      this.#listeners.set(uuid, set);
    }
    set.add(listener);
    this.#arm();
    return () => {
      const s = this.#listeners.get(uuid);
      s?.delete(listener);
      if (s?.size === 0) this.#listeners.delete(uuid);
      if (this.#listeners.size === 0 && this.#timer) {
        clearTimeout(this.#timer);
        this.#timer = null;
      }
    };
  }

  /** Stops polling for good; listeners are dropped. */
  close(): void {
    this.#closed = true;
    this.#listeners.clear();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #arm(): void {
    if (this.#closed || this.#timer || this.#polling || this.#listeners.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#poll();
    }, this.#pollMs);
  }

  async #poll(): Promise<void> {
    this.#polling = true;
    try {
      await Promise.all(
        [...this.#listeners.keys()].map(async (uuid) => {
          this.#reads += 1;
          let doc: JobDocument | null;
          try {
            doc = await this.#read(uuid);
          } catch {
            // The datastore is down or slow: skip this round; the stream's heartbeat keeps it open.
            return;
          }
          for (const listener of [...(this.#listeners.get(uuid) ?? [])]) listener(doc);
        }),
      );
    } finally {
      this.#polling = false;
      this.#arm();
    }
  }
}
