import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidConfigError } from "../errors.ts";

const TS_EXTENSIONS = /\.(ts|mts|cts)$/;

/**
 * The job classes a module exports (named exports, or a default export that is a class or an
 * array of classes). `.ts` modules are loaded through tsx when it is installed.
 */
export async function loadJobModule(path: string): Promise<unknown[]> {
  const file = resolve(path);
  if (!existsSync(file)) throw new InvalidConfigError(`job module not found: ${file}`);
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(file);
  } catch (err) {
    if (err instanceof InvalidConfigError) throw err;
    throw new InvalidConfigError(`cannot load job module ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const candidates = Object.values(mod).flatMap((v) => (Array.isArray(v) ? v : [v]));
  const classes = candidates.filter(looksLikeJobClass);
  if (classes.length === 0) {
    throw new InvalidConfigError(`${path} exports no job classes (classes with a static jobType and a run() method)`);
  }
  return [...new Set(classes)];
}

async function importModule(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (!TS_EXTENSIONS.test(file) || code !== "ERR_UNKNOWN_FILE_EXTENSION") throw err;
  }
  // Plain node cannot load TypeScript; tsx can, when the project has it.
  const tsx = await import("tsx/esm/api").catch(() => null);
  if (!tsx) throw new InvalidConfigError(`${file} is TypeScript: install tsx (npm i -D tsx), or compile it to .js`);
  tsx.register();
  // A new URL: Node caches the failed import of the plain one.
  return (await import(`${url}?tsx`)) as Record<string, unknown>;
}

function looksLikeJobClass(v: unknown): boolean {
  if (typeof v !== "function") return false;
  const c = v as { jobType?: unknown; prototype?: { run?: unknown } };
  return typeof c.jobType === "string" && typeof c.prototype?.run === "function";
}
