import { setMaxListeners } from "node:events";
import { setImmediate as nextTurn } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Backend, queueBodyOf } from "../../src/contracts/backend.ts";
import type { Versioned } from "../../src/contracts/datastore.ts";
import type { Reserved } from "../../src/contracts/queue.ts";
import { isZeroGError } from "../../src/errors.ts";
import { ManualClock } from "../../src/internal/clock.ts";
import type { JobDocument } from "../../src/job/document.ts";
import { applyOp } from "../../src/job/job-op.ts";
import { retryByUser } from "../../src/job/transitions.ts";
import { makeDocument } from "../helpers/documents.ts";

export interface BackendSuiteOptions {
  name: string;
  /** A fresh backend on empty stores for one test; it takes every stored time from `clock` where its stores can. */
  open: (clock: ManualClock) => Promise<Backend>;
  /** "manual": the queue honours `clock`; "real": its server keeps time (Beanstalkd), so lease expiry is not tested. */
  time?: "manual" | "real";
  /**
   * Why creating a job or settling a run is two writes, not one transaction (datastore and queue
   * are two stores). Absent: the backend promises both are atomic, which the suite checks.
   */
  separateStores?: string;
  /** Why the backend has no `reserveJob` fast path (entry and document read in one round trip). */
  withoutReserveJob?: string;
}

/** The queue every test document goes to (makeDocument's default). */
const Q = "test_jobs";
/** Long enough that no lease runs out during a test unless the clock is advanced. */
const PUT = { priority: 1024, ttrSeconds: 60 };
const EMPTY = { queue: Q, ready: 0, delayed: 0, reserved: 0, buried: 0 };

/**
 * The backend contract (src/contracts/backend.ts): create, settle and reserveJob over a datastore
 * and a queue. Every backend and every datastore + queue pair runs it against its real services.
 */
export function describeBackend(opts: BackendSuiteOptions): void {
  describe(`backend contract: ${opts.name}`, () => {
    let b: Backend;
    let clock: ManualClock;
    const mustReserve = async (): Promise<Reserved> => {
      const r = await b.queue.reserve([Q], { timeoutMs: 1000 });
      if (!r) throw new Error("expected an entry");
      return r;
    };
    const mustRead = async (uuid: string): Promise<Versioned<JobDocument>> => {
      const v = await b.datastore.read(uuid);
      if (!v) throw new Error(`document ${uuid} missing`);
      return v;
    };
    /** A created job, its entry reserved, and its document as the worker reads it. */
    const createdAndReserved = async (put = PUT) => {
      const doc = makeDocument();
      const id = await b.createJob(doc, put);
      const entry = await mustReserve();
      expect(entry.id).toBe(id);
      return { doc, id, entry, cur: await mustRead(doc.uuid) };
    };

    beforeEach(async () => {
      clock = new ManualClock();
      b = await opts.open(clock);
    });
    afterEach(async () => {
      await b.close();
    });

    it("creates a readable document, its entry id recorded, and one reservable entry", async () => {
      const doc = makeDocument();
      const id = await b.createJob(doc, { priority: 5, ttrSeconds: 60 });
      expect((await b.datastore.read(doc.uuid))?.value).toEqual({ ...doc, queueJobId: id });
      expect(await b.queue.entryStats(id)).toMatchObject({ queue: Q, state: "ready", priority: 5 });
      const r = await mustReserve();
      expect(r).toMatchObject({ id, queue: Q, body: queueBodyOf(doc.uuid) });
      expect(await b.queue.reserve([Q], { timeoutMs: 0 })).toBeNull();
    });

    it("creates a delayed entry that is not reservable yet", async () => {
      const doc = makeDocument();
      const id = await b.createJob(doc, { ...PUT, delaySeconds: 30 });
      expect((await b.queue.entryStats(id))?.state).toBe("delayed");
      expect(await b.queue.reserve([Q], { timeoutMs: 0 })).toBeNull();
      expect((await mustRead(doc.uuid)).value.queueJobId).toBe(id);
    });

    it("creates neither document nor entry when the uuid is taken", async () => {
      const doc = makeDocument();
      await b.datastore.create(doc);
      const err = await b.createJob({ ...doc, jobType: "other" }, PUT).catch((e: unknown) => e);
      expect(isZeroGError(err, "ZEROG_ALREADY_EXISTS")).toBe(true);
      expect((await mustRead(doc.uuid)).value).toEqual(doc);
      expect(await b.queue.stats(Q)).toEqual(EMPTY);
    });

    it.skipIf(opts.separateStores !== undefined)(
      `never shows a document without its entry while creating${opts.separateStores ? ` (skipped: ${opts.separateStores})` : ""}`,
      async () => {
        const docs = Array.from({ length: 8 }, () => makeDocument());
        let done = false;
        const creating = Promise.all(docs.map((d) => b.createJob(d, PUT))).finally(() => {
          done = true;
        });
        // Reads racing the creates: any document seen already names its entry, which exists.
        const seen: JobDocument[] = [];
        while (!done) {
          // A turn of the event loop per round: reads answered from memory must not starve the creates.
          await nextTurn();
          for (const d of docs) {
            const v = await b.datastore.read(d.uuid);
            if (v) seen.push(v.value);
          }
        }
        const ids = await creating;
        for (const d of seen) expect(ids).toContain(d.queueJobId);
        for (const id of ids) expect(await b.queue.entryStats(id)).not.toBeNull();
      },
    );

    it("settles with a delete: the outcome recorded, its cas the live one, the entry gone", async () => {
      const { doc, id, entry, cur } = await createdAndReserved();
      const finished = { ...cur.value, state: "finished" as const, resultCode: 200, completeness: 1 };
      const cas = await b.settle(finished, cur.cas, entry, { kind: "delete" });
      expect(await b.datastore.read(doc.uuid)).toEqual({ value: finished, cas });
      expect(await b.queue.entryStats(id)).toBeNull();
      expect(await b.queue.stats(Q)).toEqual(EMPTY);
      expect((await b.datastore.list({ state: "finished" })).map((d) => d.uuid)).toEqual([doc.uuid]);
    });

    it("settles with a release: the entry delayed, or ready again at once without delay", async () => {
      const { doc, id, entry, cur } = await createdAndReserved();
      const cas = await b.settle({ ...cur.value, state: "delayed" }, cur.cas, entry, {
        kind: "release",
        delaySeconds: 30,
      });
      expect(await b.queue.entryStats(id)).toMatchObject({ state: "delayed", releases: 1 });
      expect(await b.queue.reserve([Q], { timeoutMs: 0 })).toBeNull();
      expect((await mustRead(doc.uuid)).cas).toBe(cas);

      const other = await createdAndReserved();
      await b.settle({ ...other.cur.value, state: "queued" }, other.cur.cas, other.entry, {
        kind: "release",
        delaySeconds: 0,
      });
      const again = await mustReserve();
      expect(again.id).toBe(other.id);
      expect(await again.stats()).toMatchObject({ state: "reserved", reserves: 2, releases: 1 });
    });

    it("fails a settle with a stale cas as a whole: neither document nor entry changes", async () => {
      const { doc, id, entry, cur } = await createdAndReserved();
      const newer = await b.datastore.replace({ ...cur.value, completeness: 0.5 }, cur.cas);
      const finished = { ...cur.value, state: "finished" as const, resultCode: 200 };
      const err = await b.settle(finished, cur.cas, entry, { kind: "delete" }).catch((e: unknown) => e);
      expect(isZeroGError(err, "ZEROG_CAS_MISMATCH")).toBe(true);
      expect(await b.datastore.read(doc.uuid)).toEqual({ value: { ...cur.value, completeness: 0.5 }, cas: newer });
      expect((await b.queue.entryStats(id))?.state).toBe("reserved");
      // The live version settles.
      const cas = await b.settle({ ...finished, completeness: 1 }, newer, entry, { kind: "delete" });
      expect((await mustRead(doc.uuid)).cas).toBe(cas);
      expect(await b.queue.entryStats(id)).toBeNull();
    });

    it("lets exactly one of several settles of the same version win", async () => {
      const { doc, entry, cur } = await createdAndReserved();
      const tries = [1, 2, 3].map((n) =>
        b.settle({ ...cur.value, state: "finished", resultCode: 200 + n }, cur.cas, entry, { kind: "delete" }),
      );
      const results = await Promise.allSettled(tries);
      const won = results.flatMap((r, i) => (r.status === "fulfilled" ? [{ i, cas: r.value }] : []));
      expect(won).toHaveLength(1);
      for (const r of results)
        if (r.status === "rejected") expect(isZeroGError(r.reason, "ZEROG_CAS_MISMATCH")).toBe(true);
      const stored = await mustRead(doc.uuid);
      expect(stored.cas).toBe(won[0]?.cas);
      expect(stored.value.resultCode).toBe(201 + (won[0]?.i ?? -1));
    });

    it.skipIf(opts.time === "real")(
      `leaves an entry another worker took over alone, and records the outcome${opts.time === "real" ? " (skipped: the queue's server keeps time, so a lease cannot be made to run out without waiting its TTR)" : ""}`,
      async () => {
        const { doc, id, entry: mine, cur } = await createdAndReserved({ ...PUT, ttrSeconds: 1 });
        clock.advance(1500); // the lease runs out and another worker takes the entry over
        const theirs = await mustReserve();
        expect(theirs.id).toBe(id);
        const cas = await b.settle({ ...cur.value, state: "finished", resultCode: 200 }, cur.cas, mine, {
          kind: "delete",
        });
        expect((await mustRead(doc.uuid)).cas).toBe(cas);
        expect(await b.queue.entryStats(id)).toMatchObject({ state: "reserved", reserves: 2, timeouts: 1 });
        // Its new holder settles it as usual.
        await b.settle({ ...cur.value, state: "finished", resultCode: 200 }, cas, theirs, { kind: "delete" });
        expect(await b.queue.entryStats(id)).toBeNull();
      },
    );

    /** A created job, run and settled as failed (its entry deleted), and its stored document. */
    const failedJob = async () => {
      const { doc, id, entry, cur } = await createdAndReserved();
      const failed = { ...cur.value, state: "finished" as const, resultCode: 500, completeness: 1 };
      const cas = await b.settle(failed, cur.cas, entry, { kind: "delete" });
      expect(await b.queue.entryStats(id)).toBeNull();
      return { doc, id, stored: { value: failed, cas } };
    };
    const retried = (doc: JobDocument): JobDocument => {
      const next = structuredClone(doc);
      applyOp(next, retryByUser("2026-02-01T00:00:00.000Z"));
      return next;
    };

    it("requeueJob replaces a finished job's document and puts one reservable entry, its id recorded", async () => {
      const { doc, id, stored } = await failedJob();
      const next = retried(stored.value);
      const newId = await b.requeueJob(next, stored.cas, { priority: 7, ttrSeconds: 60 });
      expect(newId).not.toBe(id);
      expect((await mustRead(doc.uuid)).value).toEqual({ ...next, queueJobId: newId });
      expect(await b.queue.entryStats(newId)).toMatchObject({ queue: Q, state: "ready", priority: 7 });
      expect(await b.queue.stats(Q)).toEqual({ ...EMPTY, ready: 1 });
      const r = await mustReserve();
      expect(r).toMatchObject({ id: newId, queue: Q, body: queueBodyOf(doc.uuid) });
      expect(await b.queue.reserve([Q], { timeoutMs: 0 })).toBeNull();
      expect((await b.datastore.list({ state: "queued" })).map((d) => d.uuid)).toEqual([doc.uuid]);
      expect(await b.datastore.list({ state: "failed" })).toEqual([]);
    });

    it("requeueJob with a stale cas changes nothing and puts nothing; a missing job puts nothing", async () => {
      const { doc, stored } = await failedJob();
      const newer = await b.datastore.replace({ ...stored.value, tickcount: 9 }, stored.cas);
      const err = await b.requeueJob(retried(stored.value), stored.cas, PUT).catch((e: unknown) => e);
      expect(isZeroGError(err, "ZEROG_CAS_MISMATCH")).toBe(true);
      expect(await b.datastore.read(doc.uuid)).toEqual({ value: { ...stored.value, tickcount: 9 }, cas: newer });
      expect(await b.queue.stats(Q)).toEqual(EMPTY);
      const missing = makeDocument();
      const gone = await b.requeueJob(retried(missing), "1", PUT).catch((e: unknown) => e);
      expect(isZeroGError(gone, "ZEROG_JOB_NOT_FOUND")).toBe(true);
      expect(await b.datastore.read(missing.uuid)).toBeNull();
      expect(await b.queue.stats(Q)).toEqual(EMPTY);
    });

    it("hands 12 created jobs to 18 concurrent reservers, each to one only", async () => {
      for (let i = 0; i < 12; i++) await b.createJob(makeDocument(), PUT);
      // Once 12 entries are out the six reservers left over are aborted: no timeout to wait out.
      const leftOver = new AbortController();
      setMaxListeners(18, leftOver.signal); // one listener per reserver
      let handedOut = 0;
      const got = await Promise.all(
        Array.from({ length: 18 }, async () => {
          const r = await b.queue.reserve([Q], { timeoutMs: 5000, signal: leftOver.signal });
          if (r && ++handedOut === 12) leftOver.abort();
          return r;
        }),
      );
      const ids = got.filter((r): r is Reserved => r !== null).map((r) => r.id);
      expect(ids).toHaveLength(12);
      expect(new Set(ids).size).toBe(12);
    });

    it("keeps the fleet beside the documents", async () => {
      await b.fleet.sendControl("w1", { kind: "drain" });
      expect(await b.fleet.takeControl("w1")).toEqual([{ kind: "drain" }]);
      expect(await b.fleet.takeControl("w1")).toEqual([]);
    });

    const noReserveJob = opts.withoutReserveJob ? ` (skipped: ${opts.withoutReserveJob})` : "";
    it.skipIf(opts.withoutReserveJob !== undefined)(
      `reserveJob hands out each entry with its document as read answers it${noReserveJob}`,
      async () => {
        const doc = makeDocument();
        const id = await b.createJob(doc, PUT);
        const taken = await b.reserveJob?.([Q], { timeoutMs: 1000 });
        expect(taken?.entry).toMatchObject({ id, body: queueBodyOf(doc.uuid) });
        expect(taken?.claimed).toBeUndefined();
        const read = await mustRead(doc.uuid);
        expect(taken?.document).toEqual(read);
        // The cas handed out is the live one.
        await b.datastore.replace({ ...read.value, tickcount: 1 }, taken?.document?.cas ?? "");
      },
    );

    it.skipIf(opts.withoutReserveJob !== undefined)(
      `reserveJob with a claim starts the run only in the plain case${noReserveJob}`,
      async () => {
        const plain = makeDocument();
        const killed = makeDocument({ killRequested: true });
        const running = makeDocument({ running: true, state: "running", attempt: 1 });
        const foreign = makeDocument({ jobType: "not_mine" });
        const finished = makeDocument({ state: "finished", resultCode: 200 });
        for (const d of [plain, killed, running, foreign, finished]) await b.createJob(d, PUT);
        await b.queue.put(Q, queueBodyOf("no-such-job"), PUT);
        const claim = { workerId: "host:svc:1", jobTypes: ["test_job"] };
        const taken = await Promise.all(
          Array.from({ length: 6 }, () => b.reserveJob?.([Q], { timeoutMs: 1000 }, claim)),
        );
        const byBody = new Map(taken.map((t) => [t?.entry.body, t]));

        const p = byBody.get(queueBodyOf(plain.uuid));
        expect(p?.claimed?.undo).toEqual({
          attempt: 0,
          running: false,
          state: "queued",
          workerId: null,
          startedAt: null,
          updatedAt: plain.updatedAt,
        });
        expect(p?.document?.value).toMatchObject({
          attempt: 1,
          running: true,
          state: "running",
          workerId: "host:svc:1",
        });
        expect(await b.datastore.read(plain.uuid)).toEqual(p?.document);
        expect((await b.datastore.list({ state: "running" })).map((d) => d.uuid)).toContain(plain.uuid);

        for (const d of [killed, running, foreign, finished]) {
          const t = byBody.get(queueBodyOf(d.uuid));
          expect(t?.claimed).toBeUndefined();
          expect(t?.document).toEqual(await b.datastore.read(d.uuid));
          expect(t?.document?.value.attempt).toBe(d.attempt);
        }
        // A body naming no document: the entry, for the worker to read (and find nothing).
        const orphan = byBody.get(queueBodyOf("no-such-job"));
        expect(orphan?.entry).toBeDefined();
        expect(orphan?.document).toBeUndefined();
      },
    );
  });
}
