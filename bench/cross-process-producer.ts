// The producer of the latency section's cross-process row: a second ZeroG server (API only, no
// worker) on the same backend, creating no-op jobs through its library client at a steady rate,
// as an app beside a `zerog serve` does. Forked by latency.ts; gets
// { urls, count, ratePerSec } and answers [uuid, epoch ms when its create began][].
import { performance } from "node:perf_hooks";
import { pino } from "pino";
import { Server } from "zerog";
import type { BenchUrls } from "./backends.ts";
import { NoopJob } from "./noop-job.ts";
import { steadily } from "./stats.ts";

interface Order {
  urls: BenchUrls;
  count: number;
  ratePerSec: number;
}

process.once("message", (order: Order) => {
  void produce(order).then(
    (created) => process.send?.(created, () => process.exit(0)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
});

async function produce({ urls, count, ratePerSec }: Order): Promise<[string, number][]> {
  const server = new Server({ jobs: [NoopJob], ...urls, concurrency: 0, logger: pino({ level: "silent" }) });
  await server.start();
  try {
    const created = await steadily(count, ratePerSec, () => server.client.create("noop", {}));
    // Epoch ms with the sub-millisecond part: comparable with the worker process's clock.
    return [...created].map(([uuid, at]) => [uuid, performance.timeOrigin + at]);
  } finally {
    await server.close();
  }
}
