import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

/** Flags a job process must not inherit: a debugger port (taken by the worker) or the worker's heap limit. */
const NOT_INHERITED = /^--(inspect|debug|max-old-space-size)/;

/**
 * The job process's entry file and Node flags. Built (dist/) it is plain JavaScript; run from
 * source (tests, `npm start`) it is TypeScript, loaded through tsx with the source condition so
 * job modules importing "zerog" get this same source tree.
 */
export function childEntry(memoryLimitMb: number): { entry: string; execArgv: string[] } {
  const fromSource = import.meta.url.endsWith(".ts");
  const entry = fileURLToPath(new URL(fromSource ? "./child-main.ts" : "./child-main.js", import.meta.url));
  const execArgv = process.execArgv.filter((a) => !NOT_INHERITED.test(a));
  if (fromSource) {
    if (!execArgv.some((a) => a.includes("tsx"))) execArgv.push("--import", tsxLoader());
    if (!execArgv.some((a) => a.includes("zerog-source"))) execArgv.push("--conditions=zerog-source");
  }
  if (memoryLimitMb > 0) execArgv.push(`--max-old-space-size=${memoryLimitMb}`);
  return { entry, execArgv };
}

/** tsx's loader as a file URL, so the child finds it whatever its working directory. */
function tsxLoader(): string {
  const require = createRequire(import.meta.url);
  return pathToFileURL(require.resolve("tsx")).href;
}
