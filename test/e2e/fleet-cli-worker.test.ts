import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetOverview, HostSummary, WorkerRecord } from "zerog";
import { type RunningCli, runCli, startServe } from "../helpers/cli.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";

/**
 * `zerog drain|undrain|retire X` where X is a worker id (host:service:pid) or a host: two
 * `zerog serve` processes on one host ("shared") sharing one SQLite file, so a host holds two
 * workers and draining one of them by id must leave the other taking jobs.
 */

const POLL = { timeout: 15_000, interval: 100 } as const;
const servers: RunningCli[] = [];
let a: RunningCli;
let b: RunningCli;
let idA: string;
let idB: string;

beforeAll(async () => {
  const db = `sqlite:${tempDbPath()}`;
  const serve = async (): Promise<RunningCli> => {
    const r = await startServe([
      ...["--jobs", "test/helpers/test-jobs.ts", "--datastore", db, "--queue", db],
      ...["--hostname", "shared", "--worker-ttl", "3"],
    ]);
    servers.push(r);
    return r;
  };
  a = await serve(); // first: it creates the database's tables
  b = await serve();
  idA = `shared:zerog:${a.proc.pid}`;
  idB = `shared:zerog:${b.proc.pid}`;
});
afterAll(async () => {
  for (const s of servers) s.proc.kill("SIGKILL");
  await Promise.all(servers.map((s) => s.exited));
});

const getJson = async <T>(url: string): Promise<T> => (await (await fetch(url)).json()) as T;
const worker = (id: string) => getJson<WorkerRecord>(`${a.url}/workers/${encodeURIComponent(id)}`);
const host = () => getJson<HostSummary>(`${a.url}/hosts/shared`);
const zerog = (...args: string[]) => runCli([...args, "--url", a.url]);

describe("zerog drain | undrain | retire by worker id", () => {
  it("drain WORKER --wait drains that worker only, and says it took a worker; undrain WORKER undoes it", async () => {
    await expect.poll(async () => (await getJson<FleetOverview>(`${a.url}/workers`)).workers.length, POLL).toBe(2);

    const drained = await zerog("drain", idA, "--wait", "20");
    expect(drained).toEqual({
      code: 0,
      stdout: `drain: sent to worker ${idA}\n${idA} is drained: safe to terminate\n`,
      stderr: "",
    });
    expect((await worker(idA)).state).toBe("drainingIdle");
    expect((await worker(idB)).state).toMatch(/^active/);
    expect((await host()).drained).toBe(false);

    const undrained = await zerog("undrain", idA);
    expect(undrained).toEqual({ code: 0, stdout: `undrain: sent to worker ${idA}\n`, stderr: "" });
    await expect.poll(async () => (await worker(idA)).state, POLL).toBe("activeIdle");
  });

  it("a host name still reaches every worker on it, and says how many", async () => {
    const drained = await zerog("drain", "shared");
    expect(drained.code).toBe(0);
    const sent = drained.stdout.match(/^drain: sent to 2 worker\(s\) on shared: (.+)$/m)?.[1]?.split(", ");
    expect(sent?.sort()).toEqual([idA, idB].sort());
    await expect.poll(async () => (await host()).drained, POLL).toBe(true);
    expect((await zerog("undrain", "shared")).stdout).toMatch(/^undrain: sent to 2 worker\(s\) on shared: /);
    await expect
      .poll(async () => (await host()).workers.map((w) => w.state), POLL)
      .toEqual(["activeIdle", "activeIdle"]);
  });

  it("retire WORKER retires that worker for good; the other still takes jobs", async () => {
    const retired = await zerog("retire", idB);
    expect(retired).toEqual({ code: 0, stdout: `retire: sent to worker ${idB}\n`, stderr: "" });
    await expect.poll(async () => (await worker(idB)).retiring, POLL).toBe(true);
    const refused = await zerog("undrain", idB);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toMatch(/^zerog: .*409.*retired/);
    expect((await worker(idA)).state).toMatch(/^active/);
  });

  it("a name that is neither a live worker nor a host: 404 naming it", async () => {
    const gone = await zerog("drain", "shared:zerog:1");
    expect(gone.code).not.toBe(0);
    expect(gone.stdout).toBe("");
    expect(gone.stderr).toMatch(/^zerog: .*404 no live worker on host 'shared:zerog:1'\n$/);
  });
});
