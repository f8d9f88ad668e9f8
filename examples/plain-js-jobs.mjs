// Job classes in plain JavaScript: no types, no decorators. Serve with `zerog serve --jobs examples/plain-js-jobs.mjs`.
import { BaseJob, NO_RESULT, z } from "zerog/job";

export class GreetJob extends BaseJob {
  static jobType = "greet";
  static schema = z.object({ name: z.string().min(1) });
  static description = "Says hello, in two runs";
  static branch = "examples";

  async run() {
    // A continuation job: the first run asks to be requeued, the second finishes.
    if (this.document.attempt < 2) {
      await this.logInfo("first half done");
      await this.setCompleteness(0.5);
      return [NO_RESULT, 0];
    }
    await this.setData({ greeting: `hello, ${this.params.name}` });
    return 200;
  }
}
