import type { Command } from "commander";
import type { WorkerRecord } from "../contracts/fleet.ts";
import { InvalidConfigError } from "../errors.ts";
import { type ControlResult, type FleetOverview, type HostSummary, isWorkerDrained } from "../fleet/worker-manager.ts";
import { callApi, URL_OPTION } from "./api-client.ts";

interface ApiFlags {
  url: string;
  json?: boolean;
}

/** What `zerog drain|undrain|retire X` acts on: one live worker (X is its id), or every worker on host X. */
type Target = { kind: "worker"; id: string } | { kind: "host"; host: string };

/** `zerog workers`, `zerog drain|undrain|retire WORKER|HOST`, `zerog kill UUID`: fleet control through a server's REST API. */
export function registerFleet(program: Command): void {
  program
    .command("workers")
    .description("list live workers per host, whether each host is drained, the queue depth and the paused job types")
    .option(...URL_OPTION)
    .option("--json", "print GET /workers as JSON")
    .action(async (flags: ApiFlags) => {
      const overview = (await callApi(flags.url, "GET", "workers")) as FleetOverview;
      console.log(flags.json ? JSON.stringify(overview, null, 2) : formatOverview(overview));
    });

  for (const action of ["drain", "undrain", "retire"] as const) {
    program
      .command(`${action} <worker-or-host>`)
      .description(
        action === "drain"
          ? "stop a worker (by id, host:service:pid) or every worker on a host taking jobs (running ones finish); --wait until it is safe to terminate"
          : action === "undrain"
            ? "let a worker (by id) or a host's workers take jobs again"
            : "drain a worker (by id) or a host's workers for good (cannot be undone)",
      )
      .option(...URL_OPTION)
      .option("--wait [seconds]", "wait until the worker or host is drained (default 600 s)")
      .action(async (name: string, flags: ApiFlags & { wait?: string | boolean }) => {
        const waitMs = waitFlag(flags.wait);
        const target = await targetOf(flags.url, name);
        const path =
          target.kind === "worker"
            ? `workers/${encodeURIComponent(target.id)}`
            : `hosts/${encodeURIComponent(target.host)}`;
        const sent = (await callApi(flags.url, "POST", `${path}/${action}`)) as ControlResult;
        console.log(
          target.kind === "worker"
            ? `${action}: sent to worker ${target.id}`
            : `${action}: sent to ${sent.workers.length} worker(s) on ${target.host}: ${sent.workers.join(", ")}`,
        );
        if (waitMs === null || action === "undrain") return;
        const drained = await waitDrained(flags.url, target, waitMs);
        console.log(
          drained ? `${name} is drained: safe to terminate` : `${name} is not drained after ${waitMs / 1000} s`,
        );
        if (!drained) process.exitCode = 1;
      });
  }

  program
    .command("kill <uuid>")
    .description("kill a job: error 410 'Killed by user'")
    .option(...URL_OPTION)
    .action(async (uuid: string, flags: ApiFlags) => {
      const r = (await callApi(flags.url, "POST", `job/${encodeURIComponent(uuid)}/kill`)) as { result: string };
      console.log(`${uuid}: ${r.result}`);
    });
}

/** `--wait [seconds]` in ms (600 s when given bare), null when absent; checked before anything is sent. */
function waitFlag(wait: string | boolean | undefined): number | null {
  if (wait === undefined) return null;
  const seconds = wait === true ? 600 : Number(wait);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new InvalidConfigError(`--wait must be seconds, got '${wait}'`);
  return seconds * 1000;
}

/**
 * A live worker when `name` is one's id (GET /workers), else the host `name`: an unknown name
 * goes to the host routes, which answer 404 naming it.
 */
async function targetOf(url: string, name: string): Promise<Target> {
  const overview = (await callApi(url, "GET", "workers")) as FleetOverview;
  return overview.workers.some((w) => w.workerId === name)
    ? { kind: "worker", id: name }
    : { kind: "host", host: name };
}

async function waitDrained(url: string, target: Target, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const drained =
      target.kind === "worker"
        ? isWorkerDrained((await callApi(url, "GET", `workers/${encodeURIComponent(target.id)}`)) as WorkerRecord)
        : ((await callApi(url, "GET", `hosts/${encodeURIComponent(target.host)}`)) as HostSummary).drained;
    if (drained) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Plain lines: one per worker, one per host, then the queue. */
export function formatOverview(o: FleetOverview): string {
  const lines: string[] = [];
  for (const h of o.hosts) {
    lines.push(`${h.host}  ${h.drained ? "drained (safe to terminate)" : "active"}  running ${h.running}`);
    for (const w of h.workers) {
      const mb = Math.round(w.mem.used / 1024 / 1024);
      const jobs = w.running.map((r) => r.uuid).join(",") || "-";
      lines.push(
        `  ${w.workerId}  ${w.state}${w.retiring ? " (retired)" : ""}  slots ${w.slots}  ${mb} MB  jobs ${jobs}`,
      );
    }
  }
  if (o.hosts.length === 0) lines.push("no live workers");
  const q = o.queue;
  lines.push(`queue ${q.queue}: ready ${q.ready}, delayed ${q.delayed}, reserved ${q.reserved}, buried ${q.buried}`);
  // Absent from servers older than pausing.
  if (o.pausedTypes?.length) lines.push(`paused job types: ${o.pausedTypes.join(", ")}`);
  return lines.join("\n");
}
