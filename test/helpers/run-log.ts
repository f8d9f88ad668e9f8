import { existsSync, readFileSync } from "node:fs";

/** One run of a job, from the run log that test/helpers/run-log-jobs.ts writes. */
export interface LoggedRun {
  uuid: string;
  attempt: number;
  workerId: string;
  pid: number;
  start: number;
  /** Absent when the run never completed (its process was killed, or it was handed back). */
  end?: number;
}

/** Every run in the log, per job uuid, in the order they started. */
export function readRunLog(path: string): Map<string, LoggedRun[]> {
  const runs = new Map<string, LoggedRun[]>();
  if (!existsSync(path)) return runs;
  for (const text of readFileSync(path, "utf8").split("\n")) {
    if (text === "") continue;
    const r = JSON.parse(text) as Omit<LoggedRun, "start" | "end"> & { ev: "start" | "end"; t: number };
    const list = runs.get(r.uuid) ?? [];
    runs.set(r.uuid, list);
    if (r.ev === "start") list.push({ uuid: r.uuid, attempt: r.attempt, workerId: r.workerId, pid: r.pid, start: r.t });
    else {
      const run = list.findLast((x) => x.pid === r.pid && x.attempt === r.attempt && x.end === undefined);
      if (run) run.end = r.t;
    }
  }
  for (const list of runs.values()) list.sort((a, b) => a.start - b.start);
  return runs;
}

/** How many runs of each job completed (reached their end). */
export function completions(runs: Map<string, LoggedRun[]>): Map<string, number> {
  return new Map([...runs].map(([uuid, list]) => [uuid, list.filter((r) => r.end !== undefined).length]));
}

/**
 * Pairs of runs of one job that overlapped in time. A run that never ended counts as going on
 * until `endOf(run)` (e.g. the time its server was killed), or for ever.
 */
export function overlaps(
  runs: Map<string, LoggedRun[]>,
  endOf: (run: LoggedRun) => number = () => Number.POSITIVE_INFINITY,
): Array<[LoggedRun, LoggedRun]> {
  const found: Array<[LoggedRun, LoggedRun]> = [];
  for (const list of runs.values()) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i];
        const b = list[j];
        if (a && b && b.start < (a.end ?? endOf(a))) found.push([a, b]);
      }
    }
  }
  return found;
}
