import * as sdk from "couchbase";
import { describe, expect, it } from "vitest";
import {
  type CasValue,
  type CouchbaseCollectionPort,
  CouchbaseDatastore,
  isCasToken,
} from "../../src/backends/couchbase/couchbase-datastore.ts";
import { indexStatements, STATUS_N1QL } from "../../src/backends/couchbase/statements.ts";
import { isZeroGError } from "../../src/errors.ts";
import type { JobDocument } from "../../src/job/document.ts";
import { makeDocument } from "../helpers/documents.ts";

/**
 * The adapter's own logic (error mapping, retries, the upsert loop, CAS tokens) over a scripted
 * stand-in for the few SDK calls it makes, failing with the SDK's real error classes. This is not
 * a Couchbase server: test/contract/couchbase.test.ts runs the datastore suite against one.
 */
type Step = { cas: string } | Error;

class ScriptedPort implements CouchbaseCollectionPort {
  readonly calls: string[] = [];
  readonly #steps: Step[];
  rows: unknown[] = [];
  /** What `get` answers per key (its default is `{ uuid: key }`). */
  readonly contents = new Map<string, unknown>();
  /** Rows per query, in order, when set (else `rows` for each). */
  readonly answers: unknown[][] = [];
  readonly queries: { statement: string; parameters: Record<string, string | number> }[] = [];
  lastQuery: { statement: string; parameters: Record<string, string | number> } | undefined;
  closed = false;

  constructor(...steps: Step[]) {
    this.#steps = steps;
  }

  #next(call: string): Promise<{ cas: CasValue }> {
    this.calls.push(call);
    const step = this.#steps.shift() ?? new Error(`unscripted call: ${call}`);
    return step instanceof Error ? Promise.reject(step) : Promise.resolve({ cas: { toString: () => step.cas } });
  }

  async get(key: string) {
    const { cas } = await this.#next(`get ${key}`);
    return { content: this.contents.get(key) ?? { uuid: key }, cas };
  }
  insert(key: string, _doc: JobDocument) {
    return this.#next(`insert ${key}`);
  }
  replace(key: string, _doc: JobDocument, cas: string | null) {
    return this.#next(`replace ${key} ${cas ?? "any"}`);
  }
  remove(key: string) {
    return this.#next(`remove ${key}`);
  }
  insertRecord(key: string, _value: unknown, expirySeconds: number) {
    return this.#next(`insertRecord ${key} ${expirySeconds}`);
  }
  removeIf(key: string, cas: string) {
    return this.#next(`removeIf ${key} ${cas}`);
  }
  async query(statement: string, parameters: Record<string, string | number>) {
    await this.#next("query");
    this.lastQuery = { statement, parameters };
    this.queries.push(this.lastQuery);
    return this.answers.shift() ?? this.rows;
  }
  async close() {
    this.closed = true;
  }
}

const ok = (cas: string): Step => ({ cas });
const storeOn = (port: ScriptedPort) =>
  new CouchbaseDatastore(port, { keyspace: "`b`.`s`.`c`", errors: sdk, timeoutRetries: 3, retryBackoffMs: 1 });
const codeOf = (err: unknown) => (isZeroGError(err) ? err.code : err);

describe("CouchbaseDatastore (scripted SDK calls)", () => {
  it("creates with insert, and a taken uuid is ZEROG_ALREADY_EXISTS", async () => {
    const doc = makeDocument();
    const port = new ScriptedPort(ok("1700000000000000001"), new sdk.DocumentExistsError());
    const store = storeOn(port);
    expect(await store.create(doc)).toBe("1700000000000000001");
    expect(codeOf(await store.create(doc).catch((e: unknown) => e))).toBe("ZEROG_ALREADY_EXISTS");
    expect(port.calls).toEqual([`insert ${doc.uuid}`, `insert ${doc.uuid}`]);
  });

  it("reads null for a missing document, and retries a read that timed out", async () => {
    const port = new ScriptedPort(
      new sdk.DocumentNotFoundError(),
      new sdk.AmbiguousTimeoutError(),
      new sdk.UnambiguousTimeoutError(),
      ok("42"),
    );
    const store = storeOn(port);
    expect(await store.read("u1")).toBeNull();
    expect(await store.read("u2")).toEqual({ value: { uuid: "u2" }, cas: "42" });
    expect(port.calls).toEqual(["get u1", "get u2", "get u2", "get u2"]);
  });

  it("gives up after the bounded retries with ZEROG_BACKEND_DOWN", async () => {
    const timeouts = Array.from({ length: 4 }, () => new sdk.UnambiguousTimeoutError());
    const port = new ScriptedPort(...timeouts);
    const err = await storeOn(port)
      .read("u")
      .catch((e: unknown) => e);
    expect(codeOf(err)).toBe("ZEROG_BACKEND_DOWN");
    expect(String(err)).toMatch(/timed out 4 times/);
    expect(port.calls).toHaveLength(4);
  });

  it("retries a write only after an unambiguous timeout", async () => {
    const doc = makeDocument();
    const port = new ScriptedPort(new sdk.UnambiguousTimeoutError(), ok("7"), new sdk.AmbiguousTimeoutError());
    const store = storeOn(port);
    expect(await store.replace(doc, "6")).toBe("7");
    const err = await store.replace(doc, "7").catch((e: unknown) => e);
    expect(codeOf(err)).toBe("ZEROG_BACKEND_DOWN");
    expect(String(err)).toMatch(/may or may not have been applied/);
    expect(port.calls).toEqual([`replace ${doc.uuid} 6`, `replace ${doc.uuid} 6`, `replace ${doc.uuid} 7`]);
  });

  it("replaces with the CAS: a stale one is ZEROG_CAS_MISMATCH, a missing document ZEROG_JOB_NOT_FOUND", async () => {
    const doc = makeDocument();
    const port = new ScriptedPort(new sdk.CasMismatchError(), new sdk.DocumentNotFoundError());
    const store = storeOn(port);
    expect(codeOf(await store.replace(doc, "5").catch((e: unknown) => e))).toBe("ZEROG_CAS_MISMATCH");
    expect(codeOf(await store.replace(doc, "5").catch((e: unknown) => e))).toBe("ZEROG_JOB_NOT_FOUND");
  });

  it("never sends CAS 0 (no check at all to Couchbase) or a token the SDK cannot parse", async () => {
    expect(isCasToken("1")).toBe(true);
    expect(isCasToken("18446744073709551615")).toBe(true);
    for (const bad of ["0", "", "-1", "1.5", "abc", "18446744073709551616", "007"]) expect(isCasToken(bad)).toBe(false);
    const doc = makeDocument();
    const port = new ScriptedPort(ok("9"), new sdk.DocumentNotFoundError());
    const store = storeOn(port);
    expect(codeOf(await store.replace(doc, "0").catch((e: unknown) => e))).toBe("ZEROG_CAS_MISMATCH");
    expect(codeOf(await store.replace(doc, "").catch((e: unknown) => e))).toBe("ZEROG_JOB_NOT_FOUND");
    expect(port.calls).toEqual([`get ${doc.uuid}`, `get ${doc.uuid}`]);
  });

  it("upserts: replace without a CAS, or insert when missing, again when another writer wins", async () => {
    const doc = makeDocument();
    const port = new ScriptedPort(
      ok("3"),
      new sdk.DocumentNotFoundError(),
      ok("4"),
      new sdk.DocumentNotFoundError(),
      new sdk.DocumentExistsError(),
      ok("5"),
    );
    const store = storeOn(port);
    expect(await store.upsert(doc)).toBe("3");
    expect(await store.upsert(doc)).toBe("4");
    expect(await store.upsert(doc)).toBe("5");
    const r = `replace ${doc.uuid} any`;
    const i = `insert ${doc.uuid}`;
    expect(port.calls).toEqual([r, r, i, r, i, r]);
  });

  it("bounds the upsert loop", async () => {
    const doc = makeDocument();
    const racing = Array.from({ length: 3 }, () => [new sdk.DocumentNotFoundError(), new sdk.DocumentExistsError()]);
    const port = new ScriptedPort(...racing.flat());
    expect(
      codeOf(
        await storeOn(port)
          .upsert(doc)
          .catch((e: unknown) => e),
      ),
    ).toBe("ZEROG_CAS_MISMATCH");
    expect(port.calls).toHaveLength(6);
  });

  it("deletes, and says whether there was something to delete", async () => {
    const port = new ScriptedPort(ok("1"), new sdk.DocumentNotFoundError());
    const store = storeOn(port);
    expect(await store.delete("u")).toBe(true);
    expect(await store.delete("u")).toBe(false);
  });

  it("lists with one statement per filter, every value a parameter", async () => {
    const port = new ScriptedPort(ok("0"), ok("0"), ok("0"));
    const store = storeOn(port);
    port.rows = [{ uuid: "a" }];
    expect(await store.list({})).toEqual([{ uuid: "a" }]);
    expect(port.lastQuery).toEqual({
      statement:
        "SELECT RAW d FROM `b`.`s`.`c` AS d WHERE d.`createdAt` <= $beforeAt AND (d.`createdAt` < $beforeAt OR d.`uuid` < $beforeUuid) ORDER BY d.`createdAt` DESC, d.`uuid` DESC LIMIT $limit",
      parameters: { beforeAt: "\uffff", beforeUuid: "", limit: 50 },
    });
    await store.list({ jobType: "x'; DROP", limit: 2 });
    expect(port.lastQuery?.statement).toContain("WHERE d.`jobType` = $jobType AND d.`createdAt` <= $beforeAt");
    expect(port.lastQuery?.parameters).toEqual({ beforeAt: "\uffff", beforeUuid: "", limit: 2, jobType: "x'; DROP" });
    await store.list({ jobType: "t", state: "failed", before: { createdAt: "2026-01-01T00:00:00.000Z", uuid: "u" } });
    expect(port.lastQuery?.statement).toContain(
      `WHERE d.\`jobType\` = $jobType AND ${STATUS_N1QL} = $state AND d.\`createdAt\` <= $beforeAt`,
    );
    expect(port.lastQuery?.parameters).toEqual({
      beforeAt: "2026-01-01T00:00:00.000Z",
      beforeUuid: "u",
      limit: 50,
      jobType: "t",
      state: "failed",
    });
  });

  it("deletes finished jobs from one query, each by a CAS remove after a get finds it still due", async () => {
    const old = { jobType: "t", state: "finished", resultCode: 200, finishedAt: "2026-01-01T00:00:00.000Z" };
    const port = new ScriptedPort(
      ok("0"), // the query
      ok("11"),
      ok("12"),
      ok("13"),
      ok("14"),
      ok("15"), // u1's remove
      new sdk.CasMismatchError(), // u3 was written between its get and its remove
    );
    port.rows = ["u1", "u2", "u3", "u4"];
    port.contents.set("u1", { ...old, uuid: "u1" });
    port.contents.set("u2", { ...old, uuid: "u2", state: "queued" }); // set back to queued
    port.contents.set("u3", { ...old, uuid: "u3" });
    port.contents.set("u4", { ...old, uuid: "u4", resultCode: 500 }); // failed: another status
    const store = storeOn(port);
    const query = { jobType: "t", status: "finished", finishedBefore: "2026-01-02T00:00:00.000Z", limit: 10 } as const;
    expect(await store.deleteFinished(query)).toBe(1);
    expect(port.calls).toEqual(["query", "get u1", "get u2", "get u3", "get u4", "removeIf u1 11", "removeIf u3 13"]);
    expect(port.lastQuery).toEqual({
      statement: `SELECT RAW d.\`uuid\` FROM \`b\`.\`s\`.\`c\` AS d WHERE d.\`state\` = "finished" AND d.\`jobType\` = $jobType AND ${STATUS_N1QL} = $status AND d.\`finishedAt\` <= $beforeAt AND (d.\`finishedAt\` < $beforeAt OR d.\`uuid\` < $beforeUuid) ORDER BY d.\`finishedAt\` DESC, d.\`uuid\` DESC LIMIT $limit`,
      parameters: { jobType: "t", status: "finished", beforeAt: "2026-01-02T00:00:00.000Z", beforeUuid: "", limit: 10 },
    });
  });

  it("finds the count limit's bound first, and deletes before the later of the two bounds", async () => {
    const port = new ScriptedPort(ok("0"), ok("0"));
    port.answers.push([{ finishedAt: "2026-01-05T00:00:00.000Z", uuid: "k" }], []);
    const store = storeOn(port);
    const query = {
      jobType: "t",
      status: "finished",
      finishedBefore: "2026-01-02T00:00:00.000Z",
      keepNewest: 3,
      limit: 10,
    } as const;
    expect(await store.deleteFinished(query)).toBe(0);
    expect(port.queries[0]?.statement).toContain(
      "d.`finishedAt` IS NOT NULL ORDER BY d.`finishedAt` DESC, d.`uuid` DESC OFFSET $offset LIMIT 1",
    );
    expect(port.queries[0]?.parameters).toEqual({ jobType: "t", status: "finished", offset: 2 });
    expect(port.queries[1]?.parameters).toMatchObject({ beforeAt: "2026-01-05T00:00:00.000Z", beforeUuid: "k" });
    // Neither rule: no call at all.
    expect(await store.deleteFinished({ jobType: "t", status: "failed", limit: 10 })).toBe(0);
    expect(port.calls).toEqual(["query", "query"]);
  });

  it("lists by status with the very expression its indexes are built on", () => {
    const indexes = indexStatements("`b`.`s`.`c`");
    const expr = STATUS_N1QL.replaceAll("d.`", "`");
    for (const name of ["zerog_jobs_by_status", "zerog_jobs_by_type_status", "zerog_jobs_by_finished"])
      expect(indexes.find((i) => i.name === name)?.statement).toContain(expr);
  });

  it("claims an idempotency key with an expiring insert, or reads the holder", async () => {
    const claim = { key: "k", uuid: "mine", nowMs: 1_000, expiresAtMs: 61_500 };
    const port = new ScriptedPort(ok("1"), new sdk.DocumentExistsError(), ok("2"));
    const store = storeOn(port);
    expect(await store.claimIdempotencyKey(claim)).toBe("mine");
    // The scripted get answers content {uuid: key}.
    expect(await store.claimIdempotencyKey(claim)).toBe("zerog-idem:k");
    expect(port.calls).toEqual(["insertRecord zerog-idem:k 61", "insertRecord zerog-idem:k 61", "get zerog-idem:k"]);
  });

  it("turns a listing without its index into ZEROG_INVALID_CONFIG naming indexes.n1ql", async () => {
    const port = new ScriptedPort(new sdk.PlanningFailureError());
    const err = await storeOn(port)
      .list({})
      .catch((e: unknown) => e);
    expect(codeOf(err)).toBe("ZEROG_INVALID_CONFIG");
    expect(String(err)).toMatch(/indexes\.n1ql/);
  });

  it("closes the cluster once, and refuses calls afterwards", async () => {
    const port = new ScriptedPort();
    const store = storeOn(port);
    await store.close();
    await store.close();
    expect(port.closed).toBe(true);
    expect(codeOf(await store.read("u").catch((e: unknown) => e))).toBe("ZEROG_CLOSED");
    expect(port.calls).toEqual([]);
  });
});
