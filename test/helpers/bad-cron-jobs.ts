import { BaseJob } from "zerog";

/** A schedule cron-parser refuses: minute 61. Loading it must stop `zerog serve` with exit 2. */
export class BadCronJob extends BaseJob {
  static override jobType = "bad_cron";
  static override schedule = "61 * * * *";
  run() {
    return 200;
  }
}
