import { afterEach, describe, expect, it } from "vitest";
import { Server } from "zerog";
import { jobWatcherOf } from "../../src/server/routes/job-events.ts";
import { type RunningCli, startServe } from "../helpers/cli.ts";
import { namespacedUrl, serviceUrl } from "../helpers/services.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";
import { openSse, type SseStream } from "../helpers/sse-client.ts";
import { StepsJob } from "../helpers/stream-jobs.ts";
import { until } from "../helpers/wait.ts";

/** The checks every finished stream must pass: progress rises, logs in order, result last. */
function expectWholeStory(s: SseStream, steps: number, result: number): void {
  const names = s.events.map((e) => e.event);
  expect(names.at(-1)).toBe("result");
  expect(s.events.at(-1)?.data).toMatchObject({ result, completeness: 1 });
  const progress = s.events.filter((e) => e.event === "progress").map((e) => e.data.completeness as number);
  expect(progress.length).toBeGreaterThanOrEqual(2);
  expect([...progress].sort((a, b) => a - b)).toEqual(progress);
  expect(progress.at(-1)).toBe(1);
  const logs = s.events.filter((e) => e.event === "event").map((e) => e.data.msg);
  const stepLogs = Array.from({ length: steps }, (_, i) => `step ${i + 1} of ${steps}`);
  // A failed job's log ends with the worker's "Error - finished".
  expect(logs).toEqual(result === 200 ? stepLogs : [...stepLogs, "Error - finished"]);
  expect(s.events.filter((e) => e.event === "warning").map((e) => e.data.msg)).toEqual(["halfway"]);
  // Ids are `events.warnings.errors` sent so far: they only grow.
  const last = s.events.at(-1)?.id;
  expect(last).toBe(result === 200 ? `${steps}.1.0` : `${steps + 1}.1.1`);
}

describe("GET /events/{uuid} in one process", () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function start(concurrency = 1) {
    const db = `sqlite:${tempDbPath()}`;
    const server = new Server({
      jobs: [StepsJob],
      datastore: db,
      queue: db,
      concurrency,
      events: { pollMs: 50, heartbeatMs: 200 },
    });
    closers.push(() => server.close());
    const base = await server.listen({ port: 0 });
    return { server, base, db };
  }

  it("streams progress, events, warnings, errors and the result, then closes", async () => {
    const { server, base } = await start();
    const uuid = await server.client.create("steps", { steps: 4, stepMs: 120, fail: true });
    const s = await openSse(`${base}/events/${uuid}`, { origin: "https://example.com" });
    expect(s.status).toBe(200);
    expect(s.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(s.headers.get("access-control-allow-origin")).toBe("*");
    await s.closed;
    expectWholeStory(s, 4, 422);
    expect(s.events.filter((e) => e.event === "job-error").map((e) => e.data)).toEqual([
      expect.objectContaining({ index: 0, errorCode: 422, msg: "failed on purpose" }),
    ]);
  });

  it("answers 404 as JSON for an unknown or malformed uuid, before any stream", async () => {
    const { base } = await start(0);
    for (const id of ["01900000-0000-7000-8000-000000000000", "not-a-uuid", "zzzzzzzz-0000-7000-8000-000000000000"]) {
      const s = await openSse(`${base}/events/${id}`);
      expect(s.status, id).toBe(404);
      expect(s.error).toMatchObject({ error: "ZEROG_JOB_NOT_FOUND" });
    }
  });

  it("sends a finished job's whole story at once, and resumes after Last-Event-ID", async () => {
    const { server, base } = await start();
    const uuid = await server.client.create("steps", { steps: 3, stepMs: 0 });
    await until(async () => ((await server.client.progress(uuid)).result === 200 ? true : undefined), "the job");
    const all = await openSse(`${base}/events/${uuid}`);
    await all.closed;
    expect(all.events.map((e) => e.event)).toEqual(["event", "event", "warning", "event", "progress", "result"]);
    const resumed = await openSse(`${base}/events/${uuid}`, { "last-event-id": "2.1.0" });
    await resumed.closed;
    expect(resumed.events.map((e) => [e.event, e.data.msg ?? null])).toEqual([
      ["event", "step 3 of 3"],
      ["progress", null],
      ["result", null],
    ]);
    const byQuery = await openSse(`${base}/events/${uuid}?lastEventId=3.1.0`);
    await byQuery.closed;
    expect(byQuery.events.map((e) => e.event)).toEqual(["progress", "result"]);
  });

  it("reads each watched job once per interval however many watch it, and stops when clients leave", async () => {
    const { server, base } = await start(0); // no worker: the job stays queued, the streams stay open
    const watcher = jobWatcherOf(server.app);
    if (!watcher) throw new Error("no watcher");
    const uuid = await server.client.create("steps", {});
    const clients = await Promise.all(Array.from({ length: 5 }, () => openSse(`${base}/events/${uuid}`)));
    await until(async () => (watcher.watching === 1 && watcher.reads >= 5 ? true : undefined), "polling");
    // One more listener on the job sees each round: a round reads the job once for all six, one 50 ms interval after the last.
    const rounds: { reads: number; atMs: number }[] = [];
    await new Promise<void>((resolve) => {
      const stop = watcher.watch(uuid, () => {
        rounds.push({ reads: watcher.reads, atMs: performance.now() });
        if (rounds.length < 6) return;
        stop();
        resolve();
      });
    });
    const [first, last] = [rounds[0], rounds.at(-1)];
    if (!first || !last) throw new Error("no rounds");
    expect(last.reads - first.reads).toBe(rounds.length - 1); // one read per round, not one per client
    // Rounds an interval apart (less a little: a timer may fire a millisecond or two early).
    expect(last.atMs - first.atMs).toBeGreaterThanOrEqual((rounds.length - 1) * 45);
    for (const c of clients) c.abort();
    await until(async () => (watcher.watching === 0 ? true : undefined), "the clients to leave");
    const stopped = watcher.reads;
    // Nothing armed and nothing running: no read can follow.
    await until(async () => (watcher.idle ? true : undefined), "the watcher to stop");
    expect(watcher.reads).toBe(stopped);
  });

  it("sends heartbeats, and ends open streams when the server closes", async () => {
    const { server, base } = await start(0);
    const uuid = await server.client.create("steps", {});
    const res = await fetch(`${base}/events/${uuid}`);
    const reader = res.body?.getReader();
    let text = "";
    const done = (async () => {
      for (;;) {
        const r = await reader?.read();
        if (!r || r.done) return;
        text += new TextDecoder().decode(r.value);
      }
    })();
    await until(async () => (text.includes(": keep-alive") ? true : undefined), "a heartbeat");
    expect(text).toContain("retry: 1000");
    expect(text).toContain("event: progress");
    await server.close();
    await done; // the server ended the stream: close() did not hang on it
  });
});

const shared = [
  { name: "sqlite file", url: async () => `sqlite:${tempDbPath()}`, drop: async () => undefined },
  { name: "postgres", ...(await postgresNamespace()) },
];

async function postgresNamespace() {
  const base = await serviceUrl("postgres");
  if (base === null) return { url: null, drop: async () => undefined };
  const ns = namespacedUrl("postgres", base);
  return { url: async () => ns.url, drop: ns.drop };
}

for (const b of shared) {
  describe.skipIf(b.url === null)(`GET /events/{uuid} across two server processes (${b.name})`, () => {
    const servers: RunningCli[] = [];
    afterEach(async () => {
      for (const s of servers.splice(0)) {
        s.proc.kill("SIGTERM");
        await s.exited;
      }
      await b.drop();
    });

    it("streams from server A a job that server B runs", { timeout: 60_000 }, async () => {
      const url = await (b.url as () => Promise<string>)();
      const common = ["--jobs", "test/helpers/stream-jobs.ts", "--datastore", url, "--queue", url];
      const a = await startServe([...common, "-c", "0"]);
      servers.push(a);
      const bServer = await startServe([...common, "-c", "1", "--isolation", "inline"]);
      servers.push(bServer);
      const res = await fetch(`${a.url}/job/steps`, {
        method: "POST",
        body: JSON.stringify({ steps: 5, stepMs: 300 }),
      });
      expect(res.status).toBe(201);
      const { uuid } = (await res.json()) as { uuid: string };
      const s = await openSse(`${a.url}/events/${uuid}`);
      expect(s.status).toBe(200);
      await s.closed;
      expectWholeStory(s, 5, 200);
      // Live, not only the end: several progress events arrived while it ran.
      expect(s.events.filter((e) => e.event === "progress").length).toBeGreaterThanOrEqual(3);
      const dump = (await (await fetch(`${a.url}/dump/${uuid}`)).json()) as { workerId: string };
      expect(dump.workerId).toContain(String(bServer.proc.pid));
    });
  });
}
