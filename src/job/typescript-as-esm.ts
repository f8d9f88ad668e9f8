import { register } from "node:module";

/**
 * A module-resolution hook that loads a project's `.ts` files (outside node_modules) as ES
 * modules, whatever the package's "type". Under `"type": "commonjs"` (what `npm init -y`
 * writes) Node would hand them to its CommonJS loader, which cannot load a TypeScript file
 * written with `import` and fails with an internal error; as ES modules they import "zerog"
 * as the rest of ZeroG does, so a job sees the same `BaseJob` and control-flow errors.
 * Inline (a data: URL) so it loads the same from dist/ and from source.
 */
const HOOK = `export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (!r.url.startsWith("file:") || r.url.includes("/node_modules/")) return r;
  return new URL(r.url).pathname.endsWith(".ts") ? { ...r, format: "module" } : r;
}`;

let registered = false;

/** Registers the hook once per process (the CLI and every job process load job modules). */
export function loadTypeScriptAsEsm(): void {
  if (registered) return;
  registered = true;
  register(`data:text/javascript,${encodeURIComponent(HOOK)}`);
}
