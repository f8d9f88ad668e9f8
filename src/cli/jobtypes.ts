import type { Command } from "commander";
import { callApi, URL_OPTION } from "./api-client.ts";

/** One row of `GET /jobtypes`. */
interface JobTypeRow {
  jobType: string;
  name: string;
  description: string;
  branch: string | null;
  path: string | null;
  postSchema: { properties?: Record<string, unknown>; required?: string[] };
  /** Absent from servers older than pausing. */
  paused?: boolean;
}

/** `zerog jobtypes`: the server's job types, their discovery paths and params (GET /jobtypes). */
export function registerJobTypes(program: Command): void {
  program
    .command("jobtypes")
    .description("list the server's job types: discovery path, params (? = optional) and description")
    .option(...URL_OPTION)
    .option("--json", "print GET /jobtypes as JSON (each type's params JSON Schema included)")
    .action(async (flags: { url: string; json?: boolean }) => {
      const rows = (await callApi(flags.url, "GET", "jobtypes")) as JobTypeRow[];
      console.log(flags.json ? JSON.stringify(rows, null, 2) : formatJobTypes(rows));
    });
}

/** A plain table, one job type a line; `-` for a type in no branch; then the paused ones, if any. */
export function formatJobTypes(rows: readonly JobTypeRow[]): string {
  if (rows.length === 0) return "no job types";
  const paused = rows.filter((r) => r.paused).map((r) => r.jobType);
  const table = [
    ["TYPE", "NAME", "PATH", "PARAMS", "DESCRIPTION"],
    ...rows.map((r) => [r.jobType, r.name, r.path ?? "-", paramsSummary(r.postSchema), r.description]),
  ];
  const widths = table[0]?.map((_, i) => Math.max(...table.map((row) => (row[i] ?? "").length))) ?? [];
  return table
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .concat(paused.length > 0 ? [`paused: ${paused.join(", ")}`] : [])
    .join("\n");
}

/** `n, fizz?, buzz?`: the top-level params, `?` marking the optional ones. */
function paramsSummary(schema: JobTypeRow["postSchema"]): string {
  const required = new Set(schema.required ?? []);
  const names = Object.keys(schema.properties ?? {}).map((k) => (required.has(k) ? k : `${k}?`));
  return names.length > 0 ? names.join(", ") : "-";
}
