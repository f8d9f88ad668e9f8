// The runners benchmark's job module, shipped as users ship theirs: plain JavaScript importing the
// built package, so a job process loads it without tsx. The worker side registers bench/noop-job.ts,
// the same job type.
import { BaseJob } from "zerog/job";

export class NoopJob extends BaseJob {
  static jobType = "noop";
  run() {
    return 200;
  }
}
