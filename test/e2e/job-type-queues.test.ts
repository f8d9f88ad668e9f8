import { afterAll, describe, expect, it } from "vitest";
import { type Backend, BaseJob, type FleetOverview, JobClient, JobRegistry, openBackend, Server, Worker } from "zerog";
import { jobQueueName } from "../../src/contracts/job-queues.ts";
import { newJobDocument } from "../../src/job/new-document.ts";
import { privateBeanstalkd } from "../helpers/beanstalkd.ts";
import { JobWatcher } from "../helpers/job-watcher.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";
import { ReturnJob, SlowJob, TEST_JOBS } from "../helpers/test-jobs.ts";

/**
 * One queue per job type (src/contracts/job-queues.ts): a worker reserves only its own types'
 * queues and the base queue, the depth counts every queue, and a name Beanstalkd cannot hold is
 * refused at start-up.
 */

const BASE = "zerog_jobs";

/** A document and entry on the base queue, as servers older than per-type queues put them. */
async function putOnBaseQueue(
  backend: Backend,
  jobType: string,
  params: Record<string, unknown>,
  delaySeconds = 0,
): Promise<string> {
  const doc = newJobDocument({
    jobType,
    params,
    queueName: BASE,
    queueKwargs: { priority: 1024, ttrSeconds: 60, ...(delaySeconds > 0 ? { delaySeconds } : {}) },
    nowMs: Date.now(),
    delaySeconds,
  });
  await backend.createJob(doc, { ttrSeconds: 60, delaySeconds });
  return doc.uuid;
}

describe("one queue per job type", () => {
  it("a worker serving some types never reserves the others' jobs; a worker serving those runs them", async () => {
    const path = tempDbPath();
    const backend = await openBackend({ datastore: `sqlite:${path}`, queue: `sqlite:${path}` });
    const client = new JobClient(backend, new JobRegistry([ReturnJob, SlowJob]), { queueName: BASE, ttrSeconds: 60 });
    const slowOnly = new Worker({ jobs: [SlowJob], backend, concurrency: 2 });
    const slowWatcher = new JobWatcher(slowOnly.events);
    const returnOnly = new Worker({ jobs: [ReturnJob], backend, concurrency: 1 });
    try {
      await slowOnly.start();
      // More urgent than the slow jobs after it: a worker reserving every queue would take it first.
      const other = await client.create("return_value", { ret: 201 }, { priority: 0 });
      const doc = (await backend.datastore.read(other))?.value ?? expect.fail("no document");
      expect(doc.queueName).toBe(jobQueueName(BASE, "return_value"));
      for (let i = 0; i < 4; i++) {
        const uuid = await client.create("slow", { ms: 0 });
        expect((await slowWatcher.finished(uuid)).resultCode).toBe(200);
      }
      expect((await backend.datastore.read(other))?.value.state).toBe("queued");
      // Never reserved, so never churned as unloadable.
      expect((await backend.queue.entryStats(doc.queueJobId ?? ""))?.reserves).toBe(0);
      expect(slowWatcher.unloadable).toEqual([]);

      const returnWatcher = new JobWatcher(returnOnly.events);
      await returnOnly.start();
      expect((await returnWatcher.finished(other)).resultCode).toBe(201);
    } finally {
      await returnOnly.stop();
      await slowOnly.stop();
      await backend.close();
    }
  });

  it("serves entries of the base queue (put before per-type queues) even while their type is paused", async () => {
    const server = new Server({ jobs: TEST_JOBS, datastore: "memory:", queue: "memory:", controlPollMs: 50 });
    await server.start();
    const worker = server.worker ?? expect.fail("no worker");
    const watcher = new JobWatcher(worker.events);
    try {
      const applied = new Promise<void>((resolve) =>
        worker.events.on("worker:paused", ({ pausedTypes }) => pausedTypes.includes("return_value") && resolve()),
      );
      await server.client.pause("return_value");
      await applied;
      const waiting = await server.client.create("return_value", { ret: 200 });
      const legacy = await putOnBaseQueue(server.backend, "return_value", { ret: 202 });
      expect((await watcher.finished(legacy)).resultCode).toBe(202);
      expect(watcher.started).not.toContain(waiting);
      expect((await server.client.get(waiting)).state).toBe("queued");
      await server.client.resume("return_value");
      expect((await watcher.finished(waiting)).resultCode).toBe(200);
      await expect(server.client.pause("no_such_type")).rejects.toMatchObject({ code: "ZEROG_UNKNOWN_JOB_TYPE" });
    } finally {
      await server.close();
    }
  });

  it("counts every queue in GET /workers, /metrics and /health: the base queue's entries and each type's", async () => {
    const server = new Server({ jobs: TEST_JOBS, datastore: "memory:", queue: "memory:", concurrency: 0 });
    await server.start();
    try {
      const hour = { delaySeconds: 3600 };
      await server.client.create("slow", { ms: 0 }, hour);
      await server.client.create("slow", { ms: 0 }, hour);
      await server.client.create("return_value", { ret: 200 }, hour);
      await putOnBaseQueue(server.backend, "slow", { ms: 0 }, 3600);
      await server.client.create("return_value", { ret: 200 });
      const overview = (await server.app.inject({ method: "GET", url: "/workers" })).json() as FleetOverview;
      expect(overview.queue).toEqual({ queue: BASE, ready: 1, delayed: 4, reserved: 0, buried: 0 });
      const metrics = (await server.app.inject({ method: "GET", url: "/metrics" })).body;
      expect(metrics).toContain(`zerog_queue_depth{queue="${BASE}",state="delayed"} 4`);
      expect(metrics).toContain(`zerog_queue_depth{queue="${BASE}",state="ready"} 1`);
      expect(metrics).toContain('zerog_job_type_queue_depth{job_type="slow",state="delayed"} 2');
      expect(metrics).toContain('zerog_job_type_queue_depth{job_type="return_value",state="delayed"} 1');
      expect(metrics).toContain('zerog_job_type_queue_depth{job_type="return_value",state="ready"} 1');
      expect(metrics).toContain('zerog_job_type_paused{job_type="slow"} 0');
      expect((await server.app.inject({ method: "GET", url: "/health" })).json()).toMatchObject({ status: "ok" });
    } finally {
      await server.close();
    }
  });
});

const bs = await privateBeanstalkd();
afterAll(() => bs?.destroy());

/** A job type of the longest name a job type may have. */
class LongNameJob extends BaseJob {
  static override jobType = "t".repeat(100);
  run() {
    return 200;
  }
}

// Skipped only when beanstalkd is not installed and CI is not set (privateBeanstalkd fails the run under CI=true).
describe.skipIf(bs === null)("queue names on Beanstalkd", () => {
  // `${name}_jobs/${jobType}`: 5 + 1 + 100 bytes besides the name; a tube holds 200.
  const config = (name: string) => ({ jobs: [LongNameJob], datastore: "memory:", queue: bs?.url ?? "", name });

  it("refuses at start-up a job type whose tube name would pass 200 bytes, naming it", async () => {
    const server = new Server(config("n".repeat(95)));
    await expect(server.start()).rejects.toMatchObject({
      code: "ZEROG_INVALID_CONFIG",
      message: expect.stringMatching(
        /^job type 't{100}' would wait in queue 'n{95}_jobs\/t{100}', 201 bytes, but a beanstalkd queue name holds at most 200/,
      ),
    });
    await server.close();
    const worker = new Worker({ ...config("n".repeat(95)), concurrency: 1 });
    await expect(worker.start()).rejects.toMatchObject({ code: "ZEROG_INVALID_CONFIG" });
  });

  it("runs a job whose tube name is exactly 200 bytes", async () => {
    const server = new Server(config("n".repeat(94)));
    await server.start();
    try {
      const watcher = new JobWatcher(server.worker?.events ?? expect.fail("no worker"));
      const uuid = await server.client.create(LongNameJob.jobType, {});
      expect((await watcher.finished(uuid)).resultCode).toBe(200);
    } finally {
      await server.close();
    }
  });
});
