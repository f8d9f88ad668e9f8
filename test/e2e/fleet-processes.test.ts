import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetOverview, HostSummary, JobDocument, WorkerRecord } from "zerog";
import { type RunningCli, startServe } from "../helpers/cli.ts";
import { type NamespacedUrl, namespacedUrl, serviceUrl } from "../helpers/services.ts";

/**
 * Capacity management (docs/capacity.md) against real `zerog serve` processes sharing one
 * PostgreSQL schema: the fleet view, draining a host, and what happens to jobs when a whole server
 * dies (SIGKILL) or shuts down (SIGTERM). The tests share three servers and run in order: the
 * last two stop host-c, then host-b.
 */

const HOSTS = ["host-a", "host-b", "host-c"] as const;
type Host = (typeof HOSTS)[number];
/** Short, so a dead server leaves the fleet view quickly; must exceed the 2 s announce interval + 0.5 s poll. */
const WORKER_TTL_SECONDS = 3;
/** Short, so a dead server's job goes back to the queue 2 s after its last heartbeat. */
const TTR_SECONDS = 2;
/** How long a poll for state in another process may take: a control message applies within 0.5 s, a job runs a few s. */
const POLL = { timeout: 15_000, interval: 100 } as const;

const postgres = await serviceUrl("postgres");
const servers = new Map<Host, RunningCli>();
let ns: NamespacedUrl | null = null;

async function serve(host: Host): Promise<RunningCli> {
  const url = ns?.url ?? expect.fail("no schema");
  const r = await startServe([
    ...["--jobs", "test/helpers/test-jobs.ts", "test/helpers/crash-jobs.ts"],
    ...["--datastore", url, "--queue", url, "--concurrency", "2", "--hostname", host],
    ...["--worker-ttl", String(WORKER_TTL_SECONDS), "--ttr", String(TTR_SECONDS), "--shutdown-grace", "1"],
  ]);
  servers.set(host, r);
  return r;
}

const server = (host: Host): RunningCli => servers.get(host) ?? expect.fail(`${host} is not running`);
const workerId = (host: Host): string => `${host}:zerog:${server(host).proc.pid}`;
const hostOf = (id: string | null | undefined): string | undefined => id?.split(":")[0];

async function api<T>(host: Host, method: "GET" | "POST", path: string, body?: unknown) {
  const res = await fetch(`${server(host).url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}
const overview = async (via: Host) => (await api<FleetOverview>(via, "GET", "/workers")).body;
const hostView = async (via: Host, host: Host) => (await api<HostSummary>(via, "GET", `/hosts/${host}`)).body;
const hostNames = async (via: Host) => (await overview(via)).hosts.map((h) => h.host);
const stateOf = async (via: Host, host: Host): Promise<WorkerRecord["state"] | undefined> =>
  (await hostView(via, host)).workers?.[0]?.state;
const dump = async (via: Host, uuid: string) =>
  (await api<JobDocument>(via, "GET", `/dump/${uuid}?showLogs=true`)).body;

async function submit(via: Host, jobType: string, params: Record<string, unknown>): Promise<string> {
  const res = await api<{ uuid: string }>(via, "POST", `/job/${jobType}`, params);
  expect(res.status).toBe(201);
  return res.body.uuid;
}

/** Sends drain/undrain to each host (through `via`'s API) and waits until each shows it. */
async function control(via: Host, action: "drain" | "undrain", hosts: Host[]): Promise<void> {
  for (const h of hosts) {
    const res = await api<{ sent: string; workers: string[] }>(via, "POST", `/hosts/${h}/${action}`);
    expect(res).toEqual({ status: 202, body: { sent: action, workers: [workerId(h)] } });
  }
  for (const h of hosts) {
    await expect.poll(() => stateOf(via, h), POLL).toBe(action === "drain" ? "drainingIdle" : "activeIdle");
  }
}

/** Waits until every job has finished; returns their documents. */
async function finished(via: Host, uuids: string[], timeout: number = POLL.timeout): Promise<JobDocument[]> {
  let docs: JobDocument[] = [];
  await expect
    .poll(
      async () => {
        docs = await Promise.all(uuids.map((u) => dump(via, u)));
        return docs.filter((d) => d.state !== "finished").map((d) => d.uuid);
      },
      { ...POLL, timeout },
    )
    .toEqual([]);
  return docs;
}

/** The pids of a process's children (its job processes). */
function childPids(pid: number | undefined): number[] {
  try {
    // -f matches the command line: job processes run child-main; tsx's esbuild service is a child too.
    return execFileSync("pgrep", ["-P", String(pid), "-f", "child-main"], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

/** Whether a process still runs: it exists and is not a zombie (orphans may be re-parented to an init that never reaps). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return false;
  }
}

function isJobProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("child-main");
  } catch {
    return false;
  }
}

const msgs = (d: JobDocument): string[] => d.events.map((e) => e.msg);
const count = (d: JobDocument, msg: string): number => msgs(d).filter((m) => m === msg).length;

// Skipped only when PostgreSQL is not running and CI is not set (serviceUrl fails the run under CI=true).
describe.skipIf(postgres === null)("three zerog serve processes on one PostgreSQL: fleet management", () => {
  const orphans: number[] = [];
  beforeAll(async () => {
    ns = namespacedUrl("postgres", postgres ?? "");
    // The first server creates the schema; the other two start together once it exists.
    await serve("host-a");
    await Promise.all([serve("host-b"), serve("host-c")]);
  });
  afterAll(async () => {
    const running = [...servers.values()];
    for (const s of running) s.proc.kill("SIGKILL");
    await Promise.all(running.map((s) => s.exited));
    // Job processes a failed test left behind; the command line guards against a pid reused since.
    for (const pid of orphans) if (alive(pid) && isJobProcess(pid)) process.kill(pid, "SIGKILL");
    await ns?.drop();
  });

  it("lists every server's worker by host, each id naming that process's pid", async () => {
    for (const via of HOSTS) await expect.poll(() => hostNames(via), POLL).toEqual([...HOSTS]);
    const o = await overview("host-b");
    expect(o.workers.map((w) => w.workerId)).toEqual(HOSTS.map(workerId));
    for (const h of HOSTS) {
      const pid = server(h).proc.pid;
      expect(o.workers.find((w) => w.host === h)).toMatchObject({
        workerId: `${h}:zerog:${pid}`,
        host: h,
        service: "zerog",
        pid,
        state: "activeIdle",
        slots: 2,
        retiring: false,
      });
      expect(o.hosts.find((x) => x.host === h)).toMatchObject({ running: 0, drained: false });
    }
    expect(new Set(o.workers.map((w) => w.pid)).size).toBe(3);
    expect(o.queue).toEqual({ queue: "zerog_jobs", ready: 0, delayed: 0, reserved: 0, buried: 0 });
    // Each server runs its jobs in warm child processes (isolation "process", the default): one per slot.
    for (const h of HOSTS) await expect.poll(() => childPids(server(h).proc.pid).length, POLL).toBe(2);
  });

  it("drains a host through another server's API: its job finishes, new jobs go elsewhere; undrain resumes it", async () => {
    // Only host-a may take the first job.
    await control("host-a", "drain", ["host-b", "host-c"]);
    const first = await submit("host-c", "slow", { ms: 2500 });
    await expect.poll(async () => (await hostView("host-b", "host-a")).workers[0]?.uuid, POLL).toBe(first);
    await control("host-a", "undrain", ["host-b", "host-c"]);

    expect(await api("host-b", "POST", "/hosts/host-a/drain")).toEqual({
      status: 202,
      body: { sent: "drain", workers: [workerId("host-a")] },
    });
    await expect.poll(() => stateOf("host-b", "host-a"), POLL).toBe("drainingRunning");
    expect(await hostView("host-c", "host-a")).toMatchObject({ running: 1, drained: false });
    const [firstDoc] = await finished("host-b", [first]);
    expect(firstDoc).toMatchObject({ resultCode: 200, attempt: 1, workerId: workerId("host-a") });
    await expect.poll(() => hostView("host-b", "host-a"), POLL).toMatchObject({ running: 0, drained: true });
    expect(await stateOf("host-c", "host-a")).toBe("drainingIdle");

    // 30 new jobs, submitted through every server's API (host-a's too): none runs on host-a.
    const uuids = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        submit(HOSTS[i % 3] ?? "host-a", i % 2 === 0 ? "pid" : "slow", i % 2 === 0 ? {} : { ms: 100 }),
      ),
    );
    const docs = await finished("host-a", uuids);
    const ranOn = new Map<string, number>();
    for (const d of docs) {
      expect(d.resultCode, d.uuid).toBe(200);
      expect(d.attempt, d.uuid).toBe(1);
      const h = hostOf(d.workerId) ?? "none";
      ranOn.set(h, (ranOn.get(h) ?? 0) + 1);
    }
    expect([...ranOn.keys()].sort()).not.toContain("host-a");
    expect([...ranOn.values()].reduce((a, b) => a + b, 0)).toBe(30);
    // A pid job ran in a job process of the server that ran it, not in the server itself.
    const children = new Map<string, number[]>(
      (["host-b", "host-c"] as const).map((h) => [workerId(h), childPids(server(h).proc.pid)]),
    );
    for (const d of docs.filter((x) => x.jobType === "pid")) {
      expect(children.get(d.workerId ?? "")).toContain((d.data as { pid: number }).pid);
    }
    expect(await hostView("host-b", "host-a")).toMatchObject({ drained: true });

    // Undrained, and the others drained: host-a takes the new jobs.
    await control("host-c", "undrain", ["host-a"]);
    await control("host-c", "drain", ["host-b", "host-c"]);
    const more = await Promise.all(Array.from({ length: 4 }, () => submit("host-b", "pid", {})));
    for (const d of await finished("host-c", more)) expect(d.workerId).toBe(workerId("host-a"));
    await control("host-a", "undrain", ["host-b", "host-c"]);
  });

  it("SIGKILL of a whole server mid-job: another server finishes its job, nothing is lost, it leaves the fleet", async () => {
    await control("host-a", "drain", ["host-a", "host-b"]);
    const victim = await submit("host-a", "slow", { ms: 4000 });
    await expect.poll(async () => (await hostView("host-a", "host-c")).workers[0]?.uuid, POLL).toBe(victim);
    await control("host-a", "undrain", ["host-a", "host-b"]);
    // More jobs on every server while host-c dies: none may be lost or run twice to the end.
    const others = await Promise.all(
      Array.from({ length: 12 }, (_, i) => submit(HOSTS[i % 3] ?? "host-a", "slow", { ms: 800 })),
    );
    await expect.poll(async () => (await dump("host-a", victim)).events.length, POLL).toBeGreaterThan(0);

    const c = server("host-c");
    const jobProcesses = childPids(c.proc.pid);
    orphans.push(...jobProcesses);
    expect(jobProcesses.length).toBeGreaterThanOrEqual(1);
    c.proc.kill("SIGKILL");
    const killedAt = Date.now();
    expect(await c.exited).toBe("SIGKILL");
    servers.delete("host-c");

    // Its job processes exit when it dies (their IPC channel closes).
    await expect.poll(() => jobProcesses.filter(alive), POLL).toEqual([]);
    // Not heard from for the worker TTL: it drops out of the fleet view.
    await expect.poll(() => hostNames("host-a"), POLL).toEqual(["host-a", "host-b"]);
    expect(Date.now() - killedAt).toBeLessThan((WORKER_TTL_SECONDS + 3) * 1000);

    // TTR later its job is taken by another server, which records the kill and runs it again.
    const [victimDoc] = await finished("host-b", [victim], 20_000);
    expect(victimDoc).toMatchObject({ resultCode: 200, attempt: 2, running: false, errorCount: 1 });
    expect(["host-a", "host-b"]).toContain(hostOf(victimDoc?.workerId));
    expect(victimDoc?.errors).toEqual([expect.objectContaining({ errorCode: 500, msg: "job was killed" })]);
    expect(victimDoc && msgs(victimDoc)).toEqual(["started sleeping", "Killed - restarting", "started sleeping"]);

    // Every job finished exactly once: each run host-c lost was counted once and restarted once.
    const docs = await finished("host-a", others, 20_000);
    for (const d of docs) {
      const kills = count(d, "Killed - restarting");
      expect(d.resultCode, d.uuid).toBe(200);
      expect(d.attempt, d.uuid).toBe(1 + kills);
      expect(d.errorCount, d.uuid).toBe(kills);
      // A run's log line may die with its process before being flushed (writes are coalesced for 100 ms).
      expect(count(d, "started sleeping"), d.uuid).toBeGreaterThanOrEqual(1);
      expect(count(d, "started sleeping"), d.uuid).toBeLessThanOrEqual(1 + kills);
      expect(hostOf(d.workerId), d.uuid).not.toBe("host-c");
    }
    await expect
      .poll(async () => (await overview("host-b")).queue, POLL)
      .toEqual({ queue: "zerog_jobs", ready: 0, delayed: 0, reserved: 0, buried: 0 });
  });

  it("SIGTERM of a server whose job ignores its signal: it exits within seconds and hands the job back", async () => {
    // Only host-b may take the job (host-c is gone since the previous test).
    expect(await hostNames("host-a")).toEqual(["host-a", "host-b"]);
    await control("host-b", "drain", ["host-a"]);
    // Longer than the 1 s shutdown grace + the 1 s kill grace, so the run is cut short.
    const uuid = await submit("host-a", "stubborn", { ms: 4000 });
    await expect.poll(async () => (await hostView("host-a", "host-b")).workers[0]?.uuid, POLL).toBe(uuid);
    await control("host-b", "undrain", ["host-a"]);

    const b = server("host-b");
    const jobProcesses = childPids(b.proc.pid);
    orphans.push(...jobProcesses);
    b.proc.kill("SIGTERM");
    const t0 = Date.now();
    expect(await b.exited).toBe(0);
    const took = Date.now() - t0;
    servers.delete("host-b");
    expect(took).toBeLessThan(5000);
    expect(b.lines.some((l) => l.includes('"msg":"shut down"'))).toBe(true);
    expect(jobProcesses.filter(alive)).toEqual([]);
    // A clean shutdown leaves the fleet at once, without waiting for the TTL.
    expect(await hostNames("host-a")).toEqual(["host-a"]);

    // Handed back without counting an error; host-a runs it again, to the end.
    const [doc] = await finished("host-a", [uuid], 20_000);
    expect(doc).toMatchObject({ resultCode: 200, attempt: 2, errorCount: 0, errors: [], workerId: workerId("host-a") });
    expect(doc && msgs(doc)).toEqual(["Worker shut down - requeued"]);
  });
});
