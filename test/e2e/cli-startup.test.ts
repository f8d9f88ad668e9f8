import { once } from "node:events";
import { createServer, type Server as NetServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";

const MEMORY = ["--datastore", "memory:", "--queue", "memory:"];

describe("zerog serve start-up errors", () => {
  let occupier: NetServer | null = null;
  afterEach(async () => {
    occupier?.close();
    occupier = null;
  });

  it("prints one line naming a port in use and exits with 2, before any worker starts", async () => {
    occupier = createServer();
    occupier.listen(0, "127.0.0.1");
    await once(occupier, "listening");
    const address = occupier.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const port = String(address.port);

    const r = await runCli(["serve", "--port", port, "--jobs", "examples/jobs.ts", ...MEMORY], 30_000, {
      ZEROG_LOG_LEVEL: "info",
    });

    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^zerog: /);
    expect(lines[0]).toContain(port);
    expect(lines[0]).toContain("in use");
    expect(r.stdout).not.toContain("worker started");
  });

  it("prints one line for a backend URL it does not know and exits with 2", async () => {
    const r = await runCli(
      ["serve", "--port", "0", "--jobs", "examples/jobs.ts", "--datastore", "nosuch://x", "--queue", "memory:"],
      30_000,
      { ZEROG_LOG_LEVEL: "info" },
    );
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^zerog: /);
    expect(r.stdout).not.toContain("worker started");
  });

  it.each([
    [
      "an unreachable PostgreSQL",
      ["--datastore", "postgres://127.0.0.1:1/test", "--queue", "memory:"],
      /^zerog: postgres is unavailable: .*ECONNREFUSED/,
    ],
    [
      "an unreachable Redis",
      ["--datastore", "memory:", "--queue", "redis://127.0.0.1:1"],
      /^zerog: redis is unavailable: .*ECONNREFUSED/,
    ],
    [
      "a job module that is missing",
      ["--jobs", "no/such/jobs.ts", ...MEMORY],
      /^zerog: job module not found: .*no\/such\/jobs\.ts$/,
    ],
    [
      "a job module that throws as it loads",
      ["--jobs", "test/fixtures/throwing-jobs.mjs", ...MEMORY],
      /^zerog: cannot load job module test\/fixtures\/throwing-jobs\.mjs: broken on purpose$/,
    ],
  ])("prints one line for %s and exits with 2, before any worker starts", async (_what, args, message) => {
    const jobs = args.includes("--jobs") ? [] : ["--jobs", "examples/jobs.ts"];
    const r = await runCli(["serve", "--port", "0", ...jobs, ...args], 30_000, { ZEROG_LOG_LEVEL: "info" });
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(r.stdout).not.toContain("worker started");
  });
});
