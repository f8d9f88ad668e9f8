import { describe, expect, it } from "vitest";
import { MemoryDatastore } from "../../src/backends/memory/memory-datastore.ts";
import { Sweeper, type SweepTarget } from "../../src/backends/sweeper.ts";
import type { DeleteFinishedQuery } from "../../src/contracts/datastore.ts";
import type { JobDocument } from "../../src/job/document.ts";
import { makeDocument } from "../helpers/documents.ts";

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

/** A memory datastore that records each deleteFinished call. */
class CountingDatastore extends MemoryDatastore {
  readonly calls: DeleteFinishedQuery[] = [];
  override async deleteFinished(query: DeleteFinishedQuery): Promise<number> {
    this.calls.push(query);
    return super.deleteFinished(query);
  }
}

const finished = (jobType: string, finishedAtMs: number, resultCode = 200): JobDocument =>
  makeDocument({ jobType, state: "finished", resultCode, finishedAt: new Date(finishedAtMs).toISOString() });

async function storeWith(docs: JobDocument[]): Promise<CountingDatastore> {
  const store = new CountingDatastore();
  for (const d of docs) await store.create(d);
  return store;
}

const hourOld: SweepTarget[] = [
  { jobType: "a", status: "finished", maxAgeMs: HOUR },
  { jobType: "a", status: "failed", maxAgeMs: HOUR },
  { jobType: "b", status: "finished", maxAgeMs: HOUR },
];

describe("Sweeper", () => {
  it("deletes what each target's rules name, in batches, and reports it", async () => {
    const docs = [
      ...Array.from({ length: 5 }, () => finished("a", T0)),
      finished("a", T0, 500),
      finished("a", T0 + 2 * HOUR),
      ...Array.from({ length: 2 }, () => finished("b", T0)),
      makeDocument({ jobType: "a", state: "running", running: true }),
    ];
    const store = await storeWith(docs);
    const seen: [string, number][] = [];
    const sweeper = new Sweeper(store, hourOld, {
      batchSize: 2,
      onDeleted: (t, n) => seen.push([`${t.jobType}/${t.status}`, n]),
    });
    const report = await sweeper.pass(T0 + 2 * HOUR);
    expect(report.deleted).toEqual([
      { jobType: "a", status: "finished", count: 5 },
      { jobType: "a", status: "failed", count: 1 },
      { jobType: "b", status: "finished", count: 2 },
    ]);
    expect(report).toMatchObject({ total: 8, complete: true });
    // Round robin, one batch per target per round, until a batch comes back short.
    expect(store.calls.map((c) => `${c.jobType}/${c.status}`)).toEqual([
      "a/finished",
      "a/failed",
      "b/finished",
      "a/finished",
      "b/finished",
      "a/finished",
    ]);
    expect(store.calls.every((c) => c.limit === 2 && c.finishedBefore === new Date(T0 + HOUR).toISOString())).toBe(
      true,
    );
    expect(seen).toContainEqual(["a/finished", 2]);
    expect((await store.list({ limit: 100 })).map((d) => d.state).sort()).toEqual(["finished", "running"]);
  });

  it("starts no batch after its budget but the first, and says the pass is incomplete", async () => {
    const store = await storeWith(Array.from({ length: 5 }, () => finished("a", T0)));
    const sweeper = new Sweeper(store, hourOld, { batchSize: 2, passBudgetMs: 0 });
    expect(await sweeper.pass(T0 + 2 * HOUR)).toMatchObject({ total: 2, batches: 1, complete: false });
    expect(await sweeper.pass(T0 + 2 * HOUR)).toMatchObject({ total: 2, batches: 1, complete: false });
  });

  it("keeps the newest K with keepNewest, and leaves out targets that keep everything", async () => {
    const store = await storeWith(Array.from({ length: 6 }, (_, i) => finished("a", T0 + i * 1000)));
    const targets: SweepTarget[] = [
      { jobType: "a", status: "finished", keepNewest: 2 },
      { jobType: "a", status: "failed" },
    ];
    const sweeper = new Sweeper(store, targets);
    expect(sweeper.targets).toEqual([{ jobType: "a", status: "finished", keepNewest: 2 }]);
    expect((await sweeper.pass(T0)).total).toBe(4);
    const left = await store.list({ jobType: "a" });
    expect(left.map((d) => d.finishedAt)).toEqual([
      new Date(T0 + 5000).toISOString(),
      new Date(T0 + 4000).toISOString(),
    ]);
    expect(store.calls.map((c) => c.status)).toEqual(["finished"]);
  });

  it("runs once per interval across servers sharing the datastore", async () => {
    const store = await storeWith(Array.from({ length: 3 }, () => finished("a", T0)));
    const interval = { intervalMs: 60_000 };
    const [one, two] = [new Sweeper(store, hourOld, interval), new Sweeper(store, hourOld, interval)];
    const at = T0 + 2 * HOUR + 5;
    const turns = await Promise.all([one.takeTurn(at), two.takeTurn(at + 10)]);
    expect(turns.filter((t) => t.ran)).toHaveLength(1);
    expect(turns.reduce((n, t) => n + (t.ran ? t.total : 0), 0)).toBe(3);
    // The same interval again: nobody; the next one: one of them.
    expect(await Promise.all([one.takeTurn(at + 20), two.takeTurn(at + 30)])).toEqual([{ ran: false }, { ran: false }]);
    await store.create(finished("a", T0));
    const next = await Promise.all([two.takeTurn(at + 60_000), one.takeTurn(at + 60_000)]);
    expect(next.filter((t) => t.ran)).toEqual([expect.objectContaining({ ran: true, total: 1 })]);
  });

  it("stops before its next batch, and a stopped sweeper takes no more turns", async () => {
    const store = await storeWith(Array.from({ length: 4 }, () => finished("a", T0)));
    const sweeper = new Sweeper(store, hourOld, { batchSize: 1 });
    const stopping = new Promise<void>((resolve) => {
      const original = store.deleteFinished.bind(store);
      store.deleteFinished = async (q) => {
        const n = await original(q);
        void sweeper.stop().then(resolve);
        return n;
      };
    });
    const turn = await sweeper.takeTurn(T0 + 2 * HOUR);
    await stopping;
    expect(turn).toMatchObject({ ran: true, total: 1, complete: false });
    sweeper.start();
    expect((await store.list({ jobType: "a" })).length).toBe(3);
  });
});
