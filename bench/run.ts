// npm run bench: ZeroG's figures per backend (SQLite; PostgreSQL and Redis when they answer; a Beanstalkd queue
// with a SQLite datastore when beanstalkd is installed),
// with BullMQ (Redis) and graphile-worker (PostgreSQL) as baselines, printed as JSON lines.
// Runs the built package (npm run build first), as users do.
//   process   - 20,000 pre-filled no-op jobs, one in-process worker → jobs/s (SQLite at concurrency 1, 10
//               and 50, median of 3 runs on fresh files; PostgreSQL, Redis and Beanstalkd at 10 and 50, one
//               run each)
//   create    - jobs created through the library (JobClient, 500 in flight) → jobs/s
//   bulk      - jobs created 1,000 a call (JobClient.createMany) against BullMQ's addBulk and
//               graphile-worker's addJobs → jobs/s and ZeroG/peer ratios (see bulk-create.ts)
//   peer      - the same workload on BullMQ (concurrency 50), graphile-worker (concurrency 10, default
//               mode) and a bare Beanstalkd client (concurrency 50, put/reserve/delete), alternating with
//               ZeroG for BENCH_PEER_ROUNDS rounds: the median of the rounds' ZeroG/peer ratios;
//               graphile-worker's batched mode once
//   http      - POST /job/noop on each backend vs a bare Fastify JSON route, alternating rounds → req/s, ratio
//   latency   - POST → start and POST → result at a steady 200 jobs/s → p50/p90/p99/max ms; BullMQ's add → start
//               at the same rate (no HTTP in it)
//   runners   - no-op jobs inline vs in child processes (warm, several jobs per process; a process per slot;
//               recycled every 100 jobs; a fresh process per job) on SQLite and memory:, concurrency 1, 10
//               and 50 → jobs/s and ratio to inline (median of 3
//               alternating rounds); a child process's start-up time (see runners.ts)
// No pass/fail here: the figures are read as ratios within one run (the machines are noisy).
// BENCH_ONLY=process|bulk|http|latency|runners, BENCH_BACKENDS=sqlite,postgres,redis,beanstalk,memory (default all;
// memory is used by the runners section only), BENCH_JOBS, BENCH_REPEATS, BENCH_PEER_ROUNDS, BENCH_HTTP_SECONDS,
// BENCH_HTTP_ROUNDS, BENCH_LATENCY_SECONDS, BENCH_RUNNER_JOBS, BENCH_RUNNER_FRESH_JOBS, BENCH_RUNNER_ROUNDS,
// BENCH_RUNNER_STARTS, BENCH_POSTGRES_URL, BENCH_REDIS_URL; BENCH_SWEEP=1 runs retention beside the workers of
// the process section (see process.ts).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type BenchBackend,
  beanstalkBackend,
  hasBeanstalkd,
  memoryBackend,
  PEER_URLS,
  postgresBackend,
  reachable,
  redisBackend,
  sqliteBackend,
} from "./backends.ts";
import { bulkSection } from "./bulk-create.ts";
import { httpCreate } from "./http-create.ts";
import { latency } from "./latency.ts";
import { beanstalkdRawProcess } from "./peers/beanstalkd-raw.ts";
import { bullmqProcess } from "./peers/bullmq.ts";
import { bullmqLatency } from "./peers/bullmq-latency.ts";
import { graphileProcess } from "./peers/graphile-worker.ts";
import { prefillAndProcess } from "./process.ts";
import { runnersSection } from "./runners.ts";
import { quantile, report, round } from "./stats.ts";

const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
/** SQLite figures are the median of this many runs: single runs vary by ±20% on these machines. */
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
/** ZeroG/peer ratios are the median of this many back-to-back pairs of runs. */
const PEER_ROUNDS = Number(process.env.BENCH_PEER_ROUNDS ?? 3);

const wanted = new Set((process.env.BENCH_BACKENDS ?? "sqlite,postgres,redis,beanstalk,memory").split(","));
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

if (wanted.has("beanstalk")) {
  if (hasBeanstalkd()) backends.push(beanstalkBackend(mkdtempSync(join(tmpdir(), "zerog-bench-bs-"))));
  else report({ bench: "skipped", backend: "beanstalk", reason: "beanstalkd is not installed" });
}

const only = process.env.BENCH_ONLY;
try {
  if (!only || only === "process") await processSection();
  if (!only || only === "bulk") await bulkSection(backends, JOBS, PEER_ROUNDS);
  if (!only || only === "http") await httpCreate(backends);
  if (!only || only === "latency") {
    for (const b of backends) await latency(b);
    if (backends.some((b) => b.name === "redis")) {
      const bull = await bullmqLatency(PEER_URLS.redis, 200, 1000, 10);
      report({ bench: "peer-latency", peer: "bullmq", backend: "redis", ratePerSec: 200, addToStartMs: bull });
    }
  }
  if (!only || only === "runners") {
    await runnersSection([
      ...backends.filter((b) => b.name === "sqlite"),
      ...(wanted.has("memory") ? [memoryBackend()] : []),
    ]);
  }
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
      for (let rep = 0; rep < repeats; rep++) runs.push(await prefillAndProcess(await b.fresh(), JOBS, concurrency));
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
  const redis = backends.find((b) => b.name === "redis");
  if (redis) {
    await peerRounds(
      "redis",
      "bullmq",
      50,
      async () => prefillAndProcess(await redis.fresh(), JOBS, 50),
      () => bullmqProcess(PEER_URLS.redis, JOBS, 50),
    );
    for (const concurrency of [10, 50]) {
      await peerRounds(
        "redis",
        "bullmq (removeOnComplete)",
        concurrency,
        async () => prefillAndProcess(await redis.fresh(), JOBS, concurrency),
        () => bullmqProcess(PEER_URLS.redis, JOBS, concurrency, true),
      );
    }
  }
  const postgres = backends.find((b) => b.name === "postgres");
  if (postgres) {
    await peerRounds(
      "postgres",
      "graphile-worker",
      10,
      async () => prefillAndProcess(await postgres.fresh(), JOBS, 10),
      () => graphileProcess(PEER_URLS.postgres, JOBS, 10, false),
    );
    const batched = await graphileProcess(PEER_URLS.postgres, JOBS, 10, true);
    const zerog = zerogAt.get("postgres:10") ?? Number.NaN;
    const peer = "graphile-worker (batched)";
    report({ bench: "peer", peer, backend: "postgres", concurrency: 10, jobs: JOBS, jobsPerSec: round(batched, 0) });
    report({ bench: "peer-ratio", zerog: "postgres", peer, concurrency: 10, zerogOverPeer: round(zerog / batched, 2) });
  }
  const beanstalk = backends.find((b) => b.name === "beanstalk");
  if (beanstalk) {
    await peerRounds(
      "beanstalk",
      "beanstalkd (raw client)",
      50,
      async () => prefillAndProcess(await beanstalk.fresh(), JOBS, 50),
      async () => beanstalkdRawProcess((await beanstalk.fresh()).queue, JOBS, 50),
    );
  }
}

/**
 * ZeroG and a peer on the same workload, alternating PEER_ROUNDS times: the machines drift by
 * ±20% within minutes, so each round's ratio compares runs made back to back, and the median
 * of the rounds is the figure.
 */
async function peerRounds(
  backend: string,
  peer: string,
  concurrency: number,
  zerog: () => Promise<{ processPerSec: number }>,
  other: () => Promise<number>,
): Promise<void> {
  const zerogRuns: number[] = [];
  const peerRuns: number[] = [];
  for (let i = 0; i < PEER_ROUNDS; i++) {
    zerogRuns.push((await zerog()).processPerSec);
    peerRuns.push(await other());
  }
  const ratios = zerogRuns.map((z, i) => z / (peerRuns[i] ?? Number.NaN));
  report({
    bench: "peer",
    peer,
    backend,
    concurrency,
    jobs: JOBS,
    jobsPerSec: round(quantile(peerRuns, 0.5), 0),
    runs: peerRuns.map((r) => round(r, 0)),
    zerogRuns: zerogRuns.map((r) => round(r, 0)),
  });
  report({
    bench: "peer-ratio",
    zerog: backend,
    peer,
    concurrency,
    zerogOverPeer: round(quantile(ratios, 0.5), 2),
    rounds: ratios.map((r) => round(r, 2)),
  });
}
