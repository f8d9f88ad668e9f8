import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect } from "vitest";
import type { JobDocument } from "zerog";
import { type PrivateBeanstalkd, privateBeanstalkd } from "../helpers/beanstalkd.ts";
import { type RunningCli, startServe } from "../helpers/cli.ts";
import { completions, type LoggedRun, overlaps, readRunLog } from "../helpers/run-log.ts";
import { type NamespacedUrl, namespacedUrl, serviceUrl } from "../helpers/services.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";

/**
 * A whole server SIGKILLed while it runs jobs, two others still up: the scenario, on each backend,
 * for test/e2e/dead-server.test.ts and its soak. Run starts and ends are counted from a log the
 * job itself writes. Import it from a test file: it registers that file's clean-up.
 */

export const postgres = await serviceUrl("postgres");
export const redis = await serviceUrl("redis");
export const beanstalkd = await privateBeanstalkd();
afterAll(() => beanstalkd?.destroy());

export interface BackendCase {
  name: string;
  /** The serve flags naming the backend, fresh for one test; null when its service is missing. */
  urls(): Promise<{ datastore: string; queue: string; drop?: () => Promise<void> } | null>;
}

const sqliteUrl = (): string => `sqlite:${tempDbPath()}`;
const namespaced = (kind: "postgres" | "redis", base: string | null) => {
  if (base === null) return null;
  const ns: NamespacedUrl = namespacedUrl(kind, base);
  return { datastore: ns.url, queue: ns.url, drop: ns.drop };
};
/** The private beanstalkd, emptied: its tube is the queue name, the same in every test. */
const freshBeanstalkd = async (b: PrivateBeanstalkd | null): Promise<string | null> => {
  if (!b) return null;
  await b.restart();
  return b.url;
};

export const BACKENDS: BackendCase[] = [
  { name: "sqlite", urls: async () => ({ datastore: sqliteUrl(), queue: "" }) },
  { name: "postgres", urls: async () => namespaced("postgres", postgres) },
  { name: "redis", urls: async () => namespaced("redis", redis) },
  {
    name: "beanstalkd + sqlite",
    urls: async () => {
      const q = await freshBeanstalkd(beanstalkd);
      return q ? { datastore: sqliteUrl(), queue: q } : null;
    },
  },
];

/** Long enough that the victim is still running its jobs when it is killed; the takeover run is short. */
const FIRST_RUN_MS = 60_000;
const VICTIM_JOBS = 3;

/** Resolves with, for each job the victim held, ms from the kill to its new run's start. */
export async function deadServerScenario(b: BackendCase, workerTtlSeconds: number): Promise<number[]> {
  const urls = await b.urls();
  if (!urls) throw new Error(`${b.name}: service missing`);
  const dir = mkdtempSync(join(tmpdir(), "zerog-dead-"));
  const log = join(dir, "runs.jsonl");
  const servers = new Map<string, RunningCli>();
  // The victim's slots are all taken by the jobs it holds, so it runs none of the short ones: a
  // run it completed but could not record before it died would rightly run again.
  const serve = async (host: string, slots: number): Promise<RunningCli> => {
    const s = await startServe([
      ...["--jobs", "test/helpers/run-log-jobs.ts", "--datastore", urls.datastore],
      ...["--queue", urls.queue || urls.datastore, "--concurrency", String(slots), "--hostname", host],
      ...["--worker-ttl", String(workerTtlSeconds), "--shutdown-grace", "1"],
    ]);
    servers.set(host, s);
    return s;
  };
  const post = async (via: RunningCli, params: Record<string, unknown>): Promise<string> => {
    const res = await fetch(`${via.url}/job/logged_run`, { method: "POST", body: JSON.stringify({ log, ...params }) });
    expect(res.status).toBe(201);
    return ((await res.json()) as { uuid: string }).uuid;
  };
  try {
    // The victim starts alone and takes the long jobs; the other two join, with room to spare.
    const victim = await serve("host-c", VICTIM_JOBS);
    const held: string[] = [];
    for (let i = 0; i < VICTIM_JOBS; i++) held.push(await post(victim, { ms: FIRST_RUN_MS, retryMs: 100 }));
    await expect.poll(() => held.filter((u) => readRunLog(log).get(u)?.length).length, { timeout: 15_000 }).toBe(3);
    const [a] = await Promise.all([serve("host-a", 4), serve("host-b", 4)]);
    if (!a) throw new Error("host-a did not start");

    // Load: a steady trickle of short jobs while the victim dies.
    const trickle: string[] = [];
    let loading = true;
    const load = (async () => {
      while (loading) {
        trickle.push(await post(a, { ms: 50 }));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    // The victim dies once the load is under way: the first short jobs have run to their end.
    const trickleRan = (): number => {
      const runs = readRunLog(log);
      return trickle.filter((u) => runs.get(u)?.some((r) => r.end !== undefined)).length;
    };
    await expect.poll(trickleRan, { timeout: 15_000, interval: 20 }).toBeGreaterThanOrEqual(3);
    const killedAt = Date.now();
    victim.proc.kill("SIGKILL");
    await victim.exited;
    servers.delete("host-c");

    // Each held job starts again on a live server.
    const takeover = (u: string): LoggedRun | undefined =>
      readRunLog(log)
        .get(u)
        ?.find((r) => r.attempt >= 2);
    await expect
      .poll(() => held.filter((u) => takeover(u)).length, { timeout: (workerTtlSeconds + 10) * 1000, interval: 50 })
      .toBe(VICTIM_JOBS);
    loading = false;
    await load;
    const latencies = held.map((u) => (takeover(u)?.start ?? Number.NaN) - killedAt);

    // Nothing lost: every job finishes, each completing exactly once, none ever overlapping another run of itself.
    const all = [...held, ...trickle];
    await expect
      .poll(
        async () => {
          const docs = await Promise.all(
            all.map(async (u) => (await (await fetch(`${a.url}/dump/${u}?showLogs=true`)).json()) as JobDocument),
          );
          return docs.filter((d) => d.resultCode !== 200).length;
        },
        { timeout: 30_000, interval: 200 },
      )
      .toBe(0);
    const runs = readRunLog(log);
    expect([...completions(runs)].filter(([u, n]) => all.includes(u) && n !== 1)).toEqual([]);
    const victimId = (r: LoggedRun): boolean => r.workerId.startsWith("host-c:");
    // The victim's runs never ended: they count as going on until the kill.
    expect(overlaps(runs, (r) => (victimId(r) ? killedAt : Number.POSITIVE_INFINITY))).toEqual([]);
    for (const u of held) {
      const list = runs.get(u) ?? [];
      expect(list.map((r) => [r.attempt, victimId(r)])).toEqual([
        [1, true],
        [2, false],
      ]);
      const doc = (await (await fetch(`${a.url}/dump/${u}?showLogs=true`)).json()) as JobDocument;
      expect(doc.errors.map((e) => e.msg)).toEqual(["job was killed"]);
    }
    return latencies;
  } finally {
    for (const s of servers.values()) s.proc.kill("SIGKILL");
    await Promise.all([...servers.values()].map((s) => s.exited));
    await urls.drop?.();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether a backend's service is missing (its tests skip locally; the helpers fail them under CI=true). */
export function serviceMissing(b: BackendCase): boolean {
  if (b.name === "postgres") return !postgres;
  if (b.name === "redis") return !redis;
  return b.name.startsWith("beanstalkd") && !beanstalkd;
}

/** p50 and max of the takeover times. */
export const summary = (ms: number[]): string =>
  `p50 ${[...ms].sort((x, y) => x - y)[Math.floor(ms.length / 2)]} ms, max ${Math.max(...ms)} ms`;
