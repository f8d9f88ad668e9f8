import { afterAll, describe, expect, it } from "vitest";
import { Server } from "zerog";
import { type PrivateService, privatePostgres, privateRedis } from "../helpers/private-services.ts";
import { TEST_JOBS } from "../helpers/test-jobs.ts";
import { until } from "../helpers/wait.ts";

const services: PrivateService[] = [];
afterAll(async () => {
  await Promise.all(services.map((s) => s.destroy()));
});

/** A request that hangs is a failure too: give up after a bound well beyond any healthy answer. */
const call = (url: string, init: RequestInit = {}) => fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });

const cases = [
  { name: "postgres", start: privatePostgres },
  { name: "redis", start: privateRedis },
];

for (const c of cases) {
  describe(`${c.name} going away mid-run`, () => {
    it("answers 503 meanwhile, then resumes with no job lost", { timeout: 120_000 }, async () => {
      const service = await c.start();
      services.push(service);
      const server = new Server({
        jobs: TEST_JOBS,
        datastore: service.url,
        queue: service.url,
        concurrency: 2,
        ttrSeconds: 2,
        maxBackoffMs: 300,
        errorRetryDelaySeconds: 0,
      });
      const base = await server.listen({ port: 0 });
      try {
        const post = async () => {
          const res = await call(`${base}/job/slow`, { method: "POST", body: JSON.stringify({ ms: 150 }) });
          expect(res.status).toBe(201);
          return ((await res.json()) as { uuid: string }).uuid;
        };
        const uuids: string[] = [];
        for (let i = 0; i < 10; i++) uuids.push(await post());

        await service.stop();
        const refused = await call(`${base}/job/slow`, { method: "POST", body: JSON.stringify({ ms: 1 }) });
        expect(refused.status).toBe(503);
        expect(await refused.json()).toMatchObject({ error: "ZEROG_BACKEND_DOWN" });
        const unreadable = await call(`${base}/progress/${uuids[0]}`);
        expect(unreadable.status).toBe(503);

        await service.start();
        uuids.push(await post());
        for (const uuid of uuids) {
          const progress = await until(
            async () => {
              const res = await call(`${base}/progress/${uuid}`);
              if (res.status !== 200) return undefined;
              const p = (await res.json()) as { result: number };
              return p.result === -1 ? undefined : p;
            },
            `job ${uuid} to finish after the outage`,
            60_000,
          );
          expect(progress).toEqual({ completeness: 1, result: 200 });
        }
      } finally {
        await server.close();
      }
    });
  });
}
