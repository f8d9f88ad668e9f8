import { describe, expect, it } from "vitest";
import { TakeGroups } from "../../src/contracts/take-groups.ts";

describe("TakeGroups", () => {
  it("serves the joiners of one key with one lease each group, most urgent first, at most maxMembers a group", async () => {
    const groups = new TakeGroups<{ id: number; priority: number }>({ maxMembers: 3 });
    const sizes: number[] = [];
    let next = 0;
    // As the queues do: the group closes when its statement is about to run, after this tick's joiners.
    const tick = () => new Promise((r) => setImmediate(r));
    // Each lease hands out as many rows as its group has members, in reverse urgency.
    const lease = async (close: () => number) => {
      await tick();
      const size = close();
      sizes.push(size);
      return Array.from({ length: size }, () => ({ id: ++next, priority: 10 - next }));
    };
    const got = await Promise.all(Array.from({ length: 7 }, () => groups.join("q", lease)));
    expect(sizes).toEqual([3, 3, 1]);
    // Within a group the most urgent (lowest priority) row goes to the first joiner.
    expect(got.map((r) => r?.id)).toEqual([3, 2, 1, 6, 5, 4, 7]);
  });

  it("puts every joiner of one key in one group when unbounded", async () => {
    const groups = new TakeGroups<{ id: number; priority: number }>();
    const sizes: number[] = [];
    const lease = async (close: () => number) => {
      await new Promise((r) => setImmediate(r));
      sizes.push(close());
      return [];
    };
    const got = await Promise.all(Array.from({ length: 50 }, () => groups.join("q", lease)));
    expect(sizes).toEqual([50]);
    expect(got.every((r) => r === undefined)).toBe(true);
  });
});
