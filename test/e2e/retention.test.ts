import { afterEach, describe, expect, it } from "vitest";
import { type Backend, BaseJob, ManualClock, openBackend, Server, type SweepReport, z } from "zerog";
import { type RunningCli, startServe } from "../helpers/cli.ts";
import { JobWatcher } from "../helpers/job-watcher.ts";
import { namespacedUrl, serviceUrl } from "../helpers/services.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";
import { TEST_JOBS_MODULE } from "../helpers/test-jobs.ts";
import { until } from "../helpers/wait.ts";

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0, 1);
const HOUR = 3_600_000;
/** Far enough that no interval's timer fires during a test: every pass here is asked for. */
const SWEEP = { sweepIntervalMs: HOUR };

/** Finishes with `code`; its finished and failed jobs are kept for a minute. */
class QuickJob extends BaseJob<typeof QuickJob.schema> {
  static override jobType = "ret_quick";
  static override schema = z.object({ code: z.number().int().default(200) });
  static override retention = { finishedAfterSeconds: 60, failedAfterSeconds: 60 };
  run() {
    return this.params.code;
  }
}

/** Runs until the test opens the gate; kept for a minute once finished. */
let openGate: () => void = () => undefined;
let gate = Promise.resolve();
class HoldJob extends BaseJob {
  static override jobType = "ret_hold";
  static override retention = { finishedAfterSeconds: 60 };
  async run() {
    await gate;
    return 200;
  }
}

/** No policy of its own: the server's defaults (7 days). */
class KeeperJob extends BaseJob {
  static override jobType = "ret_keeper";
  run() {
    return 200;
  }
}

const JOBS = [QuickJob, HoldJob, KeeperJob];

type Opened = { backends: [Backend, Backend]; drop: () => Promise<void> };

/** Two backends on one store, as two servers would open it: the same object for memory. */
const stores: { name: string; open: (() => Promise<Opened>) | null }[] = [
  {
    name: "memory",
    open: async () => {
      const b = await openBackend({ datastore: "memory:", queue: "memory:" });
      return { backends: [b, b], drop: () => b.close() };
    },
  },
  { name: "sqlite", open: () => twice(`sqlite:${tempDbPath()}`) },
  { name: "postgres", open: await namespaced("postgres") },
  { name: "redis", open: await namespaced("redis") },
];

async function twice(url: string): Promise<Opened> {
  const one = await openBackend({ datastore: url, queue: url });
  const two = await openBackend({ datastore: url, queue: url });
  return { backends: [one, two], drop: async () => void (await Promise.all([one.close(), two.close()])) };
}

async function namespaced(kind: "postgres" | "redis"): Promise<(() => Promise<Opened>) | null> {
  const base = await serviceUrl(kind);
  if (base === null) return null;
  return async () => {
    const ns = namespacedUrl(kind, base);
    const t = await twice(ns.url);
    return { backends: t.backends, drop: () => t.drop().then(() => ns.drop()) };
  };
}

const byTarget = (r: SweepReport) => Object.fromEntries(r.deleted.map((d) => [`${d.jobType}/${d.status}`, d.count]));

for (const store of stores) {
  describe.skipIf(store.open === null)(`retention on ${store.name}`, () => {
    const closers: (() => Promise<unknown>)[] = [];
    afterEach(async () => {
      openGate();
      for (const close of closers.splice(0).reverse()) await close();
    });
    const opened = async (): Promise<Opened> => {
      const o = await (store.open as () => Promise<Opened>)();
      closers.push(o.drop);
      return o;
    };
    const serverOn = async (backend: Backend): Promise<Server> => {
      const clock = new ManualClock(T0);
      const s = new Server({ jobs: JOBS, backend, clock, concurrency: 2, isolation: "inline", retention: SWEEP });
      closers.push(() => s.close());
      await s.start();
      return s;
    };

    it("removes finished jobs past their retention, never a waiting or running one", { timeout: 30_000 }, async () => {
      gate = new Promise((resolve) => {
        openGate = resolve;
      });
      const { backends } = await opened();
      const server = await serverOn(backends[0]);
      const { client, worker, sweeper } = server;
      if (!worker || !sweeper) throw new Error("expected a worker and a sweeper");
      const watcher = new JobWatcher(worker.events);

      const ok = await Promise.all(Array.from({ length: 5 }, () => client.create("ret_quick", {})));
      const failed = await Promise.all([500, 422].map((code) => client.create("ret_quick", { code })));
      const keeper = await client.create("ret_keeper", {});
      for (const uuid of [...ok, ...failed, keeper]) await watcher.finished(uuid);
      const killed = await client.create("ret_quick", {}, { delaySeconds: 3600 });
      expect(await client.kill(killed)).toBe("killed");
      // Both slots held, then one job queued behind them and one delayed by an hour.
      const holds = await Promise.all([client.create("ret_hold", {}), client.create("ret_hold", {})]);
      await expect.poll(() => holds.every((h) => watcher.started.includes(h)), { timeout: 10_000 }).toBe(true);
      const queued = await client.create("ret_quick", {});
      const delayed = await client.create("ret_quick", {}, { delaySeconds: 3600 });

      // An hour on: past the minute of ret_quick and ret_hold, not past ret_keeper's 7 days.
      const report = await sweeper.pass(T0 + HOUR);
      expect(byTarget(report)).toEqual({ "ret_quick/finished": 5, "ret_quick/failed": 2, "ret_quick/killed": 1 });
      for (const uuid of [...ok, ...failed, killed]) {
        expect(await server.backend.datastore.read(uuid)).toBeNull();
        expect((await server.app.inject({ method: "GET", url: `/progress/${uuid}` })).statusCode).toBe(404);
      }
      const states = async (uuids: string[]) =>
        Promise.all(uuids.map(async (u) => (await server.backend.datastore.read(u))?.value.state));
      expect(await states([...holds, queued, delayed, keeper])).toEqual([
        "running",
        "running",
        "queued",
        "delayed",
        "finished",
      ]);
      const listed = await server.backend.datastore.list({ jobType: "ret_quick", limit: 100 });
      expect(listed.map((d) => d.uuid).sort()).toEqual([queued, delayed].sort());
      const metrics = (await server.app.inject({ method: "GET", url: "/metrics" })).body;
      expect(metrics).toContain('zerog_retention_deleted_total{job_type="ret_quick",status="finished"} 5');
      expect(metrics).toContain('zerog_retention_deleted_total{job_type="ret_quick",status="killed"} 1');

      // Once they finish, they go too; the delayed job still waits.
      openGate();
      for (const uuid of [...holds, queued]) await watcher.finished(uuid);
      expect(byTarget(await sweeper.pass(T0 + HOUR))).toEqual({ "ret_hold/finished": 2, "ret_quick/finished": 1 });
      expect(await states([delayed, keeper])).toEqual(["delayed", "finished"]);
      // Seven days on, the server's default takes the keeper.
      expect(byTarget(await sweeper.pass(T0 + 7 * 24 * HOUR + 1))).toEqual({ "ret_keeper/finished": 1 });
    });

    it("sweeps once per interval across two servers on one backend", { timeout: 30_000 }, async () => {
      const { backends } = await opened();
      const servers = [await serverOn(backends[0]), await serverOn(backends[1])];
      const [a, b] = servers.map((s) => s.sweeper);
      if (!a || !b) throw new Error("expected two sweepers");
      const watcher = new JobWatcher(servers[0]?.worker?.events ?? expect.fail("no worker"));
      const client = servers[0]?.client ?? expect.fail("no client");
      const finish = async (n: number) => {
        const uuids = await Promise.all(Array.from({ length: n }, () => client.create("ret_quick", {})));
        for (const u of uuids) {
          // Either server's worker may run it: wait on the document, not on one worker's events.
          await until(async () => ((await client.info(u)).state === "finished" ? true : undefined), `job ${u}`);
        }
      };
      await finish(4);
      const at = T0 + HOUR;
      const first = await Promise.all([a.takeTurn(at), b.takeTurn(at + 1)]);
      expect(first.filter((t) => t.ran)).toHaveLength(1);
      expect(first.map((t) => (t.ran ? t.total : 0)).reduce((x, y) => x + y)).toBe(4);
      // The same interval again: neither server sweeps, so what finished since stays until the next.
      await finish(2);
      expect(await Promise.all([a.takeTurn(at + 2), b.takeTurn(at + 3)])).toEqual([{ ran: false }, { ran: false }]);
      const next = await Promise.all([b.takeTurn(at + HOUR), a.takeTurn(at + HOUR + 1)]);
      expect(next.filter((t) => t.ran)).toEqual([expect.objectContaining({ ran: true, total: 2 })]);
      expect(watcher.unloadable).toEqual([]);
    });
  });
}

describe("retention through zerog serve's flags", () => {
  let cli: RunningCli | undefined;
  afterEach(async () => {
    cli?.proc.kill("SIGTERM");
    await cli?.exited;
  });

  it("--retain-finished 1s --sweep-interval 1s: a finished job is deleted within seconds, and the pass logged", async () => {
    const url = `sqlite:${tempDbPath()}`;
    cli = await startServe([
      ...["--jobs", TEST_JOBS_MODULE, "--isolation", "inline", "--datastore", url, "--queue", url],
      ...["--retain-finished", "1s", "--retain-failed", "off", "--sweep-interval", "1s"],
    ]);
    const base = cli.url;
    const post = (ret: number) =>
      fetch(`${base}/job/return_value`, { method: "POST", body: JSON.stringify({ ret }) }).then(
        async (r) => ((await r.json()) as { uuid: string }).uuid,
      );
    const [ok, failed] = [await post(200), await post(500)];
    const status = (uuid: string) => fetch(`${base}/progress/${uuid}`).then((r) => r.status);
    const result = (uuid: string) =>
      fetch(`${base}/progress/${uuid}`).then(async (r) => ((await r.json()) as { result: number }).result);
    await until(async () => ((await result(failed)) === 500 ? true : undefined), "the failed job to finish");
    await until(async () => ((await status(ok)) === 404 ? true : undefined), "the finished job to be deleted", 15_000);
    expect(cli.lines.some((l) => l.includes("retention: deleted finished jobs"))).toBe(true);
    // --retain-failed off: the failed job, finished before the pass that took the other, stays.
    expect(await result(failed)).toBe(500);
  });
});
