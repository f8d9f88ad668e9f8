import { BaseJob, z } from "zerog/job";

/** Counts to n, saying fizz and buzz; its output is served by GET /data/{uuid}. */
export class FizzBuzzJob extends BaseJob<typeof FizzBuzzJob.schema> {
  static override jobType = "fizz_buzz";
  static override schema = z.strictObject({
    n: z.number().int().min(1).max(100_000),
    fizz: z.number().int().min(1).default(3),
    buzz: z.number().int().min(1).default(5),
  });
  static override description = "Plays fizz buzz up to n";
  static override branch = "examples";

  async run() {
    const { n, fizz, buzz } = this.params;
    const out: string[] = [];
    for (let i = 1; i <= n; i++) {
      const word = (i % fizz === 0 ? "fizz" : "") + (i % buzz === 0 ? "buzz" : "");
      out.push(word || String(i));
      if (i % 1000 === 0) await this.setCompleteness(i / n);
    }
    await this.setData({ sequence: out });
    await this.logInfo(`counted to ${n}`);
    return 200;
  }
}
