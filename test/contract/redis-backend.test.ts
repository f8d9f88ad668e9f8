import { afterEach, describe, expect, it } from "vitest";
import { connectRedis } from "../../src/backends/redis/client.ts";
import { openRedisBackend, type RedisBackend } from "../../src/backends/redis/redis-backend.ts";
import { createRedisQueue, type RedisQueue } from "../../src/backends/redis/redis-queue.ts";
import type { Reserved } from "../../src/contracts/queue.ts";
import { isZeroGError } from "../../src/errors.ts";
import { ManualClock } from "../../src/internal/clock.ts";
import { deletePrefix, serviceUrl, uniqueNamespace } from "../helpers/services.ts";
import { until } from "../helpers/wait.ts";

const url = await serviceUrl("redis");
const Q = "test_jobs";

// Skipped only when Redis is not running and CI is not set (serviceUrl fails the run under CI=true).
describe.skipIf(url === null)("redis backend", () => {
  const u = url ?? "";
  let prefix = "";
  const open: { close(): Promise<void> }[] = [];
  /** Opens a backend or queue on this test's prefix; afterEach closes it. */
  const track = async <T extends { close(): Promise<void> }>(p: Promise<T>): Promise<T> => {
    const s = await p;
    open.push(s);
    return s;
  };
  const backend = (clock?: ManualClock): Promise<RedisBackend> =>
    track(openRedisBackend({ url: u, prefix, ...(clock ? { clock } : {}) }));
  const queue = (opts: { clock?: ManualClock; pollMs?: number } = {}): Promise<RedisQueue> =>
    track(createRedisQueue({ url: u, prefix, ...opts }));
  const mustReserve = async (q: RedisQueue): Promise<Reserved> => {
    const r = await q.reserve([Q], { timeoutMs: 1000 });
    if (!r) throw new Error("expected an entry");
    return r;
  };

  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((s) => s.close()));
    await deletePrefix(u, prefix);
  });
  const fresh = (): void => {
    prefix = uniqueNamespace();
  };

  it("wakes a reserver waiting in another instance when an entry is put", async () => {
    fresh();
    const [waiter, producer] = [await queue({ pollMs: 3_600_000 }), await queue()];
    const waiting = waiter.reserve([Q], { timeoutMs: 5000 });
    const admin = waiter.client;
    // Wait (on the server's word) until the waiter listens, so the put is heard, not found.
    await until(async () => {
      const n = await admin.pubSubNumSub(waiter.keys.wake(Q));
      return (n[waiter.keys.wake(Q)] ?? 0) > 0 ? true : undefined;
    }, "the waiter's subscription");
    const started = Date.now();
    await producer.put(Q, "wake");
    expect((await waiting)?.body).toBe("wake");
    expect(Date.now() - started).toBeLessThan(100);
  });

  it("returns an entry whose holder vanished once its TTR passes", async () => {
    fresh();
    const clock = new ManualClock();
    const dying = await queue({ clock });
    const id = await dying.put(Q, "x", { ttrSeconds: 2 });
    await mustReserve(dying);
    await dying.close(); // the worker dies holding the lease
    const survivor = await queue({ clock });
    expect(await survivor.reserve([Q], { timeoutMs: 0 })).toBeNull();
    clock.advance(2001);
    const again = await mustReserve(survivor);
    expect(again.id).toBe(id);
    expect(await again.stats()).toMatchObject({ reserves: 2, timeouts: 1 });
  });

  it("fails fast with BackendDownError when the server cannot be reached", async () => {
    const started = Date.now();
    const err = await openRedisBackend({ url: "redis://127.0.0.1:1" }).catch((e: unknown) => e);
    expect(isZeroGError(err, "ZEROG_BACKEND_DOWN")).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("survives a dropped connection: calls fail with BackendDownError or succeed, never hang", async () => {
    fresh();
    const b = await backend();
    const client = b.queue.client;
    const admin = await connectRedis(u);
    // Not events.once: it would reject on the 'error' event the drop emits first.
    const reconnected = new Promise<void>((resolve) => client.once("ready", () => resolve()));
    await admin.clientKill({ filter: "ID", id: await client.clientId() });
    await admin.close();
    const during = await b.datastore.read("nope").catch((e: unknown) => e);
    expect(during === null || isZeroGError(during, "ZEROG_BACKEND_DOWN")).toBe(true);
    await reconnected;
    expect(await b.datastore.read("nope")).toBeNull();
  });
});
