import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import type { IncomingHttpHeaders } from "node:http";
import autocannon from "autocannon";
import { REPO_ROOT } from "../helpers/cli.ts";
import { freePort } from "../helpers/private-services.ts";
import { until } from "../helpers/wait.ts";

/**
 * Overload: a real `zerog serve` process with one worker slot of a no-op job, and a producer that
 * creates jobs at `factor` times the rate that slot finishes them, for `seconds`, over loopback.
 * Measures the server's RSS, POST /job latency, what was accepted and what was shed (429/503 with
 * Retry-After), then stops the producer and waits for the backlog to drain. Every bound is in time:
 * the producer stops after `seconds`, the drain waits at most `drainTimeoutMs`.
 */
export interface OverloadOptions {
  /** The datastore and queue URL of the server. */
  url: string;
  seconds: number;
  /** Offered creates per second, as a multiple of what the slot finished while calibrating. @defaultValue 3 */
  factor?: number;
  /** Jobs created to measure the slot's rate before the load. @defaultValue 3000 */
  calibrationJobs?: number;
  /** The producer's connections. @defaultValue 32 */
  connections?: number;
  /** How long the backlog may take to drain once the producer stops. @defaultValue 300000 */
  drainTimeoutMs?: number;
  /** Extra `zerog serve` flags. */
  serveArgs?: readonly string[];
}

export interface OverloadFigures {
  /** What the slot finished per second while calibrating (the producer then offers `factor` times that). */
  workerJobsPerSecond: number;
  offeredPerSecond: number;
  /** POST /job answered 201, and the uuids of those answers. */
  accepted: number;
  /** POST /job answered 429 or 503, each with a Retry-After header. */
  shed: number;
  /** Answers that were neither: other statuses, connection errors, timeouts. */
  failed: number;
  /** Shed answers without a Retry-After header. */
  shedWithoutRetryAfter: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** The server process's resident memory, MiB: before the load, its peak, at its end, after the drain; one sample a second. */
  memoryMiB: { before: Memory; peak: Memory; atEnd: Memory; afterDrain: Memory; samples: Memory[] };
  /** The server's JavaScript heap in use (from /metrics), MiB, one sample a second under load. */
  heapUsedMiB: number[];
  /** Jobs waiting when the producer stopped, and how long they took to finish. */
  backlogAtEnd: number;
  drainMs: number;
  /** Of the accepted uuids, how many ended finished with result 200 (all of them, or a job was lost). */
  acceptedFinished: number;
  /** Jobs the server counted as created (calibration included) and as finished. */
  createdTotal: number;
  finishedTotal: number;
}

export async function runOverload(opts: OverloadOptions): Promise<OverloadFigures> {
  const serve = await startServe(opts.url, opts.serveArgs ?? []);
  try {
    return await measure(serve, opts);
  } finally {
    serve.proc.kill("SIGTERM");
    await serve.exited;
  }
}

interface Serve {
  proc: ChildProcess;
  base: string;
  exited: Promise<unknown>;
}

async function measure(serve: Serve, opts: OverloadOptions): Promise<OverloadFigures> {
  const { base } = serve;
  const pid = serve.proc.pid ?? 0;
  const before = memoryOf(pid);

  // Calibrate: warm up (the job process starts with the first job), then time the slot on a
  // small backlog, made in a fraction of the time it takes to finish.
  await produce(base, { amount: 100, connections: 4 });
  await drained(base, 60_000);
  const c0 = await counters(base);
  const t0 = Date.now();
  await produce(base, { amount: opts.calibrationJobs ?? 3000, connections: 8 });
  const c1 = await drained(base, 120_000);
  const workerJobsPerSecond = ((c1.finished - c0.finished) * 1000) / Math.max(1, Date.now() - t0);

  const offeredPerSecond = Math.max(1, Math.round(workerJobsPerSecond * (opts.factor ?? 3)));
  const samples: Memory[] = [];
  const heapSamples: number[] = [];
  const sampler = setInterval(() => {
    samples.push(memoryOf(pid));
    void heapUsedMiB(base).then(
      (h) => heapSamples.push(h),
      () => undefined,
    );
  }, 1000);
  const load = await produce(base, {
    seconds: opts.seconds,
    connections: opts.connections ?? 32,
    overallRate: offeredPerSecond,
  });
  clearInterval(sampler);
  const atEnd = memoryOf(pid);

  const end = await counters(base);
  const drainStart = Date.now();
  const last = await drained(base, opts.drainTimeoutMs ?? 300_000);
  const drainMs = Date.now() - drainStart;
  const afterDrain = memoryOf(pid);

  return {
    workerJobsPerSecond: Math.round(workerJobsPerSecond),
    offeredPerSecond,
    accepted: load.uuids.length,
    shed: load.shed,
    failed: load.failed,
    shedWithoutRetryAfter: load.shedWithoutRetryAfter,
    latencyMs: load.latencyMs,
    memoryMiB: {
      before,
      peak: {
        rss: Math.max(atEnd.rss, ...samples.map((m) => m.rss)),
        anon: Math.max(atEnd.anon, ...samples.map((m) => m.anon)),
      },
      atEnd,
      afterDrain,
      samples,
    },
    heapUsedMiB: heapSamples,
    backlogAtEnd: end.waiting,
    drainMs,
    acceptedFinished: await countFinished(base, load.uuids),
    createdTotal: last.created,
    finishedTotal: last.finished,
  };
}

interface Load {
  uuids: string[];
  shed: number;
  failed: number;
  shedWithoutRetryAfter: number;
  latencyMs: { p50: number; p99: number; max: number };
}

/** Creates no-op jobs with autocannon for `seconds` or `amount` jobs; `overallRate` paces it, else the API's pace does. */
async function produce(
  base: string,
  o: { seconds?: number; amount?: number; connections: number; overallRate?: number },
): Promise<Load> {
  const load: Load = { uuids: [], shed: 0, failed: 0, shedWithoutRetryAfter: 0, latencyMs: { p50: 0, p99: 0, max: 0 } };
  const result = await autocannon({
    url: base,
    connections: o.connections,
    ...(o.amount ? { amount: o.amount } : { duration: o.seconds ?? 1 }),
    ...(o.overallRate ? { overallRate: o.overallRate } : {}),
    timeout: 10,
    requests: [
      {
        method: "POST",
        path: "/job/return_value",
        headers: { "content-type": "application/json" },
        body: '{"ret":200}',
        onResponse: (status: number, body: string, _context: object, headers: IncomingHttpHeaders | undefined) => {
          if (status === 201) load.uuids.push((JSON.parse(body) as { uuid: string }).uuid);
          else if (status === 429 || status === 503) {
            load.shed += 1;
            if (headers?.["retry-after"] === undefined) load.shedWithoutRetryAfter += 1;
          } else load.failed += 1;
        },
      },
    ],
  });
  load.failed += result.errors + result.timeouts;
  load.latencyMs = { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max };
  return load;
}

interface Counters {
  created: number;
  finished: number;
  /** Queue entries ready, delayed or reserved. */
  waiting: number;
}

/** From GET /metrics: this server's created and finished counters, and the queue's depth. */
async function counters(base: string): Promise<Counters> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const sum = (re: RegExp) => [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
  return {
    created: sum(/^zerog_jobs_created_total\{[^}]*\} (\d+)/gm),
    finished: sum(/^zerog_jobs_finished_total\{[^}]*\} (\d+)/gm),
    waiting: sum(/^zerog_queue_depth\{[^}]*state="(?:ready|delayed|reserved)"\} (\d+)/gm),
  };
}

/** Waits until the queue is empty and this server has finished every job it created. */
function drained(base: string, timeoutMs: number): Promise<Counters> {
  return until(
    async () => {
      const c = await counters(base);
      return c.waiting === 0 && c.finished >= c.created ? c : undefined;
    },
    "the backlog to drain",
    timeoutMs,
    250, // a /metrics scrape costs the server a little
  );
}

/** From GET /metrics: the V8 heap in use, MiB. */
async function heapUsedMiB(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = /^zerog_nodejs_heap_size_used_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)/m.exec(text);
  return m ? Math.round(Number(m[1]) / 2 ** 20) : Number.NaN;
}

/** How many of `uuids` are listed as finished (paging GET /jobs?state=finished). */
async function countFinished(base: string, uuids: readonly string[]): Promise<number> {
  const finished = new Set<string>();
  let cursor: string | null = null;
  do {
    const q: string = cursor === null ? "" : `&cursor=${cursor}`;
    const page = (await (await fetch(`${base}/jobs?state=finished&limit=500${q}`)).json()) as {
      jobs: { uuid: string; resultCode: number }[];
      nextCursor: string | null;
    };
    for (const j of page.jobs) if (j.resultCode === 200) finished.add(j.uuid);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return uuids.filter((u) => finished.has(u)).length;
}

/** `zerog serve` from source on a free port, logging warnings only (a line per job would be the load). */
async function startServe(url: string, extra: readonly string[]): Promise<Serve> {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    [
      "--conditions=zerog-source",
      "--import",
      "tsx",
      "src/cli/main.ts",
      "serve",
      "--jobs",
      "test/helpers/test-jobs.ts",
      "--datastore",
      url,
      "--queue",
      url,
      "--concurrency",
      "1",
      "--port",
      String(port),
      ...extra,
    ],
    { cwd: REPO_ROOT, env: { ...process.env, ZEROG_LOG_LEVEL: "warn" }, stdio: ["ignore", "inherit", "inherit"] },
  );
  const exited = once(proc, "exit");
  const base = `http://127.0.0.1:${port}`;
  await until(
    async () => ((await fetch(`${base}/health`)).ok ? true : undefined),
    "zerog serve to answer",
    60_000,
    250,
  );
  return { proc, base, exited };
}

/**
 * A process's resident memory, MiB (Linux's /proc): all of it, and the part that is not file pages
 * (SQLite maps its database file with `mmap_size`; those pages count in RSS but belong to the page
 * cache, and the kernel reclaims them under pressure).
 */
function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rss: Math.round(kb("VmRSS") / 1024), anon: Math.round(kb("RssAnon") / 1024) };
}

interface Memory {
  rss: number;
  anon: number;
}

/** The mean of the first and of the last third of a series (the middle is left out: the load ramps up). */
export function thirds(series: readonly number[]): { first: number; last: number } {
  const n = Math.max(1, Math.floor(series.length / 3));
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return { first: mean(series.slice(0, n)), last: mean(series.slice(-n)) };
}

/** One line of figures for the test's output (and the CHANGELOG). */
export function summary(name: string, f: OverloadFigures): string {
  const m = f.memoryMiB;
  return [
    `${name}: slot ${f.workerJobsPerSecond} jobs/s, offered ${f.offeredPerSecond}/s`,
    `accepted ${f.accepted}, shed ${f.shed}, failed ${f.failed}`,
    `POST /job p50 ${f.latencyMs.p50} ms, p99 ${f.latencyMs.p99} ms, max ${f.latencyMs.max} ms`,
    `RSS ${m.before.rss} → peak ${m.peak.rss} → ${m.atEnd.rss} at end → ${m.afterDrain.rss} MiB after the drain`,
    `(anonymous ${m.before.anon} → ${m.peak.anon} → ${m.afterDrain.anon}; heap ${Math.min(...f.heapUsedMiB)}–${Math.max(...f.heapUsedMiB)} MiB)`,
    `backlog ${f.backlogAtEnd} drained in ${(f.drainMs / 1000).toFixed(1)} s; ${f.acceptedFinished}/${f.accepted} accepted finished`,
  ].join(", ");
}
