import type { FastifyInstance } from "fastify";
import type { JobClient } from "../../client/job-client.ts";
import { RETRY_MANY_LIMITS, type RetryManyQuery } from "../../client/retry-job.ts";
import { ZeroGError } from "../../errors.ts";
import { checkedUuid } from "./uuid.ts";

/** Always guarded by the API token: a retry changes jobs. */
const TOKEN = { config: { guard: "token" } } as const;

/** Longest job type the filter takes (as in GET /jobs). */
const MAX_TYPE_LENGTH = 100;

/** A date (`2026-01-31`, midnight UTC) or a date-time with its zone (`Z` or `±hh:mm`): never a local time. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

const badRequest = (message: string) => new ZeroGError("ZEROG_BAD_REQUEST", message);

interface RetryManyParams {
  type?: unknown;
  state?: unknown;
  createdBefore?: unknown;
  limit?: unknown;
}

/** POST /jobs/retry's query string as a `retryMany` query; a missing or bad parameter is 400. */
export function retryManyQueryOf(q: RetryManyParams & Record<string, unknown>): RetryManyQuery {
  for (const name of Object.keys(q))
    if (!["type", "state", "createdBefore", "limit"].includes(name))
      throw badRequest(`unknown parameter '${name}': POST /jobs/retry takes type, state, createdBefore and limit`);
  const one = (name: string, v: unknown): string | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== "string") throw badRequest(`parameter '${name}' may be given once`);
    return v;
  };
  const state = one("state", q.state);
  if (state !== "failed" && state !== "killed")
    throw badRequest(
      state === undefined ? "state is required: failed or killed" : `state must be failed or killed, got '${state}'`,
    );
  const out: RetryManyQuery = { state };
  const type = one("type", q.type);
  if (type !== undefined) {
    if (type === "" || type.length > MAX_TYPE_LENGTH) throw badRequest(`type '${type}' is not a job type`);
    out.jobType = type;
  }
  const before = one("createdBefore", q.createdBefore);
  if (before !== undefined) {
    if (!ISO_TIME.test(before) || !Number.isFinite(Date.parse(before)))
      throw badRequest(
        `createdBefore must be an ISO-8601 date or date-time with its zone (2026-01-31, 2026-01-31T12:00:00Z), got '${before}'`,
      );
    out.createdBefore = new Date(Date.parse(before)).toISOString();
  }
  const limit = one("limit", q.limit);
  if (limit !== undefined) {
    const n = /^\d+$/.test(limit) ? Number(limit) : Number.NaN;
    if (!(n >= 1 && n <= RETRY_MANY_LIMITS.maxJobs))
      throw badRequest(`limit must be a whole number from 1 to ${RETRY_MANY_LIMITS.maxJobs}, got '${limit}'`);
    out.limit = n;
  }
  return out;
}

/**
 * POST /job/{uuid}/retry: 200 `{uuid, result: "retried"}` for a failed or killed job, which runs
 * again (docs/job-states.md); 409 ZEROG_JOB_NOT_RETRYABLE for one that is waiting, running or
 * succeeded; 404 for an unknown uuid or a path segment that is not one (as every uuid route).
 * POST /jobs/retry?state=failed|killed[&type=][&createdBefore=][&limit=]: 200 `{retried: n}`.
 */
export function registerRetryRoutes(app: FastifyInstance, client: JobClient): void {
  app.post<{ Params: { uuid: string } }>("/job/:uuid/retry", TOKEN, async (req) => {
    const uuid = checkedUuid(req.params.uuid);
    await client.retry(uuid);
    return { uuid, result: "retried" as const };
  });
  app.post<{ Querystring: RetryManyParams & Record<string, unknown> }>("/jobs/retry", TOKEN, async (req) => {
    const retried = await client.retryMany(retryManyQueryOf(req.query ?? {}));
    return { retried };
  });
}
