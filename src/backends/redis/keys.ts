import type { FinishedStatus, JobStatus } from "../../job/job-status.ts";

/**
 * Every Redis key and channel ZeroG uses, built from one prefix. The prefix is wrapped in a
 * hash tag (`{zerog}:…`) so all of a prefix's keys hash to one cluster slot: each Lua script
 * may then touch any of them, including keys it derives from the key prefixes below.
 *
 * Layout:
 * - `{p}:job:{uuid}`            hash: `doc` (JSON; a reserve that starts the run appends the fields it sets,
 *                               see lua/q-reserve.lua), `v` (CAS version), `type`, `state`, `score` (createdAt ms)
 * - `{p}:idx:all`               zset of uuids by createdAt ms; also `idx:type:{type}`, `idx:state:{status}`,
 *                               `idx:ts:{status}:{type}` (the suffixes are repeated in lua/lib/docs.lua). The
 *                               hash's `state` and these keys hold the listing status (src/job/job-status.ts),
 *                               the stored state with `finished` split into finished / failed / killed
 * - `{p}:idx:fin:{status}:{type}` zset of the finished documents of one status (finished, failed, killed)
 *                               and type, by finishedAt ms: what retention reads (lua/doc-delete-finished.lua)
 * - `{p}:idem:{key}`            string: the uuid an idempotency key stands for, with a TTL (the window)
 * - `{p}:q:seq`                 counter: entry ids, never reused
 * - `{p}:entry:{id}`            hash: one queue entry (queue, body, priority, ttr_ms, state, due_at, counters)
 * - `{p}:q:{queue}:ready`       zset: score priority, member the 16-digit id (ties go by member: FIFO)
 * - `{p}:q:{queue}:delayed`     zset: score due time (ms)
 * - `{p}:q:{queue}:reserved`    zset: score lease expiry (ms)
 * - `{p}:q:{queue}:buried`      zset: score id (kick takes the oldest)
 * - channel `{p}:q:{queue}:wake` a put, release or kick publishes how many entries became ready
 * - `{p}:fleet:workers`         hash: workerId → WorkerRecord JSON
 * - `{p}:fleet:expiry`          zset: workerId by expiresAtMs (what listings filter and purge on)
 * - `{p}:fleet:inbox:{workerId}` list: control messages as JSON, oldest first
 * - `{p}:fleet:paused`          set: the paused job types
 */
export class RedisKeys {
  /** The hash-tagged prefix every key starts with. */
  readonly base: string;

  constructor(prefix: string) {
    this.base = `{${prefix}}`;
  }

  /** A SCAN pattern matching every key of this prefix (tests clean up with it). */
  get pattern(): string {
    return `${this.base}:*`;
  }

  job(uuid: string): string {
    return `${this.jobPrefix}${uuid}`;
  }
  /** What `job(uuid)` puts before the uuid; scripts that read documents by uuid take it as ARGV. */
  get jobPrefix(): string {
    return `${this.base}:job:`;
  }
  /** What every index key starts with; scripts that maintain indexes take it as ARGV. */
  get indexPrefix(): string {
    return `${this.base}:idx:`;
  }
  /** The index that answers a listing with these filters. */
  index(jobType: string | undefined, state: JobStatus | undefined): string {
    const p = this.indexPrefix;
    if (jobType !== undefined && state !== undefined) return `${p}ts:${state}:${jobType}`;
    if (jobType !== undefined) return `${p}type:${jobType}`;
    if (state !== undefined) return `${p}state:${state}`;
    return `${p}all`;
  }

  /** Retention's index of one finished status and job type (lua/lib/docs.lua zg_fin_key). */
  finished(status: FinishedStatus, jobType: string): string {
    return `${this.indexPrefix}fin:${status}:${jobType}`;
  }

  /** The record of one idempotency key (Datastore.claimIdempotencyKey). */
  idempotency(key: string): string {
    return `${this.base}:idem:${key}`;
  }

  get entrySeq(): string {
    return `${this.base}:q:seq`;
  }
  entry(id: string): string {
    return `${this.entryPrefix}${id}`;
  }
  /** What `entry(id)` puts before the id; scripts that find entries through a queue's sets take it as ARGV. */
  get entryPrefix(): string {
    return `${this.base}:entry:`;
  }
  ready(queue: string): string {
    return `${this.base}:q:${queue}:ready`;
  }
  delayed(queue: string): string {
    return `${this.base}:q:${queue}:delayed`;
  }
  reserved(queue: string): string {
    return `${this.base}:q:${queue}:reserved`;
  }
  buried(queue: string): string {
    return `${this.base}:q:${queue}:buried`;
  }
  /** The pub/sub channel on which reservers of `queue` hear about new ready entries. */
  wake(queue: string): string {
    return `${this.base}:q:${queue}:wake`;
  }

  get fleetWorkers(): string {
    return `${this.base}:fleet:workers`;
  }
  get fleetExpiry(): string {
    return `${this.base}:fleet:expiry`;
  }
  get fleetPaused(): string {
    return `${this.base}:fleet:paused`;
  }
  fleetInbox(workerId: string): string {
    return `${this.fleetInboxPrefix}${workerId}`;
  }
  /** What `fleetInbox(workerId)` puts before the id; the script that purges dead workers takes it as ARGV. */
  get fleetInboxPrefix(): string {
    return `${this.base}:fleet:inbox:`;
  }
}
