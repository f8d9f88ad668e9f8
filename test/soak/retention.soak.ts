import { setImmediate } from "node:timers/promises";
import Database from "better-sqlite3";
import pg from "pg";
import { pino } from "pino";
import { createClient } from "redis";
import { describe, expect, it } from "vitest";
import { type Backend, BaseJob, openBackend, Server } from "zerog";
import { namespacedUrl, serviceUrl } from "../helpers/services.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";

/**
 * `npm run soak`: 200,000 no-op jobs through one server whose jobs are kept 1 s after they
 * finish (a sweep every second), on memory, SQLite, PostgreSQL and Redis. The store's size is
 * sampled every second: without retention it ends at 200,000 documents; with it, it must stay
 * near what 2 s of finishing jobs and the backlog hold, and not grow over the run.
 */
const JOBS = Number(process.env.ZEROG_SOAK_RETENTION_JOBS ?? 200_000);
/** Jobs created but not yet finished at most: the producer waits below it (bounded backlog). */
const BACKLOG = 2_000;
const SAMPLE_MS = 1_000;

class NoopJob extends BaseJob {
  static override jobType = "soak_noop";
  static override retention = { finishedAfterSeconds: 1 };
  run() {
    return 200;
  }
}

/** One backend under test: its URL, and how to count what it stores (documents, and all rows or keys). */
interface Store {
  url: string;
  count: (backend: Backend) => Promise<{ documents: number; stored: number }>;
  drop: () => Promise<void>;
}

async function storeOf(kind: "memory" | "sqlite" | "postgres" | "redis"): Promise<Store | null> {
  if (kind === "memory") {
    const count = async (b: Backend) => {
      const documents = (await b.datastore.list({ limit: Number.MAX_SAFE_INTEGER })).length;
      return { documents, stored: documents };
    };
    return { url: "memory:", count, drop: async () => undefined };
  }
  if (kind === "sqlite") {
    const path = tempDbPath();
    let db: Database.Database | undefined;
    const count = async () => {
      db ??= new Database(path, { readonly: true });
      const read = db;
      const n = (table: string) => (read.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
      const documents = n("zerog_jobs");
      return { documents, stored: documents + n("zerog_queue") + n("zerog_idempotency") };
    };
    return { url: `sqlite:${path}`, count, drop: async () => void db?.close() };
  }
  const base = await serviceUrl(kind);
  if (base === null) return null;
  const ns = namespacedUrl(kind, base);
  if (kind === "postgres") {
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    const count = async () => {
      const n = async (table: string) =>
        Number((await client.query(`SELECT count(*) AS n FROM "${ns.namespace}".${table}`)).rows[0]?.n ?? 0);
      const documents = await n("zerog_jobs");
      return { documents, stored: documents + (await n("zerog_queue")) + (await n("zerog_idempotency")) };
    };
    return { url: ns.url, count, drop: () => client.end().then(ns.drop) };
  }
  const client = createClient({ url: base });
  await client.connect();
  const count = async () => {
    let stored = 0;
    let documents = 0;
    for await (const keys of client.scanIterator({ MATCH: `{${ns.namespace}}:*`, COUNT: 1000 })) {
      stored += keys.length;
      documents += keys.filter((k) => k.includes("}:job:")).length;
    }
    return { documents, stored };
  };
  return { url: ns.url, count, drop: () => Promise.resolve(client.destroy()).then(ns.drop) };
}

describe("retention keeps the store bounded", () => {
  for (const kind of ["memory", "sqlite", "postgres", "redis"] as const) {
    it(`${kind}: ${JOBS.toLocaleString("en")} jobs kept 1 s`, { timeout: 900_000 }, async (ctx) => {
      const store = await storeOf(kind);
      if (store === null) return ctx.skip(`${kind} is not reachable`);
      const backend = await openBackend({ datastore: store.url, queue: store.url });
      const server = new Server({
        jobs: [NoopJob],
        backend,
        concurrency: 20,
        isolation: "inline",
        metrics: false,
        logger: pino({ level: "silent" }),
        retention: { sweepIntervalMs: 1_000 },
      });
      try {
        await server.start();
        await soak(store, backend, server);
      } finally {
        await server.close();
        await backend.close();
        await store.drop();
      }
    });
  }
});

async function soak(store: Store, backend: Backend, server: Server): Promise<void> {
  const kind = backend.datastore.kind;
  const worker = server.worker ?? expect.fail("no worker");
  let finished = 0;
  worker.events.on("job:finished", () => {
    finished += 1;
  });

  const samples: { atMs: number; finished: number; documents: number; stored: number }[] = [];
  const t0 = Date.now();
  let sampling: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    sampling = sampling.then(async () => {
      const c = await store.count(backend);
      samples.push({ atMs: Date.now() - t0, finished, ...c });
    });
  }, SAMPLE_MS);

  let created = 0;
  while (created < JOBS) {
    // A turn of the event loop per batch: on memory, where a worker's loop is all promise
    // callbacks, timers (the sampler, the sweep) run only between bursts.
    await setImmediate();
    if (created - finished >= BACKLOG) {
      await new Promise((resolve) => worker.events.once("job:finished", resolve));
      continue;
    }
    const n = Math.min(200, JOBS - created, BACKLOG - (created - finished));
    await Promise.all(Array.from({ length: n }, () => server.client.create("soak_noop", {})));
    created += n;
  }
  while (finished < JOBS) await new Promise((resolve) => worker.events.once("job:finished", resolve));
  clearInterval(timer);
  await sampling;
  const seconds = (Date.now() - t0) / 1000;
  // Once the last job's second has passed, a pass leaves nothing.
  const last = await (server.sweeper ?? expect.fail("no sweeper")).pass(Date.now() + 2_000);
  const after = await store.count(backend);

  const max = (xs: number[]) => Math.max(...xs);
  const docs = samples.map((s) => s.documents);
  const quarter = Math.max(1, Math.floor(samples.length / 4));
  const early = docs.slice(quarter, 2 * quarter);
  const late = docs.slice(-quarter);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  console.log(
    JSON.stringify({
      soak: "retention",
      backend: kind,
      jobs: JOBS,
      seconds: Math.round(seconds),
      jobsPerSec: Math.round(JOBS / seconds),
      maxDocuments: max(docs),
      maxStored: max(samples.map((s) => s.stored)),
      meanDocumentsSecondQuarter: Math.round(mean(early)),
      meanDocumentsLastQuarter: Math.round(mean(late)),
      finalPassDeleted: last.total,
      afterDocuments: after.documents,
      samples: samples.map((s) => s.documents),
    }),
  );
  expect(samples.length).toBeGreaterThan(4);
  // Bounded by what the policy keeps: jobs finished in the last 1 s (retention), up to 1 s more
  // until the next sweep, a sweep's own time and a sample's lag (4 s at the fastest rate seen
  // between two samples), plus the backlog; and in any case nowhere near every job.
  const peakPerSec = max(
    samples.slice(1).map((x, i) => {
      const prev = samples[i] ?? x;
      return ((x.finished - prev.finished) * 1000) / Math.max(1, x.atMs - prev.atMs);
    }),
  );
  const bound = BACKLOG + Math.ceil(peakPerSec * 4);
  console.log(JSON.stringify({ soak: "retention-bound", backend: kind, peakPerSec: Math.round(peakPerSec), bound }));
  expect(max(docs)).toBeLessThanOrEqual(bound);
  expect(max(docs)).toBeLessThanOrEqual(JOBS / 4);
  // Not growing: the last quarter holds no more than the second did, give or take half.
  expect(mean(late)).toBeLessThanOrEqual(mean(early) * 1.5 + BACKLOG);
  expect(after.documents).toBe(0);
}
