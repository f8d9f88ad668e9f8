import { describe, expect, it } from "vitest";
import { JobClient, JobRegistry, Worker } from "zerog";
import { MemoryDatastore } from "../../src/backends/memory/memory-datastore.ts";
import { MemoryFleetStore } from "../../src/backends/memory/memory-fleet.ts";
import { MemoryQueue } from "../../src/backends/memory/memory-queue.ts";
import { SeparateBackend } from "../../src/backends/separate-backend.ts";
import { jobQueueName } from "../../src/contracts/job-queues.ts";
import type { JobDocument } from "../../src/job/document.ts";
import { JobWatcher } from "../helpers/job-watcher.ts";
import { ReturnJob } from "../helpers/test-jobs.ts";

/** A datastore where a user's kill lands just before the worker's claim is written. */
class KillBeforeClaim extends MemoryDatastore {
  kill: (() => Promise<unknown>) | null = null;
  override async replace(doc: JobDocument, cas: string) {
    const kill = this.kill;
    if (kill && doc.running) {
      this.kill = null;
      await kill();
    }
    return super.replace(doc, cas);
  }
}

describe("a kill that races a worker's claim", () => {
  it("wins: the job never runs and ends with 410 at once", async () => {
    const datastore = new KillBeforeClaim();
    const backend = new SeparateBackend(datastore, new MemoryQueue(), { fleet: new MemoryFleetStore() });
    const registry = new JobRegistry([ReturnJob]);
    const client = new JobClient(backend, registry, { queueName: "zerog_jobs", ttrSeconds: 60 });
    const uuid = await client.create("return_value", { ret: 201 });
    datastore.kill = () => client.kill(uuid);
    const worker = new Worker({ jobs: registry, backend });
    const watcher = new JobWatcher(worker.events);
    await worker.start();
    try {
      expect((await watcher.finished(uuid, 5000)).resultCode).toBe(410);
      const doc = (await datastore.read(uuid))?.value;
      expect(doc).toMatchObject({ resultCode: 410, attempt: 0, running: false, state: "finished" });
      expect(doc?.errors.map((e) => e.msg)).toEqual(["Killed by user"]);
      expect(watcher.started).not.toContain(uuid);
      expect((await backend.queue.stats(jobQueueName("zerog_jobs", "return_value"))).reserved).toBe(0);
    } finally {
      await worker.stop();
    }
  });
});
