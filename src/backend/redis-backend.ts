import { randomUUID } from "node:crypto";
import { createdScore, RedisDatastore, versionOf } from "../datastore/redis/redis-datastore.ts";
import { AlreadyExistsError } from "../errors.ts";
import type { Clock } from "../internal/clock.ts";
import type { JobDocument } from "../job/document.ts";
import type { PutOptions, QueueEntryId, Reserved } from "../queue/contract.ts";
import { RedisQueue, resolvePut } from "../queue/redis/redis-queue.ts";
import { connectRedis, type RedisConnection } from "../redis/client.ts";
import { asArray, runScript } from "../redis/scripts.ts";
import { type Backend, type EntrySettlement, queueBodyOf } from "./contract.ts";

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

/**
 * Datastore and queue on one Redis server and prefix, sharing one connection: creating a job
 * (document + indexes + entry) and settling a run (outcome + entry) are each one Lua script.
 */
export class RedisBackend implements Backend {
  readonly datastore: RedisDatastore;
  readonly queue: RedisQueue;
  readonly #client: RedisConnection;

  /** Uses `client` for both stores and closes it on `close`. */
  constructor(client: RedisConnection, opts: Omit<OpenRedisBackendOptions, "url"> = {}) {
    this.#client = client;
    const prefix = opts.prefix ?? "zerog";
    this.datastore = new RedisDatastore(client, { prefix, ownsClient: false });
    this.queue = new RedisQueue(client, { ...opts, prefix, ownsClient: false });
  }

  /** One script (job-create.lua): never a document without its entry, nor the reverse. */
  async createJob(doc: JobDocument, put: PutOptions): Promise<QueueEntryId> {
    const k = this.queue.keys;
    const queue = doc.queueName;
    // The entry id is known only inside the script: it is spliced into the JSON where this marker is.
    const marker = `zerog-queue-job-id-${randomUUID()}`;
    const parts = JSON.stringify({ ...doc, queueJobId: marker }).split(JSON.stringify(marker));
    const [head, tail] = parts;
    if (parts.length !== 2 || head === undefined || tail === undefined) throw new Error("cannot place queueJobId");
    const { priority, ttrMs, delayMs } = resolvePut(put);
    const keys = [k.job(doc.uuid), k.entrySeq, k.ready(queue), k.delayed(queue)];
    const args = [
      ...[k.indexPrefix, doc.uuid, head, tail, doc.jobType, doc.state, createdScore(doc)],
      ...[k.entryPrefix, queue, queueBodyOf(doc.uuid), priority, ttrMs, delayMs, this.queue.clock.now(), k.wake(queue)],
    ];
    const id = await runScript(this.#client, "job-create", keys, args);
    if (id === 0) throw new AlreadyExistsError(doc.uuid);
    return String(id);
  }

  /** One script (job-settle.lua): the outcome and its entry's delete or release together. */
  async settle(doc: JobDocument, cas: string, entry: Reserved, settlement: EntrySettlement): Promise<string> {
    const owner = this.queue.ownerOf(entry);
    const k = this.queue.keys;
    const q = owner.queue;
    const keys = [k.job(doc.uuid), k.entry(owner.id), k.ready(q), k.delayed(q), k.reserved(q)];
    const delayMs = settlement.kind === "release" ? Math.max(0, Math.round(settlement.delaySeconds * 1000)) : 0;
    const args = [
      ...[k.indexPrefix, doc.uuid, JSON.stringify(doc), doc.state, cas],
      ...[owner.id, owner.token, settlement.kind, delayMs, this.queue.clock.now(), k.wake(q)],
    ];
    // settled = 0 means another worker holds the entry now; it will read the recorded outcome.
    const [version] = asArray(await runScript(this.#client, "job-settle", keys, args));
    return versionOf(doc.uuid, version);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.queue.close(), this.datastore.close()]);
    await this.#client.close().catch(() => undefined);
  }
}

/** Connects to the Redis server at `opts.url`; rejects with BackendDownError when it cannot be reached. */
export async function openRedisBackend(opts: OpenRedisBackendOptions): Promise<RedisBackend> {
  const { url, ...rest } = opts;
  return new RedisBackend(await connectRedis(url), rest);
}
