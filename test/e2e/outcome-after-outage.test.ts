import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobDocument } from "zerog";
import { type RunningCli, startServe } from "../helpers/cli.ts";
import { type PrivateService, privatePostgres, privateRedis } from "../helpers/private-services.ts";
import { completions, readRunLog } from "../helpers/run-log.ts";

/**
 * A backend that restarts, or whose connections are killed twice a second, while jobs run:
 * a run that finished while its outcome could not be written must keep its outcome and write it
 * once the backend answers, never run again. Completions are counted per job from a log the
 * job itself writes, outside ZeroG. Private PostgreSQL and Redis servers: the machine's shared
 * ones are never restarted.
 */

const dir = mkdtempSync(join(tmpdir(), "zerog-outage-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Short, so an entry whose reserve answer was lost (the lease was taken, nobody got it) comes back soon. */
const TTR_SECONDS = 10;
/** Jobs created at about this rate while the fault happens. */
const CREATES_PER_SECOND = 100;
const PRODUCE_MS = 4000;
/** How much longer a slow machine may produce to reach the load the test needs. */
const MAX_EXTRA_PRODUCE_MS = 20_000;

type Fault = "restart" | "kill connections";

interface Target {
  name: string;
  service: () => Promise<PrivateService>;
  /** Drops every connection ZeroG holds, once. */
  killConnections: (svc: PrivateService) => Promise<void>;
}

const TARGETS: Target[] = [
  {
    name: "postgres",
    service: privatePostgres,
    killConnections: async (svc) => {
      const { default: pg } = await import("pg");
      const c = new pg.Client({ connectionString: svc.url });
      await c.connect();
      try {
        await c.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'zerog%' AND pid <> pg_backend_pid()",
        );
      } finally {
        await c.end();
      }
    },
  },
  {
    name: "redis",
    service: privateRedis,
    killConnections: async (svc) => {
      const { createClient } = await import("redis");
      const c = createClient({ url: svc.url });
      await c.connect();
      try {
        await c.sendCommand(["CLIENT", "KILL", "TYPE", "normal"]);
        await c.sendCommand(["CLIENT", "KILL", "TYPE", "pubsub"]);
      } finally {
        c.destroy();
      }
    },
  },
];

async function injectFault(t: Target, svc: PrivateService, fault: Fault): Promise<void> {
  if (fault === "restart") {
    await svc.stop();
    await sleep(1000);
    await svc.start();
    return;
  }
  for (let i = 0; i < 6; i++) {
    await t.killConnections(svc).catch(() => undefined);
    await sleep(500);
  }
}

for (const t of TARGETS) {
  describe(`${t.name}: a finished run is never run again after an outage`, () => {
    let svc: PrivateService;
    beforeAll(async () => {
      svc = await t.service();
    }, 60_000);
    afterAll(() => svc?.destroy());

    const cases: Array<{ fault: Fault; isolation: "process" | "inline" }> = [
      { fault: "restart", isolation: "process" },
      { fault: "kill connections", isolation: "process" },
      { fault: "kill connections", isolation: "inline" },
    ];
    for (const { fault, isolation } of cases) {
      it(`${fault}, jobs in ${isolation === "inline" ? "the server process" : "job processes"}: each job completes exactly once`, {
        timeout: 120_000,
      }, async () => {
        const log = join(dir, `${t.name}-${fault.replace(" ", "-")}-${isolation}.jsonl`);
        const ns = `o${Date.now().toString(36)}`;
        const url = `${svc.url}${svc.url.includes("?") ? "&" : "?"}${t.name === "postgres" ? "schema" : "prefix"}=${ns}`;
        const server: RunningCli = await startServe([
          ...["--jobs", "test/helpers/run-log-jobs.ts", "--datastore", url, "--queue", url],
          ...["--concurrency", "4", "--isolation", isolation, "--ttr", String(TTR_SECONDS), "--shutdown-grace", "1"],
        ]);
        try {
          const accepted: string[] = [];
          let refused = 0;
          const produce = async (): Promise<void> => {
            // At least PRODUCE_MS, with the fault in the middle; on a busy machine, on until more than
            // 100 jobs are in (bounded), so the check below always has a real load to judge.
            const end = Date.now() + PRODUCE_MS;
            const last = end + MAX_EXTRA_PRODUCE_MS;
            while (Date.now() < end || (accepted.length <= 100 && Date.now() < last)) {
              const res = await fetch(`${server.url}/job/logged_run`, {
                method: "POST",
                body: JSON.stringify({ log, ms: 30 }),
                signal: AbortSignal.timeout(5000),
              }).catch(() => null);
              if (res?.status === 201) accepted.push(((await res.json()) as { uuid: string }).uuid);
              else refused++;
              await sleep(1000 / CREATES_PER_SECOND);
            }
          };
          const producing = produce();
          await sleep(1000);
          await injectFault(t, svc, fault);
          await producing;

          // Everything accepted finishes…
          const dump = async (u: string): Promise<JobDocument | null> => {
            const res = await fetch(`${server.url}/dump/${u}`).catch(() => null);
            return res?.status === 200 ? ((await res.json()) as JobDocument) : null;
          };
          await expect
            .poll(
              async () => {
                const docs = await Promise.all(accepted.map(dump));
                return docs.filter((d) => d?.resultCode !== 200).length;
              },
              { timeout: (TTR_SECONDS + 30) * 1000, interval: 500 },
            )
            .toBe(0);
          // …and every job that ran, accepted or not (a create whose answer was lost), completed once.
          const done = completions(readRunLog(log));
          console.log(
            `${t.name}, ${fault}, ${isolation}: ${accepted.length} accepted, ${refused} refused, ${done.size} ran`,
          );
          expect(accepted.length).toBeGreaterThan(100);
          expect(accepted.filter((u) => done.get(u) !== 1)).toEqual([]);
          expect([...done].filter(([, n]) => n > 1)).toEqual([]);
        } finally {
          server.proc.kill("SIGKILL");
          await server.exited;
        }
      });
    }
  });
}
