import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteBackend } from "../../src/backends/sqlite/sqlite-backend.ts";
import { openSqlite, type SqliteStore } from "../../src/backends/sqlite/sqlite-store.ts";
import { queueBodyOf } from "../../src/contracts/backend.ts";
import { isZeroGError } from "../../src/errors.ts";
import { makeDocument } from "../helpers/documents.ts";
import { tempDbPath } from "../helpers/sqlite-temp.ts";

describe("sqlite store", () => {
  let store: SqliteStore;
  afterEach(async () => {
    await store.close();
  });

  it("wakes a waiting reserver of this process", async () => {
    store = openSqlite({ path: tempDbPath(), pollMs: 60_000 });
    const waiting = store.queue.reserve(["q"], { timeoutMs: 10_000 });
    const doc = makeDocument({ queueName: "q" });
    await new SqliteBackend(store).createJob(doc, {});
    expect((await waiting)?.body).toBe(queueBodyOf(doc.uuid));
  });

  it("lets exactly one of several same-version replaces in one transaction win", async () => {
    store = openSqlite({ path: tempDbPath() });
    const doc = makeDocument();
    const cas = await store.datastore.create(doc);
    const before = store.connection.stats.transactions;
    const tries = Array.from({ length: 10 }, (_, i) => store.datastore.replace({ ...doc, tickcount: i }, cas));
    const results = await Promise.allSettled(tries);
    expect(store.connection.stats.transactions - before).toBe(1);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results)
      if (r.status === "rejected") expect(isZeroGError(r.reason, "ZEROG_CAS_MISMATCH")).toBe(true);
    expect((await store.datastore.read(doc.uuid))?.value.tickcount).toBe(0);
  });

  it("refuses datastore calls after close, and keeps data across reopen", async () => {
    const path = tempDbPath();
    store = openSqlite({ path });
    const doc = makeDocument();
    await store.datastore.create(doc);
    await store.close();
    const err = await store.datastore.read(doc.uuid).catch((e: unknown) => e);
    expect(isZeroGError(err, "ZEROG_CLOSED")).toBe(true);
    store = openSqlite({ path });
    expect((await store.datastore.read(doc.uuid))?.value).toEqual(doc);
  });

  it("adds the fleet's tables to a file made before them, and refuses fleet calls after close", async () => {
    const path = tempDbPath();
    // A file as a version without the fleet left it: the job tables only.
    const old = new Database(path);
    old.exec(
      "CREATE TABLE zerog_jobs (uuid TEXT PRIMARY KEY, job_type TEXT NOT NULL, state TEXT NOT NULL, created_at TEXT NOT NULL, version INTEGER NOT NULL, doc TEXT NOT NULL)",
    );
    old.close();
    store = openSqlite({ path });
    await store.fleet.sendControl("w1", { kind: "drain" });
    expect(await store.fleet.takeControl("w1")).toEqual([{ kind: "drain" }]);
    await store.close();
    const err = await store.fleet.listWorkers(0).catch((e: unknown) => e);
    expect(isZeroGError(err, "ZEROG_CLOSED")).toBe(true);
    store = openSqlite({ path });
  });
});
