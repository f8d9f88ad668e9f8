import type { Command } from "commander";
import { InvalidConfigError } from "../errors.ts";
import type { JobDocument } from "../job/document.ts";
import { completenessAtEnd, nextAttemptAt } from "../job/job-progress.ts";
import { isJobStatus, JOB_STATUSES, statusOf } from "../job/job-status.ts";
import type { JobPage } from "../server/routes/list-jobs.ts";
import { callApi, URL_OPTION } from "./api-client.ts";
import { nextAttemptText, progressLabel } from "./outcome-label.ts";

/** Events `zerog status` prints (the newest). */
const STATUS_EVENTS = 5;

/** `zerog status UUID`, `zerog jobs`, `zerog cancel UUID`, `zerog purge UUID`: the jobs endpoints of the REST API. */
export function registerJobCommands(program: Command): void {
  program
    .command("status <uuid>")
    .description("show a job's state, progress, result and latest events (GET /dump/UUID)")
    .option(...URL_OPTION)
    .option("--json", "print the whole document, logs included, as JSON")
    .action(async (uuid: string, flags: { url: string; json?: boolean }) => {
      const doc = (await callApi(flags.url, "GET", `dump/${encodeURIComponent(uuid)}?showLogs=true`)) as JobDocument;
      console.log(flags.json ? JSON.stringify(doc, null, 2) : formatStatus(doc));
    });

  program
    .command("jobs")
    .description("list jobs newest first (GET /jobs), a page at a time")
    .option(...URL_OPTION)
    .option("--state <state>", `only jobs in this state: ${JOB_STATUSES.join(", ")}`)
    .option("--type <type>", "only jobs of this type")
    .option("--limit <n>", "jobs per page (1-500)", "20")
    .option("--cursor <cursor>", "the page after this cursor (printed under the previous page)")
    .option("--json", "print GET /jobs's answer as JSON")
    .action(
      async (flags: { url: string; state?: string; type?: string; limit: string; cursor?: string; json?: boolean }) => {
        if (flags.state !== undefined && !isJobStatus(flags.state))
          throw new InvalidConfigError(`--state must be one of ${JOB_STATUSES.join(", ")}, got '${flags.state}'`);
        const query = new URLSearchParams({ limit: flags.limit });
        if (flags.state !== undefined) query.set("state", flags.state);
        if (flags.type !== undefined) query.set("type", flags.type);
        if (flags.cursor !== undefined) query.set("cursor", flags.cursor);
        const page = (await callApi(flags.url, "GET", `jobs?${query}`)) as JobPage;
        console.log(flags.json ? JSON.stringify(page, null, 2) : formatJobs(page));
      },
    );

  program
    .command("cancel <uuid>")
    .description("cancel a waiting job, or kill a running one (DELETE /job/UUID): result 410")
    .option(...URL_OPTION)
    .action(async (uuid: string, flags: { url: string }) => {
      const r = (await callApi(flags.url, "DELETE", `job/${encodeURIComponent(uuid)}`)) as { result: string };
      console.log(
        r.result === "stopping" ? `${uuid}: running; its worker is stopping it (result 410)` : `${uuid}: ${r.result}`,
      );
    });

  program
    .command("purge <uuid>")
    .description("remove a finished job's document, logs and listing entries (DELETE /job/UUID?purge=true)")
    .option(...URL_OPTION)
    .action(async (uuid: string, flags: { url: string }) => {
      await callApi(flags.url, "DELETE", `job/${encodeURIComponent(uuid)}?purge=true`);
      console.log(`${uuid}: purged`);
    });
}

/** `zerog status`'s plain lines. */
export function formatStatus(d: JobDocument): string {
  const lines = [
    `${d.uuid}  ${d.jobType}`,
    `state      ${statusOf(d)}`,
    `progress   ${progressLabel({ ...d, completenessAtEnd: completenessAtEnd(d), nextAttemptAt: null }).text}`,
    `result     ${d.resultCode === -1 ? "-" : d.resultCode}`,
    `created    ${d.createdAt}${d.finishedAt ? `  finished ${d.finishedAt}` : ""}`,
    `attempt    ${d.attempt}  errors ${d.errorCount}${d.workerId ? `  worker ${d.workerId}` : ""}`,
  ];
  const next = nextAttemptAt(d);
  if (next) lines.splice(3, 0, `next try   ${nextAttemptText(next)}`);
  const events = d.events.slice(-STATUS_EVENTS);
  if (events.length > 0) lines.push("events", ...events.map((e) => `  ${e.timeStamp}  ${e.msg}`));
  const lastError = d.errors.at(-1);
  if (lastError) lines.push(`last error ${lastError.errorCode} ${lastError.msg.split("\n")[0]}`);
  return lines.join("\n");
}

/** `zerog jobs`'s columns: header, cell, and whether it is right-aligned (numbers). */
const JOB_COLUMNS: ReadonlyArray<{ header: string; cell: (j: JobPage["jobs"][number]) => string; right?: true }> = [
  { header: "UUID", cell: (j) => j.uuid },
  { header: "STATE", cell: (j) => j.state },
  { header: "DONE", cell: (j) => progressLabel({ ...j, nextAttemptAt: null }).text, right: true },
  { header: "RESULT", cell: (j) => String(j.resultCode === -1 ? "-" : j.resultCode), right: true },
  { header: "CREATED", cell: (j) => j.createdAt },
  { header: "TYPE", cell: (j) => j.jobType },
];

/** `zerog jobs`'s table under a header row, columns aligned, and the command for the next page. */
export function formatJobs(page: JobPage): string {
  if (page.jobs.length === 0) return "no jobs";
  const rows = [JOB_COLUMNS.map((c) => c.header), ...page.jobs.map((j) => JOB_COLUMNS.map((c) => c.cell(j)))];
  const widths = JOB_COLUMNS.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const lines = rows.map((r) =>
    r
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        if (i === r.length - 1) return cell; // the last column: no trailing spaces
        return JOB_COLUMNS[i]?.right ? cell.padStart(width) : cell.padEnd(width);
      })
      .join("  "),
  );
  if (page.nextCursor) lines.push(`more: --cursor ${page.nextCursor}`);
  return lines.join("\n");
}
