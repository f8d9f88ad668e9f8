import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningCli, runCli, startServe } from "../helpers/cli.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";

/** `zerog jobtypes` run as a user runs it, against a `zerog serve` of the examples. */
let server: RunningCli;
beforeAll(async () => {
  const db = `sqlite:${tempDbPath()}`;
  server = await startServe([
    "--jobs",
    "examples/jobs.ts",
    "examples/plain-js-jobs.mjs",
    "--datastore",
    db,
    "--queue",
    db,
  ]);
});
afterAll(async () => {
  server?.proc.kill("SIGKILL");
  await server?.exited;
});

describe("zerog jobtypes", () => {
  it("prints one line per job type: type, name, discovery path, params and description", async () => {
    const r = await runCli(["jobtypes", "--url", server.url]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TYPE +NAME +PATH +PARAMS +DESCRIPTION$/);
    expect(lines.slice(1).map((l) => l.split(/ {2,}/))).toEqual([
      ["fizz_buzz", "FizzBuzzJob", "examples/fizz_buzz", "n, fizz?, buzz?", "Plays fizz buzz up to n"],
      ["greet", "GreetJob", "examples/greet", "name", "Says hello, in two runs"],
      ["waste_time", "WasteTimeJob", "examples/waste_time", "delay?", "Wastes time while logging about ten messages"],
    ]);
  });

  it("--json prints GET /jobtypes", async () => {
    const r = await runCli(["jobtypes", "--json", "--url", server.url]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(await (await fetch(`${server.url}/jobtypes`)).json());
  });

  it("says which URL it tried when no server answers, and exits 2", async () => {
    const r = await runCli(["jobtypes", "--url", "http://127.0.0.1:9"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^zerog: cannot reach the ZeroG API at http:\/\/127\.0\.0\.1:9/);
  });

  it("has --help", async () => {
    const r = await runCli(["jobtypes", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--url <url>");
    expect(r.stdout).toContain("--json");
  });
});
