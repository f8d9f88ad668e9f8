import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

let dir: string | undefined;
let n = 0;

// Registered at import, while the importing test file is being collected: hooks registered
// later (from inside a beforeEach) would never run.
afterAll(() => {
  if (!dir) return;
  if (process.env.ZEROG_KEEP_DB === "1") console.log(`kept SQLite test files in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
});

/**
 * A fresh database file path under one temp directory per test file, removed after the file's
 * tests unless ZEROG_KEEP_DB=1 (to inspect the files after a failure).
 */
export function tempDbPath(): string {
  dir ??= mkdtempSync(join(tmpdir(), "zerog-sqlite-"));
  n += 1;
  return join(dir, `test-${n}.db`);
}
