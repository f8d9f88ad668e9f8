import { BaseJob } from "zerog";
export class J extends BaseJob {
  static jobType = "j";
  async run() {
    return 200;
  }
}
