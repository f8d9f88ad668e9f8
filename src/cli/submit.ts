import type { Command } from "commander";
import { InvalidConfigError } from "../errors.ts";
import { callApi, URL_OPTION } from "./api-client.ts";

/** `zerog submit`'s flags (as commander parses them). */
export interface SubmitFlags {
  url: string;
  delay?: string;
  priority?: string;
  idempotencyKey?: string;
}

/**
 * Creates one job through `POST /job/{type}`, options in the query string and the
 * Idempotency-Key header (never mixed into the params); prints its uuid and resolves with it.
 * Bad JSON or a bad number is reported before anything is sent.
 */
export async function submitJob(type: string, paramsJson: string | undefined, flags: SubmitFlags): Promise<string> {
  let params: unknown = {};
  if (paramsJson !== undefined) {
    try {
      params = JSON.parse(paramsJson);
    } catch (err) {
      throw new InvalidConfigError(`params must be JSON, e.g. '{"delay": 5}': ${(err as Error).message}`);
    }
  }
  const query = new URLSearchParams();
  if (flags.delay !== undefined) query.set("delay", String(wholeNumber("--delay", flags.delay)));
  if (flags.priority !== undefined) query.set("priority", String(wholeNumber("--priority", flags.priority)));
  const path = `job/${encodeURIComponent(type)}${query.size > 0 ? `?${query}` : ""}`;
  const headers: Record<string, string> =
    flags.idempotencyKey === undefined ? {} : { "idempotency-key": flags.idempotencyKey };
  const { uuid } = (await callApi(flags.url, "POST", path, { body: params, headers })) as { uuid: string };
  console.log(uuid);
  return uuid;
}

function wholeNumber(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidConfigError(`${flag} must be a whole number, got '${text}'`);
  return Number(text);
}

/**
 * `zerog submit TYPE '{json}'`. Returns the command so more options (`--follow`) can be added to it;
 * its action is `submitJob`.
 */
export function registerSubmit(program: Command): Command {
  return program
    .command("submit <type> [params]")
    .description("create a job: POST /job/TYPE with the JSON params; prints its uuid")
    .option(...URL_OPTION)
    .option("--delay <seconds>", "seconds before the job may start")
    .option("--priority <n>", "queue priority, lower is more urgent (default 1024)")
    .option("--idempotency-key <key>", "a repeat with this key within 24 h answers the first job's uuid")
    .action(async (type: string, params: string | undefined, flags: SubmitFlags) => {
      await submitJob(type, params, flags);
    });
}
