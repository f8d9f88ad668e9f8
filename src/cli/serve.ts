import type { Command } from "commander";
import { DEFAULT_BACKEND_URL } from "../backends/backend-url.ts";
import { formsFor } from "../backends/registry.ts";
import { InvalidConfigError } from "../errors.ts";
import { defaultLogFormat, defaultLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat } from "../internal/logger.ts";
import { redactUrl } from "../internal/redact.ts";
import { loadJobModule } from "../job/load-job-module.ts";
import { Server } from "../server/server.ts";
import { durationFlag } from "./duration.ts";

interface ServeFlags {
  jobs: string[];
  port: string;
  host: string;
  datastore: string;
  queue: string;
  concurrency: string;
  name: string;
  ttr: string;
  hostname?: string;
  isolation: string;
  jobsPerProcess?: string;
  recycleAfter: string;
  recycleMemory: string;
  memoryLimit: string;
  jobTimeout: string;
  workerTtl: string;
  shutdownGrace: string;
  retainFinished: string;
  retainFailed: string;
  sweepInterval: string;
  apiToken?: string;
  protectReads?: boolean;
  corsOrigin: string[];
  logLevel?: string;
  logFormat?: string;
}

/** `zerog serve`: the HTTP API and workers for the job classes of one or more modules. */
export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("serve the REST API and run workers for the jobs in a module")
    .requiredOption("-j, --jobs <module...>", "module(s) exporting job classes (.js, .mjs, or .ts with tsx)")
    .option("-p, --port <port>", "HTTP port", "8888")
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--datastore <url>", `datastore URL, one of: ${formsFor("datastore")}`, DEFAULT_BACKEND_URL)
    .option("--queue <url>", `queue URL, one of: ${formsFor("queue")}`, DEFAULT_BACKEND_URL)
    .option("-c, --concurrency <n>", "worker slots in this process (0: API only)", "1")
    .option("-n, --name <name>", "service name (worker id, queue name)", "zerog")
    .option("--ttr <seconds>", "queue TTR of new jobs", "60")
    .option("--hostname <name>", "host name in the worker id and the fleet view (default: this machine's)")
    .option("--isolation <mode>", "process: each job in a warm child process; inline: in the server process", "process")
    .option(
      "--jobs-per-process <n>",
      "jobs one job process runs at once (1: a process per slot; default: the slots shared over the cores)",
    )
    .option("--recycle-after <jobs>", "replace a job process after this many jobs (1: a fresh one per job)", "10000")
    .option("--recycle-memory <mb>", "replace a job process whose memory is above this after a job", "512")
    .option("--memory-limit <mb>", "heap limit of each job process (0: Node's default)", "0")
    .option("--job-timeout <seconds>", "kill a job process whose run takes longer (0: no limit)", "0")
    .option(
      "--worker-ttl <seconds>",
      "a worker not heard from for this long counts as dead: it drops out of the fleet view and its jobs run elsewhere",
      "10",
    )
    .option("--shutdown-grace <seconds>", "on SIGTERM, how long running jobs may finish before being handed back", "10")
    .option(
      "--retain-finished <duration>",
      "delete succeeded jobs this long after they finished, unless their class says otherwise (90, 15m, 12h, 7d; 0 or off: keep)",
      "7d",
    )
    .option("--retain-failed <duration>", "the same for failed and killed jobs", "30d")
    .option("--sweep-interval <duration>", "how often one server of those sharing the backend deletes them", "60s")
    .option(
      "--api-token <token>",
      "require Authorization: Bearer <token> on mutating and management endpoints (env ZEROG_API_TOKEN)",
    )
    .option("--protect-reads", "with an API token, guard the read-only job endpoints too")
    .option("--cors-origin <origin...>", "allowed CORS origin(s)", ["*"])
    .option("--log-level <level>", "fatal, error, warn, info, debug, trace or silent (env ZEROG_LOG_LEVEL)")
    .option(
      "--log-format <format>",
      "json (one object per line) or pretty (readable lines); default: pretty on a terminal, else json (env ZEROG_LOG_FORMAT)",
    )
    .action(async (flags: ServeFlags) => {
      const level = flags.logLevel ?? process.env.ZEROG_LOG_LEVEL ?? "info";
      if (!LOG_LEVELS.includes(level)) {
        throw new InvalidConfigError(`log level '${level}' is not one of ${LOG_LEVELS.join(", ")}`);
      }
      const format = flags.logFormat ?? defaultLogFormat();
      if (!LOG_FORMATS.includes(format as LogFormat)) {
        throw new InvalidConfigError(`--log-format must be one of ${LOG_FORMATS.join(", ")}, got '${format}'`);
      }
      const logger = defaultLogger(level, format as LogFormat);
      const apiToken = flags.apiToken ?? process.env.ZEROG_API_TOKEN;
      const jobs = (await Promise.all(flags.jobs.map(loadJobModule))).flat();
      const server = new Server({
        jobs,
        name: flags.name,
        datastore: flags.datastore,
        queue: flags.queue,
        concurrency: intFlag("concurrency", flags.concurrency),
        ttrSeconds: intFlag("ttr", flags.ttr),
        ...(flags.hostname ? { hostName: flags.hostname } : {}),
        isolation: isolationFlag(flags.isolation),
        jobModules: flags.jobs,
        ...(flags.jobsPerProcess ? { jobsPerProcess: intFlag("jobs-per-process", flags.jobsPerProcess) } : {}),
        recycleAfterJobs: intFlag("recycle-after", flags.recycleAfter),
        recycleMemoryMb: intFlag("recycle-memory", flags.recycleMemory),
        memoryLimitMb: intFlag("memory-limit", flags.memoryLimit),
        jobTimeoutSeconds: intFlag("job-timeout", flags.jobTimeout),
        workerTtlMs: intFlag("worker-ttl", flags.workerTtl) * 1000,
        shutdownGraceMs: intFlag("shutdown-grace", flags.shutdownGrace) * 1000,
        retention: {
          finishedAfterSeconds: durationFlag("retain-finished", flags.retainFinished, { offMeansZero: true }),
          failedAfterSeconds: durationFlag("retain-failed", flags.retainFailed, { offMeansZero: true }),
          sweepIntervalMs: positiveDuration("sweep-interval", flags.sweepInterval) * 1000,
        },
        ...(apiToken ? { apiToken } : {}),
        protectReads: flags.protectReads === true,
        corsOrigin: flags.corsOrigin.length === 1 ? (flags.corsOrigin[0] as string) : flags.corsOrigin,
        logger,
      });
      const port = intFlag("port", flags.port);
      ignoreClosedStdout();
      const url = await server.listen({ port, host: flags.host }).catch((err: unknown) => {
        throw listenError(err, flags.host, port);
      });
      // Before the line that says it serves: whoever waits for that line may signal at once.
      onShutdownSignal(async (signal) => {
        logger.info({ signal }, "shutting down: finishing running jobs");
        await server.close();
        logger.info("shut down");
      });
      logger.info(
        {
          url,
          dashboard: `${url}/ui/`,
          docs: `${url}/docs`,
          jobTypes: server.registry.types(),
          datastore: redactUrl(flags.datastore),
          queue: redactUrl(flags.queue),
          workerId: server.worker?.id ?? null,
          isolation: flags.isolation,
          apiToken: apiToken ? "set" : "none",
          retention: { finished: flags.retainFinished, failed: flags.retainFailed, sweepInterval: flags.sweepInterval },
        },
        "zerog serving",
      );
    });
}

/** A failed listen as the one-line start-up error the CLI prints; other errors pass through. */
function listenError(err: unknown, host: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const where = `${host}:${port}`;
  if (code === "EADDRINUSE") return new InvalidConfigError(`port ${port} is already in use on ${host} (--port)`);
  if (code === "EACCES") return new InvalidConfigError(`no permission to listen on ${where} (--port)`);
  if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") {
    return new InvalidConfigError(`cannot listen on ${where}: no such address on this machine (--host)`);
  }
  if ((err as NodeJS.ErrnoException | null)?.syscall === "listen") {
    return new InvalidConfigError(`cannot listen on ${where}: ${(err as Error).message}`);
  }
  return err;
}

/**
 * The logs' reader may go away (`zerog serve | head`): a write to stdout then fails with EPIPE,
 * which must neither crash the server nor keep it from shutting down. The logger stops on its
 * own; this covers anything else written to process.stdout.
 */
function ignoreClosedStdout(): void {
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
  });
}

function isolationFlag(value: string): "process" | "inline" {
  if (value === "process" || value === "inline") return value;
  throw new InvalidConfigError(`--isolation must be 'process' or 'inline', got '${value}'`);
}

function positiveDuration(name: string, value: string): number {
  const seconds = durationFlag(name, value);
  if (seconds <= 0) throw new InvalidConfigError(`--${name} must be above 0, got '${value}'`);
  return seconds;
}

function intFlag(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidConfigError(`--${name} must be a whole number, got '${value}'`);
  return n;
}

/** First SIGINT/SIGTERM: graceful shutdown, then exit. A second one exits at once. */
function onShutdownSignal(shutdown: (signal: string) => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(130);
    stopping = true;
    shutdown(signal).then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`zerog: shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}
