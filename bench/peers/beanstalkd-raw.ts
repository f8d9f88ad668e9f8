// A bare Beanstalkd client on the same no-op workload: put every job, then `concurrency`
// connections each reserve and delete until all are done. No documents, no state: the floor
// that ZeroG's Beanstalkd queue (with its SQLite documents) is measured against. It uses the
// built package's own protocol client, which pipelines like any good client.
import { performance } from "node:perf_hooks";

const client = new URL("../../dist/backends/beanstalkd/client.js", import.meta.url).href;
const { BeanstalkClient } = (await import(client)) as typeof import("../../src/backends/beanstalkd/client.ts");

const TUBE = "zerog_bench_raw";

/** Jobs/s for `jobs` pre-filled jobs at `concurrency` on the beanstalkd at `queueUrl`. */
export async function beanstalkdRawProcess(queueUrl: string, jobs: number, concurrency: number): Promise<number> {
  const { hostname, port } = new URL(queueUrl);
  const opts = { host: hostname, port: Number(port || 11300) };
  const producer = new BeanstalkClient(opts);
  await producer.use(TUBE);
  const params = { priority: 1024, delaySeconds: 0, ttrSeconds: 60 };
  for (let i = 0; i < jobs; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, jobs - i) }, () => producer.put("{}", params)));
  }
  const consumers = Array.from({ length: concurrency }, () => new BeanstalkClient(opts));
  await Promise.all(consumers.map(async (c) => Promise.all([c.watch(TUBE), c.ignore("default")])));
  let left = jobs;
  const t = performance.now();
  await Promise.all(
    consumers.map(async (c) => {
      while (left > 0) {
        const r = await c.reserveWithTimeout(0);
        if (r.kind !== "reserved") return;
        left--;
        await c.delete(r.job.id);
      }
    }),
  );
  const seconds = (performance.now() - t) / 1000;
  for (const c of [producer, ...consumers]) c.close();
  if (left > 0) throw new Error(`beanstalkd raw client: ${left} jobs were never reserved`);
  return jobs / seconds;
}
