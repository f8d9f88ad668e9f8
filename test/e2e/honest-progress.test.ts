import { once } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { Server } from "zerog";
import { followJob } from "../../src/cli/follow.ts";
import { formatStatus } from "../../src/cli/jobs.ts";
import { JobWatcher } from "../helpers/job-watcher.ts";
import { PartJob } from "../helpers/part-job.ts";

describe("a finished job keeps the completeness it reached; a waiting retry says when it runs", () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function start() {
    const server = new Server({ jobs: [PartJob], datastore: "memory:", queue: "memory:", events: { pollMs: 50 } });
    closers.push(() => server.close());
    const base = await server.listen({ port: 0 });
    const worker = server.worker;
    if (!worker) throw new Error("the server has no worker");
    return { server, base, worker, watcher: new JobWatcher(worker.events) };
  }
  const info = async (base: string, uuid: string) =>
    (await (await fetch(`${base}/info/${uuid}`)).json()) as Record<string, unknown>;

  it("a job that failed at 36 %: /info, zerog status and --follow say so; /progress keeps its wire form", async () => {
    const { server, base, watcher } = await start();
    const uuid = await server.client.create("part", { after: "fail" });
    const chunks: string[] = [];
    const code = await followJob(base, uuid, { isTTY: false, write: (s: string) => chunks.push(s) });
    expect(code).toBe(500);
    await watcher.finished(uuid);
    expect(await info(base, uuid)).toMatchObject({ completeness: 1, completenessAtEnd: 0.36, result: 500 });
    expect(await (await fetch(`${base}/progress/${uuid}`)).json()).toEqual({ completeness: 1, result: 500 });
    expect(formatStatus(await server.client.get(uuid))).toMatch(/^progress {3}failed at 36%$/m);
    const lines = chunks.join("").trimEnd().split("\n");
    expect(lines.at(-1)).toBe("result 500 (failed at 36%)");
    expect(lines).not.toContain("progress 100%");
  });

  it("a job a user killed at 36 % shows 'killed at 36%'; a success shows 100%", async () => {
    const { server, base, watcher, worker } = await start();
    const started = once(worker.events, "job:started");
    const killed = await server.client.create("part", { after: "wait" });
    await started;
    await fetch(`${base}/job/${killed}`, { method: "DELETE" });
    expect((await watcher.finished(killed)).resultCode).toBe(410);
    expect(await info(base, killed)).toMatchObject({ completeness: 1, completenessAtEnd: 0.36, result: 410 });
    expect(formatStatus(await server.client.get(killed))).toMatch(/^progress {3}killed at 36%$/m);

    const ok = await server.client.create("part", { after: "finish" });
    await watcher.finished(ok);
    expect(await info(base, ok)).toMatchObject({ completeness: 1, completenessAtEnd: 0.36, result: 200 });
    expect(formatStatus(await server.client.get(ok))).toMatch(/^progress {3}100%$/m);
  });

  it("a failed run waiting for its retry: /info, the event stream, zerog status and --follow give the next attempt's time", async () => {
    const { server, base, worker } = await start();
    const requeued = once(worker.events, "job:requeued");
    const before = Date.now();
    const uuid = await server.client.create("part", { after: "fail", maxErrors: 3 });
    const [event] = (await requeued) as [{ delaySeconds: number }];
    expect(event.delaySeconds).toBe(30);
    const i = await info(base, uuid);
    expect(i).toMatchObject({ state: "delayed", result: -1, completenessAtEnd: null });
    const due = Date.parse(String(i.nextAttemptAt));
    expect(due).toBeGreaterThanOrEqual(before + 30_000);
    expect(due).toBeLessThanOrEqual(Date.now() + 30_000);
    expect(formatStatus(await server.client.get(uuid))).toMatch(
      new RegExp(`^next try {3}at ${String(i.nextAttemptAt).replaceAll(".", "\\.")} \\(in (29|30) s\\)$`, "m"),
    );

    const chunks: string[] = [];
    const stop = new AbortController();
    const follow = followJob(
      base,
      uuid,
      {
        isTTY: false,
        write: (s: string) => {
          chunks.push(s);
          if (s.startsWith("waiting: next attempt")) stop.abort();
        },
      },
      { signal: stop.signal, maxReconnects: 0 },
    ).catch(() => null);
    await follow;
    expect(chunks.join("")).toContain(`waiting: next attempt at ${String(i.nextAttemptAt)}`);
  });
});
