import { setTimeout as sleep } from "node:timers/promises";
import { BaseJob, z } from "zerog";

/** Steps through `steps` steps: progress, an event each, a warning halfway; fails at the end when asked. */
export class StepsJob extends BaseJob<typeof StepsJob.schema> {
  static override jobType = "steps";
  static override schema = z.object({
    steps: z.number().int().min(1).max(100).default(5),
    stepMs: z.number().int().min(0).max(5000).default(100),
    fail: z.boolean().default(false),
  });
  async run() {
    const { steps, stepMs, fail } = this.params;
    for (let i = 1; i <= steps; i++) {
      await sleep(stepMs);
      await this.setCompleteness(i / steps);
      await this.logInfo(`step ${i} of ${steps}`);
      if (i === Math.ceil(steps / 2)) await this.logWarning("halfway");
    }
    if (fail) return this.raiseErrorFinish(422, "failed on purpose");
    return 200;
  }
}

/** Scheduled every second (cron-parser's 6-field form); does nothing. */
export class EverySecondJob extends BaseJob<typeof EverySecondJob.schema> {
  static override jobType = "every_second";
  static override schema = z.object({ tag: z.string().default("none") });
  static override schedule = "* * * * * *";
  static override scheduleParams = { tag: "cron" };
  run() {
    return 200;
  }
}
