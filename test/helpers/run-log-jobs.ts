import { appendFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { BaseJob, NO_RESULT, z } from "zerog/job";

/**
 * A job that records each of its runs in a file outside ZeroG (one JSON line when a run starts
 * and one when it ends, appended by whichever process runs it), so a test can count runs and
 * completions, and see overlaps, without trusting ZeroG's own records. Read with run-log.ts.
 */
export class LoggedRunJob extends BaseJob<typeof LoggedRunJob.schema> {
  static override jobType = "logged_run";
  static override schema = z.object({
    /** The run log's path. */
    log: z.string(),
    /** How long the first attempt runs. */
    ms: z.number().int().min(0).default(0),
    /** How long later attempts run (after a takeover or a retry). */
    retryMs: z.number().int().min(0).default(0),
  });

  async run() {
    const { attempt, workerId } = this.document;
    const line = (ev: "start" | "end") =>
      appendFileSync(
        this.params.log,
        `${JSON.stringify({ uuid: this.uuid, attempt, workerId, pid: process.pid, ev, t: Date.now() })}\n`,
      );
    line("start");
    const end = Date.now() + (attempt <= 1 ? this.params.ms : this.params.retryMs);
    while (Date.now() < end && !this.signal.aborted) await sleep(Math.min(50, end - Date.now()));
    // Told to stop (its worker is shutting down): hand the job back without completing it.
    if (this.signal.aborted) return [NO_RESULT, 0];
    line("end");
    return 200;
  }
}
