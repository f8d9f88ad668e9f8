import { BackendStalledError } from "../../errors.ts";

/** A call waiting for its answer: when it started, how to fail it, and its neighbours in start order. */
interface Waiting {
  readonly sinceMs: number;
  readonly fail: (err: unknown) => void;
  prev: Waiting | undefined;
  next: Waiting | undefined;
}

/**
 * Bounds how long the calls on one Redis connection wait for their answers, with one timer for
 * the connection instead of one per command (node-redis's per-command `timeout` arms an
 * AbortSignal.timeout for each command, and only until the command is written: a command already
 * sent to a frozen server waits forever all the same).
 *
 * Redis answers a connection's commands in order, so once the oldest unanswered call has waited
 * `timeoutMs`, nothing behind it can be answered sooner: every waiting call fails with
 * BackendStalledError. From then until the server answers again (any of the calls given up on
 * settles, or the client reconnects), the connection counts as stalled and new calls fail at once
 * without being sent, so a frozen server does not pile up writes that it would apply on waking,
 * long after their callers were told 503. The commands already sent stay with node-redis, which
 * matches their late answers to them and drops them: the connection stays usable.
 */
export class StallWatch {
  readonly timeoutMs: number;
  /** The calls waiting, oldest first: a list, so a call answered out of order leaves in O(1). */
  #oldest: Waiting | undefined;
  #newest: Waiting | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stalled: BackendStalledError | null = null;

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
  }

  /** Whether the connection is stalled now (a call gave up, and no answer has come since). */
  get stalled(): boolean {
    return this.#stalled !== null;
  }

  /**
   * Runs `op` (which sends its commands on the watched connection), failing it with
   * BackendStalledError if the connection stalls before it settles; its own failures go
   * through `mapError`. Promise callbacks rather than an async function: this runs for every
   * command, and each async layer costs a promise and a microtask.
   */
  run<T>(op: () => Promise<T>, mapError: (err: unknown) => unknown): Promise<T> {
    if (this.#stalled) return Promise.reject(this.#stalled);
    return new Promise<T>((resolve, reject) => {
      const w: Waiting = { sinceMs: performance.now(), fail: reject, prev: this.#newest, next: undefined };
      if (this.#newest) this.#newest.next = w;
      else this.#oldest = w;
      this.#newest = w;
      if (this.#timer === undefined) this.#arm(this.timeoutMs);
      let sent: Promise<T>;
      try {
        sent = op();
      } catch (err) {
        sent = Promise.reject(err);
      }
      sent.then(
        (value) => {
          this.#answered(w);
          resolve(value);
        },
        (err: unknown) => {
          this.#answered(w);
          reject(mapError(err));
        },
      );
    });
  }

  /** The connection is new (a reconnect): whatever stalled the old one is gone with it. */
  reset(): void {
    this.#stalled = null;
  }

  /** A call settled, maybe long after it was given up on: the server (or the socket) answers again. */
  #answered(w: Waiting): void {
    this.#stalled = null;
    if (w.prev) w.prev.next = w.next;
    else if (this.#oldest === w) this.#oldest = w.next;
    else return; // given up on: already out of the list
    if (w.next) w.next.prev = w.prev;
    else this.#newest = w.prev;
  }

  /** Lazily re-armed: a call answered in time costs no timer work; the timer looks at the oldest when it fires. */
  #arm(delayMs: number): void {
    this.#timer = setTimeout(() => this.#check(), delayMs);
    // A wait in progress must not keep an otherwise finished process alive.
    this.#timer.unref();
  }

  #check(): void {
    this.#timer = undefined;
    const oldest = this.#oldest;
    if (oldest === undefined) return;
    const waitedMs = performance.now() - oldest.sinceMs;
    if (waitedMs < this.timeoutMs) {
      this.#arm(this.timeoutMs - waitedMs);
      return;
    }
    const stalled = new BackendStalledError("redis", this.timeoutMs);
    this.#stalled = stalled;
    this.#oldest = undefined;
    this.#newest = undefined;
    for (let w: Waiting | undefined = oldest; w; ) {
      const next: Waiting | undefined = w.next;
      w.prev = undefined;
      w.next = undefined;
      w.fail(stalled);
      w = next;
    }
  }
}
