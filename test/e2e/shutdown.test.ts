import { describe, expect, it } from "vitest";
import { Server } from "zerog";
import { SeparateBackend } from "../../src/backend/separate-backend.ts";
import { MemoryDatastore } from "../../src/datastore/memory/memory-datastore.ts";
import { MemoryQueue } from "../../src/queue/memory/memory-queue.ts";
import { JobWatcher } from "../helpers/job-watcher.ts";
import { TEST_JOBS } from "../helpers/test-jobs.ts";

describe("graceful shutdown", () => {
  it("lets a running job finish within the grace period", async () => {
    const backend = new SeparateBackend(new MemoryDatastore(), new MemoryQueue());
    const server = new Server({ jobs: TEST_JOBS, backend, shutdownGraceMs: 5000 });
    await server.start();
    const watcher = new JobWatcher(server.worker?.events ?? expect.fail("no worker"));
    const uuid = await server.client.create("slow", { ms: 300 });
    await expect.poll(() => watcher.started.includes(uuid)).toBe(true);
    await server.close();
    const stored = (await backend.datastore.read(uuid))?.value;
    expect(stored?.resultCode).toBe(200);
    expect(stored?.running).toBe(false);
  });

  it("hands a job back, without counting an error, when it outlasts the grace period", async () => {
    const backend = new SeparateBackend(new MemoryDatastore(), new MemoryQueue());
    const server = new Server({ jobs: TEST_JOBS, backend, shutdownGraceMs: 100 });
    await server.start();
    const watcher = new JobWatcher(server.worker?.events ?? expect.fail("no worker"));
    const uuid = await server.client.create("abortable", { ms: 60_000 });
    await expect.poll(() => watcher.started.includes(uuid)).toBe(true);
    await server.close();
    const stored = (await backend.datastore.read(uuid))?.value;
    expect(stored?.errorCount).toBe(0);
    expect(stored?.running).toBe(false);
    expect(stored?.state).toBe("queued");
    expect(stored?.events.map((e) => e.msg)).toContain("Worker shut down - requeued");
    expect((await backend.queue.stats("zerog_jobs")).ready).toBe(1);
  });
});
