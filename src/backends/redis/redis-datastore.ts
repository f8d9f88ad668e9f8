import type {
  Cas,
  Datastore,
  DeleteFinishedQuery,
  IdempotencyClaim,
  ListJobsQuery,
  Versioned,
} from "../../contracts/datastore.ts";
import { AlreadyExistsError, CasMismatchError, ClosedError, JobNotFoundError, ZeroGError } from "../../errors.ts";
import type { JobDocument } from "../../job/document.ts";
import { statusOf } from "../../job/job-status.ts";
import { connectRedis, onceReady, type RedisConnection } from "./client.ts";
import { RedisKeys } from "./keys.ts";
import { asArray, asNumber, runScript, type ScriptReply } from "./scripts.ts";

const LIST_DEFAULT_LIMIT = 50;

export interface RedisDatastoreOptions {
  /** Every key starts with `{prefix}:`, so several ZeroG installations can share a server. @defaultValue "zerog" */
  prefix?: string;
  /** Close the client with the datastore (false when a RedisBackend shares it). @defaultValue true */
  ownsClient?: boolean;
}

/** A document's index score: createdAt in ms (an unparseable time sorts as the oldest). */
export function createdScore(doc: JobDocument): string {
  const ms = Date.parse(doc.createdAt);
  return String(Number.isFinite(ms) ? ms : 0);
}

/**
 * A finished document's retention score (src/backends/redis/lua/lib/docs.lua): `finishedAt` in
 * ms, or '' when it is not finished or has no time (then it is in no retention index). Every
 * write passes it, so the index follows the document without the scripts decoding its JSON.
 */
export function finishedScore(doc: JobDocument): string {
  if (doc.state !== "finished" || typeof doc.finishedAt !== "string") return "";
  const ms = Date.parse(doc.finishedAt);
  return Number.isFinite(ms) ? String(ms) : "";
}

/**
 * The hash field `start` every write stores (src/backends/redis/lua/lib/docs.lua): the attempt a reserve
 * may start the next run from — the job is queued or delayed, not running and not killed — or
 * '' when the worker's outcome table must look at it first.
 */
export function startableAttempt(doc: JobDocument): string {
  const waiting = doc.state === "queued" || doc.state === "delayed";
  return waiting && !doc.running && !doc.killRequested && Number.isSafeInteger(doc.attempt) ? String(doc.attempt) : "";
}

/**
 * Job documents as Redis hashes (`{p}:job:{uuid}`, see src/backends/redis/keys.ts) holding the JSON and
 * a version counter, the CAS token. Every write is one Lua script that also keeps the sorted-set
 * indexes behind `list` (all, per type, per state, per type and state) in step.
 */
export class RedisDatastore implements Datastore {
  readonly kind = "redis";
  readonly capabilities = { multiProcess: true } as const;
  readonly keys: RedisKeys;
  readonly #client: RedisConnection;
  readonly #ownsClient: boolean;
  #closed = false;

  constructor(client: RedisConnection, opts: RedisDatastoreOptions = {}) {
    this.#client = client;
    this.keys = new RedisKeys(opts.prefix ?? "zerog");
    this.#ownsClient = opts.ownsClient ?? true;
  }

  async create(doc: JobDocument): Promise<Cas> {
    const v = asNumber(
      await this.#run("doc-create", doc, [
        doc.jobType,
        statusOf(doc),
        createdScore(doc),
        startableAttempt(doc),
        finishedScore(doc),
      ]),
    );
    if (v === 0) throw new AlreadyExistsError(doc.uuid);
    return String(v);
  }

  async read(uuid: string): Promise<Versioned<JobDocument> | null> {
    this.#open();
    const [v, doc] = await onceReady(this.#client, () => this.#client.hmGet(this.keys.job(uuid), ["v", "doc"]));
    return v && doc ? versioned(v, doc) : null;
  }

  async replace(doc: JobDocument, cas: Cas): Promise<Cas> {
    const rest = [statusOf(doc), cas, startableAttempt(doc), finishedScore(doc)];
    return versionOf(doc.uuid, await this.#run("doc-replace", doc, rest));
  }

  async upsert(doc: JobDocument): Promise<Cas> {
    const rest = [doc.jobType, statusOf(doc), createdScore(doc), startableAttempt(doc), finishedScore(doc)];
    return String(asNumber(await this.#run("doc-upsert", doc, rest)));
  }

  async delete(uuid: string): Promise<boolean> {
    this.#open();
    const reply = await runScript(this.#client, "doc-delete", [this.keys.job(uuid)], [this.keys.indexPrefix, uuid]);
    return asNumber(reply) === 1;
  }

  async list(query: ListJobsQuery): Promise<JobDocument[]> {
    this.#open();
    let cursor: [string, string] = ["", ""];
    if (query.before !== undefined) {
      const ms = Date.parse(query.before.createdAt);
      if (!Number.isFinite(ms))
        throw new ZeroGError("ZEROG_BAD_REQUEST", `cursor time '${query.before.createdAt}' is not a time`);
      cursor = [String(ms), query.before.uuid];
    }
    const index = this.keys.index(query.jobType, query.state);
    const limit = query.limit ?? LIST_DEFAULT_LIMIT;
    const reply = await runScript(this.#client, "doc-list", [index], [this.keys.jobPrefix, ...cursor, limit]);
    return asArray(reply).map((doc) => JSON.parse(String(doc)) as JobDocument);
  }

  /**
   * One script (doc-delete-finished.lua) on the type and status's retention index. The cutoff is
   * `finishedBefore` in ms: ISO times and their ms sort alike, so this is the order of the other stores.
   */
  async deleteFinished(query: DeleteFinishedQuery): Promise<number> {
    this.#open();
    let cutoff = "";
    if (query.finishedBefore !== undefined) {
      const ms = Date.parse(query.finishedBefore);
      if (!Number.isFinite(ms)) throw new ZeroGError("ZEROG_BAD_REQUEST", `'${query.finishedBefore}' is not a time`);
      cutoff = String(ms);
    }
    if (cutoff === "" && query.keepNewest === undefined) return 0;
    const k = this.keys;
    const args = [k.jobPrefix, k.indexPrefix, query.status, query.jobType, cutoff, query.keepNewest ?? "", query.limit];
    const reply = await runScript(this.#client, "doc-delete-finished", [k.finished(query.status, query.jobType)], args);
    return asNumber(reply);
  }

  /** `SET key uuid NX PX ttl`, or the uuid the live key holds: one script (idem-claim.lua). */
  async claimIdempotencyKey(claim: IdempotencyClaim): Promise<string> {
    this.#open();
    const ttlMs = Math.max(1, Math.ceil(claim.expiresAtMs - claim.nowMs));
    const reply = await runScript(this.#client, "idem-claim", [this.keys.idempotency(claim.key)], [claim.uuid, ttlMs]);
    return String(reply);
  }

  async releaseIdempotencyKey(key: string, uuid: string): Promise<void> {
    this.#open();
    await runScript(this.#client, "idem-release", [this.keys.idempotency(key)], [uuid]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsClient) await this.#client.close();
  }

  /** Runs a document script: KEYS = the job hash, ARGV = index prefix, uuid, JSON, then `rest`. */
  #run(name: "doc-create" | "doc-replace" | "doc-upsert", doc: JobDocument, rest: readonly string[]) {
    this.#open();
    const args = [this.keys.indexPrefix, doc.uuid, JSON.stringify(doc), ...rest];
    return runScript(this.#client, name, [this.keys.job(doc.uuid)], args);
  }

  #open(): void {
    if (this.#closed) throw new ClosedError("redis datastore");
  }
}

/**
 * A job hash's `v` and `doc` fields as `read` answers them: the parsed document, and the version
 * as its CAS token. Throws SyntaxError when `doc` is not JSON.
 */
export function versioned(v: string, doc: string): Versioned<JobDocument> {
  return { value: JSON.parse(doc) as JobDocument, cas: v };
}

/** The version a replace script answered, or the error it stands for (0 missing, -1 stale). */
export function versionOf(uuid: string, reply: ScriptReply | undefined): Cas {
  const v = asNumber(reply);
  if (v === 0) throw new JobNotFoundError(uuid);
  if (v < 0) throw new CasMismatchError(uuid);
  return String(v);
}

/** A datastore on its own connection to the Redis server at `url`. */
export async function createRedisDatastore(opts: { url: string; prefix?: string }): Promise<RedisDatastore> {
  const client = await connectRedis(opts.url);
  return new RedisDatastore(client, opts.prefix === undefined ? {} : { prefix: opts.prefix });
}
