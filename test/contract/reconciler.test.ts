import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { JobClient, JobRegistry } from "zerog";
import { type BeanstalkQueue, createBeanstalkQueue } from "../../src/backends/beanstalkd/beanstalk-queue.ts";
import { BeanstalkClient } from "../../src/backends/beanstalkd/client.ts";
import { MemoryDatastore } from "../../src/backends/memory/memory-datastore.ts";
import { MemoryFleetStore } from "../../src/backends/memory/memory-fleet.ts";
import { MemoryQueue } from "../../src/backends/memory/memory-queue.ts";
import type { PassReport, ReconcilerOptions } from "../../src/backends/reconciler.ts";
import { NOT_ENQUEUED } from "../../src/backends/requeuer.ts";
import { SeparateBackend } from "../../src/backends/separate-backend.ts";
import { openSqlite } from "../../src/backends/sqlite/sqlite-store.ts";
import { queueBodyOf } from "../../src/contracts/backend.ts";
import { jobQueueName } from "../../src/contracts/job-queues.ts";
import type { Queue } from "../../src/contracts/queue.ts";
import { type Clock, ManualClock, systemClock } from "../../src/internal/clock.ts";
import { privateBeanstalkd } from "../helpers/beanstalkd.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";
import { ReturnJob } from "../helpers/test-jobs.ts";
import { until } from "../helpers/wait.ts";

/**
 * The reconciler's decisions against a real beanstalkd (without a binlog: a restart empties it)
 * and an SQLite datastore: which waiting jobs it finds without an entry, and what putting them
 * back does. Passes are run by hand (no timer), so each test decides when one happens.
 */

const bs = await privateBeanstalkd();
/** Each test's own base queue, so that entries a test leaves behind are no other test's business. */
let Q = "";
/** The tube the client puts the test's jobs in: their type's queue under Q. */
let TUBE = "";
let tubes = 0;
beforeEach(() => {
  tubes += 1;
  Q = `reconcile_${tubes}`;
  TUBE = jobQueueName(Q, ReturnJob.jobType);
});

interface Pair {
  backend: SeparateBackend;
  queue: BeanstalkQueue;
  client: JobClient;
  /** The stored document's queueJobId. */
  entryOf(uuid: string): Promise<string | null>;
}

const opened: SeparateBackend[] = [];
afterAll(async () => {
  for (const b of opened) await b.close();
  await bs?.destroy();
});

/** A Beanstalkd queue and an SQLite datastore as two stores; several pairs may share one file. */
async function pair(path: string, opts: { clock?: Clock; reconciler?: ReconcilerOptions } = {}): Promise<Pair> {
  if (!bs) throw new Error("no beanstalkd");
  const clock = opts.clock ?? systemClock;
  const store = openSqlite({ path, clock });
  const queue = await createBeanstalkQueue({ url: bs.url });
  const backend = new SeparateBackend(store.datastore, queue, {
    fleet: store.fleet,
    clock,
    requeuer: { retryMs: 10, maxRetryMs: 100 },
    reconciler: opts.reconciler ?? {},
    close: async () => {
      await Promise.allSettled([queue.close(), store.close()]);
    },
  });
  opened.push(backend);
  const client = new JobClient(backend, new JobRegistry([ReturnJob]), { queueName: Q, ttrSeconds: 60, clock });
  const entryOf = async (uuid: string) => (await store.datastore.read(uuid))?.value.queueJobId ?? null;
  return { backend, queue, client, entryOf };
}

/** Resolves once the requeuer has enqueued (or dropped) everything it was handed. */
const drained = (b: SeparateBackend) => until(async () => (b.requeuer.pending === 0 ? true : undefined), "requeuer");

/** The ids of the tube's entries that hold `uuid`, by peeking every id up to the highest given out. */
async function entriesHolding(queue: BeanstalkQueue, uuid: string, upTo: number): Promise<string[]> {
  const ids = Array.from({ length: upTo }, (_, i) => String(i + 1));
  const bodies = await Promise.all(ids.map((id) => queue.peek(id)));
  return ids.filter((_, i) => bodies[i] === queueBodyOf(uuid));
}

describe.skipIf(bs === null)("the reconciler's decision, on beanstalkd without a binlog and SQLite", () => {
  it("leaves a job whose entry is there alone", async () => {
    const { backend, queue, client, entryOf } = await pair(tempDbPath());
    const uuid = await client.create("return_value", { ret: 200 });
    const entry = await entryOf(uuid);
    const before = await queue.stats(TUBE);

    const report = await backend.reconciler.pass();
    expect(report).toMatchObject({ kind: "full", lost: [], unenqueued: [] });
    expect(report.checked).toBeGreaterThanOrEqual(1);
    expect(backend.requeuer.pending).toBe(0);
    expect(await entryOf(uuid)).toBe(entry);
    expect(await queue.stats(TUBE)).toEqual(before);
  });

  it("puts back a job whose entry a restart lost, and one whose id the restarted server gave to another job", async () => {
    const b = bs ?? expect.fail("no beanstalkd");
    await b.restart(); // ids start at 1 again
    const { backend, queue, client, entryOf } = await pair(tempDbPath());
    const lost = await client.create("return_value", { ret: 200 });
    const shadowed = await client.create("return_value", { ret: 200 });
    expect([await entryOf(lost), await entryOf(shadowed)]).toEqual(["1", "2"]);

    await b.restart();
    // A new job takes id 1 on the new server: `shadowed` is put at 2 by nobody, `lost`'s id 1 now names `fresh`.
    const fresh = await client.create("return_value", { ret: 200 });
    expect(await entryOf(fresh)).toBe("1");

    const report = await backend.reconciler.pass();
    expect(report.kind).toBe("full");
    expect(new Set(report.lost)).toEqual(new Set([lost, shadowed]));
    await drained(backend);

    for (const uuid of [lost, shadowed]) {
      const id = (await entryOf(uuid)) ?? "";
      expect(["2", "3"]).toContain(id);
      expect(await queue.peek(id)).toBe(queueBodyOf(uuid));
    }
    // `fresh` keeps its entry, and each job has exactly one.
    expect(await entryOf(fresh)).toBe("1");
    for (const uuid of [lost, shadowed, fresh]) expect(await entriesHolding(queue, uuid, 3)).toHaveLength(1);
    expect((await queue.stats(TUBE)).ready).toBe(3);
  });

  it("keeps a delayed job's due time: the new entry waits only for what is left of the delay", async () => {
    const b = bs ?? expect.fail("no beanstalkd");
    const clock = new ManualClock(Date.now());
    const { backend, client, entryOf } = await pair(tempDbPath(), { clock });
    const uuid = await client.create("return_value", { ret: 200 }, { delaySeconds: 600 });
    await b.restart();
    clock.advance(240_000); // 4 of its 10 minutes passed before the loss was found

    expect((await backend.reconciler.pass()).lost).toEqual([uuid]);
    await drained(backend);
    expect(await statsJob((await entryOf(uuid)) ?? "")).toMatchObject({ state: "delayed", delay: 360 });
  });

  it("two processes racing to put back the same lost jobs put each back once", async () => {
    const b = bs ?? expect.fail("no beanstalkd");
    const path = tempDbPath();
    const one = await pair(path);
    const two = await pair(path);
    const jobs = await Promise.all(Array.from({ length: 20 }, () => one.client.create("return_value", { ret: 200 })));
    await b.restart();

    const [r1, r2] = await Promise.all([one.backend.reconciler.pass(), two.backend.reconciler.pass()]);
    expect(new Set(r1.lost)).toEqual(new Set(jobs));
    expect(new Set(r2.lost)).toEqual(new Set(jobs));
    await Promise.all([drained(one.backend), drained(two.backend)]);

    expect((await one.queue.stats(TUBE)).ready).toBe(jobs.length);
    for (const uuid of jobs) expect(await one.queue.peek((await one.entryOf(uuid)) ?? "")).toBe(queueBodyOf(uuid));
    // A third pass finds every entry in place.
    expect((await one.backend.reconciler.pass()).lost).toEqual([]);
  });

  it("runs once per interval across processes, and skips the lookups while the server has not restarted", async () => {
    const b = bs ?? expect.fail("no beanstalkd");
    const path = tempDbPath();
    const clock = new ManualClock(Date.now());
    const opts = { clock, reconciler: { intervalMs: 10_000, inFlightGraceMs: 0 } };
    const one = await pair(path, opts);
    const two = await pair(path, opts);
    await one.client.create("return_value", { ret: 200 });

    // Both take the same interval's turn: one runs a full pass, the other does nothing.
    const turns = await Promise.all([one.backend.reconciler.takeTurn(), two.backend.reconciler.takeTurn()]);
    expect(turns.filter((t) => t.ran)).toHaveLength(1);
    const winner = turns[0]?.ran ? one : two;
    expect(turns.find((t) => t.ran)).toMatchObject({ kind: "full", checked: 1, lost: [] });
    // The same interval again: nobody runs.
    expect(await winner.backend.reconciler.takeTurn()).toEqual({ ran: false });

    // The next interval, same server run: the pass stops at asking which run it is.
    clock.advance(10_000);
    expect(await winner.backend.reconciler.pass()).toMatchObject({ kind: "unchanged", listed: 0, checked: 0 });

    // A restart: the next pass reads everything again and finds the job.
    await b.restart();
    const after = await winner.backend.reconciler.pass();
    expect(after).toMatchObject({ kind: "full", listed: 1, checked: 1 });
    expect(after.lost).toHaveLength(1);
    await drained(winner.backend);
  });

  it("takes over a job left unenqueued by a dead process, but not one its creator may still be putting", async () => {
    const clock = new ManualClock(Date.now());
    const path = tempDbPath();
    const { backend, client, entryOf } = await pair(path, { clock, reconciler: { inFlightGraceMs: 10_000 } });
    const old = await client.create("return_value", { ret: 200 });
    const young = await client.create("return_value", { ret: 200 });
    const store = openSqlite({ path, clock });
    try {
      for (const uuid of [old, young]) {
        const read = (await store.datastore.read(uuid)) ?? expect.fail("no document");
        await store.datastore.replace({ ...read.value, queueJobId: NOT_ENQUEUED }, read.cas);
      }
      const oldDoc = (await store.datastore.read(old)) ?? expect.fail("no document");
      await store.datastore.replace(
        { ...oldDoc.value, updatedAt: new Date(clock.now() - 11_000).toISOString() },
        oldDoc.cas,
      );
    } finally {
      await store.close();
    }

    const report: PassReport = await backend.reconciler.pass();
    expect(report.unenqueued).toEqual([old]);
    expect(report.lost).toEqual([]);
    await drained(backend);
    expect(await entryOf(old)).toMatch(/^\d+$/);
    expect(await entryOf(young)).toBe(NOT_ENQUEUED);
  });

  it("a requeue whose release finds the entry gone puts the job back", async () => {
    const b = bs ?? expect.fail("no beanstalkd");
    const { backend, queue, client, entryOf } = await pair(tempDbPath());
    const uuid = await client.create("return_value", { ret: 200 });
    const entry = (await queue.reserve([TUBE], { timeoutMs: 5000 })) ?? expect.fail("nothing reserved");
    expect(entry.body).toBe(queueBodyOf(uuid));
    await b.restart();

    const read = (await backend.datastore.read(uuid)) ?? expect.fail("no document");
    await backend.settle({ ...read.value, state: "queued" }, read.cas, entry, { kind: "release", delaySeconds: 0 });
    await drained(backend);
    const id = (await entryOf(uuid)) ?? "";
    expect(await queue.peek(id)).toBe(queueBodyOf(uuid));
    expect((await queue.stats(TUBE)).ready).toBe(1);
  });
});

describe("the reconciler on a queue that cannot say whether it restarted", () => {
  it("checks every entry once per fullPassEveryMs, not every interval", async () => {
    const clock = new ManualClock();
    const queue = new MemoryQueue({ clock });
    const backend = new SeparateBackend(new MemoryDatastore(), queue, { clock, fleet: new MemoryFleetStore() });
    const client = new JobClient(backend, new JobRegistry([ReturnJob]), { queueName: "q", ttrSeconds: 60, clock });
    try {
      await client.create("return_value", { ret: 200 });
      expect((queue as Queue).instance).toBeUndefined();
      expect(await backend.reconciler.pass()).toMatchObject({ kind: "full", checked: 1, lost: [] });
      clock.advance(299_000);
      expect(await backend.reconciler.pass()).toMatchObject({ kind: "unchanged", checked: 0 });
      clock.advance(1_000);
      expect(await backend.reconciler.pass()).toMatchObject({ kind: "full", checked: 1, lost: [] });
    } finally {
      await backend.close();
    }
  });
});

/** `stats-job <id>` on a connection of the test's own (the server's view of the entry's delay). */
async function statsJob(id: string) {
  const b = bs ?? expect.fail("no beanstalkd");
  const c = new BeanstalkClient({ host: b.host, port: b.port });
  try {
    return await c.statsJob(id);
  } finally {
    await c.quit();
  }
}
