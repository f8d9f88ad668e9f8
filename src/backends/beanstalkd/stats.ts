import { parse } from "yaml";

/** A job's state as `stats-job` names it. */
export type JobState = "ready" | "delayed" | "reserved" | "buried";

/** `stats-job <id>`, with the server's field names in camelCase. */
export interface JobStats {
  id: string;
  tube: string;
  state: JobState;
  pri: number;
  /** Seconds since the put. */
  age: number;
  /** The delay of the last put or release, in seconds. */
  delay: number;
  ttr: number;
  /** Seconds until a reserved job's TTR passes or a delayed job becomes ready; 0 otherwise. */
  timeLeft: number;
  file: number;
  reserves: number;
  timeouts: number;
  releases: number;
  buries: number;
  kicks: number;
}

/** `stats-tube <tube>`: the counts ZeroG reads (the server sends more). */
export interface TubeStats {
  name: string;
  currentJobsUrgent: number;
  currentJobsReady: number;
  currentJobsReserved: number;
  currentJobsDelayed: number;
  currentJobsBuried: number;
  totalJobs: number;
  currentUsing: number;
  currentWatching: number;
  currentWaiting: number;
}

const JOB_STATES: ReadonlySet<string> = new Set<JobState>(["ready", "delayed", "reserved", "buried"]);

/**
 * The YAML document a stats reply carries. Parsed with the failsafe schema, so every scalar is
 * a string: the server does not quote tube names, and a tube named `123`, `null` or `true`
 * must not turn into a number, null or a boolean.
 */
function parseYaml(body: Buffer, what: string): unknown {
  try {
    return parse(body.toString("utf8"), { schema: "failsafe" });
  } catch (err) {
    throw new Error(`${what}: the server's YAML does not parse: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A line of the flat maps the server writes: `key: value`, the value unquoted. */
const FLAT_LINE = /^([a-z][a-z0-9-]*): ?(.*)$/;
/** A character that could make a value mean more than its text to YAML. */
const YAML_SYNTAX = /["'#{}[\],&*!|>%@`]/;

/**
 * The stats replies are flat maps of `key: value` lines under `---`, and a tube name (the only
 * free text in them) cannot hold a colon, a space, a quote or a `#`: read those lines directly,
 * giving the strings the failsafe YAML parse gives, at a fraction of its cost (one `stats-job`
 * per reserved job). Anything else goes to the YAML parser.
 */
function flatMap(text: string): Record<string, string> | null {
  const lines = text.split("\n");
  if (lines[0] !== "---") return null;
  const map: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === "") continue;
    const m = FLAT_LINE.exec(line);
    if (!m || YAML_SYNTAX.test(m[2] as string)) return null;
    map[m[1] as string] = m[2] as string;
  }
  return map;
}

function asMap(body: Buffer, what: string): Record<string, unknown> {
  const flat = flatMap(body.toString("utf8"));
  if (flat) return flat;
  const doc = parseYaml(body, what);
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw new Error(`${what}: expected a YAML map`);
  return doc as Record<string, unknown>;
}

function str(map: Record<string, unknown>, key: string, what: string): string {
  const v = map[key];
  if (typeof v !== "string") throw new Error(`${what}: field '${key}' is missing`);
  return v;
}

function num(map: Record<string, unknown>, key: string, what: string): number {
  const n = Number(str(map, key, what));
  if (!Number.isFinite(n)) throw new Error(`${what}: field '${key}' is not a number`);
  return n;
}

export function parseJobStats(body: Buffer): JobStats {
  const what = "stats-job";
  const m = asMap(body, what);
  const state = str(m, "state", what);
  if (!JOB_STATES.has(state)) throw new Error(`${what}: unknown state '${state}'`);
  const n = (key: string): number => num(m, key, what);
  return {
    id: str(m, "id", what),
    tube: str(m, "tube", what),
    state: state as JobState,
    pri: n("pri"),
    age: n("age"),
    delay: n("delay"),
    ttr: n("ttr"),
    timeLeft: n("time-left"),
    file: n("file"),
    reserves: n("reserves"),
    timeouts: n("timeouts"),
    releases: n("releases"),
    buries: n("buries"),
    kicks: n("kicks"),
  };
}

export function parseTubeStats(body: Buffer): TubeStats {
  const what = "stats-tube";
  const m = asMap(body, what);
  const n = (key: string): number => num(m, key, what);
  return {
    name: str(m, "name", what),
    currentJobsUrgent: n("current-jobs-urgent"),
    currentJobsReady: n("current-jobs-ready"),
    currentJobsReserved: n("current-jobs-reserved"),
    currentJobsDelayed: n("current-jobs-delayed"),
    currentJobsBuried: n("current-jobs-buried"),
    totalJobs: n("total-jobs"),
    currentUsing: n("current-using"),
    currentWatching: n("current-watching"),
    currentWaiting: n("current-waiting"),
  };
}

/** `stats`: what ZeroG reads of the server's own stats (it sends many more). */
export interface ServerStats {
  /** A random id the server draws when it starts: a new one means a restart. */
  id: string;
  /** Seconds since the server started. */
  uptime: number;
  pid: number;
  version: string;
  /** `touch` and `delete` commands the server has answered since it started (diagnostics). */
  cmdTouch: number;
  cmdDelete: number;
}

export function parseServerStats(body: Buffer): ServerStats {
  const what = "stats";
  const m = asMap(body, what);
  return {
    id: str(m, "id", what),
    uptime: num(m, "uptime", what),
    pid: num(m, "pid", what),
    version: str(m, "version", what),
    cmdTouch: num(m, "cmd-touch", what),
    cmdDelete: num(m, "cmd-delete", what),
  };
}

/** `list-tubes`, `list-tubes-watched`: a YAML list of names. */
export function parseTubeList(body: Buffer): string[] {
  const doc = parseYaml(body, "list-tubes");
  if (!Array.isArray(doc) || !doc.every((t): t is string => typeof t === "string")) {
    throw new Error("list-tubes: expected a YAML list of names");
  }
  return doc;
}
