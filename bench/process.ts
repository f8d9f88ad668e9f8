// The processing benchmark's unit: a fresh store, JOBS no-op jobs created, one worker timed until all finish.
import { performance } from "node:perf_hooks";
import { pino } from "pino";
import { type Backend, JobClient, JobRegistry, openBackend, Sweeper, Worker } from "zerog";
import type { BenchUrls } from "./backends.ts";
import { NoopJob } from "./noop-job.ts";

export const silent = pino({ level: "silent" });

/** Opens `urls` and creates `jobs` no-op jobs on it, 500 in flight. */
export async function prefill(
  urls: BenchUrls,
  jobs: number,
): Promise<{ backend: Backend; registry: JobRegistry; createPerSec: number }> {
  const backend = await openBackend(urls);
  const registry = new JobRegistry([NoopJob]);
  const client = new JobClient(backend, registry, { queueName: "bench_jobs", ttrSeconds: 60 });
  const t0 = performance.now();
  for (let i = 0; i < jobs; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, jobs - i) }, () => client.create("noop", {})));
  }
  return { backend, registry, createPerSec: jobs / ((performance.now() - t0) / 1000) };
}

/**
 * BENCH_SWEEP=1: retention runs beside the worker, as a server's would, at its harshest: a pass
 * every second deleting every job finished before it (the default keeps them 7 days, sweeping
 * once a minute). Compare runs with and without it for the sweeper's cost.
 */
const SWEEP = process.env.BENCH_SWEEP === "1";

/**
 * Creates `jobs` no-op jobs on `urls` (500 in flight), then times one in-process worker at
 * `concurrency`; `cpuUsPerJob` is this process's CPU time per job meanwhile (the SQLite work is
 * in this process too), a figure other load on the machine disturbs less than the rate.
 */
export async function prefillAndProcess(
  urls: BenchUrls,
  jobs: number,
  concurrency: number,
  opts: { sweep?: boolean } = {},
): Promise<{ createPerSec: number; processPerSec: number; cpuUsPerJob: number }> {
  const { backend, registry, createPerSec } = await prefill(urls, jobs);
  const worker = new Worker({ jobs: registry, backend, concurrency, name: "bench", logger: silent });
  let finished = 0;
  const allDone = new Promise<void>((resolve) =>
    worker.events.on("job:finished", () => {
      if (++finished === jobs) resolve();
    }),
  );
  const sweeper =
    (opts.sweep ?? SWEEP)
      ? new Sweeper(backend.datastore, [{ jobType: "noop", status: "finished", maxAgeMs: 0 }], { intervalMs: 1000 })
      : null;
  const t1 = performance.now();
  const cpu0 = process.cpuUsage();
  await worker.start();
  sweeper?.start();
  await allDone;
  const seconds = (performance.now() - t1) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await sweeper?.stop();
  await worker.stop();
  await backend.close();
  return { createPerSec, processPerSec: jobs / seconds, cpuUsPerJob: (cpu.user + cpu.system) / jobs };
}
