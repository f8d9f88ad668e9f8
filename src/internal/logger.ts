import { type Logger, pino } from "pino";

export type { Logger };

/** pino's levels, and "silent". */
export const LOG_LEVELS: readonly string[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** The default logger: JSON lines on stdout, at `level`, else ZEROG_LOG_LEVEL, else "info". */
export function defaultLogger(level?: string): Logger {
  return pino({ name: "zerog", level: level ?? process.env.ZEROG_LOG_LEVEL ?? "info" });
}
