import type { ControlMessage, FleetStore, WorkerRecord } from "../../contracts/fleet.ts";
import { purgeCutoff } from "../../contracts/fleet-expiry.ts";
import { ZeroGError } from "../../errors.ts";
import { type CallPolicy, callCouchbase, unexpected } from "./couchbase-call.ts";
import type { CasValue } from "./couchbase-datastore.ts";

/** The key-value and query calls the fleet makes on the datastore's collection (built by open-couchbase.ts). */
export interface CouchbaseFleetPort {
  get(key: string): Promise<{ content: unknown; cas: CasValue }>;
  insert(key: string, value: object): Promise<unknown>;
  replace(key: string, value: object, cas: string): Promise<unknown>;
  upsert(key: string, value: object): Promise<unknown>;
  /** With `cas` null, whatever the stored CAS. */
  remove(key: string, cas: string | null): Promise<unknown>;
  /** The rows of a SQL++ statement, with request_plus scan consistency. */
  query(statement: string, parameters: Record<string, string | number>): Promise<unknown[]>;
}

/** A worker's document: the record, with what the fleet's index (indexes.n1ql) reads beside it. */
interface WorkerDoc {
  type: typeof WORKER_TYPE;
  workerId: string;
  expiresAtMs: number;
  record: WorkerRecord;
}

/** A worker's inbox: one document, rewritten under CAS. */
interface InboxDoc {
  type: typeof INBOX_TYPE;
  workerId: string;
  messages: ControlMessage[];
}

/** The paused job types: one document for the whole fleet, rewritten under CAS (a key-value read per poll, no query). */
interface PausedDoc {
  type: typeof PAUSED_TYPE;
  jobTypes: string[];
}

const WORKER_TYPE = "zerog-fleet-worker";
const INBOX_TYPE = "zerog-fleet-inbox";
const PAUSED_TYPE = "zerog-fleet-paused";
const PAUSED_KEY = `${PAUSED_TYPE}::all`;
/**
 * Rounds of an inbox read-modify-write that lost its CAS race. Each loss means another sender or
 * taker wrote between our read and write (~ms apart), so 50 rounds give out only when dozens of
 * callers write one worker's inbox at the same moment, which control messages never do.
 */
const INBOX_ROUNDS = 50;

const workerKey = (workerId: string) => `${WORKER_TYPE}::${workerId}`;
const inboxKey = (workerId: string) => `${INBOX_TYPE}::${workerId}`;

/**
 * The fleet in the datastore's Couchbase collection: each worker's record is a document listed
 * with SQL++ (request_plus, on the zerog_fleet_workers index of indexes.n1ql); each inbox is one
 * document whose every change is CAS-checked, so a message is neither lost nor taken twice.
 */
export class CouchbaseFleetStore implements FleetStore {
  readonly #port: CouchbaseFleetPort;
  readonly #policy: CallPolicy;
  readonly #keyspace: string;

  constructor(port: CouchbaseFleetPort, opts: { keyspace: string; policy: CallPolicy }) {
    this.#port = port;
    this.#keyspace = opts.keyspace;
    this.#policy = opts.policy;
  }

  async announce(record: WorkerRecord): Promise<void> {
    const doc: WorkerDoc = { type: WORKER_TYPE, workerId: record.workerId, expiresAtMs: record.expiresAtMs, record };
    const a = await callCouchbase(this.#policy, "write", () => this.#port.upsert(workerKey(record.workerId), doc));
    if (!a.ok) throw unexpected("upsert", a.reason);
  }

  async listWorkers(nowMs: number): Promise<WorkerRecord[]> {
    for (const workerId of await this.#query<string>("workerId", "d.`expiresAtMs` < $at", purgeCutoff(nowMs)))
      await this.#purge(workerId, purgeCutoff(nowMs));
    return this.#query<WorkerRecord>("record", "d.`expiresAtMs` > $at", nowMs);
  }

  async getWorker(workerId: string): Promise<WorkerRecord | null> {
    const got = await this.#get<WorkerDoc>(workerKey(workerId));
    return got?.content.record ?? null;
  }

  async removeWorker(workerId: string): Promise<boolean> {
    const a = await callCouchbase(this.#policy, "write", () => this.#port.remove(workerKey(workerId), null));
    if (!a.ok && a.reason !== "not-found") throw unexpected("remove", a.reason);
    await this.#removeInbox(workerId, null);
    return a.ok;
  }

  async sendControl(workerId: string, msg: ControlMessage): Promise<void> {
    const key = inboxKey(workerId);
    for (let round = 0; round < INBOX_ROUNDS; round++) {
      const got = await this.#get<InboxDoc>(key);
      const a = got
        ? await callCouchbase(this.#policy, "write", () =>
            this.#port.replace(key, { ...got.content, messages: [...got.content.messages, msg] }, got.cas),
          )
        : await callCouchbase(this.#policy, "write", () =>
            this.#port.insert(key, { type: INBOX_TYPE, workerId, messages: [msg] } satisfies InboxDoc),
          );
      if (a.ok) return;
      // exists / cas-mismatch / not-found: another sender or a taker wrote first; read again.
    }
    throw contended(key);
  }

  /** Takes the whole inbox by removing its document under the CAS it was read with: one taker wins. */
  async takeControl(workerId: string): Promise<ControlMessage[]> {
    const key = inboxKey(workerId);
    for (let round = 0; round < INBOX_ROUNDS; round++) {
      const got = await this.#get<InboxDoc>(key);
      if (!got) return [];
      if (await this.#removeInbox(workerId, got.cas)) return got.content.messages;
    }
    throw contended(key);
  }

  async setPaused(jobType: string, paused: boolean): Promise<void> {
    for (let round = 0; round < INBOX_ROUNDS; round++) {
      const got = await this.#get<PausedDoc>(PAUSED_KEY);
      const before = got?.content.jobTypes ?? [];
      const after = paused ? [...new Set([...before, jobType])].sort() : before.filter((t) => t !== jobType);
      if (after.length === before.length && after.every((t, i) => t === before[i])) return;
      const doc: PausedDoc = { type: PAUSED_TYPE, jobTypes: after };
      const a = got
        ? await callCouchbase(this.#policy, "write", () => this.#port.replace(PAUSED_KEY, doc, got.cas))
        : await callCouchbase(this.#policy, "write", () => this.#port.insert(PAUSED_KEY, doc));
      if (a.ok) return;
      // exists / cas-mismatch / not-found: another pause or resume wrote first; read again.
    }
    throw contended(PAUSED_KEY);
  }

  async pausedTypes(): Promise<string[]> {
    const got = await this.#get<PausedDoc>(PAUSED_KEY);
    return [...(got?.content.jobTypes ?? [])].sort();
  }

  /**
   * Deletes a record that is still dead (read again, as listed it may have come back since) and
   * its inbox. The remove carries the CAS just read, so a worker announcing meanwhile is kept.
   */
  async #purge(workerId: string, cutoff: number): Promise<void> {
    const got = await this.#get<WorkerDoc>(workerKey(workerId));
    if (!got || got.content.expiresAtMs >= cutoff) return;
    const a = await callCouchbase(this.#policy, "write", () => this.#port.remove(workerKey(workerId), got.cas));
    if (a.ok) await this.#removeInbox(workerId, null);
  }

  /** Removes an inbox (under `cas` when given); false when it was gone or had changed. */
  async #removeInbox(workerId: string, cas: string | null): Promise<boolean> {
    const a = await callCouchbase(this.#policy, "write", () => this.#port.remove(inboxKey(workerId), cas));
    if (a.ok) return true;
    if (a.reason === "exists") throw unexpected("remove", a.reason);
    return false;
  }

  async #get<T>(key: string): Promise<{ content: T; cas: string } | null> {
    const a = await callCouchbase(this.#policy, "read", () => this.#port.get(key));
    if (a.ok) return { content: a.value.content as T, cas: String(a.value.cas) };
    if (a.reason === "not-found") return null;
    throw unexpected("get", a.reason);
  }

  /** `field` of the worker documents matching `where` (on $at), by workerId. */
  async #query<T>(field: "workerId" | "record", where: string, at: number): Promise<T[]> {
    const statement =
      `SELECT RAW d.\`${field}\` FROM ${this.#keyspace} AS d ` +
      `WHERE d.\`type\` = "${WORKER_TYPE}" AND ${where} ORDER BY d.\`workerId\``;
    const a = await callCouchbase(this.#policy, "read", () => this.#port.query(statement, { at }));
    if (a.ok) return a.value as T[];
    throw unexpected("query", a.reason);
  }
}

function contended(key: string): ZeroGError {
  return new ZeroGError("ZEROG_INTERNAL", `couchbase: ${key} kept changing under ${INBOX_ROUNDS} CAS rounds`);
}
