import { freemem } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { ControlMessage, FleetStore, WorkerRecord } from "../contracts/fleet.ts";
import type { Clock } from "../internal/clock.ts";

/** What the member reads from its worker to announce it. */
export type WorkerSnapshot = Omit<WorkerRecord, "seenAt" | "expiresAtMs" | "mem"> & { memUsed: number };

export interface FleetMemberOptions {
  fleet: FleetStore;
  clock: Clock;
  controlPollMs: number;
  announceIntervalMs: number;
  workerTtlMs: number;
  snapshot: () => WorkerSnapshot;
  /** Applies a control message; the member announces right after. */
  onControl: (msg: ControlMessage) => void;
  /** Given the paused job types (FleetStore.pausedTypes) at every poll, when set. */
  onPaused?: (jobTypes: readonly string[]) => void;
  onError: (err: unknown) => void;
}

/**
 * Keeps a worker in the fleet: takes its control messages and reads the paused job types every
 * `controlPollMs` (two reads side by side, so the poll takes no longer), and announces
 * its record when something changed (a message, a job starting or ending) or at least every
 * `announceIntervalMs`, so that managers see it within a poll and drop it once it stops
 * announcing for `workerTtlMs`. Backend trouble is reported and retried, never fatal.
 */
export class FleetMember {
  readonly #o: FleetMemberOptions;
  readonly #stop = new AbortController();
  #loop: Promise<void> | null = null;
  #dirty = true;
  #lastAnnounce = 0;

  constructor(opts: FleetMemberOptions) {
    this.#o = opts;
  }

  /**
   * Announces the worker once and then keeps it announced. Resolves after the first announcement
   * (or its failure, which the loop retries): a worker must be in the fleet before it starts a
   * run, or a run of an unannounced worker could be taken for a dead one's.
   */
  async start(): Promise<void> {
    if (this.#loop) return;
    try {
      await this.#tick();
    } catch (err) {
      this.#dirty = true;
      this.#o.onError(err);
    }
    this.#loop ??= this.#run();
  }

  /** Something announced changed: say so at the next poll. */
  changed(): void {
    this.#dirty = true;
  }

  /** Announces the final state once, then leaves the fleet (the record and its inbox are removed). */
  async stop(finalState?: () => void): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    finalState?.();
    const { fleet, snapshot } = this.#o;
    try {
      await fleet.announce(this.#record(snapshot()));
      await fleet.removeWorker(snapshot().workerId);
    } catch (err) {
      // Left to expire: managers drop it after workerTtlMs.
      this.#o.onError(err);
    }
  }

  async #run(): Promise<void> {
    const o = this.#o;
    while (!this.#stop.signal.aborted) {
      try {
        await this.#tick();
      } catch (err) {
        o.onError(err);
      }
      await sleep(o.controlPollMs, undefined, { signal: this.#stop.signal, ref: false }).catch(() => undefined);
    }
  }

  async #tick(): Promise<void> {
    const o = this.#o;
    const workerId = o.snapshot().workerId;
    const [messages, paused] = await Promise.allSettled([
      o.fleet.takeControl(workerId),
      o.onPaused ? o.fleet.pausedTypes() : Promise.resolve([]),
    ]);
    // Taken messages are applied even when the paused read failed: they are gone from the inbox.
    if (messages.status === "rejected") throw messages.reason;
    for (const msg of messages.value) {
      o.onControl(msg);
      this.#dirty = true;
    }
    if (paused.status === "fulfilled") o.onPaused?.(paused.value);
    if (this.#dirty || o.clock.now() - this.#lastAnnounce >= o.announceIntervalMs) {
      this.#dirty = false;
      const record = this.#record(o.snapshot());
      try {
        await o.fleet.announce(record);
        this.#lastAnnounce = o.clock.now();
      } catch (err) {
        this.#dirty = true;
        throw err;
      }
    }
    // Reported after the announcement: a worker that cannot read the paused types must still stay alive in the fleet.
    if (paused.status === "rejected") throw paused.reason;
  }

  #record(s: WorkerSnapshot): WorkerRecord {
    const now = this.#o.clock.now();
    const { memUsed, ...rest } = s;
    return {
      ...rest,
      mem: { available: freemem(), used: memUsed },
      seenAt: new Date(now).toISOString(),
      expiresAtMs: now + this.#o.workerTtlMs,
    };
  }
}
