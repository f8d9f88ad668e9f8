import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { toZeroGError } from "../../src/backends/postgres/errors.ts";
import { listMigrations, migrate } from "../../src/backends/postgres/migrate.ts";
import { PgPool } from "../../src/backends/postgres/pool.ts";
import {
  type OpenPostgresOptions,
  openPostgresBackend,
  type PostgresBackend,
} from "../../src/backends/postgres/postgres-backend.ts";
import { PostgresDatastore } from "../../src/backends/postgres/postgres-datastore.ts";
import { PostgresFleetStore } from "../../src/backends/postgres/postgres-fleet.ts";
import type { Reserved } from "../../src/contracts/queue.ts";
import { BackendDownError, isZeroGError } from "../../src/errors.ts";
import { makeDocument } from "../helpers/documents.ts";
import { serviceUrl, uniqueNamespace } from "../helpers/services.ts";
import { until } from "../helpers/wait.ts";

const url = await serviceUrl("postgres");
const Q = "test_jobs";
/** Long enough that only LISTEN/NOTIFY can explain a quick wake-up. */
const NO_POLL = { pollMs: 3_600_000 };
const PUT = { priority: 1024, ttrSeconds: 60 };
const fail = (): never => {
  throw new Error("missing");
};

describe.skipIf(url === null)("PostgresBackend", () => {
  const u = url ?? "";
  const admin = new pg.Client(u);
  let adminReady: Promise<unknown> | undefined;
  const sql = async <R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> => {
    adminReady ??= admin.connect();
    await adminReady;
    return (await admin.query<R>(text, values)).rows;
  };
  const opened: PostgresBackend[] = [];
  const schemas: string[] = [];
  const open = async (opts: Partial<OpenPostgresOptions> = {}): Promise<PostgresBackend> => {
    const schema = opts.schema ?? uniqueNamespace();
    if (!schemas.includes(schema)) schemas.push(schema);
    const b = await openPostgresBackend({ url: u, schema, ...opts });
    opened.push(b);
    return b;
  };
  const mustReserve = async (b: PostgresBackend): Promise<Reserved> => {
    const r = await b.queue.reserve([Q], { timeoutMs: 1000 });
    if (!r) throw new Error("expected an entry");
    return r;
  };

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((b) => b.close()));
    for (const s of schemas.splice(0)) await sql(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  });
  afterAll(async () => {
    if (adminReady) await admin.end();
  });

  it("batches concurrent creates, replaces and settles, each element with its own answer", async () => {
    const b = await open();
    const taken = makeDocument();
    await b.datastore.create(taken);
    const docs = Array.from({ length: 4 }, () => makeDocument());
    // One tick: five creates in one batch; the taken uuid fails alone and changes nothing.
    const created = await Promise.allSettled([...docs, { ...taken, jobType: "other" }].map((d) => b.createJob(d, PUT)));
    expect(created.map((c) => c.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "fulfilled", "rejected"]);
    expect(isZeroGError((created[4] as PromiseRejectedResult).reason, "ZEROG_ALREADY_EXISTS")).toBe(true);
    expect((await b.datastore.read(taken.uuid))?.value).toEqual(taken);
    expect(await b.queue.stats(Q)).toMatchObject({ ready: 4 });
    for (const [i, d] of docs.entries()) {
      const id = (created[i] as PromiseFulfilledResult<string>).value;
      expect((await b.datastore.read(d.uuid))?.value.queueJobId).toBe(id);
    }

    // Replaces in one tick: a stale version fails alone.
    const reads = await Promise.all(docs.map(async (d) => (await b.datastore.read(d.uuid)) ?? fail()));
    const replaced = await Promise.allSettled(
      reads.map((r, i) => b.datastore.replace({ ...r.value, completeness: 0.5 }, i === 2 ? "999" : r.cas)),
    );
    expect(replaced.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect(isZeroGError((replaced[2] as PromiseRejectedResult).reason, "ZEROG_CAS_MISMATCH")).toBe(true);
    expect((await b.datastore.read(docs[2]?.uuid ?? ""))?.value.completeness).toBe(0);
    expect((await b.datastore.read(docs[0]?.uuid ?? ""))?.value.completeness).toBe(0.5);

    // Settles in one tick: one deletes, one releases, one has a stale version (nothing of it changes).
    const entries = await Promise.all(docs.map(() => mustReserve(b)));
    const byUuid = new Map(entries.map((e) => [JSON.parse(e.body) as string, e]));
    const now = await Promise.all(docs.map(async (d) => (await b.datastore.read(d.uuid)) ?? fail()));
    const entryOf = (i: number): Reserved => byUuid.get(docs[i]?.uuid ?? "") ?? fail();
    const settled = await Promise.allSettled([
      b.settle({ ...(now[0]?.value ?? fail()), state: "finished" }, now[0]?.cas ?? "", entryOf(0), { kind: "delete" }),
      b.settle({ ...(now[1]?.value ?? fail()), state: "queued" }, now[1]?.cas ?? "", entryOf(1), {
        kind: "release",
        delaySeconds: 30,
      }),
      b.settle({ ...(now[2]?.value ?? fail()), state: "finished" }, "7", entryOf(2), { kind: "delete" }),
    ]);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "fulfilled", "rejected"]);
    expect(isZeroGError((settled[2] as PromiseRejectedResult).reason, "ZEROG_CAS_MISMATCH")).toBe(true);
    expect(await b.queue.entryStats(entryOf(0).id)).toBeNull();
    expect(await b.queue.entryStats(entryOf(1).id)).toMatchObject({ state: "delayed", releases: 1 });
    expect(await b.queue.entryStats(entryOf(2).id)).toMatchObject({ state: "reserved" });
    expect((await b.datastore.read(docs[0]?.uuid ?? ""))?.value.state).toBe("finished");
    expect((await b.datastore.read(docs[2]?.uuid ?? ""))?.value.state).toBe("queued");
  });

  it("wakes a reserver of another instance through NOTIFY, not the poll", async () => {
    const producer = await open(NO_POLL);
    const worker = await open({ ...NO_POLL, schema: schemas.at(-1) ?? "" });
    const waiting = worker.queue.reserve([Q], { timeoutMs: 10_000 });
    await until(async () => (worker.queue.waitingReserves > 0 ? true : undefined), "a parked reserve");
    const doc = makeDocument();
    const put = Date.now();
    await producer.createJob(doc, PUT);
    const got = await waiting;
    expect(Date.now() - put).toBeLessThan(100);
    expect(got?.body).toBe(JSON.stringify(doc.uuid));
    if (!got) return;

    // A release without delay, inside settle's single statement, announces the entry as well.
    const again = producer.queue.reserve([Q], { timeoutMs: 10_000 });
    await until(async () => (producer.queue.waitingReserves > 0 ? true : undefined), "a parked reserve");
    const cur = await worker.datastore.read(doc.uuid);
    if (!cur) throw new Error("document missing");
    const released = Date.now();
    await worker.settle(cur.value, cur.cas, got, { kind: "release", delaySeconds: 0 });
    expect((await again)?.id).toBe(got.id);
    expect(Date.now() - released).toBeLessThan(100);
  });

  it("hears NOTIFY again after the server drops the LISTEN connection", async () => {
    const producer = await open(NO_POLL);
    const schema = schemas.at(-1) ?? "";
    const worker = await open({ ...NO_POLL, schema });
    const listener = `zerog-listen:${schema}`;
    const pidsOf = async () =>
      (await sql<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [listener])).map(
        (r) => r.pid,
      );
    // Two listeners (producer and worker): drop both, then wait until both are back.
    const before = await pidsOf();
    expect(before).toHaveLength(2);
    await sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [listener]);
    await until(async () => {
      const now = await pidsOf();
      return now.length === 2 && now.every((p) => !before.includes(p)) ? true : undefined;
    }, "the listeners to reconnect");
    const waiting = worker.queue.reserve([Q], { timeoutMs: 10_000 });
    await until(async () => (worker.queue.waitingReserves > 0 ? true : undefined), "a parked reserve");
    await producer.queue.put(Q, "after-reconnect");
    expect((await waiting)?.body).toBe("after-reconnect");
  });

  it("retention steps over a job another transaction is setting back to queued, and never deletes it", async () => {
    const b = await open();
    const schema = schemas.at(-1) ?? fail();
    const finished = { state: "finished", resultCode: 200, finishedAt: "2026-01-01T00:00:00.000Z" } as const;
    const [redriven, due] = [makeDocument(finished), makeDocument(finished)];
    await b.datastore.create(redriven);
    await b.datastore.create(due);
    const redrive = new pg.Client(u);
    await redrive.connect();
    try {
      await redrive.query("BEGIN");
      await redrive.query(
        `UPDATE ${schema}.zerog_jobs SET state = 'queued', doc = doc || '{"state":"queued","resultCode":-1}' WHERE uuid = $1`,
        [redriven.uuid],
      );
      const query = {
        jobType: due.jobType,
        status: "finished",
        finishedBefore: "2026-01-02T00:00:00.000Z",
        limit: 10,
      } as const;
      // The locked row is skipped, not waited for (SKIP LOCKED): the batch takes the other one.
      expect(await b.datastore.deleteFinished(query)).toBe(1);
      await redrive.query("COMMIT");
      expect(await b.datastore.deleteFinished(query)).toBe(0);
      expect((await b.datastore.read(redriven.uuid))?.value.state).toBe("queued");
      expect(await b.datastore.read(due.uuid)).toBeNull();
    } finally {
      await redrive.end();
    }
  });

  it("runs migrations once when four servers start together on a fresh schema", async () => {
    const schema = uniqueNamespace();
    schemas.push(schema);
    const backends = await Promise.all(Array.from({ length: 4 }, () => open({ schema })));
    expect(backends).toHaveLength(4);
    const rows = await sql<{ version: number }>(`SELECT version FROM ${schema}.zerog_migrations ORDER BY version`);
    expect(rows.map((r) => r.version)).toEqual(listMigrations().map((m) => m.version));
    // And migrate itself: of four racing calls, exactly one applies each version.
    const again = uniqueNamespace();
    schemas.push(again);
    const pool = new pg.Pool({ connectionString: u, max: 4 });
    const applied = await Promise.all(Array.from({ length: 4 }, () => migrate(pool, again)));
    await pool.end();
    expect(applied.flat()).toEqual(listMigrations().map((m) => m.version));
  });

  it("adds the fleet's tables to a schema made before them", async () => {
    const schema = uniqueNamespace();
    schemas.push(schema);
    const [init] = listMigrations();
    if (init?.version !== 1) throw new Error("expected 001 first");
    // The schema as a version with 001 alone left it.
    await sql("BEGIN");
    await sql(`CREATE SCHEMA ${schema}`);
    await sql(`SET LOCAL search_path TO ${schema}`);
    await sql(init.sql);
    await sql(
      "CREATE TABLE zerog_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz)",
    );
    await sql("INSERT INTO zerog_migrations (version, name) VALUES (1, $1)", [init.name]);
    await sql("COMMIT");
    const b = await open({ schema });
    await b.fleet.sendControl("w1", { kind: "drain" });
    expect(await b.fleet.takeControl("w1")).toEqual([{ kind: "drain" }]);
    const rows = await sql<{ version: number }>(`SELECT version FROM ${schema}.zerog_migrations ORDER BY version`);
    expect(rows.map((r) => r.version)).toEqual(listMigrations().map((m) => m.version));
  });

  it("fails fast with BackendDownError when the server is unreachable", async () => {
    const down = "postgres://postgres@127.0.0.1:1/test";
    const started = Date.now();
    const err = await openPostgresBackend({ url: down, schema: uniqueNamespace() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendDownError);
    const db = new PgPool({ url: down });
    const store = new PostgresDatastore(db);
    await expect(store.read("x")).rejects.toBeInstanceOf(BackendDownError);
    await expect(new PostgresFleetStore(db).listWorkers(0)).rejects.toBeInstanceOf(BackendDownError);
    await store.close();
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("maps a dropped connection to BackendDownError and leaves query errors alone", () => {
    const coded = (code: string, message: string) => Object.assign(new Error(message), { code });
    expect(toZeroGError(coded("57P01", "terminating connection due to administrator command"))).toBeInstanceOf(
      BackendDownError,
    );
    expect(toZeroGError(new Error("Connection terminated unexpectedly"))).toBeInstanceOf(BackendDownError);
    const syntax = coded("42601", "syntax error");
    expect(toZeroGError(syntax)).toBe(syntax);
  });
});
