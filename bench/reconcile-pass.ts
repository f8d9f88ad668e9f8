// What the reconciler costs (src/backends/reconciler.ts): one pass over BENCH_JOBS (10,000) queued jobs
// whose entries are all there, on a Beanstalkd queue with a SQLite datastore (and a PostgreSQL one when
// it answers at BENCH_POSTGRES_URL); the pass that finds nothing to read because the queue server has not
// restarted; and, after a restart without binlog, the pass that finds every entry lost plus the time until
// all jobs have a new entry. Runs from source:
// node --conditions=zerog-source --import tsx bench/reconcile-pass.ts
// Prints one JSON line per datastore. No pass/fail: the figures are read on the machine that ran them.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { openBackend } from "../src/backends/open-backend.ts";
import { SeparateBackend } from "../src/backends/separate-backend.ts";
import { JobClient } from "../src/client/job-client.ts";
import { JobRegistry } from "../src/job/registry.ts";
import { freePort, PEER_URLS, reachable } from "./backends.ts";
import { NoopJob } from "./noop-job.ts";

const JOBS = Number(process.env.BENCH_JOBS ?? 10_000);
const IN_FLIGHT = 500;
const QUEUE = "reconcile_bench";

/** A beanstalkd of its own, restartable on the same port (empty: no binlog). */
async function beanstalkd(port: number): Promise<{ url: string; restart(): Promise<void>; stop(): void }> {
  let proc: ChildProcess;
  const url = `beanstalk://127.0.0.1:${port}`;
  const start = async () => {
    proc = spawn("beanstalkd", ["-l", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
    for (let i = 0; i < 200 && !(await reachable(url)); i++) await sleep(20);
  };
  await start();
  return {
    url,
    restart: async () => {
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGKILL");
      await exited;
      await start();
    },
    stop: () => proc.kill("SIGKILL"),
  };
}

async function measure(name: string, datastore: string): Promise<void> {
  const bs = await beanstalkd(await freePort());
  // Passes are run by hand (the timer's interval is an hour). No grace: the first full pass
  // vouches for the fresh server, so the next one shows what a pass costs when nothing changed.
  const backend = await openBackend(
    { datastore, queue: bs.url },
    { reconciler: { intervalMs: 3_600_000, inFlightGraceMs: 0 } },
  );
  if (!(backend instanceof SeparateBackend)) throw new Error("expected two stores");
  const client = new JobClient(backend, new JobRegistry([NoopJob]), { queueName: QUEUE, ttrSeconds: 60 });
  try {
    const t0 = performance.now();
    for (let i = 0; i < JOBS; i += IN_FLIGHT) {
      const n = Math.min(IN_FLIGHT, JOBS - i);
      await Promise.all(Array.from({ length: n }, () => client.create(NoopJob.jobType, {})));
    }
    const fillMs = performance.now() - t0;
    const cpu = process.cpuUsage();
    const full = await backend.reconciler.pass();
    const fullCpu = process.cpuUsage(cpu);
    const unchanged = await backend.reconciler.pass();

    await bs.restart();
    const t1 = performance.now();
    const lostPass = await backend.reconciler.pass();
    while (backend.requeuer.pending > 0) await sleep(10);
    const reenqueueMs = performance.now() - t1;
    const stats = await backend.queue.stats(QUEUE);
    console.log(
      JSON.stringify({
        datastore: name,
        jobs: JOBS,
        fillMs: Math.round(fillMs),
        fullPass: { ms: full.durationMs, listed: full.listed, checked: full.checked, lost: full.lost.length },
        fullPassCpuMs: Math.round((fullCpu.user + fullCpu.system) / 1000),
        unchangedPass: { kind: unchanged.kind, ms: unchanged.durationMs },
        afterRestart: {
          passMs: lostPass.durationMs,
          lost: lostPass.lost.length,
          allPutBackMs: Math.round(reenqueueMs),
        },
        readyAfter: stats.ready,
      }),
    );
  } finally {
    await backend.close();
    bs.stop();
  }
}

const dir = mkdtempSync(join(tmpdir(), "zerog-reconcile-bench-"));
try {
  await measure("sqlite", `sqlite:${join(dir, "bench.db")}`);
  if (await reachable(PEER_URLS.postgres)) {
    const schema = `zb_reconcile_${Date.now().toString(36)}`;
    const url = new URL(PEER_URLS.postgres);
    url.searchParams.set("schema", schema);
    try {
      await measure("postgres", url.toString());
    } finally {
      const c = new pg.Client({ connectionString: PEER_URLS.postgres });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
