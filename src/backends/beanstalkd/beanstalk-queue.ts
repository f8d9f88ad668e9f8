import type {
  EntryStats,
  PutOptions,
  Queue,
  QueueEntryId,
  QueueInstance,
  QueueStats,
  Reserved,
  ReserveOptions,
} from "../../contracts/queue.ts";
import { ClosedError, InvalidConfigError } from "../../errors.ts";
import { BeanstalkReserved, type ReservationHost } from "./beanstalk-reserved.ts";
import { BeanstalkClient, type BeanstalkClientOptions, type ReserveResult } from "./client.ts";
import { MAX_UINT32 } from "./commands.ts";
import { beanstalkPutParams, checkQueueName } from "./put-params.ts";
import { ReservePool, watchExactly } from "./reserve-pool.ts";
import type { JobStats } from "./stats.ts";
import { MAX_TUBE_NAME_BYTES } from "./tube-name.ts";
import { parseBeanstalkUrl } from "./url.ts";

/** Where the server is, and the client's timeouts and retries (see BeanstalkClientOptions for each default). */
export type BeanstalkQueueOptions = BeanstalkClientOptions;

/** Longest delay setTimeout honours; a longer sub-second remainder is left to the server's timeout. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a reserve race ends with when its signal, its sub-second timeout or close came first. */
const STOPPED = Symbol("stopped");

/**
 * The queue contract on a Beanstalkd server: each queue is the tube of the same name.
 *
 * - Puts, kicks and stats share one pipelined connection (`use` is sent only when the tube changes).
 * - Each concurrent reserve takes a connection of its own from a `ReservePool`, and the entry it
 *   reserves keeps that connection until it is deleted, released or buried: the server lets
 *   only the reserving connection do those (and touch), and a blocked reserve blocks its whole
 *   connection. An entry whose connection dies goes back to ready (the server does it); its
 *   handle then answers EntryLostError.
 * - Each reserve costs one more round trip: a `stats-job` on the reserving connection, for the
 *   entry's tube, priority and TTR. A handle left untouched past its TTR nudges the server
 *   (see `TTR_NUDGE_GRACE_MS`), which Beanstalkd 1.12 needs to time it out reliably.
 * - A delete is one round trip within half the TTR of the reserve or the last touch, else a
 *   touch then a delete (see `BeanstalkReserved.delete`).
 * - Beanstalkd counts whole seconds: delays and TTRs round up (TTR at least 1 s), and a reserve
 *   waits `ceil(timeoutMs / 1000)` seconds on the server. A timeout that is not a whole number
 *   of seconds, an aborted signal and `close` end the wait early by closing that reserve's
 *   connection: a job the server handed out in that instant returns to ready at once.
 * - The server keeps every time itself; no clock is taken.
 */
export class BeanstalkQueue implements Queue {
  readonly kind = "beanstalkd";
  readonly capabilities = { multiProcess: true, maxQueueNameBytes: MAX_TUBE_NAME_BYTES } as const;
  readonly #options: BeanstalkClientOptions;
  readonly #commands: BeanstalkClient;
  readonly #pool: ReservePool;
  /** Ends each pending reserve (on close). */
  readonly #stops = new Set<() => void>();
  #closed = false;
  readonly #host: ReservationHost = {
    isClosed: () => this.#closed,
    entryStats: (id) => this.entryStats(id),
    giveBack: (client, reusable) => {
      if (reusable && !this.#closed) this.#pool.release(client);
      else this.#pool.discard(client);
    },
  };

  constructor(opts: BeanstalkQueueOptions) {
    this.#options = opts;
    this.#commands = new BeanstalkClient(opts);
    this.#pool = new ReservePool(() => new BeanstalkClient(this.#options));
  }

  /** Opens the shared connection now; BackendDownError when the server cannot be reached. */
  connect(): Promise<void> {
    return this.#commands.connect();
  }

  /** Connections open for reserves and reserved entries (for tests and diagnostics). */
  get reserveConnections(): number {
    return this.#pool.size;
  }

  async put(queue: string, body: string, opts: PutOptions = {}): Promise<QueueEntryId> {
    this.#open();
    checkQueueName(queue);
    const params = beanstalkPutParams(opts);
    const c = this.#commands;
    // Both sent now, in this order, so no other put's `use` can come between them.
    const [, id] = await Promise.all([c.use(queue), c.put(body, params)]);
    return id;
  }

  async reserve(queues: readonly string[], opts: ReserveOptions): Promise<Reserved | null> {
    this.#open();
    const tubes = [...new Set(queues.map(checkQueueName))];
    if (tubes.length === 0) throw new InvalidConfigError("reserve needs at least one queue name");
    if (opts.signal?.aborted) return null;
    const timeoutMs = Math.max(0, opts.timeoutMs);
    const client = this.#pool.acquire(tubes);
    const watched = watchExactly(client, tubes);
    const reserving = Number.isFinite(timeoutMs)
      ? client.reserveWithTimeout(Math.min(Math.ceil(timeoutMs / 1000), MAX_UINT32))
      : client.reserve();
    const reply = Promise.all([watched, reserving]).then(([, r]) => r);
    // A whole number of seconds the server times out by itself; anything else is cut here.
    const cut = Number.isFinite(timeoutMs) && timeoutMs % 1000 !== 0 && timeoutMs <= MAX_TIMER_MS;
    const stop = this.#stopWhen(opts.signal, cut ? timeoutMs : undefined);
    let result: ReserveResult | typeof STOPPED;
    try {
      result = await Promise.race([reply, stop.promise]);
    } catch (err) {
      this.#pool.discard(client);
      if (this.#closed || opts.signal?.aborted) return null;
      throw err;
    } finally {
      stop.dispose();
    }
    if (result === STOPPED) {
      this.#pool.discard(client);
      return null;
    }
    switch (result.kind) {
      case "timed-out":
        this.#pool.release(client);
        return null;
      case "deadline-soon":
        // An idle connection holds no job, so this means one we lost track of: closing frees it.
        this.#pool.discard(client);
        return null;
      case "reserved":
        return this.#handle(client, result.job.id, result.job.body.toString("utf8"), performance.now());
    }
  }

  async kick(queue: string, bound: number): Promise<number> {
    this.#open();
    checkQueueName(queue);
    const most = Math.min(Math.floor(bound), MAX_UINT32);
    if (!(most > 0)) return 0;
    // `kick` kicks delayed jobs when the tube has no buried ones; the contract kicks buried ones
    // only, so ask first. (A concurrent kick emptying the buried list in between would let this
    // one kick delayed jobs early: a narrow race, and harmless beyond running them early.)
    const buried = (await this.#commands.statsTube(queue))?.currentJobsBuried ?? 0;
    if (buried === 0) return 0;
    const c = this.#commands;
    const [, kicked] = await Promise.all([c.use(queue), c.kick(Math.min(most, buried))]);
    return kicked;
  }

  async entryStats(id: QueueEntryId): Promise<EntryStats | null> {
    this.#open();
    if (!/^\d{1,20}$/.test(id)) return null; // not a Beanstalkd job id, so no entry of this queue
    const s = await this.#commands.statsJob(id);
    if (!s) return null;
    return {
      id,
      queue: s.tube,
      state: s.state,
      priority: s.pri,
      ttrSeconds: s.ttr,
      reserves: s.reserves,
      timeouts: s.timeouts,
      releases: s.releases,
      buries: s.buries,
      kicks: s.kicks,
    };
  }

  async stats(queue: string): Promise<QueueStats> {
    this.#open();
    checkQueueName(queue);
    // The server drops a tube that is empty and unused: NOT_FOUND is an empty queue.
    const s = await this.#commands.statsTube(queue);
    return {
      queue,
      ready: s?.currentJobsReady ?? 0,
      delayed: s?.currentJobsDelayed ?? 0,
      reserved: s?.currentJobsReserved ?? 0,
      buried: s?.currentJobsBuried ?? 0,
    };
  }

  /** `peek <id>` on the shared connection: the server answers with the body in any state (reserved too). */
  async peek(id: QueueEntryId): Promise<string | null> {
    this.#open();
    if (!/^\d{1,20}$/.test(id)) return null; // not a Beanstalkd job id, so no entry of this queue
    const job = await this.#commands.peek(id);
    return job ? job.body.toString("utf8") : null;
  }

  /** From the server's `stats`: its `id` is drawn at random each time it starts. */
  async instance(): Promise<QueueInstance> {
    this.#open();
    const s = await this.#commands.stats();
    return { id: s.id, uptimeSeconds: s.uptime };
  }

  /** Ends pending reserves with null and closes every connection: entries still reserved return to ready. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const stop of [...this.#stops]) stop();
    this.#pool.closeAll();
    await this.#commands.quit();
  }

  /**
   * The handle for a job this connection just reserved. One `stats-job` on that connection names
   * its tube (the RESERVED reply does not), and its priority and TTR, which the handle keeps for
   * bury, release and its TTR nudge. Null when the job is already gone.
   */
  async #handle(client: BeanstalkClient, id: string, body: string, reservedAt: number): Promise<Reserved | null> {
    let s: JobStats | null;
    try {
      s = await client.statsJob(id);
    } catch (err) {
      this.#pool.discard(client); // the job returns to ready with the connection
      if (this.#closed) return null;
      throw err;
    }
    if (!s) {
      this.#pool.release(client);
      return null;
    }
    return new BeanstalkReserved(this.#host, client, {
      id,
      queue: s.tube,
      body,
      priority: s.pri,
      ttrSeconds: s.ttr,
      reservedAt,
    });
  }

  /** Resolves with STOPPED when `signal` aborts, after `cutMs`, or on close; `dispose` stops listening. */
  #stopWhen(signal: AbortSignal | undefined, cutMs: number | undefined) {
    let dispose = (): void => undefined;
    const promise = new Promise<typeof STOPPED>((resolve) => {
      const stop = (): void => resolve(STOPPED);
      const timer = cutMs === undefined ? undefined : setTimeout(stop, cutMs);
      signal?.addEventListener("abort", stop, { once: true });
      this.#stops.add(stop);
      dispose = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", stop);
        this.#stops.delete(stop);
      };
    });
    return { promise, dispose };
  }

  #open(): void {
    if (this.#closed) throw new ClosedError("beanstalkd queue");
  }
}

/** A queue on the Beanstalkd server at `url` (`beanstalk://host[:port]`, port 11300 by default), connected. */
export async function createBeanstalkQueue(
  opts: { url: string } & Omit<BeanstalkQueueOptions, "host" | "port">,
): Promise<BeanstalkQueue> {
  const { url, ...rest } = opts;
  const queue = new BeanstalkQueue({ ...rest, ...parseBeanstalkUrl(url) });
  try {
    await queue.connect();
  } catch (err) {
    await queue.close();
    throw err;
  }
  return queue;
}
