import { type Logger, pino } from "pino";

export type { Logger };

/** The default logger: JSON lines on stdout, level from ZEROG_LOG_LEVEL (default "info"). */
export function defaultLogger(): Logger {
  return pino({ name: "zerog", level: process.env.ZEROG_LOG_LEVEL ?? "info" });
}
