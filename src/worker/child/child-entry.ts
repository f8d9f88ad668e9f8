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
  const execArgv = inheritedFlags();
  if (fromSource) {
    execArgv.push("--import", tsxLoader());
    if (!execArgv.some((a) => a.includes("zerog-source"))) execArgv.push("--conditions=zerog-source");
  }
  if (memoryLimitMb > 0) execArgv.push(`--max-old-space-size=${memoryLimitMb}`);
  return { entry, execArgv };
}

/**
 * The worker's Node flags, less those a job process must not have, and less tsx: a child from
 * dist/ does not need it (a `.ts` job module registers tsx itself, see load-job-module.ts), and
 * loading it nearly doubles a child's start-up.
 */
function inheritedFlags(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? "";
    if (NOT_INHERITED.test(a)) continue;
    if ((a === "--import" || a === "--loader" || a === "--require" || a === "-r") && argv[i + 1]?.includes("tsx")) {
      i++;
      continue;
    }
    if (/^--(import|loader|require)=.*tsx/.test(a)) continue;
    out.push(a);
  }
  return out;
}

/** tsx's loader as a file URL, so the child finds it whatever its working directory. */
function tsxLoader(): string {
  const require = createRequire(import.meta.url);
  return pathToFileURL(require.resolve("tsx")).href;
}
