import { afterEach, describe, expect, it } from "vitest";
import { type FleetOverview, Server, type ServerConfig, type WorkerRecord } from "zerog";
import { MemoryDatastore } from "../../src/backends/memory/memory-datastore.ts";
import { MemoryFleetStore } from "../../src/backends/memory/memory-fleet.ts";
import { MemoryQueue } from "../../src/backends/memory/memory-queue.ts";
import { SeparateBackend } from "../../src/backends/separate-backend.ts";
import { CRASH_JOBS, CRASH_JOBS_MODULE } from "../helpers/crash-jobs.ts";
import { JobWatcher } from "../helpers/job-watcher.ts";
import { nextEvent } from "../helpers/wait.ts";

/** Capacity management over REST: servers sharing one backend, each with its own host name, managed through any. */
describe("fleet management over REST", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  const backend = (): SeparateBackend =>
    new SeparateBackend(new MemoryDatastore(), new MemoryQueue(), { fleet: new MemoryFleetStore() });

  async function start(
    shared: SeparateBackend,
    hostName: string,
    over: Partial<ServerConfig> = {},
  ): Promise<{ server: Server; base: string; watcher: JobWatcher; id: string }> {
    const server = new Server({
      jobs: CRASH_JOBS,
      jobModules: [CRASH_JOBS_MODULE],
      backend: shared,
      hostName,
      controlPollMs: 50,
      announceIntervalMs: 200,
      workerTtlMs: 1000,
      ...over,
    });
    servers.push(server);
    const base = await server.listen({ port: 0, host: "127.0.0.1" });
    const worker = server.worker ?? expect.fail("no worker");
    return { server, base, watcher: new JobWatcher(worker.events), id: worker.id };
  }
  const call = async (base: string, method: string, path: string): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${base}${path}`, { method });
    return { status: res.status, body: (await res.json()) as unknown };
  };
  const overview = async (base: string): Promise<FleetOverview> =>
    (await call(base, "GET", "/workers")).body as FleetOverview;
  const workerState = async (base: string, id: string): Promise<WorkerRecord | undefined> =>
    (await overview(base)).workers.find((w) => w.workerId === id);

  it("lists live workers per host with their state, memory and the queue depth", async () => {
    const shared = backend();
    const a = await start(shared, "host-a");
    await start(shared, "host-b", { concurrency: 2 });
    await expect.poll(async () => (await overview(a.base)).hosts.map((h) => h.host)).toEqual(["host-a", "host-b"]);
    const o = await overview(a.base);
    const wa = o.workers.find((w) => w.host === "host-a") ?? expect.fail("no host-a worker");
    expect(wa.workerId).toBe(`host-a:zerog:${process.pid}`);
    expect(wa).toMatchObject({ service: "zerog", pid: process.pid, state: "activeIdle", retiring: false, uuid: null });
    expect(wa.mem.used).toBeGreaterThan(0);
    expect(wa.mem.available).toBeGreaterThan(0);
    expect(o.hosts.find((h) => h.host === "host-b")).toMatchObject({ running: 0, drained: false });
    expect(o.workers.find((w) => w.host === "host-b")?.slots).toBe(2);
    expect(o.queue).toEqual({ queue: "zerog_jobs", ready: 0, delayed: 0, reserved: 0, buried: 0 });
  });

  it("drains a worker while its job runs: drainingRunning, the job finishes, no new job starts; undrain resumes", async () => {
    const { server, base, watcher, id } = await start(backend(), "host-a");
    const drained = nextEvent((server.worker ?? expect.fail("no worker")).events, "worker:drained");
    const first = await server.client.create("stubborn", { ms: 800 });
    await expect.poll(async () => (await workerState(base, id))?.state).toBe("activeRunning");
    expect((await workerState(base, id))?.uuid).toBe(first);
    expect(await call(base, "POST", `/workers/${id}/drain`)).toEqual({
      status: 202,
      body: { sent: "drain", workers: [id] },
    });
    await expect.poll(async () => (await workerState(base, id))?.state).toBe("drainingRunning");
    expect((await call(base, "GET", "/hosts/host-a")).body).toMatchObject({ drained: false, running: 1 });
    const second = await server.client.create("pid", {});
    await watcher.finished(first);
    await expect.poll(async () => (await workerState(base, id))?.state).toBe("drainingIdle");
    expect((await call(base, "GET", "/hosts/host-a")).body).toMatchObject({ drained: true, running: 0 });
    // Drained: once its slot has stopped reserving, the second job still waits on the queue.
    await drained;
    expect((await server.client.get(second)).state).toBe("queued");
    expect((await overview(base)).queue.ready).toBe(1);

    expect((await call(base, "POST", "/hosts/host-a/undrain")).status).toBe(202);
    await watcher.finished(second);
    await expect.poll(async () => (await workerState(base, id))?.state).toBe("activeIdle");
  });

  it("retires a worker for good: undrain is refused with 409", async () => {
    const { server, base, id } = await start(backend(), "host-a");
    const drained = nextEvent((server.worker ?? expect.fail("no worker")).events, "worker:drained");
    expect((await call(base, "POST", `/workers/${id}/retire`)).status).toBe(202);
    await expect.poll(async () => (await workerState(base, id))?.retiring).toBe(true);
    expect((await workerState(base, id))?.state).toBe("drainingIdle");
    const refused = await call(base, "POST", `/workers/${id}/undrain`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: "ZEROG_WORKER_RETIRED" });
    expect((await call(base, "POST", "/hosts/host-a/undrain")).status).toBe(409);
    expect(() => server.worker?.undrain()).toThrow(/retired/);
    // Created while the slots stop: a reserve still waiting would take it before they all stop.
    const uuid = await server.client.create("pid", {});
    await drained;
    expect((await server.client.get(uuid)).state).toBe("queued");
    expect((await overview(base)).queue.ready).toBe(1);
  });

  it("draining one host moves new jobs to the others", async () => {
    const shared = backend();
    const a = await start(shared, "host-a");
    const b = await start(shared, "host-b");
    await expect.poll(async () => (await overview(a.base)).hosts.length).toBe(2);
    expect((await call(b.base, "POST", "/hosts/host-a/drain")).body).toEqual({ sent: "drain", workers: [a.id] });
    await expect.poll(async () => (await call(b.base, "GET", "/hosts/host-a")).body).toMatchObject({ drained: true });
    const uuids = await Promise.all(Array.from({ length: 6 }, () => a.server.client.create("pid", {})));
    await Promise.all(uuids.map((u) => b.watcher.finished(u)));
    for (const u of uuids) expect((await a.server.client.get(u)).workerId).toBe(b.id);
  });

  it("kills a running job through the worker's control message, not the slower kill poll", async () => {
    const { server, base, watcher } = await start(backend(), "host-a", { killPollMs: 60_000, killGraceMs: 300 });
    const uuid = await server.client.create("stubborn", { ms: 60_000 });
    await expect.poll(() => server.worker?.running().length).toBe(1);
    const t0 = Date.now();
    expect(await call(base, "POST", `/job/${uuid}/kill`)).toEqual({ status: 202, body: { uuid, result: "stopping" } });
    await watcher.finished(uuid, 5000);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect((await server.client.get(uuid)).resultCode).toBe(410);
    expect(await call(base, "POST", `/job/${uuid}/kill`)).toEqual({ status: 200, body: { uuid, result: "finished" } });
  });

  it("kills a waiting job at once, and answers 404 for unknown workers, hosts and jobs", async () => {
    const server = new Server({ jobs: CRASH_JOBS, datastore: "memory:", queue: "memory:", concurrency: 0 });
    servers.push(server);
    const base = await server.listen({ port: 0, host: "127.0.0.1" });
    const uuid = await server.client.create("pid", {});
    expect(await call(base, "POST", `/job/${uuid}/kill`)).toEqual({ status: 200, body: { uuid, result: "killed" } });
    expect((await server.client.get(uuid)).resultCode).toBe(410);
    for (const path of ["/workers/nope:zerog:1/drain", "/hosts/nowhere/drain", "/job/nope/kill"]) {
      const r = await call(base, "POST", path);
      expect(r.status, path).toBe(404);
    }
    expect((await call(base, "GET", "/workers/nope:zerog:1")).body).toMatchObject({ error: "ZEROG_WORKER_NOT_FOUND" });
    expect((await call(base, "GET", "/hosts/nowhere")).body).toMatchObject({ error: "ZEROG_HOST_NOT_FOUND" });
  });

  it("a stopped server leaves the fleet at once; one that stops announcing drops out after its TTL", async () => {
    const shared = backend();
    const a = await start(shared, "host-a");
    const b = await start(shared, "host-b");
    await expect.poll(async () => (await overview(a.base)).hosts.length).toBe(2);
    await b.server.close();
    servers.splice(servers.indexOf(b.server), 1);
    expect((await overview(a.base)).hosts.map((h) => h.host)).toEqual(["host-a"]);
    // A worker that went silent (its process died): its last record expires after workerTtlMs.
    const ghost = { ...(await workerState(a.base, a.id)), workerId: "ghost:zerog:1", host: "ghost" } as WorkerRecord;
    await shared.fleet.announce({ ...ghost, expiresAtMs: Date.now() + 300 });
    expect((await overview(a.base)).hosts.map((h) => h.host)).toContain("ghost");
    await expect.poll(async () => (await overview(a.base)).hosts.map((h) => h.host)).toEqual(["host-a"]);
  });
});
