import { once } from "node:events";
import { BaseJob, z } from "zerog";

/** Reaches 36 %, then fails (`fail`), waits to be killed (`wait`) or succeeds (`finish`): how a finished job's progress reads. */
export class PartJob extends BaseJob<typeof PartJob.schema> {
  static override jobType = "part";
  static override schema = z.object({ after: z.enum(["fail", "wait", "finish"]), maxErrors: z.number().default(1) });
  override get maxErrors() {
    return this.params.maxErrors;
  }
  async run() {
    await this.setCompleteness(0.36);
    if (this.params.after === "fail") throw new Error("broke at 36 %");
    if (this.params.after === "wait") await once(this.signal, "abort");
    return 200;
  }
}
