import { afterEach, describe, expect, it } from "vitest";
import { type Backend, BaseJob, InvalidConfigError, JobRegistry, ManualClock, openBackend, Server, z } from "zerog";
import { CronSchedule } from "../../src/job/cron-schedule.ts";
import { scheduledJobUuid } from "../../src/schedule/tick-uuid.ts";
import { type RunningCli, runCli, startServe } from "../helpers/cli.ts";
import { namespacedUrl, serviceUrl } from "../helpers/services.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";
import { EverySecondJob } from "../helpers/stream-jobs.ts";
import { until } from "../helpers/wait.ts";

const API_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("cron schedules", () => {
  it("derive one uuid per (job type, tick): v8, the API's pattern, time-ordered", () => {
    const t = Date.UTC(2026, 0, 1, 0, 5);
    const u = scheduledJobUuid("report", t);
    expect(u).toMatch(API_UUID);
    expect(u[14]).toBe("8");
    expect("89ab").toContain(u[19]);
    expect(scheduledJobUuid("report", t)).toBe(u);
    expect(scheduledJobUuid("report", t + 60_000)).not.toBe(u);
    expect(scheduledJobUuid("other", t)).not.toBe(u);
    expect(scheduledJobUuid("report", t) < scheduledJobUuid("report", t + 1000)).toBe(true);
  });

  it("read 5 and 6 fields (seconds), in UTC unless told", () => {
    const t = Date.UTC(2026, 0, 1, 0, 5, 0, 0);
    const every5 = CronSchedule.parse("*/5 * * * *");
    expect(every5.latestAtOrBefore(t)).toBe(t);
    expect(every5.latestAtOrBefore(t - 1)).toBe(t - 5 * 60_000);
    expect(every5.nextAfter(t)).toBe(t + 5 * 60_000);
    expect(CronSchedule.parse("* * * * * *").nextAfter(t + 10)).toBe(t + 1000);
    const paris = CronSchedule.parse("0 9 * * *", "Europe/Paris");
    expect(new Date(paris.nextAfter(t)).toISOString()).toBe("2026-01-01T08:00:00.000Z");
  });

  it("refuse a bad expression, time zone or scheduleParams at registration", () => {
    const make = (statics: Record<string, unknown>) => {
      class Scheduled extends BaseJob<typeof Scheduled.schema> {
        static override jobType = "scheduled";
        static override schema = z.object({ n: z.number().default(1) });
        run() {
          return 200;
        }
      }
      return Object.assign(Scheduled, statics);
    };
    for (const [statics, message] of [
      [{ schedule: "61 * * * *" }, /bad cron expression '61 \* \* \* \*'.*expected range 0-59/],
      [{ schedule: "every minute" }, /bad cron expression/],
      [{ schedule: "" }, /must be a cron expression/],
      [{ schedule: "* * * * * * *" }, /too many fields/],
      [{ schedule: "*/5 * * * *", scheduleTimezone: "Mars/Olympus" }, /unknown time zone 'Mars\/Olympus'/],
      [{ schedule: "*/5 * * * *", scheduleParams: { n: "x" } }, /scheduleParams: invalid params: n:/],
    ] as const) {
      expect(() => new JobRegistry([make(statics)]), JSON.stringify(statics)).toThrow(InvalidConfigError);
      expect(() => new JobRegistry([make(statics)])).toThrow(message);
    }
    expect(new JobRegistry([make({ schedule: "*/5 * * * *" })]).types()).toEqual(["scheduled"]);
  });

  it("stop `zerog serve` at start-up with exit 2 and a clear message for a bad expression", async () => {
    const r = await runCli([
      "serve",
      "--jobs",
      "test/helpers/bad-cron-jobs.ts",
      "--datastore",
      "memory:",
      "--queue",
      "memory:",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("zerog: BadCronJob (bad_cron): bad cron expression '61 * * * *'");
  });
});

/** Two servers' backends on one store: the same object for memory, two connections otherwise. */
const stores = [
  { name: "memory", open: async () => sharedMemory() },
  { name: "sqlite", open: async () => twice(`sqlite:${tempDbPath()}`) },
  { name: "postgres", open: await namespaced("postgres") },
  { name: "redis", open: await namespaced("redis") },
];

async function sharedMemory(): Promise<{ backends: Backend[]; drop: () => Promise<void> }> {
  const b = await openBackend({ datastore: "memory:", queue: "memory:" });
  return { backends: [b, b], drop: () => b.close() };
}

async function twice(url: string): Promise<{ backends: Backend[]; drop: () => Promise<void> }> {
  const backends = [
    await openBackend({ datastore: url, queue: url }),
    await openBackend({ datastore: url, queue: url }),
  ];
  return { backends, drop: async () => void (await Promise.all(backends.map((b) => b.close()))) };
}

async function namespaced(kind: "postgres" | "redis") {
  const base = await serviceUrl(kind);
  if (base === null) return null;
  return async () => {
    const ns = namespacedUrl(kind, base);
    const t = await twice(ns.url);
    const drop = async (): Promise<void> => {
      await t.drop();
      await ns.drop();
    };
    return { backends: t.backends, drop };
  };
}

for (const store of stores) {
  describe.skipIf(store.open === null)(`scheduled jobs on one ${store.name} backend`, () => {
    const closers: (() => Promise<unknown>)[] = [];
    afterEach(async () => {
      for (const close of closers.splice(0).reverse()) await close();
    });

    it("two servers create exactly one job per tick (a fake clock)", { timeout: 30_000 }, async () => {
      const opened = await (store.open as () => ReturnType<typeof twice>)();
      closers.push(opened.drop);
      const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 0, 0, 400));
      const servers = opened.backends.map(
        (backend) => new Server({ jobs: [EverySecondJob], backend, clock, concurrency: 1 }),
      );
      for (const s of servers) {
        closers.push(() => s.close());
        await s.start();
      }
      const [a, b] = servers.map((s) => {
        if (!s.scheduler) throw new Error("no scheduler");
        return s.scheduler;
      });
      if (!a || !b) throw new Error("two schedulers expected");
      // Started at .400: the tick at :00 passed before start-up and is never backfilled.
      expect(await a.runDue()).toEqual([]);
      const TICKS = 6;
      for (let i = 1; i <= TICKS; i++) {
        clock.advance(1000);
        const outcomes = (await Promise.all([a.runDue(), b.runDue()])).flat();
        expect(outcomes.filter((o) => o.result === "created").length).toBeLessThanOrEqual(1);
        for (const o of outcomes) expect(o.tickMs).toBe(Date.UTC(2026, 0, 1, 0, 0, i));
      }
      // Several ticks at once (a blocked loop, a clock jump): only the latest is created.
      clock.advance(5000);
      await Promise.all([a.runDue(), b.runDue()]);
      const store0 = opened.backends[0] as Backend;
      const docs = await store0.datastore.list({ jobType: "every_second", limit: 100 });
      expect(docs).toHaveLength(TICKS + 1);
      expect(new Set(docs.map((d) => d.uuid)).size).toBe(TICKS + 1);
      const ticks = docs.map((d) => /tick (\S+) of/.exec(d.events[0]?.msg ?? "")?.[1]).sort();
      expect(ticks).toEqual([
        ...Array.from({ length: TICKS }, (_, i) => new Date(Date.UTC(2026, 0, 1, 0, 0, i + 1)).toISOString()),
        new Date(Date.UTC(2026, 0, 1, 0, 0, TICKS + 5)).toISOString(),
      ]);
      for (const d of docs) expect(d.params).toEqual({ tag: "cron" });
      // And the workers run them.
      await until(async () => {
        const done = await store0.datastore.list({ jobType: "every_second", state: "finished", limit: 100 });
        return done.length === TICKS + 1 ? true : undefined;
      }, "the scheduled jobs to run");
    });
  });
}

describe("scheduled jobs in real time, two server processes on one SQLite file", () => {
  const servers: RunningCli[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.proc.kill("SIGTERM");
      await s.exited;
    }
  });

  it("a per-second schedule makes one job per second, not one per server", { timeout: 60_000 }, async () => {
    const url = `sqlite:${tempDbPath()}`;
    const args = ["--jobs", "test/helpers/stream-jobs.ts", "--datastore", url, "--queue", url, "--isolation", "inline"];
    servers.push(await startServe(args), await startServe(args));
    const backend = await openBackend({ datastore: url, queue: url });
    try {
      const list = () => backend.datastore.list({ jobType: "every_second", limit: 1000 });
      await until(async () => ((await list()).length >= 4 ? true : undefined), "four ticks' jobs", 20_000);
      // Stop both servers before counting, so no job is created between the listing and the logs.
      for (const s of servers) s.proc.kill("SIGTERM");
      await Promise.all(servers.map((s) => s.exited));
      const docs = await list();
      const ticks = docs
        .map((d) => Date.parse(/tick (\S+) of/.exec(d.events[0]?.msg ?? "")?.[1] ?? ""))
        .sort((x, y) => x - y);
      // One job per tick, whatever the machine's speed: no tick twice (two servers racing without
      // the claim would make two), none skipped between the first and the last.
      expect(new Set(ticks).size).toBe(docs.length);
      expect(ticks.every((t, i) => i === 0 || t - (ticks[i - 1] ?? 0) === 1000)).toBe(true);
      // Every job was created by one of the two servers, which logs each tick it wins.
      const won = servers.map((s) => s.lines.filter((l) => l.includes("scheduled job created")).length);
      expect(won.reduce((x, y) => x + y, 0)).toBe(docs.length);
    } finally {
      await backend.close();
    }
  });
});
