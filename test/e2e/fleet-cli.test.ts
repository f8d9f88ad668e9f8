import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetOverview, HostSummary, JobDocument } from "zerog";
import { type RunningCli, runCli, startServe } from "../helpers/cli.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";

/**
 * The fleet commands (`zerog workers | drain | undrain | retire | kill`) run as a user runs them,
 * against two `zerog serve` processes (host-a, host-b) sharing one SQLite file. The tests share
 * the servers and run in order: the retire test retires host-b for good.
 */

/** A control message applies within 0.5 s; a job here runs for a few seconds at most. */
const POLL = { timeout: 15_000, interval: 100 } as const;

const servers: RunningCli[] = [];
let a: RunningCli;
let b: RunningCli;

beforeAll(async () => {
  const db = `sqlite:${tempDbPath()}`;
  const serve = async (host: string): Promise<RunningCli> => {
    const r = await startServe([
      ...["--jobs", "test/helpers/test-jobs.ts", "test/helpers/crash-jobs.ts"],
      ...["--datastore", db, "--queue", db, "--hostname", host, "--worker-ttl", "3"],
    ]);
    servers.push(r);
    return r;
  };
  // One at a time: the first creates the database's tables.
  a = await serve("host-a");
  b = await serve("host-b");
});
afterAll(async () => {
  for (const s of servers) s.proc.kill("SIGKILL");
  await Promise.all(servers.map((s) => s.exited));
});

const getJson = async <T>(url: string): Promise<T> => (await (await fetch(url)).json()) as T;
const host = (name: string) => getJson<HostSummary>(`${a.url}/hosts/${name}`);
const dump = (uuid: string) => getJson<JobDocument>(`${a.url}/dump/${uuid}`);
async function submit(jobType: string, params: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${a.url}/job/${jobType}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(params),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { uuid: string }).uuid;
}
/** `zerog …` against host-a's API. */
const zerog = (...args: string[]) => runCli([...args, "--url", a.url]);

describe("zerog fleet commands against running servers", () => {
  it("workers: lists each host and its worker's state; --json is GET /workers", async () => {
    await expect.poll(async () => (await getJson<FleetOverview>(`${a.url}/workers`)).hosts.length, POLL).toBe(2);
    const plain = await zerog("workers");
    expect(plain).toMatchObject({ code: 0, stderr: "" });
    expect(plain.stdout).toMatch(/^host-a {2}active {2}running 0$/m);
    expect(plain.stdout).toContain(`host-a:zerog:${a.proc.pid}  activeIdle`);
    expect(plain.stdout).toContain(`host-b:zerog:${b.proc.pid}  activeIdle`);
    expect(plain.stdout).toMatch(/^queue zerog_jobs: ready 0, delayed 0, reserved 0, buried 0$/m);

    const json = await zerog("workers", "--json");
    expect(json.code).toBe(0);
    const printed = JSON.parse(json.stdout) as FleetOverview;
    const served = await getJson<FleetOverview>(`${b.url}/workers`);
    // The same view, but for what changes with every announcement (seenAt, expiresAtMs, mem).
    const stable = (o: FleetOverview) => ({
      workers: o.workers.map(({ workerId, host, pid, state, slots, retiring, running }) => ({
        ...{ workerId, host, pid, state, slots, retiring, running },
      })),
      hosts: o.hosts.map(({ host, running, drained, workers }) => ({ host, running, drained, n: workers.length })),
      queue: o.queue,
    });
    expect(stable(printed)).toEqual(stable(served));
    expect(printed.workers.map((w) => w.workerId)).toEqual([
      `host-a:zerog:${a.proc.pid}`,
      `host-b:zerog:${b.proc.pid}`,
    ]);
  });

  it("drain --wait returns once the host's running job has finished; undrain lets it take jobs again", async () => {
    // host-b drained, so host-a takes the job.
    expect((await zerog("drain", "host-b", "--wait", "20")).code).toBe(0);
    const uuid = await submit("slow", { ms: 1500 });
    await expect.poll(async () => (await host("host-a")).running, POLL).toBe(1);

    const drained = await zerog("drain", "host-a", "--wait", "20");
    expect(drained.stderr).toBe("");
    expect(drained.code).toBe(0);
    expect(drained.stdout).toContain(`drain: sent to 1 worker(s) on host-a: host-a:zerog:${a.proc.pid}`);
    expect(drained.stdout).toContain("host-a is drained: safe to terminate");
    // Drained means its job ran to the end first.
    expect(await dump(uuid)).toMatchObject({
      state: "finished",
      resultCode: 200,
      workerId: `host-a:zerog:${a.proc.pid}`,
    });
    expect(await host("host-a")).toMatchObject({ drained: true, running: 0 });
    expect((await zerog("workers")).stdout).toMatch(/^host-a {2}drained \(safe to terminate\) {2}running 0$/m);

    const undrained = await zerog("undrain", "host-a");
    expect(undrained).toMatchObject({ code: 0, stderr: "" });
    expect(undrained.stdout).toContain("undrain: sent to 1 worker(s) on host-a");
    await expect.poll(async () => (await host("host-a")).workers[0]?.state, POLL).toBe("activeIdle");
    const next = await submit("pid", {});
    await expect.poll(async () => (await dump(next)).resultCode, POLL).toBe(200);
    expect((await dump(next)).workerId).toBe(`host-a:zerog:${a.proc.pid}`);
    expect((await zerog("undrain", "host-b")).code).toBe(0);
    await expect.poll(async () => (await host("host-b")).workers[0]?.state, POLL).toBe("activeIdle");
  });

  it("kill stops a running job that ignores its signal: 'stopping', then the job ends with 410", async () => {
    const uuid = await submit("stubborn", { ms: 60_000 });
    await expect.poll(async () => (await dump(uuid)).running, POLL).toBe(true);
    const killed = await zerog("kill", uuid);
    expect(killed).toMatchObject({ code: 0, stdout: `${uuid}: stopping\n`, stderr: "" });
    // The worker's kill grace (1 s) passes, then its job process is killed.
    await expect.poll(async () => (await dump(uuid)).resultCode, POLL).toBe(410);
    expect(await dump(uuid)).toMatchObject({ state: "finished", running: false });
    expect((await zerog("kill", uuid)).stdout).toBe(`${uuid}: finished\n`);
  });

  it("retire is for good: undrain then fails, saying the host is retired", async () => {
    const retired = await zerog("retire", "host-b");
    expect(retired).toMatchObject({ code: 0, stderr: "" });
    expect(retired.stdout).toContain(`retire: sent to 1 worker(s) on host-b: host-b:zerog:${b.proc.pid}`);
    await expect.poll(async () => (await host("host-b")).workers[0]?.retiring, POLL).toBe(true);
    expect((await zerog("workers")).stdout).toContain(`host-b:zerog:${b.proc.pid}  drainingIdle (retired)`);

    const refused = await zerog("undrain", "host-b");
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toMatch(/^zerog: .*409.*retired/);
    expect(await host("host-b")).toMatchObject({ drained: true });
  });

  it("an unknown host: a non-zero exit and a message naming it", async () => {
    const actions = ["drain", "undrain", "retire"] as const;
    const results = await Promise.all(actions.map((action) => zerog(action, "nowhere")));
    for (const [i, r] of results.entries()) {
      expect(r.code, actions[i]).not.toBe(0);
      expect(r.stdout, actions[i]).toBe("");
      expect(r.stderr, actions[i]).toMatch(/^zerog: .*404 no live worker on host 'nowhere'\n$/);
    }
    const unknownJob = await zerog("kill", "01a2297c-7c20-7397-b285-25c28939c80a");
    expect(unknownJob.code).not.toBe(0);
    expect(unknownJob.stderr).toMatch(/^zerog: .*404/);
  });

  it("a bad --wait is refused before anything is sent", async () => {
    // Against an API that records what reaches it: once the command has exited, whatever it sent has arrived.
    const api = await recordingApi();
    try {
      const bad = await runCli(["drain", "host-a", "--wait", "abc", "--url", api.url]);
      expect(bad).toMatchObject({ code: 2, stdout: "", stderr: "zerog: --wait must be seconds, got 'abc'\n" });
      expect(api.requests).toEqual([]);
    } finally {
      await api.close();
    }
  });

  it("an unreachable --url: a non-zero exit and a message that it cannot reach the API", async () => {
    const port = await closedPort();
    const commands = [["workers"], ["drain", "host-a", "--wait", "5"], ["kill", "x"]];
    const results = await Promise.all(commands.map((args) => runCli([...args, "--url", `http://127.0.0.1:${port}`])));
    for (const [i, r] of results.entries()) {
      const args = commands[i] ?? [];
      expect(r.code, args.join(" ")).not.toBe(0);
      expect(r.stdout, args.join(" ")).toBe("");
      expect(r.stderr, args.join(" ")).toMatch(
        new RegExp(`^zerog: cannot reach the ZeroG API at http://127\\.0\\.0\\.1:${port}`),
      );
    }
  });
});

/**
 * An HTTP server on a free local port that records each request (method and path) and answers it
 * as the API would a fleet command aimed at an empty fleet.
 */
async function recordingApi(): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const srv = createHttpServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ hosts: [], workers: [], sent: "drain" }));
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const address = srv.address();
  const port = typeof address === "object" && address ? address.port : expect.fail("no port");
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => srv.close(() => resolve())),
  };
}

/** A local port nothing listens on (one just freed). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const address = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return typeof address === "object" && address ? address.port : expect.fail("no port");
}
