import { fileURLToPath } from "node:url";
import { BaseJob, z } from "zerog/job";

/** Jobs that show what `this.params` holds at run time; job processes load them from this path. */

/**
 * Stores what its params are at run time: a date coerced by the schema (stored as a string in
 * the document) and a default.
 */
export class ParsedParamsJob extends BaseJob<typeof ParsedParamsJob.schema> {
  static override jobType = "parsed_params";
  static override schema = z.object({ when: z.coerce.date(), n: z.number().default(7) });
  async run() {
    const { when, n } = this.params;
    await this.setData({ isDate: when instanceof Date, year: when.getUTCFullYear(), n, pid: process.pid });
    return 200;
  }
}

/** Its schema's output holds a function: usable in process, not sendable to a job process. */
export class UnsendableParamsJob extends BaseJob<typeof UnsendableParamsJob.schema> {
  static override jobType = "unsendable_params";
  static override maxErrors = 1;
  static override schema = z.object({ n: z.number() }).transform((p) => ({ ...p, twice: () => p.n * 2 }));
  async run() {
    await this.setData({ twice: this.params.twice() });
    return 200;
  }
}

export const PARAMS_JOBS = [ParsedParamsJob, UnsendableParamsJob];
export const PARAMS_JOBS_MODULE = fileURLToPath(import.meta.url);
