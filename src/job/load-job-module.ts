import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidConfigError } from "../errors.ts";
import { loadTypeScriptAsEsm } from "./typescript-as-esm.ts";

const TS_EXTENSIONS = /\.(ts|mts)$/;
/** Once per process: each registration would add another tsx to the loader chain. */
let tsxRegistered = false;

/**
 * The job classes a module exports (named exports, or a default export that is a class or an
 * array of classes). `.ts` and `.mts` modules are loaded through tsx when it is installed, as ES
 * modules whatever the package's "type"; `.js` and `.mjs` ones as Node loads them.
 */
export async function loadJobModule(path: string): Promise<unknown[]> {
  const file = resolve(path);
  if (!existsSync(file)) throw new InvalidConfigError(`job module not found: ${file}`);
  if (file.endsWith(".cts")) {
    throw new InvalidConfigError(`${path} is a CommonJS TypeScript module: rename it to .ts or .mts`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(file);
  } catch (err) {
    if (err instanceof InvalidConfigError) throw err;
    throw explainCommonJsSyntax(err) ?? new InvalidConfigError(`cannot load job module ${path}: ${messageOf(err)}`);
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
  if (!TS_EXTENSIONS.test(file)) return (await import(url)) as Record<string, unknown>;
  // In an ES-module package tsx may already be loaded (`node --import tsx`): try plain Node first.
  // In a CommonJS one that attempt would go through Node's CommonJS loader, so skip it.
  const esm = file.endsWith(".mts") || packageType(file) === "module";
  if (esm) {
    try {
      return (await import(url)) as Record<string, unknown>;
    } catch (err) {
      if ((err as { code?: string }).code !== "ERR_UNKNOWN_FILE_EXTENSION") throw err;
    }
  }
  // Plain node cannot load TypeScript; tsx can, when the project has it.
  const tsx = await import("tsx/esm/api").catch(() => null);
  if (!tsx)
    throw new InvalidConfigError(`${file} is TypeScript: install tsx (npm install -D tsx), or compile it to .js`);
  if (!tsxRegistered) tsx.register();
  tsxRegistered = true;
  loadTypeScriptAsEsm();
  // After a failed import, a new URL: Node caches the failure.
  return (await import(esm ? `${url}?tsx` : url)) as Record<string, unknown>;
}

/** The "type" of the package.json nearest to `file`, as Node reads it to choose a loader. */
function packageType(file: string): string | undefined {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) return (JSON.parse(readFileSync(pkg, "utf8")) as { type?: string }).type;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * A `.js` file written with import/export inside a CommonJS package (no "type": "module"):
 * Node compiles it as CommonJS and throws a SyntaxError whose stack starts with the file.
 */
function explainCommonJsSyntax(err: unknown): InvalidConfigError | null {
  if (!(err instanceof SyntaxError)) return null;
  if (!/Cannot use import statement outside a module|Unexpected token 'export'/.test(err.message)) return null;
  const file = /^(.+\.js):\d+$/m.exec(err.stack ?? "")?.[1];
  if (!file) return null;
  const shown = relative(process.cwd(), file) || file;
  return new InvalidConfigError(
    `${shown} uses import/export but its package is CommonJS: rename it to ${basename(file, ".js")}.mjs, or set "type": "module" in package.json`,
  );
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function looksLikeJobClass(v: unknown): boolean {
  if (typeof v !== "function") return false;
  const c = v as { jobType?: unknown; prototype?: { run?: unknown } };
  return typeof c.jobType === "string" && typeof c.prototype?.run === "function";
}
