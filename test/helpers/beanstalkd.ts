import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { BeanstalkClient } from "../../src/backends/beanstalkd/client.ts";
import { parseBeanstalkUrl } from "../../src/backends/beanstalkd/url.ts";
import { freePort } from "./private-services.ts";
import { answers } from "./services.ts";
import { until } from "./wait.ts";

/**
 * A beanstalkd of the test file's own on 127.0.0.1 and a free port, without a binlog unless asked for one (a restart
 * empties it). Tests may stop, restart and pause it: nothing else uses it.
 */
export interface PrivateBeanstalkd {
  url: string;
  host: string;
  port: number;
  start(): Promise<void>;
  /** Stops it and waits for the process to exit; SIGKILL drops every connection without ceremony. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stop, then start on the same port: an empty server. */
  restart(): Promise<void>;
  /** SIGSTOP: the server stops answering, but its sockets stay open (and the kernel still accepts connects). */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
  /** Stops it for good. */
  destroy(): Promise<void>;
}

const HOST = "127.0.0.1";

/**
 * Starts a private beanstalkd. When the binary is missing: under CI=true an error (CI must
 * install it: `apt-get install -y beanstalkd`), otherwise null and a printed reason, so the
 * file can `describe.skipIf(server === null)`.
 */
export async function privateBeanstalkd(
  opts: {
    /** Keep a binlog in this directory (`-b`): a restart then keeps every entry, reserved ones returning to ready. */
    binlogDir?: string;
  } = {},
): Promise<PrivateBeanstalkd | null> {
  if (spawnSync("beanstalkd", ["-v"]).error) {
    const reason = "the beanstalkd binary is not installed (apt-get install -y beanstalkd)";
    if (process.env.CI === "true") throw new Error(`${reason}; CI must install it (see .ci/run)`);
    console.warn(`skipping beanstalkd tests: ${reason}`);
    return null;
  }
  const port = await freePort();
  let proc: ChildProcess | null = null;
  let paused = false;
  // A crashed test file must not leave a server behind.
  const killOnExit = (): void => {
    proc?.kill("SIGKILL");
  };
  process.once("exit", killOnExit);

  const start = async (): Promise<void> => {
    if (proc && proc.exitCode === null && proc.signalCode === null) return;
    const binlog = opts.binlogDir ? ["-b", opts.binlogDir] : [];
    const child = spawn("beanstalkd", ["-l", HOST, "-p", String(port), ...binlog], { stdio: "ignore" });
    proc = child;
    paused = false;
    await until(async () => ((await answers(HOST, port)) ? true : undefined), `beanstalkd to listen on ${port}`);
    if (child.exitCode !== null) throw new Error(`beanstalkd exited with ${child.exitCode} (port ${port} taken?)`);
  };
  const stop = async (signal: NodeJS.Signals = "SIGTERM"): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((resolve) => p.once("exit", resolve));
    p.kill(signal);
    if (paused) p.kill("SIGCONT"); // a stopped process acts on SIGTERM only once continued
    paused = false;
    await exited;
  };
  await start();
  return {
    url: `beanstalk://${HOST}:${port}`,
    host: HOST,
    port,
    start,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    pause: () => {
      paused = true;
      proc?.kill("SIGSTOP");
    },
    resume: () => {
      paused = false;
      proc?.kill("SIGCONT");
    },
    destroy: async () => {
      await stop("SIGKILL");
      process.removeListener("exit", killOnExit);
    },
  };
}

/**
 * Resolves once the server at `url` counts `count` connections waiting in a reserve on `tube`
 * (stats-tube current-waiting): their reserve reached the server and found nothing. Beanstalkd
 * does the waiting, so this is where a test sees that a reserve really waits.
 */
export async function untilReservesWait(url: string, tube: string, count = 1): Promise<void> {
  const client = new BeanstalkClient(parseBeanstalkUrl(url));
  try {
    await until(
      async () => (((await client.statsTube(tube))?.currentWaiting ?? 0) >= count ? true : undefined),
      `${count} reserve(s) waiting on tube ${tube}`,
    );
  } finally {
    client.close();
  }
}

/** The server's counts of `touch` and `delete` commands answered so far (stats). */
export async function commandCounts(url: string): Promise<{ touch: number; delete: number }> {
  const client = new BeanstalkClient(parseBeanstalkUrl(url));
  try {
    const s = await client.stats();
    return { touch: s.cmdTouch, delete: s.cmdDelete };
  } finally {
    client.close();
  }
}
