/**
 * `zerog/job`: what a job module needs and nothing more. Job processes import every job module
 * at start; a module importing this instead of "zerog" does not load the HTTP server, the
 * drivers and the logger, which halves a job process's start-up.
 */
export { z } from "zod";
export { BaseJob, type JobClass, type JobContext, type ParamsSchema } from "./job/base-job.ts";
export {
  ErrorContinue,
  ErrorFinish,
  JobControlError,
  WarningContinue,
  WarningFinish,
} from "./job/control-flow.ts";
export {
  type ErrorEntry,
  INTERNAL_ERROR,
  type JobDocument,
  type JobState,
  KILLED_BY_USER,
  type LogEntry,
  NO_RESULT,
  SUCCESS,
} from "./job/document.ts";
export type { RetentionPolicy } from "./job/retention-policy.ts";
export type { RetryPolicy } from "./job/retry-policy.ts";
