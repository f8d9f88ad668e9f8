import { spawn } from "node:child_process";
import { once } from "node:events";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { REPO_ROOT } from "./cli.ts";

/** What a finished command printed, and how it exited. */
export interface CommandResult {
  code: number | string;
  stdout: string;
  stderr: string;
}

/** Runs `command args…` in `cwd` to its end; killed (and rejected) after `timeoutMs`. */
export async function runCommand(
  command: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<CommandResult> {
  const proc = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  proc.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  try {
    const [code, signal] = (await once(proc, "close")) as [number | null, NodeJS.Signals | null];
    if (signal === "SIGKILL") throw new Error(`${command} ${args.join(" ")} did not end within ${timeoutMs} ms`);
    return { code: code ?? signal ?? "unknown", stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** Like runCommand, but a non-zero exit rejects with what the command printed. */
export async function mustRun(command: string, args: string[], opts: Parameters<typeof runCommand>[2]) {
  const r = await runCommand(command, args, opts);
  if (r.code !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/**
 * ZeroG as `npm pack` ships it, in `dest`. It packs the dist/ there is (CI builds it before the
 * tests; rebuilding here would rewrite files other test files are running) and builds only when
 * it is missing; `--ignore-scripts` keeps `prepare` from building again.
 */
export async function packZerog(dest: string, env: NodeJS.ProcessEnv): Promise<string> {
  if (!existsSync(join(REPO_ROOT, "dist/cli/main.js"))) {
    await mustRun("npm", ["run", "build"], { cwd: REPO_ROOT, env, timeoutMs: 120_000 });
  }
  const packed = await mustRun("npm", ["pack", "--ignore-scripts", "--pack-destination", dest], {
    cwd: REPO_ROOT,
    env,
  });
  const name = packed.stdout.trim().split("\n").pop() ?? "";
  const tarball = join(dest, name);
  if (!name.endsWith(".tgz") || !existsSync(tarball)) throw new Error(`npm pack wrote no tarball: ${packed.stdout}`);
  return tarball;
}

/**
 * A directory holding better-sqlite3's prebuilt binary, named as prebuild-install looks it up
 * (`npm_config_better_sqlite3_local_prebuilds`). It is this repository's own compiled
 * build/Release/better_sqlite3.node, the same version for the same Node: installing then takes
 * a second instead of the ~2.5 minutes a compile from source takes on two cores.
 */
export async function localBetterSqlitePrebuilds(dir: string, env: NodeJS.ProcessEnv): Promise<string> {
  const pkgDir = join(REPO_ROOT, "node_modules/better-sqlite3");
  const { version } = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as { version: string };
  const stage = join(dir, "stage");
  mkdirSync(join(stage, "build/Release"), { recursive: true });
  copyFileSync(join(pkgDir, "build/Release/better_sqlite3.node"), join(stage, "build/Release/better_sqlite3.node"));
  const prebuilds = join(dir, "prebuilds");
  mkdirSync(prebuilds, { recursive: true });
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  await mustRun("tar", ["-C", stage, "-czf", join(prebuilds, name), "build"], { cwd: dir, env });
  return prebuilds;
}

/** A port nothing listens on (taken, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The environment for npm with nothing leaving the machine: packuments from `registry` (on
 * 127.0.0.1), tarballs from npm's cache (`--prefer-offline`), and every other request sent to
 * a proxy on a dead port, with no retries, so a cache miss fails at once instead of going out.
 */
export function offlineNpmEnv(opts: { registry: string; deadPort: number; prebuilds: string }): NodeJS.ProcessEnv {
  const proxy = `http://127.0.0.1:${opts.deadPort}`;
  return {
    ...ownEnv(),
    npm_config_registry: opts.registry,
    npm_config_prefer_offline: "true",
    npm_config_fetch_retries: "0",
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
    npm_config_proxy: proxy,
    npm_config_https_proxy: proxy,
    npm_config_noproxy: "127.0.0.1",
    HTTP_PROXY: proxy,
    HTTPS_PROXY: proxy,
    http_proxy: proxy,
    https_proxy: proxy,
    NO_PROXY: "127.0.0.1",
    no_proxy: "127.0.0.1",
    npm_config_better_sqlite3_local_prebuilds: opts.prebuilds,
  };
}

/**
 * This process's environment less what an outer `npm test` or the test config set for this
 * repository (npm_config_local_prefix, npm_package_*, ZEROG_LOG_LEVEL …): the projects are the
 * user's, not this repository's.
 */
function ownEnv(): NodeJS.ProcessEnv {
  const inherited = /^(npm_|INIT_CWD$|ZEROG_)/i;
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !inherited.test(k)));
}
