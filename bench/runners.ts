// The runners section: no-op jobs through each job runner on the same backend, and how long a job
// process takes to start.
//   inline        - jobs run in the worker's process
//   process       - warm child processes as configured by default (the slots shared over the cores,
//                   several jobs per process), recycleAfterJobs 10,000 (the default) and 100
//   process-per-slot - jobsPerProcess 1: a process per slot, one job at a time in each
//   process-fresh - recycleAfterJobs 1: a fresh process per job (few jobs: it is slow)
// Children load bench/jobs/noop-jobs.mjs, plain JavaScript importing the built package's
// `zerog/job`, as a user's compiled job module would be. A child forked from dist/ never loads tsx
// (child-entry.ts leaves the worker's tsx flags out), so running the bench under tsx costs it nothing.
// jobs/s count from the finish of the first tenth of the jobs to the last, so worker and first
// child start-up (a figure of its own) stay out of the rate. Each round runs every runner back to
// back, rotating their order; ratios to inline are per round, then the median. A fresh process per
// job runs in the first round and on the first backend only: its rate is one child start-up per job
// whatever the store, ~1,000x slower than inline, far beyond the noise. At concurrency 1 a child
// runs all jobs.
// BENCH_RUNNER_JOBS (5,000; 300 for recycleAfterJobs 100), BENCH_RUNNER_FRESH_JOBS (16),
// BENCH_RUNNER_ROUNDS (3), BENCH_RUNNER_STARTS (10).
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Worker, type WorkerConfig } from "zerog";
import type { BenchBackend } from "./backends.ts";
import { prefill, silent } from "./process.ts";
import { latencySummary, quantile, report, round } from "./stats.ts";

const JOBS = Number(process.env.BENCH_RUNNER_JOBS ?? 5000);
/** A fresh process per job runs 3-6 jobs/s on 2 cores: 16 jobs keep each run to a few seconds. */
const FRESH_JOBS = Number(process.env.BENCH_RUNNER_FRESH_JOBS ?? 16);
/** The machines drift by ±20% within minutes: each ratio is the median of this many rounds. */
const ROUNDS = Number(process.env.BENCH_RUNNER_ROUNDS ?? 3);
const STARTS = Number(process.env.BENCH_RUNNER_STARTS ?? 10);
/** A single slot, a common setting, and many slots sharing few processes. */
const CONCURRENCIES = [1, 10, 50];

const JOB_MODULE = fileURLToPath(new URL("./jobs/noop-jobs.mjs", import.meta.url));

interface Runner {
  name: "inline" | "process" | "process-per-slot" | "process-fresh";
  recycleAfterJobs?: number;
  jobs: number;
  /** Rounds it runs in (the first ones). */
  rounds: number;
  /** Whether it runs on the first backend only. */
  firstBackendOnly?: boolean;
  config: Pick<WorkerConfig, "isolation" | "jobModules" | "recycleAfterJobs" | "jobsPerProcess">;
}

const processRunner = (recycleAfterJobs: number, jobs: number, rounds: number): Runner => ({
  name: recycleAfterJobs === 1 ? "process-fresh" : "process",
  recycleAfterJobs,
  jobs,
  rounds,
  ...(recycleAfterJobs === 1 ? { firstBackendOnly: true } : {}),
  config: { isolation: "process", jobModules: [JOB_MODULE], recycleAfterJobs },
});

const RUNNERS: readonly Runner[] = [
  { name: "inline", jobs: JOBS, rounds: ROUNDS, config: { isolation: "inline" } },
  processRunner(10_000, JOBS, ROUNDS),
  {
    ...processRunner(10_000, JOBS, ROUNDS),
    name: "process-per-slot",
    config: { isolation: "process", jobModules: [JOB_MODULE], recycleAfterJobs: 10_000, jobsPerProcess: 1 },
  },
  // Each recycle costs a child start-up (~120 ms), 300 jobs span 3 of them.
  processRunner(100, Math.min(JOBS, 300), ROUNDS),
  processRunner(1, FRESH_JOBS, 1),
];

export async function runnersSection(backends: readonly BenchBackend[]): Promise<void> {
  await childStart(STARTS);
  const first = backends[0];
  // Unreported: the first run of a process is slower (cold JIT) and would count against whichever runner came first.
  if (first) await timeRunner(first, RUNNERS[0] as Runner, 1);
  for (const [i, b] of backends.entries()) {
    const runners = RUNNERS.filter((r) => i === 0 || !r.firstBackendOnly);
    // A runner needs a few times as many jobs as slots for a rate to mean anything.
    for (const concurrency of CONCURRENCIES) {
      await compare(
        b,
        runners.filter((r) => r.jobs >= concurrency * 4),
        concurrency,
      );
    }
  }
}

/** ROUNDS rounds of every runner on fresh stores of `b`; one row per runner. */
async function compare(b: BenchBackend, runners: readonly Runner[], concurrency: number): Promise<void> {
  const runs = new Map<Runner, number[]>(runners.map((r) => [r, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = runners.map((_, i) => runners[(i + round) % runners.length] as Runner);
    for (const r of order) if (round < r.rounds) runs.get(r)?.push(await timeRunner(b, r, concurrency));
  }
  const inline = runs.get(RUNNERS[0] as Runner) ?? [];
  for (const [r, perSec] of runs) {
    const ratios = perSec.map((x, i) => x / (inline[i] ?? Number.NaN));
    report({
      bench: "runner",
      backend: b.name,
      runner: r.name,
      ...(r.recycleAfterJobs ? { recycleAfterJobs: r.recycleAfterJobs } : {}),
      ...(r.config.jobsPerProcess ? { jobsPerProcess: r.config.jobsPerProcess } : {}),
      concurrency,
      jobs: r.jobs,
      jobsPerSec: rate(quantile(perSec, 0.5)),
      overInline: Number(quantile(ratios, 0.5).toPrecision(2)),
      runs: perSec.map(rate),
    });
  }
}

/** Jobs/s of one worker with runner `r` over `r.jobs` pre-filled no-op jobs, counted after the first tenth. */
async function timeRunner(b: BenchBackend, r: Runner, concurrency: number): Promise<number> {
  const { backend, registry } = await prefill(await b.fresh(), r.jobs);
  const worker = new Worker({ jobs: registry, backend, concurrency, name: "bench", logger: silent, ...r.config });
  const from = Math.min(Math.max(concurrency, Math.floor(r.jobs / 10)), Math.floor(r.jobs / 2));
  let finished = 0;
  let fromAt = 0;
  const lastAt = new Promise<number>((resolve, reject) => {
    worker.events.on("job:finished", ({ resultCode }) => {
      if (resultCode !== 200) reject(new Error(`${r.name}: a no-op job finished with ${resultCode}`));
      if (++finished === from) fromAt = performance.now();
      if (finished === r.jobs) resolve(performance.now());
    });
    // A job that died or threw would wait out a retry delay: say so rather than hang.
    worker.events.on("job:requeued", () => reject(new Error(`${r.name}: a no-op job was requeued`)));
  });
  try {
    await worker.start();
    return (r.jobs - from) / (((await lastAt) - fromAt) / 1000);
  } finally {
    await worker.stop();
    await backend.close();
  }
}

/** Milliseconds from fork to ready (the job module loaded) of the built package's job process, `starts` times one after another. */
async function childStart(starts: number): Promise<void> {
  const dist = (path: string): string => new URL(`../dist/worker/child/${path}`, import.meta.url).href;
  // The built files, as a worker started from dist/ forks them; the types are the source's.
  const { JobProcess } = (await import(dist("job-process.js"))) as typeof import("../src/worker/child/job-process.ts");
  const { childEntry } = (await import(dist("child-entry.js"))) as typeof import("../src/worker/child/child-entry.ts");
  const ms: number[] = [];
  for (let i = 0; i < starts; i++) {
    const t0 = performance.now();
    const proc = await JobProcess.start({ ...childEntry(0), modules: [JOB_MODULE], startTimeoutMs: 30_000 });
    ms.push(performance.now() - t0);
    await proc.retire();
  }
  const { p50, p90, max } = latencySummary(ms);
  report({
    bench: "child-start",
    starts,
    p50Ms: round(p50, 0),
    p90Ms: round(p90, 0),
    maxMs: round(max, 0),
  });
}

/** Whole jobs/s, with a decimal below 100 (a fresh process per job runs a few a second). */
const rate = (x: number): number => round(x, x < 100 ? 1 : 0);
