import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface RunningCli {
  proc: ChildProcess;
  /** The URL the server listens on, from its "zerog serving" log line. */
  url: string;
  /** Every stdout line so far. */
  lines: string[];
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
}

/** Runs `zerog serve …` from source (tsx) and resolves once it listens (it logs at info level: the line is needed). */
export async function startServe(args: string[], env: Record<string, string> = {}): Promise<RunningCli> {
  const proc = spawn(
    process.execPath,
    ["--conditions=zerog-source", "--import", "tsx", "src/cli/main.ts", "serve", "--port", "0", ...args],
    { cwd: REPO_ROOT, env: { ...process.env, ZEROG_LOG_LEVEL: "info", ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const lines: string[] = [];
  let stderr = "";
  proc.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = once(proc, "exit").then(([code, signal]) => (code ?? signal) as number | string);
  const url = await new Promise<string>((resolve, reject) => {
    let buf = "";
    proc.stdout?.on("data", (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split("\n");
      buf = parts.pop() ?? "";
      for (const line of parts) {
        lines.push(line);
        const rec = parseJson(line);
        if (rec?.msg === "zerog serving" && typeof rec.url === "string") resolve(rec.url);
      }
    });
    exited.then((code) => reject(new Error(`zerog serve exited (${code}) before listening: ${stderr}`)));
  });
  return { proc, url, lines, exited };
}

function parseJson(line: string): Record<string, unknown> | null {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** What a finished `zerog …` command printed, and how it exited. */
export interface CliResult {
  /** The exit code, or the signal's name. */
  code: number | string;
  stdout: string;
  stderr: string;
}

/**
 * Runs one `zerog …` command from source (tsx, as `startServe` does) to its end; it is killed
 * (and the promise rejects) after `timeoutMs`, so a command that hangs fails its test.
 */
export async function runCli(args: string[], timeoutMs = 30_000, env: Record<string, string> = {}): Promise<CliResult> {
  const proc = spawn(process.execPath, ["--conditions=zerog-source", "--import", "tsx", "src/cli/main.ts", ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  proc.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, timeoutMs);
  try {
    const [code, signal] = (await once(proc, "close")) as [number | null, NodeJS.Signals | null];
    if (timedOut) {
      throw new Error(`zerog ${args.join(" ")} did not end within ${timeoutMs} ms: ${stdout}${stderr}`);
    }
    return { code: code ?? signal ?? "unknown", stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}
