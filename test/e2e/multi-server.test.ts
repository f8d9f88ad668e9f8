import { describe, expect, it } from "vitest";
import { type JobDocument, openBackend } from "zerog";
import { jobQueueStats } from "../../src/contracts/job-queues.ts";
import { type RunningCli, startServe } from "../helpers/cli.ts";
import { namespacedUrl, serviceUrl } from "../helpers/services.ts";
import { until } from "../helpers/wait.ts";

const JOBS = 2000;
const SERVERS = 3;
const backends = [
  { name: "postgres", base: await serviceUrl("postgres") },
  { name: "redis", base: await serviceUrl("redis") },
] as const;

for (const b of backends) {
  // Skipped only when the service is not running and CI is not set (serviceUrl fails the run under CI=true).
  describe.skipIf(b.base === null)(`${SERVERS} servers on one ${b.name}`, () => {
    it(`run ${JOBS} jobs exactly once each, none lost`, { timeout: 240_000 }, async () => {
      const ns = namespacedUrl(b.name, b.base ?? "");
      const servers: RunningCli[] = [];
      const backend = await openBackend({ datastore: ns.url, queue: ns.url });
      try {
        for (let i = 0; i < SERVERS; i++) {
          servers.push(
            await startServe([
              "--jobs",
              "test/helpers/test-jobs.ts",
              "--datastore",
              ns.url,
              "--queue",
              ns.url,
              "--concurrency",
              "4",
            ]),
          );
        }
        const uuids: string[] = [];
        for (let i = 0; i < JOBS; i += 50) {
          const batch = Array.from({ length: Math.min(50, JOBS - i) }, async (_, k) => {
            const server = servers[(i + k) % SERVERS];
            const res = await fetch(`${server?.url}/job/slow`, { method: "POST", body: JSON.stringify({ ms: 2 }) });
            expect(res.status).toBe(201);
            return ((await res.json()) as { uuid: string }).uuid;
          });
          uuids.push(...(await Promise.all(batch)));
        }
        expect(new Set(uuids).size).toBe(JOBS);
        await until(
          async () => {
            const s = (await jobQueueStats(backend.queue, "zerog_jobs", ["slow"])).total;
            return s.ready + s.delayed + s.reserved + s.buried === 0 ? true : undefined;
          },
          "every queue entry to be settled",
          200_000,
        );
        const docs: JobDocument[] = [];
        for (const uuid of uuids) {
          const read = await backend.datastore.read(uuid);
          if (read) docs.push(read.value);
        }
        expect(docs).toHaveLength(JOBS);
        // Exactly once: one attempt each, no run taken for dead, every one finished with 200.
        expect(docs.filter((d) => d.attempt !== 1 || d.resultCode !== 200 || d.errors.length > 0)).toEqual([]);
        expect(docs.every((d) => d.events.map((e) => e.msg).join() === "started sleeping")).toBe(true);
        // Every server took a share.
        expect(new Set(docs.map((d) => d.workerId)).size).toBe(SERVERS);
      } finally {
        for (const s of servers) s.proc.kill("SIGTERM");
        await Promise.all(servers.map((s) => s.exited));
        await backend.close();
        await ns.drop();
      }
    });
  });
}
