import type { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { Backend, ReservedJob } from "../contracts/backend.ts";
import type { Cas } from "../contracts/datastore.ts";
import type { WorkerRecord } from "../contracts/fleet.ts";
import type { Reserved } from "../contracts/queue.ts";
import { isBackendUnavailable, isZeroGError } from "../errors.ts";
import { followAbort } from "../internal/abort.ts";
import { backoffMs } from "../internal/backoff.ts";
import type { Clock } from "../internal/clock.ts";
import { uuidTimeMs } from "../internal/uuid7.ts";
import type { JobClass } from "../job/base-job.ts";
import { INTERNAL_ERROR, type JobDocument, KILLED_BY_USER, NO_RESULT } from "../job/document.ts";
import { type DocumentWrite, DocumentWriter } from "../job/document-writer.ts";
import type { JobOp } from "../job/job-op.ts";
import type { JobRegistry } from "../job/registry.ts";
import { retryDelaySeconds, retryPolicyOf } from "../job/retry-policy.ts";
import * as t from "../job/transitions.ts";
import type { WorkerEventMap } from "./events.ts";
import { startHeartbeat } from "./heartbeat.ts";
import { KilledByUserError, startKillWatch } from "./kill-watch.ts";
import { type LoadedJob, loadJob } from "./load-job.ts";
import type { ResolvedWorkerOptions } from "./options.ts";
import { outcomeOf } from "./outcome.ts";
import { liveRunOwner } from "./run-owner.ts";
import type { JobRunner, RunReport } from "./runner.ts";

export interface EntryContext {
  backend: Backend;
  registry: JobRegistry;
  runner: JobRunner;
  clock: Clock;
  logger: Logger;
  workerId: string;
  options: ResolvedWorkerOptions;
  events: EventEmitter<WorkerEventMap>;
  /** Fires when the worker gives up waiting for running jobs at shutdown. */
  shutdownSignal: AbortSignal;
  /** Registers a run with the worker (fleet record, killJob); returns its removal. */
  track?: (run: { uuid: string; jobType: string; abort: AbortController }) => () => void;
}

/** What to do with the queue entry once the document says what happened. */
type EntryAction = { kind: "delete"; resultCode: number } | { kind: "release"; delaySeconds: number };

/**
 * An entry whose document is missing, for a job made longer ago than this (the time is in its
 * uuid), is deleted rather than retried: every writer stores a job's document before its entry is
 * put, so a document missing a minute on was removed (retention, a purge, a create undone after a
 * put that failed), and retrying it would only bury the entry. A younger job's entry keeps the
 * unloadable path (retried, then buried), which gives a document any writer delayed time to appear.
 */
export const DOCUMENT_GONE_AFTER_MS = 60_000;

/** A signal that never fires, for job instances that only answer `continueRunning()`. */
const NEVER = new AbortController().signal;

/**
 * The outcome table of docs/job-states.md, in one place: loads the entry's job, handles a killed previous run,
 * claims a new attempt, runs it, then records the outcome and settles the entry (one
 * transaction where the backend allows). `taken` is what Backend.reserveJob read (and maybe
 * claimed) with the reserve.
 */
export async function handleEntry(
  entry: Reserved,
  ctx: EntryContext,
  taken?: Omit<ReservedJob, "entry">,
  retried = false,
): Promise<void> {
  const { datastore } = ctx.backend;
  const fast = retried ? undefined : taken;
  const loaded = await loadJob(entry.body, datastore, ctx.registry, fast?.document);
  if (loaded.kind === "unloadable") {
    if (loaded.missing !== undefined && documentGone(loaded.missing, ctx)) return dropEntry(entry, loaded.missing, ctx);
    if (fast?.claimed && fast.document) return handleUnloadable(entry, await undoClaim(loaded, fast, ctx), ctx);
    return handleUnloadable(entry, loaded, ctx);
  }
  const { jobClass, doc, params } = loaded;
  const writer = (d: typeof doc, cas: string, attempt: number): DocumentWriter =>
    new DocumentWriter(datastore, d, cas, { attempt, clock: ctx.clock, flushIntervalMs: null });

  // The backend started the run with the reserve (the plain case): straight to running it.
  const started = fast?.claimed
    ? { doc, cas: loaded.cas, attempt: doc.attempt }
    : await startAttempt(entry, loaded, ctx, retried);
  if (!started) return;
  const { attempt } = started;
  ctx.events.emit("job:started", { uuid: doc.uuid, jobType: doc.jobType, attempt });

  // The job's signal fires on shutdown, on a user's kill, or when fenced off (kill watch, runner).
  const abort = new AbortController();
  const unlink = followAbort(abort, ctx.shutdownSignal);
  const onError = (error: unknown): void => void ctx.events.emit("worker:error", { error });
  const onLost = (err: Error): void =>
    logFor(ctx, doc).warn({ err, attempt }, "queue reservation lost; the run goes on, fenced by its attempt");
  // Until the outcome is written: the entry stays ours, and the fleet record says the run goes on.
  const heartbeat = startHeartbeat(entry, doc.queueKwargs.ttrSeconds, onLost, onError);
  const untrack = ctx.track?.({ uuid: doc.uuid, jobType: doc.jobType, abort });
  try {
    const killWatch = startKillWatch(
      datastore,
      { uuid: doc.uuid, attempt },
      ctx.options.killPollMs,
      (r) => abort.abort(r),
      onError,
    );
    let report: RunReport;
    try {
      report = await ctx.runner.run({ jobClass, params, doc: started.doc, cas: started.cas, attempt, abort });
    } finally {
      killWatch.stop();
      unlink();
    }
    if (report.kind === "fenced") {
      logFor(ctx, doc).warn({ attempt }, report.message);
      ctx.events.emit("job:fenced", { uuid: doc.uuid, jobType: doc.jobType, attempt });
      return;
    }
    const out = writer(report.doc, report.cas, attempt);
    const killed = abort.signal.reason instanceof KilledByUserError || report.doc.killRequested;
    const action = killed ? killOutcome(out, isoNow(ctx)) : recordOutcome(report, out, loaded, ctx, isoNow(ctx));
    await recordAndSettle(out, null, entry, action, ctx, { untilWritten: true });
  } finally {
    heartbeat.stop();
    untrack?.();
  }
}

/**
 * The outcome table's rows before a run: a finished job's stray entry is dropped, a killed job
 * ends with 410, a run whose process died is counted; then a new attempt is claimed through
 * CAS. Resolves with the claimed document, or null when the entry was dealt with otherwise.
 */
async function startAttempt(
  entry: Reserved,
  { jobClass, doc, cas, params }: Extract<LoadedJob, { kind: "loaded" }>,
  ctx: EntryContext,
  retried: boolean,
): Promise<{ doc: JobDocument; cas: Cas; attempt: number } | null> {
  // Finished earlier, but the entry's delete was lost (a crash in between): just drop the entry.
  if (doc.state === "finished") {
    await entry.delete().catch(ignoreLostEntry);
    emitSettled(ctx, doc, { kind: "delete", resultCode: doc.resultCode });
    return null;
  }

  // A claim that loses a CAS race to a user's kill (or a finish) must not start the run on top of it.
  const claim = new DocumentWriter(ctx.backend.datastore, doc, cas, {
    attempt: doc.attempt,
    clock: ctx.clock,
    flushIntervalMs: null,
    refuseIf: (fresh) => (fresh.state === "finished" || fresh.killRequested ? "finished or killed meanwhile" : null),
  });
  if (doc.killRequested) {
    // Killed while queued, or while its last run's process died: never run again.
    await recordAndSettle(
      claim,
      t.killedByUser(isoNow(ctx)),
      entry,
      { kind: "delete", resultCode: KILLED_BY_USER },
      ctx,
    );
    return null;
  }
  if (doc.running) {
    const now = ctx.clock.now();
    const owner = await liveRunOwner(ctx.backend.fleet, doc, now, announceLagMs(ctx.options));
    if (owner) {
      // The entry came back while its run goes on elsewhere: never a second run on top of it.
      await deferWhileRunning(entry, doc, owner, now, ctx);
      return null;
    }
    // The previous run never recorded an outcome: its process died (crash, OOM, kill -9).
    claim.mutate(t.addError(INTERNAL_ERROR, "job was killed", isoNow(ctx)));
    const decision = new jobClass({ writer: claim, params, signal: NEVER, clock: ctx.clock }).continueRunning();
    if (decision !== NO_RESULT) {
      logFor(ctx, doc).warn({ resultCode: decision }, "previous run was killed; finishing");
      await recordAndSettle(
        claim,
        t.finish(decision, isoNow(ctx)),
        entry,
        { kind: "delete", resultCode: decision },
        ctx,
      );
      return null;
    }
    logFor(ctx, doc).warn("previous run was killed; restarting");
    claim.mutate(t.addEvent("Killed - restarting", isoNow(ctx)));
  }
  const attempt = doc.attempt + 1;
  if (!(await commitOrFenced(claim, t.startRun(attempt, ctx.workerId, isoNow(ctx)), ctx))) {
    // Still our entry: look again once, so a job finished or killed meanwhile is settled now, not after its TTR.
    if (!retried) await handleEntry(entry, ctx, undefined, true);
    return null;
  }
  return { doc: claim.doc, cas: claim.cas, attempt };
}

/**
 * The backend claimed a job the worker then could not load (its params no longer match the
 * schema): put the claimed fields back, so the document reads as never started, then handle
 * it as unloadable.
 */
async function undoClaim(
  loaded: Extract<LoadedJob, { kind: "unloadable" }>,
  { document, claimed }: Omit<ReservedJob, "entry">,
  ctx: EntryContext,
): Promise<Extract<LoadedJob, { kind: "unloadable" }>> {
  if (!document || !claimed) return loaded;
  const doc: JobDocument = { ...document.value, ...claimed.undo, updatedAt: isoNow(ctx) };
  const cas = await ctx.backend.datastore.replace(doc, document.cas);
  return { ...loaded, stored: { doc, cas } };
}

/** Applies the outcome of a run to the document (not yet written) and says what to do with the entry. */
function recordOutcome(
  report: Exclude<RunReport, { kind: "fenced" }>,
  out: DocumentWriter,
  { jobClass, params }: { jobClass: JobClass; params: Record<string, unknown> },
  ctx: EntryContext,
  at: string,
): EntryAction {
  const finishWith = (code: number): EntryAction => {
    out.mutate(t.finish(code, at));
    return { kind: "delete", resultCode: code };
  };
  const requeueAfter = (delaySeconds: number): EntryAction => {
    out.mutate(t.requeue(delaySeconds, at));
    return { kind: "release", delaySeconds };
  };
  if (report.kind === "returned") {
    const o = outcomeOf(report.value, ctx.options.requeueDelaySeconds);
    return o.kind === "finish" ? finishWith(o.resultCode) : requeueAfter(o.delaySeconds);
  }
  const control = report.kind === "threw" ? report.error.control : undefined;
  if (ctx.shutdownSignal.aborted && !control) {
    // Stopped by our own shutdown, not by a fault of the job: hand it back without counting an error.
    out.mutate(t.addEvent("Worker shut down - requeued", at));
    return requeueAfter(0);
  }
  if (report.kind === "died" && report.bystander) {
    // Its process was lost to another job sharing it (jobsPerProcess): no error counts against it.
    out.mutate(t.addWarning(`job was stopped: ${report.reason}`, at));
    out.mutate(t.addEvent("Job process lost - requeued", at));
    return requeueAfter(0);
  }
  if (control && (control.kind === "errorFinish" || control.kind === "warningFinish")) {
    out.mutate(t.addEvent("Error - finished", at));
    return finishWith(control.resultCode);
  }
  if (report.kind === "died") {
    // As the table's "previous run was killed" row, recorded at once since this worker saw it die.
    out.mutate(t.addError(INTERNAL_ERROR, `job was killed: ${report.reason}`, at));
  } else if (!control) {
    // errorContinue / warningContinue were recorded by the job; any other exception is recorded here.
    out.mutate(t.addError(INTERNAL_ERROR, report.error.stack, at));
  }
  const decision = new jobClass({ writer: out, params, signal: NEVER, clock: ctx.clock }).continueRunning();
  if (decision !== NO_RESULT) return finishWith(decision);
  out.mutate(t.addEvent(report.kind === "died" ? "Killed - restarting" : "Error - restarting", at));
  const policy = retryPolicyOf(jobClass);
  return requeueAfter(policy ? retryDelaySeconds(policy, out.doc.errorCount) : ctx.options.errorRetryDelaySeconds);
}

/** Row 8 of the outcome table: whatever the run returned or threw, a killed job ends with 410. */
function killOutcome(out: DocumentWriter, at: string): EntryAction {
  out.mutate(t.killedByUser(at));
  return { kind: "delete", resultCode: KILLED_BY_USER };
}

/**
 * Records the outcome and deletes or releases the entry, together; nothing when a newer attempt
 * owns the job. With `untilWritten` (a run's outcome), a backend that is down or stalled is
 * retried with back-off until it answers, so a finished run is never run again while its
 * worker lives (the heartbeat keeps the entry meanwhile).
 */
async function recordAndSettle(
  w: DocumentWriter,
  m: JobOp | null,
  entry: Reserved,
  action: EntryAction,
  ctx: EntryContext,
  opts: { untilWritten?: boolean } = {},
): Promise<void> {
  const write: DocumentWrite = (doc, cas) => ctx.backend.settle(doc, cas, entry, action);
  const settled = await commitOrFenced(w, m, ctx, write, opts.untilWritten ? retryOutcomeWrite(w, ctx) : undefined);
  if (settled) emitSettled(ctx, w.doc, action);
}

/** Writes `m` (when given) and everything pending; false when a newer attempt owns the job (nothing more may be written). */
async function commitOrFenced(
  w: DocumentWriter,
  m: JobOp | null,
  ctx: EntryContext,
  write?: DocumentWrite,
  retry?: (flush: () => Promise<void>) => Promise<void>,
): Promise<boolean> {
  try {
    if (m) w.mutate(m);
    if (retry) await retry(() => w.flush(write));
    else await w.flush(write);
    return true;
  } catch (err) {
    if (!isZeroGError(err, "ZEROG_FENCED")) throw err;
    logFor(ctx, w.doc).warn({ err }, "superseded by a newer attempt; leaving the job to it");
    return false;
  }
}

/**
 * Retries a run's outcome write while the backend is unavailable: 100 ms doubling to
 * `maxBackoffMs` between tries, for as long as the worker lives (a closed backend ends it).
 */
function retryOutcomeWrite(w: DocumentWriter, ctx: EntryContext): (flush: () => Promise<void>) => Promise<void> {
  return async (flush) => {
    for (let tries = 1; ; tries++) {
      try {
        return await flush();
      } catch (err) {
        if (!isBackendUnavailable(err)) throw err;
        const waitMs = backoffMs(tries - 1, ctx.options.maxBackoffMs);
        logFor(ctx, w.doc).warn({ err, tries, backoffMs: waitMs }, "cannot write the run's outcome yet; retrying");
        await sleep(waitMs);
      }
    }
  };
}

/** How long a worker may take to list a run it started in its fleet record (announce + control poll, and a margin). */
function announceLagMs(o: ResolvedWorkerOptions): number {
  return o.announceIntervalMs + o.controlPollMs + 1000;
}

/**
 * Gives the entry back until the live worker running its job could have stopped announcing:
 * looked at again then, it finds the run over, or its worker dead (and the run counted killed).
 */
async function deferWhileRunning(
  entry: Reserved,
  doc: JobDocument,
  owner: WorkerRecord,
  now: number,
  ctx: EntryContext,
): Promise<void> {
  const delaySeconds = Math.max(1, Math.ceil((owner.expiresAtMs - now) / 1000));
  logFor(ctx, doc).info({ runningOn: owner.workerId, delaySeconds }, "job is still running elsewhere; entry deferred");
  await entry.release({ delaySeconds }).catch(ignoreLostEntry);
  ctx.events.emit("job:deferred", { uuid: doc.uuid, jobType: doc.jobType, runningOn: owner.workerId, delaySeconds });
}

function emitSettled(ctx: EntryContext, doc: { uuid: string; jobType: string }, action: EntryAction): void {
  if (action.kind === "delete") {
    ctx.events.emit("job:finished", { uuid: doc.uuid, jobType: doc.jobType, resultCode: action.resultCode });
  } else {
    ctx.events.emit("job:requeued", { uuid: doc.uuid, jobType: doc.jobType, delaySeconds: action.delaySeconds });
  }
}

/** The worker clock's time as the documents store it. */
function isoNow(ctx: EntryContext): string {
  return new Date(ctx.clock.now()).toISOString();
}

/** Lost to its TTR: whoever holds the entry now reads the recorded outcome and settles it. */
function ignoreLostEntry(err: unknown): void {
  if (!isZeroGError(err, "ZEROG_ENTRY_LOST")) throw err;
}

/** A logger for one job; made only when there is something to say (a child logger per job costs). */
function logFor(ctx: EntryContext, doc: { uuid: string; jobType: string; logId: string }): Logger {
  return ctx.logger.child({ uuid: doc.uuid, jobType: doc.jobType, logId: doc.logId });
}

/** Whether the job `uuid` was made over DOCUMENT_GONE_AFTER_MS ago by the worker's clock (false when its uuid has no time). */
function documentGone(uuid: string, ctx: EntryContext): boolean {
  const madeMs = uuidTimeMs(uuid);
  return madeMs !== null && ctx.clock.now() - madeMs > DOCUMENT_GONE_AFTER_MS;
}

/** The document was removed for good: the entry goes too, at once (another holder's delete wins the same). */
async function dropEntry(entry: Reserved, uuid: string, ctx: EntryContext): Promise<void> {
  const reason = `job ${uuid}: no document (removed)`;
  ctx.logger.info({ entryId: entry.id, uuid }, "dropping the entry of a job whose document was removed");
  await entry.delete().catch(ignoreLostEntry);
  ctx.events.emit("entry:dropped", { entryId: entry.id, uuid, reason });
}

/**
 * Row 1 of the outcome table: try again later; after too many reserves or time-outs, bury the entry and
 * say so, on the job's document too when there is one (error 500, finished), so that
 * GET /progress shows the failure instead of a job queued forever.
 */
async function handleUnloadable(
  entry: Reserved,
  { reason, stored }: Extract<LoadedJob, { kind: "unloadable" }>,
  ctx: EntryContext,
): Promise<void> {
  const o = ctx.options;
  const stats = await entry.stats();
  if (stats.reserves > o.maxUnloadableReserves || stats.timeouts > o.maxUnloadableTimeouts) {
    ctx.logger.error(
      { entryId: entry.id, reserves: stats.reserves, timeouts: stats.timeouts },
      `burying entry: ${reason}`,
    );
    if (stored && stored.doc.state !== "finished") {
      const at = isoNow(ctx);
      const w = new DocumentWriter(ctx.backend.datastore, stored.doc, stored.cas, {
        attempt: stored.doc.attempt,
        clock: ctx.clock,
        flushIntervalMs: null,
      });
      w.mutate(t.addError(INTERNAL_ERROR, `job cannot be loaded: ${reason}`, at));
      // Best effort: if the document changed meanwhile, the log line above still says why.
      await w
        .commit(t.finish(INTERNAL_ERROR, at))
        .catch((err: unknown) => ctx.events.emit("worker:error", { error: err }));
    }
    await entry.bury();
    ctx.events.emit("entry:unloadable", { entryId: entry.id, reason, action: "buried" });
    return;
  }
  ctx.logger.warn({ entryId: entry.id, reserves: stats.reserves }, `cannot load job; retrying later: ${reason}`);
  await entry.release({ delaySeconds: o.unloadableRetryDelaySeconds });
  ctx.events.emit("entry:unloadable", { entryId: entry.id, reason, action: "released" });
}
