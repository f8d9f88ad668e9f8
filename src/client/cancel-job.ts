import { JobFinishedError } from "../errors.ts";
import { KILLED_BY_USER } from "../job/document.ts";
import type { JobClient } from "./job-client.ts";

/**
 * What a cancel did (DELETE /job/{uuid}):
 * - `cancelled` — the job was waiting (queued or delayed) and is now finished with 410 "Killed by
 *   user"; it never runs (a worker that reserves its queue entry drops it). Also the answer for a
 *   job a user had already cancelled or killed, so a repeated DELETE answers as the first did.
 * - `stopping` — it is running; its worker stops it and records 410 within `killPollMs`.
 */
export type CancelResult = "cancelled" | "stopping";

/**
 * Cancels a job the way `POST /job/{uuid}/kill` kills one (JobClient.kill: error 410 "Killed by
 * user", result 410, status `killed`), but refuses a job that finished on its own:
 * JobFinishedError (409). JobNotFoundError (404) for an unknown uuid.
 */
export async function cancelJob(client: JobClient, uuid: string): Promise<CancelResult> {
  const killed = await client.kill(uuid);
  if (killed === "killed") return "cancelled";
  if (killed === "stopping") return "stopping";
  const doc = await client.get(uuid);
  // A user's cancel or kill got there first (this call's earlier try included): nothing more to do.
  if (doc.killRequested && doc.resultCode === KILLED_BY_USER) return "cancelled";
  throw new JobFinishedError(uuid, doc.resultCode);
}
