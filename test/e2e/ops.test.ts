import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Server, type ServerConfig } from "zerog";
import { runCli, startServe } from "../helpers/cli.ts";
import { JobWatcher } from "../helpers/job-watcher.ts";
import { privateRedis } from "../helpers/private-services.ts";
import { TEST_JOBS } from "../helpers/test-jobs.ts";

/** API token, /health, /metrics and request limits, over real HTTP. */
describe("safety and operations", () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function start(over: Partial<ServerConfig> = {}) {
    const server = new Server({ jobs: TEST_JOBS, datastore: "memory:", queue: "memory:", ...over });
    closers.push(() => server.close());
    const base = await server.listen({ port: 0 });
    const call = async (
      method: string,
      path: string,
      opts: { token?: string; body?: string; origin?: string } = {},
    ) => {
      const headers: Record<string, string> = {};
      if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
      if (opts.origin) headers.origin = opts.origin;
      const res = await fetch(`${base}${path}`, { method, headers, ...(opts.body ? { body: opts.body } : {}) });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Prometheus text stays text.
      }
      return { status: res.status, headers: res.headers, body };
    };
    return { server, base, call };
  }

  describe("API token", () => {
    it("guards mutating and management endpoints; reads, /health and preflights stay open", async () => {
      const { server, call } = await start({ apiToken: "s3cret-token" });
      const uuid = await server.client.create("return_value", { ret: 200 });
      for (const [method, path] of [
        ["POST", "/job/return_value"],
        ["POST", `/job/${uuid}/kill`],
        ["GET", "/workers"],
        ["GET", `/workers/${server.worker?.id}`],
        ["POST", "/hosts/anywhere/drain"],
        ["GET", "/metrics"],
      ] as const) {
        const body = method === "POST" ? { body: "{}" } : {};
        const none = await call(method, path, body);
        expect(none.status, `${method} ${path}`).toBe(401);
        expect(none.body).toMatchObject({ error: "ZEROG_UNAUTHORIZED" });
        expect(none.headers.get("www-authenticate")).toBe('Bearer realm="zerog"');
        const wrong = await call(method, path, { token: "s3cret-tokeN", ...body });
        expect(wrong.status, `${method} ${path}`).toBe(401);
        expect(wrong.body).toMatchObject({ message: "the API token is wrong" });
      }
      expect((await call("POST", "/job/return_value", { token: "s3cret-token", body: "{}" })).status).toBe(201);
      expect((await call("GET", "/workers", { token: "s3cret-token" })).status).toBe(200);
      expect((await call("GET", `/progress/${uuid}`)).status).toBe(200);
      expect((await call("GET", "/health")).status).toBe(200);
      const preflight = await fetch(`${(await start({ apiToken: "x" })).base}/job/return_value`, {
        method: "OPTIONS",
        headers: { origin: "http://ui.example", "access-control-request-method": "POST" },
      });
      expect(preflight.status).toBe(204);
      // A refused browser request still carries CORS headers, so the page sees the 401.
      const refused = await call("POST", "/job/return_value", { origin: "http://ui.example", body: "{}" });
      expect(refused.headers.get("access-control-allow-origin")).toBe("*");
    });

    it("guards the reads too with protectReads, but never /health", async () => {
      const { server, base, call } = await start({ apiToken: "t", protectReads: true });
      const uuid = await server.client.create("return_value", { ret: 200 });
      expect((await call("GET", `/progress/${uuid}`)).status).toBe(401);
      expect((await call("GET", `/dump/${uuid}`, { token: "t" })).status).toBe(200);
      expect((await call("GET", "/health")).status).toBe(200);
      // A browser's EventSource cannot send headers: /events alone takes ?access_token=.
      await expect.poll(async () => (await server.client.progress(uuid)).result).toBe(200);
      const stream = await fetch(`${base}/events/${uuid}?access_token=t`);
      expect(stream.status).toBe(200);
      expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);
      expect(await stream.text()).toContain("event: result");
      expect((await call("GET", `/events/${uuid}?access_token=wrong`)).status).toBe(401);
      expect((await call("GET", `/progress/${uuid}?access_token=t`)).status).toBe(401);
    });

    it("zerog serve takes --api-token (or ZEROG_API_TOKEN); the CLI sends ZEROG_API_TOKEN", async () => {
      const cli = await startServe([
        "--jobs",
        "test/helpers/test-jobs.ts",
        "--datastore",
        "memory:",
        "--queue",
        "memory:",
        "--api-token",
        "cli-token",
      ]);
      closers.push(async () => {
        cli.proc.kill("SIGTERM");
        await cli.exited;
      });
      const refused = await runCli(["workers", "--url", cli.url], 20_000, { ZEROG_API_TOKEN: "" });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/401 this endpoint needs an API token/);
      const ok = await runCli(["workers", "--url", cli.url], 20_000, { ZEROG_API_TOKEN: "cli-token" });
      expect(ok.code).toBe(0);
      expect(ok.stdout).toContain("activeIdle");
    });
  });

  it("/health answers 503 while the backend is down, and 200 again once it is back", async () => {
    const redis = await privateRedis();
    closers.push(() => redis.destroy());
    const { call } = await start({ datastore: redis.url, queue: redis.url, concurrency: 0, healthTimeoutMs: 1000 });
    expect(await call("GET", "/health")).toMatchObject({ status: 200, body: { status: "ok", backend: "up" } });
    await redis.stop();
    const down = await call("GET", "/health");
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: "down", backend: "down" });
    expect((down.body as { error: string }).error).not.toBe("");
    await redis.start();
    await expect.poll(async () => (await call("GET", "/health")).status, { timeout: 15_000 }).toBe(200);
  });

  it("/metrics: jobs created and finished by type and outcome, run times, queue depth and workers by state", async () => {
    const { server, call } = await start({ errorRetryDelaySeconds: 0 });
    const watcher = new JobWatcher(server.worker?.events ?? expect.fail("no worker"));
    const ok = await server.client.create("return_value", { ret: 200 });
    const failed = await server.client.create("raise", { kind: "errorFinish" });
    await watcher.finished(ok);
    await watcher.finished(failed);
    await server.client.create("return_value", { ret: 200 }, { delaySeconds: 60 });
    const { status, headers, body } = await call("GET", "/metrics");
    expect(status).toBe(200);
    expect(headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = String(body);
    expect(text).toContain('zerog_jobs_created_total{job_type="return_value"} 2');
    expect(text).toContain('zerog_jobs_created_total{job_type="raise"} 1');
    expect(text).toContain('zerog_jobs_finished_total{job_type="return_value",outcome="success"} 1');
    expect(text).toMatch(/zerog_jobs_finished_total\{job_type="raise",outcome="failed"\} 1/);
    expect(text).toContain('zerog_jobs_failed_total{job_type="raise"} 1');
    expect(text).toContain('zerog_job_run_seconds_count{job_type="return_value"} 1');
    expect(text).toContain('zerog_queue_depth{queue="zerog_jobs",state="delayed"} 1');
    expect(text).toContain('zerog_queue_depth{queue="zerog_jobs",state="ready"} 0');
    expect(text).toMatch(/zerog_workers\{state="active(Idle|Running)"\} 1/);
    expect(text).toContain("zerog_backend_up 1");
    expect(text).toContain("zerog_process_cpu_user_seconds_total");
  });

  it("logs one JSON line per finished job, with its uuid and type", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const { server } = await start({ logger });
    const watcher = new JobWatcher(server.worker?.events ?? expect.fail("no worker"));
    const uuid = await server.client.create("return_value", { ret: 201 });
    await watcher.finished(uuid);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: "job finished", uuid, jobType: "return_value", resultCode: 201, level: 30 }),
    );
  });

  it("refuses a body nested deeper than maxParamsDepth, before any validation", async () => {
    const { call } = await start({ maxParamsDepth: 8 });
    const nest = (n: number): string => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`;
    const deep = await call("POST", "/job/return_value", { body: nest(9) });
    expect(deep).toMatchObject({ status: 400, body: { error: "ZEROG_INVALID_JSON" } });
    expect((deep.body as { message: string }).message).toBe("request body nests deeper than 8 levels");
    // Within the limit the params schema decides: return_value ignores an unknown key.
    expect((await call("POST", "/job/return_value", { body: nest(8) })).status).toBe(201);
  });

  it("zerog serve refuses an unknown --log-level", async () => {
    const r = await runCli(["serve", "--jobs", "test/helpers/test-jobs.ts", "--log-level", "loud"], 20_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("zerog: log level 'loud' is not one of fatal, error, warn, info, debug, trace, silent");
  });
});
