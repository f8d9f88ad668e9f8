import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import type { Command } from "commander";
import { InvalidConfigError } from "../errors.ts";
import { starterJobModule } from "./init-starter.ts";

/** `zerog init`'s flags (as commander parses them). */
export interface InitFlags {
  js?: boolean;
  force?: boolean;
  file?: string;
}

interface PackageJson {
  type?: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const JOB_MODULE = /\.(ts|mts|js|mjs)$/;

/** `zerog init`: a starter job module and npm scripts for the project in this directory. */
export function registerInit(program: Command): void {
  program
    .command("init")
    .description("add a starter job module and npm scripts to the project in this directory")
    .option("--js", "write JavaScript (jobs.js, or jobs.mjs in a CommonJS package) instead of jobs.ts")
    .option("--file <name>", "the job module to write: .ts, .mts, .js or .mjs")
    .option("--force", "overwrite the job module if it exists")
    .action((flags: InitFlags) => {
      console.log(initProject(process.cwd(), flags).join("\n"));
    });
}

/** Writes the starter and the scripts into `dir`; returns what to print. */
export function initProject(dir: string, flags: InitFlags): string[] {
  const pkgPath = join(dir, "package.json");
  if (!existsSync(pkgPath))
    throw new InvalidConfigError("no package.json here: run npm init -y first, then zerog init");
  const text = readFileSync(pkgPath, "utf8");
  const pkg = parsePackage(text);
  const esm = pkg.type === "module";
  const file = jobModuleName(flags, esm);
  const typescript = /\.m?ts$/.test(file);
  const target = join(dir, file);
  if (existsSync(target) && !flags.force) throw new InvalidConfigError(`${file} exists: pass --force to overwrite it`);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, starterJobModule(typescript));
  const out = [`wrote ${file}: a "hello" job`];

  const scripts: Record<string, string> = {
    zerog: `zerog serve --jobs ${file}`,
    "zerog:hello": "zerog submit hello --follow",
  };
  const skipped = addScripts(pkg, scripts);
  writeFileSync(pkgPath, formatLike(text, pkg));
  const added = Object.keys(scripts).filter((s) => !skipped.includes(s));
  if (added.length > 0) out.push(`added npm scripts to package.json: ${added.join(", ")}`);
  for (const s of skipped) out.push(`kept your "${s}" script (zerog init would have set it to "${scripts[s]}")`);

  out.push(...checks(pkg, esm, typescript, file, flags));
  out.push(
    "",
    "Next steps:",
    ...(typescript && !hasDependency(pkg, "tsx") ? ["  npm install -D tsx    # loads .ts job modules"] : []),
    "  npm run zerog         # serves the jobs on http://127.0.0.1:8888",
    "  npm run zerog:hello   # in another terminal: runs a hello job and follows it to the end",
    `  curl -X POST localhost:8888/job/hello -d '{"name": "Ada"}'   # the same over HTTP; then /progress/<uuid>`,
    "  http://127.0.0.1:8888/ui/ is the dashboard, http://127.0.0.1:8888/docs the REST API's docs",
  );
  return out;
}

function parsePackage(text: string): PackageJson {
  try {
    return JSON.parse(text) as PackageJson;
  } catch (err) {
    throw new InvalidConfigError(`package.json is not valid JSON: ${(err as Error).message}`);
  }
}

/** A `.js` starter needs an ES-module package: its `import` would be CommonJS syntax errors otherwise. */
function jobModuleName(flags: InitFlags, esm: boolean): string {
  const file = flags.file ?? (flags.js ? (esm ? "jobs.js" : "jobs.mjs") : "jobs.ts");
  if (!JOB_MODULE.test(file))
    throw new InvalidConfigError(`--file ${file}: a job module ends in .ts, .mts, .js or .mjs`);
  if (extname(file) === ".js" && !esm) {
    throw new InvalidConfigError(
      `${file} would be CommonJS in this package: name it ${file.slice(0, -3)}.mjs, or set "type": "module" in package.json`,
    );
  }
  return file;
}

/** Adds the scripts a name is free for; returns the names already taken. */
function addScripts(pkg: PackageJson, scripts: Record<string, string>): string[] {
  pkg.scripts ??= {};
  const skipped: string[] = [];
  for (const [name, command] of Object.entries(scripts)) {
    if (name in pkg.scripts) skipped.push(name);
    else pkg.scripts[name] = command;
  }
  return skipped;
}

/** What the project is missing, and what its module type means for the job module. */
function checks(pkg: PackageJson, esm: boolean, typescript: boolean, file: string, flags: InitFlags): string[] {
  const out: string[] = [];
  if (!hasDependency(pkg, "zerog")) {
    out.push("zerog is not in this package's dependencies: install it here, since the job module imports zerog/job");
  }
  if (typescript && !hasDependency(pkg, "tsx")) {
    out.push(`tsx is not installed: run npm install -D tsx (ZeroG loads ${file} through it)`);
  }
  if (esm) out.push('package.json says "type": "module": .ts, .mts, .js and .mjs job modules all work');
  else if (typescript) {
    out.push(
      'package.json says "type": "commonjs": ZeroG loads .ts job modules as ES modules all the same ' +
        "(in them, use import.meta.dirname rather than __dirname)",
    );
  } else if (flags.js && !flags.file) {
    out.push(
      'package.json says "type": "commonjs", where a .js file with import is CommonJS: hence jobs.mjs ' +
        '(set "type": "module" to use .js)',
    );
  }
  return out;
}

function hasDependency(pkg: PackageJson, name: string): boolean {
  return name in (pkg.dependencies ?? {}) || name in (pkg.devDependencies ?? {});
}

/** `pkg` as JSON indented and ended as `original` was (npm writes 2 spaces and a final newline). */
function formatLike(original: string, pkg: PackageJson): string {
  const indent = /^([ \t]+)"/m.exec(original)?.[1] ?? "  ";
  const eol = original.includes("\r\n") ? "\r\n" : "\n";
  const json = JSON.stringify(pkg, null, indent).replaceAll("\n", eol);
  return /\r?\n$/.test(original) ? json + eol : json;
}
