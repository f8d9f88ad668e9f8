import { beforeAll, describe, expect, it } from "vitest";
import { type RunningCli, runCli } from "../helpers/cli.ts";
import { useServeOnSqlite } from "../helpers/serve-sqlite.ts";

/** `zerog pause` and `zerog resume` run as a user runs them, against a `zerog serve` of the examples. */
const served = useServeOnSqlite(["examples/jobs.ts"], ["--isolation", "inline"]);
let server: RunningCli;
beforeAll(() => {
  server = served.server;
});

const jobTypes = async () =>
  (await (await fetch(`${server.url}/jobtypes`)).json()) as { jobType: string; paused: boolean }[];

describe("zerog pause / zerog resume", () => {
  // Seven commands, each a Node process with tsx: seconds apiece on a busy machine.
  it("pauses a job type, shows it in zerog workers and zerog jobtypes, and resumes it", {
    timeout: 120_000,
  }, async () => {
    expect(await runCli(["pause", "waste_time", "--url", server.url])).toMatchObject({
      code: 0,
      stdout: "waste_time: paused\n",
      stderr: "",
    });
    expect((await jobTypes()).find((t) => t.jobType === "waste_time")?.paused).toBe(true);
    // Idempotent, like the endpoint.
    expect((await runCli(["pause", "waste_time", "--url", server.url])).code).toBe(0);
    expect((await runCli(["workers", "--url", server.url])).stdout).toMatch(/^paused job types: waste_time$/m);
    expect((await runCli(["jobtypes", "--url", server.url])).stdout).toMatch(/\npaused: waste_time\n$/);

    expect(await runCli(["resume", "waste_time", "--url", server.url, "--json"])).toMatchObject({
      code: 0,
      stdout: '{"jobType":"waste_time","paused":false}\n',
    });
    expect((await jobTypes()).every((t) => !t.paused)).toBe(true);
    expect((await runCli(["workers", "--url", server.url])).stdout).not.toContain("paused job types");
    expect((await runCli(["jobtypes", "--url", server.url])).stdout).not.toContain("paused:");
  });

  it("says the server does not know a job type, and exits 2", async () => {
    const r = await runCli(["pause", "no_such_type", "--url", server.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("zerog: POST /jobtypes/no_such_type/pause: 404 unknown job type 'no_such_type'\n");
  });

  it("has --help", { timeout: 60_000 }, async () => {
    for (const command of ["pause", "resume"]) {
      const r = await runCli([command, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: zerog ${command} [options] <job-type>`);
      expect(r.stdout).toContain("--url <url>");
    }
  });
});
