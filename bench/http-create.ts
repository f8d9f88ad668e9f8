// POST /job/noop on each backend vs a bare Fastify JSON route, each server in its own process, one load generator.
import { fork } from "node:child_process";
import { once } from "node:events";
import autocannon from "autocannon";
import type { BenchBackend, BenchUrls } from "./backends.ts";
import { quantile, report, round } from "./stats.ts";

const HTTP_SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 3);
const HTTP_ROUNDS = Number(process.env.BENCH_HTTP_ROUNDS ?? 3);

/**
 * Rounds go through every target in turn, so that a slow patch of the machine hits them all; each
 * backend's ratio is the median over rounds of (its req/s ÷ the bare route's req/s in that round).
 */
export async function httpCreate(backends: readonly BenchBackend[]): Promise<void> {
  const targets = [
    { name: "bare", ...(await startTarget("bare")) },
    ...(await Promise.all(backends.map(async (b) => ({ name: b.name, ...(await startTarget(await b.fresh())) })))),
  ];
  const load = (url: string, seconds: number) =>
    autocannon({
      url: `${url}/job/noop`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
      connections: 50,
      duration: seconds,
    });
  for (const t of targets) await load(t.url, 1); // warm-up (JIT, first pages, pools), not counted
  const rounds: Record<string, autocannon.Result>[] = [];
  for (let r = 0; r < HTTP_ROUNDS; r++) {
    const round: Record<string, autocannon.Result> = {};
    for (const t of targets) round[t.name] = await load(t.url, HTTP_SECONDS);
    rounds.push(round);
  }
  const rate = (r: Record<string, autocannon.Result>, name: string) => r[name]?.requests.average ?? Number.NaN;
  for (const t of targets) {
    const rates = rounds.map((r) => rate(r, t.name));
    report({
      bench: "http",
      target: t.name === "bare" ? "bare fastify route" : `zerog POST /job (${t.name})`,
      reqPerSec: round(quantile(rates, 0.5), 0),
      runs: rates.map((x) => round(x, 0)),
      p99Ms: quantile(
        rounds.map((r) => r[t.name]?.latency.p99 ?? Number.NaN),
        0.5,
      ),
      non2xx: rounds.reduce((n, r) => n + (r[t.name]?.non2xx ?? 0) + (r[t.name]?.errors ?? 0), 0),
    });
    if (t.name === "bare") continue;
    const ratios = rounds.map((r) => rate(r, t.name) / rate(r, "bare"));
    report({
      bench: "http-ratio",
      backend: t.name,
      zerogOverBare: round(quantile(ratios, 0.5), 2),
      runs: ratios.map((x) => round(x, 2)),
    });
  }
  for (const t of targets) {
    t.child.kill();
    await once(t.child, "exit");
  }
}

async function startTarget(target: BenchUrls | "bare"): Promise<{ url: string; child: ReturnType<typeof fork> }> {
  const args = target === "bare" ? ["bare"] : [target.datastore, target.queue];
  const child = fork(new URL("./http-target.ts", import.meta.url), args, {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const [{ url }] = (await once(child, "message")) as [{ url: string }];
  return { url, child };
}
