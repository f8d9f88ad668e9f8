import { afterEach, describe, expect, it } from "vitest";
import { type JobDocument, Server, type ServerConfig } from "zerog";
import { CRASH_JOBS, CRASH_JOBS_MODULE } from "../helpers/crash-jobs.ts";
import { JobWatcher } from "../helpers/job-watcher.ts";

const msgs = (entries: { msg: string }[]): string[] => entries.map((e) => e.msg);
const BYSTANDER = /^job was stopped: its process .*\(because of another job running in it\)$/;

/** Several jobs sharing one job process: a job that takes the process down must not count against the others. */
describe("several jobs per job process", () => {
  let server: Server | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  async function start(over: Partial<ServerConfig> = {}): Promise<{ server: Server; watcher: JobWatcher }> {
    server = new Server({
      jobs: CRASH_JOBS,
      jobModules: [CRASH_JOBS_MODULE],
      datastore: "memory:",
      queue: "memory:",
      concurrency: 3,
      jobsPerProcess: 3,
      errorRetryDelaySeconds: 0,
      progressFlushMs: 10,
      killPollMs: 100,
      ...over,
    });
    await server.start();
    const worker = server.worker ?? expect.fail("no worker");
    return { server, watcher: new JobWatcher(worker.events) };
  }
  const pidOf = (doc: JobDocument): number | undefined => (doc.data as { pid?: number } | null)?.pid;

  /** Starts `n` healthy jobs of `ms` and resolves once each runs in a job process. */
  async function neighbours(s: Server, n: number, ms: number): Promise<string[]> {
    const uuids = await Promise.all(Array.from({ length: n }, () => s.client.create("neighbour", { ms })));
    for (const uuid of uuids)
      await expect.poll(async () => pidOf(await s.client.get(uuid)), { timeout: 10_000 }).toBeTypeOf("number");
    return uuids;
  }

  /** A healthy job whose process was lost to another job: requeued, no error, then done. */
  async function expectSpared(s: Server, w: JobWatcher, uuid: string): Promise<void> {
    await w.finished(uuid, 30_000);
    const doc = await s.client.get(uuid);
    expect(doc.resultCode).toBe(200);
    expect(doc.errorCount).toBe(0);
    expect(doc.errors).toEqual([]);
    expect(doc.attempt).toBeGreaterThanOrEqual(2);
    expect(msgs(doc.warnings).some((m) => BYSTANDER.test(m))).toBe(true);
    expect(msgs(doc.events)).toContain("Job process lost - requeued");
  }

  it("runs concurrent jobs in one process", async () => {
    const { server: s, watcher } = await start();
    const uuids = await neighbours(s, 3, 2000);
    for (const uuid of uuids) await watcher.finished(uuid);
    const pids = new Set((await Promise.all(uuids.map((u) => s.client.get(u)))).map(pidOf));
    expect(pids.size).toBe(1);
    expect(pids.has(process.pid)).toBe(false);
  });

  it("keeps a process per slot with jobsPerProcess 1", async () => {
    const { server: s, watcher } = await start({ jobsPerProcess: 1 });
    const uuids = await neighbours(s, 3, 2000);
    for (const uuid of uuids) await watcher.finished(uuid);
    const pids = new Set((await Promise.all(uuids.map((u) => s.client.get(u)))).map(pidOf));
    expect(pids.size).toBe(3);
  });

  it("a job calling process.exit fails alone; the jobs beside it are requeued without an error", async () => {
    const { server: s, watcher } = await start();
    const healthy = await neighbours(s, 2, 3000);
    const exit = await s.client.create("exit", { code: 1 });
    await watcher.finished(exit, 30_000);
    const doc = await s.client.get(exit);
    expect(doc.resultCode).toBe(500);
    expect(doc.errors[0]?.msg).toMatch(/^job was killed: its process exited with code 1/);
    expect(msgs(doc.warnings).some((m) => BYSTANDER.test(m))).toBe(false);
    for (const uuid of healthy) await expectSpared(s, watcher, uuid);
  });

  it("an error thrown in one job's timer is that job's; the jobs beside it are requeued without an error", async () => {
    const { server: s, watcher } = await start();
    const healthy = await neighbours(s, 2, 3000);
    const thrower = await s.client.create("timer_throw", {});
    await watcher.finished(thrower, 30_000);
    const doc = await s.client.get(thrower);
    expect(doc.resultCode).toBe(500);
    expect(doc.errors[0]?.msg).toContain("boom in a timer");
    expect(doc.errors[0]?.msg).toMatch(/at .*crash-jobs/);
    for (const uuid of healthy) await expectSpared(s, watcher, uuid);
  });

  it("a job killed for ignoring its signal takes its process; the job beside it is requeued without an error", async () => {
    const { server: s, watcher } = await start({ killGraceMs: 300 });
    const [healthy] = await neighbours(s, 1, 3000);
    const stubborn = await s.client.create("stubborn", { ms: 60_000 });
    await expect.poll(() => s.worker?.running().map((r) => r.uuid)).toContain(stubborn);
    expect(await s.client.kill(stubborn)).toBe("stopping");
    await watcher.finished(stubborn, 10_000);
    const doc = await s.client.get(stubborn);
    expect(doc.resultCode).toBe(410);
    expect(doc.errors.map((e) => [e.errorCode, e.msg])).toEqual([[410, "Killed by user"]]);
    await expectSpared(s, watcher, healthy ?? expect.fail("no neighbour"));
  });

  it("refuses a jobsPerProcess that is not a positive whole number", () => {
    for (const jobsPerProcess of [0, -1, 1.5]) {
      expect(() => new Server({ jobs: CRASH_JOBS, datastore: "memory:", queue: "memory:", jobsPerProcess })).toThrow(
        /jobsPerProcess/,
      );
    }
  });
});
