import {
  type EntryState,
  type EntryStats,
  PUT_DEFAULTS,
  type PutOptions,
  type Queue,
  type QueueEntryId,
  type QueueStats,
  type Reserved,
  type ReserveOptions,
} from "../../contracts/queue.ts";
import { reportedState } from "../../contracts/reported-state.ts";
import { reserveLoop } from "../../contracts/reserve-loop.ts";
import { ClosedError, EntryLostError } from "../../errors.ts";
import { type Clock, systemClock } from "../../internal/clock.ts";
import { Notifier } from "../../internal/notifier.ts";

interface Entry {
  id: number;
  queue: string;
  body: string;
  priority: number;
  ttrMs: number;
  state: EntryState;
  /** ready: put time; delayed: when it becomes ready; reserved: lease expiry. */
  dueAt: number;
  reserves: number;
  timeouts: number;
  releases: number;
  buries: number;
  kicks: number;
}

/**
 * Beanstalkd's model in this process's memory: for tests and single-process use.
 * Scans linearly on reserve, which is fine at test sizes; the SQLite queue is the fast embedded one.
 */
export class MemoryQueue implements Queue {
  readonly kind = "memory";
  readonly capabilities = { multiProcess: false } as const;
  readonly #entries = new Map<number, Entry>();
  readonly #notifier = new Notifier();
  readonly #clock: Clock;
  #nextId = 1;
  #closed = false;

  constructor(opts: { clock?: Clock } = {}) {
    this.#clock = opts.clock ?? systemClock;
  }

  async put(queue: string, body: string, opts: PutOptions = {}): Promise<QueueEntryId> {
    this.#open();
    const o = { ...PUT_DEFAULTS, ...opts };
    const now = this.#clock.now();
    const id = this.#nextId++;
    this.#entries.set(id, {
      id,
      queue,
      body,
      priority: o.priority,
      ttrMs: o.ttrSeconds * 1000,
      state: o.delaySeconds > 0 ? "delayed" : "ready",
      dueAt: now + o.delaySeconds * 1000,
      reserves: 0,
      timeouts: 0,
      releases: 0,
      buries: 0,
      kicks: 0,
    });
    if (o.delaySeconds <= 0) this.#notifier.notify(queue);
    return String(id);
  }

  async reserve(queues: readonly string[], opts: ReserveOptions): Promise<Reserved | null> {
    return reserveLoop({
      queues,
      opts,
      notifier: this.#notifier,
      isClosed: () => this.#closed,
      take: () => {
        const entry = this.#takeNext(queues);
        return entry ? this.#handle(entry) : undefined;
      },
      // Delayed entries and expiring leases become due without a put, so poll too.
      maxParkMs: 50,
    });
  }

  async kick(queue: string, bound: number): Promise<number> {
    this.#open();
    let kicked = 0;
    for (const e of this.#entries.values()) {
      if (kicked >= bound) break;
      if (e.queue !== queue || e.state !== "buried") continue;
      e.state = "ready";
      e.dueAt = this.#clock.now();
      e.kicks++;
      kicked++;
    }
    if (kicked > 0) this.#notifier.notify(queue, kicked);
    return kicked;
  }

  async expire(id: QueueEntryId): Promise<boolean> {
    this.#open();
    const e = this.#entries.get(Number(id));
    const now = this.#clock.now();
    if (e?.state !== "reserved" || e.dueAt <= now) return false;
    e.dueAt = now;
    this.#notifier.notify(e.queue, 1);
    return true;
  }

  async entryStats(id: QueueEntryId): Promise<EntryStats | null> {
    this.#open();
    const e = this.#entries.get(Number(id));
    return e ? this.#statsOf(e) : null;
  }

  async stats(queue: string): Promise<QueueStats> {
    this.#open();
    const s: QueueStats = { queue, ready: 0, delayed: 0, reserved: 0, buried: 0 };
    for (const e of this.#entries.values()) if (e.queue === queue) s[this.#stateOf(e)]++;
    return s;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#notifier.wakeAll();
  }

  #takeNext(queues: readonly string[]): Entry | null {
    const now = this.#clock.now();
    let best: Entry | null = null;
    for (const e of this.#entries.values()) {
      if (e.state === "buried" || e.dueAt > now || !queues.includes(e.queue)) continue;
      if (!best || e.priority < best.priority || (e.priority === best.priority && e.id < best.id)) best = e;
    }
    if (!best) return null;
    if (best.state === "reserved") best.timeouts++;
    best.state = "reserved";
    best.reserves++;
    best.dueAt = now + best.ttrMs;
    return best;
  }

  #handle(e: Entry): Reserved {
    const token = e.reserves;
    const owned = (): Entry => {
      const cur = this.#entries.get(e.id);
      if (cur?.state !== "reserved" || cur.reserves !== token) throw new EntryLostError(String(e.id));
      return cur;
    };
    return {
      id: String(e.id),
      queue: e.queue,
      body: e.body,
      delete: async () => {
        owned();
        this.#entries.delete(e.id);
      },
      release: async ({ delaySeconds, priority }) => {
        const cur = owned();
        cur.state = delaySeconds > 0 ? "delayed" : "ready";
        cur.dueAt = this.#clock.now() + delaySeconds * 1000;
        if (priority !== undefined) cur.priority = priority;
        cur.releases++;
        if (delaySeconds <= 0) this.#notifier.notify(cur.queue);
      },
      touch: async () => {
        const cur = owned();
        cur.dueAt = this.#clock.now() + cur.ttrMs;
      },
      bury: async () => {
        const cur = owned();
        cur.state = "buried";
        cur.buries++;
      },
      stats: async () => {
        const cur = this.#entries.get(e.id);
        if (!cur) throw new EntryLostError(String(e.id));
        return this.#statsOf(cur);
      },
    };
  }

  /** The state Beanstalkd would report: due delayed entries and expired leases count as ready. */
  #stateOf(e: Entry): EntryState {
    return reportedState(e.state, e.dueAt, this.#clock.now());
  }

  #statsOf(e: Entry): EntryStats {
    return {
      id: String(e.id),
      queue: e.queue,
      state: this.#stateOf(e),
      priority: e.priority,
      ttrSeconds: e.ttrMs / 1000,
      reserves: e.reserves,
      timeouts: e.timeouts,
      releases: e.releases,
      buries: e.buries,
      kicks: e.kicks,
    };
  }

  #open(): void {
    if (this.#closed) throw new ClosedError("memory queue");
  }
}
