// BullMQ's add → start latency at the same steady rate as ZeroG's latency bench (which also pays an
// HTTP round trip per job, so ZeroG's figure is the harder one): p50/p90/p99/max ms.
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Queue, Worker } from "bullmq";
import { latencySummary, steadily } from "../stats.ts";

export async function bullmqLatency(
  redisUrl: string,
  ratePerSec: number,
  jobs: number,
  concurrency: number,
): Promise<{ p50: number; p90: number; p99: number; max: number }> {
  const { hostname, port } = new URL(redisUrl);
  const connection = { host: hostname, port: Number(port || 6379), maxRetriesPerRequest: null };
  const name = `zerog_bench_lat_${randomBytes(4).toString("hex")}`;
  const queue = new Queue(name, { connection });
  const sent = new Map<string, number>();
  const waits: number[] = [];
  let done = (): void => undefined;
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  const worker = new Worker(
    name,
    async (job) => {
      const at = sent.get(job.id ?? "");
      if (at !== undefined) waits.push(performance.now() - at);
      if (waits.length === jobs) done();
      return 200;
    },
    { connection, concurrency },
  );
  await worker.waitUntilReady();
  await steadily(jobs, ratePerSec, async (i) => {
    const id = `j${i}`;
    sent.set(id, performance.now());
    await queue.add("noop", {}, { jobId: id });
    return id;
  });
  await all;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return latencySummary(waits);
}
