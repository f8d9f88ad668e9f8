import { randomUUID } from "node:crypto";
import {
  type Backend,
  type ClaimRequest,
  type EntrySettlement,
  queueBodyOf,
  type ReservedJob,
} from "../../contracts/backend.ts";
import type { Versioned } from "../../contracts/datastore.ts";
import type { PutOptions, QueueEntryId, Reserved, ReserveOptions } from "../../contracts/queue.ts";
import { AlreadyExistsError } from "../../errors.ts";
import type { Clock } from "../../internal/clock.ts";
import { type BatchOutcome, TickBatcher } from "../../internal/tick-batcher.ts";
import type { JobDocument } from "../../job/document.ts";
import { statusOf } from "../../job/job-status.ts";
import { reserveStartFields } from "../../job/transitions.ts";
import { connectRedis, type RedisConnection } from "./client.ts";
import {
  createdScore,
  finishedScore,
  RedisDatastore,
  startableAttempt,
  versioned,
  versionOf,
} from "./redis-datastore.ts";
import { RedisFleetStore } from "./redis-fleet.ts";
import {
  type LeasedJob,
  REDIS_MAX_GROUP,
  type RedisOwner,
  RedisQueue,
  resolvePut,
  type StartClaim,
  type StartFields,
} from "./redis-queue.ts";
import { asArray, asNumber, runScript } from "./scripts.ts";

export interface OpenRedisBackendOptions {
  /** `redis://host:port[/db]` (or `rediss://`). */
  url: string;
  /** Every key starts with `{prefix}:`. @defaultValue "zerog" */
  prefix?: string;
  /** Source of every stored time. @defaultValue systemClock */
  clock?: Clock;
  /** See RedisQueueOptions.pollMs. @defaultValue 250 */
  pollMs?: number;
}

/** One run to settle: its outcome, the version it replaces, and what becomes of the entry it owns. */
interface Settle {
  doc: JobDocument;
  cas: string;
  owner: RedisOwner;
  kind: EntrySettlement["kind"];
  delayMs: number;
}

/**
 * Datastore, queue and fleet on one Redis server and prefix, sharing one connection: creating a job
 * (document + indexes + entry), reserving one with its document, and settling a run (outcome +
 * entry) are each one Lua script.
 */
export class RedisBackend implements Backend {
  readonly datastore: RedisDatastore;
  readonly queue: RedisQueue;
  readonly fleet: RedisFleetStore;
  readonly #client: RedisConnection;
  /** Per worker slot's claim request, what the reserve script needs of it. */
  readonly #starts = new WeakMap<ClaimRequest, StartClaim>();
  readonly #settles = new TickBatcher<Settle, number>({
    keyOf: (s) => s.doc.uuid,
    maxItems: REDIS_MAX_GROUP,
    run: (runs) => this.#settleMany(runs),
  });

  /** Uses `client` for both stores and closes it on `close`. */
  constructor(client: RedisConnection, opts: Omit<OpenRedisBackendOptions, "url"> = {}) {
    this.#client = client;
    const prefix = opts.prefix ?? "zerog";
    this.datastore = new RedisDatastore(client, { prefix, ownsClient: false });
    this.queue = new RedisQueue(client, { ...opts, prefix, ownsClient: false });
    this.fleet = new RedisFleetStore(client, this.datastore.keys);
  }

  /** One script (job-create.lua): never a document without its entry, nor the reverse. */
  async createJob(doc: JobDocument, put: PutOptions): Promise<QueueEntryId> {
    const k = this.queue.keys;
    const queue = doc.queueName;
    const [head, tail] = splitAtEntryId(doc);
    const { priority, ttrMs, delayMs } = resolvePut(put);
    const keys = [k.job(doc.uuid), k.entrySeq, k.ready(queue), k.delayed(queue)];
    const args = [
      // The index "state" is the listing status (src/job/job-status.ts).
      ...[k.indexPrefix, doc.uuid, head, tail, doc.jobType, statusOf(doc), createdScore(doc)],
      ...[k.entryPrefix, queue, queueBodyOf(doc.uuid), priority, ttrMs, delayMs, this.queue.clock.now(), k.wake(queue)],
      startableAttempt(doc),
      finishedScore(doc),
    ];
    const id = await runScript(this.#client, "job-create", keys, args);
    if (id === 0) throw new AlreadyExistsError(doc.uuid);
    return String(id);
  }

  /**
   * One script (job-requeue.lua): the CAS check, the document and its new entry together, so a
   * stale cas puts nothing.
   */
  async requeueJob(doc: JobDocument, cas: string, put: PutOptions): Promise<QueueEntryId> {
    const k = this.queue.keys;
    const queue = doc.queueName;
    const [head, tail] = splitAtEntryId(doc);
    const { priority, ttrMs, delayMs } = resolvePut(put);
    const keys = [k.job(doc.uuid), k.entrySeq, k.ready(queue), k.delayed(queue)];
    const args = [
      ...[k.indexPrefix, doc.uuid, head, tail, statusOf(doc), cas, startableAttempt(doc)],
      ...[k.entryPrefix, queue, queueBodyOf(doc.uuid), priority, ttrMs, delayMs, this.queue.clock.now(), k.wake(queue)],
    ];
    const id = await runScript(this.#client, "job-requeue", keys, args);
    versionOf(doc.uuid, id); // 0 and -1: missing, stale
    return String(id);
  }

  /**
   * `queue.reserve` with the entry's job document read by the same script (q-reserve.lua), which
   * with `claim` also starts the run of a job in the plain case (queued or delayed, not running,
   * not killed, one of `claim.jobTypes`), as the worker's claim would: the fields of
   * `startRunFields`, `updatedAt` and the next attempt. So the worker skips its read and its
   * claim. `document` is what `datastore.read` would answer; it is left out when that read would
   * not give a document object (no document, corrupt JSON, a body that is not a uuid), and the
   * worker then reads and judges it itself.
   */
  async reserveJob(queues: readonly string[], opts: ReserveOptions, claim?: ClaimRequest): Promise<ReservedJob | null> {
    const taken = await this.queue.reserveWithJob(queues, opts, claim && this.#startClaim(claim));
    if (!taken) return null;
    const { entry, job } = taken;
    const document = job && documentOf(job);
    // (A started document JSON.parse refuses, one cjson took, is left to the worker as corrupt.)
    if (!document) return { entry };
    return job.started ? { entry, ...startedRun(document, job.started) } : { entry, document };
  }

  /** What the reserve script needs of a worker's claim; one per ClaimRequest (a worker makes one per slot). */
  #startClaim(claim: ClaimRequest): StartClaim {
    let start = this.#starts.get(claim);
    if (!start) {
      start = {
        key: JSON.stringify([claim.workerId, claim.jobTypes]),
        jobTypes: claim.jobTypes,
        fieldsAt: (nowMs) => reserveStartFields(claim.workerId, nowMs),
      };
      this.#starts.set(claim, start);
    }
    return start;
  }

  /**
   * One script (job-settle.lua): the outcome and its entry's delete or release together. The
   * settles of one tick (a worker's slots finishing together) share one call.
   */
  async settle(doc: JobDocument, cas: string, entry: Reserved, settlement: EntrySettlement): Promise<string> {
    const owner = this.queue.ownerOf(entry);
    const delayMs = settlement.kind === "release" ? Math.max(0, Math.round(settlement.delaySeconds * 1000)) : 0;
    // settled = 0 means another worker holds the entry now; it will read the recorded outcome.
    const version = await this.#settles.add({ doc, cas, owner, kind: settlement.kind, delayMs });
    return versionOf(doc.uuid, version);
  }

  /** Runs a tick's settles as one job-settle call; answers each run's new version (or 0 / -1). */
  async #settleMany(runs: Settle[]): Promise<BatchOutcome<number>[]> {
    const k = this.queue.keys;
    const keys: string[] = [];
    const args: (string | number)[] = [k.indexPrefix, this.queue.clock.now()];
    for (const { doc, cas, owner, kind, delayMs } of runs) {
      const q = owner.queue;
      keys.push(k.job(doc.uuid), k.entry(owner.id), k.ready(q), k.delayed(q), k.reserved(q));
      args.push(doc.uuid, JSON.stringify(doc), statusOf(doc), cas, owner.id, owner.token, kind, delayMs, k.wake(q));
      args.push(startableAttempt(doc), finishedScore(doc));
    }
    const answers = asArray(await runScript(this.#client, "job-settle", keys, args));
    return runs.map((_, i) => ({ ok: true, value: asNumber(asArray(answers[i])[0]) }));
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.queue.close(), this.datastore.close()]);
    await this.#client.close().catch(() => undefined);
  }
}

/**
 * The document's JSON in two halves around its `queueJobId`, which only the script knows (INCR):
 * it is spliced in where a unique marker stood, sparing Lua a decode and re-encode of the JSON.
 */
function splitAtEntryId(doc: JobDocument): [string, string] {
  const marker = `zerog-queue-job-id-${randomUUID()}`;
  const parts = JSON.stringify({ ...doc, queueJobId: marker }).split(JSON.stringify(marker));
  const [head, tail] = parts;
  if (parts.length !== 2 || head === undefined || tail === undefined) throw new Error("cannot place queueJobId");
  return [head, tail];
}

/** A leased job hash as `datastore.read` would answer it, or undefined when that is not a document object. */
function documentOf(job: LeasedJob): Versioned<JobDocument> | undefined {
  try {
    const read = versioned(job.version, job.doc);
    return typeof read.value === "object" && read.value !== null ? read : undefined;
  } catch {
    return undefined; // corrupt JSON: the worker's own read meets it and handles it
  }
}

/**
 * The document a reserve started the run of, as `datastore.read` now answers it: `before` (as
 * read before the start, with the new version as its cas) with `fields` and the next attempt
 * set, in the order JSON.parse gives for the stored text (existing names keep their place, new
 * ones come last); and `undo`, those fields as they were.
 */
function startedRun(
  before: Versioned<JobDocument>,
  fields: StartFields,
): { document: Versioned<JobDocument>; claimed: { undo: Partial<JobDocument> } } {
  const value = before.value;
  const old = value as unknown as Record<string, unknown>;
  const undo: Record<string, unknown> = {};
  for (const name of Object.keys(fields)) undo[name] = old[name];
  undo.attempt = value.attempt;
  Object.assign(value, fields, { attempt: value.attempt + 1 });
  return { document: before, claimed: { undo: undo as Partial<JobDocument> } };
}

/** Connects to the Redis server at `opts.url`; rejects with BackendDownError when it cannot be reached. */
export async function openRedisBackend(opts: OpenRedisBackendOptions): Promise<RedisBackend> {
  const { url, ...rest } = opts;
  return new RedisBackend(await connectRedis(url), rest);
}
