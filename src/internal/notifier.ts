/** Longest delay setTimeout honours; longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Parked {
  keys: readonly string[];
  wake: () => void;
}

/**
 * Wakes reservers parked on named queues: `notify(q, n)` wakes the `n` longest-parked ones of
 * queue `q` (one per new entry, so 50 idle slots do not all stampede for one put).
 *
 * A put may land between a reserver's failed attempt and its `park`; to lose no wake-up, take
 * `mark(keys)` before the attempt and pass it to `park`, which then returns at once if anything
 * was notified on those keys meanwhile.
 */
export class Notifier {
  readonly #seq = new Map<string, number>();
  readonly #parked = new Map<string, Set<Parked>>();

  /** A token that changes whenever one of `keys` is notified. */
  mark(keys: readonly string[]): number {
    let sum = 0;
    for (const k of keys) sum += this.#seq.get(k) ?? 0;
    return sum;
  }

  /**
   * Resolves on a notify of one of `keys`, after `ms` (Infinity: never), when `signal` aborts,
   * or on `wakeAll` — whichever is first; at once if `keys` were notified since `since`.
   */
  park(keys: readonly string[], ms: number, since: number, signal?: AbortSignal): Promise<void> {
    if (this.mark(keys) !== since || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(() => wake(), Math.min(Math.max(0, ms), MAX_TIMER_MS)) : undefined;
      const wake = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", wake);
        for (const k of keys) this.#parked.get(k)?.delete(parked);
        resolve();
      };
      const parked: Parked = { keys, wake };
      signal?.addEventListener("abort", wake, { once: true });
      for (const k of keys) {
        const set = this.#parked.get(k) ?? new Set<Parked>();
        this.#parked.set(k, set.add(parked));
      }
    });
  }

  /** Something for `key` arrived `count` times: wakes up to `count` parked reservers of it. */
  notify(key: string, count = 1): void {
    this.#seq.set(key, (this.#seq.get(key) ?? 0) + count);
    const set = this.#parked.get(key);
    if (!set) return;
    let left = count;
    // A Set iterates in insertion order: the longest-parked reserver goes first.
    for (const p of set) {
      if (left-- <= 0) break;
      p.wake();
    }
  }

  /** Wakes every parked reserver (closing). */
  wakeAll(): void {
    for (const set of this.#parked.values()) for (const p of set) p.wake();
  }

  /** Each key that has parked reservers, with how many. */
  *parkedCounts(): IterableIterator<[key: string, parked: number]> {
    for (const [k, set] of this.#parked) if (set.size > 0) yield [k, set.size];
  }

  /** Whether anyone is parked. */
  get idle(): boolean {
    for (const set of this.#parked.values()) if (set.size > 0) return false;
    return true;
  }
}
