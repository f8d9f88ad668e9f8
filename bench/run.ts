// npm run bench: ZeroG's figures per backend (SQLite, and PostgreSQL and Redis when they answer),
// with BullMQ (Redis) and graphile-worker (PostgreSQL) as baselines, printed as JSON lines.
// Runs the built package (npm run build first), as users do.
//   process   - 20,000 pre-filled no-op jobs, one in-process worker → jobs/s (SQLite at concurrency 1, 10
//               and 50, median of 3 runs on fresh files; PostgreSQL and Redis at 10 and 50, one run each)
//   create    - jobs created through the library (JobClient, 500 in flight) → jobs/s
//   peer      - the same workload on BullMQ (concurrency 50) and graphile-worker (concurrency 10, default
//               and batched mode), with ZeroG/peer ratios
//   http      - POST /job/noop on each backend vs a bare Fastify JSON route, alternating rounds → req/s, ratio
//   latency   - POST → start and POST → result at a steady 200 jobs/s → p50/p90/p99/max ms
// No pass/fail here: the figures are read as ratios within one run (the machines are noisy).
// BENCH_ONLY=process|http|latency, BENCH_BACKENDS=sqlite,postgres,redis (default all), BENCH_JOBS, BENCH_REPEATS, BENCH_HTTP_SECONDS, BENCH_HTTP_ROUNDS,
// BENCH_LATENCY_SECONDS, BENCH_POSTGRES_URL, BENCH_REDIS_URL.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BenchBackend, PEER_URLS, postgresBackend, reachable, redisBackend, sqliteBackend } from "./backends.ts";
import { httpCreate } from "./http-create.ts";
import { latency } from "./latency.ts";
import { bullmqProcess } from "./peers/bullmq.ts";
import { graphileProcess } from "./peers/graphile-worker.ts";
import { prefillAndProcess } from "./process.ts";
import { quantile, report, round } from "./stats.ts";

const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
/** SQLite figures are the median of this many runs: single runs vary by ±20% on these machines. */
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);

const wanted = new Set((process.env.BENCH_BACKENDS ?? "sqlite,postgres,redis").split(","));
const backends: BenchBackend[] = wanted.has("sqlite")
  ? [sqliteBackend(mkdtempSync(join(tmpdir(), "zerog-bench-")))]
  : [];
for (const [name, make] of [
  ["postgres", postgresBackend],
  ["redis", redisBackend],
] as const) {
  if (!wanted.has(name)) continue;
  if (await reachable(PEER_URLS[name])) backends.push(make());
  else report({ bench: "skipped", backend: name, reason: `${PEER_URLS[name]} does not answer` });
}

const only = process.env.BENCH_ONLY;
try {
  if (!only || only === "process") await processSection();
  if (!only || only === "http") await httpCreate(backends);
  if (!only || only === "latency") for (const b of backends) await latency(b);
} finally {
  for (const b of backends) await b.cleanup();
}

async function processSection(): Promise<void> {
  const zerogAt = new Map<string, number>();
  for (const b of backends) {
    const concurrencies = b.name === "sqlite" ? [1, 10, 50] : [10, 50];
    // A PostgreSQL run of 20,000 jobs takes ~20 s: one run each keeps the whole benchmark to a few minutes.
    const repeats = b.name === "sqlite" ? REPEATS : 1;
    for (const concurrency of concurrencies) {
      const runs: { createPerSec: number; processPerSec: number }[] = [];
      for (let rep = 0; rep < repeats; rep++) runs.push(await prefillAndProcess(b.fresh(), JOBS, concurrency));
      const create = quantile(
        runs.map((r) => r.createPerSec),
        0.5,
      );
      const processed = quantile(
        runs.map((r) => r.processPerSec),
        0.5,
      );
      zerogAt.set(`${b.name}:${concurrency}`, processed);
      report({
        bench: "create",
        backend: b.name,
        via: "library",
        inFlight: 500,
        jobs: JOBS,
        jobsPerSec: round(create, 0),
      });
      report({
        bench: "process",
        backend: b.name,
        runner: "inline",
        concurrency,
        jobs: JOBS,
        jobsPerSec: round(processed, 0),
        runs: runs.map((r) => round(r.processPerSec, 0)),
      });
    }
  }
  const zerogRedis = zerogAt.get("redis:50");
  if (zerogRedis !== undefined) {
    const bull = await bullmqProcess(PEER_URLS.redis, JOBS, 50);
    report({
      bench: "peer",
      peer: "bullmq",
      backend: "redis",
      concurrency: 50,
      jobs: JOBS,
      jobsPerSec: round(bull, 0),
    });
    report({
      bench: "peer-ratio",
      zerog: "redis",
      peer: "bullmq",
      concurrency: 50,
      zerogOverPeer: round(zerogRedis / bull, 2),
    });
  }
  const zerogPostgres = zerogAt.get("postgres:10");
  if (zerogPostgres !== undefined) {
    for (const batched of [false, true]) {
      const gw = await graphileProcess(PEER_URLS.postgres, JOBS, 10, batched);
      const peer = batched ? "graphile-worker (batched)" : "graphile-worker";
      report({ bench: "peer", peer, backend: "postgres", concurrency: 10, jobs: JOBS, jobsPerSec: round(gw, 0) });
      report({
        bench: "peer-ratio",
        zerog: "postgres",
        peer,
        concurrency: 10,
        zerogOverPeer: round(zerogPostgres / gw, 2),
      });
    }
  }
}
