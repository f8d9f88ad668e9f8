import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
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
  /**
   * SIGSTOP: the server stops answering, but its sockets stay open and the kernel still accepts
   * connects (a frozen host, a stalled server). Every process of the server is stopped.
   */
  pause(): Promise<void>;
  /** SIGCONT after `pause`. */
  resume(): Promise<void>;
  /** Stops it for good and removes its files (resuming it first if it is paused). */
  destroy(): Promise<void>;
}

/** Sends `signal` to each pid; a process that is gone already is skipped. */
function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
    }
  }
}

/** `pid` and its children (PostgreSQL's backends and helper processes are the postmaster's children). */
function withChildren(pid: number): number[] {
  const children = readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so read after the last ')'.
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid;
      } catch {
        return false; // exited meanwhile
      }
    })
    .map(Number);
  return [pid, ...children];
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
  let paused = false;
  const resume = async (): Promise<void> => {
    if (paused) proc?.kill("SIGCONT");
    paused = false;
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    await resume();
    const exited = new Promise((resolve) => p.once("exit", resolve));
    p.kill("SIGTERM");
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    pause: async () => {
      paused = true;
      proc?.kill("SIGSTOP");
    },
    resume,
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
  let paused: number[] = [];
  const resume = async (): Promise<void> => {
    signalAll(paused, "SIGCONT");
    paused = [];
  };
  const stop = async (): Promise<void> => {
    await resume();
    await asPostgres(bin("pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"]).catch(() => undefined);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    pause: async () => {
      // postmaster.pid's first line is the postmaster's pid; the backends are its children.
      const postmaster = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
      // The postmaster first: stopped, it forks no new backend while its children are listed.
      signalAll([postmaster], "SIGSTOP");
      paused = withChildren(postmaster);
      signalAll(paused, "SIGSTOP");
    },
    resume,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
