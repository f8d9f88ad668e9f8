import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, type RunningCli, runCli } from "../helpers/cli.ts";
import { useServeOnSqlite } from "../helpers/serve-sqlite.ts";

/** `zerog --version`, and `zerog jobs`'s table header, run as a user runs them. */

const VERSION = (JSON.parse(readFileSync(`${REPO_ROOT}/package.json`, "utf8")) as { version: string }).version;

describe("zerog --version", () => {
  it("--version and -V print package.json's version and exit 0", async () => {
    for (const flag of ["--version", "-V"]) {
      expect(await runCli([flag]), flag).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
    }
    expect((await runCli(["--help"])).stdout).toMatch(/-V, --version/);
  });
});

describe("zerog jobs: a header row over aligned columns", () => {
  const served = useServeOnSqlite(["test/helpers/test-jobs.ts"], ["--concurrency", "0"]);
  let serve: RunningCli;
  beforeAll(() => {
    serve = served.server;
  });
  const zerog = (...args: string[]) => runCli([...args, "--url", serve.url]);

  it("prints the header once, each column starting where its header does; --json has no header", async () => {
    expect(await zerog("jobs")).toEqual({ code: 0, stdout: "no jobs\n", stderr: "" });
    const a = (await zerog("submit", "return_value", '{"ret": 200}', "--delay", "600")).stdout.trim();
    const b = (await zerog("submit", "continuation", '{"runs": 1}', "--delay", "600")).stdout.trim();

    const r = await zerog("jobs");
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const [header, ...rows] = r.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^UUID +STATE +DONE +RESULT +CREATED +TYPE$/);
    expect(rows).toHaveLength(2);
    // Newest first; every left-aligned column starts under its header, numbers end under theirs.
    const h = header ?? "";
    const [uuidAt, stateAt, createdAt, typeAt] = ["UUID", "STATE", "CREATED", "TYPE"].map((c) => h.indexOf(c));
    const [doneEnd, resultEnd] = ["DONE", "RESULT"].map((c) => h.indexOf(c) + c.length);
    for (const [row, uuid, type] of [
      [rows[0] ?? "", b, "continuation"],
      [rows[1] ?? "", a, "return_value"],
    ] as const) {
      expect(row.slice(uuidAt, (uuidAt ?? 0) + 36)).toBe(uuid);
      expect(row.slice(stateAt).startsWith("delayed ")).toBe(true);
      expect(row.slice(0, doneEnd).endsWith(" 0%")).toBe(true);
      expect(row.slice(0, resultEnd).endsWith(" -")).toBe(true);
      expect(row.slice(createdAt)).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(row.slice(typeAt)).toBe(type);
    }

    const paged = await zerog("jobs", "--limit", "1");
    const lines = paged.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(h);
    expect(lines[2]).toMatch(/^more: --cursor \S+$/);

    const json = await zerog("jobs", "--json");
    expect(json.stdout).not.toContain("UUID");
    const page = JSON.parse(json.stdout) as { jobs: Array<{ uuid: string }>; nextCursor: string | null };
    expect(page.jobs.map((j) => j.uuid)).toEqual([b, a]);
    expect(page.nextCursor).toBeNull();
  });
});
