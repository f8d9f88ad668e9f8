import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { JobDocument } from "zerog";
import { privateBeanstalkd } from "../helpers/beanstalkd.ts";
import { type RunningCli, startServe } from "../helpers/cli.ts";
import { namespacedUrl, serviceUrl } from "../helpers/services.ts";
import { until } from "../helpers/wait.ts";

const dir = mkdtempSync(join(tmpdir(), "zerog-restart-"));
const running: RunningCli[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const r of running) r.proc.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
  await Promise.all(cleanups.map((c) => c()));
});

const postgres = await serviceUrl("postgres");
const redis = await serviceUrl("redis");
const beanstalkd = await privateBeanstalkd();
if (beanstalkd) cleanups.push(() => beanstalkd.destroy());
const both = (url: string | null) => (url === null ? null : { datastore: url, queue: url });
const backends: { name: string; urls: () => { datastore: string; queue: string } | null }[] = [
  { name: "sqlite", urls: () => both(`sqlite:${join(dir, "zerog.db")}`) },
  { name: "postgres", urls: () => both(postgres ? track(namespacedUrl("postgres", postgres)) : null) },
  { name: "redis", urls: () => both(redis ? track(namespacedUrl("redis", redis)) : null) },
  {
    name: "beanstalkd queue, sqlite datastore",
    urls: () => (beanstalkd ? { datastore: `sqlite:${join(dir, "bs.db")}`, queue: beanstalkd.url } : null),
  },
];

function track(ns: { url: string; drop(): Promise<void> }): string {
  cleanups.push(ns.drop);
  return ns.url;
}

const getJson = async (url: string) => (await (await fetch(url)).json()) as Record<string, unknown>;

for (const backend of backends) {
  const urls = backend.urls();
  // Skipped only when the service is not running and CI is not set (serviceUrl and privateBeanstalkd fail the run under CI=true).
  describe.skipIf(urls === null)(`a server killed with SIGKILL mid-job (${backend.name})`, () => {
    it("leaves the job to a restarted server, which records the kill and finishes it", async () => {
      const serve = async () => {
        const r = await startServe([
          "--jobs",
          "test/helpers/test-jobs.ts",
          "--datastore",
          `${urls?.datastore}`,
          "--queue",
          `${urls?.queue}`,
          "--ttr",
          "1",
        ]);
        running.push(r);
        return r;
      };
      const first = await serve();
      const res = await fetch(`${first.url}/job/slow`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ms: 120_000, slowRuns: 1 }),
      });
      expect(res.status).toBe(201);
      const { uuid } = (await res.json()) as { uuid: string };
      // Wait until the run's first log line is persisted (writes are coalesced for up to 100 ms).
      await until(async () => {
        const doc = (await getJson(`${first.url}/dump/${uuid}?showLogs=true`)) as unknown as JobDocument;
        return doc.running && doc.events.length > 0 ? true : undefined;
      }, "job to start");

      first.proc.kill("SIGKILL");
      expect(await first.exited).toBe("SIGKILL");

      const second = await serve();
      const progress = await until(async () => {
        const p = await getJson(`${second.url}/progress/${uuid}`);
        return p.result === -1 ? undefined : p;
      }, "job to finish on the restarted server");
      expect(progress).toEqual({ completeness: 1, result: 200 });
      const doc = (await getJson(`${second.url}/dump/${uuid}?showLogs=true`)) as unknown as JobDocument;
      expect(doc.errors).toEqual([expect.objectContaining({ errorCode: 500, msg: "job was killed" })]);
      expect(doc.events.map((e) => e.msg)).toEqual(["started sleeping", "Killed - restarting"]);
      expect(doc.attempt).toBe(2);
      expect(doc.running).toBe(false);

      // SIGTERM: a graceful shutdown that exits cleanly.
      second.proc.kill("SIGTERM");
      expect(await second.exited).toBe(0);
      expect(second.lines.some((l) => l.includes('"msg":"shut down"'))).toBe(true);
    });
  });
}
