import { afterAll, describe, it } from "vitest";
import { namespacedUrl, type ServiceName, serviceUrl } from "../helpers/services.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";
import { runOverload, summary } from "./overload.ts";
import { expectOverloadHandled } from "./overload-checks.ts";

/**
 * `npm run soak`: 60 s of creates at 3× what one worker slot finishes, on SQLite, PostgreSQL and
 * Redis, against a real `zerog serve` process (see overload.ts). About 3–5 minutes per backend,
 * most of it the backlog draining; run it alone, the machine's two cores are the measurement.
 */
const SECONDS = Number(process.env.ZEROG_SOAK_SECONDS ?? 60);
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const drop of drops.splice(0)) await drop();
});

async function urlOf(kind: "sqlite" | ServiceName): Promise<string | null> {
  if (kind === "sqlite") return `sqlite:${tempDbPath()}`;
  const base = await serviceUrl(kind);
  if (base === null) return null;
  const ns = namespacedUrl(kind, base);
  drops.push(ns.drop);
  return ns.url;
}

describe("overload: creates at 3× the workers' rate", () => {
  for (const kind of ["sqlite", "postgres", "redis"] as const) {
    it(`${kind}: ${SECONDS} s`, { timeout: 900_000 }, async (ctx) => {
      const url = await urlOf(kind);
      if (url === null) return ctx.skip(`${kind} is not reachable`);
      const f = await runOverload({ url, seconds: SECONDS, drainTimeoutMs: 600_000 });
      console.log(summary(kind, f));
      expectOverloadHandled(f, { seconds: SECONDS, maxP99Ms: 100 });
    });
  }
});
