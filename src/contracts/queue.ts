/** Identifies one entry within its queue backend (Beanstalkd's job id, a row id, …). */
export type QueueEntryId = string;

export type EntryState = "ready" | "delayed" | "reserved" | "buried";

export interface PutOptions {
  /** Seconds before the entry becomes ready. @defaultValue 0 */
  delaySeconds?: number;
  /** Lower is more urgent (Beanstalkd's rule). @defaultValue 1024 */
  priority?: number;
  /** Seconds a reservation lasts without touch before the entry returns to ready. @defaultValue 60 */
  ttrSeconds?: number;
}

export const PUT_DEFAULTS = { delaySeconds: 0, priority: 1024, ttrSeconds: 60 } as const satisfies Required<PutOptions>;

export interface ReserveOptions {
  /** How long to wait for a ready entry; 0 answers at once. */
  timeoutMs: number;
  /** Aborting ends the wait with null. */
  signal?: AbortSignal;
  /**
   * Called each time the reserve has found nothing and starts to wait: a put from then on wakes
   * it. An observation hook (tests wait on it instead of sleeping). Not called by a queue whose
   * server does the waiting (Beanstalkd); that server counts its waiting reserves itself.
   */
  onWait?: () => void;
}

export interface EntryStats {
  id: QueueEntryId;
  queue: string;
  state: EntryState;
  priority: number;
  ttrSeconds: number;
  /** How many times the entry was reserved. */
  reserves: number;
  /** How many reservations ended by TTR expiry. */
  timeouts: number;
  releases: number;
  buries: number;
  kicks: number;
}

export interface QueueStats {
  queue: string;
  ready: number;
  delayed: number;
  reserved: number;
  buried: number;
}

export interface QueueCapabilities {
  /** Several processes may share this queue (false for the in-memory one). */
  readonly multiProcess: boolean;
  /** The longest queue name it holds, in UTF-8 bytes (Beanstalkd's tubes: 200); absent when any name fits. */
  readonly maxQueueNameBytes?: number;
}

/** A reserved entry: the worker that holds it must delete, release or bury it before its TTR passes (or touch it). */
export interface Reserved {
  readonly id: QueueEntryId;
  readonly queue: string;
  readonly body: string;
  /** Removes the entry; EntryLostError if the reservation was lost to another worker. */
  delete(): Promise<void>;
  /** Returns the entry to the queue, ready after `delaySeconds`. */
  release(opts: { delaySeconds: number; priority?: number }): Promise<void>;
  /** Restarts the TTR clock. */
  touch(): Promise<void>;
  /** Sets the entry aside until kicked. */
  bury(): Promise<void>;
  stats(): Promise<EntryStats>;
}

/**
 * Moves job uuids between producers and workers; owns its connections. Beanstalkd's model.
 * Must pass test/contract/queue.suite.ts against the real service.
 */
export interface Queue {
  readonly kind: string;
  readonly capabilities: QueueCapabilities;
  put(queue: string, body: string, opts?: PutOptions): Promise<QueueEntryId>;
  /** The most urgent ready entry of the given queues (priority, then age), or null after the timeout. */
  reserve(queues: readonly string[], opts: ReserveOptions): Promise<Reserved | null>;
  /** Moves up to `bound` buried entries of `queue` back to ready; returns how many. */
  kick(queue: string, bound: number): Promise<number>;
  /** Stats of one entry, or null when it does not exist. */
  entryStats(id: QueueEntryId): Promise<EntryStats | null>;
  stats(queue: string): Promise<QueueStats>;
  /**
   * Ends the reservation of entry `id` now, as if its TTR had passed: the entry is reservable at
   * once (its next reserve counts a timeout) and waiting reservers are woken. Resolves false when
   * the entry is not reserved (or gone). For a worker whose server died: the fleet knows it is
   * dead long before its TTR would pass. Absent on queues whose server releases a dead holder's
   * reservations by itself (Beanstalkd, when the holder's connection closes).
   */
  expire?(id: QueueEntryId): Promise<boolean>;
  /** Ends any pending reserve with null and closes connections. */
  close(): Promise<void>;
  /**
   * The body of entry `id`, whatever its state, or null when there is no such entry. Tells an
   * entry that is still there from one that was lost, also where ids start again after a restart
   * (Beanstalkd without a binlog), so that `id` may now name another job's entry. Optional: the
   * reconciler (src/backends/reconciler.ts) falls back to `entryStats`, which cannot tell a
   * reused id and so takes it for the job's entry (the job is then not put again).
   */
  peek?(id: QueueEntryId): Promise<string | null>;
  /**
   * Which run of the queue's server is answering: the id changes whenever the server restarts
   * (and may have lost entries). Optional: without it, each reconcile pass checks every waiting
   * job's entry instead of only after a restart.
   */
  instance?(): Promise<QueueInstance>;
}

/** One run of a queue server, as `Queue.instance` reports it. */
export interface QueueInstance {
  /** Changes whenever the server restarts. */
  id: string;
  /** Seconds since the server started. */
  uptimeSeconds: number;
}
