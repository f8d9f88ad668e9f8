import { z } from "zod";
import { SWEEPER_DEFAULTS, type SweeperTimings, type SweepTarget } from "../backends/sweeper.ts";
import { InvalidConfigError } from "../errors.ts";
import type { JobRegistry } from "../job/registry.ts";
import {
  mergeRetention,
  RETENTION_DEFAULTS,
  type ResolvedRetentionPolicy,
  type RetentionPolicy,
  retentionFields,
  retentionPolicyOf,
} from "../job/retention-policy.ts";

/**
 * `ServerConfig.retention`: the defaults of classes without a `static retention` of their own
 * (field by field), and how this server sweeps.
 */
export interface RetentionOptions extends RetentionPolicy {
  /** How often one server of those sharing the backend sweeps. @defaultValue 60000 */
  sweepIntervalMs?: number;
  /** Documents deleted per datastore call. @defaultValue 500 */
  sweepBatchSize?: number;
  /** A pass starts no new batch after this long; the rest waits for the next interval. @defaultValue 5000 */
  sweepBudgetMs?: number;
}

/** The options checked, defaults applied. */
export interface ResolvedRetention {
  defaults: ResolvedRetentionPolicy;
  sweeper: SweeperTimings;
}

const positive = z.number().finite().positive();
const optionsSchema = z.strictObject({
  ...retentionFields,
  sweepIntervalMs: positive.optional(),
  sweepBatchSize: z.number().int().positive().optional(),
  sweepBudgetMs: z.number().finite().min(0).optional(),
});

/** null when retention is off on this server (`false`); InvalidConfigError naming the field otherwise. */
export function resolveRetention(opts: RetentionOptions | false | undefined): ResolvedRetention | null {
  if (opts === false) return null;
  const parsed = optionsSchema.safeParse(opts ?? {});
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `retention.${i.path.join(".")}: ${i.message}`).join("; ");
    throw new InvalidConfigError(why);
  }
  const o = parsed.data;
  const defaults = mergeRetention(
    {
      ...(o.finishedAfterSeconds === undefined ? {} : { finishedAfterSeconds: o.finishedAfterSeconds }),
      ...(o.failedAfterSeconds === undefined ? {} : { failedAfterSeconds: o.failedAfterSeconds }),
      ...(o.maxFinished === undefined ? {} : { maxFinished: o.maxFinished }),
    },
    RETENTION_DEFAULTS,
  );
  const sweeper = {
    intervalMs: o.sweepIntervalMs ?? SWEEPER_DEFAULTS.intervalMs,
    batchSize: o.sweepBatchSize ?? SWEEPER_DEFAULTS.batchSize,
    passBudgetMs: o.sweepBudgetMs ?? SWEEPER_DEFAULTS.passBudgetMs,
  };
  return { defaults, sweeper };
}

/**
 * What the sweeper removes for each registered class: its own policy over the defaults. An age of
 * 0 keeps jobs forever; a target with neither an age nor a count is dropped by the Sweeper.
 */
export function sweepTargets(registry: JobRegistry, defaults: ResolvedRetentionPolicy): SweepTarget[] {
  const ageMs = (seconds: number) => (seconds > 0 ? { maxAgeMs: seconds * 1000 } : {});
  return registry.classes().flatMap((cls) => {
    const p = mergeRetention(retentionPolicyOf(cls), defaults);
    const jobType = cls.jobType;
    return [
      {
        jobType,
        status: "finished",
        ...ageMs(p.finishedAfterSeconds),
        ...(p.maxFinished ? { keepNewest: p.maxFinished } : {}),
      },
      { jobType, status: "failed", ...ageMs(p.failedAfterSeconds) },
      { jobType, status: "killed", ...ageMs(p.failedAfterSeconds) },
    ] satisfies SweepTarget[];
  });
}
