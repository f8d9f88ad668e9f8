import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { HTTP_STATUS } from "../../src/errors.ts";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

/** `path` if it is a file, else every file under it whose name matches `ext` (.md / .ts / .js / .mjs). */
const filesOf = (path: string, ext = /\.(md|ts|js|mjs)$/): string[] =>
  /\.\w+$/.test(path)
    ? [path]
    : readdirSync(new URL(`../../${path}`, import.meta.url), { recursive: true, encoding: "utf8" })
        .filter((f) => ext.test(f))
        .map((f) => `${path}/${f}`);

/** A repository path in prose (`src/…`, `test/…`), not part of a longer path or a glob. */
const PATH_MENTION = /(?<![\w./-])((?:src|test)\/[\w./-]*\w)(?![\w*])/g;

/** Documents a user does not have: the project ZeroG was built from, and its spec's sections. */
const UNKNOWN_TO_USERS = /\bthe seed\b|\bseed's\b|\bSPEC ?§|Spacewalk/i;

describe("docs agree with the code", () => {
  it("the README's first code block is examples/waste-time-job.ts (which examples.test.ts runs)", () => {
    const readme = read("README.md");
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(read("examples/waste-time-job.ts"));
  });

  it("docs, comments and examples speak of ZeroG itself, not of documents a user does not have", () => {
    // README.md joins this list once its last mentions are reworded.
    const files = ["docs", "examples", "bench", "src", "CHANGELOG.md", "README.md"].flatMap((p) => filesOf(p));
    expect(files.length).toBeGreaterThan(50);
    const hits = files.flatMap((f) =>
      read(f)
        .split("\n")
        .flatMap((line, i) => (UNKNOWN_TO_USERS.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(hits).toEqual([]);
  });

  it("every src/ and test/ path named in docs, comments and SQL, SQL++ or Lua headers exists", () => {
    const files = ["docs", "src", "test", "bench", "scripts", "examples", "CHANGELOG.md", "README.md"].flatMap((p) =>
      filesOf(p, /\.(md|ts|js|mjs|sql|n1ql|lua)$/),
    );
    const missing = files.flatMap((f) =>
      [...read(f).matchAll(PATH_MENTION)]
        .map((m) => m[1] ?? "")
        .filter((path) => !existsSync(new URL(`../../${path}`, import.meta.url)))
        .map((path) => `${f}: ${path}`),
    );
    expect(missing).toEqual([]);
  });

  it("docs/errors.md lists every error code with its HTTP status, and no other", () => {
    const rows = [...read("docs/errors.md").matchAll(/^\|\s*`(ZEROG_[A-Z_]+)`\s*\|\s*(\d{3})\s*\|/gm)];
    const documented = Object.fromEntries(rows.map((m) => [m[1], Number(m[2])]));
    expect(documented).toEqual(HTTP_STATUS);
  });
});
