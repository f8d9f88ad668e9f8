import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FleetOverview, type JobDocument, Server } from "zerog";
import { queueBodyOf } from "../../src/contracts/backend.ts";
import { uuidv7 } from "../../src/internal/uuid7.ts";
import { newJobDocument } from "../../src/job/new-document.ts";
import { JobWatcher } from "../helpers/job-watcher.ts";
import { TEST_JOBS, TEST_JOBS_MODULE } from "../helpers/test-jobs.ts";
import { nextEvent } from "../helpers/wait.ts";

export interface EndToEndOptions {
  name: string;
  /** Datastore and queue URL(s) of a fresh, empty backend. */
  urls: () => { datastore: string; queue: string };
  /** Removes what the backend left (a schema, a key prefix), after the suite. */
  cleanup?: () => Promise<void>;
  /** Where jobs run. @defaultValue "inline" */
  isolation?: "process" | "inline";
}

interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
}

/** Every outcome-table row, endpoint and bad input over real HTTP, against one backend. */
export function describeEndToEnd(opts: EndToEndOptions): void {
  const isolation = opts.isolation ?? "inline";
  describe(`end to end over HTTP: ${opts.name}, jobs ${isolation}`, () => {
    let server: Server;
    let base: string;
    let watcher: JobWatcher;

    beforeAll(async () => {
      server = new Server({
        jobs: TEST_JOBS,
        ...opts.urls(),
        concurrency: 4,
        ttrSeconds: 1,
        requeueDelaySeconds: 0,
        errorRetryDelaySeconds: 0,
        unloadableRetryDelaySeconds: 0,
        bodyLimitBytes: 4096,
        progressFlushMs: 20,
        killPollMs: 50,
        isolation,
        jobModules: [TEST_JOBS_MODULE],
      });
      await server.start();
      if (!server.worker) throw new Error("expected a worker");
      watcher = new JobWatcher(server.worker.events);
      base = await server.listen({ port: 0, host: "127.0.0.1" });
    });
    afterAll(async () => {
      await server?.close();
      await opts.cleanup?.();
    });

    const call = async (method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : null } as Reply;
    };
    const post = (type: string, params: unknown) =>
      call("POST", `/job/${type}`, JSON.stringify(params), { "content-type": "application/json" });
    /** Posts a job, waits for it to finish, and returns its whole document. */
    const runJob = async (type: string, params: unknown): Promise<JobDocument> => {
      const res = await post(type, params);
      expect(res.status).toBe(201);
      const { uuid } = res.body as { uuid: string };
      await watcher.finished(uuid);
      return dump(uuid);
    };
    const dump = async (uuid: string): Promise<JobDocument> => {
      const res = await call("GET", `/dump/${uuid}?showLogs=true`);
      expect(res.status).toBe(200);
      return res.body as JobDocument;
    };
    const msgs = (entries: { msg: string }[]) => entries.map((e) => e.msg);
    /** Stores a document and its queue entry directly, as another (older, broken, killed) process might have. */
    const plant = async (over: Partial<JobDocument>): Promise<string> => {
      const doc = {
        ...newJobDocument({
          jobType: "return_value",
          params: {},
          queueName: "zerog_jobs",
          queueKwargs: { priority: 1024, ttrSeconds: 1 },
          nowMs: Date.now(),
        }),
        ...over,
      };
      await server.backend.createJob(doc, { ttrSeconds: 1 });
      return doc.uuid;
    };
    const counts = async () => ({
      docs: (await server.backend.datastore.list({ limit: 100_000 })).length,
      queue: await server.manager.queueDepth(),
    });

    describe("outcome table (docs/job-states.md)", () => {
      it("finishes with the code run() returns, in every shape", async () => {
        const cases: [unknown, number][] = [
          [201, 201],
          ["404", 404],
          [[202, null], 202],
          [undefined, 200],
          [{ some: "object" }, 200],
        ];
        for (const [ret, code] of cases) {
          const doc = await runJob("return_value", ret === undefined ? {} : { ret });
          expect(doc.resultCode).toBe(code);
          expect(doc.completeness).toBe(1);
          expect(doc.running).toBe(false);
          expect(doc.state).toBe("finished");
          expect(doc.finishedAt).not.toBeNull();
        }
      });

      it("requeues on NO_RESULT and runs again with the persisted state", async () => {
        const doc = await runJob("continuation", { runs: 3 });
        expect(doc.resultCode).toBe(200);
        expect(doc.attempt).toBe(3);
        expect(msgs(doc.events)).toEqual(["run 1", "run 2", "run 3"]);
        expect(doc.completeness).toBe(1);
      });

      it("waits out the delay a NO_RESULT asks for", async () => {
        const requeues: { uuid: string; delaySeconds: number }[] = [];
        server.worker?.events.on("job:requeued", (r) => requeues.push(r));
        const res = await post("continuation", { runs: 2, delay: 1 });
        const { uuid } = res.body as { uuid: string };
        await expect.poll(() => requeues.find((r) => r.uuid === uuid)?.delaySeconds).toBe(1);
        expect((await dump(uuid)).state).toBe("delayed");
        await watcher.finished(uuid);
        const doc = await dump(uuid);
        // The second run started only after the 1 s delay (startedAt is the latest run's start).
        expect(Date.parse(doc.startedAt ?? "") - Date.parse(doc.createdAt)).toBeGreaterThanOrEqual(950);
        expect(doc.attempt).toBe(2);
      });

      it("raiseErrorFinish records the error and finishes with its code", async () => {
        const doc = await runJob("raise", { kind: "errorFinish", code: 422 });
        expect(doc.resultCode).toBe(422);
        expect(doc.errors).toEqual([expect.objectContaining({ errorCode: 422, msg: "errorFinish on run 1" })]);
        expect(msgs(doc.events)).toEqual(["Error - finished"]);
        expect(doc.attempt).toBe(1);
      });

      it("raiseWarningFinish records the warning and finishes with its code", async () => {
        const doc = await runJob("raise", { kind: "warningFinish", code: 299 });
        expect(doc.resultCode).toBe(299);
        expect(msgs(doc.warnings)).toEqual(["warningFinish on run 1"]);
        expect(doc.errorCount).toBe(0);
        expect(msgs(doc.events)).toEqual(["Error - finished"]);
      });

      it("raiseErrorContinue restarts until continueRunning() says stop (maxErrors)", async () => {
        const doc = await runJob("raise", { kind: "errorContinue", code: 503 });
        expect(doc.resultCode).toBe(500);
        expect(doc.errorCount).toBe(3);
        expect(doc.attempt).toBe(3);
        expect(msgs(doc.events)).toEqual(["Error - restarting", "Error - restarting"]);
      });

      it("raiseErrorContinue then success finishes with the success", async () => {
        const doc = await runJob("raise", { kind: "errorContinue", succeedOnRun: 2 });
        expect(doc.resultCode).toBe(200);
        expect(doc.errorCount).toBe(1);
        expect(msgs(doc.events)).toEqual(["Error - restarting"]);
      });

      it("raiseWarningContinue restarts without counting an error", async () => {
        const doc = await runJob("raise", { kind: "warningContinue", succeedOnRun: 3 });
        expect(doc.resultCode).toBe(200);
        expect(doc.errorCount).toBe(0);
        expect(msgs(doc.warnings)).toEqual(["warningContinue on run 1", "warningContinue on run 2"]);
        expect(msgs(doc.events)).toEqual(["Error - restarting", "Error - restarting"]);
      });

      it("records any other exception as error 500 with its stack, then retries", async () => {
        const doc = await runJob("raise", { kind: "throw", succeedOnRun: 2 });
        expect(doc.resultCode).toBe(200);
        expect(doc.errors).toHaveLength(1);
        expect(doc.errors[0]?.errorCode).toBe(500);
        expect(doc.errors[0]?.msg).toMatch(/^TypeError: throw on run 1\n\s+at /);
      });

      it("records a thrown non-error too", async () => {
        const doc = await runJob("raise", { kind: "throwString", succeedOnRun: 2 });
        expect(doc.errors[0]?.msg).toContain("throwString on run 1");
        expect(doc.resultCode).toBe(200);
      });

      it("finishes with 500 once a class's maxErrors is reached", async () => {
        const doc = await runJob("fragile", {});
        expect(doc.resultCode).toBe(500);
        expect(doc.errorCount).toBe(1);
        expect(doc.attempt).toBe(1);
      });

      it("waits before each retry as the class's retry policy says (exponential, capped), not errorRetryDelaySeconds", async () => {
        const doc = await runJob("backoff", {});
        expect(doc).toMatchObject({ resultCode: 500, errorCount: 4, attempt: 4 });
        const delays = watcher.requeued.filter((r) => r.uuid === doc.uuid).map((r) => r.delaySeconds);
        expect(delays).toEqual([0.05, 0.1, 0.15]);
        expect(msgs(doc.events)).toEqual(["Error - restarting", "Error - restarting", "Error - restarting"]);
      });

      it("a job whose previous run was killed is recorded and restarted", async () => {
        const uuid = await plant({ running: true, attempt: 1, state: "running", params: { ret: 203 } });
        await watcher.finished(uuid);
        const doc = await dump(uuid);
        expect(doc.errors).toEqual([expect.objectContaining({ errorCode: 500, msg: "job was killed" })]);
        expect(msgs(doc.events)).toEqual(["Killed - restarting"]);
        expect(doc.resultCode).toBe(203);
        expect(doc.attempt).toBe(2);
      });

      it("a killed job out of retries finishes with 500 without running", async () => {
        const uuid = await plant({ running: true, attempt: 3, errorCount: 2, state: "running" });
        await watcher.finished(uuid);
        const doc = await dump(uuid);
        expect(doc.resultCode).toBe(500);
        expect(doc.errorCount).toBe(3);
        expect(doc.attempt).toBe(3);
        expect(msgs(doc.events)).toEqual([]);
      });

      it("a job killed by a user while it runs stops and ends with 410", async () => {
        const res = await post("slow", { ms: 30_000 });
        const { uuid } = res.body as { uuid: string };
        await expect.poll(() => watcher.started.includes(uuid)).toBe(true);
        expect(await server.client.kill(uuid)).toBe("stopping");
        expect((await watcher.finished(uuid)).resultCode).toBe(410);
        const doc = await dump(uuid);
        expect(doc.resultCode).toBe(410);
        expect(doc.errors).toEqual([expect.objectContaining({ errorCode: 410, msg: "Killed by user" })]);
        expect(doc.running).toBe(false);
        expect(doc.queueJobId).not.toBeNull();
        expect(await server.backend.queue.entryStats(doc.queueJobId ?? "")).toBeNull();
      });

      it("lists this server's worker with its running job and the queue depth; kills the job over REST", async () => {
        const res = await post("slow", { ms: 30_000 });
        const { uuid } = res.body as { uuid: string };
        const id = server.worker?.id ?? expect.fail("no worker");
        const mine = async () =>
          ((await call("GET", "/workers")).body as FleetOverview).workers.find((w) => w.workerId === id);
        await expect.poll(async () => (await mine())?.running.map((r) => r.uuid) ?? []).toContain(uuid);
        expect((await mine())?.state).toBe("activeRunning");
        const overview = (await call("GET", "/workers")).body as FleetOverview;
        expect(overview.queue.queue).toBe("zerog_jobs");
        expect(overview.queue.reserved).toBeGreaterThanOrEqual(1);
        expect(overview.hosts.find((h) => h.workers.some((w) => w.workerId === id))?.running).toBeGreaterThanOrEqual(1);
        expect((await call("POST", `/job/${uuid}/kill`)).body).toEqual({ uuid, result: "stopping" });
        expect((await watcher.finished(uuid)).resultCode).toBe(410);
      });

      it("a drained worker takes no job until undrained", async () => {
        const worker = server.worker ?? expect.fail("no worker");
        const id = worker.id;
        const state = async () =>
          ((await call("GET", "/workers")).body as FleetOverview).workers.find((w) => w.workerId === id)?.state;
        const drained = nextEvent(worker.events, "worker:drained");
        expect((await call("POST", `/workers/${id}/drain`)).status).toBe(202);
        await expect.poll(state).toMatch(/^draining(Idle|Running)$/);
        // Created while the slots stop: a reserve still waiting would take it before they all stop.
        const { uuid } = (await post("return_value", { ret: 200 })).body as { uuid: string };
        await drained; // every slot has stopped reserving
        const doc = await dump(uuid);
        expect(doc.state).toBe("queued");
        expect((await server.backend.queue.entryStats(doc.queueJobId ?? ""))?.state).toBe("ready");
        expect((await call("POST", `/workers/${id}/undrain`)).status).toBe(202);
        expect((await watcher.finished(uuid)).resultCode).toBe(200);
        await expect.poll(state).toMatch(/^active/);
      });

      it("a job killed while it waits never runs", async () => {
        const uuid = await server.client.create("return_value", { ret: 201 }, { delaySeconds: 60 });
        expect(await server.client.kill(uuid)).toBe("killed");
        const doc = await dump(uuid);
        expect(doc).toMatchObject({ resultCode: 410, state: "finished", attempt: 0 });
        expect(await server.client.kill(uuid)).toBe("finished");
        await expect(server.client.kill(randomUUID())).rejects.toMatchObject({ code: "ZEROG_JOB_NOT_FOUND" });
        // A kill recorded while no worker held the job (say, its worker died) is honoured on the next reserve.
        const planted = await plant({ killRequested: true, running: true, attempt: 1, state: "running" });
        expect((await watcher.finished(planted)).resultCode).toBe(410);
        expect((await dump(planted)).attempt).toBe(1);
      });

      it("an entry whose job cannot be loaded is retried, then buried", async () => {
        const missing = randomUUID();
        const entryId = await server.backend.queue.put("zerog_jobs", queueBodyOf(missing), { ttrSeconds: 1 });
        const unknownType = await plant({ jobType: "no_such_type" });
        const corrupt = await plant({ jobType: "continuation", params: { runs: "many" } });
        for (const needle of [missing, unknownType, corrupt]) {
          await expect
            .poll(() => watcher.unloadable.filter((u) => u.reason.includes(needle)).map((u) => u.action), {
              timeout: 10_000,
            })
            .toEqual(["released", "released", "released", "buried"]);
        }
        const stats = await server.backend.queue.entryStats(entryId);
        expect(stats?.state).toBe("buried");
        expect(stats?.reserves).toBe(4);
        expect(watcher.unloadable.find((u) => u.reason.includes(unknownType))?.reason).toMatch(/unknown job type/);
        expect(watcher.unloadable.find((u) => u.reason.includes(corrupt))?.reason).toMatch(/params no longer match/);
        // A buried job with a document says why on the document, and is finished with 500.
        for (const uuid of [unknownType, corrupt]) {
          const doc = await dump(uuid);
          expect(doc.resultCode).toBe(500);
          expect(doc.state).toBe("finished");
          // Never started: a backend that claims with its reserve put the claim back.
          expect(doc).toMatchObject({ attempt: 0, running: false, startedAt: null, workerId: null });
          expect(doc.errors).toEqual([
            expect.objectContaining({ errorCode: 500, msg: expect.stringMatching(/^job cannot be loaded: /) }),
          ]);
        }
      });

      it("drops at once the entry of a job whose document was removed (a job made over a minute ago)", async () => {
        // A document removed by retention or a purge while a stray entry of its job was left.
        const removed = uuidv7(Date.now() - 120_000);
        const entryId = await server.backend.queue.put("zerog_jobs", queueBodyOf(removed), { ttrSeconds: 1 });
        await expect.poll(() => watcher.dropped.map((d) => d.uuid), { timeout: 10_000 }).toContain(removed);
        expect(watcher.dropped.find((d) => d.uuid === removed)?.entryId).toBe(entryId);
        expect(await server.backend.queue.entryStats(entryId)).toBeNull();
        expect(watcher.unloadable.filter((u) => u.reason.includes(removed))).toEqual([]);
      });

      it("keeps a job that runs past its TTR alive without the job's help", async () => {
        const doc = await runJob("slow", { ms: 2500 });
        expect(doc.resultCode).toBe(200);
        expect(doc.attempt).toBe(1);
        expect(doc.errors).toEqual([]);
      });

      it("fences off a run whose job was taken over: it writes nothing more", async () => {
        const res = await post("slow", { ms: 1500 });
        const { uuid } = res.body as { uuid: string };
        await expect.poll(() => watcher.started.includes(uuid)).toBe(true);
        // Another worker takes the job over and finishes it while this run still sleeps.
        const cur = await server.backend.datastore.read(uuid);
        if (!cur) throw new Error("missing");
        await server.backend.datastore.replace(
          { ...cur.value, attempt: cur.value.attempt + 1, running: false, state: "finished", resultCode: 299 },
          cur.cas,
        );
        await expect.poll(() => watcher.fenced.includes(uuid), { timeout: 10_000 }).toBe(true);
        const doc = await dump(uuid);
        expect(doc.resultCode).toBe(299);
        expect(doc.completeness).toBe(0);
        // The entry it left reserved comes back after its TTR and is dropped as already finished.
        await watcher.finished(uuid);
        expect(doc.queueJobId).not.toBeNull();
        expect(await server.backend.queue.entryStats(doc.queueJobId ?? "")).toBeNull();
      });
    });

    describe("pausing a job type (docs/api.md)", () => {
      /** Resolves once this server's worker has applied a paused set where `jobType` is paused (or not). */
      const applied = (jobType: string, paused: boolean): Promise<void> => {
        const events = server.worker?.events ?? expect.fail("no worker");
        if (server.worker?.pausedTypes.includes(jobType) === paused) return Promise.resolve();
        return new Promise((resolve) => {
          const on = ({ pausedTypes }: { pausedTypes: string[] }): void => {
            if (pausedTypes.includes(jobType) !== paused) return;
            events.off("worker:paused", on);
            resolve();
          };
          events.on("worker:paused", on);
        });
      };
      const typesRow = async (jobType: string) =>
        ((await call("GET", "/jobtypes")).body as { jobType: string; paused: boolean }[]).find(
          (t) => t.jobType === jobType,
        );

      it("holds a paused type's new jobs while later jobs of other types run, shows it, and runs them once resumed", async () => {
        const paused = applied("progress", true);
        expect(await call("POST", "/jobtypes/progress/pause")).toMatchObject({
          status: 200,
          body: { jobType: "progress", paused: true },
        });
        // Idempotent.
        expect((await call("POST", "/jobtypes/progress/pause")).body).toEqual({ jobType: "progress", paused: true });
        let heldUuid = "";
        try {
          await paused;
          // More urgent than every job after it: a worker that ignored the pause would take it first.
          const held = await call("POST", "/job/progress?priority=0", JSON.stringify({ ticks: 5 }));
          expect(held.status).toBe(201);
          heldUuid = (held.body as { uuid: string }).uuid;
          for (let i = 0; i < 5; i++) expect((await runJob("return_value", { ret: 200 + i })).resultCode).toBe(200 + i);
          expect(watcher.started).not.toContain(heldUuid);
          expect((await dump(heldUuid)).state).toBe("queued");

          expect(await typesRow("progress")).toMatchObject({ paused: true });
          expect(await typesRow("return_value")).toMatchObject({ paused: false });
          const overview = (await call("GET", "/workers")).body as FleetOverview;
          expect(overview.pausedTypes).toEqual(["progress"]);
          // The waiting job is counted: the depth sums every type's queue and the base queue.
          expect(overview.queue.ready).toBeGreaterThanOrEqual(1);
          const mine = overview.workers.find((w) => w.workerId === server.worker?.id);
          expect(mine?.pausedTypes).toEqual(["progress"]);
          const metrics = await (await fetch(`${base}/metrics`)).text();
          expect(metrics).toContain('zerog_job_type_paused{job_type="progress"} 1');
          expect(metrics).toContain('zerog_job_type_paused{job_type="return_value"} 0');
          expect(metrics).toMatch(/^zerog_job_type_queue_depth\{job_type="progress",state="ready"\} [1-9]/m);
        } finally {
          const resumed = applied("progress", false);
          expect(await call("POST", "/jobtypes/progress/resume")).toMatchObject({
            status: 200,
            body: { jobType: "progress", paused: false },
          });
          await resumed;
        }
        expect((await watcher.finished(heldUuid)).resultCode).toBe(201);
        expect((await call("POST", "/jobtypes/progress/resume")).body).toEqual({ jobType: "progress", paused: false });
        expect(await typesRow("progress")).toMatchObject({ paused: false });
        expect(((await call("GET", "/workers")).body as FleetOverview).pausedTypes).toEqual([]);
      });

      it("lets a running job of a type paused meanwhile finish, and refuses an unknown type", async () => {
        const res = await post("slow", { ms: 600 });
        const { uuid } = res.body as { uuid: string };
        await expect.poll(() => watcher.started.includes(uuid)).toBe(true);
        const paused = applied("slow", true);
        expect((await call("POST", "/jobtypes/slow/pause")).status).toBe(200);
        try {
          await paused;
          expect((await watcher.finished(uuid)).resultCode).toBe(200);
        } finally {
          const resumed = applied("slow", false);
          await call("POST", "/jobtypes/slow/resume");
          await resumed;
        }
        for (const action of ["pause", "resume"]) {
          const unknown = await call("POST", `/jobtypes/no_such_type/${action}`);
          expect(unknown).toMatchObject({ status: 404, body: { error: "ZEROG_UNKNOWN_JOB_TYPE" } });
        }
        expect(((await call("GET", "/workers")).body as FleetOverview).pausedTypes).toEqual([]);
      });
    });

    describe("REST API", () => {
      it("reports progress, info, data and dump", async () => {
        const doc = await runJob("progress", { ticks: 400 });
        const uuid = doc.uuid;
        expect(doc.completeness).toBe(1);
        expect(doc.tickcount).toBe(400);
        expect((await call("GET", `/progress/${uuid}`)).body).toEqual({ completeness: 1, result: 201 });
        const info = (await call("GET", `/info/${uuid}`)).body as Record<string, unknown>;
        expect(info).toMatchObject({ completeness: 1, result: 201 });
        expect(msgs(info.events as { msg: string }[])).toEqual(["ticked"]);
        expect(msgs(info.warnings as { msg: string }[])).toEqual(["careful"]);
        expect(info.errors).toEqual([expect.objectContaining({ errorCode: 12, msg: "recoverable" })]);
        expect((await call("GET", `/data/${uuid}`)).body).toEqual({ answer: 42, doubled: 84 });
        const bare = (await call("GET", `/dump/${uuid}`)).body as Record<string, unknown>;
        expect(bare).toMatchObject({ uuid, jobType: "progress", params: { ticks: 400 }, resultCode: 201 });
        expect(bare).not.toHaveProperty("events");
        expect(bare).not.toHaveProperty("errors");
        for (const field of [
          "schemaVersion",
          "logId",
          "createdAt",
          "updatedAt",
          "queueName",
          "queueKwargs",
          "queueJobId",
        ]) {
          expect(bare).toHaveProperty(field);
        }
      });

      it("shows progress while a job runs", async () => {
        const res = await post("slow", { ms: 800 });
        const { uuid } = res.body as { uuid: string };
        await expect.poll(() => watcher.started.includes(uuid)).toBe(true);
        expect((await call("GET", `/progress/${uuid}`)).body).toEqual({ completeness: 0, result: -1 });
        expect((await dump(uuid)).running).toBe(true);
        await watcher.finished(uuid);
        expect((await call("GET", `/progress/${uuid}`)).body).toEqual({ completeness: 1, result: 200 });
      });

      it("accepts params whatever the content type says, and an empty body as {}", async () => {
        const form = await call("POST", "/job/return_value", '{"ret": 7}', {
          "content-type": "application/x-www-form-urlencoded",
        });
        expect(form.status).toBe(201);
        const empty = await call("POST", "/job/return_value");
        expect(empty.status).toBe(201);
        await watcher.finished((empty.body as { uuid: string }).uuid);
      });

      it("answers 404 JSON for unknown and malformed uuids", async () => {
        for (const path of ["progress", "info", "data", "dump"]) {
          const unknown = await call("GET", `/${path}/${randomUUID()}`);
          expect(unknown.status).toBe(404);
          expect(unknown.body).toMatchObject({ error: "ZEROG_JOB_NOT_FOUND" });
          const malformed = await call("GET", `/${path}/not-a-uuid`);
          expect(malformed.status).toBe(404);
          expect(malformed.body).toMatchObject({ error: "ZEROG_JOB_NOT_FOUND" });
        }
      });

      it("rejects bad requests with a JSON error, and persists nothing", async () => {
        const before = await counts();
        const badJson = await call("POST", "/job/return_value", "{not json", { "content-type": "application/json" });
        expect(badJson.status).toBe(400);
        expect(badJson.body).toMatchObject({ error: "ZEROG_INVALID_JSON" });

        const badParams = await post("continuation", { runs: 0, delay: "x" });
        expect(badParams.status).toBe(400);
        expect(badParams.body).toMatchObject({ error: "ZEROG_INVALID_PARAMS" });
        const issues = (badParams.body as { issues: { path: string; message: string }[] }).issues;
        expect(issues.map((i) => i.path).sort()).toEqual(["delay", "runs"]);
        expect(issues.every((i) => i.message.length > 0)).toBe(true);

        const nullBody = await post("continuation", null);
        expect(nullBody.status).toBe(400);
        expect(nullBody.body).toMatchObject({ error: "ZEROG_INVALID_PARAMS" });

        const badEscape = await call("GET", "/progress/%zz");
        expect(badEscape.status).toBe(400);
        expect(badEscape.body).toMatchObject({ error: "ZEROG_BAD_REQUEST" });

        const notObject = await post("continuation", [1, 2]);
        expect(notObject.status).toBe(400);
        expect(notObject.body).toMatchObject({ error: "ZEROG_INVALID_PARAMS" });

        const unknownType = await post("no_such_job", {});
        expect(unknownType.status).toBe(404);
        expect(unknownType.body).toMatchObject({ error: "ZEROG_UNKNOWN_JOB_TYPE" });

        const tooLarge = await post("return_value", { ret: "x".repeat(5000) });
        expect(tooLarge.status).toBe(413);
        expect(tooLarge.body).toMatchObject({ error: "ZEROG_BODY_TOO_LARGE" });

        const noRoute = await call("GET", "/nowhere");
        expect(noRoute.status).toBe(404);
        expect(noRoute.body).toMatchObject({ error: "ZEROG_ROUTE_NOT_FOUND" });
        expect(noRoute.headers.get("content-type")).toMatch(/application\/json/);

        expect(await counts()).toEqual(before);
      });

      it("lists jobs by state and type, a page at a time, from GET /jobs", async () => {
        const ok = await runJob("return_value", { ret: 200 });
        const failed = await runJob("return_value", { ret: 503 });
        const delayed = await Promise.all(
          [1, 2, 3].map(async () => {
            const res = await call("POST", "/job/slow?delay=3600&priority=5", JSON.stringify({ ms: 1 }));
            expect(res.status).toBe(201);
            return (res.body as { uuid: string }).uuid;
          }),
        );
        type Page = {
          jobs: { uuid: string; state: string; jobType: string; resultCode: number }[];
          nextCursor: string | null;
        };
        const list = async (query: string) => {
          const res = await call("GET", `/jobs?${query}`);
          expect(res.status).toBe(200);
          return res.body as Page;
        };
        const finished = await list("state=finished&type=return_value&limit=500");
        expect(finished.jobs.map((j) => j.uuid)).toContain(ok.uuid);
        expect(finished.jobs.every((j) => j.state === "finished" && j.jobType === "return_value")).toBe(true);
        const failing = await list("state=failed&type=return_value");
        expect(failing.jobs[0]).toMatchObject({ uuid: failed.uuid, state: "failed", resultCode: 503 });

        // Two pages of the delayed slow jobs, newest first, then none.
        const first = await list("state=delayed&type=slow&limit=2");
        expect(first.jobs.map((j) => j.uuid)).toEqual([...delayed].sort().reverse().slice(0, 2));
        expect(first.nextCursor).toEqual(expect.any(String));
        const second = await list(`state=delayed&type=slow&limit=2&cursor=${first.nextCursor}`);
        expect(second.jobs.map((j) => j.uuid)).toEqual([[...delayed].sort()[0]]);
        expect(second.nextCursor).toBeNull();

        const bad = await call("GET", "/jobs?state=done");
        expect(bad.status).toBe(400);
        expect(bad.body).toMatchObject({ error: "ZEROG_BAD_REQUEST" });
        expect((await call("GET", "/jobs?cursor=nope")).status).toBe(400);
      });

      it("cancels waiting jobs, kills running ones and refuses finished ones with DELETE", async () => {
        const waiting = await call("POST", "/job/return_value?delay=3600", JSON.stringify({ ret: 200 }));
        const { uuid } = waiting.body as { uuid: string };
        const first = await call("DELETE", `/job/${uuid}`);
        expect(first).toMatchObject({ status: 200, body: { uuid, result: "cancelled" } });
        const again = await call("DELETE", `/job/${uuid}`);
        expect(again).toMatchObject({ status: 200, body: { uuid, result: "cancelled" } });
        const cancelled = await dump(uuid);
        expect(cancelled).toMatchObject({ state: "finished", resultCode: 410, startedAt: null });
        const killedList = (await call("GET", "/jobs?state=killed&limit=500")).body as { jobs: { uuid: string }[] };
        expect(killedList.jobs.map((j) => j.uuid)).toContain(uuid);

        const running = await post("abortable", { ms: 60_000 });
        const runUuid = (running.body as { uuid: string }).uuid;
        await expect.poll(async () => (await dump(runUuid)).state, { timeout: 10_000 }).toBe("running");
        const kill = await call("DELETE", `/job/${runUuid}`);
        expect(kill).toMatchObject({ status: 202, body: { uuid: runUuid, result: "stopping" } });
        await watcher.finished(runUuid);
        expect(await dump(runUuid)).toMatchObject({ resultCode: 410 });
        expect((await call("DELETE", `/job/${runUuid}`)).status).toBe(200);

        const done = await runJob("return_value", { ret: 200 });
        const refused = await call("DELETE", `/job/${done.uuid}`);
        expect(refused).toMatchObject({ status: 409, body: { error: "ZEROG_JOB_FINISHED" } });
        const unknown = await call("DELETE", `/job/${randomUUID()}`);
        expect(unknown).toMatchObject({ status: 404, body: { error: "ZEROG_JOB_NOT_FOUND" } });
      });

      it("answers CORS preflights with 204", async () => {
        const res = await call("OPTIONS", "/job/return_value", undefined, {
          origin: "http://example.test",
          "access-control-request-method": "POST",
        });
        expect(res.status).toBe(204);
        expect(res.headers.get("access-control-allow-origin")).toBe("*");
        expect(res.headers.get("access-control-allow-methods")).toContain("POST");
        const plain = await call("OPTIONS", "/anything");
        expect(plain.status).toBe(204);
      });
    });
    describe("retrying and purging jobs (docs/job-states.md, Retried by a user)", () => {
      type Page = { jobs: { uuid: string }[] };
      const listed = async (query: string) =>
        ((await call("GET", `/jobs?${query}`)).body as Page).jobs.map((j) => j.uuid);
      const errorLines = (doc: JobDocument) => doc.errors.map((e) => e.msg.split("\n")[0]);

      it("runs a failed job again with POST /job/{uuid}/retry: a new attempt, its errors kept", async () => {
        const first = await runJob("fragile", {});
        expect(first).toMatchObject({ resultCode: 500, errorCount: 1, attempt: 1 });
        const starts = watcher.started.filter((u) => u === first.uuid).length;
        const res = await call("POST", `/job/${first.uuid}/retry`);
        expect(res).toMatchObject({ status: 200, body: { uuid: first.uuid, result: "retried" } });
        expect((await watcher.finishedTimes(first.uuid, 2)).resultCode).toBe(500);
        expect(watcher.started.filter((u) => u === first.uuid)).toHaveLength(starts + 1);
        const doc = await dump(first.uuid);
        // The retry takes attempt 2 (fencing the finished run off), its run attempt 3.
        expect(doc.attempt).toBe(first.attempt + 2);
        // errorCount started over: one error again, so maxErrors 1 finished it after one run.
        expect(doc).toMatchObject({ state: "finished", resultCode: 500, errorCount: 1, running: false });
        expect(doc.errors[0]).toEqual(first.errors[0]);
        expect(errorLines(doc)).toEqual(["Error: fragile broke", "Error: fragile broke"]);
        expect(msgs(doc.events)).toEqual(["Retried by user"]);
      });

      it("runs a killed job again: killed while it ran, or cancelled while it waited", async () => {
        const res = await post("slow", { ms: 30_000, slowRuns: 1 });
        const { uuid } = res.body as { uuid: string };
        await expect.poll(() => watcher.started.includes(uuid)).toBe(true);
        expect((await call("POST", `/job/${uuid}/kill`)).status).toBe(202);
        expect((await watcher.finished(uuid)).resultCode).toBe(410);
        expect((await call("POST", `/job/${uuid}/retry`)).body).toEqual({ uuid, result: "retried" });
        // Past its slow runs, the new attempt finishes at once.
        expect((await watcher.finishedTimes(uuid, 2)).resultCode).toBe(200);
        const doc = await dump(uuid);
        expect(doc).toMatchObject({ resultCode: 200, killRequested: false, errorCount: 0, attempt: 3 });
        expect(doc.errors).toEqual([expect.objectContaining({ errorCode: 410, msg: "Killed by user" })]);
        expect(msgs(doc.events)).toEqual(["started sleeping", "Retried by user"]);

        // Cancelled before it ran: its first entry is still delayed, and the retry's runs it now.
        const waiting = await server.client.create("return_value", { ret: 201 }, { delaySeconds: 3600 });
        expect((await call("DELETE", `/job/${waiting}`)).body).toEqual({ uuid: waiting, result: "cancelled" });
        expect((await call("POST", `/job/${waiting}/retry`)).status).toBe(200);
        expect((await watcher.finished(waiting)).resultCode).toBe(201);
        expect(await dump(waiting)).toMatchObject({ resultCode: 201, attempt: 2, state: "finished" });
      });

      it("refuses to retry a waiting, running or succeeded job (409), an unknown one (404), a bad uuid (404 as everywhere)", async () => {
        const stored = newJobDocument({
          jobType: "return_value",
          params: {},
          queueName: "zerog_jobs",
          queueKwargs: { priority: 1024, ttrSeconds: 1 },
          nowMs: Date.now(),
        });
        // Stored without an entry, so it stays queued for as long as the test looks at it.
        await server.backend.datastore.create(stored);
        const delayed = await server.client.create("return_value", {}, { delaySeconds: 3600 });
        const succeeded = await runJob("return_value", { ret: 200 });
        const running = (await post("abortable", { ms: 60_000 })).body as { uuid: string };
        await expect.poll(async () => (await dump(running.uuid)).state, { timeout: 10_000 }).toBe("running");
        for (const [uuid, status] of [
          [stored.uuid, "queued"],
          [delayed, "delayed"],
          [running.uuid, "running"],
          [succeeded.uuid, "finished"],
        ] as const) {
          const refused = await call("POST", `/job/${uuid}/retry`);
          expect(refused, status).toMatchObject({ status: 409, body: { error: "ZEROG_JOB_NOT_RETRYABLE" } });
          expect((refused.body as { message: string }).message).toContain(`is ${status}`);
        }
        expect(await dump(succeeded.uuid)).toEqual(succeeded);
        const unknown = await call("POST", `/job/${randomUUID()}/retry`);
        expect(unknown).toMatchObject({ status: 404, body: { error: "ZEROG_JOB_NOT_FOUND" } });
        const malformed = await call("POST", "/job/not-a-uuid/retry");
        expect(malformed).toMatchObject({ status: 404, body: { error: "ZEROG_JOB_NOT_FOUND" } });
        expect((await call("DELETE", `/job/${running.uuid}`)).status).toBe(202);
        expect((await watcher.finished(running.uuid)).resultCode).toBe(410);
      });

      it("retries exactly the failed jobs of a type with POST /jobs/retry, and answers how many", async () => {
        await runJob("fragile", {});
        await runJob("fragile", {});
        const otherType = await runJob("return_value", { ret: 503 });
        const succeeded = await runJob("return_value", { ret: 200 });
        // Every failed fragile job of this suite, the earlier tests' included.
        const failed = await listed("state=failed&type=fragile&limit=500");
        expect(failed.length).toBeGreaterThanOrEqual(2);
        const before = new Map(failed.map((uuid) => [uuid, watcher.finishCount(uuid)]));
        const none = await call("POST", "/jobs/retry?type=fragile&state=failed&createdBefore=2000-01-01");
        expect(none).toMatchObject({ status: 200, body: { retried: 0 } });

        const res = await call("POST", "/jobs/retry?type=fragile&state=failed");
        expect(res).toMatchObject({ status: 200, body: { retried: failed.length } });
        for (const [uuid, times] of before) await watcher.finishedTimes(uuid, times + 1);
        for (const uuid of failed) {
          const doc = await dump(uuid);
          expect(doc).toMatchObject({ state: "finished", resultCode: 500, errorCount: 1 });
          expect(msgs(doc.events).at(-1)).toBe("Retried by user");
        }
        // Other types and other states are left alone.
        expect(await dump(otherType.uuid)).toEqual(otherType);
        expect(await dump(succeeded.uuid)).toEqual(succeeded);

        for (const query of ["", "?state=finished", "?state=failed&createdBefore=yesterday", "?state=failed&limit=0"]) {
          const bad = await call("POST", `/jobs/retry${query}`);
          expect(bad, query).toMatchObject({ status: 400, body: { error: "ZEROG_BAD_REQUEST" } });
        }
      });

      it("purges a finished job with DELETE ?purge=true, and refuses one that has not finished (409)", async () => {
        const done = await runJob("return_value", { ret: 200 });
        const failed = await runJob("return_value", { ret: 503 });
        // The parsed query decides, however the URL spells it (%74 is "t").
        for (const [doc, query] of [
          [done, "purge=true"],
          [failed, "purge=%74rue"],
        ] as const) {
          const res = await call("DELETE", `/job/${doc.uuid}?${query}`);
          expect(res).toMatchObject({ status: 200, body: { uuid: doc.uuid, result: "purged" } });
          expect((await call("GET", `/info/${doc.uuid}`)).status).toBe(404);
          expect(await server.backend.datastore.read(doc.uuid)).toBeNull();
        }
        for (const query of ["limit=500", "type=return_value&limit=500", "state=finished&type=return_value&limit=500"])
          expect(await listed(query), query).not.toContain(done.uuid);
        for (const query of ["limit=500", "type=return_value&limit=500", "state=failed&type=return_value&limit=500"])
          expect(await listed(query), query).not.toContain(failed.uuid);
        const again = await call("DELETE", `/job/${done.uuid}?purge=true`);
        expect(again).toMatchObject({ status: 404, body: { error: "ZEROG_JOB_NOT_FOUND" } });

        const running = (await post("abortable", { ms: 60_000 })).body as { uuid: string };
        await expect.poll(async () => (await dump(running.uuid)).state, { timeout: 10_000 }).toBe("running");
        const refused = await call("DELETE", `/job/${running.uuid}?purge=true`);
        expect(refused).toMatchObject({ status: 409, body: { error: "ZEROG_JOB_NOT_PURGEABLE" } });
        expect((refused.body as { message: string }).message).toContain("it is running");
        expect((await dump(running.uuid)).state).toBe("running");
        expect((await call("DELETE", `/job/${running.uuid}?purge=false`)).status).toBe(202);
        expect((await watcher.finished(running.uuid)).resultCode).toBe(410);
        expect((await call("DELETE", `/job/${running.uuid}?purge=true`)).body).toEqual({
          uuid: running.uuid,
          result: "purged",
        });

        // Cancelled while it waited: its entry is still delayed on the queue, so the job stays.
        const waiting = await server.client.create("return_value", {}, { delaySeconds: 3600 });
        expect((await call("DELETE", `/job/${waiting}`)).status).toBe(200);
        const held = await call("DELETE", `/job/${waiting}?purge=true`);
        expect(held).toMatchObject({ status: 409, body: { error: "ZEROG_JOB_NOT_PURGEABLE" } });
        expect((held.body as { message: string }).message).toContain("queue entry is still waiting");
        const unknown = await call("DELETE", `/job/${randomUUID()}?purge=true`);
        expect(unknown).toMatchObject({ status: 404, body: { error: "ZEROG_JOB_NOT_FOUND" } });
        const bad = await call("DELETE", `/job/${waiting}?purge=yes`);
        expect(bad).toMatchObject({ status: 400, body: { error: "ZEROG_BAD_REQUEST" } });
        expect((await dump(waiting)).resultCode).toBe(410);
      });
    });

    // Last: it removes documents that earlier tests of the suite might still look at.
    describe("retention (docs/job-states.md, Retention)", () => {
      const HOUR = 3_600_000;
      const status = async (uuid: string) => (await call("GET", `/progress/${uuid}`)).status;
      const state = async (uuid: string) => (await dump(uuid)).state;
      const deletedTotal = async (jobType: string, s: string) => {
        const text = await (await fetch(`${base}/metrics`)).text();
        const line = text
          .split("\n")
          .find((l) => l.startsWith(`zerog_retention_deleted_total{job_type="${jobType}",status="${s}"}`));
        return Number(line?.split(" ").at(-1) ?? 0);
      };

      it("sweeps finished, failed and killed jobs past their type's retention, never one that waits or runs", async () => {
        const sweeper = server.sweeper ?? expect.fail("expected a sweeper");
        // Three successes in turn, so the oldest is the one past the type's two newest.
        const ok = [];
        for (let i = 0; i < 3; i++) ok.push((await runJob("short_lived", { ret: 200 + i })).uuid);
        const failed = (await runJob("short_lived", { ret: 503 })).uuid;
        const kept = (await runJob("return_value", { ret: 200 })).uuid;
        const running = ((await post("short_lived", { ms: 60_000 })).body as { uuid: string }).uuid;
        await expect.poll(() => state(running), { timeout: 10_000 }).toBe("running");
        const delayed = await server.client.create("short_lived", {}, { delaySeconds: 3600 });

        // Now: only the count rule applies, so the oldest success goes.
        await sweeper.pass();
        expect(await Promise.all(ok.map(status))).toEqual([404, 200, 200]);
        // Two hours on: every finished short_lived job is past its hour; return_value keeps its 7 days.
        await sweeper.pass(Date.now() + 2 * HOUR);
        for (const uuid of [...ok, failed]) {
          expect(await status(uuid)).toBe(404);
          expect(await server.backend.datastore.read(uuid)).toBeNull();
        }
        expect(await state(kept)).toBe("finished");
        expect(await state(running)).toBe("running");
        expect(await state(delayed)).toBe("delayed");
        expect(await deletedTotal("short_lived", "finished")).toBe(3);
        expect(await deletedTotal("short_lived", "failed")).toBe(1);

        // Killed, the running job goes at the next pass too; the delayed one still waits.
        expect((await call("DELETE", `/job/${running}`)).status).toBe(202);
        expect((await watcher.finished(running)).resultCode).toBe(410);
        expect(await state(running)).toBe("finished");
        await sweeper.pass(Date.now() + 2 * HOUR);
        expect(await status(running)).toBe(404);
        expect(await deletedTotal("short_lived", "killed")).toBe(1);
        const listed = (await call("GET", "/jobs?type=short_lived&limit=500")).body as { jobs: { uuid: string }[] };
        expect(listed.jobs.map((j) => j.uuid)).toEqual([delayed]);
        expect(await state(delayed)).toBe("delayed");
      });
    });

    describe("bulk create (POST /jobs)", () => {
      const postMany = (jobs: unknown, headers: Record<string, string> = {}, query = "") =>
        call("POST", `/jobs${query}`, JSON.stringify(jobs), { "content-type": "application/json", ...headers });
      const countOf = async (type: string): Promise<number> =>
        ((await call("GET", `/jobs?type=${type}&limit=500`)).body as { jobs: unknown[] }).jobs.length;

      it("creates every job, in order, of several types, and each runs", async () => {
        const marker = randomUUID();
        const res = await postMany([
          { jobType: "return_value", params: { ret: `${marker}-0` } },
          { jobType: "slow", params: { ms: 1 } },
          { jobType: "return_value", params: { ret: `${marker}-2` } },
          { jobType: "return_value" },
        ]);
        expect(res.status).toBe(201);
        const { uuids, created } = res.body as { uuids: string[]; created: number };
        expect(created).toBe(4);
        expect(new Set(uuids).size).toBe(4);
        for (const uuid of uuids) expect((await watcher.finished(uuid)).resultCode).toBe(200);
        const docs = await Promise.all(uuids.map(dump));
        expect(docs.map((d) => d.jobType)).toEqual(["return_value", "slow", "return_value", "return_value"]);
        expect(docs.map((d) => d.params)).toEqual([
          { ret: `${marker}-0` },
          { ms: 1, slowRuns: 1_000_000 },
          { ret: `${marker}-2` },
          {},
        ]);
      });

      it("creates nothing when one item is bad, and names every bad item by its index", async () => {
        const before = await countOf("slow");
        const res = await postMany([
          { jobType: "slow", params: { ms: 1 } },
          { jobType: "slow", params: { ms: -1 } },
          { jobType: "no_such_type", params: {} },
          { jobType: "slow", params: [] },
          "not a job",
        ]);
        expect(res.status).toBe(400);
        const body = res.body as { error: string; issues: { path: string }[] };
        expect(body.error).toBe("ZEROG_INVALID_PARAMS");
        expect(body.issues.map((d) => d.path)).toEqual(["[1].params.ms", "[2].jobType", "[3].params", "[4]"]);
        expect(await countOf("slow")).toBe(before);
      });

      it("refuses a body that is not a list of 1 to 10000 jobs, and malformed JSON", async () => {
        for (const body of [{}, [], "x", null]) {
          const res = await postMany(body);
          expect(res.status, JSON.stringify(body)).toBe(400);
          expect(res.body).toMatchObject({ error: "ZEROG_INVALID_PARAMS" });
        }
        const bad = await call("POST", "/jobs", "[{", { "content-type": "application/json" });
        expect(bad.status).toBe(400);
        expect(bad.body).toMatchObject({ error: "ZEROG_INVALID_JSON" });
        expect((await postMany([{ jobType: "slow", params: { ms: 1 } }], {}, "?delay=x")).status).toBe(400);
      });

      it("with an Idempotency-Key, sending the same list again creates nothing and answers the same uuids", async () => {
        const key = { "idempotency-key": `bulk-${randomUUID()}` };
        const jobs = [
          { jobType: "return_value", params: { ret: 1 } },
          { jobType: "return_value", params: { ret: 2 } },
        ];
        const first = await postMany(jobs, key);
        expect(first.status).toBe(201);
        const again = await postMany(jobs, key);
        expect(again.status).toBe(200);
        expect(again.headers.get("idempotent-replayed")).toBe("true");
        expect(again.body).toEqual({ uuids: (first.body as { uuids: string[] }).uuids, created: 0 });
      });

      it("applies ?delay= to every job", async () => {
        const res = await postMany(
          [
            { jobType: "slow", params: { ms: 1 } },
            { jobType: "slow", params: { ms: 1 } },
          ],
          {},
          "?delay=3600",
        );
        expect(res.status).toBe(201);
        for (const uuid of (res.body as { uuids: string[] }).uuids) {
          const doc = await dump(uuid);
          expect(doc.state).toBe("delayed");
          expect(await call("DELETE", `/job/${uuid}`)).toMatchObject({ status: 200 });
        }
      });
    });
  });
}
