import { describe, expect, it } from "vitest";
import { Server } from "zerog";
import { MemoryDatastore } from "../../src/backends/memory/memory-datastore.ts";
import { MemoryFleetStore } from "../../src/backends/memory/memory-fleet.ts";
import { MemoryQueue } from "../../src/backends/memory/memory-queue.ts";
import { SeparateBackend } from "../../src/backends/separate-backend.ts";
import { CRASH_JOBS, CRASH_JOBS_MODULE } from "../helpers/crash-jobs.ts";
import { JobWatcher } from "../helpers/job-watcher.ts";
import { TEST_JOBS } from "../helpers/test-jobs.ts";

const memoryBackend = (): SeparateBackend =>
  new SeparateBackend(new MemoryDatastore(), new MemoryQueue(), { fleet: new MemoryFleetStore() });

describe("graceful shutdown", () => {
  it("lets a running job finish within the grace period", async () => {
    const backend = memoryBackend();
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
    const backend = memoryBackend();
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
    expect((await backend.queue.stats("zerog_jobs/abortable")).ready).toBe(1);
  });

  it("kills a job process that ignores shutdown, and hands its job back without counting an error", async () => {
    const backend = memoryBackend();
    const server = new Server({
      jobs: CRASH_JOBS,
      jobModules: [CRASH_JOBS_MODULE],
      backend,
      shutdownGraceMs: 100,
      killGraceMs: 200,
    });
    await server.start();
    const watcher = new JobWatcher(server.worker?.events ?? expect.fail("no worker"));
    const uuid = await server.client.create("stubborn", { ms: 60_000 });
    await expect.poll(() => watcher.started.includes(uuid)).toBe(true);
    const t0 = Date.now();
    await server.close();
    expect(Date.now() - t0).toBeLessThan(3000);
    const stored = (await backend.datastore.read(uuid))?.value;
    expect(stored?.errorCount).toBe(0);
    expect(stored?.running).toBe(false);
    expect(stored?.state).toBe("queued");
    expect(stored?.events.map((e) => e.msg)).toContain("Worker shut down - requeued");
    expect((await backend.queue.stats("zerog_jobs/stubborn")).ready).toBe(1);
  });
});
