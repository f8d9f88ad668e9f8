import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Datastore, ListCursor } from "../../src/contracts/datastore.ts";
import { isZeroGError } from "../../src/errors.ts";
import type { JobDocument } from "../../src/job/document.ts";
import type { FinishedStatus, JobStatus } from "../../src/job/job-status.ts";
import { makeDocument } from "../helpers/documents.ts";

export interface DatastoreSuiteOptions {
  name: string;
  /** A fresh, empty datastore for one test. */
  create: () => Promise<Datastore> | Datastore;
  /**
   * Why `deleteFinished` leaves the idempotency records of the jobs it deletes (they expire with
   * their window instead), for a store that cannot find them by uuid; absent: it deletes them.
   */
  keepsIdempotencyKeys?: string;
}

/** The datastore contract: every implementation runs this against its real service. */
export function describeDatastore(opts: DatastoreSuiteOptions): void {
  describe(`datastore contract: ${opts.name}`, () => {
    let store: Datastore;
    beforeEach(async () => {
      store = await opts.create();
    });
    afterEach(async () => {
      await store.close();
    });

    it("creates a document and reads it back with a version", async () => {
      const doc = makeDocument();
      const cas = await store.create(doc);
      const got = await store.read(doc.uuid);
      expect(got?.value).toEqual(doc);
      expect(got?.cas).toBe(cas);
    });

    it("refuses to create a uuid twice", async () => {
      const doc = makeDocument();
      await store.create(doc);
      const err = await store.create({ ...doc, jobType: "other" }).catch((e: unknown) => e);
      expect(isZeroGError(err, "ZEROG_ALREADY_EXISTS")).toBe(true);
      expect((await store.read(doc.uuid))?.value.jobType).toBe(doc.jobType);
    });

    it("reads null for an unknown uuid", async () => {
      expect(await store.read("00000000-0000-4000-8000-000000000000")).toBeNull();
    });

    it("replaces with the current version and refuses a stale one", async () => {
      const doc = makeDocument();
      const cas1 = await store.create(doc);
      const cas2 = await store.replace({ ...doc, completeness: 0.5 }, cas1);
      expect(cas2).not.toBe(cas1);
      const stale = await store.replace({ ...doc, completeness: 0.9 }, cas1).catch((e: unknown) => e);
      expect(isZeroGError(stale, "ZEROG_CAS_MISMATCH")).toBe(true);
      const got = await store.read(doc.uuid);
      expect(got?.value.completeness).toBe(0.5);
      expect(got?.cas).toBe(cas2);
    });

    it("refuses to replace a missing document", async () => {
      const doc = makeDocument();
      const err = await store.replace(doc, "1").catch((e: unknown) => e);
      expect(isZeroGError(err, "ZEROG_JOB_NOT_FOUND")).toBe(true);
      expect(await store.read(doc.uuid)).toBeNull();
    });

    it("upserts whatever the version, creating when missing", async () => {
      const doc = makeDocument();
      const cas1 = await store.upsert(doc);
      expect((await store.read(doc.uuid))?.cas).toBe(cas1);
      const cas2 = await store.upsert({ ...doc, resultCode: 200 });
      expect(cas2).not.toBe(cas1);
      expect((await store.read(doc.uuid))?.value.resultCode).toBe(200);
    });

    it("deletes, and says whether there was something to delete", async () => {
      const doc = makeDocument();
      await store.create(doc);
      expect(await store.delete(doc.uuid)).toBe(true);
      expect(await store.read(doc.uuid)).toBeNull();
      expect(await store.delete(doc.uuid)).toBe(false);
    });

    it("keeps every increment when writers race through CAS", async () => {
      const doc = makeDocument({ tickcount: 0 });
      await store.create(doc);
      const writers = 20;
      const increment = async (): Promise<void> => {
        for (;;) {
          const cur = await store.read(doc.uuid);
          if (!cur) throw new Error("document vanished");
          try {
            await store.replace({ ...cur.value, tickcount: cur.value.tickcount + 1 }, cur.cas);
            return;
          } catch (err) {
            if (!isZeroGError(err, "ZEROG_CAS_MISMATCH")) throw err;
          }
        }
      };
      await Promise.all(Array.from({ length: writers }, increment));
      expect((await store.read(doc.uuid))?.value.tickcount).toBe(writers);
    });

    it("lists newest first, by type and by status, with a limit and a cursor", async () => {
      const a1 = makeDocument({ jobType: "a" });
      const b1 = makeDocument({ jobType: "b", state: "finished", resultCode: 200 });
      const a2 = makeDocument({ jobType: "a", state: "finished", resultCode: 204 });
      const a3 = makeDocument({ jobType: "a" });
      for (const d of [a1, b1, a2, a3]) await store.create(d);

      const uuids = (docs: { uuid: string }[]) => docs.map((d) => d.uuid);
      expect(uuids(await store.list({}))).toEqual([a3.uuid, a2.uuid, b1.uuid, a1.uuid]);
      expect(uuids(await store.list({ jobType: "a" }))).toEqual([a3.uuid, a2.uuid, a1.uuid]);
      expect(uuids(await store.list({ state: "finished" }))).toEqual([a2.uuid, b1.uuid]);
      expect(uuids(await store.list({ jobType: "a", state: "queued" }))).toEqual([a3.uuid, a1.uuid]);
      expect(uuids(await store.list({ limit: 2 }))).toEqual([a3.uuid, a2.uuid]);
      expect(uuids(await store.list({ before: a2 }))).toEqual([b1.uuid, a1.uuid]);
      expect(uuids(await store.list({ jobType: "a", before: a2 }))).toEqual([a1.uuid]);
    });

    it("lists the state as last written", async () => {
      const doc = makeDocument();
      const cas = await store.create(doc);
      await store.replace({ ...doc, state: "running", running: true }, cas);
      expect((await store.list({ state: "queued" })).map((d) => d.uuid)).not.toContain(doc.uuid);
      expect((await store.list({ state: "running" })).map((d) => d.uuid)).toContain(doc.uuid);
    });

    it("splits finished jobs by result: finished (200-299), killed (410), failed (any other)", async () => {
      const at = (over: Partial<JobDocument>) => makeDocument({ jobType: "s", ...over });
      const docs = {
        queued: at({}),
        delayed: at({ state: "delayed" }),
        running: at({ state: "running", running: true }),
        ok: at({ state: "finished", resultCode: 200 }),
        ok299: at({ state: "finished", resultCode: 299 }),
        killed: at({ state: "finished", resultCode: 410 }),
        failed500: at({ state: "finished", resultCode: 500 }),
        failed404: at({ state: "finished", resultCode: 404 }),
        failed300: at({ state: "finished", resultCode: 300 }),
      };
      for (const d of Object.values(docs)) await store.create(d);
      const listed = async (state: JobStatus) => (await store.list({ state })).map((d) => d.uuid);
      expect(await listed("queued")).toEqual([docs.queued.uuid]);
      expect(await listed("delayed")).toEqual([docs.delayed.uuid]);
      expect(await listed("running")).toEqual([docs.running.uuid]);
      expect(await listed("finished")).toEqual([docs.ok299.uuid, docs.ok.uuid]);
      expect(await listed("killed")).toEqual([docs.killed.uuid]);
      expect(await listed("failed")).toEqual([docs.failed300.uuid, docs.failed404.uuid, docs.failed500.uuid]);
      const byType = await store.list({ jobType: "s", state: "failed", limit: 2 });
      expect(byType.map((d) => d.uuid)).toEqual([docs.failed300.uuid, docs.failed404.uuid]);

      // A replace moves a job between statuses, as a worker's outcome does.
      const read = await store.read(docs.running.uuid);
      if (!read) throw new Error("missing");
      await store.replace({ ...read.value, state: "finished", running: false, resultCode: 410 }, read.cas);
      expect(await listed("running")).toEqual([]);
      expect(await listed("killed")).toEqual([docs.killed.uuid, docs.running.uuid]);
    });

    it("pages through jobs of one millisecond by uuid, with no repeat and no gap", async () => {
      const createdAt = "2026-02-01T00:00:00.000Z";
      const docs = Array.from({ length: 7 }, () => makeDocument({ createdAt, jobType: "tie" }));
      const older = makeDocument({ createdAt: "2026-01-31T23:59:59.999Z", jobType: "tie" });
      for (const d of [...docs, older]) await store.create(d);
      const expected = [
        ...docs
          .map((d) => d.uuid)
          .sort()
          .reverse(),
        older.uuid,
      ];
      const seen: string[] = [];
      let before: ListCursor | undefined;
      for (let page = 0; page < 10; page++) {
        const got = await store.list({ jobType: "tie", limit: 3, ...(before ? { before } : {}) });
        seen.push(...got.map((d) => d.uuid));
        const last = got.at(-1);
        if (!last) break;
        before = { createdAt: last.createdAt, uuid: last.uuid };
      }
      expect(seen).toEqual(expected);
      // A cursor is a position, not a job: it works after its job is gone.
      const mid = docs.map((d) => d.uuid).sort()[3] ?? "";
      await store.delete(mid);
      const after = await store.list({ jobType: "tie", before: { createdAt, uuid: mid } });
      expect(after.map((d) => d.uuid)).toEqual(expected.slice(expected.indexOf(mid) + 1));
    });

    describe("deleteFinished (retention)", () => {
      const T = (day: number, ms = 0) => new Date(Date.UTC(2026, 0, day) + ms).toISOString();
      const done = (over: Partial<JobDocument>) =>
        makeDocument({ jobType: "kept", state: "finished", resultCode: 200, finishedAt: T(1), ...over });
      const uuids = (docs: { uuid: string }[]) => docs.map((d) => d.uuid).sort();
      const readable = async (docs: JobDocument[]) =>
        (await Promise.all(docs.map((d) => store.read(d.uuid)))).filter((r) => r !== null).map((r) => r.value.uuid);

      it("deletes only the type's documents of that status finished before the cutoff, never a waiting or running one", async () => {
        const old = { ok: done({}), failed: done({ resultCode: 500 }), killed: done({ resultCode: 410 }) };
        const recent = done({ finishedAt: T(3) });
        // A finishedAt from an earlier run stays on a job set back to waiting, or running again.
        const waiting = [
          done({ state: "queued", resultCode: -1 }),
          done({ state: "delayed", resultCode: -1 }),
          done({ state: "running", running: true, resultCode: -1 }),
        ];
        const otherType = done({ jobType: "other" });
        const all = [...Object.values(old), recent, ...waiting, otherType];
        for (const d of all) await store.create(d);
        const sweep = (status: FinishedStatus) =>
          store.deleteFinished({ jobType: "kept", status, finishedBefore: T(2), limit: 100 });

        expect(await sweep("finished")).toBe(1);
        expect(await store.read(old.ok.uuid)).toBeNull();
        expect(await readable(all)).toEqual(uuids(all.filter((d) => d !== old.ok)).sort());
        expect(await sweep("failed")).toBe(1);
        expect(await sweep("killed")).toBe(1);
        expect(await sweep("finished")).toBe(0);
        const left = [recent, ...waiting, otherType];
        expect((await readable(all)).sort()).toEqual(uuids(left));
        // Gone from every listing, too.
        expect(uuids(await store.list({}))).toEqual(uuids(left));
        expect(uuids(await store.list({ jobType: "kept" }))).toEqual(uuids([recent, ...waiting]));
        for (const state of ["finished", "failed", "killed"] as const)
          expect(uuids(await store.list({ jobType: "kept", state }))).toEqual(
            state === "finished" ? [recent.uuid] : [],
          );
        // Without an age or a count, nothing goes.
        expect(await store.deleteFinished({ jobType: "kept", status: "finished", limit: 100 })).toBe(0);
        expect(await store.read(recent.uuid)).not.toBeNull();
      });

      it("deletes no more than the batch's limit per call", async () => {
        const docs = Array.from({ length: 7 }, (_, i) => done({ finishedAt: T(1, i) }));
        for (const d of docs) await store.create(d);
        const batch = () =>
          store.deleteFinished({ jobType: "kept", status: "finished", finishedBefore: T(2), limit: 3 });
        expect([await batch(), await batch(), await batch(), await batch()]).toEqual([3, 3, 1, 0]);
        expect(await store.list({ jobType: "kept" })).toEqual([]);
      });

      it("keeps the newest by finishedAt (then uuid) with keepNewest, and the later bound wins with an age too", async () => {
        // Created in one order, finished in the reverse: the count goes by finishedAt.
        const docs = Array.from({ length: 6 }, (_, i) => done({ finishedAt: T(10, -i * 1000) }));
        const tie = [done({ finishedAt: T(20) }), done({ finishedAt: T(20) })];
        for (const d of [...docs, ...tie]) await store.create(d);
        const newestFirst = [...uuids(tie).reverse(), ...docs.map((d) => d.uuid)];
        const keep = (keepNewest: number, finishedBefore?: string) =>
          store.deleteFinished({
            jobType: "kept",
            status: "finished",
            keepNewest,
            limit: 100,
            ...(finishedBefore === undefined ? {} : { finishedBefore }),
          });
        expect(await keep(8)).toBe(0);
        expect(await keep(7, T(1))).toBe(1); // the count's bound is the later one
        expect(await keep(6, T(10, -2500))).toBe(2); // the age's bound is the later one
        expect(await keep(1)).toBe(4);
        // Of two finished in the same millisecond, the larger uuid is the newer.
        expect(uuids(await store.list({ jobType: "kept" }))).toEqual([newestFirst[0]]);
      });

      it(`removes the idempotency records that name a deleted job${opts.keepsIdempotencyKeys ? " (skipped)" : ""}`, async (ctx) => {
        if (opts.keepsIdempotencyKeys) ctx.skip(opts.keepsIdempotencyKeys);
        const doc = done({});
        await store.create(doc);
        const claim = (uuid: string) =>
          store.claimIdempotencyKey({ key: "retained", uuid, nowMs: Date.now(), expiresAtMs: Date.now() + 60_000 });
        expect(await claim(doc.uuid)).toBe(doc.uuid);
        expect(
          await store.deleteFinished({ jobType: "kept", status: "finished", finishedBefore: T(2), limit: 10 }),
        ).toBe(1);
        expect(await claim("a-new-job")).toBe("a-new-job");
      });
    });

    it("claims an idempotency key once; a repeat answers the first job's uuid", async () => {
      const now = Date.now();
      const claim = (key: string, uuid: string, windowMs = 60_000) =>
        store.claimIdempotencyKey({ key, uuid, nowMs: Date.now(), expiresAtMs: Date.now() + windowMs });
      expect(await claim("k1", "job-a")).toBe("job-a");
      expect(await claim("k1", "job-b")).toBe("job-a");
      expect(await claim("k2", "job-c")).toBe("job-c");
      expect(now).toBeLessThanOrEqual(Date.now());

      // Release removes only the caller's own record.
      await store.releaseIdempotencyKey("k1", "job-b");
      expect(await claim("k1", "job-d")).toBe("job-a");
      await store.releaseIdempotencyKey("k1", "job-a");
      expect(await claim("k1", "job-e")).toBe("job-e");
    });

    it("lets a claim take over an expired key", async () => {
      const claim = (uuid: string, windowMs: number) =>
        store.claimIdempotencyKey({ key: "short", uuid, nowMs: Date.now(), expiresAtMs: Date.now() + windowMs });
      expect(await claim("first", 30)).toBe("first");
      // Couchbase expires records by the second, the others by the millisecond.
      await expect.poll(() => claim("second", 60_000), { timeout: 5_000, interval: 50 }).toBe("second");
      expect(await claim("third", 60_000)).toBe("second");
    });

    it("gives a key to exactly one of many racing claims", async () => {
      const claims = Array.from({ length: 12 }, (_, i) =>
        store.claimIdempotencyKey({
          key: "race",
          uuid: `job-${i}`,
          nowMs: Date.now(),
          expiresAtMs: Date.now() + 60_000,
        }),
      );
      const winners = new Set(await Promise.all(claims));
      expect(winners.size).toBe(1);
    });
  });
}
