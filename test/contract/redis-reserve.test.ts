import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { openRedisBackend, type RedisBackend } from "../../src/backends/redis/redis-backend.ts";
import { createRedisQueue, type RedisQueue } from "../../src/backends/redis/redis-queue.ts";
import { queueBodyOf } from "../../src/contracts/backend.ts";
import type { Reserved } from "../../src/contracts/queue.ts";
import { makeDocument } from "../helpers/documents.ts";
import { deletePrefix, serviceUrl, uniqueNamespace } from "../helpers/services.ts";

const url = await serviceUrl("redis");
const Q = "test_jobs";

// Skipped only when Redis is not running and CI is not set (serviceUrl fails the run under CI=true).
describe.skipIf(url === null)("redis reserve: grouped leases and reserveJob", () => {
  const u = url ?? "";
  let prefix = "";
  const open: { close(): Promise<void> }[] = [];
  const track = async <T extends { close(): Promise<void> }>(p: Promise<T>): Promise<T> => {
    const s = await p;
    open.push(s);
    return s;
  };
  const backend = (): Promise<RedisBackend> => track(openRedisBackend({ url: u, prefix }));
  const queue = (): Promise<RedisQueue> => track(createRedisQueue({ url: u, prefix }));
  /** `n` reserves started in the same tick (so they form one group), in this order. */
  const together = (q: RedisQueue, n: number, queues: readonly string[] = [Q], timeoutMs = 0) =>
    Promise.all(Array.from({ length: n }, () => q.reserve(queues, { timeoutMs })));
  const bodies = (got: (Reserved | null)[]): (string | null)[] => got.map((r) => r?.body ?? null);

  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((s) => s.close()));
    await deletePrefix(u, prefix);
  });
  const fresh = (): void => {
    prefix = uniqueNamespace();
  };

  it("reserveJob leaves the document out when it cannot be read that way, but still hands out the entry", async () => {
    fresh();
    const b = await backend();
    const admin = b.queue.client;
    const corrupt = makeDocument();
    await b.createJob(corrupt, { priority: 1 });
    await admin.hSet(b.queue.keys.job(corrupt.uuid), "doc", "{not json");
    const notObject = makeDocument();
    await b.createJob(notObject, { priority: 2 });
    await admin.hSet(b.queue.keys.job(notObject.uuid), "doc", "null");
    await b.queue.put(Q, queueBodyOf(randomUUID()), { priority: 3 }); // no document
    await b.queue.put(Q, "not a uuid", { priority: 4 });
    const got = await Promise.all(Array.from({ length: 4 }, () => b.reserveJob([Q], { timeoutMs: 0 })));
    expect(got.map((t) => t?.entry.body)).toEqual([
      queueBodyOf(corrupt.uuid),
      queueBodyOf(notObject.uuid),
      expect.any(String),
      "not a uuid",
    ]);
    for (const t of got) {
      expect(t).not.toBeNull();
      expect(t && "document" in t).toBe(false);
      expect((await t?.entry.stats())?.state).toBe("reserved");
    }
  });

  it("reserveJob with a claim starts the run of a plain job, which datastore.read then answers", async () => {
    fresh();
    const b = await backend();
    // Names the checks look at, nested in the params: only the document's own fields count.
    const plain = makeDocument({ params: { running: true, killRequested: true, state: "finished" } });
    await b.createJob(plain, {});
    const claim = { workerId: "host:svc:1", jobTypes: ["test_job"] };
    const taken = await b.reserveJob([Q], { timeoutMs: 1000 }, claim);
    expect(taken?.claimed?.undo).toEqual({
      attempt: 0,
      running: false,
      state: "queued",
      workerId: null,
      startedAt: null,
      updatedAt: plain.updatedAt,
    });
    const value = taken?.document?.value;
    expect(value).toMatchObject({ attempt: 1, running: true, state: "running", workerId: claim.workerId });
    expect(value?.startedAt).toBe(value?.updatedAt);
    const stored = await b.datastore.read(plain.uuid);
    expect(stored?.cas).toBe(taken?.document?.cas);
    // The same document, names in the same order (what a later JSON.stringify writes).
    expect(JSON.stringify(stored?.value)).toBe(JSON.stringify(value));
    expect((await b.datastore.list({ state: "running" })).map((d) => d.uuid)).toEqual([plain.uuid]);
    expect(await b.datastore.list({ state: "queued" })).toEqual([]);
    // The next write replaces the started document whole.
    if (!stored) throw new Error("no document");
    const finished = { ...stored.value, state: "finished" as const, running: false, resultCode: 200 };
    if (!taken) throw new Error("nothing taken");
    await b.settle(finished, stored.cas, taken.entry, { kind: "delete" });
    expect((await b.datastore.read(plain.uuid))?.value).toEqual(finished);
  });

  it("reserveJob with a claim only reads a job that is not in the plain case", async () => {
    fresh();
    const b = await backend();
    const killed = makeDocument({ killRequested: true, params: { killRequested: false } });
    const dead = makeDocument({ running: true, state: "running", attempt: 1 });
    const foreign = makeDocument({ jobType: "not_mine" });
    const finished = makeDocument({ state: "finished", resultCode: 200 });
    const docs = [killed, dead, foreign, finished];
    for (const d of docs) await b.createJob(d, {});
    const claim = { workerId: "host:svc:1", jobTypes: ["test_job"] };
    const taken = await Promise.all(docs.map(() => b.reserveJob([Q], { timeoutMs: 0 }, claim)));
    for (const [i, d] of docs.entries()) {
      const t = taken[i];
      expect(t?.entry.body).toBe(queueBodyOf(d.uuid));
      expect(t?.claimed).toBeUndefined();
      expect(t?.document).toEqual(await b.datastore.read(d.uuid));
      expect(t?.document?.value).toEqual({ ...d, queueJobId: t?.entry.id });
    }
  });

  it("hands each reserver of one tick its own entry, most urgent first, in the order they asked", async () => {
    fresh();
    const q = await queue();
    await q.put(Q, "late", { priority: 2000 });
    await q.put(Q, "first", { priority: 1 });
    await q.put(Q, "default-1");
    await q.put(Q, "default-2");
    await q.put(Q, "second", { priority: 5 });
    const got = await together(q, 6);
    expect(bodies(got)).toEqual(["first", "second", "default-1", "default-2", "late", null]);
    expect(new Set(got.map((r) => r?.id)).size).toBe(6);
    expect(await q.stats(Q)).toMatchObject({ ready: 0, reserved: 5 });
  });

  it("merges several queues in one group by priority, then put order", async () => {
    fresh();
    const q = await queue();
    await q.put("other", "o-1", { priority: 10 });
    await q.put(Q, "q-1", { priority: 10 });
    await q.put(Q, "q-urgent", { priority: 0 });
    await q.put("other", "o-2", { priority: 20 });
    await q.put(Q, "q-urgent-2", { priority: 0 });
    const got = await together(q, 4, [Q, "other"]);
    expect(bodies(got)).toEqual(["q-urgent", "q-urgent-2", "o-1", "q-1"]);
    expect(bodies(await together(q, 2, [Q, "other"]))).toEqual(["o-2", null]);
  });

  it("parks the reservers a group had no entry for, and wakes them for later puts", async () => {
    fresh();
    const q = await queue();
    await q.put(Q, "now");
    const [first, second, third] = Array.from({ length: 3 }, () => q.reserve([Q], { timeoutMs: 5000 }));
    expect((await first)?.body).toBe("now");
    await q.put(Q, "later-1");
    await q.put(Q, "later-2");
    expect([(await second)?.body, (await third)?.body]).toEqual(["later-1", "later-2"]);
  });

  it("hands 1,100 reservers of one tick distinct entries, most urgent first, over several script calls", async () => {
    fresh();
    const q = await queue();
    const n = 1100; // far more than REDIS_MAX_GROUP: many groups, opened in the same tick
    for (let i = 0; i < n; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => q.put(Q, `e${i + j}`)));
    const got = await together(q, n);
    expect(got.every((r) => r !== null)).toBe(true);
    expect(new Set(got.map((r) => r?.id)).size).toBe(n);
    expect(bodies(got.slice(0, 3))).toEqual(["e0", "e1", "e2"]);
    expect(await q.stats(Q)).toMatchObject({ ready: 0, reserved: n });
  });
});
