import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chownSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { until } from "./wait.ts";

const run = promisify(execFile);

/**
 * A service of the test's own, on a free port, that the test may stop and start again: outage
 * tests must never stop the machine's shared PostgreSQL or Redis, which other tests use meanwhile.
 */
export interface PrivateService {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its files. */
  destroy(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** redis-server with an append-only file fsynced on every write, so a restart keeps every job. */
export async function privateRedis(): Promise<PrivateService> {
  const dir = mkdtempSync(join(tmpdir(), "zerog-redis-"));
  const port = await freePort();
  let proc: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    proc = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--save",
        "",
      ],
      { stdio: "ignore" },
    );
    await until(
      async () => ((await run("redis-cli", ["-p", String(port), "ping"])).stdout.trim() === "PONG" ? true : undefined),
      "redis to start",
    );
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((resolve) => p.once("exit", resolve));
    p.kill("SIGTERM");
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A throwaway PostgreSQL cluster (initdb, trust auth) run as the postgres user, as the server requires. */
export async function privatePostgres(): Promise<PrivateService> {
  const version = readdirSync("/usr/lib/postgresql").sort().at(-1);
  if (!version) throw new Error("no PostgreSQL server binaries under /usr/lib/postgresql");
  const bin = (name: string) => join("/usr/lib/postgresql", version, "bin", name);
  const dir = mkdtempSync(join(tmpdir(), "zerog-pg-"));
  const data = join(dir, "data");
  const uid = Number((await run("id", ["-u", "postgres"])).stdout.trim());
  const gid = Number((await run("id", ["-g", "postgres"])).stdout.trim());
  chownSync(dir, uid, gid);
  const asPostgres = (cmd: string, args: string[]) => run("runuser", ["-u", "postgres", "--", cmd, ...args]);
  await asPostgres(bin("initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = async (): Promise<void> => {
    await asPostgres(bin("pg_ctl"), ["-D", data, "-o", options, "-l", join(dir, "log"), "-w", "start"]);
  };
  const stop = async (): Promise<void> => {
    await asPostgres(bin("pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"]).catch(() => undefined);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
