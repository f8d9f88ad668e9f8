/** Each item's outcome in a batch: its result, or the error that item alone failed with. */
export type BatchOutcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

export interface TickBatcherOptions<I, O> {
  /**
   * Runs one batch; answers one outcome per item, in order. A rejection fails every item of the
   * batch (e.g. the connection dropped).
   */
  run(items: I[]): Promise<BatchOutcome<O>[]>;
  /**
   * Items with the same key never share a batch (a batched SQL UPDATE … FROM matches a row
   * once, however many items name it); a repeat goes into the next batch.
   */
  keyOf(item: I): string;
  /** Most items in one batch. @defaultValue 500 */
  maxItems?: number;
}

interface Pending<I, O> {
  items: I[];
  keys: Set<string>;
  settle: { resolve: (value: O) => void; reject: (err: unknown) => void }[];
}

/**
 * Group commit for calls made in the same turn of the event loop: the first call opens a batch,
 * every call until the next `setImmediate` joins it, and the batch runs as one statement, so N
 * concurrent callers pay one round trip and one commit instead of N.
 */
export class TickBatcher<I, O> {
  readonly #opts: TickBatcherOptions<I, O>;
  readonly #maxItems: number;
  /** Batches waiting for the tick to end; usually one, more when keys repeat or a batch fills. */
  #queued: Pending<I, O>[] = [];

  constructor(opts: TickBatcherOptions<I, O>) {
    this.#opts = opts;
    this.#maxItems = opts.maxItems ?? 500;
  }

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const key = this.#opts.keyOf(item);
      let batch = this.#queued.find((b) => !b.keys.has(key) && b.items.length < this.#maxItems);
      if (!batch) {
        batch = { items: [], keys: new Set(), settle: [] };
        if (this.#queued.length === 0) setImmediate(() => this.#flush());
        this.#queued.push(batch);
      }
      batch.items.push(item);
      batch.keys.add(key);
      batch.settle.push({ resolve, reject });
    });
  }

  #flush(): void {
    const batches = this.#queued;
    this.#queued = [];
    for (const b of batches) {
      this.#opts.run(b.items).then(
        (outcomes) => {
          for (const [i, s] of b.settle.entries()) {
            const o = outcomes[i];
            if (!o) s.reject(new Error(`batch answered ${outcomes.length} outcomes for ${b.items.length} items`));
            else if (o.ok) s.resolve(o.value);
            else s.reject(o.error);
          }
        },
        (err: unknown) => {
          for (const s of b.settle) s.reject(err);
        },
      );
    }
  }
}

/** Runs `fn` and captures its result or error as an outcome. */
export async function outcomeOf<O>(fn: () => Promise<O> | O): Promise<BatchOutcome<O>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}
