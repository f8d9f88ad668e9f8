// POST → start and POST → result latency at a steady rate, over real HTTP, one server with workers;
// then create → start through the library, in the same process and from another process.
import { fork } from "node:child_process";
import { once } from "node:events";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { pino } from "pino";
import { Server } from "zerog";
import type { BenchBackend, BenchUrls } from "./backends.ts";
import { NoopJob } from "./noop-job.ts";
import { latencySummary, quantile, report, round, steadily } from "./stats.ts";

const LATENCY_RATE = 200;
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 5);

export async function latency(backend: BenchBackend): Promise<void> {
  const urls = await backend.fresh();
  const server = new Server({
    jobs: [NoopJob],
    ...urls,
    concurrency: 10,
    logger: pino({ level: "silent" }),
  });
  const base = await server.listen({ port: 0, host: "127.0.0.1" });
  const started = new Map<string, number>();
  const finished = new Map<string, number>();
  server.worker?.events.on("job:started", ({ uuid }) => started.set(uuid, performance.now()));
  server.worker?.events.on("job:finished", ({ uuid }) => finished.set(uuid, performance.now()));
  // One second of warm-up at the same rate (JIT, connections, first pages), left out of the figures.
  await steadyPosts(base, LATENCY_RATE);
  while (finished.size < LATENCY_RATE) await sleep(10);
  started.clear();
  finished.clear();
  const total = LATENCY_RATE * LATENCY_SECONDS;
  const posted = await steadyPosts(base, total);
  while (finished.size < total) await sleep(10);
  const toStart: number[] = [];
  const toResult: number[] = [];
  for (const [uuid, sent] of posted) {
    toStart.push((started.get(uuid) ?? Number.NaN) - sent);
    toResult.push((finished.get(uuid) ?? Number.NaN) - sent);
  }
  report({
    bench: "latency",
    backend: backend.name,
    ratePerSec: LATENCY_RATE,
    jobs: total,
    warmupJobs: LATENCY_RATE,
    postToStartMs: latencySummary(toStart),
    postToResultMs: { p50: round(quantile(toResult, 0.5), 2), p99: round(quantile(toResult, 0.99), 2) },
  });
  // The same through the library (JobClient.create, no HTTP): what BullMQ's add → start compares with.
  started.clear();
  const created = await steadily(total, LATENCY_RATE, () => server.client.create("noop", {}));
  while (started.size < total) await sleep(10);
  const createToStart = [...created].map(([uuid, at]) => (started.get(uuid) ?? Number.NaN) - at);
  report({
    bench: "latency-library",
    backend: backend.name,
    ratePerSec: LATENCY_RATE,
    jobs: total,
    createToStartMs: latencySummary(createToStart),
  });
  // From another process: what a worker's wake-up costs when it is not told in-process.
  if (backend.name !== "memory") {
    started.clear();
    // Its first second warms the producer up (JIT, connections) and is left out, as above.
    const fromOther = await createdElsewhere(urls, LATENCY_RATE + total);
    while (started.size < LATENCY_RATE + total) await sleep(10);
    const toStartElsewhere = fromOther
      .slice(LATENCY_RATE)
      .map(([uuid, at]) => (started.get(uuid) ?? Number.NaN) + performance.timeOrigin - at);
    report({
      bench: "latency-cross-process",
      backend: backend.name,
      ratePerSec: LATENCY_RATE,
      jobs: total,
      warmupJobs: LATENCY_RATE,
      createToStartMs: latencySummary(toStartElsewhere),
    });
  }
  await server.close();
}

/** `count` no-op jobs created at LATENCY_RATE by a second server in its own process (cross-process-producer.ts). */
async function createdElsewhere(urls: BenchUrls, count: number): Promise<[string, number][]> {
  const producer = fork(new URL("./cross-process-producer.ts", import.meta.url), [], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const answer = once(producer, "message");
  producer.send({ urls, count, ratePerSec: LATENCY_RATE });
  const [created] = (await answer) as [[string, number][]];
  return created;
}

/** POSTs `count` no-op jobs at a steady LATENCY_RATE; resolves with each uuid's send time. */
function steadyPosts(base: string, count: number): Promise<Map<string, number>> {
  return steadily(count, LATENCY_RATE, async () => {
    const res = await fetch(`${base}/job/noop`, {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    return ((await res.json()) as { uuid: string }).uuid;
  });
}
