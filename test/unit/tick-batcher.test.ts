import { describe, expect, it } from "vitest";
import { type BatchOutcome, TickBatcher } from "../../src/internal/tick-batcher.ts";

/** A batcher that records each batch it runs and answers item * 10, or an error for negative items. */
function recording(maxItems?: number) {
  const batches: number[][] = [];
  const batcher = new TickBatcher<number, number>({
    keyOf: (n) => String(Math.abs(n)),
    ...(maxItems === undefined ? {} : { maxItems }),
    run: async (items) => {
      batches.push(items);
      return items.map(
        (n): BatchOutcome<number> =>
          n < 0 ? { ok: false, error: new Error(`bad ${n}`) } : { ok: true, value: n * 10 },
      );
    },
  });
  return { batches, batcher };
}

describe("TickBatcher", () => {
  it("runs the calls of one tick as one batch, answering each its own result", async () => {
    const { batches, batcher } = recording();
    const answers = await Promise.all([1, 2, 3].map((n) => batcher.add(n)));
    expect(answers).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
    // A later tick opens a new batch.
    expect(await batcher.add(4)).toBe(40);
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it("fails only the item whose outcome is an error", async () => {
    const { batcher } = recording();
    const settled = await Promise.allSettled([batcher.add(1), batcher.add(-2), batcher.add(3)]);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((settled[1] as PromiseRejectedResult).reason).toEqual(new Error("bad -2"));
  });

  it("never puts two items with one key in one batch, and caps a batch's size", async () => {
    const { batches, batcher } = recording(2);
    await Promise.all([1, 2, -1, 3, 1].map((n) => batcher.add(n).catch(() => undefined)));
    for (const b of batches) {
      expect(b.length).toBeLessThanOrEqual(2);
      expect(new Set(b.map((n) => Math.abs(n))).size).toBe(b.length);
    }
    expect(batches.flat().sort()).toEqual([-1, 1, 1, 2, 3]);
  });

  it("rejects every item of a batch that fails as a whole", async () => {
    const batcher = new TickBatcher<number, number>({
      keyOf: String,
      run: async () => {
        throw new Error("connection lost");
      },
    });
    const settled = await Promise.allSettled([batcher.add(1), batcher.add(2)]);
    expect(settled.map((s) => s.status)).toEqual(["rejected", "rejected"]);
  });
});
