import { randomBytes } from "node:crypto";
import { Socket } from "node:net";

/** Where the test services are; override with these variables to point the tests elsewhere. */
export const SERVICE_URLS = {
  postgres: process.env.ZEROG_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  redis: process.env.ZEROG_TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
} as const;

export type ServiceName = keyof typeof SERVICE_URLS;

/**
 * The service's URL when it answers on its port; when it does not: under CI=true an error
 * (a missing service must fail CI, never skip), otherwise null and a printed reason, so the
 * file can `describe.skipIf(url === null)`.
 */
export async function serviceUrl(name: ServiceName): Promise<string | null> {
  const url = new URL(SERVICE_URLS[name]);
  const port = Number(url.port || (name === "postgres" ? 5432 : 6379));
  if (await answers(url.hostname, port)) return SERVICE_URLS[name];
  const reason = `${name} is not reachable at ${url.hostname}:${port}`;
  if (process.env.CI === "true") throw new Error(`${reason}; CI must start it (see .ci/run)`);
  console.warn(`skipping ${name} tests: ${reason} (set ZEROG_TEST_${name.toUpperCase()}_URL, or start it)`);
  return null;
}

/** A fresh name for one test's schema or key prefix, so tests run in parallel and leave nothing shared. */
export function uniqueNamespace(prefix = "zt"): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
}

/** Whether something accepts TCP connections on host:port (within 1 s). */
export function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

/** A backend URL on its own fresh namespace, and how to remove everything it left. */
export interface NamespacedUrl {
  url: string;
  namespace: string;
  drop(): Promise<void>;
}

/** `base` with a fresh schema (PostgreSQL) or key prefix (Redis) of its own. */
export function namespacedUrl(kind: ServiceName, base: string): NamespacedUrl {
  const namespace = uniqueNamespace();
  const url = new URL(base);
  url.searchParams.set(kind === "postgres" ? "schema" : "prefix", namespace);
  return {
    url: url.toString(),
    namespace,
    drop: () => (kind === "postgres" ? dropSchema(base, namespace) : deletePrefix(base, namespace)),
  };
}

async function dropSchema(base: string, schema: string): Promise<void> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Deletes every key of a Redis backend's prefix (`{prefix}:…`) on the server at `base`. */
export async function deletePrefix(base: string, prefix: string): Promise<void> {
  const { createClient } = await import("redis");
  const client = createClient({ url: base });
  await client.connect();
  try {
    // The Redis backend wraps its prefix in braces (one cluster slot): {prefix}:job:…
    for await (const keys of client.scanIterator({ MATCH: `{${prefix}}:*`, COUNT: 1000 })) {
      if (keys.length > 0) await client.del(keys);
    }
  } finally {
    client.destroy();
  }
}
