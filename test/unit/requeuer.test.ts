import { describe, expect, it } from "vitest";
import { JobClient, JobRegistry } from "zerog";
import { MemoryDatastore } from "../../src/backends/memory/memory-datastore.ts";
import { MemoryFleetStore } from "../../src/backends/memory/memory-fleet.ts";
import { MemoryQueue } from "../../src/backends/memory/memory-queue.ts";
import { NOT_ENQUEUED, Requeuer } from "../../src/backends/requeuer.ts";
import { SeparateBackend } from "../../src/backends/separate-backend.ts";
import { jobQueueName } from "../../src/contracts/job-queues.ts";
import type { PutOptions } from "../../src/contracts/queue.ts";
import { BackendDownError, InvalidConfigError } from "../../src/errors.ts";
import { ManualClock } from "../../src/internal/clock.ts";
import { makeDocument } from "../helpers/documents.ts";
import { ReturnJob } from "../helpers/test-jobs.ts";

const Q = "zerog_jobs";
/** Where the client puts its jobs: the job type's own queue. */
const TYPE_Q = jobQueueName(Q, ReturnJob.jobType);

/** The in-memory queue with a switch that makes puts fail as a queue server that is down would. */
class SwitchableQueue extends MemoryQueue {
  down = false;
  refuse: Error | null = null;
  #downPuts = 0;
  readonly #onDownPut = new Set<() => void>();
  override async put(queue: string, body: string, opts?: PutOptions): Promise<string> {
    if (this.refuse) throw this.refuse;
    if (this.down) {
      this.#downPuts++;
      for (const check of [...this.#onDownPut]) check();
      throw new BackendDownError("test queue", new Error("connection refused"));
    }
    return super.put(queue, body, opts);
  }
  /** Resolves once `n` puts in all have failed because the queue was down; rejects after `timeoutMs`. */
  downPuts(n: number, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#onDownPut.delete(check);
        reject(new Error(`${this.#downPuts} of ${n} puts refused in ${timeoutMs} ms`));
      }, timeoutMs);
      const check = (): void => {
        if (this.#downPuts < n) return;
        clearTimeout(timer);
        this.#onDownPut.delete(check);
        resolve();
      };
      this.#onDownPut.add(check);
      check();
    });
  }
}

function setup() {
  const clock = new ManualClock();
  const datastore = new MemoryDatastore();
  const queue = new SwitchableQueue({ clock });
  const backend = new SeparateBackend(datastore, queue, {
    clock,
    fleet: new MemoryFleetStore(),
    requeuer: { retryMs: 10, maxRetryMs: 20 },
  });
  const client = new JobClient(backend, new JobRegistry([ReturnJob]), { queueName: Q, ttrSeconds: 60, clock });
  return { clock, datastore, queue, backend, client };
}

const until = async (check: () => Promise<boolean>, what: string): Promise<void> => {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe("jobs whose enqueue failed", () => {
  it("are accepted while the queue is down, and enqueued once it is back, delays kept", async () => {
    const { clock, datastore, queue, backend, client } = setup();
    queue.down = true;
    const now = await client.create("return_value", { ret: 200 });
    const later = await client.create("return_value", { ret: 200 }, { delaySeconds: 30 });
    for (const uuid of [now, later]) expect((await datastore.read(uuid))?.value.queueJobId).toBe(NOT_ENQUEUED);
    // The two creates' puts failed, then two retry rounds (both jobs each) failed too: the jobs stay pending.
    await queue.downPuts(2 + 2 * 2);
    expect(await queue.stats(TYPE_Q)).toMatchObject({ ready: 0, delayed: 0 });
    expect(backend.requeuer.pending).toBe(2);

    clock.advance(10_000); // 10 s of the 30 s delay pass while the queue is down
    queue.down = false;
    await until(async () => backend.requeuer.pending === 0, "the requeuer to drain");
    expect(await queue.stats(TYPE_Q)).toMatchObject({ ready: 1, delayed: 1 });
    for (const uuid of [now, later]) {
      const id = (await datastore.read(uuid))?.value.queueJobId ?? "";
      expect(id).toMatch(/^\d+$/);
      expect((await queue.entryStats(id))?.queue).toBe(TYPE_Q);
    }
    // The delay runs from creation: 20 s are left, not 30.
    clock.advance(19_000);
    expect((await queue.stats(TYPE_Q)).ready).toBe(1);
    clock.advance(1_000);
    expect((await queue.stats(TYPE_Q)).ready).toBe(2);
    await backend.close();
  });

  it("are found by a scan after a crash, and two scanners enqueue each job once", async () => {
    const { clock, datastore, queue, backend } = setup();
    const left = makeDocument({ queueName: Q, queueJobId: NOT_ENQUEUED });
    const staleClaim = makeDocument({ queueName: Q, queueJobId: `enqueuing@${clock.now() - 120_000}` });
    const freshClaim = makeDocument({ queueName: Q, queueJobId: `enqueuing@${clock.now() - 1_000}` });
    const running = makeDocument({ queueName: Q, queueJobId: NOT_ENQUEUED, state: "running", running: true });
    const enqueued = makeDocument({ queueName: Q, queueJobId: "17" });
    for (const d of [left, staleClaim, freshClaim, running, enqueued]) await datastore.create(d);

    const other = new Requeuer(datastore, queue, clock, { retryMs: 10 });
    expect(await Promise.all([backend.recover(), other.scan()])).toEqual([2, 2]);
    await until(async () => backend.requeuer.pending + other.pending === 0, "both requeuers to drain");
    const stats = await queue.stats(Q);
    expect(stats.ready).toBe(2);
    for (const d of [left, staleClaim]) expect((await datastore.read(d.uuid))?.value.queueJobId).toMatch(/^\d+$/);
    expect((await datastore.read(freshClaim.uuid))?.value.queueJobId).toBe(freshClaim.queueJobId);
    expect((await datastore.read(running.uuid))?.value.queueJobId).toBe(NOT_ENQUEUED);
    await other.close();
    await backend.close();
  });

  it("are refused, and leave nothing behind, when the queue refuses for another reason", async () => {
    const { datastore, queue, client, backend } = setup();
    queue.refuse = new InvalidConfigError("bad tube name");
    await expect(client.create("return_value", { ret: 200 })).rejects.toThrow("bad tube name");
    expect(await datastore.list({})).toEqual([]);
    expect(backend.requeuer.pending).toBe(0);
    await backend.close();
  });
});
