import { afterEach, describe, expect, it } from "vitest";
import { type JobDocument, Server } from "zerog";
import { JobWatcher } from "../helpers/job-watcher.ts";
import { PARAMS_JOBS, PARAMS_JOBS_MODULE } from "../helpers/params-jobs.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";

/**
 * A job gets its params as its schema parses the stored document at run time, in the worker's
 * process and in a job process alike. SQLite stores the document as JSON, so a date is a string
 * there and only the parse makes it a Date again.
 */
describe.each(["inline", "process"] as const)("params at run time (%s)", (isolation) => {
  let server: Server | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  async function run(type: string, params: unknown): Promise<JobDocument> {
    const url = `sqlite:${tempDbPath()}`;
    server = new Server({
      jobs: PARAMS_JOBS,
      jobModules: [PARAMS_JOBS_MODULE],
      isolation,
      datastore: url,
      queue: url,
      concurrency: 1,
      errorRetryDelaySeconds: 0,
    });
    await server.start();
    const watcher = new JobWatcher((server.worker ?? expect.fail("no worker")).events);
    const uuid = await server.client.create(type, params);
    await watcher.finished(uuid, 30_000);
    return server.client.get(uuid);
  }

  it("hands the job the parsed params: a coerced Date and the default", async () => {
    const doc = await run("parsed_params", { when: "2031-05-06T00:00:00Z" });
    expect(typeof doc.params.when).toBe("string");
    expect(doc.resultCode).toBe(200);
    expect(doc.data).toMatchObject({ isDate: true, year: 2031, n: 7 });
    const inWorker = (doc.data as { pid: number }).pid === process.pid;
    expect(inWorker).toBe(isolation === "inline");
  });

  it(
    isolation === "inline"
      ? "runs a job whose parsed params hold a function"
      : "records why a job process cannot receive params holding a function, and ends the job",
    async () => {
      const doc = await run("unsendable_params", { n: 21 });
      if (isolation === "inline") {
        expect(doc.resultCode).toBe(200);
        expect(doc.data).toEqual({ twice: 42 });
        return;
      }
      expect(doc.resultCode).toBe(500);
      expect(doc.errors.map((e) => e.msg).join("\n")).toMatch(
        /the params as the schema parsed them cannot be sent to a job process: .*could not be cloned/,
      );
    },
  );
});
