import { setTimeout as sleep } from "node:timers/promises";
import { BaseJob, NO_RESULT, z } from "zerog/job";

/** An example job: wastes time while logging about ten messages. */
export class WasteTimeJob extends BaseJob<typeof WasteTimeJob.schema> {
  static override jobType = "waste_time";
  static override schema = z.object({ delay: z.number().min(0).max(3600).default(30) });
  static override description = "Wastes time while logging about ten messages";
  static override branch = "examples";

  async run() {
    const { delay } = this.params;
    const end = Date.now() + delay * 1000;
    const logInterval = (delay * 1000) / 10;
    while (Date.now() < end && !this.signal.aborted) {
      const step = Math.min((Math.random() + 0.5) * logInterval, end - Date.now());
      await sleep(step);
      await this.addToCompleteness(step / (delay * 1000));
      await this.logInfo(`${((end - Date.now()) / 1000).toFixed(2)} seconds remaining`);
    }
    // Told to stop (shutdown): ask to be requeued; completeness is kept for the next run.
    return this.signal.aborted ? [NO_RESULT, 0] : 200;
  }
}
