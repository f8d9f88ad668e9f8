import type { EntryStats, Reserved } from "../../contracts/queue.ts";
import { EntryLostError } from "../../errors.ts";
import type { Clock } from "../../internal/clock.ts";
import type { RedisKeys } from "./keys.ts";
import { asArray, asNumber, type ScriptName, type ScriptReply } from "./scripts.ts";

/** A reserved entry's owner: the entry is still reserved with the reserve count it was handed with. */
export interface RedisOwner {
  id: string;
  queue: string;
  token: string;
}

/** The fields a reserve sets on a job whose run it starts, besides `attempt`; `state` is the new state. */
export type StartFields = Readonly<Record<string, unknown>> & { readonly state: string };

/** Asks a reserve to start the run of each plain job it leases (for RedisBackend.reserveJob). */
export interface StartClaim {
  /** Reservers with equal keys share one script call (one worker's slots). */
  readonly key: string;
  /** The job types whose runs may be started. */
  readonly jobTypes: readonly string[];
  /** The fields of a run started at `nowMs`. */
  fieldsAt(nowMs: number): StartFields;
}

/** The job hash's fields an entry's body names, read by the reserve that leased it (RedisBackend.reserveJob). */
export interface LeasedJob {
  /** The hash's `v` (the document's CAS version); the new one when `started`. */
  version: string;
  /** The hash's `doc` (the document's JSON, not parsed); as it was before when `started`. */
  doc: string;
  /** Set when the reserve started the run: the fields it set besides `attempt`, which it counted up. */
  started?: StartFields;
}

/** One lease as q-reserve.lua answers it; `id` and `priority` rank it in its group (TakeGroups). */
export interface Lease {
  id: number;
  priority: number;
  owner: RedisOwner;
  body: string;
  job?: LeasedJob;
}

/**
 * A lease of q-reserve's reply: {id, queue, body, reserves, priority[, version, doc, started]};
 * `claimed` is what the call asked started runs to set.
 */
export function leaseOf(reply: ScriptReply, claimed: StartFields | undefined): Lease {
  const [id, queue, body, reserves, priority, version, doc, started] = asArray(reply);
  if (id == null || queue == null || body == null || reserves == null || priority == null)
    throw new Error(`q-reserve answered ${JSON.stringify(reply)}`);
  const lease: Lease = {
    id: Number(id),
    priority: Number(priority),
    owner: { id: String(id), queue: String(queue), token: String(reserves) },
    body: String(body),
  };
  // As RedisDatastore.read: a document needs both fields, and empty ones count as missing.
  if (version && doc) {
    lease.job = { version: String(version), doc: String(doc) };
    if (started === 1 && claimed) lease.job.started = claimed;
  }
  return lease;
}

/** What a handle needs from the queue that leased it. */
export interface LeasingQueue {
  readonly keys: RedisKeys;
  readonly clock: Clock;
  run(name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): Promise<ScriptReply>;
  entryStats(id: string): Promise<EntryStats | null>;
}

/**
 * The handle of one lease. A class, not an object of closures: a worker makes one per job, and
 * the keys its methods need are built only when one is called (the worker settles most entries
 * through RedisBackend.settle instead).
 */
export class RedisReserved implements Reserved {
  readonly owner: RedisOwner;
  readonly body: string;
  /** The queue that leased it; only that queue's backend may settle it (RedisQueue.ownerOf). */
  readonly leasedBy: LeasingQueue;

  constructor(leasedBy: LeasingQueue, lease: Lease) {
    this.leasedBy = leasedBy;
    this.owner = lease.owner;
    this.body = lease.body;
  }

  get id(): string {
    return this.owner.id;
  }

  get queue(): string {
    return this.owner.queue;
  }

  delete(): Promise<void> {
    const k = this.leasedBy.keys;
    return this.#owned("q-delete", [k.entry(this.id), k.ready(this.queue), k.reserved(this.queue)]);
  }

  release({ delaySeconds, priority }: { delaySeconds: number; priority?: number }): Promise<void> {
    const k = this.leasedBy.keys;
    const q = this.queue;
    return this.#owned(
      "q-release",
      [k.entry(this.id), k.ready(q), k.delayed(q), k.reserved(q)],
      [delaySeconds > 0 ? Math.round(delaySeconds * 1000) : 0, priority ?? "", k.wake(q)],
    );
  }

  touch(): Promise<void> {
    const k = this.leasedBy.keys;
    return this.#owned("q-touch", [k.entry(this.id), k.ready(this.queue), k.reserved(this.queue)]);
  }

  bury(): Promise<void> {
    const k = this.leasedBy.keys;
    const q = this.queue;
    return this.#owned("q-bury", [k.entry(this.id), k.ready(q), k.reserved(q), k.buried(q)]);
  }

  async stats(): Promise<EntryStats> {
    const s = await this.leasedBy.entryStats(this.id);
    if (!s) throw new EntryLostError(this.id);
    return s;
  }

  /** Runs a script that acts only while we own the reservation (it answers 0 otherwise). */
  async #owned(name: ScriptName, keys: string[], more: (string | number)[] = []): Promise<void> {
    const { id, token } = this.owner;
    const done = await this.leasedBy.run(name, keys, [id, token, this.leasedBy.clock.now(), ...more]);
    if (asNumber(done) !== 1) throw new EntryLostError(id);
  }
}
