import type { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { Datastore } from "../datastore/contract.ts";
import { isZeroGError } from "../errors.ts";
import type { Clock } from "../internal/clock.ts";
import type { JobClass } from "../job/base-job.ts";
import { INTERNAL_ERROR, NO_RESULT } from "../job/document.ts";
import { DocumentWriter } from "../job/document-writer.ts";
import type { JobRegistry } from "../job/registry.ts";
import * as t from "../job/transitions.ts";
import type { Reserved } from "../queue/contract.ts";
import type { WorkerEventMap } from "./events.ts";
import { startHeartbeat } from "./heartbeat.ts";
import { loadJob } from "./load-job.ts";
import type { ResolvedWorkerOptions } from "./options.ts";
import { outcomeOf } from "./outcome.ts";
import type { JobRunner, RunReport } from "./runner.ts";

export interface EntryContext {
  datastore: Datastore;
  registry: JobRegistry;
  runner: JobRunner;
  clock: Clock;
  logger: Logger;
  workerId: string;
  options: ResolvedWorkerOptions;
  events: EventEmitter<WorkerEventMap>;
  /** Fires when the worker gives up waiting for running jobs at shutdown. */
  shutdownSignal: AbortSignal;
}

/** What to do with the queue entry once the document says what happened. */
type EntryAction = { kind: "delete"; resultCode: number } | { kind: "release"; delaySeconds: number };

/** A signal that never fires, for job instances that only answer `continueRunning()`. */
const NEVER = new AbortController().signal;

/**
 * SPEC §4's outcome table, in one place: loads the entry's job, handles a killed previous run,
 * claims a new attempt, runs it, records the outcome through CAS, then deletes or releases the entry.
 */
export async function handleEntry(entry: Reserved, ctx: EntryContext): Promise<void> {
  const loaded = await loadJob(entry.body, ctx.datastore, ctx.registry);
  if (loaded.kind === "unloadable") return handleUnloadable(entry, loaded.reason, ctx);
  const { jobClass, doc } = loaded;
  const log = ctx.logger.child({ uuid: doc.uuid, jobType: doc.jobType, logId: doc.logId });
  const now = (): string => new Date(ctx.clock.now()).toISOString();
  const writer = (d: typeof doc, cas: string, attempt: number): DocumentWriter =>
    new DocumentWriter(ctx.datastore, d, cas, { attempt, clock: ctx.clock, flushIntervalMs: 0 });

  // Finished earlier, but the entry's delete was lost (a crash in between): just drop the entry.
  if (doc.state === "finished") return settle(entry, { kind: "delete", resultCode: doc.resultCode }, doc, ctx);

  const claim = writer(doc, loaded.cas, doc.attempt);
  if (doc.running) {
    // The previous run never recorded an outcome: its process died (crash, OOM, kill -9).
    claim.mutate(t.addError(INTERNAL_ERROR, "job was killed", now()));
    const decision = new jobClass({ writer: claim, signal: NEVER, clock: ctx.clock }).continueRunning();
    if (decision !== NO_RESULT) {
      log.warn({ resultCode: decision }, "previous run was killed; finishing");
      if (!(await commitOrFenced(claim, t.finish(decision, now()), log))) return;
      return settle(entry, { kind: "delete", resultCode: decision }, claim.doc, ctx);
    }
    log.warn("previous run was killed; restarting");
    claim.mutate(t.addEvent("Killed - restarting", now()));
  }
  const attempt = doc.attempt + 1;
  if (!(await commitOrFenced(claim, t.startRun(attempt, ctx.workerId, now()), log))) return;
  ctx.events.emit("job:started", { uuid: doc.uuid, jobType: doc.jobType, attempt });

  const lost = new AbortController();
  const heartbeat = startHeartbeat(
    entry,
    doc.queueKwargs.ttrSeconds,
    (err) => lost.abort(err),
    (error) => ctx.events.emit("worker:error", { error }),
  );
  let report: RunReport;
  try {
    report = await ctx.runner.run({
      jobClass,
      doc: claim.doc,
      cas: claim.cas,
      attempt,
      signal: AbortSignal.any([lost.signal, ctx.shutdownSignal]),
    });
  } finally {
    heartbeat.stop();
  }
  if (report.kind === "fenced") {
    log.warn({ attempt }, report.message);
    ctx.events.emit("job:fenced", { uuid: doc.uuid, jobType: doc.jobType, attempt });
    return;
  }
  const out = writer(report.doc, report.cas, attempt);
  const action = recordOutcome(report, out, jobClass, ctx, now());
  if (!(await commitOrFenced(out, () => undefined, log))) return;
  return settle(entry, action, out.doc, ctx);
}

/** Applies the outcome of a run to the document (not yet written) and says what to do with the entry. */
function recordOutcome(
  report: Exclude<RunReport, { kind: "fenced" }>,
  out: DocumentWriter,
  jobClass: JobClass,
  ctx: EntryContext,
  at: string,
): EntryAction {
  const finishWith = (code: number): EntryAction => {
    out.mutate(t.finish(code, at));
    return { kind: "delete", resultCode: code };
  };
  const requeueAfter = (delaySeconds: number): EntryAction => {
    out.mutate(t.requeue(delaySeconds));
    return { kind: "release", delaySeconds };
  };
  if (report.kind === "returned") {
    const o = outcomeOf(report.value, ctx.options.requeueDelaySeconds);
    return o.kind === "finish" ? finishWith(o.resultCode) : requeueAfter(o.delaySeconds);
  }
  const control = report.error.control;
  if (control && (control.kind === "errorFinish" || control.kind === "warningFinish")) {
    out.mutate(t.addEvent("Error - finished", at));
    return finishWith(control.resultCode);
  }
  // errorContinue / warningContinue were recorded by the job; any other exception is recorded here.
  if (!control) out.mutate(t.addError(INTERNAL_ERROR, report.error.stack, at));
  const decision = new jobClass({ writer: out, signal: NEVER, clock: ctx.clock }).continueRunning();
  if (decision !== NO_RESULT) return finishWith(decision);
  out.mutate(t.addEvent("Error - restarting", at));
  return requeueAfter(ctx.options.errorRetryDelaySeconds);
}

/** Writes `m` and everything pending; false when a newer attempt owns the job (nothing more may be written). */
async function commitOrFenced(
  w: DocumentWriter,
  m: Parameters<DocumentWriter["mutate"]>[0],
  log: Logger,
): Promise<boolean> {
  try {
    await w.commit(m);
    return true;
  } catch (err) {
    if (!isZeroGError(err, "ZEROG_FENCED")) throw err;
    log.warn({ err }, "superseded by a newer attempt; leaving the job to it");
    return false;
  }
}

/** Deletes or releases the entry after the document records the outcome. */
async function settle(
  entry: Reserved,
  action: EntryAction,
  doc: { uuid: string; jobType: string },
  ctx: EntryContext,
): Promise<void> {
  try {
    if (action.kind === "delete") await entry.delete();
    else await entry.release({ delaySeconds: action.delaySeconds });
  } catch (err) {
    // Lost to its TTR: whoever holds it now reads the recorded outcome and settles it.
    if (!isZeroGError(err, "ZEROG_ENTRY_LOST")) throw err;
    ctx.logger.warn({ uuid: doc.uuid, entryId: entry.id }, "queue entry was lost before it could be settled");
  }
  if (action.kind === "delete") {
    ctx.events.emit("job:finished", { uuid: doc.uuid, jobType: doc.jobType, resultCode: action.resultCode });
  } else {
    ctx.events.emit("job:requeued", { uuid: doc.uuid, jobType: doc.jobType, delaySeconds: action.delaySeconds });
  }
}

/** SPEC §4, first row: try again later; after too many reserves or time-outs, bury it and say so. */
async function handleUnloadable(entry: Reserved, reason: string, ctx: EntryContext): Promise<void> {
  const o = ctx.options;
  const stats = await entry.stats();
  if (stats.reserves > o.maxUnloadableReserves || stats.timeouts > o.maxUnloadableTimeouts) {
    ctx.logger.error(
      { entryId: entry.id, reserves: stats.reserves, timeouts: stats.timeouts },
      `burying entry: ${reason}`,
    );
    await entry.bury();
    ctx.events.emit("entry:unloadable", { entryId: entry.id, reason, action: "buried" });
    return;
  }
  ctx.logger.warn({ entryId: entry.id, reserves: stats.reserves }, `cannot load job; retrying later: ${reason}`);
  await entry.release({ delaySeconds: o.unloadableRetryDelaySeconds });
  ctx.events.emit("entry:unloadable", { entryId: entry.id, reason, action: "released" });
}
