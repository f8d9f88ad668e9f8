import type * as Couchbase from "couchbase";
import { BackendDownError, InvalidConfigError } from "../../errors.ts";
import type { JobDocument } from "../../job/document.ts";
import {
  COUCHBASE_DEFAULTS,
  type CouchbaseCollectionPort,
  CouchbaseDatastore,
  type CouchbaseDatastoreOptions,
} from "./couchbase-datastore.ts";
import { type CallKind, classifyCouchbaseError } from "./couchbase-errors.ts";
import { type CouchbaseFleetPort, CouchbaseFleetStore } from "./couchbase-fleet.ts";
import { type CouchbaseDurability, type CouchbaseUrl, keyspaceOf, parseCouchbaseUrl } from "./couchbase-url.ts";
import { indexStatements } from "./statements.ts";

type CouchbaseSdk = typeof Couchbase;

/** The environment variable the password is read from when the URL has no `password=`. */
export const PASSWORD_ENV = "ZEROG_COUCHBASE_PASSWORD";

/** Waiting for a new index to come online: building three indexes on a large collection takes a while. */
const INDEX_WATCH_MS = 120_000;

export interface OpenCouchbaseOptions extends Pick<CouchbaseDatastoreOptions, "timeoutRetries" | "retryBackoffMs"> {
  /** A `couchbase://` URL, or one parsed already. */
  url: string | CouchbaseUrl;
  /** Overrides the URL's `password=` and ZEROG_COUCHBASE_PASSWORD. */
  password?: string;
}

/** A datastore and the fleet in one collection, over one cluster connection. */
export interface CouchbaseStore {
  /** Closing it closes the connection, so the fleet too. */
  datastore: CouchbaseDatastore;
  fleet: CouchbaseFleetStore;
}

/** `openCouchbase`'s datastore alone. */
export async function openCouchbaseDatastore(opts: OpenCouchbaseOptions): Promise<CouchbaseDatastore> {
  return (await openCouchbase(opts)).datastore;
}

/**
 * Connects to the cluster, checks that the collection answers, creates the indexes unless the
 * URL says `createIndexes=false`, and returns a datastore and the fleet on their own connection.
 * Loads the `couchbase` package only here, so an installation that never names a couchbase:// URL
 * does not need it.
 */
export async function openCouchbase(opts: OpenCouchbaseOptions): Promise<CouchbaseStore> {
  const url = typeof opts.url === "string" ? parseCouchbaseUrl(opts.url) : opts.url;
  const password = opts.password ?? url.password ?? process.env[PASSWORD_ENV];
  if (password === undefined)
    throw new InvalidConfigError(
      `couchbase: no password for user '${url.username}': set ${PASSWORD_ENV} (or password= in the URL)`,
    );
  const sdk = await loadSdk();
  const cluster = await sdk.connect(url.connStr, { username: url.username, password }).catch((err: unknown) => {
    throw mapped(sdk, err, "connect");
  });
  const collection = cluster.bucket(url.bucket).scope(url.scope).collection(url.collection);
  const keyspace = keyspaceOf(url);
  const datastore = new CouchbaseDatastore(portOf(sdk, cluster, collection, url.durability), {
    keyspace,
    errors: sdk,
    timeoutRetries: opts.timeoutRetries ?? COUCHBASE_DEFAULTS.timeoutRetries,
    retryBackoffMs: opts.retryBackoffMs ?? COUCHBASE_DEFAULTS.retryBackoffMs,
  });
  const fleet = new CouchbaseFleetStore(fleetPortOf(sdk, cluster, collection, url.durability), {
    keyspace,
    policy: datastore.policy,
  });
  try {
    // The SDK opens a bucket lazily: read a key that is never written, so a wrong bucket, scope,
    // collection or an unreachable data service fails start-up rather than the first job.
    await datastore.read("zerog-open-probe");
    if (url.createIndexes)
      await createIndexes(sdk, cluster, collection, keyspace).catch((err: unknown) => {
        throw withIndexHint(mapped(sdk, err, "read"));
      });
  } catch (err) {
    await datastore.close().catch(() => undefined);
    throw err;
  }
  return { datastore, fleet };
}

/** Runs indexes.n1ql's statements (idempotent), then waits until every index is online. */
async function createIndexes(
  sdk: CouchbaseSdk,
  cluster: Couchbase.Cluster,
  collection: Couchbase.Collection,
  keyspace: string,
): Promise<void> {
  const indexes = indexStatements(keyspace);
  for (const { statement } of indexes) {
    // IF NOT EXISTS still loses a race with another process creating the same index at once.
    await cluster.query(statement).catch((err: unknown) => {
      if (!(err instanceof sdk.IndexExistsError)) throw err;
    });
  }
  await collection.queryIndexes().watchIndexes(
    indexes.map((i) => i.name),
    INDEX_WATCH_MS,
  );
}

/** An SDK error met while opening, as the error to throw (a timeout is not retried here). */
function mapped(sdk: CouchbaseSdk, err: unknown, kind: CallKind): unknown {
  const failure = classifyCouchbaseError(sdk, err, kind);
  if (failure.kind === "fail") return failure.error;
  return failure.kind === "retry" ? new BackendDownError("couchbase", err) : err;
}

function withIndexHint(err: unknown): unknown {
  if (!(err instanceof InvalidConfigError)) return err;
  return new InvalidConfigError(
    `${err.message}; if this user may not create indexes, create those of src/backends/couchbase/indexes.n1ql by hand and add createIndexes=false to the URL`,
  );
}

/** The SDK calls the datastore makes, with the URL's durability on every write and request_plus on every query. */
function portOf(
  sdk: CouchbaseSdk,
  cluster: Couchbase.Cluster,
  collection: Couchbase.Collection,
  durability: CouchbaseDurability,
): CouchbaseCollectionPort {
  const write = writeOptions(sdk, durability);
  return {
    get: (key) => collection.get(key),
    insert: (key, doc: JobDocument) => collection.insert(key, doc, write),
    replace: (key, doc: JobDocument, cas) => collection.replace(key, doc, cas === null ? write : { ...write, cas }),
    remove: (key) => collection.remove(key, write),
    insertRecord: (key, value, expirySeconds) => collection.insert(key, value, { ...write, expiry: expirySeconds }),
    removeIf: (key, cas) => collection.remove(key, { ...write, cas }),
    query: queryOf(sdk, cluster),
    close: () => cluster.close(),
  };
}

/** The SDK calls the fleet makes, with the same durability and consistency as the datastore's. */
function fleetPortOf(
  sdk: CouchbaseSdk,
  cluster: Couchbase.Cluster,
  collection: Couchbase.Collection,
  durability: CouchbaseDurability,
): CouchbaseFleetPort {
  const write = writeOptions(sdk, durability);
  return {
    get: (key) => collection.get(key),
    insert: (key, value) => collection.insert(key, value, write),
    replace: (key, value, cas) => collection.replace(key, value, { ...write, cas }),
    upsert: (key, value) => collection.upsert(key, value, write),
    remove: (key, cas) => collection.remove(key, cas === null ? write : { ...write, cas }),
    query: queryOf(sdk, cluster),
  };
}

/** Level None is left out rather than sent, so the default path is the SDK's plainest. */
function writeOptions(sdk: CouchbaseSdk, durability: CouchbaseDurability) {
  return durability === "none" ? {} : { durabilityLevel: durabilityLevel(sdk, durability) };
}

/** A SQL++ query's rows with request_plus: what was written just before (a job, an announcement) is listed. */
function queryOf(sdk: CouchbaseSdk, cluster: Couchbase.Cluster): CouchbaseCollectionPort["query"] {
  return async (statement, parameters) => {
    const result = await cluster.query(statement, {
      parameters,
      scanConsistency: sdk.QueryScanConsistency.RequestPlus,
    });
    return result.rows;
  };
}

/** The SDK's level for the URL's `durability=`; none waits for nothing beyond the active node's memory. */
function durabilityLevel(sdk: CouchbaseSdk, durability: CouchbaseDurability): Couchbase.DurabilityLevel {
  switch (durability) {
    case "none":
      return sdk.DurabilityLevel.None;
    case "majority":
      return sdk.DurabilityLevel.Majority;
    case "majorityAndPersistActive":
      return sdk.DurabilityLevel.MajorityAndPersistOnMaster;
    case "persistToMajority":
      return sdk.DurabilityLevel.PersistToMajority;
  }
}

/** `import("couchbase")`, or a message that says what to install. */
async function loadSdk(): Promise<CouchbaseSdk> {
  try {
    return await import("couchbase");
  } catch (err) {
    throw sdkLoadError(err);
  }
}

/** Why the SDK could not be loaded, as a user can act on it. */
export function sdkLoadError(err: unknown): InvalidConfigError {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND")
    return new InvalidConfigError("couchbase:// URLs need the couchbase package: install couchbase@4.7.0");
  const message = err instanceof Error ? err.message : String(err);
  return new InvalidConfigError(
    `the couchbase package could not be loaded (${message}); install couchbase@4.7.0 to use couchbase:// URLs`,
  );
}
