// The backends the benchmark measures: each gives a fresh, empty store per call and removes it after.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { join } from "node:path";
import pg from "pg";
import { createClient } from "redis";

export interface BenchUrls {
  datastore: string;
  queue: string;
}

export interface BenchBackend {
  name: "sqlite" | "postgres" | "redis" | "beanstalk" | "memory";
  /** URLs of a fresh, empty store (file, schema, key prefix, or server). */
  fresh(): Promise<BenchUrls>;
  /** Removes every store `fresh` made. */
  cleanup(): Promise<void>;
}

export const PEER_URLS = {
  postgres: process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  redis: process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379",
} as const;

const ns = () => `zb_${randomBytes(4).toString("hex")}`;

export function sqliteBackend(dir: string): BenchBackend {
  let n = 0;
  return {
    name: "sqlite",
    fresh: async () => both(`sqlite:${join(dir, `bench-${++n}.db`)}`),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** In-process memory (`memory:`): no storage cost, so what is left is ZeroG's own work. Nothing to remove after. */
export function memoryBackend(): BenchBackend {
  return { name: "memory", fresh: async () => both("memory:"), cleanup: async () => undefined };
}

export function postgresBackend(): BenchBackend {
  const schemas: string[] = [];
  return {
    name: "postgres",
    fresh: async () => {
      const schema = ns();
      schemas.push(schema);
      return both(`${PEER_URLS.postgres}?schema=${schema}`);
    },
    cleanup: async () => {
      const client = new pg.Client({ connectionString: PEER_URLS.postgres });
      await client.connect();
      for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      await client.end();
    },
  };
}

export function redisBackend(): BenchBackend {
  const prefixes: string[] = [];
  return {
    name: "redis",
    fresh: async () => {
      const prefix = ns();
      prefixes.push(prefix);
      return both(`${PEER_URLS.redis}?prefix=${prefix}`);
    },
    cleanup: async () => {
      const client = createClient({ url: PEER_URLS.redis });
      await client.connect();
      for (const p of prefixes) {
        for await (const keys of client.scanIterator({ MATCH: `{${p}}:*`, COUNT: 1000 })) {
          if (keys.length > 0) await client.del(keys);
        }
      }
      client.destroy();
    },
  };
}

/** Whether the beanstalkd binary is installed (Debian: apt-get install -y beanstalkd). */
export function hasBeanstalkd(): boolean {
  return !spawnSync("beanstalkd", ["-v"]).error;
}

/**
 * A Beanstalkd queue with a SQLite datastore (Beanstalkd keeps no documents): each `fresh` starts
 * an empty beanstalkd of its own on 127.0.0.1 (no binlog), so no run sees another's tubes.
 */
export function beanstalkBackend(dir: string): BenchBackend {
  const servers: ChildProcess[] = [];
  let n = 0;
  return {
    name: "beanstalk",
    fresh: async () => {
      const port = await freePort();
      servers.push(spawn("beanstalkd", ["-l", "127.0.0.1", "-p", String(port)], { stdio: "ignore" }));
      const queue = `beanstalk://127.0.0.1:${port}`;
      for (let i = 0; i < 100 && !(await reachable(queue)); i++) await new Promise((r) => setTimeout(r, 20));
      return { datastore: `sqlite:${join(dir, `bs-${++n}.db`)}`, queue };
    },
    cleanup: async () => {
      for (const s of servers) s.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const both = (url: string): BenchUrls => ({ datastore: url, queue: url });

/** A port nothing listens on now, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      srv.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Whether a service answers on its port (a missing one is reported and skipped, not fatal: this is a benchmark). */
export function reachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.connect(Number(u.port || (u.protocol.startsWith("postgres") ? 5432 : 6379)), u.hostname, () => done(true));
  });
}
