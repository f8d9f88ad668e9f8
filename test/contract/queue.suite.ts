import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Queue, Reserved, ReserveOptions } from "../../src/contracts/queue.ts";
import { isZeroGError } from "../../src/errors.ts";
import { type Clock, ManualClock } from "../../src/internal/clock.ts";

export interface QueueSuiteOptions {
  name: string;
  /** A fresh, empty queue for one test; it must take every time from `clock`. */
  create: (clock: Clock) => Promise<Queue> | Queue;
  /** "manual": the queue honours the clock it is given; "real": the server keeps time, so the suite waits. */
  time?: "manual" | "real";
  /** Another client of the queue `create` last made (a second connection); `create` when absent. */
  connect?: (clock: Clock) => Promise<Queue> | Queue;
  /** Why the queue has no `expire`: its server ends a dead holder's reservations by itself, which the suite then checks. */
  withoutExpire?: string;
  /**
   * For a queue whose server does the waiting, so that a reserve never calls `onWait` (Beanstalkd):
   * resolves once the server counts a reserve waiting on `queue`.
   */
  serverWaiting?: (queue: string) => Promise<void>;
}

const Q = "jobs";
/** How long the suite's waiting reserves would wait: an answer within half of it was a wake-up, not a timeout. */
const PATIENCE_MS = 10_000;

/** The queue contract (Beanstalkd's model): every implementation runs this against its real service. */
export function describeQueue(opts: QueueSuiteOptions): void {
  describe(`queue contract: ${opts.name}`, () => {
    let queue: Queue;
    let clock: ManualClock;
    /** Lets `ms` of queue time pass. */
    const pass = async (ms: number): Promise<void> => {
      if (opts.time === "real") await sleep(ms);
      else clock.advance(ms);
    };
    const reserveNow = (queues: readonly string[] = [Q]) => queue.reserve(queues, { timeoutMs: 0 });
    const mustReserve = async (queues: readonly string[] = [Q]): Promise<Reserved> => {
      const r = await queue.reserve(queues, { timeoutMs: 1000 });
      if (!r) throw new Error("expected an entry");
      return r;
    };
    /**
     * Starts a reserve on `Q` and resolves once it waits for an entry (its `onWait`, or the server's
     * count of waiting reserves), with its answer still to come: what the test does next happens
     * to a reserve that is really waiting. Rejects if the reserve answers without ever waiting.
     * It waits for up to PATIENCE_MS.
     */
    const reserveWaiting = async (
      reserveOpts: Pick<ReserveOptions, "signal"> = {},
    ): Promise<{ answer: Promise<Reserved | null> }> => {
      let waited = (): void => undefined;
      const onWait = new Promise<void>((resolve) => {
        waited = resolve;
      });
      const answer = queue.reserve([Q], { ...reserveOpts, timeoutMs: PATIENCE_MS, onWait: waited });
      const waiting = opts.serverWaiting ? opts.serverWaiting(Q) : onWait;
      const answeredFirst = answer.then(
        () => true,
        () => true,
      );
      if (await Promise.race([waiting.then(() => false), answeredFirst])) {
        const r = await answer;
        throw new Error(`the reserve answered ${r === null ? "null" : `entry ${r.id}`} without waiting`);
      }
      return { answer };
    };

    beforeEach(async () => {
      clock = new ManualClock();
      queue = await opts.create(clock);
    });
    afterEach(async () => {
      await queue.close();
    });

    it("hands out what was put, then nothing", async () => {
      const id = await queue.put(Q, "hello");
      const r = await mustReserve();
      expect(r.id).toBe(id);
      expect(r.body).toBe("hello");
      expect(r.queue).toBe(Q);
      expect(await reserveNow()).toBeNull();
    });

    it("orders by priority (lower first), then first in first out", async () => {
      await queue.put(Q, "low-1", { priority: 2000 });
      await queue.put(Q, "urgent", { priority: 1 });
      await queue.put(Q, "low-2", { priority: 2000 });
      await queue.put(Q, "default");
      const bodies: string[] = [];
      for (let i = 0; i < 4; i++) bodies.push((await mustReserve()).body);
      expect(bodies).toEqual(["urgent", "default", "low-1", "low-2"]);
    });

    it("keeps queues apart and reserves across several", async () => {
      await queue.put("other", "o");
      expect(await reserveNow([Q])).toBeNull();
      await queue.put(Q, "q", { priority: 5 });
      const r = await mustReserve([Q, "other"]);
      expect(r.body).toBe("q");
      expect((await mustReserve([Q, "other"])).body).toBe("o");
    });

    it("takes the most urgent entry across a job type's queues and its base queue ('/' in names)", async () => {
      const queues = [`${Q}/resize`, `${Q}/mail.send`, Q];
      await queue.put(`${Q}/resize`, "resize", { priority: 30 });
      await queue.put(Q, "base", { priority: 20 });
      await queue.put(`${Q}/mail.send`, "mail", { priority: 10 });
      await queue.put(`${Q}/other`, "not asked for", { priority: 0 });
      const taken: Reserved[] = [];
      for (let i = 0; i < 3; i++) taken.push(await mustReserve(queues));
      expect(taken.map((r) => [r.body, r.queue])).toEqual([
        ["mail", `${Q}/mail.send`],
        ["base", Q],
        ["resize", `${Q}/resize`],
      ]);
      expect(await reserveNow(queues)).toBeNull();
      expect((await queue.stats(`${Q}/mail.send`)).reserved).toBe(1);
      expect((await queue.stats(`${Q}/other`)).ready).toBe(1);
    });

    it("never hands one entry of several queues to two concurrent reservers", async () => {
      const queues = [`${Q}/a`, `${Q}/b`, Q];
      for (let i = 0; i < 12; i++) await queue.put(queues[i % 3] ?? Q, `e${i}`, { priority: 100 + (i % 4) });
      const got = await Promise.all(Array.from({ length: 18 }, () => queue.reserve(queues, { timeoutMs: 200 })));
      const taken = got.filter((r): r is Reserved => r !== null);
      expect(new Set(taken.map((r) => r.id)).size).toBe(12);
      expect(taken.map((r) => r.body).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `e${i}`).sort());
    });

    it("holds a delayed entry until its delay passes", async () => {
      const id = await queue.put(Q, "later", { delaySeconds: 1 });
      expect(await reserveNow()).toBeNull();
      expect((await queue.stats(Q)).delayed).toBe(1);
      expect((await queue.entryStats(id))?.state).toBe("delayed");
      await pass(1200);
      expect((await queue.entryStats(id))?.state).toBe("ready");
      expect((await mustReserve()).id).toBe(id);
    });

    it("deletes a reserved entry", async () => {
      const id = await queue.put(Q, "x");
      const r = await mustReserve();
      await r.delete();
      expect(await queue.entryStats(id)).toBeNull();
      expect(await reserveNow()).toBeNull();
    });

    it("releases with a delay and counts releases", async () => {
      const id = await queue.put(Q, "x");
      const r = await mustReserve();
      await r.release({ delaySeconds: 1 });
      const s = await queue.entryStats(id);
      expect(s?.state).toBe("delayed");
      expect(s?.releases).toBe(1);
      expect(await reserveNow()).toBeNull();
      await pass(1200);
      const again = await mustReserve();
      expect(again.id).toBe(id);
      expect((await again.stats()).reserves).toBe(2);
    });

    it("releases at once when the delay is 0", async () => {
      await queue.put(Q, "x");
      await (await mustReserve()).release({ delaySeconds: 0 });
      expect((await mustReserve()).body).toBe("x");
    });

    it("returns an entry to ready when its TTR passes, and the old holder loses it", async () => {
      const id = await queue.put(Q, "x", { ttrSeconds: 1 });
      const first = await mustReserve();
      expect((await queue.stats(Q)).reserved).toBe(1);
      await pass(1500);
      expect((await queue.entryStats(id))?.state).toBe("ready");
      const second = await mustReserve();
      expect(second.id).toBe(id);
      const s = await second.stats();
      expect(s.reserves).toBe(2);
      expect(s.timeouts).toBe(1);
      const lost = await first.delete().catch((e: unknown) => e);
      expect(isZeroGError(lost, "ZEROG_ENTRY_LOST")).toBe(true);
      await second.delete();
      expect(await queue.entryStats(id)).toBeNull();
    });

    const expireTitle = "expires a live reservation at once: the next reserve takes it over, the old holder loses it";
    if (opts.withoutExpire)
      // No expire(): what stands in for it is the server ending a closed holder's reservations.
      it(`returns a closed holder's reservation to ready at once (${opts.withoutExpire})`, async () => {
        const holder = await (opts.connect ?? opts.create)(clock);
        try {
          const id = await holder.put(Q, "x", { ttrSeconds: 60 });
          expect((await holder.reserve([Q], { timeoutMs: 1000 }))?.id).toBe(id);
          expect(await reserveNow()).toBeNull();
        } finally {
          await holder.close();
        }
        const taken = await mustReserve();
        expect(taken.body).toBe("x");
        await taken.delete();
      });
    else
      it(expireTitle, async () => {
        const expire = queue.expire?.bind(queue);
        if (!expire) throw new Error(`${opts.name} has no expire(): say why with withoutExpire`);
        const id = await queue.put(Q, "x", { ttrSeconds: 60 });
        expect(await expire(id)).toBe(false); // ready, not reserved
        const first = await mustReserve();
        expect(await reserveNow()).toBeNull();
        // A reserver parked now is woken by the expiry, without any time passing.
        const { answer } = await reserveWaiting();
        const expiredAt = Date.now();
        expect(await expire(id)).toBe(true);
        const second = await answer;
        expect(Date.now() - expiredAt, "woken by the expiry, not by its timeout").toBeLessThan(PATIENCE_MS / 2);
        expect(second?.id).toBe(id);
        const s = await second?.stats();
        expect(s?.reserves).toBe(2);
        expect(s?.timeouts).toBe(1);
        const lost = await first.touch().catch((e: unknown) => e);
        expect(isZeroGError(lost, "ZEROG_ENTRY_LOST")).toBe(true);
        await second?.delete();
        expect(await expire(id)).toBe(false); // gone
        expect(await expire("999999999")).toBe(false);
      });

    it("peeks at an entry's body in any state, where the queue can (for the reconciler)", async (ctx) => {
      const peek = queue.peek?.bind(queue);
      if (!peek) return ctx.skip(`${opts.name} has no peek(): the reconciler falls back to entryStats`);
      const id = await queue.put(Q, "body-1");
      expect(await peek(id)).toBe("body-1");
      const r = await mustReserve();
      expect(await peek(id)).toBe("body-1");
      await r.delete();
      expect(await peek(id)).toBeNull();
      const inst = queue.instance?.bind(queue);
      if (inst) {
        const [a, b] = [await inst(), await inst()];
        expect(a.id).not.toBe("");
        expect(b.id).toBe(a.id);
        expect(b.uptimeSeconds).toBeGreaterThanOrEqual(0);
      }
    });

    it("keeps a touched entry reserved past its first TTR", async () => {
      const id = await queue.put(Q, "x", { ttrSeconds: 2 });
      const r = await mustReserve();
      await pass(1200);
      await r.touch();
      await pass(1200);
      expect((await queue.entryStats(id))?.state).toBe("reserved");
      expect(await reserveNow()).toBeNull();
      await r.delete();
    });

    it("buries and kicks", async () => {
      const a = await queue.put(Q, "a");
      await queue.put(Q, "b");
      await (await mustReserve()).bury();
      await (await mustReserve()).bury();
      expect((await queue.entryStats(a))?.state).toBe("buried");
      expect((await queue.stats(Q)).buried).toBe(2);
      expect(await reserveNow()).toBeNull();
      expect(await queue.kick(Q, 1)).toBe(1);
      const r = await mustReserve();
      expect(r.id).toBe(a);
      expect((await r.stats()).kicks).toBe(1);
      expect((await r.stats()).buries).toBe(1);
      expect(await queue.kick(Q, 10)).toBe(1);
      expect(await queue.kick(Q, 10)).toBe(0);
    });

    it("counts entries per state", async () => {
      await queue.put(Q, "ready");
      await queue.put(Q, "delayed", { delaySeconds: 60 });
      await queue.put(Q, "to-reserve", { priority: 1 });
      await queue.put(Q, "to-bury", { priority: 0 });
      await (await mustReserve()).bury();
      await mustReserve();
      expect(await queue.stats(Q)).toEqual({ queue: Q, ready: 1, delayed: 1, reserved: 1, buried: 1 });
      expect(await queue.stats("empty")).toEqual({ queue: "empty", ready: 0, delayed: 0, reserved: 0, buried: 0 });
    });

    it("reports entry stats", async () => {
      const id = await queue.put(Q, "x", { priority: 7, ttrSeconds: 30 });
      expect(await queue.entryStats(id)).toEqual({
        id,
        queue: Q,
        state: "ready",
        priority: 7,
        ttrSeconds: 30,
        reserves: 0,
        timeouts: 0,
        releases: 0,
        buries: 0,
        kicks: 0,
      });
    });

    it("wakes a waiting reserve when an entry is put", async () => {
      const { answer } = await reserveWaiting();
      const putAt = Date.now();
      await queue.put(Q, "wake");
      expect((await answer)?.body).toBe("wake");
      expect(Date.now() - putAt, "woken by the put, not by its timeout").toBeLessThan(PATIENCE_MS / 2);
    });

    it("answers null when the wait times out", async () => {
      const started = Date.now();
      expect(await queue.reserve([Q], { timeoutMs: 100 })).toBeNull();
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    });

    it("ends a waiting reserve when its signal aborts", async () => {
      const ac = new AbortController();
      const { answer } = await reserveWaiting({ signal: ac.signal });
      const abortedAt = Date.now();
      ac.abort();
      expect(await answer).toBeNull();
      expect(Date.now() - abortedAt, "ended by the abort, not by its timeout").toBeLessThan(PATIENCE_MS / 2);
    });

    it("never hands one entry to two concurrent reservers", async () => {
      for (let i = 0; i < 20; i++) await queue.put(Q, `e${i}`);
      const got = await Promise.all(Array.from({ length: 40 }, () => queue.reserve([Q], { timeoutMs: 200 })));
      const ids = got.filter((r): r is Reserved => r !== null).map((r) => r.id);
      expect(ids).toHaveLength(20);
      expect(new Set(ids).size).toBe(20);
    });

    it("ends pending reserves with null on close", async () => {
      const { answer } = await reserveWaiting();
      const closedAt = Date.now();
      await queue.close();
      expect(await answer).toBeNull();
      expect(Date.now() - closedAt, "ended by the close, not by its timeout").toBeLessThan(PATIENCE_MS / 2);
      queue = await opts.create(clock); // afterEach closes this one
    });
  });
}
