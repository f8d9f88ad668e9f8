import type { FleetStore, WorkerRecord } from "../contracts/fleet.ts";
import type { JobDocument } from "../job/document.ts";

/**
 * The live worker that still runs this job, or null when nobody does. A document that says
 * `running` names the worker that started the run; that run is alive while its worker keeps
 * announcing itself and lists the job among its runs. A worker announces a new run within
 * `announceLagMs`; until then, a live worker that started the run is taken to run it.
 *
 * A run must never overlap another run of the same job: a queue entry can come back while its
 * run goes on (its server's connection to the queue dropped, a queue restarted from its log, a
 * lease that ran out while the worker could not reach the queue), and its next reserver asks
 * this before it counts the run as killed and starts another.
 */
export async function liveRunOwner(
  fleet: FleetStore,
  doc: Pick<JobDocument, "uuid" | "workerId" | "startedAt">,
  nowMs: number,
  announceLagMs: number,
): Promise<WorkerRecord | null> {
  if (!doc.workerId) return null;
  const record = await fleet.getWorker(doc.workerId);
  if (!record || record.expiresAtMs <= nowMs) return null;
  if (record.running.some((r) => r.uuid === doc.uuid)) return record;
  const startedMs = doc.startedAt ? Date.parse(doc.startedAt) : Number.NaN;
  // Announced well after the run started, without it: that worker is not running it any more.
  if (Date.parse(record.seenAt) > startedMs + announceLagMs) return null;
  return record;
}
