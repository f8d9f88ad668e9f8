import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { openSqliteConnection } from "../../src/backends/sqlite/connection.ts";
import { createSqliteDatastore, STATUS_SQL } from "../../src/backends/sqlite/sqlite-datastore.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";

/** GET /jobs reads an index range on SQLite, never the whole table. */
describe("SQLite listing indexes", () => {
  it("repeats the status expression of schema.sql's indexes word for word", () => {
    const schema = readFileSync(new URL("../../src/backends/sqlite/schema.sql", import.meta.url), "utf8");
    const line = schema.split("\n").find((l) => l.includes("INDEX IF NOT EXISTS zerog_jobs_by_status "));
    expect(line).toContain(STATUS_SQL);
  });

  it("plans every filter combination as an index range read, with no sort", async () => {
    const path = tempDbPath();
    const store = createSqliteDatastore({ path });
    const conn = openSqliteConnection({ path });
    const plan = (where: string, ...args: unknown[]) =>
      conn.db
        .prepare(
          `EXPLAIN QUERY PLAN SELECT version, doc FROM zerog_jobs WHERE ${where} (created_at, uuid) < (?, ?)
           ORDER BY created_at DESC, uuid DESC LIMIT ?`,
        )
        .all(...args, "\uffff", "", 10)
        .map((r) => (r as { detail: string }).detail)
        .join("; ");
    expect(plan("")).toMatch(/USING INDEX zerog_jobs_by_created_uuid/);
    expect(plan("job_type = ? AND", "t")).toMatch(/USING INDEX zerog_jobs_by_type_created/);
    expect(plan(`${STATUS_SQL} = ? AND`, "failed")).toMatch(/USING INDEX zerog_jobs_by_status/);
    // Type and status: one of the two indexes, newest first, the other condition tested on the way.
    expect(plan(`job_type = ? AND ${STATUS_SQL} = ? AND`, "t", "failed")).toMatch(
      /USING INDEX zerog_jobs_by_(type_created|status)/,
    );
    for (const p of [
      plan(""),
      plan(`${STATUS_SQL} = ? AND`, "killed"),
      plan(`job_type = ? AND ${STATUS_SQL} = ? AND`, "t", "failed"),
    ])
      expect(p).not.toMatch(/TEMP B-TREE|SCAN zerog_jobs$/);
    await conn.release();
    await store.close();
  });
});
