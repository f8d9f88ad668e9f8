import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { initProject } from "../../src/cli/init.ts";
import { InvalidConfigError } from "../../src/errors.ts";

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "zerog-init-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const writePkg = (text: string) => writeFileSync(join(dir, "package.json"), text);
const readPkg = () => readFileSync(join(dir, "package.json"), "utf8");

describe("zerog init", () => {
  it("needs a package.json", () => {
    expect(() => initProject(dir, {})).toThrow(
      new InvalidConfigError("no package.json here: run npm init -y first, then zerog init"),
    );
  });

  it("keeps the scripts a project already has, and package.json's indentation and ending", () => {
    writePkg(JSON.stringify({ name: "p", type: "commonjs", scripts: { zerog: "mine" } }, null, 4));
    const out = initProject(dir, {});
    expect(readPkg()).toBe(
      JSON.stringify(
        { name: "p", type: "commonjs", scripts: { zerog: "mine", "zerog:hello": "zerog submit hello --follow" } },
        null,
        4,
      ),
    );
    expect(out).toContain('kept your "zerog" script (zerog init would have set it to "zerog serve --jobs jobs.ts")');
    expect(out).toContain("added npm scripts to package.json: zerog:hello");
    expect(out).toContain("tsx is not installed: run npm install -D tsx (ZeroG loads jobs.ts through it)");
    expect(readFileSync(join(dir, "jobs.ts"), "utf8")).toContain('from "zerog/job"');
  });

  it("writes jobs.mjs for --js in a CommonJS package, and jobs.js in an ES-module one", () => {
    writePkg('{\n  "name": "p"\n}\n');
    expect(initProject(dir, { js: true })[0]).toBe('wrote jobs.mjs: a "hello" job');
    expect(readPkg()).toMatch(/^\{\n {2}"name": "p",\n {2}"scripts": \{\n[\s\S]*\}\n$/);
    expect(JSON.parse(readPkg()).scripts.zerog).toBe("zerog serve --jobs jobs.mjs");
    writePkg('{ "name": "p", "type": "module" }\n');
    initProject(dir, { js: true });
    expect(existsSync(join(dir, "jobs.js"))).toBe(true);
  });

  it("refuses a file it would overwrite, a .js file a CommonJS package cannot load, and other extensions", () => {
    writePkg('{ "name": "p", "devDependencies": { "tsx": "4" } }\n');
    expect(initProject(dir, {})).not.toContain("tsx is not installed");
    expect(() => initProject(dir, {})).toThrow("jobs.ts exists: pass --force to overwrite it");
    expect(() => initProject(dir, { force: true })).not.toThrow();
    expect(() => initProject(dir, { file: "x.js" })).toThrow(
      'x.js would be CommonJS in this package: name it x.mjs, or set "type": "module" in package.json',
    );
    expect(() => initProject(dir, { file: "x.cjs" })).toThrow("a job module ends in .ts, .mts, .js or .mjs");
  });
});
