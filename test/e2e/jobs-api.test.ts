import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Server } from "zerog";
import { type RunningCli, runCli, startServe } from "../helpers/cli.ts";
import { namespacedUrl, serviceUrl } from "../helpers/services.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";
import { TEST_JOBS } from "../helpers/test-jobs.ts";

/**
 * Jobs over REST on API-only servers (no workers, so jobs stay queued or delayed where
 * the test puts them): GET /jobs paging and filters, POST /job options and idempotency (across two
 * servers on one PostgreSQL backend), DELETE, and the CLI's submit / status / jobs / cancel.
 * Running, finished, failed and killed jobs are covered on every backend by e2e.suite.ts.
 */

interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
}
interface Page {
  jobs: { uuid: string; state: string; jobType: string; createdAt: string; nextAttemptAt?: string | null }[];
  nextCursor: string | null;
}

async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : null } as Reply;
}

const apiServer = (datastore: string) =>
  new Server({ jobs: TEST_JOBS, datastore, queue: datastore, concurrency: 0, scheduler: false });

describe("jobs over REST on SQLite", () => {
  let server: Server;
  let base: string;
  const post = async (type: string, params: unknown, query = "", headers: Record<string, string> = {}) =>
    call(base, "POST", `/job/${type}${query}`, params, headers);
  const uuidOf = (r: Reply) => (r.body as { uuid: string }).uuid;
  const list = async (query: string): Promise<Page> => {
    const res = await call(base, "GET", `/jobs?${query}`);
    expect(res.status).toBe(200);
    return res.body as Page;
  };

  beforeAll(async () => {
    server = apiServer(`sqlite:${tempDbPath()}`);
    await server.start();
    base = await server.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("pages newest first with a stable cursor while jobs are created meanwhile: no repeat, no gap", async () => {
    const made: string[] = [];
    for (let i = 0; i < 25; i++) made.push(uuidOf(await post("continuation", { runs: 1 })));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page = await list(`type=continuation&limit=7${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...page.jobs.map((j) => j.uuid));
      cursor = page.nextCursor;
      pages++;
      // New jobs arrive between pages; they are newer than any cursor, so later pages never show them.
      for (let i = 0; i < 3; i++) await post("continuation", { runs: 1 });
    } while (cursor !== null);
    expect(pages).toBe(4);
    expect(seen).toEqual([...made].reverse());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("filters by type and by state; summaries carry no params or logs", async () => {
    const queued = uuidOf(await post("return_value", { ret: 201 }));
    const delayed = uuidOf(await post("return_value", { ret: 201 }, "?delay=600"));
    const q = await list("type=return_value&state=queued");
    expect(q.jobs.map((j) => j.uuid)).toEqual([queued]);
    const d = await list("type=return_value&state=delayed");
    expect(d.jobs.map((j) => j.uuid)).toEqual([delayed]);
    expect(Object.keys(d.jobs[0] ?? {}).sort()).toEqual(
      [
        ...["attempt", "completeness", "createdAt", "errorCount", "finishedAt", "jobType", "resultCode"],
        ...["startedAt", "state", "updatedAt", "uuid", "workerId", "completenessAtEnd", "nextAttemptAt"],
      ].sort(),
    );
    // Delayed at creation: the summary says when it may start.
    expect(Date.parse(d.jobs[0]?.nextAttemptAt ?? "")).toBeGreaterThan(Date.now());
    for (const state of ["running", "finished", "failed", "killed"])
      expect((await list(`type=return_value&state=${state}`)).jobs).toEqual([]);
    expect((await list("type=no_such_type")).jobs).toEqual([]);
  });

  it("answers 400 for a bad state, limit, cursor or parameter", async () => {
    const bad = [
      "state=done",
      "state=queued&state=running",
      "limit=0",
      "limit=501",
      "limit=ten",
      "cursor=not-a-cursor",
      `cursor=${Buffer.from(JSON.stringify(["yesterday", randomUUID()])).toString("base64url")}`,
      `cursor=${Buffer.from(JSON.stringify(["2026-01-01T00:00:00.000Z", "x"])).toString("base64url")}`,
      "page=2",
    ];
    for (const query of bad) {
      const res = await call(base, "GET", `/jobs?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body, query).toMatchObject({ error: "ZEROG_BAD_REQUEST" });
    }
  });

  it("takes delay and priority from the query string, beside the params", async () => {
    const res = await post("return_value", { ret: 200 }, "?delay=30&priority=7");
    expect(res.status).toBe(201);
    const doc = (await call(base, "GET", `/dump/${uuidOf(res)}`)).body as Record<string, unknown>;
    expect(doc).toMatchObject({
      state: "delayed",
      params: { ret: 200 },
      queueKwargs: { priority: 7, delaySeconds: 30 },
    });
    for (const query of [
      "?delay=-1",
      "?delay=1.5",
      "?priority=x",
      "?delay=99999999999",
      "?dealy=3",
      "?delay=1&delay=2",
    ]) {
      const bad = await post("return_value", {}, query);
      expect(bad.status, query).toBe(400);
      expect(bad.body, query).toMatchObject({ error: "ZEROG_BAD_REQUEST" });
    }
  });

  it("answers the first job's uuid to a repeat of an Idempotency-Key, per job type", async () => {
    const key = { "idempotency-key": `order-${randomUUID()}` };
    const first = await post("return_value", { ret: 200 }, "", key);
    expect(first.status).toBe(201);
    const repeat = await post("return_value", { ret: 200 }, "", key);
    expect(repeat.status).toBe(200);
    expect(repeat.headers.get("idempotent-replayed")).toBe("true");
    expect(uuidOf(repeat)).toBe(uuidOf(first));
    const otherKey = await post("return_value", { ret: 200 }, "", { "idempotency-key": `order-${randomUUID()}` });
    expect(otherKey.status).toBe(201);
    expect(uuidOf(otherKey)).not.toBe(uuidOf(first));
    const otherType = await post("continuation", { runs: 1 }, "", key);
    expect(otherType.status).toBe(201);
    // Bad params never claim the key; a bad key is 400.
    const badParams = await post("continuation", { runs: 0 }, "", { "idempotency-key": "fresh-key" });
    expect(badParams.status).toBe(400);
    expect((await post("continuation", { runs: 1 }, "", { "idempotency-key": "fresh-key" })).status).toBe(201);
    const badKey = await post("return_value", {}, "", { "idempotency-key": "x".repeat(256) });
    expect(badKey).toMatchObject({ status: 400, body: { error: "ZEROG_BAD_REQUEST" } });
  });

  it("cancels queued and delayed jobs with DELETE, idempotently; 404 for an unknown or malformed uuid", async () => {
    for (const query of ["", "?delay=600"]) {
      const uuid = uuidOf(await post("return_value", { ret: 200 }, query));
      for (let i = 0; i < 2; i++) {
        const res = await call(base, "DELETE", `/job/${uuid}`);
        expect(res).toMatchObject({ status: 200, body: { uuid, result: "cancelled" } });
      }
      const info = (await call(base, "GET", `/info/${uuid}`)).body as { result: number; errors: { msg: string }[] };
      expect(info.result).toBe(410);
      expect(info.errors.map((e) => e.msg)).toEqual(["Killed by user"]);
      expect((await list("state=killed")).jobs.map((j) => j.uuid)).toContain(uuid);
    }
    expect((await call(base, "DELETE", `/job/${randomUUID()}`)).status).toBe(404);
    expect((await call(base, "DELETE", "/job/not-a-uuid")).status).toBe(404);
  });
});

const pgBase = await serviceUrl("postgres");

describe.skipIf(pgBase === null)("idempotency across two servers on one PostgreSQL backend", () => {
  const ns = pgBase === null ? null : namespacedUrl("postgres", pgBase);
  const servers: Server[] = [];
  const bases: string[] = [];
  beforeAll(async () => {
    if (!ns) return;
    for (let i = 0; i < 2; i++) {
      const s = apiServer(ns.url);
      await s.start();
      servers.push(s);
      bases.push(await s.listen({ port: 0, host: "127.0.0.1" }));
    }
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await ns?.drop();
  });

  it("creates one job when both servers race the same key", async () => {
    for (let round = 0; round < 5; round++) {
      const key = { "idempotency-key": `race-${round}-${randomUUID()}` };
      const replies = await Promise.all(
        Array.from({ length: 8 }, (_, i) => call(bases[i % 2] ?? "", "POST", "/job/return_value", { ret: 200 }, key)),
      );
      const uuids = new Set(replies.map((r) => (r.body as { uuid: string }).uuid));
      expect(uuids.size).toBe(1);
      expect(replies.filter((r) => r.status === 201)).toHaveLength(1);
      expect(replies.filter((r) => r.status === 200)).toHaveLength(7);
    }
    const all = (await call(bases[0] ?? "", "GET", "/jobs?type=return_value&limit=500")).body as Page;
    expect(all.jobs).toHaveLength(5);
  });
});

describe("zerog submit | status | jobs | cancel against a running server", () => {
  let serve: RunningCli;
  beforeAll(async () => {
    const db = `sqlite:${tempDbPath()}`;
    serve = await startServe([
      ...["--jobs", "test/helpers/test-jobs.ts", "--datastore", db, "--queue", db, "--concurrency", "0"],
    ]);
  });
  afterAll(async () => {
    serve?.proc.kill("SIGKILL");
    await serve?.exited;
  });
  const zerog = (...args: string[]) => runCli([...args, "--url", serve.url]);

  it("submits a job with options, shows it, lists it, cancels it", async () => {
    const sub = await zerog("submit", "return_value", '{"ret": 200}', "--delay", "600", "--priority", "3");
    expect(sub).toMatchObject({ code: 0, stderr: "" });
    const uuid = sub.stdout.trim();
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
    const again = await zerog("submit", "return_value", "{}", "--idempotency-key", "k1");
    const repeat = await zerog("submit", "return_value", "{}", "--idempotency-key", "k1");
    expect(repeat.stdout).toBe(again.stdout);

    const status = await zerog("status", uuid);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^state {6}delayed$/m);
    expect(status.stdout).toMatch(/^progress {3}0%$/m);

    const jobs = await zerog("jobs", "--state", "delayed");
    expect(jobs.code).toBe(0);
    expect(jobs.stdout).toContain(uuid);
    const paged = await zerog("jobs", "--limit", "1", "--json");
    const page = JSON.parse(paged.stdout) as Page;
    expect(page.jobs).toHaveLength(1);
    const next = await zerog("jobs", "--limit", "5", "--cursor", page.nextCursor ?? "");
    expect(next.stdout).toContain(uuid);
    expect(next.stdout).not.toContain(page.jobs[0]?.uuid);

    const cancel = await zerog("cancel", uuid);
    expect(cancel).toMatchObject({ code: 0, stdout: `${uuid}: cancelled\n` });
    expect((await zerog("jobs", "--state", "killed")).stdout).toContain(uuid);
  });

  it("says what is wrong: bad input, unknown job, server down", async () => {
    const badJson = await zerog("submit", "return_value", "{nope");
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toMatch(/params must be JSON/);
    const badState = await zerog("jobs", "--state", "done");
    expect(badState).toMatchObject({ code: 2 });
    expect(badState.stderr).toMatch(/--state must be one of/);
    const unknown = await zerog("status", randomUUID());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/404/);
    const down = await runCli(["jobs", "--url", "http://127.0.0.1:9"]);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/cannot reach the ZeroG API at http:\/\/127\.0\.0\.1:9/);
  });

  // One CLI process per command (each starts Node and tsx): allow for a busy machine.
  it("has --help on every jobs command", { timeout: 90_000 }, async () => {
    const commands = ["submit", "status", "jobs", "cancel", "retry", "purge"];
    const helps = await Promise.all(commands.map((cmd) => runCli([cmd, "--help"])));
    for (const [i, help] of helps.entries()) {
      expect(help.code, commands[i]).toBe(0);
      expect(help.stdout, commands[i]).toContain("--url");
    }
  });
});
