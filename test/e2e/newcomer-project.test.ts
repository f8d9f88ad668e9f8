import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/cli.ts";
import { type LockRegistry, startLockRegistry } from "../helpers/lock-registry.ts";
import {
  type CommandResult,
  freePort,
  localBetterSqlitePrebuilds,
  mustRun,
  offlineNpmEnv,
  packZerog,
  runCommand,
} from "../helpers/offline-npm.ts";
import { type ProjectServer, runHelloJob, startProjectServer } from "../helpers/project-server.ts";

/**
 * ZeroG installed the way a user installs it, as README.md's "Use ZeroG in your project" says:
 * `npm pack`ed, installed into fresh `npm init -y` projects (CommonJS as npm writes them, and
 * "type": "module"), `npx zerog init`, then `zerog serve` for each kind of job module. npm works
 * offline: packuments from a registry on 127.0.0.1 built from this repository's lock file,
 * tarballs from npm's cache (see helpers/offline-npm.ts).
 */
const TYPES = ["commonjs", "module"] as const;
type ModuleType = (typeof TYPES)[number];

/** What `zerog serve` prints for a `.js` job module with import in a CommonJS package. */
const CJS_JS_REFUSED =
  'zerog: jobs.js uses import/export but its package is CommonJS: rename it to jobs.mjs, or set "type": "module" in package.json';

/** A job module in CommonJS syntax: require() of ZeroG, an ES module, needs Node ≥ 20.19. */
const COMMONJS_SYNTAX = `const { BaseJob, z } = require("zerog/job");
class HelloJob extends BaseJob {
  static jobType = "hello";
  static schema = z.object({ name: z.string() });
  async run() {
    await this.setData({ greeting: \`hello, \${this.params.name}\` });
    return 200;
  }
}
module.exports = { HelloJob };
`;

let dir = "";
let registry: LockRegistry | undefined;
let env: NodeJS.ProcessEnv = {};
const inits: Record<ModuleType, { ts: CommandResult; js: CommandResult }> = {} as never;
const servers = new Set<ProjectServer>();

const projectDir = (type: ModuleType) => join(dir, type);

/** npm (or npx) in a project, offline; a failure names any tarball npm asked the registry for (a cache miss). */
async function npm(type: ModuleType, ...args: string[]): Promise<CommandResult> {
  const [command, rest] = args[0] === "npx" ? ["npx", args.slice(1)] : ["npm", args];
  try {
    return await mustRun(command, rest, { cwd: projectDir(type), env });
  } catch (err) {
    const tarballs = registry?.misses.filter((m) => m.includes("/-/")) ?? [];
    const hint = tarballs.length > 0 ? `\nnot in npm's cache (~/.npm/_cacache): ${tarballs.join(", ")}` : "";
    throw new Error(`${(err as Error).message}${hint}`);
  }
}

/** The README's steps, in a fresh project; the JavaScript and other extensions are copies of the starters. */
async function setUpProject(type: ModuleType, tarball: string): Promise<void> {
  mkdirSync(projectDir(type));
  await npm(type, "init", "-y");
  if (type === "module") await npm(type, "pkg", "set", "type=module");
  const install = await npm(type, "install", tarball);
  // Every dependency supports the Node range ZeroG promises (none asks for Node 22).
  if (/EBADENGINE/.test(install.stderr + install.stdout)) throw new Error(`npm install warned: ${install.stderr}`);
  await npm(type, "install", "-D", "tsx");
  const ts = await npm(type, "npx", "zerog", "init");
  const js = await npm(type, "npx", "zerog", "init", "--js");
  inits[type] = { ts, js };
  const cwd = projectDir(type);
  copyFileSync(join(cwd, "jobs.ts"), join(cwd, "jobs.mts"));
  if (type === "module") copyFileSync(join(cwd, "jobs.js"), join(cwd, "jobs.mjs"));
  else {
    copyFileSync(join(cwd, "jobs.mjs"), join(cwd, "jobs.js"));
    writeFileSync(join(cwd, "jobs.cjs"), COMMONJS_SYNTAX);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "zerog-newcomer-"));
  registry = await startLockRegistry(join(REPO_ROOT, "package-lock.json"));
  const prebuilds = await localBetterSqlitePrebuilds(dir, process.env);
  env = offlineNpmEnv({ registry: registry.url, deadPort: await freePort(), prebuilds });
  const tarball = await packZerog(dir, env);
  await Promise.all(TYPES.map((t) => setUpProject(t, tarball)));
}, 240_000);

afterAll(async () => {
  await Promise.all([...servers].map((s) => s.stop()));
  await registry?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Serves the project's jobs (`npx zerog serve --jobs FILE`, or `npm run zerog`), runs one hello job, stops. */
async function serveAndRunHello(type: ModuleType, file: string | "npm run zerog"): Promise<unknown> {
  const port = String(await freePort());
  const [command, args] =
    file === "npm run zerog"
      ? ["npm", ["run", "zerog", "--", "--port", port]]
      : ["npx", ["zerog", "serve", "--jobs", file, "--port", port]];
  const server = await startProjectServer(command, args as string[], { cwd: projectDir(type), env });
  servers.add(server);
  try {
    return await runHelloJob(server.url, "Ada");
  } finally {
    await server.stop();
    servers.delete(server);
  }
}

describe("a newcomer's project", () => {
  it("zerog init writes jobs.ts and the npm scripts, keeps package.json's formatting, and explains the module type", () => {
    for (const type of TYPES) {
      const pkgText = readFileSync(join(projectDir(type), "package.json"), "utf8");
      expect(pkgText).toMatch(/^\{\n {2}"name": "[^"]+",\n[\s\S]*\}\n$/);
      const pkg = JSON.parse(pkgText) as { scripts: Record<string, string>; type: string };
      expect(pkg.type).toBe(type);
      expect(pkg.scripts).toMatchObject({
        zerog: "zerog serve --jobs jobs.ts",
        "zerog:hello": "zerog submit hello --follow",
      });
      expect(inits[type].ts.stdout).toContain("wrote jobs.ts");
      expect(inits[type].ts.stdout).not.toContain("tsx is not installed");
      expect(inits[type].ts.stdout).toContain(`package.json says "type": "${type}"`);
      // The second init (--js) keeps the scripts the first one added.
      expect(inits[type].js.stdout).toContain('kept your "zerog" script');
    }
    expect(inits.commonjs.js.stdout).toContain("wrote jobs.mjs");
    expect(inits.module.js.stdout).toContain("wrote jobs.js");
  });

  it("zerog init refuses to overwrite the job module without --force", async () => {
    const again = await runCommand("npx", ["zerog", "init"], { cwd: projectDir("commonjs"), env });
    expect(again.code).toBe(2);
    expect(again.stderr.trim().split("\n").pop()).toBe("zerog: jobs.ts exists: pass --force to overwrite it");
  });

  for (const type of TYPES) {
    for (const file of [
      "npm run zerog",
      "jobs.ts",
      "jobs.mts",
      "jobs.mjs",
      ...(type === "module" ? ["jobs.js"] : []),
    ]) {
      it(`serves and runs a job from ${file} in a "type": "${type}" project`, async () => {
        expect(await serveAndRunHello(type, file)).toEqual({ greeting: "hello, Ada" });
      }, 60_000);
    }
  }

  it.runIf(process.features.require_module)(
    'serves a CommonJS-syntax jobs.cjs (require("zerog/job")) in a "type": "commonjs" project',
    async () => {
      expect(await serveAndRunHello("commonjs", "jobs.cjs")).toEqual({ greeting: "hello, Ada" });
    },
    60_000,
  );

  it('refuses a jobs.js written with import in a "type": "commonjs" project, in one line, exit code 2', async () => {
    const args = ["zerog", "serve", "--jobs", "jobs.js", "--port", String(await freePort())];
    const r = await runCommand("npx", args, { cwd: projectDir("commonjs"), env: { ...env, ZEROG_LOG_LEVEL: "info" } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n").pop()).toBe(CJS_JS_REFUSED);
    expect(r.stderr).not.toMatch(/bug in Node\.js|Please open an issue|not yet fully loaded/);
  }, 60_000);
});
