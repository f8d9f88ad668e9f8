import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Server } from "zerog";
import { FizzBuzzJob } from "../../examples/fizz-buzz-job.ts";
import { WasteTimeJob } from "../../examples/waste-time-job.ts";
import { startServe } from "../helpers/cli.ts";
import { JobWatcher } from "../helpers/job-watcher.ts";
import { until } from "../helpers/wait.ts";

const dir = mkdtempSync(join(tmpdir(), "zerog-examples-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the examples (the README's job runs as shown)", () => {
  it("waste_time wastes its time while logging, and fizz_buzz serves its output", async () => {
    const server = new Server({ jobs: [WasteTimeJob, FizzBuzzJob], datastore: "memory:", queue: "memory:" });
    const base = await server.listen({ port: 0 });
    const watcher = new JobWatcher(server.worker?.events ?? expect.fail("no worker"));
    try {
      const post = async (type: string, params: unknown) => {
        const res = await fetch(`${base}/job/${type}`, { method: "POST", body: JSON.stringify(params) });
        expect(res.status).toBe(201);
        return ((await res.json()) as { uuid: string }).uuid;
      };
      const waste = await post("waste_time", { delay: 0.5 });
      const fizz = await post("fizz_buzz", { n: 15 });
      await watcher.finished(waste);
      await watcher.finished(fizz);
      const info = (await (await fetch(`${base}/info/${waste}`)).json()) as {
        completeness: number;
        result: number;
        events: { msg: string }[];
      };
      expect(info.result).toBe(200);
      expect(info.completeness).toBe(1);
      expect(info.events.length).toBeGreaterThanOrEqual(5);
      expect(info.events.every((e) => /seconds remaining$/.test(e.msg))).toBe(true);
      const data = (await (await fetch(`${base}/data/${fizz}`)).json()) as { sequence: string[] };
      expect(data.sequence.slice(-3)).toEqual(["13", "14", "fizzbuzz"]);
    } finally {
      await server.close();
    }
  });

  it("plain JavaScript job classes run under `zerog serve`, continuation included", async () => {
    const db = `sqlite:${join(dir, "plain.db")}`;
    const cli = await startServe(["--jobs", "examples/plain-js-jobs.mjs", "--datastore", db, "--queue", db]);
    try {
      const res = await fetch(`${cli.url}/job/greet`, { method: "POST", body: JSON.stringify({ name: "Ada" }) });
      expect(res.status).toBe(201);
      const { uuid } = (await res.json()) as { uuid: string };
      await until(async () => {
        const p = (await (await fetch(`${cli.url}/progress/${uuid}`)).json()) as { result: number };
        return p.result === 200 ? p : undefined;
      }, "greet to finish");
      expect(await (await fetch(`${cli.url}/data/${uuid}`)).json()).toEqual({ greeting: "hello, Ada" });
      const info = (await (await fetch(`${cli.url}/info/${uuid}`)).json()) as { events: { msg: string }[] };
      expect(info.events.map((e) => e.msg)).toEqual(["first half done"]);
    } finally {
      cli.proc.kill("SIGTERM");
      expect(await cli.exited).toBe(0);
    }
  });
});
