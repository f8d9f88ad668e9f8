import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { onceReady, type RedisConnection } from "./client.ts";

/** Every script in ./lua, by file name (without `.lua`). */
export type ScriptName =
  | "doc-create"
  | "doc-replace"
  | "doc-upsert"
  | "doc-delete"
  | "doc-delete-finished"
  | "doc-list"
  | "q-put"
  | "q-reserve"
  | "q-delete"
  | "q-release"
  | "q-touch"
  | "q-expire"
  | "q-bury"
  | "q-kick"
  | "q-stats"
  | "job-create"
  | "job-settle"
  | "job-requeue"
  | "fleet-list"
  | "idem-claim"
  | "idem-release";

const SCRIPT_NAMES: readonly ScriptName[] = [
  "doc-create",
  "doc-replace",
  "doc-upsert",
  "doc-delete",
  "doc-delete-finished",
  "doc-list",
  "q-put",
  "q-reserve",
  "q-delete",
  "q-release",
  "q-touch",
  "q-expire",
  "q-bury",
  "q-kick",
  "q-stats",
  "job-create",
  "job-settle",
  "job-requeue",
  "fleet-list",
  "idem-claim",
  "idem-release",
];

interface LoadedScript {
  source: string;
  sha1: string;
}

/** A script's `-- uses: docs entries` line names the files of ./lua/lib it needs in front of it. */
const USES = /^-- uses:(.*)$/m;

function readLua(relative: string): string {
  return readFileSync(new URL(`./lua/${relative}`, import.meta.url), "utf8");
}

function load(name: ScriptName): LoadedScript {
  const body = readLua(`${name}.lua`);
  const libs = (USES.exec(body)?.[1] ?? "").split(/\s+/).filter((lib) => lib !== "");
  const source = [...libs.map((lib) => readLua(`lib/${lib}.lua`)), body].join("\n");
  return { source, sha1: createHash("sha1").update(source).digest("hex") };
}

let loaded: ReadonlyMap<ScriptName, LoadedScript> | undefined;

/** Reads every script once per process (they ship beside this module: scripts/copy-assets.mjs). */
function scripts(): ReadonlyMap<ScriptName, LoadedScript> {
  loaded ??= new Map(SCRIPT_NAMES.map((name) => [name, load(name)]));
  return loaded;
}

/** A Lua script's reply as RESP3 decodes it: numbers, strings, null, or arrays of those. */
export type ScriptReply = number | string | null | ScriptReply[];

/** Per connection, the SCRIPT LOAD in flight for each script, so a burst of NOSCRIPT replies loads it once. */
const loading = new WeakMap<RedisConnection, Map<ScriptName, Promise<unknown>>>();

function scriptLoad(client: RedisConnection, name: ScriptName, source: string): Promise<unknown> {
  const pending = loading.get(client) ?? new Map<ScriptName, Promise<unknown>>();
  loading.set(client, pending);
  let load = pending.get(name);
  if (!load) {
    load = client.sendCommand(["SCRIPT", "LOAD", source]).finally(() => pending.delete(name));
    pending.set(name, load);
  }
  return load;
}

/**
 * Runs the script `name` with EVALSHA: one round trip that sends only its hash. On NOSCRIPT
 * (a new, restarted or flushed server) the source is sent once with SCRIPT LOAD, however many
 * calls were refused, and each of them retries its EVALSHA. A call made while reconnecting waits
 * briefly for it; connection failures come back as BackendDownError (see ./errors.ts).
 * Promise chains rather than async functions: this runs for every job step, and each async
 * layer costs a promise and a microtask.
 */
export function runScript(
  client: RedisConnection,
  name: ScriptName,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<ScriptReply> {
  const script = scripts().get(name);
  if (!script) return Promise.reject(new Error(`unknown Redis script '${name}'`));
  const command = ["EVALSHA", script.sha1, String(keys.length), ...keys];
  for (const arg of args) command.push(String(arg));
  return onceReady(client, () =>
    client.sendCommand<ScriptReply>(command).catch((err: unknown) => {
      if (!(err instanceof Error && err.message.startsWith("NOSCRIPT"))) throw err;
      return scriptLoad(client, name, script.source).then(() => client.sendCommand<ScriptReply>(command));
    }),
  );
}

/** A reply that must be an integer (a count, a version, a flag). */
export function asNumber(reply: ScriptReply | undefined): number {
  const n = typeof reply === "number" ? reply : Number(reply);
  if (!Number.isFinite(n)) throw new Error(`Redis script answered ${JSON.stringify(reply)}, not a number`);
  return n;
}

/** A reply that must be an array. */
export function asArray(reply: ScriptReply | undefined): ScriptReply[] {
  if (!Array.isArray(reply)) throw new Error(`Redis script answered ${JSON.stringify(reply)}, not an array`);
  return reply;
}
