// The backends the benchmark measures: each gives a fresh, empty store per call and removes it after.
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { Socket } from "node:net";
import { join } from "node:path";
import pg from "pg";
import { createClient } from "redis";

export interface BenchBackend {
  name: "sqlite" | "postgres" | "redis";
  /** A URL on a fresh store (file, schema or key prefix). */
  fresh(): string;
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
    fresh: () => `sqlite:${join(dir, `bench-${++n}.db`)}`,
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function postgresBackend(): BenchBackend {
  const schemas: string[] = [];
  return {
    name: "postgres",
    fresh: () => {
      const schema = ns();
      schemas.push(schema);
      return `${PEER_URLS.postgres}?schema=${schema}`;
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
    fresh: () => {
      const prefix = ns();
      prefixes.push(prefix);
      return `${PEER_URLS.redis}?prefix=${prefix}`;
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
