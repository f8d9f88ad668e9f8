import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { FleetOverview } from "zerog";
import { REPO_ROOT } from "../helpers/cli.ts";
import { until } from "../helpers/wait.ts";

/**
 * The published binary (dist/, built by `npm run build`, which CI runs before the tests) runs
 * jobs in job processes started from dist/worker/child/child-main.js, not from the TypeScript
 * sources the other tests use.
 */
const CHILD_ENTRY = join(REPO_ROOT, "dist/worker/child/child-main.js");
const built = existsSync(CHILD_ENTRY);
if (!built && process.env.CI === "true") throw new Error(`${CHILD_ENTRY} is missing: CI must run npm run build first`);
if (!built) console.warn(`skipping the built-binary test: run npm run build (${CHILD_ENTRY} is missing)`);

const dir = mkdtempSync(join(tmpdir(), "zerog-built-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(built)("the built binary", () => {
  it("runs a plain JavaScript job in a job process", async () => {
    const db = `sqlite:${join(dir, "z.db")}`;
    const proc: ChildProcess = spawn(
      process.execPath,
      [
        "bin/zerog.js",
        "serve",
        "--jobs",
        "examples/plain-js-jobs.mjs",
        "--port",
        "0",
        "--datastore",
        db,
        "--queue",
        db,
      ],
      { cwd: REPO_ROOT, env: { ...process.env, ZEROG_LOG_LEVEL: "info" }, stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let buf = "";
        proc.stdout?.on("data", (d: Buffer) => {
          buf += d.toString();
          const m = /"url":"(http:[^"]+)".*"msg":"zerog serving"/.exec(buf);
          if (m?.[1]) resolve(m[1]);
        });
        proc.on("exit", (code) => reject(new Error(`zerog exited (${code}) before listening`)));
      });
      const res = await fetch(`${url}/job/greet`, { method: "POST", body: JSON.stringify({ name: "Ada" }) });
      const { uuid } = (await res.json()) as { uuid: string };
      await until(async () => {
        const p = (await (await fetch(`${url}/progress/${uuid}`)).json()) as { result: number };
        return p.result === 200 ? p : undefined;
      }, "greet to finish");
      expect(await (await fetch(`${url}/data/${uuid}`)).json()).toEqual({ greeting: "hello, Ada" });
      const overview = (await (await fetch(`${url}/workers`)).json()) as FleetOverview;
      expect(overview.workers.map((w) => w.pid)).toEqual([proc.pid]);
    } finally {
      proc.kill("SIGTERM");
    }
  });
});
