import { describe } from "vitest";
import { openCouchbase, openCouchbaseDatastore } from "../../src/backends/couchbase/open-couchbase.ts";
import type { Datastore } from "../../src/contracts/datastore.ts";
import type { FleetStore } from "../../src/contracts/fleet.ts";
import { describeDatastore } from "./datastore.suite.ts";
import { describeFleet, type OpenedFleet } from "./fleet.suite.ts";

// Couchbase Server cannot run on this machine, so nothing starts one: the suite runs only against
// a cluster named by COUCHBASE_URL (docs/backends.md, "Running the contract suite"), and is
// skipped otherwise, under CI=true too.
const url = process.env.COUCHBASE_URL;
if (url === undefined)
  console.warn(
    "COUCHBASE_URL is not set: the Couchbase datastore contract suite is skipped (Couchbase Server cannot run on this machine)",
  );

/**
 * A datastore on COUCHBASE_URL's collection that removes every document it wrote when it closes,
 * so each test starts from an empty collection, as the suite's listings expect (KV removes: no
 * query rights needed). The collection must be empty to begin with.
 */
async function openCleaning(couchbaseUrl: string): Promise<Datastore> {
  const store = await openCouchbaseDatastore({ url: couchbaseUrl });
  if ((await store.list({ limit: 1 })).length > 0) {
    await store.close();
    throw new Error("the collection COUCHBASE_URL names must be empty: name a fresh one with collection=");
  }
  const written = new Set<string>();
  const wrote = <T>(uuid: string, result: Promise<T>): Promise<T> => {
    written.add(uuid);
    return result;
  };
  return {
    kind: store.kind,
    capabilities: store.capabilities,
    create: (doc) => wrote(doc.uuid, store.create(doc)),
    read: (uuid) => store.read(uuid),
    replace: (doc, cas) => wrote(doc.uuid, store.replace(doc, cas)),
    upsert: (doc) => wrote(doc.uuid, store.upsert(doc)),
    delete: (uuid) => store.delete(uuid),
    list: (query) => store.list(query),
    deleteFinished: (query) => store.deleteFinished(query),
    claimIdempotencyKey: (claim) => store.claimIdempotencyKey(claim),
    releaseIdempotencyKey: (key, uuid) => store.releaseIdempotencyKey(key, uuid),
    close: async () => {
      for (const uuid of written) await store.delete(uuid);
      await store.close();
    },
  };
}

/**
 * The fleet on COUCHBASE_URL's collection, removing every worker record, inbox and pause it wrote when
 * it closes (as openCleaning does for documents). Its peer is a second connection to the cluster.
 */
async function openCleaningFleet(couchbaseUrl: string): Promise<OpenedFleet> {
  const { datastore, fleet } = await openCouchbase({ url: couchbaseUrl });
  if ((await fleet.listWorkers(0)).length > 0 || (await fleet.pausedTypes()).length > 0) {
    await datastore.close();
    throw new Error(
      "the collection COUCHBASE_URL names holds worker records or paused types: name a fresh one with collection=",
    );
  }
  const touched = new Set<string>();
  const pausedHere = new Set<string>();
  const touching = <T>(workerId: string, result: Promise<T>): Promise<T> => {
    touched.add(workerId);
    return result;
  };
  const cleaning: FleetStore = {
    announce: (record) => touching(record.workerId, fleet.announce(record)),
    listWorkers: (nowMs) => fleet.listWorkers(nowMs),
    getWorker: (workerId) => fleet.getWorker(workerId),
    removeWorker: (workerId) => fleet.removeWorker(workerId),
    sendControl: (workerId, msg) => touching(workerId, fleet.sendControl(workerId, msg)),
    takeControl: (workerId) => fleet.takeControl(workerId),
    setPaused: (jobType, paused) => {
      pausedHere.add(jobType);
      return fleet.setPaused(jobType, paused);
    },
    pausedTypes: () => fleet.pausedTypes(),
  };
  return {
    fleet: cleaning,
    close: async () => {
      for (const workerId of touched) await fleet.removeWorker(workerId);
      for (const jobType of pausedHere) await fleet.setPaused(jobType, false);
      await datastore.close();
    },
    openPeer: () => openCleaningFleet(couchbaseUrl),
  };
}

describe.skipIf(url === undefined)("couchbase (COUCHBASE_URL)", () => {
  describeDatastore({
    name: "couchbase",
    create: () => openCleaning(url ?? ""),
    keepsIdempotencyKeys: "a Couchbase idempotency record is found by its key, not by uuid: it expires with its window",
  });
  describeFleet({ name: "couchbase", create: () => openCleaningFleet(url ?? "") });
});
