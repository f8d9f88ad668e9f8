import type { EntryStats, Reserved } from "../../contracts/queue.ts";
import { BackendDownError, ClosedError, EntryLostError } from "../../errors.ts";
import type { BeanstalkClient } from "./client.ts";
import { BACKEND_KIND } from "./errors.ts";
import { checkPriority, wholeSeconds } from "./put-params.ts";

/** What a handle needs from its queue. */
export interface ReservationHost {
  isClosed(): boolean;
  entryStats(id: string): Promise<EntryStats | null>;
  /** The handle is done with its connection: back to the pool when `reusable`, else closed. */
  giveBack(client: BeanstalkClient, reusable: boolean): void;
}

/** A reserved job as its reserving connection's `stats-job` described it. */
export interface ReservedJob {
  id: string;
  queue: string;
  body: string;
  priority: number;
  ttrSeconds: number;
  /** `performance.now()` when the reserve's reply arrived: the TTR clock started just before. */
  reservedAt: number;
}

/**
 * How long after a reservation's TTR has passed, untouched, the handle nudges the server with a
 * harmless command on the reserving connection. Beanstalkd 1.12 (Debian's package) can lose
 * track of a silent connection's TTR while other connections keep it busy (upstream issues #262
 * and #380): the job then stays reserved long past its TTR. Any command on that connection makes
 * the server reschedule it, and so time the job out, counted as a timeout as usual. The 50 ms
 * let a server that did its job first; a nudge after that costs one line.
 */
const TTR_NUDGE_GRACE_MS = 50;

/** After one operation: the entry is still ours, or no longer ours (settled, or lost). */
type After = "held" | "settled" | "lost";

/**
 * A job reserved on its own connection. Every operation goes over that connection (the server
 * only lets the reserving connection delete, release, touch or bury a reserved job) and runs
 * after the previous one. Once the connection has dropped, the server has put the job back to
 * ready, so every later call fails with EntryLostError without asking.
 */
export class BeanstalkReserved implements Reserved {
  readonly id: string;
  readonly queue: string;
  readonly body: string;
  /** Kept for bury and for a release without a priority: the protocol wants one for both. */
  readonly #priority: number;
  readonly #ttrMs: number;
  readonly #client: BeanstalkClient;
  readonly #generation: number;
  readonly #host: ReservationHost;
  #held = true;
  /** When the TTR clock last (re)started, on this process's monotonic clock, at the latest. */
  #ttrFrom: number;
  #chain: Promise<unknown> = Promise.resolve();
  #nudge: NodeJS.Timeout | undefined;

  constructor(host: ReservationHost, client: BeanstalkClient, job: ReservedJob) {
    this.#host = host;
    this.#client = client;
    this.#generation = client.generation;
    this.id = job.id;
    this.queue = job.queue;
    this.body = job.body;
    this.#priority = job.priority;
    this.#ttrMs = job.ttrSeconds * 1000;
    this.#ttrFrom = job.reservedAt;
    this.#armNudge();
  }

  /**
   * A plain `delete` would also remove a job whose TTR passed and that sits ready for another
   * worker (the server lets any connection delete a ready job). So once half the TTR has gone by
   * since the reserve or the last touch, it touches first and deletes only once the touch proved
   * the job is still reserved by this connection. Before that, on the same connection that holds
   * it, the job cannot have timed out: one round trip instead of two, on every job's last step.
   */
  delete(): Promise<void> {
    return this.#op(async (c) => {
      const surelyHeld = performance.now() - this.#ttrFrom < this.#ttrMs / 2;
      if (!surelyHeld && !(await c.touch(this.id))) return "lost";
      return (await c.delete(this.id)) ? "settled" : "lost";
    });
  }

  /** Without `priority`, the job keeps the one it has. */
  release(opts: { delaySeconds: number; priority?: number }): Promise<void> {
    return this.#op(async (c) => {
      const priority = opts.priority === undefined ? this.#priority : checkPriority(opts.priority);
      const done = await c.release(this.id, priority, wholeSeconds(opts.delaySeconds));
      if (done === "buried") {
        // No longer ours either way; the server ran out of memory growing its ready queue.
        this.#end();
        throw new BackendDownError(
          BACKEND_KIND,
          new Error(`release of job ${this.id} buried it: the server is out of memory`),
        );
      }
      return done === "released" ? "settled" : "lost";
    });
  }

  touch(): Promise<void> {
    return this.#op(async (c) => {
      // Taken before sending: the server restarts the TTR later than this, never earlier.
      const sentAt = performance.now();
      if (!(await c.touch(this.id))) return "lost";
      this.#ttrFrom = sentAt;
      this.#armNudge();
      return "held";
    });
  }

  /** Keeps the job's priority. */
  bury(): Promise<void> {
    return this.#op(async (c) => ((await c.bury(this.id, this.#priority)) ? "settled" : "lost"));
  }

  async stats(): Promise<EntryStats> {
    if (this.#host.isClosed()) throw new ClosedError("beanstalkd queue");
    const s = await this.#host.entryStats(this.id);
    if (!s) throw new EntryLostError(this.id);
    return s;
  }

  /** Runs `run` after the previous operation, and only while the reservation can still be ours. */
  #op(run: (client: BeanstalkClient) => Promise<After>): Promise<void> {
    const next = this.#chain.then(() => this.#run(run));
    this.#chain = next.catch(() => undefined);
    return next;
  }

  async #run(run: (client: BeanstalkClient) => Promise<After>): Promise<void> {
    if (this.#host.isClosed()) throw new ClosedError("beanstalkd queue");
    if (!this.#held) throw new EntryLostError(this.id);
    if (this.#connectionLost()) {
      this.#end();
      throw new EntryLostError(this.id);
    }
    let after: After;
    try {
      after = await run(this.#client);
    } catch (err) {
      if (this.#host.isClosed()) throw new ClosedError("beanstalkd queue");
      // The connection dropped (or went silent and was dropped) mid-call: the server has
      // returned the job to ready, so the reservation is gone whatever the call was.
      if (this.#connectionLost()) {
        this.#end();
        throw new EntryLostError(this.id);
      }
      throw err;
    }
    if (after !== "held") this.#end();
    if (after === "lost") throw new EntryLostError(this.id);
  }

  #connectionLost(): boolean {
    return !this.#client.isOpen || this.#client.generation !== this.#generation;
  }

  /** (Re)starts the TTR clock this handle keeps to nudge the server when the TTR passes untouched. */
  #armNudge(): void {
    clearTimeout(this.#nudge);
    this.#nudge = setTimeout(() => {
      if (this.#held && !this.#connectionLost()) this.#client.listTubeUsed().catch(() => undefined);
    }, this.#ttrMs + TTR_NUDGE_GRACE_MS);
    this.#nudge.unref();
  }

  /** The connection holds no job of ours now: idle again while it is still the same socket, else closed. */
  #end(): void {
    if (!this.#held) return;
    this.#held = false;
    clearTimeout(this.#nudge);
    this.#host.giveBack(this.#client, !this.#connectionLost());
  }
}
