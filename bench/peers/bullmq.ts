// BullMQ on Redis, the same no-op workload as ZeroG's: pre-fill, then time one worker until all are done.
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Queue, Worker } from "bullmq";

/**
 * Jobs/s for `jobs` pre-filled no-op jobs at `concurrency`. BullMQ's defaults keep every completed
 * job; `removeOnComplete` is how its docs advise deploying it (completed jobs deleted at once).
 */
export async function bullmqProcess(
  redisUrl: string,
  jobs: number,
  concurrency: number,
  removeOnComplete = false,
): Promise<number> {
  const { hostname, port } = new URL(redisUrl);
  const connection = { host: hostname, port: Number(port || 6379), maxRetriesPerRequest: null };
  const name = `zerog_bench_${randomBytes(4).toString("hex")}`;
  const queue = new Queue(name, { connection });
  for (let i = 0; i < jobs; i += 1000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1000, jobs - i) }, () => ({
        name: "noop",
        data: {},
        ...(removeOnComplete ? { opts: { removeOnComplete: true } } : {}),
      })),
    );
  }
  let done = 0;
  let allDone = (): void => undefined;
  const finished = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const worker = new Worker(name, async () => 200, { connection, concurrency, autorun: false });
  worker.on("completed", () => {
    if (++done === jobs) allDone();
  });
  const t = performance.now();
  void worker.run();
  await finished;
  const seconds = (performance.now() - t) / 1000;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return jobs / seconds;
}
