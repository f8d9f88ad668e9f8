import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { REPO_ROOT, type RunningCli, runCli, startServe } from "../helpers/cli.ts";

const MEMORY = ["--jobs", "examples/jobs.ts", "--datastore", "memory:", "--queue", "memory:", "--concurrency", "0"];
const SERVE = ["--conditions=zerog-source", "--import", "tsx", "src/cli/main.ts", "serve", "--port", "0", ...MEMORY];
/** util-linux's `script` runs a command on a pseudo-terminal: the only way to see what a person at a terminal sees. */
const SCRIPT = "/usr/bin/script";
// biome-ignore lint/suspicious/noControlCharactersInRegex: colour codes are what it matches
const ANSI = /\u001b\[[0-9;]*m/g;

describe("zerog serve's logs", () => {
  const servers: RunningCli[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.proc.kill("SIGTERM");
      await s.exited;
    }
  });

  it("are JSON lines when stdout is not a terminal, and the serving line says where the dashboard and the API docs are", async () => {
    const s = await startServe(MEMORY);
    servers.push(s);
    const serving = s.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.msg === "zerog serving");
    expect(serving).toMatchObject({ url: s.url, dashboard: `${s.url}/ui/`, docs: `${s.url}/docs` });
    expect((await fetch(`${s.url}/ui/`)).status).toBe(200);
    expect((await fetch(`${s.url}/docs`)).status).toBe(200);
  });

  it("are readable lines with --log-format pretty, without colour codes off a terminal", async () => {
    const r = await serveUntilServing([...SERVE, "--log-format", "pretty"]);
    const line = r.split("\n").find((l) => l.includes("zerog serving")) ?? "";
    expect(line).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO \(zerog\): zerog serving$/);
    expect(r).toMatch(/dashboard: "http:\/\/127\.0\.0\.1:\d+\/ui\/"/);
    expect(r).toMatch(/docs: "http:\/\/127\.0\.0\.1:\d+\/docs"/);
    expect(r).not.toContain("\u001b[");
    expect(r).not.toContain('{"level"');
  });

  it.skipIf(!existsSync(SCRIPT))(
    "are readable and coloured on a terminal by default (needs util-linux's script)",
    async () => {
      const command = [process.execPath, ...SERVE].map((a) => `'${a}'`).join(" ");
      const r = await serveUntilServing(["-qfec", command, "/dev/null"], SCRIPT);
      expect(r).toContain("zerog serving");
      expect(r).toContain("\u001b["); // colour
      expect(r).not.toContain('{"level"');
    },
  );

  it("refuses an unknown --log-format with one line and exit 2", async () => {
    const r = await runCli(["serve", "--port", "0", ...MEMORY, "--log-format", "xml"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd()).toBe("zerog: --log-format must be one of json, pretty, got 'xml'");
  });
});

/** Runs a serve command until its output says it serves, then stops it; resolves with the output. */
async function serveUntilServing(args: string[], command = process.execPath): Promise<string> {
  const proc = spawn(command, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ZEROG_LOG_LEVEL: "info", ZEROG_LOG_FORMAT: "" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const exited = once(proc, "exit");
  let out = "";
  try {
    await new Promise<void>((resolve, reject) => {
      proc.stdout?.on("data", (d: Buffer) => {
        out += d.toString();
        if (/docs\S*: "http[^"]+"/.test(out.replaceAll(ANSI, ""))) resolve();
      });
      exited.then(() => reject(new Error(`exited before serving: ${out}`)));
    });
  } finally {
    if (proc.pid !== undefined) process.kill(-proc.pid, "SIGTERM");
    await exited;
  }
  return out;
}
