import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Datastore } from "../../src/datastore/contract.ts";
import { isZeroGError } from "../../src/errors.ts";
import { makeDocument } from "../helpers/documents.ts";

export interface DatastoreSuiteOptions {
  name: string;
  /** A fresh, empty datastore for one test. */
  create: () => Promise<Datastore> | Datastore;
}

/** The datastore contract (SPEC §6): every implementation runs this against its real service. */
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

    it("lists newest first, by type and by state, with a limit and a cursor", async () => {
      const a1 = makeDocument({ jobType: "a" });
      const b1 = makeDocument({ jobType: "b", state: "finished" });
      const a2 = makeDocument({ jobType: "a", state: "finished" });
      const a3 = makeDocument({ jobType: "a" });
      for (const d of [a1, b1, a2, a3]) await store.create(d);

      const uuids = (docs: { uuid: string }[]) => docs.map((d) => d.uuid);
      expect(uuids(await store.list({}))).toEqual([a3.uuid, a2.uuid, b1.uuid, a1.uuid]);
      expect(uuids(await store.list({ jobType: "a" }))).toEqual([a3.uuid, a2.uuid, a1.uuid]);
      expect(uuids(await store.list({ state: "finished" }))).toEqual([a2.uuid, b1.uuid]);
      expect(uuids(await store.list({ jobType: "a", state: "queued" }))).toEqual([a3.uuid, a1.uuid]);
      expect(uuids(await store.list({ limit: 2 }))).toEqual([a3.uuid, a2.uuid]);
      expect(uuids(await store.list({ createdBefore: a2.createdAt }))).toEqual([b1.uuid, a1.uuid]);
    });

    it("lists the state as last written", async () => {
      const doc = makeDocument();
      const cas = await store.create(doc);
      await store.replace({ ...doc, state: "running", running: true }, cas);
      expect((await store.list({ state: "queued" })).map((d) => d.uuid)).not.toContain(doc.uuid);
      expect((await store.list({ state: "running" })).map((d) => d.uuid)).toContain(doc.uuid);
    });
  });
}
