import { EventEmitter } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { BackendStalledError, Server } from "zerog";
import { openPostgresBackend } from "../../src/backends/postgres/postgres-backend.ts";
import { openRedisBackend } from "../../src/backends/redis/redis-backend.ts";
import type { Queue } from "../../src/contracts/queue.ts";
import type { HealthReport } from "../../src/server/health.ts";
import { type PrivateBeanstalkd, privateBeanstalkd } from "../helpers/beanstalkd.ts";
import { type PrivateService, privatePostgres, privateRedis } from "../helpers/private-services.ts";
import { completions, readRunLog } from "../helpers/run-log.ts";
import { LoggedRunJob } from "../helpers/run-log-jobs.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";
import { until } from "../helpers/wait.ts";

/**
 * A backend that stops answering with its connections still open (SIGSTOP: a frozen host, a
 * stalled server), under a running server: while it is stopped, the API answers 503 within the
 * backend's time limit (`timeoutMs` in its URL) and /health within its own, naming the stalled
 * dependency; the worker pauses reserving; after SIGCONT everything resumes by itself, and every
 * job (created before, during or after the stall, or running across it) runs exactly once,
 * counted from a log the job writes itself.
 */

/** The backends' time limit in these tests (the default is 5000 ms). */
const TIMEOUT_MS = 1500;
const HEALTH_TIMEOUT_MS = 1000;
/** The job that runs across the stall: longer than its TTR (3 s), so its lease runs out meanwhile. */
const ACROSS_MS = 4500;
/** Allowance on top of a time limit for the HTTP round trip and a busy 2-core machine. */
const MARGIN_MS = 1000;

const cleanups: (() => Promise<unknown>)[] = [];
/** Resumed before anything else is cleaned up: closing a server or a cluster waits on a stopped one. */
const paused = new Set<{ resume(): Promise<void> | void }>();
afterAll(async () => {
  for (const service of paused) await service.resume();
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** A request that hangs is a failure too: give up well past any bound checked here. */
async function timed(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(20_000) });
  const body: unknown = await res.json();
  return { status: res.status, body, ms: performance.now() - t0 };
}

/** The server's log lines, and a wait for a line with a given message. */
function logCapture() {
  const lines = new EventEmitter<{ line: [string] }>();
  const seen: string[] = [];
  const logger = pino(
    { level: "info" },
    {
      write: (text: string) => {
        const msg = (JSON.parse(text) as { msg: string }).msg;
        seen.push(msg);
        lines.emit("line", msg);
      },
    },
  );
  /** Resolves when a line with `msg` is logged from now on. */
  const next = (msg: string): Promise<void> =>
    new Promise((resolve) => {
      const listener = (line: string): void => {
        if (line !== msg) return;
        lines.off("line", listener);
        resolve();
      };
      lines.on("line", listener);
    });
  return { logger, seen, next };
}

function withTimeout(url: string, ms: number): string {
  return `${url}${url.includes("?") ? "&" : "?"}timeoutMs=${ms}`;
}

/** What the wake-up test needs of a backend: its queue, and the PostgreSQL queue's announce. */
interface WakeBackend {
  queue: Pick<Queue, "put" | "reserve" | "stats"> & { announce?: (queue: string) => void };
  close(): Promise<void>;
}

interface Case {
  name: string;
  start: () => Promise<PrivateService>;
  /** A backend whose parked reserves look for entries only every minute: only a wake-up returns them sooner. */
  openSlowPolling: (url: string) => Promise<WakeBackend>;
  /** The connection that carries wake-ups. */
  channel: string;
}

const CASES: Case[] = [
  {
    name: "postgres",
    start: privatePostgres,
    openSlowPolling: (url) => openPostgresBackend({ url, pollMs: 60_000 }),
    channel: "the LISTEN/NOTIFY connection",
  },
  {
    name: "redis",
    start: privateRedis,
    openSlowPolling: (url) => openRedisBackend({ url, pollMs: 60_000 }),
    channel: "the pub/sub connection",
  },
];

for (const c of CASES) {
  describe(`${c.name} that stalls (SIGSTOP) under a running server`, () => {
    it("answers 503 within the time limit, names the stall in /health, resumes alone, runs every job once", {
      timeout: 180_000,
    }, async () => {
      const service = await c.start();
      cleanups.push(() => service.destroy());
      const dir = mkdtempSync(join(tmpdir(), "zerog-stall-"));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      const log = join(dir, "runs.jsonl");
      const url = withTimeout(service.url, TIMEOUT_MS);
      const { logger, next } = logCapture();
      const server = new Server({
        jobs: [LoggedRunJob],
        datastore: url,
        queue: url,
        concurrency: 2,
        ttrSeconds: 3,
        maxBackoffMs: 300,
        healthTimeoutMs: HEALTH_TIMEOUT_MS,
        logger,
      });
      const base = await server.listen({ port: 0 });
      cleanups.push(() => server.close());
      const post = (ms: number) =>
        timed(`${base}/job/logged_run`, { method: "POST", body: JSON.stringify({ log, ms }) });
      const created = async (ms: number): Promise<string> => {
        const r = await post(ms);
        expect(r.status).toBe(201);
        return (r.body as { uuid: string }).uuid;
      };
      const finished = (uuid: string) =>
        until(
          async () => {
            const r = await timed(`${base}/progress/${uuid}`);
            return r.status === 200 && (r.body as { result: number }).result !== -1 ? r.body : undefined;
          },
          `job ${uuid} to finish`,
          60_000,
        );

      const known: string[] = [];
      for (let i = 0; i < 5; i++) known.push(await created(20));
      for (const uuid of known) await finished(uuid);
      // One job runs across the stall: it ends while the server is stopped, after its lease (TTR 3 s) ran out.
      const across = await created(ACROSS_MS);
      known.push(across);
      await until(async () => (readRunLog(log).get(across)?.length ? true : undefined), "the long job to start");

      const pausing = next("backend unavailable; reserves paused until it answers");
      const outcomeWaits = next("cannot write the run's outcome yet; retrying");
      paused.add(service);
      await service.pause();

      const refused = await post(1);
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({
        error: "ZEROG_BACKEND_DOWN",
        message: `${c.name} is unavailable: it did not answer within ${TIMEOUT_MS} ms (stalled)`,
      });
      expect(refused.ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
      const unreadable = await timed(`${base}/progress/${known[0]}`);
      expect(unreadable).toMatchObject({ status: 503, body: { error: "ZEROG_BACKEND_DOWN" } });
      expect(unreadable.ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
      const health = await timed(`${base}/health`);
      expect(health.status).toBe(503);
      expect(health.ms).toBeLessThan(HEALTH_TIMEOUT_MS + MARGIN_MS);
      const report = health.body as HealthReport;
      expect(report).toMatchObject({ status: "down", backend: "down" });
      expect(report.datastore?.state).toBe("stalled");
      expect(report.queue?.state).toBe("stalled");
      expect(report.error).toMatch(/^datastore stalled: .*; queue stalled: /);
      // More creates while it stays stopped: each answers 503 in time (a 503 may still create the job).
      let refusedCreates = 1;
      for (let i = 0; i < 3; i++) {
        const r = await post(1);
        expect(r.status).toBe(503);
        expect(r.ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
        refusedCreates++;
      }
      // The worker stopped reserving on its own (it says so once, for all its slots).
      await pausing;
      // The long job's run ends during the stall; its outcome write waits for the server.
      await until(
        async () => (readRunLog(log).get(across)?.[0]?.end !== undefined ? true : undefined),
        "the long job's run to end",
      );
      await outcomeWaits;

      const resumed = next("backend answers again; reserves resumed");
      await service.resume();
      await resumed;
      await until(
        async () => ((await timed(`${base}/health`)).status === 200 ? true : undefined),
        "health 200",
        30_000,
      );
      for (let i = 0; i < 5; i++) known.push(await created(20));
      for (const uuid of known) expect(await finished(uuid)).toEqual({ completeness: 1, result: 200 });

      // Jobs whose create answered 503 but took effect when the server woke run too, once.
      const listed = await timed(`${base}/jobs?limit=100`);
      const all = (listed.body as { jobs: { uuid: string }[] }).jobs.map((j) => j.uuid);
      const extra = all.filter((uuid) => !known.includes(uuid));
      expect(extra.length).toBeLessThanOrEqual(refusedCreates);
      for (const uuid of extra) expect(await finished(uuid)).toEqual({ completeness: 1, result: 200 });

      const runs = readRunLog(log);
      expect(new Set(runs.keys())).toEqual(new Set(all));
      for (const [uuid, list] of runs) {
        expect({ uuid, runs: list.length }).toEqual({ uuid, runs: 1 });
        expect({ uuid, completed: completions(runs).get(uuid) }).toEqual({ uuid, completed: 1 });
      }
    });

    it(`fails a call in time while stopped, and ${c.channel} still wakes a parked reserve after SIGCONT`, {
      timeout: 60_000,
    }, async () => {
      const service = await c.start();
      cleanups.push(() => service.destroy());
      const url = withTimeout(service.url, TIMEOUT_MS);
      const waiter = await c.openSlowPolling(url);
      cleanups.push(() => waiter.close());
      const putter = await c.openSlowPolling(url);
      cleanups.push(() => putter.close());
      // A first wait sets up the wake-up channel (Redis subscribes on a reserve's first wait).
      expect(await waiter.queue.reserve(["wake"], { timeoutMs: 100 })).toBeNull();

      paused.add(service);
      await service.pause();
      // PostgreSQL: a NOTIFY sent while stopped times out on the LISTEN connection, which must stay usable.
      putter.queue.announce?.("elsewhere");
      const t0 = performance.now();
      const failed = await putter.queue.put("stalled", "{}").then(
        () => null,
        (err: unknown) => err,
      );
      expect(failed).toBeInstanceOf(BackendStalledError);
      expect(performance.now() - t0).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
      await service.resume();
      // A stalled Redis connection fails calls at once until the server answers one it gave up on.
      await until(
        async () => ((await putter.queue.stats("wake")) ? true : undefined),
        "the putter to be answered again",
      );

      const reserving = waiter.queue.reserve(["wake"], { timeoutMs: 20_000 });
      const put = performance.now();
      const id = await putter.queue.put("wake", JSON.stringify("woken"));
      const entry = await reserving;
      // The poll is a minute away and the reserve's timeout 20 s: only a wake-up returns it this soon.
      expect(performance.now() - put).toBeLessThan(MARGIN_MS);
      expect(entry?.id).toBe(id);
      await entry?.delete();
    });
  });
}

const beanstalkd: PrivateBeanstalkd | null = await privateBeanstalkd();
afterAll(() => beanstalkd?.destroy());

describe("a stalled Beanstalkd queue (SIGSTOP) with a SQLite datastore", () => {
  it.skipIf(beanstalkd === null)(
    "accepts jobs within its call deadline, names the queue in /health, and runs every job once after SIGCONT",
    { timeout: 120_000 },
    async () => {
      const b = beanstalkd as PrivateBeanstalkd;
      const dir = mkdtempSync(join(tmpdir(), "zerog-stall-"));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      const log = join(dir, "runs.jsonl");
      const server = new Server({
        jobs: [LoggedRunJob],
        datastore: `sqlite:${tempDbPath()}`,
        queue: b.url,
        concurrency: 2,
        ttrSeconds: 3,
        maxBackoffMs: 300,
        healthTimeoutMs: HEALTH_TIMEOUT_MS,
        logger: pino({ level: "silent" }),
      });
      const base = await server.listen({ port: 0 });
      cleanups.push(() => server.close());
      const post = () => timed(`${base}/job/logged_run`, { method: "POST", body: JSON.stringify({ log, ms: 20 }) });
      const uuids: string[] = [];
      const r0 = await post();
      expect(r0.status).toBe(201);
      uuids.push((r0.body as { uuid: string }).uuid);

      paused.add(b);
      b.pause();
      // The documents live in SQLite: the job is accepted, and enqueued once the queue answers.
      const during = await post();
      expect(during.status).toBe(201);
      // Beanstalkd's client gives each call 5 s (its fixed deadline), then drops the connection.
      expect(during.ms).toBeLessThan(5000 + MARGIN_MS);
      uuids.push((during.body as { uuid: string }).uuid);
      const health = await timed(`${base}/health`);
      expect(health.status).toBe(503);
      expect(health.ms).toBeLessThan(HEALTH_TIMEOUT_MS + MARGIN_MS);
      expect((health.body as HealthReport).queue?.state).toBe("stalled");
      expect((health.body as HealthReport).datastore?.state).toBe("up");
      b.resume();

      for (let i = 0; i < 3; i++) {
        const r = await post();
        expect(r.status).toBe(201);
        uuids.push((r.body as { uuid: string }).uuid);
      }
      for (const uuid of uuids) {
        const p = await until(
          async () => {
            const r = await timed(`${base}/progress/${uuid}`);
            return r.status === 200 && (r.body as { result: number }).result !== -1 ? r.body : undefined;
          },
          `job ${uuid} to finish`,
          60_000,
        );
        expect(p).toEqual({ completeness: 1, result: 200 });
      }
      expect(existsSync(log)).toBe(true);
      const runs = readRunLog(log);
      expect(new Set(runs.keys())).toEqual(new Set(uuids));
      for (const [uuid, list] of runs) expect({ uuid, runs: list.length }).toEqual({ uuid, runs: 1 });
      expect(readFileSync(log, "utf8").split("\n").filter(Boolean)).toHaveLength(uuids.length * 2);
    },
  );
});
