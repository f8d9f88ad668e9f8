import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, startServe } from "../helpers/cli.ts";

const MEMORY = ["--datastore", "memory:", "--queue", "memory:"];

/** Resolves with the exit code (or signal), or rejects when the process is still alive after `ms`. */
function exitWithin(exited: Promise<number | string>, ms: number): Promise<number | string> {
  return Promise.race([
    exited,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running after ${ms} ms`)), ms).unref()),
  ]);
}

describe("zerog serve shutdown", () => {
  it("exits on SIGTERM when the reader of its logs has gone away", async () => {
    const proc = spawn(
      process.execPath,
      ["--conditions=zerog-source", "--import", "tsx", "src/cli/main.ts", "serve", "--port", "0"].concat([
        "--jobs",
        "examples/plain-js-jobs.mjs",
        ...MEMORY,
      ]),
      { cwd: REPO_ROOT, env: { ...process.env, ZEROG_LOG_LEVEL: "info" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    proc.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = once(proc, "exit").then(([code, signal]) => (code ?? signal) as number | string);
    let out = "";
    const serving = new Promise<void>((resolve) => {
      proc.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes('"zerog serving"')) resolve();
        // As `| head` does: the reader leaves while the server is still logging its shutdown.
        if (out.includes('"shutting down')) proc.stdout.destroy();
      });
    });
    await serving;
    proc.kill("SIGTERM");
    try {
      expect(await exitWithin(exited, 8000)).toBe(0);
    } finally {
      proc.kill("SIGKILL");
    }
    expect(stderr).toBe("");
  });

  it("exits at once with 130 on a second signal while a job holds up the shutdown", async () => {
    const cli = await startServe([
      "--jobs",
      "test/helpers/test-jobs.ts",
      ...MEMORY,
      "--isolation",
      "inline",
      "--shutdown-grace",
      "120",
    ]);
    try {
      const res = await fetch(`${cli.url}/job/slow`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ms: 120_000 }),
      });
      expect(res.status).toBe(201);
      const { uuid } = (await res.json()) as { uuid: string };
      const running = async (): Promise<string[]> =>
        ((await (await fetch(`${cli.url}/jobs?state=running`)).json()) as { jobs: { uuid: string }[] }).jobs.map(
          (j) => j.uuid,
        );
      await expect.poll(running, { timeout: 10_000 }).toContain(uuid);
      cli.proc.kill("SIGTERM");
      await expect.poll(() => cli.lines.some((l) => l.includes('"shutting down')), { timeout: 5000 }).toBe(true);
      cli.proc.kill("SIGTERM");
      expect(await exitWithin(cli.exited, 3000)).toBe(130);
    } finally {
      cli.proc.kill("SIGKILL");
    }
  });
});
