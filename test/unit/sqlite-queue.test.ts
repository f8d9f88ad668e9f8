import { afterEach, describe, expect, it } from "vitest";
import { openSqlite, type SqliteStore } from "../../src/backends/sqlite/sqlite-store.ts";
import type { Reserved } from "../../src/contracts/queue.ts";
import { isZeroGError } from "../../src/errors.ts";
import { ManualClock } from "../../src/internal/clock.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";

const Q = "jobs";

describe("sqlite queue", () => {
  const opened: SqliteStore[] = [];
  const open = (opts: { path?: string; clock?: ManualClock; pollMs?: number } = {}): SqliteStore => {
    const store = openSqlite({ path: tempDbPath(), ...opts });
    opened.push(store);
    return store;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });
  const mustReserve = async (store: SqliteStore, queues: string[] = [Q]): Promise<Reserved> => {
    const r = await store.queue.reserve(queues, { timeoutMs: 2000 });
    if (!r) throw new Error("expected an entry");
    return r;
  };

  it("gives 50 concurrent reservers distinct entries, in one transaction", async () => {
    const { queue, connection } = open();
    const putIds = await Promise.all(Array.from({ length: 30 }, (_, i) => queue.put(Q, `e${i}`)));
    const before = connection.stats.transactions;
    const got = await Promise.all(Array.from({ length: 50 }, () => queue.reserve([Q], { timeoutMs: 0 })));
    const ids = got.filter((r): r is Reserved => r !== null).map((r) => r.id);
    expect(new Set(ids)).toEqual(new Set(putIds));
    expect(ids).toHaveLength(30);
    expect(connection.stats.transactions - before).toBe(1);
  });

  it("wakes an in-process waiter on put, without waiting for a poll", async () => {
    const { queue } = open({ pollMs: 60_000 });
    const waiting = queue.reserve([Q], { timeoutMs: 10_000 });
    await queue.put(Q, "wake");
    expect((await waiting)?.body).toBe("wake");
  });

  it("finds by polling what another connection put", async () => {
    const a = open();
    const b = open({ path: a.connection.db.name, pollMs: 10 });
    const waiting = b.queue.reserve([Q], { timeoutMs: 10_000 });
    const id = await a.queue.put(Q, "from a");
    expect((await waiting)?.id).toBe(id);
  });

  it("hands a delayed entry to a waiter once the clock passes its delay", async () => {
    const clock = new ManualClock();
    const { queue } = open({ clock, pollMs: 10 });
    const id = await queue.put(Q, "later", { delaySeconds: 5 });
    const waiting = queue.reserve([Q], { timeoutMs: 10_000 });
    clock.advance(5000);
    expect((await waiting)?.id).toBe(id);
  });

  it("hands an expired reservation to a waiter, and the old holder can no longer touch it", async () => {
    const clock = new ManualClock();
    const store = open({ clock, pollMs: 10 });
    await store.queue.put(Q, "x", { ttrSeconds: 1 });
    const first = await mustReserve(store);
    const waiting = store.queue.reserve([Q], { timeoutMs: 10_000 });
    clock.advance(1001);
    const second = await waiting;
    expect(second?.id).toBe(first.id);
    expect(await second?.stats()).toMatchObject({ state: "reserved", reserves: 2, timeouts: 1 });
    const err = await first.touch().catch((e: unknown) => e);
    expect(isZeroGError(err, "ZEROG_ENTRY_LOST")).toBe(true);
  });

  it("lets a late holder finish when nobody took its expired entry", async () => {
    const clock = new ManualClock();
    const store = open({ clock });
    const id = await store.queue.put(Q, "x", { ttrSeconds: 1 });
    const r = await mustReserve(store);
    clock.advance(5000);
    expect((await store.queue.entryStats(id))?.state).toBe("ready");
    await r.delete();
    expect(await store.queue.entryStats(id)).toBeNull();
  });

  it("takes the most urgent entry across queues, oldest first on a tie", async () => {
    const store = open();
    await store.queue.put("a", "a-1", { priority: 10 });
    await store.queue.put("b", "b-1", { priority: 5 });
    await store.queue.put("a", "a-2", { priority: 5 });
    const order: string[] = [];
    for (let i = 0; i < 3; i++) order.push((await mustReserve(store, ["a", "b"])).body);
    expect(order).toEqual(["b-1", "a-2", "a-1"]);
  });

  it("releases with a new priority", async () => {
    const store = open();
    await store.queue.put(Q, "first", { priority: 1 });
    await store.queue.put(Q, "second", { priority: 2 });
    await (await mustReserve(store)).release({ delaySeconds: 0, priority: 3 });
    expect((await mustReserve(store)).body).toBe("second");
    expect((await mustReserve(store)).body).toBe("first");
  });

  it("refuses a handle's operations once the entry is gone", async () => {
    const store = open();
    await store.queue.put(Q, "x");
    const r = await mustReserve(store);
    await r.bury();
    for (const op of [() => r.delete(), () => r.touch(), () => r.release({ delaySeconds: 0 })]) {
      expect(isZeroGError(await op().catch((e: unknown) => e), "ZEROG_ENTRY_LOST")).toBe(true);
    }
  });

  it("refuses to reserve once closed", async () => {
    const { queue } = open();
    await queue.close();
    const err = await queue.reserve([Q], { timeoutMs: 0 }).catch((e: unknown) => e);
    expect(isZeroGError(err, "ZEROG_CLOSED")).toBe(true);
  });
});
