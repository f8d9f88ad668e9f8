import { afterAll, describe, expect, it } from "vitest";
import { type JobDocument, Server } from "zerog";
import { privateBeanstalkd } from "../helpers/beanstalkd.ts";
import { JobWatcher } from "../helpers/job-watcher.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";
import { TEST_JOBS } from "../helpers/test-jobs.ts";

const beanstalkd = await privateBeanstalkd();

// Skipped only when beanstalkd is not installed and CI is not set (privateBeanstalkd fails the run under CI=true).
describe.skipIf(beanstalkd === null)("a Beanstalkd queue that goes away", () => {
  const servers: Server[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
    await beanstalkd?.destroy();
  });

  it("accepts jobs meanwhile (queueJobId -1) and enqueues and runs them once it is back", async () => {
    if (!beanstalkd) return;
    const datastore = `sqlite:${tempDbPath()}`;
    const server = new Server({ jobs: TEST_JOBS, datastore, queue: beanstalkd.url, concurrency: 2 });
    servers.push(server);
    await server.start();
    const watcher = new JobWatcher(server.worker?.events ?? fail());
    const base = await server.listen({ port: 0, host: "127.0.0.1" });
    const post = async (): Promise<{ status: number; uuid: string }> => {
      const res = await fetch(`${base}/job/return_value`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ret: 200 }),
      });
      return { status: res.status, ...((await res.json()) as { uuid: string }) };
    };
    const dump = async (uuid: string) =>
      (await (await fetch(`${base}/dump/${uuid}?showLogs=true`)).json()) as JobDocument;

    const before = await post();
    expect((await watcher.finished(before.uuid)).resultCode).toBe(200);

    // SIGKILL: no goodbye; puts fail once the client's bounded reconnects give up.
    await beanstalkd.stop("SIGKILL");
    const during = await Promise.all([post(), post(), post()]);
    for (const p of during) {
      expect(p.status).toBe(201);
      expect(await dump(p.uuid)).toMatchObject({ state: "queued", queueJobId: "-1", attempt: 0 });
    }

    // Back, and empty (no binlog): the jobs come from the datastore, not from the old server.
    await beanstalkd.start();
    for (const p of during) {
      expect((await watcher.finished(p.uuid, 30_000)).resultCode).toBe(200);
      const doc = await dump(p.uuid);
      expect(doc).toMatchObject({ state: "finished", attempt: 1, errors: [] });
      expect(doc.queueJobId).toMatch(/^\d+$/);
    }
    // Each ran once.
    expect(watcher.started.filter((u) => during.some((p) => p.uuid === u))).toHaveLength(3);
  }, 60_000);
});

function fail(): never {
  throw new Error("expected a worker");
}
