import {
  type EntryState,
  type EntryStats,
  PUT_DEFAULTS,
  type PutOptions,
  type Queue,
  type QueueEntryId,
  type QueueInstance,
  type QueueStats,
  type Reserved,
  type ReserveOptions,
} from "../../contracts/queue.ts";
import { reportedState } from "../../contracts/reported-state.ts";
import { reserveLoop } from "../../contracts/reserve-loop.ts";
import { TakeGroups } from "../../contracts/take-groups.ts";
import { ClosedError, EntryLostError } from "../../errors.ts";
import { type Clock, systemClock } from "../../internal/clock.ts";
import { Notifier } from "../../internal/notifier.ts";
import { connectRedis, duplicateConnection, onceReady, type RedisConnection } from "./client.ts";
import { mapRedisError } from "./errors.ts";
import { RedisKeys } from "./keys.ts";
import {
  type Lease,
  type LeasedJob,
  type LeasingQueue,
  leaseOf,
  type RedisOwner,
  RedisReserved,
  type StartClaim,
} from "./redis-reserved.ts";
import { asArray, asNumber, runScript, type ScriptName, type ScriptReply } from "./scripts.ts";

export type { LeasedJob, RedisOwner, StartClaim, StartFields } from "./redis-reserved.ts";

export interface RedisQueueOptions {
  /** Every key starts with `{prefix}:`. @defaultValue "zerog" */
  prefix?: string;
  /** Source of every stored time (due times, leases), sent to the scripts. @defaultValue systemClock */
  clock?: Clock;
  /**
   * How often waiting reserves look for entries nobody announced: delays that ran out, expired
   * leases, and puts whose pub/sub wake-up was lost in a reconnect. One read per waited queue
   * per interval per process; announced puts, releases and kicks wake reservers at once.
   * @defaultValue 250
   */
  pollMs?: number;
  /** Close the client with the queue (false when a RedisBackend shares it). @defaultValue true */
  ownsClient?: boolean;
}

/**
 * Most reservers (and settles, in RedisBackend) one script call serves. Groups of a whole worker
 * move in lockstep — Redis runs the group's script while Node waits, then Node runs the jobs while
 * Redis waits; several smaller groups overlap the two. Measured at concurrency 50, alternating
 * with BullMQ: unbounded 0.81x (median of 6), 25 → 1.10x, 16 → 1.17x, 13 → 1.08–1.27x, 8 → 1.11x.
 */
export const REDIS_MAX_GROUP = 12;

export const REDIS_QUEUE_DEFAULTS = { prefix: "zerog", pollMs: 250, ownsClient: true } as const satisfies Omit<
  Required<RedisQueueOptions>,
  "clock"
>;

/** What a reserve that is already subscribed awaits before its attempt. */
const LISTENING = Promise.resolve();

/** A reserved entry, and the job hash its body names when it was asked for and has both fields. */
export interface ReservedWithJob {
  entry: Reserved;
  job?: LeasedJob;
}

/** Put options resolved to what the scripts store: integer ms and a priority. */
export function resolvePut(opts: PutOptions = {}): { priority: number; ttrMs: number; delayMs: number } {
  const o = { ...PUT_DEFAULTS, ...opts };
  return {
    priority: o.priority,
    ttrMs: Math.round(o.ttrSeconds * 1000),
    delayMs: o.delaySeconds > 0 ? Math.round(o.delaySeconds * 1000) : 0,
  };
}

/**
 * Beanstalkd's model in Redis (key layout in src/backends/redis/keys.ts): each transition is one Lua
 * script in src/backends/redis/lua. The reserves of one tick are grouped: one q-reserve call leases an
 * entry for each of them. A reserver that finds nothing parks on a Notifier; it is woken by
 * pub/sub (puts, releases and kicks publish on the queue's wake channel, heard on a second
 * connection opened on first need) or by a poll every `pollMs` for delays and expired leases.
 */
export class RedisQueue implements Queue {
  readonly kind = "redis";
  readonly capabilities = { multiProcess: true } as const;
  readonly keys: RedisKeys;
  readonly #client: RedisConnection;
  readonly #clock: Clock;
  readonly #pollMs: number;
  readonly #ownsClient: boolean;
  readonly #notifier = new Notifier();
  readonly #groups = new TakeGroups<Lease>({ maxMembers: REDIS_MAX_GROUP });
  /** What the handles this queue gives out use of it. */
  readonly #leasing: LeasingQueue;
  /** The pub/sub connection, opened by the first reserve that may wait. */
  #subscriber: Promise<RedisConnection> | undefined;
  /** Queues whose wake channel is subscribed (or being subscribed). */
  readonly #subscribed = new Map<string, Promise<void>>();
  /** Queues whose subscription is confirmed: a reserve of those has nothing to wait for. */
  readonly #listening = new Set<string>();
  #poller: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(client: RedisConnection, opts: RedisQueueOptions = {}) {
    this.#client = client;
    this.keys = new RedisKeys(opts.prefix ?? REDIS_QUEUE_DEFAULTS.prefix);
    this.#clock = opts.clock ?? systemClock;
    this.#pollMs = opts.pollMs ?? REDIS_QUEUE_DEFAULTS.pollMs;
    this.#ownsClient = opts.ownsClient ?? REDIS_QUEUE_DEFAULTS.ownsClient;
    this.#leasing = {
      keys: this.keys,
      clock: this.#clock,
      run: (name, keys, args) => this.#run(name, keys, args),
      entryStats: (id) => this.entryStats(id),
    };
  }

  async put(queue: string, body: string, opts: PutOptions = {}): Promise<QueueEntryId> {
    const { priority, ttrMs, delayMs } = resolvePut(opts);
    const k = this.keys;
    const args = [k.entryPrefix, queue, body, priority, ttrMs, delayMs, this.#clock.now(), k.wake(queue)];
    return String(await this.#run("q-put", [k.entrySeq, k.ready(queue), k.delayed(queue)], args));
  }

  async reserve(queues: readonly string[], opts: ReserveOptions): Promise<Reserved | null> {
    return (await this.#reserve(queues, opts))?.entry ?? null;
  }

  /**
   * `reserve`, plus the job hash the entry's body names (`{p}:job:<uuid>` for a body that is a
   * uuid as JSON), read by the same script, which with `claim` also starts the run of a job in
   * the plain case (q-reserve.lua says which): for RedisBackend.reserveJob, which saves the worker
   * its read and its claim. `job` is absent when the body names no hash, or the hash lacks `v`
   * or `doc`.
   */
  reserveWithJob(queues: readonly string[], opts: ReserveOptions, claim?: StartClaim): Promise<ReservedWithJob | null> {
    return this.#reserve(queues, opts, { claim });
  }

  /** `how`: absent for a plain reserve; else read each job, and start plain ones when `claim` is set. */
  async #reserve(
    queues: readonly string[],
    opts: ReserveOptions,
    how?: { claim: StartClaim | undefined },
  ): Promise<ReservedWithJob | null> {
    this.#open();
    const keys = queues.flatMap((q) => [this.keys.ready(q), this.keys.delayed(q), this.keys.reserved(q)]);
    const list = queues.join("\u0000");
    // Reservers asking for the same thing share a script call (one worker's slots, in practice).
    const group = how ? `${list}\u0000job\u0000${how.claim?.key ?? ""}` : list;
    return reserveLoop({
      queues,
      opts,
      notifier: this.#notifier,
      isClosed: () => this.#closed,
      // Subscribed before the attempt: a put landing after it is then heard, not missed.
      beforeAttempt: () =>
        opts.timeoutMs > 0 && !queues.every((q) => this.#listening.has(q)) ? this.#subscribe(queues) : LISTENING,
      take: async () => {
        const lease = await this.#takeGrouped(group, keys, how);
        if (!lease) return undefined;
        const entry = new RedisReserved(this.#leasing, lease);
        return lease.job ? { entry, job: lease.job } : { entry };
      },
      beforePark: () => this.#startPolling(),
    });
  }

  /**
   * Joins this tick's group of reservers of the same queues: one q-reserve call leases as many
   * entries as the group has members (one round trip and one script instead of one each, and
   * one look for due delays and expired leases) and hands them out most urgent first.
   */
  #takeGrouped(
    group: string,
    keys: readonly string[],
    how?: { claim: StartClaim | undefined },
  ): Promise<Lease | undefined> {
    return this.#groups.join(
      group,
      (close) =>
        // process.nextTick, called from a promise continuation, runs once every chain of this turn
        // has settled: each reserver that asks in this turn joins the group, and the script still
        // goes out in the same write as this turn's other commands (node-redis writes on setImmediate).
        new Promise<Lease[]>((resolve) => process.nextTick(() => resolve(this.#lease(close(), keys, how)))),
    );
  }

  /** One q-reserve call: leases up to `count` entries of the queues whose sets are `keys`. */
  async #lease(count: number, keys: readonly string[], how?: { claim: StartClaim | undefined }): Promise<Lease[]> {
    const now = this.#clock.now();
    const fields = how?.claim?.fieldsAt(now);
    const k = this.keys;
    const args = [k.entryPrefix, now, count, how ? k.jobPrefix : "", k.indexPrefix];
    // A claim's fields as JSON object members: the script appends them to a document it starts.
    if (fields) args.push(JSON.stringify(fields).slice(1, -1), fields.state, ...(how?.claim?.jobTypes ?? []));
    else args.push("", "");
    const reply = await this.#run("q-reserve", keys, args);
    return asArray(reply).map((lease) => leaseOf(lease, fields));
  }

  async kick(queue: string, bound: number): Promise<number> {
    const k = this.keys;
    const args = [k.entryPrefix, bound, this.#clock.now(), k.wake(queue)];
    return asNumber(await this.#run("q-kick", [k.buried(queue), k.ready(queue)], args));
  }

  async expire(id: QueueEntryId): Promise<boolean> {
    this.#open();
    if (!/^\d{1,15}$/.test(id)) return false;
    const k = this.keys;
    // The queue names the keys the script needs; an entry's queue never changes.
    const queue = await onceReady(this.#client, () => this.#client.hGet(k.entry(id), "queue"));
    if (queue === null || queue === undefined) return false;
    const reply = await this.#run("q-expire", [k.entry(id), k.reserved(queue)], [id, this.#clock.now(), k.wake(queue)]);
    return asNumber(reply) === 1;
  }

  async peek(id: QueueEntryId): Promise<string | null> {
    this.#open();
    const body = await onceReady(this.#client, () => this.#client.hGet(this.keys.entry(id), "body"));
    return body ?? null;
  }

  /** The server's `run_id` (new at every start) and uptime: a Redis restarted without its data starts ids again. */
  async instance(): Promise<QueueInstance> {
    this.#open();
    const info = await onceReady(this.#client, () => this.#client.info("server"));
    const field = (name: string): string => new RegExp(`^${name}:(.*)$`, "m").exec(info)?.[1]?.trim() ?? "";
    return { id: field("run_id"), uptimeSeconds: Number(field("uptime_in_seconds")) };
  }

  async entryStats(id: QueueEntryId): Promise<EntryStats | null> {
    this.#open();
    const h = await onceReady(this.#client, () => this.#client.hGetAll(this.keys.entry(id)));
    if (h.state === undefined) return null;
    const num = (field: string): number => Number(h[field] ?? 0);
    return {
      id,
      queue: h.queue ?? "",
      state: reportedState(h.state as EntryState, num("due_at"), this.#clock.now()),
      priority: num("priority"),
      ttrSeconds: num("ttr_ms") / 1000,
      reserves: num("reserves"),
      timeouts: num("timeouts"),
      releases: num("releases"),
      buries: num("buries"),
      kicks: num("kicks"),
    };
  }

  async stats(queue: string): Promise<QueueStats> {
    const k = this.keys;
    const keys = [k.ready(queue), k.delayed(queue), k.reserved(queue), k.buried(queue)];
    const [ready, delayed, reserved, buried] = asArray(await this.#run("q-stats", keys, [this.#clock.now()])).map(
      asNumber,
    );
    return { queue, ready: ready ?? 0, delayed: delayed ?? 0, reserved: reserved ?? 0, buried: buried ?? 0 };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#poller);
    this.#notifier.wakeAll();
    const subscriber = await this.#subscriber?.catch(() => undefined);
    await Promise.allSettled([subscriber?.close(), this.#ownsClient ? this.#client.close() : undefined]);
  }

  /** The reservation `entry` holds, for a backend script that settles it; EntryLostError if it is not this queue's. */
  ownerOf(entry: Reserved): RedisOwner {
    if (!(entry instanceof RedisReserved && entry.leasedBy === this.#leasing)) throw new EntryLostError(entry.id);
    return entry.owner;
  }

  /** The client the scripts run on (a RedisBackend runs its own scripts on it too). */
  get client(): RedisConnection {
    return this.#client;
  }

  /** The time every stored time is taken from. */
  get clock(): Clock {
    return this.#clock;
  }

  /** The pub/sub connection, opened on first need; a failed open is forgotten so the next reserve retries. */
  #connectSubscriber(): Promise<RedisConnection> {
    if (this.#closed) return Promise.reject(new ClosedError("redis queue"));
    this.#subscriber ??= duplicateConnection(this.#client).catch((err: unknown) => {
      this.#subscriber = undefined;
      throw err;
    });
    return this.#subscriber;
  }

  /** Subscribes to the wake channel of each of `queues` not yet subscribed. */
  async #subscribe(queues: readonly string[]): Promise<void> {
    const pending = queues.map((queue) => {
      let done = this.#subscribed.get(queue);
      if (!done) {
        const onWake = (count: string): void => this.#notifier.notify(queue, Number(count));
        done = this.#connectSubscriber()
          // Bounded like every call: a subscribe sent to a stalled server must not hold the reserve.
          .then((sub) => onceReady(sub, () => sub.subscribe(this.keys.wake(queue), onWake)))
          .then(
            () => void this.#listening.add(queue),
            (err: unknown) => {
              this.#subscribed.delete(queue); // the next reserve tries again
              throw mapRedisError(err);
            },
          );
        this.#subscribed.set(queue, done);
      }
      return done;
    });
    try {
      await Promise.all(pending);
    } catch (err) {
      if (!this.#closed) throw err; // closing: the reserve ends with null
    }
  }

  /** One timer while anyone waits: per waited queue, one read of how many entries are reservable. */
  #startPolling(): void {
    if (this.#poller) return;
    this.#poller = setInterval(() => {
      if (this.#closed || this.#notifier.idle) {
        clearInterval(this.#poller);
        this.#poller = undefined;
        return;
      }
      for (const [queue, parked] of [...this.#notifier.parkedCounts()]) {
        this.stats(queue).then(
          ({ ready }) => {
            if (ready > 0) this.#notifier.notify(queue, Math.min(ready, parked));
          },
          // Redis is down: parked reserves time out or meet the error on their next attempt.
          () => undefined,
        );
      }
    }, this.#pollMs);
    this.#poller.unref();
  }

  #run(name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): Promise<ScriptReply> {
    if (this.#closed) return Promise.reject(new ClosedError("redis queue"));
    return runScript(this.#client, name, keys, args);
  }

  #open(): void {
    if (this.#closed) throw new ClosedError("redis queue");
  }
}

/** A queue on its own connection to the Redis server at `url`. */
export async function createRedisQueue(
  opts: { url: string } & Omit<RedisQueueOptions, "ownsClient">,
): Promise<RedisQueue> {
  const { url, ...rest } = opts;
  return new RedisQueue(await connectRedis(url), rest);
}
