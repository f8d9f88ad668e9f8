import { afterAll, describe, expect, it } from "vitest";
import { PgPool } from "../../src/backends/postgres/pool.ts";
import { connectRedis, isStalled, onceReady } from "../../src/backends/redis/client.ts";
import { BackendStalledError } from "../../src/errors.ts";
import { type PrivateService, privatePostgres, privateRedis } from "../helpers/private-services.ts";
import { until } from "../helpers/wait.ts";

/**
 * The drivers under a server stopped with SIGSTOP: a call fails with BackendStalledError within
 * `timeoutMs`, and once the server runs again the connections answer each call with its own
 * answer (the late answer of a call given up on never reaches another).
 */

const TIMEOUT_MS = 500;
/** Allowance for a busy 2-core machine. */
const MARGIN_MS = 700;

const services: PrivateService[] = [];
afterAll(async () => {
  for (const s of services) await s.resume();
  await Promise.all(services.map((s) => s.destroy()));
});

/** How `call` ends, and how long it took. */
async function outcome(call: () => Promise<unknown>): Promise<{ value?: unknown; error?: unknown; ms: number }> {
  const t0 = performance.now();
  try {
    const value = await call();
    return { value, ms: performance.now() - t0 };
  } catch (error) {
    return { error, ms: performance.now() - t0 };
  }
}

describe("a stalled PostgreSQL under PgPool", () => {
  it("fails the call in time and closes its connection: the next call gets a fresh one, and its own answer", async () => {
    const pg = await privatePostgres();
    services.push(pg);
    const db = new PgPool({ url: `${pg.url}?timeoutMs=${TIMEOUT_MS}`, poolSize: 1 });
    try {
      expect(db.timeoutMs).toBe(TIMEOUT_MS);
      const pid = { name: "t_pid", text: "SELECT pg_backend_pid() AS pid" };
      const echo = { name: "t_echo", text: "SELECT $1::text AS v" };
      const [before] = await db.run<{ pid: number }>(pid, []);

      await pg.pause();
      const stalled = await outcome(() => db.run(echo, ["stale"]));
      expect(stalled.error).toBeInstanceOf(BackendStalledError);
      expect((stalled.error as Error).message).toBe(
        `postgres is unavailable: it did not answer within ${TIMEOUT_MS} ms (stalled)`,
      );
      expect(stalled.ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
      // The pool's only connection was closed: a new call waits for a new one, within the limit too.
      const connecting = await outcome(() => db.run(echo, ["stale too"]));
      expect(connecting.error).toBeInstanceOf(BackendStalledError);
      expect(connecting.ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
      await pg.resume();

      const [after] = await until(() => db.run<{ pid: number }>(pid, []), "postgres to answer again");
      expect(after?.pid).not.toBe(before?.pid);
      expect(await db.run(echo, ["fresh"])).toEqual([{ v: "fresh" }]);
    } finally {
      await db.close();
    }
  });
});

describe("a stalled Redis under node-redis", () => {
  it("fails waiting calls in time, refuses new ones unsent while stalled, and answers each call with its own after", async () => {
    const redis = await privateRedis();
    services.push(redis);
    const client = await connectRedis(`${redis.url}?timeoutMs=${TIMEOUT_MS}`);
    try {
      await client.set("a", "1");
      await client.set("b", "2");

      await redis.pause();
      const stalled = await outcome(() => onceReady(client, () => client.get("a")));
      expect(stalled.error).toBeInstanceOf(BackendStalledError);
      expect((stalled.error as Error).message).toBe(
        `redis is unavailable: it did not answer within ${TIMEOUT_MS} ms (stalled)`,
      );
      expect(stalled.ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
      expect(isStalled(client)).toBe(true);
      // Known stalled: refused at once, and not sent (the server never sees this write).
      const refused = await outcome(() => onceReady(client, () => client.set("c", "3")));
      expect(refused.error).toBeInstanceOf(BackendStalledError);
      expect(refused.ms).toBeLessThan(MARGIN_MS);
      await redis.resume();

      await until(() => onceReady(client, () => client.ping()), "redis to answer again");
      expect(isStalled(client)).toBe(false);
      expect(await onceReady(client, () => client.get("b"))).toBe("2");
      expect(await onceReady(client, () => client.get("c"))).toBeNull();
    } finally {
      client.destroy();
    }
  });
});
