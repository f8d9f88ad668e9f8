import { afterEach, describe, expect, it } from "vitest";
import { BaseJob, Server } from "zerog";
import { JobWatcher } from "../helpers/job-watcher.ts";
import { TEST_JOBS } from "../helpers/test-jobs.ts";

/** Fails once, then waits two minutes by its policy. */
class PatientJob extends BaseJob {
  static override jobType = "patient";
  static override retry = { delaySeconds: 120, backoff: "fixed" } as const;
  run(): never {
    throw new Error("not yet");
  }
}

describe("retry back-off", () => {
  let server: Server | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  it("waits as the class's retry policy says, not the worker's errorRetryDelaySeconds", async () => {
    server = new Server({ jobs: TEST_JOBS, datastore: "memory:", queue: "memory:", errorRetryDelaySeconds: 600 });
    await server.start();
    const watcher = new JobWatcher(server.worker?.events ?? expect.fail("no worker"));
    const base = await server.listen({ port: 0, host: "127.0.0.1" });
    const created = await fetch(`${base}/job/backoff`, { method: "POST", body: "{}" });
    const { uuid } = (await created.json()) as { uuid: string };
    expect((await watcher.finished(uuid)).resultCode).toBe(500);
    expect(watcher.requeued.filter((r) => r.uuid === uuid).map((r) => r.delaySeconds)).toEqual([0.05, 0.1, 0.15]);
    const doc = (await (await fetch(`${base}/dump/${uuid}`)).json()) as { errorCount: number; attempt: number };
    expect(doc).toMatchObject({ errorCount: 4, attempt: 4 });
  });

  it("shows when the next run is due in GET /info while the job waits", async () => {
    server = new Server({ jobs: [PatientJob], datastore: "memory:", queue: "memory:" });
    await server.start();
    const watcher = new JobWatcher(server.worker?.events ?? expect.fail("no worker"));
    const base = await server.listen({ port: 0, host: "127.0.0.1" });
    const requeued = new Promise<void>((resolve) => server?.worker?.events.once("job:requeued", () => resolve()));
    const uuid = await server.client.create("patient", {});
    await requeued;
    expect(watcher.requeued.map((r) => r.delaySeconds)).toEqual([120]);
    const info = (await (await fetch(`${base}/info/${uuid}`)).json()) as { state: string; nextAttemptAt: string };
    expect(info.state).toBe("delayed");
    const inSeconds = (Date.parse(info.nextAttemptAt) - Date.now()) / 1000;
    expect(inSeconds).toBeGreaterThan(110);
    expect(inSeconds).toBeLessThanOrEqual(120);
  });
});
