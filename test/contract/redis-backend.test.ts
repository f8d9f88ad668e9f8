import { afterEach, describe, expect, it } from "vitest";
import { connectRedis } from "../../src/backends/redis/client.ts";
import { openRedisBackend, type RedisBackend } from "../../src/backends/redis/redis-backend.ts";
import { createRedisQueue, type RedisQueue } from "../../src/backends/redis/redis-queue.ts";
import type { Reserved } from "../../src/contracts/queue.ts";
import { isZeroGError } from "../../src/errors.ts";
import { ManualClock } from "../../src/internal/clock.ts";
import { makeDocument } from "../helpers/documents.ts";
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

  it("creates document and entry together, and neither when the uuid is taken", async () => {
    fresh();
    const b = await backend();
    const doc = makeDocument();
    const id = await b.createJob(doc, { priority: 5 });
    expect((await b.datastore.read(doc.uuid))?.value).toEqual({ ...doc, queueJobId: id });
    expect((await b.queue.entryStats(id))?.priority).toBe(5);
    const err = await b.createJob({ ...doc, jobType: "other" }, {}).catch((e: unknown) => e);
    expect(isZeroGError(err, "ZEROG_ALREADY_EXISTS")).toBe(true);
    expect((await b.datastore.read(doc.uuid))?.value.jobType).toBe(doc.jobType);
    expect(await b.queue.stats(Q)).toMatchObject({ ready: 1, delayed: 0 });
  });

  it("settles atomically: a stale CAS changes neither document nor entry", async () => {
    fresh();
    const b = await backend();
    const doc = makeDocument();
    await b.createJob(doc, {});
    const entry = await mustReserve(b.queue);
    const cur = await b.datastore.read(doc.uuid);
    if (!cur) throw new Error("no document");
    const newer = await b.datastore.replace({ ...cur.value, tickcount: 1 }, cur.cas);
    const finished = { ...cur.value, state: "finished" as const, resultCode: 200 };
    const err = await b.settle(finished, cur.cas, entry, { kind: "delete" }).catch((e: unknown) => e);
    expect(isZeroGError(err, "ZEROG_CAS_MISMATCH")).toBe(true);
    expect((await b.datastore.read(doc.uuid))?.value.state).toBe("queued");
    expect((await b.queue.entryStats(entry.id))?.state).toBe("reserved");
    await b.settle(finished, newer, entry, { kind: "delete" });
    expect((await b.datastore.read(doc.uuid))?.value.state).toBe("finished");
    expect((await b.datastore.list({ state: "finished" })).map((d) => d.uuid)).toEqual([doc.uuid]);
    expect(await b.queue.entryStats(entry.id)).toBeNull();
  });

  it("settle leaves an entry another worker took over alone, and releases one it owns", async () => {
    fresh();
    const clock = new ManualClock();
    const b = await backend(clock);
    const doc = makeDocument();
    await b.createJob(doc, { ttrSeconds: 1 });
    const first = await mustReserve(b.queue);
    clock.advance(1500);
    const second = await mustReserve(b.queue);
    const cur = await b.datastore.read(doc.uuid);
    if (!cur) throw new Error("no document");
    const cas = await b.settle({ ...cur.value, resultCode: 200 }, cur.cas, first, { kind: "delete" });
    expect((await b.queue.entryStats(second.id))?.state).toBe("reserved");
    await b.settle({ ...cur.value, state: "delayed" }, cas, second, { kind: "release", delaySeconds: 0 });
    expect(await b.queue.entryStats(second.id)).toMatchObject({ state: "ready", releases: 1 });
  });

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

  it("hands 30 entries to 50 concurrent reservers exactly once each", async () => {
    fresh();
    const q = await queue();
    for (let i = 0; i < 30; i++) await q.put(Q, `e${i}`);
    const got = await Promise.all(Array.from({ length: 50 }, () => q.reserve([Q], { timeoutMs: 200 })));
    const ids = got.filter((r): r is Reserved => r !== null).map((r) => r.id);
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
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
