import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { openSqliteConnection } from "../../src/backends/sqlite/connection.ts";
import {
  createSqliteDatastore,
  FINISHED_AT_SQL,
  RETENTION_SQL,
  STATUS_SQL,
} from "../../src/backends/sqlite/sqlite-datastore.ts";
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

  it("deletes finished jobs through zerog_jobs_by_finished: a range read up to the bound, with no sort", async () => {
    const schema = readFileSync(new URL("../../src/backends/sqlite/schema.sql", import.meta.url), "utf8");
    const line = schema.split("\n").find((l) => l.includes("INDEX IF NOT EXISTS zerog_jobs_by_finished "));
    expect(line).toContain(`${STATUS_SQL}, ${FINISHED_AT_SQL}, uuid) WHERE state = 'finished'`);
    const path = tempDbPath();
    const store = createSqliteDatastore({ path });
    const conn = openSqliteConnection({ path });
    const plan = (sql: string, ...args: unknown[]) =>
      conn.db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...args)
        .map((r) => (r as { detail: string }).detail)
        .join("; ");
    const bound = plan(RETENTION_SQL.oldestKept, "t", "finished", 9);
    expect(bound).toMatch(/USING (COVERING )?INDEX zerog_jobs_by_finished \(job_type=\? AND <expr>=\?/);
    // The batch stops at the bound's time (<expr><), not at the end of the type's finished rows.
    const batch = plan(RETENTION_SQL.deleteBatch, "t", "finished", "2026-01-01", "2026-01-01", "", 500);
    expect(batch).toMatch(/USING (COVERING )?INDEX zerog_jobs_by_finished \(job_type=\? AND <expr>=\? AND <expr><\?\)/);
    for (const p of [bound, batch]) expect(p).not.toMatch(/TEMP B-TREE|SCAN zerog_jobs/);
    await conn.release();
    await store.close();
  });
});
