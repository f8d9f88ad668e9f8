import type { Command } from "commander";
import { InvalidConfigError } from "../errors.ts";
import { callApi, URL_OPTION } from "./api-client.ts";

interface RetryFlags {
  url: string;
  state?: string;
  type?: string;
  createdBefore?: string;
  limit?: string;
}

/** `zerog retry UUID` (POST /job/UUID/retry) and `zerog retry --state failed [--type T]` (POST /jobs/retry). */
export function registerRetry(program: Command): void {
  program
    .command("retry [uuid]")
    .description(
      "run a failed or killed job again (POST /job/UUID/retry), or, with --state, every failed or killed job (POST /jobs/retry)",
    )
    .option(...URL_OPTION)
    .option("--state <state>", "retry every job in this state, newest first: failed or killed")
    .option("--type <type>", "with --state: only jobs of this type")
    .option("--created-before <time>", "with --state: only jobs created before this ISO-8601 time")
    .option("--limit <n>", "with --state: at most this many jobs (1-10000, the default)")
    .action(async (uuid: string | undefined, flags: RetryFlags) => {
      if (uuid !== undefined) {
        const many = [flags.state, flags.type, flags.createdBefore, flags.limit].some((f) => f !== undefined);
        if (many) throw new InvalidConfigError("give a job's uuid or --state (with --type …), not both");
        await callApi(flags.url, "POST", `job/${encodeURIComponent(uuid)}/retry`);
        console.log(`${uuid}: retried`);
        return;
      }
      if (flags.state === undefined)
        throw new InvalidConfigError("give a job's uuid, or --state failed|killed to retry every such job");
      const query = new URLSearchParams({ state: flags.state });
      if (flags.type !== undefined) query.set("type", flags.type);
      if (flags.createdBefore !== undefined) query.set("createdBefore", flags.createdBefore);
      if (flags.limit !== undefined) query.set("limit", flags.limit);
      const r = (await callApi(flags.url, "POST", `jobs/retry?${query}`)) as { retried: number };
      console.log(`retried ${r.retried} job${r.retried === 1 ? "" : "s"}`);
    });
}
