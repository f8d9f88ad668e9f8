import { afterEach, describe, expect, it } from "vitest";
import { Server } from "zerog";
import { followJob } from "../../src/cli/follow.ts";
import { type RunningCli, runCli, startServe } from "../helpers/cli.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";
import { StepsJob } from "../helpers/stream-jobs.ts";

/** Collects what followJob prints. */
function output(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, out: { isTTY, columns: 80, write: (s: string) => chunks.push(s) } };
}

describe("followJob (zerog submit --follow)", () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function start() {
    const server = new Server({ jobs: [StepsJob], datastore: "memory:", queue: "memory:", events: { pollMs: 50 } });
    closers.push(() => server.close());
    return { server, base: await server.listen({ port: 0 }) };
  }

  it("prints plain lines when the output is not a TTY, and resolves with the result", async () => {
    const { server, base } = await start();
    const uuid = await server.client.create("steps", { steps: 3, stepMs: 100 });
    const { chunks, out } = output(false);
    expect(await followJob(base, uuid, out)).toBe(200);
    const lines = chunks.join("").trimEnd().split("\n");
    expect(lines.filter((l) => l.startsWith("progress"))).toContain("progress 100%");
    expect(lines.filter((l) => /step \d of 3$/.test(l))).toHaveLength(3);
    expect(lines.some((l) => l.endsWith("warning halfway"))).toBe(true);
    expect(lines.at(-1)).toBe("result 200 (success)");
    expect(chunks.join("")).not.toContain("\u001b["); // no escape codes in plain mode
  });

  it("resolves with a failed job's code and prints its error", async () => {
    const { server, base } = await start();
    const uuid = await server.client.create("steps", { steps: 2, stepMs: 20, fail: true });
    const { chunks, out } = output(false);
    expect(await followJob(base, uuid, out)).toBe(422);
    const text = chunks.join("");
    expect(text).toContain("error 422 failed on purpose");
    expect(text.trimEnd().split("\n").at(-1)).toBe("result 422 (failed at 100%)");
  });

  it("draws a bar in place on a TTY", async () => {
    const { server, base } = await start();
    const uuid = await server.client.create("steps", { steps: 2, stepMs: 50 });
    const { chunks, out } = output(true);
    expect(await followJob(base, uuid, out)).toBe(200);
    const text = chunks.join("");
    expect(text).toContain("█".repeat(30));
    expect(text).toContain("100%");
    expect(text).toContain("\u001b["); // log-update's erase-line sequences
    expect(text).toContain("result 200 (success)");
  });

  it("rejects with a clear error for an unknown job or a server that is down", async () => {
    const { base } = await start();
    const { out } = output(false);
    await expect(followJob(base, "01900000-0000-7000-8000-000000000000", out)).rejects.toThrow(
      /GET \/events\/01900000-0000-7000-8000-000000000000: 404 no job with uuid/,
    );
    await expect(followJob("http://127.0.0.1:1", "01900000-0000-7000-8000-000000000000", out)).rejects.toThrow(
      /cannot reach the ZeroG API at http:\/\/127.0.0.1:1/,
    );
  });
});

describe("zerog submit --follow (the real binary, stdout not a TTY)", () => {
  let server: RunningCli | undefined;
  afterEach(async () => {
    server?.proc.kill("SIGTERM");
    await server?.exited;
    server = undefined;
  });

  it("prints the uuid, plain progress lines and events, and exits 0 on success, 1 on a failed result", {
    timeout: 60_000,
  }, async () => {
    const db = `sqlite:${tempDbPath()}`;
    server = await startServe([
      "--jobs",
      "test/helpers/stream-jobs.ts",
      "--datastore",
      db,
      "--queue",
      db,
      "--isolation",
      "inline",
    ]);
    const ok = await runCli(["submit", "steps", '{"steps": 3, "stepMs": 100}', "--follow", "--url", server.url]);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    const lines = ok.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(lines).toContain("progress 100%");
    expect(lines.filter((l) => /step \d of 3$/.test(l))).toHaveLength(3);
    expect(lines.at(-1)).toBe("result 200 (success)");
    expect(ok.stdout).not.toContain("\u001b[");

    const failed = await runCli([
      "submit",
      "steps",
      '{"steps": 1, "stepMs": 0, "fail": true}',
      "-f",
      "--url",
      server.url,
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain("error 422 failed on purpose");
    expect(failed.stdout.trimEnd().split("\n").at(-1)).toBe("result 422 (failed at 100%)");

    // Without --follow: the uuid only, at once.
    const plain = await runCli(["submit", "steps", "{}", "--url", server.url]);
    expect(plain.code).toBe(0);
    expect(plain.stdout.trim().split("\n")).toHaveLength(1);
  });
});
