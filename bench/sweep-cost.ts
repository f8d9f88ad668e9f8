// What retention costs job processing: the process benchmark's unit (20,000 no-op jobs, one
// in-process worker) with and without a Sweeper beside the worker, alternating, on SQLite.
//   node --import tsx bench/sweep-cost.ts     (npm run build first: it runs the built package)
// The sweep is at its harshest: every second, every job finished before it (see process.ts).
// Prints per round and concurrency the jobs/s and CPU µs per job both ways, and the medians of
// the rounds' on/off ratios. SWEEP_ROUNDS (3), BENCH_JOBS (20000), SWEEP_CONCURRENCY (10,50).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sqliteBackend } from "./backends.ts";
import { prefillAndProcess } from "./process.ts";
import { quantile, report, round } from "./stats.ts";

const ROUNDS = Number(process.env.SWEEP_ROUNDS ?? 3);
const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
const CONCURRENCY = (process.env.SWEEP_CONCURRENCY ?? "10,50").split(",").map(Number);

const sqlite = sqliteBackend(mkdtempSync(join(tmpdir(), "zerog-bench-sweep-")));
try {
  for (const concurrency of CONCURRENCY) {
    const rate: number[] = [];
    const cpu: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Off first in odd rounds, on first in even ones: drift over a round falls on both sides.
      const order = r % 2 === 0 ? [false, true] : [true, false];
      const runs = new Map<boolean, Awaited<ReturnType<typeof prefillAndProcess>>>();
      for (const sweep of order)
        runs.set(sweep, await prefillAndProcess(await sqlite.fresh(), JOBS, concurrency, { sweep }));
      const [off, on] = [runs.get(false), runs.get(true)];
      if (!off || !on) throw new Error("missing run");
      rate.push(on.processPerSec / off.processPerSec);
      cpu.push(on.cpuUsPerJob / off.cpuUsPerJob);
      report({
        bench: "sweep-cost-round",
        concurrency,
        round: r + 1,
        jobsPerSec: { off: round(off.processPerSec, 0), on: round(on.processPerSec, 0) },
        cpuUsPerJob: { off: round(off.cpuUsPerJob, 1), on: round(on.cpuUsPerJob, 1) },
      });
    }
    report({
      bench: "sweep-cost",
      backend: "sqlite",
      concurrency,
      jobs: JOBS,
      rateOnOverOff: round(quantile(rate, 0.5), 3),
      cpuOnOverOff: round(quantile(cpu, 0.5), 3),
      rounds: rate.map((x) => round(x, 3)),
    });
  }
} finally {
  await sqlite.cleanup();
}
