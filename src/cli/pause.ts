import type { Command } from "commander";
import { callApi, URL_OPTION } from "./api-client.ts";

/** What POST /jobtypes/{type}/pause and /resume answer. */
interface PauseResult {
  jobType: string;
  paused: boolean;
}

/** `zerog pause TYPE`, `zerog resume TYPE`: a job type's paused state, through a server's REST API. */
export function registerPause(program: Command): void {
  for (const action of ["pause", "resume"] as const) {
    program
      .command(`${action} <job-type>`)
      .description(
        action === "pause"
          ? "stop every server starting jobs of a type (new ones are still accepted and wait; running ones finish)"
          : "let the servers start a paused type's jobs again",
      )
      .option(...URL_OPTION)
      .option("--json", "print the API's answer as JSON")
      .action(async (jobType: string, flags: { url: string; json?: boolean }) => {
        const r = (await callApi(
          flags.url,
          "POST",
          `jobtypes/${encodeURIComponent(jobType)}/${action}`,
        )) as PauseResult;
        console.log(flags.json ? JSON.stringify(r) : `${r.jobType}: ${r.paused ? "paused" : "resumed"}`);
      });
  }
}
