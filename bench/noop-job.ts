import { BaseJob } from "zerog";

/** The benchmark's job: does nothing, so the figures measure ZeroG itself. */
export class NoopJob extends BaseJob {
  static override jobType = "noop";
  run() {
    return 200;
  }
}
