import { type Logger, pino } from "pino";

export type { Logger };

/** pino's levels, and "silent". */
export const LOG_LEVELS: readonly string[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** The default logger: JSON lines on stdout, at `level`, else ZEROG_LOG_LEVEL, else "info". */
export function defaultLogger(level?: string): Logger {
  // Synchronous writes, as Node's own stdout to a pipe or file on Linux. pino's default
  // asynchronous destination flushes synchronously when the process exits, and sonic-boom
  // retries a failed write there every 100 ms forever: once the reader is gone (`zerog serve |
  // head`), the write fails with EPIPE and the exit never ends, nor does any later signal get
  // through. A synchronous destination has no exit flush, and on EPIPE it stops logging.
  return pino(
    { name: "zerog", level: level ?? process.env.ZEROG_LOG_LEVEL ?? "info" },
    pino.destination({ fd: 1, sync: true }),
  );
}
