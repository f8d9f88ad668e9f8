import { afterEach, describe, expect, it } from "vitest";
import { openSqliteConnection, type SqliteConnection } from "../../src/backends/sqlite/connection.ts";
import { isZeroGError } from "../../src/errors.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";

describe("sqlite connection: group commit", () => {
  let conn: SqliteConnection;
  const open = (maxBatchOps?: number): SqliteConnection => {
    conn = openSqliteConnection({ path: tempDbPath(), ...(maxBatchOps === undefined ? {} : { maxBatchOps }) });
    return conn;
  };
  afterEach(async () => {
    await conn.close();
  });
  const put = (c: SqliteConnection, body: string) => () =>
    c.db
      .prepare(
        "INSERT INTO zerog_queue (queue, body, priority, ttr_ms, state, due_at) VALUES ('q', ?, 0, 0, 'ready', 0)",
      )
      .run(body).lastInsertRowid;
  const bodies = (c: SqliteConnection): string[] =>
    c.db
      .prepare<[], { body: string }>("SELECT body FROM zerog_queue ORDER BY id")
      .all()
      .map((r) => r.body);

  it("commits writes queued in the same tick in one transaction", async () => {
    const c = open();
    const ids = await Promise.all(Array.from({ length: 200 }, (_, i) => c.write(put(c, `b${i}`))));
    expect(new Set(ids).size).toBe(200);
    expect(c.stats).toEqual({ transactions: 1, ops: 200 });
  });

  it("caps a transaction at maxBatchOps", async () => {
    const c = open(50);
    await Promise.all(Array.from({ length: 120 }, (_, i) => c.write(put(c, `b${i}`))));
    expect(c.stats).toEqual({ transactions: 3, ops: 120 });
  });

  it("rolls back and rejects only the op that throws", async () => {
    const c = open();
    const boom = new Error("boom");
    const results = await Promise.allSettled([
      c.write(put(c, "a")),
      c.write(() => {
        put(c, "half-done")();
        throw boom;
      }),
      c.write(put(c, "b")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(results[1]).toMatchObject({ reason: boom });
    expect(bodies(c)).toEqual(["a", "b"]);
    expect(c.stats.transactions).toBe(1);
  });

  it("runs the other ops again when one aborts the whole transaction", async () => {
    const c = open();
    const results = await Promise.allSettled([
      c.write(put(c, "a")),
      c.write(() => c.db.prepare("ROLLBACK").run()),
      c.write(put(c, "b")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(bodies(c)).toEqual(["a", "b"]);
  });

  it("commits pending writes on close, then refuses new ones", async () => {
    const c = open();
    const pending = c.write(put(c, "last"));
    await c.close();
    expect(await pending).toBeTypeOf("number");
    const reopened = openSqliteConnection({ path: c.db.name });
    expect(bodies(reopened)).toEqual(["last"]);
    await reopened.close();
    const err = await c.write(() => 1).catch((e: unknown) => e);
    expect(isZeroGError(err, "ZEROG_CLOSED")).toBe(true);
  });

  it("closes after its last user releases it", async () => {
    const c = open();
    c.retain();
    c.retain();
    await c.release();
    expect(c.closed).toBe(false);
    await c.release();
    expect(c.closed).toBe(true);
  });
});
