import { type Logger, pino } from "pino";
import pretty from "pino-pretty";

export type { Logger };

/** pino's levels, and "silent". */
export const LOG_LEVELS: readonly string[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** `json`: one JSON object per line, for log collectors; `pretty`: readable lines, for a terminal. */
export type LogFormat = "json" | "pretty";
export const LOG_FORMATS: readonly LogFormat[] = ["json", "pretty"];

/** Readable lines when a person watches the terminal; JSON for anything else (a pipe, a file, a collector). */
export function defaultLogFormat(): LogFormat {
  const fromEnv = process.env.ZEROG_LOG_FORMAT;
  if (fromEnv === "json" || fromEnv === "pretty") return fromEnv;
  return process.stdout.isTTY ? "pretty" : "json";
}

/**
 * The default logger: on stdout, at `level`, else ZEROG_LOG_LEVEL, else "info"; JSON lines, or
 * readable ones with `format: "pretty"`.
 */
export function defaultLogger(level?: string, format: LogFormat = "json"): Logger {
  // Synchronous writes, as Node's own stdout to a pipe or file on Linux. pino's default
  // asynchronous destination flushes synchronously when the process exits, and sonic-boom
  // retries a failed write there every 100 ms forever: once the reader is gone (`zerog serve |
  // head`), the write fails with EPIPE and the exit never ends, nor does any later signal get
  // through. A synchronous destination has no exit flush, and on EPIPE it stops logging.
  const destination =
    format === "pretty"
      ? pretty({
          sync: true,
          colorize: process.stdout.isTTY === true,
          translateTime: "SYS:HH:MM:ss.l",
          ignore: "pid,hostname",
        })
      : pino.destination({ fd: 1, sync: true });
  return pino({ name: "zerog", level: level ?? process.env.ZEROG_LOG_LEVEL ?? "info" }, destination);
}
