import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { until } from "./wait.ts";

/** A `zerog serve` started in a user's project (through npx or npm run). */
export interface ProjectServer {
  proc: ChildProcess;
  url: string;
  /** Stops the whole process group (npm, its shell, zerog and its job processes); resolves once it is gone. */
  stop(): Promise<void>;
}

/**
 * Runs `command args…` (e.g. `npx zerog serve …`) in its own process group and resolves once
 * zerog logs that it serves; rejects with what it printed if it exits first.
 */
export async function startProjectServer(
  command: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<ProjectServer> {
  const env = { ...opts.env, ZEROG_LOG_LEVEL: "info", ZEROG_LOG_FORMAT: "json" };
  const proc = spawn(command, args, { cwd: opts.cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const exited = once(proc, "exit");
  let out = "";
  proc.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /"url":"(http:[^"]+)"[^\n]*"msg":"zerog serving"/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    exited.then(([code]) => reject(new Error(`${command} ${args.join(" ")} exited (${code}) before serving:\n${out}`)));
  });
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    if (proc.pid) process.kill(-proc.pid, "SIGTERM");
    await exited;
  };
  return { proc, url, stop };
}

/** Creates a `hello` job over HTTP and waits until it finishes; resolves with its data. */
export async function runHelloJob(url: string, name: string): Promise<unknown> {
  const res = await fetch(`${url}/job/hello`, { method: "POST", body: JSON.stringify({ name }) });
  if (res.status !== 201) throw new Error(`POST /job/hello answered ${res.status}: ${await res.text()}`);
  const { uuid } = (await res.json()) as { uuid: string };
  const { result } = await until(
    async () => {
      const p = (await (await fetch(`${url}/progress/${uuid}`)).json()) as { result: number };
      return p.result === -1 ? undefined : p;
    },
    "the hello job to finish",
    30_000,
    50,
  );
  if (result !== 200)
    throw new Error(`the hello job finished with ${result}: ${await (await fetch(`${url}/info/${uuid}`)).text()}`);
  return (await fetch(`${url}/data/${uuid}`)).json();
}
