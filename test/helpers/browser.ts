import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { Server, type ServerConfig } from "zerog";
import { FizzBuzzJob } from "../../examples/fizz-buzz-job.ts";
import { WasteTimeJob } from "../../examples/waste-time-job.ts";
import { TEST_JOBS } from "./test-jobs.ts";

/** Debian's Chromium; never a browser downloaded by Playwright (downloads fail on these machines). */
export const CHROMIUM_PATH = process.env.ZEROG_TEST_CHROMIUM ?? "/usr/bin/chromium";

/** Headless, and quiet on the network: no updates, sync or first-run pages to wait for. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
] as const;

/**
 * Chromium's path when it is installed; when it is not: under CI=true an error (a missing browser
 * must fail CI, never skip: .ci/run installs it), otherwise null and a printed reason, so the file
 * can `describe.skipIf(chromiumPath() === null)`.
 */
export function chromiumPath(): string | null {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  const reason = `Chromium is not installed at ${CHROMIUM_PATH}`;
  if (process.env.CI === "true") throw new Error(`${reason}; CI must install it (see .ci/run)`);
  console.warn(`skipping browser tests: ${reason} (apt-get install -y chromium, or set ZEROG_TEST_CHROMIUM)`);
  return null;
}

/** Launches the headless Chromium at `path`. */
export function launchChromium(path: string = CHROMIUM_PATH): Promise<Browser> {
  return chromium.launch({ executablePath: path, args: [...CHROMIUM_ARGS] });
}

/** The job classes a dashboard server serves: the README's examples and the test jobs. */
export const DASHBOARD_JOBS = [WasteTimeJob, FizzBuzzJob, ...TEST_JOBS];

/** A listening server for the dashboard's tests, and the dashboard's URL. */
export interface DashboardServer {
  server: Server;
  /** The API's base URL, e.g. http://127.0.0.1:40123 */
  base: string;
  /** The dashboard: `${base}/ui/` */
  ui: string;
}

/**
 * A real ZeroG server (REST API, dashboard and a worker named after host `ui-host`) on `datastore`,
 * listening on a free port. Control messages and announcements run faster than the defaults so
 * a drain shows up in the fleet view within a few hundred ms rather than seconds.
 */
export async function startDashboardServer(
  datastore: string,
  over: Partial<ServerConfig> = {},
): Promise<DashboardServer> {
  const server = new Server({
    jobs: DASHBOARD_JOBS,
    datastore,
    queue: datastore,
    hostName: "ui-host",
    concurrency: 2,
    isolation: "inline",
    controlPollMs: 100,
    announceIntervalMs: 300,
    workerTtlMs: 5000,
    killPollMs: 200,
    reserveTimeoutMs: 200,
    ...over,
  });
  const base = await server.listen({ port: 0, host: "127.0.0.1" });
  return { server, base, ui: `${base}/ui/` };
}

/** POSTs a job through the REST API (the way a producer would, not through the dashboard). */
export async function createJob(
  base: string,
  jobType: string,
  params: unknown,
  opts: { query?: string; token?: string } = {},
): Promise<string> {
  const res = await fetch(`${base}/job/${jobType}${opts.query ? `?${opts.query}` : ""}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
    body: JSON.stringify(params),
  });
  if (res.status !== 201) throw new Error(`POST /job/${jobType} answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { uuid: string }).uuid;
}
