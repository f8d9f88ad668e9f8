import { readFileSync } from "node:fs";
import type { Statement } from "./pool.ts";

/**
 * The statement in `src/backends/postgres/sql/<name>.sql`, named `zerog_<name>` so each connection
 * prepares it once. Read at import time: a missing file fails start-up, not the first job.
 */
export function sqlFile(name: string): Statement {
  const text = readFileSync(new URL(`./sql/${name}.sql`, import.meta.url), "utf8");
  return { name: `zerog_${name.replaceAll("-", "_")}`, text };
}

/** An inline statement, named for per-connection preparation. */
export function sqlText(name: string, text: string): Statement {
  return { name: `zerog_${name}`, text };
}
