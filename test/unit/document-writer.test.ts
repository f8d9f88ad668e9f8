import { describe, expect, it } from "vitest";
import { MemoryDatastore } from "../../src/backends/memory/memory-datastore.ts";
import { isZeroGError } from "../../src/errors.ts";
import { systemClock } from "../../src/internal/clock.ts";
import { DocumentWriter } from "../../src/job/document-writer.ts";
import * as t from "../../src/job/transitions.ts";
import { makeDocument } from "../helpers/documents.ts";

/** A datastore that counts replace calls. */
class CountingDatastore extends MemoryDatastore {
  replaces = 0;
  override async replace(...args: Parameters<MemoryDatastore["replace"]>) {
    this.replaces++;
    return super.replace(...args);
  }
}

async function setup(flushIntervalMs: number | null = null) {
  const store = new CountingDatastore();
  const doc = makeDocument({ attempt: 1 });
  const cas = await store.create(doc);
  const writer = new DocumentWriter(store, structuredClone(doc), cas, {
    attempt: 1,
    clock: systemClock,
    flushIntervalMs,
  });
  return { store, doc, writer };
}

describe("DocumentWriter", () => {
  it("coalesces many changes into one write per interval", async () => {
    const { store, doc, writer } = await setup(50);
    for (let i = 0; i < 100; i++) writer.mutate(t.addToCompleteness(0.005));
    writer.mutate(t.addEvent("hello", new Date().toISOString()));
    expect(store.replaces).toBe(0);
    await writer.flush();
    expect(store.replaces).toBe(1);
    const stored = await store.read(doc.uuid);
    expect(stored?.value.completeness).toBeCloseTo(0.5);
    expect(stored?.value.events.map((e) => e.msg)).toEqual(["hello"]);
  });

  it("writes each change at once when the interval is 0", async () => {
    const { store, doc, writer } = await setup(0);
    writer.mutate(t.setCompleteness(0.5));
    await expect.poll(async () => (await store.read(doc.uuid))?.value.completeness).toBe(0.5);
    writer.mutate(t.setCompleteness(0.75));
    await expect.poll(async () => (await store.read(doc.uuid))?.value.completeness).toBe(0.75);
    expect(store.replaces).toBe(2);
  });

  it("writes on its own when the interval passes", async () => {
    const { store, doc, writer } = await setup(20);
    writer.mutate(t.setCompleteness(0.25));
    await expect.poll(async () => (await store.read(doc.uuid))?.value.completeness).toBe(0.25);
    expect(store.replaces).toBe(1);
  });

  it("re-applies its changes over another writer's", async () => {
    const { store, doc, writer } = await setup();
    const other = await store.read(doc.uuid);
    if (!other) throw new Error("missing");
    await store.replace({ ...other.value, warnings: [{ timeStamp: "t", msg: "from elsewhere" }] }, other.cas);
    await writer.commit(t.addError(42, "mine", "t2"));
    const stored = (await store.read(doc.uuid))?.value;
    expect(stored?.warnings.map((w) => w.msg)).toEqual(["from elsewhere"]);
    expect(stored?.errors).toEqual([{ timeStamp: "t2", msg: "mine", errorCode: 42 }]);
    expect(stored?.errorCount).toBe(1);
  });

  it("is fenced off when a newer attempt owns the job, and writes nothing", async () => {
    const { store, doc, writer } = await setup();
    let fencedBy: unknown;
    const fencedWriter = new DocumentWriter(store, writer.doc, writer.cas, {
      attempt: 1,
      clock: systemClock,
      flushIntervalMs: null,
      onFenced: (err) => {
        fencedBy = err;
      },
    });
    const cur = await store.read(doc.uuid);
    if (!cur) throw new Error("missing");
    await store.replace({ ...cur.value, attempt: 2, completeness: 0.1 }, cur.cas);

    const err = await fencedWriter.commit(t.setCompleteness(0.9)).catch((e: unknown) => e);
    expect(isZeroGError(err, "ZEROG_FENCED")).toBe(true);
    expect(fencedBy).toBe(err);
    expect((await store.read(doc.uuid))?.value.completeness).toBe(0.1);
    expect(() => fencedWriter.mutate(t.setCompleteness(1))).toThrow(/superseded/);
  });

  it("gives up after a bounded number of conflicts", async () => {
    const doc = makeDocument({ attempt: 1 });
    // A store where every replace loses the race to another writer.
    class HostileDatastore extends MemoryDatastore {
      override async replace(d: typeof doc) {
        const cur = await super.read(d.uuid);
        if (cur) await super.replace({ ...cur.value }, cur.cas);
        return super.replace(d, "stale");
      }
    }
    const hostile = new HostileDatastore();
    await hostile.create(doc);
    const w = new DocumentWriter(hostile, doc, "1", {
      attempt: 1,
      clock: systemClock,
      flushIntervalMs: null,
      maxCasRetries: 3,
    });
    const err = await w.commit(t.setCompleteness(0.5)).catch((e: unknown) => e);
    expect(isZeroGError(err, "ZEROG_CAS_MISMATCH")).toBe(true);
  });
});
