// npm run bench: ZeroG's figures on the embedded SQLite backend, printed as JSON lines.
//   process   - 20,000 pre-filled no-op jobs, one in-process worker at concurrency 1, 10 and 50 → jobs/s
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
const HTTP_SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 5);
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
    const url = dbUrl();
    const backend = openBackend({ datastore: url, queue: url });
    const registry = new JobRegistry([NoopJob]);
    const client = new JobClient(backend, registry, { queueName: "bench_jobs", ttrSeconds: 60 });
    // Create with 500 in flight: what a busy API sees, and what group commit is for.
    const t0 = performance.now();
    for (let i = 0; i < JOBS; i += 500) {
      await Promise.all(Array.from({ length: Math.min(500, JOBS - i) }, () => client.create("noop", {})));
    }
    const createSeconds = (performance.now() - t0) / 1000;
    report({
      bench: "create",
      backend: "sqlite",
      via: "library",
      jobs: JOBS,
      jobsPerSec: round(JOBS / createSeconds, 0),
    });

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
    report({
      bench: "process",
      backend: "sqlite",
      runner: "inline",
      concurrency,
      jobs: JOBS,
      seconds: round(seconds, 2),
      jobsPerSec: round(JOBS / seconds, 0),
    });
    await worker.stop();
    await backend.close();
  }
}

async function httpCreate(): Promise<void> {
  const results: Record<string, number> = {};
  for (const mode of ["bare", "zerog"] as const) {
    const child = fork(new URL("./http-target.ts", import.meta.url), [mode, join(dir, `http-${mode}.db`)], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const [{ url }] = (await once(child, "message")) as [{ url: string }];
    const run = await autocannon({
      url: `${url}/job/noop`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
      connections: 50,
      duration: HTTP_SECONDS,
    });
    const non2xx = run.non2xx + run.errors;
    results[mode] = run.requests.average;
    report({
      bench: "http",
      target: mode === "bare" ? "bare fastify route" : "zerog POST /job (sqlite)",
      reqPerSec: round(run.requests.average, 0),
      p99Ms: run.latency.p99,
      non2xx,
    });
    child.kill();
    await once(child, "exit");
  }
  report({ bench: "http-ratio", zerogOverBare: round((results.zerog ?? 0) / (results.bare ?? 1), 2) });
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
