import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The import rules of docs/architecture.md ("Who imports whom"), checked on every source file:
 * a folder imports only what its row lists, "(types)" rows only `import type`, and no module
 * reaches itself through its imports.
 */
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

type Rule = { values: string[]; types?: string[] };
const BASE = ["errors", "internal"];
const RULES: Record<string, Rule> = {
  cli: { values: ["server", "fleet", "backends", "job", ...BASE], types: ["contracts"] },
  server: { values: ["worker", "fleet", "schedule", "client", "job", "backends", "contracts", ...BASE] },
  worker: { values: ["job", "backends", "contracts", ...BASE] },
  schedule: { values: ["job", "contracts", ...BASE] },
  client: { values: ["job", "contracts", ...BASE] },
  fleet: { values: ["contracts", ...BASE] },
  backends: { values: ["backends/*", "contracts", ...BASE], types: ["job"] },
  "backends/*": { values: ["contracts", "job", ...BASE] },
  contracts: { values: BASE, types: ["job"] },
  job: { values: BASE },
  internal: { values: [] },
  errors: { values: [] },
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

/** `job`, `backends` (its root files), `backends/redis`; the entry points are their own file names. */
function folderOf(file: string): string {
  const parts = relative(SRC, file).split("/");
  if (parts.length === 1) return (parts[0] ?? "").replace(/\.ts$/, "");
  if (parts[0] === "backends" && parts.length > 2) return `backends/${parts[1]}`;
  return parts[0] ?? "";
}

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, "utf8");
  const found: Import[] = [];
  const add = (spec: string, typeOnly: boolean) =>
    found.push({ from: file, to: resolve(dirname(file), spec), typeOnly });
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?([^;]*?)\s+from\s+"(\.[^"]+)"/gms)) {
    const names = (m[2] ?? "").trim();
    const allTypes =
      /^\{[^}]*\}$/s.test(names) &&
      names
        .slice(1, -1)
        .split(",")
        .filter((n) => n.trim())
        .every((n) => n.trim().startsWith("type "));
    add(m[3] ?? "", Boolean(m[1]) || allTypes);
  }
  for (const m of text.matchAll(/^import\s+"(\.[^"]+)"/gm)) add(m[1] ?? "", false);
  for (const m of text.matchAll(/\bimport\(\s*"(\.[^"]+)"\s*\)/g)) add(m[1] ?? "", false);
  return found;
}

const files = sourceFiles(SRC);
const imports = files.flatMap(importsOf);

function allowed(from: string, to: string, typeOnly: boolean): boolean {
  if (from === to) return true;
  if (["index", "job-api"].includes(from)) return true; // the package's entry points re-export the layers
  const rule = RULES[from.startsWith("backends/") ? "backends/*" : from];
  if (!rule) return false;
  const matches = (names: string[]) =>
    names.some((n) => n === to || (n === "backends/*" && to.startsWith("backends/")));
  return matches(rule.values) || (typeOnly && matches(rule.types ?? []));
}

describe("source layers", () => {
  it("finds the imports it checks", () => {
    expect(files.length).toBeGreaterThan(100);
    expect(imports.some((i) => folderOf(i.from) === "worker" && folderOf(i.to) === "job")).toBe(true);
    expect(imports.some((i) => i.typeOnly)).toBe(true);
  });

  it("imports only down the layers docs/architecture.md lists", () => {
    const wrong = imports
      .filter((i) => !allowed(folderOf(i.from), folderOf(i.to), i.typeOnly))
      .map((i) => `${relative(SRC, i.from)} imports ${relative(SRC, i.to)}${i.typeOnly ? " (types)" : ""}`);
    expect(wrong).toEqual([]);
  });

  it("only the registry (and the package's index) import a backend folder from outside it, the registry only its driver", () => {
    const fromRegistry = (i: Import) => relative(SRC, i.from) === "backends/registry.ts" && i.to.endsWith("/driver.ts");
    const wrong = imports
      .filter((i) => folderOf(i.to).startsWith("backends/") && folderOf(i.from) !== folderOf(i.to))
      .filter((i) => !fromRegistry(i) && relative(SRC, i.from) !== "index.ts")
      .map((i) => `${relative(SRC, i.from)} imports ${relative(SRC, i.to)}`);
    expect(wrong).toEqual([]);
  });

  it("has no import cycle between modules", () => {
    const graph = new Map<string, string[]>();
    for (const i of imports) graph.set(i.from, [...(graph.get(i.from) ?? []), i.to]);
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const path: string[] = [];
    const visit = (file: string): void => {
      state.set(file, "open");
      path.push(file);
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === "open")
          cycles.push(
            path
              .slice(path.indexOf(next))
              .map((f) => relative(SRC, f))
              .join(" → "),
          );
        else if (!state.has(next)) visit(next);
      }
      path.pop();
      state.set(file, "done");
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });
});
