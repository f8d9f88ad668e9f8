// npm run bench: ZeroG's figures on the embedded SQLite backend, printed as JSON lines.
// Runs the built package (npm run build first), as users do.
//   process   - 20,000 pre-filled no-op jobs, one in-process worker at concurrency 1, 10 and 50 → jobs/s
//               (median of 3 runs, each on a fresh file)
//   create    - jobs created through the library (JobClient) → jobs/s
//   http      - POST /job/noop vs a bare Fastify JSON route, same load, same run → req/s and the ratio
//   latency   - POST → start and POST → result at a steady 200 jobs/s → p50/p99 ms
// No pass/fail here: the figures are read as ratios within one run (the machines are noisy).
import { fork } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import autocannon from "autocannon";
import { pino } from "pino";
import { JobClient, JobRegistry, openBackend, Server, Worker } from "zerog";
import { NoopJob } from "./noop-job.ts";
import { quantile, report, round } from "./stats.ts";

const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
const CONCURRENCIES = [1, 10, 50];
/** Each processing figure is the median of this many runs: single runs vary by ±20% on these machines. */
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const HTTP_SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 3);
const HTTP_ROUNDS = Number(process.env.BENCH_HTTP_ROUNDS ?? 3);
const LATENCY_RATE = 200;
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 5);
const silent = pino({ level: "silent" });
const dir = mkdtempSync(join(tmpdir(), "zerog-bench-"));
let files = 0;
const dbUrl = () => `sqlite:${join(dir, `bench-${++files}.db`)}`;

const only = process.env.BENCH_ONLY;
try {
  if (!only || only === "process") await processAndCreate();
  if (!only || only === "http") await httpCreate();
  if (!only || only === "latency") await latency();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

async function processAndCreate(): Promise<void> {
  for (const concurrency of CONCURRENCIES) {
    const runs: { createPerSec: number; processPerSec: number }[] = [];
    for (let rep = 0; rep < REPEATS; rep++) runs.push(await prefillAndProcess(concurrency));
    const median = (xs: number[]) => quantile(xs, 0.5);
    report({
      bench: "create",
      backend: "sqlite",
      via: "library",
      inFlight: 500,
      jobs: JOBS,
      jobsPerSec: round(median(runs.map((r) => r.createPerSec)), 0),
      runs: runs.map((r) => round(r.createPerSec, 0)),
    });
    report({
      bench: "process",
      backend: "sqlite",
      runner: "inline",
      concurrency,
      jobs: JOBS,
      jobsPerSec: round(median(runs.map((r) => r.processPerSec)), 0),
      runs: runs.map((r) => round(r.processPerSec, 0)),
    });
  }
}

/** A fresh SQLite file: create JOBS no-op jobs (500 in flight), then time one worker until all finish. */
async function prefillAndProcess(concurrency: number): Promise<{ createPerSec: number; processPerSec: number }> {
  const url = dbUrl();
  const backend = await openBackend({ datastore: url, queue: url });
  const registry = new JobRegistry([NoopJob]);
  const client = new JobClient(backend, registry, { queueName: "bench_jobs", ttrSeconds: 60 });
  const t0 = performance.now();
  for (let i = 0; i < JOBS; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, JOBS - i) }, () => client.create("noop", {})));
  }
  const createSeconds = (performance.now() - t0) / 1000;

  const worker = new Worker({ jobs: registry, backend, concurrency, name: "bench", logger: silent });
  let finished = 0;
  const allDone = new Promise<void>((resolve) =>
    worker.events.on("job:finished", () => {
      if (++finished === JOBS) resolve();
    }),
  );
  const t1 = performance.now();
  await worker.start();
  await allDone;
  const seconds = (performance.now() - t1) / 1000;
  await worker.stop();
  await backend.close();
  return { createPerSec: JOBS / createSeconds, processPerSec: JOBS / seconds };
}

/**
 * POST /job/noop against ZeroG (SQLite, API only) and against a bare Fastify JSON route, each
 * in its own process, same load generator. Rounds alternate between the two so that a slow
 * patch of the machine hits both; the ratio is the median of the rounds' ratios.
 */
async function httpCreate(): Promise<void> {
  const targets = { bare: await startTarget("bare"), zerog: await startTarget("zerog") };
  const load = (url: string, seconds: number) =>
    autocannon({
      url: `${url}/job/noop`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
      connections: 50,
      duration: seconds,
    });
  // Warm-up (JIT, first pages), not counted.
  await load(targets.bare.url, 1);
  await load(targets.zerog.url, 1);
  const rounds: { bare: autocannon.Result; zerog: autocannon.Result }[] = [];
  for (let r = 0; r < HTTP_ROUNDS; r++) {
    rounds.push({
      bare: await load(targets.bare.url, HTTP_SECONDS),
      zerog: await load(targets.zerog.url, HTTP_SECONDS),
    });
  }
  for (const mode of ["bare", "zerog"] as const) {
    const rates = rounds.map((r) => r[mode].requests.average);
    report({
      bench: "http",
      target: mode === "bare" ? "bare fastify route" : "zerog POST /job (sqlite)",
      reqPerSec: round(quantile(rates, 0.5), 0),
      runs: rates.map((x) => round(x, 0)),
      p99Ms: quantile(
        rounds.map((r) => r[mode].latency.p99),
        0.5,
      ),
      non2xx: rounds.reduce((n, r) => n + r[mode].non2xx + r[mode].errors, 0),
    });
  }
  const ratios = rounds.map((r) => r.zerog.requests.average / r.bare.requests.average);
  report({ bench: "http-ratio", zerogOverBare: round(quantile(ratios, 0.5), 2), runs: ratios.map((x) => round(x, 2)) });
  for (const t of Object.values(targets)) {
    t.child.kill();
    await once(t.child, "exit");
  }
}

async function startTarget(mode: "bare" | "zerog"): Promise<{ url: string; child: ReturnType<typeof fork> }> {
  const child = fork(new URL("./http-target.ts", import.meta.url), [mode, join(dir, `http-${mode}.db`)], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const [{ url }] = (await once(child, "message")) as [{ url: string }];
  return { url, child };
}

async function latency(): Promise<void> {
  const url = dbUrl();
  const server = new Server({ jobs: [NoopJob], datastore: url, queue: url, concurrency: 10, logger: silent });
  const base = await server.listen({ port: 0, host: "127.0.0.1" });
  const started = new Map<string, number>();
  const finished = new Map<string, number>();
  server.worker?.events.on("job:started", ({ uuid }) => started.set(uuid, performance.now()));
  server.worker?.events.on("job:finished", ({ uuid }) => finished.set(uuid, performance.now()));
  // One second of warm-up at the same rate (JIT, connections, first pages), left out of the figures.
  await steadyPosts(base, LATENCY_RATE, new Map());
  while (finished.size < LATENCY_RATE) await sleep(10);
  started.clear();
  finished.clear();
  const total = LATENCY_RATE * LATENCY_SECONDS;
  const posted = await steadyPosts(base, total, new Map());
  while (finished.size < total) await sleep(10);
  const toStart: number[] = [];
  const toResult: number[] = [];
  for (const [uuid, sent] of posted) {
    toStart.push((started.get(uuid) ?? Number.NaN) - sent);
    toResult.push((finished.get(uuid) ?? Number.NaN) - sent);
  }
  report({
    bench: "latency",
    backend: "sqlite",
    ratePerSec: LATENCY_RATE,
    jobs: total,
    warmupJobs: LATENCY_RATE,
    postToStartMs: {
      p50: round(quantile(toStart, 0.5), 2),
      p90: round(quantile(toStart, 0.9), 2),
      p99: round(quantile(toStart, 0.99), 2),
      max: round(quantile(toStart, 1), 2),
    },
    postToResultMs: { p50: round(quantile(toResult, 0.5), 2), p99: round(quantile(toResult, 0.99), 2) },
  });
  await server.close();
}

/** POSTs `count` no-op jobs at a steady LATENCY_RATE; resolves with each uuid's send time. */
async function steadyPosts(base: string, count: number, posted: Map<string, number>): Promise<Map<string, number>> {
  const t0 = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    // A steady rate: the i-th POST goes at t0 + i/rate, whatever the previous ones are doing.
    const due = t0 + (i * 1000) / LATENCY_RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const sent = performance.now();
    inflight.push(
      fetch(`${base}/job/noop`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } })
        .then((r) => r.json() as Promise<{ uuid: string }>)
        .then(({ uuid }) => {
          posted.set(uuid, sent);
        }),
    );
  }
  await Promise.all(inflight);
  return posted;
}
