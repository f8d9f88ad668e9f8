import type { FastifyRequest } from "fastify";
import { MAX_IDEMPOTENCY_KEY_LENGTH } from "../../client/idempotency.ts";
import type { CreateJobOptions } from "../../client/job-client.ts";
import { ZeroGError } from "../../errors.ts";

/** The longest delay a new job may ask for: a year (beyond it, a schedule is the better tool). */
const MAX_DELAY_SECONDS = 365 * 24 * 60 * 60;
/** Beanstalkd's priority range (an unsigned 32-bit integer), which every queue accepts. */
const MAX_PRIORITY = 2 ** 32 - 1;
/** Printable ASCII: what a header value carries safely through proxies. */
const KEY_PATTERN = /^[\x21-\x7e]+$/;

const badRequest = (message: string) => new ZeroGError("ZEROG_BAD_REQUEST", message);

/**
 * The options of `POST /job/{jobType}`, kept apart from the params (the body): `?delay=` seconds
 * and `?priority=` (lower is more urgent) in the query string, the `Idempotency-Key` header. An
 * unknown query parameter or a bad value is a 400 before anything is stored.
 */
export function createOptionsOf(req: FastifyRequest): CreateJobOptions {
  const opts: CreateJobOptions = {};
  const query = (req.query ?? {}) as Record<string, unknown>;
  for (const [name, raw] of Object.entries(query)) {
    if (name === "delay") opts.delaySeconds = integerOption(name, raw, MAX_DELAY_SECONDS);
    else if (name === "priority") opts.priority = integerOption(name, raw, MAX_PRIORITY);
    else throw badRequest(`unknown option '${name}': POST /job takes ?delay= (seconds) and ?priority=`);
  }
  const key = req.headers["idempotency-key"];
  if (key !== undefined) {
    if (
      typeof key !== "string" ||
      key.length === 0 ||
      key.length > MAX_IDEMPOTENCY_KEY_LENGTH ||
      !KEY_PATTERN.test(key)
    )
      throw badRequest(
        `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters, sent once`,
      );
    opts.idempotencyKey = key;
  }
  return opts;
}

function integerOption(name: string, raw: unknown, max: number): number {
  const text = typeof raw === "string" ? raw : "";
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n > max)
    throw badRequest(
      `option '${name}' must be a whole number from 0 to ${max}, got '${Array.isArray(raw) ? raw.join(",") : String(raw)}'`,
    );
  return n;
}
