import type { Backend } from "../contracts/backend.ts";
import type { ListJobsQuery } from "../contracts/datastore.ts";
import { jobQueueName } from "../contracts/job-queues.ts";
import { isZeroGError, JobNotFoundError } from "../errors.ts";
import { type Clock, systemClock } from "../internal/clock.ts";
import type { JobDocument } from "../job/document.ts";
import { DocumentWriter } from "../job/document-writer.ts";
import { applyOp } from "../job/job-op.ts";
import { completenessAtEnd, nextAttemptAt } from "../job/job-progress.ts";
import { newJobDocument } from "../job/new-document.ts";
import type { JobRegistry } from "../job/registry.ts";
import * as t from "../job/transitions.ts";
import { type BulkJob, validateBulk } from "./bulk-create.ts";
import { IDEMPOTENCY_WINDOW_SECONDS, Idempotency } from "./idempotency.ts";
import { type RetryManyQuery, retryJob, retryJobs } from "./retry-job.ts";

export interface JobClientOptions {
  /** The base queue: a new job of type T is put on `${queueName}/${T}` (src/contracts/job-queues.ts). */
  queueName: string;
  /** TTR of new jobs' queue entries. */
  ttrSeconds: number;
  /** @defaultValue 1024 (lower is more urgent) */
  priority?: number;
  clock?: Clock;
  /** Called after each job this client created (metrics). */
  onCreated?: (jobType: string) => void;
  /** How long an idempotency key keeps answering its job's uuid. @defaultValue 86400 (24 h) */
  idempotencyWindowSeconds?: number;
}

export interface CreateJobOptions {
  /** Seconds before the job may start. @defaultValue 0 */
  delaySeconds?: number;
  /** Lower is more urgent. */
  priority?: number;
  /**
   * A repeat with the same key (for the same job type) within the idempotency window creates
   * nothing and answers the first job's uuid (src/client/idempotency.ts).
   */
  idempotencyKey?: string;
}

/** What `createJob` did: the job's uuid, and whether this call created it (false: an idempotent repeat). */
export interface CreatedJob {
  uuid: string;
  created: boolean;
}

/** GET /progress: completeness and result (-1 while unfinished). */
export interface JobProgress {
  completeness: number;
  result: number;
}

/** GET /info: progress plus the job's logs. */
export interface JobInfo extends JobProgress {
  state: JobDocument["state"];
  /** The completeness reached when the job finished (`completeness` then reads 1); null until then. */
  completenessAtEnd: number | null;
  /** When a delayed job's next attempt is due (ISO time); null unless the job is delayed. */
  nextAttemptAt: string | null;
  events: JobDocument["events"];
  errors: JobDocument["errors"];
  warnings: JobDocument["warnings"];
}

/**
 * What `kill` did: `killed` — the job was waiting and is now finished with 410; `stopping` — it
 * is running, and its worker stops it and records 410 within `killPollMs`; `finished` — it had
 * already finished, and nothing changed.
 */
export type KillResult = "killed" | "stopping" | "finished";

/**
 * Creates of a bulk create in flight at once: what arrives together is batched by the backend
 * (SQLite's group commit, one pipeline to Redis, 500-job statements on PostgreSQL, two of them
 * at once: 1.6x the jobs/s of 500 in flight).
 */
const BULK_IN_FLIGHT = 1000;

/** Rounds of read-and-retry when the job's document changes under a kill; a running job writes often. */
const KILL_CAS_RETRIES = 10;

/** A signal that never fires: documents read for display are never run. */
const NEVER = new AbortController().signal;

/** Creates jobs and reads them back: what the REST API and library users call. */
export class JobClient {
  readonly #backend: Backend;
  readonly #registry: JobRegistry;
  readonly #opts: Required<Omit<JobClientOptions, "onCreated">> & Pick<JobClientOptions, "onCreated">;
  readonly #idempotency: Idempotency;

  constructor(backend: Backend, registry: JobRegistry, opts: JobClientOptions) {
    this.#backend = backend;
    this.#registry = registry;
    this.#opts = { priority: 1024, clock: systemClock, idempotencyWindowSeconds: IDEMPOTENCY_WINDOW_SECONDS, ...opts };
    this.#idempotency = new Idempotency(backend.datastore, this.#opts.clock, this.#opts.idempotencyWindowSeconds);
  }

  get registry(): JobRegistry {
    return this.#registry;
  }

  /** The backend this client writes to (for services over both halves, such as purging: src/backends/purge-job.ts). */
  get backend(): Backend {
    return this.#backend;
  }

  /** Validates params (InvalidParamsError, UnknownJobTypeError), persists and enqueues the job; resolves with its uuid. */
  async create(jobType: string, params: unknown, opts: CreateJobOptions = {}): Promise<string> {
    return (await this.createJob(jobType, params, opts)).uuid;
  }

  /** `create`, saying whether the job is new or an idempotent repeat's (`opts.idempotencyKey`). */
  async createJob(jobType: string, params: unknown, opts: CreateJobOptions = {}): Promise<CreatedJob> {
    return this.#createValid(jobType, this.#registry.validate(jobType, params), opts);
  }

  /**
   * Creates a job of `jobType` for each params of `paramsList`, and resolves with their uuids in
   * the same order. Every params is validated first: one bad item (InvalidParamsError naming it,
   * `[3].params.width`) creates nothing. Then each job is stored as `create` stores one (document
   * and queue entry together), many at once. If the backend fails midway, the call rejects and
   * the jobs stored before stay; with `opts.idempotencyKey`, job i uses the key `${key}:${i}`, so
   * calling again with the same list and key creates only those that are missing and answers
   * the same uuids. `delaySeconds` and `priority` apply to every job.
   */
  async createMany(jobType: string, paramsList: readonly unknown[], opts: CreateJobOptions = {}): Promise<string[]> {
    this.#registry.require(jobType);
    // Not an array (from untyped code): validateBulk says so.
    const jobs: unknown = Array.isArray(paramsList) ? paramsList.map((params) => ({ jobType, params })) : paramsList;
    return (await this.#createBulk(jobs, opts)).map((c) => c.uuid);
  }

  /** `createMany` for jobs of several types (`POST /jobs`); says for each whether it is new or an idempotent repeat's. */
  createJobs(jobs: readonly BulkJob[], opts: CreateJobOptions = {}): Promise<CreatedJob[]> {
    return this.#createBulk(jobs, opts);
  }

  async #createBulk(jobs: unknown, opts: CreateJobOptions): Promise<CreatedJob[]> {
    const valid = validateBulk(this.#registry, jobs);
    const { idempotencyKey, ...shared } = opts;
    const created: CreatedJob[] = new Array(valid.length);
    for (let from = 0; from < valid.length; from += BULK_IN_FLIGHT) {
      await Promise.all(
        valid.slice(from, from + BULK_IN_FLIGHT).map(async (job, k) => {
          const i = from + k;
          const own = idempotencyKey === undefined ? shared : { ...shared, idempotencyKey: `${idempotencyKey}:${i}` };
          created[i] = await this.#createValid(job.jobType, job.params, own);
        }),
      );
    }
    return created;
  }

  async #createValid(jobType: string, valid: Record<string, unknown>, opts: CreateJobOptions): Promise<CreatedJob> {
    const delaySeconds = opts.delaySeconds ?? 0;
    const priority = opts.priority ?? this.#opts.priority;
    const doc = newJobDocument({
      jobType,
      params: valid,
      queueName: jobQueueName(this.#opts.queueName, jobType),
      queueKwargs: { priority, ttrSeconds: this.#opts.ttrSeconds, ...(delaySeconds > 0 ? { delaySeconds } : {}) },
      nowMs: this.#opts.clock.now(),
      delaySeconds,
    });
    const put = { delaySeconds, priority, ttrSeconds: this.#opts.ttrSeconds };
    if (opts.idempotencyKey === undefined) {
      await this.#backend.createJob(doc, put);
    } else {
      const held = await this.#idempotency.run(jobType, opts.idempotencyKey, doc.uuid, () =>
        this.#backend.createJob(doc, put),
      );
      if (held !== doc.uuid) return { uuid: held, created: false };
    }
    this.#opts.onCreated?.(jobType);
    return { uuid: doc.uuid, created: true };
  }

  /**
   * Pauses a job type on every server of the backend: within a control poll (500 ms) no worker
   * starts a job of it; creates are still accepted and wait, running jobs finish. Kept in the
   * backend until `resume`. UnknownJobTypeError for a type this client's registry does not have.
   */
  async pause(jobType: string): Promise<void> {
    await this.#backend.fleet.setPaused(this.#registry.require(jobType).jobType, true);
  }

  /** Undoes `pause`: the waiting jobs of the type start within a control poll. Idempotent, as `pause` is. */
  async resume(jobType: string): Promise<void> {
    await this.#backend.fleet.setPaused(this.#registry.require(jobType).jobType, false);
  }

  /** The paused job types, sorted (every type paused on the backend, known to this registry or not). */
  pausedTypes(): Promise<string[]> {
    return this.#backend.fleet.pausedTypes();
  }

  /** Jobs newest first, by type and/or status, from the datastore's index (GET /jobs). */
  list(query: ListJobsQuery): Promise<JobDocument[]> {
    return this.#backend.datastore.list(query);
  }

  /** The whole document; JobNotFoundError for an unknown uuid. */
  async get(uuid: string): Promise<JobDocument> {
    const read = await this.#backend.datastore.read(uuid);
    if (!read) throw new JobNotFoundError(uuid);
    return read.value;
  }

  async progress(uuid: string): Promise<JobProgress> {
    const d = await this.get(uuid);
    return { completeness: d.completeness, result: d.resultCode };
  }

  async info(uuid: string): Promise<JobInfo> {
    const d = await this.get(uuid);
    return {
      completeness: d.completeness,
      result: d.resultCode,
      state: d.state,
      completenessAtEnd: completenessAtEnd(d),
      nextAttemptAt: nextAttemptAt(d),
      events: d.events,
      errors: d.errors,
      warnings: d.warnings,
    };
  }

  /** The job's output, as its class's `getData()` computes it (what `setData` stored, by default). */
  async data(uuid: string): Promise<unknown> {
    const read = await this.#backend.datastore.read(uuid);
    if (!read) throw new JobNotFoundError(uuid);
    const jobClass = this.#registry.get(read.value.jobType);
    // A type this server does not know, or params its schema no longer accepts: what was stored.
    const params = jobClass?.schema.safeParse(read.value.params);
    if (!jobClass || !params?.success) return read.value.data;
    const writer = new DocumentWriter(this.#backend.datastore, read.value, read.cas, {
      attempt: read.value.attempt,
      clock: this.#opts.clock,
      flushIntervalMs: null,
    });
    return new jobClass({ writer, params: params.data, signal: NEVER, clock: this.#opts.clock }).getData() ?? {};
  }

  /**
   * Kills a job (row 8 of the outcome table in docs/job-states.md: error 410 "Killed by user",
   * result 410). JobNotFoundError for an unknown uuid.
   */
  async kill(uuid: string): Promise<KillResult> {
    const store = this.#backend.datastore;
    for (let round = 0; ; round++) {
      const read = await store.read(uuid);
      if (!read) throw new JobNotFoundError(uuid);
      const doc = read.value;
      if (doc.state === "finished") return "finished";
      const at = new Date(this.#opts.clock.now()).toISOString();
      applyOp(doc, t.requestKill());
      // A waiting job is finished here; its queue entry is dropped when a worker next reserves it.
      if (!doc.running) applyOp(doc, t.killedByUser(at));
      doc.updatedAt = at;
      try {
        await store.replace(doc, read.cas);
        if (!doc.running) return "killed";
        await this.#tellWorker(doc, uuid);
        return "stopping";
      } catch (err) {
        if (!isZeroGError(err, "ZEROG_CAS_MISMATCH") || round >= KILL_CAS_RETRIES) throw err;
      }
    }
  }

  /**
   * Runs a failed or killed job again: a new attempt with its logs and data kept, event "Retried
   * by user", `errorCount` 0, queued (docs/job-states.md). JobNotFoundError for an unknown uuid,
   * JobNotRetryableError (409) for a job that is waiting, running or succeeded.
   */
  retry(uuid: string): Promise<void> {
    return retryJob(this.#backend, this.#opts.clock, uuid);
  }

  /**
   * Retries the failed (or killed) jobs, of one type if given, newest first, at most
   * `query.limit` (10,000 at most per call); a job that changed meanwhile is skipped. Resolves
   * with how many were retried.
   */
  retryMany(query: RetryManyQuery): Promise<number> {
    return retryJobs(this.#backend, this.#opts.clock, query);
  }

  /**
   * Tells the worker running the job to stop it now, rather than at its next kill poll. Best
   * effort: the document already asks for the kill, and the worker's poll finds it regardless.
   */
  async #tellWorker(doc: JobDocument, uuid: string): Promise<void> {
    if (!doc.workerId) return;
    await this.#backend.fleet.sendControl(doc.workerId, { kind: "killJob", uuid }).catch(() => undefined);
  }

  /** The whole document; the logs only when `showLogs`. */
  async dump(uuid: string, opts: { showLogs?: boolean } = {}): Promise<Partial<JobDocument>> {
    const d = await this.get(uuid);
    if (opts.showLogs) return d;
    const { events: _e, warnings: _w, errors: _x, ...rest } = d;
    return rest;
  }
}
