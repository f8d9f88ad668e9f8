import { z } from "zod";
import { InvalidConfigError } from "../errors.ts";

/**
 * How long a job class's finished documents are kept (a job class's `static retention`). Each
 * field left out takes the server's default (`ServerConfig.retention`): a class's policy
 * overrides the default field by field.
 */
export interface RetentionPolicy {
  /** Seconds after `finishedAt` a job that succeeded (result 200-299) is removed; 0 keeps it. */
  finishedAfterSeconds?: number;
  /** Seconds after `finishedAt` a failed or killed job is removed; 0 keeps it. */
  failedAfterSeconds?: number;
  /** At most this many succeeded jobs of the type are kept, the newest by `finishedAt`; null: no limit. */
  maxFinished?: number | null;
}

/** A policy with every field decided. */
export type ResolvedRetentionPolicy = { [K in keyof RetentionPolicy]-?: Exclude<RetentionPolicy[K], undefined> };

const DAY_SECONDS = 86_400;

/** What a class without a policy of its own gets, unless the server sets other defaults. */
export const RETENTION_DEFAULTS = {
  finishedAfterSeconds: 7 * DAY_SECONDS,
  failedAfterSeconds: 30 * DAY_SECONDS,
  maxFinished: null,
} as const satisfies ResolvedRetentionPolicy;

const seconds = z.number().finite().min(0);
/** The fields of a policy, each optional; also what `ServerConfig.retention` extends. */
export const retentionFields = {
  finishedAfterSeconds: seconds.optional(),
  failedAfterSeconds: seconds.optional(),
  maxFinished: z.number().int().min(1).nullable().optional(),
};
const policySchema = z.strictObject(retentionFields);

/** `policy` checked (fields left out stay out); InvalidConfigError naming the owner and the field otherwise. */
export function resolveRetentionPolicy(policy: unknown, owner: string): RetentionPolicy {
  const parsed = policySchema.safeParse(policy);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join(".") || "retention"}: ${i.message}`).join("; ");
    throw new InvalidConfigError(`${owner}: static retention: ${why}`);
  }
  return withoutUndefined(parsed.data);
}

/** `own`'s fields where it sets them, `defaults`' otherwise. */
export function mergeRetention(
  own: RetentionPolicy | null,
  defaults: ResolvedRetentionPolicy,
): ResolvedRetentionPolicy {
  return { ...defaults, ...(own ? withoutUndefined(own) : {}) };
}

const resolved = new WeakMap<object, RetentionPolicy | null>();

/** A class's `static retention`, checked once per class; null when it has none. */
export function retentionPolicyOf(cls: {
  name: string;
  jobType: string;
  retention?: RetentionPolicy | null;
}): RetentionPolicy | null {
  let policy = resolved.get(cls);
  if (policy === undefined) {
    policy = cls.retention == null ? null : resolveRetentionPolicy(cls.retention, `${cls.name} (${cls.jobType})`);
    resolved.set(cls, policy);
  }
  return policy;
}

/** zod's output of an optional field may hold undefined; a policy leaves the field out instead. */
function withoutUndefined(p: { [K in keyof RetentionPolicy]?: RetentionPolicy[K] | undefined }): RetentionPolicy {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as RetentionPolicy;
}
