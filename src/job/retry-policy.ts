import { z } from "zod";
import { InvalidConfigError } from "../errors.ts";

/**
 * How long a job waits before it runs again after an error, when `continueRunning()` asks for
 * another run (a job class's `static retry`). Without one, the worker's `errorRetryDelaySeconds`
 * applies to every retry.
 */
export interface RetryPolicy {
  /** The wait before the first retry, in seconds. */
  delaySeconds: number;
  /** `"fixed"`: every retry waits `delaySeconds`. `"exponential"`: the wait doubles with each error. @defaultValue "exponential" */
  backoff?: "fixed" | "exponential";
  /** The longest wait, in seconds. @defaultValue 3600 */
  maxDelaySeconds?: number;
  /**
   * Up to this fraction of each wait is taken off at random (0.2: between 80 % and 100 % of it), so
   * jobs that failed together do not all retry at the same moment. @defaultValue 0
   */
  jitter?: number;
}

const seconds = z.number().finite().min(0);
const policySchema = z.strictObject({
  delaySeconds: seconds,
  backoff: z.enum(["fixed", "exponential"]).default("exponential"),
  maxDelaySeconds: seconds.default(3600),
  jitter: z.number().min(0).max(1).default(0),
});

/** A policy with every default filled in. */
export type ResolvedRetryPolicy = Required<RetryPolicy>;

/** `policy` checked, defaults applied; InvalidConfigError naming the class and the field otherwise. */
export function resolveRetryPolicy(policy: unknown, owner: string): ResolvedRetryPolicy {
  const parsed = policySchema.safeParse(policy);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join(".") || "retry"}: ${i.message}`).join("; ");
    throw new InvalidConfigError(`${owner}: static retry: ${why}`);
  }
  return parsed.data;
}

/**
 * The wait before the next run once the job has counted `errorCount` errors (1 after its first):
 * `delaySeconds`, doubled per further error when exponential, at most `maxDelaySeconds`, less
 * the jitter. `random` returns [0, 1).
 */
export function retryDelaySeconds(
  policy: ResolvedRetryPolicy,
  errorCount: number,
  random: () => number = Math.random,
): number {
  const n = Math.max(1, errorCount);
  // 2^(n-1) overflows to Infinity for huge n, which the cap turns into the maximum.
  const raw = policy.backoff === "fixed" ? policy.delaySeconds : policy.delaySeconds * 2 ** (n - 1);
  const capped = Math.min(raw, policy.maxDelaySeconds);
  return capped * (1 - policy.jitter * random());
}

const resolved = new WeakMap<object, ResolvedRetryPolicy | null>();

/** A class's `static retry`, resolved once per class; null when it has none. */
export function retryPolicyOf(cls: {
  name: string;
  jobType: string;
  retry?: RetryPolicy | null;
}): ResolvedRetryPolicy | null {
  let policy = resolved.get(cls);
  if (policy === undefined) {
    policy = cls.retry == null ? null : resolveRetryPolicy(cls.retry, `${cls.name} (${cls.jobType})`);
    resolved.set(cls, policy);
  }
  return policy;
}
