/** ZeroG: public exports only. Job modules' part (BaseJob, z, result codes, control flow) is also `zerog/job`. */

export { type BackendUrls, DEFAULT_BACKEND_URL } from "./backends/backend-url.ts";
export { type BackendCapabilities, backendCapabilities } from "./backends/capabilities.ts";
export { MemoryDatastore } from "./backends/memory/memory-datastore.ts";
export { MemoryFleetStore } from "./backends/memory/memory-fleet.ts";
export { MemoryQueue } from "./backends/memory/memory-queue.ts";
export { type OpenBackendOptions, openBackend } from "./backends/open-backend.ts";
export { purgeJob } from "./backends/purge-job.ts";
export { registerDriver } from "./backends/registry.ts";
export { SeparateBackend, type SeparateBackendOptions } from "./backends/separate-backend.ts";
export {
  SWEEPER_DEFAULTS,
  Sweeper,
  type SweeperOptions,
  type SweepReport,
  type SweepTarget,
  type SweepTurn,
} from "./backends/sweeper.ts";
export { type BulkJob, MAX_BULK_JOBS } from "./client/bulk-create.ts";
export {
  type CreatedJob,
  type CreateJobOptions,
  JobClient,
  type JobInfo,
  type JobProgress,
  type KillResult,
} from "./client/job-client.ts";
export { RETRY_MANY_LIMITS, type RetryableStatus, type RetryManyQuery } from "./client/retry-job.ts";
export type { Backend } from "./contracts/backend.ts";
export type {
  Cas,
  Datastore,
  DeleteFinishedQuery,
  IdempotencyClaim,
  ListCursor,
  ListJobsQuery,
  Versioned,
} from "./contracts/datastore.ts";
export type {
  BackendDriver,
  DatastoreHalf,
  DriverCapabilities,
  DriverOpenOptions,
  DriverProvides,
  QueueHalf,
} from "./contracts/driver.ts";
export type {
  ControlMessage,
  FleetStore,
  RunningJob,
  WorkerRecord,
  WorkerState,
} from "./contracts/fleet.ts";
export type {
  EntryStats,
  PutOptions,
  Queue,
  QueueEntryId,
  QueueStats,
  Reserved,
  ReserveOptions,
} from "./contracts/queue.ts";
export * from "./errors.ts";
export { diffFleet, type FleetUpdate, type FleetWatchOptions } from "./fleet/fleet-watch.ts";
export {
  type ControlResult,
  type FleetOverview,
  type HostSummary,
  WorkerManager,
} from "./fleet/worker-manager.ts";
export { type Clock, ManualClock, systemClock } from "./internal/clock.ts";
export { FINISHED_STATUSES, type FinishedStatus, JOB_STATUSES, type JobStatus, statusOf } from "./job/job-status.ts";
export { JobRegistry } from "./job/registry.ts";
export { RETENTION_DEFAULTS } from "./job/retention-policy.ts";
export * from "./job-api.ts";
export { Scheduler, type SchedulerOptions, type TickOutcome } from "./schedule/scheduler.ts";
export { type AppOptions, createApp } from "./server/app.ts";
export type { RetentionOptions } from "./server/retention.ts";
export type { RouteGuard } from "./server/route-guards.ts";
export type { JobEventsOptions } from "./server/routes/job-events.ts";
export { Server, type ServerConfig } from "./server/server.ts";
export { ProcessRunner, type ProcessRunnerOptions } from "./worker/child/process-runner.ts";
export type { WorkerEventMap } from "./worker/events.ts";
export { InlineRunner, type InlineRunnerOptions } from "./worker/inline-runner.ts";
export { WORKER_DEFAULTS, type WorkerOptions } from "./worker/options.ts";
export type { JobRunner, RunReport, RunRequest } from "./worker/runner.ts";
export { Worker, type WorkerConfig } from "./worker/worker.ts";
