import { InvalidParamsError, type ParamIssue } from "../errors.ts";
import type { JobRegistry } from "../job/registry.ts";

/** Most jobs one bulk create takes (a bigger import is several calls). */
export const MAX_BULK_JOBS = 10_000;
/** Issues reported for a refused batch: enough to fix it, not a megabyte of them. */
const MAX_ISSUES = 100;

/** One job of a bulk create. */
export interface BulkJob {
  jobType: string;
  /** The job's params; none means the schema's defaults. */
  params?: unknown;
}

/** A bulk create's job once its params have passed its class's schema. */
export interface ValidJob {
  jobType: string;
  params: Record<string, unknown>;
}

/**
 * Checks every job of a bulk create before any is stored: all or none. A bad item is named by
 * its index (`[3].params.width`, `[7].jobType`), with at most MAX_ISSUES issues in all.
 */
export function validateBulk(registry: JobRegistry, jobs: unknown): ValidJob[] {
  if (!Array.isArray(jobs) || jobs.length === 0 || jobs.length > MAX_BULK_JOBS) {
    throw new InvalidParamsError([{ path: "", message: `expected an array of 1 to ${MAX_BULK_JOBS} jobs` }]);
  }
  const issues: ParamIssue[] = [];
  const valid: ValidJob[] = [];
  jobs.forEach((job, i) => {
    if (issues.length >= MAX_ISSUES) return;
    const at = `[${i}]`;
    if (job === null || typeof job !== "object" || Array.isArray(job)) {
      issues.push({ path: at, message: "expected an object with jobType and params" });
      return;
    }
    const { jobType, params } = job as { jobType?: unknown; params?: unknown };
    if (typeof jobType !== "string" || registry.get(jobType) === undefined) {
      const message = typeof jobType === "string" ? `unknown job type '${jobType}'` : "jobType must be a string";
      issues.push({ path: `${at}.jobType`, message });
      return;
    }
    try {
      valid.push({ jobType, params: registry.validate(jobType, params === undefined ? {} : params) });
    } catch (err) {
      if (!(err instanceof InvalidParamsError)) throw err;
      for (const issue of err.issues) {
        issues.push({ path: issue.path ? `${at}.params.${issue.path}` : `${at}.params`, message: issue.message });
      }
    }
  });
  if (issues.length > 0) throw new InvalidParamsError(issues.slice(0, MAX_ISSUES));
  return valid;
}
