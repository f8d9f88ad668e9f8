import { afterEach, describe, expect, it } from "vitest";
import { type JobDocument, Server, type ServerConfig } from "zerog";
import { CRASH_JOBS, CRASH_JOBS_MODULE } from "../helpers/crash-jobs.ts";
import { JobWatcher } from "../helpers/job-watcher.ts";

const msgs = (entries: { msg: string }[]): string[] => entries.map((e) => e.msg);

/** A server whose jobs run in child processes, on the in-memory backend (the children never touch it). */
describe("jobs in child processes", () => {
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
      concurrency: 1,
      errorRetryDelaySeconds: 0,
      progressFlushMs: 10,
      killPollMs: 100,
      ...over,
    });
    await server.start();
    const worker = server.worker ?? expect.fail("no worker");
    return { server, watcher: new JobWatcher(worker.events) };
  }
  const run = async (s: Server, w: JobWatcher, type: string, params: unknown = {}): Promise<JobDocument> => {
    const uuid = await s.client.create(type, params);
    await w.finished(uuid, 30_000);
    return s.client.get(uuid);
  };
  const pidOf = (doc: JobDocument): number => (doc.data as { pid: number }).pid;

  it("runs jobs in warm processes, reused until recycled", async () => {
    const { server: s, watcher } = await start({ recycleAfterJobs: 2 });
    const pids = [];
    for (let i = 0; i < 4; i++) pids.push(pidOf(await run(s, watcher, "pid")));
    expect(pids.every((p) => p !== process.pid)).toBe(true);
    expect(pids[0]).toBe(pids[1]);
    expect(pids[2]).toBe(pids[3]);
    expect(pids[1]).not.toBe(pids[2]);
  });

  it("refuses changes job code may not make when a job writes them to its IPC channel itself", async () => {
    const { server: s, watcher } = await start({ recycleAfterJobs: 1 });
    const doc = await run(s, watcher, "forge");
    expect(doc.resultCode).toBe(200);
    expect(doc.attempt).toBe(1);
    expect(doc.killRequested).toBe(false);
    expect(msgs(doc.events)).toContain("forged");
    expect(msgs(doc.warnings)).toEqual(
      ["finish", "startRun", "requestKill", "addEvent"].map(
        (op) => `a job process sent a change it may not make (${op}); ignored`,
      ),
    );
  });

  it("gives each job a fresh process with recycleAfterJobs 1 (one job per process)", async () => {
    const { server: s, watcher } = await start({ recycleAfterJobs: 1 });
    const pids = new Set<number>();
    for (let i = 0; i < 3; i++) pids.add(pidOf(await run(s, watcher, "pid")));
    expect(pids.size).toBe(3);
  });

  it("survives process.exit in a job: error 500 'job was killed', restarts per continueRunning, then finishes", async () => {
    const { server: s, watcher } = await start();
    const doc = await run(s, watcher, "exit", { code: 1 });
    expect(doc.resultCode).toBe(500);
    expect(doc.errorCount).toBe(3);
    expect(doc.errors[0]?.msg).toMatch(/^job was killed: its process exited with code 1/);
    expect(msgs(doc.events).filter((m) => m === "Killed - restarting")).toHaveLength(2);
    // What the job logged before exiting was kept.
    expect(msgs(doc.events)).toContain("about to exit");
    expect(doc.running).toBe(false);
    // The slot goes on with a new process.
    expect(pidOf(await run(s, watcher, "pid"))).not.toBe(process.pid);
  });

  it("records an error thrown in a job's timer with its stack, as any other exception", async () => {
    const { server: s, watcher } = await start();
    const doc = await run(s, watcher, "timer_throw");
    expect(doc.resultCode).toBe(500);
    expect(doc.errors[0]?.msg).toContain("boom in a timer");
    expect(doc.errors[0]?.msg).toMatch(/at .*crash-jobs/);
    expect(msgs(doc.events)).toContain("Error - restarting");
  });

  it("a job that allocates until its heap limit dies alone, with the reason recorded", async () => {
    const { server: s, watcher } = await start({ memoryLimitMb: 64 });
    const doc = await run(s, watcher, "hog");
    expect(doc.resultCode).toBe(500);
    expect(doc.errors).toHaveLength(1);
    expect(doc.errors[0]?.msg).toMatch(/^job was killed: its process/);
    expect(doc.errors[0]?.msg).toMatch(/heap|memory/i);
    expect(pidOf(await run(s, watcher, "pid"))).not.toBe(process.pid);
  });

  it("keeps a job that blocks its event loop past the TTR, without redelivering it", async () => {
    const { server: s, watcher } = await start({ ttrSeconds: 1, concurrency: 2 });
    const started: string[] = [];
    s.worker?.events.on("job:started", (e) => started.push(e.uuid));
    const uuid = await s.client.create("spin", { ms: 3500 });
    await expect.poll(async () => (await s.client.progress(uuid)).completeness).toBe(0.5);
    // While the child spins, the server answers and progress is readable.
    expect((await s.client.progress(uuid)).result).toBe(-1);
    await watcher.finished(uuid, 30_000);
    const doc = await s.client.get(uuid);
    expect(doc.resultCode).toBe(200);
    expect(doc.attempt).toBe(1);
    expect(doc.errors).toEqual([]);
    expect(started.filter((u) => u === uuid)).toHaveLength(1);
  });

  it("kills a run past jobTimeoutSeconds", async () => {
    const { server: s, watcher } = await start({ jobTimeoutSeconds: 1 });
    const t0 = Date.now();
    const doc = await run(s, watcher, "spin", { ms: 20_000 });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(doc.resultCode).toBe(500);
    expect(doc.errors[0]?.msg).toBe("job was killed: it ran past its time limit of 1 s and was killed");
  });

  it("kills a running job that ignores its signal: 410 within two seconds, and the slot runs the next job", async () => {
    const { server: s, watcher } = await start({ killGraceMs: 500 });
    const uuid = await s.client.create("stubborn", { ms: 60_000 });
    await expect.poll(() => s.worker?.running().map((r) => r.uuid)).toEqual([uuid]);
    const t0 = Date.now();
    expect(await s.client.kill(uuid)).toBe("stopping");
    await watcher.finished(uuid, 5000);
    expect(Date.now() - t0).toBeLessThan(2000);
    const doc = await s.client.get(uuid);
    expect(doc.resultCode).toBe(410);
    expect(doc.errors.map((e) => [e.errorCode, e.msg])).toEqual([[410, "Killed by user"]]);
    expect(pidOf(await run(s, watcher, "pid"))).not.toBe(process.pid);
  });

  it("refuses to start when the job modules cannot load in a job process", async () => {
    const bad = new Server({
      jobs: CRASH_JOBS,
      jobModules: ["/nonexistent/jobs.js"],
      datastore: "memory:",
      queue: "memory:",
    });
    await expect(bad.start()).rejects.toThrow(/job module not found: \/nonexistent\/jobs\.js/);
    await bad.close();
  });
});
