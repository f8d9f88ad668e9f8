import type { FastifyInstance } from "fastify";
import type { JobClient } from "../../client/job-client.ts";
import type { ListCursor } from "../../contracts/datastore.ts";
import { ZeroGError } from "../../errors.ts";
import type { JobDocument } from "../../job/document.ts";
import { completenessAtEnd, nextAttemptAt } from "../../job/job-progress.ts";
import { isJobStatus, JOB_STATUSES, type JobStatus, statusOf } from "../../job/job-status.ts";
import { UUID_PATTERN } from "./uuid.ts";

/** Jobs per page when `limit` is not given, and the most a page may hold. */
export const LIST_LIMITS = { defaultLimit: 50, maxLimit: 500 } as const;

/** A cursor's time: what `createdAt` holds (ISO-8601 UTC with milliseconds). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Longest job type the filter takes (as long as a path segment may be). */
const MAX_TYPE_LENGTH = 100;

/** One job in a listing: the document without params, logs or output. */
export interface JobSummary {
  uuid: string;
  jobType: string;
  state: JobStatus;
  completeness: number;
  /** The completeness reached when the job finished (`completeness` then reads 1); null until then. */
  completenessAtEnd: number | null;
  /** When a delayed job's next attempt is due; null unless delayed. */
  nextAttemptAt: string | null;
  resultCode: number;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  attempt: number;
  errorCount: number;
  workerId: string | null;
}

export interface JobPage {
  jobs: JobSummary[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

export function summaryOf(d: JobDocument): JobSummary {
  return {
    uuid: d.uuid,
    jobType: d.jobType,
    state: statusOf(d),
    completeness: d.completeness,
    completenessAtEnd: completenessAtEnd(d),
    nextAttemptAt: nextAttemptAt(d),
    resultCode: d.resultCode,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    startedAt: d.startedAt,
    finishedAt: d.finishedAt,
    attempt: d.attempt,
    errorCount: d.errorCount,
    workerId: d.workerId,
  };
}

/**
 * The cursor is opaque to clients: base64url of the last listed job's `[createdAt, uuid]`. It is a
 * position in listing order, not a job, so it stays valid when that job changes or is deleted, and
 * jobs created after the first page (all newer) never appear on later pages.
 */
export function encodeCursor(c: ListCursor): string {
  return Buffer.from(JSON.stringify([c.createdAt, c.uuid])).toString("base64url");
}

export function decodeCursor(text: string): ListCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    parsed = null;
  }
  const [createdAt, uuid] = Array.isArray(parsed) && parsed.length === 2 ? parsed : [];
  const valid =
    typeof createdAt === "string" &&
    ISO_TIME.test(createdAt) &&
    Number.isFinite(Date.parse(createdAt)) &&
    typeof uuid === "string" &&
    UUID_PATTERN.test(uuid);
  if (!valid) throw badRequest(`cursor '${text}' is not one this server gave out: pass a nextCursor unchanged`);
  return { createdAt, uuid: uuid.toLowerCase() };
}

const badRequest = (message: string) => new ZeroGError("ZEROG_BAD_REQUEST", message);

/** A read: guarded by the API token only with `protectReads`. */
const READ = { config: { guard: "read" } } as const;

interface ListQuery {
  type?: unknown;
  state?: unknown;
  limit?: unknown;
  cursor?: unknown;
}

/** The query string as a datastore query; a bad or unknown parameter is 400. */
export function listQueryOf(q: ListQuery & Record<string, unknown>): {
  limit: number;
  type?: string;
  state?: JobStatus;
  before?: ListCursor;
} {
  for (const name of Object.keys(q))
    if (!["type", "state", "limit", "cursor"].includes(name))
      throw badRequest(`unknown parameter '${name}': GET /jobs takes type, state, limit and cursor`);
  const one = (name: string, v: unknown): string | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== "string") throw badRequest(`parameter '${name}' may be given once`);
    return v;
  };
  const type = one("type", q.type);
  const state = one("state", q.state);
  const limitText = one("limit", q.limit);
  const cursor = one("cursor", q.cursor);
  const out: { limit: number; type?: string; state?: JobStatus; before?: ListCursor } = {
    limit: LIST_LIMITS.defaultLimit,
  };
  if (type !== undefined) {
    if (type === "" || type.length > MAX_TYPE_LENGTH) throw badRequest(`type '${type}' is not a job type`);
    out.type = type;
  }
  if (state !== undefined) {
    if (!isJobStatus(state)) throw badRequest(`state '${state}' is not one of ${JOB_STATUSES.join(", ")}`);
    out.state = state;
  }
  if (limitText !== undefined) {
    const n = /^\d+$/.test(limitText) ? Number(limitText) : Number.NaN;
    if (!(n >= 1 && n <= LIST_LIMITS.maxLimit))
      throw badRequest(`limit must be a whole number from 1 to ${LIST_LIMITS.maxLimit}, got '${limitText}'`);
    out.limit = n;
  }
  if (cursor !== undefined) out.before = decodeCursor(cursor);
  return out;
}

/**
 * GET /jobs?type=&state=&limit=&cursor=: jobs newest first, a page at a time, from the datastore's
 * index for the filters (never a scan). One job more than asked is read to tell whether a next page exists.
 */
export function registerListRoutes(app: FastifyInstance, client: JobClient): void {
  app.get<{ Querystring: ListQuery & Record<string, unknown> }>("/jobs", READ, async (req): Promise<JobPage> => {
    const q = listQueryOf(req.query ?? {});
    const docs = await client.list({
      limit: q.limit + 1,
      ...(q.type === undefined ? {} : { jobType: q.type }),
      ...(q.state === undefined ? {} : { state: q.state }),
      ...(q.before === undefined ? {} : { before: q.before }),
    });
    const page = docs.slice(0, q.limit);
    const last = page.at(-1);
    return {
      jobs: page.map(summaryOf),
      nextCursor: docs.length > q.limit && last ? encodeCursor(last) : null,
    };
  });
}
